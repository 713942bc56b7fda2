//! Message channels and ports, for cases without race steps.
//!
//! <https://html.spec.whatwg.org/multipage/web-messaging.html#message-ports>
//!
//! A `channel` step runs `new MessageChannel()`: "create a new MessagePort
//! object whose relevant global object is this's relevant global object"
//! twice and "entangle the MessagePort objects". A port moves to another
//! document only by being transferred: its transfer steps put its port
//! message queue in the transfer data holder, and the transfer-receiving
//! steps, run when the posted message task deserializes the message, make
//! a new MessagePort in the target's realm with that queue, entangled with
//! the other port.
//! <https://html.spec.whatwg.org/multipage/web-messaging.html#message-channels>
//!
//! What that makes observable, hand-derived:
//! - A port in a window post whose task returns at step 8.1 (targetOrigin
//!   does not match) is never deserialized: its data holder, which now
//!   holds the port message queue, is dropped. The sender's port object is
//!   detached (5.5.5), and its twin stays entangled with nothing anybody
//!   can read: a `port_post` on the twin returns, and its message is never
//!   delivered. The model calls such a port *lost*.
//! - `port.postMessage(m, transfer)` is the "message port post message
//!   steps": a transfer list holding the source port throws
//!   `DataCloneError` (step 4); one holding the target port makes the
//!   message *doomed* (step 6): it is serialized (so everything in the
//!   transfer list is detached) and then never sent (step 8).
//!
//! NOTE: the harness's agent listens on every port a document holds (it
//! starts them by setting `onmessage`), so a message posted to a port that
//! is later transferred would race the transfer; validation refuses such
//! cases instead of modelling the race.

use crate::case::{PortPost, WindowIndex};
use crate::message::{
    structured_serialize_with_transfer, MessageValue, RealmBuffers, Transferable,
};
use crate::outcome::{observed_data, Delivery};
use crate::post_message::PostMessageError;

/// Where a port's live MessagePort object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// In this window's document (non-race cases have one per window).
    Window(WindowIndex),
    /// Shipped in the message of this step, which was never deserialized
    /// (dropped at step 8.1, or doomed): no document holds it.
    Lost {
        /// The step whose message carried it.
        step: usize,
    },
}

/// One port of a channel.
#[derive(Debug, Clone)]
pub struct PortEntry {
    /// Its name in the case.
    pub name: String,
    /// The port it is entangled with.
    pub twin: String,
    /// Where its live object is.
    pub holder: Holder,
    /// The first step that posted a message to it (over its twin) which
    /// was queued for it.
    pub messaged_at: Option<usize>,
    /// The windows that ever had a MessagePort object for it (a detached
    /// one stays in the sender's realm).
    pub had: Vec<WindowIndex>,
}

/// Why a case's use of a port cannot be run or modelled.
#[derive(Debug, Clone)]
pub struct PortProblem {
    /// The step.
    pub step: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// What happens to every port of a case, step by step.
#[derive(Debug, Clone, Default)]
pub struct PortPlan {
    /// The ports, in creation order.
    pub entries: Vec<PortEntry>,
    /// For each step: what a `port_post` did (returned, or threw).
    pub port_posts: Vec<Option<Result<(), PostMessageError>>>,
    /// The message events each port received, labelled `port NAME`.
    pub received: Vec<(String, Vec<Delivery>)>,
    /// Uses of ports validation refuses.
    pub problems: Vec<PortProblem>,
    /// Lines for the answer's trace.
    pub trace: Vec<String>,
}

/// The label under which a port's messages are observed.
pub fn port_label(name: &str) -> String {
    format!("port {name}")
}

/// The ports a transfer list holds, in its order (the order of
/// `event.ports`: "a new frozen array consisting of all MessagePort
/// objects in deserializeRecord.[[TransferredValues]], if any, maintaining
/// their relative order").
pub fn transferred_ports(transfer: &[Transferable]) -> Vec<String> {
    transfer
        .iter()
        .filter_map(|t| match t {
            Transferable::Value(MessageValue::Port(name)) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

impl PortPlan {
    /// An empty plan for a case of `steps` steps.
    pub fn new(steps: usize) -> Self {
        PortPlan {
            port_posts: vec![None; steps],
            ..Default::default()
        }
    }

    fn entry(&mut self, name: &str) -> &mut PortEntry {
        self.entries
            .iter_mut()
            .find(|e| e.name == name)
            .expect("validation: ports are made before use")
    }

    fn holder_name(&self, name: &str, windows: &[String]) -> String {
        match self
            .entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.holder)
        {
            Some(Holder::Window(w)) => format!("held by `{}`", windows[*w]),
            Some(Holder::Lost { step }) => format!("lost with the message of step {step}"),
            None => "not made yet".into(),
        }
    }

    /// `new MessageChannel()` in `window`: two entangled ports.
    /// <https://html.spec.whatwg.org/multipage/web-messaging.html#dom-messagechannel>
    pub fn channel(&mut self, step: usize, window: WindowIndex, ports: &[String; 2], name: &str) {
        for (me, twin) in [(&ports[0], &ports[1]), (&ports[1], &ports[0])] {
            self.entries.push(PortEntry {
                name: me.clone(),
                twin: twin.clone(),
                holder: Holder::Window(window),
                messaged_at: None,
                had: vec![window],
            });
        }
        self.trace.push(format!(
            "step {step}: {name} creates a MessageChannel: {} (port1) entangled with {} (port2)",
            ports[0], ports[1]
        ));
    }

    /// Checks that `window` has a MessagePort object for each of `names`
    /// (live or detached), as the step needs to name it in script.
    pub fn check_objects(
        &mut self,
        step: usize,
        window: WindowIndex,
        names: &[String],
        windows: &[String],
    ) {
        for name in names {
            let had = self
                .entries
                .iter()
                .any(|e| &e.name == name && e.had.contains(&window));
            if !had {
                let at = self.holder_name(name, windows);
                self.problems.push(PortProblem {
                    step,
                    message: format!("`{}` has no MessagePort object `{name}` at this step (it is {at})", windows[window]),
                    fix: "a window can only post ports it made or received; post it from the window that holds it".into(),
                });
            }
        }
    }

    /// A window post that returned, carrying `ports`, whose task does
    /// (`delivered`) or does not pass step 8.1 at the target's document.
    pub fn window_post_returned(
        &mut self,
        step: usize,
        to: WindowIndex,
        ports: &[String],
        delivered: bool,
        target_realm: &mut RealmBuffers,
    ) {
        for name in ports {
            self.ship(step, name, delivered.then_some(to), target_realm);
        }
    }

    fn ship(
        &mut self,
        step: usize,
        name: &str,
        to: Option<WindowIndex>,
        target_realm: &mut RealmBuffers,
    ) {
        let e = self.entry(name);
        if let Some(k) = e.messaged_at {
            self.problems.push(PortProblem {
                step,
                message: format!("port `{name}` is transferred here after step {k} posted a message to it"),
                fix: "NOTE: pmconf's agent listens on every port it holds, so that message would race the transfer; post on its twin after transferring it".into(),
            });
        }
        let e = self.entry(name);
        match to {
            // The transfer-receiving steps: a new MessagePort object in
            // the target's realm, not detached.
            Some(w) => {
                e.holder = Holder::Window(w);
                if !e.had.contains(&w) {
                    e.had.push(w);
                }
                target_realm.port_arrived(name);
            }
            None => e.holder = Holder::Lost { step },
        }
    }

    /// The message port post message steps, for a `port_post` step run by
    /// `post.from` (its realm is `realm`); `target_realm` is the realm of
    /// the window holding the target port, if any. Returns the result and
    /// records the message event the target port receives.
    ///
    /// <https://html.spec.whatwg.org/multipage/web-messaging.html#message-port-post-message-steps>
    pub fn port_post(
        &mut self,
        step: usize,
        post: &PortPost,
        realm: &mut RealmBuffers,
        windows: &[String],
    ) -> Result<Option<(WindowIndex, Vec<String>)>, PostMessageError> {
        let source = self
            .entries
            .iter()
            .find(|e| e.name == post.port)
            .cloned()
            .expect("validated");
        if source.holder != Holder::Window(post.from) || realm.is_port_detached(&post.port) {
            let at = self.holder_name(&post.port, windows);
            self.problems.push(PortProblem {
                step,
                message: format!("`{}` does not hold a live port `{}` at this step (it is {at})", windows[post.from], post.port),
                fix: "post on a port from the window that holds it (`from: WINDOW`); pmconf does not model posting on a detached port".into(),
            });
            return Ok(None);
        }
        let mut names = post.message.port_names();
        names.extend(transferred_ports(&post.transfer));
        self.check_objects(step, post.from, &names, windows);
        // 1. Let targetPort be the port with which sourcePort is entangled,
        //    if any; otherwise let it be null.
        let target = source.twin.clone();
        let ports = transferred_ports(&post.transfer);
        // 4. If transfer contains sourcePort, then throw a
        //    "DataCloneError" DOMException.
        if ports.contains(&post.port) {
            return Err(PostMessageError::DataCloneError(format!(
                "message port post message steps, step 4: the transfer list holds the source port `{}`",
                post.port
            )));
        }
        // 5-6. Let doomed be false. If targetPort is not null and transfer
        //      contains targetPort, then set doomed to true.
        let doomed = ports.contains(&target);
        // 7. Let serializeWithTransferResult be
        //    ? StructuredSerializeWithTransfer(message, transfer).
        structured_serialize_with_transfer(&post.message, &post.transfer, realm)
            .map_err(PostMessageError::from)?;
        // 8. If targetPort is null, or if doomed is true, then return.
        let to = match self
            .entries
            .iter()
            .find(|e| e.name == target)
            .map(|e| e.holder.clone())
        {
            Some(Holder::Window(w)) if !doomed => Some(w),
            _ => None,
        };
        let Some(to) = to else {
            let mut nowhere = RealmBuffers::default();
            for name in &ports {
                self.ship(step, name, None, &mut nowhere);
            }
            self.trace.push(format!(
                "step {step}: {} posts on {}: returned; {}",
                windows[post.from],
                post.port,
                if doomed {
                    format!("doomed (step 6: the transfer list holds the target port {target}), never sent")
                } else {
                    format!("its target port {target} was lost, so nobody ever receives it")
                }
            ));
            return Ok(None);
        };
        // 9. Add a task that runs the following steps to the port message
        //    queue of targetPort: ... fire an event named message at
        //    finalTargetPort, using MessageEvent, with the data attribute
        //    initialized to messageClone and the ports attribute
        //    initialized to newPorts (origin "" and source null: the
        //    MessageEvent defaults).
        self.entry(&target).messaged_at.get_or_insert(step);
        let delivery = Delivery {
            message: observed_data(&post.message),
            origin: String::new(),
            source: None,
            ports: ports.clone(),
        };
        let label = port_label(&target);
        match self.received.iter_mut().find(|(l, _)| *l == label) {
            Some((_, list)) => list.push(delivery),
            None => self.received.push((label, vec![delivery])),
        }
        self.trace.push(format!(
            "step {step}: {} posts on {}: returned; message event at port {target}, held by {}",
            windows[post.from], post.port, windows[to]
        ));
        Ok(Some((to, ports)))
    }

    /// The ports `to` receives with a port message (called once the
    /// target's realm is at hand).
    pub fn port_message_delivered(
        &mut self,
        step: usize,
        to: WindowIndex,
        ports: &[String],
        target_realm: &mut RealmBuffers,
    ) {
        for name in ports {
            self.ship(step, name, Some(to), target_realm);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::case::parse_case;
    use crate::navigation::plan_case;
    use crate::outcome::Outcome;
    use crate::{answer_case, Delivery};

    const WINDOWS: &str = "description: d\nwindows:\n  top: { url: 'http://a.test/' }\n  child: { parent: top, url: 'http://b.test/' }\nsteps:\n";

    fn answer(steps: &str) -> Outcome {
        let case = parse_case("t.yaml", &format!("{WINDOWS}{steps}"))
            .unwrap_or_else(|e| panic!("{}", e[0]));
        let mut a = answer_case(&case).allowed;
        assert_eq!(a.len(), 1);
        a.remove(0)
    }

    fn received<'a>(o: &'a Outcome, label: &str) -> &'a [Delivery] {
        o.received
            .iter()
            .find(|(l, _)| l == label)
            .map_or(&[], |(_, d)| d)
    }

    fn threw(o: &Outcome) -> Vec<Option<&str>> {
        o.posts.iter().map(|p| p.threw.as_deref()).collect()
    }

    #[test]
    fn a_transferred_port_is_listed_in_event_ports_and_its_twin_reaches_it() {
        let o = answer(
            "  - channel: { window: top, ports: [p1, p2] }\n  - post: { from: top, to: child, message: m, target_origin: '*', transfer: [{$port: p2}] }\n  - port_post: { port: p1, message: x }\n",
        );
        assert_eq!(received(&o, "child")[0].ports, ["p2"]);
        let on_p2 = received(&o, "port p2");
        assert_eq!(on_p2.len(), 1);
        // A port's message event: MessageEvent defaults, origin "" and
        // source null.
        assert_eq!(on_p2[0].origin, "");
        assert_eq!(on_p2[0].source, None);
        assert!(received(&o, "port p1").is_empty());
    }

    #[test]
    fn a_port_in_a_dropped_message_is_lost() {
        // Step 8.1 returns before StructuredDeserializeWithTransfer, so the
        // port's queue is never given to a new MessagePort.
        let o = answer(
            "  - channel: { window: top, ports: [p1, p2] }\n  - post: { from: top, to: child, message: m, target_origin: 'http://c.test', transfer: [{$port: p2}] }\n  - port_post: { port: p1, message: x }\n",
        );
        assert_eq!(threw(&o), [None, None]);
        assert!(received(&o, "child").is_empty());
        assert!(received(&o, "port p2").is_empty());
        let plan = plan_case(&parse_case("t.yaml", &format!("{WINDOWS}  - channel: {{ window: top, ports: [p1, p2] }}\n  - post: {{ from: top, to: child, message: m, target_origin: 'http://c.test', transfer: [{{$port: p2}}] }}\n")).unwrap());
        let p2 = plan.ports.entries.iter().find(|e| e.name == "p2").unwrap();
        assert_eq!(p2.holder, super::Holder::Lost { step: 1 });
    }

    #[test]
    fn transfer_list_errors_for_ports() {
        // StructuredSerializeWithTransfer 2.3 (twice in one list), then 5.2
        // (detached by an earlier transfer), and a port only in the
        // message: not serializable.
        let o = answer(
            "  - channel: { window: top, ports: [p1, p2] }\n  - post: { from: top, to: child, message: a, target_origin: '*', transfer: [{$port: p2}, {$port: p2}] }\n  - post: { from: top, to: child, message: {$port: p2}, target_origin: '*' }\n  - post: { from: top, to: child, message: b, target_origin: '*', transfer: [{$port: p2}] }\n  - post: { from: top, to: child, message: c, target_origin: '*', transfer: [{$port: p2}] }\n",
        );
        assert_eq!(
            threw(&o),
            [
                Some("DataCloneError"),
                Some("DataCloneError"),
                None,
                Some("DataCloneError")
            ]
        );
    }

    #[test]
    fn message_port_post_message_steps_4_and_6() {
        // Step 4: the source port in its own transfer list throws; step 6:
        // the target port makes the message doomed (returns, detaches the
        // target port, sends nothing).
        let o = answer(
            "  - channel: { window: top, ports: [p1, p2] }\n  - port_post: { port: p1, message: self, transfer: [{$port: p1}] }\n  - port_post: { port: p1, message: doomed, transfer: [{$port: p2}] }\n  - post: { from: top, to: child, message: again, target_origin: '*', transfer: [{$port: p2}] }\n",
        );
        assert_eq!(
            threw(&o),
            [Some("DataCloneError"), None, Some("DataCloneError")]
        );
        assert!(received(&o, "port p2").is_empty());
        assert!(received(&o, "child").is_empty());
    }

    #[test]
    fn event_ports_follow_transfer_list_order() {
        let o = answer(
            "  - channel: { window: top, ports: [a1, a2] }\n  - channel: { window: top, ports: [b1, b2] }\n  - post: { from: top, to: child, message: m, target_origin: '*', transfer: [{$port: b2}, {$port: a2}] }\n",
        );
        assert_eq!(received(&o, "child")[0].ports, ["b2", "a2"]);
    }

    #[test]
    fn a_port_posted_to_before_its_transfer_is_refused() {
        let e = parse_case(
            "t.yaml",
            &format!("{WINDOWS}  - channel: {{ window: top, ports: [p1, p2] }}\n  - port_post: {{ port: p1, message: x }}\n  - post: {{ from: top, to: child, message: m, target_origin: '*', transfer: [{{$port: p2}}] }}\n"),
        )
        .unwrap_err();
        assert!(
            e[0].message.contains("after step 1 posted a message to it"),
            "{}",
            e[0].message
        );
    }
}

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
//! - A port's *port message queue* starts disabled; `start()` (or setting
//!   `onmessage`, "as if the start() method had been called") enables it.
//!   Until then messages posted to the port wait in it, and a transfer
//!   moves them along ("Move all the tasks that are to fire message
//!   events in dataHolder.[[PortMessageQueue]] to the port message queue
//!   of value"), so they fire in the window that finally starts the port.
//!   The agent starts every port a `channel` step makes (unless the step
//!   says `start: false`) and every port that arrives in a message.
//! - A port transferred into the window that sent it arrives as a *new*
//!   MessagePort object when the message's task runs; until then (in the
//!   sending task) the name means the sender's object, detached by
//!   StructuredSerializeWithTransfer step 5.5.5. A step in a later task
//!   that uses the port waits for it ([`PortPlan::awaits`]).
//!
//! NOTE: a started port dispatches its messages in tasks of its own, which
//! race the harness's next step, so a port that has had a message
//! dispatched (or queued while started) must not be transferred or closed
//! afterwards; validation refuses such cases instead of modelling the
//! race. A port that is not started keeps its messages queued, and may be.

use crate::case::{PortAction, PortPost, WindowIndex};
use crate::message::{
    structured_serialize_with_transfer, transfer_idl_type_error, MessageValue, RealmBuffers,
    Transferable,
};
use crate::outcome::{observed_data, Delivery};
use crate::post_message::PostMessageError;

/// Where a port's live MessagePort object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// In this window's document (non-race cases have one per window).
    Window(WindowIndex),
    /// Shipped in the message of this step, which was never deserialized
    /// (dropped at step 8.1, doomed, or a messageerror): no script holds
    /// it.
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
    /// Whether its live object's port message queue is enabled.
    pub started: bool,
    /// Whether it is still entangled (no `close()` on it or its twin).
    pub entangled: bool,
    /// Message events waiting in its (disabled) port message queue.
    pub queued: Vec<Delivery>,
    /// The first step after which a message event for it was dispatched
    /// (or could be): a later transfer or close would race it.
    pub dispatched_at: Option<usize>,
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

/// A port on its way to a window: its transfer-receiving steps run in the
/// task of the message that carries it.
#[derive(Debug, Clone)]
struct Arrival {
    /// The task (of the case) whose step posted the message.
    task: usize,
    /// The receiving window.
    window: WindowIndex,
    /// The port.
    name: String,
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
    /// For each step: the ports its window must have received (in an
    /// earlier task's message) before the step runs.
    pub awaits: Vec<Vec<String>>,
    /// Uses of ports validation refuses.
    pub problems: Vec<PortProblem>,
    /// Lines for the answer's trace.
    pub trace: Vec<String>,
    arrivals: Vec<Arrival>,
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

/// Where a shipped port goes.
#[derive(Debug, Clone, Copy)]
pub struct Destination {
    /// The task of the step that posted it.
    pub task: usize,
    /// The receiving window, or `None` when nobody receives it.
    pub window: Option<WindowIndex>,
}

impl PortPlan {
    /// An empty plan for a case of `steps` steps.
    pub fn new(steps: usize) -> Self {
        PortPlan {
            port_posts: vec![None; steps],
            awaits: vec![Vec::new(); steps],
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

    fn had(&self, name: &str, window: WindowIndex) -> bool {
        self.entries
            .iter()
            .any(|e| e.name == name && e.had.contains(&window))
    }

    /// `new MessageChannel()` in `window`: two entangled ports, started
    /// at once when `start`.
    /// <https://html.spec.whatwg.org/multipage/web-messaging.html#dom-messagechannel>
    pub fn channel(
        &mut self,
        step: usize,
        window: WindowIndex,
        ports: &[String; 2],
        start: bool,
        name: &str,
    ) {
        for (me, twin) in [(&ports[0], &ports[1]), (&ports[1], &ports[0])] {
            self.entries.push(PortEntry {
                name: me.clone(),
                twin: twin.clone(),
                holder: Holder::Window(window),
                started: start,
                entangled: true,
                queued: Vec::new(),
                dispatched_at: None,
                had: vec![window],
            });
        }
        self.trace.push(format!(
            "step {step}: {name} creates a MessageChannel: {} (port1) entangled with {} (port2){}",
            ports[0],
            ports[1],
            if start { "" } else { ", neither started" }
        ));
    }

    /// The ports whose message tasks were posted in a task before `task`:
    /// they have arrived by then (the harness waits for them before a
    /// step that uses them). Each is returned once, with its window.
    pub fn arrivals_before(&mut self, task: usize) -> Vec<(WindowIndex, String)> {
        let (done, later): (Vec<Arrival>, Vec<Arrival>) =
            self.arrivals.drain(..).partition(|a| a.task < task);
        self.arrivals = later;
        done.into_iter().map(|a| (a.window, a.name)).collect()
    }

    /// Records which of `names`, used by step `step`, the step's window
    /// must wait for: those whose live object there came in a message.
    pub fn note_awaits(&mut self, step: usize, names: &[String], realm: &RealmBuffers) {
        for name in names {
            if realm.port_came_in_a_message(name) && !self.awaits[step].contains(name) {
                self.awaits[step].push(name.clone());
            }
        }
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
            if !self.had(name, window) {
                let at = self.holder_name(name, windows);
                self.problems.push(PortProblem {
                    step,
                    message: format!("`{}` has no MessagePort object `{name}` at this step (it is {at})", windows[window]),
                    fix: "a window can only post ports it made or received; post it from the window that holds it".into(),
                });
            }
        }
    }

    /// A window post that returned, carrying `ports`; `to` is the window
    /// whose task deserializes them (`None` when the task returns at step
    /// 8.1, or deserialization throws before anyone sees them).
    pub fn window_post_returned(&mut self, step: usize, ports: &[String], to: Destination) {
        for name in ports {
            self.ship(step, name, to);
        }
    }

    fn ship(&mut self, step: usize, name: &str, to: Destination) {
        let e = self.entry(name);
        if let Some(k) = e.dispatched_at {
            self.problems.push(PortProblem {
                step,
                message: format!("port `{name}` is transferred here after step {k} dispatched (or queued while it was started) a message to it"),
                fix: "NOTE: a started port's message events race the transfer; make the channel with `start: false` so its messages stay queued and travel with it, or post on its twin after transferring it".into(),
            });
        }
        let e = self.entry(name);
        match to.window {
            // The transfer-receiving steps (run by the message's task): a
            // new MessagePort object in the target's realm, which the agent
            // starts, so the queued messages fire there.
            Some(w) => {
                e.holder = Holder::Window(w);
                if !e.had.contains(&w) {
                    e.had.push(w);
                }
                e.started = true;
                self.arrivals.push(Arrival {
                    task: to.task,
                    window: w,
                    name: name.to_owned(),
                });
                self.flush(step, name);
            }
            None => {
                e.holder = Holder::Lost { step };
                e.started = false;
            }
        }
    }

    /// A started port's queued message events fire.
    fn flush(&mut self, step: usize, name: &str) {
        let e = self.entry(name);
        if !e.started || e.queued.is_empty() {
            return;
        }
        e.dispatched_at.get_or_insert(step);
        let queued = std::mem::take(&mut e.queued);
        let label = port_label(name);
        match self.received.iter_mut().find(|(l, _)| *l == label) {
            Some((_, list)) => list.extend(queued),
            None => self.received.push((label, queued)),
        }
    }

    /// `port.start()` or `port.close()` in `from`.
    ///
    /// <https://html.spec.whatwg.org/multipage/web-messaging.html#dom-messageport-start>
    /// <https://html.spec.whatwg.org/multipage/web-messaging.html#dom-messageport-close>
    pub fn port_call(
        &mut self,
        step: usize,
        from: WindowIndex,
        port: &str,
        action: PortAction,
        realm: &mut RealmBuffers,
        windows: &[String],
    ) {
        let e = self
            .entries
            .iter()
            .find(|e| e.name == port)
            .cloned()
            .expect("validated");
        if e.holder != Holder::Window(from) || realm.is_port_detached(port) {
            let at = self.holder_name(port, windows);
            self.problems.push(PortProblem {
                step,
                message: format!(
                    "`{}` does not hold a live port `{port}` at this step (it is {at})",
                    windows[from]
                ),
                fix: "start or close a port from the window that holds it (`from: WINDOW`)".into(),
            });
            return;
        }
        match action {
            PortAction::Start => {
                if e.started {
                    self.problems.push(PortProblem {
                        step,
                        message: format!("port `{port}` is already started here (by its `channel` step, an earlier `port_start`, or because it arrived in a message: the agent starts those)"),
                        fix: "start a port once: make the channel with `start: false` and start each port with one `port_start`".into(),
                    });
                    return;
                }
                // The start() method steps: "enable this's port message
                // queue, if it is not already enabled".
                self.entry(port).started = true;
                self.trace.push(format!(
                    "step {step}: {} starts {port}: its port message queue is enabled",
                    windows[from]
                ));
                self.flush(step, port);
            }
            PortAction::Close => {
                let twin = self
                    .entries
                    .iter()
                    .find(|x| x.name == e.twin)
                    .cloned()
                    .expect("a twin");
                for x in [&e, &twin] {
                    if let Some(k) = x.dispatched_at {
                        self.problems.push(PortProblem {
                            step,
                            message: format!("port `{}` is closed here after step {k} dispatched a message to it", x.name),
                            fix: "NOTE: whether a message event already queued still fires after close() depends on timing; close before posting, or leave the channel open".into(),
                        });
                        return;
                    }
                }
                // The close() method steps: "1. Set this's [[Detached]]
                // internal slot value to true. 2. If this is entangled,
                // disentangle it." Neither port is entangled after.
                realm.port_closed(port);
                self.entry(port).entangled = false;
                self.entry(&e.twin).entangled = false;
                self.trace.push(format!("step {step}: {} closes {port}: {port} and {} are disentangled; later posts on either go nowhere", windows[from], e.twin));
            }
        }
    }

    /// The message port post message steps, for a `port_post` step run by
    /// `post.from` (its realm is `realm`). `deserializes(w)` says whether
    /// StructuredDeserializeWithTransfer succeeds in window `w`'s realm
    /// (a SharedArrayBuffer cannot leave its agent cluster). Returns the
    /// result and records the message event the target port receives.
    ///
    /// <https://html.spec.whatwg.org/multipage/web-messaging.html#message-port-post-message-steps>
    pub fn port_post(
        &mut self,
        step: usize,
        task: usize,
        post: &PortPost,
        realm: &mut RealmBuffers,
        windows: &[String],
        deserializes: impl Fn(WindowIndex) -> bool,
    ) -> Result<(), PostMessageError> {
        let source = self
            .entries
            .iter()
            .find(|e| e.name == post.port)
            .cloned()
            .expect("validated");
        if !source.had.contains(&post.from) {
            let at = self.holder_name(&post.port, windows);
            self.problems.push(PortProblem {
                step,
                message: format!(
                    "`{}` has no MessagePort object `{}` at this step (it is {at})",
                    windows[post.from], post.port
                ),
                fix: "post on a port from the window that holds it (`from: WINDOW`)".into(),
            });
            return Ok(());
        }
        let mut names = post.message.port_names();
        names.extend(transferred_ports(&post.transfer));
        self.check_objects(step, post.from, &names, windows);
        // Before the steps: Web IDL converts `transfer` (MessagePort's
        // postMessage(message, transfer), a sequence<object>), so a
        // primitive in it is a TypeError, on a detached port too. The one
        // rule the window's postMessage uses ([`transfer_idl_type_error`]).
        if transfer_idl_type_error(&post.transfer) {
            return Err(PostMessageError::TypeError(
                "transfer list holds a value that is not an object".into(),
            ));
        }
        if realm.is_port_detached(&post.port) {
            // NOTE: this object was transferred away (StructuredSerialize-
            // WithTransfer 5.5.5) and so disentangled from its twin (the
            // transfer steps hand the entanglement to the data holder):
            // step 1 finds no targetPort, and step 8 returns after
            // serializing. Engines do so (webmessaging tests post on a
            // transferred port without an exception).
            structured_serialize_with_transfer(&post.message, &post.transfer, realm)
                .map_err(PostMessageError::from)?;
            for name in transferred_ports(&post.transfer) {
                self.ship(step, &name, Destination { task, window: None });
            }
            self.trace.push(format!(
                "step {step}: {} posts on its detached {}: returned; no target port, nothing sent",
                windows[post.from], post.port
            ));
            return Ok(());
        }
        // 1. Let targetPort be the port with which sourcePort is entangled,
        //    if any; otherwise let it be null.
        let target = source.entangled.then(|| source.twin.clone());
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
        let doomed = target.as_ref().is_some_and(|t| ports.contains(t));
        // 7. Let serializeWithTransferResult be
        //    ? StructuredSerializeWithTransfer(message, transfer).
        structured_serialize_with_transfer(&post.message, &post.transfer, realm)
            .map_err(PostMessageError::from)?;
        // 8. If targetPort is null, or if doomed is true, then return.
        let holder = target
            .as_ref()
            .and_then(|t| self.entries.iter().find(|e| &e.name == t))
            .map(|e| e.holder.clone());
        let to = match (holder, doomed) {
            (Some(Holder::Window(w)), false) => Some(w),
            _ => None,
        };
        let Some(to) = to else {
            for name in &ports {
                self.ship(step, name, Destination { task, window: None });
            }
            self.trace.push(format!(
                "step {step}: {} posts on {}: returned; {}",
                windows[post.from],
                post.port,
                match (&target, doomed) {
                    (None, _) => "step 1: it is entangled with nothing (closed), so step 8 returns"
                        .to_owned(),
                    (Some(t), true) => format!(
                        "doomed (step 6: the transfer list holds the target port {t}), never sent"
                    ),
                    (Some(t), false) =>
                        format!("its target port {t} was lost, so nobody ever receives it"),
                }
            ));
            return Ok(());
        };
        let target = target.expect("a target");
        // 9. Add a task that runs the following steps to the port message
        //    queue of targetPort:
        //    1. Let finalTargetPort be the MessagePort in whose port message
        //       queue the task now finds itself.
        //    2. Let targetRealm be finalTargetPort's relevant realm.
        //    3. Let deserializeRecord be StructuredDeserializeWithTransfer(
        //       serializeWithTransferResult, targetRealm).
        //       If this throws an exception, catch it, fire an event named
        //       messageerror at finalTargetPort, using MessageEvent, and
        //       then return.
        //    ... 6. Fire an event named message at finalTargetPort, using
        //       MessageEvent, with the data attribute initialized to
        //       messageClone and the ports attribute initialized to newPorts
        //       (origin "" and source null: the MessageEvent defaults).
        // NOTE: the task runs wherever the target port is when it is
        // started; a case only moves an unstarted port, so that is `to`.
        let fails = !deserializes(to);
        let delivery = if fails {
            Delivery {
                message: serde_json::json!({ "$messageerror": null }),
                origin: String::new(),
                source: None,
                ports: Vec::new(),
            }
        } else {
            Delivery {
                message: observed_data(&post.message),
                origin: String::new(),
                source: None,
                ports: ports.clone(),
            }
        };
        // StructuredDeserializeWithTransfer runs the transfer-receiving
        // steps (step 3) before StructuredDeserialize throws (step 4): the
        // ports exist in the target's realm, but no event hands them to
        // script, so no case can use them.
        for name in &ports {
            let window = (!fails).then_some(to);
            self.ship(step, name, Destination { task, window });
        }
        self.entry(&target).queued.push(delivery);
        self.flush(step, &target);
        let queued = !self.entry(&target).started;
        self.trace.push(format!(
            "step {step}: {} posts on {}: returned; {} at port {target}, held by {}{}",
            windows[post.from],
            post.port,
            if fails { "messageerror (StructuredDeserialize throws: a SharedArrayBuffer cannot leave its agent cluster)" } else { "message event" },
            windows[to],
            if queued { " (queued: the port is not started)" } else { "" }
        ));
        Ok(())
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
    fn a_primitive_in_a_port_posts_transfer_is_a_type_error() {
        // Web IDL: postMessage(any message, sequence<object> transfer);
        // converting 1 to object throws TypeError before the message port
        // post message steps, so nothing is sent, even on a detached port.
        let o = answer(
            "  - channel: { window: top, ports: [p1, p2] }\n  - port_post: { port: p1, message: x, transfer: [1] }\n  - port_post: { port: p1, message: y }\n",
        );
        assert_eq!(threw(&o), [Some("TypeError"), None]);
        assert_eq!(received(&o, "port p2").len(), 1);
        assert_eq!(received(&o, "port p2")[0].message, serde_json::json!("y"));
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
            e[0].message.contains("after step 1 dispatched"),
            "{}",
            e[0].message
        );
    }

    fn answer_with(windows: &str, steps: &str) -> Outcome {
        let case = parse_case(
            "t.yaml",
            &format!("description: d\nwindows:\n{windows}steps:\n{steps}"),
        )
        .unwrap_or_else(|e| panic!("{}", e[0]));
        let mut a = answer_case(&case).allowed;
        assert_eq!(a.len(), 1);
        a.remove(0)
    }

    const TOP_ONLY: &str = "  top: { url: 'http://a.test/' }\n";

    #[test]
    fn a_port_sent_to_its_own_window_stays_detached_in_the_sending_task() {
        // StructuredSerializeWithTransfer 5.5.5 "Set transferable.[[Detached]]
        // to true" on the sender's object; the port that arrives is a new
        // object, made when the message's task runs. In the same task, the
        // name still means the detached object: 5.2 "If transferable has a
        // [[Detached]] internal slot and transferable.[[Detached]] is true,
        // then throw a DataCloneError" (wpt transfer-errors.window.js,
        // "Serialize should make the MessagePort detached").
        let o = answer_with(
            TOP_ONLY,
            "  - channel: { window: top, ports: [p1, p2] }\n  - same_task:\n    - post: { from: top, to: top, message: a, target_origin: '*', transfer: [{$port: p2}] }\n    - post: { from: top, to: top, message: b, target_origin: '*', transfer: [{$port: p2}] }\n",
        );
        assert_eq!(threw(&o), [None, Some("DataCloneError")]);
        assert_eq!(received(&o, "top").len(), 1);
        assert_eq!(received(&o, "top")[0].ports, ["p2"]);
    }

    #[test]
    fn a_port_back_in_its_window_is_the_new_object_in_a_later_task() {
        // In a later task the message (and the transfer-receiving steps)
        // has run: p2 names the new, entangled MessagePort, so posting on
        // it reaches p1, and transferring it again works.
        let case = parse_case(
            "t.yaml",
            &format!("description: d\nwindows:\n{TOP_ONLY}steps:\n  - channel: {{ window: top, ports: [p1, p2] }}\n  - post: {{ from: top, to: top, message: a, target_origin: '*', transfer: [{{$port: p2}}] }}\n  - port_post: {{ port: p2, message: back }}\n  - post: {{ from: top, to: top, message: b, target_origin: '*', transfer: [{{$port: p2}}] }}\n"),
        )
        .unwrap_or_else(|e| panic!("{}", e[0]));
        let plan = plan_case(&case);
        assert_eq!(plan.ports.awaits[2], ["p2"]);
        assert_eq!(plan.ports.awaits[3], ["p2"]);
        let o = answer_case(&case).allowed.remove(0);
        assert_eq!(threw(&o), [None, None, None]);
        assert_eq!(received(&o, "port p1")[0].message, "back");
        assert_eq!(received(&o, "top").len(), 2);
    }

    #[test]
    fn posting_on_a_detached_port_returns_and_sends_nothing() {
        // The sender's object no longer has a targetPort (step 1): step 8
        // returns after serializing.
        let o = answer(
            "  - channel: { window: top, ports: [p1, p2] }\n  - same_task:\n    - post: { from: top, to: child, message: m, target_origin: '*', transfer: [{$port: p2}] }\n    - port_post: { port: p2, message: lost }\n  - port_post: { port: p1, message: x }\n",
        );
        assert_eq!(threw(&o), [None, None, None]);
        assert!(received(&o, "port p1").is_empty());
        assert_eq!(received(&o, "port p2").len(), 1);
    }

    #[test]
    fn a_shared_buffer_over_a_port_to_another_agent_cluster_is_a_messageerror() {
        // The message port post message steps, 9.3: StructuredDeserialize-
        // WithTransfer throws ("If targetRealm's corresponding agent
        // cluster is not serialized.[[AgentCluster]]"), so messageerror
        // fires at the port (origin "", source null).
        let windows = "  top: { url: 'https://a.test:8443/', isolated: true }\n  same: { parent: top, url: 'https://a.test:8443/' }\n  sub: { parent: top, url: 'https://sub.a.test:8443/' }\n";
        let o = answer_with(
            windows,
            "  - channel: { window: top, ports: [a1, a2] }\n  - channel: { window: top, ports: [b1, b2] }\n  - post: { from: top, to: same, message: a, target_origin: '*', transfer: [{$port: a2}] }\n  - post: { from: top, to: sub, message: b, target_origin: '*', transfer: [{$port: b2}] }\n  - port_post: { port: a1, message: {$sab: {bytes: [1]}} }\n  - port_post: { port: b1, message: {$sab: {bytes: [2]}} }\n",
        );
        assert_eq!(threw(&o), [None, None, None, None]);
        assert_eq!(
            received(&o, "port a2")[0].message,
            serde_json::json!({"$sab": {"bytes": [1]}})
        );
        let b2 = received(&o, "port b2");
        assert_eq!(b2[0].message, serde_json::json!({"$messageerror": null}));
        assert_eq!((b2[0].origin.as_str(), b2[0].source.as_deref()), ("", None));
    }

    #[test]
    fn an_unstarted_port_keeps_its_messages_and_they_travel_with_it() {
        // A port message queue is disabled until start(); the transfer
        // steps move it into the data holder, and the transfer-receiving
        // steps "Move all the tasks that are to fire message events in
        // dataHolder.[[PortMessageQueue]] to the port message queue of
        // value".
        let o = answer(
            "  - channel: { window: top, ports: [p1, p2], start: false }\n  - port_post: { port: p1, message: one }\n  - port_post: { port: p1, message: two }\n  - post: { from: top, to: child, message: m, target_origin: '*', transfer: [{$port: p2}] }\n",
        );
        let got: Vec<_> = received(&o, "port p2")
            .iter()
            .map(|d| d.message.clone())
            .collect();
        assert_eq!(got, ["one", "two"]);
    }

    #[test]
    fn an_unstarted_port_fires_nothing_until_port_start() {
        let steps = "  - channel: { window: top, ports: [p1, p2], start: false }\n  - port_post: { port: p1, message: one }\n";
        assert!(received(&answer(steps), "port p2").is_empty());
        let o = answer(&format!("{steps}  - port_start: {{ port: p2 }}\n"));
        assert_eq!(received(&o, "port p2")[0].message, "one");
    }

    #[test]
    fn close_disentangles_both_ports_and_detaches_the_closed_one() {
        // close(): "Set this's [[Detached]] internal slot value to true. If
        // this is entangled, disentangle it." Posting on either end then
        // finds no targetPort; transferring the closed one throws (5.2).
        let o = answer(
            "  - channel: { window: top, ports: [p1, p2] }\n  - port_close: { port: p1 }\n  - port_post: { port: p2, message: to-nobody }\n  - port_post: { port: p1, message: from-closed }\n  - post: { from: top, to: child, message: m, target_origin: '*', transfer: [{$port: p1}] }\n",
        );
        assert_eq!(threw(&o), [None, None, Some("DataCloneError")]);
        assert!(received(&o, "port p1").is_empty());
        assert!(received(&o, "port p2").is_empty());
    }

    #[test]
    fn misuse_of_port_start_and_port_close_is_refused() {
        let refused = |steps: &str, what: &str| {
            let e = parse_case("t.yaml", &format!("{WINDOWS}{steps}")).unwrap_err();
            assert!(
                e.iter().any(|e| e.message.contains(what)),
                "{what}: {:?}",
                e.iter().map(|e| &e.message).collect::<Vec<_>>()
            );
        };
        refused(
            "  - channel: { window: top, ports: [p1, p2] }\n  - port_start: { port: p2 }\n",
            "already started",
        );
        refused("  - channel: { window: top, ports: [p1, p2], start: false }\n  - port_start: { port: p2 }\n  - port_start: { port: p2 }\n", "already started");
        refused(
            "  - channel: { window: top, ports: [p1, p2] }\n  - port_start: { port: nope }\n",
            "no earlier `channel` step makes a port named `nope`",
        );
        refused("  - channel: { window: top, ports: [p1, p2] }\n  - port_post: { port: p1, message: x }\n  - port_close: { port: p2 }\n", "closed here after step 1 dispatched");
        refused("  - channel: { window: top, ports: [p1, p2] }\n  - port_close: { port: p2, from: child }\n", "does not hold a live port");
        refused("  - channel: { window: top, ports: [p1, p2] }\n  - port_post: { port: p1, message: x, transfer: [], options: { transfer: [] } }\n", "has `transfer` and `options`");
    }

    #[test]
    fn a_port_after_the_message_is_converted_not_refused() {
        // Overload resolution at index 1: a MessagePort is an Object, so
        // 12.11 picks the dictionary; its `transfer` and `targetOrigin` are
        // undefined, so the defaults ([] and "/") apply. With three
        // arguments ToString(port) is "[object MessagePort]", which does
        // not parse (SyntaxError); as transfer, sequence<object> step 3
        // finds no @@iterator (TypeError). A fourth argument is ignored.
        let o = answer_with(
            TOP_ONLY,
            "  - channel: { window: top, ports: [p1, p2] }\n  - post: { from: top, to: top, args: [a, {$port: p1}] }\n  - post: { from: top, to: top, args: [b, {$port: p1}, []] }\n  - post: { from: top, to: top, args: [c, '*', {$port: p1}] }\n  - post: { from: top, to: top, args: [d, '*', [], {$port: p1}] }\n  - post: { from: top, to: top, args: [e, '*', [{$port: p2}]] }\n",
        );
        assert_eq!(
            threw(&o),
            [None, Some("SyntaxError"), Some("TypeError"), None, None]
        );
        let got: Vec<_> = received(&o, "top")
            .iter()
            .map(|d| (d.message.clone(), d.ports.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (serde_json::json!("a"), vec![]),
                (serde_json::json!("d"), vec![]),
                (serde_json::json!("e"), vec!["p2".to_owned()]),
            ]
        );
    }
}

//! What the agent needs for MessagePorts: the `channel` and `port_post`
//! step configurations, how a document names the ports it receives, and
//! the end-of-case markers sent over ports.
//!
//! A page cannot see the case's name of a port it receives, so each
//! document gets every message of the case that carries ports (as the
//! receiver would observe it, ports written `{$port: name}`) with the
//! names of the ports it transfers, in transfer-list order (the order of
//! `event.ports`). The agent names a received `event.ports` by the first
//! unused candidate whose message equals `event.data` once those names
//! are given to the ports, and `?0`, `?1`... when none does (a divergence
//! the snapshot then shows). Case authors keep such messages distinct.

use super::plan::Markers;
use super::protocol::{PortCandidate, PortConfig, StepConfig, Transfer};
use pmconf_model::case::{Case, PortAction, Step, WindowIndex};
use pmconf_model::message::Transferable;
use pmconf_model::message_port::{transferred_ports, Holder};
use pmconf_model::navigation::Plan;

/// The agent's configuration of a `channel`, `port_post`, `port_start` or
/// `port_close` step; `realms` gives the path from the port's holder to
/// each window whose constructors a `port_post`'s message uses.
pub fn port_step_config(
    step: &Step,
    realms: std::collections::BTreeMap<String, super::protocol::Path>,
) -> Option<StepConfig> {
    Some(match step {
        Step::Channel { ports, start, .. } => StepConfig::Channel {
            ports: ports.clone(),
            start: *start,
        },
        Step::PortPost(p) => StepConfig::PortPost {
            port: p.port.clone(),
            message: p.message.to_tagged_json(),
            transfer: p.transfer.iter().map(transfer_config).collect(),
            options: p.options,
            realms,
        },
        Step::PortCall { port, action, .. } => match action {
            PortAction::Start => StepConfig::PortStart { port: port.clone() },
            PortAction::Close => StepConfig::PortClose { port: port.clone() },
        },
        _ => return None,
    })
}

/// The ports step `step` waits for and ships: `awaitPorts`, those that
/// come to its window in an earlier task's message, which the agent waits
/// for before it runs the step (the model's [`PortPlan::awaits`]: until
/// then the name means the window's detached object, or nothing); and
/// `shipsPorts`, those a post's transfer list holds as its arguments
/// resolve, which the agent no longer holds once the call returns (an
/// `args` post's transfer list is only known after Web IDL conversion).
///
/// [`PortPlan::awaits`]: pmconf_model::message_port::PortPlan::awaits
pub fn awaited_ports(plan: &Plan, step: usize) -> (Vec<String>, Vec<String>) {
    (
        plan.ports.awaits.get(step).cloned().unwrap_or_default(),
        plan.transferred.get(step).cloned().unwrap_or_default(),
    )
}

/// A transfer list entry as the agent takes it.
pub fn transfer_config(t: &Transferable) -> Transfer {
    match t {
        Transferable::BufferId(id) => Transfer::Buffer(id.clone()),
        Transferable::Value(v) => Transfer::Value(v.to_tagged_json()),
    }
}

/// The agent's port configuration, the same for every document of the
/// case: every message carrying ports (as the receiver observes it) with
/// their names, and each port's entangled port.
pub fn port_config(case: &Case, plan: &Plan) -> PortConfig {
    let mut candidates = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        let (message, ports) = match step {
            // As the call's arguments resolve (an `args` post too).
            Step::Post(p) => (&p.message, plan.transferred[i].clone()),
            Step::PortPost(p) => (&p.message, transferred_ports(&p.transfer)),
            _ => continue,
        };
        if !ports.is_empty() {
            candidates.push(PortCandidate {
                message: message.observable_json(),
                ports,
            });
        }
    }
    let twins = plan
        .ports
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.twin.clone()))
        .collect();
    PortConfig { candidates, twins }
}

/// Adds the port markers: a window that takes steps sends, with its last
/// task, a marker over every live port it holds at the end; the window
/// holding that port's twin waits for it (as `port NAME`), so it has every
/// message that port will ever get (a port message queue is FIFO).
pub fn add_port_markers(case: &Case, plan: &Plan, scripted: &[bool], markers: &mut Markers) {
    let holder = |name: &str| {
        plan.ports
            .entries
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| match e.holder {
                Holder::Window(w) if scripted[w] => Some(w),
                _ => None,
            })
    };
    let acts = |w: WindowIndex| case.steps.iter().any(|s| s.actor(case) == Some(w));
    for e in &plan.ports.entries {
        let (Some(from), Some(to)) = (holder(&e.name), holder(&e.twin)) else {
            continue;
        };
        // A closed pair carries nothing; a twin that is never started
        // never dispatches the marker.
        let twin_started = plan
            .ports
            .entries
            .iter()
            .any(|t| t.name == e.twin && t.started);
        if !e.entangled || !twin_started {
            continue;
        }
        if !acts(from) {
            continue;
        }
        if !markers.send.iter().any(|(w, _)| *w == from) {
            markers.send.push((from, Vec::new()));
        }
        if let Some((_, expected)) = markers.expect.iter_mut().find(|(w, _)| *w == to) {
            expected.push(format!("port {}", e.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::navigation::plan_case;
    use pmconf_model::parse_case;
    use serde_json::json;

    fn case(steps: &str) -> Case {
        parse_case(
            "t.yaml",
            &format!("description: t\nwindows:\n  top: {{ url: \"http://a.test/\" }}\n  child: {{ parent: top, url: \"http://b.test/\" }}\nsteps:\n{steps}"),
        )
        .unwrap_or_else(|e| panic!("{}", e[0]))
    }

    #[test]
    fn a_step_using_a_port_back_in_its_window_awaits_it() {
        // Step 2 transfers the p2 that step 1's message brings back to top:
        // the agent must wait for it (until then p2 is top's detached
        // object). Step 1's own port is top's, made by the channel step.
        let c = case("  - channel: { window: top, ports: [p1, p2] }\n  - post: { from: top, to: top, message: a, target_origin: '*', transfer: [{$port: p2}] }\n  - post: { from: top, to: child, message: b, target_origin: '*', transfer: [{$port: p2}] }\n");
        let plan = plan_case(&c);
        let none: Vec<String> = Vec::new();
        assert_eq!(
            awaited_ports(&plan, 1),
            (none.clone(), vec!["p2".to_owned()])
        );
        assert_eq!(awaited_ports(&plan, 2).0, ["p2"]);
    }

    #[test]
    fn port_steps_carry_what_the_agent_needs() {
        let c = case("  - channel: { window: top, ports: [p1, p2], start: false }\n  - port_start: { port: p2 }\n  - port_post: { port: p1, message: m, options: { transfer: [] } }\n  - channel: { window: top, ports: [q1, q2] }\n  - port_close: { port: q1 }\n");
        let config = |i: usize| {
            serde_json::to_value(port_step_config(&c.steps[i], Default::default()).unwrap())
                .unwrap()
        };
        assert_eq!(
            config(0),
            json!({ "kind": "channel", "ports": ["p1", "p2"], "start": false })
        );
        assert_eq!(config(1), json!({ "kind": "port_start", "port": "p2" }));
        assert_eq!(config(2)["options"], true);
        assert_eq!(config(4), json!({ "kind": "port_close", "port": "q1" }));
    }

    #[test]
    fn no_marker_is_expected_over_a_closed_or_never_started_pair() {
        let c = case("  - channel: { window: top, ports: [p1, p2] }\n  - port_close: { port: p1 }\n  - channel: { window: top, ports: [q1, q2], start: false }\n  - channel: { window: top, ports: [r1, r2] }\n");
        let plan = plan_case(&c);
        let mut markers = Markers {
            send: Vec::new(),
            expect: vec![(0, Vec::new()), (1, Vec::new())],
        };
        add_port_markers(&c, &plan, &[true, true], &mut markers);
        assert_eq!(markers.expect[0].1, ["port r1", "port r2"]);
    }
}

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
use pmconf_model::case::{Case, Step, WindowIndex};
use pmconf_model::message::Transferable;
use pmconf_model::message_port::{transferred_ports, Holder};
use pmconf_model::navigation::Plan;
use serde_json::{json, Value as Json};

/// The agent's configuration of a `channel` or `port_post` step.
pub fn port_step_config(step: &Step) -> Option<Json> {
    Some(match step {
        Step::Channel { ports, start, .. } => {
            json!({ "kind": "channel", "ports": ports, "start": start })
        }
        Step::PortPost(p) => json!({
            "kind": "port_post",
            "port": p.port,
            "message": p.message.to_tagged_json(),
            "transfer": p.transfer.iter().map(transfer_json).collect::<Vec<_>>(),
            "options": p.options,
        }),
        Step::PortCall { port, .. } => json!({ "kind": step.kind(), "port": port }),
        _ => return None,
    })
}

/// Adds `awaitPorts` to step `step`'s configuration: the ports that come
/// to its window in an earlier task's message, which the agent waits for
/// before it runs the step (the model's [`PortPlan::awaits`]: until then
/// the name means the window's detached object, or nothing).
///
/// [`PortPlan::awaits`]: pmconf_model::message_port::PortPlan::awaits
///
/// Also adds `shipsPorts` to a post's: the ports its transfer list holds
/// as its arguments resolve, which the agent no longer holds once the call
/// returns (an `args` post's transfer list is only known after Web IDL
/// conversion).
pub fn add_awaited_ports(config: &mut Json, plan: &Plan, step: usize) {
    let Some(obj) = config.as_object_mut() else {
        return;
    };
    if let Some(awaits) = plan.ports.awaits.get(step).filter(|a| !a.is_empty()) {
        obj.insert("awaitPorts".into(), json!(awaits));
    }
    if let Some(ships) = plan.transferred.get(step).filter(|s| !s.is_empty()) {
        obj.insert("shipsPorts".into(), json!(ships));
    }
}

fn transfer_json(t: &Transferable) -> Json {
    match t {
        Transferable::BufferId(id) => json!({ "buffer": id }),
        Transferable::Value(v) => json!({ "value": v.to_tagged_json() }),
    }
}

/// The agent's port configuration, the same for every document of the
/// case: `portCandidates` (every message carrying ports, with their names)
/// and `portTwins` (each port's entangled port).
pub fn port_config(case: &Case, plan: &Plan) -> Json {
    let mut candidates = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        let (message, ports) = match step {
            // As the call's arguments resolve (an `args` post too).
            Step::Post(p) => (&p.message, plan.transferred[i].clone()),
            Step::PortPost(p) => (&p.message, transferred_ports(&p.transfer)),
            _ => continue,
        };
        if !ports.is_empty() {
            candidates.push(json!({ "message": message.observable_json(), "ports": ports }));
        }
    }
    let twins: serde_json::Map<String, Json> = plan
        .ports
        .entries
        .iter()
        .map(|e| (e.name.clone(), Json::String(e.twin.clone())))
        .collect();
    json!({ "candidates": candidates, "twins": twins })
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
        let config = |i: usize| {
            let mut j = json!({ "kind": "post" });
            add_awaited_ports(&mut j, &plan, i);
            j
        };
        assert_eq!(config(1).get("awaitPorts"), None);
        assert_eq!(config(1)["shipsPorts"], json!(["p2"]));
        assert_eq!(config(2)["awaitPorts"], json!(["p2"]));
    }

    #[test]
    fn port_steps_carry_what_the_agent_needs() {
        let c = case("  - channel: { window: top, ports: [p1, p2], start: false }\n  - port_start: { port: p2 }\n  - port_post: { port: p1, message: m, options: { transfer: [] } }\n  - channel: { window: top, ports: [q1, q2] }\n  - port_close: { port: q1 }\n");
        assert_eq!(
            port_step_config(&c.steps[0]),
            Some(json!({ "kind": "channel", "ports": ["p1", "p2"], "start": false }))
        );
        assert_eq!(
            port_step_config(&c.steps[1]),
            Some(json!({ "kind": "port_start", "port": "p2" }))
        );
        assert_eq!(port_step_config(&c.steps[2]).unwrap()["options"], true);
        assert_eq!(
            port_step_config(&c.steps[4]),
            Some(json!({ "kind": "port_close", "port": "q1" }))
        );
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

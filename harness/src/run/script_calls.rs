//! Which steps of a case go into one WebDriver script call.
//!
//! Each task of a case (a step, or a `same_task` group) is one script call
//! in its actor's window, so it starts only after the previous one
//! returned. In a case without races (only `post` steps), consecutive
//! tasks of one sender that are plain posts go into one call instead: what
//! a post does depends only on the windows it names (a tree no step of
//! such a case changes), its message and its buffers, never on which
//! messages the sender received in between, and messages from one sender
//! to one target arrive in the order posted either way, so nothing
//! observed changes. A reply (`reply: N`, which waits for a message) ends
//! the merging: it must see the messages delivered before it.

use pmconf_model::case::Step;
use pmconf_model::Case;
use std::ops::Range;

/// Whether step `i` may share a script call with the plain posts next to it.
/// A post that transfers a MessagePort may not: the port may be one that
/// comes back to the sender in an earlier post's message, and until that
/// message's task has run the name means the sender's detached object.
fn mergeable(case: &Case, i: usize) -> bool {
    matches!(&case.steps[i], Step::Post(p) if p.reply_to.is_none()
        && pmconf_model::message_port::transferred_ports(p.transfer.as_deref().unwrap_or_default()).is_empty())
}

/// The step ranges, one per script call, in order.
pub fn script_calls(case: &Case) -> Vec<Range<usize>> {
    let tasks = case.tasks();
    if case.is_race() {
        return tasks;
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    for task in tasks {
        let actor = case.steps[task.start].actor(case);
        let plain = |r: &Range<usize>| r.clone().all(|i| mergeable(case, i));
        match out.last_mut() {
            Some(last)
                if plain(last) && plain(&task) && case.steps[last.start].actor(case) == actor =>
            {
                last.end = task.end
            }
            _ => out.push(task),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::parse_case;

    fn calls(steps: &str) -> Vec<Range<usize>> {
        let yaml = format!(
            r#"
description: t
windows:
  top: {{ url: "http://a.test/" }}
  child: {{ parent: top, url: "http://b.test/" }}
steps:
{steps}"#
        );
        script_calls(&parse_case("t.yaml", &yaml).unwrap())
    }

    #[test]
    fn consecutive_plain_posts_of_one_sender_share_a_call() {
        let got = calls(
            r#"  - post: { from: top, to: child, message: a, target_origin: "*" }
  - post: { from: top, to: child, message: b, target_origin: "*" }
  - post: { from: top, to: top, message: c, target_origin: "*" }
  - post: { from: child, to: top, message: d, target_origin: "*" }
  - post: { from: top, to: child, message: e, target_origin: "*" }
"#,
        );
        assert_eq!(got, [0..3, 3..4, 4..5]);
    }

    #[test]
    fn a_reply_is_a_call_of_its_own() {
        let got = calls(
            r#"  - post: { from: top, to: child, message: a, target_origin: "*" }
  - post: { from: child, to: top, message: b, target_origin: "*" }
  - post: { from: child, reply: true, message: c, target_origin: "*" }
  - post: { from: child, to: top, message: d, target_origin: "*" }
"#,
        );
        assert_eq!(got, [0..1, 1..2, 2..3, 3..4]);
    }

    #[test]
    fn a_race_case_keeps_one_call_per_task() {
        let got = calls(
            r#"  - post: { from: top, to: child, message: a, target_origin: "*" }
  - post: { from: top, to: child, message: b, target_origin: "*" }
  - reload: { window: child }
"#,
        );
        assert_eq!(got, [0..1, 1..2, 2..3]);
    }

    #[test]
    fn a_post_transferring_a_port_is_a_call_of_its_own() {
        // Step 2 transfers the p1 that step 1's message brings back to top:
        // merged into step 1's call, it would transfer the detached p1.
        let got = calls(
            "  - channel: { window: top, ports: [p1, p2] }\n  - post: { from: top, to: top, message: a, target_origin: '*', transfer: [{$port: p1}] }\n  - post: { from: top, to: top, message: b, target_origin: '*', transfer: [{$port: p1}] }\n  - post: { from: top, to: child, message: c, target_origin: '*' }\n  - post: { from: top, to: child, message: d, target_origin: '*' }\n",
        );
        assert_eq!(got, [0..1, 1..2, 2..3, 3..5]);
    }
}

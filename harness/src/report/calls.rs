//! Outcomes shown beside the calls that made them: a post's outcome
//! (`step 2 threw: SyntaxError`) means little without the call (`post
//! top→child, message "hi", target_origin "http://x"`), so every diff a
//! report prints names each step's call on the same line.

use super::render::{line_diff, DiffLine};
use crate::run::info::PostCall;
use pmconf_model::{Outcome, PostOutcome};
use serde_json::Value as Json;

/// Longest message shown in a call, in characters; longer ones are cut
/// with `…`.
const CALL_MESSAGE_LIMIT: usize = 40;

/// A post's call on one line: `post top→child, message "hi",
/// target_origin "http://x"` (strings as JSON, so control characters and
/// quotes stay visible); the one-argument form says `no target_origin
/// (default "/")`.
pub fn describe_call(call: &PostCall) -> String {
    let message = cut(&call.message);
    // A cross-window call: `post top→child with same's function`.
    let via = call
        .function_of
        .as_ref()
        .map(|f| format!(" with {f}'s function"))
        .unwrap_or_default();
    let head = format!("post {}→{}{via}", call.from, call.to);
    if let Some(args) = call.form.as_ref().and_then(|f| f.get("args")) {
        return format!("{head}, args {}", cut(args));
    }
    if let Some(options) = call.form.as_ref().and_then(|f| f.get("options")) {
        return format!("{head}, message {message}, options {}", cut(options));
    }
    let target_origin = match &call.target_origin {
        Some(t) => format!("target_origin {}", Json::String(t.clone())),
        None => "no target_origin (default \"/\")".to_owned(),
    };
    format!("{head}, message {message}, {target_origin}")
}

/// A value as JSON, cut after [`CALL_MESSAGE_LIMIT`] characters.
fn cut(value: &Json) -> String {
    let mut text = value.to_string();
    if let Some((at, _)) = text.char_indices().nth(CALL_MESSAGE_LIMIT) {
        text.truncate(at);
        text.push('…');
    }
    text
}

/// One post's outcome with its call: `step 2 (post top→child, message
/// "hi", target_origin "http://x") threw: SyntaxError`, or `... returned`.
/// Without a known call, just `step 2 threw: SyntaxError`.
pub fn describe_post(post: &PostOutcome, calls: &[PostCall]) -> String {
    let call = calls
        .iter()
        .find(|c| c.step == post.step)
        .map(|c| format!(" ({})", describe_call(c)))
        .unwrap_or_default();
    match &post.threw {
        Some(name) => format!("step {}{call} threw: {name}", post.step),
        None => format!("step {}{call} returned", post.step),
    }
}

/// An outcome as text for people: one line per post with its call, then
/// what each window received, as YAML (the same shape as in snapshots).
///
/// ```text
/// posts:
///   step 0 (post top→child, message "hi", target_origin "*") returned
/// received:
///   top: []
/// ```
pub fn outcome_text(outcome: &Outcome, calls: &[PostCall]) -> String {
    let mut out = String::from("posts:");
    if outcome.posts.is_empty() {
        out.push_str(" []");
    }
    out.push('\n');
    for post in &outcome.posts {
        out.push_str("  ");
        out.push_str(&describe_post(post, calls));
        out.push('\n');
    }
    let mut received = serde_yaml::Mapping::new();
    for (window, deliveries) in &outcome.received {
        // Deliveries are plain data and always serialize; should that ever
        // change, the report still gets written, with the reason in place.
        let value = serde_yaml::to_value(deliveries).unwrap_or_else(|e| {
            serde_yaml::Value::String(format!("(cannot render these deliveries: {e})"))
        });
        received.insert(serde_yaml::Value::String(window.clone()), value);
    }
    let yaml = serde_yaml::to_string(&serde_yaml::Value::Mapping(
        [(
            serde_yaml::Value::String("received".into()),
            serde_yaml::Value::Mapping(received),
        )]
        .into_iter()
        .collect(),
    ))
    .unwrap_or_else(|e| format!("received: (cannot render: {e})\n"));
    out.push_str(&yaml);
    out
}

/// A line diff of [`outcome_text`]s, every line kept: outcomes are short,
/// and unchanged lines say which window a changed line belongs to.
pub fn outcome_diff_with_calls(
    allowed: &Outcome,
    observed: &Outcome,
    calls: &[PostCall],
) -> Vec<DiffLine> {
    line_diff(
        &outcome_text(allowed, calls),
        &outcome_text(observed, calls),
    )
}

/// A snapshot diff (a unified diff of snapshot YAML) with each `- step: N`
/// line followed, on the same line, by a YAML comment naming that step's
/// call: `-  - step: 2  # post top→child, message "hi", target_origin
/// "http://x"`. Other lines are left as they are.
pub fn annotate_snapshot_diff(diff: &str, calls: &[PostCall]) -> String {
    let mut out = String::with_capacity(diff.len());
    for line in diff.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let call = body
            .get(1..)
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix("- step: "))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .and_then(|step| calls.iter().find(|c| c.step == step));
        match call {
            Some(call) => {
                out.push_str(body);
                out.push_str("  # ");
                out.push_str(&describe_call(call));
                out.push_str(&line[body.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render::DiffSide;
    use pmconf_model::Delivery;
    use serde_json::json;

    fn call(step: usize, target_origin: Option<&str>, message: Json) -> PostCall {
        PostCall {
            step,
            from: "top".into(),
            to: "child".into(),
            target_origin: target_origin.map(str::to_owned),
            message,
            form: None,
            function_of: None,
        }
    }

    #[test]
    fn a_cross_window_call_names_whose_function_it_calls() {
        let mut c = call(0, Some("*"), json!("m"));
        c.function_of = Some("same".into());
        assert_eq!(
            describe_call(&c),
            "post top→child with same's function, message \"m\", target_origin \"*\""
        );
    }

    #[test]
    fn options_and_args_calls_show_their_form() {
        let mut options = call(1, None, json!("m"));
        options.form = Some(json!({"options": {"targetOrigin": "*"}}));
        assert_eq!(
            describe_call(&options),
            "post top→child, message \"m\", options {\"targetOrigin\":\"*\"}"
        );
        let mut args = call(1, None, json!("m"));
        args.form = Some(json!({"args": ["m", null]}));
        assert_eq!(describe_call(&args), "post top→child, args [\"m\",null]");
    }

    #[test]
    fn a_call_names_sender_target_message_and_target_origin() {
        assert_eq!(
            describe_call(&call(2, Some("http://x"), json!("hi"))),
            "post top→child, message \"hi\", target_origin \"http://x\""
        );
        assert_eq!(
            describe_call(&call(0, None, json!({"n": 1}))),
            "post top→child, message {\"n\":1}, no target_origin (default \"/\")"
        );
        // Control characters stay visible; long messages are cut.
        assert_eq!(
            describe_call(&call(0, Some("http://a\t.test"), json!("x".repeat(60)))),
            format!(
                "post top→child, message \"{}…, target_origin \"http://a\\t.test\"",
                "x".repeat(39)
            )
        );
    }

    #[test]
    fn an_outcome_shows_each_post_beside_its_call() {
        let outcome = Outcome {
            posts: vec![
                PostOutcome::returned(0),
                PostOutcome::threw(2, "SyntaxError"),
            ],
            received: vec![
                ("top".into(), vec![]),
                (
                    "child".into(),
                    vec![Delivery {
                        message: json!("hi"),
                        origin: "null".into(),
                        source: Some("top".into()),
                        ports: Vec::new(),
                    }],
                ),
            ],
        };
        let calls = [
            call(0, Some("*"), json!("hi")),
            call(2, Some("http://x"), json!("x")),
        ];
        assert_eq!(
            outcome_text(&outcome, &calls),
            "posts:\n\
             \x20 step 0 (post top→child, message \"hi\", target_origin \"*\") returned\n\
             \x20 step 2 (post top→child, message \"x\", target_origin \"http://x\") threw: SyntaxError\n\
             received:\n\
             \x20 top: []\n\
             \x20 child:\n\
             \x20 - message: hi\n\
             \x20   origin: 'null'\n\
             \x20   source: top\n"
        );
        // Without calls (a results file from a run that did not record
        // them), the step number alone.
        assert!(outcome_text(&outcome, &[]).contains("  step 2 threw: SyntaxError\n"));
        let nothing = Outcome {
            posts: vec![],
            received: vec![],
        };
        assert_eq!(outcome_text(&nothing, &[]), "posts: []\nreceived: {}\n");
    }

    #[test]
    fn a_diff_line_of_a_post_carries_its_call() {
        let returned = Outcome {
            posts: vec![PostOutcome::returned(2)],
            received: vec![("top".into(), vec![])],
        };
        let threw = Outcome {
            posts: vec![PostOutcome::threw(2, "SyntaxError")],
            ..returned.clone()
        };
        let calls = [call(2, Some("http://x"), json!("m"))];
        let lines = outcome_diff_with_calls(&returned, &threw, &calls);
        let changed: Vec<(DiffSide, &str)> = lines
            .iter()
            .filter(|l| l.side != DiffSide::Both)
            .map(|l| (l.side, l.text.as_str()))
            .collect();
        assert_eq!(
            changed,
            [
                (
                    DiffSide::Allowed,
                    "  step 2 (post top→child, message \"m\", target_origin \"http://x\") returned"
                ),
                (
                    DiffSide::Observed,
                    "  step 2 (post top→child, message \"m\", target_origin \"http://x\") threw: SyntaxError"
                ),
            ]
        );
    }

    #[test]
    fn snapshot_diff_step_lines_get_their_call_as_a_comment() {
        let diff = "@@ -1,4 +1,4 @@\n posts:\n-  - step: 2\n+  - step: 2\n+    threw: SyntaxError\n   - step: 9\n";
        let calls = [call(2, Some("http://x"), json!("m"))];
        assert_eq!(
            annotate_snapshot_diff(diff, &calls),
            "@@ -1,4 +1,4 @@\n posts:\n\
             -  - step: 2  # post top→child, message \"m\", target_origin \"http://x\"\n\
             +  - step: 2  # post top→child, message \"m\", target_origin \"http://x\"\n\
             +    threw: SyntaxError\n   - step: 9\n"
        );
        assert_eq!(annotate_snapshot_diff(diff, &[]), diff);
    }
}

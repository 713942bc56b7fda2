//! The outcomes the standards imply for representative cases, written out by
//! hand from the spec text (not from the model's output), one family each.

use pmconf_model::{answer_case, parse_case, Outcome};
use serde_json::{json, Value};

fn only_outcome(yaml: &str) -> Value {
    let case = parse_case("inline.yaml", yaml).unwrap_or_else(|e| panic!("{e:?}"));
    let answer = answer_case(&case);
    assert_eq!(
        answer.allowed.len(),
        1,
        "cases without navigation allow one outcome"
    );
    serde_json::to_value::<&Outcome>(&answer.allowed[0]).unwrap()
}

const FRAME: &str = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://b.test:8001/" }
steps:
"#;

fn post_to_child(target_origin: &str) -> Value {
    only_outcome(&format!(
        "{FRAME}  - post: {{ from: top, to: child, message: m, target_origin: {} }}\n",
        serde_json::to_string(target_origin).unwrap()
    ))
}

fn delivered_to_child(outcome: &Value) -> bool {
    !outcome["received"]["child"].as_array().unwrap().is_empty()
}

#[test]
fn target_origin_spellings_that_match() {
    for t in [
        "http://b.test:8001",
        "http://b.test:8001/path?q#f",
        "HTTP://B.TEST:8001",
        "http://u:p@b.test:8001",
        " http://b.test:8001\n",
        "h\tttp://b.test:8001",
        "*",
        "blob:http://b.test:8001/uuid",
    ] {
        let o = post_to_child(t);
        assert_eq!(o["posts"], json!([{"step": 0, "threw": null}]), "{t:?}");
        assert!(delivered_to_child(&o), "{t:?} should be delivered");
    }
}

#[test]
fn target_origin_spellings_that_drop_silently() {
    for t in [
        "http://b.test:8002",
        "https://b.test:8001",
        "http://b.test.:8001",
        "http://a.test:8000",
        "/",
        "asdf:",
        "blob:ws://b.test:8001/x",
        "data:,x",
    ] {
        let o = post_to_child(t);
        assert_eq!(o["posts"], json!([{"step": 0, "threw": null}]), "{t:?}");
        assert!(!delivered_to_child(&o), "{t:?} should be dropped");
    }
}

#[test]
fn target_origin_spellings_that_throw() {
    for t in [
        "",
        "http:",
        "//b.test",
        "null",
        "b.test",
        " *",
        "http://b.test:65536",
    ] {
        let o = post_to_child(t);
        assert_eq!(
            o["posts"],
            json!([{"step": 0, "threw": "SyntaxError"}]),
            "{t:?}"
        );
        assert!(!delivered_to_child(&o));
    }
}

#[test]
fn event_origin_is_the_ascii_serialization_of_the_sender() {
    let o = only_outcome(
        r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  idn: { parent: top, url: "http://BÜCHER.test:80/x" }
  v6: { parent: top, url: "https://[0:0::1]:443/" }
  boxed: { parent: top, url: "http://c.test/", sandbox: "allow-scripts" }
  inline: { parent: top, url: "data:text/html,x" }
steps:
  - post: { from: idn, to: top, message: 1, target_origin: "*" }
  - post: { from: v6, to: top, message: 2, target_origin: "*" }
  - post: { from: boxed, to: top, message: 3, target_origin: "*" }
  - post: { from: inline, to: top, message: 4, target_origin: "*" }
"#,
    );
    assert_eq!(
        o["received"]["top"],
        json!([
            {"message": 1, "origin": "http://xn--bcher-kva.test", "source": "idn"},
            {"message": 2, "origin": "https://[::1]", "source": "v6"},
            {"message": 3, "origin": "null", "source": "boxed"},
            {"message": 4, "origin": "null", "source": "inline"},
        ])
    );
}

#[test]
fn exception_order() {
    let o = only_outcome(&format!(
        "{FRAME}  - post: {{ from: top, to: child, message: {{ $function: f }}, target_origin: 'http:' }}\n  - post: {{ from: top, to: child, message: {{ $function: f }}, target_origin: '*' }}\n  - post: {{ from: top, to: child, message: x, target_origin: 'http:', transfer: [1] }}\n"
    ));
    assert_eq!(
        o["posts"],
        json!([
            {"step": 0, "threw": "SyntaxError"},
            {"step": 1, "threw": "DataCloneError"},
            {"step": 2, "threw": "TypeError"},
        ])
    );
}

#[test]
fn topologies_deliver_with_the_right_source() {
    let o = only_outcome(
        r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  left: { parent: top, url: "http://b.test:8001/" }
  right: { parent: top, url: "http://c.test:8002/" }
  inner: { parent: right, url: "http://d.test:8003/" }
  pop: { opener: top, url: "http://e.test:8004/" }
steps:
  - post: { from: left, to: right, message: s, target_origin: "http://c.test:8002" }
  - post: { from: inner, to: top, message: n, target_origin: "http://a.test:8000" }
  - post: { from: pop, to: inner, message: p, target_origin: "http://d.test:8003" }
"#,
    );
    assert_eq!(
        o["received"]["right"],
        json!([{"message": "s", "origin": "http://b.test:8001", "source": "left"}])
    );
    assert_eq!(
        o["received"]["top"],
        json!([{"message": "n", "origin": "http://d.test:8003", "source": "inner"}])
    );
    assert_eq!(
        o["received"]["inner"],
        json!([{"message": "p", "origin": "http://e.test:8004", "source": "pop"}])
    );
    assert_eq!(o["received"]["pop"], json!([]));
}

#[test]
fn sandboxed_documents_are_distinct_opaque_origins() {
    let o = only_outcome(
        r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  one: { parent: top, url: "http://a.test:8000/", sandbox: "allow-scripts" }
  two: { parent: top, url: "http://a.test:8000/", sandbox: "allow-scripts" }
steps:
  - post: { from: one, to: one, message: self, target_origin: "/" }
  - post: { from: one, to: two, message: other, target_origin: "/" }
  - post: { from: one, to: top, message: parent, target_origin: "/" }
"#,
    );
    assert_eq!(
        o["received"]["one"],
        json!([{"message": "self", "origin": "null", "source": "one"}])
    );
    assert_eq!(o["received"]["two"], json!([]));
    assert_eq!(o["received"]["top"], json!([]));
}

#[test]
fn a_transferred_buffer_is_detached_for_later_posts() {
    let o = only_outcome(&format!(
        "{FRAME}  - post: {{ from: top, to: child, message: {{ $buffer: {{ id: b, bytes: [5] }} }}, target_origin: '*', transfer: [b] }}\n  - post: {{ from: top, to: child, message: {{ $buffer: {{ id: b, bytes: [5] }} }}, target_origin: '*' }}\n"
    ));
    assert_eq!(
        o["posts"],
        json!([{"step": 0, "threw": null}, {"step": 1, "threw": "DataCloneError"}])
    );
    assert_eq!(
        o["received"]["child"],
        json!([{"message": {"$buffer": {"bytes": [5]}}, "origin": "http://a.test:8000", "source": "top"}])
    );
}

/// A cross-window call, `same.postMessage.call(child, ...)` by `top`
/// (`function_of: same`), hand-derived: Web IDL creates every exception
/// the function's steps throw in the current realm, the function's
/// ("Let constructor be current realm.[[Intrinsics]].[[%T%]]", "a new
/// DOMException created in the current realm"); a getter's exception is
/// rethrown as is (the getter's, built by the caller's script); the
/// incumbent (top) gives event.origin, event.source and "/".
#[test]
fn a_cross_window_call_throws_in_the_functions_realm_and_delivers_as_the_caller() {
    let o = only_outcome(
        r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  same: { parent: top, url: "http://a.test:8000/" }
  child: { parent: top, url: "http://b.test:8001/" }
steps:
  - post: { from: top, to: child, function_of: same, message: m, target_origin: "http:" }
  - post: { from: top, to: child, function_of: same, message: { $function: f }, target_origin: "*" }
  - post: { from: top, to: child, function_of: same, args: [] }
  - post: { from: top, to: child, function_of: same, message: { $error: { message_value: { $symbol: s } } }, target_origin: "*" }
  - post: { from: top, to: child, function_of: same, message: { a: { $throwing_getter: RangeError } }, target_origin: "*" }
  - post: { from: top, to: child, function_of: top, message: m, target_origin: "http:" }
  - post: { from: top, to: child, function_of: same, message: m }
  - post: { from: top, to: child, function_of: same, message: n, target_origin: "*" }
"#,
    );
    assert_eq!(
        o["posts"],
        json!([
            {"step": 0, "threw": "SyntaxError@same"},
            {"step": 1, "threw": "DataCloneError@same"},
            {"step": 2, "threw": "TypeError@same"},
            {"step": 3, "threw": "TypeError@same"},
            {"step": 4, "threw": "RangeError@top"},
            {"step": 5, "threw": "SyntaxError@top"},
            {"step": 6, "threw": null},
            {"step": 7, "threw": null},
        ])
    );
    // Step 6's "/" is top's origin, not child's: dropped at 8.1. Step 7
    // arrives from top (the incumbent), never from `same`.
    assert_eq!(
        o["received"]["child"],
        json!([{"message": "n", "origin": "http://a.test:8000", "source": "top"}])
    );
}

/// An Error made by another (same-origin) window's constructor, hand-
/// derived from StructuredSerializeInternal step 17: "value has an
/// [[ErrorData]] internal slot" (any realm's Error has it), "Let name be ?
/// Get(value, "name")" (found on that realm's %TypeError.prototype%: the
/// same "TypeError"), "If name is not one of [the seven], then set name to
/// "Error"", message from the own data property; StructuredDeserialize
/// makes it anew in the target realm. The sender's realm never shows.
#[test]
fn an_error_made_in_another_realm_arrives_as_any_other() {
    let o = only_outcome(
        r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  same: { parent: top, url: "http://a.test:8000/" }
steps:
  - post: { from: top, to: top, message: { $error: { name: TypeError, message: m, realm: same } }, target_origin: "*" }
  - post: { from: top, to: top, message: { $error: { name: Mine, message: m, realm: same } }, target_origin: "*" }
"#,
    );
    assert_eq!(
        o["received"]["top"],
        json!([
            {"message": {"$error": {"name": "TypeError", "message": "m"}}, "origin": "http://a.test:8000", "source": "top"},
            {"message": {"$error": {"name": "Error", "message": "m"}}, "origin": "http://a.test:8000", "source": "top"},
        ])
    );
}

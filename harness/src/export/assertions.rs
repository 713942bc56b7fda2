//! What an exported test asserts, from the model's answer: the one
//! allowed outcome exactly (each post's exception, each window's messages
//! with event.origin and event.source), or, with several, that the
//! observed outcome is one of them; contested outcomes are accepted and
//! never asserted.
//!
//! Origins in the answer are spelled with WPT's template tokens, so the
//! test never names `web-platform.test` itself. [`same_after_mapping`]
//! checks that moving the case onto WPT's hosts did not change the
//! model's answer beyond the renaming.

use super::hosts::{HostMap, Role};
use super::js::{describable, json_literal, string_literal};
use super::refusal::{Refusal, RefusalGroup};
use pmconf_model::{Answer, Outcome};

/// How the test asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assertion {
    /// One allowed outcome, asserted part by part.
    Exact,
    /// Several: the observed one must be among them.
    OneOf,
}

impl Assertion {
    /// How `answer` is asserted.
    pub fn of(answer: &Answer) -> Self {
        if answer.allowed.len() == 1 && answer.contested.is_empty() {
            Assertion::Exact
        } else {
            Assertion::OneOf
        }
    }
}

fn outcome_js(o: &Outcome, map: &mut HostMap) -> Result<String, Refusal> {
    let posts = json_literal(&o.posts);
    let mut windows = Vec::new();
    for (name, deliveries) in &o.received {
        let mut items = Vec::new();
        for d in deliveries {
            if !d.ports.is_empty() {
                return Err(Refusal::new(
                    RefusalGroup::PortsOrIsolation,
                    "a delivery carries MessagePorts",
                ));
            }
            describable(&d.message)?;
            items.push(format!(
                "{{message: {}, origin: {}, source: {}}}",
                json_literal(&d.message),
                map.spell(&d.origin, Role::Named)?.js(),
                json_literal(&d.source),
            ));
        }
        windows.push(format!("{}: [{}]", string_literal(name), items.join(", ")));
    }
    Ok(format!(
        "{{posts: {posts}, received: {{{}}}}}",
        windows.join(", ")
    ))
}

/// The `expected` argument of `case_test`: `{allowed: [...], contested:
/// [...]}` as a JavaScript literal.
pub fn expected_js(answer: &Answer, map: &mut HostMap) -> Result<String, Refusal> {
    let allowed: Result<Vec<String>, Refusal> =
        answer.allowed.iter().map(|o| outcome_js(o, map)).collect();
    let contested: Result<Vec<String>, Refusal> = answer
        .contested
        .iter()
        .map(|c| outcome_js(&c.outcome, map))
        .collect();
    Ok(format!(
        "{{\n  allowed: [\n    {}\n  ],\n  contested: [{}]\n}}",
        allowed?.join(",\n    "),
        contested?.join(", ")
    ))
}

/// `original`'s outcomes with every origin moved onto WPT's hosts.
fn renamed(outcomes: &[Outcome], map: &mut HostMap) -> Result<Vec<Outcome>, Refusal> {
    let mut out = outcomes.to_vec();
    for o in &mut out {
        for (_, deliveries) in &mut o.received {
            for d in deliveries {
                d.origin = map.spell(&d.origin, Role::Named)?.real();
            }
        }
    }
    Ok(out)
}

/// Whether the mapped case's answer is the original's with its origins
/// renamed; otherwise the mapping changed what the case tests.
pub fn same_after_mapping(
    original: &Answer,
    mapped: &Answer,
    map: &mut HostMap,
) -> Result<(), Refusal> {
    let want = renamed(&original.allowed, map)?;
    let contested: Vec<Outcome> = original
        .contested
        .iter()
        .map(|c| c.outcome.clone())
        .collect();
    let want_contested = renamed(&contested, map)?;
    let got_contested: Vec<Outcome> = mapped.contested.iter().map(|c| c.outcome.clone()).collect();
    if want == mapped.allowed && want_contested == got_contested {
        return Ok(());
    }
    let show = |o: &[Outcome]| serde_json::to_string(o).unwrap_or_default();
    Err(Refusal::new(
        RefusalGroup::MappingChangesAnswer,
        format!(
            "WPT's hosts cannot keep what the case depends on (its sites, and so its agents and event loops, or an origin it compares): on them the model allows {} instead of {}",
            show(&mapped.allowed),
            show(&want)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(top: &str, target_origin: &str, child: &str) -> Answer {
        let text = format!(
            "description: t\nwindows:\n  top: {{ url: \"{top}\" }}\n  child: {{ parent: top, url: \"{child}\" }}\nsteps:\n  - post: {{ from: top, to: child, message: m, target_origin: \"{target_origin}\" }}\n"
        );
        pmconf_model::answer_case(&pmconf_model::parse_case("t.yaml", &text).unwrap())
    }

    /// The same case on WPT's hosts (a.test is {{host}}, b.test the
    /// alternate host, both on port 8000) passes; a mapped case whose
    /// message is dropped where the original's is delivered is refused.
    #[test]
    fn a_mapping_that_changes_the_answer_is_refused() {
        let case = pmconf_model::parse_case(
            "t.yaml",
            "description: t\nwindows:\n  top: { url: \"http://a.test:8000/\" }\n  child: { parent: top, url: \"http://b.test:8001/\" }\nsteps:\n  - post: { from: top, to: child, message: m, target_origin: \"http://b.test:8001\" }\n",
        )
        .unwrap();
        let mut map = HostMap::for_case(&case).unwrap();
        let original = answer(
            "http://a.test:8000/",
            "http://b.test:8001",
            "http://b.test:8001/",
        );
        let wpt = "http://web-platform.test:8000/";
        let same = answer(
            wpt,
            "http://not-web-platform.test:8000",
            "http://not-web-platform.test:8000/",
        );
        assert!(same_after_mapping(&original, &same, &mut map).is_ok());
        let dropped = answer(
            wpt,
            "http://not-web-platform.test:8001",
            "http://not-web-platform.test:8000/",
        );
        let r = same_after_mapping(&original, &dropped, &mut map).unwrap_err();
        assert_eq!(r.group, RefusalGroup::MappingChangesAnswer);
    }
}

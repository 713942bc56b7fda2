//! `pmconf export wpt`: cases as web-platform-tests.
//!
//! Each case becomes a testharness.js test in WPT's layout
//! ([`layout`]): the case's top window is the test page, its other windows
//! are helper documents under `resources/`, all driven by plain page
//! script (the shared `case-window.js`), never by automation. Hosts and
//! ports become WPT's own ([`hosts`]); the model answers the case as
//! mapped, and a mapping that changes its answer is refused. Assertions
//! come from that answer ([`assertions`]). What cannot be expressed is
//! refused with a reason ([`refusal`]), and every written file is linted
//! as WPT's `lint` would ([`lint`]). [`manifest`] lists what was exported
//! and what was refused; [`verify`] runs the exported tests in the
//! engines under wptserve.

pub mod assertions;
pub mod hosts;
pub mod html;
pub mod js;
pub mod layout;
pub mod lint;
pub mod manifest;
pub mod races;
pub mod refusal;
pub mod verify;
pub mod windows;

use crate::case_files::LoadedCase;
use assertions::Assertion;
use hosts::{HostMap, Role};
use html::{CasePages, WrittenFile};
use pmconf_model::case::{Relation, WindowContent};
use refusal::{Refusal, RefusalGroup};

/// One exported case.
#[derive(Debug, Clone)]
pub struct ExportedCase {
    /// The case's path.
    pub case: String,
    /// The test page's path below the WPT root.
    pub test: String,
    /// Every file (the test page first), paths below the WPT root.
    pub files: Vec<WrittenFile>,
    /// How it asserts.
    pub assertion: Assertion,
    /// Whether it depends on an open spec issue (`.tentative`).
    pub tentative: bool,
    /// Whether it is a race case.
    pub race: bool,
}

/// The files every export holds once: the shared script.
pub fn shared_files() -> Vec<WrittenFile> {
    vec![WrittenFile {
        path: layout::AGENT_PATH.to_owned(),
        contents: include_str!("case-window.js").to_owned(),
    }]
}

/// The case's text with every host-naming string moved onto WPT's real
/// host names: the case the exported test runs, for the model to answer.
fn mapped_case_text(text: &str, map: &mut HostMap) -> Result<String, Refusal> {
    let mut value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        Refusal::new(
            RefusalGroup::WindowShape,
            format!("the case does not read back: {e}"),
        )
    })?;
    fn walk(
        v: &mut serde_yaml::Value,
        key: Option<&str>,
        index: Option<usize>,
        map: &mut HostMap,
    ) -> Result<(), Refusal> {
        use serde_yaml::Value;
        match v {
            Value::Mapping(m) => {
                for (k, child) in m.iter_mut() {
                    let k = k.as_str().map(str::to_owned);
                    if k.as_deref() == Some("message") || k.as_deref() == Some("description") {
                        continue;
                    }
                    walk(child, k.as_deref(), None, map)?;
                }
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(item, key, Some(i), map)?;
                }
            }
            Value::String(s) if key == Some("domain") => {
                *s = map.spell_domain(s)?.real();
            }
            Value::String(s) => {
                let role = match (key, index) {
                    (Some("url"), _) => Some(Role::Loaded),
                    (Some("target_origin" | "targetOrigin"), _) => Some(Role::Named),
                    (Some("args"), Some(i)) if i > 0 => Some(Role::Named),
                    _ => None,
                };
                if let Some(role) = role {
                    *s = map.spell(s, role)?.real();
                }
            }
            _ => {}
        }
        Ok(())
    }
    walk(&mut value, None, None, map)?;
    serde_yaml::to_string(&value).map_err(|e| {
        Refusal::new(
            RefusalGroup::WindowShape,
            format!("writing the mapped case: {e}"),
        )
    })
}

/// A short title: the description's first sentence, on one line.
fn title_of(description: &str) -> String {
    let one_line = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut title = String::from("postMessage: ");
    title.push_str(&one_line);
    if title.chars().count() > 160 {
        title = title.chars().take(157).collect::<String>() + "...";
    }
    title
}

/// Exports one case, or says why not.
pub fn export_case(loaded: &LoadedCase, text: &str) -> Result<ExportedCase, Refusal> {
    let case = &loaded.case;
    windows::check_shape(case)?;
    if case.is_race() {
        races::check(case)?;
    }
    let top = &case.windows[0];
    if top.relation != Relation::Top {
        return Err(Refusal::new(
            RefusalGroup::TopWindow,
            "the first window is not the top",
        ));
    }
    let https = match &top.content {
        WindowContent::Url(u) if u.scheme() == "http" => false,
        WindowContent::Url(u) if u.scheme() == "https" => true,
        _ => {
            return Err(Refusal::new(
                RefusalGroup::TopWindow,
                "the top window (the test page) does not load an http(s) URL",
            ))
        }
    };
    let mut map = HostMap::for_case(case)?;
    let mapped_text = mapped_case_text(text, &mut map)?;
    let mapped = pmconf_model::parse_case(&loaded.name, &mapped_text).map_err(|errors| {
        Refusal::new(
            RefusalGroup::MappingChangesAnswer,
            format!(
                "the case on WPT's hosts is not valid: {}",
                errors.first().map(|e| e.to_string()).unwrap_or_default()
            ),
        )
    })?;
    let answer = pmconf_model::answer_case(case);
    let mapped_answer = pmconf_model::answer_case(&mapped);
    assertions::same_after_mapping(&answer, &mapped_answer, &mut map)?;
    let expected = assertions::expected_js(&answer, &mut map)?;
    let tentative = !answer.contested.is_empty();
    let note = tentative.then(|| {
        let issues: Vec<String> = answer
            .contested
            .iter()
            .flat_map(|c| c.issues.iter().cloned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        format!(
            "Tentative: {} outcome(s) an open issue of the HTML Standard leaves open ({}) are accepted, not asserted.",
            answer.contested.len(),
            issues.join(", ")
        )
    });
    let (topic, stem) = layout::topic_and_stem(&loaded.name);
    let title = title_of(&case.description);
    let race = if case.is_race() {
        // Every document any outcome names, in the model's order.
        let mut labels: Vec<String> = Vec::new();
        for o in answer
            .allowed
            .iter()
            .chain(answer.contested.iter().map(|c| &c.outcome))
        {
            for (l, _) in &o.received {
                if !labels.contains(l) {
                    labels.push(l.clone());
                }
            }
        }
        let mut pages = races::RacePages::new(loaded, &topic, &stem, &mut map, https);
        Some(pages.write(&labels)?)
    } else {
        None
    };
    let mut pages = CasePages {
        case,
        case_name: &loaded.name,
        topic: &topic,
        stem: &stem,
        map: &mut map,
        expected,
        https,
        race,
    };
    let files = pages.write(&title, note.as_deref())?;
    for f in &files {
        lint::check(&f.path, &f.contents).map_err(|problems| {
            Refusal::new(
                RefusalGroup::Lint,
                format!("{}: {}", f.path, problems.join("; ")),
            )
        })?;
    }
    Ok(ExportedCase {
        case: loaded.name.clone(),
        test: files[0].path.clone(),
        assertion: Assertion::of(&answer),
        tentative,
        race: case.is_race(),
        files,
    })
}

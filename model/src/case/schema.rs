//! The fields a case file may hold, checked on the plain YAML value before
//! serde reads it: serde stops at the first unknown field, this reports
//! every one of a file at once (with the nearest valid name), and removes
//! them (or renames them to the nearest valid name) so that the rest of
//! the file can still be validated in the same pass.

use super::suggest::nearest;
use serde_yaml::{Mapping, Value};

/// The fields of a case.
pub(crate) const CASE_FIELDS: &[&str] = &["description", "tags", "references", "windows", "steps"];
/// The fields of a window.
pub(crate) const WINDOW_FIELDS: &[&str] =
    &["url", "srcdoc", "parent", "opener", "sandbox", "isolated"];
/// The kinds of step (the one key of a step).
pub(crate) const STEP_KIND_NAMES: &[&str] = &[
    "post",
    "navigate",
    "reload",
    "remove",
    "close",
    "push_state",
    "fragment",
    "set_domain",
    "create",
    "wait",
    "same_task",
    "channel",
    "port_post",
    "port_start",
    "port_close",
    "sab_write",
];

/// The fields of a post's `options` (the members of the dictionary).
pub(crate) const OPTIONS_FIELDS: &[&str] = &["target_origin", "transfer"];

/// The fields of a step of kind `kind` (`same_task` holds a list).
pub(crate) fn step_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "post" => &[
            "from",
            "to",
            "message",
            "target_origin",
            "transfer",
            "options",
            "args",
            "reply",
            "function_of",
        ],
        "navigate" => &["window", "url", "by", "via"],
        "reload" | "remove" | "close" | "push_state" | "create" => &["window"],
        "fragment" => &["window", "fragment"],
        "set_domain" => &["window", "domain"],
        "wait" => &["loaded"],
        "channel" => &["window", "ports", "start"],
        "port_post" => &["port", "from", "message", "transfer", "options"],
        "port_start" | "port_close" => &["port", "from"],
        "sab_write" => &["window", "sab", "offset", "bytes"],
        _ => return None,
    })
}

/// Every place of a case file with the fields (or, for `step`, the kinds)
/// it takes: `case`, `window`, `step`, `options` (of a post), then each
/// step kind. What the case format's documentation is checked against.
pub fn fields_by_place() -> Vec<(&'static str, &'static [&'static str])> {
    let mut out = vec![
        ("case", CASE_FIELDS),
        ("window", WINDOW_FIELDS),
        ("step", STEP_KIND_NAMES),
        ("options", OPTIONS_FIELDS),
    ];
    out.extend(
        STEP_KIND_NAMES
            .iter()
            .filter_map(|kind| step_fields(kind).map(|f| (*kind, f))),
    );
    out
}

/// A key no field of its place has.
#[derive(Debug)]
pub(crate) struct Unknown {
    /// Its path, as the source map spells it (`steps[0].post.targetOrigin`).
    pub path: String,
    /// The key as written.
    pub key: String,
    /// What holds it ("a window", "a `post` step", "a step").
    pub place: String,
    /// The keys allowed there.
    pub expected: &'static [&'static str],
}

/// Removes every unknown key of `root`, returning them in file order; one
/// near a valid name its place lacks is put back under that name.
pub(crate) fn strip_unknown(root: &mut Value) -> Vec<Unknown> {
    let mut out = Vec::new();
    let Value::Mapping(case) = root else {
        return out;
    };
    retain_known(case, "", CASE_FIELDS, "a case", &mut out);
    if let Some(Value::Mapping(windows)) = case.get_mut("windows") {
        for (name, window) in windows.iter_mut() {
            if let Value::Mapping(w) = window {
                let path = format!("windows.{}", key_text(name));
                retain_known(w, &path, WINDOW_FIELDS, "a window", &mut out);
            }
        }
    }
    if let Some(Value::Sequence(steps)) = case.get_mut("steps") {
        strip_steps(steps, "steps", &mut out);
    }
    out
}

fn strip_steps(steps: &mut [Value], path: &str, out: &mut Vec<Unknown>) {
    for (i, step) in steps.iter_mut().enumerate() {
        let Value::Mapping(step) = step else { continue };
        let path = format!("{path}[{i}]");
        retain_known(step, &path, STEP_KIND_NAMES, "a step", out);
        for (kind, body) in step.iter_mut() {
            let kind = key_text(kind);
            let path = format!("{path}.{kind}");
            match (step_fields(&kind), body) {
                (Some(fields), Value::Mapping(body)) => {
                    retain_known(body, &path, fields, &format!("a `{kind}` step"), out);
                    if let Some(Value::Mapping(options)) = body.get_mut("options") {
                        let path = format!("{path}.options");
                        retain_known(options, &path, OPTIONS_FIELDS, "a post's `options`", out);
                    }
                }
                (None, Value::Sequence(inner)) if kind == "same_task" => {
                    strip_steps(inner, &path, out)
                }
                _ => {}
            }
        }
    }
}

fn retain_known(
    map: &mut Mapping,
    path: &str,
    expected: &'static [&'static str],
    place: &str,
    out: &mut Vec<Unknown>,
) {
    let unknown: Vec<Value> = map
        .keys()
        .filter(|k| !expected.contains(&key_text(k).as_str()))
        .cloned()
        .collect();
    for key in unknown {
        let value = map.remove(&key).unwrap_or(Value::Null);
        let key = key_text(&key);
        // Validation goes on as if the likely typo were fixed (so a
        // misspelt required field is not also reported as missing).
        if let Some(name) = nearest(&key, expected) {
            let name = Value::String(name.to_owned());
            if !map.contains_key(&name) {
                map.insert(name, value);
            }
        }
        out.push(Unknown {
            path: if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            },
            key,
            place: place.to_owned(),
            expected,
        });
    }
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::raw::{RawCase, RawNavigate, RawOptions, RawPost, RawStep, RawWindow};
    use serde::de::DeserializeOwned;

    /// The names serde itself expects, read from its unknown-field error,
    /// so that these lists cannot drift from the structs in `raw.rs`.
    fn serde_fields<T: DeserializeOwned + std::fmt::Debug>() -> Vec<String> {
        let e = serde_yaml::from_str::<T>("zz_not_a_field: 1").unwrap_err();
        let text = e.to_string();
        let list = &text[text.find("expected").expect("lists the fields")..];
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_lists_are_the_structs_fields() {
        assert_eq!(serde_fields::<RawCase>(), CASE_FIELDS);
        assert_eq!(serde_fields::<RawWindow>(), WINDOW_FIELDS);
        assert_eq!(serde_fields::<RawStep>(), STEP_KIND_NAMES);
        assert_eq!(serde_fields::<RawPost>(), step_fields("post").unwrap());
        assert_eq!(serde_fields::<RawOptions>(), OPTIONS_FIELDS);
        assert_eq!(
            serde_fields::<RawNavigate>(),
            step_fields("navigate").unwrap()
        );
    }

    #[test]
    fn every_unknown_key_is_found_and_removed() {
        let mut v: Value = serde_yaml::from_str(
            "description: d\ncolour: red\nwindows:\n  top: { url: 'http://a.test/' }\n  child: { parnet: top, url: 'http://b.test/' }\nsteps:\n  - psot: {}\n  - post: { from: top, to: child, mesage: 1, targetOrigin: '*' }\n  - same_task: [ { wiat: { loaded: child } } ]\n",
        )
        .unwrap();
        let found: Vec<String> = strip_unknown(&mut v).into_iter().map(|u| u.path).collect();
        assert_eq!(
            found,
            [
                "colour",
                "windows.child.parnet",
                "steps[0].psot",
                "steps[1].post.mesage",
                "steps[1].post.targetOrigin",
                "steps[2].same_task[0].wiat"
            ]
        );
        assert!(strip_unknown(&mut v).is_empty());
        // Typos with a near name are put back under it; `colour` is gone.
        assert_eq!(v["windows"]["child"]["parent"], "top");
        assert_eq!(v["steps"][1]["post"]["target_origin"], "*");
        assert!(v["steps"][0]["post"].is_mapping());
        assert!(v.get("colour").is_none());
    }
}

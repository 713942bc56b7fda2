//! Errors found before validation proper: unknown fields (every one, with
//! the nearest known name) and what serde_yaml reports, mapped to a
//! location and a fix.

use super::super::schema::Unknown;
use super::super::source_map::Location;
use super::super::suggest::nearest;
use super::Validator;

pub(super) fn report_unknown(v: &mut Validator, u: &Unknown) {
    let what = if u.place == "a step" {
        format!("unknown step kind `{}`", u.key)
    } else {
        format!("unknown field `{}` in {}", u.key, u.place)
    };
    let fix = match nearest(&u.key, u.expected) {
        Some(name) => format!(
            "did you mean `{name}`? (expected one of: {})",
            u.expected.join(", ")
        ),
        None => format!("remove it, or use one of: {}", u.expected.join(", ")),
    };
    let location = v
        .map
        .locate(&u.path)
        .unwrap_or_else(|| v.map.locate_nearest(&u.path));
    v.error_at(location, what, fix);
}

pub(super) fn serde_location(e: &serde_yaml::Error) -> (Location, String) {
    let text = e.to_string();
    // serde_yaml appends " at line L column C"; the location is reported
    // separately, so strip it from the message.
    let message = match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text.clone(),
    };
    let location = e
        .location()
        .map(|l| Location {
            line: l.line(),
            column: l.column(),
        })
        .unwrap_or(Location { line: 1, column: 1 });
    (location, message)
}

pub(super) fn serde_fix(message: &str) -> String {
    if message.contains("unknown field") {
        "remove the field or correct its spelling: the expected fields are listed in the message"
            .into()
    } else if message.contains("unknown variant") {
        "check the step's name; see the step kinds in docs/src/cases.md".into()
    } else if message.contains("missing field") {
        "add the missing field".into()
    } else if message.contains("invalid type") {
        "give the field a value of the expected type (quote strings such as \"null\" or \"*\")"
            .into()
    } else if message.contains("duplicate") {
        "give each key once".into()
    } else {
        "correct the YAML syntax at this position".into()
    }
}

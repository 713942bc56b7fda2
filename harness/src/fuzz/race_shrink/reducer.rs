//! The reducer: every one-change simplification of a race case's YAML
//! ([`candidates`], largest first) and the order that says which of two
//! cases is smaller ([`size`]).

use super::hosts;
use crate::gen::parse_generated;
use pmconf_model::Case;
use serde_yaml::{Mapping, Value};

/// The candidate as a validated case (the model's own validation).
pub(super) fn parse_yaml(v: &Value) -> Result<Case, String> {
    let text = serde_yaml::to_string(v).map_err(|e| e.to_string())?;
    parse_generated("shrinking.yaml", &text)
}

pub(super) fn key(k: &str) -> Value {
    Value::String(k.to_owned())
}

pub(super) fn get<'a>(v: &'a Value, k: &str) -> Option<&'a Value> {
    v.as_mapping()?.get(key(k))
}

fn get_mut<'a>(v: &'a mut Value, k: &str) -> Option<&'a mut Value> {
    v.as_mapping_mut()?.get_mut(key(k))
}

/// How big a case is, compared lexicographically: steps, `same_task`
/// groups, windows, distinct origins, `https` URLs, explicit ports, targetOrigins
/// other than `*`, and the YAML's length. Every change [`candidates`]
/// proposes lowers one of them without raising an earlier one, or is not
/// taken.
pub fn size(case: &Value) -> (usize, usize, usize, usize, usize, usize, usize, usize) {
    let steps = get(case, "steps").and_then(Value::as_sequence);
    let mut step_count = 0;
    let mut groups = 0;
    let mut target_origins = 0;
    let mut urls: Vec<String> = Vec::new();
    for step in steps.into_iter().flatten() {
        if get(step, "same_task").is_some() {
            groups += 1;
        }
        for s in group_members(step) {
            step_count += 1;
            if let Some(post) = get(s, "post") {
                if get(post, "target_origin").and_then(Value::as_str) != Some("*") {
                    target_origins += 1;
                }
            }
            if let Some(url) = get(s, "navigate")
                .and_then(|n| get(n, "url"))
                .and_then(Value::as_str)
            {
                urls.push(url.to_owned());
            }
        }
    }
    let windows = get(case, "windows").and_then(Value::as_mapping);
    for (_, w) in windows.into_iter().flatten() {
        if let Some(url) = get(w, "url").and_then(Value::as_str) {
            urls.push(url.to_owned());
        }
    }
    let parsed: Vec<url::Url> = urls
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .collect();
    let mut origins: Vec<String> = parsed
        .iter()
        .filter_map(|u| pmconf_model::url_origin::serialize_origin_of(u.as_str()))
        .collect();
    origins.sort();
    origins.dedup();
    let https = parsed.iter().filter(|u| u.scheme() == "https").count();
    let ports = parsed.iter().filter(|u| u.port().is_some()).count();
    let length = serde_yaml::to_string(case).map_or(usize::MAX, |t| t.len());
    (
        step_count,
        groups,
        windows.map_or(0, Mapping::len),
        origins.len(),
        https,
        ports,
        target_origins,
        length,
    )
}

/// The steps of a top-level entry: the members of a `same_task` group, or
/// the entry itself.
fn group_members(step: &Value) -> Vec<&Value> {
    match get(step, "same_task").and_then(Value::as_sequence) {
        Some(members) => members.iter().collect(),
        None => vec![step],
    }
}

/// Every one-change simplification of `case`, largest first. Some are
/// invalid (a dropped window a step still names, a group split that
/// validation refuses): the caller skips those.
pub fn candidates(case: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let steps: Vec<Value> = get(case, "steps")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let with_steps = |steps: Vec<Value>| {
        let mut c = case.clone();
        if let Some(s) = get_mut(&mut c, "steps") {
            *s = Value::Sequence(steps);
        }
        c
    };
    // Drop a window with the windows it creates and every step naming
    // them (never the first window: the top one).
    if let Some(windows) = get(case, "windows").and_then(Value::as_mapping) {
        for name in windows.keys().skip(1).filter_map(Value::as_str) {
            out.push(without_window(case, name));
        }
    }
    // Drop a top-level step or a whole group.
    for i in 0..steps.len() {
        let mut s = steps.clone();
        s.remove(i);
        out.push(with_steps(s));
    }
    // Drop one member of a group; split a group into separate tasks.
    for (i, step) in steps.iter().enumerate() {
        let Some(members) = get(step, "same_task").and_then(Value::as_sequence) else {
            continue;
        };
        for m in 0..members.len() {
            let mut members = members.clone();
            members.remove(m);
            let mut s = steps.clone();
            if members.len() == 1 {
                s[i] = members.remove(0);
            } else {
                s[i] = group(members);
            }
            out.push(with_steps(s));
        }
        let mut s = steps.clone();
        s.splice(i..=i, members.iter().cloned());
        out.push(with_steps(s));
    }
    // Drop a window (never the first: the top window).
    if let Some(windows) = get(case, "windows").and_then(Value::as_mapping) {
        for name in windows.keys().skip(1) {
            let mut c = case.clone();
            if let Some(w) = get_mut(&mut c, "windows").and_then(Value::as_mapping_mut) {
                w.remove(name);
            }
            out.push(c);
        }
    }
    out.extend(plainer_urls(case));
    out.extend(hosts::renamed_hosts(case));
    // targetOrigin "*".
    for (i, step) in steps.iter().enumerate() {
        for (m, s) in group_members(step).into_iter().enumerate() {
            let Some(post) = get(s, "post") else { continue };
            if get(post, "target_origin").and_then(Value::as_str) == Some("*") {
                continue;
            }
            let mut c = case.clone();
            if let Some(p) = member_mut(&mut c, i, m).and_then(|s| get_mut(s, "post")) {
                if let Some(map) = p.as_mapping_mut() {
                    map.insert(key("target_origin"), key("*"));
                }
            }
            out.push(c);
        }
    }
    out
}

/// `case` without window `name`, the windows below it (its iframes and
/// popups, transitively), and every step that names one of them.
fn without_window(case: &Value, name: &str) -> Value {
    let mut gone = vec![name.to_owned()];
    let windows = get(case, "windows")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default();
    loop {
        let before = gone.len();
        for (n, w) in &windows {
            let Some(n) = n.as_str() else { continue };
            let creator = get(w, "parent")
                .or_else(|| get(w, "opener"))
                .and_then(Value::as_str);
            if creator.is_some_and(|c| gone.iter().any(|g| g == c)) && !gone.iter().any(|g| g == n)
            {
                gone.push(n.to_owned());
            }
        }
        if gone.len() == before {
            break;
        }
    }
    let names = |step: &Value| -> bool {
        step.as_mapping()
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(Value::as_mapping)
            .flat_map(|fields| {
                ["from", "to", "window", "by", "loaded"]
                    .into_iter()
                    .filter_map(|k| fields.get(key(k)).and_then(Value::as_str))
            })
            .any(|w| gone.iter().any(|g| g == w))
    };
    let mut c = case.clone();
    if let Some(w) = get_mut(&mut c, "windows").and_then(Value::as_mapping_mut) {
        w.retain(|n, _| !n.as_str().is_some_and(|n| gone.iter().any(|g| g == n)));
    }
    if let Some(steps) = get_mut(&mut c, "steps").and_then(Value::as_sequence_mut) {
        let mut kept = Vec::new();
        for step in steps.drain(..) {
            match get(&step, "same_task").and_then(Value::as_sequence) {
                Some(members) => {
                    let mut members: Vec<Value> =
                        members.iter().filter(|m| !names(m)).cloned().collect();
                    match members.len() {
                        0 => {}
                        1 => kept.push(members.remove(0)),
                        _ => kept.push(group(members)),
                    }
                }
                None if names(&step) => {}
                None => kept.push(step),
            }
        }
        *steps = kept;
    }
    c
}

fn group(members: Vec<Value>) -> Value {
    let mut m = Mapping::new();
    m.insert(key("same_task"), Value::Sequence(members));
    Value::Mapping(m)
}

/// Member `m` of top-level step `i` (the step itself when it is no group).
fn member_mut(case: &mut Value, i: usize, m: usize) -> Option<&mut Value> {
    let step = get_mut(case, "steps")?.as_sequence_mut()?.get_mut(i)?;
    if get(step, "same_task").is_some() {
        get_mut(step, "same_task")?.as_sequence_mut()?.get_mut(m)
    } else {
        Some(step)
    }
}

/// Each URL (windows' and navigations') made plainer in one way: the top
/// window's origin (same origin with it), `http`, no port, path `/`.
fn plainer_urls(case: &Value) -> Vec<Value> {
    let top_origin = get(case, "windows")
        .and_then(Value::as_mapping)
        .and_then(|w| w.values().next())
        .and_then(|w| get(w, "url"))
        .and_then(Value::as_str)
        .and_then(|u| url::Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let simpler = |text: &str| -> Vec<String> {
        let Ok(u) = url::Url::parse(text) else {
            return Vec::new();
        };
        if !matches!(u.scheme(), "http" | "https") {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(top) = &top_origin {
            if top.origin() != u.origin() {
                let mut v = u.clone();
                let _ = v.set_scheme(top.scheme());
                let _ = v.set_host(top.host_str());
                let _ = v.set_port(top.port());
                out.push(v.to_string());
            }
        }
        if u.scheme() == "https" {
            let mut v = u.clone();
            let _ = v.set_scheme("http");
            out.push(v.to_string());
        }
        if u.port().is_some() {
            let mut v = u.clone();
            let _ = v.set_port(None);
            out.push(v.to_string());
        }
        if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
            let mut v = u.clone();
            v.set_path("/");
            v.set_query(None);
            v.set_fragment(None);
            out.push(v.to_string());
        }
        out
    };
    let mut out = Vec::new();
    if let Some(windows) = get(case, "windows").and_then(Value::as_mapping) {
        for (name, w) in windows {
            let Some(url) = get(w, "url").and_then(Value::as_str) else {
                continue;
            };
            for plain in simpler(url) {
                let mut c = case.clone();
                if let Some(w) = get_mut(&mut c, "windows")
                    .and_then(Value::as_mapping_mut)
                    .and_then(|ws| ws.get_mut(name))
                    .and_then(Value::as_mapping_mut)
                {
                    w.insert(key("url"), key(&plain));
                }
                out.push(c);
            }
        }
    }
    let steps: Vec<Value> = get(case, "steps")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        for (m, s) in group_members(step).into_iter().enumerate() {
            let Some(url) = get(s, "navigate")
                .and_then(|n| get(n, "url"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            for plain in simpler(url) {
                let mut c = case.clone();
                if let Some(n) = member_mut(&mut c, i, m)
                    .and_then(|s| get_mut(s, "navigate"))
                    .and_then(Value::as_mapping_mut)
                {
                    n.insert(key("url"), key(&plain));
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::race_shrink::BIG;

    #[test]
    fn invalid_candidates_are_skipped() {
        let v: Value = serde_yaml::from_str(BIG).unwrap();
        let all = candidates(&v);
        let valid = all.iter().filter(|c| parse_yaml(c).is_ok()).count();
        // Dropping `child` while steps still name it is one invalid change.
        assert!(valid < all.len(), "{valid} of {}", all.len());
        assert!(valid > 0);
    }
}

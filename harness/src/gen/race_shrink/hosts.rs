//! Plainer host names for a shrinking race case: a host (with its
//! subdomains) renamed everywhere it appears, in window and navigation
//! URLs, targetOrigins and `document.domain` values, so that an IDN or
//! long generated host becomes `a.test` while the case keeps which of its
//! windows are same origin and same site.

use serde_yaml::Value;

/// The plain names a host is renamed to, in order of preference.
const PLAIN: [&str; 26] = [
    "a.test", "b.test", "c.test", "d.test", "e.test", "f.test", "g.test", "h.test", "i.test",
    "j.test", "k.test", "l.test", "m.test", "n.test", "o.test", "p.test", "q.test", "r.test",
    "s.test", "t.test", "u.test", "v.test", "w.test", "x.test", "y.test", "z.test",
];

/// Keys whose string values hold a URL or an origin.
const URL_KEYS: [&str; 2] = ["url", "target_origin"];

/// The ASCII domain of a URL or origin string (`None` for `*`, `/`, IP
/// addresses and anything that does not parse).
fn domain_of_url(text: &str) -> Option<String> {
    url::Url::parse(text).ok()?.domain().map(str::to_owned)
}

/// The ASCII form of a `document.domain` value.
fn domain_of_value(text: &str) -> Option<String> {
    domain_of_url(&format!("http://{text}/"))
}

/// Every domain the case names, in order of first appearance.
fn domains(v: &Value, at: Option<&str>, out: &mut Vec<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                domains(child, k.as_str(), out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| domains(i, at, out)),
        Value::String(s) => {
            let found = match at {
                Some(k) if URL_KEYS.contains(&k) => domain_of_url(s),
                Some("domain") => domain_of_value(s),
                _ => None,
            };
            if let Some(d) = found.filter(|d| !out.contains(d)) {
                out.push(d);
            }
        }
        _ => {}
    }
}

/// `domain` with the suffix `from` (the whole name or a parent of it)
/// replaced by `to`.
fn renamed(domain: &str, from: &str, to: &str) -> Option<String> {
    if domain == from {
        return Some(to.to_owned());
    }
    let prefix = domain.strip_suffix(from)?.strip_suffix('.')?;
    Some(format!("{prefix}.{to}"))
}

/// `v` with every URL, origin and domain value under `from` moved to `to`.
fn rename(v: &mut Value, at: Option<&str>, from: &str, to: &str) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m.iter_mut() {
                rename(child, k.as_str(), from, to);
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(|i| rename(i, at, from, to)),
        Value::String(s) => match at {
            Some(k) if URL_KEYS.contains(&k) => {
                let Ok(mut u) = url::Url::parse(s) else {
                    return;
                };
                let Some(new) = u.domain().and_then(|d| renamed(d, from, to)) else {
                    return;
                };
                if u.set_host(Some(&new)).is_err() {
                    return;
                }
                // A targetOrigin only counts for its origin: keep it one.
                *s = if k == "target_origin" {
                    u.origin().ascii_serialization()
                } else {
                    u.to_string()
                };
            }
            Some("domain") => {
                if let Some(new) = domain_of_value(s).and_then(|d| renamed(&d, from, to)) {
                    *s = new;
                }
            }
            _ => {}
        },
        _ => {}
    }
}

/// One candidate per domain of `case` that is not yet a plain name: the
/// domain and its subdomains renamed to the first plain name the case does
/// not use (as a domain or a parent of one).
pub fn renamed_hosts(case: &Value) -> Vec<Value> {
    let mut names = Vec::new();
    domains(case, None, &mut names);
    let used = |plain: &str| {
        names
            .iter()
            .any(|d| d == plain || d.ends_with(&format!(".{plain}")))
    };
    let Some(to) = PLAIN.iter().copied().find(|p| !used(p)) else {
        return Vec::new();
    };
    names
        .iter()
        .filter(|d| !PLAIN.contains(&d.as_str()))
        .map(|from| {
            let mut c = case.clone();
            rename(&mut c, None, from, to);
            c
        })
        .filter(|c| c != case)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{get, key};
    use super::*;

    const CASE: &str = r#"
description: hosts
tags: [race]
windows:
  top: { url: "https://bücher.test:8443/start?x=1" }
  child: { parent: top, url: "https://sub.bücher.test/child" }
  other: { parent: top, url: "http://b.test/" }
  far: { parent: top, url: "http://127.0.0.1/" }
steps:
  - post: { from: top, to: child, message: "m", target_origin: "https://sub.bücher.test:8443" }
  - set_domain: { window: child, domain: "bücher.test" }
  - navigate: { window: other, by: top, url: "http://xbücher.test/" }
  - post: { from: top, to: far, message: "n", target_origin: "*" }
"#;

    /// Hand-derived from CASE: bücher.test (xn--bcher-kva.test) and its
    /// subdomain become a.test and sub.a.test everywhere, the targetOrigin
    /// stays an origin (its port kept), and xbücher.test, which only ends
    /// with the same letters, is left alone (as written).
    const RENAMED: &str = r#"
description: hosts
tags: [race]
windows:
  top: { url: "https://a.test:8443/start?x=1" }
  child: { parent: top, url: "https://sub.a.test/child" }
  other: { parent: top, url: "http://b.test/" }
  far: { parent: top, url: "http://127.0.0.1/" }
steps:
  - post: { from: top, to: child, message: "m", target_origin: "https://sub.a.test:8443" }
  - set_domain: { window: child, domain: "a.test" }
  - navigate: { window: other, by: top, url: "http://xbücher.test/" }
  - post: { from: top, to: far, message: "n", target_origin: "*" }
"#;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn a_domain_and_its_subdomains_are_renamed_everywhere() {
        let all = renamed_hosts(&yaml(CASE));
        let want = yaml(RENAMED);
        assert!(
            all.contains(&want),
            "no candidate is\n{}\namong\n{}",
            serde_yaml::to_string(&want).unwrap(),
            all.iter()
                .map(|c| serde_yaml::to_string(c).unwrap())
                .collect::<Vec<_>>()
                .join("---\n")
        );
    }

    #[test]
    fn plain_names_and_addresses_are_left_and_the_new_name_is_unused() {
        let all = renamed_hosts(&yaml(CASE));
        // bücher.test, sub.bücher.test, xbücher.test: three candidates;
        // b.test is plain and 127.0.0.1 no domain.
        assert_eq!(all.len(), 3);
        let text: Vec<String> = all
            .iter()
            .map(|c| serde_yaml::to_string(c).unwrap())
            .collect();
        // b.test is taken: every candidate renames to a.test, none to b.test
        // twice over.
        assert!(text.iter().all(|t| t.matches("b.test/").count() == 1));
        let with_a = yaml(
            "windows: { top: { url: 'http://a.test/' }, c: { parent: top, url: 'http://long.test/' } }",
        );
        let one = renamed_hosts(&with_a);
        assert_eq!(one.len(), 1);
        assert_eq!(
            get(get(get(&one[0], "windows").unwrap(), "c").unwrap(), "url"),
            Some(&key("http://b.test/"))
        );
    }
}

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

/// A string value of a case that names a host, by the key it is under.
#[derive(Clone, Copy, PartialEq)]
enum HostField {
    /// `url:` of a window or a navigation: an absolute URL.
    Url,
    /// `target_origin:`: an absolute URL or origin, a scheme-relative
    /// `//host[:port]` (which the URL parser, given no base, refuses: a
    /// SyntaxError kept as written), or `*` / `/`.
    TargetOrigin,
    /// `domain:` of `set_domain`: a bare domain.
    Domain,
}

impl HostField {
    fn of_key(key: Option<&str>) -> Option<HostField> {
        match key? {
            "url" => Some(HostField::Url),
            "target_origin" => Some(HostField::TargetOrigin),
            "domain" => Some(HostField::Domain),
            _ => None,
        }
    }
}

/// Calls `f` on every string of `v` that names a host, in document order:
/// the one walk both collecting and renaming use.
fn each_host_field(v: &mut Value, at: Option<&str>, f: &mut impl FnMut(HostField, &mut String)) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m.iter_mut() {
                each_host_field(child, k.as_str(), f);
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(|i| each_host_field(i, at, f)),
        Value::String(s) => {
            if let Some(field) = HostField::of_key(at) {
                f(field, s);
            }
        }
        _ => {}
    }
}

/// The value as an absolute URL (a scheme-relative targetOrigin gets a
/// scheme, which [`written_back`] drops again), or `None`.
fn as_url(field: HostField, text: &str) -> Option<url::Url> {
    match field {
        HostField::Url => url::Url::parse(text).ok(),
        HostField::TargetOrigin if text.starts_with("//") => {
            url::Url::parse(&format!("http:{text}")).ok()
        }
        HostField::TargetOrigin => url::Url::parse(text).ok(),
        HostField::Domain => url::Url::parse(&format!("http://{text}/")).ok(),
    }
}

/// The ASCII domain a host-naming value names (`None` for `*`, `/`, IP
/// addresses and anything that does not parse).
fn domain_of(field: HostField, text: &str) -> Option<String> {
    as_url(field, text)?.domain().map(str::to_owned)
}

/// `u` written back in the form `original` had.
fn written_back(field: HostField, original: &str, u: &url::Url) -> String {
    match field {
        HostField::Url => u.to_string(),
        // A targetOrigin only counts for its origin: keep it one, and keep
        // a scheme-relative one scheme-relative.
        HostField::TargetOrigin => {
            // The origin as the model computes it (`url::Url::origin` is
            // not the URL Standard's); a URL whose origin is opaque stays
            // a URL, since "null" would be a different targetOrigin (one
            // that throws SyntaxError).
            let origin = match pmconf_model::url_origin::serialize_origin_of(u.as_str()) {
                Some(o) if o != "null" => o,
                _ => return u.to_string(),
            };
            if original.starts_with("//") {
                origin.trim_start_matches("http:").to_owned()
            } else {
                origin
            }
        }
        HostField::Domain => u.host_str().unwrap_or_default().to_owned(),
    }
}

/// Every domain the case names, in order of first appearance.
fn domains(case: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    each_host_field(&mut case.clone(), None, &mut |field, s| {
        if let Some(d) = domain_of(field, s).filter(|d| !out.contains(d)) {
            out.push(d);
        }
    });
    out
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

/// `case` with every URL, origin and domain value under `from` moved to `to`.
fn rename(case: &mut Value, from: &str, to: &str) {
    each_host_field(case, None, &mut |field, s| {
        let Some(mut u) = as_url(field, s) else {
            return;
        };
        let Some(new) = u.domain().and_then(|d| renamed(d, from, to)) else {
            return;
        };
        if u.set_host(Some(&new)).is_ok() {
            *s = written_back(field, s, &u);
        }
    });
}

/// One candidate per domain of `case` that is not yet a plain name: the
/// domain and its subdomains renamed to the first plain name the case does
/// not use (as a domain or a parent of one).
pub fn renamed_hosts(case: &Value) -> Vec<Value> {
    let names = domains(case);
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
            rename(&mut c, from, to);
            c
        })
        .filter(|c| c != case)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::reducer::{get, key};
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
  - post: { from: top, to: child, message: "r", target_origin: "//sub.bücher.test:8443" }
"#;

    /// Hand-derived from CASE: bücher.test (xn--bcher-kva.test) and its
    /// subdomain become a.test and sub.a.test everywhere, the targetOrigin
    /// stays an origin (its port kept), and xbücher.test, which only ends
    /// with the same letters, is left alone (as written). The
    /// scheme-relative targetOrigin is renamed and stays scheme-relative.
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
  - post: { from: top, to: child, message: "r", target_origin: "//sub.a.test:8443" }
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

    /// A targetOrigin URL whose origin is opaque (a scheme that is not
    /// special: URL Standard, "origin", "Otherwise: return a new opaque
    /// origin") is renamed as a URL; written as its origin it would be
    /// "null", which throws SyntaxError instead of matching nothing.
    #[test]
    fn a_target_origin_with_an_opaque_origin_stays_a_url() {
        let case = yaml(
            "windows: { top: { url: 'http://long.test/' } }\nsteps:\n  - post: { from: top, to: top, message: 1, target_origin: 'foo://long.test/x' }\n",
        );
        let all = renamed_hosts(&case);
        assert_eq!(all.len(), 1);
        let text = serde_yaml::to_string(&all[0]).unwrap();
        assert!(text.contains("target_origin: foo://a.test/x"), "{text}");
        assert!(text.contains("url: http://a.test/"), "{text}");
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

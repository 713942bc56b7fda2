//! `pmconf run --filter`: keep the cases with a tag, or whose path matches
//! a glob.

use crate::case_files::LoadedCase;

/// Whether `case` matches any of `patterns`: `tag:NAME` matches a case
/// tagged `NAME`; anything else is a glob (`*` and `?` within one path
/// segment, `**` across segments) matched against the case's path below
/// `cases/` and against its path as given.
pub fn matches_any(case: &LoadedCase, patterns: &[String]) -> bool {
    name_or_tags_match(&case.name, &case.case.tags, patterns)
}

/// [`matches_any`] for a case known by its path (`name`, with `/`) and
/// its tags, e.g. read off a pending snapshot (`pmconf review --filter`).
pub fn name_or_tags_match(name: &str, tags: &[String], patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_prefix("tag:") {
        Some(tag) => tags.iter().any(|t| t == tag),
        None => {
            let below = name.rfind("cases/").map(|i| &name[i + "cases/".len()..]);
            glob(p.as_bytes(), name.as_bytes())
                || below.is_some_and(|b| glob(p.as_bytes(), b.as_bytes()))
        }
    })
}

/// Glob matching: `**` any characters, `*` and `?` any but `/`.
fn glob(p: &[u8], s: &[u8]) -> bool {
    match p {
        [] => s.is_empty(),
        [b'*', b'*', rest @ ..] => {
            // `**/x` also matches `x` at the top.
            (0..=s.len()).any(|i| glob(rest, &s[i..]))
                || rest.strip_prefix(b"/").is_some_and(|r| glob(r, s))
        }
        [b'*', rest @ ..] => (0..=s.len())
            .take_while(|&i| i == 0 || s[i - 1] != b'/')
            .any(|i| glob(rest, &s[i..])),
        [b'?', rest @ ..] => s.first().is_some_and(|c| *c != b'/') && glob(rest, &s[1..]),
        [c, rest @ ..] => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(b"races/*", b"races/a.yaml"));
        assert!(!glob(b"races/*", b"races/deep/a.yaml"));
        assert!(glob(b"**/a.yaml", b"races/deep/a.yaml"));
        assert!(glob(b"**/a.yaml", b"a.yaml"));
        assert!(glob(b"*idn*", b"idn-host.yaml"));
        assert!(glob(b"a?c", b"abc") && !glob(b"a?c", b"a/c"));
        assert!(!glob(b"races", b"races/a.yaml"));
    }

    #[test]
    fn tags_and_paths() {
        let load = |p: &str| {
            crate::case_files::load_cases(&[std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(p)])
            .unwrap()
            .remove(0)
        };
        let race = load("cases/races/post-then-remove-same-task.yaml");
        assert!(matches_any(&race, &["races/*".into()]));
        assert!(matches_any(
            &race,
            &["nope".into(), "**/post-then-*".into()]
        ));
        assert!(!matches_any(&race, &["messages/*".into()]));
        let tag = race
            .case
            .tags
            .first()
            .expect("the race case has tags")
            .clone();
        assert!(matches_any(&race, &[format!("tag:{tag}")]));
        assert!(!matches_any(&race, &["tag:no-such-tag".into()]));
    }
}

//! Where exported tests go, following WPT's layout: the tests of a topic
//! under `webmessaging/pmconf/<topic>/`, their helper documents under that
//! folder's `resources/`, and the one shared script under
//! `webmessaging/pmconf/resources/`. A file is named `.sub.html` only when
//! it holds template substitutions, and a test whose top window is https
//! is named `.https.` so that WPT's runner loads it over https.

/// The folder of every exported test, below the WPT root.
pub const ROOT: &str = "webmessaging/pmconf";

/// The shared script every exported window loads.
pub const AGENT_PATH: &str = "webmessaging/pmconf/resources/case-window.js";

/// The topic folder and file stem of a case: its directory below `cases/`
/// (`target-origin`, `found`; `outside` for a case elsewhere) and its file
/// name without `.yaml`.
pub fn topic_and_stem(case_name: &str) -> (String, String) {
    let below = case_name
        .rfind("cases/")
        .map(|i| &case_name[i + "cases/".len()..]);
    let (dir, file) = match below {
        Some(rest) => match rest.rsplit_once('/') {
            Some((dir, file)) => (dir.replace('/', "-"), file),
            None => ("cases".to_owned(), rest),
        },
        None => (
            "outside".to_owned(),
            case_name.rsplit('/').next().unwrap_or(case_name),
        ),
    };
    let stem = file
        .strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
        .unwrap_or(file);
    (dir, stem.to_owned())
}

/// `.sub` when the contents hold a template substitution.
fn sub(contents: &str) -> &'static str {
    if contents.contains("{{") {
        ".sub"
    } else {
        ""
    }
}

/// The test page's path.
pub fn test_path(topic: &str, stem: &str, https: bool, tentative: bool, contents: &str) -> String {
    format!(
        "{ROOT}/{topic}/{stem}{}{}{}.html",
        if tentative { ".tentative" } else { "" },
        if https { ".https" } else { "" },
        sub(contents)
    )
}

/// A helper document's path (one per window that loads a URL).
pub fn helper_path(topic: &str, stem: &str, window: &str, contents: &str) -> String {
    format!(
        "{ROOT}/{topic}/resources/{stem}--{window}{}.html",
        sub(contents)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_wpt_conventions() {
        assert_eq!(
            topic_and_stem("cases/target-origin/exact-match.yaml"),
            ("target-origin".into(), "exact-match".into())
        );
        assert_eq!(topic_and_stem("/x/y.yaml"), ("outside".into(), "y".into()));
        assert_eq!(
            test_path("t", "s", true, false, "{{host}}"),
            "webmessaging/pmconf/t/s.https.sub.html"
        );
        assert_eq!(
            test_path("t", "s", false, true, "plain"),
            "webmessaging/pmconf/t/s.tentative.html"
        );
        assert_eq!(
            helper_path("t", "s", "child", "x"),
            "webmessaging/pmconf/t/resources/s--child.html"
        );
    }
}

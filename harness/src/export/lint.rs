//! The rules of WPT's `lint` (tools/lint) that can be checked on one
//! exported file here, so a file that would fail upstream is refused
//! instead of written.

/// Every rule `path` with `contents` breaks, as lint names them.
pub fn problems(path: &str, contents: &str) -> Vec<String> {
    let mut out = Vec::new();
    let is_html = path.ends_with(".html");
    // WEB-PLATFORM.TEST: the test domain is written through substitutions.
    if contents.contains("web-platform.test") {
        out.push("WEB-PLATFORM.TEST: names web-platform.test instead of {{host}}".to_owned());
    }
    // Absolute URLs to hosts outside WPT's: everything a test loads or
    // names is on a `.test` host through a substitution, or relative.
    for (i, _) in contents.match_indices("://") {
        let rest = &contents[i + 3..];
        let host: String = rest
            .chars()
            .take_while(|c| {
                !matches!(
                    c,
                    '/' | ':' | '"' | '\'' | '?' | '#' | ' ' | '\n' | '<' | ')' | '\\'
                )
            })
            .collect();
        let lower = host.to_lowercase();
        // A single label (`http://b`) or an IP literal names no host on
        // the internet; a dotted name must be a `.test` one.
        let dotted = lower.contains('.') && !lower.chars().all(|c| c.is_ascii_digit() || c == '.');
        let wpt =
            !dotted || host.contains("{{") || lower.ends_with(".test") || lower.ends_with(".test.");
        // Links to the standards and issues (`<link rel=help>`, comments).
        let reference = [
            "html.spec.whatwg.org",
            "url.spec.whatwg.org",
            "webidl.spec.whatwg.org",
            "github.com",
            "tc39.es",
        ]
        .contains(&lower.as_str());
        if !wpt && !reference {
            out.push(format!("absolute URL to {host:?}: not one of WPT's hosts"));
        }
    }
    // SET TIMEOUT: timers only through step_timeout.
    if contents.contains("setTimeout(") {
        out.push("SET TIMEOUT: setTimeout instead of step_timeout".to_owned());
    }
    // `.sub` exactly when substitutions are used.
    let subs = contents.contains("{{");
    let named_sub = path.contains(".sub.");
    if subs && !named_sub {
        out.push("substitutions in a file not named .sub.".to_owned());
    }
    if named_sub && !subs {
        out.push(".sub. in the name of a file without substitutions".to_owned());
    }
    if is_html {
        if !contents.contains("<title>") {
            out.push("MISSING-TITLE: no <title>".to_owned());
        }
        if !contents.starts_with("<!DOCTYPE html>") {
            out.push("no <!DOCTYPE html>".to_owned());
        }
        let has_harness = contents.contains("/resources/testharness.js");
        if has_harness && !contents.contains("/resources/testharnessreport.js") {
            out.push(
                "MISSING-TESTHARNESSREPORT: testharness.js without testharnessreport.js".to_owned(),
            );
        }
        if has_harness && path.contains("/resources/") {
            out.push("a helper document loads testharness.js".to_owned());
        }
    }
    // TRAILING WHITESPACE, tabs, CR.
    if contents
        .lines()
        .any(|l| l.ends_with(' ') || l.ends_with('\t'))
    {
        out.push("TRAILING WHITESPACE".to_owned());
    }
    if contents.contains('\r') {
        out.push("CR AT EOL".to_owned());
    }
    out
}

/// `Ok` when `path` passes, else its problems.
pub fn check(path: &str, contents: &str) -> Result<(), Vec<String>> {
    let p = problems(path, contents);
    if p.is_empty() {
        Ok(())
    } else {
        Err(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "<!DOCTYPE html>\n<title>t</title>\n<script src=\"/resources/testharness.js\"></script>\n<script src=\"/resources/testharnessreport.js\"></script>\n<script>\nconst u = \"http://{{host}}:{{ports[http][0]}}/\";\n</script>\n";

    #[test]
    fn a_clean_test_passes_and_each_rule_fires() {
        assert_eq!(
            problems("webmessaging/pmconf/t/a.sub.html", GOOD),
            Vec::<String>::new()
        );
        assert!(
            !problems("webmessaging/pmconf/t/a.html", GOOD).is_empty(),
            "needs .sub"
        );
        let plain = GOOD.replace("{{host}}:{{ports[http][0]}}", "a.test");
        assert!(problems("webmessaging/pmconf/t/a.sub.html", &plain)[0].contains(".sub."));
        let real = GOOD.replace("{{host}}", "web-platform.test");
        assert!(problems("x.sub.html", &real)
            .iter()
            .any(|p| p.starts_with("WEB-PLATFORM.TEST")));
        let far = GOOD.replace("{{host}}:{{ports[http][0]}}", "example.com");
        assert!(problems("x.html", &far)
            .iter()
            .any(|p| p.contains("example.com")));
        let timer = GOOD.replace("const u", "setTimeout(f, 1); const u");
        assert!(problems("x.sub.html", &timer)
            .iter()
            .any(|p| p.starts_with("SET TIMEOUT")));
        let untitled = GOOD.replace("<title>t</title>\n", "");
        assert!(problems("x.sub.html", &untitled)
            .iter()
            .any(|p| p.starts_with("MISSING-TITLE")));
        let trailing = GOOD.replace("<title>t</title>", "<title>t</title> ");
        assert!(problems("x.sub.html", &trailing)
            .iter()
            .any(|p| p == "TRAILING WHITESPACE"));
    }
}

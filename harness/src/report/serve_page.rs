//! The page `pmconf serve` shows a browser once it has run the cases:
//! per case its verdict and its outcome histogram, every outcome marked
//! allowed or NOT ALLOWED by the model. Nothing is compared with
//! snapshots there, so nothing is called known or accepted.

use super::escape::html_escape;
use super::render::histogram_rows;
use crate::run::events::CaseResult;
use std::fmt::Write as _;

/// The page for `results` (one engine's: the browser's), `browser` its
/// user agent.
pub fn serve_page(browser: &str, results: &[CaseResult]) -> String {
    let count = |name: &str| results.iter().filter(|r| r.verdict.name() == name).count();
    let verdict = format!(
        "{} cases: {} conform, {} contested, {} diverge, {} inconclusive, {} internal errors",
        results.len(),
        count("conforms"),
        count("contested"),
        count("diverges"),
        count("inconclusive"),
        count("internal-error"),
    );
    let mut page = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>pmconf serve: done</title>\n<style>\nbody{font:14px system-ui,sans-serif;margin:2em}\ntable{border-collapse:collapse;margin:.3em 0 1em}\ntd{border:1px solid #ccc;padding:2px 8px;font-family:ui-monospace,monospace}\n.not-allowed{background:#ffc4c4;font-weight:bold}\n.allowed{background:#dcf5e0}\n.unseen{color:#777}\nh2{font-size:1em;margin:1em 0 .2em}\n</style>\n</head>\n<body>\n<h1>pmconf serve</h1>\n",
    );
    let _ = writeln!(
        page,
        "<p>In this browser: <code>{}</code></p>\n<p id=\"verdict\">{}</p>",
        html_escape(browser),
        html_escape(&verdict)
    );
    for r in results {
        let _ = writeln!(
            page,
            "<section class=\"case\" data-case=\"{0}\" data-verdict=\"{1}\">\n<h2>{0}: {1}</h2>\n<p>{2}</p>",
            html_escape(&r.case),
            r.verdict.name(),
            html_escape(r.verdict.reason().unwrap_or(&r.description))
        );
        let rows = histogram_rows(r);
        if !rows.is_empty() {
            page.push_str("<table>\n");
            for row in rows {
                let (class, mark) = match (row.count, row.allowed) {
                    (0, _) => ("unseen", "allowed, not seen"),
                    (_, true) => ("allowed", "allowed"),
                    (_, false) => ("not-allowed", "NOT ALLOWED"),
                };
                let _ = writeln!(
                    page,
                    "<tr class=\"{class}\"><td>{}/{}</td><td>{mark}</td><td>{}</td></tr>",
                    row.count,
                    r.runs,
                    html_escape(&row.summary)
                );
            }
            page.push_str("</table>\n");
        }
        page.push_str("</section>\n");
    }
    page.push_str("</body>\n</html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::{OutcomeCount, SnapshotStatus};
    use crate::run::verdict::Verdict;
    use pmconf_model::{Delivery, Outcome, PostOutcome};

    fn outcome(origin: &str) -> Outcome {
        Outcome {
            posts: vec![PostOutcome::returned(0)],
            received: vec![(
                "top".into(),
                vec![Delivery {
                    message: serde_json::json!("m"),
                    origin: origin.into(),
                    source: Some("top".into()),
                    ports: Vec::new(),
                }],
            )],
        }
    }

    #[test]
    fn each_outcome_is_marked_as_the_model_judges_it() {
        let allowed = outcome("http://a.test");
        let wrong = outcome("http://b.test");
        let result = CaseResult {
            runs: 5,
            allowed: vec![allowed.clone()],
            histogram: vec![
                OutcomeCount {
                    outcome: allowed,
                    count: 4,
                    allowed: true,
                },
                OutcomeCount {
                    outcome: wrong,
                    count: 1,
                    allowed: false,
                },
            ],
            ..CaseResult::bare(
                "browser-1",
                "races/<x>.yaml",
                Verdict::Diverges,
                SnapshotStatus::NotCompared,
            )
        };
        let page = serve_page("Mozilla/5.0 <test>", &[result]);
        assert!(
            page.contains("data-case=\"races/&lt;x&gt;.yaml\" data-verdict=\"diverges\""),
            "{page}"
        );
        assert!(
            page.contains("<tr class=\"allowed\"><td>4/5</td><td>allowed</td>"),
            "{page}"
        );
        assert!(
            page.contains("<tr class=\"not-allowed\"><td>1/5</td><td>NOT ALLOWED</td>"),
            "{page}"
        );
        assert!(
            page.contains("<p id=\"verdict\">1 cases: 0 conform, 0 contested, 1 diverge"),
            "{page}"
        );
        assert!(page.contains("Mozilla/5.0 &lt;test&gt;"), "{page}");
        assert!(
            !page.contains("known") && !page.contains("accepted"),
            "{page}"
        );
    }
}

//! Text renderings of outcomes shared by the reporters: YAML, a line diff
//! of an observed outcome against the nearest allowed one, and one-line
//! summaries for outcome histograms.

use crate::run::events::{CaseResult, SnapshotStatus};
use pmconf_model::{Delivery, Outcome};
use serde_json::Value as Json;
use similar::{ChangeTag, TextDiff};

/// An outcome as YAML, in the same shape as case snapshots (windows in
/// case order), ending with a line break.
pub fn render_outcome_yaml(outcome: &Outcome) -> String {
    // Outcomes are plain data and always serialize; should that ever
    // change, a report still gets written, with the reason in place.
    serde_yaml::to_string(outcome)
        .unwrap_or_else(|e| format!("# cannot render this outcome: {e}\n"))
}

/// Which side of a diff a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffSide {
    /// In both the allowed and the observed outcome.
    Both,
    /// Only in the allowed outcome (`-`).
    Allowed,
    /// Only in the observed outcome (`+`).
    Observed,
}

/// One line of an [`outcome_diff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// Where the line comes from.
    pub side: DiffSide,
    /// The line, without its line break.
    pub text: String,
}

/// A line diff of the YAML of `observed` against that of `allowed`, with
/// every line kept: outcomes are short, and the unchanged lines say which
/// window and which message a changed line belongs to.
pub fn outcome_diff(allowed: &Outcome, observed: &Outcome) -> Vec<DiffLine> {
    line_diff(
        &render_outcome_yaml(allowed),
        &render_outcome_yaml(observed),
    )
}

/// A line diff of two texts, every line kept, `allowed` on the `-` side.
pub(crate) fn line_diff(allowed: &str, observed: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(allowed, observed)
        .iter_all_changes()
        .map(|change| DiffLine {
            side: match change.tag() {
                ChangeTag::Equal => DiffSide::Both,
                ChangeTag::Delete => DiffSide::Allowed,
                ChangeTag::Insert => DiffSide::Observed,
            },
            text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect()
}

/// The number of lines that differ between two outcomes' YAML.
fn changed_lines(allowed: &Outcome, observed: &Outcome) -> usize {
    outcome_diff(allowed, observed)
        .iter()
        .filter(|l| l.side != DiffSide::Both)
        .count()
}

/// The index of the allowed outcome closest to `observed`: the one whose
/// YAML differs from it in the fewest lines, the first on a tie. `None`
/// when nothing is allowed.
pub fn nearest_allowed(observed: &Outcome, allowed: &[Outcome]) -> Option<usize> {
    allowed
        .iter()
        .enumerate()
        .min_by_key(|(index, a)| (changed_lines(a, observed), *index))
        .map(|(index, _)| index)
}

/// A diff as plain text: `  ` for common lines, `- ` for allowed only,
/// `+ ` for observed only; one line each, each ending with a line break.
pub fn diff_text(lines: &[DiffLine]) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(match line.side {
            DiffSide::Both => "  ",
            DiffSide::Allowed => "- ",
            DiffSide::Observed => "+ ",
        });
        out.push_str(&line.text);
        out.push('\n');
    }
    out
}

/// Longest message in a one-line summary, in characters; longer ones are
/// cut with `…`.
const SUMMARY_MESSAGE_LIMIT: usize = 40;

/// How much of each delivery a one-line summary shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Detail {
    /// Message data only.
    Messages,
    /// Message data and `event.origin`.
    Origins,
    /// Message data, `event.origin` and `event.source`.
    Sources,
}

/// One line per outcome of `outcomes`, in the same order, each short
/// enough to read at a glance, e.g. `child: [m] child@1: [after]`.
///
/// A line names each window or document that receives a message in any of
/// `outcomes`, in document order (the order the outcomes list them, empty
/// ones too: the same whichever outcomes a run happened to see), with the
/// data of what it
/// received, and starts with the posts that threw, if any (`step 0 threw
/// SyntaxError;`). Origins, then sources, are added only where needed to
/// tell two different outcomes of the set apart (`[m (http://a.test)]`,
/// then `[m (http://a.test, source top)]`); should even that not tell
/// them apart (a message cut short, a window missing from one outcome),
/// every line is the outcome's full JSON.
pub fn outcome_summaries(outcomes: &[&Outcome]) -> Vec<String> {
    let mut windows: Vec<&str> = Vec::new();
    for outcome in outcomes {
        for (name, _) in &outcome.received {
            if !windows.contains(&name.as_str()) {
                windows.push(name);
            }
        }
    }
    windows.retain(|w| {
        outcomes
            .iter()
            .any(|o| o.received.iter().any(|(n, d)| n == w && !d.is_empty()))
    });
    for detail in [Detail::Messages, Detail::Origins, Detail::Sources] {
        let lines: Vec<String> = outcomes
            .iter()
            .map(|o| summary_line(o, &windows, detail))
            .collect();
        if tells_apart(outcomes, &lines) {
            return lines;
        }
    }
    outcomes.iter().map(|o| o.canonical_key()).collect()
}

/// Whether equal lines stand only for equal outcomes.
fn tells_apart(outcomes: &[&Outcome], lines: &[String]) -> bool {
    (0..lines.len()).all(|i| (0..i).all(|j| lines[i] != lines[j] || outcomes[i] == outcomes[j]))
}

fn summary_line(outcome: &Outcome, windows: &[&str], detail: Detail) -> String {
    let mut parts: Vec<String> = Vec::new();
    let throws: Vec<String> = outcome
        .posts
        .iter()
        .filter_map(|p| {
            p.threw
                .as_ref()
                .map(|name| format!("step {} threw {name}", p.step))
        })
        .collect();
    if !throws.is_empty() {
        parts.push(format!("{};", throws.join(", ")));
    }
    for window in windows {
        let Some((_, deliveries)) = outcome.received.iter().find(|(name, _)| name == window) else {
            continue;
        };
        let messages: Vec<String> = deliveries
            .iter()
            .map(|d| delivery_summary(d, detail))
            .collect();
        parts.push(format!("{window}: [{}]", messages.join(", ")));
    }
    if windows.is_empty() {
        parts.push("nothing received".to_owned());
    }
    parts.join(" ")
}

fn delivery_summary(delivery: &Delivery, detail: Detail) -> String {
    let data = message_summary(&delivery.message);
    match detail {
        Detail::Messages => data,
        Detail::Origins => format!("{data} ({})", delivery.origin),
        Detail::Sources => format!(
            "{data} ({}, source {})",
            delivery.origin,
            delivery.source.as_deref().unwrap_or("null")
        ),
    }
}

/// A message's data: a word-like string as it is (`m`, `after-2`), any
/// other value as compact JSON (`"two words"`, `"1"`, `1`, `{"a":[1]}`),
/// cut to [`SUMMARY_MESSAGE_LIMIT`] characters.
fn message_summary(message: &Json) -> String {
    let text = match message {
        Json::String(s) if is_word(s) => s.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(SUMMARY_MESSAGE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A string that reads unambiguously without quotes: it starts with a
/// letter, holds only letters, digits, `_`, `-` and `.`, and is not a JSON
/// literal.
fn is_word(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_alphabetic)
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !matches!(s, "null" | "true" | "false")
}

/// One line of a race result's histogram, or of its allowed outcomes no
/// run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramRow<'a> {
    /// The outcome.
    pub outcome: &'a Outcome,
    /// Its [`outcome_summaries`] line, told apart from every other
    /// outcome of the result.
    pub summary: String,
    /// How many runs produced it (0 for an allowed outcome not seen).
    pub count: usize,
    /// Whether the model allows it.
    pub allowed: bool,
}

/// A race result's histogram with a one-line summary per outcome: the
/// observed outcomes, then the allowed ones not seen (count 0). The
/// summaries tell apart every observed and every allowed outcome.
pub fn histogram_rows(result: &CaseResult) -> Vec<HistogramRow<'_>> {
    let shown: Vec<(&Outcome, usize, bool)> = result
        .histogram
        .iter()
        .map(|bar| (&bar.outcome, bar.count, bar.allowed))
        .chain(result.not_seen.iter().map(|o| (o, 0, true)))
        .collect();
    // The allowed outcomes take part in telling apart even when they are
    // already among those shown, so a summary never hides a difference
    // from something the model allows.
    let mut all: Vec<&Outcome> = shown.iter().map(|(o, _, _)| *o).collect();
    all.extend(result.allowed.iter());
    let summaries = outcome_summaries(&all);
    shown
        .into_iter()
        .zip(summaries)
        .map(|((outcome, count, allowed), summary)| HistogramRow {
            outcome,
            summary,
            count,
            allowed,
        })
        .collect()
}

/// Whether a result comes from a race case run more than once, so it has
/// a histogram worth showing.
pub fn is_repeated(result: &CaseResult) -> bool {
    result.runs > 1
}

/// A few words on a snapshot status, for a result's heading.
pub fn snapshot_note(status: &SnapshotStatus) -> &'static str {
    match status {
        SnapshotStatus::Matched => "snapshot matches",
        SnapshotStatus::New { .. } => "new snapshot",
        SnapshotStatus::Changed { .. } => "snapshot changed",
        SnapshotStatus::Accepted => "snapshot accepted",
        SnapshotStatus::NotCompared => "snapshot not compared",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::PostOutcome;
    use serde_json::json;

    fn outcome(origins: &[&str]) -> Outcome {
        Outcome {
            posts: vec![PostOutcome::returned(0)],
            received: vec![
                ("top".into(), vec![]),
                (
                    "child".into(),
                    origins
                        .iter()
                        .map(|o| Delivery {
                            message: json!("hi"),
                            origin: (*o).into(),
                            source: Some("top".into()),
                            ports: Vec::new(),
                        })
                        .collect(),
                ),
            ],
        }
    }

    #[test]
    fn yaml_keeps_window_order_and_quotes_null_origins() {
        let yaml = render_outcome_yaml(&outcome(&["null"]));
        assert!(
            yaml.find("top:").unwrap() < yaml.find("child:").unwrap(),
            "{yaml}"
        );
        assert!(yaml.contains("origin: 'null'"), "{yaml}");
        assert!(yaml.ends_with('\n'));
    }

    #[test]
    fn diff_marks_allowed_and_observed_lines_and_keeps_context() {
        let lines = outcome_diff(&outcome(&["http://a.test"]), &outcome(&["null"]));
        let text = diff_text(&lines);
        assert!(text.contains("-     origin: http://a.test\n"), "{text}");
        assert!(text.contains("+     origin: 'null'\n"), "{text}");
        assert!(text.contains("  received:\n"), "{text}");
        assert_eq!(lines.iter().filter(|l| l.side != DiffSide::Both).count(), 2);
    }

    #[test]
    fn identical_outcomes_have_no_changed_lines() {
        let lines = outcome_diff(&outcome(&["http://a.test"]), &outcome(&["http://a.test"]));
        assert!(lines.iter().all(|l| l.side == DiffSide::Both));
    }

    #[test]
    fn nearest_is_the_smallest_diff_and_the_first_on_a_tie() {
        let observed = outcome(&["http://a.test", "null"]);
        let allowed = vec![
            outcome(&[]),
            outcome(&["http://b.test", "http://b.test"]),
            outcome(&["http://a.test", "http://b.test"]),
            outcome(&["http://a.test", "http://c.test"]),
        ];
        assert_eq!(nearest_allowed(&observed, &allowed), Some(2));
        assert_eq!(nearest_allowed(&observed, &allowed[..2]), Some(1));
        assert_eq!(nearest_allowed(&observed, &[]), None);
    }

    fn received(posts: Vec<PostOutcome>, windows: &[(&str, &[(Json, &str)])]) -> Outcome {
        Outcome {
            posts,
            received: windows
                .iter()
                .map(|(name, deliveries)| {
                    (
                        (*name).to_owned(),
                        deliveries
                            .iter()
                            .map(|(message, origin)| Delivery {
                                message: message.clone(),
                                origin: (*origin).into(),
                                source: Some("top".into()),
                                ports: Vec::new(),
                            })
                            .collect(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn summaries_show_receiving_windows_and_message_data_only_by_default() {
        let a = received(
            vec![PostOutcome::returned(0)],
            &[
                ("top", &[]),
                ("child", &[(json!("m"), "http://a.test")]),
                ("child@1", &[]),
            ],
        );
        let b = received(
            vec![PostOutcome::returned(0)],
            &[
                ("top", &[]),
                ("child", &[]),
                ("child@1", &[(json!("m"), "http://a.test")]),
            ],
        );
        assert_eq!(
            outcome_summaries(&[&a, &b]),
            ["child: [m] child@1: []", "child: [] child@1: [m]"]
        );
        // Nothing anywhere; and a throw leads the line.
        let nothing = received(vec![PostOutcome::threw(2, "SyntaxError")], &[("top", &[])]);
        assert_eq!(
            outcome_summaries(&[&nothing]),
            ["step 2 threw SyntaxError; nothing received"]
        );
    }

    /// Issue 27 item 9: a histogram's keys (the documents on each line)
    /// come in document order, whichever outcome a run saw first. On main
    /// they came in the order of first receipt: `child@1` before `child`
    /// when the first bar's `child` got nothing, so the same case's lines
    /// read differently from run to run.
    #[test]
    fn summaries_name_documents_in_document_order_whatever_came_first() {
        let late_only = received(
            vec![PostOutcome::returned(0)],
            &[
                ("top", &[]),
                ("child", &[]),
                ("child@1", &[(json!("after"), "http://a.test")]),
            ],
        );
        let both = received(
            vec![PostOutcome::returned(0)],
            &[
                ("top", &[]),
                ("child", &[(json!("m"), "http://a.test")]),
                ("child@1", &[(json!("after"), "http://a.test")]),
            ],
        );
        for order in [[&late_only, &both], [&both, &late_only]] {
            let lines = outcome_summaries(&order);
            for line in &lines {
                assert!(line.starts_with("child: ["), "{lines:?}");
            }
        }
        assert_eq!(
            outcome_summaries(&[&late_only, &both]),
            ["child: [] child@1: [after]", "child: [m] child@1: [after]"]
        );
    }

    #[test]
    fn summaries_quote_what_would_read_ambiguously() {
        let one = |message: Json| {
            received(
                vec![PostOutcome::returned(0)],
                &[("child", &[(message, "http://a.test")])],
            )
        };
        let outcomes = [
            one(json!("1")),
            one(json!(1)),
            one(json!("two words")),
            one(json!("null")),
            one(json!(null)),
            one(json!({"a": [1]})),
            one(json!("x".repeat(50))),
        ];
        let refs: Vec<&Outcome> = outcomes.iter().collect();
        assert_eq!(
            outcome_summaries(&refs),
            [
                "child: [\"1\"]".to_owned(),
                "child: [1]".to_owned(),
                "child: [\"two words\"]".to_owned(),
                "child: [\"null\"]".to_owned(),
                "child: [null]".to_owned(),
                "child: [{\"a\":[1]}]".to_owned(),
                format!("child: [{}…]", "x".repeat(SUMMARY_MESSAGE_LIMIT)),
            ]
        );
    }

    #[test]
    fn summaries_add_origins_then_sources_then_give_up_on_brevity() {
        let from = |origin: &str, source: Option<&str>| Outcome {
            posts: vec![],
            received: vec![(
                "child".into(),
                vec![Delivery {
                    message: json!("m"),
                    origin: origin.into(),
                    source: source.map(str::to_owned),
                    ports: Vec::new(),
                }],
            )],
        };
        let a = from("http://a.test", Some("top"));
        let b = from("null", Some("top"));
        assert_eq!(
            outcome_summaries(&[&a, &b, &a]),
            [
                "child: [m (http://a.test)]",
                "child: [m (null)]",
                "child: [m (http://a.test)]"
            ]
        );
        let c = from("http://a.test", None);
        assert_eq!(
            outcome_summaries(&[&a, &c]),
            [
                "child: [m (http://a.test, source top)]",
                "child: [m (http://a.test, source null)]"
            ]
        );
        // Messages cut to the same text: only the full JSON tells them apart.
        let long = |tail: &str| Outcome {
            posts: vec![],
            received: vec![(
                "child".into(),
                vec![Delivery {
                    message: json!(format!("{}{tail}", "x".repeat(50))),
                    origin: "o".into(),
                    source: None,
                    ports: Vec::new(),
                }],
            )],
        };
        let (d, e) = (long("d"), long("e"));
        assert_eq!(
            outcome_summaries(&[&d, &e]),
            [d.canonical_key(), e.canonical_key()]
        );
    }

    #[test]
    fn histogram_rows_list_observed_then_not_seen_outcomes() {
        let allowed = outcome(&["http://a.test"]);
        let other = outcome(&["null"]);
        let never = outcome(&[]);
        let mut result = CaseResult::bare(
            "e",
            "c.yaml",
            crate::run::verdict::Verdict::Diverges,
            SnapshotStatus::Matched,
        );
        result.runs = 3;
        result.allowed = vec![allowed.clone(), never.clone()];
        (result.histogram, result.not_seen) = crate::run::events::OutcomeCount::histogram(
            &[allowed.clone(), other.clone(), allowed.clone()],
            &result.allowed,
        );
        let rows: Vec<(String, usize, bool)> = histogram_rows(&result)
            .into_iter()
            .map(|r| (r.summary, r.count, r.allowed))
            .collect();
        assert_eq!(
            rows,
            [
                ("child: [hi (http://a.test)]".to_owned(), 2, true),
                ("child: [hi (null)]".to_owned(), 1, false),
                ("child: []".to_owned(), 0, true),
            ]
        );
        assert!(is_repeated(&result));
        result.runs = 1;
        assert!(!is_repeated(&result));
    }

    #[test]
    fn snapshot_notes_are_distinct() {
        let notes = [
            snapshot_note(&SnapshotStatus::Matched),
            snapshot_note(&SnapshotStatus::New {
                pending: "p".into(),
            }),
            snapshot_note(&SnapshotStatus::Changed {
                pending: "p".into(),
                diff: "d".into(),
            }),
            snapshot_note(&SnapshotStatus::Accepted),
            snapshot_note(&SnapshotStatus::NotCompared),
        ];
        let mut unique = notes.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), notes.len());
    }
}

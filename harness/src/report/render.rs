//! Text renderings of outcomes shared by the reporters: YAML, and a
//! line diff of an observed outcome against the nearest allowed one.

use crate::run::events::SnapshotStatus;
use pmconf_model::Outcome;
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
    let allowed_yaml = render_outcome_yaml(allowed);
    let observed_yaml = render_outcome_yaml(observed);
    let diff = TextDiff::from_lines(&allowed_yaml, &observed_yaml);
    diff.iter_all_changes()
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
    use pmconf_model::{Delivery, PostOutcome};
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

//! Each engine's observed behaviour per case, as insta-compatible snapshot
//! files under `snapshots/<engine>/`.
//!
//! A run compares what it saw with the accepted `.snap`; a difference (or a
//! missing snapshot) writes a pending `.snap.new` beside it, which
//! `pmconf review` shows and accepts or rejects one by one. Matching
//! snapshots pass even where the engine diverges from the model: a known,
//! accepted divergence, like an expectation file in a browser test suite.

use super::events::SnapshotStatus;
use super::verdict::Verdict;
use crate::atomic::{write_atomically, Dir};
use crate::layout::{pending_path, snapshot_path};
use pmconf_model::Outcome;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a snapshot records: the verdict and what was observed (the model's
/// side is in `snapshots/model/`).
#[derive(Serialize)]
struct Recorded<'a> {
    verdict: &'static str,
    observed: &'a Outcome,
}

/// The accepted snapshot `engine`'s run of a case is compared with: its
/// own, or, while it has none and `engines` says it compares with another
/// engine (`compare_with`), that engine's. Pending and accepted files are
/// always written at [`snapshot_path`](crate::layout::snapshot_path) of `engine` itself.
pub fn compared_snapshot(
    dir: &Path,
    engines: &[crate::engine::EngineInstance],
    engine: &str,
    case_name: &str,
) -> PathBuf {
    let own = snapshot_path(dir, engine, case_name);
    let other = engines
        .iter()
        .find(|e| e.name == engine)
        .and_then(|e| e.compare_with.as_deref());
    match other {
        Some(other) if !own.exists() => snapshot_path(dir, other, case_name),
        _ => own,
    }
}

/// The header key a pending snapshot carries when it was compared with
/// another engine's accepted snapshot (that snapshot's path), so that
/// `pmconf review` diffs it against the same file.
pub const COMPARED_WITH: &str = "compared_with";

/// What a race case's snapshot records: the verdict and the set of
/// outcomes seen over the repeated runs, never their counts, so that the
/// snapshot stays the same from run to run (counts go to the results file
/// and the reports).
#[derive(Serialize)]
struct RecordedRace<'a> {
    verdict: &'static str,
    seen: &'a [Outcome],
}

/// The snapshot's text: an insta header, then the recorded value as YAML.
pub fn snapshot_text(
    case_name: &str,
    description: &str,
    verdict: &Verdict,
    observed: &Outcome,
) -> String {
    let body = serde_yaml::to_string(&Recorded {
        verdict: verdict.name(),
        observed,
    })
    .expect("outcomes serialize");
    with_header(case_name, description, "observed", &body)
}

/// The snapshot text of a race case: the verdict and the distinct
/// outcomes seen, sorted. The verdict is the set's: `conforms` when the
/// model allows every outcome in it.
pub fn race_snapshot_text(
    case_name: &str,
    description: &str,
    allowed: &[Outcome],
    seen: &[Outcome],
) -> String {
    race_snapshot_text_with(case_name, description, (allowed, &[]), seen)
}

/// [`race_snapshot_text`] for a model answer with contested outcomes
/// too: the verdict is `contested` when every outcome seen is allowed or
/// contested, and one is contested.
pub fn race_snapshot_text_with(
    case_name: &str,
    description: &str,
    (allowed, contested): (&[Outcome], &[Outcome]),
    seen: &[Outcome],
) -> String {
    let mut seen = seen.to_vec();
    seen.sort_by_cached_key(Outcome::canonical_key);
    seen.dedup();
    let verdict = if seen.iter().all(|o| o.is_in(allowed)) {
        Verdict::Conforms
    } else if seen.iter().all(|o| o.is_in(allowed) || o.is_in(contested)) {
        Verdict::Contested
    } else {
        Verdict::Diverges
    };
    let body = serde_yaml::to_string(&RecordedRace {
        verdict: verdict.name(),
        seen: &seen,
    })
    .expect("outcomes serialize");
    with_header(case_name, description, "seen", &body)
}

#[derive(serde::Deserialize)]
struct AcceptedRace {
    seen: Vec<Outcome>,
}

/// Compares a race case's runs with its accepted snapshot. A race is
/// nondeterministic, so five runs need not show every outcome the engine
/// can produce, and may show one the accepted runs did not: the runs match
/// when every outcome they saw is in the accepted set or allowed by the
/// model. What fails is an outcome the model does not allow and nobody
/// accepted: a new divergence. It writes a pending snapshot holding the
/// accepted set plus what is new, so accepting it grows the set.
///
/// `earlier` holds what earlier attempts at the case saw (a retry of an
/// unexpected result): they do not decide the match, this attempt does,
/// but an unaccepted outcome among them stays in the pending snapshot so
/// a reviewer can accept it even when the retry did not see it again.
pub fn compare_and_record_race(
    path: &Path,
    case: (&str, &str),
    allowed: &[Outcome],
    observed: &[Outcome],
    earlier: &[Outcome],
    accept: bool,
) -> std::io::Result<SnapshotStatus> {
    compare_and_record_race_with(path, case, (allowed, &[]), observed, earlier, accept)
}

/// [`compare_and_record_race`] for a model answer with contested outcomes
/// too. A contested outcome needs no acceptance, as an allowed one: the
/// model knows it (the verdict says `contested`, with its issue).
pub fn compare_and_record_race_with(
    path: &Path,
    case: (&str, &str),
    (allowed, contested): (&[Outcome], &[Outcome]),
    observed: &[Outcome],
    earlier: &[Outcome],
    accept: bool,
) -> std::io::Result<SnapshotStatus> {
    compare_and_record_race_against(
        path,
        path,
        case,
        (allowed, contested),
        observed,
        earlier,
        accept,
    )
}

/// [`compare_and_record_race_with`] against the accepted snapshot at
/// `accepted_from` (another engine's: see [`compared_snapshot`]), writing
/// at `path`.
pub fn compare_and_record_race_against(
    accepted_from: &Path,
    path: &Path,
    case: (&str, &str),
    (allowed, contested): (&[Outcome], &[Outcome]),
    observed: &[Outcome],
    earlier: &[Outcome],
    accept: bool,
) -> std::io::Result<SnapshotStatus> {
    let (case_name, description) = case;
    let accepted: Option<Vec<Outcome>> = std::fs::read_to_string(accepted_from)
        .ok()
        .and_then(|t| serde_yaml::from_str::<AcceptedRace>(body_of(&t)).ok())
        .map(|a| a.seen);
    let known = |o: &Outcome| {
        o.is_in(allowed)
            || o.is_in(contested)
            || accepted.as_ref().is_some_and(|seen| seen.contains(o))
    };
    let mut union = accepted.clone().unwrap_or_default();
    union.extend(earlier.iter().chain(observed).cloned());
    let text = race_snapshot_text_with(case_name, description, (allowed, contested), &union);
    if let (Some(seen), true) = (&accepted, observed.iter().all(known)) {
        // The accepted outcomes as the model judges them now, under the
        // case's description now: a model change (a divergence that became
        // contested) or a new description is offered for review too.
        let rejudged = race_snapshot_text_with(case_name, description, (allowed, contested), seen);
        let as_accepted = std::fs::read_to_string(accepted_from).unwrap_or_default();
        if !earlier.iter().all(known) {
            let text = noting_comparison(&text, accepted_from, path);
            write_atomically(&pending_path(path), text.as_bytes(), Dir::Make)?;
        } else if parsed_snapshot(&rejudged) != parsed_snapshot(&as_accepted) {
            let rejudged = noting_comparison(&rejudged, accepted_from, path);
            write_atomically(&pending_path(path), rejudged.as_bytes(), Dir::Make)?;
        } else {
            let _ = std::fs::remove_file(pending_path(path));
        }
        return Ok(SnapshotStatus::Matched);
    }
    compare_and_record_against(accepted_from, path, &text, accept)
}

fn with_header(case_name: &str, description: &str, expression: &str, body: &str) -> String {
    let header = serde_yaml::to_string(&serde_json::json!({
        "source": "harness/src/run/snapshots.rs",
        "description": description,
        "expression": expression,
        "input_file": case_name,
    }))
    .expect("header serializes");
    format!("---\n{header}---\n{body}")
}

/// The part of a snapshot file that is compared: everything after the
/// header.
/// A snapshot's header and body as YAML values, so that two spellings of
/// one string (quoted one way or the other) compare equal.
fn parsed_snapshot(text: &str) -> Option<(serde_yaml::Value, serde_yaml::Value)> {
    let header = text.strip_prefix("---\n")?.split("\n---\n").next()?;
    let value = |t: &str| serde_yaml::from_str::<serde_yaml::Value>(t).ok();
    Some((value(header)?, value(body_of(text))?))
}

pub(crate) fn body_of(text: &str) -> &str {
    // "---\n<header>---\n<body>"
    text.strip_prefix("---\n")
        .and_then(|rest| rest.find("\n---\n").map(|i| &rest[i + 5..]))
        .unwrap_or(text)
        .trim_end()
}

/// Compares `text` with the accepted snapshot at `path` and records the
/// result: nothing when it matches; the accepted file when `accept`;
/// otherwise a pending `.snap.new` (and a stale one is removed when the
/// observation matches again).
pub fn compare_and_record(
    path: &Path,
    text: &str,
    accept: bool,
) -> std::io::Result<SnapshotStatus> {
    compare_and_record_against(path, path, text, accept)
}

/// [`compare_and_record`] against the accepted snapshot at
/// `accepted_from` (another engine's: see [`compared_snapshot`]); what is
/// written goes to `path` and its pending file, which then names the file
/// it was compared with in its header, and a changed snapshot's diff does
/// too.
pub fn compare_and_record_against(
    accepted_from: &Path,
    path: &Path,
    text: &str,
    accept: bool,
) -> std::io::Result<SnapshotStatus> {
    let pending = pending_path(path);
    let accepted = std::fs::read_to_string(accepted_from).ok();
    let text = &noting_comparison(text, accepted_from, path);
    if let Some(old) = &accepted {
        if body_of(old) == body_of(text) {
            let _ = std::fs::remove_file(&pending);
            return Ok(SnapshotStatus::Matched);
        }
    }
    if accept {
        write_atomically(path, text.as_bytes(), Dir::Make)?;
        let _ = std::fs::remove_file(&pending);
        return Ok(SnapshotStatus::Accepted);
    }
    write_atomically(&pending, text.as_bytes(), Dir::Make)?;
    let pending_name = pending.display().to_string();
    Ok(match accepted {
        None => SnapshotStatus::New {
            pending: pending_name,
        },
        Some(old) => SnapshotStatus::Changed {
            pending: pending_name,
            // Whole lines on both sides: no "\ No newline at end of file".
            diff: similar::TextDiff::from_lines(
                &format!("{}\n", body_of(&old)),
                &format!("{}\n", body_of(text)),
            )
            .unified_diff()
            .context_radius(3)
            .header(&accepted_label(accepted_from, path), "observed")
            .to_string(),
        },
    })
}

/// `accepted`, or `accepted (snapshots/chromium/x.snap)` when compared with
/// another engine's snapshot.
pub fn accepted_label(accepted_from: &Path, path: &Path) -> String {
    if accepted_from == path {
        "accepted".to_owned()
    } else {
        format!("accepted ({})", accepted_from.display())
    }
}

/// `text` with a `compared_with: PATH` header line when `accepted_from` is
/// another engine's snapshot.
fn noting_comparison(text: &str, accepted_from: &Path, path: &Path) -> String {
    if accepted_from == path {
        return text.to_owned();
    }
    match text
        .strip_prefix("---\n")
        .and_then(|rest| rest.find("\n---\n").map(|i| i + 4))
    {
        Some(end) => format!(
            "{}\n{COMPARED_WITH}: {}{}",
            &text[..end],
            accepted_from.display(),
            &text[end..]
        ),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::{Delivery, PostOutcome};

    fn outcome(origin: &str) -> Outcome {
        Outcome {
            posts: vec![PostOutcome::returned(0)],
            received: vec![(
                "top".into(),
                vec![Delivery {
                    message: serde_json::json!("m"),
                    origin: origin.into(),
                    source: Some("child".into()),
                    ports: Vec::new(),
                }],
            )],
        }
    }

    #[test]
    fn new_then_accepted_then_matched_then_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e/c.snap");
        let first = snapshot_text(
            "cases/c.yaml",
            "d",
            &Verdict::Conforms,
            &outcome("http://a.test"),
        );
        let status = compare_and_record(&path, &first, false).unwrap();
        assert!(matches!(status, SnapshotStatus::New { .. }), "{status:?}");
        assert!(pending_path(&path).exists() && !path.exists());

        assert_eq!(
            compare_and_record(&path, &first, true).unwrap(),
            SnapshotStatus::Accepted
        );
        assert!(path.exists() && !pending_path(&path).exists());
        assert_eq!(
            compare_and_record(&path, &first, false).unwrap(),
            SnapshotStatus::Matched
        );

        // A changed description (header) still matches; a changed body does not.
        let same_body = snapshot_text(
            "cases/c.yaml",
            "other words",
            &Verdict::Conforms,
            &outcome("http://a.test"),
        );
        assert_eq!(
            compare_and_record(&path, &same_body, false).unwrap(),
            SnapshotStatus::Matched
        );
        let changed = snapshot_text(
            "cases/c.yaml",
            "d",
            &Verdict::Diverges,
            &outcome("http://b.test"),
        );
        match compare_and_record(&path, &changed, false).unwrap() {
            SnapshotStatus::Changed { diff, .. } => {
                assert!(
                    diff.contains("-  verdict: conforms") || diff.contains("-verdict: conforms"),
                    "{diff}"
                );
                assert!(diff.contains("+verdict: diverges"), "{diff}");
                assert!(diff.contains("http://b.test"), "{diff}");
            }
            other => panic!("{other:?}"),
        }
        // The accepted file was not touched.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
    }

    #[test]
    fn snapshot_text_is_insta_shaped() {
        let t = snapshot_text(
            "cases/c.yaml",
            "d",
            &Verdict::Diverges,
            &outcome("http://a.test"),
        );
        assert!(t.starts_with("---\n"));
        assert!(t.contains("source: harness/src/run/snapshots.rs\n"));
        assert!(t.contains("\n---\nverdict: diverges\nobserved:\n"), "{t}");
    }

    #[test]
    fn race_snapshots_fail_only_on_a_new_outcome_the_model_does_not_allow() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chromium/race.snap");
        let (a, b, bad, worse) = (
            outcome("http://a.test"),
            outcome("http://b.test"),
            outcome("http://x.test"),
            outcome("http://y.test"),
        );
        let allowed = [a.clone(), b.clone()];
        let record = |seen: &[Outcome], accept: bool| {
            compare_and_record_race(
                &path,
                ("cases/races/r.yaml", "d"),
                &allowed,
                seen,
                &[],
                accept,
            )
            .unwrap()
        };
        assert!(matches!(
            record(std::slice::from_ref(&a), false),
            SnapshotStatus::New { .. }
        ));
        assert_eq!(
            record(&[a.clone(), bad.clone()], true),
            SnapshotStatus::Accepted
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("verdict: diverges\nseen:\n"), "{text}");
        // Fewer outcomes, or another allowed one, still match.
        assert_eq!(
            record(std::slice::from_ref(&a), false),
            SnapshotStatus::Matched
        );
        assert_eq!(
            record(&[b.clone(), bad.clone()], false),
            SnapshotStatus::Matched
        );
        // A divergence nobody accepted does not; the pending snapshot
        // holds the accepted set plus the new outcome.
        match record(std::slice::from_ref(&worse), false) {
            SnapshotStatus::Changed { pending, .. } => {
                let p = std::fs::read_to_string(pending).unwrap();
                assert!(p.contains("x.test") && p.contains("y.test"), "{p}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn a_contested_outcome_needs_no_acceptance_and_makes_the_verdict_contested() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("firefox/race.snap");
        let (a, reused, bad) = (
            outcome("http://a.test"),
            outcome("http://r.test"),
            outcome("http://x.test"),
        );
        let (allowed, contested) = ([a.clone()], [reused.clone()]);
        let case = ("cases/races/r.yaml", "d");
        let record = |seen: &[Outcome], accept: bool| {
            compare_and_record_race_with(&path, case, (&allowed, &contested), seen, &[], accept)
                .unwrap()
        };
        assert_eq!(
            record(std::slice::from_ref(&a), true),
            SnapshotStatus::Accepted
        );
        // Seen later, a contested outcome matches like an allowed one.
        assert_eq!(
            record(&[a.clone(), reused.clone()], false),
            SnapshotStatus::Matched
        );
        // An outcome neither allowed nor contested still fails.
        assert!(matches!(
            record(&[reused.clone(), bad], false),
            SnapshotStatus::Changed { .. }
        ));
        let text = race_snapshot_text_with("r", "d", (&allowed, &contested), &[a.clone(), reused]);
        assert!(
            text.contains("\n---\nverdict: contested\nseen:\n"),
            "{text}"
        );
        let text = race_snapshot_text_with("r", "d", (&allowed, &contested), &[a]);
        assert!(text.contains("\n---\nverdict: conforms\nseen:\n"), "{text}");
    }

    #[test]
    fn an_accepted_race_snapshot_the_model_now_judges_otherwise_is_offered_for_review() {
        // Accepted when `bad` was a divergence; the model then makes it
        // contested (pmconf issue 22, whatwg/html#3691). A run that sees
        // only allowed outcomes still matches, and a pending snapshot with
        // the same outcomes and the new verdict waits for review.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chromium/race.snap");
        let (a, bad) = (outcome("http://a.test"), outcome("http://x.test"));
        let case = ("cases/races/r.yaml", "d");
        let allowed = [a.clone()];
        let both = [a.clone(), bad.clone()];
        assert_eq!(
            compare_and_record_race_with(&path, case, (&allowed, &[]), &both, &[], true).unwrap(),
            SnapshotStatus::Accepted
        );
        let accepted = std::fs::read_to_string(&path).unwrap();
        assert!(accepted.contains("verdict: diverges"), "{accepted}");
        let first = std::slice::from_ref(&a);
        let now_contested = [bad.clone()];
        assert_eq!(
            compare_and_record_race_with(
                &path,
                case,
                (&allowed, &now_contested),
                first,
                &[],
                false
            )
            .unwrap(),
            SnapshotStatus::Matched
        );
        let pending = std::fs::read_to_string(pending_path(&path)).unwrap();
        assert!(pending.contains("verdict: contested"), "{pending}");
        assert!(
            pending.contains("x.test") && pending.contains("a.test"),
            "{pending}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), accepted);
        // A new description is offered the same way; once accepted, as
        // the model sees it, nothing is pending.
        std::fs::remove_file(pending_path(&path)).unwrap();
        compare_and_record_race_with(
            &path,
            ("cases/races/r.yaml", "new"),
            (&allowed, &[]),
            first,
            &[],
            false,
        )
        .unwrap();
        assert!(std::fs::read_to_string(pending_path(&path))
            .unwrap()
            .contains("description: new"));
        compare_and_record_race_with(&path, case, (&allowed, &[]), first, &[], false).unwrap();
        assert!(!pending_path(&path).exists());
        // Another spelling of the same description is no change.
        let requoted = accepted.replace("description: d\n", "description: \"d\"\n");
        assert_ne!(requoted, accepted);
        std::fs::write(&path, requoted).unwrap();
        compare_and_record_race_with(&path, case, (&allowed, &[]), first, &[], false).unwrap();
        assert!(!pending_path(&path).exists());
    }

    #[test]
    fn a_retry_decides_the_match_but_the_pending_snapshot_keeps_what_the_first_attempt_saw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chromium/race.snap");
        let (a, bad) = (outcome("http://a.test"), outcome("http://x.test"));
        let allowed = [a.clone()];
        let case = ("cases/races/r.yaml", "d");
        let first = std::slice::from_ref(&a);
        assert_eq!(
            compare_and_record_race(&path, case, &allowed, first, &[], true).unwrap(),
            SnapshotStatus::Accepted
        );
        let accepted = std::fs::read_to_string(&path).unwrap();
        // The first attempt saw an unaccepted divergence: changed.
        let unaccepted = std::slice::from_ref(&bad);
        assert!(matches!(
            compare_and_record_race(&path, case, &allowed, unaccepted, &[], false).unwrap(),
            SnapshotStatus::Changed { .. }
        ));
        // The retry saw only allowed outcomes: it matches, and the pending
        // snapshot still offers the first attempt's outcome for review.
        assert_eq!(
            compare_and_record_race(&path, case, &allowed, first, unaccepted, false).unwrap(),
            SnapshotStatus::Matched
        );
        let pending = std::fs::read_to_string(pending_path(&path)).unwrap();
        assert!(
            pending.contains("x.test") && pending.contains("verdict: diverges"),
            "{pending}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), accepted);
        // A later clean run with nothing earlier removes the pending file.
        assert_eq!(
            compare_and_record_race(&path, case, &allowed, first, &[], false).unwrap(),
            SnapshotStatus::Matched
        );
        assert!(!pending_path(&path).exists());
    }
}

//! `pmconf review`: every pending snapshot (`*.snap.new`) under
//! `snapshots/`, the model's and each engine's, shown one by one with its
//! diff against the accepted snapshot; a key accepts, rejects or skips it.
//!
//! This is `cargo insta review`'s loop for snapshots that cargo-insta
//! cannot find (it looks only inside package directories, and
//! `snapshots/` is in none). `--from DIR` first copies the pending
//! snapshots of a downloaded CI artifact into place.
//!
//! Snapshots come case by case, the model's answer first (what the
//! standards allow), then each engine's; each diff carries the case's
//! calls beside its steps, as `pmconf run` prints them. On a terminal one
//! key answers (no Enter); from a pipe, one line per answer.

mod keys;

use super::EXIT_BAD_INPUT;
use crate::atomic::{write_atomically, Dir};
use crate::layout::{accepted_path, is_pending};
use crate::report::annotate_snapshot_diff;
use crate::run::info::{CaseInfo, PostCall};
use crate::run::snapshots::{accepted_label, body_of, COMPARED_WITH};
use keys::Answers;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Options of `pmconf review`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReviewArgs {
    /// Where the accepted and pending snapshots live.
    #[arg(long, default_value = "snapshots")]
    pub snapshots: PathBuf,
    /// First copy every `*.snap.new` found under this directory (a
    /// downloaded artifact of a CI run) to the same place under
    /// `--snapshots` (its path below a `snapshots/` directory, or below
    /// DIR).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Only list the pending snapshots (exit 1 when there are any).
    #[arg(long)]
    pub list: bool,
    /// Review only these (comma-separated): engine or instance names, and
    /// `model` for the model's answers.
    #[arg(long)]
    pub engine: Option<String>,
    /// Review only the cases that match (repeat for any of several), as
    /// `run --filter`: `tag:NAME`, or a glob on the case's path (`races/*`).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Vec<String>,
}

/// What the reviewer decided for one pending snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// `a`: the pending snapshot becomes the accepted one.
    Accept,
    /// `r`: the pending snapshot is deleted.
    Reject,
    /// `s`: left as it is, for later.
    Skip,
}

/// Every `*.snap.new` under `dir`, sorted by path.
pub fn pending_snapshots(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if is_pending(&path) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// One pending snapshot, with what the review shows beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The `.snap.new` file.
    pub path: PathBuf,
    /// Whose snapshot: `model`, or the engine (its directory's name).
    pub who: String,
    /// The case file it belongs to (its `input_file`), if it names one.
    pub case: Option<String>,
}

impl Pending {
    /// What the pending file at `path` belongs to.
    pub fn of(path: PathBuf) -> Self {
        let who = path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let case = std::fs::read_to_string(&path).ok().and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("input_file: "))
                .map(|c| c.trim().trim_matches(['"', '\'']).to_owned())
        });
        Pending { path, who, case }
    }

    fn is_model(&self) -> bool {
        self.who == "model"
    }
}

/// The pending snapshots under `dir` that `engines` (names, `model` for
/// the model's; `None` for all) and `filters` (as `run --filter`; none for
/// all) pick, case by case: the model's first, then the engines' by name.
pub fn pending_to_review(
    dir: &Path,
    engines: Option<&[String]>,
    filters: &[String],
) -> Vec<Pending> {
    let mut out: Vec<Pending> = pending_snapshots(dir)
        .into_iter()
        .map(Pending::of)
        .filter(|p| engines.is_none_or(|names| names.contains(&p.who)))
        .filter(|p| {
            filters.is_empty()
                || p.case.as_deref().is_some_and(|case| {
                    let tags = case_tags(case);
                    crate::case_filter::name_or_tags_match(case, &tags, filters)
                })
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.case, !a.is_model(), &a.who, &a.path).cmp(&(&b.case, !b.is_model(), &b.who, &b.path))
    });
    out
}

/// The tags of the case file at `case`, if it loads.
fn case_tags(case: &str) -> Vec<String> {
    crate::case_files::load_cases(&[PathBuf::from(case)])
        .ok()
        .and_then(|mut c| c.pop())
        .map(|c| c.case.tags)
        .unwrap_or_default()
}

/// The calls of the case file at `case` (empty when it does not load), to
/// show beside each `- step: N` of a diff.
fn case_calls(case: &str) -> Vec<PostCall> {
    crate::case_files::load_cases(&[PathBuf::from(case)])
        .ok()
        .and_then(|mut c| c.pop())
        .map(|c| CaseInfo::of(&c).posts)
        .unwrap_or_default()
}

/// Copies every `*.snap.new` under `from` into `snapshots`, at its path
/// below the last `snapshots/` directory of its path (or below `from`).
/// Returns the files written.
pub fn import_pending(from: &Path, snapshots: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for file in pending_snapshots(from) {
        let relative = file.strip_prefix(from).unwrap_or(&file).to_path_buf();
        let parts: Vec<_> = relative.components().collect();
        let start = parts
            .iter()
            .rposition(|c| c.as_os_str() == "snapshots")
            .map_or(0, |i| i + 1);
        let below: PathBuf = parts[start..].iter().collect();
        if below.components().count() < 2 {
            return Err(std::io::Error::other(format!(
                "{}: a pending snapshot must sit in a directory named after its engine (or `model`)",
                file.display()
            )));
        }
        let target = snapshots.join(below);
        let text = std::fs::read(&file)?;
        write_atomically(&target, &text, Dir::Make)?;
        written.push(target);
    }
    Ok(written)
}

/// What a reviewer reads for one pending snapshot: whose it is and its
/// case, then the diff from the accepted snapshot (or the whole of a new
/// one), each `- step: N` line with that step's call beside it.
pub fn describe_pending(pending: &Pending) -> std::io::Result<String> {
    let new = std::fs::read_to_string(&pending.path)?;
    let case = pending.case.as_deref().unwrap_or("(unknown case)");
    let whose = if pending.is_model() {
        "the model's answer (what the standards allow)".to_owned()
    } else {
        format!("{}'s behaviour", pending.who)
    };
    let mut out = format!("{case}: {whose}\n  {}\n", pending.path.display());
    // Its own accepted snapshot, else the one the run compared it with
    // (an instance's `compare_with`), as the run's diff showed it.
    let own = accepted_path(&pending.path);
    let compared_with = new
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{COMPARED_WITH}: ")))
        .map(PathBuf::from)
        .filter(|_| !own.exists());
    let accepted_from = compared_with.unwrap_or_else(|| own.clone());
    let diff = match std::fs::read_to_string(&accepted_from) {
        Ok(old) => {
            let (old, new) = (
                format!("{}\n", body_of(&old)),
                format!("{}\n", body_of(&new)),
            );
            similar::TextDiff::from_lines(&old, &new)
                .unified_diff()
                .context_radius(3)
                .header(&accepted_label(&accepted_from, &own), "pending")
                .to_string()
        }
        Err(_) => {
            let mut all = String::from("new snapshot (none accepted yet):\n");
            for line in body_of(&new).lines() {
                all.push_str(&format!("+{line}\n"));
            }
            all
        }
    };
    let calls = pending.case.as_deref().map(case_calls).unwrap_or_default();
    out.push_str(&annotate_snapshot_diff(&diff, &calls));
    Ok(out)
}

/// Applies a decision to one pending snapshot.
pub fn apply(pending: &Path, decision: Decision) -> std::io::Result<()> {
    match decision {
        Decision::Accept => std::fs::rename(pending, accepted_path(pending)),
        Decision::Reject => std::fs::remove_file(pending),
        Decision::Skip => Ok(()),
    }
}

/// Counts of a review.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Accepted.
    pub accepted: usize,
    /// Rejected (deleted).
    pub rejected: usize,
    /// Still pending.
    pub skipped: usize,
}

/// The loop over lines: shows each pending snapshot on `out`, reads one
/// answer per line from `lines` (`a`, `r`, `s`; `q` or the end of input
/// skips the rest).
pub fn review(
    pending: &[Pending],
    lines: &mut dyn BufRead,
    out: &mut dyn Write,
) -> std::io::Result<Tally> {
    review_with(pending, &mut Answers::Lines(lines), out)
}

/// The loop, whatever the answers come from.
fn review_with(
    pending: &[Pending],
    answers: &mut Answers<'_>,
    out: &mut dyn Write,
) -> std::io::Result<Tally> {
    let mut tally = Tally::default();
    let mut quit = false;
    writeln!(out, "{}", answers.how_to_answer())?;
    for (i, p) in pending.iter().enumerate() {
        if quit {
            tally.skipped += 1;
            continue;
        }
        writeln!(
            out,
            "\n[{}/{}] {}",
            i + 1,
            pending.len(),
            describe_pending(p)?
        )?;
        let decision = loop {
            write!(out, "{}", answers.prompt())?;
            out.flush()?;
            let Some(answer) = answers.next()? else {
                writeln!(out)?;
                quit = true;
                break Decision::Skip;
            };
            if answers.echoes_nothing() {
                // A key read raw is not echoed: show it.
                writeln!(out, "{answer}")?;
            }
            match answer.as_str() {
                "a" => break Decision::Accept,
                "r" => break Decision::Reject,
                "s" => break Decision::Skip,
                "q" => {
                    quit = true;
                    break Decision::Skip;
                }
                other => writeln!(
                    out,
                    "`{}`: answer a, r, s or q",
                    crate::report::terminal_safe(other)
                )?,
            }
        };
        apply(&p.path, decision)?;
        let done = match decision {
            Decision::Accept => {
                tally.accepted += 1;
                format!("accepted: {}", accepted_path(&p.path).display())
            }
            Decision::Reject => {
                tally.rejected += 1;
                format!("rejected: deleted {}", p.path.display())
            }
            Decision::Skip if quit => {
                tally.skipped += 1;
                format!(
                    "quit: this one and the {} after it stay pending",
                    pending.len() - i - 1
                )
            }
            Decision::Skip => {
                tally.skipped += 1;
                format!("skipped: {} stays pending", p.path.display())
            }
        };
        writeln!(out, "  => {done}")?;
    }
    Ok(tally)
}

/// Runs `pmconf review`; exit status 0 when nothing is left pending, 1
/// when some snapshots are still pending, 2 for bad input or under CI.
pub fn run(args: &ReviewArgs) -> i32 {
    if let Some(from) = &args.from {
        if !from.is_dir() {
            eprintln!(
                "error: {}: no such directory\n  fix: download the run's pending-snapshot artifact and unpack it there",
                from.display()
            );
            return EXIT_BAD_INPUT;
        }
        match import_pending(from, &args.snapshots) {
            Ok(files) => println!(
                "copied {} pending snapshot{} from {} into {}",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                from.display(),
                args.snapshots.display()
            ),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let engines: Option<Vec<String>> = args.engine.as_deref().map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let pending = pending_to_review(&args.snapshots, engines.as_deref(), &args.filter);
    let all = pending_snapshots(&args.snapshots).len();
    let picked = if pending.len() < all {
        format!(" ({} of {all} picked by --engine/--filter)", pending.len())
    } else {
        String::new()
    };
    if args.list {
        for p in &pending {
            println!("{}", p.path.display());
        }
        return i32::from(!pending.is_empty());
    }
    if pending.is_empty() {
        println!(
            "no pending snapshots under {}{}",
            args.snapshots.display(),
            if all > 0 {
                format!(" picked by --engine/--filter ({all} others)")
            } else {
                String::new()
            }
        );
        return 0;
    }
    if super::run::ci() {
        eprintln!(
            "error: CI is set: snapshots are reviewed by people, never accepted by CI (use --list)"
        );
        return EXIT_BAD_INPUT;
    }
    println!(
        "{} pending snapshot{}{picked}",
        pending.len(),
        if pending.len() == 1 { "" } else { "s" }
    );
    let stdin = std::io::stdin();
    let mut lines = stdin.lock();
    let raw = keys::RawKeys::on_stdin();
    let mut answers = match &raw {
        Some(raw) => Answers::Keys(raw),
        None => Answers::Lines(&mut lines),
    };
    let reviewed = review_with(&pending, &mut answers, &mut std::io::stdout());
    // The terminal is given back as it was before the summary.
    drop(raw);
    match reviewed {
        Ok(t) => {
            println!(
                "{} accepted, {} rejected, {} still pending",
                t.accepted, t.rejected, t.skipped
            );
            i32::from(t.skipped > 0)
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, body: &str) {
        let text = format!("---\nsource: x\ninput_file: cases/c.yaml\n---\n{body}\n");
        write_atomically(path, text.as_bytes(), Dir::Make).unwrap();
    }

    #[test]
    fn each_key_does_what_it_says_and_the_end_of_input_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path();
        write(&s.join("firefox/a.snap"), "verdict: conforms");
        write(&s.join("firefox/a.snap.new"), "verdict: diverges");
        write(&s.join("model/b.snap.new"), "allowed: []");
        write(&s.join("webkitgtk/c.snap.new"), "verdict: conforms");
        write(&s.join("webkitgtk/d.snap.new"), "verdict: conforms");
        let pending = pending_to_review(s, None, &[]);
        assert_eq!(pending.len(), 4);
        // One case: the model's snapshot first.
        assert_eq!(pending[0].who, "model");
        let mut out = Vec::new();
        let tally = review(&pending, &mut &b"r\nx\na\ns\n"[..], &mut out).unwrap();
        assert_eq!(
            tally,
            Tally {
                accepted: 1,
                rejected: 1,
                skipped: 2
            }
        );
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("-verdict: conforms\n+verdict: diverges"),
            "{out}"
        );
        assert!(
            out.contains("new snapshot (none accepted yet):\n+allowed: []"),
            "{out}"
        );
        assert!(out.contains("`x`: answer a, r, s or q"), "{out}");
        assert!(out.contains("cases/c.yaml: the model's answer"), "{out}");
        assert!(out.contains("  => rejected: deleted "), "{out}");
        assert!(out.contains("  => accepted: "), "{out}");
        assert!(out.contains("  => skipped: "), "{out}");
        assert!(out.contains("then Enter"), "lines are asked for: {out}");
        let accepted = std::fs::read_to_string(s.join("firefox/a.snap")).unwrap();
        assert!(accepted.contains("diverges") && !s.join("firefox/a.snap.new").exists());
        assert!(!s.join("model/b.snap.new").exists() && !s.join("model/b.snap").exists());
        assert!(s.join("webkitgtk/c.snap.new").exists() && s.join("webkitgtk/d.snap.new").exists());
    }

    #[test]
    fn an_artifact_is_copied_below_its_snapshots_directory() {
        let artifact = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        write(
            &artifact.path().join("run-1/snapshots/chromium/x.snap.new"),
            "verdict: conforms",
        );
        write(&artifact.path().join("model/y.snap.new"), "allowed: []");
        let written = import_pending(artifact.path(), repo.path()).unwrap();
        assert_eq!(
            written,
            [
                repo.path().join("model/y.snap.new"),
                repo.path().join("chromium/x.snap.new")
            ]
        );
        write(&artifact.path().join("stray.snap.new"), "x: 1");
        assert!(import_pending(artifact.path(), repo.path()).is_err());
    }
}

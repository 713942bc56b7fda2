//! `pmconf review`: every pending snapshot (`*.snap.new`) under
//! `snapshots/`, the model's and each engine's, shown one by one with its
//! diff against the accepted snapshot; a key accepts, rejects or skips it.
//!
//! This is `cargo insta review`'s loop for snapshots that cargo-insta
//! cannot find (it looks only inside package directories, and
//! `snapshots/` is in none). `--from DIR` first copies the pending
//! snapshots of a downloaded CI artifact into place.

use super::EXIT_BAD_INPUT;
use crate::run::snapshots::body_of;
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

/// Every `*.snap.new` under `dir`, sorted.
pub fn pending_snapshots(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.to_string_lossy().ends_with(".snap.new") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
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
        crate::case_files::write_atomically(&target, &text)?;
        written.push(target);
    }
    Ok(written)
}

/// What a reviewer reads for one pending snapshot: the case it belongs to
/// and the diff from the accepted snapshot (or the whole of a new one).
pub fn describe_pending(pending: &Path) -> std::io::Result<String> {
    let new = std::fs::read_to_string(pending)?;
    let accepted_path = accepted_path(pending);
    let case = new
        .lines()
        .find_map(|l| l.strip_prefix("input_file: "))
        .unwrap_or("(unknown case)");
    let mut out = format!("{} (case {case})\n", pending.display());
    match std::fs::read_to_string(&accepted_path) {
        Ok(old) => {
            let (old, new) = (
                format!("{}\n", body_of(&old)),
                format!("{}\n", body_of(&new)),
            );
            out.push_str(
                &similar::TextDiff::from_lines(&old, &new)
                    .unified_diff()
                    .context_radius(3)
                    .header("accepted", "pending")
                    .to_string(),
            );
        }
        Err(_) => {
            out.push_str("new snapshot (none accepted yet):\n");
            for line in body_of(&new).lines() {
                out.push_str(&format!("+{line}\n"));
            }
        }
    }
    Ok(out)
}

fn accepted_path(pending: &Path) -> PathBuf {
    let s = pending.to_string_lossy();
    PathBuf::from(s.strip_suffix(".new").unwrap_or(&s))
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

/// The loop: shows each pending snapshot on `out`, reads one key per line
/// from `keys` (`a`, `r`, `s`; `q` or the end of input skips the rest).
pub fn review(
    pending: &[PathBuf],
    keys: &mut dyn BufRead,
    out: &mut dyn Write,
) -> std::io::Result<Tally> {
    let mut tally = Tally::default();
    let mut quit = false;
    for (i, path) in pending.iter().enumerate() {
        if quit {
            tally.skipped += 1;
            continue;
        }
        writeln!(
            out,
            "\n[{}/{}] {}",
            i + 1,
            pending.len(),
            describe_pending(path)?
        )?;
        let decision = loop {
            write!(out, "a accept, r reject, s skip, q quit: ")?;
            out.flush()?;
            let mut line = String::new();
            if keys.read_line(&mut line)? == 0 {
                writeln!(out)?;
                quit = true;
                break Decision::Skip;
            }
            match line.trim() {
                "a" => break Decision::Accept,
                "r" => break Decision::Reject,
                "s" => break Decision::Skip,
                "q" => {
                    quit = true;
                    break Decision::Skip;
                }
                other => writeln!(out, "`{other}`: answer a, r, s or q")?,
            }
        };
        apply(path, decision)?;
        match decision {
            Decision::Accept => tally.accepted += 1,
            Decision::Reject => tally.rejected += 1,
            Decision::Skip => tally.skipped += 1,
        }
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
    let pending = pending_snapshots(&args.snapshots);
    if args.list {
        for p in &pending {
            println!("{}", p.display());
        }
        return i32::from(!pending.is_empty());
    }
    if pending.is_empty() {
        println!("no pending snapshots under {}", args.snapshots.display());
        return 0;
    }
    if super::run::ci() {
        eprintln!(
            "error: CI is set: snapshots are reviewed by people, never accepted by CI (use --list)"
        );
        return EXIT_BAD_INPUT;
    }
    let stdin = std::io::stdin();
    let mut keys = stdin.lock();
    match review(&pending, &mut keys, &mut std::io::stdout()) {
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
        crate::case_files::write_atomically(path, text.as_bytes()).unwrap();
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
        let pending = pending_snapshots(s);
        assert_eq!(pending.len(), 4);
        let mut out = Vec::new();
        let tally = review(&pending, &mut &b"a\nx\nr\ns\n"[..], &mut out).unwrap();
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
        assert!(out.contains("(case cases/c.yaml)"), "{out}");
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

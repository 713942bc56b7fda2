//! What a first-time user runs into, through the real binary and without
//! browsers: colliding snapshot names refused, `pmconf review` accepting,
//! rejecting and skipping pending snapshots read from stdin (and from a CI
//! artifact), `run --filter` with no match, `fuzz --dry-run DIR`, and the help
//! texts and the README and book lines that describe them.

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;

use common::workspace;

fn pmconf(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .args(args)
        .current_dir(dir)
        .env_remove("CI")
        .output()
        .expect("pmconf runs")
}

/// Runs pmconf with `keys` on stdin.
fn pmconf_with_keys(args: &[&str], dir: &Path, keys: &str) -> Output {
    common::pmconf_with_keys(dir, args, keys)
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

const CASE: &str = "description: d\nwindows:\n  top: { url: \"http://a.test/\" }\nsteps:\n  - post: { from: top, to: top, message: 1, target_origin: \"*\" }\n";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn two_cases_whose_snapshots_would_collide_are_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("cases/x.yaml"), CASE);
    write(&dir.path().join("other/cases/x.yaml"), CASE);
    let out = pmconf(
        &[
            "run",
            "cases/x.yaml",
            "other/cases/x.yaml",
            "--engine",
            "firefox",
        ],
        dir.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "other/cases/x.yaml: its snapshots would be named `x.snap`, like those of cases/x.yaml"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("fix: rename one"), "{stderr}");
    assert!(!dir.path().join("snapshots").exists(), "nothing written");
    assert!(!dir.path().join("target").exists(), "nothing written");
}

#[test]
fn a_filter_that_matches_nothing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("cases/a/x.yaml"), CASE);
    let out = pmconf(
        &[
            "run", "--filter", "tag:nope", "--filter", "b/*", "--engine", "firefox",
        ],
        dir.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no case matches --filter tag:nope --filter b/*"),
        "{stderr}"
    );
}

fn snap(body: &str) -> String {
    format!("---\nsource: harness/src/run/snapshots.rs\ninput_file: cases/c.yaml\n---\n{body}\n")
}

#[test]
fn review_accepts_rejects_and_skips_one_by_one_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("snapshots");
    write(&s.join("chromium/c.snap"), &snap("verdict: conforms"));
    write(&s.join("chromium/c.snap.new"), &snap("verdict: diverges"));
    write(&s.join("firefox/c.snap.new"), &snap("verdict: conforms"));
    write(&s.join("model/c.snap.new"), &snap("allowed: []"));

    let list = pmconf(&["review", "--list"], dir.path());
    assert_eq!(list.status.code(), Some(1), "pending snapshots: exit 1");
    // Case by case, the model's answer first.
    assert_eq!(
        text(&list.stdout),
        "snapshots/model/c.snap.new\nsnapshots/chromium/c.snap.new\nsnapshots/firefox/c.snap.new\n"
    );

    // Under CI nothing is accepted.
    let ci = Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .args(["review"])
        .current_dir(dir.path())
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(ci.status.code(), Some(2), "{}", text(&ci.stderr));
    assert!(s.join("chromium/c.snap.new").exists());

    let out = pmconf_with_keys(&["review"], dir.path(), "r\na\ns\n");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "one still pending: {stdout}");
    assert!(
        stdout
            .contains("[2/3] cases/c.yaml: chromium's behaviour\n  snapshots/chromium/c.snap.new"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-verdict: conforms\n+verdict: diverges"),
        "{stdout}"
    );
    assert!(
        stdout.contains("new snapshot (none accepted yet):\n+verdict: conforms"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 accepted, 1 rejected, 1 still pending"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(s.join("chromium/c.snap")).unwrap(),
        snap("verdict: diverges")
    );
    assert!(!s.join("chromium/c.snap.new").exists());
    assert!(!s.join("model/c.snap.new").exists() && !s.join("model/c.snap").exists());
    assert!(s.join("firefox/c.snap.new").exists());

    let out = pmconf_with_keys(&["review"], dir.path(), "a\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(s.join("firefox/c.snap").exists());
    let none = pmconf(&["review", "--list"], dir.path());
    assert_eq!(none.status.code(), Some(0));
}

#[test]
fn a_ci_artifact_is_reviewed_in_one_command_after_download() {
    let repo = tempfile::tempdir().unwrap();
    let artifact = tempfile::tempdir().unwrap();
    // An artifact as `actions/upload-artifact` keeps `snapshots/**/*.snap.new`.
    write(
        &artifact
            .path()
            .join("snapshots/webkitgtk/races__r.snap.new"),
        &snap("verdict: conforms"),
    );
    let from = artifact.path().to_string_lossy().into_owned();
    let out = pmconf_with_keys(&["review", "--from", &from], repo.path(), "a\n");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("copied 1 pending snapshot from"),
        "{stdout}"
    );
    assert!(repo
        .path()
        .join("snapshots/webkitgtk/races__r.snap")
        .exists());
    let missing = pmconf(&["review", "--from", "no/such/dir"], repo.path());
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn fuzz_dry_run_writes_every_generated_case_and_starts_no_browser() {
    let dir = tempfile::tempdir().unwrap();
    let out = pmconf(
        &["fuzz", "--seed", "5", "--cases", "7", "--dry-run", "gen"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join("gen"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 7, "{files:?}");
    assert_eq!(files[0], "case-0000.yaml");
    let check = pmconf(&["check", "gen"], dir.path());
    assert_eq!(text(&check.stdout), "7 cases valid\n");
    let first = std::fs::read_to_string(dir.path().join("gen/case-0000.yaml")).unwrap();
    assert!(
        first.starts_with("description: case 0 of `pmconf fuzz --seed 5 --cases 7`"),
        "{first}"
    );
}

fn help(args: &[&str]) -> String {
    let out = pmconf(args, &workspace());
    assert_eq!(out.status.code(), Some(0));
    text(&out.stdout)
}

#[test]
fn help_texts_say_what_each_command_does() {
    let run = help(&["run", "--help"]);
    assert!(
        run.contains("--accept-snapshots") && run.contains("pmconf review"),
        "{run}"
    );
    assert!(
        run.contains("--filter <PATTERN>") && run.contains("tag:NAME"),
        "{run}"
    );

    let bench = help(&["bench", "--help"]);
    assert!(bench.contains("runs per second"), "{bench}");
    // Document reuse is on unless turned off, in both.
    for text in [&run, &bench] {
        assert!(
            text.contains("--no-reuse") && text.contains("fresh documents"),
            "{text}"
        );
    }
    assert!(!bench.contains("cases per second"), "{bench}");
    let top = help(&["--help"]);
    assert!(
        top.contains("runs per second") && !top.contains("cases per second"),
        "{top}"
    );
    assert!(top.contains("review"), "{top}");

    // --format: each command says what its own formats print.
    let model = help(&["model", "--help"]);
    assert!(model.contains("`yaml` (default) or `json`"), "{model}");
    assert!(!model.contains("plain lines"), "{model}");
    let origin = help(&["origin", "--help"]);
    assert!(
        origin.contains("`text` (default), one line per URL"),
        "{origin}"
    );
    assert!(!origin.contains("YAML"), "{origin}");
    let target = help(&["target-origin", "--help"]);
    assert!(
        target.contains("`*`, the\n") || target.contains("`*`, the"),
        "{target}"
    );
    assert!(!target.contains("YAML"), "{target}");

    let fuzz = help(&["fuzz", "--help"]);
    assert!(
        fuzz.contains("Exit status: 0 when no engine diverged"),
        "{fuzz}"
    );
    assert!(fuzz.contains("1 when a new divergence was saved"), "{fuzz}");
    assert!(fuzz.contains("default found/"), "{fuzz}");
    assert!(fuzz.contains("--dry-run <DIR>"), "{fuzz}");
    assert!(
        fuzz.contains("--races") && fuzz.contains("--no-save"),
        "{fuzz}"
    );

    let review = help(&["review", "--help"]);
    assert!(
        review.contains("--from <DIR>") && review.contains("--list"),
        "{review}"
    );
}

#[test]
fn book_synopsis_and_new_case_steps() {
    let commands = std::fs::read_to_string(workspace().join("docs/src/commands.md")).unwrap();
    let run_line = commands
        .lines()
        .find(|l| l.starts_with("pmconf run ["))
        .expect("a run synopsis");
    for flag in ["--accept-snapshots", "--filter", "--engine", "--repeat"] {
        assert!(run_line.contains(flag), "{run_line}");
    }
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    assert!(readme.contains("## Adding a case"));
    let snapshots = std::fs::read_to_string(workspace().join("docs/src/snapshots.md")).unwrap();
    assert!(snapshots.contains("pmconf review --from"));
    for text in [&readme, &snapshots] {
        assert!(
            !text.contains("one by one with `cargo insta review`"),
            "not the command to use"
        );
    }
}

const TAGGED: &str = "description: d\ntags: [mine]\nwindows:\n  top: { url: \"http://a.test/\" }\n  child: { parent: top, url: \"http://b.test/\" }\nsteps:\n  - post: { from: top, to: child, message: hi, target_origin: \"http://b.test\" }\n";

/// Issue 27 item 4: `review` on a terminal takes one key per answer (no
/// Enter) and says so; it confirms each answer on a line of its own;
/// `--engine` and `--filter` pick what to review; each case comes with
/// the model's snapshot first; and each `- step: N` of a diff has its
/// call beside it, as `pmconf run` prints it. From a pipe it takes lines
/// and says so. On main, keys without Enter did nothing, nothing
/// confirmed an answer, both options were refused, the model's snapshot
/// came after the engines' (by path) and no call was shown.
#[test]
fn review_takes_single_keys_confirms_each_and_picks_by_engine_and_case() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("snapshots");
    write(&dir.path().join("cases/a.yaml"), TAGGED);
    write(&dir.path().join("cases/b.yaml"), CASE);
    let step = "verdict: conforms\nobserved:\n  posts:\n  - step: 0\n    threw: ~\n";
    let pending = |who: &str, case: &str| {
        let text = format!("---\nsource: x\ninput_file: cases/{case}.yaml\n---\n{step}");
        write(&s.join(format!("{who}/{case}.snap.new")), &text);
    };
    for case in ["a", "b"] {
        for who in ["chromium", "firefox", "model"] {
            pending(who, case);
        }
    }

    // --engine and --filter pick; case by case, the model's first.
    let list = pmconf(&["review", "--list", "--filter", "tag:mine"], dir.path());
    assert_eq!(
        text(&list.stdout),
        "snapshots/model/a.snap.new\nsnapshots/chromium/a.snap.new\nsnapshots/firefox/a.snap.new\n",
        "{}",
        text(&list.stderr)
    );
    let list = pmconf(
        &["review", "--list", "--engine", "model,firefox"],
        dir.path(),
    );
    assert_eq!(
        text(&list.stdout),
        "snapshots/model/a.snap.new\nsnapshots/firefox/a.snap.new\n\
         snapshots/model/b.snap.new\nsnapshots/firefox/b.snap.new\n"
    );

    // One key each on a terminal: a, r, then q for the rest of case a.
    let (status, shown) =
        common::pmconf_on_a_terminal(dir.path(), &["review", "--filter", "a.yaml"], "arq");
    assert_eq!(status, Some(1), "{shown}");
    assert!(
        shown.contains("answer each with one key (no Enter)"),
        "{shown}"
    );
    assert!(
        shown.contains("3 pending snapshots (3 of 6 picked by --engine/--filter)"),
        "{shown}"
    );
    assert!(
        shown.contains("[1/3] cases/a.yaml: the model's answer"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "+  - step: 0  # post top→child, message \"hi\", target_origin \"http://b.test\""
        ),
        "the call beside its step: {shown}"
    );
    assert!(
        shown.contains("(one key): a\n  => accepted: snapshots/model/a.snap\n"),
        "{shown}"
    );
    assert!(
        shown.contains("(one key): r\n  => rejected: deleted snapshots/chromium/a.snap.new\n"),
        "{shown}"
    );
    assert!(
        shown.contains("(one key): q\n  => quit: this one and the 0 after it stay pending\n"),
        "{shown}"
    );
    assert!(s.join("model/a.snap").exists());
    assert!(!s.join("chromium/a.snap.new").exists() && !s.join("chromium/a.snap").exists());
    assert!(s.join("firefox/a.snap.new").exists());
    for who in ["chromium", "firefox", "model"] {
        assert!(s.join(format!("{who}/b.snap.new")).exists(), "not picked");
    }

    // From a pipe: lines, and it says so.
    let out = pmconf_with_keys(&["review", "--engine", "firefox"], dir.path(), "s\ns\n");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("standard input is not a terminal: answer each with a line"),
        "{stdout}"
    );
    assert!(
        stdout.contains("then Enter: ") && stdout.contains("  => skipped: "),
        "{stdout}"
    );
}

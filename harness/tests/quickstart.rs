//! Every command README.md's quickstart shows keeps working (issue 27
//! item 2). The commands are read from the README itself:
//!
//! - the two first commands, step by step: the install scripts are run
//!   (they are idempotent and quick once everything is there); `pmconf run
//!   cases/` is the whole suite, so its `--help` is checked and a sample of
//!   three cases runs in Chromium, its output shaped as the README's sample
//!   output (the same summary table heading, a `reports written:` list, a
//!   verdict line of the same form); `cargo test --workspace` is what CI
//!   runs (`.ci/run`), checked to be the same command;
//! - "Adding a case": its example case saved where the commands say, then
//!   each command run as written (in Chromium alone), each verdict as the
//!   README's comment says.
//!
//! Chromium must be installed; without it the browser steps are skipped
//! with a printed reason, unless CI is set: then they fail.

mod common;

use common::{ci, text, workspace};
use pmconf::engine::{discover, EngineId};
use std::path::Path;
use std::process::Output;

fn readme() -> String {
    std::fs::read_to_string(workspace().join("README.md")).unwrap()
}

/// The blocks of `text` fenced as ````lang`, in order.
fn blocks(text: &str, lang: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        if current.is_none() {
            if line == format!("```{lang}") {
                current = Some(Vec::new());
            }
        } else if line == "```" {
            out.extend(current.take());
        } else if let Some(b) = &mut current {
            b.push(line.to_owned());
        }
    }
    out
}

/// A command line without its trailing `# comment`, and the comment.
fn command_and_comment(line: &str) -> (String, String) {
    match line.split_once(" #") {
        Some((c, note)) => (c.trim().to_owned(), note.trim().to_owned()),
        None => (line.trim().to_owned(), String::new()),
    }
}

/// The verdict line's form: counts, snapshots, and one of the three ends.
fn is_verdict(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("pmconf: ") else {
        return false;
    };
    let ends = [" => ok", " => needs review (", " => FAILED ("];
    rest.contains(" each: ")
        && rest.contains(" conform, ")
        && rest.contains(" diverge (accepted: ")
        && rest.contains(" inconclusive, ")
        && rest.contains("; snapshots: ")
        && ends.iter().any(|e| rest.contains(e))
}

fn chromium() -> bool {
    match discover(EngineId::Chromium) {
        Ok(_) => true,
        Err(missing) if ci() => panic!("CI is set and Chromium is missing: {missing}"),
        Err(missing) => {
            eprintln!("skipping the browser steps: {missing}");
            false
        }
    }
}

fn pmconf_in(dir: &Path, args: &[&str], stdin: &str) -> Output {
    common::pmconf_with_keys(dir, args, stdin)
}

/// `cargo run -p pmconf -- ARGS` or `pmconf ARGS`, as the binary's args.
fn pmconf_args(command: &str) -> Option<Vec<String>> {
    let rest = command
        .strip_prefix("cargo run -p pmconf -- ")
        .or_else(|| command.strip_prefix("pmconf "))?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

#[test]
fn the_two_first_commands_work_step_by_step() {
    let readme = readme();
    let first = &blocks(&readme, "sh")[0];
    assert_eq!(first.len(), 2, "{first:?}");
    let ci_run = std::fs::read_to_string(workspace().join(".ci/run")).unwrap();
    let sample = blocks(&readme, "text")
        .into_iter()
        .next()
        .expect("a sample output");
    for line in first {
        let (command, _) = command_and_comment(line);
        for step in command.split(" && ") {
            match step {
                "bash scripts/install-engines" => {
                    let all = EngineId::ALL.iter().all(|e| discover(*e).is_ok());
                    if !all && !ci() {
                        eprintln!("skipping {step}: not every engine is installed here");
                        continue;
                    }
                    let out = common::run_script("scripts/install-engines");
                    assert!(out.status.success(), "{}", text(&out));
                    assert!(
                        String::from_utf8_lossy(&out.stdout).contains("engines installed:"),
                        "{}",
                        text(&out)
                    );
                }
                "bash scripts/install-ci-tools" => {
                    let there = workspace()
                        .join("target/ci-tools/cargo/bin/mdbook")
                        .is_file()
                        && workspace()
                            .join("target/ci-tools/venv/bin/actionlint")
                            .is_file();
                    if !there && !ci() {
                        eprintln!("skipping {step}: it would build mdBook (minutes)");
                        continue;
                    }
                    let out = common::run_script("scripts/install-ci-tools");
                    assert!(out.status.success(), "{}", text(&out));
                    assert!(
                        String::from_utf8_lossy(&out.stdout).contains("mdbook 0.5.4 already"),
                        "{}",
                        text(&out)
                    );
                }
                "cargo test --workspace" => {
                    // The suite itself: what CI runs, after the same scripts.
                    assert!(ci_run.lines().any(|l| l == step), "{ci_run}");
                    for script in [
                        "bash scripts/install-engines",
                        "bash scripts/install-ci-tools",
                    ] {
                        let at = ci_run.find(script).expect("CI runs the same scripts");
                        assert!(at < ci_run.find(step).unwrap(), "{script} before the tests");
                    }
                }
                other => {
                    let args = pmconf_args(other).unwrap_or_else(|| panic!("unknown step {other}"));
                    assert_eq!(args, ["run", "cases/"], "{other}");
                    run_a_sample_of_the_suite(&sample);
                }
            }
        }
    }
}

/// `pmconf run cases/` is the whole suite: its `--help`, and three of its
/// cases in Chromium, whose output has the README sample's shape.
fn run_a_sample_of_the_suite(sample: &[String]) {
    let help = common::pmconf().args(["run", "--help"]).output().unwrap();
    assert!(help.status.success(), "{}", text(&help));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--engine"));
    let heading = sample
        .iter()
        .find(|l| l.starts_with("engine "))
        .expect("the sample has the summary table");
    assert!(sample.iter().any(|l| l == "reports written:"), "{sample:?}");
    assert!(is_verdict(sample.last().unwrap()), "{sample:?}");
    if !chromium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().join("snapshots");
    // Plain cases and a race case (run --repeat times: the `runs` column).
    let cases = [
        "cases/target-origin/exact-match.yaml",
        "cases/serialization/https-origin.yaml",
        "cases/races/post-then-navigate-same-task-star.yaml",
    ];
    common::copy_snapshots(&cases, &["chromium", "model"], &snapshots);
    let results = dir.path().join("results.json");
    let mut args = vec!["run"];
    args.extend(cases);
    args.extend([
        "--engine",
        "chromium",
        "--snapshots",
        snapshots.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    let out = common::pmconf().args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines: Vec<&str> = stdout.lines().collect();
    // The same columns, whatever the widths.
    let words = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let table = lines
        .iter()
        .find(|l| l.starts_with("engine "))
        .expect("a summary table");
    assert_eq!(words(table), words(heading), "{stdout}");
    let reports = lines
        .iter()
        .position(|l| *l == "reports written:")
        .expect("reports");
    assert_eq!(lines[reports + 1], format!("  {}", results.display()));
    assert!(is_verdict(lines.last().unwrap()), "{stdout}");
    assert!(lines.last().unwrap().ends_with(" => ok"), "{stdout}");
}

#[test]
fn adding_a_case_works_as_the_readme_says() {
    let readme = readme();
    let section = readme
        .split("## Adding a case")
        .nth(1)
        .expect("an Adding a case section");
    let case = blocks(section, "yaml").remove(0).join("\n") + "\n";
    let commands = blocks(section, "sh").remove(0);
    assert!(commands.len() >= 3, "{commands:?}");
    if !chromium() {
        return;
    }
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    let mut saved = false;
    for line in &commands {
        let (command, comment) = command_and_comment(line);
        let mut args = pmconf_args(&command).unwrap_or_else(|| panic!("not pmconf: {command}"));
        // The case goes where the commands name it.
        if let Some(path) = args.iter().find(|a| a.ends_with(".yaml")) {
            if !saved {
                let file = p.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, &case).unwrap();
                saved = true;
            }
        }
        let keys = if args[0] == "review" {
            "a\n".repeat(8)
        } else {
            String::new()
        };
        if args[0] == "run" {
            args.extend(["--engine".to_owned(), "chromium".to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = pmconf_in(p, &args, &keys);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let last = stdout.lines().rfind(|l| !l.is_empty()).unwrap_or("");
        let code = out.status.code();
        match args[0] {
            "check" => assert_eq!(code, Some(0), "{command}: {}", text(&out)),
            "review" => {
                assert_eq!(code, Some(0), "{command}: {}", text(&out));
                assert!(last.ends_with("0 still pending"), "{stdout}");
            }
            "run" if comment.contains("=> needs review") => {
                assert_eq!(code, Some(1), "{command}: {}", text(&out));
                assert!(last.contains(" => needs review ("), "{stdout}");
            }
            "run" if comment.contains("=> ok") => {
                assert_eq!(code, Some(0), "{command}: {}", text(&out));
                assert!(last.ends_with(" => ok"), "{stdout}");
            }
            _ => panic!("the README's comment says no outcome: {line}"),
        }
    }
    assert!(saved, "no command names the case file");
}

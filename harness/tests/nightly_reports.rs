//! Several nights simulated from synthetic results files, through the real
//! `pmconf report` binary: diff classification for every kind of change
//! and cause, merge rules, the history (record, change log, timelines),
//! known-divergence links, the job summary, and the site (golden files).
//!
//! The nights (engines chromium, firefox, webkitgtk; `A`, `B`, `C`, `null`
//! are the origins a message arrives from):
//!
//! | case | night 1 | night 2 | night 3 | night 4 |
//! |---|---|---|---|---|
//! | versions | c130 f128 w2.46 | c131 | f129 | c132 |
//! | a/stable | all conform | = | = | = |
//! | a/regress | all conform | chromium diverges (B) | = | chromium conforms |
//! | a/fix | firefox diverges (B) | model allows B too: conforms | = | = |
//! | a/changed | webkitgtk diverges (B), description v1 | diverges (C), v2 | = | = |
//! | b/flaky | all conform | chromium flaky | chromium not flaky | = |
//! | b/removed | all conform | gone | gone | gone |
//! | b/timeout | all conform | firefox inconclusive | firefox conforms | = |
//! | b/added | - | all conform | = | = |
//! | c/consensus | all diverge (null) | = | = | = |

mod common;

use common::nights::{night, pmconf, record, result, write, N};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The nights written to `dir/nightN.json`.
fn nights(dir: &Path) -> Vec<PathBuf> {
    (0..4)
        .map(|n| {
            let p = dir.join(format!("night{n}.json"));
            write(&p, &night(n));
            p
        })
        .collect()
}

const KNOWN: &str = "\
- engine: firefox
  case: cases/a/fix.yaml
  bug: https://bugzilla.mozilla.org/show_bug.cgi?id=111
- engine: '*'
  case: cases/c/consensus.yaml
  spec: https://github.com/whatwg/html/issues/222
  note: every engine agrees; the model may be wrong
";

fn diff_json(dir: &Path, old: &str, new: &str) -> Value {
    let out = pmconf(
        dir,
        &[
            "report",
            "diff",
            old,
            new,
            "--format",
            "json",
            "--known",
            "known.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// (engine, case, kind, causes) of each change.
fn changes(diff: &Value) -> Vec<(String, String, String, Vec<String>)> {
    diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["engine"].as_str().unwrap().to_owned(),
                c["case"].as_str().unwrap().to_owned(),
                c["kind"].as_str().unwrap().to_owned(),
                c["causes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["cause"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

/// `night` without `engine`'s results and session.
fn without(mut night: Value, engine: &str) -> Value {
    night["results"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["engine"] != engine);
    night["engines"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["engine"] != engine);
    night
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    nights(dir.path());
    std::fs::write(dir.path().join("known.yaml"), KNOWN).unwrap();
    dir
}

fn c(
    engine: &str,
    case: &str,
    kind: &str,
    causes: &[&str],
) -> (String, String, String, Vec<String>) {
    (
        engine.into(),
        format!("cases/{case}"),
        kind.into(),
        causes.iter().map(|s| s.to_string()).collect(),
    )
}

#[test]
fn diff_classifies_every_kind_of_change_with_its_cause() {
    let dir = setup();
    let d = diff_json(dir.path(), "night0.json", "night1.json");
    let mut got = changes(&d);
    got.sort();
    let mut want = vec![
        c(
            "chromium",
            "a/regress.yaml",
            "regression",
            &["engine-version"],
        ),
        c(
            "chromium",
            "b/flaky.yaml",
            "became-flaky",
            &["engine-version"],
        ),
        c("chromium", "b/removed.yaml", "removed", &["case-file"]),
        c("chromium", "b/added.yaml", "added", &["case-file"]),
        c("firefox", "a/fix.yaml", "fix", &["model-answer"]),
        c("firefox", "b/timeout.yaml", "unconcluded", &["unexplained"]),
        c("firefox", "b/removed.yaml", "removed", &["case-file"]),
        c("firefox", "b/added.yaml", "added", &["case-file"]),
        c(
            "webkitgtk",
            "a/changed.yaml",
            "changed-divergence",
            &["case-file"],
        ),
        c("webkitgtk", "b/removed.yaml", "removed", &["case-file"]),
        c("webkitgtk", "b/added.yaml", "added", &["case-file"]),
    ];
    want.sort();
    assert_eq!(got, want);
    let counts: Vec<(String, u64, u64, u64)> = d["engines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["engine"].as_str().unwrap().to_owned(),
                e["improved"].as_u64().unwrap(),
                e["regressed"].as_u64().unwrap(),
                e["changed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("chromium".to_owned(), 0, 2, 2),
            ("firefox".to_owned(), 1, 1, 2),
            ("webkitgtk".to_owned(), 0, 0, 3)
        ]
    );
    // The engine version cause carries both versions; regressions come first.
    assert_eq!(d["changes"][0]["kind"], "regression");
    assert_eq!(
        d["changes"][0]["causes"][0],
        json!({"cause": "engine-version", "from": "130.0", "to": "131.0"})
    );
    // The known-divergence link travels with the change.
    let fix = d["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "fix")
        .unwrap();
    assert_eq!(
        fix["known"],
        "bug https://bugzilla.mozilla.org/show_bug.cgi?id=111"
    );

    // The next nights: flakiness ends with no cause found; a conclusion
    // comes back with a new engine version; a regression is fixed.
    let mut got = changes(&diff_json(dir.path(), "night1.json", "night2.json"));
    got.sort();
    assert_eq!(
        got,
        [
            c(
                "chromium",
                "b/flaky.yaml",
                "stopped-flaky",
                &["unexplained"]
            ),
            c(
                "firefox",
                "b/timeout.yaml",
                "concluded",
                &["engine-version"]
            ),
        ]
    );
    assert_eq!(
        changes(&diff_json(dir.path(), "night2.json", "night3.json")),
        [c("chromium", "a/regress.yaml", "fix", &["engine-version"])]
    );
    assert!(changes(&diff_json(dir.path(), "night3.json", "night3.json")).is_empty());

    // An engine that could not start is not compared case by case.
    let mut failed = without(night(3), "firefox");
    failed["setup_failures"] = json!([{"engine": "firefox", "error": "session creation did not finish within 30s\ndriver output..."}]);
    write(&dir.path().join("failed.json"), &failed);
    let d = diff_json(dir.path(), "night3.json", "failed.json");
    assert!(changes(&d).is_empty(), "{d}");
    // One engine order everywhere: chromium, firefox, webkitgtk.
    assert_eq!(d["engines"][1]["engine"], "firefox");
    assert_eq!(
        d["engines"][1]["not_compared"],
        "not run on the new night (failed.json): setup failed: session creation did not finish within 30s\ndriver output..."
    );
    let text = stdout(&pmconf(
        dir.path(),
        &["report", "diff", "night3.json", "failed.json"],
    ));
    assert!(text.contains("\nchromium   0 improved, 0 regressed, 0 changed (version 132.0)\nfirefox    not run on the new night (failed.json): setup failed: session creation did not finish within 30s\nwebkitgtk  0 improved"), "{text}");
    assert!(text.ends_with("\nno changes\n"), "{text}");

    // Same status and the same observation, but the snapshot no longer
    // matches: the accepted snapshot was edited. Named as the cause, and a
    // change, not a regression (the verdict stayed); and back.
    let mut edited = night(3);
    let diff = "-  origin: http://x.test\n+  origin: A\n\\ No newline at end of file\n";
    edited["results"][0]["snapshot"] =
        json!({"status": "changed", "pending": "p.snap.new", "diff": diff});
    write(&dir.path().join("edited.json"), &edited);
    let d = diff_json(dir.path(), "night3.json", "edited.json");
    assert_eq!(
        changes(&d),
        [c(
            "chromium",
            "a/stable.yaml",
            "became-unexpected",
            &["accepted-snapshot"]
        )]
    );
    // Shown to people without diff's "\ No newline at end of file".
    assert_eq!(
        d["changes"][0]["snapshot_diff"],
        "-  origin: http://x.test\n+  origin: A\n"
    );
    assert_eq!(
        (&d["engines"][0]["regressed"], &d["engines"][0]["changed"]),
        (&json!(0), &json!(1))
    );
    let d = diff_json(dir.path(), "edited.json", "night3.json");
    assert_eq!(
        changes(&d),
        [c(
            "chromium",
            "a/stable.yaml",
            "expected-again",
            &["accepted-snapshot"]
        )]
    );
    let text = stdout(&pmconf(
        dir.path(),
        &["report", "diff", "night3.json", "edited.json"],
    ));
    assert!(
        text.contains("cases/a/stable.yaml: conforms -> conforms (unexpected); cause: accepted snapshot changed (the engine saw what it saw before)"),
        "{text}"
    );
    assert!(
        text.contains("\n      -  origin: http://x.test\n      +  origin: A\n"),
        "{text}"
    );
    assert!(!text.contains("No newline"), "{text}");
    let out = pmconf(
        dir.path(),
        &[
            "report",
            "diff",
            "night3.json",
            "edited.json",
            "--fail-on",
            "regression",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "a snapshot mismatch with the same verdict is no regression"
    );
    // Another observation with the same verdict (here a race histogram the
    // night before did not have) is not put down to the snapshot.
    let mut other = edited.clone();
    let seen = other["results"][0]["observed"].clone();
    other["results"][0]["histogram"] = json!([{"outcome": seen, "count": 2, "allowed": true}]);
    write(&dir.path().join("other.json"), &other);
    assert_eq!(
        changes(&diff_json(dir.path(), "night3.json", "other.json")),
        [c(
            "chromium",
            "a/stable.yaml",
            "became-unexpected",
            &["unexplained"]
        )]
    );
}

#[test]
fn diff_fails_on_what_it_is_asked_to_and_prints_text_and_markdown() {
    let dir = setup();
    let run = |old: &str, new: &str, fail_on: &str, format: &str| {
        pmconf(
            dir.path(),
            &[
                "report",
                "diff",
                old,
                new,
                "--fail-on",
                fail_on,
                "--format",
                format,
                "--known",
                "known.yaml",
            ],
        )
    };
    let regressed = run("night0.json", "night1.json", "regression", "text");
    assert_eq!(regressed.status.code(), Some(1), "{}", stderr(&regressed));
    let text = stdout(&regressed);
    assert!(
        text.contains("chromium   0 improved, 2 regressed, 2 changed (version 130.0 -> 131.0)"),
        "{text}"
    );
    assert!(text.contains("\nregression (1):\n  chromium   cases/a/regress.yaml: conforms -> diverges (accepted); cause: engine version 130.0 -> 131.0\n"), "{text}");
    assert!(text.contains("cases/a/fix.yaml: diverges (accepted) -> conforms; cause: model answer changed; known: bug https://bugzilla.mozilla.org/show_bug.cgi?id=111"), "{text}");
    assert!(
        text.contains("cases/b/flaky.yaml: conforms -> conforms (flaky)"),
        "{text}"
    );
    assert!(
        text.contains(
            "cases/b/timeout.yaml: conforms -> inconclusive; cause: same engine, model and case"
        ),
        "{text}"
    );
    // Only improvements: not a regression, but a change.
    assert_eq!(
        run("night2.json", "night3.json", "regression", "text")
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run("night2.json", "night3.json", "change", "text")
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run("night3.json", "night3.json", "change", "text")
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run("night0.json", "night1.json", "never", "text")
            .status
            .code(),
        Some(0)
    );
    let md = stdout(&run("night0.json", "night1.json", "never", "markdown"));
    assert!(
        md.contains("| engine | version | improved | regressed | changed |"),
        "{md}"
    );
    assert!(md.contains("| regression | chromium | `cases/a/regress.yaml` | conforms -> diverges (accepted) | engine version 130.0 -> 131.0 |  |"), "{md}");
}

#[test]
fn bad_input_names_the_file_and_the_fix_and_writes_nothing() {
    let dir = setup();
    std::fs::write(
        dir.path().join("broken.json"),
        "{\"format\": \"pmconf-results/1\",\n \"results\": [1,]}",
    )
    .unwrap();
    let out = pmconf(
        dir.path(),
        &["report", "diff", "night0.json", "broken.json"],
    );
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(e.contains("broken.json:2:"), "{e}");
    assert!(
        e.contains("fix: pass a results.json that `pmconf run` wrote"),
        "{e}"
    );
    std::fs::write(
        dir.path().join("other.json"),
        r#"{"format": "pmconf-results/9", "results": []}"#,
    )
    .unwrap();
    let e = stderr(&pmconf(
        dir.path(),
        &[
            "report",
            "merge",
            "night0.json",
            "other.json",
            "-o",
            "m.json",
        ],
    ));
    assert!(
        e.contains("other.json: format is \"pmconf-results/9\""),
        "{e}"
    );
    assert!(!dir.path().join("m.json").exists());
    std::fs::write(
        dir.path().join("bad-known.yaml"),
        "- {engine: firefox, case: a.yaml}\n",
    )
    .unwrap();
    let out = pmconf(
        dir.path(),
        &[
            "report",
            "diff",
            "night0.json",
            "night1.json",
            "--known",
            "bad-known.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad-known.yaml: entry 1: has no link"),
        "{}",
        stderr(&out)
    );
}

/// Night 0 split into one file per engine, or shards: each written by the
/// run's own JSON reporter, as that engine's job would, started
/// `start_s` seconds after night 0's start, by pmconf revision `revision`.
fn split(
    dir: &Path,
    keep: impl Fn(&Value) -> bool,
    name: &str,
    start_s: u64,
    revision: &str,
) -> String {
    let v = night(0);
    let results: Vec<Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| keep(r))
        .cloned()
        .collect();
    let engines: Vec<(&str, &str)> = v["engines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| results.iter().any(|r| r["engine"] == e["engine"]))
        .map(|e| {
            (
                e["engine"].as_str().unwrap(),
                e["browser_version"].as_str().unwrap(),
            )
        })
        .collect();
    let file = common::nights::reported(
        &results,
        &engines,
        common::nights::NIGHT0_UNIX_MS + start_s * 1000,
        revision,
    );
    write(&dir.join(name), &file);
    name.to_owned()
}

#[test]
fn merge_joins_engines_and_shards_and_refuses_conflicts() {
    let dir = setup();
    let p = dir.path();
    let chromium = split(p, |r| r["engine"] == "chromium", "chromium.json", 100, "r1");
    let firefox_a = split(
        p,
        |r| r["engine"] == "firefox" && r["case"].as_str().unwrap().contains("/a/"),
        "firefox-a.json",
        50,
        "r1",
    );
    let firefox_rest = split(
        p,
        |r| r["engine"] == "firefox" && !r["case"].as_str().unwrap().contains("/a/"),
        "firefox-rest.json",
        120,
        "r1",
    );
    let webkit = split(
        p,
        |r| r["engine"] == "webkitgtk",
        "webkitgtk.json",
        100,
        "r1",
    );
    // One job took longer than the others.
    let mut slow: Value =
        serde_json::from_str(&std::fs::read_to_string(p.join(&webkit)).unwrap()).unwrap();
    slow["run"]["seconds"] = json!(7.5);
    write(&p.join(&webkit), &slow);
    // Each job lists the model snapshots that are not accepted (the model
    // is the same in every job).
    let pending =
        |case: &str| json!({"case": case, "snapshot": {"status": "new", "pending": "p.snap.new"}});
    for (file, cases) in [
        (&chromium, vec!["cases/a/stable.yaml"]),
        (
            &firefox_a,
            vec!["cases/a/stable.yaml", "cases/b/flaky.yaml"],
        ),
    ] {
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(p.join(file)).unwrap()).unwrap();
        v["model_snapshots"] = json!(cases.iter().map(|c| pending(c)).collect::<Vec<_>>());
        write(&p.join(file), &v);
    }
    let out = pmconf(
        p,
        &[
            "report",
            "merge",
            &chromium,
            &firefox_a,
            &firefox_rest,
            &webkit,
            "-o",
            "merged/results.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged: Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("merged/results.json")).unwrap())
            .unwrap();
    assert_eq!(merged["format"], "pmconf-results/1");
    assert_eq!(merged["results"].as_array().unwrap().len(), 24);
    assert_eq!(merged["engines"].as_array().unwrap().len(), 3);
    // The run block of the jobs, kept: the earliest start (firefox-a, 50 s
    // after 03:17:00), the latest end (firefox-rest: 120 s + 5 s), the
    // longest time, the revision they agree on.
    let run = &merged["run"];
    assert_eq!(run["revision"], "r1");
    assert_eq!(run["pmconf_version"], "0.1.0");
    assert_eq!(run["started_at"], "2026-11-01 03:17:50 UTC");
    assert_eq!(
        run["started_unix_ms"],
        common::nights::NIGHT0_UNIX_MS + 50_000
    );
    assert_eq!(run["ended_at"], "2026-11-01 03:19:05 UTC");
    assert_eq!(run["seconds"], 7.5);
    // Each case once in the cases block, with what the reports show.
    let cases = merged["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    assert_eq!(
        cases[0]["references"],
        json!(["https://example.test/cases/a/stable.yaml"])
    );
    assert_eq!(
        merged["model_snapshots"],
        json!([
            pending("cases/a/stable.yaml"),
            pending("cases/b/flaky.yaml")
        ])
    );
    assert_eq!(merged["summary"]["firefox"]["conforms"], 6);
    assert_eq!(merged["summary"]["firefox"]["diverges"], 2);
    // The merged file diffs like the original night...
    assert!(changes(&diff_json(p, "night0.json", "merged/results.json")).is_empty());
    // ...and its summary names the revision.
    let md = stdout(&pmconf(
        p,
        &["report", "summary", "merged/results.json", "--markdown"],
    ));
    assert!(md.contains("pmconf revision `r1`"), "{md}");
    assert!(md.contains("started 2026-11-01 03:17:50 UTC"), "{md}");

    let refused = |args: &[&str], needle: &str| {
        let out = pmconf(
            p,
            &[&["report", "merge"], args, &["-o", "refused.json"]].concat(),
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
        assert!(!p.join("refused.json").exists());
    };
    // A case twice.
    refused(
        &[&chromium, &chromium],
        "chromium.json and chromium.json conflict: both hold cases/a/stable.yaml in chromium",
    );
    // Another browser build of the same engine.
    let mut other = night(0);
    other["engines"][0]["browser_version"] = json!("999.0");
    other["results"] = json!([]);
    write(&p.join("other-build.json"), &other);
    refused(
        &[&chromium, "other-build.json"],
        "chromium was 130.0 in one and 999.0 in the other",
    );
    // Another revision.
    let other_rev = split(p, |r| r["engine"] == "webkitgtk", "other-rev.json", 0, "r2");
    refused(
        &[&chromium, &other_rev],
        "run.revision is \"r1\" in one and \"r2\" in the other",
    );
    // The same description of two commits: one run names one commit.
    let with_commit = |file: &str, commit: &str| {
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(p.join(file)).unwrap()).unwrap();
        v["run"]["commit"] = json!(commit);
        write(&p.join(file), &v);
    };
    let other_commit = split(
        p,
        |r| r["engine"] == "webkitgtk",
        "other-commit.json",
        0,
        "r1",
    );
    let (one, two) = ("1".repeat(40), "2".repeat(40));
    with_commit(&chromium, &one);
    with_commit(&other_commit, &two);
    refused(
        &[&chromium, &other_commit],
        &format!("run.commit is \"{one}\" in one and \"{two}\" in the other"),
    );
}

/// Four nights recorded into `dir/data`, with package lists and case files
/// (a/fix.yaml's file changes between nights 1 and 2).
fn recorded_history(dir: &Path) {
    for n in 0..4 {
        let cases = dir.join("cases");
        let _ = std::fs::remove_dir_all(&cases);
        for case in [
            "a/stable",
            "a/regress",
            "a/fix",
            "a/changed",
            "b/flaky",
            "b/timeout",
            "c/consensus",
        ] {
            let path = cases.join(format!("{case}.yaml"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let text = if case == "a/fix" && n > 0 {
                "fix, version 2\n"
            } else {
                "a case\n"
            };
            std::fs::write(path, format!("{case}: {text}")).unwrap();
        }
        std::fs::write(
            dir.join("packages.txt"),
            format!(
                "chromium\t{}.0-1~deb12u1\nfirefox-esr\t128.0esr-1\n",
                130 + n
            ),
        )
        .unwrap();
        let out = record(
            dir,
            n,
            &[
                "--packages",
                "packages.txt",
                "--cases",
                "cases",
                "--known",
                "known.yaml",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "night {n}: {}", stderr(&out));
    }
}

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = Default::default();
    walk(dir, dir, &mut out);
    out
}

/// `pmconf report history CASE --data data --format FORMAT`, its output.
fn history(p: &Path, case: &str, format: &str) -> String {
    stdout(&pmconf(
        p,
        &[
            "report", "history", case, "--data", "data", "--format", format,
        ],
    ))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn history_records_nights_per_case_logs_changes_and_replaces_only_the_latest() {
    let dir = setup();
    let p = dir.path();
    recorded_history(p);
    let index = read_json(&p.join("data/nights.json"));
    assert_eq!(index["format"], "pmconf-history/2");
    let nights = index["nights"].as_array().unwrap();
    assert_eq!(nights.len(), 4);
    // Night 1: counts derived by hand from the table at the top.
    let n1 = &nights[0];
    assert_eq!(n1["night"], N[0]);
    assert_eq!(n1["revision"], format!("{:040x}", 1));
    assert_eq!(n1["run_link"], "https://github.com/o/pmconf/actions/runs/0");
    assert_eq!(n1["started_at"], "2026-11-01 03:17:00 UTC");
    assert_eq!(n1["interop_score"], 62.5);
    let e = &n1["engines"];
    let counts = |engine: &str| {
        ["conforms", "diverges", "accepted", "total"].map(|k| e[engine][k].as_u64().unwrap())
    };
    // Every synthetic divergence matches its accepted snapshot.
    assert_eq!(counts("chromium"), [7, 1, 1, 8]);
    assert_eq!(counts("firefox"), [6, 2, 2, 8]);
    assert_eq!(e["webkitgtk"]["version"], "2.46.0");
    assert_eq!(e["chromium"]["seconds"], 2.0);
    assert!(n1.get("absent").is_none(), "every engine took part");
    assert_eq!(nights[1]["engines"]["firefox"]["unconcluded"], 1);
    assert_eq!(nights[1]["engines"]["chromium"]["flaky"], 1);
    assert_eq!(nights[3]["interop_score"], 75.0);
    // Per night: packages and the merged run block (its revision).
    let meta = read_json(&p.join("data/nights/2026-11-02.json"));
    assert_eq!(meta["packages"]["chromium"], "131.0-1~deb12u1");
    assert_eq!(meta["run"]["revision"], "r1");
    // Per case and engine: the result of the last night, without its
    // duration, with the case file's digest.
    let stored = read_json(&p.join("data/results/firefox/cases/a/fix.yaml.json"));
    assert_eq!(stored["result"]["case"], "cases/a/fix.yaml");
    assert_eq!(stored["result"]["duration_ms"], 0);
    assert_eq!(stored["digest"].as_str().unwrap().len(), 16);
    // b/removed ran on night 1 only: its stored results went with it.
    assert!(!p
        .join("data/results/chromium/cases/b/removed.yaml.json")
        .exists());
    assert!(p.join("data/timelines/cases/b/removed.yaml.json").is_file());
    // Night 4 changed one result (chromium's a/regress, fixed): that is all
    // it wrote besides the index, its own file and the regressions (the
    // chromium regression closed). Versions moved (chromium 132.0), yet no
    // other result or timeline was written again.
    let journal = read_json(&p.join("data/undo/manifest.json"));
    assert_eq!(journal["night"], N[3]);
    assert_eq!(
        journal["changed"],
        json!([
            "nights.json",
            "regressions.json",
            "results/chromium/cases/a/regress.yaml.json",
            "timelines/cases/a/regress.yaml.json"
        ])
    );
    assert_eq!(journal["created"], json!(["nights/2026-11-04.json"]));
    // The change log: 11 + 2 + 1 changes, each with the night before.
    let log = std::fs::read_to_string(p.join("data/changes.jsonl")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 14);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["night"] == N[1] && l["previous"] == N[0])
            .count(),
        11
    );
    // With the case files' digests, the fix is also seen as a case file change.
    let fix = lines
        .iter()
        .find(|l| l["kind"] == "fix" && l["engine"] == "firefox")
        .unwrap();
    let causes: Vec<&str> = fix["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cause"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["model-answer", "case-file"]);

    // The latest night again (a re-run of its workflow run) replaces it:
    // nothing is added, every file is as it was.
    let before = tree(&p.join("data"));
    let same = [
        "--packages",
        "packages.txt",
        "--cases",
        "cases",
        "--known",
        "known.yaml",
    ];
    let out = record(p, 3, &[&same[..], &["--attempt", "2"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("recorded again (replacing its earlier attempt) night 2026-11-04"),
        "{}",
        stdout(&out)
    );
    let after = tree(&p.join("data"));
    assert_eq!(
        after
            .keys()
            .filter(|f| !f.starts_with("undo/"))
            .collect::<Vec<_>>(),
        before
            .keys()
            .filter(|f| !f.starts_with("undo/"))
            .collect::<Vec<_>>()
    );
    for (file, bytes) in &before {
        if file.starts_with("undo/") {
            continue;
        }
        if file == "nights.json" || file == "nights/2026-11-04.json" {
            // Only the attempt is new.
            let mut v: Value = serde_json::from_slice(&after[file]).unwrap();
            let entry = if file == "nights.json" {
                &mut v["nights"][3]
            } else {
                &mut v
            };
            assert_eq!(
                entry.as_object_mut().unwrap().remove("attempt"),
                Some(json!(2))
            );
            assert_eq!(v, serde_json::from_slice::<Value>(bytes).unwrap(), "{file}");
        } else {
            assert_eq!(&after[file], bytes, "{file}");
        }
    }
    // An older attempt cannot replace a newer one; an earlier night cannot
    // be recorded again; nothing changes.
    let now = tree(&p.join("data"));
    let out = record(p, 3, &["--attempt", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("attempt 1 of night \"2026-11-04\" is older than the recorded attempt 2"),
        "{}",
        stderr(&out)
    );
    let out = record(p, 1, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "night \"2026-11-02\" is recorded already, and night \"2026-11-04\" after it; fix: only the latest night can be recorded again"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(&p.join("data")), now);
    // A directory that is not a history is refused, and so is a history
    // of the first format.
    std::fs::create_dir_all(p.join("not-history")).unwrap();
    std::fs::write(p.join("not-history/x"), "x").unwrap();
    let out = pmconf(
        p,
        &[
            "report",
            "record",
            "not-history",
            "--night",
            "2026-12-01",
            "--results",
            "night0.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not-history: has files but no nights.json"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir_all(p.join("old")).unwrap();
    std::fs::write(
        p.join("old/nights.json"),
        r#"{"format": "pmconf-history/1", "nights": []}"#,
    )
    .unwrap();
    let out = pmconf(p, &["report", "site", "old", "-o", "old-site"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("old/nights.json: format is \"pmconf-history/1\", this pmconf reads \"pmconf-history/2\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_partial_night_records_the_engine_absent_and_the_next_compares_with_its_last_night() {
    let dir = setup();
    let p = dir.path();
    // Night 2 without firefox: its job failed.
    let partial = without(night(1), "firefox");
    write(&p.join("night1.json"), &partial);
    for n in 0..3 {
        let out = record(
            p,
            n,
            &[
                "--engines",
                "chromium,firefox,webkitgtk",
                "--absent",
                "firefox=its run job uploaded nothing",
                "--known",
                "known.yaml",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "night {n}: {}", stderr(&out));
    }
    let index = read_json(&p.join("data/nights.json"));
    let n2 = &index["nights"][1];
    assert_eq!(
        n2["absent"],
        json!({"firefox": {"reason": "its run job uploaded nothing", "link": "https://github.com/o/pmconf/actions/runs/1"}})
    );
    assert!(n2["engines"].get("firefox").is_none());
    // Over chromium and webkitgtk: stable, fix, flaky, timeout and added
    // conform in both; regress, changed and consensus do not: 5 of 8.
    assert_eq!(n2["interop_score"], 62.5);
    let firefox = n2["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["engine"] == "firefox")
        .unwrap();
    assert_eq!(
        firefox["not_compared"],
        "absent this night: its run job uploaded nothing"
    );
    // Night 3 compares firefox with night 1, its last night: a/fix is
    // fixed, b/removed removed, b/added added (b/timeout's inconclusive
    // night 2 never happened for it).
    let log: Vec<Value> = std::fs::read_to_string(p.join("data/changes.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut firefox: Vec<(String, String, String)> = log
        .iter()
        .filter(|l| l["engine"] == "firefox")
        .map(|l| {
            (
                l["night"].as_str().unwrap().to_owned(),
                l["previous"].as_str().unwrap().to_owned(),
                format!(
                    "{} {}",
                    l["kind"].as_str().unwrap(),
                    l["case"].as_str().unwrap()
                ),
            )
        })
        .collect();
    firefox.sort();
    let f = |what: &str| (N[2].to_owned(), N[0].to_owned(), what.to_owned());
    assert_eq!(
        firefox,
        [
            f("added cases/b/added.yaml"),
            f("fix cases/a/fix.yaml"),
            f("removed cases/b/removed.yaml")
        ]
    );
    // The timeline shows the night firefox was absent, and its run of
    // nights goes on across it.
    let text = stdout(&pmconf(
        p,
        &["report", "history", "cases/a/stable.yaml", "--data", "data"],
    ));
    assert!(
        text.contains("firefox (flip rate 0.00):\n  conforms               2026-11-01 .. 2026-11-03 (2 nights; version 128.0 .. 129.0)\n  engine absent on 1 night (its job produced no results)\n"),
        "{text}"
    );
    // The summary and the site of a history whose latest night is the
    // partial one say so.
    for (n, id) in N.iter().enumerate().take(2) {
        let out = pmconf(
            p,
            &[
                "report",
                "record",
                "partial",
                "--night",
                id,
                "--results",
                &format!("night{n}.json"),
                "--absent",
                "firefox=its run job uploaded nothing",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let md = stdout(&pmconf(p, &["report", "summary", "partial", "--markdown"]));
    assert!(
        md.contains("**firefox absent:** its run job uploaded nothing"),
        "{md}"
    );
    let out = pmconf(p, &["report", "site", "partial", "-o", "site"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(p.join("site/index.html")).unwrap();
    assert!(
        html.contains("<dd class=\"s-absent\" data-engine=\"firefox\" data-absent=\"1\">absent this night: its run job uploaded nothing</dd>"),
        "{html}"
    );
    assert!(
        html.contains("<th data-engine=\"firefox\">firefox (absent)</th>"),
        "{html}"
    );
    assert!(
        html.contains("(over the 2 engines that took part; absent: firefox)"),
        "{html}"
    );
}

#[test]
fn history_gives_timelines_version_ranges_and_flip_rates() {
    let dir = setup();
    let p = dir.path();
    recorded_history(p);
    let out = pmconf(
        p,
        &[
            "report",
            "history",
            "cases/a/regress.yaml",
            "--data",
            "data",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let chromium = &t["engines"][0];
    assert_eq!(chromium["engine"], "chromium");
    let segments: Vec<(String, String, String, String, String)> = chromium["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let f = |k: &str| s[k].as_str().unwrap().to_owned();
            (
                f("label"),
                f("first_night"),
                f("last_night"),
                f("first_version"),
                f("last_version"),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        (
            a.to_owned(),
            b.to_owned(),
            c.to_owned(),
            d.to_owned(),
            e.to_owned(),
        )
    };
    assert_eq!(
        segments,
        [
            s("conforms", N[0], N[0], "130.0", "130.0"),
            s("diverges (accepted)", N[1], N[2], "131.0", "131.0"),
            s("conforms", N[3], N[3], "132.0", "132.0"),
        ]
    );
    // Two changes in three pairs of nights.
    assert_eq!(chromium["flip_rate"], 0.667);
    assert_eq!(t["engines"][1]["flip_rate"], 0.0);
    let text = history(p, "cases/a/regress.yaml", "text");
    assert!(
        text.contains(
            "changed: conforms -> diverges (accepted) between 130.0 (2026-11-01) and 131.0 (2026-11-02)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "changed: diverges (accepted) -> conforms between 131.0 (2026-11-03) and 132.0 (2026-11-04)"
        ),
        "{text}"
    );
    assert!(text.contains("firefox (flip rate 0.00):\n  conforms               2026-11-01 .. 2026-11-04 (4 nights; version 128.0 .. 129.0)"), "{text}");
    // A case that went away: its absence is a segment, not a flip.
    let text = history(p, "cases/b/removed.yaml", "text");
    assert!(
        text.contains("absent                 2026-11-02 .. 2026-11-04 (3 nights"),
        "{text}"
    );
    assert!(!text.contains("changed:"), "{text}");
    let md = history(p, "cases/b/flaky.yaml", "markdown");
    assert!(
        md.contains("| chromium | conforms (flaky) | 2026-11-02 | 2026-11-02 | 1 | 131.0 |"),
        "{md}"
    );
    let out = pmconf(
        p,
        &["report", "history", "cases/nope.yaml", "--data", "data"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no night in data ran \"cases/nope.yaml\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn summary_is_markdown_with_changes_and_known_links() {
    let dir = setup();
    let out = pmconf(
        dir.path(),
        &[
            "report",
            "summary",
            "night1.json",
            "--markdown",
            "--previous",
            "night0.json",
            "--known",
            "known.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(
        md.contains("| chromium | 131.0 | 6 | 0 | 2 | 2 | 0 | 1 | 0 | 8 |"),
        "{md}"
    );
    assert!(
        md.contains("| firefox | 128.0 | 6 | 0 | 1 | 1 | 1 | 0 | 1 | 8 |"),
        "{md}"
    );
    assert!(
        md.contains("| regression | chromium | `cases/a/regress.yaml`"),
        "{md}"
    );
    assert!(md.contains("| firefox | `cases/c/consensus.yaml` | diverges (accepted) | spec issue https://github.com/whatwg/html/issues/222 |"), "{md}");
    assert!(md.len() < 1024 * 1024);
}

/// A night with so many divergences that the summary must be cut.
#[test]
fn summary_stays_under_the_step_summary_limit() {
    let dir = tempfile::tempdir().unwrap();
    let results: Vec<Value> = (0..12000)
        .map(|i| {
            result(
                "chromium",
                &format!("cases/huge/{i:05}-{}.yaml", "x".repeat(80)),
                Some("B"),
                &["A"],
            )
        })
        .collect();
    let v = json!({"format": "pmconf-results/1", "engines": [{"engine": "chromium", "browser_version": "1"}], "results": results});
    write(&dir.path().join("huge.json"), &v);
    let out = pmconf(
        dir.path(),
        &["report", "summary", "huge.json", "--markdown"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(md.len() < 1024 * 1024, "{}", md.len());
    assert!(md.contains("cut short: see the results artifact"));
}

#[test]
fn site_matches_its_golden_files_and_the_results() {
    let dir = setup();
    let p = dir.path();
    recorded_history(p);
    let out = pmconf(
        p,
        &[
            "report",
            "site",
            "data",
            "-o",
            "site",
            "--known",
            "known.yaml",
            "--sources",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let index = std::fs::read_to_string(p.join("site/index.html")).unwrap();
    let case = std::fs::read_to_string(p.join("site/case/cases__a__regress.yaml.html")).unwrap();
    // Numbers from the table at the top: night 4.
    for (engine, conforms) in [("chromium", 7), ("firefox", 7), ("webkitgtk", 6)] {
        let cell = format!("data-engine=\"{engine}\" data-conforms=\"{conforms}\" data-total=\"8\">{conforms}/8</td>");
        assert!(index.contains(&cell), "{engine}: {cell}");
    }
    assert!(index.contains("data-score=\"75.0\">75.0%"));
    assert!(index.contains("<table id=\"engine-specific\"><tr><th>case</th><th>engine</th><th>known (filed bug)</th></tr>\n<tr data-engine=\"webkitgtk\"><td class=\"case\"><a href=\"case/cases__a__changed.yaml.html\">"));
    assert!(index.contains("<a href=\"https://github.com/whatwg/html/issues/222\">spec issue</a>"));
    assert!(index.contains("<svg id=\"trend\""));
    assert!(!index.contains("src=\"http"), "no external resource");
    assert!(case.contains("<a href=\"../src/cases/a/regress.yaml\">case file (YAML)</a>"));
    assert!(p.join("site/src/cases/a/regress.yaml").is_file());
    insta::assert_snapshot!("site_index", index);
    insta::assert_snapshot!("site_case_regress", case);
    let changed = std::fs::read_to_string(p.join("site/case/cases__a__changed.yaml.html")).unwrap();
    insta::assert_snapshot!("site_case_changed", changed);

    // A second build replaces the site whole; a failing one leaves it.
    std::fs::write(p.join("data/nights.json"), "{").unwrap();
    let out = pmconf(p, &["report", "site", "data", "-o", "site"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("data/nights.json:1:"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(p.join("site/index.html")).unwrap(),
        index
    );
    let leftovers: Vec<_> = std::fs::read_dir(p)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".pmconf-site"))
        .collect();
    assert!(leftovers.is_empty());
}

const ISSUE: &str = "https://github.com/whatwg/html/issues/3267";

/// Two nights of contested and crashed results (chromium; firefox the
/// same both nights), allowed `A`, contested `B`:
///
/// | case | night 1 chromium | night 2 chromium | firefox |
/// |---|---|---|---|
/// | a/to-contested | conforms | contested | conforms |
/// | a/from-contested | contested | conforms | conforms |
/// | a/contested-regress | contested | diverges (C) | contested |
/// | a/contested-fix | diverges (C) | contested | conforms |
/// | a/still-contested | contested | contested | conforms |
/// | a/crash | conforms | crashed | conforms |
fn contested_night(n: usize) -> Value {
    use common::nights::{contested, crashed};
    let allowed: &[&str] = &["A"];
    let is_contested =
        |engine: &str, case: &str| contested(engine, case, "B", allowed, &["B"], ISSUE);
    let conforms = |engine: &str, case: &str| result(engine, case, Some("A"), allowed);
    let diverges = |engine: &str, case: &str| result(engine, case, Some("C"), allowed);
    let c = |case: &str| format!("cases/a/{case}.yaml");
    let e = "chromium";
    let mut results = if n == 0 {
        vec![
            conforms(e, &c("to-contested")),
            is_contested(e, &c("from-contested")),
            is_contested(e, &c("contested-regress")),
            diverges(e, &c("contested-fix")),
            is_contested(e, &c("still-contested")),
            conforms(e, &c("crash")),
        ]
    } else {
        vec![
            is_contested(e, &c("to-contested")),
            conforms(e, &c("from-contested")),
            diverges(e, &c("contested-regress")),
            is_contested(e, &c("contested-fix")),
            is_contested(e, &c("still-contested")),
            crashed(e, &c("crash"), "session died twice: chromedriver exited"),
        ]
    };
    let f = "firefox";
    for case in [
        "to-contested",
        "from-contested",
        "contested-fix",
        "still-contested",
        "crash",
    ] {
        results.push(conforms(f, &c(case)));
    }
    results.push(is_contested(f, &c("contested-regress")));
    common::nights::reported(
        &results,
        &[("chromium", "131.0"), ("firefox", "128.0")],
        common::nights::NIGHT0_UNIX_MS + n as u64 * 86_400_000,
        "r1",
    )
}

fn contested_setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..2 {
        write(
            &dir.path().join(format!("night{n}.json")),
            &contested_night(n),
        );
    }
    std::fs::write(dir.path().join("known.yaml"), "[]\n").unwrap();
    dir
}

#[test]
fn diff_tells_contested_from_conforming_and_crashed_from_concluded() {
    let dir = contested_setup();
    let diff = diff_json(dir.path(), "night0.json", "night1.json");
    let mut got = changes(&diff);
    got.sort();
    let same = &["unexplained"];
    let mut want = vec![
        c("chromium", "a/contested-fix.yaml", "fix", same),
        c("chromium", "a/contested-regress.yaml", "regression", same),
        c("chromium", "a/crash.yaml", "unconcluded", same),
        c(
            "chromium",
            "a/from-contested.yaml",
            "no-longer-contested",
            same,
        ),
        c("chromium", "a/to-contested.yaml", "became-contested", same),
    ];
    want.sort();
    assert_eq!(got, want);
    let chromium = &diff["engines"][0];
    assert_eq!(chromium["engine"], "chromium");
    // fix; regression + no longer concludes; became / no longer contested.
    assert_eq!(
        (
            &chromium["improved"],
            &chromium["regressed"],
            &chromium["changed"]
        ),
        (&json!(1), &json!(2), &json!(2))
    );
    assert_eq!(
        (
            &diff["engines"][1]["improved"],
            &diff["engines"][1]["regressed"],
            &diff["engines"][1]["changed"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );
    let transition = |case: &str| {
        let change = diff["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["case"] == format!("cases/a/{case}.yaml"))
            .unwrap();
        (
            change["from"]["status"].clone(),
            change["to"]["status"].clone(),
        )
    };
    assert_eq!(
        transition("to-contested"),
        (json!("conforms"), json!("contested"))
    );
    assert_eq!(transition("crash").1, json!("unconcluded"));
    let out = pmconf(
        dir.path(),
        &["report", "diff", "night0.json", "night1.json"],
    );
    let text = stdout(&out);
    assert!(
        text.contains("chromium   1 improved, 2 regressed, 2 changed"),
        "{text}"
    );
    assert!(
        text.contains(
            "became contested (1):\n  chromium   cases/a/to-contested.yaml: conforms -> contested;"
        ),
        "{text}"
    );
    assert!(text.contains("no longer contested (1):\n  chromium   cases/a/from-contested.yaml: contested -> conforms;"), "{text}");
    assert!(
        text.contains("cases/a/crash.yaml: conforms -> crashed;"),
        "{text}"
    );
}

#[test]
fn history_summary_and_site_count_contested_apart() {
    let dir = contested_setup();
    let p = dir.path();
    for n in 0..2 {
        let out = record(p, n, &[]);
        assert_eq!(out.status.code(), Some(0), "night {n}: {}", stderr(&out));
    }
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("data/nights.json")).unwrap())
            .unwrap();
    let counts = |night: usize, engine: &str| {
        let e = &index["nights"][night]["engines"][engine];
        ["conforms", "contested", "diverges", "unconcluded", "total"]
            .map(|k| e[k].as_u64().unwrap())
    };
    // From the table above.
    assert_eq!(counts(0, "chromium"), [2, 3, 1, 0, 6]);
    assert_eq!(counts(1, "chromium"), [1, 3, 1, 1, 6]);
    assert_eq!(counts(1, "firefox"), [5, 1, 0, 0, 6]);
    // Every engine conforms on to-contested and crash the first night,
    // from-contested the second: contested is not interop.
    assert_eq!(index["nights"][0]["interop_score"], json!(33.3));
    assert_eq!(index["nights"][1]["interop_score"], json!(16.7));

    let out = pmconf(p, &["report", "summary", "night1.json", "--markdown"]);
    let md = stdout(&out);
    assert!(
        md.contains("| engine | version | conforms | contested | diverges | of which accepted | not concluded |"),
        "{md}"
    );
    assert!(
        md.contains("| chromium | 131.0 | 1 | 3 | 1 | 1 | 1 | 0 | 1 | 6 |"),
        "{md}"
    );
    assert!(
        md.contains("| firefox | 128.0 | 5 | 1 | 0 | 0 | 0 | 0 | 0 | 6 |"),
        "{md}"
    );

    let out = pmconf(p, &["report", "site", "data", "-o", "site"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(p.join("site/index.html")).unwrap();
    assert!(html.contains("<dd data-engine=\"chromium\">version 131.0; 1.5 s over 6 cases; <span class=\"s-contested\" data-contested=\"3\">3 contested</span>; <span class=\"s-diverges\" data-accepted=\"1\">1 divergence accepted (its snapshot records it)</span></dd>"), "{html}");
    // to-contested, contested-fix, still-contested (chromium),
    // contested-regress (firefox).
    assert!(
        html.contains("<p id=\"contested\" data-contested=\"4\">"),
        "{html}"
    );
    assert!(html.contains("data-engine=\"chromium\" data-conforms=\"1\" data-total=\"6\" data-contested=\"3\" title=\"3 contested\">1/6</td>"), "{html}");
    assert!(html.contains("<td class=\"s-contested\" data-engine=\"chromium\" data-status=\"contested\">contested</td>"), "{html}");
    assert!(
        html.contains(
            "<td class=\"s-crashed\" data-engine=\"chromium\" data-status=\"crashed\">crashed</td>"
        ),
        "{html}"
    );
    // chromium diverges alone on contested-regress: firefox is contested,
    // which is no divergence.
    assert!(html.contains("<tr data-engine=\"chromium\"><td class=\"case\"><a href=\"case/cases__a__contested-regress.yaml.html\">"), "{html}");

    let case =
        std::fs::read_to_string(p.join("site/case/cases__a__contested-fix.yaml.html")).unwrap();
    assert!(
        case.contains(&format!(
            "<ul class=\"contested\"><li><a href=\"{ISSUE}\">{ISSUE}</a>: left open</li></ul>"
        )),
        "{case}"
    );
}

/// The engine names in `html`, in order: each `data-engine="…"` and each
/// `<th>…</th>` or `<text …>…</text>` naming one.
fn engine_names(html: &str) -> Vec<&'static str> {
    let mut found: Vec<(usize, &'static str)> = Vec::new();
    for engine in common::nights::ENGINES {
        for pattern in [
            format!("data-engine=\"{engine}\""),
            format!("<th>{engine}</th>"),
            format!(">{engine}</text>"),
            format!("<dt>{engine}</dt>"),
        ] {
            found.extend(html.match_indices(&pattern).map(|(i, _)| (i, engine)));
        }
    }
    found.sort();
    let mut names: Vec<&'static str> = found.into_iter().map(|(_, e)| e).collect();
    // A header cell and its data attribute name one engine once.
    names.dedup();
    names
}

/// The element `<tag id="id"…>…</tag>` of `html`.
fn element<'a>(html: &'a str, tag: &str, id: &str) -> &'a str {
    let at = html
        .find(&format!(" id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {tag}#{id}"));
    let start = html[..at].rfind(&format!("<{tag}")).unwrap();
    let end = html[start..].find(&format!("</{tag}>")).unwrap() + start;
    &html[start..end]
}

/// Two nights recorded and their site built under `p`.
fn scrambled_site(p: &Path) -> String {
    // Two nights whose files list webkitgtk first and chromium last; on
    // the second chromium and firefox both see B on a/stable, and
    // chromium's accepted snapshot of a/regress was edited (a diff without
    // a final line break).
    for n in 0..2 {
        let mut v = night(n);
        let mut results: Vec<Value> = v["results"].as_array().unwrap().clone();
        results.reverse();
        if n == 1 {
            for r in results.iter_mut() {
                let engine = r["engine"].as_str().unwrap().to_owned();
                if r["case"] == "cases/a/stable.yaml" && engine != "webkitgtk" {
                    r["observed"] = common::nights::outcome("B");
                    r["verdict"] = json!("diverges");
                }
                if r["case"] == "cases/b/timeout.yaml" && engine == "chromium" {
                    r["snapshot"] = json!({"status": "changed", "pending": "p.snap.new",
                        "diff": "-verdict: conforms\n+verdict: conforms \n\\ No newline at end of file\n"});
                }
            }
        }
        let versions: Vec<(String, String)> = v["engines"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .map(|e| {
                (
                    e["engine"].as_str().unwrap().to_owned(),
                    e["browser_version"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let engines: Vec<(&str, &str)> = versions
            .iter()
            .map(|(e, b)| (e.as_str(), b.as_str()))
            .collect();
        v = common::nights::reported(&results, &engines, common::nights::NIGHT0_UNIX_MS, "r");
        assert_eq!(
            v["engines"][0]["engine"], "webkitgtk",
            "scrambled on purpose"
        );
        write(&p.join(format!("night{n}.json")), &v);
        let out = record(p, n, &["--known", "known.yaml"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let out = pmconf(
        p,
        &[
            "report",
            "site",
            "data",
            "-o",
            "site",
            "--known",
            "known.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::read_to_string(p.join("site/index.html")).unwrap()
}

#[test]
fn site_report_summary_and_diff_list_engines_in_one_order() {
    let dir = setup();
    let p = dir.path();
    let index = scrambled_site(p);
    let order = ["chromium", "firefox", "webkitgtk"];
    let in_order = |html: &str, what: &str| {
        let names = engine_names(html);
        assert!(!names.is_empty(), "{what}: no engine");
        for chunk in names.chunks(3) {
            assert_eq!(chunk, &order[..chunk.len()], "{what}: {names:?}");
        }
    };
    // Every table of the front page.
    in_order(element(&index, "dl", "night"), "header");
    in_order(element(&index, "table", "deltas"), "changes per engine");
    in_order(element(&index, "svg", "trend"), "chart legend");
    let cases = element(&index, "table", "cases");
    for row in cases.split("<tr").skip(1) {
        in_order(row, "case tree row");
    }
    let changes = element(&index, "table", "changes");
    for kind in ["added", "removed"] {
        let rows: Vec<&str> = changes
            .split("<tr")
            .filter(|r| r.contains(&format!("data-kind=\"{kind}\"")))
            .collect();
        assert_eq!(rows.len(), 3, "{kind}");
        let engines: Vec<&str> = rows.iter().map(|r| engine_names(r)[0]).collect();
        assert_eq!(engines, order, "{kind}");
    }
    // And of a case page.
    let case = std::fs::read_to_string(p.join("site/case/cases__a__stable.yaml.html")).unwrap();
    for table in ["latest", "timeline", "segments", "flips"] {
        in_order(element(&case, "table", table), table);
    }
    // Summary and diff too.
    let md = stdout(&pmconf(
        p,
        &["report", "summary", "night1.json", "--markdown"],
    ));
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| engine | version |"))
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(table.len(), 3, "{md}");
    assert!(
        table[0].starts_with("| chromium") && table[2].starts_with("| webkitgtk"),
        "{md}"
    );
}

#[test]
fn site_has_a_section_for_divergences_two_engines_share() {
    let dir = setup();
    let index = scrambled_site(dir.path());
    // chromium and firefox diverge alike on a/stable, webkitgtk conforms.
    let shared = element(&index, "table", "shared");
    assert!(
        shared.contains("<tr data-engines=\"chromium firefox\"><td class=\"case\"><a href=\"case/cases__a__stable.yaml.html\">cases/a/stable.yaml</a></td><td>chromium, firefox</td><td>the same</td><td></td></tr>"),
        "{shared}"
    );
    assert!(!shared.contains("consensus.yaml"), "all three: consensus");
    assert!(element(&index, "table", "consensus").contains("consensus.yaml"));
}

#[test]
fn trend_lines_that_coincide_stay_visible() {
    let dir = setup();
    let index = scrambled_site(dir.path());
    // Lines that coincide (firefox and webkitgtk on night 1: 75% each)
    // stay visible: each series is drawn narrower than the one before.
    let svg = element(&index, "svg", "trend");
    let widths: Vec<f64> = svg
        .split("<polyline")
        .skip(1)
        .map(|l| {
            let w = l.split("stroke-width=\"").nth(1).unwrap();
            w[..w.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(widths.len(), 4, "{svg}");
    assert!(widths.windows(2).all(|w| w[0] > w[1]), "{widths:?}");
    let first_point = |series: &str| {
        let l = svg
            .split("<polyline")
            .find(|l| l.contains(&format!("data-series=\"{series}\"")))
            .unwrap();
        l.split("points=\"")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        first_point("firefox"),
        first_point("webkitgtk"),
        "they do overlap"
    );
}

#[test]
fn site_calls_divergences_accepted_and_shows_diffs_without_line_break_notes() {
    let dir = setup();
    let p = dir.path();
    let index = scrambled_site(p);
    // An accepted divergence is called accepted; known is for filed links.
    assert!(
        index.contains("data-status=\"diverges\">diverges (accepted)"),
        "{index}"
    );
    assert!(!index.contains("known: "), "{index}");
    // No diff tool's line-break note in a diff shown to people.
    assert!(index.contains("+verdict: conforms "), "{index}");
    let timeout = std::fs::read_to_string(p.join("site/case/cases__b__timeout.yaml.html")).unwrap();
    for page in [&index, &timeout] {
        assert!(!page.contains("No newline"), "{page}");
    }
}

#[test]
fn a_version_range_of_one_version_reads_as_one_version() {
    let dir = setup();
    let p = dir.path();
    recorded_history(p);
    // webkitgtk stayed 2.46.0 while a/changed changed divergence.
    let text = history(p, "cases/a/changed.yaml", "text");
    assert!(
        text.contains("changed: diverges (accepted) -> diverges (accepted) in 2.46.0, between 2026-11-01 and 2026-11-02\n"),
        "{text}"
    );
    assert!(!text.contains("2.46.0 .. 2.46.0"), "{text}");
    assert!(!text.contains("between 2.46.0"), "{text}");
    let md = history(p, "cases/a/changed.yaml", "markdown");
    assert!(
        md.contains("in 2.46.0, between 2026-11-01 and 2026-11-02"),
        "{md}"
    );
}

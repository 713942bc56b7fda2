//! Synthetic nights (see the table in nightly_reports.rs): each result
//! spelled by hand, never by the code under test, then written into a
//! results file by the run's own JSON reporter ([`reported`]), so the
//! files have the shape `pmconf run` gives them (the `run` block, the
//! `cases` block, the summary).

use pmconf::report::{results_json, RunRecord};
use pmconf::run::events::{CaseResult, EngineInfo, RunEvent};
use pmconf::run::info::{CaseInfo, RunInfo};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

/// When synthetic night 0 started (2026-11-01 03:17:00 UTC); night `n`
/// starts `n` days later.
pub const NIGHT0_UNIX_MS: u64 = 1_793_503_020_000;

/// A results file as `pmconf run` writes it: the run's JSON reporter fed
/// the events of a run of `results` in `engines` (name, browser version),
/// started at `started_unix_ms`, by pmconf revision `revision`.
pub fn reported(
    results: &[Value],
    engines: &[(&str, &str)],
    started_unix_ms: u64,
    revision: &str,
) -> Value {
    let results: Vec<CaseResult> = results
        .iter()
        .map(|r| serde_json::from_value(r.clone()).unwrap_or_else(|e| panic!("{e}: {r}")))
        .collect();
    let mut cases: Vec<CaseInfo> = Vec::new();
    for r in &results {
        if !cases.iter().any(|c| c.case == r.case) {
            cases.push(CaseInfo {
                case: r.case.clone(),
                file: None,
                references: vec![format!("https://example.test/{}", r.case)],
                posts: vec![],
            });
        }
    }
    let mut events = vec![
        RunEvent::RunInfo(RunInfo {
            started_unix_ms,
            pmconf_version: "0.1.0".into(),
            revision: revision.into(),
            commit: None,
            revision_source: "synthetic".into(),
            command_line: vec!["pmconf".into(), "run".into(), "cases".into()],
            cases: cases.clone(),
            instances: vec![],
        }),
        RunEvent::SuiteStart {
            engines: engines.iter().map(|(e, _)| e.to_string()).collect(),
            cases: cases.len(),
        },
    ];
    for (engine, version) in engines {
        events.push(RunEvent::EngineStart(EngineInfo {
            engine: engine.to_string(),
            browser_version: version.to_string(),
        }));
    }
    events.extend(results.into_iter().map(RunEvent::CaseEnd));
    for (engine, _) in engines {
        events.push(RunEvent::EngineEnd {
            engine: engine.to_string(),
            cases: cases.len(),
            seconds: 2.0,
        });
    }
    events.push(RunEvent::SuiteEnd { seconds: 5.0 });
    results_json(&RunRecord::from_events(&events)).unwrap()
}

pub const N: [&str; 4] = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"];
pub const ENGINES: [&str; 3] = ["chromium", "firefox", "webkitgtk"];

pub fn outcome(origin: &str) -> Value {
    json!({
        "posts": [{"step": 0, "threw": null}],
        "received": {"top": [], "child": [{"message": "hi", "origin": origin, "source": "top"}]}
    })
}

/// One result, spelled as a results file spells it.
pub fn result(engine: &str, case: &str, observed: Option<&str>, allowed: &[&str]) -> Value {
    let allowed_outcomes: Vec<Value> = allowed.iter().map(|o| outcome(o)).collect();
    let (verdict, obs) = match observed {
        Some(o) if allowed.contains(&o) => ("conforms", outcome(o)),
        Some(o) => ("diverges", outcome(o)),
        None => ("inconclusive", Value::Null),
    };
    let mut r = json!({
        "engine": engine, "case": case, "description": format!("{case}"),
        "verdict": verdict, "observed": obs, "allowed": allowed_outcomes,
        "snapshot": {"status": if observed.is_some() { "matched" } else { "not-compared" }},
        "duration_ms": 250, "runs": 1, "histogram": [], "not_seen": [], "unobserved_runs": 0
    });
    if observed.is_none() {
        r["reason"] = json!("timed out");
        r["unobserved_runs"] = json!(1);
    }
    r
}

pub fn flaky(mut r: Value) -> Value {
    r["earlier_attempts"] = json!([{
        "verdict": "diverges", "runs": 1, "histogram": [],
        "snapshot": {"status": "changed", "pending": "p.snap.new", "diff": "-verdict: conforms\n+verdict: diverges\n"}
    }]);
    r
}

/// Night `n` (0-based) as a results file's JSON.
pub fn night(n: usize) -> Value {
    let versions = [
        ["130.0", "128.0", "2.46.0"],
        ["131.0", "128.0", "2.46.0"],
        ["131.0", "129.0", "2.46.0"],
        ["132.0", "129.0", "2.46.0"],
    ][n];
    let mut results = Vec::new();
    for engine in ENGINES {
        let all = |case: &str, observed: &str, allowed: &[&str]| {
            result(engine, case, Some(observed), allowed)
        };
        results.push(all("cases/a/stable.yaml", "A", &["A"]));
        let regress = if engine == "chromium" && (n == 1 || n == 2) {
            "B"
        } else {
            "A"
        };
        results.push(all("cases/a/regress.yaml", regress, &["A"]));
        let fix_observed = if engine == "firefox" { "B" } else { "A" };
        let fix_allowed: &[&str] = if n == 0 { &["A"] } else { &["A", "B"] };
        results.push(all("cases/a/fix.yaml", fix_observed, fix_allowed));
        let changed_observed = match (engine, n) {
            ("webkitgtk", 0) => "B",
            ("webkitgtk", _) => "C",
            _ => "A",
        };
        let mut changed = all("cases/a/changed.yaml", changed_observed, &["A"]);
        changed["description"] = json!(if n == 0 { "changed v1" } else { "changed v2" });
        results.push(changed);
        let f = all("cases/b/flaky.yaml", "A", &["A"]);
        results.push(if engine == "chromium" && n == 1 {
            flaky(f)
        } else {
            f
        });
        if n == 0 {
            results.push(all("cases/b/removed.yaml", "A", &["A"]));
        }
        if engine == "firefox" && n == 1 {
            results.push(result(engine, "cases/b/timeout.yaml", None, &["A"]));
        } else {
            results.push(all("cases/b/timeout.yaml", "A", &["A"]));
        }
        if n > 0 {
            results.push(all("cases/b/added.yaml", "A", &["A"]));
        }
        results.push(all("cases/c/consensus.yaml", "null", &["A"]));
    }
    let engines: Vec<(&str, &str)> = ENGINES.iter().copied().zip(versions).collect();
    reported(
        &results,
        &engines,
        NIGHT0_UNIX_MS + n as u64 * 86_400_000,
        &format!("r{n}"),
    )
}

pub fn write(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// Runs the real `pmconf` binary in `dir`.
pub fn pmconf(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Records synthetic night `n` (from `dir/night<n>.json`) into `dir/data`,
/// with a run link and a revision made from `n`.
pub fn record(dir: &Path, n: usize, extra: &[&str]) -> Output {
    let results = format!("night{n}.json");
    let run_link = format!("https://github.com/o/pmconf/actions/runs/{n}");
    let revision = format!("{:040x}", n + 1);
    pmconf(
        dir,
        &[
            &[
                "report",
                "record",
                "data",
                "--night",
                N[n],
                "--results",
                &results,
                "--revision",
                &revision,
                "--run-link",
                &run_link,
            ],
            extra,
        ]
        .concat(),
    )
}

/// A contested result: `observed` is not allowed but is one of the
/// `contested` origins, each left open by the issue `issue_link`.
pub fn contested(
    engine: &str,
    case: &str,
    observed: &str,
    allowed: &[&str],
    contested: &[&str],
    issue_link: &str,
) -> Value {
    let mut r = result(engine, case, Some(observed), allowed);
    r["verdict"] = json!("contested");
    r["contested"] = contested
        .iter()
        .map(|o| {
            json!({"outcome": outcome(o), "issues": [issue_link], "reasons": ["left open"], "schedule": []})
        })
        .collect();
    r
}

/// A crashed result: the engine's session died under the case twice.
pub fn crashed(engine: &str, case: &str, reason: &str) -> Value {
    let mut r = result(engine, case, None, &["A"]);
    r["verdict"] = json!("crashed");
    r["reason"] = json!(reason);
    r
}

/// The night ids of a history's `nights.json`, in order.
pub fn night_ids(index: &Value) -> Vec<String> {
    index["nights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["night"].as_str().unwrap().to_owned())
        .collect()
}

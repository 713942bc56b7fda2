//! The nightly workflow's own shell, run. Each `run:` of the build job's
//! mode step, the run job's suite steps, and the report and notify jobs is
//! taken from `.github/workflows/nightly.yml` with serde_yaml and executed
//! as GitHub executes it (`bash --noprofile --norc -eo pipefail FILE`),
//! with the step's `env:` (each `${{ }}` replaced by the value GitHub would
//! give; a script itself holds none), `$GITHUB_OUTPUT` and
//! `$GITHUB_STEP_SUMMARY` files, and each step's and job's `if:` evaluated,
//! against a local bare `origin` repository.
//!
//! Real parts: git and the `data` branch pushed to `origin`, the real
//! `pmconf` binary in every step, and a real `pmconf run` of three cases in
//! Chromium (through the run job's own step) whose results file is the
//! night's chromium artifact; firefox's and webkitgtk's artifacts are that
//! file with the engine renamed, and night two's regression is an edit of
//! it (fake artifacts made from real results). Stand-ins: the `uses:` steps
//! (checkout is a `git clone` of `origin`, download-artifact a copy, the
//! uploads a check that their paths exist), and `gh` (GitHub's API is not
//! reachable here): a script on PATH that records its arguments and keeps
//! the issues it was asked to open, so that a re-run finds them.
//!
//! Nights: one (no `data` branch yet), two with a regression (an issue is
//! opened with the diff; the notify job fails on it), two again (a re-run:
//! no second night, no second issue), three without webkitgtk (absent, the
//! regression fixed and its issue closed), and a dispatch of a case subset
//! (the `data` branch untouched).
//!
//! Needs Chromium: skipped with a printed reason when it is missing, unless
//! CI is set (then it fails).

mod common;

use common::workspace;
use pmconf::engine::{discover, EngineId};
use serde_json::{json, Value};
use serde_yaml::Value as Yaml;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CASES: [&str; 3] = [
    "data-clone-error-function",
    "data-clone-error-symbol",
    "transfer-detached-buffer",
];

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t.test"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", common::text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn workflow() -> Yaml {
    let text = std::fs::read_to_string(workspace().join(".github/workflows/nightly.yml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// What GitHub would put in the expressions the workflow uses.
#[derive(Clone, Default)]
struct Context(BTreeMap<String, String>);

impl Context {
    fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.0.insert(key.to_owned(), value.to_owned());
        self
    }

    fn get(&self, expr: &str) -> String {
        let expr = expr.trim();
        if let Some(v) = self.0.get(expr) {
            return v.clone();
        }
        // `a || 'b'`: a, or b when a is empty.
        if let Some((a, b)) = expr.split_once("||") {
            let a = self.get(a);
            if !a.is_empty() {
                return a;
            }
            return b.trim().trim_matches('\'').to_owned();
        }
        // `cond && 'a' || 'b'` is handled above; a quoted literal.
        if expr.starts_with('\'') {
            return expr.trim_matches('\'').to_owned();
        }
        panic!("the test does not know the expression {expr:?}: add it to the context");
    }

    /// `text` with each `${{ expr }}` replaced.
    fn resolve(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").unwrap() + start;
            out.push_str(&self.get(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// An `if:`: `&&` of `!cancelled()`, `always()`, `A == 'x'`, `A != 'x'`.
    fn holds(&self, condition: &str) -> bool {
        let c = condition.trim();
        let c = c
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(c);
        c.split("&&").all(|part| {
            let part = part.trim();
            match part {
                "!cancelled()" | "always()" => true,
                _ => {
                    let (a, b, equal) = if let Some((a, b)) = part.split_once("==") {
                        (a, b, true)
                    } else if let Some((a, b)) = part.split_once("!=") {
                        (a, b, false)
                    } else {
                        panic!("the test cannot evaluate {part:?}")
                    };
                    (self.get(a) == b.trim().trim_matches('\'')) == equal
                }
            }
        })
    }
}

/// How a job went.
#[derive(Debug, Default)]
struct JobRun {
    /// Step name (or `uses`) and whether it succeeded; skipped steps are
    /// not listed.
    steps: Vec<(String, bool)>,
    /// The job's outputs.
    outputs: BTreeMap<String, String>,
    /// Everything the steps printed.
    log: String,
}

impl JobRun {
    fn succeeded(&self) -> bool {
        self.steps.iter().all(|(_, ok)| *ok)
    }
}

/// One machine: its home, its PATH (with the gh stand-in), the workflow.
struct Runner {
    root: PathBuf,
    home: PathBuf,
    bin: PathBuf,
    origin: PathBuf,
    workflow: Yaml,
}

impl Runner {
    fn new(root: &Path) -> Self {
        let home = root.join("home");
        let bin = root.join("gh-bin");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        let gh = bin.join("gh");
        std::fs::write(&gh, GH_STAND_IN).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
        Runner {
            root: root.to_path_buf(),
            home,
            bin,
            origin: root.join("origin.git"),
            workflow: workflow(),
        }
    }

    /// A fresh checkout of origin's main, as actions/checkout makes (one
    /// commit deep).
    fn checkout(&self, name: &str) -> PathBuf {
        let ws = self.root.join(name);
        let _ = std::fs::remove_dir_all(&ws);
        git(
            &self.root,
            &[
                "clone",
                "--quiet",
                "--depth",
                "1",
                &format!("file://{}", self.origin.display()),
                ws.to_str().unwrap(),
            ],
        );
        ws
    }

    /// Runs `job` in `ws`; `uses` carries out each `uses:` step (or fails
    /// the test when it does not know it).
    fn job(
        &self,
        job: &str,
        ws: &Path,
        ctx: &mut Context,
        matrix: Option<&str>,
        only: Option<&[&str]>,
        uses: &mut dyn FnMut(&str, &Yaml, &Path),
    ) -> JobRun {
        let job_yaml = &self.workflow["jobs"][job];
        let mut run = JobRun::default();
        if let Some(engine) = matrix {
            ctx.set("matrix.engine", engine);
        }
        let mut failed = false;
        for (index, step) in job_yaml["steps"].as_sequence().unwrap().iter().enumerate() {
            let name = step["name"]
                .as_str()
                .or(step["uses"].as_str())
                .unwrap()
                .to_owned();
            if let Some(only) = only {
                if !only.iter().any(|o| name.starts_with(o)) {
                    continue;
                }
            }
            let condition = step["if"].as_str().unwrap_or("success()");
            let runs = if condition == "success()" {
                !failed
            } else {
                (!failed || condition.contains("!cancelled()") || condition.contains("always()"))
                    && ctx.holds(condition)
            };
            if !runs {
                continue;
            }
            if let Some(action) = step["uses"].as_str() {
                uses(action, &step["with"], ws);
                run.steps.push((name, true));
                continue;
            }
            let script = step["run"].as_str().unwrap();
            assert!(
                !script.contains("${{"),
                "{job}/{name}: a script reads its inputs from env:, not ${{{{ }}}}"
            );
            let file = self.root.join(format!("step-{job}-{index}.sh"));
            std::fs::write(&file, script).unwrap();
            let output_file = self.root.join(format!("output-{job}-{index}"));
            let _ = std::fs::remove_file(&output_file);
            std::fs::write(&output_file, "").unwrap();
            let mut c = Command::new("bash");
            c.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&file)
                .current_dir(ws)
                .env_clear()
                .env(
                    "PATH",
                    format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap()),
                )
                .env("HOME", &self.home)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GITHUB_WORKSPACE", ws)
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_STEP_SUMMARY", self.root.join("summary.md"))
                .env("GITHUB_REF", ctx.get("github.ref"))
                .env("GH_STATE", self.root.join("gh-state.json"))
                .env("GH_LOG", self.root.join("gh-calls.log"));
            for env in [&self.workflow["env"], &job_yaml["env"], &step["env"]] {
                for (k, v) in env.as_mapping().into_iter().flatten() {
                    let value = match v {
                        Yaml::String(s) => s.clone(),
                        other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
                    };
                    c.env(k.as_str().unwrap(), ctx.resolve(&value));
                }
            }
            let out: Output = c.output().unwrap();
            run.log.push_str(&format!(
                "--- {job}/{name}: {:?}\n{}{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
            let ok = out.status.success();
            failed |= !ok;
            run.steps.push((name, ok));
            if let Some(id) = step["id"].as_str() {
                for line in std::fs::read_to_string(&output_file).unwrap().lines() {
                    if let Some((k, v)) = line.split_once('=') {
                        ctx.set(&format!("steps.{id}.outputs.{k}"), v);
                    }
                }
            }
        }
        for (k, v) in job_yaml["outputs"].as_mapping().into_iter().flatten() {
            let value = ctx.resolve(v.as_str().unwrap());
            ctx.set(
                &format!("needs.{job}.outputs.{}", k.as_str().unwrap()),
                &value,
            );
            run.outputs.insert(k.as_str().unwrap().to_owned(), value);
        }
        ctx.set(
            &format!("needs.{job}.result"),
            if failed { "failure" } else { "success" },
        );
        run
    }

    /// Whether a job's `if:` lets it run.
    fn job_runs(&self, job: &str, ctx: &Context) -> bool {
        self.workflow["jobs"][job]["if"]
            .as_str()
            .is_none_or(|c| ctx.holds(c))
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.root.join("summary.md")).unwrap_or_default()
    }

    fn gh_calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.root.join("gh-calls.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn gh_issues(&self) -> Vec<Value> {
        std::fs::read_to_string(self.root.join("gh-state.json"))
            .map(|t| serde_json::from_str::<Value>(&t).unwrap()["issues"].clone())
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }

    /// A file of origin's data branch.
    fn data_file(&self, path: &str) -> Value {
        serde_json::from_str(&git(&self.origin, &["show", &format!("data:{path}")])).unwrap()
    }

    fn data_head(&self) -> Option<String> {
        let out = Command::new("git")
            .args(["rev-parse", "--verify", "--quiet", "data"])
            .current_dir(&self.origin)
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// `gh`: records each call (JSON lines in $GH_LOG) and keeps issues in
/// $GH_STATE; knows what the notify job asks of it.
const GH_STAND_IN: &str = r#"#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
if not os.environ.get("GH_TOKEN") or not os.environ.get("GH_REPO"):
    sys.exit("gh stand-in: GH_TOKEN and GH_REPO must be set")
path = os.environ["GH_STATE"]
state = json.load(open(path)) if os.path.exists(path) else {"issues": []}
def opt(name):
    return args[args.index(name) + 1]
def save():
    json.dump(state, open(path, "w"))
if args[:2] == ["label", "create"]:
    pass
elif args[:2] == ["issue", "list"]:
    assert opt("--label") == "pmconf-nightly" and opt("--state") == "open"
    print(json.dumps([{"number": i["number"], "body": i["body"],
                       "comments": [{"body": c} for c in i["comments"]]}
                      for i in state["issues"] if i["state"] == "OPEN"]))
elif args[:2] == ["issue", "create"]:
    n = len(state["issues"]) + 1
    state["issues"].append({"number": n, "title": opt("--title"), "label": opt("--label"),
                            "body": open(opt("--body-file")).read(), "comments": [], "state": "OPEN"})
    save()
    print("https://github.com/o/pmconf/issues/%d" % n)
elif args[:2] == ["issue", "comment"]:
    state["issues"][int(args[2]) - 1]["comments"].append(open(opt("--body-file")).read())
    save()
elif args[:2] == ["issue", "close"]:
    state["issues"][int(args[2]) - 1]["state"] = "CLOSED"
    save()
else:
    sys.exit("gh stand-in: unknown command %r" % args)
"#;

/// The origin: main holds three cases, their accepted chromium snapshots
/// (the model's are left out: a run then exits 1, unexpected results that
/// are data, not a failure) and the workflow.
fn seed_origin(runner: &Runner) -> String {
    let seed = runner.root.join("seed");
    std::fs::create_dir_all(seed.join("cases/exceptions")).unwrap();
    std::fs::create_dir_all(seed.join("snapshots/chromium")).unwrap();
    for case in CASES {
        std::fs::copy(
            workspace().join(format!("cases/exceptions/{case}.yaml")),
            seed.join(format!("cases/exceptions/{case}.yaml")),
        )
        .unwrap();
        std::fs::copy(
            workspace().join(format!("snapshots/chromium/exceptions__{case}.snap")),
            seed.join(format!("snapshots/chromium/exceptions__{case}.snap")),
        )
        .unwrap();
    }
    std::fs::create_dir_all(seed.join(".github/workflows")).unwrap();
    std::fs::copy(
        workspace().join(".github/workflows/nightly.yml"),
        seed.join(".github/workflows/nightly.yml"),
    )
    .unwrap();
    git(&seed, &["init", "--quiet", "--initial-branch", "main"]);
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "--quiet", "-m", "seed"]);
    git(
        &runner.root,
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch",
            "main",
            "origin.git",
        ],
    );
    git(
        &seed,
        &["push", "--quiet", runner.origin.to_str().unwrap(), "main"],
    );
    git(&seed, &["rev-parse", "HEAD"])
}

/// The artifacts of one night under `dir`: the binary, chromium's out/,
/// and the other engines' made from it (`engines` say which are there).
fn artifacts(dir: &Path, chromium_out: &Path, engines: &[&str], edit: &dyn Fn(&mut Value)) {
    let _ = std::fs::remove_dir_all(dir);
    let bin = dir.join("pmconf-binary");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_pmconf"), bin.join("pmconf")).unwrap();
    let real: Value = serde_json::from_str(
        &std::fs::read_to_string(chromium_out.join("results-chromium.json")).unwrap(),
    )
    .unwrap();
    for engine in engines {
        let out = dir.join(format!("results-{engine}"));
        std::fs::create_dir_all(&out).unwrap();
        let mut v: Value = serde_json::from_str(
            &serde_json::to_string(&real)
                .unwrap()
                .replace("\"chromium\"", &format!("\"{engine}\"")),
        )
        .unwrap();
        if *engine != "chromium" {
            v["engines"][0]["browser_version"] = json!(format!("{engine}-1.0"));
        }
        edit(&mut v);
        std::fs::write(
            out.join(format!("results-{engine}.json")),
            serde_json::to_string_pretty(&v).unwrap(),
        )
        .unwrap();
        std::fs::copy(
            chromium_out.join("packages-chromium.txt"),
            out.join(format!("packages-{engine}.txt")),
        )
        .unwrap();
    }
}

/// Copies `from` into `to`, whole.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A night: the build job's mode step, the report job, then deploy (its
/// `uses:` steps only check the site was uploaded) and notify when their
/// `if:` lets them.
struct Night {
    report: JobRun,
    notify: Option<JobRun>,
    deployed: bool,
    record: String,
}

fn night(runner: &Runner, ctx: &mut Context, artifacts_dir: &Path) -> Night {
    let _ = std::fs::remove_file(runner.root.join("summary.md"));
    let ws = runner.checkout("build-ws");
    let build = runner.job(
        "build",
        &ws,
        ctx,
        None,
        Some(&["Decide"]),
        &mut |a, _, _| panic!("{a}"),
    );
    assert!(build.succeeded(), "{}", build.log);
    ctx.set("needs.build.result", "success");
    let record = build.outputs["record"].clone();

    let ws = runner.checkout("report-ws");
    let mut pages = false;
    let report = runner.job("report", &ws, ctx, None, None, &mut |action, with, ws| {
        if action.starts_with("actions/checkout@") {
        } else if action.starts_with("actions/download-artifact@") {
            assert_eq!(with["path"].as_str(), Some("artifacts"));
            copy_dir(artifacts_dir, &ws.join("artifacts"));
        } else if action.starts_with("actions/upload-pages-artifact@") {
            assert!(ws
                .join(with["path"].as_str().unwrap())
                .join("index.html")
                .is_file());
            pages = true;
        } else if action.starts_with("actions/upload-artifact@") {
            for path in with["path"].as_str().unwrap().lines() {
                assert!(ws.join(path.trim()).exists(), "{path}");
            }
        } else {
            panic!("the test does not know {action}")
        }
    });
    let mut deployed = false;
    if report.succeeded() && runner.job_runs("deploy", ctx) {
        assert!(pages, "deploy needs the pages artifact of this attempt");
        deployed = true;
        ctx.set(
            "needs.deploy.outputs.page_url",
            "https://o.github.io/pmconf/",
        );
    } else {
        ctx.set("needs.deploy.outputs.page_url", "");
    }
    let notify = runner.job_runs("notify", ctx).then(|| {
        let ws = runner.root.join("notify-ws");
        let _ = std::fs::remove_dir_all(&ws);
        std::fs::create_dir_all(&ws).unwrap();
        runner.job("notify", &ws, ctx, None, None, &mut |action, with, ws| {
            if action.starts_with("actions/checkout@") {
                assert_eq!(with["ref"].as_str(), Some("data"));
                git(
                    ws,
                    &[
                        "clone",
                        "--quiet",
                        "--branch",
                        "data",
                        runner.origin.to_str().unwrap(),
                        with["path"].as_str().unwrap(),
                    ],
                );
            } else if action.starts_with("actions/download-artifact@") {
                assert_eq!(with["name"].as_str(), Some("pmconf-binary"));
                copy_dir(
                    &artifacts_dir.join("pmconf-binary"),
                    &ws.join(with["path"].as_str().unwrap()),
                );
            } else {
                panic!("the test does not know {action}")
            }
        })
    });
    Night {
        report,
        notify,
        deployed,
        record,
    }
}

fn schedule(ctx: &mut Context, run_id: u64, attempt: u32) {
    ctx.set("github.event_name", "schedule")
        .set("github.run_id", &run_id.to_string())
        .set("github.run_attempt", &attempt.to_string())
        .set("github.ref", "refs/heads/main")
        .set("github.event.repository.default_branch", "")
        .set("inputs.cases", "");
}

#[test]
fn the_report_and_notify_jobs_shell_survives_a_real_repository() {
    if let Err(missing) = discover(EngineId::Chromium) {
        assert!(
            !common::ci(),
            "CI is set and Chromium is missing: {missing}"
        );
        eprintln!("skipping: {missing}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let runner = Runner::new(dir.path());
    let sha = seed_origin(&runner);
    let mut ctx = Context::default();
    ctx.set("github.server_url", "https://github.com")
        .set("github.repository", "o/pmconf")
        .set("github.sha", &sha)
        .set("github.token", "token-for-the-stand-in");
    schedule(&mut ctx, 1001, 1);

    // The night's chromium results: the run job's own steps, a real run.
    let ws = runner.checkout("run-ws");
    std::fs::create_dir_all(ws.join("bin")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_pmconf"), ws.join("bin/pmconf")).unwrap();
    let run = runner.job(
        "run",
        &ws,
        &mut ctx,
        Some("chromium"),
        Some(&["Run the suite", "Record package versions", "Keep pending"]),
        &mut |a, _, _| panic!("{a}"),
    );
    assert!(run.succeeded(), "{}", run.log);
    assert!(
        run.log.contains("pmconf run exited 1 with results"),
        "unexpected results are data: {}",
        run.log
    );
    let out = ws.join("out");
    assert!(
        out.join("pending/snapshots/model").is_dir(),
        "pending snapshots kept"
    );
    let real: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results-chromium.json")).unwrap())
            .unwrap();
    let revision = real["run"]["revision"].as_str().unwrap().to_owned();
    let all = ["chromium", "firefox", "webkitgtk"];
    let arts = dir.path().join("artifacts");

    // Night one: no data branch yet.
    artifacts(&arts, &out, &all, &|_| {});
    let one = night(&runner, &mut ctx, &arts);
    assert!(one.report.succeeded(), "{}", one.report.log);
    assert_eq!(one.record, "true");
    assert!(
        one.report.log.contains("no data branch yet"),
        "{}",
        one.report.log
    );
    assert!(one.deployed);
    let index = runner.data_file("nights.json");
    assert_eq!(index["nights"].as_array().unwrap().len(), 1);
    assert_eq!(index["nights"][0]["night"], "run-1001");
    assert_eq!(index["nights"][0]["attempt"], 1);
    assert_eq!(
        index["nights"][0]["run_link"],
        "https://github.com/o/pmconf/actions/runs/1001"
    );
    // The merged night's summary shows the run block's revision.
    let summary = runner.summary();
    assert!(
        summary.contains(&format!("pmconf revision `{revision}`")),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("recorded for commit `{sha}`")),
        "{summary}"
    );
    assert_eq!(one.report.outputs["regressed"], "false");
    let notify = one.notify.expect("notify runs on a recorded night");
    assert!(notify.succeeded(), "{}", notify.log);
    assert!(runner.gh_issues().is_empty());

    // Night two: chromium regresses on one case.
    schedule(&mut ctx, 1002, 1);
    let case = "cases/exceptions/data-clone-error-function.yaml";
    let regress = |v: &mut Value| {
        if v["engines"][0]["engine"] != "chromium" {
            return;
        }
        for r in v["results"].as_array_mut().unwrap() {
            if r["case"] == case {
                let mut seen = r["allowed"][0].clone();
                seen["posts"][0]["threw"] = Value::Null;
                r["verdict"] = json!("diverges");
                r["observed"] = seen.clone();
                r["histogram"] = json!([{"outcome": seen, "count": 1, "allowed": false}]);
                r["snapshot"] = json!({"status": "changed",
                    "pending": "snapshots/chromium/exceptions__data-clone-error-function.snap.new",
                    "diff": "-  threw: DataCloneError\n+  threw: ~\n\\ No newline at end of file\n"});
            }
        }
    };
    artifacts(&arts, &out, &all, &regress);
    let before = runner.data_head();
    let two = night(&runner, &mut ctx, &arts);
    assert!(two.report.succeeded(), "{}", two.report.log);
    assert_ne!(runner.data_head(), before, "night two pushed");
    assert_eq!(two.report.outputs["regressed"], "true");
    assert!(
        runner.summary().contains(&format!(
            "| regression | chromium | `{case}` | conforms -> diverges (unexpected) |"
        )),
        "{}",
        runner.summary()
    );
    let notify = two.notify.expect("notify runs");
    // The issue is opened, then the job fails: a regression, not a broken runner.
    assert_eq!(
        notify.steps.last().unwrap(),
        &(
            "Fail on a regression (the results changed; the runner did not break)".to_owned(),
            false
        ),
        "{}",
        notify.log
    );
    assert!(
        notify.steps[..notify.steps.len() - 1]
            .iter()
            .all(|(_, ok)| *ok),
        "{}",
        notify.log
    );
    let issues = runner.gh_issues();
    assert_eq!(issues.len(), 1, "{issues:?}");
    let issue = &issues[0];
    assert_eq!(issue["label"], "pmconf-nightly");
    assert_eq!(
        issue["title"],
        "Nightly regression in chromium: 1 case (same engine, model and case (nondeterminism or environment))"
    );
    let body = issue["body"].as_str().unwrap();
    for needle in [
        &format!("| `{case}` | conforms | diverges (unexpected) | run-1002 |  |"),
        "[run-1002](https://github.com/o/pmconf/actions/runs/1002)",
        "-  threw: DataCloneError\n+  threw: ~\n```",
        "The nightly site: https://o.github.io/pmconf/",
    ] {
        assert!(body.contains(needle), "{needle}: {body}");
    }
    assert!(!body.contains("No newline"), "{body}");

    // Night two again: "Re-run failed jobs" (attempt 2). No second night,
    // no second issue or comment.
    schedule(&mut ctx, 1002, 2);
    let calls = runner.gh_calls().len();
    let again = night(&runner, &mut ctx, &arts);
    assert!(again.report.succeeded(), "{}", again.report.log);
    let index = runner.data_file("nights.json");
    assert_eq!(common::nights::night_ids(&index), ["run-1001", "run-1002"]);
    assert_eq!(index["nights"][1]["attempt"], 2);
    assert!(
        again
            .report
            .log
            .contains("recorded again (replacing its earlier attempt) night run-1002"),
        "{}",
        again.report.log
    );
    let new_calls: Vec<String> = runner.gh_calls()[calls..]
        .iter()
        .map(|c| c[..2].join(" "))
        .collect();
    assert_eq!(
        new_calls,
        ["label create", "issue list"],
        "{}",
        again.notify.unwrap().log
    );
    assert_eq!(runner.gh_issues().len(), 1);

    // Night three: webkitgtk's job failed before uploading; chromium is
    // back to what it did.
    schedule(&mut ctx, 1003, 1);
    artifacts(&arts, &out, &["chromium", "firefox"], &|_| {});
    let three = night(&runner, &mut ctx, &arts);
    assert!(three.report.succeeded(), "{}", three.report.log);
    let index = runner.data_file("nights.json");
    let n3 = &index["nights"][2];
    assert_eq!(n3["night"], "run-1003");
    assert_eq!(
        n3["absent"]["webkitgtk"]["reason"],
        "its run job uploaded nothing (it failed before its end, or was cancelled)"
    );
    assert!(n3["engines"].get("webkitgtk").is_none());
    assert!(
        runner
            .summary()
            .contains("**webkitgtk absent:** its run job uploaded nothing"),
        "{}",
        runner.summary()
    );
    // The regression's issue is closed by the night that fixed it.
    let notify = three.notify.unwrap();
    assert!(notify.succeeded(), "{}", notify.log);
    let issues = runner.gh_issues();
    assert_eq!(issues[0]["state"], "CLOSED");
    assert!(
        issues[0]["comments"][0]
            .as_str()
            .unwrap()
            .contains("Settled on night [run-1003](https://github.com/o/pmconf/actions/runs/1003)"),
        "{issues:?}"
    );
    let site = runner.root.join("report-ws/site/index.html");
    assert!(std::fs::read_to_string(site)
        .unwrap()
        .contains("<th data-engine=\"webkitgtk\">webkitgtk (absent)</th>"));

    // A dispatch of a case subset: a scratch run. History untouched.
    ctx.set("github.event_name", "workflow_dispatch")
        .set("github.run_id", "1004")
        .set("github.run_attempt", "1")
        .set("github.event.repository.default_branch", "main")
        .set("inputs.cases", "cases/exceptions");
    artifacts(&arts, &out, &all, &|_| {});
    let before = runner.data_head();
    let scratch = night(&runner, &mut ctx, &arts);
    assert!(scratch.report.succeeded(), "{}", scratch.report.log);
    assert_eq!(scratch.record, "false");
    assert_eq!(runner.data_head(), before, "the data branch is untouched");
    assert!(!scratch.deployed && scratch.notify.is_none());
    assert!(
        runner
            .summary()
            .contains("**Scratch run** (cases `cases/exceptions`"),
        "{}",
        runner.summary()
    );
    assert!(
        runner.root.join("report-ws/site/index.html").is_file(),
        "the scratch site is an artifact"
    );
    // From another branch, with every case, is a scratch run too.
    ctx.set("github.ref", "refs/heads/topic")
        .set("inputs.cases", "cases");
    let ws = runner.checkout("build-ws");
    let build = runner.job(
        "build",
        &ws,
        &mut ctx,
        None,
        Some(&["Decide"]),
        &mut |a, _, _| panic!("{a}"),
    );
    assert_eq!(build.outputs["record"], "false", "{}", build.log);
}

//! An engine instance a user declares (`--engines FILE`): a wrapper script
//! around the system Chromium, named `chromium-wrapped`, runs beside
//! `chromium` in one run, with its own results and snapshots
//! (`snapshots/chromium-wrapped/`); `doctor` lists it, and a broken entry
//! stops the run before anything starts.

mod common;
use common::{ci, text, workspace};

use pmconf::engine::{discover, EngineId};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CASES: &[&str] = &[
    "cases/target-origin/exact-match.yaml",
    "cases/serialization/https-origin.yaml",
];

fn pmconf(args: &[&str]) -> Output {
    common::pmconf().args(args).output().unwrap()
}

/// A wrapper around the system Chromium that notes each start in `log`,
/// and an engine file declaring it as `chromium-wrapped`.
fn declare_wrapper(dir: &Path, chromium: &Path, log: &Path) -> PathBuf {
    let wrapper = dir.join("chromium-wrapper");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$$ $*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            chromium.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.join("engines.toml");
    std::fs::write(
        &config,
        "# a wrapper around the system Chromium\n\
         [engines.chromium-wrapped]\n\
         kind = \"chromium\"\n\
         browser = \"chromium-wrapper\"\n\
         args = [\"--lang=en-GB\"]\n",
    )
    .unwrap();
    config
}

#[test]
fn a_declared_instance_runs_beside_the_system_engine_with_its_own_snapshots() {
    let chromium = match discover(EngineId::Chromium) {
        Ok(installed) => installed.browser.path,
        Err(missing) if ci() => panic!("CI is set and Chromium is missing: {missing}"),
        Err(missing) => {
            eprintln!("skipping: {missing}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("wrapper.log");
    let config = declare_wrapper(dir.path(), &chromium, &log);
    let config = config.to_str().unwrap();

    // doctor lists it with its browser (the wrapper) and a version.
    let out = pmconf(&["doctor", "--engines", config]);
    let doctor = text(&out);
    assert!(
        doctor.contains("chromium-wrapped (chromium, declared at ")
            && doctor.contains("engines.toml:2): ok"),
        "{doctor}"
    );
    assert!(doctor.contains("chromium-wrapper ("), "{doctor}");
    assert!(doctor.contains("--lang=en-GB"), "{doctor}");

    let snapshots = dir.path().join("snapshots");
    std::fs::create_dir_all(&snapshots).unwrap();
    let copied = Command::new("cp")
        .arg("-r")
        .arg(workspace().join("snapshots/chromium"))
        .arg(snapshots.join("chromium"))
        .status()
        .unwrap();
    assert!(copied.success());
    // The model's accepted answers too: a case whose model snapshot is
    // missing is new, which would fail the run for another reason.
    let copied = Command::new("cp")
        .arg("-r")
        .arg(workspace().join("snapshots/model"))
        .arg(snapshots.join("model"))
        .status()
        .unwrap();
    assert!(copied.success());
    let results = dir.path().join("results.json");
    let run = |expect: i32| {
        let mut args = vec!["run"];
        args.extend(CASES);
        args.extend([
            "--engines",
            config,
            "--engine",
            "chromium,chromium-wrapped",
            "--snapshots",
            snapshots.to_str().unwrap(),
            "--results",
            results.to_str().unwrap(),
        ]);
        let out = pmconf(&args);
        assert_eq!(out.status.code(), Some(expect), "{}", text(&out));
        serde_json::from_str::<Value>(&std::fs::read_to_string(&results).unwrap()).unwrap()
    };

    // First run: chromium matches its accepted snapshots; the new instance
    // has none yet, so each of its results is a new snapshot (exit 1).
    let first = run(1);
    let all = first["results"].as_array().unwrap();
    assert_eq!(all.len(), CASES.len() * 2, "{all:#?}");
    for r in all {
        let status = &r["snapshot"]["status"];
        match r["engine"].as_str().unwrap() {
            "chromium" => assert_eq!(status, "matched", "{r:#}"),
            "chromium-wrapped" => assert_eq!(status, "new", "{r:#}"),
            other => panic!("unexpected engine {other}"),
        }
        assert_eq!(r["verdict"], "conforms", "{r:#}");
    }
    let starts = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        starts.contains("--lang=en-GB"),
        "the wrapper started the browser with the instance's args: {starts:?}"
    );
    let own = snapshots.join("chromium-wrapped");
    let pending: Vec<PathBuf> = std::fs::read_dir(&own)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(pending.len(), CASES.len(), "{pending:?}");
    // Review: what the wrapped build saw is what the system one saw (the
    // same Chromium); accept by renaming, as `pmconf review` would.
    for p in &pending {
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with(".snap.new"), "{name}");
        let accepted = snapshots
            .join("chromium")
            .join(name.trim_end_matches(".new"));
        assert_eq!(
            std::fs::read_to_string(p).unwrap(),
            std::fs::read_to_string(&accepted).unwrap(),
            "{name}"
        );
        std::fs::rename(p, own.join(name.trim_end_matches(".new"))).unwrap();
    }
    // Second run: both match their own snapshots.
    let second = run(0);
    for r in second["results"].as_array().unwrap() {
        assert_eq!(r["snapshot"]["status"], "matched", "{r:#}");
    }
    assert!(
        second["summary"]["chromium-wrapped"].is_object(),
        "{second:#}"
    );
}

#[test]
fn a_broken_instance_stops_the_run_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engines.toml");
    std::fs::write(
        &config,
        "[engines.local-build]\nkind = \"chromium\"\nbrowser = \"out/Release/chrome\"\n",
    )
    .unwrap();
    let results = dir.path().join("out/results.json");
    let out = pmconf(&[
        "run",
        CASES[0],
        "--engines",
        config.to_str().unwrap(),
        "--engine",
        "local-build",
        "--results",
        results.to_str().unwrap(),
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("engines.toml:1: engine `local-build`"),
        "{all}"
    );
    assert!(all.contains("out/Release/chrome"), "{all}");
    assert!(all.contains("fix: "), "{all}");
    assert!(!dir.path().join("out").exists(), "nothing written");

    std::fs::write(&config, "[engines.local-build]\nkind = \"chrome\"\n").unwrap();
    let out = pmconf(&["doctor", "--engines", config.to_str().unwrap()]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("engines.toml:2:8: unknown kind `chrome`"),
        "{all}"
    );
    assert!(
        all.contains("fix: kind is chromium, firefox or webkitgtk"),
        "{all}"
    );

    let out = pmconf(&["run", CASES[0], "--engine", "nightly"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("unknown engine `nightly`"), "{all}");
}

/// Issue 27 item 5: an instance that names no browser takes the system
/// engine's binaries (`doctor` and `run` agree), and `compare_with =
/// "chromium"` compares it with Chromium's accepted snapshots: where they
/// agree it passes with no snapshot of its own, where they differ the run
/// shows a changed snapshot (its diff naming Chromium's file) written
/// pending under the instance's own name. results.json records the
/// instance's binaries and arguments. On main `doctor` and `run` refused
/// the file ("names neither a browser nor a webdriver-url").
#[test]
fn a_flag_alone_makes_an_instance_compared_with_the_system_engine() {
    if let Err(missing) = discover(EngineId::Chromium) {
        assert!(!ci(), "CI is set and Chromium is missing: {missing}");
        eprintln!("skipping: {missing}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engines.toml");
    std::fs::write(
        &config,
        "[engines.chromium-flags]\nkind = \"chromium\"\nargs = [\"--lang=en-GB\"]\ncompare_with = \"chromium\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let out = pmconf(&["doctor", "--engines", config]);
    let doctor = text(&out);
    assert_eq!(out.status.code(), Some(0), "{doctor}");
    assert!(
        doctor.contains("chromium-flags (chromium, declared at ")
            && doctor.contains("the system chromium's)")
            && doctor.contains("compare  with chromium's accepted snapshots"),
        "{doctor}"
    );

    let snapshots = dir.path().join("snapshots");
    common::copy_snapshots(CASES, &["chromium", "model"], &snapshots);
    let results = dir.path().join("results.json");
    let run = |expect: i32| {
        let mut args = vec!["run"];
        args.extend(CASES);
        args.extend([
            "--engines",
            config,
            "--engine",
            "chromium-flags",
            "--snapshots",
            snapshots.to_str().unwrap(),
            "--results",
            results.to_str().unwrap(),
            "--retry-unexpected",
            "0",
        ]);
        let out = pmconf(&args);
        assert_eq!(out.status.code(), Some(expect), "{}", text(&out));
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
        (text(&out), json)
    };

    // The same Chromium with a flag: as Chromium's accepted snapshots say.
    let (_, first) = run(0);
    for r in first["results"].as_array().unwrap() {
        assert_eq!(r["snapshot"]["status"], "matched", "{r:#}");
    }
    assert!(!snapshots.join("chromium-flags").exists(), "nothing new");
    let instance = &first["run"]["instances"][0];
    assert_eq!(instance["name"], "chromium-flags", "{first:#}");
    assert_eq!(instance["args"], serde_json::json!(["--lang=en-GB"]));
    assert_eq!(instance["compare_with"], "chromium");
    let browser = discover(EngineId::Chromium).unwrap().browser.path;
    assert_eq!(instance["browser"], browser.to_str().unwrap());

    // Chromium's accepted snapshot of one case says something else: the
    // instance differs from it, pending under its own name.
    let name = "target-origin__exact-match";
    let accepted = snapshots.join(format!("chromium/{name}.snap"));
    let edited = std::fs::read_to_string(&accepted).unwrap().replacen(
        "verdict: conforms",
        "verdict: diverges",
        1,
    );
    std::fs::write(&accepted, edited).unwrap();
    let (said, second) = run(1);
    let changed: Vec<&Value> = second["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["snapshot"]["status"] == "changed")
        .collect();
    assert_eq!(changed.len(), 1, "{second:#}");
    assert!(
        changed[0]["snapshot"]["diff"]
            .as_str()
            .unwrap()
            .starts_with(&format!("--- accepted ({})", accepted.display())),
        "{second:#}"
    );
    assert!(
        snapshots
            .join(format!("chromium-flags/{name}.snap.new"))
            .exists(),
        "{said}"
    );
    assert!(
        said.contains("engine chromium-flags (chromium): browser "),
        "{said}"
    );
}

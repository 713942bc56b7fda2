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

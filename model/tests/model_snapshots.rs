//! The model's answer for every case under `cases/`, as insta snapshots in
//! `snapshots/model/`, named as the engines' snapshots are: the case's path
//! below `cases/` without `.yaml`, `/` as `__` (`cases/races/a.yaml` ->
//! `snapshots/model/races__a.snap`, beside `snapshots/chromium/races__a.snap`).
//! A change in the model or a case shows up as a pending `.snap.new` to
//! review with `pmconf review`; CI never accepts snapshots.

mod common;

use pmconf_model::answer_case;
use std::path::{Path, PathBuf};

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("cases/ is readable")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            case_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn model_answer_for_every_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let snapshots = root.join("snapshots/model");
    let mut files = Vec::new();
    case_files(&root.join("cases"), &mut files);
    files.sort();
    let mut failed = Vec::new();
    let mut names = std::collections::HashSet::new();
    for path in &files {
        let relative = path
            .strip_prefix(root.join("cases"))
            .expect("found under cases/")
            .to_string_lossy()
            .replace('\\', "/");
        let name = relative.trim_end_matches(".yaml").replace('/', "__");
        names.insert(format!("{name}.snap"));
        let text = std::fs::read_to_string(path).unwrap();
        let case = common::parsed(&relative, &text);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(&snapshots);
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(path);
        settings.set_description(case.description.clone());
        let answer = answer_case(&case);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_yaml_snapshot!(name.as_str(), answer));
        }));
        if result.is_err() {
            failed.push(format!("cases/{relative}"));
        }
    }
    // A pending snapshot whose case is gone (deleted or renamed) would be
    // offered for review forever: remove it (not those of cases outside
    // cases/, which `pmconf run` names `outside__...`: this test never
    // sees those cases).
    for entry in std::fs::read_dir(&snapshots).unwrap().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some(snap) = file.strip_suffix(".new") {
            if !names.contains(snap) && !snap.starts_with("outside__") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "the model's answer differs from its accepted snapshot (or none was accepted) for:\n  {}\n\
         review the pending snapshots with `pmconf review` (or make them with `pmconf run CASE`)",
        failed.join("\n  ")
    );
}

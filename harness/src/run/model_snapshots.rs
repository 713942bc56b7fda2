//! The model's snapshot of each case a run names, written beside the
//! engines' (`snapshots/model/<name>.snap`), so that one `pmconf run` of a
//! new case leaves every snapshot it needs pending for `pmconf review`.
//!
//! The text is what `model/tests/model_snapshots.rs` (insta) writes: the
//! same header fields and the body from insta's own YAML serializer, so an
//! accepted file passes that test unchanged.

use super::events::SnapshotStatus;
use super::snapshots::compare_and_record;
use crate::case_files::LoadedCase;
use crate::layout::{below_cases, snapshot_path};
use pmconf_model::answer_case;
use std::path::Path;

/// The model snapshot's text for `case`.
pub fn model_snapshot_text(case: &LoadedCase) -> String {
    let answer = answer_case(&case.case);
    let body = insta::_macro_support::serialize_value(
        &answer,
        insta::_macro_support::SerializationFormat::Yaml,
    );
    let header = serde_yaml::to_string(&serde_json::json!({
        "source": "model/tests/model_snapshots.rs",
        "description": case.case.description,
        "input_file": below_cases(&case.name).map_or_else(|| case.name.clone(), |r| format!("cases/{r}")),
    }))
    .expect("header serializes");
    format!("---\n{header}---\n{body}\n")
}

/// Compares each case's model answer with `dir/model/<name>.snap` and
/// records it as [`compare_and_record`] does (a pending `.snap.new` when
/// new or changed, the accepted file when `accept`). Returns the cases
/// whose model snapshot is new or changed, with their status.
pub fn record_model_snapshots(
    dir: &Path,
    cases: &[LoadedCase],
    accept: bool,
) -> std::io::Result<Vec<(String, SnapshotStatus)>> {
    let mut out = Vec::new();
    for case in cases {
        let path = snapshot_path(dir, "model", &case.name);
        let status = compare_and_record(&path, &model_snapshot_text(case), accept)?;
        if status != SnapshotStatus::Matched {
            out.push((case.name.clone(), status));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_files::load_cases;
    use crate::layout::snapshot_name;
    use std::path::PathBuf;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// Every accepted model snapshot was written by insta (the model
    /// snapshot test): what `pmconf run` would write matches each one, so
    /// a snapshot it writes and `pmconf review` accepts passes that test.
    #[test]
    fn what_run_writes_matches_every_snapshot_the_model_test_accepted() {
        let cases = load_cases(&[root().join("cases")]).expect("the cases are valid");
        assert!(cases.len() > 50, "{}", cases.len());
        let copy = tempfile::tempdir().unwrap();
        let model = copy.path().join("model");
        std::fs::create_dir_all(&model).unwrap();
        for c in &cases {
            let file = format!("{}.snap", snapshot_name(&c.name));
            std::fs::copy(
                root().join("snapshots/model").join(&file),
                model.join(&file),
            )
            .unwrap_or_else(|e| panic!("no accepted model snapshot {file}: {e}"));
        }
        let differing = record_model_snapshots(copy.path(), &cases, false).unwrap();
        assert!(differing.is_empty(), "{differing:?}");
        assert!(std::fs::read_dir(&model).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".new")));
    }

    #[test]
    fn a_new_case_gets_a_pending_model_snapshot_then_matches_once_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let cases = load_cases(&[root().join("cases/messages/awkward-strings.yaml")]).unwrap();
        let first = record_model_snapshots(dir.path(), &cases, false).unwrap();
        assert!(
            matches!(first[..], [(_, SnapshotStatus::New { .. })]),
            "{first:?}"
        );
        let pending = dir.path().join("model/messages__awkward-strings.snap.new");
        assert!(pending.exists());
        std::fs::rename(
            &pending,
            dir.path().join("model/messages__awkward-strings.snap"),
        )
        .unwrap();
        assert!(record_model_snapshots(dir.path(), &cases, false)
            .unwrap()
            .is_empty());
    }
}

//! Findings told apart by the rule the engine broke.
//!
//! A finding's identity is the set of `(engine, rule, step kinds)` its
//! unallowed outcomes break ([`pmconf_model::violation`]): two findings
//! whose rules are the same share a root cause, whatever their hosts,
//! values, targetOrigin mutations or window names. A new finding is
//! *known* when every one of its keys is a key of a finding already saved
//! (under `--out`, or adopted into `cases/found/`).
//!
//! A saved finding's keys are computed again from its case and what its
//! engine observed: for an adopted one, the engine snapshot
//! `snapshots/<engine>/found__<stem>.snap`; under `--out`, the snapshot
//! written beside it, `<out>/snapshots/<engine>/found__<stem>.snap`. The
//! engine is the first part of the file name (`<engine>--...`).

use crate::run::snapshots::body_of;
use pmconf_model::violation::{classify, rule_keys};
use pmconf_model::{parse_case, Case, Outcome};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The rule keys (`rule[kind,kind]`) `observed` breaks in `case`, joined
/// with `; `; `None` when the model allows (or contests) it.
pub fn divergence_key(case: &Case, observed: &Outcome) -> Option<String> {
    let keys = rule_keys(&classify(case, observed));
    if keys.is_empty() {
        None
    } else {
        Some(keys.into_iter().collect::<Vec<_>>().join("; "))
    }
}

/// The keys of a finding: `engine: rule[kinds]` for every rule any of
/// `observed` breaks.
pub fn finding_keys(engine: &str, case: &Case, observed: &[Outcome]) -> BTreeSet<String> {
    observed
        .iter()
        .flat_map(|o| rule_keys(&classify(case, o)))
        .map(|k| format!("{engine}: {k}"))
        .collect()
}

/// Findings already saved, by key.
#[derive(Debug, Default, Clone)]
pub struct SavedFindings {
    /// Each key, with the files that have it.
    pub keys: BTreeMap<String, Vec<PathBuf>>,
}

impl SavedFindings {
    /// Reads the findings in each `(case directory, snapshot directory)`:
    /// every `<engine>--*.yaml` directly in the case directory whose
    /// engine snapshot is found. Files that do not parse, or have no
    /// snapshot, are skipped (they cannot be compared by rule).
    pub fn load(dirs: &[(&Path, &Path)]) -> Self {
        let mut saved = SavedFindings::default();
        for (cases, snapshots) in dirs {
            let Ok(entries) = std::fs::read_dir(cases) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .collect();
            files.sort();
            for file in files {
                if let Some(keys) = keys_of_saved(&file, snapshots) {
                    saved.add(&file, keys);
                }
            }
        }
        saved
    }

    /// Records `file` as having `keys`.
    pub fn add(&mut self, file: &Path, keys: BTreeSet<String>) {
        for k in keys {
            self.keys.entry(k).or_default().push(file.to_owned());
        }
    }

    /// When every one of `keys` is already saved: the files that have
    /// them. `None` when one is new (or `keys` is empty).
    pub fn known(&self, keys: &BTreeSet<String>) -> Option<Vec<PathBuf>> {
        if keys.is_empty() {
            return None;
        }
        let mut files = BTreeSet::new();
        for k in keys {
            files.insert(self.keys.get(k)?.first()?.clone());
        }
        Some(files.into_iter().collect())
    }
}

/// The stem's engine: `chromium--blob-wrapped--332251e4` -> `chromium`.
pub fn engine_of(stem: &str) -> Option<&str> {
    stem.split_once("--").map(|(e, _)| e)
}

/// The keys of the saved finding `file`, from its engine's snapshot under
/// `snapshots`.
fn keys_of_saved(file: &Path, snapshots: &Path) -> Option<BTreeSet<String>> {
    let stem = file.file_stem()?.to_str()?;
    let engine = engine_of(stem)?;
    let text = std::fs::read_to_string(file).ok()?;
    let case = parse_case(&file.display().to_string(), &text).ok()?;
    let snap = std::fs::read_to_string(snapshots.join(engine).join(snapshot_file(stem))).ok()?;
    let observed = observed_in_snapshot(&snap)?;
    Some(finding_keys(engine, &case, &observed))
}

/// The snapshot file name of the finding `stem` once adopted into
/// `cases/found/` (`found__<stem>.snap`).
pub fn snapshot_file(stem: &str) -> String {
    format!("found__{stem}.snap")
}

/// The outcomes an engine snapshot records: `observed` (one run) or
/// `seen` (a race case's runs).
pub fn observed_in_snapshot(text: &str) -> Option<Vec<Outcome>> {
    #[derive(serde::Deserialize)]
    struct Body {
        observed: Option<Outcome>,
        seen: Option<Vec<Outcome>>,
    }
    let body: Body = serde_yaml::from_str(body_of(text)).ok()?;
    match (body.observed, body.seen) {
        (Some(o), _) => Some(vec![o]),
        (None, Some(seen)) => Some(seen),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The origin findings adopted in cases/found/ have the keys their
    /// descriptions name in words (written by the shape-based fuzzer).
    #[test]
    fn adopted_findings_have_rule_keys() {
        let root = workspace();
        let saved = SavedFindings::load(&[(&root.join("cases/found"), &root.join("snapshots"))]);
        let has = |k: &str| saved.keys.contains_key(k);
        // "post: model SyntaxError, engine DataCloneError"
        assert!(
            has("chromium: exception:SyntaxError>DataCloneError[post]"),
            "{:#?}",
            saved.keys.keys()
        );
        // "delivery: model delivers, engine drops" (blob:http://a.test)
        assert!(has("firefox: dropped[post]"), "{:#?}", saved.keys.keys());
        assert!(has("webkitgtk: exception:DataCloneError>SyntaxError[post]"));
        assert!(
            !saved.keys.keys().any(|k| k.contains("combination")),
            "{:#?}",
            saved.keys
        );
    }
}

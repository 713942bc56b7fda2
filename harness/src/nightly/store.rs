//! The files of a history and how a night changes them: every write goes
//! through a [`Journal`], which keeps the file's earlier content (or notes
//! that it did not exist) under `undo/`, so that the last night can be
//! taken back whole, when its run is run again ([`History::record`]
//! replaces it), or when recording fails half way (nothing partial is left).
//!
//! The earlier contents are byte for byte the files the commit before
//! held, so git stores them once.
//!
//! [`History::record`]: super::history::History::record

use super::NightlyError;
use crate::atomic::{write_atomically, Dir};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// Where the undo journal lives, under the history's root.
pub const UNDO_DIR: &str = "undo";

/// The journal's manifest, `undo/manifest.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The night whose writes it can take back.
    pub night: String,
    /// Files the night created (taking it back removes them).
    pub created: BTreeSet<String>,
    /// Files the night changed or removed; their earlier content is
    /// `undo/files/<path>`.
    pub changed: BTreeSet<String>,
    /// The change log's length in bytes before the night.
    pub changes_bytes: u64,
}

/// The writes of one night, with what each replaced.
pub struct Journal {
    root: PathBuf,
    manifest: Manifest,
}

impl Journal {
    /// Starts the journal of `night` in `root`, dropping the previous one.
    pub fn begin(root: &Path, night: &str, changes_bytes: u64) -> Result<Self, NightlyError> {
        let undo = root.join(UNDO_DIR);
        if undo.exists() {
            std::fs::remove_dir_all(&undo).map_err(|e| NightlyError::write(&undo, e))?;
        }
        Ok(Journal {
            root: root.to_path_buf(),
            manifest: Manifest {
                night: night.to_owned(),
                changes_bytes,
                ..Manifest::default()
            },
        })
    }

    /// Keeps what `rel` holds now, the first time the night touches it.
    fn keep(&mut self, rel: &str) -> Result<(), NightlyError> {
        if self.manifest.created.contains(rel) || self.manifest.changed.contains(rel) {
            return Ok(());
        }
        let path = self.root.join(rel);
        if path.exists() {
            let saved = self.root.join(UNDO_DIR).join("files").join(rel);
            if let Some(dir) = saved.parent() {
                std::fs::create_dir_all(dir).map_err(|e| NightlyError::write(dir, e))?;
            }
            std::fs::copy(&path, &saved).map_err(|e| NightlyError::write(&saved, e))?;
            self.manifest.changed.insert(rel.to_owned());
        } else {
            self.manifest.created.insert(rel.to_owned());
        }
        Ok(())
    }

    /// Writes `text` to `rel` unless it already holds exactly that (so an
    /// unchanged file keeps its bytes and git stores it once).
    pub fn write(&mut self, rel: &str, text: &str) -> Result<(), NightlyError> {
        let path = self.root.join(rel);
        if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(());
        }
        self.keep(rel)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| NightlyError::write(dir, e))?;
        }
        write_atomically(&path, text.as_bytes(), Dir::MustExist)
            .map_err(|e| NightlyError::write(&path, e))
    }

    /// Removes `rel`, and any directory it leaves empty.
    pub fn remove(&mut self, rel: &str) -> Result<(), NightlyError> {
        let path = self.root.join(rel);
        if !path.exists() {
            return Ok(());
        }
        self.keep(rel)?;
        std::fs::remove_file(&path).map_err(|e| NightlyError::write(&path, e))?;
        remove_empty_parents(&self.root, &path);
        Ok(())
    }

    /// Writes the manifest: from now on the night can be taken back.
    pub fn commit(self) -> Result<(), NightlyError> {
        let path = self.root.join(UNDO_DIR).join("manifest.json");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| NightlyError::write(dir, e))?;
        }
        let mut text = serde_json::to_string_pretty(&self.manifest).expect("manifests serialize");
        text.push('\n');
        write_atomically(&path, text.as_bytes(), Dir::MustExist)
            .map_err(|e| NightlyError::write(&path, e))
    }

    /// Takes back every write so far (recording failed half way).
    pub fn roll_back(self) {
        let _ = undo(&self.root, &self.manifest);
        let _ = std::fs::remove_dir_all(self.root.join(UNDO_DIR));
    }
}

/// The committed journal of `root`, when there is one.
pub fn manifest(root: &Path) -> Result<Option<Manifest>, NightlyError> {
    let path = root.join(UNDO_DIR).join("manifest.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| NightlyError::read(&path, e))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| NightlyError::Corrupt {
            path,
            location: Some((e.line(), e.column())),
            message: format!("malformed undo journal: {e}"),
            fix: "restore the data branch's last commit (git checkout data -- undo)".into(),
        })
}

/// Takes back the night `manifest` journals: removes what it created,
/// restores what it changed, cuts the change log back.
pub fn undo(root: &Path, manifest: &Manifest) -> Result<(), NightlyError> {
    for rel in &manifest.created {
        let path = root.join(rel);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| NightlyError::write(&path, e))?;
            remove_empty_parents(root, &path);
        }
    }
    for rel in &manifest.changed {
        let saved = root.join(UNDO_DIR).join("files").join(rel);
        let path = root.join(rel);
        let text = std::fs::read(&saved).map_err(|e| NightlyError::read(&saved, e))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| NightlyError::write(dir, e))?;
        }
        write_atomically(&path, &text, Dir::MustExist)
            .map_err(|e| NightlyError::write(&path, e))?;
    }
    let log = root.join(super::history::CHANGES_FILE);
    if log.exists() {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&log)
            .map_err(|e| NightlyError::write(&log, e))?;
        file.set_len(manifest.changes_bytes)
            .map_err(|e| NightlyError::write(&log, e))?;
    }
    Ok(())
}

fn remove_empty_parents(root: &Path, path: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// A case path as results files spell it (`cases/a/x.yaml`), checked to
/// stay inside the directory it is stored under: relative, no `..`.
pub fn checked_case_path<'a>(case: &'a str, file: &Path) -> Result<&'a str, NightlyError> {
    let ok = !case.is_empty()
        && Path::new(case)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(case)
    } else {
        Err(NightlyError::corrupt(
            file,
            format!("case {case:?} is not a relative path inside the suite"),
            "case names are paths like cases/opaque/x.yaml, as `pmconf run` writes them",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_takes_back_writes_removals_and_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/kept.json"), "old").unwrap();
        std::fs::write(root.join("a/gone.json"), "gone").unwrap();
        std::fs::write(root.join("changes.jsonl"), "1\n").unwrap();
        let mut j = Journal::begin(root, "n2", 2).unwrap();
        j.write("a/kept.json", "new").unwrap();
        j.write("a/kept.json", "newer").unwrap();
        j.write("b/c/new.json", "made").unwrap();
        j.remove("a/gone.json").unwrap();
        j.commit().unwrap();
        std::fs::write(root.join("changes.jsonl"), "1\n2\n").unwrap();
        let m = manifest(root).unwrap().unwrap();
        assert_eq!(m.night, "n2");
        assert_eq!(
            m.changed.iter().collect::<Vec<_>>(),
            ["a/gone.json", "a/kept.json"]
        );
        undo(root, &m).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("a/kept.json")).unwrap(),
            "old"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("a/gone.json")).unwrap(),
            "gone"
        );
        assert!(!root.join("b").exists(), "emptied directories go too");
        assert_eq!(
            std::fs::read_to_string(root.join("changes.jsonl")).unwrap(),
            "1\n"
        );
    }

    #[test]
    fn an_unchanged_file_is_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("same.json"), "x").unwrap();
        let mut j = Journal::begin(dir.path(), "n", 0).unwrap();
        j.write("same.json", "x").unwrap();
        assert!(j.manifest.changed.is_empty() && j.manifest.created.is_empty());
    }

    #[test]
    fn case_paths_stay_inside() {
        let f = Path::new("r.json");
        assert!(checked_case_path("cases/a/x.yaml", f).is_ok());
        for bad in ["", "/etc/passwd", "cases/../../x", "./x", "a//b/.."] {
            assert!(checked_case_path(bad, f).is_err(), "{bad:?}");
        }
    }
}

//! Finding and loading case files.

use pmconf_model::{parse_case, Case, CaseError};
use std::path::{Path, PathBuf};

/// A case read from disk.
#[derive(Debug, Clone)]
pub struct LoadedCase {
    /// The path as given or found.
    pub path: PathBuf,
    /// The path with `/` separators, for names and snapshots.
    pub name: String,
    /// The validated case.
    pub case: Case,
}

/// Every problem found while loading cases.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A path given does not exist or cannot be read.
    #[error("{path}: {reason}\n  fix: {fix}")]
    Io {
        /// The path.
        path: String,
        /// What failed.
        reason: String,
        /// What to do.
        fix: String,
    },
    /// A case file is invalid.
    #[error("{0}")]
    Case(CaseError),
    /// Two case files whose snapshots would share one name, and so
    /// overwrite each other.
    #[error("{second}: its snapshots would be named `{name}.snap`, like those of {first}\n  fix: rename one of the two files, or put them in different directories under cases/")]
    SnapshotNameTaken {
        /// The file named first.
        first: String,
        /// The file named later.
        second: String,
        /// The shared snapshot name.
        name: String,
    },
}

/// Expands files and directories (recursively, `*.yaml` and `*.yml`, sorted)
/// into case file paths. A file named twice (say, itself and through its
/// directory) is listed once, where it first appeared: two results for one
/// case would overwrite each other's snapshot.
pub fn find_case_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Vec<LoadError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found = Vec::new();
            walk(input, &mut found, &mut errors);
            if found.is_empty() {
                errors.push(LoadError::Io {
                    path: input.display().to_string(),
                    reason: "directory holds no .yaml case files".into(),
                    fix: "point at a directory of cases, such as cases/".into(),
                });
            }
            found.sort();
            files.extend(found);
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            errors.push(LoadError::Io {
                path: input.display().to_string(),
                reason: "no such file or directory".into(),
                fix: "check the path; cases live under cases/".into(),
            });
        }
    }
    let mut named = std::collections::HashSet::new();
    files.retain(|f| named.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(LoadError::Io {
                path: dir.display().to_string(),
                reason: e.to_string(),
                fix: "check the directory's permissions".into(),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out, errors);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

/// Loads and validates every case under `inputs`; all errors, not only the
/// first, are returned.
pub fn load_cases(inputs: &[PathBuf]) -> Result<Vec<LoadedCase>, Vec<LoadError>> {
    let files = find_case_files(inputs)?;
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        let name = path.to_string_lossy().replace('\\', "/");
        match std::fs::read_to_string(&path) {
            Err(e) => errors.push(LoadError::Io {
                path: name,
                reason: e.to_string(),
                fix: "case files must be readable UTF-8 text".into(),
            }),
            Ok(text) => match parse_case(&name, &text) {
                Ok(case) => cases.push(LoadedCase { path, name, case }),
                Err(errs) => errors.extend(errs.into_iter().map(LoadError::Case)),
            },
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

/// Refuses cases whose snapshots would share a name (say
/// `cases/a.yaml` and `other/cases/a.yaml`), naming both files.
pub fn check_snapshot_names(cases: &[LoadedCase]) -> Result<(), Vec<LoadError>> {
    let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for c in cases {
        let name = crate::layout::snapshot_name(&c.name);
        if let Some(first) = seen.get(&name) {
            errors.push(LoadError::SnapshotNameTaken {
                first: (*first).to_owned(),
                second: c.name.clone(),
                name,
            });
        } else {
            seen.insert(name, &c.name);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The crate's tests run from `harness/`; the cases live beside it.
    fn races() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases/races")
    }

    #[test]
    fn a_file_named_twice_is_listed_once_where_it_first_appeared() {
        let one = races().join("post-then-remove-same-task.yaml");
        let from_dir = find_case_files(&[races()]).expect("the race cases exist");
        let both = find_case_files(&[one.clone(), races(), one.clone()]).expect("they exist");
        assert_eq!(both.len(), from_dir.len(), "{both:?}");
        assert_eq!(both[0], one);
        // A second spelling of the same directory adds nothing either.
        let spelled = races().join("../races/");
        let twice = find_case_files(&[races(), spelled]).expect("they exist");
        assert_eq!(twice.len(), from_dir.len());
    }
}

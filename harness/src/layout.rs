//! Where a case's snapshots live: their shared name, the accepted file
//! per engine (or the model), and the pending file `pmconf review` reads.
//!
//! A leaf: case loading needs these names before anything runs (two case
//! files whose snapshots would share a name are refused at load time), the
//! runner and the review write and read the files, the fuzzer names an
//! adopted finding's snapshots by them.

use std::path::{Path, PathBuf};

/// The name every snapshot of a case shares, in `snapshots/model/` and in
/// each `snapshots/<engine>/`: its path below the last `cases/` directory,
/// without `.yaml`, with `/` as `__` (`cases/races/a.yaml` -> `races__a`).
/// A case outside any `cases/` directory is named after its whole
/// (canonical) path, prefixed `outside__`, so two such files never share a
/// name: `/tmp/x/a/x.yaml` -> `outside__tmp__x__a__x`.
pub fn snapshot_name(case_name: &str) -> String {
    let relative = match below_cases(case_name) {
        Some(r) => r.to_owned(),
        None => {
            let full = std::fs::canonicalize(case_name)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| case_name.to_owned());
            let trimmed = full.trim_start_matches("./").trim_start_matches('/');
            format!("outside/{}", trimmed.replace("../", "up/"))
        }
    };
    let stem = relative
        .strip_suffix(".yaml")
        .or_else(|| relative.strip_suffix(".yml"))
        .unwrap_or(&relative);
    stem.replace('/', "__")
}

/// The part of `path` below its last `cases/` directory, if any.
pub fn below_cases(path: &str) -> Option<&str> {
    path.match_indices("cases/")
        .filter(|(i, _)| *i == 0 || path[..*i].ends_with('/'))
        .last()
        .map(|(i, m)| &path[i + m.len()..])
}

/// The snapshot file for a case: `dir/<engine>/<snapshot_name>.snap`
/// (the model's is `dir/model/<snapshot_name>.snap`).
pub fn snapshot_path(dir: &Path, engine: &str, case_name: &str) -> PathBuf {
    dir.join(engine)
        .join(format!("{}.snap", snapshot_name(case_name)))
}

/// What a pending snapshot's file name ends with.
const PENDING_SUFFIX: &str = ".new";

/// `x.snap` -> `x.snap.new`, where `pmconf review` looks.
pub fn pending_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(PENDING_SUFFIX);
    PathBuf::from(p)
}

/// `x.snap.new` -> `x.snap`: the accepted file a pending one replaces
/// (the inverse of [`pending_path`]).
pub fn accepted_path(pending: &Path) -> PathBuf {
    let s = pending.to_string_lossy();
    PathBuf::from(s.strip_suffix(PENDING_SUFFIX).unwrap_or(&s))
}

/// Whether `path` is a pending snapshot (`*.snap.new`).
pub fn is_pending(path: &Path) -> bool {
    path.to_string_lossy()
        .strip_suffix(PENDING_SUFFIX)
        .is_some_and(|accepted| accepted.ends_with(".snap"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_case_tree() {
        let p = snapshot_path(
            Path::new("snapshots"),
            "firefox",
            "cases/target-origin/exact-match.yaml",
        );
        assert_eq!(
            p,
            Path::new("snapshots/firefox/target-origin__exact-match.snap")
        );
        let p = snapshot_path(Path::new("s"), "chromium", "/abs/x/cases/a.yaml");
        assert_eq!(p, Path::new("s/chromium/a.snap"));
        // `showcases/` is not a `cases/` directory.
        assert_eq!(snapshot_name("/w/showcases/cases/b.yml"), "b");
    }

    #[test]
    fn cases_outside_cases_are_named_by_their_whole_path() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["a", "b"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join("x.yaml"), "").unwrap();
        }
        let a = snapshot_name(&dir.path().join("a/x.yaml").to_string_lossy());
        let b = snapshot_name(&dir.path().join("b/x.yaml").to_string_lossy());
        assert_ne!(a, b);
        assert!(a.starts_with("outside__") && a.ends_with("__a__x"), "{a}");
        assert!(!a.contains('/'), "{a}");
        // Another spelling of the same file gives the same name.
        let again = snapshot_name(&dir.path().join("b/../a/x.yaml").to_string_lossy());
        assert_eq!(again, a);
    }

    /// The run writes `pending_path`, the review finds it by `is_pending`
    /// and accepts it at `accepted_path`: one rule, read both ways.
    #[test]
    fn a_pending_snapshot_is_found_and_accepted_where_the_run_compared_it() {
        let accepted = snapshot_path(Path::new("snapshots"), "firefox", "cases/races/a.yaml");
        let pending = pending_path(&accepted);
        assert_eq!(pending, Path::new("snapshots/firefox/races__a.snap.new"));
        assert!(is_pending(&pending));
        assert!(!is_pending(&accepted));
        assert!(!is_pending(Path::new("notes.new")));
        assert_eq!(accepted_path(&pending), accepted);
        // A file that is not pending names itself.
        assert_eq!(accepted_path(&accepted), accepted);
    }
}

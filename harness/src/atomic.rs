//! Writing a file all at once or not at all: reports, snapshots, findings,
//! exported tests, results. Every file pmconf writes goes through
//! [`write_atomically`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Whether [`write_atomically`] may make the file's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// The directory must be there: a missing one is an error naming the
    /// path, and nothing is written (a report's directory is the user's
    /// to give; a typo in it must not make a tree of directories).
    MustExist,
    /// The directory is made first, with its parents (snapshots, findings
    /// and exports go to directories pmconf names itself).
    Make,
}

/// Writes `contents` to `path` atomically: into a temporary file in the same
/// directory, synced, then renamed over `path`; its directory is made
/// first when `dir` says [`Dir::Make`].
///
/// Readers (CI uploaders, a browser reloading the HTML page) therefore see
/// either the previous file or the complete new one, never a partial one;
/// on any failure the temporary file is removed and `path` is untouched.
/// The error names the path, since an `io::Error` alone does not.
pub fn write_atomically(path: &Path, contents: &[u8], dir: Dir) -> io::Result<()> {
    let with_path =
        |e: io::Error| io::Error::new(e.kind(), format!("writing {}: {e}", path.display()));
    if dir == Dir::Make {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                io::Error::new(e.kind(), format!("making {}: {e}", parent.display()))
            })?;
        }
    }
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file path", path.display()),
        )
    })?;
    // Same directory, so the final rename never crosses file systems.
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // tempfile creates files readable by the owner only; a report is meant
    // to be read (served, uploaded), so ask for the usual mode, still
    // narrowed by the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // Dropping `temp` on an early return deletes the temporary file.
    let mut temp = builder.tempfile_in(dir).map_err(with_path)?;
    temp.write_all(contents).map_err(with_path)?;
    temp.as_file().sync_all().map_err(with_path)?;
    temp.persist(path).map_err(|e| with_path(e.error))?;
    Ok(())
}

/// Writes each `(file name, text)` into `dir` (made if needed), each file
/// atomically; if one cannot be written, the ones written before it are
/// removed again, so a failure leaves no partial set behind.
pub fn write_all_or_none(dir: &Path, files: &[(String, String)]) -> Result<(), String> {
    let mut written: Vec<PathBuf> = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        if let Err(e) = write_atomically(&path, text.as_bytes(), Dir::Make) {
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            return Err(format!(
                "cannot write {}: {e} (nothing was left in {})",
                path.display(),
                dir.display()
            ));
        }
        written.push(path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_the_whole_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomically(&path, b"first", Dir::MustExist).unwrap();
        write_atomically(&path, b"second", Dir::MustExist).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(entries(dir.path()), vec!["out.json".to_owned()]);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("out.json");
        let err = write_atomically(&path, b"x", Dir::MustExist).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("missing/out.json"), "{err}");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn a_missing_directory_is_made_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e/f/out.json");
        write_atomically(&path, b"x", Dir::Make).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x");
        assert_eq!(
            entries(&dir.path().join("e/f")),
            vec!["out.json".to_owned()]
        );
        // A file where the directory should be: an error naming it.
        std::fs::write(dir.path().join("g"), "").unwrap();
        let err = write_atomically(&dir.path().join("g/h/out.json"), b"x", Dir::Make).unwrap_err();
        assert!(err.to_string().contains("making "), "{err}");
        assert!(err.to_string().contains("g/h: "), "{err}");
    }

    #[test]
    fn a_failed_write_leaves_no_file_of_the_set_behind() {
        let dir = tempfile::tempdir().unwrap();
        // The second name is a directory already, so it cannot be written.
        std::fs::create_dir(dir.path().join("b.yaml")).unwrap();
        let files = vec![
            ("a.yaml".to_owned(), "x".to_owned()),
            ("b.yaml".to_owned(), "y".to_owned()),
        ];
        let e = write_all_or_none(dir.path(), &files).unwrap_err();
        assert!(e.contains("b.yaml"), "{e}");
        assert!(!dir.path().join("a.yaml").exists());
        write_all_or_none(&dir.path().join("ok"), &files[..1]).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ok/a.yaml")).unwrap(),
            "x"
        );
    }

    #[test]
    fn a_path_without_a_file_name_is_rejected() {
        let err = write_atomically(Path::new("/"), b"x", Dir::Make).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}

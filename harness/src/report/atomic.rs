//! Writing a report file all at once or not at all.

use std::io::{self, Write};
use std::path::Path;

/// Writes `contents` to `path` atomically: into a temporary file in the same
/// directory, synced, then renamed over `path`.
///
/// Readers (CI uploaders, a browser reloading the HTML page) therefore see
/// either the previous file or the complete new one, never a partial one;
/// on any failure the temporary file is removed and `path` is untouched.
/// The error names the path, since an `io::Error` alone does not.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let with_path =
        |e: io::Error| io::Error::new(e.kind(), format!("writing {}: {e}", path.display()));
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
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(entries(dir.path()), vec!["out.json".to_owned()]);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("out.json");
        let err = write_atomically(&path, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("missing/out.json"), "{err}");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn a_path_without_a_file_name_is_rejected() {
        let err = write_atomically(Path::new("/"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}

//! Writing the manifest atomically: a temporary file in the same directory, renamed over the
//! old one, so that a reader sees the old text or the new, never a mix or a truncated file.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};

use super::error::EditError;
use crate::atomic::AtomicFile;

/// Replaces the file at `path` (following a symlink to the file it names) with `text`, keeping
/// its permissions.
pub fn replace(path: &Utf8Path, text: &str) -> Result<(), EditError> {
    let target = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .unwrap_or_else(|| path.to_path_buf());
    let mode = std::fs::metadata(&target)
        .map(|m| m.permissions().mode() & 0o7777)
        .map_err(|e| EditError::io("read", path, &e))?;
    temporary(&target, text)?
        .commit(mode)
        .map_err(|e| EditError::io("write", path, &e.source))
}

/// Writes `text` to a new file at `path` (creating its directory); fails if something is
/// already there.
pub fn create(path: &Utf8Path, text: &str) -> Result<(), EditError> {
    temporary(path, text)?.commit_new(0o644).map_err(|e| {
        if e.source.kind() == std::io::ErrorKind::AlreadyExists {
            already_there(path)
        } else {
            EditError::io("write", path, &e.source)
        }
    })
}

/// The refusal to overwrite an existing manifest.
pub fn already_there(path: &Utf8Path) -> EditError {
    EditError::Init {
        message: format!("`{path}` already exists"),
        help: "init never overwrites a manifest: edit it with `lambda-batch add`/`set`, or move it away first".into(),
    }
}

/// A temporary file beside `path` holding `text`, flushed to disk.
fn temporary(path: &Utf8Path, text: &str) -> Result<AtomicFile, EditError> {
    let mut file = AtomicFile::create(path)
        .map_err(|e| EditError::io("write a temporary file in", &e.path, &e.source))?;
    file.file()
        .write_all(text.as_bytes())
        .map_err(|e| EditError::io("write", path, &e))?;
    file.sync()
        .map_err(|e| EditError::io("write", path, &e.source))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_keeps_permissions_and_create_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(dir.path().join("lambda.kdl")).unwrap();
        create(&path, "a\n").unwrap();
        assert!(matches!(create(&path, "b\n"), Err(EditError::Init { .. })));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        replace(&path, "c\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "c\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}

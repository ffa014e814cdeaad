//! Writing a file through a temporary sibling and a rename, so that a reader (or an interrupted
//! run) sees either the previous file or the complete new one, never a truncated one.

use std::fs::{self, File, Permissions};
use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};
use tempfile::{NamedTempFile, TempPath};

use super::PackageError;

/// Name prefix of every temporary file packaging creates, so that stray ones can be found.
pub const TEMP_PREFIX: &str = ".lambda-batch-tmp-";

/// A file being written beside its destination; dropped without [`AtomicFile::commit`], the
/// temporary file is removed and the destination is untouched.
#[derive(Debug)]
pub(crate) struct AtomicFile {
    dest: Utf8PathBuf,
    temp: NamedTempFile,
}

impl AtomicFile {
    /// Creates the destination's directory if needed and a temporary file in it (same
    /// directory, so that the final rename cannot cross file systems).
    pub(crate) fn create(dest: &Utf8Path) -> Result<Self, PackageError> {
        let dir = match dest.parent() {
            Some(d) if !d.as_str().is_empty() => d,
            _ => Utf8Path::new("."),
        };
        fs::create_dir_all(dir).map_err(PackageError::io("creating directory", dir))?;
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir)
            .map_err(PackageError::io("creating a temporary file in", dir))?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            temp,
        })
    }

    /// The temporary file, open for reading and writing.
    pub(crate) fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Closes the temporary file but keeps it on disk until committed or dropped, so that the
    /// many files of one output can wait for their commit without holding a descriptor each.
    pub(crate) fn close(self) -> ClosedFile {
        ClosedFile {
            dest: self.dest,
            temp: self.temp.into_temp_path(),
        }
    }

    /// Sets the file's mode and renames it over the destination.
    pub(crate) fn commit(self, mode: u32) -> Result<(), PackageError> {
        self.close().commit(mode)
    }
}

/// A written temporary file waiting to replace its destination; dropped, it is removed.
#[derive(Debug)]
pub(crate) struct ClosedFile {
    dest: Utf8PathBuf,
    temp: TempPath,
}

impl ClosedFile {
    /// The final path.
    pub(crate) fn dest(&self) -> &Utf8Path {
        &self.dest
    }

    /// Sets the file's mode (exactly, whatever the umask) and renames it over the destination.
    pub(crate) fn commit(self, mode: u32) -> Result<(), PackageError> {
        fs::set_permissions(&self.temp, Permissions::from_mode(mode))
            .map_err(PackageError::io("setting the mode of", self.dest.clone()))?;
        // On failure the returned path is dropped here, which removes the temporary file.
        self.temp.persist(&self.dest).map_err(|e| PackageError::Io {
            action: "replacing",
            path: self.dest.clone(),
            source: e.error,
        })
    }
}

/// An output written to its temporary file, with what will be recorded about it.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The temporary file and its destination.
    pub file: ClosedFile,
    /// The mode it gets.
    pub mode: u32,
    /// SHA-256 of its bytes.
    pub sha256: [u8; 32],
    /// Its length.
    pub size: u64,
}

/// Removes the temporary files a packaging left in `dir` (not recursive), for the executor's
/// Ctrl-C path, where threads may be stopped before their temporary files are dropped.
pub fn remove_stray_temp_files(dir: &Utf8Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMP_PREFIX));
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_ours && is_file {
            // Best effort: the process is about to exit and has nothing better to do on failure.
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn dir() -> (tempfile::TempDir, Utf8PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = Utf8PathBuf::from_path_buf(d.path().to_path_buf()).unwrap();
        (d, p)
    }

    fn names(dir: &Utf8Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_replaces_with_mode_and_creates_parents() {
        let (_d, base) = dir();
        let dest = base.join("a/b/out");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.file().write_all(b"new").unwrap();
        f.commit(0o755).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&dest).unwrap().permissions().mode() & 0o7777,
            0o755
        );
        assert_eq!(names(&base.join("a/b")), vec!["out"]);
    }

    #[test]
    fn dropping_uncommitted_leaves_previous_output() {
        let (_d, base) = dir();
        let dest = base.join("out");
        fs::write(&dest, "old").unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.file().write_all(b"half").unwrap();
        assert_eq!(
            names(&base).len(),
            2,
            "the temporary file exists while writing"
        );
        drop(f);
        assert_eq!(fs::read(&dest).unwrap(), b"old");
        assert_eq!(names(&base), vec!["out"]);
    }

    #[test]
    fn failed_rename_removes_temp_file() {
        let (_d, base) = dir();
        // A non-empty directory where the file should go: rename fails.
        let dest = base.join("out");
        fs::create_dir_all(dest.join("inner")).unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.file().write_all(b"x").unwrap();
        assert!(matches!(f.commit(0o644), Err(PackageError::Io { .. })));
        assert_eq!(names(&base), vec!["out"]);
    }

    #[test]
    fn stray_temp_files_are_removed_and_others_kept() {
        let (_d, base) = dir();
        fs::write(base.join(format!("{TEMP_PREFIX}abc")), "x").unwrap();
        fs::write(base.join("bootstrap"), "x").unwrap();
        fs::create_dir(base.join(format!("{TEMP_PREFIX}dir"))).unwrap();
        // A temporary file that is never dropped, as when the process exits mid-write.
        let f = AtomicFile::create(&base.join("out")).unwrap();
        std::mem::forget(f);
        remove_stray_temp_files(&base);
        assert_eq!(
            names(&base),
            vec![format!("{TEMP_PREFIX}dir"), "bootstrap".to_string()]
        );
        remove_stray_temp_files(&base.join("missing"));
    }
}

//! Ground floor: writing a file through a temporary sibling and a rename, so that a reader (or
//! an interrupted run) sees either the previous file or the complete new one, never a
//! truncated one. Every file lambda-batch writes goes through here: outputs, stamps, caches,
//! executables fetched from the artifact cache, the report and the manifest (the artifact
//! cache's directory backend is written by object_store, which stages and renames alike).

use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};
use tempfile::{NamedTempFile, TempPath};

/// Name prefix of every temporary file, so that stray ones can be found.
pub const TEMP_PREFIX: &str = ".lambda-batch-tmp-";

/// A step of an atomic write that failed.
#[derive(Debug, thiserror::Error)]
#[error("{action} `{path}`: {source}")]
pub struct Error {
    /// What was being done (`creating directory`, `replacing`, ...).
    pub action: &'static str,
    /// The file or directory.
    pub path: Utf8PathBuf,
    /// The OS error.
    #[source]
    pub source: io::Error,
}

impl Error {
    fn at<'a>(action: &'static str, path: &'a Utf8Path) -> impl FnOnce(io::Error) -> Error + 'a {
        move |source| Error {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(e.source.kind(), e.to_string())
    }
}

/// Replaces (or creates) `dest` with `bytes`, with the permission bits `mode`.
pub fn write(dest: &Utf8Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let mut file = AtomicFile::create(dest)?;
    file.file()
        .write_all(bytes)
        .map_err(Error::at("writing", dest))?;
    file.commit(mode)
}

/// A file being written beside its destination; dropped without a commit, the temporary file
/// is removed and the destination is untouched.
#[derive(Debug)]
pub struct AtomicFile {
    dest: Utf8PathBuf,
    temp: NamedTempFile,
}

impl AtomicFile {
    /// Creates the destination's directory if needed and a temporary file in it (same
    /// directory, so that the final rename cannot cross file systems).
    pub fn create(dest: &Utf8Path) -> Result<Self, Error> {
        let dir = match dest.parent() {
            Some(d) if !d.as_str().is_empty() => d,
            _ => Utf8Path::new("."),
        };
        fs::create_dir_all(dir).map_err(Error::at("creating directory", dir))?;
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir)
            .map_err(Error::at("creating a temporary file in", dir))?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            temp,
        })
    }

    /// The final path.
    pub fn dest(&self) -> &Utf8Path {
        &self.dest
    }

    /// The temporary file, open for reading and writing.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Flushes what was written to the disk, for files that must survive a crash.
    pub fn sync(&self) -> Result<(), Error> {
        self.temp
            .as_file()
            .sync_all()
            .map_err(Error::at("writing", &self.dest))
    }

    /// Closes the temporary file but keeps it on disk until committed or dropped, so that the
    /// many files of one output can wait for their commit without holding a descriptor each.
    pub fn close(self) -> ClosedFile {
        ClosedFile {
            dest: self.dest,
            temp: self.temp.into_temp_path(),
        }
    }

    /// Sets the file's mode and renames it over the destination.
    pub fn commit(self, mode: u32) -> Result<(), Error> {
        self.close().commit(mode)
    }

    /// Sets the file's mode and renames it to the destination, which must not exist (an error
    /// of kind `AlreadyExists` otherwise, the destination untouched).
    pub fn commit_new(self, mode: u32) -> Result<(), Error> {
        let closed = self.close();
        closed.set_mode(mode)?;
        let dest = closed.dest;
        closed
            .temp
            .persist_noclobber(&dest)
            .map_err(|e| Error::at("creating", &dest)(e.error))
    }
}

/// A written temporary file waiting to replace its destination; dropped, it is removed.
#[derive(Debug)]
pub struct ClosedFile {
    dest: Utf8PathBuf,
    temp: TempPath,
}

impl ClosedFile {
    /// The final path.
    pub fn dest(&self) -> &Utf8Path {
        &self.dest
    }

    fn set_mode(&self, mode: u32) -> Result<(), Error> {
        fs::set_permissions(&self.temp, Permissions::from_mode(mode))
            .map_err(Error::at("setting the mode of", &self.dest))
    }

    /// Sets the file's mode (exactly, whatever the umask) and renames it over the destination.
    pub fn commit(self, mode: u32) -> Result<(), Error> {
        self.set_mode(mode)?;
        // On failure the returned path is dropped here, which removes the temporary file.
        self.temp
            .persist(&self.dest)
            .map_err(|e| Error::at("replacing", &self.dest)(e.error))
    }
}

/// Removes the temporary files left in `dir` (not recursive), for the executor's Ctrl-C path,
/// where threads may be stopped before their temporary files are dropped.
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

    /// A temporary file for `dest` holding `bytes`, not committed.
    fn written(dest: &Utf8Path, bytes: &[u8]) -> AtomicFile {
        let mut f = AtomicFile::create(dest).unwrap();
        f.file().write_all(bytes).unwrap();
        f
    }

    fn mode(path: &Utf8Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn commit_replaces_with_mode_and_creates_parents() {
        let (_d, base) = dir();
        let dest = base.join("a/b/out");
        written(&dest, b"new").commit(0o755).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert_eq!(mode(&dest), 0o755);
        assert_eq!(names(&base.join("a/b")), vec!["out"]);
        write(&dest, b"again", 0o640).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"again");
        assert_eq!(mode(&dest), 0o640);
    }

    #[test]
    fn dropping_uncommitted_leaves_previous_output() {
        let (_d, base) = dir();
        let dest = base.join("out");
        fs::write(&dest, "old").unwrap();
        let f = written(&dest, b"half");
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
        let err = written(&dest, b"x").commit(0o644).unwrap_err();
        assert_eq!(err.action, "replacing");
        assert_eq!(names(&base), vec!["out"]);
    }

    #[test]
    fn commit_new_never_replaces() {
        let (_d, base) = dir();
        let dest = base.join("out");
        written(&dest, b"first").commit_new(0o644).unwrap();
        let err = written(&dest, b"second").commit_new(0o644).unwrap_err();
        assert_eq!(err.source.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&dest).unwrap(), b"first");
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

//! Ground floor: writing a file through a temporary sibling and a rename, so that a reader (or
//! an interrupted run) sees either the previous file or the complete new one, never a
//! truncated one. Every file lambda-batch writes goes through here: outputs, stamps, caches,
//! executables fetched from the artifact cache, the report and the manifest (the artifact
//! cache's directory backend is written by object_store, which stages and renames alike).
//!
//! A temporary file's name says which process wrote it: `.lambda-batch-tmp-<pid>-<token>-…`,
//! the token being random per process. Each process that writes one holds an advisory lock
//! (`flock`) on `<tmp>/lambda-batch-owners-<uid>/<pid>-<token>.lock` for as long as it lives;
//! the kernel drops the lock when the process dies, however it dies. So a process removes
//! only the temporary files it made ([`remove_own_temp_files`]), and [`Sweeper`] removes
//! those of dead processes (a free lock; without a lock file, a pid that is not running),
//! never those of a live one, such as another `run` of the same manifest.

use std::collections::HashMap;
use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};
use tempfile::{NamedTempFile, TempPath};

/// Name prefix of every temporary file, so that stray ones can be found.
pub const TEMP_PREFIX: &str = ".lambda-batch-tmp-";

/// How old a temporary file whose name carries no owner (written by an older lambda-batch)
/// must be before a sweep takes it for a leftover.
const UNOWNED_AGE: Duration = Duration::from_secs(3600);

/// This process, as its temporary files name it, and the lock that says it is alive.
#[derive(Debug)]
struct Owner {
    /// `<pid>-<token>`.
    tag: String,
    /// The lock file and the open file holding the lock; `None` when it could not be made
    /// (other processes then judge by the pid alone).
    lock: Option<(PathBuf, File)>,
}

/// The process-wide owner: one per process by nature, made on the first temporary file.
static OWNER: OnceLock<Owner> = OnceLock::new();

fn owner() -> &'static Owner {
    OWNER.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        // Seeded from the OS's randomness, differently in every process.
        let token = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish() as u32;
        let tag = format!("{}-{token:08x}", std::process::id());
        let lock = owners_dir().and_then(|dir| {
            let path = dir.join(format!("{tag}.lock"));
            let file = File::create(&path).ok()?;
            try_lock(&file).then_some((path, file))
        });
        Owner { tag, lock }
    })
}

/// Where the owners' lock files are: one directory per user, so that no user can take
/// another's lock file away.
fn owners_dir() -> Option<PathBuf> {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("lambda-batch-owners-{uid}"));
    fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// Takes the exclusive advisory lock on `file` without waiting; whether it was taken.
fn try_lock(file: &File) -> bool {
    // SAFETY: flock on a descriptor this function borrows; it touches no memory.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Removes this process's lock file; call once, when the process is about to exit (a lock
/// file left behind by a killed process is removed by the next [`Sweeper`]).
pub fn release() {
    if let Some((path, _)) = OWNER.get().and_then(|o| o.lock.as_ref()) {
        let _ = fs::remove_file(path);
    }
}

/// The owner tag (`<pid>-<token>`) in a temporary file's name, if it has one.
fn owner_of(name: &str) -> Option<(&str, u32)> {
    let rest = name.strip_prefix(TEMP_PREFIX)?;
    let mut parts = rest.splitn(3, '-');
    let (pid, token) = (parts.next()?, parts.next()?);
    parts.next()?;
    let pid_ok = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    let token_ok = token.len() == 8 && token.bytes().all(|b| b.is_ascii_hexdigit());
    if !(pid_ok && token_ok) {
        return None;
    }
    Some((&rest[..pid.len() + 1 + token.len()], pid.parse().ok()?))
}

/// Whether process `pid` exists (one that exists but belongs to another user counts).
fn pid_running(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists; it sends nothing.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes the temporary files that dead processes left behind, remembering which owners it
/// found alive or dead across the directories it sweeps.
#[derive(Debug, Default)]
pub struct Sweeper {
    alive: HashMap<String, bool>,
}

impl Sweeper {
    /// A sweeper that knows no owner yet.
    pub fn new() -> Sweeper {
        Sweeper::default()
    }

    /// Whether the process that made temporary files tagged `tag` still runs.
    fn alive(&mut self, tag: &str, pid: u32) -> bool {
        if let Some(known) = self.alive.get(tag) {
            return *known;
        }
        let lock = owners_dir().map(|d| d.join(format!("{tag}.lock")));
        let alive = match lock.as_ref().map(|p| (p, File::open(p))) {
            Some((path, Ok(file))) => {
                if try_lock(&file) {
                    // Nobody holds it: its process is gone. The lock goes with the file.
                    let _ = fs::remove_file(path);
                    false
                } else {
                    true
                }
            }
            // No lock file (it could not be made, or was swept): judge by the pid, which
            // errs on the side of keeping the files when the pid was reused.
            _ => pid_running(pid),
        };
        self.alive.insert(tag.to_string(), alive);
        alive
    }

    /// Removes from `dir` (not recursive) every temporary file whose process is gone, and
    /// those without an owner in their name once they are an hour old. Returns how many.
    pub fn sweep(&mut self, dir: &Utf8Path) -> usize {
        let Ok(entries) = fs::read_dir(dir) else {
            return 0;
        };
        let own = &owner_tag_if_made();
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with(TEMP_PREFIX) || !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let stale = match owner_of(name) {
                Some((tag, _)) if Some(tag) == own.as_deref() => false,
                Some((tag, pid)) => !self.alive(tag, pid),
                None => entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_some_and(|age| age > UNOWNED_AGE),
            };
            if stale && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// Removes the lock files of processes that are gone (a process killed outright leaves
    /// its lock file behind).
    pub fn sweep_locks(&mut self) {
        let Some(dir) = owners_dir() else { return };
        let Ok(entries) = fs::read_dir(&dir) else {
            return;
        };
        let own = owner_tag_if_made();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(tag) = name.to_str().and_then(|n| n.strip_suffix(".lock")) else {
                continue;
            };
            if Some(tag) == own.as_deref() {
                continue;
            }
            if let Ok(file) = File::open(entry.path())
                && try_lock(&file)
            {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// This process's tag, if it has made a temporary file (or its owner) yet.
fn owner_tag_if_made() -> Option<String> {
    OWNER.get().map(|o| o.tag.clone())
}

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
            .prefix(&format!("{TEMP_PREFIX}{}-", owner().tag))
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

/// Removes the temporary files this process made in `dir` (not recursive), for the
/// executor's Ctrl-C path, where a thread may be stopped before its temporary file is dropped.
/// Another process's files are never touched, even in the same directory.
pub fn remove_own_temp_files(dir: &Utf8Path) {
    let Some(own) = owner_tag_if_made() else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let mine = name
            .to_str()
            .and_then(owner_of)
            .is_some_and(|(tag, _)| tag == own);
        if mine && entry.file_type().is_ok_and(|t| t.is_file()) {
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

    /// A file named as process `tag` names its temporary files.
    fn temp_of(dir: &Utf8Path, tag: &str) -> Utf8PathBuf {
        let path = dir.join(format!("{TEMP_PREFIX}{tag}-abc123"));
        fs::write(&path, "partial").unwrap();
        path
    }

    /// The pid of a process that has exited.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn own_temp_files_are_removed_and_no_one_elses() {
        let (_d, base) = dir();
        // A temporary file that is never dropped, as when the process exits mid-write.
        let f = AtomicFile::create(&base.join("out")).unwrap();
        std::mem::forget(f);
        let other = temp_of(&base, &format!("{}-0badc0de", std::process::id() + 1));
        fs::write(base.join("bootstrap"), "x").unwrap();
        fs::create_dir(base.join(format!("{TEMP_PREFIX}dir"))).unwrap();
        assert_eq!(names(&base).len(), 4);
        remove_own_temp_files(&base);
        let mut want = vec![
            other.file_name().unwrap().to_string(),
            format!("{TEMP_PREFIX}dir"),
            "bootstrap".to_string(),
        ];
        want.sort();
        assert_eq!(names(&base), want);
        remove_own_temp_files(&base.join("missing"));
    }

    #[test]
    fn temp_files_carry_this_process_and_its_lock() {
        let (_d, base) = dir();
        let f = AtomicFile::create(&base.join("out")).unwrap();
        let name = f
            .temp
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let (tag, pid) = owner_of(&name).unwrap();
        assert_eq!(pid, std::process::id());
        assert_eq!(tag, owner().tag);
        let (lock, _) = owner().lock.as_ref().expect("a lock file");
        // The lock is held: nobody else can take it.
        assert!(!try_lock(&File::open(lock).unwrap()));
        // Sweeping never takes a live process's files, its own included.
        assert_eq!(Sweeper::new().sweep(&base), 0);
        assert!(f.temp.path().exists());
    }

    #[test]
    fn sweeping_takes_the_files_of_dead_processes_only() {
        let (_d, base) = dir();
        let owners = owners_dir().unwrap();
        // Dead: its lock file is there and free.
        let freed = "4000001-00000001";
        fs::write(owners.join(format!("{freed}.lock")), "").unwrap();
        let a = temp_of(&base, freed);
        // Dead: no lock file, and its pid is not running.
        let b = temp_of(&base, &format!("{}-00000002", dead_pid()));
        // Alive: someone holds its lock (another open file description: another process).
        let held = "4000003-00000003";
        let holder = File::create(owners.join(format!("{held}.lock"))).unwrap();
        assert!(try_lock(&holder));
        let c = temp_of(&base, held);
        // Alive: no lock file, but its pid runs (this process's, under another token).
        let d = temp_of(&base, &format!("{}-00000004", std::process::id()));
        // Unowned and recent: an older lambda-batch may still be writing it.
        let e = base.join(format!("{TEMP_PREFIX}old-style"));
        fs::write(&e, "x").unwrap();
        assert_eq!(Sweeper::new().sweep(&base), 2);
        assert!(!a.exists() && !b.exists());
        assert!(c.exists() && d.exists() && e.exists());
        assert!(
            !owners.join(format!("{freed}.lock")).exists(),
            "the dead lock goes too"
        );
        drop(holder);
        // Now its holder is gone.
        assert_eq!(Sweeper::new().sweep(&base), 1);
        assert!(!c.exists());
        let _ = fs::remove_file(owners.join(format!("{held}.lock")));
    }

    #[test]
    fn names_without_an_owner_are_told_apart() {
        assert_eq!(
            owner_of(".lambda-batch-tmp-12-0123abcd-xyz"),
            Some(("12-0123abcd", 12))
        );
        assert_eq!(owner_of(".lambda-batch-tmp-12-0123abcd"), None);
        assert_eq!(owner_of(".lambda-batch-tmp-AbC123"), None);
        assert_eq!(owner_of(".lambda-batch-tmp-12-zzzzzzzz-x"), None);
        assert_eq!(owner_of("bootstrap"), None);
    }
}

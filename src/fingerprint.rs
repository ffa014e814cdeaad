//! Ground floor: what a freshness check is made of. Digests (SHA-256, lowercase hex), the
//! process environment filtered and sorted, the `stat` state of a path, and a [`Fingerprint`]
//! that hashes named fields, environment variables, file contents and directory listings in a
//! fixed order. Also where cargo and rustup keep their settings, and the files cargo reads
//! upward from a workspace. The metadata cache, the group stamps and the packaging stamps all
//! fingerprint their inputs through here, so the same input always reads the same way. And the
//! two rules they share: which variables of the environment change a build ([`EnvPolicy`]),
//! and how recent a file is too recent to trust ([`SETTLE`]).

mod dep_info;
mod env_policy;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use dep_info::{has_build_script, parse_dep_info};
pub use env_policy::{EnvPolicy, EnvRole};

/// A file modified this close to the start of a process that reads it, or later, may not be
/// what the process read: its modification time cannot tell two writes that close apart (file
/// systems keep seconds, or two; an editor may still be writing). So whatever remembers what
/// cargo read (the metadata and `cargo tree` caches, the group stamps) records nothing when an
/// input is that recent, and the next run asks cargo again.
pub const SETTLE: Duration = Duration::from_secs(2);

/// Whether an input modified at `modified` is too recent (see [`SETTLE`]) to be trusted as
/// what a reader started at `started` read.
pub fn unsettled(modified: SystemTime, started: SystemTime) -> bool {
    // A time so far ahead that adding overflows is later than any start.
    modified.checked_add(SETTLE).is_none_or(|t| t > started)
}

/// SHA-256 of bytes in memory.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of a file's bytes, read in chunks.
pub fn sha256_file(path: &Path) -> std::io::Result<[u8; 32]> {
    Ok(sha256_reader(fs::File::open(path)?)?.0)
}

/// SHA-256 and length of everything `reader` yields, read in chunks.
pub fn sha256_reader(mut reader: impl Read) -> std::io::Result<([u8; 32], u64)> {
    let mut digest = StreamDigest::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(digest.finish()),
            Ok(n) => digest.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// SHA-256 of bytes that arrive in pieces (a copy, a download, an upload), and how many there
/// were.
#[derive(Clone, Default)]
pub struct StreamDigest {
    hasher: Sha256,
    size: u64,
}

impl StreamDigest {
    /// Nothing read yet.
    pub fn new() -> StreamDigest {
        StreamDigest::default()
    }

    /// Adds the next piece.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// How many bytes were added so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digest and length of everything added.
    pub fn finish(self) -> ([u8; 32], u64) {
        (self.hasher.finalize().into(), self.size)
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The variables of this process's environment whose name `keep` accepts, sorted by name
/// (variables whose name is not UTF-8 are left out; values are read lossily).
pub fn env_vars(keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .filter(|(k, _)| keep(k))
        .collect();
    vars.sort();
    vars
}

/// Nanoseconds since 1970 (0 before it, or for `None`).
pub fn unix_ns(t: Option<SystemTime>) -> u128 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// A path as `stat` sees it: what changes when the file is written, without reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathState {
    /// Nothing there (or it cannot be seen).
    Absent,
    /// A regular file (a symlink is followed).
    File {
        /// Its length.
        size: u64,
        /// Its modification time, in nanoseconds since 1970.
        mtime_ns: u128,
    },
    /// A directory.
    Dir {
        /// Its modification time (an entry was added, removed or renamed).
        mtime_ns: u128,
    },
    /// Anything else (a socket, a device).
    Other,
}

impl PathState {
    /// The state of `path` now.
    pub fn of(path: &Path) -> PathState {
        let Ok(m) = fs::metadata(path) else {
            return PathState::Absent;
        };
        let mtime_ns = unix_ns(m.modified().ok());
        if m.is_file() {
            PathState::File {
                size: m.len(),
                mtime_ns,
            }
        } else if m.is_dir() {
            PathState::Dir { mtime_ns }
        } else {
            PathState::Other
        }
    }
}

/// A SHA-256 over named fields, each written as `name NUL value NUL`, in the order given; it
/// also remembers the newest modification time of the files and directories it read, so that
/// a caller can refuse to trust inputs written too recently.
#[derive(Clone, Default)]
pub struct Fingerprint {
    hasher: Sha256,
    newest: Option<SystemTime>,
}

impl Fingerprint {
    /// An empty fingerprint.
    pub fn new() -> Fingerprint {
        Fingerprint::default()
    }

    /// Adds a named value.
    pub fn field(&mut self, name: &str, value: &str) {
        self.hasher.update(name.as_bytes());
        self.hasher.update([0]);
        self.hasher.update(value.as_bytes());
        self.hasher.update([0]);
    }

    /// Adds environment variables as `name` fields of `KEY=VALUE`.
    pub fn env<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        name: &str,
        vars: impl IntoIterator<Item = (K, V)>,
    ) {
        for (k, v) in vars {
            self.field(name, &format!("{}={}", k.as_ref(), v.as_ref()));
        }
    }

    /// Adds the contents of the file at `path`, or that it is absent, not a file or unreadable.
    pub fn file(&mut self, path: &Utf8Path) {
        let state = match fs::metadata(path) {
            Ok(m) if m.is_file() => {
                self.saw(&m);
                match sha256_file(path.as_std_path()) {
                    Ok(sha) => hex(&sha),
                    Err(e) => format!("unreadable {:?}", e.kind()),
                }
            }
            Ok(_) => "not a file".into(),
            Err(_) => "absent".into(),
        };
        self.field(&format!("file {path}"), &state);
    }

    /// Adds the names and kinds (file, directory, symlink) of the entries of the directory at
    /// `path`, sorted, or that it is absent.
    pub fn dir(&mut self, path: &Utf8Path) {
        let listing = match (fs::metadata(path), path.read_dir_utf8()) {
            (Ok(m), Ok(entries)) => {
                self.saw(&m);
                let mut names: Vec<String> = entries
                    .flatten()
                    .map(|e| {
                        let kind = match e.file_type() {
                            Ok(t) if t.is_dir() => "d",
                            Ok(t) if t.is_symlink() => "l",
                            _ => "f",
                        };
                        format!("{kind}{}", e.file_name())
                    })
                    .collect();
                names.sort();
                names.join("/")
            }
            _ => "absent".into(),
        };
        self.field(&format!("dir {path}"), &listing);
    }

    fn saw(&mut self, m: &fs::Metadata) {
        if let Ok(t) = m.modified() {
            self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        }
    }

    /// The newest modification time among the files and directories read so far.
    pub fn newest(&self) -> Option<SystemTime> {
        self.newest
    }

    /// The digest, lowercase hex.
    pub fn finish(self) -> String {
        hex(&self.hasher.finalize())
    }
}

/// Cargo's home: `$CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> Option<Utf8PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    Utf8PathBuf::from_path_buf(home).ok()
}

/// rustup's home: `$RUSTUP_HOME`, else `~/.rustup`.
pub fn rustup_home() -> Option<PathBuf> {
    std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")))
}

/// The files cargo run in `dir` reads besides its packages' own (present or not): the
/// workspace root, config and toolchain files in `dir` and every ancestor, and
/// `$CARGO_HOME/config{,.toml}`.
pub fn read_upward(dir: &Utf8Path) -> Vec<Utf8PathBuf> {
    let mut files = Vec::new();
    for a in dir.ancestors() {
        for name in [
            "Cargo.toml",
            ".cargo/config.toml",
            ".cargo/config",
            "rust-toolchain",
            "rust-toolchain.toml",
        ] {
            files.push(a.join(name));
        }
    }
    if let Some(home) = cargo_home() {
        files.push(home.join("config.toml"));
        files.push(home.join("config"));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let big: Vec<u8> = (0..200_000).map(|i| (i % 251) as u8).collect();
        fs::write(&p, &big).unwrap();
        assert_eq!(sha256_file(&p).unwrap(), sha256(&big));
        let mut pieces = StreamDigest::new();
        for piece in big.chunks(7_777) {
            pieces.update(piece);
        }
        assert_eq!(pieces.size(), big.len() as u64);
        assert_eq!(pieces.finish(), (sha256(&big), big.len() as u64));
    }

    #[test]
    fn a_fingerprint_changes_with_any_input_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        fs::write(root.join("a"), "1").unwrap();
        let take = || {
            let mut f = Fingerprint::new();
            f.field("version", "1");
            f.env("env", [("K", "v")]);
            f.file(&root.join("a"));
            f.file(&root.join("missing"));
            f.dir(root);
            (f.newest().is_some(), f.finish())
        };
        let (saw_times, first) = take();
        assert!(saw_times);
        assert_eq!(take().1, first);
        fs::write(root.join("a"), "2").unwrap();
        let second = take().1;
        assert_ne!(second, first, "contents changed");
        fs::write(root.join("b"), "").unwrap();
        assert_ne!(take().1, second, "an entry was added");
        // Fields are delimited: moving bytes between name and value changes the digest.
        let mut x = Fingerprint::new();
        x.field("ab", "c");
        let mut y = Fingerprint::new();
        y.field("a", "bc");
        assert_ne!(x.finish(), y.finish());
    }

    #[test]
    fn path_states() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        assert_eq!(PathState::of(&f), PathState::Absent);
        fs::write(&f, "abc").unwrap();
        assert!(matches!(PathState::of(&f), PathState::File { size: 3, .. }));
        assert!(matches!(PathState::of(dir.path()), PathState::Dir { .. }));
        let vars = env_vars(|k| k == "PATH");
        assert!(vars.len() <= 1 && vars.iter().all(|(k, _)| k == "PATH"));
    }
}

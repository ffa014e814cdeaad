//! Keeping a directory cache: what it holds (an [`Inventory`] that no stranger's file, torn
//! record or missing blob makes fail), the log of the runs that used it, marking an entry used,
//! and removing entries while other runs read and write ([`Pruner`]).
//!
//! Removing is safe against a run storing at the same moment, which writes blob → record →
//! index and then checks that its blob and its index entry are still there (putting back what
//! is not, see `Cache::store`):
//! - nothing modified at or after the prune's start is removed (a record used since it was
//!   listed has a newer modification time: it stays);
//! - a file is removed by moving it into the prune's own trash folder first, looking at what
//!   was moved (a file written after the listing is put back), and only then deleting it;
//! - blobs go last: those no record names any more are moved to the trash, the records are
//!   listed again, and a blob that a record names now (a run stored it meanwhile) is put back.
//!
//! A reader that finds a record whose blob has gone gets a miss, never a wrong executable: the
//! blob is verified against the record on every download.

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::SystemTime;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::key::CacheKey;
use super::layout::LAYOUT_DIR;
use super::record::{Record, RecordProblem, is_sha256_hex};

/// A record or an index is a few hundred bytes; a larger file there is not one.
const MAX_SMALL_FILE: u64 = 1 << 20;

/// The log of runs, relative to the root: one JSON object per line, appended by each run.
pub const RUN_LOG: &str = "v2/runs.jsonl";

/// The lines of the run log a prune keeps.
pub const RUNS_KEPT: usize = 1000;

/// The run log is read from its end, at most this much of it.
const RUN_LOG_TAIL: u64 = 1 << 20;

/// What a directory cache holds.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Every record (`v2/keys/<kk>/<key>/<digest>.json`), readable or not.
    pub records: Vec<RecordFile>,
    /// Every key's index.
    pub indexes: Vec<IndexFile>,
    /// Every blob (`v2/blobs/<ss>/<sha256>`).
    pub blobs: Vec<BlobFile>,
    /// The learned costs of cargo calls (`v2/costs/`), which a prune leaves alone.
    pub costs: Vec<OtherFile>,
    /// Files that are none of these: a stranger's, a killed writer's temporary file, the tag.
    pub other: Vec<OtherFile>,
    /// Folders that could not be read, with why.
    pub unreadable: Vec<String>,
}

/// One record file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFile {
    /// The key it is stored under.
    pub key: String,
    /// Its name without `.json`: the digest of the files its executable read.
    pub name: String,
    /// Where it is.
    pub path: Utf8PathBuf,
    /// Its length.
    pub bytes: u64,
    /// When it was last used: stored, or found by a lookup (its modification time).
    pub used: SystemTime,
    /// What it says, when it can be used.
    pub content: Result<RecordSummary, String>,
}

/// What a usable record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// The blob it names.
    pub sha256: String,
    /// The executable's length.
    pub size: u64,
    /// The executable's file name (the bin's).
    pub file_name: String,
    /// When it was stored (RFC 3339).
    pub created: String,
}

/// One key's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    /// The key.
    pub key: String,
    /// Where it is.
    pub path: Utf8PathBuf,
    /// Its length.
    pub bytes: u64,
}

/// One blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobFile {
    /// Its name: the executable's SHA-256.
    pub sha256: String,
    /// Where it is.
    pub path: Utf8PathBuf,
    /// Its length.
    pub bytes: u64,
    /// When it was written.
    pub modified: SystemTime,
}

/// A file that is not the cache's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherFile {
    /// Where it is.
    pub path: Utf8PathBuf,
    /// Its length.
    pub bytes: u64,
}

/// Lists the directory cache at `root`. Fails only when `root` is not a readable directory;
/// anything inside that is not the cache's is listed as [`Inventory::other`].
pub fn inventory(root: &Utf8Path) -> Result<Inventory, String> {
    let meta = fs::metadata(root).map_err(|e| format!("cannot read `{root}`: {e}"))?;
    if !meta.is_dir() {
        return Err(format!("`{root}` is not a directory"));
    }
    let mut inv = Inventory::default();
    walk_other(root, root, &mut inv);
    Ok(inv)
}

/// Walks `dir` (under `root`): the layout's folders are read as such, the rest is other.
fn walk_other(root: &Utf8Path, dir: &Utf8Path, inv: &mut Inventory) {
    for (path, meta) in entries(dir, inv) {
        let rel = path.strip_prefix(root).map(Utf8Path::as_str).unwrap_or("");
        if meta.is_dir() {
            match rel {
                r if r == format!("{LAYOUT_DIR}/keys") => walk_keys(&path, inv),
                r if r == format!("{LAYOUT_DIR}/blobs") => walk_blobs(&path, inv),
                r if r == format!("{LAYOUT_DIR}/costs") => {
                    let mut costs = Inventory::default();
                    all_other(&path, &mut costs);
                    inv.costs.extend(costs.other);
                    inv.unreadable.extend(costs.unreadable);
                }
                _ => walk_other(root, &path, inv),
            }
        } else if rel != RUN_LOG {
            inv.other.push(OtherFile {
                path,
                bytes: meta.len(),
            });
        }
    }
}

/// The entries of `dir` with their metadata (symbolic links not followed), sorted by name;
/// a folder that cannot be read is noted.
fn entries(dir: &Utf8Path, inv: &mut Inventory) -> Vec<(Utf8PathBuf, fs::Metadata)> {
    let read = match fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) => {
            inv.unreadable.push(format!("`{dir}`: {e}"));
            return Vec::new();
        }
    };
    let mut out: Vec<(Utf8PathBuf, fs::Metadata)> = read
        .filter_map(Result::ok)
        .filter_map(|e| {
            let path = Utf8PathBuf::from_path_buf(e.path()).ok()?;
            let meta = fs::symlink_metadata(&path).ok()?;
            Some((path, meta))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Everything under `dir` as other files.
fn all_other(dir: &Utf8Path, inv: &mut Inventory) {
    for (path, meta) in entries(dir, inv) {
        if meta.is_dir() {
            all_other(&path, inv);
        } else {
            inv.other.push(OtherFile {
                path,
                bytes: meta.len(),
            });
        }
    }
}

fn walk_keys(keys: &Utf8Path, inv: &mut Inventory) {
    for (fan, meta) in entries(keys, inv) {
        if !meta.is_dir() {
            inv.other.push(OtherFile {
                path: fan,
                bytes: meta.len(),
            });
            continue;
        }
        for (dir, meta) in entries(&fan, inv) {
            let key = dir
                .file_name()
                .filter(|k| Some(fan.file_name().unwrap_or("")) == k.get(..2))
                .and_then(|k| CacheKey::new(k).ok());
            match key {
                Some(key) if meta.is_dir() => walk_key(&dir, &key, inv),
                _ if meta.is_dir() => all_other(&dir, inv),
                _ => inv.other.push(OtherFile {
                    path: dir,
                    bytes: meta.len(),
                }),
            }
        }
    }
}

fn walk_key(dir: &Utf8Path, key: &CacheKey, inv: &mut Inventory) {
    for (path, meta) in entries(dir, inv) {
        let name = path.file_name().unwrap_or("").to_string();
        if meta.is_dir() {
            all_other(&path, inv);
        } else if !meta.is_file() {
            inv.other.push(OtherFile {
                path,
                bytes: meta.len(),
            });
        } else if name == "index.json" {
            inv.indexes.push(IndexFile {
                key: key.as_str().to_string(),
                path,
                bytes: meta.len(),
            });
        } else if let Some(digest) = name.strip_suffix(".json").filter(|d| is_sha256_hex(d)) {
            let content = read_record(&path, &meta, key, digest);
            inv.records.push(RecordFile {
                key: key.as_str().to_string(),
                name: digest.to_string(),
                bytes: meta.len(),
                used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                content,
                path,
            });
        } else {
            inv.other.push(OtherFile {
                path,
                bytes: meta.len(),
            });
        }
    }
}

/// A record's contents, checked as a lookup checks them (but for the files it read).
fn read_record(
    path: &Utf8Path,
    meta: &fs::Metadata,
    key: &CacheKey,
    digest: &str,
) -> Result<RecordSummary, String> {
    if meta.len() > MAX_SMALL_FILE {
        return Err(format!("{} bytes, too many for a record", meta.len()));
    }
    let bytes = fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let record = Record::parse(&bytes, key).map_err(|p| match p {
        RecordProblem::Unsupported(n) => format!("of another format ({n})"),
        RecordProblem::Invalid(why) => why,
    })?;
    if record.reads.digest() != digest {
        return Err("its name is not the digest of the files it records".to_string());
    }
    Ok(RecordSummary {
        sha256: record.sha256,
        size: record.size,
        file_name: record.file_name,
        created: record.created,
    })
}

fn walk_blobs(blobs: &Utf8Path, inv: &mut Inventory) {
    for (fan, meta) in entries(blobs, inv) {
        if !meta.is_dir() {
            inv.other.push(OtherFile {
                path: fan,
                bytes: meta.len(),
            });
            continue;
        }
        let prefix = fan.file_name().unwrap_or("").to_string();
        for (path, meta) in entries(&fan, inv) {
            let name = path.file_name().unwrap_or("").to_string();
            if meta.is_dir() {
                all_other(&path, inv);
            } else if meta.is_file() && is_sha256_hex(&name) && name.starts_with(&prefix) {
                inv.blobs.push(BlobFile {
                    sha256: name,
                    bytes: meta.len(),
                    modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    path,
                });
            } else {
                inv.other.push(OtherFile {
                    path,
                    bytes: meta.len(),
                });
            }
        }
    }
}

/// Marks the file at `path` used now (its modification time), best effort: a cache on a
/// read-only file system, or another user's file, stays as it is.
pub(crate) fn touch(path: &Utf8Path) {
    if let Ok(c) = std::ffi::CString::new(path.as_str()) {
        // SAFETY: a NUL-terminated path; null times mean "now" (needs write access only).
        unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), std::ptr::null(), 0) };
    }
}

/// One run's use of the cache, a line of the run log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEntry {
    /// When it ended (RFC 3339, UTC).
    pub finished: String,
    /// The subcommand (`run`, `publish`, `deploy`).
    pub command: String,
    /// Outputs taken from the cache (or already here and known to be in it).
    pub hits: u64,
    /// Outputs built and stored.
    pub stored: u64,
    /// Outputs built and not stored.
    pub misses: u64,
    /// Outputs without a cache status: up to date here without asking, or failed.
    pub other: u64,
}

impl RunEntry {
    /// Misses as a lookup sees them: what had to be built.
    pub fn lookups_missed(&self) -> u64 {
        self.stored + self.misses
    }
}

/// Appends `entry` to the run log of the cache at `root`, in one write to a file opened for
/// appending (whole lines, however many runs append at once on a local file system).
pub fn append_run(root: &Utf8Path, entry: &RunEntry) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(entry).expect("a run entry serializes");
    line.push(b'\n');
    let path = root.join(RUN_LOG);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    file.write_all(&line)
}

/// The last `n` runs of the log, newest first, and how many lines could not be read (a
/// stranger's, or torn).
pub fn last_runs(root: &Utf8Path, n: usize) -> (Vec<RunEntry>, usize) {
    let Ok(text) = read_tail(&root.join(RUN_LOG)) else {
        return (Vec::new(), 0);
    };
    let mut runs = Vec::new();
    let mut bad = 0;
    for line in text.lines().rev().filter(|l| !l.trim().is_empty()) {
        if runs.len() == n {
            break;
        }
        match serde_json::from_str::<RunEntry>(line) {
            Ok(run) => runs.push(run),
            Err(_) => bad += 1,
        }
    }
    (runs, bad)
}

/// The last [`RUN_LOG_TAIL`] bytes of a file, from its first whole line.
fn read_tail(path: &Utf8Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(RUN_LOG_TAIL);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(if start > 0 {
        text.split_once('\n')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default()
    } else {
        text
    })
}

/// Keeps the last [`RUNS_KEPT`] lines of the run log (rewritten atomically; a run appending
/// at that moment may lose its line, which only stats read).
pub fn trim_run_log(root: &Utf8Path) -> std::io::Result<()> {
    let path = root.join(RUN_LOG);
    let Ok(text) = read_tail(&path) else {
        return Ok(());
    };
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= RUNS_KEPT && fs::metadata(&path)?.len() <= RUN_LOG_TAIL {
        return Ok(());
    }
    let mut kept = lines[lines.len().saturating_sub(RUNS_KEPT)..].join("\n");
    kept.push('\n');
    crate::atomic::write(&path, kept.as_bytes(), 0o644).map_err(std::io::Error::other)
}

/// What became of a file the prune meant to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Removed.
    Removed,
    /// Kept: written or used since the prune started, or named by a record stored meanwhile.
    Kept,
    /// It was not there any more.
    Gone,
}

/// Removes entries of the directory cache at `root` safely (see the module's comment).
#[derive(Debug)]
pub struct Pruner {
    root: Utf8PathBuf,
    trash: Utf8PathBuf,
    started: SystemTime,
    moved: usize,
}

impl Pruner {
    /// A prune of `root` that started at `started`: nothing modified since is removed.
    pub fn new(root: &Utf8Path, started: SystemTime) -> Result<Pruner, String> {
        let nanos = started
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let trash = root.join(format!(
            "{LAYOUT_DIR}/.prune-{}-{nanos}",
            std::process::id()
        ));
        sweep_trash(root, started);
        fs::create_dir_all(&trash)
            .map_err(|e| format!("cannot create the folder `{trash}`: {e}"))?;
        Ok(Pruner {
            root: root.to_path_buf(),
            trash,
            started,
            moved: 0,
        })
    }

    /// Takes `names` out of the index of `key` (first, so that lookups stop reading their
    /// records); the index goes when it names nothing else.
    pub fn unlist(&self, key: &str, names: &BTreeSet<String>) -> Result<(), String> {
        let path = self.index_path(key);
        let listed = match read_index(&path) {
            Ok(Some(listed)) => listed,
            Ok(None) => return Ok(()),
            // A bad index: what the key's surviving records are, newest first.
            Err(_) => self.surviving(key, names),
        };
        let kept: Vec<String> = listed.into_iter().filter(|n| !names.contains(n)).collect();
        if kept.is_empty() {
            return match fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(format!("cannot remove `{path}`: {e}")),
            };
        }
        write_index(&path, &kept)
    }

    /// Removes a record (after [`Pruner::unlist`]): kept when it was written or used since
    /// the prune started, and then listed again.
    pub fn remove_record(&mut self, record: &RecordFile) -> Result<Removal, String> {
        let Some(taken) = self.take(&record.path)? else {
            return Ok(Removal::Gone);
        };
        if self.young(&taken) {
            self.put_back(&taken, &record.path)?;
            let path = self.index_path(&record.key);
            let mut listed = read_index(&path).ok().flatten().unwrap_or_default();
            if !listed.contains(&record.name) {
                listed.insert(0, record.name.clone());
                write_index(&path, &listed)?;
            }
            return Ok(Removal::Kept);
        }
        fs::remove_file(&taken).map_err(|e| format!("cannot remove `{taken}`: {e}"))?;
        Ok(Removal::Removed)
    }

    /// Removes blobs no record names (after the records): each is moved to the trash, then
    /// the records are listed again and what one names now, or what was written since the
    /// prune started, is put back. In the order of `blobs`.
    pub fn remove_blobs(&mut self, blobs: &[BlobFile]) -> Result<Vec<Removal>, String> {
        let mut taken = Vec::new();
        for blob in blobs {
            taken.push(self.take(&blob.path)?);
        }
        let named = named_blobs(&self.root);
        let mut out = Vec::new();
        for (blob, taken) in blobs.iter().zip(taken) {
            let Some(taken) = taken else {
                out.push(Removal::Gone);
                continue;
            };
            if self.young(&taken) || named.contains(&blob.sha256) {
                self.put_back(&taken, &blob.path)?;
                out.push(Removal::Kept);
            } else {
                fs::remove_file(&taken).map_err(|e| format!("cannot remove `{taken}`: {e}"))?;
                out.push(Removal::Removed);
            }
        }
        Ok(out)
    }

    /// Removes the trash and the key folders left empty.
    pub fn finish(self, keys: &BTreeSet<String>) {
        let _ = fs::remove_dir_all(&self.trash);
        for key in keys {
            // Fails, as it should, when the folder is not empty.
            let _ = fs::remove_dir(self.index_path(key).parent().unwrap_or(&self.root));
        }
    }

    fn index_path(&self, key: &str) -> Utf8PathBuf {
        let fan = key.get(..2).unwrap_or(key);
        self.root
            .join(format!("{LAYOUT_DIR}/keys/{fan}/{key}/index.json"))
    }

    /// The names of the records of `key` that are not `leaving`, newest first.
    fn surviving(&self, key: &str, leaving: &BTreeSet<String>) -> Vec<String> {
        let dir = self.index_path(key);
        let dir = dir.parent().unwrap_or(&self.root);
        let mut inv = Inventory::default();
        if let Ok(key) = CacheKey::new(key) {
            walk_key(dir, &key, &mut inv);
        }
        let mut records: Vec<RecordFile> = inv
            .records
            .into_iter()
            .filter(|r| !leaving.contains(&r.name) && r.content.is_ok())
            .collect();
        records.sort_by_key(|r| std::cmp::Reverse(r.used));
        records.into_iter().map(|r| r.name).collect()
    }

    /// Moves `path` into the trash; `None` when it is not there.
    fn take(&mut self, path: &Utf8Path) -> Result<Option<Utf8PathBuf>, String> {
        self.moved += 1;
        let to = self.trash.join(format!("{}", self.moved));
        match fs::rename(path, &to) {
            Ok(()) => Ok(Some(to)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot move `{path}` aside: {e}")),
        }
    }

    fn put_back(&self, taken: &Utf8Path, path: &Utf8Path) -> Result<(), String> {
        fs::rename(taken, path).map_err(|e| format!("cannot put `{path}` back: {e}"))
    }

    /// Whether a file was written or used since the prune started.
    fn young(&self, path: &Utf8Path) -> bool {
        fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .map_or(true, |m| m >= self.started)
    }
}

/// How old the folder of a prune that was killed must be before another prune removes it.
const STALE_TRASH: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes what prunes killed midway left (their folders, a day old): files they had moved
/// aside for deleting. A blob among them that a record still names is a miss until stored
/// again, never a wrong executable.
fn sweep_trash(root: &Utf8Path, started: SystemTime) {
    let Ok(read) = fs::read_dir(root.join(LAYOUT_DIR)) else {
        return;
    };
    for entry in read.filter_map(Result::ok) {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|m| m + STALE_TRASH < started);
        if stale && entry.file_name().to_string_lossy().starts_with(".prune-") {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The blobs the readable records of the cache at `root` name.
fn named_blobs(root: &Utf8Path) -> BTreeSet<String> {
    let mut inv = Inventory::default();
    walk_keys(&root.join(format!("{LAYOUT_DIR}/keys")), &mut inv);
    inv.records
        .into_iter()
        .filter_map(|r| r.content.ok().map(|c| c.sha256))
        .collect()
}

/// A key's index: `None` when there is none, `Err` when it is not a list of names.
fn read_index(path: &Utf8Path) -> Result<Option<Vec<String>>, String> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn write_index(path: &Utf8Path, names: &[String]) -> Result<(), String> {
    let mut json = serde_json::to_vec_pretty(names).expect("names serialize");
    json.push(b'\n');
    crate::atomic::write(path, &json, 0o644).map_err(|e| format!("cannot write `{path}`: {e}"))
}

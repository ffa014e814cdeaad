//! The progress total of a cargo invocation: how many units (crates, build scripts, bins) it
//! reported last time. Cargo prints no total ahead of time, and counting the packages the
//! build will compile would need a second, feature- and target-aware dependency resolution;
//! the previous run's count is exact whenever the dependency graph did not change, which is
//! the common case, and costs one small file per target dir:
//! `<target_dir>/lambda-batch/units.json`, keyed by the invocation's exact command line.
//! A first run shows a count without a total. The file keeps the most recently used entries
//! only, so that invocations which no longer exist (renamed or temporary workspaces) fall out.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};

use crate::plan::Group;

/// The file, per target dir.
pub fn file(target_dir: &Utf8Path) -> Utf8PathBuf {
    target_dir.join("lambda-batch").join("units.json")
}

/// The key of a group: its command line, which decides what cargo builds.
pub fn key(group: &Group) -> String {
    group.command_line()
}

/// How many invocations one file remembers.
const KEEP: usize = 64;

/// One remembered invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Entry {
    /// Units reported.
    units: u64,
    /// When it was last stored (seconds since 1970), to keep the recent ones.
    used: u64,
}

/// The remembered unit count of `group`, if any.
pub fn load(group: &Group) -> Option<u64> {
    read(&file(&group.target_dir))
        .get(&key(group))
        .map(|e| e.units)
}

/// Remembers `units` for `group`. Best effort: a failure only loses the next run's total.
pub fn store(group: &Group, units: u64) {
    let path = file(&group.target_dir);
    let mut all = read(&path);
    let used = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    all.insert(key(group), Entry { units, used });
    if all.len() > KEEP {
        let mut by_age: Vec<u64> = all.values().map(|e| e.used).collect();
        by_age.sort_unstable_by(|a, b| b.cmp(a));
        let cutoff = by_age[KEEP - 1];
        all.retain(|_, e| e.used >= cutoff);
    }
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(text) = serde_json::to_vec_pretty(&all) else {
        return;
    };
    // Through a temporary file: two runs on one target dir must never leave half a file.
    let Ok(mut temp) = tempfile::NamedTempFile::new_in(dir) else {
        return;
    };
    if temp.write_all(&text).is_ok() {
        let _ = temp.persist(&path);
    }
}

fn read(path: &Utf8Path) -> BTreeMap<String, Entry> {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

//! The progress total of a cargo invocation: how many units (crates, build scripts, bins) it
//! reported last time. Cargo prints no total ahead of time, and counting the packages the
//! build will compile would need a second, feature- and target-aware dependency resolution;
//! the previous run's count is exact whenever the dependency graph did not change, which is
//! the common case, and costs one small file per target dir:
//! `<target_dir>/lambda-batch/units.json`, keyed by the invocation's exact command line.
//! A first run shows a count without a total. The file keeps the most recently used entries
//! only, so that invocations which no longer exist (renamed or temporary workspaces) fall out.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};

use crate::plan::Group;
use crate::plan::state::unit_counts;
use crate::store::Store;

/// The remembered counts of one target dir, by invocation.
const COUNTS: Store<BTreeMap<String, Entry>> = Store::new("lambda-batch unit counts", 1);

/// The file of `group`'s target dir.
fn file(group: &Group) -> Utf8PathBuf {
    unit_counts(&group.state_dir)
}

/// The key of a group: its command line, which decides what cargo builds.
pub(super) fn key(group: &Group) -> String {
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
pub(super) fn load(group: &Group) -> Option<u64> {
    read(&file(group)).get(&key(group)).map(|e| e.units)
}

/// Remembers `units` for `group`. Best effort: a failure only loses the next run's total.
pub(super) fn store(group: &Group, units: u64) {
    let path = file(group);
    let mut all = read(&path);
    let used = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let this = key(group);
    all.insert(this.clone(), Entry { units, used });
    if all.len() > KEEP {
        // The most recently used first, this invocation before any other.
        let mut keys: Vec<(bool, u64, String)> = all
            .iter()
            .map(|(k, e)| (*k == this, e.used, k.clone()))
            .collect();
        keys.sort_unstable_by_key(|k| std::cmp::Reverse((k.0, k.1)));
        for (_, _, k) in keys.into_iter().skip(KEEP) {
            all.remove(&k);
        }
    }
    // Atomically: two runs on one target dir must never leave half a file.
    let _ = COUNTS.save(&path, &all);
}

fn read(path: &Utf8Path) -> BTreeMap<String, Entry> {
    COUNTS.load(path).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(target_dir: &Utf8Path, bin: &str) -> Group {
        Group {
            id: 0,
            lane: 0,
            workspace_root: "/ws".into(),
            target_dir: target_dir.to_path_buf(),
            target: "x86_64-unknown-linux-gnu".into(),
            profile: "dev".into(),
            compiler: crate::manifest::settings::Compiler::Cargo,
            program: "cargo".into(),
            args: vec!["build".into(), "--bin".into(), bin.into()],
            env: BTreeMap::new(),
            packages: Vec::new(),
            bins: vec![bin.into()],
            artifacts: Vec::new(),
            waits_for: Vec::new(),
            state_dir: crate::plan::state::state_dir(target_dir),
            zig_cache_dir: None,
            not_grouped_with: Vec::new(),
        }
    }

    #[test]
    fn counts_are_remembered_per_invocation_and_old_ones_fall_out() {
        let dir = tempfile::tempdir().unwrap();
        let target = Utf8Path::from_path(dir.path()).unwrap();
        let a = group(target, "a");
        assert_eq!(load(&a), None);
        store(&a, 42);
        assert_eq!(load(&a), Some(42));
        assert_eq!(load(&group(target, "b")), None);
        store(&a, 43);
        assert_eq!(load(&a), Some(43));
        for i in 0..KEEP + 10 {
            store(&group(target, &format!("n{i}")), 1);
        }
        assert_eq!(read(&file(&a)).len(), KEEP);
        assert_eq!(load(&group(target, &format!("n{}", KEEP + 9))), Some(1));
        // A file that is not ours is ignored, not an error.
        std::fs::write(file(&a), "not json").unwrap();
        assert_eq!(load(&a), None);
        store(&a, 7);
        assert_eq!(load(&a), Some(7));
    }
}

//! `cache stats`: what a directory cache holds, and how the last runs used it.

use std::collections::BTreeSet;
use std::time::SystemTime;

use serde::Serialize;

use super::units::human;
use crate::cache::{Inventory, RunEntry};

/// How many runs of the log `cache stats` shows.
pub const RUNS_SHOWN: usize = 10;

/// What `cache stats` says (its `--format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// The cache, as given.
    pub cache: String,
    /// Input keys with at least one record.
    pub keys: usize,
    /// Records (entries: one per key and version of the files its executable read).
    pub records: usize,
    /// Records that cannot be used (torn, of another format, not matching their name): never
    /// used by a lookup, removed by a prune like the others.
    pub unreadable_records: usize,
    /// Records whose blob is missing or of another length: lookups miss them.
    pub records_without_blob: usize,
    /// Blobs (executables, each stored once whatever the number of records naming it).
    pub blobs: usize,
    /// Blobs no record names (left by an interrupted store): removed by any prune.
    pub unnamed_blobs: usize,
    /// Bytes of the blobs.
    pub blob_bytes: u64,
    /// Bytes of the records and indexes.
    pub record_bytes: u64,
    /// Everything the cache holds: what `cache prune --max-size` compares.
    pub total_bytes: u64,
    /// Learned costs of cargo calls (`v2/costs/`, one per call; a prune keeps them).
    pub cost_files: usize,
    /// Files that are not the cache's (a stranger's, a killed writer's temporary file).
    pub other_files: usize,
    /// Their bytes.
    pub other_bytes: u64,
    /// Folders that could not be read.
    pub unreadable: Vec<String>,
    /// The least recently used record's last use (RFC 3339).
    pub oldest_use: Option<String>,
    /// The most recently used record's last use.
    pub newest_use: Option<String>,
    /// The last runs that stored into the cache, newest first (at most [`RUNS_SHOWN`]).
    pub runs: Vec<RunEntry>,
    /// Hits over those runs.
    pub hits: u64,
    /// Misses over those runs (built, stored or not).
    pub misses: u64,
    /// Lines of the run log that could not be read.
    pub unreadable_runs: usize,
}

/// The stats of `inventory` and of the last runs `runs` (with `bad` unreadable log lines).
pub fn stats(cache: &str, inventory: &Inventory, runs: Vec<RunEntry>, bad: usize) -> Stats {
    let blobs: std::collections::BTreeMap<&str, u64> = inventory
        .blobs
        .iter()
        .map(|b| (b.sha256.as_str(), b.bytes))
        .collect();
    let mut named = BTreeSet::new();
    let mut without_blob = 0;
    let mut unreadable = 0;
    for record in &inventory.records {
        match &record.content {
            Ok(c) => {
                named.insert(c.sha256.as_str());
                if blobs.get(c.sha256.as_str()) != Some(&c.size) {
                    without_blob += 1;
                }
            }
            Err(_) => unreadable += 1,
        }
    }
    let keys: BTreeSet<&str> = inventory.records.iter().map(|r| r.key.as_str()).collect();
    let blob_bytes: u64 = inventory.blobs.iter().map(|b| b.bytes).sum();
    let record_bytes: u64 = inventory.records.iter().map(|r| r.bytes).sum::<u64>()
        + inventory.indexes.iter().map(|i| i.bytes).sum::<u64>();
    let uses = inventory.records.iter().map(|r| r.used);
    let time = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
    Stats {
        cache: cache.to_string(),
        keys: keys.len(),
        records: inventory.records.len(),
        unreadable_records: unreadable,
        records_without_blob: without_blob,
        blobs: inventory.blobs.len(),
        unnamed_blobs: blobs.keys().filter(|b| !named.contains(*b)).count(),
        blob_bytes,
        record_bytes,
        total_bytes: blob_bytes + record_bytes,
        cost_files: inventory.costs.len(),
        other_files: inventory.other.len(),
        other_bytes: inventory.other.iter().map(|o| o.bytes).sum(),
        unreadable: inventory.unreadable.clone(),
        oldest_use: uses.clone().min().map(time),
        newest_use: uses.max().map(time),
        hits: runs.iter().map(|r| r.hits).sum(),
        misses: runs.iter().map(RunEntry::lookups_missed).sum(),
        runs,
        unreadable_runs: bad,
    }
}

/// The stats for people.
pub(super) fn text(s: &Stats) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut out = String::new();
    let mut row = |label: &str, value: String| {
        out.push_str(&format!("{label:<11} {value}\n"));
    };
    row("cache", s.cache.clone());
    row(
        "entries",
        format!(
            "{}, {}",
            plural(s.keys, "key", "keys"),
            plural(s.records, "record", "records")
        ),
    );
    row("blobs", format!("{}, {}", s.blobs, human(s.blob_bytes)));
    row(
        "total",
        format!(
            "{} ({} bytes: blobs, records and indexes)",
            human(s.total_bytes),
            s.total_bytes
        ),
    );
    if s.cost_files > 0 {
        row(
            "costs",
            format!(
                "{} (kept by prune)",
                plural(
                    s.cost_files,
                    "learned cost of a cargo call",
                    "learned costs of cargo calls"
                )
            ),
        );
    }
    if let (Some(oldest), Some(newest)) = (&s.oldest_use, &s.newest_use) {
        row("last used", format!("{newest} (least recently: {oldest})"));
    }
    let mut problems = Vec::new();
    if s.unreadable_records > 0 {
        problems.push(format!(
            "{} (never used)",
            plural(
                s.unreadable_records,
                "unreadable record",
                "unreadable records"
            )
        ));
    }
    if s.records_without_blob > 0 {
        problems.push(format!(
            "{} (a miss)",
            plural(
                s.records_without_blob,
                "record whose blob is missing",
                "records whose blob is missing"
            )
        ));
    }
    if s.unnamed_blobs > 0 {
        problems.push(plural(
            s.unnamed_blobs,
            "blob no record names",
            "blobs no record names",
        ));
    }
    if s.other_files > 0 {
        problems.push(format!(
            "{} not the cache's ({})",
            plural(s.other_files, "file", "files"),
            human(s.other_bytes)
        ));
    }
    for dir in &s.unreadable {
        problems.push(format!("cannot read {dir}"));
    }
    if s.unreadable_runs > 0 {
        problems.push(plural(
            s.unreadable_runs,
            "unreadable line in the run log",
            "unreadable lines in the run log",
        ));
    }
    if !problems.is_empty() {
        row("problems", problems.join("; "));
    }
    if s.runs.is_empty() {
        row("last runs", "none logged".to_string());
    } else {
        row(
            "last runs",
            format!(
                "{}, {} in the last {}, newest first:",
                plural(s.hits as usize, "hit", "hits"),
                plural(s.misses as usize, "miss", "misses"),
                plural(s.runs.len(), "run", "runs")
            ),
        );
        for r in &s.runs {
            out.push_str(&format!(
                "  {}  {:<7} {} hit, {} stored, {} missed, {} other\n",
                r.finished, r.command, r.hits, r.stored, r.misses, r.other
            ));
        }
    }
    out
}

//! `cache prune` of a directory cache: which entries go (least recently used first), then
//! removing them safely while other runs use the cache (see `cache::Pruner`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use camino::Utf8Path;
use serde::Serialize;

use super::units::human;
use crate::cache::{BlobFile, Inventory, Pruner, RecordFile, Removal};

/// What to keep the cache within.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `--max-size`: at most this many bytes (blobs, records and indexes).
    pub max_size: Option<u64>,
    /// `--older-than`: remove what was last used longer ago than this.
    pub older_than: Option<Duration>,
}

/// What a prune removes, decided from an inventory.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Records, least recently used first.
    pub records: Vec<RecordFile>,
    /// Blobs no record left names, in the order they were freed.
    pub blobs: Vec<BlobFile>,
    /// The cache's bytes before.
    pub before: u64,
    /// Its bytes once they are gone.
    pub after: u64,
}

/// Chooses what goes, given `limits`, for a prune that started at `started`: blobs no record
/// names; records last used longer ago than `older_than`; then the least recently used
/// records until the cache is within `max_size`, with each blob once no remaining record
/// names it. Nothing modified at or after `started` is chosen, so a cache written meanwhile
/// may stay above the size.
pub fn select(inv: &Inventory, limits: Limits, started: SystemTime) -> Selection {
    let blobs: BTreeMap<&str, &BlobFile> =
        inv.blobs.iter().map(|b| (b.sha256.as_str(), b)).collect();
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_key: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &inv.records {
        *per_key.entry(r.key.as_str()).or_default() += 1;
        if let Ok(c) = &r.content {
            *names.entry(c.sha256.as_str()).or_default() += 1;
        }
    }
    let index_bytes: BTreeMap<&str, u64> = inv
        .indexes
        .iter()
        .map(|i| (i.key.as_str(), i.bytes))
        .collect();
    let before = inv.blobs.iter().map(|b| b.bytes).sum::<u64>()
        + inv.records.iter().map(|r| r.bytes).sum::<u64>()
        + inv.indexes.iter().map(|i| i.bytes).sum::<u64>();
    let mut sel = Selection {
        before,
        after: before,
        ..Selection::default()
    };
    for b in &inv.blobs {
        if !names.contains_key(b.sha256.as_str()) && b.modified < started {
            sel.after -= b.bytes;
            sel.blobs.push(b.clone());
        }
    }
    let mut candidates: Vec<&RecordFile> =
        inv.records.iter().filter(|r| r.used < started).collect();
    candidates.sort_by(|a, b| a.used.cmp(&b.used).then_with(|| a.path.cmp(&b.path)));
    let cutoff = limits
        .older_than
        .map(|age| started.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH));
    let aged = |r: &RecordFile| cutoff.is_some_and(|c| r.used < c);
    let mut take = |r: &RecordFile, sel: &mut Selection| {
        sel.after -= r.bytes;
        let left = per_key.get_mut(r.key.as_str()).expect("counted");
        *left -= 1;
        if *left == 0 {
            sel.after -= index_bytes.get(r.key.as_str()).copied().unwrap_or(0);
        }
        if let Ok(c) = &r.content {
            let n = names.get_mut(c.sha256.as_str()).expect("counted");
            *n -= 1;
            if *n == 0
                && let Some(b) = blobs.get(c.sha256.as_str())
                && b.modified < started
            {
                sel.after -= b.bytes;
                sel.blobs.push((*b).clone());
            }
        }
        sel.records.push(r.clone());
    };
    for r in candidates.iter().filter(|r| aged(r)) {
        take(r, &mut sel);
    }
    if let Some(max) = limits.max_size {
        for r in candidates.iter().filter(|r| !aged(r)) {
            if sel.after <= max {
                break;
            }
            take(r, &mut sel);
        }
    }
    sel
}

/// What a prune did, or would do (`--dry-run`): its `--format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// The cache, as given.
    pub cache: String,
    /// Nothing was removed: this is what would be.
    pub dry_run: bool,
    /// The records, least recently used first.
    pub records: Vec<PrunedRecord>,
    /// The blobs.
    pub blobs: Vec<PrunedBlob>,
    /// The cache's bytes before.
    pub bytes_before: u64,
    /// Its bytes after (what a dry run would leave).
    pub bytes_after: u64,
    /// `--max-size`, when given.
    pub max_size: Option<u64>,
}

/// A record a prune removed (or kept: used or written meanwhile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrunedRecord {
    /// Its key.
    pub key: String,
    /// Its name (the digest of the files its executable read).
    pub name: String,
    /// The executable's file name, when the record is readable.
    pub file_name: Option<String>,
    /// When it was last used (RFC 3339).
    pub last_used: String,
    /// Its bytes.
    pub bytes: u64,
    /// `removed`, `kept` or `gone` (`would-remove` in a dry run).
    pub outcome: &'static str,
}

/// A blob a prune removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrunedBlob {
    /// Its name.
    pub sha256: String,
    /// Its bytes.
    pub bytes: u64,
    /// As for records.
    pub outcome: &'static str,
}

fn outcome(r: Removal) -> &'static str {
    match r {
        Removal::Removed => "removed",
        Removal::Kept => "kept",
        Removal::Gone => "gone",
    }
}

/// Removes `sel` from the cache at `root` (a prune that started at `started`): index entries,
/// then records, then blobs. With `dry_run`, removes nothing and says what would go.
pub fn execute(
    cache: &str,
    root: &Utf8Path,
    sel: &Selection,
    limits: Limits,
    started: SystemTime,
    dry_run: bool,
) -> Result<Pruned, String> {
    let time = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
    let record_row = |r: &RecordFile, outcome: &'static str| PrunedRecord {
        key: r.key.clone(),
        name: r.name.clone(),
        file_name: r.content.as_ref().ok().map(|c| c.file_name.clone()),
        last_used: time(r.used),
        bytes: r.bytes,
        outcome,
    };
    let blob_row = |b: &BlobFile, outcome: &'static str| PrunedBlob {
        sha256: b.sha256.clone(),
        bytes: b.bytes,
        outcome,
    };
    if dry_run {
        return Ok(Pruned {
            cache: cache.to_string(),
            dry_run,
            records: sel
                .records
                .iter()
                .map(|r| record_row(r, "would-remove"))
                .collect(),
            blobs: sel
                .blobs
                .iter()
                .map(|b| blob_row(b, "would-remove"))
                .collect(),
            bytes_before: sel.before,
            bytes_after: sel.after,
            max_size: limits.max_size,
        });
    }
    let mut pruner = Pruner::new(root, started)?;
    let mut by_key: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for r in &sel.records {
        by_key
            .entry(r.key.as_str())
            .or_default()
            .insert(r.name.clone());
    }
    for (key, names) in &by_key {
        pruner.unlist(key, names)?;
    }
    let mut records = Vec::new();
    for r in &sel.records {
        let removal = pruner.remove_record(r)?;
        records.push(record_row(r, outcome(removal)));
    }
    let removals = pruner.remove_blobs(&sel.blobs)?;
    let blobs = sel
        .blobs
        .iter()
        .zip(removals)
        .map(|(b, r)| blob_row(b, outcome(r)))
        .collect();
    pruner.finish(&by_key.keys().map(|k| k.to_string()).collect());
    let _ = crate::cache::trim_run_log(root);
    let after = crate::cache::inventory(root)
        .map(|inv| select(&inv, Limits::default(), SystemTime::UNIX_EPOCH).before)
        .unwrap_or(sel.after);
    Ok(Pruned {
        cache: cache.to_string(),
        dry_run,
        records,
        blobs,
        bytes_before: sel.before,
        bytes_after: after,
        max_size: limits.max_size,
    })
}

/// What a prune did, for people: a line per record and blob, then the totals.
pub(super) fn text(p: &Pruned) -> String {
    let mut out = String::new();
    let verb = |o: &str| match o {
        "would-remove" => "would remove",
        "removed" => "removed",
        "kept" => "kept (used meanwhile)",
        _ => "already gone",
    };
    for r in &p.records {
        out.push_str(&format!(
            "{:<22} record {}/{}  {}  last used {}  {}\n",
            verb(r.outcome),
            short(&r.key),
            short(&r.name),
            r.file_name.as_deref().unwrap_or("(unreadable)"),
            r.last_used,
            human(r.bytes)
        ));
    }
    for b in &p.blobs {
        out.push_str(&format!(
            "{:<22} blob   {}  {}\n",
            verb(b.outcome),
            short(&b.sha256),
            human(b.bytes)
        ));
    }
    let removed = |o: &str| o == "removed" || o == "would-remove";
    let n_records = p.records.iter().filter(|r| removed(r.outcome)).count();
    let n_blobs = p.blobs.iter().filter(|b| removed(b.outcome)).count();
    let limit = p
        .max_size
        .map(|m| {
            let over = if p.bytes_after > m {
                ": what is left was used or written after the prune started"
            } else {
                ""
            };
            format!(" (at most {}{over})", human(m))
        })
        .unwrap_or_default();
    out.push_str(&format!(
        "{} {n_records} record{} and {n_blobs} blob{} of {}: {} before, {} after{limit}\n",
        if p.dry_run { "would prune" } else { "pruned" },
        if n_records == 1 { "" } else { "s" },
        if n_blobs == 1 { "" } else { "s" },
        p.cache,
        human(p.bytes_before),
        human(p.bytes_after),
    ));
    out
}

/// The first characters of a digest, for people.
fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{IndexFile, RecordSummary};

    const T0: SystemTime = SystemTime::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        T0 + Duration::from_secs(secs)
    }

    fn record(key: &str, name: &str, blob: Option<&str>, used: u64) -> RecordFile {
        RecordFile {
            key: key.into(),
            name: name.into(),
            path: format!("/c/v2/keys/{key}/{name}.json").into(),
            bytes: 10,
            used: at(used),
            content: blob
                .map(|b| RecordSummary {
                    sha256: b.into(),
                    size: 100,
                    file_name: format!("bin-{name}"),
                    created: String::new(),
                })
                .ok_or_else(|| "torn".to_string()),
        }
    }

    fn blob(sha: &str, modified: u64) -> BlobFile {
        BlobFile {
            sha256: sha.into(),
            path: format!("/c/v2/blobs/{sha}").into(),
            bytes: 100,
            modified: at(modified),
        }
    }

    /// Records a, b (one key, sharing blob X), c (blob Y), d (torn), e (used after the
    /// start); blob Z is named by no record, blob W was written after the start.
    fn inventory() -> Inventory {
        Inventory {
            records: vec![
                record("k1", "a", Some("X"), 10),
                record("k1", "b", Some("X"), 30),
                record("k2", "c", Some("Y"), 20),
                record("k3", "d", None, 5),
                record("k4", "e", Some("W"), 200),
            ],
            indexes: ["k1", "k2", "k3", "k4"]
                .map(|k| IndexFile {
                    key: k.into(),
                    path: format!("/c/{k}/index.json").into(),
                    bytes: 1,
                })
                .to_vec(),
            blobs: vec![blob("X", 10), blob("Y", 20), blob("Z", 1), blob("W", 200)],
            ..Inventory::default()
        }
    }

    fn chosen(sel: &Selection) -> (Vec<&str>, Vec<&str>) {
        (
            sel.records.iter().map(|r| r.name.as_str()).collect(),
            sel.blobs.iter().map(|b| b.sha256.as_str()).collect(),
        )
    }

    #[test]
    fn least_recently_used_first_and_a_shared_blob_only_with_its_last_record() {
        let inv = inventory();
        // 5 records (50) + 4 indexes (4) + 4 blobs (400).
        let none = select(&inv, Limits::default(), at(100));
        assert_eq!(none.before, 454);
        // Without limits only the blob no record names goes.
        assert_eq!(chosen(&none), (vec![], vec!["Z"]));
        assert_eq!(none.after, 354);
        // 300 bytes: d (torn, oldest, and its key's index), then a (X still named by b),
        // then c (and Y, and k2's index): 354 - 11 - 10 - 111 = 222.
        let sel = select(
            &inv,
            Limits {
                max_size: Some(300),
                older_than: None,
            },
            at(100),
        );
        assert_eq!(chosen(&sel), (vec!["d", "a", "c"], vec!["Z", "Y"]));
        assert_eq!(sel.after, 222);
        // Zero: everything older than the start; e and W (written since) stay.
        let sel = select(
            &inv,
            Limits {
                max_size: Some(0),
                older_than: None,
            },
            at(100),
        );
        assert_eq!(
            chosen(&sel),
            (vec!["d", "a", "c", "b"], vec!["Z", "Y", "X"])
        );
        assert_eq!(sel.after, 10 + 1 + 100);
    }

    #[test]
    fn by_age_then_by_size() {
        let inv = inventory();
        // Last used before 100 - 75 = 25: d, a, c.
        let sel = select(
            &inv,
            Limits {
                max_size: None,
                older_than: Some(Duration::from_secs(75)),
            },
            at(100),
        );
        assert_eq!(chosen(&sel), (vec!["d", "a", "c"], vec!["Z", "Y"]));
        // An age longer than the clock has run: nothing by age.
        let sel = select(
            &inv,
            Limits {
                max_size: None,
                older_than: Some(Duration::from_secs(1000)),
            },
            at(100),
        );
        assert_eq!(chosen(&sel).0, Vec::<&str>::new());
        // Both: the aged ones, then by size.
        let sel = select(
            &inv,
            Limits {
                max_size: Some(150),
                older_than: Some(Duration::from_secs(85)),
            },
            at(100),
        );
        assert_eq!(
            chosen(&sel),
            (vec!["d", "a", "c", "b"], vec!["Z", "Y", "X"])
        );
    }
}

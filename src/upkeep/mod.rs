//! The shared artifact cache's upkeep, above the run: `cache stats` (what a directory cache
//! holds and how the last runs used it) and `cache prune` (least recently used entries out of
//! a directory cache, safely while runs use it; for S3, the lifecycle rule to use instead).
//! Reads the cache's inventory and run log as data; the printing is the command's.

mod lifecycle;
mod prune;
mod stats;
mod units;

pub use lifecycle::{DEFAULT_DAYS, days, rule};
pub use prune::{Limits, Pruned, PrunedBlob, PrunedRecord, Selection, execute, select};
pub use stats::{RUNS_SHOWN, Stats, stats};
pub use units::{human, parse_age, parse_size};

/// Files modified this long before a prune started count as modified after it: file systems
/// stamp times from a coarse clock (a network one from the server's), a little behind the one
/// the prune reads.
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

/// The stats for people.
pub fn stats_text(s: &Stats) -> String {
    stats::text(s)
}

/// What a prune did, for people.
pub fn prune_text(p: &Pruned) -> String {
    prune::text(p)
}

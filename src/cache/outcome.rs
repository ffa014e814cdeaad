//! What a lookup or a store came to, as data the caller turns into warnings and into the
//! `cache` column of the summary and the report.

use camino::Utf8PathBuf;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::key::CacheKey;
use super::record::Record;

/// The result of looking a key up.
// One per artifact and short-lived: a boxed hit would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Lookup {
    /// The executable, verified against its record.
    Hit(Hit),
    /// Nothing usable under the key; build it.
    Miss(Miss),
}

/// A verified executable from the cache.
#[derive(Debug)]
pub struct Hit {
    /// The record it was found by.
    pub record: Record,
    /// Where its bytes are.
    pub fetched: Fetched,
}

/// Where a hit's bytes were put.
#[derive(Debug)]
pub enum Fetched {
    /// At the destination the caller gave, complete, with mode 0755.
    File(Utf8PathBuf),
    /// In memory.
    Memory(Vec<u8>),
}

/// Why a lookup found nothing usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// The key looked up.
    pub key: CacheKey,
    /// Why.
    pub reason: MissReason,
}

/// Why a lookup is a miss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissReason {
    /// The cache mode is `off`.
    Off,
    /// No record under the key: the ordinary miss.
    NotFound,
    /// A record of another format (written by another lambda-batch version).
    OtherFormat(u64),
    /// A record or blob that is corrupt, truncated, missing or does not match: never used.
    Invalid(String),
    /// A record that is not signed with the run's signing key (unsigned, or signed with
    /// another key or over other contents): never used.
    Untrusted(String),
    /// The backend failed on this lookup: unreachable, timed out, refused. It is not asked
    /// again during this run.
    Unavailable(String),
    /// The backend failed earlier in this run; it was not asked (and was warned about then).
    Down,
    /// The executable could not be written to its destination.
    Local(String),
}

impl MissReason {
    /// A line for the user when the miss deserves one (not for an absent key, the mode being
    /// `off`, another format, or a backend already reported down).
    pub fn warning(&self) -> Option<String> {
        match self {
            MissReason::Off
            | MissReason::NotFound
            | MissReason::OtherFormat(_)
            | MissReason::Down => None,
            MissReason::Invalid(why) => Some(format!("ignoring a bad cache entry: {why}")),
            MissReason::Untrusted(why) => Some(format!("ignoring an untrusted cache entry: {why}")),
            MissReason::Unavailable(why) => Some(format!(
                "the cache is unavailable, building without it for the rest of the run: {why}"
            )),
            MissReason::Local(why) => Some(format!("could not use a cache entry: {why}")),
        }
    }
}

impl Lookup {
    /// The hit, if it is one.
    pub fn hit(&self) -> Option<&Hit> {
        match self {
            Lookup::Hit(hit) => Some(hit),
            Lookup::Miss(_) => None,
        }
    }

    /// The warning this lookup deserves, if any.
    pub fn warning(&self) -> Option<String> {
        match self {
            Lookup::Hit(_) => None,
            Lookup::Miss(miss) => miss.reason.warning(),
        }
    }
}

/// Whether a key is in the cache, asked without downloading its executable (for one that is
/// already up to date here).
// One per output and short-lived, as a lookup (a record is a few hundred bytes).
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Presence {
    /// Its record is there and valid, and so is its blob's length.
    Present(Record),
    /// Not there, or not usable (`NotFound`, `OtherFormat`, `Invalid`, `Untrusted`): storing
    /// it again repairs it.
    Absent(MissReason),
    /// Not known: the mode is `off`, or the backend failed (`Off`, `Unavailable`, `Down`).
    Unknown(MissReason),
}

impl Presence {
    /// What a lookup's `reason` says of an entry's presence: not known when the cache was not
    /// asked or failed (`Off`, `Unavailable`, `Down`), else absent.
    pub(crate) fn of_miss(reason: MissReason) -> Presence {
        match reason {
            MissReason::Off | MissReason::Unavailable(_) | MissReason::Down => {
                Presence::Unknown(reason)
            }
            reason => Presence::Absent(reason),
        }
    }

    /// The warning this answer deserves, if any.
    pub fn warning(&self) -> Option<String> {
        match self {
            Presence::Present(_) => None,
            Presence::Absent(reason) | Presence::Unknown(reason) => reason.warning(),
        }
    }
}

/// The result of storing an executable.
// One per output and short-lived, as a lookup (a record is a few hundred bytes).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// Written: the blob, then the record.
    Stored(Record),
    /// Not attempted.
    Skipped(SkipReason),
    /// Attempted and failed; the build's own outputs are not affected.
    Failed(StoreFailure),
}

/// Why a store was not attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The mode is `off`.
    Off,
    /// The mode is `read`: the cache is never written.
    ReadOnly,
    /// The backend failed earlier in this run (and was warned about then).
    Down,
}

/// Why a store failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreFailure {
    /// The backend failed or refused; no more stores are attempted during this run.
    Unavailable(String),
    /// The executable could not be read, or changed while it was being stored.
    Local(String),
}

impl Store {
    /// A line for the user when the store deserves one.
    pub fn warning(&self) -> Option<String> {
        match self {
            Store::Stored(_) | Store::Skipped(_) => None,
            Store::Failed(StoreFailure::Unavailable(why)) => Some(format!(
                "could not store into the cache, not storing for the rest of the run: {why}"
            )),
            Store::Failed(StoreFailure::Local(why)) => {
                Some(format!("could not store into the cache: {why}"))
            }
        }
    }
}

/// The `cache` column of an output: whether its executable came from the cache, went into it,
/// or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CacheStatus {
    /// The cache has the executable: it came from there (nothing was compiled for it), or
    /// the one here was already up to date and the cache was found to hold it too.
    Hit,
    /// The executable was built and stored.
    Stored,
    /// The executable was built and not stored (mode `read`, a failure, or no cache).
    Miss,
}

impl CacheStatus {
    /// The status of an output from its lookup and, after a miss, its store.
    pub fn of(lookup: &Lookup, store: Option<&Store>) -> CacheStatus {
        match (lookup, store) {
            (Lookup::Hit(_), _) => CacheStatus::Hit,
            (Lookup::Miss(_), Some(Store::Stored(_))) => CacheStatus::Stored,
            (Lookup::Miss(_), _) => CacheStatus::Miss,
        }
    }

    /// The status as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "hit",
            CacheStatus::Stored => "stored",
            CacheStatus::Miss => "miss",
        }
    }
}

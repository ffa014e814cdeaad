//! Learned costs: how long each cargo call took, stored by the runs that store into the cache
//! and read by `plan --shards N` to balance its shards.
//!
//! One object per call, `v2/costs/<id[0..2]>/<id>.json`, where the id is the SHA-256 of the
//! call's identity (`plan::shard::identity`: its workspace as the manifest writes it, build
//! program, target, profile, and each output's name, package, bin and features; the same on
//! every runner and in every checkout). Written whole (one PUT, or a rename in a directory):
//! readers see the old or the new object, and the last writer wins.
//!
//! Not signed, on purpose: a cost only steers which runner builds a call, never what is built
//! or shipped (every executable is still found by its input key and, with a signing key,
//! verified). A cost that cannot be read, of another format or for another call is ignored
//! with a warning; it never fails a plan.

use std::collections::BTreeMap;
use std::time::SystemTime;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::layout::LAYOUT_DIR;
use super::transfer::{self, TransferError};
use super::{Cache, LOOKUP_CONCURRENCY, Store, StoreFailure};
use crate::fingerprint::{hex, sha256};

/// The format of a cost object; another is ignored (written by another version).
pub const COSTS_FORMAT: u64 = 1;

/// The longest a call may have taken for its cost to be believed: a week.
const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// What the cache keeps of one cargo call's last build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// [`COSTS_FORMAT`].
    pub format: u64,
    /// The call's identity (`plan::shard::identity`), which the object's name is the digest of.
    pub call: String,
    /// The wall time of its cargo child, in seconds.
    pub seconds: f64,
    /// The CPU time of its cargo child and what it waited for, in seconds, when measured:
    /// what the split balances (else `seconds`).
    pub cpu_seconds: Option<f64>,
    /// When it was measured (RFC 3339, UTC).
    pub measured: String,
}

impl Cost {
    /// The cost of the call `identity`, measured now.
    pub fn new(identity: &str, seconds: f64, cpu_seconds: Option<f64>) -> Cost {
        Cost {
            format: COSTS_FORMAT,
            call: identity.to_string(),
            seconds,
            cpu_seconds,
            measured: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        }
    }
}

/// The object of the call `identity`, relative to the cache's root.
pub fn costs_path(identity: &str) -> String {
    let id = hex(&sha256(identity.as_bytes()));
    format!("{LAYOUT_DIR}/costs/{}/{id}.json", &id[..2])
}

/// The seconds a cost object gives its call: its CPU seconds when measured (the same on a
/// runner of any size, busy or not), else its wall seconds; or why it is not used.
fn parse(bytes: &[u8], identity: &str) -> Result<f64, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    let format = value.get("format").and_then(serde_json::Value::as_u64);
    if format != Some(COSTS_FORMAT) {
        return Err(format!(
            "of format {}, not {COSTS_FORMAT}",
            format.map_or("(none)".to_string(), |f| f.to_string())
        ));
    }
    let cost: Cost =
        serde_json::from_value(value).map_err(|e| format!("not a cost object ({e})"))?;
    if cost.call != identity {
        return Err("the cost of another cargo call".to_string());
    }
    let seconds = cost.cpu_seconds.unwrap_or(cost.seconds);
    if !(seconds.is_finite() && (0.0..=MAX_SECONDS).contains(&seconds)) {
        return Err(format!("{seconds} is not a number of seconds"));
    }
    Ok(seconds)
}

impl Cache {
    /// Stores `cost` under its call's identity (mode `read-write` only): whether it was
    /// written, or the warning a failure deserves (after which, as for executables, nothing
    /// more is stored during the run).
    pub fn store_cost(&self, cost: &Cost) -> Result<bool, String> {
        if !self.mode.writes() || self.health.check_write().is_err() {
            return Ok(false);
        }
        let Some(inner) = &self.inner else {
            return Ok(false);
        };
        let Some(store) = inner.backend.store.as_deref() else {
            return Ok(false);
        };
        let object = inner.backend.path(&costs_path(&cost.call));
        let mut json = serde_json::to_vec_pretty(cost).expect("a cost serializes");
        json.push(b'\n');
        let put = self.block_on(transfer::put_small(store, &object, json));
        let failed = match put {
            Ok(()) => return Ok(true),
            Err(e) => match e {
                TransferError::Backend { why, refused } => self
                    .health
                    .write_failed(format!("{}: {why}", self.location), refused),
                TransferError::NotFound => self.health.write_failed(
                    format!("{}: the bucket or directory does not exist", self.location),
                    false,
                ),
                TransferError::Local(why) | TransferError::Invalid(why) => {
                    Store::Failed(StoreFailure::Local(why))
                }
            },
        };
        Err(failed
            .warning()
            .unwrap_or_else(|| format!("could not store a learned cost into {}", self.location)))
    }

    /// The costs the cache holds for the calls `identities`, by identity, and a warning for
    /// each object that is there and cannot be used (or for a backend that fails). Never
    /// fails: what cannot be read is left to the estimate.
    pub fn learned_costs(&self, identities: &[String]) -> (BTreeMap<String, f64>, Vec<String>) {
        let mut learned = BTreeMap::new();
        let mut warnings = Vec::new();
        if !self.mode.reads() || self.health.check_read().is_err() {
            return (learned, warnings);
        }
        let Some(inner) = &self.inner else {
            return (learned, warnings);
        };
        let Some(store) = inner.backend.store.as_deref() else {
            return (learned, warnings);
        };
        let read = self.block_on(
            futures_util::stream::iter(identities)
                .map(|identity| async move {
                    let object = inner.backend.path(&costs_path(identity));
                    let got = transfer::get_record(store, &object).await;
                    (identity, object, got)
                })
                .buffered(LOOKUP_CONCURRENCY)
                .collect::<Vec<_>>(),
        );
        let mut failed = false;
        for (identity, object, got) in read {
            match got {
                Ok(bytes) => match parse(&bytes, identity) {
                    Ok(seconds) => {
                        learned.insert(identity.clone(), seconds);
                    }
                    Err(why) => warnings.push(format!(
                        "ignoring the learned cost `{object}` in {}: {why}",
                        self.location
                    )),
                },
                Err(TransferError::NotFound) => {}
                Err(TransferError::Invalid(why) | TransferError::Local(why)) => {
                    warnings.push(format!(
                        "ignoring the learned cost `{object}` in {}: {why}",
                        self.location
                    ));
                }
                Err(TransferError::Backend { why, .. }) => {
                    if !failed {
                        failed = true;
                        warnings.push(format!(
                            "cannot read the learned costs from {}, estimating instead: {why}",
                            self.location
                        ));
                    }
                }
            }
        }
        (learned, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cost_is_used_only_for_its_own_call_in_this_format_and_in_range() {
        let good = Cost::new("call a", 12.5, Some(20.0));
        let json = serde_json::to_vec(&good).unwrap();
        assert_eq!(parse(&json, "call a"), Ok(20.0));
        let wall_only = serde_json::to_vec(&Cost::new("call a", 12.5, None)).unwrap();
        assert_eq!(parse(&wall_only, "call a"), Ok(12.5));
        assert!(
            parse(&json, "call b")
                .unwrap_err()
                .contains("another cargo call")
        );
        for (bad, says) in [
            (&b"{"[..], "not JSON"),
            (
                br#"{"format":2,"call":"call a","seconds":1}"#,
                "of format 2",
            ),
            (br#"{"call":"call a","seconds":1}"#, "of format (none)"),
            (br#"{"format":1,"call":"call a"}"#, "not a cost object"),
            (
                br#"{"format":1,"call":"call a","seconds":-3,"cpu_seconds":null,"measured":"x"}"#,
                "not a number of seconds",
            ),
            (
                br#"{"format":1,"call":"call a","seconds":1e12,"cpu_seconds":null,"measured":"x"}"#,
                "not a number of seconds",
            ),
        ] {
            let e = parse(bad, "call a").unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        assert!(costs_path("call a").starts_with("v2/costs/"));
        assert_ne!(costs_path("call a"), costs_path("call b"));
    }

    #[test]
    fn costs_round_trip_through_a_directory_and_the_last_writer_wins() {
        use crate::cache::{CacheLocation, CacheMode};
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8Path::from_path(dir.path())
            .unwrap()
            .join("cache");
        let location = CacheLocation::Directory { path: root.clone() };
        let open = |mode| Cache::open_with_env(location.clone(), mode, BTreeMap::new());
        let calls = ["call a".to_string(), "call b".to_string()];
        assert_eq!(
            open(CacheMode::Read).learned_costs(&calls),
            Default::default()
        );
        let cache = open(CacheMode::ReadWrite);
        assert_eq!(
            cache.store_cost(&Cost::new("call a", 3.0, Some(5.0))),
            Ok(true)
        );
        assert_eq!(cache.store_cost(&Cost::new("call a", 4.0, None)), Ok(true));
        let (learned, warnings) = open(CacheMode::Read).learned_costs(&calls);
        assert_eq!(learned, BTreeMap::from([("call a".to_string(), 4.0)]));
        assert!(warnings.is_empty(), "{warnings:?}");
        // Read-only and off never write.
        assert_eq!(
            open(CacheMode::Read).store_cost(&Cost::new("call b", 1.0, None)),
            Ok(false)
        );
        assert_eq!(
            open(CacheMode::Off).store_cost(&Cost::new("call b", 1.0, None)),
            Ok(false)
        );
        assert!(!root.join(costs_path("call b")).exists());
        // A corrupt object: a warning naming it, the others still read.
        std::fs::create_dir_all(root.join(costs_path("call b")).parent().unwrap()).unwrap();
        std::fs::write(root.join(costs_path("call b")), b"{").unwrap();
        let (learned, warnings) = open(CacheMode::Read).learned_costs(&calls);
        assert_eq!(learned.len(), 1);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains(&costs_path("call b")), "{warnings:?}");
    }
}

//! Whether the cache holds an executable for a key, asked without downloading it: what
//! `plan --shards N` asks of every output, to plan only what misses.

use futures_util::StreamExt;

use super::transfer;
use super::{Cache, CacheKey, LOOKUP_CONCURRENCY, MissReason, Presence, ReadsCheck, blob_path};

impl Cache {
    /// For each of `keys`, what a lookup would find, without downloading: the record
    /// [`Cache::lookup`] would use (the index, then the newest trusted record whose files
    /// `check` finds here) and its blob's length. [`LOOKUP_CONCURRENCY`] at a time; the
    /// answers are in the order of `keys`.
    pub fn probe_many(&self, keys: &[CacheKey], check: ReadsCheck<'_>) -> Vec<Presence> {
        self.block_on(
            futures_util::stream::iter(keys)
                .map(|key| self.probe_async(key, check))
                .buffered(LOOKUP_CONCURRENCY)
                .collect(),
        )
    }

    async fn probe_async(&self, key: &CacheKey, check: ReadsCheck<'_>) -> Presence {
        let sort = |reason| match reason {
            MissReason::Off | MissReason::Unavailable(_) | MissReason::Down => {
                Presence::Unknown(reason)
            }
            reason => Presence::Absent(reason),
        };
        if !self.mode.reads() {
            return Presence::Unknown(MissReason::Off);
        }
        if let Err(reason) = self.health.check_read() {
            return Presence::Unknown(reason);
        }
        let Some(inner) = &self.inner else {
            return Presence::Unknown(MissReason::Down);
        };
        let Some(store) = inner.backend.store.as_deref() else {
            return Presence::Absent(MissReason::NotFound);
        };
        let record = match self.find_record(store, &inner.backend, key, check).await {
            Ok(record) => record,
            Err(reason) => return sort(reason),
        };
        let blob = inner.backend.path(&blob_path(&record.sha256));
        match transfer::blob_exists(store, &blob, &record).await {
            Ok(true) => Presence::Present(record),
            Ok(false) => Presence::Absent(MissReason::Invalid(format!(
                "{}: the record of `{key}` names the blob {}, which is missing or of another length",
                self.location, record.sha256
            ))),
            Err(e) => sort(self.lookup_failed(e)),
        }
    }
}

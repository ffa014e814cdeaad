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
        let (backend, store) = match self.reader() {
            Ok(reader) => reader,
            Err(reason) => return Presence::of_miss(reason),
        };
        let record = match self.find_record(store, backend, key, check).await {
            Ok(record) => record,
            Err(reason) => return Presence::of_miss(reason),
        };
        let blob = backend.path(&blob_path(&record.sha256));
        match transfer::blob_exists(store, &blob, &record).await {
            Ok(true) => Presence::Present(record),
            Ok(false) => Presence::Absent(MissReason::Invalid(format!(
                "{}: the record of `{key}` names the blob {}, which is missing or of another length",
                self.location, record.sha256
            ))),
            Err(e) => Presence::of_miss(self.lookup_failed(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use camino::Utf8Path;

    use super::*;
    use crate::cache::{CacheLocation, CacheMode, RecordFields, Store};

    #[test]
    fn a_probe_finds_what_a_lookup_would_without_downloading() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap().join("cache");
        let location = CacheLocation::Directory { path: root.clone() };
        let exe = root.with_file_name("my-fn");
        std::fs::write(&exe, b"\x7fELF executable").unwrap();
        let cache = Cache::open_with_env(location.clone(), CacheMode::ReadWrite, BTreeMap::new());
        let k1 = CacheKey::new("k1").unwrap();
        let k2 = CacheKey::new("k2").unwrap();
        let Store::Stored(record) = cache.store(&k1, &exe, &RecordFields::default()) else {
            panic!("stored");
        };
        let found = cache.probe_many(&[k1.clone(), k2.clone()], &|_| true);
        assert!(
            matches!(&found[0], Presence::Present(r) if *r == record),
            "{found:?}"
        );
        assert!(matches!(found[1], Presence::Absent(MissReason::NotFound)));
        // Files that differ here: no record matches.
        let found = cache.probe_many(std::slice::from_ref(&k1), &|_| false);
        assert!(matches!(found[0], Presence::Absent(MissReason::NotFound)));
        // A blob cut short is absent, with a warning; the blob is not touched.
        let blob = root.join(blob_path(&record.sha256));
        std::fs::write(&blob, b"\x7fELF").unwrap();
        let found = cache.probe_many(std::slice::from_ref(&k1), &|_| true);
        assert!(matches!(found[0], Presence::Absent(MissReason::Invalid(_))));
        assert!(found[0].warning().unwrap().contains("bad cache entry"));
        assert_eq!(std::fs::read(&blob).unwrap(), b"\x7fELF");
        // Read-only and off.
        let read = Cache::open_with_env(location.clone(), CacheMode::Read, BTreeMap::new());
        assert!(matches!(
            read.probe_many(std::slice::from_ref(&k2), &|_| true)[0],
            Presence::Absent(MissReason::NotFound)
        ));
        let off = Cache::open_with_env(location, CacheMode::Off, BTreeMap::new());
        assert!(matches!(
            off.probe_many(&[k1], &|_| true)[0],
            Presence::Unknown(MissReason::Off)
        ));
    }
}

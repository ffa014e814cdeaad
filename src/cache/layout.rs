//! Where records and blobs live under the cache's root (a directory or an S3 prefix):
//!
//! ```text
//! v2/blobs/<sha[0..2]>/<sha256>                   an executable, named by its SHA-256
//! v2/keys/<key[0..2]>/<key>/<reads>.json          a record: which blob the key's executable
//!                                                 is, for the files it read (their digest)
//! v2/keys/<key[0..2]>/<key>/index.json            the key's records, newest first
//! v2/costs/<id[0..2]>/<id>.json                   a cargo call's learned cost (see `costs`)
//! ```
//!
//! `v2` is [`RECORD_FORMAT`](super::record::RECORD_FORMAT): a later, incompatible layout lives
//! beside this one. The two-character fan-out keeps directories small on file systems. One key
//! holds a record for each version of its package's files that was built (see `reads`).

use super::key::CacheKey;

/// The folder of this layout's objects.
pub const LAYOUT_DIR: &str = "v2";

/// The blob of an executable with this digest (lowercase hex), relative to the root.
pub fn blob_path(sha256: &str) -> String {
    format!("{LAYOUT_DIR}/blobs/{}/{sha256}", fan_out(sha256))
}

/// The folder of a key's records, relative to the root.
pub fn record_dir(key: &CacheKey) -> String {
    let key = key.as_str();
    format!("{LAYOUT_DIR}/keys/{}/{key}", fan_out(key))
}

/// The record of a key for the files with this digest (see `Reads::digest`), relative to the
/// root.
pub fn record_path(key: &CacheKey, reads: &str) -> String {
    format!("{}/{reads}.json", record_dir(key))
}

/// The index of a key's records, relative to the root: the digests of their files, newest
/// first. Written after the record it adds, so it never names one that is not there yet; two
/// runners adding at once may lose one addition (a later miss stores it again), never add a
/// wrong one.
pub fn index_path(key: &CacheKey) -> String {
    format!("{}/index.json", record_dir(key))
}

/// The first two characters (or the whole name if shorter).
fn fan_out(name: &str) -> &str {
    name.get(..2).unwrap_or(name)
}

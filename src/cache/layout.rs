//! Where records and blobs live under the cache's root (a directory or an S3 prefix):
//!
//! ```text
//! v1/blobs/<sha[0..2]>/<sha256>       an executable, named by its SHA-256
//! v1/keys/<key[0..2]>/<key>.json      a record: which blob the key's executable is
//! ```
//!
//! `v1` is [`RECORD_FORMAT`](super::record::RECORD_FORMAT): a later, incompatible layout lives
//! beside this one. The two-character fan-out keeps directories small on file systems.

use super::key::CacheKey;

/// The folder of this layout's objects.
pub const LAYOUT_DIR: &str = "v1";

/// The blob of an executable with this digest (lowercase hex), relative to the root.
pub fn blob_path(sha256: &str) -> String {
    format!("{LAYOUT_DIR}/blobs/{}/{sha256}", fan_out(sha256))
}

/// The record of a key, relative to the root.
pub fn record_path(key: &CacheKey) -> String {
    let key = key.as_str();
    format!("{LAYOUT_DIR}/keys/{}/{key}.json", fan_out(key))
}

/// The first two characters (or the whole name if shorter).
fn fan_out(name: &str) -> &str {
    name.get(..2).unwrap_or(name)
}

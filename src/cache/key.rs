//! The name an executable is looked up by: its input key, computed by the caller from
//! everything that can change the executable.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An input key: 1 to 128 characters out of `a-z`, `0-9`, `-` and `_` (a hex digest, perhaps
/// with a version prefix), so that it is the same object name on every backend and file system.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CacheKey(String);

/// A string that cannot be an input key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a cache key: 1 to 128 characters out of `a-z`, `0-9`, `-` and `_`")]
pub struct InvalidKey(pub String);

impl CacheKey {
    /// The longest key.
    pub const MAX_LEN: usize = 128;

    /// Checks a key.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidKey> {
        let key = key.into();
        let valid = (1..=Self::MAX_LEN).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if valid {
            Ok(CacheKey(key))
        } else {
            Err(InvalidKey(key))
        }
    }

    /// The key of a digest in lowercase hex (a [`crate::fingerprint::Fingerprint`]'s): always
    /// a valid one.
    pub(crate) fn of_digest(hex: String) -> CacheKey {
        CacheKey(hex)
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CacheKey {
    type Error = InvalidKey;

    fn try_from(key: String) -> Result<Self, Self::Error> {
        CacheKey::new(key)
    }
}

impl From<CacheKey> for String {
    fn from(key: CacheKey) -> String {
        key.0
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

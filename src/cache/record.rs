//! The small JSON record stored under each input key: which blob holds the executable, and
//! what it was built from.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::key::CacheKey;
use super::reads::Reads;
use crate::fingerprint::hex;

/// The version of the record's format (and of the storage layout, see `layout`); a record of
/// another version is a miss.
pub const RECORD_FORMAT: u64 = 2;

/// The largest executable the cache accepts or downloads. Lambda's own limit is 250 MB
/// unzipped; anything above this is not an executable lambda-batch built, so a record claiming
/// it is corrupt, and a download never grows past it.
pub const MAX_EXECUTABLE_SIZE: u64 = 1 << 30;

/// What the cache knows about one stored executable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// [`RECORD_FORMAT`].
    pub format: u64,
    /// The input key the record is stored under.
    pub key: CacheKey,
    /// SHA-256 of the executable, lowercase hex: the name of its blob.
    pub sha256: String,
    /// The executable's length in bytes.
    pub size: u64,
    /// The executable's file name when it was stored (the bin's name).
    pub file_name: String,
    /// Versions of the tools that built it (`rustc`, `cargo-zigbuild`, …), from the caller.
    #[serde(default)]
    pub tools: BTreeMap<String, String>,
    /// A summary of what went into the key, from the caller.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    /// The features cargo compiled the executable's package with, from the caller.
    #[serde(default)]
    pub features: Vec<String>,
    /// Variables the build turned out to read (`env!`, `option_env!`, build scripts'
    /// `rerun-if-env-changed`), each with the SHA-256 of the value it was built with (`None`:
    /// unset): a lookup whose environment differs uses none of it.
    #[serde(default)]
    pub env: BTreeMap<String, Option<String>>,
    /// The files of its own package (and outside every package) it read, each with its
    /// digest: the entry is used only where they all hash the same (see `reads`).
    #[serde(default)]
    pub reads: Reads,
    /// When it was stored, RFC 3339 in UTC.
    pub created: String,
    /// HMAC-SHA256 of the key, the executable's digest and the rest of the record, lowercase
    /// hex, when the run that stored it held a signing key (see `signing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// What the caller adds to a record when storing an executable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFields {
    /// Versions of the tools that built the executable.
    pub tools: BTreeMap<String, String>,
    /// A summary of what went into the key.
    pub inputs: BTreeMap<String, String>,
    /// The features cargo compiled the executable's package with.
    pub features: Vec<String>,
    /// Variables the build read, with the SHA-256 of each value (see [`Record::env`]).
    pub env: BTreeMap<String, Option<String>>,
    /// The files the executable read (see [`Record::reads`]).
    pub reads: Reads,
}

/// Why a record read from the cache cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecordProblem {
    /// A record of another format (another lambda-batch version's): not an error.
    Unsupported(u64),
    /// Not a record, or one that contradicts itself or its key.
    Invalid(String),
}

impl Record {
    /// The record for an executable with the given digest and length.
    pub(crate) fn new(
        key: &CacheKey,
        sha256: &[u8; 32],
        size: u64,
        file_name: &str,
        fields: &RecordFields,
        created: SystemTime,
    ) -> Record {
        Record {
            format: RECORD_FORMAT,
            key: key.clone(),
            sha256: hex(sha256),
            size,
            file_name: file_name.to_owned(),
            tools: fields.tools.clone(),
            inputs: fields.inputs.clone(),
            features: fields.features.clone(),
            env: fields.env.clone(),
            reads: fields.reads.clone(),
            created: humantime::format_rfc3339_seconds(created).to_string(),
            signature: None,
        }
    }

    /// The record as stored: pretty JSON, one trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).expect("a record serializes");
        json.push(b'\n');
        json
    }

    /// Reads a stored record and checks it against the key it was found under.
    pub(crate) fn parse(bytes: &[u8], key: &CacheKey) -> Result<Record, RecordProblem> {
        let invalid = |reason: String| RecordProblem::Invalid(reason);
        // The format first, alone: a later format may change every other field.
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| invalid(format!("the record is not JSON ({e})")))?;
        let format = value
            .get("format")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| invalid("the record has no format number".to_owned()))?;
        if format != RECORD_FORMAT {
            return Err(RecordProblem::Unsupported(format));
        }
        let record: Record = serde_json::from_value(value)
            .map_err(|e| invalid(format!("the record is malformed ({e})")))?;
        if record.key != *key {
            return Err(invalid(format!(
                "the record is stored under `{key}` but names the key `{}`",
                record.key
            )));
        }
        if !is_sha256_hex(&record.sha256) {
            return Err(invalid(format!(
                "the record's sha256 `{}` is not 64 lowercase hex digits",
                record.sha256
            )));
        }
        if record.size > MAX_EXECUTABLE_SIZE {
            return Err(invalid(format!(
                "the record's size {} is larger than any executable ({MAX_EXECUTABLE_SIZE})",
                record.size
            )));
        }
        if !is_file_name(&record.file_name) {
            return Err(invalid(format!(
                "the record's file name `{}` is not a file name",
                record.file_name
            )));
        }
        Ok(record)
    }
}

/// Whether `s` is a SHA-256 digest in lowercase hex.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `s` is one path component.
fn is_file_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\0'])
}

/// The digest of a variable's value, as records keep it (`None`: unset).
pub fn value_digest(value: Option<String>) -> Option<String> {
    value.map(|v| crate::fingerprint::hex(&crate::fingerprint::sha256(v.as_bytes())))
}

/// The variables of `recorded` (name → digest of the value the build read, see
/// [`Record::env`]) whose value `env` gives differently now: an entry is used only when there
/// are none.
pub fn env_differs(
    recorded: &BTreeMap<String, Option<String>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    recorded
        .iter()
        .filter(|(name, digest)| value_digest(env(name)) != **digest)
        .map(|(name, _)| name.clone())
        .collect()
}

/// Whether every variable of `recorded` has the value `env` gives now.
pub fn env_matches(
    recorded: &BTreeMap<String, Option<String>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> bool {
    recorded
        .iter()
        .all(|(name, digest)| value_digest(env(name)) == *digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_compared_by_digest_and_unset_is_a_value() {
        let recorded: BTreeMap<String, Option<String>> = [
            ("GIT_SHA".to_string(), value_digest(Some("abc".into()))),
            ("UNSET".to_string(), None),
        ]
        .into();
        let env = |sha: &'static str| {
            move |k: &str| match k {
                "GIT_SHA" => Some(sha.to_string()),
                _ => None,
            }
        };
        assert!(env_matches(&recorded, &env("abc")));
        assert!(!env_matches(&recorded, &env("abd")));
        assert_eq!(env_differs(&recorded, &env("abd")), ["GIT_SHA"]);
        let set = |k: &str| (k == "UNSET").then(|| "now".to_string());
        assert_eq!(env_differs(&recorded, &set), ["GIT_SHA", "UNSET"]);
    }
}

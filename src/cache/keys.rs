//! The input keys of a plan's artifacts, as a table beside the plan: [`super::compute_keys`]
//! returns it and never writes into the plan; the run (lookups, stores), the reports and
//! `plan`'s printer read it by artifact.

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;

use super::key::CacheKey;
use super::reads::Checkout;
use crate::fingerprint::Fingerprint;

/// One input of an input key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct KeyInput {
    /// What it is: `rustc`, `args`, `env RUSTFLAGS`, `file Cargo.lock`, `package ...`.
    pub name: String,
    /// SHA-256 of its value, hex.
    pub digest: String,
}

/// An artifact's input key, with what went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The key: a digest of the inputs, in order (`key_of`); what the cache names the
    /// executable by.
    pub digest: CacheKey,
    /// What went into it, each input with the digest of its value (`plan -v`; kept in the
    /// cache's record beside the executable).
    pub inputs: Vec<KeyInput>,
    /// The versions of the tools that build the executable, as the key saw them: kept with
    /// the executable in the cache.
    pub tools: BTreeMap<String, String>,
}

impl Key {
    /// The key of `inputs`, for an executable built by `tools`.
    pub fn new(inputs: Vec<KeyInput>, tools: BTreeMap<String, String>) -> Key {
        Key {
            digest: key_of(&inputs),
            inputs,
            tools,
        }
    }
}

/// Why an artifact has no input key: it is then built as without a cache, and never stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// The key of a list of inputs: SHA-256 over each name and digest, lowercase hex.
fn key_of(inputs: &[KeyInput]) -> CacheKey {
    let mut f = Fingerprint::new();
    for i in inputs {
        f.field(&i.name, &i.digest);
    }
    CacheKey::of_digest(f.finish())
}

/// The input keys of a plan's artifacts, by index in `Plan::artifacts`: each a key or why
/// there is none. Empty when none were computed (a run without a cache). With them, the
/// checkout they were computed in, which says whether an entry's recorded files are its own.
#[derive(Debug, Clone, Default)]
pub struct Keys(Vec<Result<Key, KeyError>>, Option<Arc<Checkout>>);

impl PartialEq for Keys {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Keys {}

impl Keys {
    /// No keys: a run without a cache.
    pub fn none() -> Keys {
        Keys::default()
    }

    /// The table of `keys`, the one of each artifact in plan order.
    pub fn new(keys: Vec<Result<Key, KeyError>>) -> Keys {
        Keys(keys, None)
    }

    /// The table of `keys`, computed in `checkout`.
    pub fn in_checkout(keys: Vec<Result<Key, KeyError>>, checkout: Arc<Checkout>) -> Keys {
        Keys(keys, Some(checkout))
    }

    /// The checkout the keys were computed in (`None`: a table made by hand, whose entries
    /// record no files).
    pub fn checkout(&self) -> Option<&Checkout> {
        self.1.as_deref()
    }

    /// Whether an entry that records `reads` is one for this checkout: every file hashes the
    /// same here (without a checkout, only an entry that records none).
    pub fn matches(&self, reads: &super::Reads) -> bool {
        match self.checkout() {
            Some(checkout) => checkout.matches(reads),
            None => reads.is_empty(),
        }
    }

    /// Artifact `artifact`'s key or why it has none; `None` when keys were not computed.
    pub fn get(&self, artifact: usize) -> Option<&Result<Key, KeyError>> {
        self.0.get(artifact)
    }

    /// Artifact `artifact`'s key, when it has one.
    pub fn key(&self, artifact: usize) -> Option<&Key> {
        self.get(artifact).and_then(|k| k.as_ref().ok())
    }

    /// Artifact `artifact`'s key as text, when it has one.
    pub fn digest(&self, artifact: usize) -> Option<&str> {
        self.key(artifact).map(|k| k.digest.as_str())
    }

    /// Why artifact `artifact` has no key, when it was computed and failed.
    pub fn error(&self, artifact: usize) -> Option<&KeyError> {
        self.get(artifact).and_then(|k| k.as_ref().err())
    }

    /// Every artifact's key or why it has none, in plan order.
    pub fn iter(&self) -> impl Iterator<Item = &Result<Key, KeyError>> {
        self.0.iter()
    }

    /// How many artifacts the table covers (0 when none were computed).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no key was computed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_inputs_in_order() {
        let i = |n: &str, d: &str| KeyInput {
            name: n.into(),
            digest: d.into(),
        };
        let a = key_of(&[i("args", "1"), i("env X", "2")]);
        assert_eq!(a.as_str().len(), 64);
        assert_eq!(CacheKey::new(a.as_str()), Ok(a.clone()));
        assert_eq!(a, key_of(&[i("args", "1"), i("env X", "2")]));
        assert_ne!(a, key_of(&[i("env X", "2"), i("args", "1")]));
        assert_ne!(a, key_of(&[i("args", "1"), i("env X", "3")]));
        assert_ne!(a, key_of(&[i("args", "1"), i("env Y", "2")]));
    }

    #[test]
    fn an_artifact_has_a_key_or_why_not_or_nothing_was_computed() {
        let key = Key::new(Vec::new(), BTreeMap::new());
        let keys = Keys::new(vec![Ok(key.clone()), Err(KeyError("no Cargo.lock".into()))]);
        assert_eq!(keys.key(0), Some(&key));
        assert_eq!(keys.digest(0), Some(key.digest.as_str()));
        assert_eq!(keys.error(0), None);
        assert_eq!(keys.key(1), None);
        assert_eq!(
            keys.error(1).map(ToString::to_string),
            Some("no Cargo.lock".into())
        );
        assert_eq!(keys.get(2), None);
        assert!(Keys::none().is_empty() && Keys::none().get(0).is_none());
    }
}

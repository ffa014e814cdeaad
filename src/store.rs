//! Ground floor: the records lambda-batch keeps on disk to skip work it did before: what
//! `cargo metadata` and `cargo tree` answered, tools' versions, group and packaging stamps,
//! unit counts, the executables held for the artifact cache. Each record is one JSON file that
//! names its kind and version beside it:
//!
//! ```json
//! {"store":"lambda-batch group stamp","version":2,"record":{...}}
//! ```
//!
//! written atomically (see [`crate::atomic`]), and read back only when both are this store's.
//! Anything else (no file, an unreadable or truncated one, another kind's, an older or newer
//! lambda-batch's layout) is a miss: the work is done again and the record replaced. So a
//! record can cost time, never a wrong result.

use std::marker::PhantomData;
use std::path::Path;

use camino::Utf8Path;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::atomic;

/// One kind of record, `T`: its name and the version of its layout and meaning, raised
/// whenever either changes so that the records written before are misses.
#[derive(Debug)]
pub struct Store<T> {
    name: &'static str,
    version: u32,
    record: PhantomData<fn() -> T>,
}

/// The permission bits of a record.
const MODE: u32 = 0o644;

/// A record as written.
#[derive(Serialize)]
struct Written<'a, T> {
    store: &'a str,
    version: u32,
    record: &'a T,
}

/// A record as read back.
#[derive(Deserialize)]
struct Read<T> {
    store: String,
    version: u32,
    record: T,
}

impl<T> Store<T> {
    /// The store of the records called `name`, at `version`.
    pub const fn new(name: &'static str, version: u32) -> Store<T> {
        Store {
            name,
            version,
            record: PhantomData,
        }
    }

    /// The version of its records: what the fingerprints of a record's inputs mix in.
    pub const fn version(&self) -> u32 {
        self.version
    }

    /// What `U` reads of the record in the file at `path` when it is of this kind, whatever
    /// its version: for what must be known across versions (the files an older packaging
    /// wrote, which a new one may have to remove).
    pub fn load_any_version<U: DeserializeOwned>(&self, path: impl AsRef<Path>) -> Option<U> {
        let bytes = std::fs::read(path).ok()?;
        let read: Read<U> = serde_json::from_slice(&bytes).ok()?;
        (read.store == self.name).then_some(read.record)
    }
}

impl<T: DeserializeOwned> Store<T> {
    /// The record in the file at `path`, when it is one of this kind and version.
    pub fn load(&self, path: impl AsRef<Path>) -> Option<T> {
        self.parse(&std::fs::read(path).ok()?)
    }

    /// The record in `bytes`, when they hold one of this kind and version.
    pub fn parse(&self, bytes: &[u8]) -> Option<T> {
        let read: Read<T> = serde_json::from_slice(bytes).ok()?;
        (read.store == self.name && read.version == self.version).then_some(read.record)
    }
}

impl<T: Serialize> Store<T> {
    /// Replaces the file at `path` with `record`, atomically.
    pub fn save(&self, path: &Utf8Path, record: &T) -> Result<(), atomic::Error> {
        let bytes = self.encode(record).map_err(|e| atomic::Error {
            action: "encoding",
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        atomic::write(path, &bytes, MODE)
    }

    /// [`Store::save`], for a record whose loss only costs time: a failure (a full disk, a
    /// path that is not UTF-8) writes nothing and says nothing.
    pub fn save_or_skip(&self, path: &Path, record: &T) {
        if let Some(path) = Utf8Path::from_path(path) {
            let _ = self.save(path, record);
        }
    }

    /// The bytes of the file holding `record`.
    pub fn encode(&self, record: &T) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(&Written {
            store: self.name,
            version: self.version,
            record,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Note {
        text: String,
    }

    const NOTES: Store<Note> = Store::new("lambda-batch note", 2);

    fn note(text: &str) -> Note {
        Note { text: text.into() }
    }

    #[test]
    fn a_record_comes_back_only_as_this_kind_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8Path::from_path(dir.path()).unwrap().join("sub/n.json");
        assert_eq!(NOTES.load(&path), None, "no file is a miss");
        NOTES.save(&path, &note("hello")).unwrap();
        assert_eq!(NOTES.load(&path), Some(note("hello")));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            r#"{"store":"lambda-batch note","version":2,"record":{"text":"hello"}}"#
        );

        let newer: Store<Note> = Store::new("lambda-batch note", 3);
        let other: Store<Note> = Store::new("lambda-batch other", 2);
        assert_eq!(newer.load(&path), None, "another version is a miss");
        assert_eq!(other.load(&path), None, "another kind is a miss");
        assert_eq!(
            newer.load_any_version::<Note>(&path),
            Some(note("hello")),
            "unless any version will do"
        );
        assert_eq!(other.load_any_version::<Note>(&path), None);

        for bad in [
            &text[..text.len() / 2],
            "",
            "not json",
            r#"{"text":"hello"}"#,
            r#"{"store":"lambda-batch note","version":2,"record":{"words":1}}"#,
        ] {
            std::fs::write(&path, bad).unwrap();
            assert_eq!(NOTES.load(&path), None, "{bad}");
        }
    }

    #[test]
    fn a_record_that_cannot_be_written_is_an_error_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        // A file where the record's directory should be.
        std::fs::write(root.join("file"), "").unwrap();
        let blocked = root.join("file/n.json");
        let e = NOTES.save(&blocked, &note("new")).unwrap_err();
        assert!(e.to_string().contains("file"), "{e}");
        NOTES.save_or_skip(blocked.as_std_path(), &note("new"));
        assert_eq!(NOTES.load(&blocked), None);
        let entries = std::fs::read_dir(root).unwrap().count();
        assert_eq!(entries, 1, "no temporary file is left");
    }
}

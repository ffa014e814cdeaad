//! What publishing did, one entry per artifact of the report it read.

use crate::manifest::PublishLocation;
use crate::report::Published;

/// The outcome of one `publish` (or of its dry run): parallel to the report's artifacts.
#[derive(Debug, Clone)]
pub struct PublishTable {
    /// Where it published.
    pub location: PublishLocation,
    /// One entry per report artifact; `None` for those that publish nothing (a binary output,
    /// a failed build).
    pub entries: Vec<Option<Entry>>,
    /// The failure of the bucket itself (unreachable, missing, refusing) that stopped
    /// publishing, reported once; the objects already uploaded stay valid.
    pub unavailable: Option<String>,
    /// Publishing stopped on this signal.
    pub interrupted: Option<i32>,
}

/// One artifact's zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The bucket.
    pub bucket: String,
    /// Its object key.
    pub key: String,
    /// What became of it.
    pub state: State,
}

/// What became of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Uploaded now.
    Uploaded {
        /// The new object's version id, in a versioned bucket.
        version_id: Option<String>,
    },
    /// Already there (the same bytes: the key names them): not written again.
    Exists {
        /// The object's current version id, in a versioned bucket.
        version_id: Option<String>,
    },
    /// Not there; a dry run does not upload it.
    WouldUpload,
    /// It could not be published, and why.
    Failed(String),
    /// Not asked for: publishing stopped first (the bucket failed, or a signal).
    NotTried,
}

impl Entry {
    /// `s3://BUCKET/KEY`.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// Its `published` field in the report: where the zip is, once it is there.
    pub fn published(&self) -> Option<Published> {
        let (version_id, uploaded) = match &self.state {
            State::Uploaded { version_id } => (version_id.clone(), true),
            State::Exists { version_id } => (version_id.clone(), false),
            State::WouldUpload | State::Failed(_) | State::NotTried => return None,
        };
        Some(Published {
            url: self.url(),
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id,
            uploaded,
        })
    }

    /// The state for people: `uploaded`, `exists`, `would upload`, `failed`, `not tried`.
    pub fn status(&self) -> &'static str {
        match self.state {
            State::Uploaded { .. } => "uploaded",
            State::Exists { .. } => "exists",
            State::WouldUpload => "would upload",
            State::Failed(_) => "failed",
            State::NotTried => "not tried",
        }
    }
}

impl PublishTable {
    /// Whether every zip is in the bucket (or, in a dry run, was asked for).
    pub fn success(&self) -> bool {
        self.unavailable.is_none()
            && self.interrupted.is_none()
            && self.entries.iter().flatten().all(|e| {
                matches!(
                    e.state,
                    State::Uploaded { .. } | State::Exists { .. } | State::WouldUpload
                )
            })
    }

    /// How many objects are in each state: uploaded, existing, to upload, failed or not tried.
    pub fn counts(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        for e in self.entries.iter().flatten() {
            let i = match e.state {
                State::Uploaded { .. } => 0,
                State::Exists { .. } => 1,
                State::WouldUpload => 2,
                State::Failed(_) | State::NotTried => 3,
            };
            counts[i] += 1;
        }
        counts
    }
}

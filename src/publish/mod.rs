//! Stage 6: `publish`: every zip of a run uploaded once to S3, under a key that names its
//! content (`PREFIX/<name>/<arch>/<sha256 hex>.zip`).
//!
//! It reads the run's report as data (each output's name, architecture, zip, size and SHA-256)
//! and hands back a [`PublishTable`], one entry per report artifact; the caller prints it and
//! records each object in the report's `published` field. Nothing here touches the plan.
//!
//! Because the key names the bytes, an object that is already there is the same zip: it is
//! asked for with a HEAD (its size must match too) and never written again. A missing one is
//! uploaded after its file is checked against the report's SHA-256 (as it is read, so a zip
//! rebuilt since the report was written is refused, not published under a wrong name): in one
//! PUT that S3 refuses if another publisher created the key meanwhile, or in parts for zips
//! larger than [`PART_SIZE`]. Storage goes through object_store, configured from the standard
//! AWS environment exactly as the artifact cache is (`crate::cache::s3_store`), with the same
//! time bounds: a dead endpoint costs one connect or read time-out, is reported once, and
//! nothing more is asked of it.

mod object;
mod publisher;
mod table;
mod upload;

pub use crate::cache::PART_SIZE;
pub use crate::manifest::{InvalidPublishUrl, PublishLocation};
pub use object::{PublishFile, files_of, likely_files, zip_key};
pub use publisher::{Mode, Prefetch, Publisher};
pub use table::{Entry, PublishTable, State};

/// How many objects are asked for or uploaded at once: enough to hide S3's per-request
/// latency over a monorepo's zips, few enough to keep memory bounded (a zip up to
/// [`PART_SIZE`] is held in memory while it goes up in one PUT).
pub const CONCURRENCY: usize = 8;

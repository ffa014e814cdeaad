//! Packaging one artifact once its executable exists: ELF check, then the output of SPEC §2
//! (binary copy or zip), written atomically, skipped when its inputs have not changed.
//!
//! API CONTRACT (used by `execute`): `package(artifact, executable, options)`.
//! The body below is a placeholder being replaced by the full implementation.

use camino::{Utf8Path, Utf8PathBuf};

use crate::plan::PlannedArtifact;
use crate::report::json::ZipEntryReport;

/// Settings that are the same for every artifact of a run.
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// `SOURCE_DATE_EPOCH`: the timestamp of every zip entry (default: 1980-01-01 00:00:00).
    pub source_date_epoch: Option<i64>,
}

/// What packaging produced.
#[derive(Debug, Clone)]
pub struct Packaged {
    /// The main output file (executable or zip).
    pub output: Utf8PathBuf,
    /// True when nothing was written because the inputs had not changed.
    pub fresh: bool,
    /// Size of the output in bytes.
    pub size: u64,
    /// SHA-256 of the output.
    pub sha256: [u8; 32],
    /// The zip's entries (empty for binary outputs).
    pub entries: Vec<ZipEntryReport>,
}

/// Why packaging failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PackageError {
    /// Reading or writing a file failed.
    #[error("{action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: Utf8PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Packages `artifact` from the executable cargo produced at `executable`.
pub fn package(artifact: &PlannedArtifact, executable: &Utf8Path, _options: &PackageOptions) -> Result<Packaged, PackageError> {
    let _ = (artifact, executable);
    Err(PackageError::Io {
        action: "packaging is not implemented yet for",
        path: executable.to_path_buf(),
        source: std::io::Error::other("placeholder"),
    })
}

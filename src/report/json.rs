//! The JSON report `run --report FILE` writes (SPEC §2); its JSON Schema is `schema/report.schema.json`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::manifest::values::{Arch, ArtifactKind, Compiler, OutputFormat};

/// What happened in one run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The manifest file.
    pub manifest: String,
    /// Every artifact built, fresh or failed.
    pub success: bool,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// One entry per (artifact, target) of the run.
    pub artifacts: Vec<ArtifactReport>,
}

/// The outcome for one artifact and target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Packaged in this run.
    Built,
    /// Its output was already up to date.
    Fresh,
    /// Its build or packaging failed (or a failure elsewhere stopped it).
    Failed,
}

/// One artifact and target in the report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ArtifactReport {
    /// The artifact name.
    pub name: String,
    /// function or extension.
    pub kind: ArtifactKind,
    /// The workspace path as written in the manifest.
    pub workspace: String,
    /// The package that has the bin.
    pub package: String,
    /// The bin target.
    pub bin: String,
    /// The target triple.
    pub target: String,
    /// The architecture.
    pub arch: Arch,
    /// The cargo profile.
    pub profile: String,
    /// The build program.
    pub compiler: Compiler,
    /// binary or zip.
    pub output_format: OutputFormat,
    /// The main output file.
    pub output: String,
    /// Its size in bytes (absent when failed).
    pub size: Option<u64>,
    /// SHA-256 of the output, hex.
    pub sha256: Option<String>,
    /// SHA-256 of the output, base64 (Terraform's `source_code_hash`).
    pub sha256_base64: Option<String>,
    /// The zip's entries, in archive order (empty for binary outputs).
    pub entries: Vec<ZipEntryReport>,
    /// built, fresh or failed.
    pub status: Status,
    /// Seconds from the start of its group's build to its output being written.
    pub seconds: f64,
    /// Why it failed.
    pub error: Option<String>,
}

/// One entry of a zip.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct ZipEntryReport {
    /// Path inside the archive.
    pub name: String,
    /// Unix mode, e.g. 0o755 (as a number).
    pub mode: u32,
    /// Uncompressed size.
    pub size: u64,
}

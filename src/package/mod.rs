//! Packaging one artifact once its executable exists: ELF check, then the output of SPEC §2
//! (binary copy or zip), written atomically, skipped when its inputs have not changed.
//!
//! Safe to call from many threads at once for different artifacts: each writes only its own
//! outputs (the plan rejects collisions) and its own stamp.

mod binary;
mod cancel;
mod elf;
mod error;
mod hash;
mod inputs;
mod prepared;
mod stamp;
mod zip;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use camino::{Utf8Path, Utf8PathBuf};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use error::PackageError;

use crate::fingerprint::hex;
use crate::manifest::settings::OutputFormat;
use crate::plan::PlannedArtifact;
use cancel::Cancel;
use inputs::Inputs;
use stamp::{Stamp, StampFile};

/// Settings that are the same for every artifact of a run.
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// `SOURCE_DATE_EPOCH`: the timestamp of every zip entry (default: 1980-01-01 00:00:00).
    pub source_date_epoch: Option<i64>,
    /// Set by the executor to stop packaging early (`PackageError::Cancelled`, nothing written).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Every file some artifact of the run writes: a file an artifact wrote last time and no
    /// longer does is removed, unless it is one of these.
    pub planned_files: Arc<BTreeSet<Utf8PathBuf>>,
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
    /// Something that went wrong after the output was in place (its freshness record could
    /// not be written): the output is good, the next run packages it again.
    pub warning: Option<String>,
}

/// Packages `artifact` from the executable cargo produced at `executable`.
pub fn package(
    artifact: &PlannedArtifact,
    executable: &Utf8Path,
    options: &PackageOptions,
) -> Result<Packaged, PackageError> {
    let cancel = Cancel::new(options.cancel.as_deref(), &artifact.resolved.identity.name);
    cancel.check()?;
    let exe = std::fs::read(executable)
        .map_err(PackageError::io("reading the executable", executable))?;
    elf::check(
        &exe,
        executable,
        &artifact.resolved,
        &artifact.executable_entry,
    )?;

    let inputs = Inputs::gather(artifact, exe, &cancel)?;
    let format = artifact.resolved.packaging.output_format;
    let time = zip::dos_time(options.source_date_epoch);
    let zip_time = (format == OutputFormat::Zip).then(|| (time.datepart(), time.timepart()));
    let digest = inputs.digest(artifact, format.as_str(), zip_time);
    let entries = match format {
        OutputFormat::Zip => inputs.report(),
        OutputFormat::Binary => Vec::new(),
    };

    let stamp_path = &artifact.stamp;
    if let Some(stamp) = Stamp::load(stamp_path) {
        if let Some((size, sha256)) = stamp.fresh(&artifact.output, &digest, &cancel)? {
            return Ok(Packaged {
                output: artifact.output.clone(),
                fresh: true,
                size,
                sha256,
                entries,
                warning: None,
            });
        }
    }

    cancel.check()?;
    let prepared = match format {
        OutputFormat::Zip => vec![zip::prepare(&artifact.output, &inputs, time, &cancel)?],
        OutputFormat::Binary => binary::prepare(artifact, &inputs, &cancel)?,
    };
    // The last moment to stop with nothing replaced; renames are quick and not interrupted.
    cancel.check()?;
    let files: Vec<StampFile> = prepared
        .iter()
        .map(|p| StampFile {
            path: p.file.dest().to_path_buf(),
            sha256: hex(&p.sha256),
            size: p.size,
            mode: p.mode,
        })
        .collect();
    let previous = Stamp::written_files(stamp_path, &artifact.output);
    let Some((size, sha256)) = prepared.first().map(|p| (p.size, p.sha256)) else {
        // Both writers return the main output first; this only guards against a future mistake.
        return Err(PackageError::Io {
            action: "packaging",
            path: artifact.output.clone(),
            source: std::io::Error::other("no output was written"),
        });
    };
    for p in prepared {
        p.file.commit(p.mode)?;
    }
    remove_stale(artifact, &previous, &files, &options.planned_files);
    // The output is in place: failing to record it (a full disk) costs only a repackaging.
    let warning = Stamp {
        output: artifact.output.clone(),
        inputs: digest,
        files,
    }
    .save(stamp_path)
    .err()
    .map(|e| {
        // A stamp half-written is none: make sure no older one vouches for the new output.
        let _ = std::fs::remove_file(stamp_path);
        format!(
            "`{}` was written, but not its freshness record: {e}; the next run packages it again",
            artifact.output
        )
    });
    Ok(Packaged {
        output: artifact.output.clone(),
        fresh: false,
        size,
        sha256,
        entries,
        warning,
    })
}

/// Checks the executable at `executable` as packaging would (an ELF for the artifact's machine
/// needing no newer glibc than its runtime's), without writing anything: for an executable
/// that comes from the artifact cache, before it is trusted.
pub fn check_executable(
    artifact: &PlannedArtifact,
    executable: &Utf8Path,
) -> Result<(), PackageError> {
    let exe = std::fs::read(executable)
        .map_err(PackageError::io("reading the executable", executable))?;
    elf::check(
        &exe,
        executable,
        &artifact.resolved,
        &artifact.executable_entry,
    )
}

/// Removes what the previous packaging of `artifact` wrote and this one did not (an include
/// that no longer matches, or was dropped from the manifest), unless another artifact of the run
/// writes it, and the directories that leaves empty, up to the output's own directory.
fn remove_stale(
    artifact: &PlannedArtifact,
    previous: &[Utf8PathBuf],
    written: &[StampFile],
    planned: &BTreeSet<Utf8PathBuf>,
) {
    let Some(base) = artifact.output.parent() else {
        return;
    };
    for old in previous {
        if written.iter().any(|f| f.path == *old)
            || planned.contains(old)
            || !old.starts_with(base)
            || !old.is_file()
        {
            continue;
        }
        if std::fs::remove_file(old).is_err() {
            continue;
        }
        let mut dir = old.parent();
        while let Some(d) = dir {
            // Only an empty directory is removed; anything else stops the climb.
            if d == base || !d.starts_with(base) || std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
}

/// The size and SHA-256 (hex) of `artifact`'s output as its last packaging recorded them,
/// without reading the output: a guess at what the next run finds fresh (`publish` asks the
/// bucket for those keys while the run checks its outputs).
pub fn last_packaged(artifact: &PlannedArtifact) -> Option<(u64, String)> {
    stamp::Stamp::recorded(&artifact.stamp, &artifact.output)
}

/// Every directory where packaging `artifact` may leave a temporary file: pass each to
/// `atomic::remove_own_temp_files` after a Ctrl-C.
pub fn temp_dirs(artifact: &PlannedArtifact) -> Vec<Utf8PathBuf> {
    let mut dirs: BTreeSet<Utf8PathBuf> = artifact
        .files
        .iter()
        .filter_map(|f| f.parent().map(Utf8Path::to_path_buf))
        .collect();
    if let Some(stamps) = artifact.stamp.parent() {
        dirs.insert(stamps.to_path_buf());
    }
    dirs.into_iter().collect()
}

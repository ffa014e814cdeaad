//! Filling the JSON report of `run --report FILE` from a run's outcome, and writing it.

use std::io::Write;

use base64::Engine;
use camino::Utf8Path;

use crate::atomic::AtomicFile;
use crate::execute::{ArtifactOutcome, RunOutcome};
use crate::fingerprint::hex;
use crate::plan::Plan;
use crate::report::json::{ArtifactReport, Report};
use crate::report::summary::status;

/// The report of one run.
pub fn build(plan: &Plan, outcome: &RunOutcome) -> Report {
    let artifacts = plan
        .artifacts
        .iter()
        .zip(&outcome.artifacts)
        .map(|(a, o)| {
            let r = &a.resolved;
            let (size, sha256, sha256_base64, entries, seconds, error) = match o {
                ArtifactOutcome::Packaged { packaged, elapsed } => (
                    Some(packaged.size),
                    Some(hex(&packaged.sha256)),
                    Some(base64::engine::general_purpose::STANDARD.encode(packaged.sha256)),
                    packaged.entries.clone(),
                    elapsed.as_secs_f64(),
                    None,
                ),
                ArtifactOutcome::Failed { error, elapsed, .. } => (
                    None,
                    None,
                    None,
                    Vec::new(),
                    elapsed.as_secs_f64(),
                    Some(error.clone()),
                ),
            };
            ArtifactReport {
                name: r.name.clone(),
                kind: r.kind,
                workspace: r.workspace.clone(),
                package: r.package.clone(),
                bin: r.bin.clone(),
                target: r.target.clone(),
                arch: r.arch,
                profile: r.profile.clone(),
                compiler: r.compiler,
                output_format: r.output_format,
                output: a.output.to_string(),
                size,
                sha256,
                sha256_base64,
                entries,
                status: status(o),
                seconds,
                error,
            }
        })
        .collect();
    Report {
        manifest: plan.manifest.to_string(),
        success: outcome.success(),
        seconds: outcome.elapsed.as_secs_f64(),
        artifacts,
    }
}

/// Writes `report` to `path` atomically (a temporary file beside it, then a rename), so a
/// reader never sees half a report.
pub fn write(path: &Utf8Path, report: &Report) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    text.push(b'\n');
    let mut file = AtomicFile::create(path)?;
    file.file().write_all(&text)?;
    file.sync()?;
    // A report is meant to be read by other tools and users.
    Ok(file.commit(0o644)?)
}

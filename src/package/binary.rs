//! The binary output (SPEC §2): the executable at its place under the artifact's root, and each
//! include copied to `<root>/<archive path>`.

use std::fs::File;

use camino::Utf8PathBuf;

use super::PackageError;
use super::cancel::Cancel;
use super::hash::copy_hashing;
use super::inputs::{Inputs, Source, root_of};
use super::prepared::Prepared;
use crate::atomic::AtomicFile;
use crate::plan::PlannedArtifact;

/// Writes every file to a temporary sibling, the executable (the main output) first, so that
/// nothing replaces an existing output until all of them are written.
pub(crate) fn prepare(
    artifact: &PlannedArtifact,
    inputs: &Inputs,
    cancel: &Cancel,
) -> Result<Vec<Prepared>, PackageError> {
    let Some(root) = root_of(artifact) else {
        return Err(PackageError::Io {
            action: "finding the artifact's directory for",
            path: artifact.output.clone(),
            source: std::io::Error::other(format!(
                "the path does not end in `{}`",
                artifact.executable_entry
            )),
        });
    };
    let mut prepared = Vec::with_capacity(inputs.entries.len());
    let mut executable = None;
    for entry in &inputs.entries {
        cancel.check()?;
        let dest: Utf8PathBuf = match entry.source {
            Source::Executable => artifact.output.clone(),
            Source::File(_) => root.join(&entry.name),
        };
        let mut out = AtomicFile::create(&dest)?;
        let (sha256, size) = match &entry.source {
            Source::Executable => {
                copy_hashing(&inputs.executable[..], &dest, out.file(), &dest, cancel)?
            }
            Source::File(path) => {
                let f = File::open(path).map_err(PackageError::io("reading include", path))?;
                copy_hashing(f, path, out.file(), &dest, cancel)?
            }
        };
        if (sha256, size) != (entry.sha256, entry.size) {
            let path = match &entry.source {
                Source::File(p) => p.clone(),
                Source::Executable => dest,
            };
            return Err(PackageError::InputChanged { path });
        }
        let p = Prepared {
            file: out.close(),
            mode: entry.mode,
            sha256,
            size,
        };
        match entry.source {
            Source::Executable => executable = Some(p),
            Source::File(_) => prepared.push(p),
        }
    }
    match executable {
        Some(exe) => prepared.insert(0, exe),
        // `Inputs::gather` always lists the executable.
        None => {
            return Err(PackageError::Io {
                action: "packaging",
                path: artifact.output.clone(),
                source: std::io::Error::other("no executable among the entries"),
            });
        }
    }
    Ok(prepared)
}

//! What an artifact's output is made of: the executable and each include, with the mode and
//! digest they are packaged with, and one digest over all of it for the freshness check.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};

use super::PackageError;
use super::ZipEntryReport;
use super::cancel::Cancel;
use super::hash::sha256_file;
use crate::fingerprint::{hex, sha256};
use crate::plan::PlannedArtifact;

/// Mode of executables, and of includes executable on disk.
pub(crate) const EXECUTABLE_MODE: u32 = 0o755;
/// Mode of every other file.
pub(crate) const FILE_MODE: u32 = 0o644;

/// Where an entry's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The executable, held in [`Inputs::executable`].
    Executable,
    /// An include file on disk.
    File(Utf8PathBuf),
}

/// One file of the artifact.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Its path inside the artifact (`bootstrap`, `config/a.toml`).
    pub name: String,
    /// Where its bytes come from.
    pub source: Source,
    /// 0o755 or 0o644.
    pub mode: u32,
    /// Its length.
    pub size: u64,
    /// SHA-256 of its bytes when they were read for the digest.
    pub sha256: [u8; 32],
}

/// Everything the output is made of.
#[derive(Debug)]
pub(crate) struct Inputs {
    /// The executable's bytes (already read for the ELF check).
    pub executable: Vec<u8>,
    /// Every entry, sorted by name (bytewise), the executable among them.
    pub entries: Vec<Entry>,
}

impl Inputs {
    /// Hashes every include of `artifact` and sorts the entries.
    pub(crate) fn gather(
        artifact: &PlannedArtifact,
        executable: Vec<u8>,
        cancel: &Cancel,
    ) -> Result<Self, PackageError> {
        let mut entries = vec![Entry {
            name: artifact.executable_entry.clone(),
            source: Source::Executable,
            mode: EXECUTABLE_MODE,
            size: executable.len() as u64,
            sha256: sha256(&executable),
        }];
        for inc in &artifact.resolved.inputs.includes {
            cancel.check()?;
            let meta = fs::metadata(&inc.source)
                .map_err(PackageError::io("reading include", &inc.source))?;
            if !meta.is_file() {
                return Err(PackageError::Io {
                    action: "reading include",
                    path: inc.source.clone(),
                    source: std::io::Error::other("not a regular file"),
                });
            }
            let (sha, size) = sha256_file(&inc.source, cancel)?;
            entries.push(Entry {
                name: inc.archive_path.clone(),
                source: Source::File(inc.source.clone()),
                mode: mode_of(meta.permissions().mode()),
                size,
                sha256: sha,
            });
        }
        // String order is byte order: the same on every machine and locale.
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Inputs {
            executable,
            entries,
        })
    }

    /// One digest over everything that decides the output's bytes and place. `format` is the
    /// output's kind, in the manifest's word; `zip_time` is the DOS timestamp of a zip's entries
    /// (None for binary outputs, which carry no timestamp).
    pub(crate) fn digest(
        &self,
        artifact: &PlannedArtifact,
        format: &str,
        zip_time: Option<(u16, u16)>,
    ) -> String {
        let entries: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|e| serde_json::json!([e.name, e.mode, e.size, hex(&e.sha256)]))
            .collect();
        let description = serde_json::json!({
            // A new lambda-batch may lay out zips differently: repackage after an upgrade.
            "lambda-batch": env!("CARGO_PKG_VERSION"),
            "format": format,
            "output": artifact.output,
            "files": artifact.files,
            "zip-time": zip_time,
            "entries": entries,
        });
        hex(&sha256(description.to_string().as_bytes()))
    }

    /// The entries as the report lists them, in archive order.
    pub(crate) fn report(&self) -> Vec<ZipEntryReport> {
        self.entries
            .iter()
            .map(|e| ZipEntryReport {
                name: e.name.clone(),
                mode: e.mode,
                size: e.size,
            })
            .collect()
    }
}

/// Any execute bit on disk makes an include executable in the artifact.
fn mode_of(disk_mode: u32) -> u32 {
    if disk_mode & 0o111 != 0 {
        EXECUTABLE_MODE
    } else {
        FILE_MODE
    }
}

/// The place an include's copy goes for binary outputs: `root` is where the executable's entry
/// is laid out from.
pub(crate) fn root_of(artifact: &PlannedArtifact) -> Option<&Utf8Path> {
    let depth = Utf8Path::new(&artifact.executable_entry)
        .components()
        .count();
    artifact.output.ancestors().nth(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_follow_the_execute_bit() {
        assert_eq!(mode_of(0o100644), 0o644);
        assert_eq!(mode_of(0o100600), 0o644);
        assert_eq!(mode_of(0o100744), 0o755);
        assert_eq!(mode_of(0o100701), 0o755);
    }
}

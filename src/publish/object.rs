//! What an output publishes, and under which key.

use camino::Utf8PathBuf;

use crate::manifest::PublishLocation;
use crate::manifest::values::Arch;
use crate::plan::Plan;
use crate::report::{ArtifactReport, Status};

/// A local file to put at a content-addressed key, with what the report says it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishFile {
    /// The file.
    pub path: Utf8PathBuf,
    /// The object key (as stored: object_store percent-encodes characters S3 keys should not
    /// hold, such as `{` or `#`).
    pub key: String,
    /// Its size in bytes, as the report says.
    pub size: u64,
    /// Its SHA-256, hex, as the report says.
    pub sha256: String,
}

/// The key of a zip: `PREFIX/<name>/<arch>/<sha256 hex>.zip`.
pub fn zip_key(location: &PublishLocation, name: &str, arch: Arch, sha256: &str) -> String {
    let mut parts: Vec<&str> = location
        .prefix
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let file = format!("{sha256}.zip");
    parts.extend([name, arch.as_str(), &file]);
    object_store::path::Path::from_iter(parts).to_string()
}

/// What publishing `artifact` puts at `location`: its zip, when it has one that was built
/// (`None` otherwise: a binary output, a failed one). The zip is the artifact's `published`
/// object; files that belong beside it (an SBOM of the executable, `<sha256>.cdx.json`) are
/// added to this list with keys of their own and go up with it.
pub fn files_of(location: &PublishLocation, artifact: &ArtifactReport) -> Option<Vec<PublishFile>> {
    if !artifact.is_zip() || artifact.status == Status::Failed {
        return None;
    }
    let (Some(size), Some(sha256)) = (artifact.size, artifact.sha256.as_ref()) else {
        return None;
    };
    let zip = zip_key(location, &artifact.name, artifact.arch, sha256);
    let mut files = Vec::new();
    if let Some(sbom) = &artifact.sbom {
        // Beside its zip: the zip's key with the SBOM's suffix instead of `.zip`.
        let key = zip.strip_suffix(".zip").unwrap_or(&zip);
        files.push(PublishFile {
            path: Utf8PathBuf::from(&sbom.path),
            key: format!("{key}{}", crate::sbom::CYCLONEDX_SUFFIX),
            size: sbom.size,
            sha256: sbom.sha256.clone(),
        });
    }
    files.insert(
        0,
        PublishFile {
            path: Utf8PathBuf::from(&artifact.output),
            key: zip,
            size,
            sha256: sha256.clone(),
        },
    );
    Some(files)
}

/// The files the zips of `plan` most likely are, from what their last packaging recorded (see
/// `crate::package::last_packaged`): their keys can be asked for while the run checks that
/// the outputs are still fresh. A guess only: what the run reports decides what is published.
pub fn likely_files(location: &PublishLocation, plan: &Plan) -> Vec<PublishFile> {
    plan.artifacts
        .iter()
        .filter(|a| a.is_zip())
        .filter_map(|a| {
            let (size, sha256) = crate::package::last_packaged(a)?;
            Some(PublishFile {
                path: a.output.clone(),
                key: zip_key(
                    location,
                    &a.resolved.identity.name,
                    a.resolved.build.arch,
                    &sha256,
                ),
                size,
                sha256,
            })
        })
        .collect()
}

//! Stage 1: `lambda.kdl` text → a typed, spanned [`Manifest`]. Knows nothing about cargo.

mod cache_location;
mod check;
mod declare;
mod decode;
pub mod kinds;
pub mod limits;
mod model;
mod nodes;
mod publish_location;
mod raw;
pub mod settings;
pub mod spec;
pub mod values;

use camino::{Utf8Path, Utf8PathBuf};

pub use cache_location::{CacheLocation, InvalidCacheUrl};
pub use check::{check_relative, has_wildcard};
pub use decode::parse_partial;
pub use kinds::IncludeDecl;
pub use model::{ArtifactDecl, Manifest, WorkspaceDecl};
pub use publish_location::{InvalidPublishUrl, PublishLocation};
pub use settings::{Layer, Merged, SettingsModel};
pub use values::Spanned;

use crate::diagnostic::{ErrorCode, ManifestError, ManifestErrors};

/// A KDL 1.0 string literal holding `s`, as the kdl crate writes it.
pub fn kdl_string(s: &str) -> String {
    kdl_v1::KdlValue::String(s.to_string()).to_string()
}

/// The manifest's file name, searched upward from the current directory.
pub const FILE_NAME: &str = "lambda.kdl";

/// Finds the manifest: the given path, or `lambda.kdl` in the current directory or an ancestor.
pub fn locate(given: Option<&Utf8Path>) -> Result<Utf8PathBuf, ManifestError> {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .ok_or_else(|| {
            ManifestError::unlabelled(
                ErrorCode::Io,
                "the current directory is not a readable UTF-8 path",
            )
        })?;
    if let Some(given) = given {
        let path = cwd.join(given);
        return if path.is_file() {
            Ok(normalize(&path))
        } else {
            Err(ManifestError::unlabelled(ErrorCode::Io, format!("no manifest at `{given}`"))
                .with_help("give the path of a lambda.kdl file, or run `lambda-batch init` to write one"))
        };
    }
    let mut dir = Some(cwd.as_path());
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent();
    }
    Err(ManifestError::unlabelled(
        ErrorCode::Io,
        format!("could not find `{FILE_NAME}` in `{cwd}` or any parent directory"),
    )
    .with_help("run `lambda-batch init` to write one, or pass the manifest's path"))
}

/// Reads the manifest at `path` and decodes as much of it as possible (see [`decode::parse_partial`]).
pub fn load_partial(
    path: &Utf8Path,
) -> Result<
    (
        Option<Manifest>,
        Vec<ManifestError>,
        crate::diagnostic::Source,
    ),
    ManifestErrors,
> {
    let text = limits::read(path)?;
    Ok(decode::parse_partial(path, &text))
}

/// Decodes manifest text as if it were the file at `path` (used by the editing commands).
pub fn parse(path: &Utf8Path, text: &str) -> Result<Manifest, ManifestErrors> {
    decode::parse(path, text)
}

/// Removes `.` components and folds `..` lexically, so that paths print cleanly.
pub fn normalize(path: &Utf8Path) -> Utf8PathBuf {
    let mut out = Utf8PathBuf::new();
    for c in path.components() {
        match c {
            camino::Utf8Component::CurDir => {}
            camino::Utf8Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_str()),
        }
    }
    out
}

/// `to` relative to `from` (both absolute): `a/b`, `.`, or `../c`.
pub fn relative(from: &Utf8Path, to: &Utf8Path) -> Utf8PathBuf {
    let from: Vec<camino::Utf8Component<'_>> = from.components().collect();
    let to_parts: Vec<camino::Utf8Component<'_>> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = Utf8PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to_parts[common..] {
        out.push(c.as_str());
    }
    if out.as_str().is_empty() {
        Utf8PathBuf::from(".")
    } else {
        out
    }
}

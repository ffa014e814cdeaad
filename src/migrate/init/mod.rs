//! `init`: a first `lambda.kdl` for the cargo workspaces under a directory, one node per Lambda
//! bin found, with cargo-lambda's configuration carried over, so that `lambda-batch check`
//! accepts it as written.

pub mod render;
pub mod scan;

use camino::{Utf8Path, Utf8PathBuf};

use super::translate::{self, ArtifactIn, Translation, WorkspaceIn};
use crate::edit::EditError;
use crate::edit::write::already_there;
use crate::manifest::FILE_NAME;

/// The manifest `init` would write.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Where it goes (absolute).
    pub path: Utf8PathBuf,
    /// Its text.
    pub text: String,
    /// What the scan found and skipped.
    pub scan: scan::Scan,
    /// What was carried over from cargo-lambda's configuration.
    pub translation: Translation,
}

/// Scans `root` and drafts the manifest for `path` (default: `root/lambda.kdl`), reading
/// cargo-lambda's configuration with `context`; refuses when a manifest is already there or
/// nothing was found.
pub fn draft(
    root: &Utf8Path,
    path: Option<&Utf8Path>,
    context: Option<&str>,
) -> Result<Draft, EditError> {
    let mut target = match path {
        Some(p) => crate::manifest::normalize(&root.join(p)),
        None => root.join(FILE_NAME),
    };
    if target.is_dir() {
        target.push(FILE_NAME);
    }
    if target.exists() {
        return Err(already_there(&target));
    }
    let scan = scan::scan(root, context);
    if scan.found.is_empty() {
        return Err(nothing_found(root, &scan));
    }
    let dir = target
        .parent()
        .map(Utf8Path::to_path_buf)
        .unwrap_or_else(|| root.to_path_buf());
    let inputs: Vec<WorkspaceIn> = scan
        .found
        .iter()
        .map(|f| WorkspaceIn {
            dir: f.dir.clone(),
            config: f.config.clone(),
            artifacts: f
                .bins
                .iter()
                .map(|b| ArtifactIn {
                    package: b.package.clone(),
                    package_dir: b.package_dir.clone(),
                    bin: b.bin.clone(),
                    kind: b.kind,
                    features: b.features.clone(),
                })
                .collect(),
        })
        .collect();
    let translation = translate::translate(&inputs, &dir);
    let text = render::render(&scan.found, &dir, &translation);
    Ok(Draft {
        path: target,
        text,
        scan,
        translation,
    })
}

/// The error for a tree without Lambda bins, saying what was looked at and for what.
fn nothing_found(root: &Utf8Path, scan: &scan::Scan) -> EditError {
    let looked = if scan.read.is_empty() {
        "there is no Cargo.toml below it (target/ and hidden directories are skipped)".to_string()
    } else {
        let mut names: Vec<String> = scan
            .read
            .iter()
            .map(|d| {
                d.strip_prefix(root)
                    .ok()
                    .filter(|r| !r.as_str().is_empty())
                    .map_or_else(|| ".".to_string(), |r| r.to_string())
            })
            .collect();
        names.sort();
        format!("it read {}", names.join(", "))
    };
    EditError::Init {
        message: format!("found no Lambda function or extension under `{root}`"),
        help: format!(
            "init looks for the bins of packages that depend on {} (functions) or {} (extensions), or that cargo-lambda's configuration names ([package.metadata.lambda], [workspace.metadata.lambda.bin.NAME]); {looked}",
            crate::resolve::FUNCTION_CRATES.join(" or "),
            crate::resolve::EXTENSION_CRATES.join(" or "),
        ),
    }
}

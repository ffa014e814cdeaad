//! The typed manifest: every value checked and every item spanned, nothing about cargo yet.

use camino::Utf8PathBuf;
use miette::SourceSpan;

use super::cache_location::CacheLocation;
use super::publish_location::PublishLocation;
use super::settings::Layer;
use super::values::{ArtifactKind, Spanned};
use crate::diagnostic::Source;

/// A decoded and checked `lambda.kdl`.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file (absolute).
    pub path: Utf8PathBuf,
    /// The directory relative paths in it are resolved against.
    pub dir: Utf8PathBuf,
    /// The text, for diagnostics.
    pub source: Source,
    /// The `defaults` node (empty when absent).
    pub defaults: Layer,
    /// The top-level `cache "URL"` node: where the shared artifact cache is, unless
    /// `run --cache` or `LAMBDA_BATCH_CACHE` says otherwise (checked; a relative directory is
    /// taken from the manifest's directory).
    pub cache: Option<Spanned<CacheLocation>>,
    /// The top-level `publish "s3://bucket/prefix"` node: where `publish` uploads the zips,
    /// unless `publish --to` says otherwise.
    pub publish: Option<Spanned<PublishLocation>>,
    /// The `workspace` nodes, in file order.
    pub workspaces: Vec<WorkspaceDecl>,
}

/// A `workspace` node.
#[derive(Debug, Clone)]
pub struct WorkspaceDecl {
    /// The path as written, relative to the manifest.
    pub path: Spanned<String>,
    /// `discover=true`, with its span.
    pub discover: Option<Spanned<bool>>,
    /// The settings written on the workspace.
    pub layer: Layer,
    /// Its `function` and `extension` nodes, in file order.
    pub artifacts: Vec<ArtifactDecl>,
    /// The whole node.
    pub span: SourceSpan,
}

/// A `function` or `extension` node.
#[derive(Debug, Clone)]
pub struct ArtifactDecl {
    /// Which of the two.
    pub kind: ArtifactKind,
    /// The artifact name (output folder).
    pub name: Spanned<String>,
    /// `bin=`.
    pub bin: Option<Spanned<String>>,
    /// `package=`.
    pub package: Option<Spanned<String>>,
    /// `flatten=true` (functions only).
    pub flatten: bool,
    /// `internal=true` (extensions only).
    pub internal: bool,
    /// The settings written on the artifact.
    pub layer: Layer,
    /// The whole node.
    pub span: SourceSpan,
}

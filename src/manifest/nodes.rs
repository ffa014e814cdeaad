//! The structural nodes of `lambda.kdl` (the document, `defaults`, `workspace`, `function` and
//! `extension`) as knus decodes them, and their checks. Each node that holds settings flattens
//! one `RawSettings`, generated from the declarations in `super::settings`.

use camino::Utf8Path;
use knus::span::Span;

use super::cache_location::CacheLocation;
use super::check::{Checker, span, spanned};
use super::model::{ArtifactDecl, WorkspaceDecl};
use super::publish_location::PublishLocation;
use super::raw::{RawString, Sp};
use super::settings::RawSettings;
use super::values::{ArtifactKind, Spanned};
use crate::diagnostic::{ErrorCode, ManifestError};

/// The whole `lambda.kdl`.
#[derive(knus::Decode, Debug, Default)]
#[knus(span_type = Span)]
pub(super) struct RawDocument {
    #[knus(child)]
    pub defaults: Option<RawDefaults>,
    #[knus(child)]
    pub cache: Option<RawString>,
    #[knus(child)]
    pub publish: Option<RawString>,
    #[knus(children(name = "workspace"))]
    pub workspaces: Vec<RawWorkspace>,
}

/// `defaults { ... }`.
#[derive(knus::Decode, Debug, Default)]
#[knus(span_type = Span)]
pub(super) struct RawDefaults {
    #[knus(flatten(child))]
    pub settings: RawSettings,
}

/// `workspace "path" discover=true { ... }`.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub(super) struct RawWorkspace {
    #[knus(span)]
    pub span: Span,
    #[knus(argument)]
    pub path: Sp<String>,
    #[knus(property)]
    pub discover: Option<Sp<bool>>,
    #[knus(children(name = "function"))]
    pub functions: Vec<RawArtifact>,
    #[knus(children(name = "extension"))]
    pub extensions: Vec<RawArtifact>,
    #[knus(flatten(child))]
    pub settings: RawSettings,
}

/// `function "name" ...` or `extension "name" ...`: both accept every property so that a
/// misplaced one (`internal=` on a function) gets a precise error instead of "unexpected".
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub(super) struct RawArtifact {
    #[knus(span)]
    pub span: Span,
    #[knus(argument)]
    pub name: Sp<String>,
    #[knus(property)]
    pub bin: Option<Sp<String>>,
    #[knus(property)]
    pub package: Option<Sp<String>>,
    #[knus(property)]
    pub flatten: Option<Sp<bool>>,
    #[knus(property)]
    pub internal: Option<Sp<bool>>,
    #[knus(flatten(child))]
    pub settings: RawSettings,
}

impl Checker {
    pub(super) fn workspace(&mut self, w: &RawWorkspace) -> WorkspaceDecl {
        let path = spanned(&w.path);
        self.non_empty(
            &path,
            "workspace path",
            "write the directory of a Cargo.toml, relative to lambda.kdl",
        );
        let mut artifacts = Vec::new();
        for (kind, nodes) in [
            (ArtifactKind::Function, &w.functions),
            (ArtifactKind::Extension, &w.extensions),
        ] {
            artifacts.extend(nodes.iter().map(|a| self.artifact(kind, a)));
        }
        artifacts.sort_by_key(|a: &ArtifactDecl| a.span.offset());
        WorkspaceDecl {
            path,
            discover: w.discover.as_ref().map(spanned),
            layer: self.layer(&w.settings),
            artifacts,
            span: span(&w.span),
        }
    }

    fn artifact(&mut self, kind: ArtifactKind, a: &RawArtifact) -> ArtifactDecl {
        let name = spanned(&a.name);
        self.non_empty(
            &name,
            "artifact name",
            "the name is the output folder's name",
        );
        if name.value.contains(['/', '\\']) || name.value == "." || name.value == ".." {
            self.bad(
                format!("artifact name `{}` is not a plain folder name", name.value),
                name.span,
                "not a folder name",
                "the name becomes a folder (or file) under lambda-dir: use letters, digits, `-` and `_`",
            );
        }
        for v in [&a.bin, &a.package].into_iter().flatten() {
            self.non_empty(
                &spanned(v),
                "value",
                "write the name of a cargo target or package",
            );
        }
        if let (ArtifactKind::Function, Some(internal)) = (kind, &a.internal) {
            self.errors.push(
                ManifestError::new(
                    ErrorCode::InternalOnFunction,
                    "`internal=` is only for extensions",
                    span(internal.span()),
                    "on a function",
                )
                .with_help("remove `internal=`, or declare this artifact with `extension` if it is an extension"),
            );
        }
        if let (ArtifactKind::Extension, Some(flatten)) = (kind, &a.flatten) {
            self.errors.push(
                ManifestError::new(
                    ErrorCode::FlattenOnExtension,
                    "`flatten=` is only for functions",
                    span(flatten.span()),
                    "on an extension",
                )
                .with_help("remove `flatten=`: an extension is always written under `extensions/`"),
            );
        }
        ArtifactDecl {
            kind,
            name,
            bin: a.bin.as_ref().map(spanned),
            package: a.package.as_ref().map(spanned),
            flatten: kind == ArtifactKind::Function && a.flatten.as_ref().is_some_and(|f| **f),
            internal: kind == ArtifactKind::Extension && a.internal.as_ref().is_some_and(|f| **f),
            layer: self.layer(&a.settings),
            span: span(&a.span),
        }
    }

    /// The top-level `cache "URL"` node: a directory (relative to the manifest's directory
    /// `dir`), a `file://` URL or an `s3://bucket/prefix`.
    pub(crate) fn cache(
        &mut self,
        node: &RawString,
        dir: &Utf8Path,
    ) -> Option<Spanned<CacheLocation>> {
        let v = spanned(&node.value);
        match CacheLocation::parse(&v.value, dir) {
            Ok(location) => Some(Spanned::new(location, v.span)),
            Err(e) => {
                self.errors.push(
                    ManifestError::new(ErrorCode::BadValue, e.to_string(), v.span, "not a cache URL")
                        .with_help("a cache is a directory (relative to lambda.kdl, or absolute), `file:///path`, or `s3://bucket/prefix`"),
                );
                None
            }
        }
    }

    /// The top-level `publish "s3://bucket/prefix"` node.
    pub(crate) fn publish(&mut self, node: &RawString) -> Option<Spanned<PublishLocation>> {
        let v = spanned(&node.value);
        match PublishLocation::parse(&v.value) {
            Ok(location) => Some(Spanned::new(location, v.span)),
            Err(e) => {
                self.errors.push(
                    ManifestError::new(ErrorCode::BadValue, e.to_string(), v.span, "not an S3 destination")
                        .with_help("`publish` takes the bucket and key prefix the zips go to: `publish \"s3://my-bucket/lambda\"`"),
                );
                None
            }
        }
    }
}

//! The values of a decoded manifest checked: the structural nodes here, each setting by its kind
//! (`super::kinds`, called from the generated `Checker::layer`). Every problem is collected with
//! its span and a help line, so that all of a file's problems come out in one run.

use camino::Utf8Path;
use knus::span::Span;
use miette::SourceSpan;

use super::cache_location::CacheLocation;
use super::model::{ArtifactDecl, Spanned, WorkspaceDecl};
use super::publish_location::PublishLocation;
use super::raw::{self, Sp};
use super::values::ArtifactKind;
use crate::diagnostic::{ErrorCode, ManifestError};

/// Converts a knus span into a miette one.
pub(super) fn span(s: &Span) -> SourceSpan {
    SourceSpan::from((s.0, s.1.saturating_sub(s.0)))
}

pub(crate) fn spanned<T: Clone>(v: &Sp<T>) -> Spanned<T> {
    Spanned::new((**v).clone(), span(v.span()))
}

/// Checks decoded values and collects every problem.
#[derive(Default)]
pub struct Checker {
    /// Every problem found so far.
    pub(crate) errors: Vec<ManifestError>,
}

impl Checker {
    /// Reports a bad value at `at`.
    pub(crate) fn bad(
        &mut self,
        message: impl Into<String>,
        at: SourceSpan,
        label: &str,
        help: impl Into<String>,
    ) {
        self.errors
            .push(ManifestError::new(ErrorCode::BadValue, message, at, label).with_help(help));
    }

    pub(super) fn workspace(&mut self, w: &raw::RawWorkspace) -> WorkspaceDecl {
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

    fn artifact(&mut self, kind: ArtifactKind, a: &raw::RawArtifact) -> ArtifactDecl {
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

    /// Reports an empty (or blank) `v`.
    pub(crate) fn non_empty(&mut self, v: &Spanned<String>, what: &str, help: &str) {
        if v.value.trim().is_empty() {
            self.bad(format!("empty {what}"), v.span, "empty", help);
        }
    }

    /// The top-level `cache "URL"` node: a directory (relative to the manifest's directory
    /// `dir`), a `file://` URL or an `s3://bucket/prefix`.
    pub(crate) fn cache(
        &mut self,
        node: &raw::RawString,
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
    pub(crate) fn publish(&mut self, node: &raw::RawString) -> Option<Spanned<PublishLocation>> {
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

/// Whether an include pattern has glob syntax (a literal path has none).
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// Rejects absolute paths and `..` components: an include may not leave its base.
pub fn check_relative(p: &str) -> Result<(), &'static str> {
    let path = Utf8Path::new(p);
    if path.is_absolute() || p.starts_with('/') || p.starts_with('\\') {
        return Err("is an absolute path");
    }
    if p.split(['/', '\\']).any(|c| c == "..") {
        return Err("goes up with `..`");
    }
    Ok(())
}

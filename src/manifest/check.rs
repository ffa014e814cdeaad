//! The checker of a decoded manifest's values: it collects every problem with its span and a
//! help line, so that all of a file's problems come out in one run. The structural nodes are
//! checked in `super::nodes`, each setting by its kind (`super::kinds`).

use camino::Utf8Path;
use knus::span::Span;
use miette::SourceSpan;

use super::raw::Sp;
use super::values::Spanned;
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

    /// Reports an empty (or blank) `v`.
    pub(crate) fn non_empty(&mut self, v: &Spanned<String>, what: &str, help: &str) {
        if v.value.trim().is_empty() {
            self.bad(format!("empty {what}"), v.span, "empty", help);
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

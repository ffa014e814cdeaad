//! The last step of every edit: the new text is validated by exactly what `check` runs
//! ([`pipeline::check_text`]: decode, values, cargo metadata, bins, packages, includes,
//! collisions) and written, atomically, only when valid.

use std::sync::Arc;

use camino::Utf8Path;
use miette::NamedSource;

use super::error::EditError;
use super::write;
use crate::diagnostic::ManifestErrors;
use crate::pipeline;

/// What became of a valid edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The text did not change: nothing was written.
    Unchanged,
    /// The file now holds the new text.
    Written,
}

/// Why an edit was not written.
#[derive(Debug)]
pub enum Refused {
    /// The edited manifest does not pass `check`.
    Invalid {
        /// Its diagnostics, pointing into the edited text (named after the edit).
        errors: ManifestErrors,
        /// The manifest did not pass `check` before the edit either.
        already_invalid: bool,
    },
    /// The file could not be written.
    Io(EditError),
}

/// Validates `edited` as the manifest at `path` (whose text is `original`) and writes it if
/// valid. `edit` names the edit (`lambda-batch set arch sparc`) in the diagnostics.
pub fn apply(
    path: &Utf8Path,
    original: &str,
    edited: &str,
    edit: &str,
) -> Result<Applied, Refused> {
    if let Err(errors) = pipeline::check_text(path, edited) {
        let already_invalid = edited == original || pipeline::check_text(path, original).is_err();
        return Err(Refused::Invalid {
            errors: name_after(errors, path, edited, edit),
            already_invalid,
        });
    }
    if edited == original {
        return Ok(Applied::Unchanged);
    }
    write::replace(path, edited).map_err(Refused::Io)?;
    Ok(Applied::Written)
}

/// Renames the text the diagnostics point into after the edit that produced it, so that each
/// one reads `lambda.kdl after `lambda-batch set arch sparc`:6:10`.
pub fn name_after(
    mut errors: ManifestErrors,
    path: &Utf8Path,
    text: &str,
    edit: &str,
) -> ManifestErrors {
    let file = path.file_name().unwrap_or(crate::manifest::FILE_NAME);
    let source = NamedSource::new(format!("{file} after `{edit}`"), Arc::from(text));
    for e in &mut errors.0 {
        e.source = Some(source.clone());
    }
    errors
}

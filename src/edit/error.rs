//! Why an edit could not be made, before any validation of its result.

use miette::{Diagnostic, LabeledSpan, SourceSpan};
use thiserror::Error;

use crate::diagnostic::Source;

/// An edit refused before its result exists: the text is not KDL, the command line names
/// something the manifest does not have, or a file cannot be read or written.
#[derive(Debug, Error, Diagnostic)]
pub enum EditError {
    /// The manifest is not KDL 1.0 as the kdl crate reads it.
    #[error("{message}")]
    #[diagnostic(code(lambda_batch::syntax), help("{help}"))]
    Syntax {
        /// One line.
        message: String,
        /// What to do.
        help: String,
        /// The manifest text.
        #[source_code]
        manifest: Source,
        /// Where the parser stopped.
        #[label("{label}")]
        span: SourceSpan,
        /// What the parser expected there.
        label: String,
    },
    /// The command line asks for something the manifest language does not have.
    #[error("{message}")]
    #[diagnostic(code(lambda_batch::edit::usage), help("{help}"))]
    Usage {
        /// One line.
        message: String,
        /// What to do.
        help: String,
    },
    /// The edit names a workspace, artifact or setting that is missing, repeated or already there.
    #[error("{message}")]
    #[diagnostic(code(lambda_batch::edit::target), help("{help}"))]
    Target {
        /// One line.
        message: String,
        /// What to do.
        help: String,
        /// The manifest text.
        #[source_code]
        manifest: Source,
        /// The nodes concerned.
        #[label(collection)]
        labels: Vec<LabeledSpan>,
    },
    /// `init` found nothing to write, or will not overwrite.
    #[error("{message}")]
    #[diagnostic(code(lambda_batch::edit::init), help("{help}"))]
    Init {
        /// One line.
        message: String,
        /// What to do.
        help: String,
    },
    /// A file could not be read or written.
    #[error("{message}")]
    #[diagnostic(code(lambda_batch::io), help("{help}"))]
    Io {
        /// One line.
        message: String,
        /// What to do.
        help: String,
    },
    /// lambda-batch produced text it cannot stand behind (a formatter bug); nothing is written.
    #[error("{message}")]
    #[diagnostic(
        code(lambda_batch::edit::internal),
        help(
            "this is a bug in lambda-batch: the file is unchanged; please report it with the manifest"
        )
    )]
    Internal {
        /// One line.
        message: String,
    },
}

impl EditError {
    /// A command-line problem.
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Self {
        EditError::Usage {
            message: message.into(),
            help: help.into(),
        }
    }

    /// A missing, repeated or already present node, labelled in `source`.
    pub fn target(
        message: impl Into<String>,
        help: impl Into<String>,
        source: &Source,
        labels: Vec<LabeledSpan>,
    ) -> Self {
        EditError::Target {
            message: message.into(),
            help: help.into(),
            manifest: source.clone(),
            labels,
        }
    }

    /// An I/O failure on `path`.
    pub fn io(what: &str, path: &camino::Utf8Path, e: &std::io::Error) -> Self {
        EditError::Io {
            message: format!("cannot {what} `{path}`: {e}"),
            help: "check that the path exists and that you may write to its directory".into(),
        }
    }
}

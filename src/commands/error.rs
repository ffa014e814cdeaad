//! Why a command stopped, and the one place that prints it and picks the exit code (just's
//! `Error`, with cargo-nextest's documented codes in [`crate::exit_code`]).
//!
//! Every command returns `Result<ExitCode, Error>`. `Ok` is a command that ran to its end and
//! said what it found itself: a build that failed (the summary says which), tools missing
//! (`doctor`'s table), a file `fmt --check` would change. `Err` is a command that stopped: the
//! error is printed once, by [`Error::report`], and knows its exit code.

use std::io;

use camino::{Utf8Path, Utf8PathBuf};

use crate::cache::install_hint;
use crate::diagnostic::ManifestErrors;
use crate::edit::EditError;
use crate::execute::ExecuteError;
use crate::exit_code::ExitCode;
use crate::report::diagnostics::{print_error, print_errors, render_diagnostic};
use crate::report::output::eprintln;

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// clap's own answer: a usage error, or `--help` and `--version` (exit 0).
    #[error("{0}")]
    Cli(#[from] clap::Error),
    /// A command line that clap cannot judge alone: a flag against the manifest (`--only`
    /// matching nothing), `SOURCE_DATE_EPOCH`, the cache's URL, the `--timings` file.
    #[error("{message}")]
    Usage {
        /// One line.
        message: String,
        /// What to do (none when empty).
        help: String,
    },
    /// The manifest cannot be found, read or does not pass `check`: miette diagnostics with
    /// spans into lambda.kdl.
    #[error("the manifest is invalid")]
    Manifest {
        /// The diagnostics.
        errors: ManifestErrors,
        /// The manifest, to annotate in GitHub Actions; with whether standard output is JSON
        /// (the workflow commands then go to standard error).
        annotate: Option<(Utf8PathBuf, bool)>,
        /// A line after the diagnostics: what was (not) written.
        note: Option<String>,
    },
    /// An edit refused before its result exists (miette, pointing into lambda.kdl).
    #[error(transparent)]
    Edit(#[from] EditError),
    /// `check --deny-warnings` found warnings (printed before this).
    #[error("{manifest}: warnings are denied (--deny-warnings): {count} warning{}", plural(*.count))]
    WarningsDenied {
        /// The manifest, as people read its path.
        manifest: String,
        /// How many.
        count: usize,
    },
    /// cargo is not installed: every command that reads a workspace runs `cargo metadata`.
    #[error("`cargo` is not installed (or not on PATH); it is needed to read the cargo workspaces")]
    CargoMissing,
    /// The executor could not start.
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// Standard output cannot take what the command prints (a full disk; a reader that went
    /// away is not an error).
    #[error("cannot write to stdout: {0}")]
    Stdout(io::Error),
    /// `run`'s summary cannot be written to standard output.
    #[error("cannot write the summary to stdout: {0}")]
    Summary(io::Error),
    /// `run --report FILE` cannot be written.
    #[error("cannot write the report `{path}`: {source}")]
    Report {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        source: io::Error,
    },
    /// `run --timeline FILE` cannot be written.
    #[error("cannot write the timeline `{path}`: {source}")]
    Timeline {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        source: io::Error,
    },
    /// `run --provenance FILE` cannot be written.
    #[error("cannot write the provenance `{path}`: {message}")]
    Provenance {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        message: String,
    },
    /// An output's SBOM cannot be made or written (the output stays).
    #[error("{0}")]
    Sbom(String),
    /// `emit` cannot use its report, or a zip the report names (nothing was written).
    #[error("{}", .0.message)]
    Emit(crate::emit::EmitError),
    /// What `emit -o FILE` writes cannot be written.
    #[error("cannot write the output: {0}")]
    Output(crate::atomic::Error),
    /// `cache stats` or `cache prune` cannot read or change the cache directory.
    #[error("{0}")]
    CacheUpkeep(String),
    /// The command ended with `outcome`, but some of its results could not be written (the
    /// summary, the report): the outputs stay, and a run that had succeeded fails.
    #[error("{} of the results could not be written", .errors.len())]
    Unwritten {
        /// What the command came to before.
        outcome: ExitCode,
        /// What could not be written, in order.
        errors: Vec<Error>,
    },
}

impl Error {
    /// A usage error: `message`, and `help` unless empty.
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            help: help.into(),
        }
    }

    /// Manifest diagnostics, printed as they are.
    pub fn manifest(errors: ManifestErrors) -> Error {
        Error::Manifest {
            errors,
            annotate: None,
            note: None,
        }
    }

    /// The diagnostics of the manifest at `path`; in GitHub Actions also workflow annotations
    /// on its lines (on standard error when standard output is JSON, `json`).
    pub fn manifest_at(errors: ManifestErrors, path: &Utf8Path, json: bool) -> Error {
        Error::Manifest {
            errors,
            annotate: Some((path.to_path_buf(), json)),
            note: None,
        }
    }

    /// Manifest diagnostics, then `note`: an edit that leaves the file as it was.
    pub fn refused(errors: ManifestErrors, note: impl Into<String>) -> Error {
        Error::Manifest {
            errors,
            annotate: None,
            note: Some(note.into()),
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Cli(e) => match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::OK
                }
                _ => ExitCode::INVALID,
            },
            Error::Usage { .. }
            | Error::Manifest { .. }
            | Error::Edit(_)
            | Error::WarningsDenied { .. } => ExitCode::INVALID,
            Error::CargoMissing => ExitCode::MISSING_TOOL,
            Error::Execute(_)
            | Error::Stdout(_)
            | Error::Summary(_)
            | Error::Report { .. }
            | Error::Timeline { .. }
            | Error::Sbom(_)
            | Error::Provenance { .. }
            | Error::Emit(_)
            | Error::CacheUpkeep(_)
            | Error::Output(_) => ExitCode::FAILED,
            Error::Unwritten { outcome, .. } if *outcome != ExitCode::OK => *outcome,
            Error::Unwritten { .. } => ExitCode::FAILED,
        }
    }

    /// What to do about it, when there is something to say.
    fn help(&self) -> &str {
        match self {
            Error::Usage { help, .. } => help,
            Error::CargoMissing => install_hint("cargo"),
            Error::Emit(e) => &e.help,
            Error::Summary(_) => {
                "the outputs were written; the summary is in `--report FILE` if you give one"
            }
            _ => "",
        }
    }

    /// Prints the error to standard error (with colors when `color`), once; returns the exit
    /// code.
    pub fn report(&self, color: bool) -> ExitCode {
        self.print(color);
        self.exit_code()
    }

    fn print(&self, color: bool) {
        match self {
            Error::Cli(e) => {
                let _ = e.print();
            }
            Error::Manifest {
                errors,
                annotate,
                note,
            } => {
                print_errors(errors, color);
                if let Some((path, json)) = annotate {
                    super::annotate(&errors.0, path, *json);
                }
                if let Some(note) = note {
                    eprintln(note);
                }
            }
            Error::Edit(e) => eprintln(&render_diagnostic(e, color)),
            Error::Unwritten { errors, .. } => {
                for e in errors {
                    e.print(color);
                }
            }
            Error::Usage { .. }
            | Error::WarningsDenied { .. }
            | Error::CargoMissing
            | Error::Execute(_)
            | Error::Stdout(_)
            | Error::Summary(_)
            | Error::Report { .. }
            | Error::Timeline { .. }
            | Error::Sbom(_)
            | Error::Provenance { .. }
            | Error::Emit(_)
            | Error::CacheUpkeep(_)
            | Error::Output(_) => print_error(&self.to_string(), self.help(), color),
        }
    }
}

/// `s` unless there is one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;

    fn io() -> io::Error {
        io::Error::other("no space left on device")
    }

    fn report() -> Error {
        Error::Report {
            path: "report.json".into(),
            source: io(),
        }
    }

    #[test]
    fn each_error_exits_with_its_documented_code() {
        let cli = |args: &[&str]| Error::Cli(Cli::parse_args(args).unwrap_err()).exit_code();
        assert_eq!(cli(&["lambda-batch", "--help"]), ExitCode::OK);
        assert_eq!(cli(&["lambda-batch", "--version"]), ExitCode::OK);
        assert_eq!(cli(&["lambda-batch", "run", "-j", "0"]), ExitCode::INVALID);
        assert_eq!(cli(&["lambda-batch"]), ExitCode::INVALID);
        assert_eq!(Error::usage("m", "").exit_code(), ExitCode::INVALID);
        let errors = ManifestErrors(Vec::new());
        assert_eq!(Error::manifest(errors).exit_code(), ExitCode::INVALID);
        let denied = Error::WarningsDenied {
            manifest: "lambda.kdl".into(),
            count: 1,
        };
        assert_eq!(denied.exit_code(), ExitCode::INVALID);
        assert_eq!(Error::CargoMissing.exit_code(), ExitCode::MISSING_TOOL);
        assert_eq!(Error::Stdout(io()).exit_code(), ExitCode::FAILED);
        assert_eq!(Error::Summary(io()).exit_code(), ExitCode::FAILED);
        assert_eq!(report().exit_code(), ExitCode::FAILED);
        let timeline = Error::Timeline {
            path: "timeline.html".into(),
            source: io(),
        };
        assert_eq!(timeline.exit_code(), ExitCode::FAILED);
    }

    #[test]
    fn results_that_cannot_be_written_fail_only_a_run_that_succeeded() {
        let unwritten = |outcome| Error::Unwritten {
            outcome,
            errors: vec![Error::Summary(io()), report()],
        };
        assert_eq!(unwritten(ExitCode::OK).exit_code(), ExitCode::FAILED);
        assert_eq!(unwritten(ExitCode::FAILED).exit_code(), ExitCode::FAILED);
        assert_eq!(
            unwritten(ExitCode::MISSING_TOOL).exit_code(),
            ExitCode::MISSING_TOOL
        );
        let sigterm = ExitCode::signalled(libc::SIGTERM);
        assert_eq!(unwritten(sigterm).exit_code(), sigterm);
    }

    #[test]
    fn usage_errors_name_the_flag_the_value_and_the_problem() {
        let message = |args: &[&str]| Cli::parse_args(args).unwrap_err().to_string();
        let jobs = message(&["lambda-batch", "run", "-j", "1025"]);
        assert!(
            jobs.contains("invalid value '1025' for '--jobs <JOBS>'")
                && jobs.contains("at most 1024"),
            "{jobs}"
        );
        let mode = message(&["lambda-batch", "run", "--cache-mode", "rw"]);
        assert!(
            mode.contains("invalid value 'rw' for '--cache-mode <MODE>'")
                && mode.contains("read-write, read, off"),
            "{mode}"
        );
        let arch = message(&["lambda-batch", "run", "--arch", "sparc"]);
        assert!(
            arch.contains("invalid value 'sparc' for '--arch <ARCH>'") && arch.contains("arm64"),
            "{arch}"
        );
    }
}

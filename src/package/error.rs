//! Why packaging one artifact failed.

use camino::Utf8PathBuf;

impl From<crate::atomic::Error> for PackageError {
    fn from(e: crate::atomic::Error) -> Self {
        PackageError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}

/// Why packaging failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PackageError {
    /// Reading or writing a file failed.
    #[error("{action} `{path}`: {source}")]
    #[diagnostic(
        code(lambda_batch::package::io),
        help("check that the path exists and that lambda-batch may read and write there")
    )]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: Utf8PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// The file cargo reported as the executable is not an ELF file.
    #[error("`{path}` is not an ELF executable: {reason}")]
    #[diagnostic(
        code(lambda_batch::package::not_elf),
        help(
            "Lambda runs Linux ELF executables: build for a `*-unknown-linux-gnu` or `*-unknown-linux-musl` target"
        )
    )]
    NotElf {
        /// The file.
        path: Utf8PathBuf,
        /// What the ELF parser said.
        reason: String,
    },

    /// The executable was built for another machine than the artifact's arch.
    #[error("`{name}`: {entry} is built for {found}, but the artifact's arch is {expected}")]
    #[diagnostic(code(lambda_batch::package::wrong_machine), help("{help}"))]
    WrongMachine {
        /// The artifact.
        name: String,
        /// The executable's path inside the artifact.
        entry: String,
        /// The ELF machine found.
        found: String,
        /// The architecture wanted.
        expected: String,
        /// What to do about it.
        help: String,
    },

    /// The executable needs a glibc newer than the one the Lambda runtime ships.
    #[error("`{name}`: {entry} needs {needed} but {provider} has glibc {max}")]
    #[diagnostic(code(lambda_batch::package::glibc_too_new), help("{help}"))]
    GlibcTooNew {
        /// The artifact.
        name: String,
        /// The executable's path inside the artifact.
        entry: String,
        /// The newest version symbol it needs, e.g. `GLIBC_2.39`.
        needed: String,
        /// Who fixes the maximum: the runtime (`provided.al2023`) or the pinned target.
        provider: String,
        /// The newest glibc available.
        max: String,
        /// What to do about it.
        help: String,
    },

    /// The executable carries cargo-auditable's dependency list when `auditable` is off, or
    /// lacks it when on.
    #[error(
        "`{name}`: {entry} {state} the `.dep-v0` dependency list, against its `auditable` setting"
    )]
    #[diagnostic(code(lambda_batch::package::audit_data), help("{help}"))]
    AuditData {
        /// The artifact.
        name: String,
        /// The executable's path inside the artifact.
        entry: String,
        /// `has` or `lacks`.
        state: &'static str,
        /// What to do about it.
        help: String,
    },

    /// The zip library refused the archive.
    #[error("writing zip `{path}`: {source}")]
    #[diagnostic(
        code(lambda_batch::package::zip),
        help("check the free space and permissions of the output directory")
    )]
    Zip {
        /// The zip being written.
        path: Utf8PathBuf,
        /// What the zip library said.
        source: zip::result::ZipError,
    },

    /// An input changed between being hashed and being packaged.
    #[error("`{path}` changed while it was being packaged")]
    #[diagnostic(
        code(lambda_batch::package::input_changed),
        help("something else is writing to it; run again once it is done")
    )]
    InputChanged {
        /// The file.
        path: Utf8PathBuf,
    },

    /// Packaging stopped because the run was cancelled (Ctrl-C or a failure elsewhere).
    #[error("packaging `{name}` was cancelled")]
    #[diagnostic(
        code(lambda_batch::package::cancelled),
        help("nothing was written; the previous output, if any, is untouched")
    )]
    Cancelled {
        /// The artifact.
        name: String,
    },
}

impl PackageError {
    /// An I/O error with what was being done and on which file.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<Utf8PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> PackageError {
        let path = path.into();
        move |source| PackageError::Io {
            action,
            path,
            source,
        }
    }
}

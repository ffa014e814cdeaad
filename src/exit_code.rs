//! The process exit codes lambda-batch documents (`docs/cli.md`, "Exit codes"), as
//! cargo-nextest documents its own: a command ends with one of these, never with a number
//! chosen where it stops. Which error maps to which code is decided in one place, the
//! commands' `Error::exit_code`.

/// The exit status of a lambda-batch process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExitCode(i32);

impl ExitCode {
    /// Everything worked (and `--help`, `--version`).
    pub const OK: ExitCode = ExitCode(0);
    /// A build or packaging step failed (`run`), `fmt --check` would change the file, or an
    /// output (standard output, the `--report` file) could not be written.
    pub const FAILED: ExitCode = ExitCode(1);
    /// The manifest or the command line is invalid (and `check --deny-warnings` with warnings).
    pub const INVALID: ExitCode = ExitCode(2);
    /// A tool the manifest needs is missing.
    pub const MISSING_TOOL: ExitCode = ExitCode(3);
    /// Interrupted by Ctrl-C: [`ExitCode::signalled`] with SIGINT.
    pub const INTERRUPTED: ExitCode = ExitCode(128 + libc::SIGINT);

    /// Stopped by `signal`: 128 + its number, as shells report it (130 for Ctrl-C, 143 for
    /// SIGTERM).
    pub fn signalled(signal: i32) -> ExitCode {
        ExitCode(128 + signal)
    }

    /// The number the process exits with.
    pub fn code(self) -> i32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::ExitCode;

    #[test]
    fn ctrl_c_is_interrupted() {
        assert_eq!(ExitCode::signalled(libc::SIGINT), ExitCode::INTERRUPTED);
        assert_eq!(ExitCode::INTERRUPTED.code(), 130);
        assert_eq!(ExitCode::signalled(libc::SIGTERM).code(), 143);
    }

    #[test]
    fn the_documented_numbers() {
        let codes = [
            ExitCode::OK,
            ExitCode::FAILED,
            ExitCode::INVALID,
            ExitCode::MISSING_TOOL,
        ];
        assert_eq!(codes.map(ExitCode::code), [0, 1, 2, 3]);
    }
}

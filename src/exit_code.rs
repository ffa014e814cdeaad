//! The process exit codes, as documented in the README (SPEC §4).

/// Everything worked.
pub const OK: i32 = 0;
/// A build or packaging step failed (`run`), or `fmt --check` would change the file.
pub const FAILED: i32 = 1;
/// The manifest or the command line is invalid.
pub const INVALID: i32 = 2;
/// A tool the manifest needs is missing.
pub const MISSING_TOOL: i32 = 3;
/// Interrupted by Ctrl-C: [`signalled`] with SIGINT.
pub const INTERRUPTED: i32 = 130;

/// Stopped by `signal`: 128 + its number, as shells report it (130 for Ctrl-C, 143 for
/// SIGTERM).
pub fn signalled(signal: i32) -> i32 {
    128 + signal
}

#[cfg(test)]
mod tests {
    #[test]
    fn ctrl_c_is_interrupted() {
        assert_eq!(super::signalled(libc::SIGINT), super::INTERRUPTED);
        assert_eq!(super::signalled(libc::SIGTERM), 143);
    }
}

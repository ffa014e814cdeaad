//! An output written to its temporary file and not yet in place.

use crate::atomic::ClosedFile;

/// An output written to its temporary file, with what will be recorded about it.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The temporary file and its destination.
    pub file: ClosedFile,
    /// The mode it gets.
    pub mode: u32,
    /// SHA-256 of its bytes.
    pub sha256: [u8; 32],
    /// Its length.
    pub size: u64,
}

//! The executor's stop flag, checked between the steps and chunks of one packaging.

use std::sync::atomic::{AtomicBool, Ordering};

use super::PackageError;

/// A borrowed cancellation flag and the artifact it stops.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cancel<'a> {
    flag: Option<&'a AtomicBool>,
    name: &'a str,
}

impl<'a> Cancel<'a> {
    /// Watches `flag` (if any) for the artifact `name`.
    pub(crate) fn new(flag: Option<&'a AtomicBool>, name: &'a str) -> Self {
        Cancel { flag, name }
    }

    /// Never cancelled.
    #[cfg(test)]
    pub(crate) fn none(name: &'a str) -> Self {
        Cancel { flag: None, name }
    }

    /// `Err(Cancelled)` once the flag is set.
    pub(crate) fn check(&self) -> Result<(), PackageError> {
        match self.flag {
            // Relaxed is enough: the flag carries no data, and a late observation only costs a chunk.
            Some(f) if f.load(Ordering::Relaxed) => Err(PackageError::Cancelled {
                name: self.name.to_string(),
            }),
            _ => Ok(()),
        }
    }
}

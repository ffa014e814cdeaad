//! Whether the backend still answers: after its first failure it is not asked again during the
//! run, and that failure is reported once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::outcome::{MissReason, SkipReason, Store, StoreFailure};

/// The backend's state for one run, shared by every lookup and store.
#[derive(Debug, Default)]
pub(crate) struct Health {
    reads_down: AtomicBool,
    writes_down: AtomicBool,
    /// A failure that happened before anyone asked (opening the backend), reported by the first
    /// lookup or store.
    unreported: Mutex<Option<String>>,
}

impl Health {
    /// A backend that could not even be opened.
    pub(crate) fn down_from_start(why: String) -> Health {
        Health {
            reads_down: AtomicBool::new(true),
            writes_down: AtomicBool::new(true),
            unreported: Mutex::new(Some(why)),
        }
    }

    /// Whether lookups no longer reach the backend.
    pub(crate) fn reads_down(&self) -> bool {
        self.reads_down.load(Ordering::Acquire)
    }

    /// `Err` when lookups must not reach the backend.
    pub(crate) fn check_read(&self) -> Result<(), MissReason> {
        if !self.reads_down.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(match self.take_unreported() {
            Some(why) => MissReason::Unavailable(why),
            None => MissReason::Down,
        })
    }

    /// `Err` when stores must not reach the backend.
    pub(crate) fn check_write(&self) -> Result<(), Store> {
        if !self.writes_down.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(match self.take_unreported() {
            Some(why) => Store::Failed(StoreFailure::Unavailable(why)),
            None => Store::Skipped(SkipReason::Down),
        })
    }

    /// A lookup failed at the backend: nothing more is asked of it.
    pub(crate) fn read_failed(&self, why: String) -> MissReason {
        self.writes_down.store(true, Ordering::Release);
        if self.reads_down.swap(true, Ordering::AcqRel) {
            MissReason::Down
        } else {
            MissReason::Unavailable(why)
        }
    }

    /// A store failed at the backend: no more stores. Lookups go on only when the backend
    /// answered and refused (read-only credentials): it is reachable, just not writable.
    pub(crate) fn write_failed(&self, why: String, refused: bool) -> Store {
        if !refused {
            self.reads_down.store(true, Ordering::Release);
        }
        if self.writes_down.swap(true, Ordering::AcqRel) {
            Store::Skipped(SkipReason::Down)
        } else {
            Store::Failed(StoreFailure::Unavailable(why))
        }
    }

    fn take_unreported(&self) -> Option<String> {
        self.unreported
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

//! Ctrl-C, SIGTERM (what CI runners and `timeout` send) and SIGHUP (a closed terminal or SSH
//! session): the handler only records the signal; the lanes notice it within one poll
//! interval and stop their cargo children themselves, and the run removes its temporary files
//! and exits 128 + the signal's number.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The signal that interrupted the run, 0 while none has.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    signal: Arc<AtomicI32>,
    /// Set together with `signal`: the form `PackageOptions::cancel` takes.
    flag: Arc<AtomicBool>,
}

impl Interrupt {
    /// Installs the handlers. A second signal while the first is being handled exits at once
    /// (128 + its number), as people expect when a cleanup seems stuck.
    pub fn install() -> std::io::Result<Interrupt> {
        let interrupt = Interrupt::default();
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            // Registered first, so it sees the flag still unset on the first signal.
            signal_hook::flag::register_conditional_shutdown(
                signal,
                crate::exit_code::ExitCode::signalled(signal).code(),
                Arc::clone(&interrupt.flag),
            )?;
            signal_hook::flag::register(signal, Arc::clone(&interrupt.flag))?;
            let recorded = Arc::clone(&interrupt.signal);
            // SAFETY: the action only does an atomic store, which is async-signal-safe.
            unsafe {
                signal_hook::low_level::register(signal, move || {
                    let _ =
                        recorded.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
                })?;
            }
        }
        Ok(interrupt)
    }

    /// The signal received, if any.
    pub fn received(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 if self.flag.load(Ordering::SeqCst) => Some(SIGINT),
            0 => None,
            s => Some(s),
        }
    }

    /// The flag set when a signal arrives, for code that polls a bool.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    /// Records `signal` as if it had been received (tests, and stopping programmatically).
    pub fn raise(&self, signal: i32) {
        let _ = self
            .signal
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        self.flag.store(true, Ordering::SeqCst);
    }
}

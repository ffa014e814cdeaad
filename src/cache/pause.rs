//! A pause between a store's blob and its record, for the tests that show what a `cache prune`
//! running at that moment does to the entry. With `LAMBDA_BATCH_TEST_PAUSE_STORE=DIR`, a store
//! creates `DIR/paused` once its blob is written and waits for `DIR/release` to appear (polled;
//! at most [`LONGEST`]). Without the variable it costs one lookup of the environment.

use std::time::{Duration, Instant};

/// The variable.
pub(crate) const VAR: &str = "LAMBDA_BATCH_TEST_PAUSE_STORE";

/// The longest pause: a test that never releases the store does not hang the run for ever.
const LONGEST: Duration = Duration::from_secs(600);

/// How often the release file is looked for.
const POLL: Duration = Duration::from_millis(20);

/// Pauses when [`VAR`] says so.
pub(crate) async fn after_blob() {
    let Some(dir) = std::env::var_os(VAR).filter(|d| !d.is_empty()) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let release = dir.join("release");
    if release.exists() {
        return;
    }
    let _ = std::fs::write(dir.join("paused"), b"");
    let deadline = Instant::now() + LONGEST;
    while !release.exists() && Instant::now() < deadline {
        tokio::time::sleep(POLL).await;
    }
}

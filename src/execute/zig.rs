//! Keeping concurrent cargo-zigbuild children out of each other's way.
//!
//! Two shared caches race when two zig builds start cold at the same time:
//! - zig's global cache (`~/.cache/zig`: libc stubs, crt objects, compiler-rt), which zig
//!   builds on first use for each target. Each lane (one target dir) gets its own
//!   `ZIG_GLOBAL_CACHE_DIR` under `<target_dir>/lambda-batch/zig-cache`; it lives as long as the
//!   target dir, so only the first run per target dir pays for filling it. A manifest `env`
//!   that sets `ZIG_GLOBAL_CACHE_DIR` wins. zig's cache is not part of cargo's fingerprints, so
//!   this never makes cargo rebuild.
//! - cargo-zigbuild's own cache (`~/.cache/cargo-zigbuild/<version>`), where it writes its
//!   linker wrapper scripts and creates `ar`/`lib` symlinks before starting cargo: two cold
//!   starts can truncate each other's script or fail on the symlink with "File exists". Its
//!   location (`CARGO_ZIGBUILD_CACHE_DIR`) ends up in the linker path, which cargo fingerprints,
//!   so moving it would rebuild everything that the user's own `cargo zigbuild` had built.
//!   Instead, cargo-zigbuild children start one at a time: the next may start once the
//!   previous one has written anything (cargo-zigbuild prepares its wrappers before cargo
//!   prints its first line) or has exited. That costs a fraction of a second per lane.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use crate::manifest::values::Compiler;
use crate::plan::Group;

/// The variable zig reads for its global cache directory.
pub const ZIG_CACHE_VAR: &str = "ZIG_GLOBAL_CACHE_DIR";

/// How long a cargo-zigbuild start may hold the gate without writing anything.
pub const GATE_TIMEOUT: Duration = Duration::from_secs(20);

/// The zig cache directory of the lane that builds into `target_dir`.
pub fn lane_cache_dir(target_dir: &Utf8Path) -> Utf8PathBuf {
    target_dir.join("lambda-batch").join("zig-cache")
}

/// Environment to add to a group's command, on top of the plan's.
pub fn extra_env(group: &Group) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    if group.compiler == Compiler::CargoZigbuild && !group.env.contains_key(ZIG_CACHE_VAR) {
        env.insert(
            ZIG_CACHE_VAR.to_string(),
            lane_cache_dir(&group.target_dir).to_string(),
        );
    }
    env
}

/// Lets one cargo-zigbuild child at a time through its start-up.
#[derive(Debug, Default)]
pub struct StartGate(Mutex<()>);

impl StartGate {
    /// Waits for the gate when `group` uses cargo-zigbuild; hold the guard until the child
    /// writes its first output or exits.
    pub fn enter(&self, group: &Group) -> Option<MutexGuard<'_, ()>> {
        if group.compiler != Compiler::CargoZigbuild {
            return None;
        }
        // A poisoned gate only means another lane panicked while holding it: still usable.
        Some(self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

//! Keeping concurrent cargo-zigbuild children out of each other's way.
//!
//! Two shared caches race when two zig builds start cold at the same time:
//! - zig's global cache (`~/.cache/zig`: libc stubs, crt objects, compiler-rt), which zig
//!   fills on first use for each target. When the plan has two or more lanes that use
//!   cargo-zigbuild (and `--jobs` lets them overlap), each lane (one target dir) gets its own
//!   `ZIG_GLOBAL_CACHE_DIR`, `<target_dir>/lambda-batch/zig-cache`. It lives as long as the
//!   target dir, so only the first run per target dir pays for filling it (about a minute per
//!   target on two cores). With a single zig lane nothing can race, and the user's own, usually
//!   warm, cache is used. A manifest `env` that sets `ZIG_GLOBAL_CACHE_DIR` always wins. zig's
//!   cache is not part of cargo's fingerprints, so switching never makes cargo rebuild.
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

use crate::manifest::settings::Compiler;
use crate::plan::{Group, Plan, ZIG_CACHE_VAR};

/// How long a cargo-zigbuild start may hold the gate without writing anything.
pub(super) const GATE_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether zig builds of `plan` can run at the same time: the plan gave lanes their own zig
/// caches (two or more lanes use cargo-zigbuild) and `jobs` lets two children run at once.
pub(super) fn lanes_overlap(plan: &Plan, jobs: usize) -> bool {
    jobs > 1 && plan.groups.iter().any(|g| g.zig_cache_dir.is_some())
}

/// Environment to add to a group's command, on top of the plan's; `overlap` from
/// [`lanes_overlap`].
pub(super) fn extra_env(group: &Group, overlap: bool) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    if let Some(dir) = group.zig_cache_dir.as_ref().filter(|_| overlap) {
        env.insert(ZIG_CACHE_VAR.to_string(), dir.to_string());
    }
    env
}

/// Lets one cargo-zigbuild child at a time through its start-up.
#[derive(Debug, Default)]
pub(super) struct StartGate(Mutex<()>);

impl StartGate {
    /// Waits for the gate when `group` uses cargo-zigbuild; hold the guard until the child
    /// writes its first output or exits.
    pub(super) fn enter(&self, group: &Group) -> Option<MutexGuard<'_, ()>> {
        if group.compiler != Compiler::CargoZigbuild {
            return None;
        }
        // A poisoned gate only means another lane panicked while holding it: still usable.
        Some(self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: usize, lane: usize, compiler: Compiler) -> Group {
        Group {
            id,
            lane,
            workspace_root: "/ws".into(),
            target_dir: format!("/t{lane}").into(),
            target: "x86_64-unknown-linux-gnu".into(),
            profile: "dev".into(),
            compiler,
            program: compiler.program().into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            packages: Vec::new(),
            bins: Vec::new(),
            artifacts: Vec::new(),
            waits_for: Vec::new(),
            state_dir: format!("/t{lane}/lambda-batch").into(),
            zig_cache_dir: None,
            not_grouped_with: Vec::new(),
        }
    }

    /// A plan of `groups`, with the zig caches the planner gives them.
    fn plan(mut groups: Vec<Group>) -> Plan {
        crate::plan::zig_caches(&mut groups);
        Plan {
            manifest: "/lambda.kdl".into(),
            groups,
            artifacts: Vec::new(),
            flags: Default::default(),
        }
    }

    #[test]
    fn a_lane_gets_its_own_zig_cache_only_when_zig_lanes_can_overlap() {
        let one_lane = plan(vec![
            group(0, 0, Compiler::CargoZigbuild),
            group(1, 0, Compiler::CargoZigbuild),
            group(2, 1, Compiler::Cargo),
        ]);
        assert!(!lanes_overlap(&one_lane, 8));
        let two_lanes = plan(vec![
            group(0, 0, Compiler::CargoZigbuild),
            group(1, 1, Compiler::CargoZigbuild),
        ]);
        assert!(lanes_overlap(&two_lanes, 2));
        assert!(
            !lanes_overlap(&two_lanes, 1),
            "-j 1 runs one child at a time"
        );

        let g = &two_lanes.groups[1];
        assert_eq!(
            extra_env(g, true).get(ZIG_CACHE_VAR).map(String::as_str),
            Some("/t1/lambda-batch/zig-cache")
        );
        assert!(extra_env(g, false).is_empty());
        let mut explicit = group(4, 1, Compiler::CargoZigbuild);
        explicit.env.insert(ZIG_CACHE_VAR.into(), "/mine".into());
        let mixed = plan(vec![
            group(0, 0, Compiler::CargoZigbuild),
            group(3, 1, Compiler::Cargo),
            explicit,
        ]);
        assert!(extra_env(&mixed.groups[1], true).is_empty());
        assert!(
            extra_env(&mixed.groups[2], true).is_empty(),
            "the manifest's env wins"
        );
    }
}

//! A target dir that two kinds of cargo-zigbuild call share without sharing a single unit.
//!
//! cargo-zigbuild runs cargo for the host's own triple with cargo's `target-applies-to-host`
//! turned off, and for any other triple without that: the build scripts and proc macros of
//! the two kinds of call get different metadata, so in a shared target dir a call of one kind
//! never reuses a unit compiled by the other (each compiles its own `syn`, `serde_derive`,
//! build scripts). Yet cargo locks the target dir's host directory (`<target-dir>/<profile>`)
//! for every `--target`, so the two kinds still wait for each other. With one small workspace
//! per function, each call ends with its one bin compiled alone (thin LTO, one codegen unit)
//! while the other cores wait.
//!
//! So when one target dir has both kinds, the cargo-zigbuild calls for the host's triple get
//! their own target dir, [`ZIG_HOST_DIR`] inside it: a lane of their own, which runs at the
//! same time as the rest under the same `--jobs`, and nothing is compiled twice. The decision
//! is taken on the whole manifest, before `--only`, `--arch` or a shard select part of it, so
//! an artifact always builds in the same place. Executables do not change: cargo keeps the
//! target dir out of `-C metadata`, and the path remapping maps the nested dir to what its
//! parent maps to, so that even the paths of a build script's output (`OUT_DIR`), which
//! generated code puts in panic messages, read as they would in the shared dir.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;

use super::ResolvedArtifact;
use crate::manifest::settings::Compiler;

/// The target dir of the host-triple cargo-zigbuild calls, relative to the shared one.
pub const ZIG_HOST_DIR: &str = "lambda-batch/zig-host";

/// The triple rustc builds for by default on this machine, as far as lambda-batch's own
/// build tells: `None` where it cannot say (then nothing is split).
pub fn host_triple() -> Option<&'static str> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    match (
        cfg!(target_arch = "x86_64"),
        cfg!(target_arch = "aarch64"),
        cfg!(target_env = "gnu"),
        cfg!(target_env = "musl"),
    ) {
        (true, _, true, _) => Some("x86_64-unknown-linux-gnu"),
        (true, _, _, true) => Some("x86_64-unknown-linux-musl"),
        (_, true, true, _) => Some("aarch64-unknown-linux-gnu"),
        (_, true, _, true) => Some("aarch64-unknown-linux-musl"),
        _ => None,
    }
}

/// Moves the host-triple cargo-zigbuild artifacts of every target dir that also has other
/// calls into `<target-dir>/`[`ZIG_HOST_DIR`] (see the module doc); `host` is the host triple.
/// Each split target dir, in order, as `(nested dir, target dir)`.
pub fn split(
    artifacts: &mut [ResolvedArtifact],
    host: Option<&str>,
) -> Vec<(Utf8PathBuf, Utf8PathBuf)> {
    let Some(host) = host else {
        return Vec::new();
    };
    let zig_host = |a: &ResolvedArtifact| {
        a.build.compiler == Compiler::CargoZigbuild && a.build.target == host
    };
    // Per target dir: (has host-triple zig calls, has other calls).
    let mut kinds: BTreeMap<&Utf8PathBuf, (bool, bool)> = BTreeMap::new();
    for a in artifacts.iter() {
        let k = kinds.entry(&a.cargo.target_dir).or_default();
        if zig_host(a) {
            k.0 = true;
        } else {
            k.1 = true;
        }
    }
    let shared: Vec<(Utf8PathBuf, Utf8PathBuf)> = kinds
        .into_iter()
        .filter(|(_, (zig, other))| *zig && *other)
        .map(|(dir, _)| (dir.join(ZIG_HOST_DIR), dir.clone()))
        .collect();
    for a in artifacts.iter_mut() {
        if !zig_host(a) {
            continue;
        }
        if let Some((nested, _)) = shared.iter().find(|(_, dir)| *dir == a.cargo.target_dir) {
            a.cargo.target_dir = nested.clone();
            a.cargo.target_dir_set = true;
        }
    }
    shared
}

//! The exact argv and environment of one cargo invocation, for each compiler.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;

use crate::manifest::settings::Compiler;
use crate::manifest::values::Libc;
use crate::resolve::ResolvedArtifact;

/// Flags the user gave `run` that are handed to every cargo call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CargoFlags {
    /// `--locked`.
    pub locked: bool,
    /// `--offline`.
    pub offline: bool,
    /// `--frozen`.
    pub frozen: bool,
    /// `--keep-going`: cargo builds every unit it can after one fails.
    pub keep_going: bool,
}

/// The `[profile.release]` settings of cargo-lambda's release optimizations, each left out when
/// the workspace's own `[profile.release]` sets the key.
const RELEASE_OVERRIDES: &[(&str, &str)] = &[
    ("strip", "\"symbols\""),
    ("lto", "\"thin\""),
    ("codegen-units", "1"),
    ("panic", "\"abort\""),
];

/// The `--config profile.<profile>.KEY=VALUE` settings of `a`'s release optimizations: those
/// the workspace's `[profile.release]` leaves unset (none without optimizations).
pub(crate) fn profile_overrides(a: &ResolvedArtifact) -> Vec<(String, String)> {
    if !a.cargo.optimizations {
        return Vec::new();
    }
    RELEASE_OVERRIDES
        .iter()
        .filter(|(k, _)| !a.cargo.release_keys.iter().any(|r| r == k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The rustc flags of `a`: with release optimizations `-C target-cpu=...` for its arch, then
/// the manifest's (so that a user `target-cpu` wins).
pub(crate) fn rustflags(a: &ResolvedArtifact) -> Vec<String> {
    let mut flags = Vec::new();
    if a.cargo.optimizations {
        flags.push("-C".to_string());
        flags.push(format!("target-cpu={}", a.build.arch.target_cpu()));
    }
    flags.extend(a.cargo.rustflags.iter().cloned());
    flags
}

/// The `--target` value: zigbuild gets the glibc suffix that pins the glibc zig links against.
pub(super) fn target_arg(a: &ResolvedArtifact) -> String {
    match (a.build.compiler, a.build.libc, a.build.glibc) {
        (Compiler::CargoZigbuild, Libc::Gnu, Some(v)) => format!("{}.{v}", a.build.target),
        _ => a.build.target.clone(),
    }
}

/// Where cargo writes the executable of `a`: `<target-dir>/<target>/<profile dir>/<bin>`.
pub(super) fn executable(a: &ResolvedArtifact) -> Utf8PathBuf {
    let profile_dir = match a.build.profile.as_str() {
        "dev" | "test" => "debug",
        "release" | "bench" => "release",
        other => other,
    };
    a.cargo
        .target_dir
        .join(&a.build.target)
        .join(profile_dir)
        .join(&a.identity.bin)
}

/// One cargo call for a set of artifacts that agree on every grouping key: what a group, a
/// group narrowed to some of its artifacts, or one artifact alone runs.
pub(super) struct Call {
    pub(super) program: String,
    pub(super) args: Vec<String>,
    /// The packages selected with `-p`, sorted.
    pub(super) packages: Vec<String>,
    /// The bins selected with `--bin`, sorted.
    pub(super) bins: Vec<String>,
}

impl Call {
    /// The call that builds `members` (at least one).
    pub(super) fn of(members: &[&ResolvedArtifact], flags: &CargoFlags) -> Call {
        let sorted = |f: fn(&ResolvedArtifact) -> &String| -> Vec<String> {
            let set: std::collections::BTreeSet<&String> = members.iter().map(|a| f(a)).collect();
            set.into_iter().cloned().collect()
        };
        let packages = sorted(|a| &a.identity.package);
        let bins = sorted(|a| &a.identity.bin);
        let (program, args) = argv(members[0], &packages, &bins, flags);
        Call {
            program,
            args,
            packages,
            bins,
        }
    }
}

/// The program name and the argv (without the program) of a group's cargo call.
/// `members` all agree on every grouping key; `packages` and `bins` are the group's, sorted.
pub(super) fn argv(
    first: &ResolvedArtifact,
    packages: &[String],
    bins: &[String],
    flags: &CargoFlags,
) -> (String, Vec<String>) {
    let mut args: Vec<String> = Vec::new();
    let sub = match first.build.compiler {
        Compiler::Cargo | Compiler::Cross => "build",
        Compiler::CargoZigbuild => "zigbuild",
    };
    args.push(sub.into());
    args.push("--message-format=json-render-diagnostics".into());
    args.push("--manifest-path".into());
    args.push(first.identity.cargo_manifest.to_string());
    args.push("--target".into());
    args.push(target_arg(first));
    match first.build.profile.as_str() {
        "dev" => {}
        "release" => args.push("--release".into()),
        other => {
            args.push("--profile".into());
            args.push(other.into());
        }
    }
    if first.cargo.target_dir_set {
        args.push("--target-dir".into());
        args.push(first.cargo.target_dir.to_string());
    }
    if first.cargo.no_default_features {
        args.push("--no-default-features".into());
    }
    if first.cargo.all_features {
        args.push("--all-features".into());
    }
    if !first.cargo.features.is_empty() {
        // With several packages selected, a bare feature name is ambiguous: qualify it with the
        // package (features are per artifact, so every package of the group declares them).
        let list: Vec<String> = if packages.len() == 1 {
            first.cargo.features.clone()
        } else {
            packages
                .iter()
                .flat_map(|p| {
                    first.cargo.features.iter().map(move |f| {
                        if f.contains('/') {
                            f.clone()
                        } else {
                            format!("{p}/{f}")
                        }
                    })
                })
                .fold(Vec::new(), |mut acc, f| {
                    // `dep/feature` is the same for every package: list it once.
                    if !acc.contains(&f) {
                        acc.push(f);
                    }
                    acc
                })
        };
        args.push("--features".into());
        args.push(list.join(","));
    }
    for p in packages {
        args.push("-p".into());
        args.push(p.clone());
    }
    for b in bins {
        args.push("--bin".into());
        args.push(b.clone());
    }
    for (k, v) in &profile_overrides(first) {
        args.push("--config".into());
        args.push(format!("profile.{}.{k}={v}", first.build.profile));
    }
    if flags.locked {
        args.push("--locked".into());
    }
    if flags.offline {
        args.push("--offline".into());
    }
    if flags.frozen {
        args.push("--frozen".into());
    }
    if flags.keep_going {
        args.push("--keep-going".into());
    }
    if first.build.auditable {
        // `cargo auditable build|zigbuild ...`: cargo-auditable runs `$CARGO` (cargo, or cross
        // as `env` sets it) with these arguments and itself as the rustc wrapper.
        args.insert(0, "auditable".into());
        return (AUDITABLE.to_string(), args);
    }
    (first.build.compiler.program().to_string(), args)
}

/// The program that builds an `auditable` artifact, whatever its compiler.
pub const AUDITABLE: &str = "cargo-auditable";

/// The environment set on the cargo process: the manifest's `env`, and the rustflags merged
/// with any RUSTFLAGS the caller already has (cargo reads only one source, so none is
/// dropped): the path remapping first, then the caller's (or the cargo config's, which cargo
/// would ignore once RUSTFLAGS is set), then the artifact's. rustc applies the last
/// `--remap-path-prefix` that matches, so a remapping of the caller's wins over ours.
pub(super) fn env(
    first: &ResolvedArtifact,
    inherited: &dyn Fn(&str) -> Option<String>,
) -> BTreeMap<String, String> {
    let mut env = first.cargo.env.clone();
    if first.build.auditable && first.build.compiler == Compiler::Cross {
        // cargo-auditable runs `$CARGO`, which for cross is cross.
        env.insert("CARGO".into(), Compiler::Cross.program().into());
    }
    let ours: Vec<String> = rustflags(first)
        .iter()
        .flat_map(|f| f.split_whitespace().map(str::to_string))
        .collect();
    if !ours.is_empty() || !first.cargo.path_remapping.is_empty() {
        let mut all: Vec<String> = first.cargo.path_remapping.clone();
        // Cargo prefers CARGO_ENCODED_RUSTFLAGS (the manifest's `env`, else the caller's) to
        // RUSTFLAGS: the flags go where cargo will read them.
        let encoded = env
            .get("CARGO_ENCODED_RUSTFLAGS")
            .cloned()
            .or_else(|| inherited("CARGO_ENCODED_RUSTFLAGS"));
        if let Some(encoded) = encoded.filter(|s| !s.is_empty()) {
            all.extend(encoded.split('\u{1f}').map(str::to_string));
            all.extend(ours);
            env.insert("CARGO_ENCODED_RUSTFLAGS".into(), all.join("\u{1f}"));
        } else {
            // Without either variable cargo would read its config's rustflags: keep them.
            all.extend(
                env.get("RUSTFLAGS")
                    .cloned()
                    .or_else(|| inherited("RUSTFLAGS"))
                    .map(|s| s.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_else(|| first.cargo.config_rustflags.clone()),
            );
            all.extend(ours);
            env.insert("RUSTFLAGS".into(), all.join(" "));
        }
    }
    env
}

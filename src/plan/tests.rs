//! Grouping and argv, pinned per compiler and per flag combination.

use std::collections::BTreeMap;
use std::sync::Arc;

use camino::Utf8PathBuf;

use super::command::{CargoFlags, argv, env, target_arg};
use super::{SplitKind, plan_with_env};
use crate::manifest::Manifest;
use crate::manifest::settings::{Compiler, OutputFormat, Runtime};
use crate::manifest::values::{Arch, ArtifactKind, GlibcVersion, Libc};
use crate::resolve::View;
use crate::resolve::{Answer, Query};

fn parse(text: &str) -> Option<View> {
    View::parse(text)
}
use crate::resolve::{Build, CargoCall, Identity, Inputs, Packaging, Resolved, ResolvedArtifact};

pub(super) fn artifact(name: &str, package: &str, arch: Arch) -> ResolvedArtifact {
    let prefix = arch.triple_prefix();
    ResolvedArtifact {
        identity: Identity {
            name: name.into(),
            kind: ArtifactKind::Function,
            workspace: "services".into(),
            workspace_root: "/repo/services".into(),
            cargo_manifest: "/repo/services/Cargo.toml".into(),
            package: package.into(),
            package_id: cargo_metadata::PackageId {
                repr: format!("path+file:///repo/services/{package}#0.1.0"),
            },
            package_dir: Utf8PathBuf::from("/repo/services").join(package),
            bin: name.into(),
            discovered: false,
            flatten: false,
            internal: false,
            span: (0, 0).into(),
            package_bins: Vec::new(),
        },
        build: Build {
            arch,
            target: format!("{prefix}-unknown-linux-gnu"),
            libc: Libc::Gnu,
            glibc: Some(GlibcVersion {
                major: 2,
                minor: 34,
            }),
            profile: "dev".into(),
            compiler: Compiler::Cargo,
            auditable: false,
        },
        packaging: Packaging {
            output_format: OutputFormat::Zip,
            runtime: Runtime::Al2023,
            lambda_dir: Utf8PathBuf::from("/repo/target/lambda").join(arch.as_str()),
            sbom: crate::manifest::settings::Sbom::None,
        },
        cargo: CargoCall {
            target_dir: "/repo/services/target".into(),
            target_dir_set: false,
            optimizations: false,
            release_keys: Vec::new(),
            features: Vec::new(),
            no_default_features: false,
            all_features: false,
            env: BTreeMap::new(),
            rustflags: Vec::new(),
            path_remapping: Vec::new(),
            config_rustflags: Vec::new(),
        },
        inputs: Inputs {
            includes: Vec::new(),
            cache_key_files: Vec::new(),
            cache_key_env: Vec::new(),
        },
        deploy: Default::default(),
    }
}

pub(super) fn no_env(_: &str) -> Option<String> {
    None
}

pub(super) fn resolved(artifacts: Vec<ResolvedArtifact>) -> Resolved {
    let manifest = Manifest {
        path: "/repo/lambda.kdl".into(),
        dir: "/repo".into(),
        source: miette::NamedSource::new("lambda.kdl", Arc::from("")),
        defaults: Default::default(),
        cache: None,
        publish: None,
        workspaces: Vec::new(),
    };
    Resolved {
        manifest,
        artifacts,
        workspaces: Default::default(),
    }
}

fn one(a: &ResolvedArtifact) -> (String, Vec<String>) {
    argv(
        a,
        std::slice::from_ref(&a.identity.package),
        std::slice::from_ref(&a.identity.bin),
        &CargoFlags::default(),
    )
}

#[test]
fn cargo_dev_is_minimal() {
    let (program, args) = one(&artifact("get", "api", Arch::X86_64));
    assert_eq!(program, "cargo");
    assert_eq!(
        args,
        [
            "build",
            "--message-format=json-render-diagnostics",
            "--manifest-path",
            "/repo/services/Cargo.toml",
            "--target",
            "x86_64-unknown-linux-gnu",
            "-p",
            "api",
            "--bin",
            "get"
        ]
    );
}

#[test]
fn zigbuild_gets_the_glibc_suffixed_triple() {
    let mut a = artifact("get", "api", Arch::Arm64);
    a.build.compiler = Compiler::CargoZigbuild;
    let (program, args) = one(&a);
    assert_eq!(program, "cargo-zigbuild");
    assert_eq!(args[0], "zigbuild");
    assert_eq!(target_arg(&a), "aarch64-unknown-linux-gnu.2.34");
    assert!(
        args.windows(2)
            .any(|w| w == ["--target", "aarch64-unknown-linux-gnu.2.34"])
    );
    // musl has no glibc to pin.
    a.build.libc = Libc::Musl;
    a.build.glibc = None;
    a.build.target = "aarch64-unknown-linux-musl".into();
    assert_eq!(target_arg(&a), "aarch64-unknown-linux-musl");
}

#[test]
fn cross_builds_with_the_plain_triple() {
    let mut a = artifact("get", "api", Arch::Arm64);
    a.build.compiler = Compiler::Cross;
    let (program, args) = one(&a);
    assert_eq!(program, "cross");
    assert_eq!(args[0], "build");
    assert!(
        args.windows(2)
            .any(|w| w == ["--target", "aarch64-unknown-linux-gnu"])
    );
}

#[test]
fn profiles_map_to_cargo_flags() {
    let mut a = artifact("get", "api", Arch::X86_64);
    a.build.profile = "release".into();
    assert!(one(&a).1.contains(&"--release".to_string()));
    a.build.profile = "lambda-small".into();
    let args = one(&a).1;
    assert!(args.windows(2).any(|w| w == ["--profile", "lambda-small"]));
    assert!(!args.contains(&"--release".to_string()));
}

#[test]
fn features_target_dir_config_and_cargo_flags() {
    let mut a = artifact("get", "api", Arch::X86_64);
    a.cargo.features = vec!["json".into(), "serde/derive".into()];
    a.cargo.no_default_features = true;
    a.cargo.all_features = true;
    a.cargo.target_dir = "/repo/target/shared".into();
    a.cargo.target_dir_set = true;
    a.build.profile = "release".into();
    // Release optimizations, but the workspace sets lto and panic itself.
    a.cargo.optimizations = true;
    a.cargo.release_keys = vec!["lto".into(), "panic".into()];
    let flags = CargoFlags {
        locked: true,
        offline: true,
        frozen: true,
        keep_going: true,
    };
    let (_, args) = argv(&a, &["api".into()], &["get".into()], &flags);
    let tail: Vec<&str> = args.iter().skip(6).map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "--release",
            "--target-dir",
            "/repo/target/shared",
            "--no-default-features",
            "--all-features",
            "--features",
            "json,serde/derive",
            "-p",
            "api",
            "--bin",
            "get",
            "--config",
            "profile.release.strip=\"symbols\"",
            "--config",
            "profile.release.codegen-units=1",
            "--locked",
            "--offline",
            "--frozen",
            "--keep-going",
        ]
    );
    // Several packages: plain feature names are qualified with each package.
    let (_, args) = argv(
        &a,
        &["api".into(), "orders".into()],
        &["get".into(), "ship".into()],
        &CargoFlags::default(),
    );
    assert!(
        args.windows(2)
            .any(|w| w == ["--features", "api/json,serde/derive,orders/json"]),
        "{args:?}"
    );
}

#[test]
fn rustflags_merge_with_the_callers_rustflags() {
    let mut a = artifact("get", "api", Arch::X86_64);
    assert!(
        env(&a, &no_env).is_empty(),
        "no flags: RUSTFLAGS is left alone"
    );
    a.cargo.rustflags = vec![
        "-C".into(),
        "target-cpu=haswell".into(),
        "--cfg tokio_unstable".into(),
    ];
    let e = env(&a, &no_env);
    assert_eq!(e["RUSTFLAGS"], "-C target-cpu=haswell --cfg tokio_unstable");
    let e = env(&a, &|k| {
        (k == "RUSTFLAGS").then(|| "-Dwarnings".to_string())
    });
    assert_eq!(
        e["RUSTFLAGS"],
        "-Dwarnings -C target-cpu=haswell --cfg tokio_unstable"
    );
    let e = env(&a, &|k| {
        (k == "CARGO_ENCODED_RUSTFLAGS").then(|| "-Dwarnings".to_string())
    });
    assert_eq!(
        e["CARGO_ENCODED_RUSTFLAGS"],
        "-Dwarnings\u{1f}-C\u{1f}target-cpu=haswell\u{1f}--cfg\u{1f}tokio_unstable"
    );
    assert!(!e.contains_key("RUSTFLAGS"));
    // The manifest's own `env CARGO_ENCODED_RUSTFLAGS=...` is merged the same way.
    a.cargo
        .env
        .insert("CARGO_ENCODED_RUSTFLAGS".into(), "-Cdebuginfo=2".into());
    let e = env(&a, &no_env);
    assert_eq!(
        e["CARGO_ENCODED_RUSTFLAGS"],
        "-Cdebuginfo=2\u{1f}-C\u{1f}target-cpu=haswell\u{1f}--cfg\u{1f}tokio_unstable"
    );
    assert!(!e.contains_key("RUSTFLAGS"));
}

#[test]
fn path_remapping_comes_first_and_config_rustflags_are_kept() {
    let mut a = artifact("get", "api", Arch::X86_64);
    a.cargo.path_remapping = vec!["--remap-path-prefix=/repo=.".into()];
    a.cargo.config_rustflags = vec!["--cfg".into(), "from_config".into()];
    // No RUSTFLAGS anywhere: cargo would have read its config's; they stay, after ours.
    let e = env(&a, &no_env);
    assert_eq!(
        e["RUSTFLAGS"],
        "--remap-path-prefix=/repo=. --cfg from_config"
    );
    a.cargo.rustflags = vec!["-C".into(), "target-cpu=haswell".into()];
    let e = env(&a, &no_env);
    assert_eq!(
        e["RUSTFLAGS"],
        "--remap-path-prefix=/repo=. --cfg from_config -C target-cpu=haswell"
    );
    // The caller's RUSTFLAGS replace the config's (as in cargo) and come after the remapping,
    // so that a remapping of the caller's wins.
    let e = env(&a, &|k| {
        (k == "RUSTFLAGS").then(|| "--remap-path-prefix=/repo=/src".to_string())
    });
    assert_eq!(
        e["RUSTFLAGS"],
        "--remap-path-prefix=/repo=. --remap-path-prefix=/repo=/src -C target-cpu=haswell"
    );
    let e = env(&a, &|k| {
        (k == "CARGO_ENCODED_RUSTFLAGS").then(|| "-Dwarnings".to_string())
    });
    assert_eq!(
        e["CARGO_ENCODED_RUSTFLAGS"],
        "--remap-path-prefix=/repo=.\u{1f}-Dwarnings\u{1f}-C\u{1f}target-cpu=haswell"
    );
}

#[test]
fn one_invocation_per_group_never_per_function() {
    let mut arts = Vec::new();
    for arch in [Arch::X86_64, Arch::Arm64] {
        for (name, pkg) in [("get", "api"), ("put", "api"), ("ship", "orders")] {
            arts.push(artifact(name, pkg, arch));
        }
    }
    let plan = plan_with_env(&resolved(arts), &CargoFlags::default(), &no_env, None).unwrap();
    assert_eq!(plan.groups.len(), 2, "one call per target");
    for g in &plan.groups {
        assert_eq!(g.bins, ["get", "put", "ship"]);
        assert_eq!(g.packages, ["api", "orders"]);
        assert_eq!(g.artifacts.len(), 3);
        assert_eq!(g.lane, 0, "both share the workspace's target dir");
    }
}

#[test]
fn differing_settings_split_groups_and_target_dirs_split_lanes() {
    let a = artifact("get", "api", Arch::X86_64);
    let mut b = artifact("put", "api", Arch::X86_64);
    b.cargo.features = vec!["json".into()];
    let mut c = artifact("ship", "orders", Arch::X86_64);
    c.cargo.target_dir = "/elsewhere".into();
    c.cargo.target_dir_set = true;
    let plan = plan_with_env(
        &resolved(vec![a, b, c]),
        &CargoFlags::default(),
        &no_env,
        None,
    )
    .unwrap();
    assert_eq!(plan.groups.len(), 3);
    let lanes: std::collections::BTreeSet<usize> = plan.groups.iter().map(|g| g.lane).collect();
    assert_eq!(lanes.len(), 2);
}

/// Two artifacts of two packages whose bins are both named `handler`.
fn two_handlers() -> (ResolvedArtifact, ResolvedArtifact) {
    let mut a = artifact("handler-a", "pkg-a", Arch::X86_64);
    a.identity.bin = "handler".into();
    let mut b = artifact("handler-b", "pkg-b", Arch::X86_64);
    b.identity.bin = "handler".into();
    (a, b)
}

#[test]
fn a_bin_name_in_two_packages_splits_the_call() {
    let (a, b) = two_handlers();
    let plan = plan_with_env(&resolved(vec![a, b]), &CargoFlags::default(), &no_env, None).unwrap();
    assert_eq!(plan.groups.len(), 2);
    assert!(plan.groups.iter().all(|g| g.packages.len() == 1));
}

#[test]
fn a_wanted_bin_that_another_selected_package_also_has_splits_the_call() {
    // `--bin shared` with `-p catalog -p other` would build catalog's `shared` too, into the
    // same file as other's.
    let mut get = artifact("get-product", "catalog", Arch::X86_64);
    get.identity.package_bins = vec!["get-product".into(), "shared".into()];
    let mut flat = artifact("flat", "other", Arch::X86_64);
    flat.identity.bin = "shared".into();
    flat.identity.package_bins = vec!["shared".into(), "list-things".into()];
    let mut list = artifact("list-things", "other", Arch::X86_64);
    list.identity.package_bins = flat.identity.package_bins.clone();
    let plan = plan_with_env(
        &resolved(vec![get, flat, list]),
        &CargoFlags::default(),
        &no_env,
        None,
    )
    .unwrap();
    assert_eq!(plan.groups.len(), 2, "{:#?}", plan.groups);
    let group_of = |name: &str| {
        plan.artifacts
            .iter()
            .find(|a| a.resolved.identity.name == name)
            .map(|a| a.group)
            .unwrap()
    };
    assert_ne!(group_of("get-product"), group_of("flat"));
    let flat = &plan.groups[group_of("flat")];
    assert_eq!(flat.packages, ["other"], "{flat:#?}");
    // list-things clashes with nothing in catalog: it may share get-product's call.
    assert_eq!(group_of("list-things"), group_of("get-product"));
    // Packages whose bins do not overlap still share one call.
    let mut a = artifact("a", "pa", Arch::X86_64);
    a.identity.package_bins = vec!["a".into(), "a2".into()];
    let mut b = artifact("b", "pb", Arch::X86_64);
    b.identity.package_bins = vec!["b".into()];
    let plan = plan_with_env(&resolved(vec![a, b]), &CargoFlags::default(), &no_env, None).unwrap();
    assert_eq!(plan.groups.len(), 1);
}

#[test]
fn collisions_are_found_before_any_build() {
    let mut a = artifact("get", "api", Arch::X86_64);
    a.identity.flatten = true;
    let mut b = artifact("put", "api", Arch::X86_64);
    b.identity.flatten = true;
    let err =
        plan_with_env(&resolved(vec![a, b]), &CargoFlags::default(), &no_env, None).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert!(err.0[0].message.contains("would both write"));
}

#[test]
fn a_group_waits_for_the_earlier_groups_of_its_lane_that_write_its_executables() {
    let (a, b) = two_handlers();
    let other = artifact("other", "pkg-c", Arch::X86_64);
    let mut elsewhere = artifact("handler-c", "pkg-d", Arch::X86_64);
    elsewhere.identity.bin = "handler".into();
    elsewhere.cargo.target_dir = "/elsewhere".into();
    elsewhere.cargo.target_dir_set = true;
    let plan = plan_with_env(
        &resolved(vec![a, b, other, elsewhere]),
        &CargoFlags::default(),
        &no_env,
        None,
    )
    .unwrap();
    let waits: Vec<(Vec<String>, Vec<usize>)> = plan
        .groups
        .iter()
        .map(|g| (g.packages.clone(), g.waits_for.clone()))
        .collect();
    let of = |p: &str| {
        waits
            .iter()
            .find(|(ps, _)| ps.contains(&p.to_string()))
            .map(|(_, w)| w.clone())
            .unwrap()
    };
    let first = plan
        .groups
        .iter()
        .position(|g| g.packages.contains(&"pkg-a".to_string()));
    assert_eq!(of("pkg-a"), Vec::<usize>::new());
    assert_eq!(of("pkg-b"), vec![first.unwrap()], "same bin, same lane");
    assert_eq!(of("pkg-d"), Vec::<usize>::new(), "another target dir");
    for g in &plan.groups {
        for &w in &g.waits_for {
            let e = &plan.groups[w];
            assert!(
                w < g.id && e.lane == g.lane,
                "only earlier groups of its lane"
            );
            assert!(
                e.bins.iter().any(|b| g.bins.contains(b)),
                "only for a shared bin"
            );
        }
    }
}

#[test]
fn the_plan_names_each_executable_stamp_and_state_dir() {
    let mut a = artifact("get", "api", Arch::Arm64);
    a.build.profile = "release".into();
    let b = artifact("put", "api", Arch::X86_64);
    let plan = plan_with_env(&resolved(vec![a, b]), &CargoFlags::default(), &no_env, None).unwrap();
    assert_eq!(
        plan.artifacts[0].executable,
        "/repo/services/target/aarch64-unknown-linux-gnu/release/get"
    );
    assert_eq!(
        plan.artifacts[1].executable,
        "/repo/services/target/x86_64-unknown-linux-gnu/debug/put"
    );
    for g in &plan.groups {
        assert_eq!(g.state_dir, "/repo/services/target/lambda-batch");
        assert_eq!(g.zig_cache_dir, None, "no cargo-zigbuild lane");
    }
    assert!(
        plan.artifacts[0]
            .stamp
            .starts_with("/repo/services/target/lambda-batch/stamps")
    );
    assert_ne!(plan.artifacts[0].stamp, plan.artifacts[1].stamp);
}

#[test]
fn zig_lanes_get_their_own_cache_only_when_there_are_two() {
    let zig = |name: &str, target_dir: &str| {
        let mut a = artifact(name, name, Arch::X86_64);
        a.build.compiler = Compiler::CargoZigbuild;
        a.cargo.target_dir = target_dir.into();
        a.cargo.target_dir_set = true;
        a
    };
    let one = plan_with_env(
        &resolved(vec![zig("a", "/t0"), zig("b", "/t0")]),
        &CargoFlags::default(),
        &no_env,
        None,
    )
    .unwrap();
    assert!(one.groups.iter().all(|g| g.zig_cache_dir.is_none()));
    let mut mine = zig("c", "/t2");
    mine.cargo
        .env
        .insert("ZIG_GLOBAL_CACHE_DIR".into(), "/mine".into());
    let two = plan_with_env(
        &resolved(vec![zig("a", "/t0"), zig("b", "/t1"), mine]),
        &CargoFlags::default(),
        &no_env,
        None,
    )
    .unwrap();
    let caches: Vec<Option<String>> = two
        .groups
        .iter()
        .map(|g| g.zig_cache_dir.as_ref().map(|d| d.to_string()))
        .collect();
    assert_eq!(
        caches,
        [
            Some("/t0/lambda-batch/zig-cache".to_string()),
            Some("/t1/lambda-batch/zig-cache".to_string()),
            None
        ]
    );
}

/// cargo-zigbuild calls for the host's triple share no unit with the other calls of their
/// target dir: they get a target dir, and so a lane, of their own; everything else stays.
#[test]
fn host_triple_zig_calls_get_their_own_lane_when_they_share_nothing() {
    let host = "x86_64-unknown-linux-gnu";
    let zig = |name: &str, arch: Arch| {
        let mut a = artifact(name, name, arch);
        a.build.compiler = Compiler::CargoZigbuild;
        a.cargo.target_dir = "/repo/target/shared".into();
        a.cargo.target_dir_set = true;
        a
    };
    let mut arts = vec![
        zig("a", Arch::X86_64),
        zig("a", Arch::Arm64),
        zig("b", Arch::X86_64),
        zig("b", Arch::Arm64),
    ];
    // Its own workspace target dir, not set in the manifest: split too, now with --target-dir.
    let mut own = zig("c", Arch::X86_64);
    own.cargo.target_dir = "/repo/c/target".into();
    own.cargo.target_dir_set = false;
    let mut own_arm = own.clone();
    own_arm.build.arch = Arch::Arm64;
    own_arm.build.target = "aarch64-unknown-linux-gnu".into();
    arts.extend([own, own_arm]);
    // Plain cargo for both targets shares the host units: one lane, as before.
    let mut plain = artifact("d", "d", Arch::X86_64);
    plain.cargo.target_dir = "/repo/target/plain".into();
    let mut plain_arm = artifact("d", "d", Arch::Arm64);
    plain_arm.cargo.target_dir = "/repo/target/plain".into();
    // Only host-triple zig calls in a dir: nothing to split.
    let mut alone = zig("e", Arch::X86_64);
    alone.cargo.target_dir = "/repo/target/x86".into();
    arts.extend([plain, plain_arm, alone]);

    let split = crate::resolve::split_target_dirs(&mut arts, Some(host));
    let split: Vec<(&str, &str)> = split
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_str()))
        .collect();
    assert_eq!(
        split,
        [
            ("/repo/c/target/lambda-batch/zig-host", "/repo/c/target"),
            (
                "/repo/target/shared/lambda-batch/zig-host",
                "/repo/target/shared"
            ),
        ]
    );
    let dirs: Vec<(String, &str, bool)> = arts
        .iter()
        .map(|a| {
            (
                a.identity.name.clone() + "/" + a.build.arch.as_str(),
                a.cargo.target_dir.as_str(),
                a.cargo.target_dir_set,
            )
        })
        .collect();
    assert_eq!(
        dirs,
        [
            (
                "a/x86_64".into(),
                "/repo/target/shared/lambda-batch/zig-host",
                true
            ),
            ("a/arm64".into(), "/repo/target/shared", true),
            (
                "b/x86_64".into(),
                "/repo/target/shared/lambda-batch/zig-host",
                true
            ),
            ("b/arm64".into(), "/repo/target/shared", true),
            (
                "c/x86_64".into(),
                "/repo/c/target/lambda-batch/zig-host",
                true
            ),
            ("c/arm64".into(), "/repo/c/target", false),
            ("d/x86_64".into(), "/repo/target/plain", false),
            ("d/arm64".into(), "/repo/target/plain", false),
            ("e/x86_64".into(), "/repo/target/x86", true),
        ]
    );

    // The two kinds run as two lanes, and keep the user's zig cache: they build different
    // targets. The host-triple call says where it builds.
    let plan = plan_with_env(
        &resolved(arts[..4].to_vec()),
        &CargoFlags::default(),
        &no_env,
        None,
    )
    .unwrap();
    let lanes: BTreeMap<&str, usize> = plan
        .groups
        .iter()
        .map(|g| (g.target.as_str(), g.lane))
        .collect();
    assert_eq!(plan.groups.len(), 2);
    assert_ne!(
        lanes["x86_64-unknown-linux-gnu"],
        lanes["aarch64-unknown-linux-gnu"]
    );
    assert!(plan.groups.iter().all(|g| g.zig_cache_dir.is_none()));
    let x86 = plan
        .groups
        .iter()
        .find(|g| g.target == "x86_64-unknown-linux-gnu")
        .unwrap();
    let at = x86.args.iter().position(|a| a == "--target-dir").unwrap();
    assert_eq!(
        x86.args[at + 1],
        "/repo/target/shared/lambda-batch/zig-host"
    );

    // No host triple known: nothing moves.
    let mut unknown = vec![zig("a", Arch::X86_64), zig("a", Arch::Arm64)];
    assert!(crate::resolve::split_target_dirs(&mut unknown, None).is_empty());
    assert!(
        unknown
            .iter()
            .all(|a| a.cargo.target_dir == "/repo/target/shared")
    );
}

/// The plan of a small monorepo as `plan` prints each call: one line per group, every
/// compiler, profile, feature and flag that changes the argv or the environment.
#[test]
fn exact_commands_of_a_mixed_plan() {
    let mut zig = artifact("get", "api", Arch::Arm64);
    zig.build.compiler = Compiler::CargoZigbuild;
    zig.build.profile = "release".into();
    zig.cargo.optimizations = true;
    zig.cargo.release_keys = vec!["codegen-units".into(), "panic".into()];
    let mut zig_too = zig.clone();
    zig_too.identity.name = "put".into();
    zig_too.identity.bin = "put".into();
    zig_too.identity.package = "orders".into();
    zig_too.cargo.features = vec!["json".into(), "serde/derive".into()];
    let mut zig_other = zig_too.clone();
    zig_other.identity.name = "list".into();
    zig_other.identity.bin = "list".into();
    zig_other.identity.package = "catalog".into();
    let mut cross = artifact("ship", "ship", Arch::X86_64);
    cross.build.compiler = Compiler::Cross;
    cross.build.libc = Libc::Musl;
    cross.build.target = "x86_64-unknown-linux-musl".into();
    cross.build.glibc = None;
    cross
        .cargo
        .env
        .insert("RUST_LOG".into(), "info with spaces".into());
    cross.cargo.target_dir = "/repo/target/shared".into();
    cross.cargo.target_dir_set = true;
    let flags = CargoFlags {
        locked: true,
        ..CargoFlags::default()
    };
    let inherited = |k: &str| (k == "RUSTFLAGS").then(|| "--cfg tokio_unstable".to_string());
    let plan = plan_with_env(
        &resolved(vec![zig, zig_too, zig_other, cross]),
        &flags,
        &inherited,
        None,
    )
    .unwrap();
    let lines: Vec<String> = plan
        .groups
        .iter()
        .map(|g| {
            format!(
                "group {} lane {} waits {:?}: {}",
                g.id,
                g.lane,
                g.waits_for,
                g.command_line()
            )
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}
/// Views of packages alone, as `cargo tree` would print them: package → tree text.
fn views_from(trees: &'static [(&'static str, &'static str)]) -> impl Fn(&[Query]) -> Vec<Answer> {
    move |queries: &[Query]| {
        queries
            .iter()
            .map(|q| {
                let text = trees
                    .iter()
                    .find(|(p, _)| *p == q.package)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| format!("`cargo tree` failed: no package `{}`", q.package))?;
                parse(text).ok_or_else(|| "not a tree".to_string())
            })
            .collect()
    }
}

#[test]
fn packages_whose_dependency_features_differ_get_calls_of_their_own() {
    const TREES: &[(&str, &str)] = &[
        (
            "pa",
            "pa v0.1.0 (/repo/pa)|\n`-- shared v0.1.0 (/repo/shared)|extra\n",
        ),
        (
            "pb",
            "pb v0.1.0 (/repo/pb)|\n`-- shared v0.1.0 (/repo/shared)|\n",
        ),
        (
            "pc",
            "pc v0.1.0 (/repo/pc)|\n`-- shared v0.1.0 (/repo/shared)|extra\n",
        ),
        (
            "pd",
            "pd v0.1.0 (/repo/pd)|\n[build-dependencies]\n`-- shared v0.1.0 (/repo/shared)|\n",
        ),
    ];
    let views = views_from(TREES);
    let arts = vec![
        artifact("a", "pa", Arch::X86_64),
        artifact("b", "pb", Arch::X86_64),
        artifact("c", "pc", Arch::X86_64),
        artifact("d", "pd", Arch::X86_64),
        artifact("b2", "pb", Arch::X86_64),
    ];
    let plan = plan_with_env(
        &resolved(arts),
        &CargoFlags::default(),
        &no_env,
        Some(&views),
    )
    .unwrap();
    let group_of = |name: &str| {
        plan.artifacts
            .iter()
            .find(|a| a.resolved.identity.name == name)
            .map(|a| a.group)
            .unwrap()
    };
    // a and c agree on `shared`; d uses it for the host only: all three share a call.
    assert_eq!(group_of("a"), group_of("c"));
    assert_eq!(group_of("a"), group_of("d"));
    // b would get `extra`: apart, with both of its bins.
    assert_ne!(group_of("a"), group_of("b"));
    assert_eq!(group_of("b"), group_of("b2"));
    let b = &plan.groups[group_of("b")];
    assert_eq!(b.bins, ["b", "b2"]);
    assert_eq!(b.not_grouped_with.len(), 1, "{b:#?}");
    let split = &b.not_grouped_with[0];
    assert_eq!(split.group, group_of("a"));
    assert_eq!(split.kind, SplitKind::Features);
    assert!(
        split.reason.contains("`shared v0.1.0 (/repo/shared)`") && split.reason.contains("extra"),
        "{}",
        split.reason
    );
    assert!(plan.groups[group_of("a")].not_grouped_with.is_empty());

    // Without views (validation only), they share one call.
    let arts = plan.artifacts.iter().map(|a| a.resolved.clone()).collect();
    let unchecked = plan_with_env(&resolved(arts), &CargoFlags::default(), &no_env, None).unwrap();
    assert_eq!(unchecked.groups.len(), 1);
}

#[test]
fn a_package_whose_features_cannot_be_resolved_is_built_apart() {
    const TREES: &[(&str, &str)] = &[("pa", "pa v0.1.0 (/repo/pa)|\n")];
    let views = views_from(TREES);
    let arts = vec![
        artifact("a", "pa", Arch::X86_64),
        artifact("b", "pb", Arch::X86_64),
    ];
    let plan = plan_with_env(
        &resolved(arts),
        &CargoFlags::default(),
        &no_env,
        Some(&views),
    )
    .unwrap();
    assert_eq!(plan.groups.len(), 2);
    let split = &plan.groups[1].not_grouped_with[0];
    assert_eq!(split.kind, SplitKind::Unresolved);
    assert!(split.reason.contains("no package `pb`"), "{}", split.reason);
}

#[test]
fn one_package_never_asks_cargo_tree() {
    let asked = std::cell::Cell::new(0);
    let views = |q: &[Query]| -> Vec<Answer> {
        asked.set(asked.get() + q.len());
        q.iter().map(|_| Err("no".to_string())).collect()
    };
    let arts = vec![
        artifact("get", "api", Arch::X86_64),
        artifact("put", "api", Arch::X86_64),
        artifact("get", "api", Arch::Arm64),
    ];
    let plan = plan_with_env(
        &resolved(arts),
        &CargoFlags::default(),
        &no_env,
        Some(&views),
    )
    .unwrap();
    assert_eq!(plan.groups.len(), 2);
    assert_eq!(asked.get(), 0);
}

#[test]
fn a_group_narrows_to_the_bins_it_still_has_to_build() {
    let mut features = artifact("a", "api", Arch::X86_64);
    features.cargo.features = vec!["json".into()];
    let arts = vec![
        features.clone(),
        ResolvedArtifact {
            identity: Identity {
                name: "b".into(),
                bin: "b".into(),
                package: "worker".into(),
                ..features.identity.clone()
            },
            ..features.clone()
        },
        ResolvedArtifact {
            identity: Identity {
                name: "c".into(),
                bin: "c".into(),
                ..features.identity.clone()
            },
            ..features
        },
    ];
    let flags = CargoFlags {
        locked: true,
        ..CargoFlags::default()
    };
    let plan = plan_with_env(&resolved(arts), &flags, &no_env, None).unwrap();
    assert_eq!(plan.groups.len(), 1);
    let group = &plan.groups[0];
    assert_eq!(group.bins, ["a", "b", "c"]);
    assert!(group.args.contains(&"api/json,worker/json".to_string()));

    // Only `c` (package api) is left: one package, its plain feature, its bin.
    let only_c = super::narrowed(&plan, group, &[2]);
    assert_eq!(only_c.artifacts, [2]);
    assert_eq!(
        (only_c.packages.as_slice(), only_c.bins.as_slice()),
        (&["api".to_string()][..], &["c".to_string()][..])
    );
    let (program, alone, _) = super::alone(&plan.artifacts[2].resolved, &flags, &no_env);
    assert_eq!(
        (only_c.program.as_str(), &only_c.args),
        (program.as_str(), &alone)
    );
    assert!(alone.ends_with(&[
        "-p".into(),
        "api".into(),
        "--bin".into(),
        "c".into(),
        "--locked".into()
    ]));
    assert!(alone.windows(2).any(|w| w == ["--features", "json"]));
    // Everything else about the group stays.
    assert_eq!(
        (only_c.id, only_c.lane, &only_c.env),
        (group.id, group.lane, &group.env)
    );

    let two = super::narrowed(&plan, group, &[1, 0]);
    assert_eq!(two.artifacts, [0, 1]);
    assert_eq!(two.bins, ["a", "b"]);
    assert_eq!(two.packages, ["api", "worker"]);
    assert!(super::narrowed(&plan, group, &[]).artifacts.is_empty());
}

//! One artifact, one binary: `tests/fixtures/onebinary` has a library `onebin-shared` with a
//! feature `extra`, a function `onebin-a` that asks for it and a function `onebin-b` that does
//! not; `lambda.kdl` builds both with plain cargo (`a`, `b`), `zig.kdl` with cargo-zigbuild
//! (`a-zig`, `b-zig`). In one cargo call cargo would unify the features and `b` would answer
//! "extra". For each compiler the test checks that the plan keeps them apart and says why,
//! that each bootstrap answers with its own mode against a local Runtime API, that the report
//! has the features and rustflags, and that `b`'s zip is the same bytes from the full run,
//! from `--only b`, and from a manifest listing only `b`; for cargo, that its bootstrap is the
//! bytes `cargo build -p onebin-b --bin onebin-b` gives by hand with the same rustflags in the
//! same target dir. `zig-both.kdl` builds both with cargo-zigbuild for x86_64 and arm64 in
//! one target dir: the host's triple gets a target dir and a lane of its own, every bootstrap
//! answers on its architecture (arm64 under qemu), and `b`'s x86_64 executable is the bytes
//! `zig.kdl` built in the shared dir. Every run starts cargo (`LAMBDA_BATCH_ALWAYS_BUILD=1`).
//!
//! The fixture stays where it is (the path remapping flags name its directory, so a fixed
//! directory keeps its compiled dependencies reusable across test runs); outputs go to
//! `target/onebinary-out`.

use crate::support::runtime_api;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::test::{Invocation, Run, repo, shared_target, write_executable, zip_entries};
use lambda_batch::report::Report;
use lambda_batch::resolve::ZIG_HOST_DIR;

fn fixture() -> PathBuf {
    repo().join("tests/fixtures/onebinary")
}

fn outputs() -> PathBuf {
    repo().join("target/onebinary-out/x86_64")
}

/// Runs lambda-batch in the fixture and requires it to succeed.
fn lambda_batch(args: &[&str]) -> Run {
    Invocation::lb(&fixture(), args)
        // Start cargo for every group: the bytes must come from cargo, not from a record.
        .env("LAMBDA_BATCH_ALWAYS_BUILD", "1")
        .status(0)
}

/// `run --report` with `args`; the report, and the zip bytes of each function it built.
fn run(args: &[&str]) -> (Report, Vec<(String, Vec<u8>)>) {
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.json");
    let mut all = vec!["run", "--report", report_path.to_str().unwrap()];
    all.extend_from_slice(args);
    lambda_batch(&all);
    let report: Report = serde_json::from_str(&fs::read_to_string(&report_path).unwrap()).unwrap();
    let zips = report
        .artifacts
        .iter()
        .map(|a| (a.name.clone(), fs::read(&a.output).unwrap()))
        .collect();
    (report, zips)
}

fn zip_of<'a>(zips: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &zips.iter().find(|(n, _)| n == name).unwrap().1
}

/// The `bootstrap` of the zip output of artifact `name`.
fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn bootstrap(name: &str) -> Vec<u8> {
    let entries = zip_entries(&outputs().join(name).join("bootstrap.zip"));
    let (mode, bytes) = &entries["bootstrap"];
    assert_eq!(*mode, 0o755);
    bytes.clone()
}

/// Runs a bootstrap (bytes) against a local Runtime API; its answer.
fn invoke(scratch: &Path, name: &str, bytes: &[u8]) -> serde_json::Value {
    let path = scratch.join(name).join("bootstrap");
    write_executable(&path, bytes);
    let answer = runtime_api::invoke(
        &path,
        runtime_api::Arch::X86_64,
        r#"{"ping":1}"#,
        Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&answer).unwrap()
}

/// The plan of `manifest`: two calls, one package each, and why `b` is not with `a`.
fn check_plan(manifest: &str) {
    let out = lambda_batch(&["plan", "--format", "json", manifest]);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let groups = plan["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{plan:#}");
    for g in groups {
        assert_eq!(g["packages"].as_array().unwrap().len(), 1, "{g:#}");
        let rustflags = g["env"]["RUSTFLAGS"].as_str().unwrap();
        assert!(
            rustflags.contains(&format!("--remap-path-prefix={}=.", fixture().display())),
            "{rustflags}"
        );
        if g["packages"][0] == "onebin-b" {
            let split = &g["not_grouped_with"][0];
            assert_eq!(split["kind"], "features", "{g:#}");
            let reason = split["reason"].as_str().unwrap();
            assert!(
                reason.contains("onebin-shared") && reason.contains("extra"),
                "{reason}"
            );
        } else {
            assert_eq!(g["not_grouped_with"], serde_json::json!([]), "{g:#}");
        }
    }
    let text = lambda_batch(&["plan", manifest]).stdout;
    assert_eq!(
        text.matches("not with group 0: `onebin-b` and `onebin-a`")
            .count(),
        1,
        "{text}"
    );
}

/// Builds `manifest` (functions `a{suffix}` and `b{suffix}`), then `b{suffix}` alone twice:
/// `b`'s bootstrap, the same bytes each time.
fn check_builds(manifest: &str, only_b: &str, suffix: &str) -> Vec<u8> {
    check_plan(manifest);
    let (a_name, b_name) = (format!("a{suffix}"), format!("b{suffix}"));
    let (report, full) = run(&[manifest]);
    let scratch = tempfile::tempdir().unwrap();
    for (name, mode) in [(&a_name, "extra"), (&b_name, "plain")] {
        let answer = invoke(scratch.path(), name, &bootstrap(name));
        assert_eq!(answer["mode"], mode, "{name}: {answer}");
        assert_eq!(answer["bytes"], 10, "{name}: {answer}");
        let entry = report.artifacts.iter().find(|a| &a.name == name).unwrap();
        // The bin packages have no features of their own.
        assert_eq!(entry.features.as_deref(), Some(&[][..]), "{name}");
        assert!(
            entry
                .rustflags
                .iter()
                .any(|f| f.starts_with("--remap-path-prefix=") && f.ends_with("/registry/src=")),
            "{name}: {:?}",
            entry.rustflags
        );
    }
    let b = bootstrap(&b_name);

    // `--only`, then a manifest listing only `b`: the same bytes.
    let (_, only) = run(&["--only", &b_name, manifest]);
    assert_eq!(only.len(), 1);
    assert!(
        zip_of(&only, &b_name) == zip_of(&full, &b_name),
        "{b_name}: --only differs"
    );
    let (_, alone) = run(&[only_b]);
    assert!(
        zip_of(&alone, &b_name) == zip_of(&full, &b_name),
        "{b_name}: {only_b} differs"
    );
    b
}

#[test]
fn each_function_is_the_binary_cargo_builds_for_it_alone() {
    let _ = fs::remove_dir_all(outputs());
    let b = check_builds("lambda.kdl", "only-b.kdl", "");

    // What cargo builds for `onebin-b` alone, by hand, with the same rustflags.
    let (report, _) = run(&["only-b.kdl"]);
    let rustflags = report.artifacts[0].rustflags.join(" ");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Invocation::program(cargo)
        .args(["build", "--quiet", "-p", "onebin-b", "--bin", "onebin-b"])
        .args(["--target", "x86_64-unknown-linux-gnu", "--target-dir"])
        .arg(shared_target())
        .env("RUSTFLAGS", rustflags)
        .current_dir(fixture())
        .status(0);
    let by_hand =
        fs::read(shared_target().join("x86_64-unknown-linux-gnu/debug/onebin-b")).unwrap();
    assert!(
        by_hand == b,
        "cargo build -p onebin-b differs from b's bootstrap"
    );

    // The same with cargo-zigbuild (after every cargo build: cargo fingerprints the linker,
    // so alternating the two in one target dir would recompile every dependency each time).
    let b_zig = check_builds("zig.kdl", "only-b-zig.kdl", "-zig");
    assert!(b_zig != b, "zig links differently");

    // Both architectures with cargo-zigbuild in one target dir: two lanes, the host's triple
    // in a target dir of its own, and its executable still the bytes of the shared dir (the
    // zig.kdl build above, which is what a build there gives).
    both_architectures(&b_zig);
}

/// `zig-both.kdl`: the plan's two lanes, each bootstrap answering on its architecture, and
/// `b`'s x86_64 executable the same bytes as `b_zig`, built in the shared target dir.
fn both_architectures(b_zig: &[u8]) {
    let out = lambda_batch(&["plan", "--format", "json", "zig-both.kdl"]);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let shared = shared_target();
    let nested = shared.join(ZIG_HOST_DIR);
    let mut lanes = std::collections::BTreeMap::new();
    for g in plan["groups"].as_array().unwrap() {
        let target = g["target"].as_str().unwrap();
        let dir = if target.starts_with("x86_64") {
            &nested
        } else {
            &shared
        };
        assert_eq!(
            g["target_dir"].as_str().unwrap(),
            dir.to_str().unwrap(),
            "{g:#}"
        );
        assert_eq!(g["zig_cache_dir"], serde_json::Value::Null, "{g:#}");
        lanes.insert(target.to_string(), g["lane"].as_u64().unwrap());
    }
    assert_eq!(lanes.len(), 2, "{plan:#}");
    assert_ne!(
        lanes["x86_64-unknown-linux-gnu"],
        lanes["aarch64-unknown-linux-gnu"]
    );

    let (report, _) = run(&["zig-both.kdl"]);
    assert_eq!(report.artifacts.len(), 4);
    let scratch = tempfile::tempdir().unwrap();
    let arm = repo().join("target/onebinary-out/arm64");
    for (name, mode) in [("a-both", "extra"), ("b-both", "plain")] {
        let x86 = bootstrap(name);
        assert_eq!(invoke(scratch.path(), name, &x86)["mode"], mode, "{name}");
        let entries = zip_entries(&arm.join(name).join("bootstrap.zip"));
        let (entry_mode, arm_bytes) = &entries["bootstrap"];
        assert_eq!(*entry_mode, 0o755);
        let answer = runtime_api::invoke_bytes(
            name,
            arm_bytes,
            runtime_api::Arch::Arm64,
            r#"{"ping":1}"#,
            Duration::from_secs(120),
        )
        .unwrap_or_else(|e| panic!("{name} arm64: {e}"));
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["mode"], mode, "{name} arm64");
    }
    // The panic in the library's generated code names its file under the target dir:
    // remapped, the nested dir reads as the shared one.
    let b_both = bootstrap("b-both");
    let generated = "/onebin-shared-";
    assert!(
        contains(&b_both, generated) && contains(&b_both, "/out/event_size.rs"),
        "the executable does not name the generated file"
    );
    assert!(
        !contains(&b_both, ZIG_HOST_DIR),
        "the executable names the nested dir"
    );
    assert!(
        !contains(&b_both, repo().to_str().unwrap()),
        "the executable names the checkout"
    );
    assert!(
        b_both == b_zig,
        "b's x86_64 executable built in its own target dir differs from the shared dir's"
    );
    assert!(
        nested
            .join("x86_64-unknown-linux-gnu/debug/onebin-b")
            .is_file(),
        "the host's triple was not built in {nested:?}"
    );
}

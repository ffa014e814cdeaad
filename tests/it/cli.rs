//! The read-only commands on the real example monorepo: plan, list, schema, doctor.

use std::path::Path;

use serde_json::Value;

use crate::support::test::{Invocation, Run, describe};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `lambda-batch ARGS` at the root of the repository, exiting 0.
fn lb(args: &[&str]) -> Run {
    Invocation::lb(root(), args).status(0)
}

#[test]
fn plan_json_has_one_invocation_per_group_never_per_function() {
    let out = lb(&["plan", "--format", "json", "lambda.kdl"]);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    let groups = plan["groups"].as_array().unwrap();
    let artifacts = plan["artifacts"].as_array().unwrap();
    // 2 workspaces × 2 targets, 5 artifacts × 2 targets.
    assert_eq!(groups.len(), 4);
    assert_eq!(artifacts.len(), 10);
    for g in groups {
        let args: Vec<&str> = g["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(g["program"], "cargo-zigbuild");
        assert_eq!(args[0], "zigbuild");
        assert!(args.contains(&"--message-format=json-render-diagnostics"));
        assert!(args.contains(&"--release"));
        let target = args[args.iter().position(|a| *a == "--target").unwrap() + 1];
        assert!(
            target == "x86_64-unknown-linux-gnu.2.34" || target == "aarch64-unknown-linux-gnu.2.34",
            "{target}"
        );
        let bins = args.iter().filter(|a| **a == "--bin").count();
        assert_eq!(
            bins,
            g["artifacts"].as_array().unwrap().len(),
            "one --bin per artifact of the group"
        );
        assert!(bins >= 2, "several functions share one cargo call");
        let services = g["workspace_root"]
            .as_str()
            .unwrap()
            .ends_with("examples/services");
        // The extensions workspace sets strip itself: that optimization is left to it.
        assert_eq!(
            args.iter().any(|a| a.starts_with("profile.release.strip")),
            services
        );
        assert!(args.contains(&"profile.release.lto=\"thin\""));
        let cpu = if target.starts_with("x86_64") {
            "haswell"
        } else {
            "neoverse-n1"
        };
        // The path remapping first (the same for every group), then the optimization flags.
        let rustflags = g["env"]["RUSTFLAGS"].as_str().unwrap();
        assert!(
            rustflags.starts_with(&format!("--remap-path-prefix={}=. ", root().display()))
                && rustflags.ends_with(&format!(" -C target-cpu={cpu}")),
            "{rustflags}"
        );
    }
    // One shared target dir, but cargo-zigbuild's calls for this machine's own triple share no
    // unit with the others: they build in a dir of their own inside it, as a second lane.
    let mut lanes: std::collections::BTreeMap<u64, std::collections::BTreeSet<(&str, &str)>> =
        Default::default();
    for g in groups {
        let target = g["target"].as_str().unwrap();
        let dir = g["target_dir"].as_str().unwrap();
        let nested = dir.ends_with("/lambda-batch/zig-host");
        assert_eq!(nested, target.starts_with("x86_64"), "{target} in {dir}");
        lanes
            .entry(g["lane"].as_u64().unwrap())
            .or_default()
            .insert((target, dir));
    }
    assert_eq!(lanes.len(), 2, "{lanes:?}");
    assert!(lanes.values().all(|l| l.len() == 1), "{lanes:?}");
}

#[test]
fn plan_text_shows_the_commands() {
    let out = lb(&["plan", "lambda.kdl"]);
    let text = out.stdout;
    assert!(text.contains("4 cargo invocations"), "{text}");
    assert_eq!(text.matches("$ RUSTFLAGS=").count(), 4, "{text}");
    assert!(text.contains("→ function order-events (orders/order-events) → target/lambda/x86_64/orders/bootstrap.zip"), "{text}");
}

#[test]
fn list_has_one_row_per_artifact_and_target() {
    let out = lb(&["list", "lambda.kdl"]);
    let text = out.stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 11, "{text}");
    assert!(lines[0].starts_with("NAME") && lines[0].contains("OUTPUT"));
    assert!(text.contains("target/lambda/arm64/extensions/secrets-cache.zip"));
    let out = lb(&["list", "--format", "json", "lambda.kdl"]);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 10);
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "telemetry" && r["kind"] == "extension" && r["arch"] == "arm64")
    );
    // The JSON form holds absolute paths, like plan's.
    for r in rows.as_array().unwrap() {
        let output = r["output"].as_str().unwrap();
        assert!(output.starts_with('/'), "{output}");
    }
}

#[test]
fn schema_prints_what_is_in_schema_dir() {
    let out = lb(&["schema"]);
    assert_eq!(
        out.stdout,
        std::fs::read_to_string(root().join("schema/lambda.kdl-schema")).unwrap()
    );
    let out = lb(&["schema", "--format", "json"]);
    assert_eq!(
        out.stdout,
        std::fs::read_to_string(root().join("schema/lambda.schema.json")).unwrap()
    );
}

#[test]
fn without_cargo_every_command_that_reads_workspaces_exits_3_naming_it() {
    let (dir, manifest) = manifest_with_compiler("cargo");
    let empty = dir.path().join("empty-bin");
    std::fs::create_dir(&empty).unwrap();
    for cmd in ["check", "plan", "list", "doctor", "run"] {
        let out = Invocation::lb(root(), &[cmd])
            .arg(&manifest)
            .env("PATH", &empty)
            .env_remove("CARGO")
            .output();
        let all = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(out.code, 3, "{cmd}: {all}");
        assert!(
            all.contains("cargo") && all.contains("rustup.rs"),
            "{cmd}: {all}"
        );
        assert!(!all.contains("invalid"), "{cmd}: {all}");
    }
}

#[test]
fn doctor_names_missing_tools_and_exits_3() {
    let (dir, manifest) = manifest_with_compiler("cross");
    // A PATH with cargo but without cross or docker.
    let cargo = which("cargo");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(&cargo, bin.join("cargo")).unwrap();
    let out = Invocation::lb(root(), &["doctor"])
        .arg(&manifest)
        .env("PATH", &bin)
        .status(3);
    let stdout = out.stdout;
    let cross = stdout
        .lines()
        .find(|l| l.starts_with("cross "))
        .expect("a cross row");
    assert!(
        cross.contains("MISSING") && cross.contains("cargo install cross"),
        "{cross}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("docker or podman") && l.contains("MISSING"))
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("cargo ") && l.contains("ok"))
    );
}

#[test]
fn doctor_is_happy_when_everything_is_there() {
    let (_dir, manifest) = manifest_with_compiler("cargo");
    let out = lb(&["doctor", manifest.to_str().unwrap()]);
    assert!(
        out.stdout.contains("rust target x86_64-unknown-linux-gnu"),
        "{}",
        describe(&out)
    );
}

/// A manifest building get-product of the examples with `compiler`, in a temp dir.
fn manifest_with_compiler(compiler: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("lambda.kdl");
    let services = root().join("examples/services");
    let text = format!(
        "workspace \"{}\" {{\n    compiler \"{compiler}\"\n    function \"get-product\"\n}}\n",
        services.display()
    );
    std::fs::write(&manifest, text).unwrap();
    (dir, manifest)
}

fn which(tool: &str) -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap()
}

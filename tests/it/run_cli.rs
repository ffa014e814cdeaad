//! `run`'s command line before anything builds: usage errors exit 2, a missing build program
//! exits 3 naming the tool and how to install it, `--dry-run` prints the plan.

use crate::support::test;
use std::path::Path;

use crate::support::test::{Invocation, Test, bin_source, describe, write_executable};

fn fixture(compiler: &str) -> Test {
    let fx = Test::new("cli");
    fx.workspace("svc", "cl-svc", &[("cl-one", &bin_source("cl-one"))]);
    fx.manifest(&format!(
        "workspace \"svc\" {{\n    compiler \"{compiler}\"\n    arch \"x86_64\"\n    function \"cl-one\"\n}}"
    ));
    fx
}

fn stderr(output: &test::Run) -> String {
    output.stderr.clone()
}

#[test]
fn only_that_matches_nothing_is_a_usage_error_listing_the_artifacts() {
    let fx = fixture("cargo");
    let output = fx.lb(&["run", "--only", "nope-*"]).status(2);
    assert!(
        stderr(&output).contains("`--only nope-*` matches no artifact"),
        "{}",
        describe(&output)
    );
    assert!(
        stderr(&output).contains("the artifacts are: cl-one"),
        "{}",
        describe(&output)
    );
    assert!(!fx.path().join("out").exists());
}

#[test]
fn bad_arch_jobs_and_globs_are_usage_errors() {
    let fx = fixture("cargo");
    for (args, needle) in [
        (
            &["run", "--arch", "mips"][..],
            "invalid value 'mips' for '--arch <ARCH>'",
        ),
        (
            &["run", "-j", "0"][..],
            "invalid value '0' for '--jobs <JOBS>': must be at least 1",
        ),
        (&["run", "--only", "a[b"][..], "not a valid glob"),
    ] {
        let output = fx.lb(args).status(2);
        assert!(
            stderr(&output).contains(needle),
            "{args:?}: {}",
            describe(&output)
        );
    }
    // An architecture the manifest does not build leaves nothing to do.
    let output = fx.lb(&["run", "--arch", "arm64"]).status(2);
    assert!(
        stderr(&output).contains("nothing to build"),
        "{}",
        describe(&output)
    );
}

#[test]
fn a_missing_build_program_exits_3_with_how_to_install_it() {
    let fx = fixture("cross");
    // Keep cargo (resolution runs `cargo metadata`), lose everything else.
    let cargo = which::which("cargo").expect("cargo on PATH");
    let cargo_dir = cargo.parent().unwrap_or(Path::new("/"));
    let output = fx
        .lb(&["run"])
        .env("PATH", format!("{}:/usr/bin:/bin", cargo_dir.display()))
        .status(3);
    let err = stderr(&output);
    assert!(
        err.contains("`cross` is not installed"),
        "{}",
        describe(&output)
    );
    assert!(
        err.contains("cl-one"),
        "names what needs it: {}",
        describe(&output)
    );
    assert!(err.contains("cargo install cross"), "{}", describe(&output));
    assert!(!fx.path().join("out").exists());
}

#[test]
fn a_missing_program_fails_only_its_artifacts_under_keep_going_and_the_report_says_why() {
    let fx = Test::new("cli-missing");
    fx.workspace(
        "svc",
        "cl-svc2",
        &[
            ("cl-crossed", &bin_source("cl-crossed")),
            ("cl-plain", &bin_source("cl-plain")),
        ],
    );
    fx.manifest(
        "workspace \"svc\" {\n    arch \"x86_64\"\n    function \"cl-crossed\" {\n        compiler \"cross\"\n    }\n    function \"cl-plain\"\n}",
    );
    let cargo = which::which("cargo").expect("cargo on PATH");
    let cargo_dir = cargo.parent().unwrap_or(Path::new("/"));
    let path = format!("{}:/usr/bin:/bin", cargo_dir.display());
    let report = fx.path().join("report.json");
    let run = |extra: &[&str], status: i32| {
        let _ = std::fs::remove_file(&report);
        let mut args = vec!["run", "--report", report.to_str().unwrap()];
        args.extend_from_slice(extra);
        let output = fx.lb(&args).env("PATH", &path).status(status);
        let text = std::fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("no report ({e}): {}", describe(&output)));
        let report: lambda_batch::report::Report = serde_json::from_str(&text).unwrap();
        (output, report)
    };
    let by_name = |r: &lambda_batch::report::Report, name: &str| {
        r.artifacts
            .iter()
            .find(|a| a.name == name)
            .cloned()
            .unwrap()
    };
    use lambda_batch::report::Status;

    // Fail-fast: nothing is built, exit 3, and the report names the missing tool.
    let (_, report) = run(&[], 3);
    assert!(!fx.path().join("out").exists());
    let crossed = by_name(&report, "cl-crossed");
    assert_eq!(crossed.status, Status::Failed);
    assert!(
        crossed
            .error
            .as_deref()
            .unwrap_or("")
            .contains("`cross` is not installed"),
        "{crossed:?}"
    );
    assert_eq!(by_name(&report, "cl-plain").status, Status::Failed);

    // --keep-going builds everything it can; a missing tool still exits 3.
    let (output, report) = run(&["--keep-going"], 3);
    assert_eq!(by_name(&report, "cl-crossed").status, Status::Failed);
    assert_eq!(by_name(&report, "cl-plain").status, Status::Built);
    assert!(
        fx.path()
            .join("out/x86_64/cl-plain/bootstrap.zip")
            .is_file()
    );
    assert!(
        stderr(&output).contains("cargo install cross"),
        "{}",
        describe(&output)
    );
}

#[test]
fn a_rust_target_without_its_standard_library_exits_3_with_the_rustup_command() {
    // A rustc that reports every target's standard library as missing (it passes everything
    // else to the real one), so that the check is exercised on every machine.
    let fx = Test::new("cli-target");
    let rustc = fx.path().join("rustc-without-std");
    write_executable(
        &rustc,
        "#!/bin/sh\ncase \"$*\" in\n    *\"--print target-libdir\"*) echo \"$PWD/no-such-libdir\"; exit 0 ;;\nesac\nexec rustc \"$@\"\n",
    );
    fx.workspace("svc", "cl-svc3", &[("cl-nostd", &bin_source("cl-nostd"))]);
    fx.manifest(
        "workspace \"svc\" {\n    compiler \"cargo\"\n    arch \"x86_64\"\n    function \"cl-nostd\"\n}",
    );
    expect_missing_std(
        fx.lb(&["run"]).env("RUSTC", &rustc),
        "x86_64-unknown-linux-gnu",
    );

    // With the real rustc, for a target whose standard library this machine lacks.
    let target = "aarch64-unknown-linux-musl";
    let libdir = Invocation::program("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .status(0);
    let libdir = libdir.stdout.trim().to_string();
    if Path::new(&libdir).is_dir() {
        eprintln!("{target} is installed here: only the stand-in rustc was tested");
        return;
    }
    let fx = Test::new("cli-target-real");
    fx.workspace("svc", "cl-svc3", &[("cl-musl", &bin_source("cl-musl"))]);
    fx.manifest(&format!(
        "workspace \"svc\" {{\n    compiler \"cargo\"\n    arch \"{target}\"\n    function \"cl-musl\"\n}}"
    ));
    expect_missing_std(fx.lb(&["run"]), target);
}

/// A run that stopped before cargo, exit 3, naming `rustup target add TARGET`.
#[track_caller]
fn expect_missing_std(run: Invocation, target: &str) {
    let output = &run.status(3);
    assert!(
        stderr(output).contains(&format!("rustup target add {target}")),
        "{}",
        describe(output)
    );
    assert!(
        !stderr(output).contains("can't find crate"),
        "cargo should not have run: {}",
        describe(output)
    );
}

#[test]
fn dry_run_prints_the_plan_and_builds_nothing() {
    let fx = fixture("cargo");
    let output = fx.lb(&["run", "--dry-run"]).status(0);
    let stdout = output.stdout.as_str();
    assert!(
        stdout.contains("cargo build --message-format=json-render-diagnostics"),
        "{stdout}"
    );
    assert!(stdout.contains("cl-one"), "{stdout}");
    assert!(!stdout.contains("--keep-going"), "{stdout}");
    assert!(!fx.path().join("out").exists());
    // The exact commands: with --keep-going, cargo gets it too.
    let output = fx.lb(&["run", "--dry-run", "--keep-going"]).status(0);
    let stdout = output.stdout.as_str();
    assert!(stdout.contains("--keep-going"), "{stdout}");
}

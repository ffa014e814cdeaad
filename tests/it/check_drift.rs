//! `check` warns where lambda.kdl drifts from cargo-lambda's configuration of the same bin:
//! one test per class of keys, each with a one-package workspace whose Cargo.toml sets the key
//! and a lambda.kdl that says otherwise. Warnings keep the exit code 0, except with
//! `--deny-warnings` (2); `--format json` gives them with their severity.

use crate::support::test::{Run, Test};

/// A package `fn` (bins `fn` and `other`, features `a` and `b`, files `LICENSE` and
/// `assets/x.json`) whose `[package.metadata.lambda.build]` table is `build`, and `lambda.kdl`
/// declaring `function "fn"` with `settings` inside it.
fn fixture(build: &str, settings: &str) -> Test {
    let f = Test::empty();
    f.write(
        "Cargo.toml",
        format!(
            "[package]\nname = \"fn\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\na = []\nb = []\n\n[workspace]\n\n[package.metadata.lambda.build]\n{build}\n"
        ),
    );
    f.write("src/main.rs", "fn main() {}\n");
    f.write("src/bin/other.rs", "fn main() {}\n");
    f.write("LICENSE", "license\n");
    f.write("assets/x.json", "{}\n");
    f.write(
        "lambda.kdl",
        format!("workspace \".\" {{\n    function \"fn\" {{\n{settings}\n    }}\n}}\n"),
    );
    f
}

/// Runs `check` expecting exactly one drift warning of `class`, naming `key`, and saying what
/// lambda.kdl and cargo-lambda each build; then `--deny-warnings` fails and JSON has it.
#[track_caller]
fn assert_drift(f: &Test, class: &str, key: &str, ours: &str, theirs: &str) -> Run {
    let run = f.lb(&["check"]).status(0);
    let heading = format!(
        "`fn` drifts from cargo-lambda's configuration ({class}): lambda.kdl says {ours}, cargo-lambda's configuration {theirs}"
    );
    assert!(
        run.stderr.contains(&heading),
        "{heading:?} in\n{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("drifts from").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "Cargo.toml sets [package.metadata.lambda.build] {key}"
        )),
        "{key} in\n{}",
        run.stderr
    );
    // The warning points at the artifact in lambda.kdl.
    assert!(run.stderr.contains("╭─[lambda.kdl:2:14]"), "{}", run.stderr);
    assert!(run.stderr.contains("lambda.kdl: ok"), "{}", run.stderr);
    let denied = f.lb(&["check", "--deny-warnings"]).status(2);
    assert!(
        denied.stderr.contains("warnings are denied"),
        "{}",
        denied.stderr
    );
    let json = f.lb(&["check", "--format", "json"]).status(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{}", json.stdout);
    assert_eq!(v[0]["severity"], "warning");
    assert_eq!(v[0]["code"], "lambda_batch::drift");
    assert_eq!(
        (v[0]["line"].as_u64(), v[0]["column"].as_u64()),
        (Some(2), Some(14))
    );
    f.lb(&["check", "--format", "json", "--deny-warnings"])
        .status(2);
    run
}

#[test]
fn output_format() {
    let f = fixture("output_format = \"zip\"", "");
    assert_drift(
        &f,
        "output format",
        "output_format = \"zip\"",
        "binary",
        "zip",
    );
}

#[test]
fn architecture() {
    let f = fixture(
        "arm64 = true",
        "        arch \"x86_64\" \"arm64\"\n        lambda-dir \"out/{arch}\"",
    );
    assert_drift(
        &f,
        "architectures",
        "arm64 = true",
        "arm64, x86_64",
        "arm64",
    );
    // A pinned glibc is part of the target.
    let f = fixture(
        "target = [\"x86_64-unknown-linux-gnu.2.17\"]",
        "        arch \"x86_64\"",
    );
    assert_drift(
        &f,
        "architectures",
        "target = [\"x86_64-unknown-linux-gnu.2.17\"]",
        "x86_64",
        "x86_64-unknown-linux-gnu.2.17",
    );
}

#[test]
fn features() {
    let f = fixture("features = [\"a\"]", "        features \"a\" \"b\"");
    assert_drift(&f, "features", "features = [\"a\"]", "a, b", "a");
    let f = fixture("no_default_features = true", "");
    assert_drift(
        &f,
        "features",
        "no_default_features = true",
        "with default features",
        "without default features",
    );
}

#[test]
fn includes() {
    let f = fixture(
        "include = [\"static:assets\", \"LICENSE\"]",
        "        include \"assets\"\n        include \"LICENSE\"",
    );
    assert_drift(
        &f,
        "included files",
        "include = [\"static:assets\", \"LICENSE\"]",
        "2 files (only `assets/x.json`)",
        "2 files (only `static/x.json`)",
    );
}

#[test]
fn compiler() {
    let f = fixture("compiler = { type = \"cross\" }", "");
    assert_drift(
        &f,
        "compiler",
        "compiler = { type = \"cross\" }",
        "cargo-zigbuild",
        "cross",
    );
}

#[test]
fn layout() {
    let f = fixture("flatten = \"fn\"", "");
    assert_drift(
        &f,
        "output layout",
        "flatten = \"fn\"",
        "a function",
        "a flattened function",
    );
    let f = fixture("extension = true\ninternal = true", "");
    assert_drift(
        &f,
        "output layout",
        "extension = true",
        "a function",
        "an internal extension",
    );
}

#[test]
fn lambda_dir() {
    let f = fixture("lambda_dir = \"dist\"", "");
    let run = f.lb(&["check"]).status(0);
    assert!(
        run.stderr.contains("(output directory): lambda.kdl says /"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("/target/lambda, cargo-lambda's configuration /"),
        "{}",
        run.stderr
    );
    f.lb(&["check", "--deny-warnings"]).status(2);
}

#[test]
fn target_dir() {
    let f = fixture("target_dir = \"build\"", "");
    let run = f.lb(&["check"]).status(0);
    assert!(
        run.stderr.contains("(cargo target directory)") && run.stderr.contains("/build"),
        "{}",
        run.stderr
    );
    f.lb(&["check", "--deny-warnings"]).status(2);
}

#[test]
fn profile() {
    let f = fixture("release = true", "");
    assert_drift(&f, "profile", "release = true", "dev", "release");
}

#[test]
fn optimizations() {
    let f = fixture(
        "disable_optimizations = true",
        "        profile \"release\"",
    );
    assert_drift(
        &f,
        "release optimizations",
        "disable_optimizations = true",
        "cargo-lambda's release optimizations",
        "disabled",
    );
    // Without the release profile there are no optimizations to disable: no drift.
    let f = fixture("disable_optimizations = true", "");
    f.lb(&["check", "--deny-warnings"]).status(0);
}

#[test]
fn env() {
    let f = fixture(
        "env_var = [\"RUST_LOG=debug\"]",
        "        env RUST_LOG=\"info\"",
    );
    assert_drift(
        &f,
        "build environment",
        "env_var = [\"RUST_LOG=debug\"]",
        "RUST_LOG=info",
        "RUST_LOG=debug",
    );
}

#[test]
fn runtime() {
    // The runtime is a deploy key.
    let f2 = fixture("", "");
    let cargo = f2.read("Cargo.toml").replace(
        "[package.metadata.lambda.build]\n",
        "[package.metadata.lambda.deploy]\nruntime = \"provided.al2\"\n",
    );
    f2.write("Cargo.toml", &cargo);
    let run = f2.lb(&["check"]).status(0);
    assert!(
        run.stderr.contains(
            "(runtime): lambda.kdl says provided.al2023, cargo-lambda's configuration provided.al2"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("[package.metadata.lambda.deploy] runtime = \"provided.al2\""),
        "{}",
        run.stderr
    );
    f2.lb(&["check", "--deny-warnings"]).status(2);
}

#[test]
fn agreeing_or_absent_configuration_gives_no_warning() {
    let f = fixture(
        "output_format = \"zip\"\nfeatures = [\"a\"]\ninclude = [\"LICENSE\"]\narm64 = true",
        "        output-format \"zip\"\n        features \"a\"\n        include \"LICENSE\"\n        arch \"arm64\"",
    );
    let run = f.lb(&["check", "--deny-warnings"]).status(0);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_eq!(
        f.lb(&["check", "--format", "json"]).status(0).stdout.trim(),
        "[]"
    );
    // Keys left out of the configuration are cargo-lambda's defaults or command-line flags:
    // nothing to compare.
    let f = fixture("", "        output-format \"zip\"\n        arch \"arm64\"");
    f.lb(&["check", "--deny-warnings"]).status(0);
}

#[test]
fn cargo_lambda_toml_keys_name_the_file() {
    let f = fixture("", "");
    f.write("CargoLambda.toml", "[build]\noutput_format = \"zip\"\n");
    let run = f.lb(&["check"]).status(0);
    assert!(
        run.stderr
            .contains("CargoLambda.toml sets [build] output_format = \"zip\""),
        "{}",
        run.stderr
    );
    // With a context, its own table is compared instead.
    f.write(
        "CargoLambda.toml",
        "[build]\noutput_format = \"zip\"\n[ci.build]\noutput_format = \"binary\"\n",
    );
    f.lb(&["check", "--context", "ci", "--deny-warnings"])
        .status(0);
    f.lb(&["check", "--deny-warnings"]).status(2);
}

//! `init` and `import` carry cargo-lambda's configuration over: every build key at every level
//! cargo-lambda reads (tests/fixtures/cargo-lambda), checked line by line against the expected
//! manifests, which then pass `check` without a drift warning.

use crate::support::test::{Test, repo};

const FIXTURE: &str = "tests/fixtures/cargo-lambda";

fn expected(name: &str) -> String {
    std::fs::read_to_string(repo().join(FIXTURE).join("expected").join(name)).unwrap()
}

/// Compares two manifests line by line, naming the first line that differs.
#[track_caller]
fn assert_lines(got: &str, want: &str) {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {} differs; the whole text:\n{got}", i + 1);
    }
    assert_eq!(
        got.lines().count(),
        want.lines().count(),
        "line count differs:\n{got}"
    );
    assert_eq!(got, want, "line ends differ");
}

#[test]
fn init_carries_every_level_over_and_checks_without_drift() {
    let f = Test::copy_of(FIXTURE);
    let run = f.lb(&["init"]).status(0);
    assert!(
        run.stderr
            .contains("wrote 4 functions and 1 extensions in 2 workspaces"),
        "{}",
        run.stderr
    );
    assert_lines(&f.manifest_text(), &expected("root.kdl"));
    // Every key without an equivalent is listed, once.
    assert!(
        run.stderr
            .contains("6 cargo-lambda settings were not carried over"),
        "{}",
        run.stderr
    );
    for key in [
        "[build] jobs = 2",
        "compiler.extra_args = [\"--locked\"]",
        "env_file = \".env.telemetry\"",
        "skip_target_check = true",
    ] {
        assert_eq!(run.stderr.matches(key).count(), 1, "{key}: {}", run.stderr);
    }
    assert!(!run.stderr.contains("drifts"), "{}", run.stderr);
    let check = f.lb(&["check", "--deny-warnings"]).status(0);
    assert!(!check.stderr.contains("warning"), "{}", check.stderr);
    f.lb(&["fmt", "--check"]).status(0);
}

#[test]
fn one_workspace_takes_cargo_lambda_toml_as_its_defaults() {
    let f = Test::copy_of(FIXTURE);
    f.lb_in("shop", &["init"]).status(0);
    assert_lines(&f.read("shop/lambda.kdl"), &expected("shop.kdl"));
    f.lb_in("shop", &["check", "--deny-warnings"]).status(0);
    f.lb_in("shop", &["fmt", "--check"]).status(0);
}

#[test]
fn a_context_reads_its_tables_and_check_compares_with_the_same_context() {
    let f = Test::copy_of(FIXTURE);
    f.lb_in("shop", &["init", "--context", "production"])
        .status(0);
    assert_lines(&f.read("shop/lambda.kdl"), &expected("shop-production.kdl"));
    f.lb_in(
        "shop",
        &["check", "--context", "production", "--deny-warnings"],
    )
    .status(0);
    // Without the context, cargo-lambda reads [build]: the manifest drifts from it.
    let run = f.lb_in("shop", &["check"]).status(0);
    assert!(
        run.stderr
            .contains("drifts from cargo-lambda's configuration (output format)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("CargoLambda.toml sets [build] output_format = \"binary\""),
        "{}",
        run.stderr
    );
    f.lb_in("shop", &["check", "--deny-warnings"]).status(2);
}

/// Every key at each level, one workspace per level: each table sets them all.
#[test]
fn every_key_at_every_level() {
    let f = Test::copy_of("tests/fixtures/cargo-lambda-levels");
    let run = f.lb(&["init"]).status(0);
    assert_lines(&f.manifest_text(), &expected("levels.kdl"));
    // Per level: `env_file` has no equivalent, and `target` with `arm64` is refused by
    // cargo-lambda.
    assert!(
        run.stderr
            .contains("10 cargo-lambda settings were not carried over"),
        "{}",
        run.stderr
    );
    f.lb(&["check", "--deny-warnings"]).status(0);
    std::fs::remove_file(f.path().join("lambda.kdl")).unwrap();
    f.lb(&["init", "--context", "ci"]).status(0);
    assert_lines(&f.manifest_text(), &expected("levels-ci.kdl"));
    f.lb(&["check", "--context", "ci", "--deny-warnings"])
        .status(0);
    // Without the context, cargo-lambda reads [build], which differs from [ci.build] (and
    // [global.build]) in eight classes of keys.
    let run = f.lb(&["check"]).status(0);
    for class in [
        "output format",
        "features",
        "included files",
        "compiler",
        "output directory",
        "cargo target directory",
        "build environment",
        "runtime",
    ] {
        let heading = format!("`lv-toml` drifts from cargo-lambda's configuration ({class})");
        assert!(run.stderr.contains(&heading), "{class}: {}", run.stderr);
    }
    assert_eq!(
        run.stderr.matches("drifts from").count(),
        8,
        "{}",
        run.stderr
    );
}

/// cargo-lambda's own `workspace-with-package-config` fixture: no Lambda dependency, only
/// `[package.metadata.lambda]`.
#[test]
fn package_metadata_alone_makes_a_lambda_package() {
    let f = Test::empty();
    f.write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"package-1\"]",
    );
    f.write(
        "package-1/Cargo.toml",
        "[package]\nname = \"package-1\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.lambda.build]\noutput_format = \"zip\"\nfeatures = [\"lol\"]\n\n[features]\nlol = []\n\n[[bin]]\nname = \"binary-function-1\"\npath = \"src/main.rs\"\ntest = false",
    );
    f.write("package-1/src/main.rs", "fn main() {}\n");
    f.lb(&["init"]).status(0);
    let text = f.manifest_text();
    assert!(
        text.contains(
            "workspace \".\" {\n    // package package-1 ([package.metadata.lambda])\n    function \"binary-function-1\" {\n        output-format \"zip\"  // from package-1/Cargo.toml [package.metadata.lambda.build] output_format\n        features \"lol\"  // from package-1/Cargo.toml [package.metadata.lambda.build] features\n    }\n}\n"
        ),
        "{text}"
    );
    f.lb(&["check", "--deny-warnings"]).status(0);
}

/// A manifest written by hand, with comments and settings that disagree with cargo-lambda's
/// configuration; `worker` is found by `discover=true`, `telemetry` is left out.
const HAND_WRITTEN: &str = "\
// Our functions.
defaults {
    profile \"dev\"  // quick builds
    output-format \"zip\"
}

workspace \".\" discover=true {
    // the public API
    function \"api\" {
        output-format \"binary\"
        features \"admin\"
    }
    function \"api-admin\"
}
";

#[test]
fn import_edits_an_existing_manifest_keeping_its_comments() {
    let f = Test::copy_of(FIXTURE);
    // A dependency named lambda_runtime makes `worker` a function for discover=true.
    f.write(
        "shop/stub/Cargo.toml",
        "[package]\nname = \"lambda_runtime\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    f.write("shop/stub/src/lib.rs", "");
    let worker = f.read("shop/worker/Cargo.toml");
    f.write(
        "shop/worker/Cargo.toml",
        format!("{worker}\n[dependencies]\nlambda_runtime = {{ path = \"../stub\" }}\n"),
    );
    f.write("shop/lambda.kdl", HAND_WRITTEN);
    let before = f.hash("shop/lambda.kdl");
    let check = f.lb_in("shop", &["check"]).status(0);
    assert!(check.stderr.contains("drifts"), "{}", check.stderr);
    f.lb_in("shop", &["check", "--deny-warnings"]).status(2);

    let dry = f.lb_in("shop", &["import", "--dry-run"]).status(0);
    assert_eq!(
        f.hash("shop/lambda.kdl"),
        before,
        "--dry-run writes nothing"
    );
    assert!(
        dry.stdout
            .starts_with("--- lambda.kdl\n+++ lambda.kdl (imported)\n@@ "),
        "{}",
        dry.stdout
    );
    for line in [
        "-        output-format \"binary\"\n",
        "+        features \"pkg\"  // from Cargo.toml [package.metadata.lambda.build] features\n",
        "+    function \"worker\" {\n",
    ] {
        assert!(dry.stdout.contains(line), "{line:?} in\n{}", dry.stdout);
    }
    // Configured bins the manifest does not build are pointed out, not added.
    assert!(
        dry.stderr.contains("`telemetry` (package `telemetry`)"),
        "{}",
        dry.stderr
    );

    let run = f.lb_in("shop", &["import"]).status(0);
    assert!(
        run.stderr
            .contains("carried over cargo-lambda's configuration"),
        "{}",
        run.stderr
    );
    let text = f.read("shop/lambda.kdl");
    // The dry run showed what import wrote.
    for added in dry
        .stdout
        .lines()
        .skip(2)
        .filter_map(|l| l.strip_prefix('+'))
    {
        assert!(text.contains(added), "{added:?} in\n{text}");
    }
    for kept in [
        "// Our functions.\n",
        "    profile \"release\"  // quick builds\n",
        "    // the public API\n",
        "    function \"api-admin\" flatten=true",
    ] {
        assert!(text.contains(kept), "{kept:?} in\n{text}");
    }
    assert!(!text.contains("telemetry"), "{text}");
    let check = f.lb_in("shop", &["check", "--deny-warnings"]).status(0);
    assert!(!check.stderr.contains("warning"), "{}", check.stderr);
    // A second import has nothing left to do.
    let again = f.lb_in("shop", &["import"]).status(0);
    assert!(again.stderr.contains("unchanged"), "{}", again.stderr);
}

#[test]
fn import_refuses_an_invalid_manifest_and_leaves_it_alone() {
    let f = Test::copy_of(FIXTURE);
    f.write(
        "shop/lambda.kdl",
        "workspace \".\" {\n    function \"nope\"\n}\n",
    );
    let before = f.hash("shop/lambda.kdl");
    let run = f.lb_in("shop", &["import"]).status(2);
    assert!(
        run.stderr.contains("no bin target `nope`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(f.hash("shop/lambda.kdl"), before);
}

#[test]
fn import_without_cargo_lambda_configuration_changes_nothing() {
    let f = Test::examples();
    let before = f.hash("lambda.kdl");
    let run = f.lb(&["import"]).status(0);
    assert!(
        run.stderr.contains("nothing to carry over"),
        "{}",
        run.stderr
    );
    assert_eq!(f.hash("lambda.kdl"), before);
}

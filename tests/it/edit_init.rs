//! `init` on the example monorepo: finds every Lambda bin by its dependencies, writes a
//! manifest `check` accepts and `fmt` leaves alone, and never overwrites one.

use crate::support::test::Test;

#[test]
fn init_writes_a_manifest_that_checks_and_lists_every_artifact() {
    let f = Test::bare();
    let run = f.lb(&["init"]).status(0);
    assert!(
        run.stderr
            .contains("wrote 3 functions and 2 extensions in 2 workspaces"),
        "{}",
        run.stderr
    );
    let text = f.manifest_text();
    for node in [
        "workspace \"examples/extensions\" {",
        "extension \"secrets-cache\"\n",
        "extension \"telemetry\"\n",
        "workspace \"examples/services\" {",
        "function \"get-product\"\n",
        "function \"put-product\"\n",
        "function \"order-events\"\n",
        "// package telemetry-ext (lambda-extension)",
        "// package catalog-api (lambda_runtime)",
    ] {
        assert!(text.contains(node), "no {node:?} in\n{text}");
    }
    let run = f.lb(&["check"]).status(0);
    assert!(run.stderr.contains("5 artifacts"), "{}", run.stderr);
    f.lb(&["fmt", "--check"]).status(0);
    // Two workspaces: one shared target dir, so their dependencies are compiled once.
    assert!(
        text.contains("\n    target-dir \"target/shared\""),
        "{text}"
    );
    let plan = f.lb(&["plan", "--format", "json"]).status(0);
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let dirs: std::collections::BTreeSet<&str> = plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["target_dir"].as_str().unwrap())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(
        dirs.iter().all(|d| d.ends_with("/target/shared")),
        "{dirs:?}"
    );
}

#[test]
fn init_of_one_workspace_leaves_its_own_target_dir() {
    let f = Test::bare();
    f.lb_in("examples/extensions", &["init"]).status(0);
    let text = f.read("examples/extensions/lambda.kdl");
    assert!(
        text.contains("\n    // target-dir \"target/shared\""),
        "{text}"
    );
    let plan = f
        .lb_in("examples/extensions", &["plan", "--format", "json"])
        .status(0);
    assert!(!plan.stdout.contains("--target-dir"), "{}", plan.stdout);
}

#[test]
fn init_never_overwrites() {
    let f = Test::examples();
    let before = f.hash("lambda.kdl");
    let run = f.lb(&["init"]).status(2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(f.hash("lambda.kdl"), before);
}

#[test]
fn init_writes_where_asked_with_paths_relative_to_it() {
    let f = Test::bare();
    f.lb(&["init", "--path", "deploy/lambda.kdl"]).status(0);
    let text = f.read("deploy/lambda.kdl");
    assert!(
        text.contains("workspace \"../examples/services\""),
        "{text}"
    );
    f.lb(&["check", "deploy/lambda.kdl"]).status(0);
    f.lb(&["init", "--path", "deploy"]).status(2);
}

#[test]
fn init_skips_target_and_hidden_directories_and_names_clashes() {
    let f = Test::bare();
    // A copy of a package under target/ or a hidden directory is not a workspace to build.
    let orders = f.read("examples/services/orders/Cargo.toml");
    let bin = f.read("examples/services/orders/src/bin/order-events.rs");
    for dir in ["target/copy", ".hidden/copy"] {
        f.write(&format!("{dir}/Cargo.toml"), &orders);
        f.write(&format!("{dir}/src/bin/order-events.rs"), &bin);
    }
    // A package of no workspace, with a bin named like one of the services'.
    let lone = orders
        .replace("name = \"orders\"", "name = \"orders-copy\"")
        .replace(".workspace = true", " = \"*\"");
    assert!(!lone.contains("workspace"), "{lone}");
    f.write("lone/Cargo.toml", &lone);
    f.write("lone/src/bin/order-events.rs", &bin);
    f.lb(&["init"]).status(0);
    let text = f.manifest_text();
    assert!(
        !text.contains("target/copy") && !text.contains(".hidden"),
        "{text}"
    );
    // Its bin's name is taken by the services workspace: the artifact is renamed.
    assert!(
        text.contains("workspace \"lone\" {\n    // package orders-copy (lambda_runtime)\n    function \"orders-copy-order-events\" bin=\"order-events\"\n}"),
        "{text}"
    );
    f.assert_valid();
}

#[test]
fn init_with_nothing_to_find_says_what_it_looked_for() {
    let f = Test::empty();
    let run = f.lb(&["init"]).status(2);
    assert!(
        run.stderr.contains("found no Lambda function or extension"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("lambda_runtime"), "{}", run.stderr);
    assert!(!f.path().join("lambda.kdl").exists());

    f.write(
        "tool/Cargo.toml",
        "[package]\nname = \"tool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    f.write("tool/src/main.rs", "fn main() {}\n");
    let run = f.lb(&["init"]).status(2);
    assert!(run.stderr.contains("it read tool"), "{}", run.stderr);
    assert!(!f.path().join("lambda.kdl").exists());
}

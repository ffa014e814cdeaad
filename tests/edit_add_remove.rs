//! `add` and `remove` on a copy of the example monorepo: the rest of the file stays byte for
//! byte, `remove` undoes `add` exactly, and an edit that `check` would reject is not written.

#[path = "support/edit_fixture.rs"]
mod edit_fixture;

use edit_fixture::{Fixture, inserted};

#[test]
fn add_then_remove_gives_the_original_bytes_back() {
    let f = Fixture::examples();
    let original = f.manifest();
    let cases: &[&[&str]] = &[
        &[
            "add",
            "function",
            "get-product-arm",
            "--workspace",
            "examples/services",
            "--bin",
            "get-product",
            "--arch",
            "arm64",
            "--arch",
            "x86_64",
            "--include",
            "config/*.toml",
            "--output-format",
            "binary",
        ],
        &[
            "add",
            "extension",
            "telemetry-internal",
            "--workspace",
            "./examples/extensions/",
            "--bin",
            "telemetry",
            "--internal",
        ],
        &[
            "add",
            "function",
            "order-events-flat",
            "--workspace",
            "examples/services/orders",
            "--bin",
            "order-events",
            "--flatten",
            "--output-format",
            "zip",
        ],
    ];
    for args in cases {
        f.run(args).expect(0);
        let added = f.manifest();
        let block = inserted(&original, &added)
            .unwrap_or_else(|| panic!("{args:?} changed more than it added:\n{added}"));
        assert!(block.contains(&format!("\"{}\"", args[2])), "{block}");
        f.assert_valid();
        f.run(&["remove", args[2]]).expect(0);
        assert_eq!(f.manifest(), original, "after removing {}", args[2]);
    }
}

#[test]
fn added_nodes_go_where_a_person_would_put_them() {
    let f = Fixture::examples();
    let original = f.manifest();
    f.run(&[
        "add",
        "function",
        "second-put",
        "--workspace",
        "examples/services",
        "--bin",
        "put-product",
        "--package",
        "catalog-api",
        "--arch",
        "arm64",
    ])
    .expect(0);
    let expected = original.replace(
        "        lambda-dir \"target/lambda/{arch}/orders\"\n    }\n",
        "        lambda-dir \"target/lambda/{arch}/orders\"\n    }\n    function \"second-put\" bin=\"put-product\" package=\"catalog-api\" {\n        arch \"arm64\"\n    }\n",
    );
    assert_ne!(expected, original);
    assert_eq!(f.manifest(), expected);

    // A new workspace is appended after an empty line.
    f.run(&[
        "add",
        "function",
        "orders-events",
        "--workspace",
        "examples/services/orders",
        "--bin",
        "order-events",
        "--arch",
        "arm64",
    ])
    .expect(0);
    assert!(
        f.manifest().ends_with(
            "}\n\nworkspace \"examples/services/orders\" {\n    function \"orders-events\" bin=\"order-events\" {\n        arch \"arm64\"\n    }\n}\n"
        ),
        "{}",
        f.manifest()
    );
    f.assert_valid();
}

#[test]
fn add_workspace_with_discover() {
    let f = Fixture::examples();
    let original = f.manifest();
    let services_only = original[..original.find("workspace \"examples/extensions\"").unwrap()]
        .trim_end()
        .to_string()
        + "\n";
    f.write("lambda.kdl", &services_only);
    f.run(&["add", "workspace", "examples/extensions", "--discover"])
        .expect(0);
    assert_eq!(
        f.manifest(),
        format!("{services_only}\nworkspace \"examples/extensions\" discover=true\n")
    );
    let listed = f.run(&["list", "--format", "json"]).expect(0).stdout;
    assert!(
        listed.contains("secrets-cache") && listed.contains("telemetry"),
        "{listed}"
    );

    // Twice is refused before anything is checked.
    let before = f.hash("lambda.kdl");
    let run = f
        .run(&["add", "workspace", "./examples/extensions/"])
        .expect(2);
    assert!(
        run.stderr.contains("already in the manifest"),
        "{}",
        run.stderr
    );
    assert_eq!(f.hash("lambda.kdl"), before);
}

#[test]
fn invalid_additions_are_refused_and_the_file_is_untouched() {
    let f = Fixture::examples();
    let before = f.hash("lambda.kdl");
    // (arguments, something the diagnostics must say)
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "add",
                "function",
                "nope",
                "--workspace",
                "examples/services",
            ],
            "lambda_batch::unknown_bin",
        ),
        (
            &[
                "add",
                "function",
                "x",
                "--workspace",
                "examples/nowhere",
                "--bin",
                "get-product",
            ],
            "lambda_batch::workspace",
        ),
        (
            &[
                "add",
                "function",
                "x",
                "--workspace",
                "examples/services",
                "--bin",
                "get-product",
                "--internal",
            ],
            "lambda_batch::internal_on_function",
        ),
        (
            &[
                "add",
                "function",
                "x",
                "--workspace",
                "examples/services",
                "--bin",
                "get-product",
                "--arch",
                "sparc",
            ],
            "`sparc` is not a valid arch",
        ),
        (
            &[
                "add",
                "function",
                "get-product",
                "--workspace",
                "examples/extensions",
            ],
            "already declared in workspace `examples/services`",
        ),
        (
            &[
                "add",
                "extension",
                "x",
                "--workspace",
                "examples/extensions",
                "--bin",
                "telemetry",
                "--flatten",
            ],
            "lambda_batch::flatten_on_extension",
        ),
    ];
    for (args, says) in cases {
        let run = f.run(args).expect(2);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert_eq!(f.hash("lambda.kdl"), before, "{args:?} wrote the file");
    }
    // A refusal made by `check` points into the would-be text and names the edit.
    let run = f
        .run(&[
            "add",
            "function",
            "nope",
            "--workspace",
            "examples/services",
        ])
        .expect(2);
    assert!(
        run.stderr
            .contains("lambda.kdl after `lambda-batch --color never add function nope --workspace examples/services`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("function \"nope\""), "{}", run.stderr);
    assert!(
        run.stderr.contains("the file is unchanged"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn remove_keeps_the_rest_and_drops_a_workspace_left_empty() {
    let f = Fixture::examples();
    let original = f.manifest();
    f.run(&["remove", "put-product"]).expect(0);
    assert_eq!(
        f.manifest(),
        original.replace("    function \"put-product\" package=\"catalog-api\"\n", "")
    );
    f.run(&["remove", "telemetry", "--workspace", "examples/extensions"])
        .expect(0);
    let run = f.run(&["remove", "secrets-cache"]).expect(0);
    assert!(run.stderr.contains("left empty"), "{}", run.stderr);
    let text = f.manifest();
    assert!(!text.contains("examples/extensions"), "{text}");
    assert!(
        text.ends_with("        lambda-dir \"target/lambda/{arch}/orders\"\n    }\n}\n"),
        "{text}"
    );
    f.assert_valid();
}

#[test]
fn remove_names_the_workspaces_of_an_ambiguous_name() {
    let f = Fixture::examples();
    let text = f
        .manifest()
        .replace(
            "workspace \"examples/extensions\" {\n",
            "workspace \"examples/services/catalog\" {\n    function \"get-product\"\n}\n\nworkspace \"examples/extensions\" {\n",
        );
    f.write("lambda.kdl", &text);
    let before = f.hash("lambda.kdl");
    let run = f.run(&["remove", "get-product"]).expect(2);
    assert!(
        run.stderr
            .contains("`get-product` is declared in 2 workspaces: `examples/services`, `examples/services/catalog`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--workspace"), "{}", run.stderr);
    assert_eq!(f.hash("lambda.kdl"), before);

    let run = f.run(&["remove", "get-prodcut"]).expect(2);
    assert!(
        run.stderr.contains("did you mean `get-product`"),
        "{}",
        run.stderr
    );

    f.run(&[
        "remove",
        "get-product",
        "--workspace",
        "examples/services/catalog",
    ])
    .expect(0);
    assert_eq!(f.manifest(), Fixture::examples().manifest());
}

#[test]
fn the_manifest_is_found_upward_or_given() {
    let f = Fixture::examples();
    f.run_in(
        "examples/extensions/telemetry-ext/src",
        &[
            "add",
            "function",
            "gp2",
            "--workspace",
            "examples/services",
            "--bin",
            "get-product",
        ],
    )
    .expect(0);
    assert!(
        f.manifest()
            .contains("function \"gp2\" bin=\"get-product\"")
    );
    let manifest = f.path().join("lambda.kdl");
    let empty = Fixture::empty();
    let run = empty.run(&["remove", "gp2"]).expect(2);
    assert!(
        run.stderr.contains("could not find `lambda.kdl`"),
        "{}",
        run.stderr
    );
    empty
        .run(&["remove", "gp2", "--manifest", manifest.to_str().unwrap()])
        .expect(0);
    assert!(!f.manifest().contains("gp2"));
}

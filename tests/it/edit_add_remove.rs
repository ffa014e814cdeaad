//! `add` and `remove` on a copy of the example monorepo: the rest of the file stays byte for
//! byte, `remove` undoes `add` exactly, and an edit that `check` would reject is not written.

use crate::support::test::{Test, inserted};

#[test]
fn add_then_remove_gives_the_original_bytes_back() {
    let f = Test::examples();
    let original = f.manifest_text();
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
        f.lb(args).status(0);
        let added = f.manifest_text();
        let block = inserted(&original, &added)
            .unwrap_or_else(|| panic!("{args:?} changed more than it added:\n{added}"));
        assert!(block.contains(&format!("\"{}\"", args[2])), "{block}");
        f.assert_valid();
        f.lb(&["remove", args[2]]).status(0);
        assert_eq!(f.manifest_text(), original, "after removing {}", args[2]);
    }
}

#[test]
fn added_nodes_go_where_a_person_would_put_them() {
    let f = Test::examples();
    let original = f.manifest_text();
    f.lb(&[
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
    .status(0);
    let expected = original.replace(
        "        lambda-dir \"target/lambda/{arch}/orders\"\n    }\n",
        "        lambda-dir \"target/lambda/{arch}/orders\"\n    }\n    function \"second-put\" bin=\"put-product\" package=\"catalog-api\" {\n        arch \"arm64\"\n    }\n",
    );
    assert_ne!(expected, original);
    assert_eq!(f.manifest_text(), expected);

    // A new workspace is appended after an empty line.
    f.lb(&[
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
    .status(0);
    assert!(
        f.manifest_text().ends_with(
            "}\n\nworkspace \"examples/services/orders\" {\n    function \"orders-events\" bin=\"order-events\" {\n        arch \"arm64\"\n    }\n}\n"
        ),
        "{}",
        f.manifest_text()
    );
    f.assert_valid();
}

#[test]
fn add_workspace_with_discover() {
    let f = Test::examples();
    let original = f.manifest_text();
    let services_only = original[..original.find("workspace \"examples/extensions\"").unwrap()]
        .trim_end()
        .to_string()
        + "\n";
    f.write("lambda.kdl", &services_only);
    f.lb(&["add", "workspace", "examples/extensions", "--discover"])
        .status(0);
    assert_eq!(
        f.manifest_text(),
        format!("{services_only}\nworkspace \"examples/extensions\" discover=true\n")
    );
    let listed = f.lb(&["list", "--format", "json"]).status(0).stdout;
    assert!(
        listed.contains("secrets-cache") && listed.contains("telemetry"),
        "{listed}"
    );

    // Twice is refused before anything is checked.
    let before = f.hash("lambda.kdl");
    let run = f
        .lb(&["add", "workspace", "./examples/extensions/"])
        .status(2);
    assert!(
        run.stderr.contains("already in the manifest"),
        "{}",
        run.stderr
    );
    assert_eq!(f.hash("lambda.kdl"), before);
}

#[test]
fn invalid_additions_are_refused_and_the_file_is_untouched() {
    let f = Test::examples();
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
        let run = f.lb(args).status(2);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert_eq!(f.hash("lambda.kdl"), before, "{args:?} wrote the file");
    }
    // A refusal made by `check` points into the would-be text and names the edit.
    let run = f
        .lb(&[
            "add",
            "function",
            "nope",
            "--workspace",
            "examples/services",
        ])
        .status(2);
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
    let f = Test::examples();
    let original = f.manifest_text();
    f.lb(&["remove", "put-product"]).status(0);
    assert_eq!(
        f.manifest_text(),
        original.replace("    function \"put-product\" package=\"catalog-api\"\n", "")
    );
    f.lb(&["remove", "telemetry", "--workspace", "examples/extensions"])
        .status(0);
    let run = f.lb(&["remove", "secrets-cache"]).status(0);
    assert!(run.stderr.contains("left empty"), "{}", run.stderr);
    let text = f.manifest_text();
    assert!(!text.contains("examples/extensions"), "{text}");
    assert!(
        text.ends_with("        lambda-dir \"target/lambda/{arch}/orders\"\n    }\n}\n"),
        "{text}"
    );
    f.assert_valid();
}

#[test]
fn remove_names_the_workspaces_of_an_ambiguous_name() {
    let f = Test::examples();
    let text = f
        .manifest_text()
        .replace(
            "workspace \"examples/extensions\" {\n",
            "workspace \"examples/services/catalog\" {\n    function \"get-product\"\n}\n\nworkspace \"examples/extensions\" {\n",
        );
    f.write("lambda.kdl", &text);
    let before = f.hash("lambda.kdl");
    let run = f.lb(&["remove", "get-product"]).status(2);
    assert!(
        run.stderr
            .contains("`get-product` is declared in 2 workspaces: `examples/services`, `examples/services/catalog`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--workspace"), "{}", run.stderr);
    assert_eq!(f.hash("lambda.kdl"), before);

    let run = f.lb(&["remove", "get-prodcut"]).status(2);
    assert!(
        run.stderr.contains("did you mean `get-product`"),
        "{}",
        run.stderr
    );

    f.lb(&[
        "remove",
        "get-product",
        "--workspace",
        "examples/services/catalog",
    ])
    .status(0);
    assert_eq!(f.manifest_text(), Test::examples().manifest_text());
}

#[test]
fn the_manifest_is_found_upward_or_given() {
    let f = Test::examples();
    f.lb_in(
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
    .status(0);
    assert!(
        f.manifest_text()
            .contains("function \"gp2\" bin=\"get-product\"")
    );
    let manifest = f.path().join("lambda.kdl");
    let empty = Test::empty();
    let run = empty.lb(&["remove", "gp2"]).status(2);
    assert!(
        run.stderr.contains("could not find `lambda.kdl`"),
        "{}",
        run.stderr
    );
    empty
        .lb(&["remove", "gp2", "--manifest", manifest.to_str().unwrap()])
        .status(0);
    assert!(!f.manifest_text().contains("gp2"));
}

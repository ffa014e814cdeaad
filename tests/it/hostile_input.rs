//! Inputs built to break lambda-batch, each one a reproducer that once crashed it, hung it or
//! took superlinear time: thousands of nested blocks or comments, lines of tens of thousands
//! of columns, invalid UTF-8, floods of errors, oversized files, absurd flags. Every command
//! that reads the manifest must answer with a diagnostic (exit 2) or its normal output, never
//! a panic, an abort or gigabytes of stderr. Big inputs are generated here, not committed.
//! Speed is measured in BENCHMARKS.md (scripts/bench-hostile.sh), not asserted here.

use crate::support::test;
use std::fs;

use crate::support::test::{Run, Test, bin_source};
use serde_json::Value;

/// A workspace `ws` whose package has the bins `a` and `b`, and a manifest of `body`.
fn fixture(name: &str, body: &str) -> Test {
    let fx = Test::new(name);
    fx.workspace(
        "ws",
        "hostile",
        &[("a", &bin_source("a")), ("b", &bin_source("b"))],
    );
    fx.write("lambda.kdl", body);
    fx
}

/// Asserts what every answer to a hostile input must be: no panic, no stack overflow, no
/// raw library message.
#[track_caller]
fn sane(run: &Run) {
    for bad in [
        "panicked",
        "overflowed its stack",
        "RUST_BACKTRACE",
        "ZipWriter::drop",
    ] {
        assert!(
            !run.stderr.contains(bad) && !run.stdout.contains(bad),
            "`{bad}` in the output\n{}",
            test::describe(run)
        );
    }
}

/// `check --format json` of the manifest: exit 2 and its diagnostics.
#[track_caller]
fn json_diagnostics(fx: &Test) -> Vec<Value> {
    let run = fx.lb(&["check", "--format", "json"]).status(2);
    sane(&run);
    serde_json::from_str(&run.stdout).expect("check --format json prints JSON")
}

/// Every command that reads the manifest, each refusing it with exit 2 and a diagnostic
/// containing `message`, and the file left byte for byte as it was.
#[track_caller]
fn every_command_refuses(fx: &Test, message: &str) {
    let before = fs::read(fx.path().join("lambda.kdl")).unwrap();
    let commands: &[&[&str]] = &[
        &["check"],
        &["plan"],
        &["list"],
        &["run", "--dry-run"],
        &["doctor"],
        &["fmt"],
        &["set", "profile", "dev"],
        &["add", "function", "b", "--workspace", "ws"],
        &["remove", "a"],
    ];
    for args in commands {
        let run = fx.lb(args).status(2);
        sane(&run);
        assert!(
            run.stderr.contains(message),
            "{args:?}: no `{message}`\n{}",
            test::describe(&run)
        );
    }
    assert_eq!(fs::read(fx.path().join("lambda.kdl")).unwrap(), before);
}

#[test]
fn thousands_of_nested_blocks_are_refused_at_the_first_too_deep() {
    let n = 5000;
    let body = format!(
        "workspace \"ws\" {{\n{}{}}}\n",
        "function \"a\" {\n".repeat(n),
        "}\n".repeat(n)
    );
    let fx = fixture("deep", &body);
    every_command_refuses(&fx, "nested more than 32 deep");
    let d = &json_diagnostics(&fx)[0];
    assert_eq!(d["kind"], "limit");
    // The 33rd `{`: line 33 opens it (the workspace's is on line 1).
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(33), Some(14))
    );
}

#[test]
fn thousands_of_nested_comments_are_refused() {
    let n = 5000;
    let body = format!(
        "workspace \"ws\" {{\n    function \"a\" /* {}{} */\n}}\n",
        "/* ".repeat(n),
        " */".repeat(n)
    );
    let fx = fixture("deep-comments", &body);
    every_command_refuses(&fx, "`/*` comments nested more than 32 deep");
}

#[test]
fn very_long_and_very_wide_lines_are_described_not_drawn() {
    // An error 70,000 columns in: miette's renderer panicked beyond 65,535.
    let long = format!(
        "workspace \"ws\" {{\n    function \"a\"{} bogus=1\n    function \"b\"\n}}\n",
        " ".repeat(70_000)
    );
    let wide = format!(
        "workspace \"ws\" {{\n    function \"a\" /* {} */ bogus=1\n    function \"b\"\n}}\n",
        "日本".repeat(20_000)
    );
    for (name, body) in [("long-line", long), ("wide-line", wide)] {
        let fx = fixture(name, &body);
        for args in [&["check"][..], &["plan"], &["list"], &["remove", "b"]] {
            let run = fx.lb(args).status(2);
            sane(&run);
            assert!(
                run.stderr.contains("unknown property `bogus`")
                    && run.stderr.contains(":2:")
                    && run.stderr.contains("help:"),
                "{name} {args:?}\n{}",
                test::describe(&run)
            );
            assert!(run.stderr.len() < 4000, "{name}: the line was drawn");
        }
        let d = &json_diagnostics(&fx)[0];
        assert_eq!(d["line"], 2);
    }
}

#[test]
fn invalid_utf8_is_pointed_at_like_any_syntax_error() {
    let fx = Test::new("not-utf8");
    fx.workspace("ws", "hostile", &[("a", &bin_source("a"))]);
    fx.write(
        "lambda.kdl",
        b"workspace \"ws\" {\n    function \"a\xff\xfe\"\n}\n",
    );
    let d = &json_diagnostics(&fx)[0];
    assert_eq!(d["kind"], "syntax");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(16))
    );
    assert!(d["message"].as_str().unwrap().contains("0xff"), "{d}");
    every_command_refuses(&fx, "not valid UTF-8");
    let run = fx.lb(&["check"]).status(2);
    assert!(run.stderr.contains("[lambda.kdl:2:16]"), "{}", run.stderr);
}

#[test]
fn floods_of_errors_are_counted_after_the_first_few() {
    // 2,000 workspaces repeating the same artifacts: every one a duplicate name.
    let body = "workspace \"ws\" {\n    function \"a\"\n    function \"b\"\n}\n".repeat(2000);
    let fx = fixture("duplicates", &body);
    let run = fx.lb(&["check"]).status(2);
    sane(&run);
    assert!(
        run.stderr
            .contains("note: 3988 more not shown (3988 duplicate_artifact)"),
        "{}",
        &run.stderr[run.stderr.len().saturating_sub(2000)..]
    );
    assert!(run.stderr.contains("is invalid: 3998 problems"));
    assert!(run.stderr.len() < 20_000, "{} bytes", run.stderr.len());
    // JSON lists every one.
    assert_eq!(json_diagnostics(&fx).len(), 3998);
    let run = fx.lb(&["plan"]).status(2);
    assert!(run.stderr.len() < 20_000);

    // One `arch` of 40,000 values: 2.9 GB of stderr once, each error drawing the whole line.
    let values = vec!["\"x86_64\""; 40_000].join(" ");
    let body =
        format!("workspace \"ws\" {{\n    function \"a\" {{\n        arch {values}\n    }}\n}}\n");
    let fx = fixture("arch-flood", &body);
    let run = fx.lb(&["check"]).status(2);
    sane(&run);
    assert!(run.stderr.len() < 20_000, "{} bytes", run.stderr.len());
    assert!(
        run.stderr
            .contains("names the target `x86_64-unknown-linux-gnu` a second time")
    );
    assert_eq!(json_diagnostics(&fx).len(), 39_999);
}

#[test]
fn every_unknown_property_and_argument_count_is_found_in_one_run() {
    // Each of these stopped knus's decoding of their siblings: one pass over the file each.
    let mut body = String::from("workspace \"ws\" {\n");
    for i in 0..300 {
        body.push_str(&format!(
            "    function \"f{i}\" x=1 {{\n        profile \"dev\" \"release\"\n    }}\n"
        ));
    }
    body.push_str("    function\n}\n");
    let fx = fixture("many-bad-nodes", &body);
    let diags = json_diagnostics(&fx);
    let count = |needle: &str| {
        diags
            .iter()
            .filter(|d| d["message"].as_str().unwrap().contains(needle))
            .count()
    };
    assert_eq!(count("unknown property `x` on `function`"), 300);
    assert_eq!(count("unexpected argument: `profile` takes one value"), 300);
    assert_eq!(count("missing argument: `function` needs its name"), 1);
    // The editing commands validate through the same decoder (`fmt` and `add` ran past 20 s);
    // `fmt` validates only what it would change.
    fx.write("lambda.kdl", format!("\n\n{body}"));
    for args in [&["fmt"][..], &["add", "function", "b", "--workspace", "ws"]] {
        let run = fx.lb(args).status(2);
        sane(&run);
        assert!(
            run.stderr.contains("is invalid: 901 problems"),
            "{args:?}\n{}",
            run.stderr
        );
    }
}

#[test]
fn oversized_files_and_too_many_nodes_are_refused() {
    // A 2 MB `//` comment took 12 s to decode; now the file is too large to read at all.
    let body = format!(
        "// {}\nworkspace \"ws\" {{\n    function \"a\"\n}}\n",
        "x".repeat(2 << 20)
    );
    let fx = fixture("oversized", &body);
    every_command_refuses(&fx, "larger than 1 MiB");
    // Just under the bound, the same comment is blanked before decoding: valid.
    let body = format!(
        "// {}\nworkspace \"ws\" {{\n    function \"a\"\n}}\n",
        "x".repeat(1_000_000)
    );
    fixture("big-comment", &body).assert_valid();
    // 20,001 nodes of two bytes each.
    let body = format!(
        "workspace \"ws\" {{\n    function \"a\"\n}}\n{}",
        "a;".repeat(20_000)
    );
    let fx = fixture("many-nodes", &body);
    every_command_refuses(&fx, "more than 20000 nodes");
}

#[test]
fn jobs_beyond_what_is_useful_are_refused() {
    let fx = fixture("jobs", "workspace \"ws\" {\n    function \"a\"\n}\n");
    let run = fx.lb(&["run", "-j", "65535"]).status(2);
    sane(&run);
    assert!(
        run.stderr
            .contains("invalid value '65535' for '--jobs <JOBS>': more than lambda-batch runs at once (at most 1024)"),
        "{}",
        run.stderr
    );
    assert!(!fx.path().join("out").exists(), "nothing was built");
    fx.lb(&["run", "-j", "1024", "--dry-run"]).status(0);
}

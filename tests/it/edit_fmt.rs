//! `fmt`: one canonical layout, comments kept, idempotent; `--check` exits 1 with one line when
//! the file is not formatted and never writes.

use crate::support::test::{Test, repo};

/// The root manifest, laid out badly in every way fmt fixes.
const MESSY: &str = "\n\n// lambda-batch's own manifest: builds the example monorepo under examples/.\n\n\n\ndefaults{\n  profile   \"release\";arch \"x86_64\" \"arm64\"\n\t\tcompiler \"cargo-zigbuild\"\n\n\n  output-format \"zip\"\n  lambda-dir \"target/lambda/{arch}\"\n  target-dir \"target/shared\"          // one cargo target dir for both workspaces\n  runtime \"provided.al2023\"\n\n}\nworkspace \"examples/services\" {\n        include \"LICENSE\"   /* relative to examples/services */\n\n    function \"get-product\" { include \"config/*.toml\" \"assets/**/*.json\"; }\n  function \"put-product\"    package=\"catalog-api\"\n    /-function \"old\"\n    function \"order-events\" flatten=true {\n            lambda-dir \"target/lambda/{arch}/orders\"\n      }   // flattened\n\n}\nworkspace \"examples/extensions\" { extension \"telemetry\"; extension \"secrets-cache\" internal=true; }\n// the end";

const FORMATTED: &str = "// lambda-batch's own manifest: builds the example monorepo under examples/.\n\ndefaults {\n    profile \"release\"\n    arch \"x86_64\" \"arm64\"\n    compiler \"cargo-zigbuild\"\n\n    output-format \"zip\"\n    lambda-dir \"target/lambda/{arch}\"\n    target-dir \"target/shared\"          // one cargo target dir for both workspaces\n    runtime \"provided.al2023\"\n}\nworkspace \"examples/services\" {\n    include \"LICENSE\" /* relative to examples/services */\n\n    function \"get-product\" {\n        include \"config/*.toml\" \"assets/**/*.json\"\n    }\n    function \"put-product\" package=\"catalog-api\"\n    /-function \"old\"\n    function \"order-events\" flatten=true {\n        lambda-dir \"target/lambda/{arch}/orders\"\n    }   // flattened\n}\nworkspace \"examples/extensions\" {\n    extension \"telemetry\"\n    extension \"secrets-cache\" internal=true\n}\n// the end\n";

#[test]
fn the_root_manifest_is_formatted() {
    let f = Test::examples();
    let run = f.lb(&["fmt", "--check"]).status(0);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "");
    let before = f.hash("lambda.kdl");
    f.lb(&["fmt"]).status(0);
    assert_eq!(f.hash("lambda.kdl"), before);
}

#[test]
fn check_reports_in_one_line_and_writes_nothing() {
    let f = Test::examples();
    f.write("lambda.kdl", MESSY);
    let before = f.hash("lambda.kdl");
    let run = f.lb(&["fmt", "--check"]).status(1);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("lambda.kdl: not formatted"),
        "{}",
        run.stderr
    );
    assert_eq!(f.hash("lambda.kdl"), before);
}

#[test]
fn fmt_writes_the_canonical_layout_once() {
    let f = Test::examples();
    f.write("lambda.kdl", MESSY);
    f.lb(&["fmt"]).status(0);
    assert_eq!(f.manifest_text(), FORMATTED);
    f.assert_valid();
    // Every comment of the messy file is still there.
    for comment in [
        "// lambda-batch's own",
        "// one cargo target dir",
        "/* relative to",
        "/-function \"old\"",
        "// flattened",
        "// the end",
    ] {
        assert!(f.manifest_text().contains(comment), "lost {comment}");
    }
    let once = f.hash("lambda.kdl");
    f.lb(&["fmt"]).status(0);
    assert_eq!(
        f.hash("lambda.kdl"),
        once,
        "fmt of a formatted file changed it"
    );
    f.lb(&["fmt", "--check"]).status(0);
    // The path can be given.
    let other = Test::examples();
    other.write("other.kdl", MESSY);
    other.lb(&["fmt", "other.kdl"]).status(0);
    assert_eq!(other.read("other.kdl"), FORMATTED);
}

#[test]
fn every_corpus_manifest_formats_to_a_fixed_point_with_its_comments() {
    // The layout alone, through the library: most corpus files are invalid on purpose, and the
    // `fmt` command writes only valid manifests.
    use lambda_batch::edit::{Document, format};
    let mut files = vec![repo().join("lambda.kdl")];
    for dir in ["tests/manifests/valid", "tests/manifests/broken"] {
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            assert!(file.ends_with("not-utf8.kdl"), "{}", file.display());
            continue;
        };
        let path = camino::Utf8PathBuf::from_path_buf(file.clone()).unwrap();
        let Ok(doc) = Document::parse(&path, &text) else {
            // Not KDL at all, or nested deeper than anything is parsed.
            let refused = [
                "syntax.kdl",
                "comment-unclosed-nested.kdl",
                "nesting-too-deep.kdl",
                "comments-nested-too-deep.kdl",
            ];
            assert!(
                refused.iter().any(|r| file.ends_with(r)),
                "{}",
                file.display()
            );
            continue;
        };
        let once = format::format(&doc).unwrap();
        for line in text.lines().filter(|l| l.trim_start().starts_with("//")) {
            assert!(
                once.contains(line.trim()),
                "{}: lost {line:?}",
                file.display()
            );
        }
        let twice = format::format(&Document::parse(&path, &once).unwrap()).unwrap();
        assert_eq!(twice, once, "{}", file.display());
    }
}

#[test]
fn fmt_refuses_to_write_a_manifest_that_does_not_pass_check() {
    let f = Test::empty();
    f.write(
        "lambda.kdl",
        "workspace   \"nowhere\" {\n  function   \"b\"\n}\n",
    );
    let before = f.hash("lambda.kdl");
    let run = f.lb(&["fmt"]).status(2);
    assert!(
        run.stderr.contains("lambda_batch::workspace"),
        "{}",
        run.stderr
    );
    assert_eq!(f.hash("lambda.kdl"), before);
    // --check only looks at the layout.
    f.lb(&["fmt", "--check"]).status(1);
}

#[test]
fn text_that_is_not_kdl_is_refused_untouched() {
    let f = Test::empty();
    f.write("lambda.kdl", "workspace \"a\" {\n    function \"b\" }\n");
    let before = f.hash("lambda.kdl");
    for args in [&["fmt"][..], &["fmt", "--check"]] {
        let run = f.lb(args).status(2);
        assert!(
            run.stderr.contains("lambda_batch::syntax"),
            "{}",
            run.stderr
        );
        assert_eq!(f.hash("lambda.kdl"), before);
    }
}

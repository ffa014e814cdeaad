//! In GitHub Actions (`GITHUB_ACTIONS=true`): manifest diagnostics become workflow annotations
//! on their line and column of lambda.kdl (named from `$GITHUB_WORKSPACE`), failed outputs
//! become `::error` annotations naming the artifact, and the closing table is appended to
//! `$GITHUB_STEP_SUMMARY` as Markdown, with the run's timeline as a Mermaid gantt chart (its
//! syntax checked line by line against Mermaid's grammar). Real runs on two tiny workspaces
//! (one that builds, one that does not compile), dev profile, one architecture, into the
//! shared target dir.

use std::fs;

use crate::support::gantt;
use crate::support::test::{Test, bin_source, describe};

/// A manifest in `infra/` with a misspelled setting on line 3, column 5.
const BROKEN: &str = "defaults {\n    profile \"dev\"\n    profle \"release\"\n}\n";

#[test]
fn manifest_diagnostics_are_annotations_on_their_line() {
    let t = Test::new("gha-broken");
    t.write("infra/lambda.kdl", BROKEN);
    let root = t.path().to_str().unwrap();
    let expected = "::error file=infra/lambda.kdl,line=3,col=5,endLine=3,endColumn=20,title=lambda_batch%3A%3A";

    for args in [
        vec!["check", "infra/lambda.kdl"],
        vec!["run", "infra/lambda.kdl"],
        vec!["plan", "infra/lambda.kdl"],
        vec!["list", "infra/lambda.kdl"],
    ] {
        let run = t
            .lb(&args)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", root)
            .status(2);
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("::error "))
            .unwrap_or_else(|| panic!("{args:?}: no annotation\n{}", describe(&run)));
        assert!(line.starts_with(expected), "{args:?}: {line}");
        assert!(line.contains("profle"), "{line}");
        // The people's rendering is still on stderr.
        assert!(run.stderr.contains("profle"), "{}", describe(&run));
    }

    // Named from the working directory when GitHub's is elsewhere.
    let run = t
        .lb_in("infra", &["check"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", "/somewhere/else")
        .status(2);
    assert!(
        run.stdout
            .starts_with("::error file=lambda.kdl,line=3,col=5,"),
        "{}",
        describe(&run)
    );

    // Standard output that is JSON stays JSON: the annotation goes to stderr.
    let run = t
        .lb(&["plan", "--format", "json", "infra/lambda.kdl"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", root)
        .status(2);
    assert!(!run.stdout.contains("::error"), "{}", describe(&run));
    assert!(run.stderr.contains(expected), "{}", describe(&run));

    // Outside GitHub Actions, no workflow commands.
    let run = t
        .lb(&["check", "infra/lambda.kdl"])
        .env_remove("GITHUB_ACTIONS")
        .status(2);
    assert!(!run.stdout.contains("::"), "{}", describe(&run));
    let run = t
        .lb(&["check", "infra/lambda.kdl"])
        .env("GITHUB_ACTIONS", "false")
        .status(2);
    assert!(!run.stdout.contains("::"), "{}", describe(&run));
}

#[test]
fn a_run_annotates_failures_and_appends_its_table_to_the_step_summary() {
    let t = Test::new("gha-run");
    t.workspace("good", "gha-good", &[("gha-good", &bin_source("gha-good"))]);
    t.workspace(
        "bad",
        "gha-bad",
        &[(
            "gha-bad",
            "fn main() {\n    let x: u32 = \"not a number\";\n}\n",
        )],
    );
    t.manifest(
        "workspace \"good\" {\n    function \"gha-good\" {\n        arch \"x86_64\"\n    }\n}\nworkspace \"bad\" {\n    function \"gha-bad\" {\n        arch \"x86_64\"\n    }\n}\n",
    );
    let summary = t.write("summary.md", "## an earlier step\n\n");
    let cache = t.path().join("cache");
    let run = t
        .lb(&["run", "--keep-going", "--cache", cache.to_str().unwrap()])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .status(1);
    let failures: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(failures.len(), 1, "{}", describe(&run));
    assert!(
        failures[0].starts_with("::error title=lambda-batch%3A gha-bad (x86_64) build failed::gha-bad (x86_64, x86_64-unknown-linux-gnu): "),
        "{}",
        failures[0]
    );

    let text = fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("## an earlier step\n\n### lambda-batch run\n\n"),
        "appended, not truncated:\n{text}"
    );
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(
        rows[0], "| Artifact | Arch | Target | Output | Size | Status | Cache | Key |",
        "{text}"
    );
    assert_eq!(
        rows[1],
        "| --- | --- | --- | --- | ---: | --- | --- | --- |"
    );
    let good = rows.iter().find(|r| r.starts_with("| gha-good |")).unwrap();
    assert!(
        good.contains(
            "| x86_64 | x86_64-unknown-linux-gnu | `out/x86_64/gha-good/bootstrap.zip` |"
        ),
        "{good}"
    );
    assert!(good.contains("| built | stored | `"), "{good}");
    let bad = rows.iter().find(|r| r.starts_with("| gha-bad |")).unwrap();
    assert!(bad.contains("| - | **failed** | miss |"), "{bad}");
    assert!(
        text.contains("2 outputs: 1 built, 0 fresh, 1 failed in "),
        "{text}"
    );
    assert!(text.contains("; cache `"), "{text}");
    assert!(text.contains("`: 0 hit, 1 stored, 1 miss\n"), "{text}");
    // The timeline: a task per cargo call, the failed one marked critical.
    let chart = gantt::check(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(chart.title, "lambda-batch run");
    let tasks = chart.tasks();
    assert_eq!(tasks.len(), 2, "{text}");
    let good = tasks.iter().find(|t| t.text.contains("gha-good")).unwrap();
    assert!(
        good.text.starts_with("build gha-good (x86_64) "),
        "{good:?}"
    );
    assert!(good.tags.is_empty(), "{good:?}");
    let bad = tasks.iter().find(|t| t.text.contains("gha-bad")).unwrap();
    assert!(bad.text.starts_with("failed gha-bad (x86_64) "), "{bad:?}");
    assert_eq!(bad.tags, ["crit"], "{bad:?}");

    // Again, the good one only, up to date: the summary grows by another table. A summary
    // file that is not there is a warning, and the run still succeeds.
    let run = t
        .lb(&["run", "--only", "gha-good"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .status(0);
    assert!(!run.stdout.contains("::error"), "{}", describe(&run));
    let again = fs::read_to_string(&summary).unwrap();
    assert!(again.starts_with(&text), "appended:\n{again}");
    let table = &again[text.len()..];
    assert!(
        table.starts_with(
            "### lambda-batch run\n\n| Artifact | Arch | Target | Output | Size | Status |\n"
        ),
        "{table}"
    );
    assert!(table.contains("| gha-good | x86_64 |"), "{table}");
    assert!(table.contains("| fresh |"), "{table}");
    let chart = gantt::check(table).unwrap_or_else(|e| panic!("{e}\n{table}"));
    let tasks = chart.tasks();
    assert_eq!(tasks.len(), 1, "{table}");
    // Cargo runs again (without `--keep-going` its command differs) and finds all fresh.
    assert!(
        tasks[0].text.starts_with("build gha-good (x86_64) "),
        "{table}"
    );

    let run = t
        .lb(&["run", "--only", "gha-good"])
        .env("GITHUB_ACTIONS", "true")
        .env(
            "GITHUB_STEP_SUMMARY",
            t.path().join("no/such/dir/summary.md"),
        )
        .status(0);
    assert!(
        run.stderr
            .contains("warning: cannot append the summary to $GITHUB_STEP_SUMMARY"),
        "{}",
        describe(&run)
    );
}

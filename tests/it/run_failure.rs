//! A function that fails to compile: fail-fast stops the run with exit 1 and leaves every
//! existing output as it was; `--keep-going` produces everything else and names the failure.

use std::fs;
use std::path::Path;

use crate::support::test::{
    Invocation, Test, bin_source, describe, statuses, temp_files, write_executable, zip_entries,
};
use lambda_batch::report::Status;

const BROKEN: &str = "fn main() {\n    let x: u32 = \"not a number\";\n}\n";

/// Two workspaces in one lane: `a-bad` (built first: groups of a lane start in workspace
/// order) holds the bin that will break, `b-good` the others.
fn two_workspaces(prefix: &str, broken_from_start: bool, extra_bad_bin: bool) -> Test {
    let fx = Test::new(prefix);
    let broken = format!("{prefix}-broken");
    let gamma = format!("{prefix}-gamma");
    let alpha = format!("{prefix}-alpha");
    let beta = format!("{prefix}-beta");
    let broken_source = if broken_from_start {
        BROKEN.to_string()
    } else {
        bin_source(&broken)
    };
    let mut bad_bins = vec![(broken.as_str(), broken_source)];
    if extra_bad_bin {
        bad_bins.push((gamma.as_str(), bin_source(&gamma)));
    }
    let bad_bins: Vec<(&str, &str)> = bad_bins.iter().map(|(b, s)| (*b, s.as_str())).collect();
    fx.workspace("a-bad", &format!("{prefix}-bad"), &bad_bins);
    fx.workspace(
        "b-good",
        &format!("{prefix}-good"),
        &[
            (alpha.as_str(), bin_source(&alpha).as_str()),
            (beta.as_str(), bin_source(&beta).as_str()),
        ],
    );
    let gamma_node = if extra_bad_bin {
        format!("\n    function \"{gamma}\"")
    } else {
        String::new()
    };
    fx.manifest(&format!(
        "workspace \"a-bad\" {{\n    function \"{broken}\"{gamma_node}\n}}\n\nworkspace \"b-good\" {{\n    function \"{alpha}\"\n    function \"{beta}\"\n}}"
    ));
    fx
}

fn zip_of(fx: &Test, name: &str) -> std::path::PathBuf {
    fx.path()
        .join("out/x86_64")
        .join(name)
        .join("bootstrap.zip")
}

/// Runs the `bootstrap` of a zip and returns what it printed.
fn run_bootstrap(zip: &Path, scratch: &Path) -> String {
    let entries = zip_entries(zip);
    let (mode, bytes) = entries.get("bootstrap").expect("a bootstrap entry");
    assert_eq!(*mode, 0o755, "bootstrap mode in {}", zip.display());
    let exe = scratch.join(format!(
        "bootstrap-{}",
        zip.parent()
            .and_then(Path::file_name)
            .map_or("x".into(), |n| n.to_string_lossy().into_owned())
    ));
    write_executable(&exe, bytes);
    Invocation::program(&exe)
        .status(0)
        .stdout
        .trim()
        .to_string()
}

#[test]
fn fail_fast_exits_1_and_leaves_existing_outputs_untouched() {
    let fx = two_workspaces("ff", false, false);
    let first = fx.lb(&["run", "-q"]).status(0);
    // -q: no progress lines, only the summary (on stdout).
    let quiet = first.stderr.as_str();
    assert!(
        !quiet.contains("Packaged") && !quiet.contains("Building"),
        "{quiet}"
    );
    assert!(
        first.stdout.as_str().contains("3 built"),
        "{}",
        describe(&first)
    );
    let names = ["ff-broken", "ff-alpha", "ff-beta"];
    let before: Vec<(Vec<u8>, std::time::SystemTime)> = names
        .iter()
        .map(|n| {
            let p = zip_of(&fx, n);
            (
                fs::read(&p).unwrap(),
                fs::metadata(&p).unwrap().modified().unwrap(),
            )
        })
        .collect();

    fx.write("a-bad/src/bin/ff-broken.rs", BROKEN);
    let (output, report) = fx.run_with_report(&["-q"], 1);
    let stderr = output.stderr.as_str();
    // Cargo's own diagnostic reaches the user (with -q too, since its group failed), with the
    // failing bin named.
    assert!(stderr.contains("mismatched types"), "{}", describe(&output));
    assert!(stderr.contains("ff-broken"), "{}", describe(&output));
    // The good group never started: the run stopped after the failure.
    let st = statuses(&report);
    assert_eq!(st["ff-broken x86_64-unknown-linux-gnu"], Status::Failed);
    assert_eq!(st["ff-alpha x86_64-unknown-linux-gnu"], Status::Failed);
    assert_eq!(st["ff-beta x86_64-unknown-linux-gnu"], Status::Failed);
    assert!(!report.success);
    let stdout = output.stdout.as_str();
    assert!(stdout.contains("failures:"), "{}", describe(&output));
    assert!(
        stdout.contains("cost: ff-broken (x86_64)"),
        "{}",
        describe(&output)
    );
    // Every existing output, the failing one's too, is exactly as it was.
    for (n, (bytes, mtime)) in names.iter().zip(&before) {
        let p = zip_of(&fx, n);
        assert_eq!(&fs::read(&p).unwrap(), bytes, "{n} changed");
        assert_eq!(
            &fs::metadata(&p).unwrap().modified().unwrap(),
            mtime,
            "{n} was rewritten"
        );
    }
    assert_eq!(temp_files(&fx.path().join("out")), Vec::<String>::new());
}

#[test]
fn keep_going_builds_everything_else_and_names_the_failure() {
    let fx = two_workspaces("kg", true, true);
    let (output, report) = fx.run_with_report(&["--keep-going"], 1);
    let st = statuses(&report);
    assert_eq!(
        st["kg-broken x86_64-unknown-linux-gnu"],
        Status::Failed,
        "{st:?}"
    );
    // Same cargo call as the broken bin (cargo --keep-going), and the next group.
    for ok in ["kg-gamma", "kg-alpha", "kg-beta"] {
        assert_eq!(
            st[&format!("{ok} x86_64-unknown-linux-gnu")],
            Status::Built,
            "{}",
            describe(&output)
        );
        assert_eq!(run_bootstrap(&zip_of(&fx, ok), fx.path()), ok);
    }
    assert!(!zip_of(&fx, "kg-broken").exists());
    let broken = report
        .artifacts
        .iter()
        .find(|a| a.name == "kg-broken")
        .expect("kg-broken in the report");
    let error = broken.error.as_deref().unwrap_or("");
    assert!(error.contains("could not compile"), "{error}");
    assert!(error.contains("kg-broken"), "{error}");
    let stdout = output.stdout.as_str();
    assert!(stdout.contains("failures:"), "{}", describe(&output));
    assert!(
        stdout.contains("cost: kg-broken (x86_64)"),
        "{}",
        describe(&output)
    );
    assert!(
        stdout.contains("3 built, 0 fresh, 1 failed"),
        "{}",
        describe(&output)
    );
    assert_eq!(temp_files(&fx.path().join("out")), Vec::<String>::new());
}

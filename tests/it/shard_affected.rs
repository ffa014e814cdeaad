//! `plan --shards N --cache URL`: only the cargo calls with outputs the cache lacks are split,
//! the matrix names each shard's calls (`K/M:ID,...`) and `run --shard` builds exactly those;
//! every run that stores into the cache stores each call's measured cost, which the next split
//! balances with. A small tree of three cargo workspaces (tiny bins, dev profile, x86_64, each
//! workspace its own target dir), built for real with plain cargo through a wrapper that logs
//! every call; a directory cache.

use crate::support::test;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::test::{Invocation, Run, describe, repo};
use lambda_batch::cache::CacheStatus;
use lambda_batch::report::{Report, Status};
use serde_json::Value;

const MANIFEST: &str = r#"defaults {
    profile "dev"
    arch "x86_64"
    compiler "cargo"
    output-format "zip"
    lambda-dir "out/{arch}"
}

workspace "alpha" {
    function "alpha-one"
    function "alpha-two"
}

workspace "beta" {
    function "beta-one"
}

workspace "gamma" {
    function "gamma-one"
}
"#;

const OUTPUTS: [&str; 4] = ["alpha-one", "alpha-two", "beta-one", "gamma-one"];

/// A checkout of the tree under `target/shard-affected/`, with a cargo wrapper that logs.
struct Checkout {
    _dir: tempfile::TempDir,
    root: PathBuf,
    log: PathBuf,
    path: String,
}

impl Checkout {
    fn new(name: &str) -> Checkout {
        let area = repo().join("target").join("shard-affected");
        fs::create_dir_all(&area).unwrap();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(&area)
            .unwrap();
        let root = dir.path().join("repo");
        let bin = dir.path().join("bin");
        let log = dir.path().join("cargo.log");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&bin).unwrap();
        let path = test::logging_cargo(&bin, &log);
        write(&root, "lambda.kdl", MANIFEST);
        for (ws, bins) in [
            ("alpha", &["alpha-one", "alpha-two"][..]),
            ("beta", &["beta-one"][..]),
            ("gamma", &["gamma-one"][..]),
        ] {
            write(
                &root,
                &format!("{ws}/Cargo.toml"),
                &format!(
                    "[package]\nname = \"{ws}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n"
                ),
            );
            for b in bins {
                write(&root, &format!("{ws}/src/bin/{b}.rs"), &test::bin_source(b));
            }
            Invocation::program(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["generate-lockfile", "--offline"])
                .current_dir(root.join(ws))
                .status(0);
        }
        Checkout {
            _dir: dir,
            root,
            log,
            path,
        }
    }

    fn lb(&self, args: &[&str]) -> Invocation {
        Invocation::lb(&self.root, args).env("PATH", &self.path)
    }

    /// `plan --shards N --format json --cache URL`, exiting 0: the matrix and the run.
    fn matrix(&self, n: &str, url: &str) -> (Value, Run) {
        let run = self
            .lb(&["plan", "--shards", n, "--format", "json", "--cache", url])
            .status(0);
        let matrix =
            serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&run)));
        (matrix, run)
    }

    /// `run --offline --report ARGS` exiting `code`: the run, its report and its `cargo
    /// build` calls.
    fn run(&self, args: &[&str], code: i32) -> (Run, Option<Report>, Vec<String>) {
        let report = self.root.join("report.json");
        let _ = fs::remove_file(&report);
        let mut all = vec!["run", "--offline", "--report", report.to_str().unwrap()];
        all.extend_from_slice(args);
        let before = self.builds().len();
        let run = self.lb(&all).status(code);
        let report = fs::read_to_string(&report)
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap());
        (run, report, self.builds()[before..].to_vec())
    }

    fn builds(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("build "))
            .map(str::to_string)
            .collect()
    }

    fn write(&self, rel: &str, text: &str) {
        write(&self.root, rel, text);
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn include(matrix: &Value) -> Vec<Value> {
    matrix["include"].as_array().unwrap().clone()
}

fn names(report: &Report) -> BTreeSet<String> {
    report.artifacts.iter().map(|a| a.name.clone()).collect()
}

/// The cost objects of the directory cache at `cache`: each call's identity and CPU seconds.
fn costs(cache: &Path) -> Vec<(PathBuf, String, f64)> {
    let mut found = Vec::new();
    let Ok(fans) = fs::read_dir(cache.join("v2/costs")) else {
        return found;
    };
    for fan in fans {
        for entry in fs::read_dir(fan.unwrap().path()).unwrap() {
            let path = entry.unwrap().path();
            let v: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            // What the split balances: the CPU seconds, measured on Linux.
            let cpu = v["cpu_seconds"].as_f64().expect("CPU seconds measured");
            assert!(v["seconds"].as_f64().unwrap() > 0.0, "{v}");
            found.push((path, v["call"].as_str().unwrap().to_string(), cpu));
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}

fn cache_dir(name: &str) -> tempfile::TempDir {
    let area = repo().join("target").join("shard-affected");
    fs::create_dir_all(&area).unwrap();
    tempfile::Builder::new()
        .prefix(&format!("{name}-"))
        .tempdir_in(&area)
        .unwrap()
}

#[test]
fn the_matrix_holds_only_what_misses_and_each_shard_builds_exactly_its_calls() {
    let store = cache_dir("cache");
    let url = store.path().join("cache");
    let url = url.to_str().unwrap();
    let a = Checkout::new("warm");

    // An empty cache: everything misses, every call is in a shard, none empty.
    let (cold, _) = a.matrix("2", url);
    let cold = include(&cold);
    assert_eq!(cold.len(), 2, "{cold:?}");
    let listed: BTreeSet<String> = cold
        .iter()
        .flat_map(|s| s["artifacts"].as_array().unwrap().clone())
        .map(|a| {
            a.as_str()
                .unwrap()
                .trim_end_matches(" (x86_64)")
                .to_string()
        })
        .collect();
    assert_eq!(listed, OUTPUTS.iter().map(|s| s.to_string()).collect());
    for (k, s) in cold.iter().enumerate() {
        let shard = s["shard"].as_str().unwrap();
        assert!(shard.starts_with(&format!("{}/2:", k + 1)), "{shard}");
    }

    // A warm build of everything: nothing left to build.
    let (_, report, builds) = a.run(&["--cache", url], 0);
    assert_eq!(builds.len(), 3, "{builds:?}");
    assert!(
        report
            .unwrap()
            .artifacts
            .iter()
            .all(|o| o.cache == Some(CacheStatus::Stored))
    );
    let (warm, run) = a.matrix("2", url);
    assert_eq!(run.stdout.trim(), r#"{"include":[]}"#, "{}", describe(&run));
    assert_eq!(warm, serde_json::json!({ "include": [] }));
    // The same from a fresh checkout elsewhere (no target dir: only the cache answers).
    let b = Checkout::new("fresh");
    assert_eq!(b.matrix("2", url).0, warm);
    let text = b.lb(&["plan", "--shards", "2", "--cache", url]).status(0);
    assert!(
        text.stdout.contains("nothing to build"),
        "{}",
        describe(&text)
    );

    // One change: one shard, holding just that call.
    b.write(
        "beta/src/bin/beta-one.rs",
        "fn main() {\n    println!(\"beta-one, changed\");\n}\n",
    );
    let (one, _) = b.matrix("2", url);
    let one = include(&one);
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!(
        one[0]["artifacts"],
        serde_json::json!(["beta-one (x86_64)"])
    );
    let shard = one[0]["shard"].as_str().unwrap().to_string();
    assert!(shard.starts_with("1/1:") && !shard.contains(','), "{shard}");

    // That shard builds exactly that call, and stores it.
    let (run, report, builds) = b.run(&["--shard", &shard, "--cache", url], 0);
    assert!(
        run.stderr.contains("shard 1/1: 1 of 4 outputs"),
        "{}",
        describe(&run)
    );
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert!(builds[0].contains("--bin beta-one"), "{builds:?}");
    let report = report.unwrap();
    assert_eq!(names(&report), BTreeSet::from(["beta-one".to_string()]));
    assert_eq!(report.artifacts[0].cache, Some(CacheStatus::Stored));
    // The assemble step finds every output.
    let (_, report, builds) = b.run(&["--cache-only", "--cache", url], 0);
    assert!(builds.is_empty(), "{builds:?}");
    assert!(
        report
            .unwrap()
            .artifacts
            .iter()
            .all(|o| o.status == Status::Built || o.status == Status::Fresh)
    );

    // The cache changed after the plan (another runner stored the call): the shard still
    // builds the calls it was given, and finds them in the cache.
    let c = Checkout::new("late");
    c.write(
        "beta/src/bin/beta-one.rs",
        "fn main() {\n    println!(\"beta-one, changed\");\n}\n",
    );
    let (_, report, builds) = c.run(&["--shard", &shard, "--cache", url], 0);
    assert!(builds.is_empty(), "{builds:?}");
    assert_eq!(report.unwrap().artifacts[0].cache, Some(CacheStatus::Hit));

    // A call the plan does not have: the jobs did not plan the same thing.
    let (run, _, builds) = c.run(&["--shard", "1/1:0123456789ab", "--cache", url], 2);
    assert!(builds.is_empty());
    assert!(
        run.stderr.contains("`0123456789ab`") && run.stderr.contains("does not have"),
        "{}",
        describe(&run)
    );
    // `--cache-mode off`: the whole plan, as without a cache.
    let run = c
        .lb(&[
            "plan",
            "--shards",
            "2",
            "--format",
            "json",
            "--cache",
            url,
            "--cache-mode",
            "off",
        ])
        .status(0);
    let plain: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(include(&plain)[0]["shard"], "1/2");
}

#[test]
fn runs_store_what_each_call_cost_and_the_split_balances_with_it() {
    let store = cache_dir("costs");
    let cache = store.path().join("cache");
    let url = cache.to_str().unwrap();
    let a = Checkout::new("costs");
    a.run(&["--cache", url], 0);
    // One cost per cargo call, named by what the call is, not where it ran.
    let stored = costs(&cache);
    assert_eq!(stored.len(), 3, "{stored:?}");
    for (ws, (_, call, seconds)) in ["alpha", "beta", "gamma"].iter().zip(&stored) {
        assert!(call.starts_with(&format!("workspace {ws}\n")), "{call}");
        assert!(!call.contains(a.root.to_str().unwrap()), "{call}");
        assert!(*seconds > 0.0, "{call}: {seconds}");
    }
    assert!(
        stored[0].1.contains("alpha-one alpha/alpha-one"),
        "{}",
        stored[0].1
    );
    assert!(
        stored[0].1.contains("alpha-two alpha/alpha-two"),
        "{}",
        stored[0].1
    );

    // Every call changed: all three miss, each costed by what the run measured plus one
    // dependency build per workspace (30 s in the dev profile).
    let b = Checkout::new("costs-next");
    for (file, name) in [
        ("alpha/src/bin/alpha-one.rs", "alpha-one"),
        ("alpha/src/bin/alpha-two.rs", "alpha-two"),
        ("beta/src/bin/beta-one.rs", "beta-one"),
        ("gamma/src/bin/gamma-one.rs", "gamma-one"),
    ] {
        b.write(
            file,
            &format!("fn main() {{\n    println!(\"{name} v2\");\n}}\n"),
        );
    }
    let total = |m: &Value| -> f64 {
        include(m)
            .iter()
            .map(|s| s["estimated_seconds"].as_f64().unwrap())
            .sum()
    };
    let (learned, _) = b.matrix("2", url);
    let expected: f64 = stored.iter().map(|c| 30.0 + c.2).sum();
    assert!(
        (total(&learned) - expected).abs() < 0.2,
        "{learned} against {stored:?}"
    );
    let text = b.lb(&["plan", "--shards", "2", "--cache", url]).status(0);
    assert!(
        text.stdout
            .contains("(3 with costs learned from earlier runs)"),
        "{}",
        describe(&text)
    );

    // A slow gamma (as a run on a bigger call would have measured): it gets a shard alone,
    // where the estimate (by bins) would put alpha alone.
    let gamma = &stored[2].0;
    let mut slow: Value = serde_json::from_slice(&fs::read(gamma).unwrap()).unwrap();
    slow["cpu_seconds"] = serde_json::json!(400.0);
    fs::write(gamma, serde_json::to_vec(&slow).unwrap()).unwrap();
    let (split, _) = b.matrix("2", url);
    let alone: Vec<Value> = include(&split)
        .into_iter()
        .filter(|s| s["artifacts"] == serde_json::json!(["gamma-one (x86_64)"]))
        .collect();
    assert_eq!(alone.len(), 1, "{split}");
    assert_eq!(alone[0]["estimated_seconds"], serde_json::json!(430.0));
    let estimated = b
        .lb(&[
            "plan",
            "--shards",
            "2",
            "--format",
            "json",
            "--cache-mode",
            "off",
        ])
        .status(0);
    let estimated: Value = serde_json::from_str(&estimated.stdout).unwrap();
    assert!(
        include(&estimated)
            .iter()
            .any(|s| s["artifacts"]
                == serde_json::json!(["alpha-one (x86_64)", "alpha-two (x86_64)"])),
        "{estimated}"
    );
    // A corrupt cost, and one of another call: ignored with a warning, never a failed plan.
    fs::write(gamma, b"{ not json").unwrap();
    let beta = &stored[1].0;
    let mut foreign: Value = serde_json::from_slice(&fs::read(beta).unwrap()).unwrap();
    foreign["call"] = serde_json::json!("workspace elsewhere");
    fs::write(beta, serde_json::to_vec(&foreign).unwrap()).unwrap();
    let (after, run) = b.matrix("2", url);
    assert!(
        run.stderr.contains("ignoring the learned cost") && run.stderr.contains("not JSON"),
        "{}",
        describe(&run)
    );
    assert!(
        run.stderr.contains("another cargo call"),
        "{}",
        describe(&run)
    );
    // alpha keeps its learned cost; beta and gamma are estimated (1 + 4 s for one bin).
    let expected = 30.0 + stored[0].2 + 2.0 * (30.0 + 5.0);
    assert!((total(&after) - expected).abs() < 0.2, "{after}");
}

#[test]
fn the_s3_backend_answers_the_plan_and_keeps_the_costs() {
    let server = crate::support::s3_server::s3_server();
    let url = format!(
        "s3://{}/shard-affected/{}",
        crate::support::s3_server::BUCKET,
        std::process::id()
    );
    let env = server.env();
    let with_env = |i: Invocation| env.iter().fold(i, |i, (k, v)| i.env(k, v));
    let a = Checkout::new("s3");
    let report = a.root.join("report.json");
    let run = with_env(a.lb(&[
        "run",
        "--offline",
        "--cache",
        &url,
        "--report",
        report.to_str().unwrap(),
    ]))
    .status(0);
    let report: Report = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert!(
        report
            .artifacts
            .iter()
            .all(|o| o.cache == Some(CacheStatus::Stored)),
        "{}",
        describe(&run)
    );
    let plan = |c: &Checkout, format: &str| {
        with_env(c.lb(&["plan", "--shards", "2", "--format", format, "--cache", &url])).status(0)
    };
    let b = Checkout::new("s3-fresh");
    assert_eq!(plan(&b, "json").stdout.trim(), r#"{"include":[]}"#);
    b.write(
        "gamma/src/bin/gamma-one.rs",
        "fn main() {\n    println!(\"gamma-one, changed\");\n}\n",
    );
    let matrix: Value = serde_json::from_str(&plan(&b, "json").stdout).unwrap();
    let one = include(&matrix);
    assert_eq!(one.len(), 1, "{matrix}");
    assert_eq!(
        one[0]["artifacts"],
        serde_json::json!(["gamma-one (x86_64)"])
    );
    let text = plan(&b, "text");
    assert!(
        text.stdout
            .contains("(1 with costs learned from earlier runs)"),
        "{}",
        describe(&text)
    );
}

//! The sharded CI pipeline of docs/ci.md, simulated on one machine: a small source tree (two
//! cargo workspaces, three tiny bins with distinct names, dev profile, x86_64) checked out
//! several times at different paths and depths, each checkout with empty target dirs, and
//! cargo reached through a wrapper on PATH that logs every call.
//!
//! - `plan --shards 2 --format json` is the same matrix in every checkout;
//! - `run --shard 1/2` and `run --shard 2/2`, in two checkouts, build disjoint parts that
//!   together cover the plan, and store every executable into one directory cache;
//! - a third checkout runs `--cache-only` and produces every output without starting a single
//!   `cargo build` (cargo is only asked to read the workspaces, `metadata` and `tree`, and for
//!   its version), each zip byte for byte the one a plain run without cache gives in a fourth
//!   checkout;
//! - a shard beyond the number of cargo calls builds nothing and succeeds.

use crate::support::test;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::test::{Invocation, Run, describe, repo};
use lambda_batch::cache::CacheStatus;
use lambda_batch::report::{Report, Status};

/// Every output of the tree.
const OUTPUTS: [&str; 3] = ["flow-a", "flow-a-two", "flow-b"];

const MANIFEST: &str = r#"defaults {
    profile "dev"
    arch "x86_64"
    compiler "cargo"
    output-format "zip"
    lambda-dir "out/{arch}"
}

workspace "wa" {
    function "flow-a"
    function "flow-a-two"
}

workspace "wb" {
    function "flow-b"
}
"#;

/// A checkout of the tree at `<area>/<sub>`, under `target/` (what it compiles stays there),
/// with a cargo wrapper that logs its arguments.
struct Checkout {
    _dir: tempfile::TempDir,
    root: PathBuf,
    log: PathBuf,
    bin: PathBuf,
}

impl Checkout {
    fn new(name: &str, sub: &str) -> Checkout {
        let area = repo().join("target").join("ci-flow");
        fs::create_dir_all(&area).unwrap();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(&area)
            .unwrap();
        let root = dir.path().join(sub);
        let bin = dir.path().join("bin");
        let log = dir.path().join("cargo.log");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&bin).unwrap();
        test::logging_cargo(&bin, &log);
        write(&root, "lambda.kdl", MANIFEST);
        for (ws, package, bins) in [
            ("wa", "flow-a", &["flow-a", "flow-a-two"][..]),
            ("wb", "flow-b", &["flow-b"][..]),
        ] {
            write(
                &root,
                &format!("{ws}/Cargo.toml"),
                &format!(
                    "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n"
                ),
            );
            for b in bins {
                write(&root, &format!("{ws}/src/bin/{b}.rs"), &test::bin_source(b));
            }
            // The lock file, as every checkout of the commit has it.
            Invocation::program(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["generate-lockfile", "--offline"])
                .current_dir(root.join(ws))
                .status(0);
        }
        Checkout {
            _dir: dir,
            root,
            log,
            bin,
        }
    }

    /// `lambda-batch ARGS` in the checkout, cargo through the wrapper.
    fn lb(&self, args: &[&str]) -> Invocation {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Invocation::lb(&self.root, args)
            .env("PATH", path)
            .env("CARGO", self.bin.join("cargo"))
    }

    /// `run --offline --report ARGS`, exiting 0: the run, its report and the `cargo build`
    /// calls it made.
    fn run(&self, args: &[&str]) -> (Run, Report, Vec<String>) {
        let report = self.root.join("report.json");
        let mut all = vec!["run", "--offline", "--report", report.to_str().unwrap()];
        all.extend_from_slice(args);
        let before = self.cargo_calls().len();
        let run = self.lb(&all).status(0);
        let text = fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("no report ({e})\n{}", describe(&run)));
        let builds = self.cargo_calls()[before..]
            .iter()
            .filter(|c| c.starts_with("build "))
            .cloned()
            .collect();
        (run, serde_json::from_str(&text).unwrap(), builds)
    }

    /// Every cargo call so far, its arguments.
    fn cargo_calls(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn zip(&self, name: &str) -> Vec<u8> {
        fs::read(self.root.join(format!("out/x86_64/{name}/bootstrap.zip")))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// Each output's name → its cache status, in a report.
fn cache(report: &Report) -> BTreeMap<String, Option<CacheStatus>> {
    report
        .artifacts
        .iter()
        .map(|a| (a.name.clone(), a.cache))
        .collect()
}

#[test]
fn two_shards_fill_the_cache_and_the_assemble_step_builds_nothing() {
    let cache_dir = tempfile::Builder::new()
        .prefix("cache-")
        .tempdir_in({
            let area = repo().join("target").join("ci-flow");
            fs::create_dir_all(&area).unwrap();
            area
        })
        .unwrap();
    let cache_url = cache_dir.path().join("cache");
    let cache_url = cache_url.to_str().unwrap();

    // The plain build every output is compared with.
    let plain = Checkout::new("plain", "repo");
    let (_, report, builds) = plain.run(&[]);
    assert_eq!(builds.len(), 2, "one cargo call per workspace: {builds:?}");
    assert!(
        report
            .artifacts
            .iter()
            .all(|a| a.status == Status::Built && a.cache.is_none())
    );
    let expected: BTreeMap<&str, Vec<u8>> = OUTPUTS.iter().map(|n| (*n, plain.zip(n))).collect();

    // Two runners, each at its own path.
    let one = Checkout::new("shard-one", "repo");
    let two = Checkout::new("shard-two", "some/deeper/checkout/of/repo");
    let matrix = |c: &Checkout| {
        let run = c
            .lb(&["plan", "--shards", "2", "--format", "json"])
            .status(0);
        serde_json::from_str::<serde_json::Value>(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}\n{}", describe(&run)))
    };
    let split = matrix(&one);
    assert_eq!(
        matrix(&two),
        split,
        "every checkout computes the same split"
    );
    let include = split["include"].as_array().unwrap();
    assert_eq!(include.len(), 2, "{split}");
    assert_eq!(include[0]["shard"], "1/2");
    assert_eq!(include[1]["shard"], "2/2");

    let (run1, report1, builds1) = one.run(&["--shard", "1/2", "--cache", cache_url]);
    let (_, report2, builds2) = two.run(&["--shard", "2/2", "--cache", cache_url]);
    assert!(run1.stderr.contains("shard 1/2: "), "{}", describe(&run1));
    assert_eq!(builds1.len(), 1, "{builds1:?}");
    assert_eq!(builds2.len(), 1, "{builds2:?}");
    let names =
        |r: &Report| -> BTreeSet<String> { r.artifacts.iter().map(|a| a.name.clone()).collect() };
    let (n1, n2) = (names(&report1), names(&report2));
    assert!(n1.is_disjoint(&n2), "{n1:?} {n2:?}");
    assert_eq!(
        n1.union(&n2).cloned().collect::<BTreeSet<_>>(),
        OUTPUTS.iter().map(|s| s.to_string()).collect(),
        "the shards cover the plan"
    );
    // The matrix said which outputs each shard builds.
    for (entry, built) in include.iter().zip([&n1, &n2]) {
        let listed: BTreeSet<String> = entry["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                a.as_str()
                    .unwrap()
                    .trim_end_matches(" (x86_64)")
                    .to_string()
            })
            .collect();
        assert_eq!(&listed, built);
    }
    // A bin of one workspace is never split from its cargo call.
    assert!(n1.contains("flow-a") == n1.contains("flow-a-two"), "{n1:?}");
    for r in [&report1, &report2] {
        for a in &r.artifacts {
            assert_eq!(a.status, Status::Built, "{}", a.name);
            assert_eq!(a.cache, Some(CacheStatus::Stored), "{}", a.name);
        }
    }

    // The assemble step: every output from the cache, cargo never asked to build.
    let assemble = Checkout::new("assemble", "elsewhere/repo");
    let (run, report, builds) = assemble.run(&["--cache-only", "--cache", cache_url]);
    assert!(
        builds.is_empty(),
        "cargo build started: {builds:?}\n{}",
        describe(&run)
    );
    assert!(
        assemble
            .cargo_calls()
            .iter()
            .all(|c| c.starts_with("metadata ") || c.starts_with("tree ") || c == "-V"),
        "cargo is only asked to read the workspaces and its version: {:?}",
        assemble.cargo_calls()
    );
    assert_eq!(
        cache(&report),
        OUTPUTS
            .iter()
            .map(|n| (n.to_string(), Some(CacheStatus::Hit)))
            .collect()
    );
    for a in &report.artifacts {
        assert!(a.key.is_some(), "{}", a.name);
    }
    for (name, bytes) in &expected {
        assert!(
            assemble.zip(name) == *bytes,
            "{name}: the assembled zip differs from the plain build's"
        );
    }
    // The keys the shards stored under are the keys the assemble step looked up.
    let keys = |r: &Report| -> BTreeMap<String, String> {
        r.artifacts
            .iter()
            .map(|a| (a.name.clone(), a.key.clone().unwrap()))
            .collect()
    };
    let mut stored = keys(&report1);
    stored.extend(keys(&report2));
    assert_eq!(keys(&report), stored);

    // More shards than cargo calls: the third has nothing to do, and says so.
    let (run, report, builds) = assemble.run(&["--shard", "3/3", "--cache", cache_url]);
    assert!(builds.is_empty() && report.artifacts.is_empty() && report.success);
    assert!(
        run.stderr.contains("shard 3/3 has nothing to build"),
        "{}",
        describe(&run)
    );
}

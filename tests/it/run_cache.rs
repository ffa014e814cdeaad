//! The shared artifact cache through `run` and `plan`, on a small workspace of tiny bins
//! (three packages: `cache-one` with a path dependency on `cache-shared`, `cache-two` with two
//! bins) built for real with plain cargo in the dev profile. Every checkout lives under
//! `target/cache-tests/` with a target dir and a cargo home of its own, and runs cargo
//! through a wrapper on PATH that logs each call, so "cargo did not start" is observed.
//! The directory backend is used on a temp dir, S3 against moto on 127.0.0.1, and one hit's
//! bootstrap (a real `lambda_runtime` function) answers the Runtime API.

use crate::support::{bad_endpoints, runtime_api, s3_server, test};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::test::{Invocation, Run, Test, describe, repo, zip_entries};
use lambda_batch::cache::CacheStatus;
use lambda_batch::report::{Report, Status};
use sha2::{Digest, Sha256};

/// The names of the tests' outputs, in the order of the manifest.
pub(crate) const ALL: [&str; 3] = ["cache-one", "cache-two", "cache-two-b"];

/// One checkout of the workspace: the manifest and `ws/` at `root`, its own cargo home, and
/// a logging cargo wrapper first on PATH.
pub(crate) struct Checkout {
    _test: Test,
    pub(crate) root: PathBuf,
    home: PathBuf,
    log: PathBuf,
    path: String,
}

impl Checkout {
    /// A new checkout at `<area>/<sub>` (sub may be nested: another depth than the others).
    fn new(name: &str, sub: &str) -> Checkout {
        let test = Test::in_target("cache-tests", name);
        let root = test.path().join(sub);
        let home = test.path().join("cargo-home");
        let bin = test.path().join("bin");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&root).unwrap();
        let log = test.path().join("cargo.log");
        let path = test::logging_cargo(&bin, &log);
        Checkout {
            _test: test,
            root,
            home,
            log,
            path,
        }
    }

    /// A checkout of the fixture, with its lock file.
    pub(crate) fn fixture(name: &str, sub: &str) -> Checkout {
        let c = Checkout::new(name, sub);
        c.write("lambda.kdl", MANIFEST);
        c.write(
            "ws/Cargo.toml",
            "[workspace]\nresolver = \"2\"\nmembers = [\"one\", \"two\", \"shared\"]\n",
        );
        c.write(
            "ws/one/Cargo.toml",
            "[package]\nname = \"cache-one\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\ncache-shared = { path = \"../shared\" }\n\n[features]\nextra = []\n",
        );
        c.write(
            "ws/one/src/main.rs",
            "fn main() {\n    println!(\"cache-one {}\", cache_shared::WORD);\n}\n",
        );
        c.write(
            "ws/two/Cargo.toml",
            "[package]\nname = \"cache-two\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n",
        );
        c.write("ws/two/src/bin/cache-two.rs", &bin("cache-two"));
        c.write("ws/two/src/bin/cache-two-b.rs", &bin("cache-two-b"));
        c.write(
            "ws/shared/Cargo.toml",
            "[package]\nname = \"cache-shared\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n",
        );
        c.write(
            "ws/shared/src/lib.rs",
            "pub const WORD: &str = \"shared\";\n",
        );
        c.write("proto/schema.txt", "v1\n");
        // The lock file, as every checkout of the commit has it.
        Invocation::program(std::env::var("CARGO").unwrap_or("cargo".into()))
            .args(["generate-lockfile", "--offline"])
            .current_dir(c.root.join("ws"))
            .env("CARGO_HOME", &c.home)
            .status(0);
        c
    }

    /// Another checkout of the same files, at another depth, with an empty target dir.
    pub(crate) fn copy(&self, name: &str, sub: &str) -> Checkout {
        let c = Checkout::new(name, sub);
        copy_tree(&self.root, &c.root);
        c
    }

    pub(crate) fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap()
    }

    /// `lambda-batch ARGS` in the checkout, with its cargo home and wrapper.
    pub(crate) fn lb(&self, args: &[&str]) -> Invocation {
        Invocation::lb(&self.root, args)
            .env("CARGO_HOME", &self.home)
            .env("PATH", &self.path)
    }

    /// `run --offline --report ARGS` with extra environment, exiting with `code`: the run, its
    /// report and how many `cargo build` calls it made (with their arguments).
    pub(crate) fn run(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        code: i32,
    ) -> (Run, Report, Vec<String>) {
        let before = self.builds().len();
        let report = self.root.join("report.json");
        let _ = fs::remove_file(&report);
        let mut all = vec!["run", "--offline", "--report", report.to_str().unwrap()];
        all.extend_from_slice(args);
        let mut invocation = self.lb(&all);
        for (k, v) in env {
            invocation = invocation.env(k, v);
        }
        let run = invocation.status(code);
        let text = fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("no report ({e})\n{}", describe(&run)));
        let report: Report = serde_json::from_str(&text).unwrap();
        let builds = self.builds()[before..].to_vec();
        (run, report, builds)
    }

    /// Every `cargo build` call so far.
    fn builds(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("build "))
            .map(str::to_string)
            .collect()
    }

    /// Each artifact's input key, from `plan --format json`, with extra environment.
    fn keys(&self, env: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut invocation = self.lb(&["plan", "--format", "json", "--offline"]);
        for (k, v) in env {
            invocation = invocation.env(k, v);
        }
        let run = invocation.status(0);
        let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        plan["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let key = a["key"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no key: {}", a["key_error"]));
                (a["name"].as_str().unwrap().to_string(), key.to_string())
            })
            .collect()
    }

    /// The bytes of an output's zip.
    pub(crate) fn zip(&self, name: &str) -> Vec<u8> {
        fs::read(self.root.join(format!("out/x86_64/{name}/bootstrap.zip"))).unwrap()
    }
}

const MANIFEST: &str = r#"defaults {
    profile "dev"
    arch "x86_64"
    compiler "cargo"
    output-format "zip"
    lambda-dir "out/{arch}"
    target-dir "target"
}

workspace "ws" {
    function "cache-one"
    function "cache-two"
    function "cache-two-b"
}
"#;

fn bin(name: &str) -> String {
    format!("fn main() {{\n    println!(\"{name}\");\n}}\n")
}

/// Copies `from` into `to`, leaving out build output, logs and reports; a file that is already
/// there with the same bytes is left alone (and keeps its modification time).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if ["target", "out", "report.json"].iter().any(|n| name == *n) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else if fs::read(&dst).ok() != Some(fs::read(&src).unwrap()) {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Each output's `cache` status in a report.
pub(crate) fn cache(report: &Report) -> BTreeMap<String, Option<CacheStatus>> {
    report
        .artifacts
        .iter()
        .map(|a| (a.name.clone(), a.cache))
        .collect()
}

pub(crate) fn all(status: CacheStatus) -> BTreeMap<String, Option<CacheStatus>> {
    ALL.iter().map(|n| (n.to_string(), Some(status))).collect()
}

/// The keys that differ between two sets.
fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    before
        .iter()
        .filter(|(name, key)| after.get(*name) != Some(*key))
        .map(|(name, _)| name.clone())
        .collect()
}

/// The one record of `key` in the directory cache at `url` (a key holds one record per
/// version of the files its executable read; these tests make one each).
fn record_file(url: &str, key: &str) -> PathBuf {
    let dir = Path::new(url).join(format!("v2/keys/{}/{key}", &key[..2]));
    let records: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| !p.ends_with("index.json"))
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    records.into_iter().next().unwrap()
}

/// A fresh directory cache (removed on drop).
pub(crate) fn dir_cache(name: &str) -> (Test, String) {
    let t = Test::in_target("cache-tests", name);
    let url = t.path().join("cache").to_str().unwrap().to_string();
    (t, url)
}

#[test]
fn keys_are_the_same_in_every_checkout_and_change_with_each_input() {
    let a = Checkout::fixture("keys-a", "repo");
    let b = a.copy("keys-b", "deeper/checkout/of/repo");
    let keys = a.keys(&[]);
    assert_eq!(keys.len(), 3);
    assert_eq!(b.keys(&[]), keys, "another path, another cargo home");

    // Neither `--only` nor the manifest's other artifacts change a key.
    let dry = b
        .lb(&[
            "run",
            "--dry-run",
            "--cache",
            "unused",
            "--only",
            "cache-two",
        ])
        .status(0);
    assert!(
        dry.stdout.contains(&format!("key {}", keys["cache-two"])),
        "{}",
        describe(&dry)
    );
    b.write(
        "lambda.kdl",
        &MANIFEST.replace(
            "    function \"cache-two-b\"\n",
            "    function \"cache-two-b\"\n    function \"also\" bin=\"cache-two\" {\n        output-format \"binary\"\n        lambda-dir \"elsewhere\"\n    }\n",
        ),
    );
    let more = b.keys(&[]);
    assert_eq!(more.len(), 4);
    assert!(changed(&keys, &more).is_empty(), "{keys:?} {more:?}");
    assert_eq!(
        more["also"], keys["cache-two"],
        "the same executable, the same key"
    );
    b.write("lambda.kdl", MANIFEST);

    // Each input changes the keys of exactly the executables it can change.
    let one = vec!["cache-one".to_string()];
    let every: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
    let edit = |file: &str, from: &str, to: &str| {
        let text = b.read(file);
        assert!(text.contains(from), "{file}: {from}");
        b.write(file, &text.replacen(from, to, 1));
    };
    let check = |what: &str, expected: &[String], change: &dyn Fn(), undo: &dyn Fn()| {
        change();
        let now = b.keys(&[]);
        assert_eq!(changed(&keys, &now), expected, "{what}");
        undo();
    };
    // The files of the bin's own package are not in the key: each entry records those its
    // executable read (see `four_bins_of_one_package_miss_only_for_what_each_read`).
    check(
        "a source file of the bin's package",
        &[],
        &|| edit("ws/two/src/bin/cache-two-b.rs", "println", "eprintln"),
        &|| edit("ws/two/src/bin/cache-two-b.rs", "eprintln", "println"),
    );
    check(
        "a shared path crate",
        &one,
        &|| edit("ws/shared/src/lib.rs", "\"shared\"", "\"changed\""),
        &|| edit("ws/shared/src/lib.rs", "\"changed\"", "\"shared\""),
    );
    check(
        "Cargo.lock",
        &every,
        &|| edit("ws/Cargo.lock", "version = 4", "version = 3"),
        &|| edit("ws/Cargo.lock", "version = 3", "version = 4"),
    );
    check(
        "features",
        &one,
        &|| {
            edit(
                "lambda.kdl",
                "function \"cache-one\"",
                "function \"cache-one\" {\n        features \"extra\"\n    }",
            )
        },
        &|| b.write("lambda.kdl", MANIFEST),
    );
    check(
        "rustflags",
        &["cache-two".to_string()],
        &|| {
            edit(
                "lambda.kdl",
                "function \"cache-two\"\n",
                "function \"cache-two\" {\n        rustflags \"-C\" \"overflow-checks=off\"\n    }\n",
            )
        },
        &|| b.write("lambda.kdl", MANIFEST),
    );
    check(
        "the profile",
        &["cache-two-b".to_string()],
        &|| {
            edit(
                "lambda.kdl",
                "function \"cache-two-b\"",
                "function \"cache-two-b\" {\n        profile \"release\"\n    }",
            )
        },
        &|| b.write("lambda.kdl", MANIFEST),
    );
    check(
        "the manifest's env",
        &one,
        &|| {
            edit(
                "lambda.kdl",
                "function \"cache-one\"",
                "function \"cache-one\" {\n        env GREETING=\"hello\"\n    }",
            )
        },
        &|| b.write("lambda.kdl", MANIFEST),
    );
    // A `cache-key-files` file: its contents, for the artifacts of the node that names it.
    edit(
        "lambda.kdl",
        "workspace \"ws\" {",
        "workspace \"ws\" {\n    cache-key-files \"../proto/*.txt\"",
    );
    let with_files = b.keys(&[]);
    b.write("proto/schema.txt", "v2\n");
    assert_eq!(
        changed(&with_files, &b.keys(&[])),
        every,
        "a cache-key-files file"
    );
    b.write("proto/schema.txt", "v1\n");
    assert_eq!(b.keys(&[]), with_files);
    b.write("lambda.kdl", MANIFEST);
    // A `cache-key-env` variable: its value, set or not.
    edit(
        "lambda.kdl",
        "function \"cache-one\"",
        "function \"cache-one\" {\n        cache-key-env \"CACHE_TEST_VAR\"\n    }",
    );
    let unset = b.keys(&[]);
    let set = b.keys(&[("CACHE_TEST_VAR", "1")]);
    assert_eq!(changed(&unset, &set), one, "a cache-key-env variable");
    assert_eq!(changed(&set, &b.keys(&[("CACHE_TEST_VAR", "2")])), one);
    b.write("lambda.kdl", MANIFEST);
    assert_eq!(b.keys(&[]), keys);
    // Another toolchain: a rustc whose `-vV` says something else.
    let rustc = b.root.join("../rustc-wrapper");
    test::write_executable(
        &rustc,
        "#!/bin/sh\nif [ \"$1\" = -vV ]; then rustc -vV; echo 'patched: yes'; else exec rustc \"$@\"; fi\n",
    );
    let other = b.keys(&[("RUSTC", rustc.to_str().unwrap())]);
    assert_eq!(changed(&keys, &other), every, "the toolchain answer");

    // With -v, the plan says what went into each key.
    let verbose = b
        .lb(&["plan", "-v", "--format", "json", "--offline"])
        .status(0);
    let plan: serde_json::Value = serde_json::from_str(&verbose.stdout).unwrap();
    let inputs: Vec<&str> = plan["artifacts"][0]["key_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    for expected in [
        "key-format",
        "tool rustc",
        "tool cargo",
        "args",
        "env RUSTFLAGS",
        "file $MANIFEST/ws/Cargo.lock",
        "reads $MANIFEST/ws/one",
        "package $MANIFEST/ws/shared",
    ] {
        assert!(inputs.contains(&expected), "{expected} not in {inputs:?}");
    }
    assert!(!inputs.iter().any(|i| i.contains(b.root.to_str().unwrap())));
}

#[test]
fn a_second_checkout_takes_everything_from_the_cache_and_builds_only_what_changed() {
    let (_store, url) = dir_cache("store");
    let a = Checkout::fixture("run-a", "repo");
    let (_, report, builds) = a.run(&["--cache", &url], &[], 0);
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(cache(&report), all(CacheStatus::Stored));

    // Another checkout, another path and cargo home, an empty target dir: no cargo at all,
    // and the very same bytes. The cache comes from the environment this time.
    let first_keys: BTreeMap<String, String> = report
        .artifacts
        .iter()
        .map(|a| (a.name.clone(), a.key.clone().unwrap()))
        .collect();
    let b = a.copy("run-b", "deeper/checkout/of/repo");
    // The environment wins over the manifest's node (an empty cache here).
    let (_empty, elsewhere) = dir_cache("store-unused");
    b.write("lambda.kdl", &format!("cache \"{elsewhere}\"\n{MANIFEST}"));
    let (out, report, builds) = b.run(&[], &[("LAMBDA_BATCH_CACHE", &url)], 0);
    b.write("lambda.kdl", MANIFEST);
    assert!(
        builds.is_empty(),
        "cargo ran: {builds:?}\n{}",
        describe(&out)
    );
    assert_eq!(cache(&report), all(CacheStatus::Hit));
    for name in ALL {
        assert!(a.zip(name) == b.zip(name), "{name} differs");
    }
    for a in &report.artifacts {
        assert_eq!(a.status, Status::Built);
        assert_eq!(a.key.as_ref().map(String::len), Some(64));
    }
    assert!(out.stderr.contains("Cached"), "{}", describe(&out));
    assert!(out.stdout.contains("CACHE"), "{}", describe(&out));
    assert!(
        !Path::new(&elsewhere).join("v2").exists(),
        "the manifest's cache was used"
    );

    // One bin's file changes: cargo builds that bin only; the rest is what this checkout holds.
    let text = b
        .read("ws/two/src/bin/cache-two.rs")
        .replace("cache-two", "cache-two v2");
    b.write("ws/two/src/bin/cache-two.rs", &text);
    let (out, report, builds) = b.run(&["--cache", &url], &[], 0);
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(bins(&builds[0]), ["cache-two"]);
    let statuses = cache(&report);
    assert_eq!(statuses["cache-one"], Some(CacheStatus::Hit));
    assert_eq!(statuses["cache-two"], Some(CacheStatus::Stored));
    assert_eq!(statuses["cache-two-b"], Some(CacheStatus::Hit));
    let entries = zip_entries(&b.root.join("out/x86_64/cache-two/bootstrap.zip"));
    assert!(
        String::from_utf8_lossy(&entries["bootstrap"].1).contains("cache-two v2"),
        "{}",
        describe(&out)
    );

    // A shared path crate changes: only the bin that depends on it is built.
    b.write(
        "ws/shared/src/lib.rs",
        "pub const WORD: &str = \"changed\";\n",
    );
    let (out, report, builds) = b.run(&["--cache", &url], &[], 0);
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(bins(&builds[0]), ["cache-one"], "{}", describe(&out));
    let statuses = cache(&report);
    assert_eq!(statuses["cache-one"], Some(CacheStatus::Stored));
    assert_eq!(statuses["cache-two"], Some(CacheStatus::Hit));
    assert_eq!(statuses["cache-two-b"], Some(CacheStatus::Hit));

    // Unchanged, the next run needs neither cargo nor the cache: nothing is downloaded
    // again, and the cache could be gone.
    let moved = format!("{url}.away");
    fs::rename(&url, &moved).unwrap();
    let (out, report, builds) = b.run(&["--cache", &url], &[], 0);
    assert!(builds.is_empty(), "{builds:?}");
    assert_eq!(cache(&report), all(CacheStatus::Hit));
    assert!(!out.stderr.contains("warning"), "{}", describe(&out));
    // Opened for writing, the cache's directory was made again, and nothing put in it.
    assert_eq!(test::tree(Path::new(&url)), ["CACHEDIR.TAG"]);
    fs::remove_dir_all(&url).unwrap();
    fs::rename(&moved, &url).unwrap();

    // A corrupted entry and a truncated one are misses with a warning, rebuilt and stored
    // again, never an output.
    let blob_of = |name: &str| {
        let key = &first_keys[name];
        let record: serde_json::Value =
            serde_json::from_slice(&fs::read(record_file(&url, key)).unwrap()).unwrap();
        let sha = record["sha256"].as_str().unwrap().to_string();
        (
            Path::new(&url).join(format!("v2/blobs/{}/{sha}", &sha[..2])),
            sha,
        )
    };
    let (corrupt, corrupt_sha) = blob_of("cache-one");
    let mut bytes = fs::read(&corrupt).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&corrupt, &bytes).unwrap();
    let (truncated, truncated_sha) = blob_of("cache-two-b");
    let bytes = fs::read(&truncated).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let c = a.copy("run-c", "repo");
    let (out, report, builds) = c.run(&["--cache", &url], &[], 0);
    assert_eq!(
        out.stderr.matches("ignoring a bad cache entry").count(),
        2,
        "{}",
        describe(&out)
    );
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(bins(&builds[0]), ["cache-one", "cache-two-b"]);
    let statuses = cache(&report);
    assert_eq!(statuses["cache-one"], Some(CacheStatus::Stored));
    assert_eq!(statuses["cache-two"], Some(CacheStatus::Hit));
    assert_eq!(statuses["cache-two-b"], Some(CacheStatus::Stored));
    for (blob, sha) in [(&corrupt, &corrupt_sha), (&truncated, &truncated_sha)] {
        let now = format!("{:x}", Sha256::digest(fs::read(blob).unwrap()));
        assert_eq!(&now, sha, "{} is repaired", blob.display());
    }
    for name in ALL {
        assert!(c.zip(name) == a.zip(name), "{name} differs");
    }
}

/// The bins a `cargo build` call names, sorted.
fn bins(call: &str) -> Vec<&str> {
    let words: Vec<&str> = call.split_whitespace().collect();
    let mut bins: Vec<&str> = words
        .windows(2)
        .filter(|w| w[0] == "--bin")
        .map(|w| w[1])
        .collect();
    bins.sort_unstable();
    bins
}

#[test]
fn read_mode_never_writes_and_a_dead_cache_never_stops_a_build() {
    let (_store, url) = dir_cache("read");
    let a = Checkout::fixture("read-a", "repo");
    let (_, report, builds) = a.run(&["--cache", &url, "--cache-mode", "read"], &[], 0);
    assert_eq!(builds.len(), 1);
    assert_eq!(cache(&report), all(CacheStatus::Miss));
    assert!(!Path::new(&url).exists(), "read mode created the cache");

    // --cache-only with the entries missing: a clear failure, and cargo never starts.
    let b = a.copy("read-b", "repo");
    let (out, report, builds) = b.run(&["--cache", &url, "--cache-only"], &[], 1);
    assert!(builds.is_empty(), "{builds:?}");
    assert!(
        out.stdout.contains("--cache-only") && out.stdout.contains("not in the cache"),
        "{}",
        describe(&out)
    );
    assert!(report.artifacts.iter().all(|a| a.status == Status::Failed));

    // Read-write, the first checkout stores what it already holds, without cargo.
    let (_, report, builds) = a.run(&["--cache", &url], &[], 0);
    assert!(builds.is_empty(), "{builds:?}");
    assert_eq!(cache(&report), all(CacheStatus::Stored));
    let snapshot = |dir: &str| -> BTreeMap<String, Vec<u8>> {
        test::tree(Path::new(dir))
            .into_iter()
            .map(|f| {
                let bytes = fs::read(Path::new(dir).join(&f)).unwrap();
                (f, bytes)
            })
            .collect()
    };
    let stored = snapshot(&url);
    // The tag, each output's blob, record and index, and the log of the runs that wrote.
    assert_eq!(stored.len(), 2 + 3 * ALL.len(), "{:?}", stored.keys());
    assert!(stored.contains_key("v2/runs.jsonl"), "{:?}", stored.keys());

    // Read mode with a miss: a hit is used, the miss is built, and nothing is written.
    let text = b
        .read("ws/two/src/bin/cache-two-b.rs")
        .replace("cache-two-b", "cache-two-b v2");
    b.write("ws/two/src/bin/cache-two-b.rs", &text);
    let (out, report, builds) = b.run(&["--cache", &url, "--cache-mode", "read"], &[], 0);
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(bins(&builds[0]), ["cache-two-b"], "{}", describe(&out));
    let statuses = cache(&report);
    assert_eq!(statuses["cache-one"], Some(CacheStatus::Hit));
    assert_eq!(statuses["cache-two"], Some(CacheStatus::Hit));
    assert_eq!(statuses["cache-two-b"], Some(CacheStatus::Miss));
    assert!(snapshot(&url) == stored, "read mode wrote into the cache");
    assert!(b.zip("cache-one") == a.zip("cache-one"));

    // A dead endpoint (the manifest's cache node, this time): one warning, and it builds.
    let dead = bad_endpoints::closed_port();
    let manifest = format!("cache \"s3://{}/dead\"\n{MANIFEST}", s3_server::BUCKET);
    let aws = |endpoint: &str| {
        [
            ("AWS_ENDPOINT_URL", endpoint.to_string()),
            ("AWS_ACCESS_KEY_ID", "test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
        ]
    };
    let closed = aws(&dead);
    let closed: Vec<(&str, &str)> = closed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let c = a.copy("read-c", "repo");
    c.write("lambda.kdl", &manifest);
    let (out, report, builds) = c.run(&[], &closed, 0);
    assert_eq!(builds.len(), 1);
    assert_eq!(
        out.stderr.matches("the cache is unavailable").count(),
        1,
        "{}",
        describe(&out)
    );
    assert_eq!(cache(&report), all(CacheStatus::Miss));
    for name in ALL {
        assert!(c.zip(name) == a.zip(name), "{name} differs");
    }

    // --cache-only with a dead endpoint: fails clearly, without cargo.
    let d = a.copy("read-d", "repo");
    d.write("lambda.kdl", &manifest);
    let (out, report, builds) = d.run(&["--cache-only"], &closed, 1);
    assert!(builds.is_empty(), "{builds:?}");
    assert!(
        out.stdout.contains("the cache is unavailable"),
        "{}",
        describe(&out)
    );
    assert!(report.artifacts.iter().all(|a| a.status == Status::Failed));

    // A blackhole (accepts, never answers) costs one wave of lookups that time out (at most
    // one connection per artifact, none retried), then fails the same way. How long that wave
    // takes is measured in BENCHMARKS.md (`scripts/bench-faults.sh`).
    let hole = bad_endpoints::BadEndpoint::blackhole();
    let env = aws(&hole.endpoint);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (out, report, builds) = d.run(&["--cache-only"], &env, 1);
    assert!(builds.is_empty(), "{builds:?}");
    assert!(
        out.stdout.contains("the cache is unavailable"),
        "{}",
        describe(&out)
    );
    assert!(report.artifacts.iter().all(|a| a.status == Status::Failed));
    let connections = hole.connections();
    assert!(
        (1..=ALL.len()).contains(&connections),
        "{connections} connections to the blackhole"
    );
}

#[test]
fn the_s3_backend_round_trips_through_run() {
    let server = s3_server::s3_server();
    let url = format!(
        "s3://{}/run-cache/{}",
        s3_server::BUCKET,
        std::process::id()
    );
    let env: Vec<(String, String)> = server.env().into_iter().collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let a = Checkout::fixture("s3-a", "repo");
    let (out, report, builds) = a.run(&["--cache", &url], &env, 0);
    assert_eq!(builds.len(), 1);
    assert_eq!(
        cache(&report),
        all(CacheStatus::Stored),
        "{}",
        describe(&out)
    );
    // Another checkout assembles everything from S3; the flag wins over the environment.
    let b = a.copy("s3-b", "other/repo");
    let (_empty, elsewhere) = dir_cache("s3-unused");
    let mut with_env = env.clone();
    with_env.push(("LAMBDA_BATCH_CACHE", &elsewhere));
    let (out, report, builds) = b.run(&["--cache", &url, "--cache-only"], &with_env, 0);
    assert!(builds.is_empty(), "{builds:?}");
    assert_eq!(cache(&report), all(CacheStatus::Hit), "{}", describe(&out));
    assert!(!Path::new(&elsewhere).exists());
    for name in ALL {
        assert!(a.zip(name) == b.zip(name), "{name} differs");
    }
}

const LAMBDA_MANIFEST: &str = r#"defaults {
    profile "dev"
    arch "x86_64"
    compiler "cargo"
    output-format "zip"
    lambda-dir "out/{arch}"
    target-dir "target"
}

workspace "services" {
    function "order-events"
}
"#;

#[test]
fn a_bootstrap_from_the_cache_answers_the_runtime_api() {
    // The first machine keeps its target dir between test runs (what it compiles is a real
    // lambda_runtime function); the cache is new each time.
    let (_store, url) = dir_cache("lambda-store");
    let one = repo().join("target/cache-tests/lambda-one");
    copy_tree(&repo().join("examples/services"), &one.join("services"));
    if fs::read_to_string(one.join("lambda.kdl")).ok().as_deref() != Some(LAMBDA_MANIFEST) {
        fs::write(one.join("lambda.kdl"), LAMBDA_MANIFEST).unwrap();
    }
    let run = |dir: &Path, args: &[&str]| {
        Invocation::lb(dir, &["run", "--locked", "--cache", &url])
            .args(args)
            .status(0)
    };
    let first = run(&one, &[]);
    assert!(first.stdout.contains("stored"), "{}", describe(&first));

    let two = Test::in_target("cache-tests", "lambda-two");
    copy_tree(&one, two.path());
    let second = run(two.path(), &["--cache-only"]);
    assert!(second.stdout.contains("hit"), "{}", describe(&second));
    let zip = |dir: &Path| fs::read(dir.join("out/x86_64/order-events/bootstrap.zip")).unwrap();
    assert!(zip(&one) == zip(two.path()), "the zips differ");

    let exe = zip_entries(&two.path().join("out/x86_64/order-events/bootstrap.zip"))
        .remove("bootstrap")
        .unwrap()
        .1;
    let answer = runtime_api::invoke_bytes(
        "order-events",
        &exe,
        runtime_api::Arch::X86_64,
        r#"{"n":2}"#,
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(answer, r#"{"function":"order-events","echo":{"n":2}}"#);
}

#[test]
fn a_forged_entry_is_used_without_a_signing_key_and_refused_with_one() {
    const SECRET: &str = "main-branch-secret-3f9a";
    let signing = [("LAMBDA_BATCH_CACHE_SIGNING_KEY", SECRET)];
    let (_store, url) = dir_cache("signed");
    let a = Checkout::fixture("signed-a", "repo");
    let (out, report, _) = a.run(&["--cache", &url], &signing, 0);
    assert_eq!(cache(&report), all(CacheStatus::Stored));
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    let record_of = |name: &str| {
        let key = report
            .artifacts
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.key.clone())
            .unwrap();
        record_file(&url, &key)
    };
    let read = |path: &Path| -> serde_json::Value {
        serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
    };
    assert_eq!(
        read(&record_of("cache-two"))["signature"]
            .as_str()
            .map(str::len),
        Some(64)
    );

    // Someone who can write to the cache (but does not hold the secret) points cache-two's
    // record at another executable, its sha256 and size rewritten to match.
    let forged = read(&record_of("cache-two-b"));
    let mut record = read(&record_of("cache-two"));
    record["sha256"] = forged["sha256"].clone();
    record["size"] = forged["size"].clone();
    fs::write(
        record_of("cache-two"),
        serde_json::to_vec_pretty(&record).unwrap(),
    )
    .unwrap();
    let bootstrap = |c: &Checkout| {
        zip_entries(&c.root.join("out/x86_64/cache-two/bootstrap.zip"))["bootstrap"]
            .1
            .clone()
    };
    let genuine = bootstrap(&a);

    // The threat: without the key, the forged executable becomes cache-two's output.
    let b = a.copy("signed-b", "repo");
    let (out, report, builds) = b.run(&["--cache", &url, "--cache-mode", "read"], &[], 0);
    assert!(builds.is_empty(), "{builds:?}");
    assert_eq!(cache(&report), all(CacheStatus::Hit));
    assert_ne!(bootstrap(&b), genuine, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&bootstrap(&b)).contains("cache-two-b"));

    // With it, the entry is refused: under --cache-only a failure naming it, cargo never run.
    let c = a.copy("signed-c", "repo");
    let (out, report, builds) = c.run(&["--cache", &url, "--cache-only"], &signing, 1);
    assert!(builds.is_empty(), "{builds:?}");
    let statuses: BTreeMap<&str, Status> = report
        .artifacts
        .iter()
        .map(|a| (a.name.as_str(), a.status))
        .collect();
    assert_eq!(statuses["cache-two"], Status::Failed, "{}", describe(&out));
    assert_eq!(statuses["cache-one"], Status::Built);
    assert_eq!(statuses["cache-two-b"], Status::Built);
    let record_name = record_of("cache-two");
    let record_name = record_name.strip_prefix(&url).unwrap().to_str().unwrap();
    assert!(
        out.stderr.contains("ignoring an untrusted cache entry")
            && out.stderr.contains(record_name.trim_start_matches('/'))
            && out
                .stderr
                .contains("does not verify with LAMBDA_BATCH_CACHE_SIGNING_KEY")
            && out.stdout.contains("not signed with the signing key"),
        "{}",
        describe(&out)
    );
    assert!(!c.root.join("out/x86_64/cache-two/bootstrap.zip").exists());

    // And in an ordinary run it is a miss: rebuilt, stored signed again, the genuine bytes.
    let d = a.copy("signed-d", "repo");
    let (out, report, builds) = d.run(&["--cache", &url], &signing, 0);
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(bins(&builds[0]), ["cache-two"]);
    let statuses = cache(&report);
    assert_eq!(statuses["cache-two"], Some(CacheStatus::Stored));
    assert_eq!(statuses["cache-one"], Some(CacheStatus::Hit));
    assert_eq!(bootstrap(&d), genuine);
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    let (_, report, builds) =
        a.copy("signed-e", "repo")
            .run(&["--cache", &url, "--cache-only"], &signing, 0);
    assert!(builds.is_empty());
    assert_eq!(cache(&report), all(CacheStatus::Hit));
}

/// The manifest of the four-bin package: `cargo lambda new`'s layout, four functions as bins
/// in `src/bin/` of one package with a library and a build script.
const QUAD_MANIFEST: &str = r#"defaults {
    profile "dev"
    arch "x86_64"
    compiler "cargo"
    output-format "zip"
    lambda-dir "out/{arch}"
    target-dir "target"
}

workspace "quad" {
    function "quad-a"
    function "quad-b"
    function "quad-c"
    function "quad-d"
}
"#;

const QUADS: [&str; 4] = ["quad-a", "quad-b", "quad-c", "quad-d"];

impl Checkout {
    /// A checkout of one package with four bins: `quad-a` includes a module by `#[path]`,
    /// `quad-b` `include_str!`s a data file, all read the library and the variable the build
    /// script sets from the file it names in `rerun-if-changed`.
    fn four_bins(name: &str) -> Checkout {
        let c = Checkout::new(name, "repo");
        c.write("lambda.kdl", QUAD_MANIFEST);
        c.write(
            "quad/Cargo.toml",
            "[package]\nname = \"quad\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n",
        );
        c.write(
            "quad/build.rs",
            "fn main() {\n    println!(\"cargo:rerun-if-changed=build-input.txt\");\n    let v = std::fs::read_to_string(\"build-input.txt\").unwrap();\n    println!(\"cargo:rustc-env=QUAD_BUILD={}\", v.trim());\n}\n",
        );
        c.write("quad/build-input.txt", "one\n");
        c.write(
            "quad/src/lib.rs",
            "pub fn word() -> &'static str {\n    \"lib\"\n}\n",
        );
        c.write(
            "quad/src/extra/mod_a.rs",
            "pub const EXTRA: &str = \"extra\";\n",
        );
        c.write("quad/data/b.txt", "data b\n");
        c.write("quad/README.md", "Four functions.\n");
        for bin in QUADS {
            let body = match bin {
                "quad-a" => "#[path = \"../extra/mod_a.rs\"]\nmod extra;\n\nfn main() {\n    println!(\"quad-a {} {} {}\", quad::word(), extra::EXTRA, env!(\"QUAD_BUILD\"));\n}\n".to_string(),
                "quad-b" => "fn main() {\n    println!(\"quad-b {} {} {}\", quad::word(), include_str!(\"../../data/b.txt\"), env!(\"QUAD_BUILD\"));\n}\n".to_string(),
                _ => format!("fn main() {{\n    println!(\"{bin} {{}} {{}}\", quad::word(), env!(\"QUAD_BUILD\"));\n}}\n"),
            };
            c.write(&format!("quad/src/bin/{bin}.rs"), &body);
        }
        Invocation::program(std::env::var("CARGO").unwrap_or("cargo".into()))
            .args(["generate-lockfile", "--offline"])
            .current_dir(c.root.join("quad"))
            .env("CARGO_HOME", &c.home)
            .status(0);
        c
    }
}

/// Every record of `key` in the directory cache at `url`, newest first, as JSON.
fn records(url: &str, key: &str) -> Vec<serde_json::Value> {
    let dir = Path::new(url).join(format!("v2/keys/{}/{key}", &key[..2]));
    let index: Vec<String> =
        serde_json::from_str(&fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    index
        .iter()
        .map(|name| {
            let text = fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
            serde_json::from_str(&text).unwrap()
        })
        .collect()
}

/// The files a record says its executable read (labels, with their placeholder).
fn read_files(record: &serde_json::Value) -> Vec<String> {
    record["reads"]
        .as_object()
        .unwrap_or_else(|| panic!("no reads: {record}"))
        .keys()
        .cloned()
        .collect()
}

/// What each of the four bins reads, as its record lists it: its own file, the library, the
/// build script and the file it names in `rerun-if-changed`, and `quad-a`'s module and
/// `quad-b`'s data file; never the whole package (its build script says what it reads).
fn quad_reads(bin: &str) -> Vec<String> {
    let mut files = vec![
        "quad/build-input.txt".to_string(),
        "quad/build.rs".to_string(),
        "quad/src/lib.rs".to_string(),
        format!("quad/src/bin/{bin}.rs"),
    ];
    match bin {
        "quad-a" => files.push("quad/src/extra/mod_a.rs".into()),
        "quad-b" => files.push("quad/data/b.txt".into()),
        _ => {}
    }
    let mut labels: Vec<String> = files
        .iter()
        .map(|f| format!("file $MANIFEST/{f}"))
        .collect();
    labels.sort();
    labels
}

#[test]
fn four_bins_of_one_package_miss_only_for_what_each_read() {
    let (_store, url) = dir_cache("quad");
    let a = Checkout::four_bins("quad-a");
    let keys = a.keys(&[]);
    // The first build's cargo lingers after its work until the four zips are written (at most
    // 5 minutes, polling): they are packaged while the call runs, though the entries wait for
    // its end. Had packaging waited too, the zips would come only after those 5 minutes.
    let area = a.root.parent().unwrap();
    let zips: Vec<String> = QUADS
        .iter()
        .map(|b| {
            format!(
                "[ -e '{}' ]",
                a.root
                    .join(format!("out/x86_64/{b}/bootstrap.zip"))
                    .display()
            )
        })
        .collect();
    let all_zips = zips.join(" && ");
    let released = area.join("released");
    test::write_executable(
        &area.join("linger/cargo"),
        format!(
            "#!/bin/sh\n'{}' \"$@\"\nstatus=$?\nif [ \"$1\" = build ]; then\n  i=0\n  \
             until {all_zips} || [ $i -ge 3000 ]; do sleep 0.1; i=$((i + 1)); done\n  \
             if {all_zips}; then touch '{}'; fi\nfi\nexit $status\n",
            area.join("bin/cargo").display(),
            released.display()
        ),
    );
    let path = format!("{}:{}", area.join("linger").display(), a.path);
    let (out, report, builds) = a.run(&["--cache", &url], &[("PATH", &path)], 0);
    assert!(
        released.exists(),
        "the zips were not written while cargo ran\n{}",
        describe(&out)
    );
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert!(
        report
            .artifacts
            .iter()
            .all(|o| o.cache == Some(CacheStatus::Stored))
    );
    // One cargo call built the four; each entry records exactly what its bin read.
    for bin in QUADS {
        let stored = records(&url, &keys[bin]);
        assert_eq!(stored.len(), 1, "{bin}");
        assert_eq!(read_files(&stored[0]), quad_reads(bin), "{bin}");
    }

    // From a fresh checkout (empty target dir) with the warm cache, each change rebuilds
    // exactly the executables that read the changed file; the others come from the cache,
    // byte for byte what the first checkout built.
    let changes: [(&str, &str, &str, &str, &[&str]); 7] = [
        (
            "one bin's file",
            "quad/src/bin/quad-c.rs",
            "quad-c {}",
            "quad-c2 {}",
            &["quad-c"],
        ),
        (
            "a #[path] module",
            "quad/src/extra/mod_a.rs",
            "\"extra\"",
            "\"extra2\"",
            &["quad-a"],
        ),
        (
            "an include_str! file",
            "quad/data/b.txt",
            "data b",
            "data b2",
            &["quad-b"],
        ),
        (
            "the library",
            "quad/src/lib.rs",
            "\"lib\"",
            "\"lib2\"",
            &QUADS,
        ),
        (
            "a rerun-if-changed file",
            "quad/build-input.txt",
            "one",
            "two",
            &QUADS,
        ),
        (
            "the build script",
            "quad/build.rs",
            "v.trim()",
            "v.trim().to_uppercase()",
            &QUADS,
        ),
        ("a file no bin reads", "quad/README.md", "Four", "Five", &[]),
    ];
    for (n, (what, file, from, to, expected)) in changes.into_iter().enumerate() {
        let b = a.copy(&format!("quad-change-{n}"), "repo");
        let text = b.read(file);
        assert!(text.contains(from), "{file}: {from}");
        b.write(file, &text.replacen(from, to, 1));
        let (out, report, builds) = b.run(&["--cache", &url], &[], 0);
        let mut built: Vec<&str> = builds.iter().flat_map(|call| bins(call)).collect();
        built.sort_unstable();
        assert_eq!(built, expected, "{what}: cargo built\n{}", describe(&out));
        for o in &report.artifacts {
            let rebuilt = expected.contains(&o.name.as_str());
            let want = if rebuilt {
                CacheStatus::Stored
            } else {
                CacheStatus::Hit
            };
            assert_eq!(o.cache, Some(want), "{what}: {}", o.name);
            let (ours, theirs) = (b.zip(&o.name), a.zip(&o.name));
            if rebuilt {
                assert!(ours != theirs, "{what}: {} did not change", o.name);
            } else {
                assert!(
                    ours == theirs,
                    "{what}: {} differs from the first build",
                    o.name
                );
            }
        }
        // The change made back, everything is a hit again.
        b.write(file, &text);
        let (out, report, builds) = b.run(&["--cache", &url], &[], 0);
        assert!(
            builds.is_empty(),
            "{what}, undone: {builds:?}\n{}",
            describe(&out)
        );
        for o in &report.artifacts {
            assert_eq!(
                o.cache,
                Some(CacheStatus::Hit),
                "{what}, undone: {}",
                o.name
            );
            assert!(
                b.zip(&o.name) == a.zip(&o.name),
                "{what}, undone: {}",
                o.name
            );
        }
    }
}

#[test]
fn an_entry_records_what_its_bin_read_when_cargo_leaves_its_dep_info_as_it_was() {
    let (_store, url) = dir_cache("unchanged-dep-info");
    let a = Checkout::fixture("dep-info-a", "repo");
    let keys = a.keys(&[]);
    let (_, report, _) = a.run(&["--cache", &url], &[], 0);
    assert_eq!(cache(&report), all(CacheStatus::Stored));

    // Both bins of `cache-two` change in this checkout: one cargo call builds them again and,
    // their files being the same, leaves their dep-info as it was, older than the new
    // executables. Each entry is recorded after the call, from that dep-info: its own file,
    // not its whole package.
    for bin in ["cache-two", "cache-two-b"] {
        let file = format!("ws/two/src/bin/{bin}.rs");
        a.write(&file, &a.read(&file).replace("println", "eprintln"));
    }
    let (out, report, builds) = a.run(&["--cache", &url], &[], 0);
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(bins(&builds[0]), ["cache-two", "cache-two-b"]);
    let debug = a.root.join("target/x86_64-unknown-linux-gnu/debug");
    let modified = |p: PathBuf| fs::metadata(&p).unwrap().modified().unwrap();
    for bin in ["cache-two", "cache-two-b"] {
        assert_eq!(
            cache(&report)[bin],
            Some(CacheStatus::Stored),
            "{}",
            describe(&out)
        );
        assert!(
            modified(debug.join(format!("{bin}.d"))) < modified(debug.join(bin)),
            "cargo rewrote {bin}.d: this test no longer has an older dep-info"
        );
        let stored = records(&url, &keys[bin]);
        assert_eq!(stored.len(), 2, "{bin}");
        assert_eq!(
            read_files(&stored[0]),
            [format!("file $MANIFEST/ws/two/src/bin/{bin}.rs")],
            "{bin}"
        );
    }

    // So from a fresh checkout of this commit with one of them changed again, only that one
    // is built; its package's other bin comes from the cache.
    let b = a.copy("dep-info-b", "repo");
    let file = "ws/two/src/bin/cache-two-b.rs";
    b.write(
        file,
        &b.read(file)
            .replace("\"cache-two-b\"", "\"cache-two-b v3\""),
    );
    let (out, report, builds) = b.run(&["--cache", &url], &[], 0);
    assert_eq!(builds.len(), 1, "{builds:?}\n{}", describe(&out));
    assert_eq!(bins(&builds[0]), ["cache-two-b"]);
    let statuses = cache(&report);
    assert_eq!(statuses["cache-one"], Some(CacheStatus::Hit));
    assert_eq!(statuses["cache-two"], Some(CacheStatus::Hit));
    assert_eq!(statuses["cache-two-b"], Some(CacheStatus::Stored));
    assert!(b.zip("cache-two") == a.zip("cache-two"));
}

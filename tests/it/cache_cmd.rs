//! `lambda-batch cache stats|prune` on directory caches filled by real runs of `run_cache`'s
//! fixture (tiny bins built with plain cargo), and on a cache corrupted by hand; for S3, the
//! lifecycle rule. A prune under a run that is storing is made deterministic with the store's
//! pause (`LAMBDA_BATCH_TEST_PAUSE_STORE`): the run stops between its blob and its record,
//! the prune runs, then the run goes on.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};
use lambda_batch::cache::{Cache, CacheKey, CacheLocation, CacheMode, CacheStatus, RecordFields};
use lambda_batch::report::Report;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::run_cache::{ALL, Checkout, all, cache, dir_cache};
use crate::support::test::{Invocation, Run, Test, describe, tree};

/// `cache ARGS --cache URL` in `dir`, exiting with `code`.
fn cache_cmd(dir: &Path, url: &str, args: &[&str], code: i32) -> Run {
    let mut all = vec!["cache"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--cache", url]);
    Invocation::lb(dir, &all).status(code)
}

/// `cache stats --format json`.
fn stats(dir: &Path, url: &str) -> Value {
    let run = cache_cmd(dir, url, &["stats", "--format", "json"], 0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&run)))
}

/// `cache prune ARGS --format json`.
fn prune(dir: &Path, url: &str, args: &[&str]) -> Value {
    let mut all = vec!["prune", "--format", "json"];
    all.extend_from_slice(args);
    let run = cache_cmd(dir, url, &all, 0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&run)))
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &str) -> BTreeMap<String, Vec<u8>> {
    tree(Path::new(dir))
        .into_iter()
        .map(|f| {
            let bytes = fs::read(Path::new(dir).join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Moves every file of the cache `shift` into the past, keeping their order: a cache last
/// used that long ago. (A prune leaves alone what was modified within a second of its start.)
fn age(url: &str, shift: Duration) {
    for f in tree(Path::new(url)) {
        let path = Path::new(url).join(f);
        let file = fs::File::options().write(true).open(&path).unwrap();
        let modified = file.metadata().unwrap().modified().unwrap();
        file.set_modified(modified - shift).unwrap();
    }
}

/// The records of the cache at `url`, by the file name of their executable: (path, record).
fn records(url: &str) -> BTreeMap<String, (PathBuf, Value)> {
    tree(Path::new(url))
        .into_iter()
        .filter(|f| f.starts_with("v2/keys/") && f.ends_with(".json") && !f.ends_with("index.json"))
        .map(|f| {
            let path = Path::new(url).join(&f);
            let record: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            (
                record["file_name"].as_str().unwrap().to_string(),
                (path, record),
            )
        })
        .collect()
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[field].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn stats_count_runs_and_prune_removes_the_least_recently_used_first() {
    let (_store, url) = dir_cache("cmd-lru");
    let a = Checkout::fixture("cmd-lru-a", "repo");
    let (_, report, _) = a.run(&["--cache", &url], &[], 0);
    assert_eq!(cache(&report), all(CacheStatus::Stored));

    let s = stats(&a.root, &url);
    assert_eq!(
        (s["keys"].as_u64(), s["records"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(s["blobs"], 3);
    let blob_bytes: u64 = records(&url)
        .values()
        .map(|(_, r)| r["size"].as_u64().unwrap())
        .sum();
    assert_eq!(s["blob_bytes"].as_u64(), Some(blob_bytes));
    assert!(s["total_bytes"].as_u64().unwrap() > blob_bytes);
    assert_eq!(s["runs"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(
        (s["runs"][0]["stored"].as_u64(), s["hits"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(s["misses"], 3);
    assert_eq!(s["unreadable_records"], 0);
    // The run stored what its cargo call cost, beside the entries: counted apart, not foreign.
    assert!(s["cost_files"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(s["other_files"], 1, "{s}"); // the tag
    let text = cache_cmd(&a.root, &url, &["stats"], 0).stdout;
    assert!(text.contains("3 keys, 3 records"), "{text}");
    assert!(
        text.contains("0 hits, 3 misses in the last 1 run"),
        "{text}"
    );

    // The entry stored last is used least recently once the other two are hits from a
    // fresh checkout (a hit marks its entry used): then it goes first, not the oldest stored.
    let mut stored: Vec<(SystemTime, String)> = records(&url)
        .into_iter()
        .map(|(name, (path, _))| (fs::metadata(path).unwrap().modified().unwrap(), name))
        .collect();
    stored.sort();
    let (first, second, last) = (
        stored[0].1.clone(),
        stored[1].1.clone(),
        stored[2].1.clone(),
    );
    let c = a.copy("cmd-lru-c", "repo");
    let (out, report, builds) = c.run(
        &["--cache", &url, "--only", &second, "--only", &first],
        &[],
        0,
    );
    assert!(builds.is_empty(), "{builds:?}\n{}", describe(&out));
    assert_eq!(cache(&report)[&first], Some(CacheStatus::Hit));
    assert_eq!(cache(&report)[&second], Some(CacheStatus::Hit));
    let s = stats(&a.root, &url);
    assert_eq!(names(&s["runs"], "command"), ["run", "run"]);
    assert_eq!(
        (s["hits"].as_u64(), s["misses"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(s["runs"][0]["hits"], 2);
    // Last used an hour ago (in that order): old enough for any prune.
    age(&url, Duration::from_secs(3600));

    // One byte too many: the least recently used entry goes, record, index and blob.
    let total = s["total_bytes"].as_u64().unwrap();
    let max = (total - 1).to_string();
    let before = snapshot(&url);
    let dry = cache_cmd(
        &a.root,
        &url,
        &["prune", "--max-size", &max, "--dry-run"],
        0,
    );
    assert!(
        dry.stdout.contains("would remove") && dry.stdout.contains(&format!("  {last}  ")),
        "{}",
        describe(&dry)
    );
    assert!(snapshot(&url) == before, "a dry run removed something");
    let victim = records(&url)[&last].1.clone();
    let p = prune(&a.root, &url, &["--max-size", &max]);
    assert_eq!(names(&p["records"], "file_name"), [last.as_str()], "{p}");
    assert_eq!(names(&p["records"], "outcome"), ["removed"]);
    assert_eq!(
        names(&p["blobs"], "sha256"),
        [victim["sha256"].as_str().unwrap()]
    );
    assert!(p["bytes_after"].as_u64().unwrap() < total, "{p}");
    let left = records(&url);
    let mut expected = vec![&first, &second];
    expected.sort();
    assert_eq!(left.keys().collect::<Vec<_>>(), expected);
    let blob = |sha: &str| Path::new(&url).join(format!("v2/blobs/{}/{sha}", &sha[..2]));
    assert!(!blob(victim["sha256"].as_str().unwrap()).exists());
    let key = victim["key"].as_str().unwrap();
    assert!(
        !Path::new(&url)
            .join(format!("v2/keys/{}/{key}", &key[..2]))
            .exists()
    );
    for (_, record) in left.values() {
        assert!(blob(record["sha256"].as_str().unwrap()).exists());
    }

    // By age: one entry last used 40 days ago goes, the other (an hour ago) stays.
    let (path, record) = &left[&second];
    let forty_days = SystemTime::now() - Duration::from_secs(40 * 86_400);
    for p in [path.clone(), blob(record["sha256"].as_str().unwrap())] {
        fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(forty_days)
            .unwrap();
    }
    let p = prune(&a.root, &url, &["--older-than", "30d"]);
    assert_eq!(names(&p["records"], "file_name"), [second.as_str()], "{p}");
    assert_eq!(p["blobs"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(records(&url).keys().collect::<Vec<_>>(), [&first]);

    // What is left is a cache: a fresh checkout hits the one entry left and builds the other
    // two, the very bytes of the first build, and stores them again.
    let d = a.copy("cmd-lru-d", "repo");
    let (out, report, builds) = d.run(&["--cache", &url], &[], 0);
    assert_eq!(builds.len(), 1, "{builds:?}\n{}", describe(&out));
    let statuses = cache(&report);
    assert_eq!(statuses[&first], Some(CacheStatus::Hit));
    assert_eq!(statuses[&second], Some(CacheStatus::Stored));
    assert_eq!(statuses[&last], Some(CacheStatus::Stored));
    for name in ALL {
        assert!(a.zip(name) == d.zip(name), "{name} differs");
    }
    assert_eq!(records(&url)[&last].1["sha256"], victim["sha256"]);
    let s = stats(&a.root, &url);
    assert_eq!(
        (s["records"].as_u64(), s["blobs"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        (
            s["runs"][0]["hits"].as_u64(),
            s["runs"][0]["stored"].as_u64()
        ),
        (Some(1), Some(2))
    );
}

#[test]
fn a_prune_under_a_storing_run_loses_nothing_that_run_writes() {
    let (store, url) = dir_cache("cmd-race");
    let a = Checkout::fixture("cmd-race-a", "repo");
    let (_, report, _) = a.run(&["--cache", &url], &[], 0);
    assert_eq!(cache(&report), all(CacheStatus::Stored));
    let old = records(&url);

    // cache-two changes; its run stops once the new executable's blob is written.
    let text = a
        .read("ws/two/src/bin/cache-two.rs")
        .replace("cache-two", "cache-two v2");
    a.write("ws/two/src/bin/cache-two.rs", &text);
    let pause = store.path().join("pause");
    fs::create_dir_all(&pause).unwrap();
    let report_path = a.root.join("report.json");
    let mut run = a
        .lb(&[
            "run",
            "--offline",
            "--cache",
            &url,
            "--report",
            report_path.to_str().unwrap(),
        ])
        .env("LAMBDA_BATCH_TEST_PAUSE_STORE", &pause)
        .start(store.path(), "run");
    run.wait_until("the store paused after its blob", || {
        pause.join("paused").exists()
    });
    let blobs_then: Vec<String> = tree(Path::new(&url))
        .into_iter()
        .filter(|f| f.starts_with("v2/blobs/"))
        .collect();
    assert_eq!(blobs_then.len(), 4, "{blobs_then:?}");

    // Everything older than the prune goes: the three entries, and the new blob, which no
    // record names yet. (Made an hour old, so that nothing is spared for being recent.)
    age(&url, Duration::from_secs(3600));
    let p = prune(&a.root, &url, &["--max-size", "0"]);
    let mut removed = names(&p["records"], "file_name");
    removed.sort();
    assert_eq!(removed, ALL, "{p}");
    assert_eq!(p["blobs"].as_array().unwrap().len(), 4, "{p}");
    assert!(
        names(&p["blobs"], "outcome").iter().all(|o| o == "removed"),
        "{p}"
    );
    assert!(
        !tree(Path::new(&url))
            .iter()
            .any(|f| f.starts_with("v2/blobs/") || f.starts_with("v2/keys/")),
        "{:?}",
        tree(Path::new(&url))
    );

    // The run goes on: its entry is whole, the blob it wrote put back.
    fs::write(pause.join("release"), b"").unwrap();
    let status = run.wait();
    assert!(status.success(), "{}", run.logs());
    let report: Report = serde_json::from_slice(&fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(
        cache(&report)["cache-two"],
        Some(CacheStatus::Stored),
        "{}",
        run.logs()
    );
    let now = records(&url);
    assert_eq!(now.keys().collect::<Vec<_>>(), ["cache-two"]);
    let (path, record) = &now["cache-two"];
    let sha = record["sha256"].as_str().unwrap();
    assert_ne!(sha, old["cache-two"].1["sha256"].as_str().unwrap());
    assert!(
        names(&p["blobs"], "sha256").contains(&sha.to_string()),
        "{p}"
    );
    let blob = fs::read(Path::new(&url).join(format!("v2/blobs/{}/{sha}", &sha[..2]))).unwrap();
    assert_eq!(hex(&Sha256::digest(&blob)), sha);
    assert_eq!(blob.len() as u64, record["size"].as_u64().unwrap());
    let index: Vec<String> =
        serde_json::from_slice(&fs::read(path.with_file_name("index.json")).unwrap()).unwrap();
    let name = path.file_stem().unwrap().to_str().unwrap();
    assert_eq!(index, [name]);

    // A fresh checkout hits it; the two entries pruned are built again, the same bytes.
    let b = a.copy("cmd-race-b", "repo");
    let (out, report, builds) = b.run(&["--cache", &url], &[], 0);
    let statuses = cache(&report);
    assert_eq!(
        statuses["cache-two"],
        Some(CacheStatus::Hit),
        "{}",
        describe(&out)
    );
    assert_eq!(statuses["cache-one"], Some(CacheStatus::Stored));
    assert_eq!(statuses["cache-two-b"], Some(CacheStatus::Stored));
    assert_eq!(builds.len(), 1, "{builds:?}");
    for name in ALL {
        assert!(a.zip(name) == b.zip(name), "{name} differs");
    }
    let entries =
        crate::support::test::zip_entries(&b.root.join("out/x86_64/cache-two/bootstrap.zip"));
    assert!(String::from_utf8_lossy(&entries["bootstrap"].1).contains("cache-two v2"));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A directory cache with two entries stored through the cache's API, then damaged: a torn
/// record, a record whose blob is gone, strangers' files, a bad index, a torn run log line.
fn damaged_cache(t: &Test) -> (String, Cache) {
    let root = Utf8PathBuf::from_path_buf(t.path().join("cache")).unwrap();
    let cache = Cache::open_with_env(
        CacheLocation::Directory { path: root.clone() },
        CacheMode::ReadWrite,
        BTreeMap::new(),
    );
    for (k, bytes) in [("k1", b"one".as_slice()), ("k2", b"two"), ("k3", b"three")] {
        let exe = Utf8Path::from_path(t.path())
            .unwrap()
            .join(format!("{k}-exe"));
        fs::write(&exe, bytes).unwrap();
        let stored = cache.store(&CacheKey::new(k).unwrap(), &exe, &RecordFields::default());
        assert!(
            matches!(stored, lambda_batch::cache::Store::Stored(_)),
            "{stored:?}"
        );
    }
    let record = |k: &str| {
        tree(root.as_std_path())
            .into_iter()
            .find(|f| {
                f.starts_with(&format!("v2/keys/{}/{k}/", &k[..2])) && !f.ends_with("index.json")
            })
            .map(|f| root.join(f))
            .unwrap()
    };
    // k2's record torn in half, k3's blob gone.
    let k2 = record("k2");
    let text = fs::read(&k2).unwrap();
    fs::write(&k2, &text[..text.len() / 2]).unwrap();
    let k3: Value = serde_json::from_slice(&fs::read(record("k3")).unwrap()).unwrap();
    let sha = k3["sha256"].as_str().unwrap();
    fs::remove_file(root.join(format!("v2/blobs/{}/{sha}", &sha[..2]))).unwrap();
    fs::write(root.join("v2/keys/k1/k1/index.json"), "{not json").unwrap();
    for (f, text) in [
        ("notes.txt", "mine"),
        ("v2/keys/zz/not-a-key-dir/file", "x"),
        ("v2/blobs/ab/not-a-digest", "y"),
        ("v2/keys/k1/k1/stray.tmp", "z"),
    ] {
        let p = root.join(f);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    // What a prune killed two days ago left.
    let killed = root.join("v2/.prune-1-1");
    fs::create_dir_all(&killed).unwrap();
    fs::write(killed.join("1"), "moved aside").unwrap();
    fs::File::open(&killed)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(2 * 86_400))
        .unwrap();
    let mut log = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(root.join("v2/runs.jsonl"))
        .unwrap();
    use std::io::Write;
    log.write_all(b"{\"finished\": \"torn").unwrap();
    log.write_all(b"\n{\"finished\":\"2026-12-01T00:00:00Z\",\"command\":\"run\",\"hits\":4,\"stored\":1,\"misses\":0,\"other\":0}\n").unwrap();
    (root.to_string(), cache)
}

#[test]
fn a_damaged_cache_is_counted_and_pruned_without_a_failure() {
    let t = Test::new("cmd-damaged");
    let (url, cache) = damaged_cache(&t);
    let s = stats(t.path(), &url);
    assert_eq!(s["records"], 3, "{s}");
    assert_eq!(s["unreadable_records"], 1, "{s}");
    assert_eq!(s["records_without_blob"], 1, "{s}");
    assert_eq!(s["blobs"], 2, "{s}");
    // The tag, the four strangers and the killed prune's file.
    assert_eq!(s["other_files"], 6, "{s}");
    assert_eq!(s["unreadable_runs"], 1, "{s}");
    assert_eq!(
        (s["hits"].as_u64(), s["misses"].as_u64()),
        (Some(4), Some(1))
    );
    let text = cache_cmd(t.path(), &url, &["stats"], 0).stdout;
    assert!(
        text.contains("1 unreadable record") && text.contains("1 record whose blob is missing"),
        "{text}"
    );

    age(&url, Duration::from_secs(3600));
    let p = prune(t.path(), &url, &["--max-size", "0"]);
    assert_eq!(p["records"].as_array().unwrap().len(), 3, "{p}");
    assert_eq!(p["blobs"].as_array().unwrap().len(), 2, "{p}");
    assert_eq!(p["bytes_after"], 0, "{p}");
    let left = tree(Path::new(&url));
    for f in [
        "notes.txt",
        "v2/keys/zz/not-a-key-dir/file",
        "v2/blobs/ab/not-a-digest",
        "v2/keys/k1/k1/stray.tmp",
    ] {
        assert!(left.contains(&f.to_string()), "{f}: {left:?}");
    }
    assert!(!left.iter().any(|f| f.ends_with(".json")), "{left:?}");
    assert!(!left.iter().any(|f| f.contains(".prune-")), "{left:?}");
    let s = stats(t.path(), &url);
    assert_eq!(
        (s["records"].as_u64(), s["blobs"].as_u64()),
        (Some(0), Some(0))
    );

    // The cache still works.
    let exe = Utf8Path::from_path(t.path()).unwrap().join("k1-exe");
    let key = CacheKey::new("k1").unwrap();
    assert!(matches!(
        cache.lookup_in_memory(&key, &|_| true),
        lambda_batch::cache::Lookup::Miss(_)
    ));
    cache.store(&key, &exe, &RecordFields::default());
    assert!(cache.lookup_in_memory(&key, &|_| true).hit().is_some());
}

#[test]
fn an_s3_cache_gets_the_lifecycle_rule_and_bad_values_are_usage_errors() {
    let t = Test::new("cmd-s3");
    let run = cache_cmd(
        t.path(),
        "s3://my-bucket/ci/cache",
        &["prune", "--older-than", "12h"],
        2,
    );
    let rule: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&run)));
    assert_eq!(rule["Rules"][0]["Filter"]["Prefix"], "ci/cache/v2/");
    assert_eq!(rule["Rules"][0]["Expiration"]["Days"], 1);
    assert!(
        run.stderr.contains("does not prune an S3 cache")
            && run
                .stderr
                .contains("aws s3api put-bucket-lifecycle-configuration --bucket my-bucket"),
        "{}",
        describe(&run)
    );
    let run = cache_cmd(
        t.path(),
        "s3://my-bucket",
        &["prune", "--max-size", "10GiB"],
        2,
    );
    assert!(run.stdout.contains("\"Days\": 30"), "{}", describe(&run));
    assert!(
        run.stderr.contains("by age, not by size"),
        "{}",
        describe(&run)
    );
    let run = cache_cmd(t.path(), "s3://my-bucket", &["stats"], 2);
    assert!(run.stderr.contains("aws s3 ls"), "{}", describe(&run));

    let dir = t.path().join("c").to_str().unwrap().to_string();
    let run = cache_cmd(t.path(), &dir, &["prune", "--max-size", "10XB"], 2);
    assert!(run.stderr.contains("is not a size"), "{}", describe(&run));
    let run = cache_cmd(t.path(), &dir, &["prune", "--older-than", "30"], 2);
    assert!(run.stderr.contains("30d"), "{}", describe(&run));
    let run = cache_cmd(t.path(), &dir, &["prune"], 2);
    assert!(
        run.stderr.contains("--max-size") && run.stderr.contains("--older-than"),
        "{}",
        describe(&run)
    );
    let run = cache_cmd(t.path(), &dir, &["prune", "--older-than", "1d"], 1);
    assert!(run.stderr.contains("does not exist"), "{}", describe(&run));
    // An empty (absent) cache has stats of zero.
    let s = stats(t.path(), &dir);
    assert_eq!(s["records"], 0);
    // No cache named anywhere.
    let run = Invocation::lb(t.path(), &["cache", "stats"]).status(2);
    assert!(
        run.stderr.contains("no cache is named"),
        "{}",
        describe(&run)
    );
    // The manifest's node names it, relative to the manifest.
    t.write("lambda.kdl", "cache \"c2\"\nworkspace \"ws\"\n");
    let run = Invocation::lb(t.path(), &["cache", "stats"]).status(0);
    assert!(
        run.stdout.contains(&format!("{}/c2", t.path().display())),
        "{}",
        describe(&run)
    );
}

//! The artifact cache's storage on its two backends: a directory on a temp dir, and S3 against
//! a real S3-protocol server (moto) on 127.0.0.1, plus endpoints that refuse, fail or never
//! answer. Every entry is checked through the files and objects it leaves behind.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Instant;

use crate::support::bad_endpoints::{BadEndpoint, closed_port};
use crate::support::s3_server::{BUCKET, s3_server};
use crate::support::test::HANG;
use camino::{Utf8Path, Utf8PathBuf};
use futures_util::TryStreamExt;
use lambda_batch::cache::{
    Cache, CacheKey, CacheLocation, CacheMode, Fetched, LOOKUP_CONCURRENCY, Lookup, MAX_RETRIES,
    MissReason, READ_TIMEOUT, Reads, RecordFields, SkipReason, Store, StoreFailure, blob_path,
    index_path, record_path,
};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

/// Every record's files match: these entries record none (see `cache::reads` for what a
/// real run records, and `run_cache` for it through `run`).
fn any(_: &Reads) -> bool {
    true
}

/// One cache root on one backend, with raw access to what is stored there.
enum Root {
    Dir {
        _temp: tempfile::TempDir,
        path: Utf8PathBuf,
    },
    S3 {
        prefix: String,
    },
}

impl Root {
    fn dir() -> Root {
        let temp = tempfile::tempdir().unwrap();
        let path = Utf8Path::from_path(temp.path()).unwrap().join("cache");
        Root::Dir { _temp: temp, path }
    }

    /// A prefix of the shared bucket that no other test uses.
    fn s3(test: &str) -> Root {
        Root::S3 {
            prefix: format!("tests/{test}"),
        }
    }

    fn location(&self) -> CacheLocation {
        match self {
            Root::Dir { path, .. } => CacheLocation::Directory { path: path.clone() },
            Root::S3 { prefix } => CacheLocation::S3 {
                bucket: BUCKET.into(),
                prefix: prefix.clone(),
            },
        }
    }

    fn env(&self) -> BTreeMap<String, String> {
        match self {
            Root::Dir { .. } => BTreeMap::new(),
            Root::S3 { .. } => s3_server().env(),
        }
    }

    /// A new handle on this root, as another runner would open it.
    fn open(&self, mode: CacheMode) -> Cache {
        Cache::open_with_env(self.location(), mode, self.env())
    }

    /// Every object under the root: its path relative to the root, and its bytes.
    fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        match self {
            Root::Dir { path, .. } => {
                let mut objects = BTreeMap::new();
                if !path.exists() {
                    return objects;
                }
                for entry in walkdir::WalkDir::new(path) {
                    let entry = entry.unwrap();
                    // The tag that marks the directory as a cache is not an object.
                    if entry.file_type().is_file() && entry.file_name() != "CACHEDIR.TAG" {
                        let relative = entry.path().strip_prefix(path).unwrap();
                        let relative = relative.to_str().unwrap().to_owned();
                        objects.insert(relative, std::fs::read(entry.path()).unwrap());
                    }
                }
                objects
            }
            Root::S3 { prefix } => raw_s3(|store| async move {
                // The whole bucket, filtered here: moto checks the signature of a listing with
                // a `prefix=` that has a `/` against another encoding than the client's.
                let listed: Vec<_> = store.list(None).try_collect().await.unwrap();
                let mut objects = BTreeMap::new();
                let inside = format!("{prefix}/");
                for meta in listed {
                    if !meta.location.as_ref().starts_with(&inside) {
                        continue;
                    }
                    let bytes = store.get(&meta.location).await.unwrap().bytes().await;
                    let relative = meta.location.as_ref()[prefix.len() + 1..].to_owned();
                    objects.insert(relative, bytes.unwrap().to_vec());
                }
                objects
            }),
        }
    }

    fn read(&self, relative: &str) -> Vec<u8> {
        self.objects()
            .remove(relative)
            .unwrap_or_else(|| panic!("no object `{relative}`"))
    }

    /// Replaces (or creates) an object behind the cache's back.
    fn write(&self, relative: &str, bytes: &[u8]) {
        match self {
            Root::Dir { path, .. } => {
                let file = path.join(relative);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, bytes).unwrap();
            }
            Root::S3 { prefix } => {
                let object = ObjectPath::from(format!("{prefix}/{relative}"));
                let bytes = bytes.to_vec();
                raw_s3(|store| async move {
                    store.put(&object, PutPayload::from(bytes)).await.unwrap();
                });
            }
        }
    }

    fn delete(&self, relative: &str) {
        match self {
            Root::Dir { path, .. } => std::fs::remove_file(path.join(relative)).unwrap(),
            Root::S3 { prefix } => {
                let object = ObjectPath::from(format!("{prefix}/{relative}"));
                raw_s3(|store| async move { store.delete(&object).await.unwrap() });
            }
        }
    }
}

/// Runs `f` with a plain object_store client of the test bucket.
fn raw_s3<F, Fut, T>(f: F) -> T
where
    F: FnOnce(Arc<dyn ObjectStore>) -> Fut,
    Fut: Future<Output = T>,
{
    let server = s3_server();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let store = AmazonS3Builder::new()
        .with_endpoint(&server.endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_bucket_name(BUCKET)
        .with_access_key_id(&server.access_key)
        .with_secret_access_key(&server.secret_key)
        .build()
        .unwrap();
    runtime.block_on(f(Arc::new(store)))
}

fn key(s: &str) -> CacheKey {
    CacheKey::new(s).unwrap()
}

fn fields() -> RecordFields {
    RecordFields {
        tools: BTreeMap::from([("rustc".to_owned(), "rustc 1.90.0 (test)".to_owned())]),
        inputs: BTreeMap::from([("Cargo.lock".to_owned(), "0123abcd".to_owned())]),
        ..RecordFields::default()
    }
}

/// Bytes that look like nothing in particular, `len` of them, different per `seed`.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    let mut state = u64::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// An executable file named `name` in a new temporary directory.
fn executable(name: &str, contents: &[u8]) -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = Utf8Path::from_path(dir.path()).unwrap().join(name);
    std::fs::write(&path, contents).unwrap();
    (dir, path)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn stored(outcome: Store) -> lambda_batch::cache::Record {
    match outcome {
        Store::Stored(record) => record,
        other => panic!("expected a store, got {other:?}"),
    }
}

fn hit_bytes(lookup: Lookup) -> Vec<u8> {
    match lookup {
        Lookup::Hit(hit) => match hit.fetched {
            Fetched::Memory(bytes) => bytes,
            Fetched::File(path) => std::fs::read(path).unwrap(),
        },
        Lookup::Miss(miss) => panic!("expected a hit, got {miss:?}"),
    }
}

fn miss_reason(lookup: Lookup) -> MissReason {
    match lookup {
        Lookup::Miss(miss) => miss.reason,
        Lookup::Hit(hit) => panic!("expected a miss, got a hit on {:?}", hit.record),
    }
}

/// Asserts that looking `k1` up in `root` is a miss on an invalid entry, for a reason that
/// names `why`.
#[track_caller]
fn assert_invalid_entry(root: &Root, why: &str) {
    let reason = miss_reason(
        root.open(CacheMode::Read)
            .lookup_in_memory(&key("k1"), &any),
    );
    assert!(
        matches!(reason, MissReason::Invalid(ref reason) if reason.contains(why)),
        "{reason:?}"
    );
}

/// Stores an executable under `k1` and returns it with its blob's path.
fn store_one(root: &Root, contents: &[u8]) -> String {
    let cache = root.open(CacheMode::ReadWrite);
    let (_dir, exe) = executable("my-fn", contents);
    let record = stored(cache.store(&key("k1"), &exe, &fields()));
    blob_path(&record.sha256)
}

// ---------------------------------------------------------------------------------------------
// Scenarios, run on both backends.

fn round_trip(root: Root) {
    let contents = bytes(100_000, 1);
    let (_dir, exe) = executable("my-fn", &contents);
    let cache = root.open(CacheMode::ReadWrite);
    let record = stored(cache.store(&key("k1"), &exe, &fields()));
    assert_eq!(record.sha256, sha256_hex(&contents));
    assert_eq!(record.size, contents.len() as u64);
    assert_eq!(record.file_name, "my-fn");
    assert_eq!(record.tools, fields().tools);
    assert_eq!(record.inputs, fields().inputs);

    // Exactly one blob, one record and the key's index naming it, where the layout says.
    let objects = root.objects();
    let names: Vec<&String> = objects.keys().collect();
    assert_eq!(
        names,
        [
            &blob_path(&record.sha256),
            &record_path(&key("k1"), &Reads::default().digest()),
            &index_path(&key("k1")),
        ]
    );
    let index: Vec<String> = serde_json::from_slice(&objects[&index_path(&key("k1"))]).unwrap();
    assert_eq!(index, [Reads::default().digest()]);
    assert_eq!(objects[&blob_path(&record.sha256)], contents);
    let json: serde_json::Value =
        serde_json::from_slice(&objects[&record_path(&key("k1"), &Reads::default().digest())])
            .unwrap();
    assert_eq!(json["key"], "k1");
    assert_eq!(json["sha256"], record.sha256.as_str());
    assert_eq!(json["file_name"], "my-fn");

    // A hit into a file: complete, executable, nothing else left in its directory.
    let out = tempfile::tempdir().unwrap();
    let dest = Utf8Path::from_path(out.path())
        .unwrap()
        .join("x86_64/bootstrap");
    match cache.lookup(&key("k1"), &dest, &any) {
        Lookup::Hit(hit) => {
            assert_eq!(hit.record, record);
            assert!(matches!(hit.fetched, Fetched::File(ref p) if *p == dest));
        }
        Lookup::Miss(miss) => panic!("{miss:?}"),
    }
    assert_eq!(std::fs::read(&dest).unwrap(), contents);
    let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        std::fs::read_dir(dest.parent().unwrap()).unwrap().count(),
        1
    );
    assert_eq!(
        hit_bytes(cache.lookup_in_memory(&key("k1"), &any)),
        contents
    );
}

fn hit_from_a_second_handle(root: Root) {
    let contents = bytes(5_000, 2);
    let blob = store_one(&root, &contents);
    assert!(root.objects().contains_key(&blob));
    // Another runner, another handle, another runtime and connection pool.
    let other = root.open(CacheMode::Read);
    assert_eq!(
        hit_bytes(other.lookup_in_memory(&key("k1"), &any)),
        contents
    );
    assert_eq!(
        miss_reason(other.lookup_in_memory(&key("k2"), &any)),
        MissReason::NotFound
    );
}

fn corrupt_blob_is_a_miss_then_repaired(root: Root) {
    let contents = bytes(50_000, 3);
    let blob = store_one(&root, &contents);
    let mut corrupt = contents.clone();
    corrupt[25_000] ^= 0x20;
    root.write(&blob, &corrupt);

    let cache = root.open(CacheMode::ReadWrite);
    let out = tempfile::tempdir().unwrap();
    let dest = Utf8Path::from_path(out.path()).unwrap().join("bootstrap");
    let lookup = cache.lookup(&key("k1"), &dest, &any);
    assert!(
        lookup.warning().unwrap().contains("(corrupt)"),
        "{lookup:?}"
    );
    // Never an output, and no temporary file left behind.
    assert!(!dest.exists());
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);

    // The rebuilt executable is stored again and repairs the blob.
    let (_dir, exe) = executable("my-fn", &contents);
    stored(cache.store(&key("k1"), &exe, &fields()));
    assert_eq!(root.read(&blob), contents);
    assert_eq!(hit_bytes(cache.lookup(&key("k1"), &dest, &any)), contents);
}

fn truncated_blob_is_a_miss(root: Root) {
    let contents = bytes(50_000, 4);
    let blob = store_one(&root, &contents);
    root.write(&blob, &contents[..49_999]);
    let lookup = root
        .open(CacheMode::Read)
        .lookup_in_memory(&key("k1"), &any);
    let warning = lookup.warning().unwrap_or_default();
    assert!(
        warning.contains("49999 bytes where its record says 50000"),
        "{lookup:?}"
    );
    root.write(&blob, b"");
    assert_invalid_entry(&root, "truncated");
}

fn record_without_its_blob_is_a_miss(root: Root) {
    let contents = bytes(1_000, 5);
    let blob = store_one(&root, &contents);
    root.delete(&blob);
    assert_invalid_entry(&root, "missing");
}

fn corrupt_record_is_a_miss(root: Root) {
    let contents = bytes(1_000, 6);
    store_one(&root, &contents);
    let record = record_path(&key("k1"), &Reads::default().digest());
    let mut json = root.read(&record);
    json.truncate(json.len() / 2);
    root.write(&record, &json);
    assert_invalid_entry(&root, "not JSON");
    // A record of a later format is not an error: another version's entry.
    root.write(&record, br#"{"format": 7}"#);
    let reason = miss_reason(
        root.open(CacheMode::Read)
            .lookup_in_memory(&key("k1"), &any),
    );
    assert_eq!(reason, MissReason::OtherFormat(7));
    assert!(reason.warning().is_none());
}

/// Two runners store one key at once, each its own build of it (larger than one part, so that
/// uploads take a while), while a third looks it up all along: every lookup sees nothing or
/// one complete executable, never a partial blob or a record without its blob.
fn concurrent_stores_of_one_key(root: Root) {
    let len = lambda_batch::cache::PART_SIZE + 1_000_000;
    let builds = [bytes(len, 7), bytes(len, 8)];
    let root = Arc::new(root);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (root, done) = (root.clone(), done.clone());
        let builds = builds.clone();
        std::thread::spawn(move || {
            let cache = root.open(CacheMode::Read);
            let mut lookups = 0;
            let deadline = Instant::now() + HANG;
            loop {
                assert!(Instant::now() < deadline, "the two stores never finished");
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                match cache.lookup_in_memory(&key("k1"), &any) {
                    Lookup::Hit(hit) => {
                        let Fetched::Memory(bytes) = hit.fetched else {
                            unreachable!()
                        };
                        assert!(builds.contains(&bytes), "a hit that is neither build");
                    }
                    Lookup::Miss(miss) => assert_eq!(miss.reason, MissReason::NotFound),
                }
                lookups += 1;
                if finished {
                    break;
                }
            }
            lookups
        })
    };
    let writers: Vec<_> = builds
        .iter()
        .cloned()
        .map(|contents| {
            let root = root.clone();
            std::thread::spawn(move || {
                let cache = root.open(CacheMode::ReadWrite);
                let (_dir, exe) = executable("my-fn", &contents);
                stored(cache.store(&key("k1"), &exe, &fields()))
            })
        })
        .collect();
    let records: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(reader.join().unwrap() >= 1);
    assert_ne!(records[0].sha256, records[1].sha256);

    // Both blobs, one record naming one of them, its index, no staging files.
    let objects = root.objects();
    let mut expected: Vec<String> = records.iter().map(|r| blob_path(&r.sha256)).collect();
    expected.push(record_path(&key("k1"), &Reads::default().digest()));
    expected.push(index_path(&key("k1")));
    expected.sort();
    assert_eq!(objects.keys().cloned().collect::<Vec<_>>(), expected);
    let winner = hit_bytes(
        root.open(CacheMode::Read)
            .lookup_in_memory(&key("k1"), &any),
    );
    assert!(builds.contains(&winner));
}

fn read_mode_never_writes(root: Root) {
    let contents = bytes(2_000, 9);
    store_one(&root, &contents);
    let before = root.objects();
    let cache = root.open(CacheMode::Read);
    let (_dir, exe) = executable("other-fn", &bytes(3_000, 10));
    for k in ["k1", "k2"] {
        assert_eq!(
            cache.store(&key(k), &exe, &fields()),
            Store::Skipped(SkipReason::ReadOnly)
        );
    }
    assert_eq!(
        hit_bytes(cache.lookup_in_memory(&key("k1"), &any)),
        contents
    );
    assert_eq!(
        miss_reason(cache.lookup_in_memory(&key("k2"), &any)),
        MissReason::NotFound
    );
    let out = tempfile::tempdir().unwrap();
    let dest = Utf8Path::from_path(out.path()).unwrap().join("bootstrap");
    assert_eq!(hit_bytes(cache.lookup(&key("k1"), &dest, &any)), contents);
    assert_eq!(root.objects(), before);
}

fn large_executable_goes_up_in_parts(root: Root) {
    let contents = bytes(2 * lambda_batch::cache::PART_SIZE + 12_345, 11);
    let cache = root.open(CacheMode::ReadWrite);
    let (_dir, exe) = executable("big-fn", &contents);
    let record = stored(cache.store(&key("big"), &exe, &fields()));
    assert_eq!(root.read(&blob_path(&record.sha256)), contents);
    let out = tempfile::tempdir().unwrap();
    let dest = Utf8Path::from_path(out.path()).unwrap().join("bootstrap");
    assert_eq!(hit_bytes(cache.lookup(&key("big"), &dest, &any)), contents);
}

fn many_lookups_keep_their_order(root: Root) {
    let cache = root.open(CacheMode::ReadWrite);
    let out = tempfile::tempdir().unwrap();
    let out = Utf8Path::from_path(out.path()).unwrap();
    let mut requests = Vec::new();
    for i in 0..20u8 {
        let k = key(&format!("many{i}"));
        if i % 2 == 0 {
            let (_dir, exe) = executable("f", &bytes(1_000 + usize::from(i), i));
            stored(cache.store(&k, &exe, &fields()));
        }
        requests.push((k, out.join(format!("{i}/bootstrap"))));
    }
    let lookups = cache.lookup_many(&requests, &any);
    assert_eq!(lookups.len(), 20);
    for (i, lookup) in lookups.into_iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(hit_bytes(lookup), bytes(1_000 + i, i as u8));
        } else {
            assert_eq!(miss_reason(lookup), MissReason::NotFound);
        }
    }
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod directory {
            $(#[test]
            fn $scenario() {
                super::$scenario(super::Root::dir());
            })*
        }
        mod s3 {
            $(#[test]
            fn $scenario() {
                super::$scenario(super::Root::s3(stringify!($scenario)));
            })*
        }
    };
}

on_both_backends!(
    round_trip,
    hit_from_a_second_handle,
    corrupt_blob_is_a_miss_then_repaired,
    truncated_blob_is_a_miss,
    record_without_its_blob_is_a_miss,
    corrupt_record_is_a_miss,
    concurrent_stores_of_one_key,
    read_mode_never_writes,
    large_executable_goes_up_in_parts,
    many_lookups_keep_their_order,
);

// ---------------------------------------------------------------------------------------------
// Directory only.

#[test]
fn a_missing_directory_in_read_mode_is_empty_and_stays_missing() {
    let root = Root::dir();
    let Root::Dir { path, .. } = &root else {
        unreachable!()
    };
    let cache = root.open(CacheMode::Read);
    assert_eq!(
        miss_reason(cache.lookup_in_memory(&key("k1"), &any)),
        MissReason::NotFound
    );
    assert!(!path.exists());
    // read-write creates it.
    store_one(&root, b"x");
    assert!(path.join("v2").is_dir());
}

#[test]
fn a_directory_that_cannot_be_created_is_one_warning() {
    let temp = tempfile::tempdir().unwrap();
    let file = Utf8Path::from_path(temp.path()).unwrap().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let location = CacheLocation::Directory {
        path: file.join("cache"),
    };
    let cache = Cache::open_with_env(location, CacheMode::ReadWrite, BTreeMap::new());
    let first = cache.lookup_in_memory(&key("k1"), &any);
    assert!(
        first
            .warning()
            .unwrap()
            .contains("cannot create the cache directory"),
        "{first:?}"
    );
    assert_eq!(
        miss_reason(cache.lookup_in_memory(&key("k1"), &any)),
        MissReason::Down
    );
    let (_dir, exe) = executable("f", b"x");
    assert_eq!(
        cache.store(&key("k1"), &exe, &fields()),
        Store::Skipped(SkipReason::Down)
    );
}

// ---------------------------------------------------------------------------------------------
// S3 backends that fail.

/// A cache on `endpoint` with valid-looking credentials.
fn cache_at(endpoint: &str, prefix: &str) -> Cache {
    let env = BTreeMap::from([
        ("AWS_ENDPOINT_URL".to_owned(), endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDEXAMPLE".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "secret".to_owned()),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
    ]);
    let location = CacheLocation::S3 {
        bucket: BUCKET.into(),
        prefix: prefix.into(),
    };
    Cache::open_with_env(location, CacheMode::ReadWrite, env)
}

/// Lookups of `k0` to `k99`, each into its own file in `out`.
fn hundred_lookups(out: &tempfile::TempDir) -> Vec<(CacheKey, Utf8PathBuf)> {
    let out = Utf8Path::from_path(out.path()).unwrap();
    (0..100)
        .map(|i| (key(&format!("k{i}")), out.join(format!("{i}"))))
        .collect()
}

/// The first lookup warns; the next hundred and a store are answered `Down` without asking the
/// backend, and warn nothing. (How long the first failure takes on each kind of dead backend
/// is measured in BENCHMARKS.md, `scripts/bench-faults.sh`; the tests count requests.)
fn assert_down_after_one_warning(cache: &Cache) -> String {
    assert!(!cache.is_down());
    let reason = miss_reason(cache.lookup_in_memory(&key("k1"), &any));
    let MissReason::Unavailable(why) = &reason else {
        panic!("expected the backend to be unavailable, got {reason:?}");
    };
    assert!(reason.warning().is_some());
    assert!(cache.is_down());

    let out = tempfile::tempdir().unwrap();
    let requests = hundred_lookups(&out);
    for lookup in cache.lookup_many(&requests, &any) {
        assert_eq!(miss_reason(lookup), MissReason::Down);
    }
    let (_dir, exe) = executable("f", b"x");
    assert_eq!(
        cache.store(&key("k1"), &exe, &fields()),
        Store::Skipped(SkipReason::Down)
    );
    why.clone()
}

#[test]
fn a_closed_port_warns_at_once() {
    let cache = cache_at(&closed_port(), "closed");
    let why = assert_down_after_one_warning(&cache);
    assert!(why.contains("127.0.0.1"), "{why}");
}

#[test]
fn a_blackholed_endpoint_warns_after_one_timeout() {
    let blackhole = BadEndpoint::blackhole();
    let cache = cache_at(&blackhole.endpoint, "blackhole");
    assert_down_after_one_warning(&cache);
    // One request, never retried after its timeout.
    assert_eq!(blackhole.connections(), 1);
}

#[test]
fn a_blackholed_endpoint_costs_one_timeout_over_many_lookups() {
    let blackhole = BadEndpoint::blackhole();
    let cache = cache_at(&blackhole.endpoint, "blackhole-many");
    let out = tempfile::tempdir().unwrap();
    let requests = hundred_lookups(&out);
    let started = Instant::now();
    let lookups = cache.lookup_many(&requests, &any);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= READ_TIMEOUT,
        "answered before the timeout: {elapsed:?}"
    );
    // One wave of lookups reached it and timed out together; every later one was answered
    // `Down` without a request.
    let connections = blackhole.connections();
    assert!(
        (1..=LOOKUP_CONCURRENCY).contains(&connections),
        "{connections} connections for 100 lookups"
    );
    let warnings: Vec<String> = lookups.iter().filter_map(Lookup::warning).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(lookups.into_iter().all(|l| matches!(
        miss_reason(l),
        MissReason::Unavailable(_) | MissReason::Down
    )));
}

#[test]
fn a_server_error_is_retried_a_bounded_number_of_times() {
    let failing = BadEndpoint::status(500);
    let cache = cache_at(&failing.endpoint, "status-500");
    let why = assert_down_after_one_warning(&cache);
    assert!(why.contains("500"), "{why}");
    assert_eq!(failing.requests(), MAX_RETRIES + 1);
}

#[test]
fn a_403_is_not_retried() {
    let refusing = BadEndpoint::status(403);
    let cache = cache_at(&refusing.endpoint, "status-403");
    let why = assert_down_after_one_warning(&cache);
    assert!(why.contains("403") || why.contains("AccessDenied"), "{why}");
    assert_eq!(refusing.requests(), 1);
}

#[test]
fn an_unknown_access_key_is_refused() {
    let server = s3_server();
    let env = server.env_with("AKIAUNKNOWNKEY000000", &server.secret_key);
    let location = Root::s3("unknown-key").location();
    let cache = Cache::open_with_env(location, CacheMode::ReadWrite, env);
    let why = assert_down_after_one_warning(&cache);
    assert!(
        why.contains("InvalidAccessKeyId") || why.contains("403"),
        "{why}"
    );
}

#[test]
fn a_wrong_secret_is_refused_and_a_store_first_warns_too() {
    let server = s3_server();
    let root = Root::s3("wrong-secret");
    let env = server.env_with(&server.access_key, "not-the-secret");
    let cache = Cache::open_with_env(root.location(), CacheMode::ReadWrite, env);
    let (_dir, exe) = executable("f", b"x");
    let outcome = cache.store(&key("k1"), &exe, &fields());
    let Store::Failed(StoreFailure::Unavailable(why)) = &outcome else {
        panic!("expected a refused store, got {outcome:?}");
    };
    assert!(
        why.contains("SignatureDoesNotMatch") || why.contains("403"),
        "{why}"
    );
    assert_eq!(
        cache.store(&key("k2"), &exe, &fields()),
        Store::Skipped(SkipReason::Down)
    );
    assert!(root.objects().is_empty());
    // A refused write leaves lookups alone; they are refused on their own.
    let reason = miss_reason(cache.lookup_in_memory(&key("k1"), &any));
    assert!(matches!(reason, MissReason::Unavailable(_)), "{reason:?}");
}

#[test]
fn a_missing_bucket_is_a_warning_not_a_run_of_misses() {
    let server = s3_server();
    let location = CacheLocation::S3 {
        bucket: "no-such-bucket".into(),
        prefix: "x".into(),
    };
    let cache = Cache::open_with_env(location, CacheMode::ReadWrite, server.env());
    let why = assert_down_after_one_warning(&cache);
    assert!(why.contains("the bucket does not exist"), "{why}");
}

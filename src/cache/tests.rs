use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use camino::Utf8Path;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

use super::health::Health;
use super::record::RecordProblem;
use super::transfer::{self, Sink, TransferError};
use super::*;
use crate::fingerprint::hex;

fn key(s: &str) -> CacheKey {
    CacheKey::new(s).unwrap()
}

fn fields() -> RecordFields {
    RecordFields {
        tools: BTreeMap::from([("rustc".to_owned(), "rustc 1.90.0".to_owned())]),
        inputs: BTreeMap::from([("Cargo.lock".to_owned(), "ab12".to_owned())]),
        ..RecordFields::default()
    }
}

fn record_for(key: &CacheKey, bytes: &[u8]) -> Record {
    let sha: [u8; 32] = Sha256::digest(bytes).into();
    Record::new(
        key,
        &sha,
        bytes.len() as u64,
        "my-fn",
        &fields(),
        UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    )
}

#[test]
fn modes_parse_and_print_as_on_the_command_line() {
    for name in CacheMode::NAMES {
        let mode: CacheMode = name.parse().unwrap();
        assert_eq!(mode.to_string(), name);
    }
    assert_eq!(CacheMode::default(), CacheMode::ReadWrite);
    let err = "rw".parse::<CacheMode>().unwrap_err();
    assert_eq!(err.given, "rw");
    assert!("Read".parse::<CacheMode>().is_err());
}

#[test]
fn only_read_write_writes_and_only_off_does_not_read() {
    assert!(CacheMode::ReadWrite.reads() && CacheMode::ReadWrite.writes());
    assert!(CacheMode::Read.reads() && !CacheMode::Read.writes());
    assert!(!CacheMode::Off.reads() && !CacheMode::Off.writes());
}

#[test]
fn s3_urls_give_bucket_and_normalized_prefix() {
    let base = Utf8Path::new("/work");
    let parse = |url| CacheLocation::parse(url, base).unwrap();
    assert_eq!(
        parse("s3://my-bucket/ci/lambda//cache/"),
        CacheLocation::S3 {
            bucket: "my-bucket".into(),
            prefix: "ci/lambda/cache".into()
        }
    );
    assert_eq!(
        parse("s3://my.bucket"),
        CacheLocation::S3 {
            bucket: "my.bucket".into(),
            prefix: String::new()
        }
    );
    assert_eq!(parse("s3://b12/").to_string(), "s3://b12");
    assert_eq!(parse("s3://b12/x/y").to_string(), "s3://b12/x/y");
    assert_eq!(parse("s3://b12/x").backend(), "s3");
}

#[test]
fn bad_s3_urls_say_why() {
    let base = Utf8Path::new("/work");
    for (url, why) in [
        ("s3://", "bucket name is missing"),
        ("s3:///prefix", "bucket name is missing"),
        ("s3://ab", "not a bucket name"),
        ("s3://My_Bucket/x", "not a bucket name"),
        ("s3://-bucket", "not a bucket name"),
        ("s3://bucket/a/../b", "`..`"),
        ("s3://bucket/x?versionId=1", "no query"),
    ] {
        let err = CacheLocation::parse(url, base).unwrap_err();
        assert!(err.reason.contains(why), "{url}: {}", err.reason);
        assert_eq!(err.url, url);
    }
}

#[test]
fn paths_and_file_urls_are_directories() {
    let base = Utf8Path::new("/work/repo");
    let dir = |url| match CacheLocation::parse(url, base).unwrap() {
        CacheLocation::Directory { path } => path,
        other => panic!("{url} parsed as {other:?}"),
    };
    assert_eq!(dir("/var/cache/lb"), "/var/cache/lb");
    assert_eq!(dir(".cache/lb"), "/work/repo/.cache/lb");
    assert_eq!(dir("file:///var/cache/lb"), "/var/cache/lb");
    assert_eq!(dir("file:///var/my%20cache"), "/var/my cache");
    assert_eq!(dir("file://localhost/var/cache"), "/var/cache");
    // Not a scheme: a relative path with a colon in it.
    assert_eq!(dir("c:dir"), "/work/repo/c:dir");
}

#[test]
fn other_schemes_and_empty_urls_are_rejected() {
    let base = Utf8Path::new("/work");
    for (url, why) in [
        ("gs://bucket/x", "`gs://` is not a supported backend"),
        (
            "https://example.com/cache",
            "`https://` is not a supported backend",
        ),
        ("", "empty"),
        ("  ", "empty"),
        ("file://remote-host/x", "absolute local path"),
        ("s3://bucket/a\nb", "control character"),
    ] {
        let err = CacheLocation::parse(url, base).unwrap_err();
        assert!(err.reason.contains(why), "{url:?}: {}", err.reason);
    }
}

#[test]
fn keys_are_lowercase_names_of_bounded_length() {
    assert!(CacheKey::new("v1-0123abcdef").is_ok());
    assert!(CacheKey::new("a").is_ok());
    assert!(CacheKey::new("a".repeat(128)).is_ok());
    for bad in ["", "ABC", "a/b", "a.json", "a b", "../x", "é"] {
        assert!(CacheKey::new(bad).is_err(), "{bad:?}");
    }
    assert!(CacheKey::new("a".repeat(129)).is_err());
    let parsed: CacheKey = serde_json::from_str("\"abc\"").unwrap();
    assert_eq!(parsed.as_str(), "abc");
    assert!(serde_json::from_str::<CacheKey>("\"A/B\"").is_err());
}

#[test]
fn layout_fans_out_by_two_characters() {
    let sha = "ab".repeat(32);
    assert_eq!(layout::blob_path(&sha), format!("v2/blobs/ab/{sha}"));
    assert_eq!(
        layout::record_path(&key("cd0123"), "ef45"),
        "v2/keys/cd/cd0123/ef45.json"
    );
    assert_eq!(layout::record_dir(&key("x")), "v2/keys/x/x");
}

#[test]
fn a_record_round_trips_through_its_json() {
    let key = key("k0123");
    let record = record_for(&key, b"\x7fELF executable bytes");
    let json = record.to_json();
    assert_eq!(json.last(), Some(&b'\n'));
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let names: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "created",
            "env",
            "features",
            "file_name",
            "format",
            "inputs",
            "key",
            "reads",
            "sha256",
            "size",
            "tools"
        ]
    );
    assert_eq!(value["format"], 2);
    assert_eq!(value["created"], "2027-01-15T08:00:00Z");
    assert_eq!(value["size"], 21);
    assert_eq!(
        value["sha256"],
        hex(&Sha256::digest(b"\x7fELF executable bytes"))
    );
    assert_eq!(Record::parse(&json, &key).unwrap(), record);
}

#[test]
fn a_record_with_unknown_fields_still_parses() {
    let key = key("k1");
    let mut value = serde_json::to_value(record_for(&key, b"x")).unwrap();
    value["added_later"] = serde_json::json!({"a": 1});
    let bytes = serde_json::to_vec(&value).unwrap();
    assert!(Record::parse(&bytes, &key).is_ok());
}

#[test]
fn bad_records_are_invalid_with_a_reason() {
    let key = key("k1");
    let good = serde_json::to_value(record_for(&key, b"x")).unwrap();
    let with = |field: &str, v: serde_json::Value| {
        let mut value = good.clone();
        value[field] = v;
        serde_json::to_vec(&value).unwrap()
    };
    let without = |field: &str| {
        let mut value = good.clone();
        value.as_object_mut().unwrap().remove(field);
        serde_json::to_vec(&value).unwrap()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"format\": 1, \"key\": ".to_vec(), "not JSON"),
        (b"[1, 2]".to_vec(), "no format"),
        (without("format"), "no format"),
        (without("sha256"), "malformed"),
        (with("size", serde_json::json!(-1)), "malformed"),
        (with("key", serde_json::json!("k2")), "names the key `k2`"),
        (with("key", serde_json::json!("K/2")), "malformed"),
        (
            with("sha256", serde_json::json!("ABCD")),
            "not 64 lowercase hex",
        ),
        (
            with("sha256", serde_json::json!("g".repeat(64))),
            "not 64 lowercase hex",
        ),
        (
            with("size", serde_json::json!(1u64 << 40)),
            "larger than any",
        ),
        (
            with("file_name", serde_json::json!("a/b")),
            "not a file name",
        ),
        (with("file_name", serde_json::json!("")), "not a file name"),
        (
            with("file_name", serde_json::json!("..")),
            "not a file name",
        ),
    ];
    for (bytes, why) in cases {
        match Record::parse(&bytes, &key) {
            Err(RecordProblem::Invalid(reason)) => {
                assert!(reason.contains(why), "expected {why:?} in {reason:?}")
            }
            other => panic!("expected invalid ({why}), got {other:?}"),
        }
    }
}

#[test]
fn a_record_of_another_format_is_unsupported_not_invalid() {
    let key = key("k1");
    let bytes = br#"{"format": 3, "entirely": "different"}"#;
    assert_eq!(
        Record::parse(bytes, &key),
        Err(RecordProblem::Unsupported(3))
    );
}

/// Runs a download from an in-memory store holding `blob` for a record of `expected`.
fn download(expected: &[u8], blob: Option<&[u8]>) -> Result<Fetched, TransferError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = InMemory::new();
        let record = record_for(&key("k1"), expected);
        let path = Path::from(layout::blob_path(&record.sha256));
        if let Some(blob) = blob {
            store
                .put(&path, PutPayload::from(blob.to_vec()))
                .await
                .unwrap();
        }
        transfer::download_blob(
            &store as &dyn ObjectStore,
            &path,
            &record,
            Sink::Memory(vec![]),
        )
        .await
    })
}

#[test]
fn a_blob_that_matches_its_record_is_fetched() {
    match download(b"the executable", Some(b"the executable")) {
        Ok(Fetched::Memory(bytes)) => assert_eq!(bytes, b"the executable"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_blob_that_does_not_match_is_invalid_never_fetched() {
    for (blob, why) in [
        (&b"the executablf"[..], "(corrupt)"),
        (&b"the execut"[..], "(truncated or replaced)"),
        (&b"the executable and more"[..], "(truncated or replaced)"),
        (&b""[..], "(truncated or replaced)"),
    ] {
        match download(b"the executable", Some(blob)) {
            Err(TransferError::Invalid(reason)) => {
                assert!(reason.contains(why), "{reason}")
            }
            other => panic!("{blob:?}: {other:?}"),
        }
    }
    match download(b"the executable", None) {
        Err(TransferError::Invalid(reason)) => assert!(reason.contains("missing"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_verified_download_replaces_its_destination_with_an_executable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let dest = Utf8Path::from_path(dir.path())
        .unwrap()
        .join("sub/bootstrap");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fetch = |blob: &'static [u8]| {
        runtime.block_on(async {
            let store = InMemory::new();
            let record = record_for(&key("k1"), b"new bytes");
            let path = Path::from(layout::blob_path(&record.sha256));
            store.put(&path, PutPayload::from(blob)).await.unwrap();
            let sink = Sink::file(&dest).unwrap();
            transfer::download_blob(&store as &dyn ObjectStore, &path, &record, sink).await
        })
    };
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::write(&dest, b"old").unwrap();
    // A corrupt blob leaves the destination as it was, and no temporary file behind.
    assert!(matches!(
        fetch(b"bad bytes"),
        Err(TransferError::Invalid(_))
    ));
    assert_eq!(std::fs::read(&dest).unwrap(), b"old");
    assert_eq!(
        std::fs::read_dir(dest.parent().unwrap()).unwrap().count(),
        1
    );
    match fetch(b"new bytes") {
        Ok(Fetched::File(path)) => assert_eq!(path, dest),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&dest).unwrap(), b"new bytes");
    let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        std::fs::read_dir(dest.parent().unwrap()).unwrap().count(),
        1
    );
}

#[test]
fn the_first_backend_failure_is_reported_once_then_nothing_is_asked() {
    let health = Health::default();
    assert!(health.check_read().is_ok() && health.check_write().is_ok());
    assert_eq!(
        health.read_failed("refused".into()),
        MissReason::Unavailable("refused".into())
    );
    assert_eq!(health.read_failed("again".into()), MissReason::Down);
    assert_eq!(health.check_read(), Err(MissReason::Down));
    assert_eq!(health.check_write(), Err(Store::Skipped(SkipReason::Down)));
}

#[test]
fn a_refused_write_stops_stores_but_not_lookups() {
    let health = Health::default();
    assert_eq!(
        health.write_failed("403".into(), true),
        Store::Failed(StoreFailure::Unavailable("403".into()))
    );
    assert!(health.check_read().is_ok());
    assert_eq!(health.check_write(), Err(Store::Skipped(SkipReason::Down)));
    let health = Health::default();
    health.write_failed("timed out".into(), false);
    assert_eq!(health.check_read(), Err(MissReason::Down));
}

#[test]
fn a_backend_that_never_opened_is_reported_by_the_first_caller_only() {
    let health = Health::down_from_start("no such bucket".into());
    assert_eq!(
        health.check_write(),
        Err(Store::Failed(StoreFailure::Unavailable(
            "no such bucket".into()
        )))
    );
    assert_eq!(health.check_read(), Err(MissReason::Down));
}

#[test]
fn warnings_only_for_misses_the_user_should_hear_about() {
    assert!(MissReason::NotFound.warning().is_none());
    assert!(MissReason::Off.warning().is_none());
    assert!(MissReason::Down.warning().is_none());
    assert!(MissReason::OtherFormat(2).warning().is_none());
    for reason in [
        MissReason::Invalid("x".into()),
        MissReason::Unavailable("x".into()),
        MissReason::Local("x".into()),
    ] {
        assert!(reason.warning().unwrap().contains('x'));
    }
    assert!(Store::Skipped(SkipReason::ReadOnly).warning().is_none());
    assert!(
        Store::Failed(StoreFailure::Local("gone".into()))
            .warning()
            .unwrap()
            .contains("gone")
    );
}

#[test]
fn the_status_of_an_output_follows_its_lookup_and_store() {
    let key = key("k1");
    let hit = Lookup::Hit(Hit {
        record: record_for(&key, b"x"),
        fetched: Fetched::Memory(b"x".to_vec()),
    });
    let miss = Lookup::Miss(Miss {
        key: key.clone(),
        reason: MissReason::NotFound,
    });
    let stored = Store::Stored(record_for(&key, b"x"));
    assert_eq!(CacheStatus::of(&hit, None), CacheStatus::Hit);
    assert_eq!(CacheStatus::of(&miss, Some(&stored)), CacheStatus::Stored);
    assert_eq!(
        CacheStatus::of(&miss, Some(&Store::Skipped(SkipReason::ReadOnly))),
        CacheStatus::Miss
    );
    assert_eq!(CacheStatus::of(&miss, None), CacheStatus::Miss);
    assert_eq!(
        serde_json::to_string(&CacheStatus::Stored).unwrap(),
        "\"stored\""
    );
}

#[test]
fn an_off_cache_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8Path::from_path(dir.path()).unwrap().join("cache");
    let cache = Cache::open_with_env(
        CacheLocation::Directory { path: root.clone() },
        CacheMode::Off,
        BTreeMap::new(),
    );
    let exe = Utf8Path::from_path(dir.path()).unwrap().join("exe");
    std::fs::write(&exe, b"x").unwrap();
    assert_eq!(
        cache.store(&key("k1"), &exe, &fields()),
        Store::Skipped(SkipReason::Off)
    );
    match cache.lookup_in_memory(&key("k1"), &|_| true) {
        Lookup::Miss(miss) => assert_eq!(miss.reason, MissReason::Off),
        hit => panic!("{hit:?}"),
    }
    assert!(!root.exists());
}

#[test]
fn backend_errors_are_one_line_with_their_causes() {
    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("error sending request")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let refused = Outer(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
    assert_eq!(
        transfer::describe(&refused),
        "error sending request: connection refused"
    );
    let body = std::io::Error::other(
        "403 Forbidden: <?xml version=\"1.0\"?>\n<Error><Code>AccessDenied</Code>\n<Message>Access   Denied</Message></Error>",
    );
    assert_eq!(
        transfer::describe(&body),
        "403 Forbidden: AccessDenied: Access Denied"
    );
}

#[test]
fn presence_is_asked_without_the_blob_and_a_broken_entry_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8Path::from_path(dir.path()).unwrap().join("cache");
    let location = CacheLocation::Directory { path: root.clone() };
    let exe = root.with_file_name("my-fn");
    std::fs::write(&exe, b"\x7fELF executable").unwrap();

    let cache = Cache::open(location.clone(), CacheMode::ReadWrite);
    assert!(
        crate::cache::package_files::is_cache_dir(&root),
        "a directory cache is tagged as one"
    );
    assert!(matches!(
        cache.contains(&key("k1"), &Reads::default()),
        Presence::Absent(MissReason::NotFound)
    ));
    let Store::Stored(record) = cache.store(&key("k1"), &exe, &fields()) else {
        panic!("stored");
    };
    match cache.contains(&key("k1"), &Reads::default()) {
        Presence::Present(found) => assert_eq!(found, record),
        other => panic!("{other:?}"),
    }
    // A blob cut short: absent (storing again repairs it), with a warning.
    let blob = root.join(blob_path(&record.sha256));
    std::fs::write(&blob, b"\x7fELF").unwrap();
    let presence = cache.contains(&key("k1"), &Reads::default());
    assert!(
        matches!(presence, Presence::Absent(MissReason::Invalid(_))),
        "{presence:?}"
    );
    assert!(presence.warning().unwrap().contains("bad cache entry"));
    // Off: nothing is known.
    let off = Cache::open(location, CacheMode::Off);
    assert!(matches!(
        off.contains(&key("k1"), &Reads::default()),
        Presence::Unknown(MissReason::Off)
    ));
}

#[test]
fn with_a_signing_key_only_entries_it_signed_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8Path::from_path(dir.path()).unwrap().join("cache");
    let location = CacheLocation::Directory { path: root.clone() };
    let open = |secret: &str| {
        Cache::open_with_env(location.clone(), CacheMode::ReadWrite, BTreeMap::new())
            .with_signing_key(SigningKey::new(secret))
    };
    let exe = root.with_file_name("my-fn");
    std::fs::write(&exe, b"\x7fELF genuine").unwrap();
    let signed = open("main's secret");
    assert!(signed.signs() && !open("").signs());
    let Store::Stored(record) = signed.store(&key("k1"), &exe, &fields()) else {
        panic!("stored");
    };
    assert!(record.signature.is_some());
    let hit = |cache: &Cache| match cache.lookup_in_memory(&key("k1"), &|_| true) {
        Lookup::Hit(Hit {
            fetched: Fetched::Memory(bytes),
            ..
        }) => Ok(bytes),
        Lookup::Hit(hit) => panic!("{hit:?}"),
        Lookup::Miss(miss) => Err(miss.reason),
    };
    assert_eq!(hit(&signed).unwrap(), b"\x7fELF genuine");
    assert_eq!(
        hit(&open("")).unwrap(),
        b"\x7fELF genuine",
        "no key: not checked"
    );

    // Whoever can write to the cache replaces the executable and makes the record match.
    let forged = b"\x7fELF forged!";
    let sha = hex(&Sha256::digest(forged));
    std::fs::create_dir_all(root.join(blob_path(&sha)).parent().unwrap()).unwrap();
    std::fs::write(root.join(blob_path(&sha)), forged).unwrap();
    let record_file = root.join(record_path(&key("k1"), &Reads::default().digest()));
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record_file).unwrap()).unwrap();
    json["sha256"] = sha.clone().into();
    json["size"] = forged.len().into();
    std::fs::write(&record_file, serde_json::to_vec(&json).unwrap()).unwrap();
    assert_eq!(
        hit(&open("")).unwrap(),
        forged,
        "the threat: used without a key"
    );
    let reason = hit(&signed).unwrap_err();
    let warning = reason.warning().unwrap();
    assert!(
        matches!(reason, MissReason::Untrusted(_))
            && warning.contains("does not verify")
            && warning.contains(&record_file.as_str()[root.as_str().len() + 1..])
            && warning.contains(SIGNING_KEY_VAR)
            && !warning.contains("main's secret"),
        "{warning}"
    );
    assert!(
        matches!(hit(&open("another secret")), Err(MissReason::Untrusted(_))),
        "another key's signature is no signature"
    );

    // An unsigned entry is refused too, and absent when asked for presence: storing it again
    // with the key signs it.
    let unsigned = open("");
    assert!(matches!(
        unsigned.store(&key("k1"), &exe, &fields()),
        Store::Stored(Record {
            signature: None,
            ..
        })
    ));
    let reason = hit(&signed).unwrap_err();
    assert!(
        reason.warning().unwrap().contains("has no signature"),
        "{reason:?}"
    );
    assert!(matches!(
        signed.contains(&key("k1"), &Reads::default()),
        Presence::Absent(MissReason::Untrusted(_))
    ));
    assert!(matches!(
        signed.store(&key("k1"), &exe, &fields()),
        Store::Stored(_)
    ));
    assert_eq!(hit(&signed).unwrap(), b"\x7fELF genuine");
}

//! `publish` against a real S3-protocol server (moto) on 127.0.0.1, through the binary on
//! fixture builds (dev, plain cargo, the shared target dir) and through the library on files
//! made for the case: every zip lands at its content key with its bytes, once; only what
//! changed goes up; a versioned bucket's version ids are recorded; a dry run writes nothing;
//! binary outputs, changed zips, taken keys and unreachable buckets are refused with one clear
//! error each. What is in the bucket is read back with clients of its own (object_store,
//! boto3), never taken from what lambda-batch says.

use crate::support::bad_endpoints;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::support::s3_server::{BUCKET, s3_server};
use crate::support::test::{Run, Test, bin_source, describe};
use base64::Engine;
use lambda_batch::cache::CacheStatus;
use lambda_batch::manifest::PublishLocation;
use lambda_batch::publish::{Mode, PART_SIZE, Prefetch, PublishFile, Publisher, State, files_of};
use lambda_batch::report::{Published, Report};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

/// The versioned bucket of these tests.
const VERSIONED: &str = "lb-publish-versioned";

/// `lambda-batch publish --report report.json ARGS` with moto's environment (plus `env`),
/// exiting with `code`; the run and its report.
#[track_caller]
fn publish(t: &Test, args: &[&str], env: &BTreeMap<String, String>, code: i32) -> (Run, Report) {
    let report = t.path().join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut all = vec!["publish", "--report", report.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut invocation = t.lb(&all);
    for (k, v) in env {
        invocation = invocation.env(k, v);
    }
    let run = invocation.status(code);
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report ({e})\n{}", describe(&run)));
    (run, serde_json::from_str(&text).expect("the report parses"))
}

/// An object_store client of the moto server for `bucket`.
fn client(bucket: &str) -> impl ObjectStore {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = s3_server();
    AmazonS3Builder::new()
        .with_endpoint(&server.endpoint)
        .with_allow_http(true)
        .with_access_key_id(&server.access_key)
        .with_secret_access_key(&server.secret_key)
        .with_region("us-east-1")
        .with_bucket_name(bucket)
        .build()
        .unwrap()
}

/// The bytes of `key` in `bucket`, `None` when it is not there.
fn get(bucket: &str, key: &str) -> Option<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match client(bucket).get(&ObjectPath::from(key)).await {
            Ok(result) => Some(result.bytes().await.unwrap().to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("GET {key}: {e}"),
        }
    })
}

/// The published field of each artifact, by name.
fn published(report: &Report) -> BTreeMap<String, Option<Published>> {
    report
        .artifacts
        .iter()
        .map(|a| (a.name.clone(), a.published.clone()))
        .collect()
}

/// Checks that every artifact of `report` is at `PREFIX/<name>/<arch>/<sha256>.zip` in
/// `bucket` with its zip's bytes, and that the report says so.
#[track_caller]
fn assert_landed(t: &Test, report: &Report, bucket: &str, prefix: &str) {
    for a in &report.artifacts {
        let sha = a.sha256.as_deref().unwrap();
        let key = format!("{prefix}/{}/{}/{sha}.zip", a.name, a.arch.as_str());
        let p = a
            .published
            .as_ref()
            .unwrap_or_else(|| panic!("{} unpublished", a.name));
        assert_eq!(p.bucket, bucket);
        assert_eq!(p.key, key);
        assert_eq!(p.url, format!("s3://{bucket}/{key}"));
        let local = std::fs::read(&a.output).unwrap();
        assert_eq!(
            format!("{:x}", Sha256::digest(&local)),
            sha,
            "the zip is the report's"
        );
        assert!(local.starts_with(b"PK"), "{} is a zip", a.output);
        let remote = get(bucket, &key).unwrap_or_else(|| panic!("{key} is not in {bucket}"));
        assert!(remote == local, "{key} holds other bytes than {}", a.output);
        assert!(Path::new(&a.output).starts_with(t.path()));
    }
}

#[test]
fn every_zip_goes_up_once_under_its_content_key_and_only_what_changed_goes_up_again() {
    let server = s3_server();
    server.create_bucket(VERSIONED, true);
    let env = server.env();
    let t = Test::new("publish");
    t.workspace(
        "app",
        "publish-app",
        &[
            ("pv-orders", &bin_source("pv-orders")),
            ("pv-stock", &bin_source("pv-stock")),
            ("pv-audit", &bin_source("pv-audit")),
        ],
    );
    t.manifest(&format!(
        "publish \"s3://{VERSIONED}/releases/\"\n\nworkspace \"app\" {{\n    function \"pv-orders\"\n    function \"pv-stock\"\n    extension \"pv-audit\"\n}}\n"
    ));

    // First: everything built and uploaded (the manifest's destination), each object once.
    let (first, report) = publish(&t, &[], &env, 0);
    assert_eq!(report.artifacts.len(), 3);
    assert_landed(&t, &report, VERSIONED, "releases");
    let versions = server.versions(VERSIONED, "releases/");
    assert_eq!(versions.len(), 3, "{versions:?}");
    for a in &report.artifacts {
        let p = a.published.as_ref().unwrap();
        assert!(p.uploaded, "{}", a.name);
        let (_, version, size) = versions.iter().find(|(k, ..)| *k == p.key).unwrap();
        assert_eq!(
            p.version_id.as_ref(),
            Some(version),
            "{}: the version id",
            a.name
        );
        assert_eq!(Some(*size), a.size);
        assert_eq!(a.runtime.map(|r| r.as_str()), Some("provided.al2023"));
        let handler = (a.kind.as_str() == "function").then_some("bootstrap");
        assert_eq!(a.handler.as_deref(), handler, "{}", a.name);
    }
    assert!(
        first.stdout.contains("3 uploaded, 0 already there"),
        "{}",
        describe(&first)
    );

    // Again: nothing is built, nothing goes up (a new version would show), the versions are
    // recorded from the bucket.
    let (second, again) = publish(&t, &[], &env, 0);
    assert_eq!(server.versions(VERSIONED, "releases/"), versions);
    for (name, p) in published(&again) {
        let p = p.unwrap();
        assert!(!p.uploaded, "{name} went up again");
        assert_eq!(
            Some(p),
            published(&report)[&name].clone().map(|p| Published {
                uploaded: false,
                ..p
            })
        );
    }
    assert!(
        second.stdout.contains("0 uploaded, 3 already there"),
        "{}",
        describe(&second)
    );

    // One function changes: a dry run says what would go up and writes nothing...
    t.write("app/src/bin/pv-stock.rs", bin_source("pv-stock, changed"));
    let (dry, dry_report) = publish(&t, &["--dry-run"], &env, 0);
    assert_eq!(
        server.versions(VERSIONED, "releases/"),
        versions,
        "the dry run wrote"
    );
    let dry_published = published(&dry_report);
    assert_eq!(dry_published["pv-stock"], None);
    assert!(
        dry_published["pv-orders"]
            .as_ref()
            .is_some_and(|p| !p.uploaded)
    );
    assert!(
        dry.stdout.contains("1 would be uploaded, 2 already there"),
        "{}",
        describe(&dry)
    );
    let changed_key = format!(
        "releases/pv-stock/x86_64/{}.zip",
        dry_report
            .artifacts
            .iter()
            .find(|a| a.name == "pv-stock")
            .unwrap()
            .sha256
            .as_deref()
            .unwrap()
    );
    assert!(dry.stdout.contains(&changed_key) && dry.stdout.contains("would upload"));

    // ... and publishing uploads exactly its zip.
    let (_, third) = publish(&t, &[], &env, 0);
    assert_landed(&t, &third, VERSIONED, "releases");
    let now = server.versions(VERSIONED, "releases/");
    let added: Vec<&(String, String, u64)> = now.iter().filter(|v| !versions.contains(v)).collect();
    assert_eq!(added.len(), 1, "{now:?}");
    assert_eq!(added[0].0, changed_key);
    for (name, p) in published(&third) {
        assert_eq!(p.unwrap().uploaded, name == "pv-stock", "{name}");
    }

    // `--to` wins over the manifest; a bucket without versioning has no version ids. An
    // output with an SBOM (nothing is built again for it) has it uploaded beside its zip.
    t.manifest(&format!(
        "publish \"s3://{VERSIONED}/releases/\"\n\nworkspace \"app\" {{\n    function \"pv-orders\" {{\n        sbom \"cyclonedx\"\n    }}\n    function \"pv-stock\"\n    extension \"pv-audit\"\n}}\n"
    ));
    let prefix = format!("tests/publish-{}", std::process::id());
    let (_, plain) = publish(&t, &["--to", &format!("s3://{BUCKET}/{prefix}")], &env, 0);
    assert_landed(&t, &plain, BUCKET, &prefix);
    for a in &plain.artifacts {
        let p = a.published.as_ref().unwrap();
        assert!(p.uploaded && p.version_id.is_none(), "{p:?}");
        let sbom_key = format!(
            "{prefix}/{}/x86_64/{}.cdx.json",
            a.name,
            a.sha256.as_deref().unwrap()
        );
        match &a.sbom {
            Some(sbom) => {
                assert_eq!(a.name, "pv-orders");
                assert_eq!(sbom.path, format!("{}.cdx.json", a.output));
                let local = std::fs::read(&sbom.path).unwrap();
                assert_eq!(format!("{:x}", Sha256::digest(&local)), sbom.sha256);
                assert!(get(BUCKET, &sbom_key) == Some(local), "{sbom_key}");
            }
            None => assert!(get(BUCKET, &sbom_key).is_none(), "{sbom_key}"),
        }
    }
}

#[test]
fn binary_outputs_are_refused_by_name_unless_only_leaves_them_out() {
    let env = s3_server().env();
    let t = Test::new("publish-binary");
    t.workspace(
        "app",
        "publish-binary-app",
        &[
            ("pb-zipped", &bin_source("pb-zipped")),
            ("pb-plain", &bin_source("pb-plain")),
        ],
    );
    t.manifest(
        "workspace \"app\" {\n    function \"pb-zipped\"\n    function \"pb-plain\" {\n        output-format \"binary\"\n    }\n}\n",
    );
    let to = format!("s3://{BUCKET}/tests/publish-binary-{}", std::process::id());
    let refused = t
        .lb(&["publish", "--to", &to])
        .env("AWS_ENDPOINT_URL", &s3_server().endpoint)
        .status(2);
    assert!(
        refused.stderr.contains("pb-plain") && !refused.stderr.contains("pb-zipped"),
        "{}",
        describe(&refused)
    );
    assert!(refused.stderr.contains("--only"), "{}", describe(&refused));
    assert!(
        !t.path().join("out").exists(),
        "nothing is built before the refusal"
    );

    // No destination at all is a usage error too.
    let nowhere = t.lb(&["publish", "--only", "pb-zipped"]).status(2);
    assert!(
        nowhere.stderr.contains("needs a destination"),
        "{}",
        describe(&nowhere)
    );

    // With a cache: it stores what it builds...
    let cache = t.path().join("cache");
    let cache = cache.to_str().unwrap();
    let (_, report) = publish(
        &t,
        &["--to", &to, "--only", "pb-zipped", "--cache", cache],
        &env,
        0,
    );
    assert_eq!(report.artifacts.len(), 1);
    assert!(
        report.artifacts[0]
            .published
            .as_ref()
            .is_some_and(|p| p.uploaded)
    );
    assert_eq!(report.artifacts[0].cache, Some(CacheStatus::Stored));
    // ... and the assemble job of docs/ci.md builds nothing and publishes what is missing.
    let args = [
        "--to",
        &to,
        "--only",
        "pb-zipped",
        "--cache",
        cache,
        "--cache-only",
    ];
    let (_, assembled) = publish(&t, &args, &env, 0);
    assert_eq!(assembled.artifacts[0].cache, Some(CacheStatus::Hit));
    assert!(
        assembled.artifacts[0]
            .published
            .as_ref()
            .is_some_and(|p| !p.uploaded)
    );
}

#[test]
fn a_bucket_that_cannot_be_used_is_one_error_and_exit_1() {
    let server = s3_server();
    let t = Test::new("publish-down");
    let bins: Vec<(String, String)> = (1..=5)
        .map(|i| (format!("pd-fn{i}"), bin_source(&format!("pd-fn{i}"))))
        .collect();
    let bins: Vec<(&str, &str)> = bins.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    t.workspace("app", "publish-down-app", &bins);
    let functions: String = bins
        .iter()
        .map(|(n, _)| format!("    function \"{n}\"\n"))
        .collect();
    t.manifest(&format!("workspace \"app\" {{\n{functions}}}\n"));
    let to = format!("s3://{BUCKET}/tests/publish-down-{}", std::process::id());

    let mut closed = server.env();
    closed.insert("AWS_ENDPOINT_URL".into(), bad_endpoints::closed_port());
    let mut refused = server.env();
    refused.insert("AWS_SECRET_ACCESS_KEY".into(), "not-the-secret".into());
    let missing = "s3://lb-no-such-bucket/x".to_owned();
    for (what, env, to, args) in [
        ("a closed port", &closed, &to, &[][..]),
        ("refused credentials", &refused, &to, &[][..]),
        ("a missing bucket", &server.env(), &missing, &[][..]),
        (
            "a missing bucket, dry run",
            &server.env(),
            &missing,
            &["--dry-run"][..],
        ),
    ] {
        let mut args = args.to_vec();
        args.extend(["--to", to.as_str()]);
        let (run, report) = publish(&t, &args, env, 1);
        let errors = run.stderr.matches("error: cannot publish to").count();
        assert_eq!(errors, 1, "{what}: one error\n{}", describe(&run));
        assert!(
            !run.stderr.contains("error: cannot publish pd-"),
            "{what}\n{}",
            describe(&run)
        );
        // The build itself went through: the report has every zip, none published.
        assert!(report.success, "{what}");
        assert!(
            report.artifacts.iter().all(|a| a.published.is_none()),
            "{what}"
        );
        if what.starts_with("a missing bucket") {
            assert!(
                run.stderr.contains("the bucket does not exist"),
                "{}",
                describe(&run)
            );
        }
    }
}

/// A report of zips that are files made by the test (`publish` hashes them; it does not open
/// them as archives): `(name, path, bytes the report describes)`.
fn made_report(outputs: &[(&str, &Path, &[u8])]) -> Report {
    let artifacts: Vec<serde_json::Value> = outputs
        .iter()
        .map(|(name, path, bytes)| {
            let digest = Sha256::digest(bytes);
            serde_json::json!({
                "name": name, "kind": "function", "workspace": "w", "package": "p", "bin": name,
                "target": "x86_64-unknown-linux-gnu", "arch": "x86_64", "profile": "dev",
                "compiler": "cargo", "output_format": "zip", "output": path,
                "size": bytes.len(), "sha256": format!("{digest:x}"),
                "sha256_base64": base64::engine::general_purpose::STANDARD.encode(digest),
                "entries": [], "status": "built", "seconds": 0.0, "error": null,
                "features": [], "rustflags": [], "cache": null, "key": null,
                "runtime": "provided.al2023", "handler": "bootstrap",
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "report_version": 1, "lambda_batch_version": "test", "manifest": "/m/lambda.kdl",
        "success": true, "seconds": 0.0, "artifacts": artifacts,
    }))
    .expect("a report")
}

/// Deterministic bytes that differ with `seed`.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn large_zips_go_up_in_parts_and_a_zip_that_is_not_the_reports_never_goes_up() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    };
    let large = bytes(PART_SIZE + 1_234_567, 1);
    let small = bytes(1000, 2);
    let large_changed = bytes(PART_SIZE + 1_234_567, 3);
    let taken = bytes(2000, 4);
    let (p_large, p_small, p_large_changed, p_taken) = (
        write("large.zip", &large),
        write("small.zip", &bytes(1000, 5)), // not what the report says
        write("large-changed.zip", &bytes(PART_SIZE + 1_234_567, 6)),
        write("taken.zip", &taken),
    );
    let report = made_report(&[
        ("large", &p_large, &large),
        ("small", &p_small, &small),
        ("large-changed", &p_large_changed, &large_changed),
        ("taken", &p_taken, &taken),
    ]);
    let prefix = format!("tests/publish-lib-{}", std::process::id());
    let location = PublishLocation::parse(&format!("s3://{BUCKET}/{prefix}")).unwrap();
    let key = |i: usize| {
        format!(
            "{prefix}/{}/x86_64/{}.zip",
            report.artifacts[i].name,
            report.artifacts[i].sha256.as_deref().unwrap()
        )
    };
    // Someone left other bytes at the key of `taken`.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(client(BUCKET).put(
            &ObjectPath::from(key(3).as_str()),
            PutPayload::from(b"other".to_vec()),
        ))
        .unwrap();

    let publisher = Publisher::open(&location, &s3_server().env()).unwrap();
    let table = publisher.publish(
        &report,
        Mode::Upload,
        &Arc::new(AtomicBool::new(false)),
        &|| None,
        Prefetch::none(),
    );
    let states: Vec<&State> = table
        .entries
        .iter()
        .map(|e| &e.as_ref().unwrap().state)
        .collect();
    assert!(matches!(states[0], State::Uploaded { .. }), "{states:?}");
    assert_eq!(
        get(BUCKET, &key(0)),
        Some(large.clone()),
        "the multipart upload's bytes"
    );
    for (i, what) in [
        (1, "changed after it was built"),
        (2, "changed after it was built"),
        (3, "already exists with 5 bytes"),
    ] {
        let State::Failed(why) = states[i] else {
            panic!("{i}: {states:?}")
        };
        assert!(why.contains(what), "{i}: {why}");
    }
    assert_eq!(
        get(BUCKET, &key(1)),
        None,
        "a PUT of a zip that is not the report's"
    );
    assert_eq!(
        get(BUCKET, &key(2)),
        None,
        "parts of a zip that is not the report's"
    );
    assert_eq!(
        get(BUCKET, &key(3)),
        Some(b"other".to_vec()),
        "never overwritten"
    );
    assert!(table.unavailable.is_none() && !table.success());
    assert_eq!(table.counts(), [1, 0, 0, 3]);

    // Keys asked in advance (while a build runs) count as asked, whether the guess was right
    // (`large`, now there), stale (`small` under another digest) or missing (the others).
    let files = |i: usize| files_of(&location, &report.artifacts[i]).unwrap();
    let mut guesses: Vec<PublishFile> = files(0);
    guesses.push(PublishFile {
        sha256: "0".repeat(64),
        key: format!("{prefix}/small/x86_64/{}.zip", "0".repeat(64)),
        ..files(1)[0].clone()
    });
    let prefetch = publisher.prefetch(guesses);
    let again = publisher.publish(
        &report,
        Mode::DryRun,
        &Arc::new(AtomicBool::new(false)),
        &|| None,
        prefetch,
    );
    let again: Vec<&State> = again
        .entries
        .iter()
        .map(|e| &e.as_ref().unwrap().state)
        .collect();
    assert_eq!(again[0], &State::Exists { version_id: None });
    assert_eq!(again[1], &State::WouldUpload);
    assert_eq!(again[2], &State::WouldUpload);
    assert!(matches!(again[3], State::Failed(_)), "{again:?}");

    // A signal before anything starts: nothing is asked, and the table says which.
    let table = publisher.publish(
        &report,
        Mode::Upload,
        &Arc::new(AtomicBool::new(true)),
        &|| Some(15),
        Prefetch::none(),
    );
    assert_eq!(table.interrupted, Some(15));
    assert!(
        table
            .entries
            .iter()
            .all(|e| e.as_ref().unwrap().state == State::NotTried)
    );
    assert_eq!(get(BUCKET, &key(0)), Some(large));
}

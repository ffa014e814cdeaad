//! Reproducible outputs: a second run gives byte-identical zips and reports them fresh, and so
//! does a run after `touch` on a source file and on an include file (cargo rebuilds, the bytes
//! do not change, so nothing is rewritten).

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::support::test::{Test, bin_source, describe, statuses, zip_entries};
use lambda_batch::report::Status;

/// Sets a file's mtime to a few seconds in the future, as a `touch` after an edit would.
fn touch(path: &Path) {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() + Duration::from_secs(5))
        .unwrap();
}

#[test]
fn second_run_and_run_after_touch_give_identical_zips_reported_fresh() {
    let fx = Test::new("fresh");
    fx.workspace(
        "svc",
        "fr-svc",
        &[
            ("fr-fn", &bin_source("fr-fn")),
            ("fr-ext", &bin_source("fr-ext")),
        ],
    );
    fx.write("svc/data/config.json", "{\"table\": \"products\"}\n");
    fx.manifest(
        "workspace \"svc\" {\n    function \"fr-fn\" {\n        include \"data/*.json\"\n    }\n    extension \"fr-ext\"\n}",
    );
    let zips = [
        fx.path().join("out/x86_64/fr-fn/bootstrap.zip"),
        fx.path().join("out/x86_64/extensions/fr-ext.zip"),
    ];
    let names = [
        "fr-fn x86_64-unknown-linux-gnu",
        "fr-ext x86_64-unknown-linux-gnu",
    ];

    let (first, report) = fx.run_with_report(&[], 0);
    let st = statuses(&report);
    for n in names {
        assert_eq!(st[n], Status::Built, "{}", describe(&first));
    }
    let bytes: Vec<Vec<u8>> = zips.iter().map(|z| fs::read(z).unwrap()).collect();
    let entries = zip_entries(&zips[0]);
    assert_eq!(
        entries.keys().collect::<Vec<_>>(),
        ["bootstrap", "data/config.json"]
    );
    assert_eq!(
        entries["data/config.json"].1,
        b"{\"table\": \"products\"}\n"
    );
    // The report's hashes are the zip's.
    let fr_fn = &report.artifacts[0];
    assert_eq!(fr_fn.size, Some(bytes[0].len() as u64));
    assert_eq!(fr_fn.sha256.as_deref().map(str::len), Some(64));
    assert_eq!(fr_fn.sha256_base64.as_deref().map(str::len), Some(44));

    let (second, report) = fx.run_with_report(&[], 0);
    let st = statuses(&report);
    for (n, (zip, before)) in names.iter().zip(zips.iter().zip(&bytes)) {
        assert_eq!(st[*n], Status::Fresh, "{}", describe(&second));
        assert_eq!(
            &fs::read(zip).unwrap(),
            before,
            "{n}: second run changed the zip"
        );
    }

    touch(&fx.path().join("svc/src/bin/fr-fn.rs"));
    touch(&fx.path().join("svc/data/config.json"));
    let (third, report) = fx.run_with_report(&["-v"], 0);
    // Cargo did rebuild after the touch: freshness comes from the bytes, not from mtimes.
    let stderr = third.stderr.as_str();
    assert!(stderr.contains("Compiling fr-svc"), "{}", describe(&third));
    let st = statuses(&report);
    for (n, (zip, before)) in names.iter().zip(zips.iter().zip(&bytes)) {
        assert_eq!(st[*n], Status::Fresh, "{}", describe(&third));
        assert_eq!(
            &fs::read(zip).unwrap(),
            before,
            "{n}: touch changed the zip"
        );
    }
    assert_eq!(report.artifacts[0].sha256, fr_fn.sha256);
}

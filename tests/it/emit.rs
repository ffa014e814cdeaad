//! `emit` on reports and zips made for the case (it hashes the zips, it does not open them):
//! each format is checked against the report and by the tool that reads it (`cfn-lint` for
//! SAM); names that would collide stay apart; and every bad input (a missing, truncated or
//! foreign report, another report version, a failed or binary output, a missing zip, a zip
//! rebuilt since the report) is one clear error, exit 1, with nothing written. The golden
//! files of the example monorepo are checked in tests/run_examples.rs, on its real build.

use crate::support::emitted;
use std::path::Path;

use crate::support::test::{Test, describe, temp_files};
use base64::Engine;
use lambda_batch::report::Report;
use sha2::{Digest, Sha256};

/// One output of a made report: (name, kind, arch, zip path relative to the test, zip bytes).
type Output<'a> = (&'a str, &'a str, &'a str, &'a str, &'a [u8]);

/// Writes each zip and a report of them; `published` gives the outputs (by index) that have
/// a published object, with a version id or not. Returns the report's path.
fn made(
    t: &Test,
    outputs: &[Output<'_>],
    published: &[(usize, Option<&str>)],
) -> std::path::PathBuf {
    let artifacts: Vec<serde_json::Value> = outputs
        .iter()
        .enumerate()
        .map(|(i, (name, kind, arch, rel, bytes))| {
            let path = t.write(rel, bytes);
            let digest = Sha256::digest(bytes);
            let hex = format!("{digest:x}");
            let target = if *arch == "arm64" {
                "aarch64-unknown-linux-gnu"
            } else {
                "x86_64-unknown-linux-gnu"
            };
            let published = published.iter().find(|(j, _)| *j == i).map(|(_, version)| {
                let key = format!("lambda/{name}/{arch}/{hex}.zip");
                serde_json::json!({
                    "url": format!("s3://releases/{key}"), "bucket": "releases", "key": key,
                    "version_id": version, "uploaded": true,
                })
            });
            serde_json::json!({
                "name": name, "kind": kind, "workspace": "w", "package": "p", "bin": name,
                "target": target, "arch": arch, "profile": "release", "compiler": "cargo-zigbuild",
                "output_format": "zip", "output": path, "size": bytes.len(), "sha256": hex,
                "sha256_base64": base64::engine::general_purpose::STANDARD.encode(digest),
                "entries": [], "status": "built", "seconds": 1.0, "error": null, "features": [],
                "rustflags": [], "cache": null, "key": null, "runtime": "provided.al2023",
                "handler": if *kind == "function" { Some("bootstrap") } else { None },
                "published": published,
            })
        })
        .collect();
    let report = serde_json::json!({
        "report_version": 1, "lambda_batch_version": "0.1.0", "manifest": t.path().join("lambda.kdl"),
        "success": true, "seconds": 2.0, "artifacts": artifacts,
    });
    t.write("report.json", serde_json::to_vec_pretty(&report).unwrap())
}

fn parse(path: &Path) -> Report {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const OUTPUTS: &[Output<'static>] = &[
    (
        "get-product",
        "function",
        "x86_64",
        "dist/x86_64/get-product/bootstrap.zip",
        b"PK get x86",
    ),
    (
        "get-product",
        "function",
        "arm64",
        "dist/arm64/get-product/bootstrap.zip",
        b"PK get arm",
    ),
    // Names that come out alike in CamelCase and as Serverless keys.
    (
        "get_product",
        "function",
        "x86_64",
        "dist/x86_64/get_product/bootstrap.zip",
        b"PK get_ x86",
    ),
    (
        "get.product",
        "function",
        "x86_64",
        "dist/x86_64/get.product/bootstrap.zip",
        b"PK get. x86",
    ),
    (
        "9 lives",
        "function",
        "arm64",
        "dist/arm64/9 lives/bootstrap.zip",
        b"PK 9 arm",
    ),
    (
        "telemetry",
        "extension",
        "x86_64",
        "dist/x86_64/extensions/telemetry.zip",
        b"PK tel x86",
    ),
    (
        "telemetry",
        "extension",
        "arm64",
        "dist/arm64/extensions/telemetry.zip",
        b"PK tel arm",
    ),
];

#[test]
fn each_format_matches_the_report_and_passes_its_tool() {
    let t = Test::new("emit");
    // Two outputs published (one with a version id), the others local.
    let report_path = made(&t, OUTPUTS, &[(1, Some("v-3HL4kqtJl.1")), (5, None)]);
    let report = parse(&report_path);
    for (format, file) in [
        ("terraform", "deploy/lambda.auto.tfvars.json"),
        ("sam", "deploy/template.yaml"),
        ("serverless", "deploy/functions.yml"),
    ] {
        t.lb(&["emit", format, "--report", "report.json", "-o", file])
            .status(0);
        let text = t.read(file);
        let dir = t.path().join("deploy");
        match format {
            "terraform" => emitted::check_terraform(&text, &dir, &report),
            "sam" => {
                emitted::check_sam(&text, &dir, &report);
                emitted::cfn_lint(&t.path().join(file));
            }
            _ => emitted::check_serverless(&text, &dir, &report),
        }
        // Standard output: the same, local zips named from the current directory.
        let stdout = t
            .lb_in("deploy", &["emit", format, "--report", "../report.json"])
            .status(0)
            .stdout;
        assert_eq!(stdout, text, "{format}");
    }
    assert!(temp_files(t.path()).is_empty());
}

#[test]
fn bad_input_is_one_error_and_nothing_is_written() {
    let t = Test::new("emit-bad");
    let good = made(&t, &OUTPUTS[..2], &[]);
    let good_text = std::fs::read_to_string(&good).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&good_text).unwrap();
    let variant = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = value.clone();
        edit(&mut v);
        serde_json::to_string(&v).unwrap()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "truncated",
            good_text[..good_text.len() / 2].to_owned(),
            "is truncated",
        ),
        ("not JSON", "<html>".to_owned(), "is not JSON"),
        (
            "not a report",
            "{\"a\": 1}".to_owned(),
            "is not a lambda-batch report",
        ),
        (
            "older",
            variant(&|v| {
                v.as_object_mut().unwrap().remove("report_version");
            }),
            "written by an older lambda-batch",
        ),
        (
            "newer",
            variant(&|v| {
                v["report_version"] = 2.into();
                v["lambda_batch_version"] = "9.0.0".into();
            }),
            "has report_version 2 (written by lambda-batch 9.0.0)",
        ),
        (
            "failed",
            variant(&|v| {
                v["artifacts"][1]["status"] = "failed".into();
            }),
            "get-product (arm64) failed",
        ),
        (
            "binary",
            variant(&|v| {
                v["artifacts"][0]["output_format"] = "binary".into();
            }),
            "binaries: get-product (x86_64)",
        ),
        (
            "missing zip",
            variant(&|v| {
                v["artifacts"][1]["output"] = t.path().join("gone.zip").to_str().unwrap().into();
            }),
            "gone.zip`, cannot be read",
        ),
    ];
    std::fs::write(t.path().join("out.json"), "previous\n").unwrap();
    for (what, text, expected) in cases {
        std::fs::write(t.path().join("bad.json"), &text).unwrap();
        for format in ["terraform", "sam", "serverless"] {
            for out in ["out.json", "new.json"] {
                let run = t
                    .lb(&["emit", format, "--report", "bad.json", "-o", out])
                    .status(1);
                assert!(run.stderr.contains(expected), "{what}: {}", describe(&run));
                assert_eq!(
                    run.stderr.matches("error:").count(),
                    1,
                    "{what}: {}",
                    describe(&run)
                );
                assert!(run.stdout.is_empty());
            }
        }
        assert_eq!(t.read("out.json"), "previous\n", "{what}: -o was touched");
        assert!(
            !t.path().join("new.json").exists(),
            "{what}: -o was written"
        );
    }
    let run = t.lb(&["emit", "sam", "--report", "absent.json"]).status(1);
    assert!(
        run.stderr.contains("cannot read the report `absent.json`"),
        "{}",
        describe(&run)
    );

    // A zip rebuilt after the report was written (same size, other bytes): refused by name.
    t.write("dist/arm64/get-product/bootstrap.zip", b"PK GET arm");
    let run = t
        .lb(&[
            "emit",
            "terraform",
            "--report",
            "report.json",
            "-o",
            "new.json",
        ])
        .status(1);
    assert!(
        run.stderr.contains("the zip of get-product (arm64)")
            && run.stderr.contains("changed after the report was written"),
        "{}",
        describe(&run)
    );
    assert!(!t.path().join("new.json").exists());
    // A published output does not need its local zip.
    value["artifacts"][1]["published"] = serde_json::json!({
        "url": "s3://b/k.zip", "bucket": "b", "key": "k.zip", "version_id": null, "uploaded": false,
    });
    std::fs::write(&good, serde_json::to_string(&value).unwrap()).unwrap();
    t.lb(&[
        "emit",
        "terraform",
        "--report",
        "report.json",
        "-o",
        "new.json",
    ])
    .status(0);
    assert!(temp_files(t.path()).is_empty());
}

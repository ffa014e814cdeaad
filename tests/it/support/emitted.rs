//! Checks of what `lambda-batch emit` writes, against the report it was written from and the
//! tools that read it: every Terraform hash is the zip's, every local path names the zip,
//! `cfn-lint` finds no error in a SAM template, a Serverless fragment names every function.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use lambda_batch::report::Report;
use sha2::{Digest, Sha256};

use super::invocation::Invocation;

/// The base64 SHA-256 of the file at `path`.
pub fn base64_sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// Checks `emit terraform`'s text, written into `dir`, against `report`: one entry per
/// artifact and architecture; each hash is the zip's own (read from disk), the code is the
/// published object or a path (relative to `dir`) to that very zip; kinds, runtimes,
/// handlers and architectures are the report's.
pub fn check_terraform(text: &str, dir: &Path, report: &Report) {
    let value: serde_json::Value = serde_json::from_str(text).expect("terraform output is JSON");
    let top = value.as_object().expect("an object");
    assert_eq!(
        top.keys().collect::<Vec<_>>(),
        ["lambda_artifacts"],
        "{text}"
    );
    let map = top["lambda_artifacts"].as_object().unwrap();
    let count: usize = map.values().map(|m| m.as_object().unwrap().len()).sum();
    assert_eq!(
        count,
        report.artifacts.len(),
        "one entry per output:\n{text}"
    );
    let attributes: Vec<&str> = vec![
        "architectures",
        "compatible_architectures",
        "compatible_runtimes",
        "filename",
        "handler",
        "kind",
        "runtime",
        "s3_bucket",
        "s3_key",
        "s3_object_version",
        "source_code_hash",
    ];
    for a in &report.artifacts {
        let arch = a.arch.as_str();
        let e = &map[&a.name][arch];
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, attributes, "every entry has the same attributes");
        let zip = Path::new(&a.output);
        assert_eq!(
            e["source_code_hash"],
            base64_sha256(zip),
            "{} {arch}",
            a.name
        );
        assert_eq!(
            e["source_code_hash"].as_str(),
            a.sha256_base64.as_deref(),
            "{} {arch}",
            a.name
        );
        assert_eq!(e["kind"], a.kind.as_str());
        assert_eq!(e["architectures"], serde_json::json!([arch]));
        assert_eq!(e["runtime"], a.runtime.unwrap().as_str());
        assert_eq!(e["handler"].as_str(), a.handler.as_deref());
        let extension = a.kind.as_str() == "extension";
        if extension {
            assert_eq!(e["compatible_architectures"], serde_json::json!([arch]));
            assert_eq!(
                e["compatible_runtimes"],
                serde_json::json!([a.runtime.unwrap().as_str()])
            );
        } else {
            assert!(e["compatible_architectures"].is_null() && e["compatible_runtimes"].is_null());
        }
        match &a.published {
            Some(p) => {
                assert_eq!(e["s3_bucket"], p.bucket.as_str());
                assert_eq!(e["s3_key"], p.key.as_str());
                assert_eq!(e["s3_object_version"].as_str(), p.version_id.as_deref());
                assert!(e["filename"].is_null());
            }
            None => {
                let rel = e["filename"].as_str().expect("a filename");
                assert!(Path::new(rel).is_relative(), "{rel}");
                let path = dir.join(rel);
                assert!(path.is_file(), "{} does not exist", path.display());
                assert_eq!(
                    std::fs::canonicalize(&path).unwrap(),
                    std::fs::canonicalize(zip).unwrap(),
                    "{rel} is not {}",
                    zip.display()
                );
                assert!(e["s3_bucket"].is_null() && e["s3_key"].is_null());
            }
        }
    }
}

/// Runs `cfn-lint` (installed by scripts/setup.sh) on the template at `path`: no error (its
/// exit status is a bit mask; 2 is an error, 4 a warning, 8 informational).
pub fn cfn_lint(path: &Path) {
    let output = Invocation::program("cfn-lint").arg(path).output();
    let code = output.code;
    assert!(
        code >= 0 && code & 2 == 0 && code & 1 == 0,
        "cfn-lint found errors in {} (exit {code}):\n{}\n{}\n--- template ---\n{}",
        path.display(),
        output.stdout,
        output.stderr,
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

/// Checks a SAM template written into `dir` against `report`: one resource per output, of the
/// right type, with its code (S3 object or local zip), runtime, handler and architecture, and
/// one output per resource naming its ARN.
pub fn check_sam(text: &str, dir: &Path, report: &Report) {
    let t: serde_yaml::Value = serde_yaml::from_str(text).expect("the template is YAML");
    assert_eq!(t["Transform"], "AWS::Serverless-2016-10-31");
    let resources = t["Resources"].as_mapping().unwrap();
    assert_eq!(resources.len(), report.artifacts.len(), "{text}");
    let outputs = t["Outputs"].as_mapping().unwrap();
    assert_eq!(outputs.len(), resources.len());
    let mut seen = 0;
    for a in &report.artifacts {
        let label = format!("{} ({})", a.name, a.arch.as_str());
        let (id, r) = resources
            .iter()
            .find(|(id, _)| {
                outputs[&serde_yaml::Value::String(format!("{}Arn", id.as_str().unwrap()))]
                    ["Description"]
                    .as_str()
                    .is_some_and(|d| d.ends_with(&label))
            })
            .unwrap_or_else(|| panic!("no resource for {label}:\n{text}"));
        let id = id.as_str().unwrap();
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
        let p = &r["Properties"];
        let (uri, arch_key, runtime) = if a.kind.as_str() == "function" {
            assert_eq!(r["Type"], "AWS::Serverless::Function");
            assert_eq!(p["Handler"], "bootstrap");
            (&p["CodeUri"], "Architectures", &p["Runtime"])
        } else {
            assert_eq!(r["Type"], "AWS::Serverless::LayerVersion");
            (
                &p["ContentUri"],
                "CompatibleArchitectures",
                &p["CompatibleRuntimes"][0],
            )
        };
        assert_eq!(p[arch_key][0], a.arch.as_str(), "{label}");
        assert_eq!(runtime, a.runtime.unwrap().as_str(), "{label}");
        match &a.published {
            Some(pb) => {
                assert_eq!(uri["Bucket"], pb.bucket.as_str());
                assert_eq!(uri["Key"], pb.key.as_str());
                assert_eq!(uri["Version"].as_str(), pb.version_id.as_deref());
            }
            None => {
                let path = dir.join(uri.as_str().expect("a local path"));
                assert_eq!(
                    std::fs::canonicalize(&path).unwrap(),
                    std::fs::canonicalize(&a.output).unwrap()
                );
            }
        }
        seen += 1;
    }
    assert_eq!(seen, report.artifacts.len());
}

/// Checks a Serverless fragment written into `dir` against `report`: every function and
/// extension once, with its artifact (`s3://` URL or a path relative to `dir` to the zip).
pub fn check_serverless(text: &str, dir: &Path, report: &Report) {
    let v: serde_yaml::Value = serde_yaml::from_str(text).expect("the fragment is YAML");
    let mut entries: BTreeMap<String, serde_yaml::Value> = BTreeMap::new();
    for section in ["functions", "layers"] {
        if let Some(m) = v[section].as_mapping() {
            for (k, e) in m {
                let key = k.as_str().unwrap().to_owned();
                assert!(
                    key.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                    "{key}"
                );
                assert!(entries.insert(key, e.clone()).is_none());
            }
        }
    }
    assert_eq!(entries.len(), report.artifacts.len(), "{text}");
    for a in &report.artifacts {
        let artifact = match &a.published {
            Some(p) => p.url.clone(),
            None => {
                let zip = std::fs::canonicalize(&a.output).unwrap();
                let found = entries
                    .values()
                    .filter_map(|e| e["package"]["artifact"].as_str())
                    .find(|rel| {
                        !rel.starts_with("s3://")
                            && std::fs::canonicalize(dir.join(rel)).ok().as_ref() == Some(&zip)
                    });
                found
                    .unwrap_or_else(|| panic!("no entry for {}", a.output))
                    .to_owned()
            }
        };
        let e = entries
            .values()
            .find(|e| e["package"]["artifact"].as_str() == Some(artifact.as_str()))
            .unwrap_or_else(|| panic!("no entry with {artifact}:\n{text}"));
        if a.kind.as_str() == "function" {
            assert_eq!(e["handler"], "bootstrap");
            assert_eq!(e["architecture"], a.arch.as_str());
            assert_eq!(e["runtime"], a.runtime.unwrap().as_str());
        } else {
            assert_eq!(e["compatibleArchitectures"][0], a.arch.as_str());
        }
    }
}

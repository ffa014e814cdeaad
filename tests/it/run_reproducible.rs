//! Reproducible across machines: the example monorepo's `services` workspace (lambda_runtime,
//! registry dependencies) copied into two checkouts at different paths, built by lambda-batch
//! (dev profile, one function, x86_64, plain cargo) with two different `CARGO_HOME`s (the
//! second an offline copy of the first's registry, `--offline`), gives byte-identical zips,
//! and neither executable names either checkout or either cargo home. Each run also writes the
//! zip's SBOM (`sbom "cyclonedx"`): byte-identical in both checkouts, valid CycloneDX 1.5, and
//! listing exactly the packages of the function's `cargo tree` closure. The first run's
//! `--provenance` names the zip with its SHA-256, in in-toto's and SLSA's words. Then the same
//! function with `auditable true`, built by plain cargo and by cargo-zigbuild in the first
//! checkout: `rust-audit-info` reads exactly that closure from the executable in each zip
//! (so not `catalog-api`, the other function's package), and the plain build's executable has
//! no `.dep-v0` section.
//!
//! The checkouts and the second cargo home live at fixed paths under `target/reproducible/`,
//! so that a second test run reuses what the first compiled (each checkout has its own target
//! dir, as on two machines). The release profile, both architectures and cargo-zigbuild are
//! checked by `scripts/check-reproducible.sh`.

use crate::support::runtime_api;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::test::{Invocation, repo, zip_entries};
use sha2::{Digest, Sha256};

const MANIFEST: &str = r#"defaults {
    profile "dev"
    arch "x86_64"
    compiler "cargo"
    output-format "zip"
    lambda-dir "out/{arch}"
    target-dir "target"
    sbom "cyclonedx"
}

workspace "services" {
    function "order-events"
}
"#;

/// Copies `from` into `to` (files and directories; no `target`).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            // Only rewrite what differs: unchanged sources keep their mtime, so that cargo
            // finds the previous run's build fresh.
            if fs::read(&dst).ok() != Some(fs::read(&src).unwrap()) {
                fs::copy(&src, &dst).unwrap();
            }
        }
    }
}

/// A checkout at `dir`: `services/` and `lambda.kdl`.
fn checkout(dir: &Path) {
    copy_tree(&repo().join("examples/services"), &dir.join("services"));
    if fs::read_to_string(dir.join("lambda.kdl")).ok().as_deref() != Some(MANIFEST) {
        fs::write(dir.join("lambda.kdl"), MANIFEST).unwrap();
    }
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}

/// Builds the checkout at `dir` with `CARGO_HOME=home`; the zip's bytes.
fn build(dir: &Path, home: &Path, extra: &[&str]) -> Vec<u8> {
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    Invocation::lb(dir, &args).env("CARGO_HOME", home).status(0);
    fs::read(dir.join("out/x86_64/order-events/bootstrap.zip")).unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn two_checkouts_with_two_cargo_homes_give_the_same_zip() {
    let base = repo().join("target/reproducible");
    let one = base.join("one");
    let two = base.join("second/checkout/at/another/depth");
    checkout(&one);
    checkout(&two);
    let home_one = cargo_home();
    let zip_one = build(
        &one,
        &home_one,
        &["--locked", "--provenance", "provenance.json"],
    );

    // An offline copy of the registry: the same index and crate files, extracted anew under
    // another cargo home.
    let home_two = base.join("cargo-home");
    fs::create_dir_all(home_two.join("registry")).unwrap();
    for dir in ["index", "cache"] {
        let link = home_two.join("registry").join(dir);
        if fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(home_one.join("registry").join(dir), &link).unwrap();
        }
    }
    let zip_two = build(&two, &home_two, &["--offline", "--locked"]);

    let entries = zip_entries(&one.join("out/x86_64/order-events/bootstrap.zip"));
    let exe = &entries["bootstrap"].1;
    for path in [&one, &two, &home_one, &home_two] {
        let path = path.to_str().unwrap();
        assert!(!contains(exe, path), "the executable names {path}");
    }
    // The registry paths are remapped, not dropped: panic locations still name the crate.
    assert!(contains(exe, "index.crates.io-"));
    assert!(zip_one == zip_two, "the two checkouts' zips differ");
    let sbom = "out/x86_64/order-events/bootstrap.zip.cdx.json";
    let sbom_one = fs::read_to_string(one.join(sbom)).unwrap();
    assert!(
        sbom_one == fs::read_to_string(two.join(sbom)).unwrap(),
        "the two checkouts' SBOMs differ"
    );
    let closure = check_sbom(&one, &sbom_one, &zip_one);
    check_provenance(&one.join("provenance.json"), &zip_one);
    check_auditable(&one, &home_one, &closure, exe);

    let answer = runtime_api::invoke_bytes(
        "order-events",
        exe,
        runtime_api::Arch::X86_64,
        r#"{"n":1}"#,
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(answer, r#"{"function":"order-events","echo":{"n":1}}"#);
}

/// The SBOM `text` of order-events' `zip` in `checkout`: valid CycloneDX 1.5 (PyPI's
/// cyclonedx-python-lib, installed by setup), the zip's SHA-256 as the artifact's, and its
/// components exactly the packages `cargo tree` lists for the function's package alone, for
/// its target (so not the other function's package). Returns that closure (`NAME vVERSION`).
fn check_sbom(checkout: &Path, text: &str, zip: &[u8]) -> BTreeSet<String> {
    let path = checkout.join("out/x86_64/order-events/bootstrap.zip.cdx.json");
    let run = Invocation::program("python3")
        .args(["-c", VALIDATE_CYCLONEDX_1_5])
        .arg(&path)
        .status(0);
    assert_eq!(run.stdout.trim(), "valid");

    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(doc["specVersion"], "1.5");
    let artifact = &doc["metadata"]["component"];
    assert_eq!(artifact["name"], "order-events");
    let sha = Sha256::digest(zip);
    let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(artifact["hashes"][0]["content"], hex.as_str());
    let components: BTreeSet<String> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} v{}",
                c["name"].as_str().unwrap(),
                c["version"].as_str().unwrap()
            )
        })
        .collect();

    let tree = Invocation::program("cargo")
        .current_dir(checkout.join("services"))
        .args([
            "tree",
            "-e",
            "normal,build",
            "--target",
            "x86_64-unknown-linux-gnu",
            "-p",
            "orders",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "--offline",
        ])
        .status(0);
    let closure: BTreeSet<String> = tree
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('['))
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert!(closure.len() > 20, "{closure:?}");
    assert_eq!(components, closure);
    assert!(!components.iter().any(|c| c.starts_with("catalog-api ")));
    // Registry packages carry the lock file's checksum, every component a purl.
    let serde = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "serde")
        .unwrap();
    assert_eq!(serde["hashes"][0]["alg"], "SHA-256");
    assert!(
        serde["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:cargo/serde@")
    );
    closure
}

/// `auditable true` on the same function in `checkout` (beside its plain build, into the same
/// target dir, so only the workspace's crates are compiled again), with every compiler
/// installed here (cross is `run_cross`'s): the executable taken out of the zip carries a
/// `.dep-v0` section from which `rust-audit-info` reads exactly the function's `closure`, so
/// not `catalog-api`, the package only the other function uses; the plain executable
/// (`plain`) has no such section.
fn check_auditable(checkout: &Path, home: &Path, closure: &BTreeSet<String>, plain: &[u8]) {
    assert!(!has_section(plain, ".dep-v0"));
    for compiler in COMPILERS {
        let manifest = MANIFEST
            .replace(
                "compiler \"cargo\"",
                &format!("compiler \"{compiler}\"\n    auditable true"),
            )
            .replace(
                "\"out/{arch}\"",
                &format!("\"out-auditable/{compiler}/{{arch}}\""),
            );
        fs::write(checkout.join("auditable.kdl"), manifest).unwrap();
        Invocation::lb(checkout, &["run", "auditable.kdl", "--offline"])
            .env("CARGO_HOME", home)
            .status(0);
        let zip = checkout.join(format!(
            "out-auditable/{compiler}/x86_64/order-events/bootstrap.zip"
        ));
        let exe = zip_entries(&zip).remove("bootstrap").unwrap().1;
        assert!(has_section(&exe, ".dep-v0"), "{compiler}");
        let path = checkout.join("exe-under-audit");
        fs::write(&path, &exe).unwrap();
        let run = Invocation::program("rust-audit-info").arg(&path).status(0);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let listed: BTreeSet<String> = json["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{} v{}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(&listed, closure, "{compiler}");
        assert!(!listed.iter().any(|p| p.starts_with("catalog-api ")));
    }
}

/// The compilers `auditable true` is checked with on the example monorepo.
const COMPILERS: [&str; 2] = ["cargo", "cargo-zigbuild"];

/// Whether the ELF `exe` has a section named `name`.
fn has_section(exe: &[u8], name: &str) -> bool {
    let elf = goblin::elf::Elf::parse(exe).unwrap();
    elf.section_headers
        .iter()
        .any(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(name))
}

/// Validates the CycloneDX 1.5 JSON file named by its argument with cyclonedx-python-lib's
/// strict validator; prints `valid`, or the error.
const VALIDATE_CYCLONEDX_1_5: &str = "\
import sys
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.schema import SchemaVersion
error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())
print(error or 'valid')
";

/// Checks `--provenance`'s statement: in-toto Statement v1 with an SLSA Provenance v1 predicate,
/// every field one of the specifications' own, the zip the one subject with its SHA-256, the
/// manifest and the lock file among the resolved dependencies with their digests.
fn check_provenance(path: &Path, zip: &[u8]) {
    let text = fs::read_to_string(path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys = |v: &serde_json::Value| -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    };
    let within = |v: &serde_json::Value, allowed: &[&str], required: &[&str]| {
        let k = keys(v);
        for key in &k {
            assert!(
                allowed.contains(&key.as_str()),
                "`{key}` is not a field here: {v}"
            );
        }
        for key in required {
            assert!(k.contains(*key), "`{key}` is missing: {v}");
        }
    };
    // in-toto Statement v1.
    within(
        &doc,
        &["_type", "subject", "predicateType", "predicate"],
        &["_type", "subject", "predicateType", "predicate"],
    );
    assert_eq!(doc["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(doc["predicateType"], "https://slsa.dev/provenance/v1");
    let hex: String = Sha256::digest(zip)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let subjects = doc["subject"].as_array().unwrap();
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    within(
        &subjects[0],
        &[
            "name",
            "uri",
            "digest",
            "content",
            "downloadLocation",
            "mediaType",
            "annotations",
        ],
        &["name", "digest"],
    );
    assert_eq!(subjects[0]["name"], "out/x86_64/order-events/bootstrap.zip");
    assert_eq!(subjects[0]["digest"]["sha256"], hex.as_str());
    // SLSA Provenance v1.
    let predicate = &doc["predicate"];
    within(
        predicate,
        &["buildDefinition", "runDetails"],
        &["buildDefinition", "runDetails"],
    );
    let definition = &predicate["buildDefinition"];
    within(
        definition,
        &[
            "buildType",
            "externalParameters",
            "internalParameters",
            "resolvedDependencies",
        ],
        &["buildType", "externalParameters"],
    );
    assert_eq!(definition["externalParameters"]["manifest"], "lambda.kdl");
    let dependencies = definition["resolvedDependencies"].as_array().unwrap();
    for d in dependencies {
        within(
            d,
            &[
                "uri",
                "digest",
                "name",
                "downloadLocation",
                "mediaType",
                "content",
                "annotations",
            ],
            &[],
        );
        assert!(d.get("uri").is_some() || d.get("digest").is_some(), "{d}");
    }
    let digest_of = |name: &str| {
        dependencies
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not among {dependencies:?}"))["digest"]["sha256"]
            .clone()
    };
    let file_hex = |p: &Path| -> String {
        Sha256::digest(fs::read(p).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let dir = path.parent().unwrap();
    assert_eq!(
        digest_of("lambda.kdl"),
        file_hex(&dir.join("lambda.kdl")).as_str()
    );
    assert_eq!(
        digest_of("services/Cargo.lock"),
        file_hex(&dir.join("services/Cargo.lock")).as_str()
    );
    assert!(dependencies.iter().any(|d| d["name"] == "rustc"));
    let details = &predicate["runDetails"];
    within(
        details,
        &["builder", "metadata", "byproducts"],
        &["builder"],
    );
    within(
        &details["builder"],
        &["id", "version", "builderDependencies"],
        &["id"],
    );
    within(
        &details["metadata"],
        &["invocationId", "startedOn", "finishedOn"],
        &[],
    );
    let started = details["metadata"]["startedOn"].as_str().unwrap();
    let finished = details["metadata"]["finishedOn"].as_str().unwrap();
    assert!(started <= finished, "{started} > {finished}");
}

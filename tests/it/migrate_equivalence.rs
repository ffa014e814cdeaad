//! Equivalence with the tool people migrate from: each fixture is built by `cargo lambda build`
//! (cargo-lambda 1.9.2, installed by scripts/setup.sh) with its configuration in place, and by
//! `lambda-batch run` on what `lambda-batch init` wrote; both must produce the same files at the
//! same paths under their lambda directories, the same zip entry names, modes and included
//! bytes, executables for the same ELF machine, and the same features compiled in (each stub
//! main prints `cfg!(feature = ...)`, and is run: natively for x86_64, under qemu-aarch64 for
//! arm64). Dev profile, one architecture each, the suite's shared target dir for both tools.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::test::{Invocation, Test, shared_target, tree, write_executable, zip_entries};

/// Where `cargo lambda build` writes (`--lambda-dir`), inside the fixture.
const THEIRS: &str = "cl-out";
/// Where lambda-batch writes: the default `lambda-dir`, relative to the manifest.
const OURS: &str = "target/lambda";

/// A stub main that prints its name and which of `features` it was compiled with.
fn stub(name: &str, features: &[&str]) -> String {
    let shown: Vec<String> = features
        .iter()
        .map(|f| format!("print!(\" {f}={{}}\", cfg!(feature = \"{f}\"));"))
        .collect();
    format!(
        "fn main() {{\n    print!(\"{name}\");\n    {}\n    println!();\n}}\n",
        shown.join("\n    ")
    )
}

/// `cargo lambda build -p PACKAGE --bin BIN --lambda-dir cl-out` in the fixture, one call per
/// artifact (so that cargo-lambda reads each package's configuration).
fn cargo_lambda(f: &Test, package: &str, bin: &str) {
    Invocation::program("cargo")
        .args([
            "lambda",
            "build",
            "-p",
            package,
            "--bin",
            bin,
            "--lambda-dir",
            THEIRS,
        ])
        .current_dir(f.path())
        .env("CARGO_TARGET_DIR", shared_target())
        .status(0);
}

/// `lambda-batch init`, `check --deny-warnings` on its result, and `lambda-batch run`.
fn lambda_batch(f: &Test) -> String {
    for args in [&["init"][..], &["check", "--deny-warnings"], &["run"]] {
        f.lb(args)
            .env("CARGO_TARGET_DIR", shared_target())
            .status(0);
    }
    f.manifest_text()
}

/// What an executable prints, run natively (x86_64) or under qemu (arm64), with its ELF machine.
fn run_executable(dir: &Path, name: &str, bytes: &[u8]) -> (u16, String) {
    assert_eq!(&bytes[..4], b"\x7fELF", "{name} is an ELF file");
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    let path = dir.join(format!("run-{name}"));
    write_executable(&path, bytes);
    let run = match machine {
        62 => Invocation::program(&path),
        183 => Invocation::program("qemu-aarch64")
            .args(["-L", "/usr/aarch64-linux-gnu"])
            .arg(&path),
        other => panic!("{name}: unexpected ELF machine {other}"),
    };
    (machine, run.status(0).stdout.trim().to_string())
}

/// What one output holds, comparably: file entries (name → mode, and bytes for files that are
/// not executables) and, for its executable, the ELF machine and what it prints.
#[derive(Debug, PartialEq, Eq)]
struct Output {
    entries: BTreeMap<String, (u32, Option<Vec<u8>>)>,
    executable: (u16, String),
}

fn read_output(scratch: &Path, path: &Path) -> Output {
    let is_elf = |b: &[u8]| b.starts_with(b"\x7fELF");
    let mut entries = BTreeMap::new();
    let mut executable = None;
    if path.extension().is_some_and(|e| e == "zip") {
        // cargo-lambda also stores directory entries (`static/`); lambda-batch stores files.
        for (name, (mode, bytes)) in zip_entries(path)
            .into_iter()
            .filter(|(n, _)| !n.ends_with('/'))
        {
            if is_elf(&bytes) {
                executable = Some(run_executable(scratch, &name.replace('/', "-"), &bytes));
                entries.insert(name, (mode, None));
            } else {
                entries.insert(name, (mode, Some(bytes)));
            }
        }
    } else {
        use std::os::unix::fs::PermissionsExt;
        let bytes = std::fs::read(path).unwrap();
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        executable = Some(run_executable(scratch, "binary", &bytes));
        entries.insert(String::new(), (mode, None));
    }
    Output {
        entries,
        executable: executable.expect("an executable in every output"),
    }
}

/// Both tools' outputs: the same files under each lambda dir, each holding the same.
fn assert_same_outputs(f: &Test) -> Vec<String> {
    let theirs = f.path().join(THEIRS);
    let ours = f.path().join(OURS);
    let files = tree(&theirs);
    assert!(!files.is_empty(), "cargo-lambda wrote nothing");
    assert_eq!(files, tree(&ours), "the same files at the same paths");
    let scratch = tempfile::tempdir().unwrap();
    for rel in &files {
        let a = read_output(scratch.path(), &theirs.join(rel));
        let b = read_output(scratch.path(), &ours.join(rel));
        assert_eq!(a, b, "{rel}: cargo-lambda's output, then lambda-batch's");
    }
    files
}

#[test]
fn zip_with_renamed_includes_and_features() {
    let f = Test::new("eq-zip");
    f.write(
        "Cargo.toml",
        r#"[package]
name = "eqt-zip"
version = "0.1.0"
edition = "2021"
publish = false

[features]
a = []
b = []
c = []

[workspace]

[package.metadata.lambda.build]
output_format = "zip"
features = ["a", "c"]
include = ["static:assets/public", "README.md", "conf/app.toml:config/prod.toml"]
compiler = { type = "cargo" }
"#,
    );
    f.write("CargoLambda.toml", "[build]\nprofile = \"dev\"\n");
    f.write("src/main.rs", stub("eqt-zip", &["a", "b", "c"]));
    f.write("assets/public/index.html", "<html></html>\n");
    f.write("assets/public/css/site.css", "body {}\n");
    f.write("README.md", "# readme\n");
    f.write("config/prod.toml", "mode = \"prod\"\n");
    cargo_lambda(&f, "eqt-zip", "eqt-zip");
    let manifest = lambda_batch(&f);
    assert!(
        manifest.contains("        include \"assets/public\" as=\"static\"  //")
            && manifest.contains("        include \"config/prod.toml\" as=\"conf/app.toml\"  //"),
        "{manifest}"
    );
    assert_eq!(assert_same_outputs(&f), vec!["eqt-zip/bootstrap.zip"]);
    let out = read_output(f.path(), &f.path().join(OURS).join("eqt-zip/bootstrap.zip"));
    assert_eq!(out.executable, (62, "eqt-zip a=true b=false c=true".into()));
    let names: Vec<&str> = out.entries.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        vec![
            "README.md",
            "bootstrap",
            "conf/app.toml",
            "static/css/site.css",
            "static/index.html"
        ]
    );
}

#[test]
fn arm64_extension_marked_internal() {
    let f = Test::new("eq-ext");
    f.write(
        "Cargo.toml",
        r#"[package]
name = "eqt-ext"
version = "0.1.0"
edition = "2021"
publish = false

[features]
x = []
y = []

[workspace]

[package.metadata.lambda.build]
extension = true
internal = true
arm64 = true
output_format = "zip"
features = ["x"]
"#,
    );
    f.write("CargoLambda.toml", "[build]\nprofile = \"dev\"\n");
    f.write("src/main.rs", stub("eqt-ext", &["x", "y"]));
    // cargo-lambda's default compiler, cargo-zigbuild, links for arm64 (so does lambda-batch's).
    cargo_lambda(&f, "eqt-ext", "eqt-ext");
    let manifest = lambda_batch(&f);
    assert!(
        manifest.contains("    extension \"eqt-ext\" internal=true {  // from Cargo.toml [package.metadata.lambda.build] extension, internal\n        arch \"arm64\""),
        "{manifest}"
    );
    assert_eq!(assert_same_outputs(&f), vec!["extensions/eqt-ext.zip"]);
    let out = read_output(
        f.path(),
        &f.path().join(OURS).join("extensions/eqt-ext.zip"),
    );
    // An internal extension's executable is at the root of the archive.
    assert_eq!(out.entries.keys().collect::<Vec<_>>(), vec!["eqt-ext"]);
    assert_eq!(out.entries["eqt-ext"].0, 0o755);
    assert_eq!(out.executable, (183, "eqt-ext x=true y=false".into()));
}

#[test]
fn workspace_whose_packages_disagree() {
    let f = Test::new("eq-ws");
    f.write(
        "Cargo.toml",
        r#"[workspace]
resolver = "2"
members = ["one", "two"]

[workspace.metadata.lambda.build]
output_format = "zip"
features = ["shared"]
compiler = { type = "cargo" }

[workspace.metadata.lambda.bin.eqt-two.build]
include = ["two/data.txt"]
"#,
    );
    f.write(
        "one/Cargo.toml",
        r#"[package]
name = "eqt-one"
version = "0.1.0"
edition = "2021"
publish = false

[features]
shared = []
fast = []

[package.metadata.lambda.build]
features = ["fast"]
output_format = "binary"
"#,
    );
    f.write(
        "two/Cargo.toml",
        "[package]\nname = \"eqt-two\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[features]\nshared = []\nslow = []\n",
    );
    f.write("CargoLambda.toml", "[build]\nprofile = \"dev\"\n");
    f.write("one/src/main.rs", stub("eqt-one", &["shared", "fast"]));
    f.write("two/src/main.rs", stub("eqt-two", &["shared", "slow"]));
    f.write("two/data.txt", "two's data\n");
    cargo_lambda(&f, "eqt-one", "eqt-one");
    cargo_lambda(&f, "eqt-two", "eqt-two");
    lambda_batch(&f);
    assert_eq!(
        assert_same_outputs(&f),
        vec!["eqt-one/bootstrap", "eqt-two/bootstrap.zip"]
    );
    let one = read_output(f.path(), &f.path().join(OURS).join("eqt-one/bootstrap"));
    assert_eq!(
        one.executable,
        (62, "eqt-one shared=false fast=true".into())
    );
    assert_eq!(one.entries[""].0, 0o755);
    let two = read_output(f.path(), &f.path().join(OURS).join("eqt-two/bootstrap.zip"));
    assert_eq!(
        two.executable,
        (62, "eqt-two shared=true slow=false".into())
    );
    assert_eq!(
        two.entries["two/data.txt"],
        (0o644, Some(b"two's data\n".to_vec()))
    );
}

//! The supply-chain data of a run (`auditable true`, `sbom "cyclonedx"`, `--provenance`)
//! where it is easy to get wrong: an output taken from the artifact cache in a fresh checkout
//! carries the very audit data and gets the very SBOM of the build that stored it (and the
//! same sources without `auditable` never get its executables: their keys differ); the
//! provenance names the checkout's commit (without the credentials of its remote), the lock
//! file and every tool that built the outputs; an SBOM that cannot be made fails the run
//! without leaving a stale or partial one; a missing cargo-auditable is exit 3 with how to
//! install it, and `doctor` explains what it is for.
//!
//! The workspace is small (two packages, a path dependency each, `itoa` from the registry for
//! one of them), one built by `cargo auditable build` and the other by `cargo auditable
//! zigbuild`; each checkout lives under `target/supply-chain/` with a target dir of its own.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::test::{
    Invocation, Run, Test, describe, temp_files, tree, write_executable, zip_entries,
};
use lambda_batch::cache::CacheStatus;
use lambda_batch::report::Report;
use sha2::{Digest, Sha256};

const MANIFEST: &str = r#"defaults {
    profile "dev"
    arch "x86_64"
    compiler "cargo"
    output-format "zip"
    lambda-dir "out/{arch}"
    target-dir "target"
    auditable true
    sbom "cyclonedx"
}

workspace "sc" {
    function "sc-alpha"
    function "sc-beta" {
        compiler "cargo-zigbuild"
    }
}
"#;

/// The two outputs.
const OUTPUTS: [&str; 2] = ["sc-alpha", "sc-beta"];

/// One checkout: `lambda.kdl` and the workspace `sc/` at `root`.
struct Checkout {
    _test: Test,
    root: PathBuf,
}

impl Checkout {
    /// An empty checkout at `<area>/<sub>`.
    fn new(name: &str, sub: &str) -> Checkout {
        let test = Test::in_target("supply-chain", name);
        let root = test.path().join(sub);
        fs::create_dir_all(&root).unwrap();
        Checkout { _test: test, root }
    }

    /// The workspace with its lock file and [`MANIFEST`].
    fn fixture(name: &str, sub: &str) -> Checkout {
        let c = Checkout::new(name, sub);
        c.write("lambda.kdl", MANIFEST);
        c.write(
            "sc/Cargo.toml",
            "[workspace]\nresolver = \"2\"\nmembers = [\"alpha\", \"beta\", \"only-alpha\", \"only-beta\"]\n",
        );
        for (package, bin, dep, registry) in [
            ("sc-alpha-pkg", "sc-alpha", "only-alpha", "itoa = \"1\"\n"),
            ("sc-beta-pkg", "sc-beta", "only-beta", ""),
        ] {
            let dir = package.trim_start_matches("sc-").trim_end_matches("-pkg");
            let krate = dep.replace('-', "_");
            c.write(
                &format!("sc/{dir}/Cargo.toml"),
                &format!(
                    "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{dep} = {{ path = \"../{dep}\" }}\n{registry}"
                ),
            );
            let body = if registry.is_empty() {
                format!("    println!(\"{{}}\", {krate}::NAME);")
            } else {
                format!(
                    "    println!(\"{{}} {{}}\", {krate}::NAME, itoa::Buffer::new().format(7));"
                )
            };
            c.write(
                &format!("sc/{dir}/src/bin/{bin}.rs"),
                &format!("fn main() {{\n{body}\n}}\n"),
            );
            c.write(
                &format!("sc/{dep}/Cargo.toml"),
                &format!(
                    "[package]\nname = \"{dep}\"\nversion = \"0.2.0\"\nedition = \"2021\"\npublish = false\n"
                ),
            );
            c.write(
                &format!("sc/{dep}/src/lib.rs"),
                &format!("pub const NAME: &str = \"{dep}\";\n"),
            );
        }
        Invocation::program(std::env::var("CARGO").unwrap_or("cargo".into()))
            .args(["generate-lockfile", "--offline"])
            .current_dir(c.root.join("sc"))
            .status(0);
        c
    }

    /// Another checkout of the same files at `sub`: no build output, no git, an empty target
    /// dir.
    fn copy(&self, name: &str, sub: &str) -> Checkout {
        let c = Checkout::new(name, sub);
        copy_tree(&self.root, &c.root);
        c
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// `lambda-batch run --report report.json ARGS`, exiting with `code`: the run and the
    /// report.
    fn run(&self, args: &[&str], env: &[(&str, &str)], code: i32) -> (Run, Report) {
        let report = self.root.join("report.json");
        let _ = fs::remove_file(&report);
        let mut invocation =
            Invocation::lb(&self.root, &["run", "--report", "report.json"]).args(args);
        for (k, v) in env {
            invocation = invocation.env(k, v);
        }
        let run = invocation.status(code);
        let text = fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("no report ({e})\n{}", describe(&run)));
        (run, serde_json::from_str(&text).unwrap())
    }

    /// `git ARGS` in the checkout, as a fixed author.
    fn git(&self, args: &[&str]) -> String {
        Invocation::program("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&self.root)
            .status(0)
            .stdout
            .trim()
            .to_string()
    }
}

/// Copies `from` into `to`, leaving out build output, git and what a run wrote.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let left_out = ["target", "out", ".git", "report.json", "provenance.json"];
        if left_out.iter().any(|n| name == *n) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

fn zip(name: &str) -> String {
    format!("out/x86_64/{name}/bootstrap.zip")
}

fn sbom(name: &str) -> String {
    format!("out/x86_64/{name}/bootstrap.zip.cdx.json")
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The bytes of the ELF section `name` of `exe`, if it has one.
fn section(exe: &[u8], name: &str) -> Option<Vec<u8>> {
    let elf = goblin::elf::Elf::parse(exe).unwrap();
    let header = elf
        .section_headers
        .iter()
        .find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(name))?;
    let start = header.sh_offset as usize;
    Some(exe[start..start + header.sh_size as usize].to_vec())
}

/// The packages (`name version`) `rust-audit-info` reads from `exe`.
fn audit_info(dir: &Path, exe: &[u8]) -> BTreeSet<String> {
    let path = dir.join("exe-under-audit");
    fs::write(&path, exe).unwrap();
    let run = Invocation::program("rust-audit-info").arg(&path).status(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

/// The executable of an output's zip.
fn bootstrap(c: &Checkout, name: &str) -> Vec<u8> {
    zip_entries(&c.root.join(zip(name)))
        .remove("bootstrap")
        .unwrap()
        .1
}

#[test]
fn an_output_from_the_cache_carries_the_same_audit_data_and_sbom_as_the_build() {
    let cache = Test::in_target("supply-chain", "cache");
    let url = cache.path().join("cache");
    let url = url.to_str().unwrap();
    let a = Checkout::fixture("hit-a", "repo");
    let (out, report) = a.run(&["--offline", "--cache", url], &[], 0);
    for artifact in &report.artifacts {
        assert_eq!(
            artifact.cache,
            Some(CacheStatus::Stored),
            "{}",
            describe(&out)
        );
    }

    // A fresh checkout elsewhere, with an empty target dir: everything from the cache.
    let b = a.copy("hit-b", "deeper/checkout/of/repo");
    let (out, report) = b.run(&["--offline", "--cache", url], &[], 0);
    for artifact in &report.artifacts {
        assert_eq!(artifact.cache, Some(CacheStatus::Hit), "{}", describe(&out));
        let file = artifact.sbom.as_ref().expect("the report names the SBOM");
        assert_eq!(file.path, format!("{}.cdx.json", artifact.output));
        assert_eq!(
            file.sha256,
            sha256_hex(&fs::read(b.root.join(&file.path)).unwrap())
        );
    }
    let compiled: Vec<String> = tree(&b.root.join("target"))
        .into_iter()
        .filter(|f| f.contains("/debug/"))
        .collect();
    assert!(
        compiled.is_empty(),
        "cargo built in the second checkout: {compiled:?}"
    );
    for name in OUTPUTS {
        assert!(a.read(&zip(name)) == b.read(&zip(name)), "{name}'s zip");
        assert!(
            a.read(&sbom(name)) == b.read(&sbom(name)),
            "{name}'s SBOM differs between the build and the cache hit"
        );
        let (built, hit) = (bootstrap(&a, name), bootstrap(&b, name));
        let embedded = section(&hit, ".dep-v0").expect("a .dep-v0 section");
        assert!(!embedded.is_empty());
        assert_eq!(section(&built, ".dep-v0"), Some(embedded), "{name}");
        assert_eq!(
            audit_info(&b.root, &hit),
            audit_info(&a.root, &built),
            "{name}"
        );
    }
    let listed = audit_info(&b.root, &bootstrap(&b, "sc-alpha"));
    let names: BTreeSet<&str> = listed
        .iter()
        .map(|p| p.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["itoa", "only-alpha", "sc-alpha-pkg"])
    );
    // The SBOM lists what the executable says it holds.
    let doc: serde_json::Value = serde_json::from_slice(&b.read(&sbom("sc-alpha"))).unwrap();
    let components: BTreeSet<String> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["name"].as_str().unwrap(),
                c["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(components, listed);

    // The same sources without `auditable`: other keys, so the cache hands none of the
    // auditable executables out; built, they carry no audit data.
    let keys = |report: &Report| -> BTreeSet<String> {
        report
            .artifacts
            .iter()
            .map(|a| a.key.clone().expect("a key"))
            .collect()
    };
    let audited = keys(&report);
    let c = a.copy("hit-plain", "repo");
    c.write("lambda.kdl", &MANIFEST.replace("    auditable true\n", ""));
    let (out, report) = c.run(&["--offline", "--cache", url], &[], 0);
    for artifact in &report.artifacts {
        assert_eq!(
            artifact.cache,
            Some(CacheStatus::Stored),
            "{}",
            describe(&out)
        );
    }
    assert!(keys(&report).is_disjoint(&audited));
    for name in OUTPUTS {
        assert_eq!(section(&bootstrap(&c, name), ".dep-v0"), None, "{name}");
    }
}

#[test]
fn the_provenance_names_the_commit_the_lock_file_and_every_tool_that_built() {
    let a = Checkout::fixture("provenance", "repo");
    a.git(&["init", "-q"]);
    a.git(&[
        "remote",
        "add",
        "origin",
        "https://builder:s3cr3t-t0ken@example.com/org/repo.git",
    ]);
    a.git(&["add", "-A"]);
    a.git(&["commit", "-q", "-m", "fixture"]);
    let head = a.git(&["rev-parse", "HEAD"]);
    let (_, report) = a.run(&["--offline", "--provenance", "provenance.json"], &[], 0);
    let text = String::from_utf8(a.read("provenance.json")).unwrap();
    assert!(!text.contains("s3cr3t"), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();

    // Every output, by its path and SHA-256.
    let subjects: BTreeSet<(String, String)> = doc["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["digest"]["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let outputs: BTreeSet<(String, String)> = OUTPUTS
        .iter()
        .map(|n| (zip(n), sha256_hex(&a.read(&zip(n)))))
        .collect();
    assert_eq!(subjects, outputs);
    assert_eq!(report.artifacts.len(), 2);

    let dependencies = doc["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    let by_name = |name: &str| {
        dependencies
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no {name} among {dependencies:#?}"))
    };
    // The checkout: its remote without credentials, its commit, clean.
    let git = dependencies
        .iter()
        .find(|d| d["uri"].as_str().is_some_and(|u| u.starts_with("git+")))
        .unwrap_or_else(|| panic!("no commit among {dependencies:#?}"));
    assert_eq!(git["uri"], "git+https://example.com/org/repo.git");
    assert_eq!(git["digest"]["gitCommit"], head.as_str());
    assert_eq!(git["annotations"]["dirty"], false);
    // The files read, by digest.
    for file in ["lambda.kdl", "sc/Cargo.lock"] {
        assert_eq!(
            by_name(file)["digest"]["sha256"],
            sha256_hex(&a.read(file)).as_str(),
            "{file}"
        );
    }
    // The tools, as each reports its own version.
    let version_of = |program: &str, args: &[&str]| {
        Invocation::program(program)
            .args(args)
            .status(0)
            .stdout
            .trim()
            .to_string()
    };
    let rustc = version_of("rustc", &["-vV"]);
    let field = |key: &str| {
        rustc
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap()
            .trim()
            .to_string()
    };
    let rustc_tool = by_name("rustc");
    assert_eq!(
        rustc_tool["uri"],
        format!("pkg:generic/rustc@{}", field("release:")).as_str()
    );
    assert_eq!(
        rustc_tool["digest"]["gitCommit"],
        field("commit-hash:").as_str()
    );
    let cargo = version_of(&std::env::var("CARGO").unwrap_or("cargo".into()), &["-V"]);
    let cargo_number = cargo.split_whitespace().nth(1).unwrap();
    assert_eq!(
        by_name("cargo")["uri"],
        format!("pkg:generic/cargo@{cargo_number}").as_str(),
        "{cargo}"
    );
    let zig = version_of("python3", &["-m", "ziglang", "version"]);
    assert_eq!(
        by_name("zig")["uri"],
        format!("pkg:generic/zig@{zig}").as_str()
    );
    let zigbuild = version_of("cargo-zigbuild", &["--version"]);
    assert_eq!(
        by_name("cargo-zigbuild")["annotations"]["version"],
        zigbuild.as_str()
    );
    by_name("cargo-auditable");

    // A tracked file changed since the commit: the checkout is said to be dirty.
    a.write(
        "sc/only-beta/src/lib.rs",
        "pub const NAME: &str = \"edited\";\n",
    );
    a.run(&["--offline", "--provenance", "provenance.json"], &[], 0);
    let doc: serde_json::Value = serde_json::from_slice(&a.read("provenance.json")).unwrap();
    let dependencies = doc["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    let git = dependencies
        .iter()
        .find(|d| d["uri"].as_str().is_some_and(|u| u.starts_with("git+")))
        .unwrap();
    assert_eq!(git["annotations"]["dirty"], true);
}

#[test]
fn an_sbom_that_cannot_be_made_or_is_no_longer_asked_for_leaves_none_beside_the_output() {
    let a = Checkout::fixture("no-closure", "repo");
    let (_, report) = a.run(&["--offline", "--only", "sc-alpha"], &[], 0);
    assert!(report.artifacts[0].sbom.is_some());
    let before = a.read(&sbom("sc-alpha"));

    // The function changes, and its closure can no longer be listed: a cargo whose `cargo
    // tree` fails as cargo's resolution does offline when a package is not in the local
    // registry (builds go to the real cargo).
    let real = std::env::var("CARGO").unwrap_or("cargo".into());
    let bin = a.root.join("../bin");
    fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    write_executable(
        &cargo,
        format!(
            "#!/bin/sh\nif [ \"$1\" = tree ]; then\n    echo 'error: no matching package named `itoa` found' >&2\n    echo 'location searched: registry `crates-io`' >&2\n    echo \"As a reminder, you're using offline mode (--offline)\" >&2\n    exit 101\nfi\nexec '{real}' \"$@\"\n"
        ),
    );
    a.write(
        "sc/alpha/src/bin/sc-alpha.rs",
        "fn main() {\n    println!(\"changed {}\", only_alpha::NAME);\n}\n",
    );
    let (out, report) = a.run(
        &["--offline", "--only", "sc-alpha"],
        &[("CARGO", cargo.to_str().unwrap())],
        1,
    );
    assert!(
        out.stderr.contains("no SBOM for sc-alpha")
            && out.stderr.contains("no matching package named `itoa`"),
        "{}",
        describe(&out)
    );
    // The new output is there; no SBOM is beside it (the old one named other bytes), and
    // nothing half-written is left.
    let exe = bootstrap(&a, "sc-alpha");
    assert!(String::from_utf8_lossy(&exe).contains("changed "));
    assert!(report.artifacts[0].sbom.is_none());
    assert!(
        !a.root.join(sbom("sc-alpha")).exists(),
        "a stale SBOM is left: {}",
        String::from_utf8_lossy(&before)
    );
    assert_eq!(temp_files(&a.root.join("out")), Vec::<String>::new());

    // With cargo's own `tree` again the SBOM is back; with `sbom "none"` the one that run left
    // goes too, while the output stays: it would describe the bytes of a build before.
    let (_, report) = a.run(&["--offline", "--only", "sc-alpha"], &[], 0);
    assert!(report.artifacts[0].sbom.is_some());
    assert!(a.root.join(sbom("sc-alpha")).exists());
    let manifest = String::from_utf8(a.read("lambda.kdl")).unwrap();
    a.write(
        "lambda.kdl",
        &manifest.replace("sbom \"cyclonedx\"", "sbom \"none\""),
    );
    let (_, report) = a.run(&["--offline", "--only", "sc-alpha"], &[], 0);
    assert!(report.artifacts[0].sbom.is_none());
    assert!(!a.root.join(sbom("sc-alpha")).exists());
    assert!(a.root.join(zip("sc-alpha")).exists());
}

#[test]
fn auditable_without_cargo_auditable_exits_3_with_how_to_install_it() {
    let t = Test::new("no-auditable");
    t.workspace(
        "svc",
        "sc-missing",
        &[(
            "sc-missing",
            &crate::support::test::bin_source("sc-missing"),
        )],
    );
    t.manifest("workspace \"svc\" {\n    auditable true\n    function \"sc-missing\"\n}");
    // A PATH with cargo and rustc (through rustup's proxies) but not cargo-auditable.
    let bin = t.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    for tool in ["cargo", "rustc", "rustup"] {
        let real = which::which(tool).unwrap();
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = t.lb(&["run"]).env("PATH", &path).status(3);
    assert!(
        out.stderr.contains("`cargo-auditable` is not installed")
            && out.stderr.contains("sc-missing")
            && out
                .stderr
                .contains("cargo install --locked cargo-auditable"),
        "{}",
        describe(&out)
    );
    assert!(!t.path().join("out").exists());

    // doctor says what it is for and how to install it; and that it is there when it is.
    let out = t.lb(&["doctor"]).env("PATH", &path).status(3);
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("cargo-auditable "))
        .unwrap_or_else(|| panic!("no cargo-auditable row\n{}", describe(&out)));
    for needle in [
        "MISSING",
        "auditable true",
        "dependency list",
        "cargo install --locked cargo-auditable",
    ] {
        assert!(row.contains(needle), "{row}");
    }
    let out = t.lb(&["doctor"]).status(0);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("cargo-auditable ") && !l.contains("MISSING")),
        "{}",
        describe(&out)
    );
}

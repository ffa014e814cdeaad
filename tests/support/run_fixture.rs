//! Helpers for the `run_*` tests: small cargo workspaces written into a temporary directory,
//! the real `lambda-batch` binary run on them, and readers for what it leaves behind (the JSON
//! report, zips, ELF headers).
//!
//! Every fixture builds into `<repo>/target/shared` (the one cargo target dir the test suite
//! shares, so nothing is compiled twice across tests) with the dev profile and plain `cargo`.
//! Because that target dir is shared, tests that may run at the same time give their bins
//! distinct names: cargo copies each bin to `<target>/debug/<bin>`, and two tests building a
//! bin of the same name would overwrite each other's executable.
#![allow(dead_code)] // each test crate uses a different part of it

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lambda_batch::report::{Report, Status};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo target dir every fixture builds into.
pub fn shared_target() -> PathBuf {
    repo().join("target").join("shared")
}

/// A temporary directory holding fixture workspaces and a `lambda.kdl`; removed on drop.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// An empty fixture directory. `name` shows in the directory name, for debugging.
    pub fn new(name: &str) -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix(&format!("lambda-batch-{name}-"))
            .tempdir()
            .expect("temp dir");
        Fixture { dir }
    }

    /// The fixture's root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `rel`, creating its directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create dirs");
        }
        fs::write(&path, contents).expect("write fixture file");
        path
    }

    /// A one-package cargo workspace at `dir` (package `package`) with one bin per
    /// `(name, source)`. Bins print their name, so outputs can be told apart.
    pub fn workspace(&self, dir: &str, package: &str, bins: &[(&str, &str)]) {
        self.write(
            &format!("{dir}/Cargo.toml"),
            format!(
                "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n"
            ),
        );
        for (bin, source) in bins {
            self.write(&format!("{dir}/src/bin/{bin}.rs"), source);
        }
    }

    /// Writes `lambda.kdl`: `defaults` for a fast dev build into the shared target dir and
    /// outputs under `out/{arch}`, followed by `body`.
    pub fn manifest(&self, body: &str) -> PathBuf {
        let text = format!(
            "defaults {{\n    profile \"dev\"\n    compiler \"cargo\"\n    output-format \"zip\"\n    lambda-dir \"out/{{arch}}\"\n    target-dir \"{}\"\n}}\n\n{body}\n",
            shared_target().display()
        );
        self.write("lambda.kdl", text)
    }

    /// A `lambda-batch` command in the fixture directory, without colors.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-batch"));
        command
            .args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("SOURCE_DATE_EPOCH");
        command
    }

    /// Runs `lambda-batch` with `args` in the fixture directory.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("lambda-batch runs")
    }

    /// `run --report report.json ARGS`, returning the output and the parsed report.
    pub fn run_with_report(&self, args: &[&str]) -> (Output, Report) {
        let report = self.path().join("report.json");
        let _ = fs::remove_file(&report);
        let mut all = vec!["run", "--report", report.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        let output = self.run(&all);
        let text = fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("no report ({e})\n{}", describe(&output)));
        (output, serde_json::from_str(&text).expect("report parses"))
    }
}

/// stdout and stderr of a run, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The source of a bin that prints `name`.
pub fn bin_source(name: &str) -> String {
    format!("fn main() {{\n    println!(\"{name}\");\n}}\n")
}

/// Status of each (name, target) in a report.
pub fn statuses(report: &Report) -> BTreeMap<String, Status> {
    report
        .artifacts
        .iter()
        .map(|a| (format!("{} {}", a.name, a.target), a.status))
        .collect()
}

/// Every entry of a zip: name → (unix mode, bytes).
pub fn zip_entries(path: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut archive = zip::ZipArchive::new(file).expect("a valid zip");
    let mut entries = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("zip entry");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read zip entry");
        let mode = entry.unix_mode().unwrap_or(0) & 0o7777;
        let name = entry.name().expect("a UTF-8 entry name").to_string();
        entries.insert(name, (mode, bytes));
    }
    entries
}

/// Every file under `dir`, relative, sorted (directories not listed).
pub fn tree(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                files.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

/// Files whose name starts with packaging's temporary prefix, anywhere under `dir`.
pub fn temp_files(dir: &Path) -> Vec<String> {
    tree(dir)
        .into_iter()
        .filter(|f| {
            Path::new(f).file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with(lambda_batch::atomic::TEMP_PREFIX)
            })
        })
        .collect()
}

//! The integration tests' builder, in the manner of just's `tests/test.rs`: a [`Test`] is a
//! temporary tree (small cargo workspaces written on the spot, or a copy of the example
//! monorepo); [`Test::lb`] runs the real `lambda-batch` in it as an [`Invocation`] (in the
//! hermetic environment every invocation starts from), and [`Invocation::status`] always
//! asserts the exit status before the output is looked at; readers inspect what the run left
//! behind (the JSON report, zips, the manifest, temporary files).
//!
//! Fixture workspaces build into `<repo>/target/shared` (the one cargo target dir the test
//! suite shares, so nothing is compiled twice across tests) with the dev profile and plain
//! `cargo`. Because that target dir is shared, tests that may run at the same time (any two
//! tests of the binary) give their bins distinct names: cargo copies each bin to
//! `<target>/debug/<bin>`, and two tests building a bin of the same name would overwrite each
//! other's executable.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use lambda_batch::report::{Report, Status};
use sha2::{Digest, Sha256};

pub use super::invocation::{
    HANG, Invocation, Run, Started, describe, wait_for, wait_for_none, write_executable,
};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo target dir every fixture builds into.
pub fn shared_target() -> PathBuf {
    repo().join("target").join("shared")
}

/// A temporary directory the binary runs in; removed on drop.
pub struct Test {
    dir: tempfile::TempDir,
}

impl Test {
    /// An empty directory. `name` shows in the directory name, for debugging.
    pub fn new(name: &str) -> Test {
        let dir = tempfile::Builder::new()
            .prefix(&format!("lambda-batch-{name}-"))
            .tempdir()
            .expect("temp dir");
        Test { dir }
    }

    /// An empty directory under `<repo>/target/<area>/`, for a tree that builds into a target
    /// dir of its own (inside the tree), so that what it compiles stays under `target/`.
    pub fn in_target(area: &str, name: &str) -> Test {
        let parent = repo().join("target").join(area);
        fs::create_dir_all(&parent).expect("create the test area");
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(parent)
            .expect("temp dir");
        Test { dir }
    }

    /// An empty directory.
    pub fn empty() -> Test {
        Test::new("empty")
    }

    /// A copy of the example monorepo (`examples/`, without build output) and nothing else.
    pub fn bare() -> Test {
        let test = Test::new("examples");
        copy_tree(&repo().join("examples"), &test.path().join("examples"));
        test
    }

    /// A copy of a directory of this repository (relative to its root, without build output),
    /// such as a fixture.
    pub fn copy_of(rel: &str) -> Test {
        let test = Test::new(rel.rsplit('/').next().unwrap_or(rel));
        copy_tree(&repo().join(rel), test.path());
        test
    }

    /// The example monorepo with the repository's own lambda.kdl beside it.
    pub fn examples() -> Test {
        let test = Test::bare();
        let manifest = fs::read(repo().join("lambda.kdl")).expect("the root lambda.kdl");
        test.write("lambda.kdl", manifest);
        test
    }

    /// The root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `rel`, creating its directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create dirs");
        }
        fs::write(&path, contents).expect("write a file of the test");
        path
    }

    /// The text of the file at `rel`.
    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// SHA-256 of the file at `rel`, hex.
    pub fn hash(&self, rel: &str) -> String {
        let bytes = fs::read(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"));
        format!("{:x}", Sha256::digest(bytes))
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

    /// The text of `lambda.kdl`.
    pub fn manifest_text(&self) -> String {
        self.read("lambda.kdl")
    }

    /// `lambda-batch ARGS` in the root.
    pub fn lb(&self, args: &[&str]) -> Invocation {
        Invocation::lb(self.path(), args)
    }

    /// `lambda-batch ARGS` in the directory `rel` under the root.
    pub fn lb_in(&self, rel: &str, args: &[&str]) -> Invocation {
        Invocation::lb(&self.path().join(rel), args)
    }

    /// `run --report report.json ARGS`, exiting with `status`; the run and the parsed report.
    #[track_caller]
    pub fn run_with_report(&self, args: &[&str], status: i32) -> (Run, Report) {
        let report = self.path().join("report.json");
        let _ = fs::remove_file(&report);
        let mut all = vec!["run", "--report", report.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        let run = self.lb(&all).status(status);
        let text = fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("no report ({e})\n{}", describe(&run)));
        (run, serde_json::from_str(&text).expect("report parses"))
    }

    /// Asserts that `check` finds the manifest valid.
    #[track_caller]
    pub fn assert_valid(&self) {
        self.lb(&["check"]).status(0);
    }
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

/// Files whose name starts with the temporary prefix of atomic writes, anywhere under `dir`.
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

/// The start of the temporary file names of a process that has exited
/// (`.lambda-batch-tmp-<pid>-<token>`): what a run killed outright leaves behind.
pub fn dead_owner() -> String {
    let mut child = Invocation::program("true").spawn();
    let pid = child.id();
    child.wait().expect("wait for `true`");
    format!("{}{pid}-0000dead", lambda_batch::atomic::TEMP_PREFIX)
}

/// Processes (other than zombies) whose working directory or command line is under `dir`.
pub fn processes_under(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let proc_dir = entry.path();
        let state = fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
        // The state letter follows the parenthesized command name.
        if state
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        {
            continue;
        }
        let cwd = fs::read_link(proc_dir.join("cwd")).unwrap_or_default();
        let cmdline = fs::read(proc_dir.join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if cwd.starts_with(dir) || cmdline.contains(&needle) {
            found.push(format!("{pid}: {cmdline} (cwd {})", cwd.display()));
        }
    }
    found
}

/// Copies a directory tree, leaving out build output.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dirs");
    for entry in fs::read_dir(from).expect("read the examples") {
        let entry = entry.expect("an entry");
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().expect("a file type").is_dir() {
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).expect("copy a file");
        }
    }
}

/// The text `after` added to `before`, when `after` is `before` with one contiguous block
/// inserted (everything else byte for byte the same); `None` otherwise.
pub fn inserted<'a>(before: &str, after: &'a str) -> Option<&'a str> {
    let prefix = before
        .bytes()
        .zip(after.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let max_suffix = before.len().min(after.len()) - prefix;
    let suffix = before
        .bytes()
        .rev()
        .zip(after.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    let ok = prefix + suffix == before.len();
    ok.then(|| &after[prefix..after.len() - suffix])
}

/// Writes `<bin>/cargo`, a wrapper that appends each invocation's arguments to `log` and
/// runs the real cargo (`$CARGO`, else `cargo`), so a test can see whether cargo started.
/// Returns a PATH with `bin` first.
pub fn logging_cargo(bin: &Path, log: &Path) -> String {
    let real = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    write_executable(
        &bin.join("cargo"),
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{real}' \"$@\"\n",
            log.display()
        ),
    );
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

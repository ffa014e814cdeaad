//! A temporary copy of the example monorepo (examples/services, examples/extensions) with the
//! root lambda.kdl beside it, and the real binary run in it: what the edit tests drive.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

/// The source tree of this crate.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary directory holding `examples/` (without build output) and a manifest.
pub struct Fixture {
    dir: tempfile::TempDir,
}

/// What one run of lambda-batch did.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with the output unless the exit code is `code`.
    #[track_caller]
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Fixture {
    /// The example monorepo with the repository's own lambda.kdl.
    pub fn examples() -> Self {
        let f = Self::bare();
        f.write(
            "lambda.kdl",
            &std::fs::read_to_string(crate_dir().join("lambda.kdl")).unwrap(),
        );
        f
    }

    /// The example monorepo without a manifest.
    pub fn bare() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&crate_dir().join("examples"), &dir.path().join("examples"));
        Fixture { dir }
    }

    /// An empty directory.
    pub fn empty() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The fixture's root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file under the root.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Reads a file under the root.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// The manifest's text.
    pub fn manifest(&self) -> String {
        self.read("lambda.kdl")
    }

    /// sha256 of a file under the root.
    pub fn hash(&self, rel: &str) -> String {
        let bytes = std::fs::read(self.path().join(rel)).unwrap();
        format!("{:x}", Sha256::digest(bytes))
    }

    /// Runs lambda-batch with `args` in the root (no color).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(".", args)
    }

    /// Runs lambda-batch with `args` in a directory under the root.
    pub fn run_in(&self, rel: &str, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_lambda-batch"))
            .args(["--color", "never"])
            .args(args)
            .current_dir(self.path().join(rel))
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        Run::from(out)
    }

    /// Runs `check`, expecting the manifest to be valid.
    #[track_caller]
    pub fn assert_valid(&self) {
        self.run(&["check"]).expect(0);
    }
}

/// Copies a directory tree, leaving out build output.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
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

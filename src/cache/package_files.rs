//! The contents of a path package, for the input key: every file under its directory, by its
//! path relative to the directory, whether it is executable, and its SHA-256.
//!
//! Not walked: `.git` directories; directories holding a `CACHEDIR.TAG` (cargo's target dirs,
//! and the artifact cache's own directory); directories holding a `Cargo.toml` (other packages:
//! those in the closure are hashed on their own); the manifest's target dirs and output
//! directories; the manifest file itself and lambda-batch's temporary files. `.gitignore` is
//! not read: an ignored file can still be `include_str!`ed, and a key that misses an input is
//! a wrong executable, while one that covers too much only costs a build.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::Mutex;

use camino::{Utf8Path, Utf8PathBuf};

use crate::atomic::TEMP_PREFIX;
use crate::fingerprint::{Fingerprint, hex, sha256_file};

/// Beyond this many files in one package the key is not computed (a `node_modules` or a
/// data directory inside a package makes every run read it all).
pub(crate) const MAX_FILES: usize = 50_000;

/// What cargo writes at the top of a `CACHEDIR.TAG` (the convention of
/// <https://bford.info/cachedir/>), as target dirs have.
const CACHEDIR_SIGNATURE: &[u8] = b"Signature: 8a477f597d28d172789f06886806bc55";

/// The digests of the packages of one run, each package read once.
#[derive(Debug, Default)]
pub(crate) struct PackageFiles {
    /// Directories never walked (target dirs, output dirs).
    excluded_dirs: Vec<Utf8PathBuf>,
    /// Files never read (the manifest, the report).
    excluded_files: Vec<Utf8PathBuf>,
    known: Mutex<HashMap<Utf8PathBuf, Result<String, String>>>,
}

impl PackageFiles {
    /// Package digests that skip `excluded_dirs` and `excluded_files`.
    pub(crate) fn new(excluded_dirs: Vec<Utf8PathBuf>, excluded_files: Vec<Utf8PathBuf>) -> Self {
        PackageFiles {
            excluded_dirs,
            excluded_files,
            known: Mutex::default(),
        }
    }

    /// Computes the digests of `dirs`, several at once.
    pub(crate) fn read_all(&self, dirs: &[Utf8PathBuf]) {
        let todo: Vec<&Utf8PathBuf> = {
            let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            dirs.iter().filter(|d| !known.contains_key(*d)).collect()
        };
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..threads.min(todo.len()) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(dir) = todo.get(i) else { break };
                        let digest = self.walk(dir);
                        self.known
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert((*dir).clone(), digest);
                    }
                });
            }
        });
    }

    /// The digest of the package at `dir`, or why it cannot be had.
    pub(crate) fn digest(&self, dir: &Utf8Path) -> Result<String, String> {
        if let Some(known) = self
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(dir)
        {
            return known.clone();
        }
        let digest = self.walk(dir);
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dir.to_path_buf(), digest.clone());
        digest
    }

    fn skipped_dir(&self, path: &Utf8Path, name: &str) -> bool {
        name == ".git"
            || self.excluded_dirs.iter().any(|d| d == path)
            || path.join("Cargo.toml").is_file()
            || is_cache_dir(path)
    }

    fn walk(&self, dir: &Utf8Path) -> Result<String, String> {
        let mut f = Fingerprint::new();
        let mut count = 0usize;
        let walker = walkdir::WalkDir::new(dir)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                if e.depth() == 0 || !e.file_type().is_dir() {
                    return true;
                }
                match (Utf8Path::from_path(e.path()), e.file_name().to_str()) {
                    (Some(path), Some(name)) => !self.skipped_dir(path, name),
                    _ => true,
                }
            });
        for entry in walker {
            let entry = entry.map_err(|e| format!("reading `{dir}`: {e}"))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let path = Utf8Path::from_path(entry.path())
                .ok_or_else(|| format!("`{}` is not a UTF-8 path", entry.path().display()))?;
            let name = path.file_name().unwrap_or_default();
            if name.starts_with(TEMP_PREFIX) || self.excluded_files.iter().any(|f| f == path) {
                continue;
            }
            count += 1;
            if count > MAX_FILES {
                return Err(format!(
                    "`{dir}` holds more than {MAX_FILES} files: move what the build does not read out of the package, or into a directory with a CACHEDIR.TAG"
                ));
            }
            let meta = entry
                .metadata()
                .map_err(|e| format!("reading `{path}`: {e}"))?;
            let executable = meta.permissions().mode() & 0o111 != 0;
            let sha =
                sha256_file(path.as_std_path()).map_err(|e| format!("reading `{path}`: {e}"))?;
            let rel = path.strip_prefix(dir).unwrap_or(path);
            f.field(
                rel.as_str(),
                &format!("{} {}", u8::from(executable), hex(&sha)),
            );
        }
        Ok(f.finish())
    }
}

/// Whether `dir` holds a `CACHEDIR.TAG`: a cache (cargo's target dir, the artifact cache's
/// directory) that no build reads its sources from.
pub(crate) fn is_cache_dir(dir: &Utf8Path) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(dir.join("CACHEDIR.TAG")) else {
        return false;
    };
    let mut head = [0u8; CACHEDIR_SIGNATURE.len()];
    file.read_exact(&mut head).is_ok() && head == CACHEDIR_SIGNATURE
}

/// The contents of a `CACHEDIR.TAG` for a directory lambda-batch creates.
pub(crate) fn cachedir_tag() -> Vec<u8> {
    let mut text = CACHEDIR_SIGNATURE.to_vec();
    text.extend_from_slice(
        b"\n# This file is a cache directory tag created by lambda-batch (its artifact cache).\n# For information about cache directory tags, see https://bford.info/cachedir/\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Utf8Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn a_package_is_its_files_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(d.path()).unwrap();
        let pkg = root.join("pkg");
        write(&pkg, "Cargo.toml", "[package]\nname = \"p\"\n");
        write(&pkg, "src/main.rs", "fn main() {}\n");
        write(&pkg, "src/target/mod.rs", "// a module named target\n");
        let out = pkg.join("dist");
        let files = |excluded: Vec<Utf8PathBuf>| {
            PackageFiles::new(excluded, vec![pkg.join("lambda.kdl")])
                .walk(&pkg)
                .unwrap()
        };
        let first = files(vec![out.clone()]);

        // Not inputs: nested packages, caches, .git, outputs, the manifest, temporary files.
        write(&pkg, "nested/Cargo.toml", "[package]\nname = \"n\"\n");
        write(&pkg, "nested/src/lib.rs", "");
        write(
            &pkg,
            "target/CACHEDIR.TAG",
            std::str::from_utf8(&cachedir_tag()).unwrap(),
        );
        write(&pkg, "target/debug/p", "binary");
        write(&pkg, ".git/HEAD", "ref");
        write(&pkg, "dist/p/bootstrap.zip", "zip");
        write(&pkg, "lambda.kdl", "workspace \".\"");
        write(&pkg, &format!("src/{TEMP_PREFIX}x"), "half");
        assert_eq!(files(vec![out.clone()]), first);

        // Inputs: any other file, a file's mode, a directory named target without a tag.
        write(&pkg, "src/target/mod.rs", "// changed\n");
        let second = files(vec![out.clone()]);
        assert_ne!(second, first);
        write(&pkg, "notes.txt", "");
        let third = files(vec![out.clone()]);
        assert_ne!(third, second);
        std::fs::set_permissions(
            pkg.join("notes.txt"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        assert_ne!(files(vec![out]), third);
    }

    #[test]
    fn digests_are_read_once_and_say_why_not() {
        let d = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(d.path()).unwrap();
        write(root, "a/src/lib.rs", "");
        let files = PackageFiles::new(Vec::new(), Vec::new());
        files.read_all(&[root.join("a"), root.join("missing")]);
        let a = files.digest(&root.join("a")).unwrap();
        write(root, "a/src/lib.rs", "changed");
        assert_eq!(
            files.digest(&root.join("a")).unwrap(),
            a,
            "memoized for the run"
        );
        let err = files.digest(&root.join("missing")).unwrap_err();
        assert!(err.contains("missing"), "{err}");
    }
}

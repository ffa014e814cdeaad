//! What an executable read of its own package, recorded with its entry (as ccache's direct
//! mode stores the include files of each compilation beside its result): the input key leaves
//! the files of the artifact's own package out, and an entry found under a key is used only
//! when every file it records hashes the same in this checkout.
//!
//! After a build, the record is made of cargo's dep-info beside the executable
//! (`<target-dir>/<triple>/<profile>/<bin>.d`): every local source file of the bin, of its
//! package's library and of the path packages it depends on, and the files its build scripts
//! name in `rerun-if-changed` (cargo lists them all there). Each file under the manifest's
//! directory (or a workspace outside it) is recorded by its placeholder path and SHA-256;
//! files of the cargo and rustup homes and of the target dir are covered by the key
//! (`Cargo.lock`, the toolchain) or generated. When the own package has a build script that
//! printed no `rerun-if-changed` (cargo then reruns it on any file of the package), or the
//! dep-info cannot be read, the whole package is recorded instead, as the key did before.
//!
//! Cargo writes those dep-info files when its whole call ends, for every bin of the call at
//! once, and leaves one alone when its list did not change (so its age says little). The run
//! therefore records the entries of the bins a call built after that call has ended
//! successfully ([`CallEnded::Succeeded`]); then the dep-info beside each is the call's. In any
//! other case ([`CallEnded::Unknown`]) one older than the executable may be a previous build's,
//! listing other files, and the whole package is recorded instead.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::sync::{Arc, Mutex};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::package_files::PackageFiles;
use super::relative::Placeholders;
use crate::fingerprint::{Fingerprint, has_build_script, hex, parse_dep_info, sha256_file};

/// The files an executable read, each with its digest: `file <path>` (the SHA-256 of its
/// contents) or `package <dir>` (every file of a package, as the key hashes one). Paths are
/// written with placeholders (`$MANIFEST/...`), the same in every checkout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reads(pub BTreeMap<String, String>);

impl Reads {
    /// The digest of the whole list: the name of the record that carries it.
    pub fn digest(&self) -> String {
        let mut f = Fingerprint::new();
        for (label, digest) in &self.0 {
            f.field(label, digest);
        }
        f.finish()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a whole package is recorded: cargo's dep-info could not say (or not yet) what
    /// the executable read of it.
    pub fn names_a_package(&self) -> bool {
        self.0.keys().any(|label| label.starts_with("package "))
    }
}

/// The checkout the keys were computed in: where recorded paths are here, and the digests of
/// its files (each read once per run).
#[derive(Debug)]
pub struct Checkout {
    placeholders: Placeholders,
    packages: Arc<PackageFiles>,
    files: Mutex<HashMap<Utf8PathBuf, Option<String>>>,
}

impl Checkout {
    pub(crate) fn new(placeholders: Placeholders, packages: Arc<PackageFiles>) -> Checkout {
        Checkout {
            placeholders,
            packages,
            files: Mutex::default(),
        }
    }

    /// Whether every file of `reads` hashes the same here. An empty list, a path that does
    /// not resolve into this checkout or a label of another kind never matches.
    pub fn matches(&self, reads: &Reads) -> bool {
        !reads.is_empty()
            && reads.0.iter().all(|(label, digest)| {
                let now = if let Some(path) = label.strip_prefix("file ") {
                    self.placeholders
                        .resolve(path)
                        .and_then(|p| self.file_digest(&p))
                } else if let Some(dir) = label.strip_prefix("package ") {
                    self.placeholders
                        .resolve(dir)
                        .and_then(|d| self.packages.digest(&d).ok())
                } else {
                    None
                };
                now.as_deref() == Some(digest.as_str())
            })
    }

    /// What the executable at `executable` (bin of the package `package` at `package_dir`)
    /// read, from cargo's records beside it; `target_dir` holds what was generated; `call`
    /// says whether cargo's dep-info beside it can be taken as it is.
    pub fn record(
        &self,
        executable: &Utf8Path,
        package: &str,
        package_dir: &Utf8Path,
        target_dir: &Utf8Path,
        call: CallEnded,
    ) -> Result<Reads, String> {
        let mut reads = BTreeMap::new();
        let mut whole_package = reruns_on_every_file(executable, package, package_dir);
        match current_dep_info(executable, call)
            .as_deref()
            .and_then(parse_dep_info)
        {
            Some(deps) => {
                for dep in deps {
                    if !dep.is_absolute() {
                        // Relative to `build.dep-info-basedir`, which is not known here.
                        whole_package = true;
                        continue;
                    }
                    if dep.starts_with(target_dir) {
                        continue;
                    }
                    let label = self.placeholders.path(&dep);
                    if !label.starts_with("$MANIFEST") {
                        // The cargo and rustup homes (covered by the lock file and the
                        // toolchain), a target dir, or outside every checkout.
                        continue;
                    }
                    match self.file_digest(&dep) {
                        Some(digest) => {
                            reads.insert(format!("file {label}"), digest);
                        }
                        // A directory or a file gone since: only the whole package can say.
                        None => whole_package = true,
                    }
                }
            }
            None => whole_package = true,
        }
        if whole_package || reads.is_empty() {
            let digest = self.packages.digest(package_dir)?;
            reads.insert(
                format!("package {}", self.placeholders.path(package_dir)),
                digest,
            );
        }
        Ok(Reads(reads))
    }

    /// The SHA-256 of the file at `path` (`None`: not a readable file).
    fn file_digest(&self, path: &Utf8Path) -> Option<String> {
        if let Some(known) = self
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
        {
            return known.clone();
        }
        let digest = path
            .is_file()
            .then(|| sha256_file(path.as_std_path()).ok().map(|d| hex(&d)))
            .flatten();
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), digest.clone());
        digest
    }
}

/// What is known of the cargo call that built an executable, when its entry is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEnded {
    /// The call that built it has ended successfully: cargo has written the dep-info of every
    /// bin it built, or left one as it was because its list was the same, so the dep-info
    /// beside the executable is this build's whatever its age.
    Succeeded,
    /// Not known: an executable of an earlier call, or a call that failed or has not ended.
    /// Its dep-info is used only when at least as new as the executable; an older one may be
    /// a previous build's, listing other files.
    Unknown,
}

/// The text of cargo's dep-info beside `executable`, when it describes this executable (see
/// [`CallEnded`]); `None` otherwise (the caller then records the whole package).
fn current_dep_info(executable: &Utf8Path, call: CallEnded) -> Option<String> {
    let dep_info = Utf8PathBuf::from(format!("{executable}.d"));
    if call == CallEnded::Unknown {
        let modified = |p: &Utf8Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        let built = modified(executable)?;
        if modified(&dep_info).is_none_or(|written| written < built) {
            return None;
        }
    }
    fs::read_to_string(&dep_info).ok()
}

/// Whether cargo reruns the build script of `package` on any change to its files: it has one,
/// and one of its outputs beside `executable` (`build/<package>-<hash>/output`) names no
/// `rerun-if-changed`, or none is found.
fn reruns_on_every_file(executable: &Utf8Path, package: &str, package_dir: &Utf8Path) -> bool {
    if !has_build_script(package_dir, &package_dir.join("Cargo.toml")) {
        return false;
    }
    let Some(build) = executable.parent().map(|d| d.join("build")) else {
        return true;
    };
    let prefix = format!("{package}-");
    let outputs: Vec<Utf8PathBuf> = build
        .read_dir_utf8()
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .strip_prefix(&prefix)
                .is_some_and(|hash| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .map(|e| e.path().join("output"))
        .filter(|p| p.is_file())
        .collect();
    outputs.is_empty()
        || outputs.iter().any(|output| {
            !fs::read_to_string(output).is_ok_and(|text| {
                text.lines().any(|l| {
                    l.starts_with("cargo:rerun-if-changed=")
                        || l.starts_with("cargo::rerun-if-changed=")
                })
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_that_names_a_package_says_so() {
        let files = Reads([("file $MANIFEST/a/src/main.rs".to_string(), "d1".to_string())].into());
        assert!(!files.names_a_package());
        let mut whole = files.clone();
        whole.0.insert("package $MANIFEST/a".into(), "d2".into());
        assert!(whole.names_a_package());
        assert!(!Reads::default().names_a_package());
    }

    fn write(root: &Utf8Path, rel: &str, text: &str) -> Utf8PathBuf {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }

    fn checkout(root: &Utf8Path) -> Checkout {
        let placeholders = Placeholders::new(
            &[format!("--remap-path-prefix={root}=.")],
            Some(Utf8Path::new("/home/u/.cargo")),
            None,
        );
        Checkout::new(
            placeholders,
            Arc::new(PackageFiles::new(vec![root.join("target")], Vec::new())),
        )
    }

    #[test]
    fn what_a_bin_read_is_recorded_and_matched_file_by_file() {
        let d = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(d.path()).unwrap();
        let pkg = root.join("ws/p");
        write(&pkg, "Cargo.toml", "[package]\nname = \"p\"\n");
        let a = write(&pkg, "src/bin/a.rs", "fn main() {}\n");
        write(&pkg, "src/bin/b.rs", "fn main() {}\n");
        let lib = write(&pkg, "src/lib.rs", "");
        let data = write(root, "data/words.txt", "hello\n");
        let exe = write(root, "target/x86_64-unknown-linux-gnu/debug/a", "\x7fELF");
        let generated = root.join("target/debug/build/p-0123456789abcdef/out/gen.rs");
        write(
            root,
            "target/x86_64-unknown-linux-gnu/debug/a.d",
            &format!("{exe}: {a} {lib} {data} {generated} /home/u/.cargo/registry/src/x/lib.rs\n"),
        );
        let first = checkout(root);
        let reads = first
            .record(&exe, "p", &pkg, &root.join("target"), CallEnded::Unknown)
            .unwrap();
        assert_eq!(
            reads.0.keys().collect::<Vec<_>>(),
            [
                "file $MANIFEST/data/words.txt",
                "file $MANIFEST/ws/p/src/bin/a.rs",
                "file $MANIFEST/ws/p/src/lib.rs"
            ]
        );
        assert!(first.matches(&reads));
        // Another bin's file is not read: still a match. One it read changed: not.
        write(&pkg, "src/bin/b.rs", "fn main() { println!(); }\n");
        assert!(checkout(root).matches(&reads));
        write(root, "data/words.txt", "changed\n");
        assert!(!checkout(root).matches(&reads));
        fs::remove_file(&data).unwrap();
        assert!(!checkout(root).matches(&reads));
        // Nothing, another kind, or a path outside the checkout never match.
        let c = checkout(root);
        assert!(!c.matches(&Reads::default()));
        let odd = |label: &str| Reads(BTreeMap::from([(label.to_string(), "x".to_string())]));
        assert!(!c.matches(&odd("other $MANIFEST/ws/p/src/lib.rs")));
        assert!(!c.matches(&odd("file /etc/hostname")));
        assert!(!c.matches(&odd("file $MANIFEST/../../etc/hostname")));
    }

    #[test]
    fn a_build_script_without_rerun_if_changed_makes_the_package_the_input() {
        let d = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(d.path()).unwrap();
        let pkg = root.join("ws/p");
        write(&pkg, "Cargo.toml", "[package]\nname = \"p\"\n");
        let main = write(&pkg, "src/main.rs", "fn main() {}\n");
        write(&pkg, "build.rs", "fn main() {}\n");
        let exe = write(root, "target/debug/p", "\x7fELF");
        let dep_info = write(root, "target/debug/p.d", &format!("{exe}: {main}\n"));
        let output = write(root, "target/debug/build/p-0123456789abcdef/output", "");
        let c = checkout(root);
        let reads = c
            .record(&exe, "p", &pkg, &root.join("target"), CallEnded::Unknown)
            .unwrap();
        assert!(reads.0.contains_key("package $MANIFEST/ws/p"), "{reads:?}");
        write(&pkg, "notes.txt", "any file");
        assert!(!checkout(root).matches(&reads));

        fs::write(&output, "cargo:rerun-if-changed=build.rs\n").unwrap();
        let reads = c
            .record(&exe, "p", &pkg, &root.join("target"), CallEnded::Unknown)
            .unwrap();
        assert_eq!(
            reads.0.keys().collect::<Vec<_>>(),
            ["file $MANIFEST/ws/p/src/main.rs"]
        );
        // A dep-info older than the executable: a previous build's, unless the call that
        // built the executable has ended (cargo leaves a dep-info whose list is the same).
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&dep_info)
            .unwrap()
            .set_modified(past)
            .unwrap();
        let record = |call| {
            c.record(&exe, "p", &pkg, &root.join("target"), call)
                .unwrap()
        };
        let reads = record(CallEnded::Unknown);
        assert!(reads.0.contains_key("package $MANIFEST/ws/p"), "{reads:?}");
        let reads = record(CallEnded::Succeeded);
        assert_eq!(
            reads.0.keys().collect::<Vec<_>>(),
            ["file $MANIFEST/ws/p/src/main.rs"]
        );
        // A path relative to `build.dep-info-basedir`: the whole package, as the rest is
        // not all that was read.
        fs::write(&dep_info, format!("{exe}: {main} src/extra.rs\n")).unwrap();
        let reads = record(CallEnded::Succeeded);
        assert!(reads.0.contains_key("package $MANIFEST/ws/p"), "{reads:?}");
        // No dep-info: the whole package.
        fs::remove_file(&dep_info).unwrap();
        for call in [CallEnded::Unknown, CallEnded::Succeeded] {
            let reads = record(call);
            assert!(reads.0.contains_key("package $MANIFEST/ws/p"), "{reads:?}");
        }
    }
}

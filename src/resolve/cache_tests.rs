//! The metadata cache, through the workspace loading that uses it.

use std::fs;
use std::time::{Duration, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};

use super::cache::MetadataCache;
use super::workspace::{WorkspaceInfo, load_with};

fn write(path: &Utf8Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Makes every file and directory under `root` look older than [`crate::fingerprint::SETTLE`].
fn age(root: &Utf8Path) {
    let old = SystemTime::now() - Duration::from_secs(60);
    for e in walkdir::WalkDir::new(root).into_iter().flatten() {
        let f = fs::File::open(e.path()).unwrap();
        f.set_modified(old).unwrap();
    }
}

fn workspace() -> (tempfile::TempDir, Utf8PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = Utf8PathBuf::from_path_buf(tmp.path().canonicalize().unwrap()).unwrap();
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n",
    );
    write(
        &root.join("crates/a/Cargo.toml"),
        "[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&root.join("crates/a/src/bin/one.rs"), "fn main() {}\n");
    (tmp, root)
}

fn bins(info: &WorkspaceInfo) -> Vec<String> {
    let mut out: Vec<String> = info
        .packages
        .iter()
        .flat_map(|p| p.bins.iter().map(|b| format!("{}:{b}", p.name)))
        .collect();
    out.sort();
    out
}

#[test]
fn answers_from_the_cache_until_an_input_changes() {
    let (_tmp, root) = workspace();
    let store = tempfile::tempdir().unwrap();
    let cache = MetadataCache::at(store.path());

    // Freshly written files are too recent to trust: not stored.
    let (_, cached) = load_with(&root, Some(&cache)).unwrap();
    assert!(!cached);
    let (_, cached) = load_with(&root, Some(&cache)).unwrap();
    assert!(!cached);

    age(&root);
    let (first, cached) = load_with(&root, Some(&cache)).unwrap();
    assert!(!cached);
    let (again, cached) = load_with(&root, Some(&cache)).unwrap();
    assert!(cached, "unchanged inputs are answered from the cache");
    assert_eq!(bins(&again), bins(&first));
    assert_eq!(bins(&first), ["a:one"]);

    // A Cargo.toml edit: a feature and an explicit bin.
    write(
        &root.join("crates/a/Cargo.toml"),
        "[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\nfast = []\n\n[[bin]]\nname = \"two\"\npath = \"src/two.rs\"\n",
    );
    write(&root.join("crates/a/src/two.rs"), "fn main() {}\n");
    age(&root);
    let (info, cached) = load_with(&root, Some(&cache)).unwrap();
    assert!(!cached, "a changed Cargo.toml is a miss");
    assert_eq!(bins(&info), ["a:one", "a:two"]);
    assert!(info.packages[0].features.contains("fast"));
    assert!(load_with(&root, Some(&cache)).unwrap().1);

    // A bin discovered from a new file, without any Cargo.toml change.
    write(
        &root.join("crates/a/src/bin/three/main.rs"),
        "fn main() {}\n",
    );
    age(&root);
    let (info, cached) = load_with(&root, Some(&cache)).unwrap();
    assert!(!cached, "a new src/bin entry is a miss");
    assert_eq!(bins(&info), ["a:one", "a:three", "a:two"]);

    // A member matched by the `crates/*` glob.
    write(
        &root.join("crates/b/Cargo.toml"),
        "[package]\nname = \"b\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&root.join("crates/b/src/main.rs"), "fn main() {}\n");
    age(&root);
    let (info, cached) = load_with(&root, Some(&cache)).unwrap();
    assert!(!cached, "a new member is a miss");
    assert_eq!(bins(&info), ["a:one", "a:three", "a:two", "b:b"]);

    // The profile keys read from the root Cargo.toml follow it too.
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n\n[profile.release]\nlto = true\n",
    );
    age(&root);
    let (info, cached) = load_with(&root, Some(&cache)).unwrap();
    assert!(!cached);
    assert!(info.release_keys.contains("lto"));
    assert!(load_with(&root, Some(&cache)).unwrap().1);
}

#[test]
fn a_corrupt_entry_is_a_miss() {
    let (_tmp, root) = workspace();
    age(&root);
    let store = tempfile::tempdir().unwrap();
    let cache = MetadataCache::at(store.path());
    load_with(&root, Some(&cache)).unwrap();
    assert!(load_with(&root, Some(&cache)).unwrap().1);
    fs::write(cache.entry_path(&root), "{not json").unwrap();
    let (info, cached) = load_with(&root, Some(&cache)).unwrap();
    assert!(!cached);
    assert_eq!(bins(&info), ["a:one"]);
}

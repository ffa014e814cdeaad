use std::collections::BTreeSet;

use serde_json::json;

use super::*;
use crate::manifest::settings::{Compiler, OutputFormat};
use crate::resolve::PackageInfo;

fn package(name: &str, dir: &Utf8Path, bins: &[&str], metadata: Option<Value>) -> PackageInfo {
    PackageInfo {
        name: name.into(),
        id: cargo_metadata::PackageId {
            repr: format!("path+file://{dir}#{name}@0.1.0"),
        },
        dir: dir.to_path_buf(),
        bins: bins.iter().map(|b| b.to_string()).collect(),
        features: BTreeSet::new(),
        dependencies: BTreeSet::new(),
        metadata,
    }
}

fn workspace(dir: &Utf8Path, metadata: Option<Value>, packages: Vec<PackageInfo>) -> WorkspaceInfo {
    WorkspaceInfo {
        root: dir.to_path_buf(),
        manifest_path: dir.join("Cargo.toml"),
        target_directory: dir.join("target"),
        packages,
        profiles: BTreeSet::new(),
        release_keys: BTreeSet::new(),
        metadata,
    }
}

/// A workspace with every source set, each overriding some keys of the one below.
fn fixture(dir: &Utf8Path) -> WorkspaceInfo {
    std::fs::write(
        dir.join(FILE_NAME),
        "[build]\noutput_format = \"binary\"\nfeatures = [\"file\"]\narm64 = true\ninclude = [\"LICENSE\"]\n\n[production.build]\nfeatures = [\"prod\"]\nlambda_dir = \"dist\"\n\n[default.build]\nprofile = \"release\"\n\n[global.build]\ncompiler = { type = \"cross\" }\n",
    )
    .unwrap();
    let ws = json!({"lambda": {
        "build": {"output_format": "zip", "x86_64": true, "env_var": ["A=1"]},
        "bin": {
            "api": {"build": {"features": ["ws-bin"]}},
            "worker": {"build": {"include": ["ws-worker.txt"]}},
        },
    }});
    let api = json!({"lambda": {
        "build": {"features": ["pkg"], "disable_optimizations": true},
        "bin": {"api-admin": {"build": {"flatten": "api-admin"}}},
        "deploy": {"runtime": "provided.al2"},
    }});
    workspace(
        dir,
        Some(ws),
        vec![
            package("api", &dir.join("api"), &["api", "api-admin"], Some(api)),
            package("worker", &dir.join("worker"), &["worker"], None),
            package(
                "tool",
                &dir.join("tool"),
                &["tool"],
                Some(json!({"docs": {}})),
            ),
        ],
    )
}

fn tmp() -> (tempfile::TempDir, Utf8PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let d = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).unwrap();
    (t, d)
}

#[test]
fn sources_merge_in_cargo_lambdas_order() {
    let (_t, dir) = tmp();
    let info = fixture(&dir);
    let c = Config::read(&dir, &info, None);
    assert!(c.problems.is_empty(), "{:?}", c.problems);

    // api: the package's own table wins, over the workspace's bin table, over the workspace's.
    let api = c.for_bin("api", "api");
    let f = api.features.as_ref().unwrap();
    assert_eq!(f.value, vec!["pkg".to_string()]);
    assert_eq!(f.origin.table, "package.metadata.lambda.build");
    assert_eq!(api.output_format.as_ref().unwrap().value, OutputFormat::Zip);
    assert_eq!(
        api.include.as_ref().unwrap().value,
        vec!["LICENSE".to_string()]
    );
    // `arm64` from CargoLambda.toml wins over the workspace's `x86_64`, whatever the order.
    assert_eq!(api.arch().unwrap().value, "arm64");
    assert_eq!(api.runtime.as_ref().unwrap().value, "provided.al2");
    assert!(api.disable_optimizations.is_some());
    assert!(api.compiler.is_none() && api.lambda_dir.is_none() && api.profile().is_none());

    // api-admin: a package `bin` table replaces the package's table entirely.
    let admin = c.for_bin("api", "api-admin");
    assert_eq!(admin.flatten.as_ref().unwrap().value, "api-admin");
    assert!(admin.disable_optimizations.is_none() && admin.runtime.is_none());
    // ... and the workspace's `bin.api` table applies by package name.
    assert_eq!(
        admin.features.as_ref().unwrap().value,
        vec!["ws-bin".to_string()]
    );

    // worker: no package metadata; the workspace's bin table replaces the include list.
    let worker = c.for_bin("worker", "worker");
    assert_eq!(
        worker.include.as_ref().unwrap().value,
        vec!["ws-worker.txt".to_string()]
    );
    assert_eq!(
        worker.features.as_ref().unwrap().value,
        vec!["file".to_string()]
    );
    assert_eq!(
        worker.env.as_ref().unwrap().value,
        vec![("A".into(), "1".into())]
    );

    assert_eq!(
        c.marks("api", "api-admin").as_deref(),
        Some("[package.metadata.lambda]")
    );
    assert_eq!(
        c.marks("worker", "worker").as_deref(),
        Some("[workspace.metadata.lambda.bin.worker]")
    );
    assert_eq!(c.marks("tool", "tool"), None);
}

#[test]
fn a_context_reads_its_tables_and_not_the_plain_ones() {
    let (_t, dir) = tmp();
    let info = fixture(&dir);
    let c = Config::read(&dir, &info, Some("production"));
    let worker = c.for_bin("worker", "worker");
    assert_eq!(
        worker.features.as_ref().unwrap().value,
        vec!["prod".to_string()]
    );
    assert_eq!(
        worker.features.as_ref().unwrap().origin.table,
        "production.build"
    );
    assert_eq!(worker.lambda_dir.as_ref().unwrap().value, "dist");
    assert_eq!(worker.profile().unwrap().value, "release");
    assert_eq!(worker.profile().unwrap().origin.table, "default.build");
    // The plain [build] is not read with a context: no arm64, so the workspace's x86_64.
    assert_eq!(worker.arch().unwrap().value, "x86_64");
    // [global.build] wins over everything, the package's own table included.
    let api = c.for_bin("api", "api");
    assert_eq!(api.compiler.as_ref().unwrap().value, Compiler::Cross);
    let other = Config::read(&dir, &info, Some("staging"));
    assert!(other.for_bin("worker", "worker").lambda_dir.is_none());
}

#[test]
fn unreadable_sources_are_problems() {
    let (_t, dir) = tmp();
    std::fs::write(dir.join(FILE_NAME), "[build\n").unwrap();
    let info = workspace(&dir, Some(json!({"lambda": 3})), Vec::new());
    let c = Config::read(&dir, &info, None);
    assert_eq!(c.problems.len(), 2, "{:?}", c.problems);
    assert!(c.is_empty());
}

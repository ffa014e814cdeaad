//! What both fuzz targets share: a fixed tree on disk to resolve against, cargo's answer
//! about its workspaces given without running cargo, and the diagnostics printer run over
//! every error, as `check` runs it.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use camino::{Utf8Path, Utf8PathBuf};
use lambda_batch::diagnostic::ManifestErrors;
use lambda_batch::report::diagnostics::{render, to_json};
use lambda_batch::resolve::{PackageInfo, WorkspaceError, WorkspaceInfo};

/// The tree the manifests are resolved in.
pub struct Fixture {
    /// Where the manifest is: `<tree>/lambda.kdl`.
    pub manifest: Utf8PathBuf,
    /// The tree.
    pub root: Utf8PathBuf,
}

/// The fixture, made once per process: a workspace `ws` with a license, configs and assets
/// for include patterns to match (and `examples/services`, the seeds' workspace, the same).
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("lambda-batch-fuzz-{}", std::process::id()));
        let root = Utf8PathBuf::from_path_buf(dir).expect("a UTF-8 temporary directory");
        for ws in ["ws", "examples/services", "examples/extensions"] {
            for (file, text) in [
                ("LICENSE", "MIT\n"),
                ("config/a.toml", "a = 1\n"),
                ("catalog/config/b.toml", "b = 2\n"),
                ("catalog/assets/x/y.json", "{}\n"),
                ("assets/z.json", "{}\n"),
            ] {
                let path = root.join(ws).join(file);
                std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the tree");
                std::fs::write(&path, text).expect("write the tree");
            }
        }
        Fixture {
            manifest: root.join("lambda.kdl"),
            root,
        }
    })
}

fn package(dir: &Utf8Path, name: &str, bins: &[&str], deps: &[&str]) -> PackageInfo {
    PackageInfo {
        name: name.into(),
        id: cargo_metadata::PackageId {
            repr: format!("path+file://{dir}#{name}@0.1.0"),
        },
        dir: dir.to_path_buf(),
        bins: bins.iter().map(|b| b.to_string()).collect(),
        features: ["dynamo", "json"].iter().map(|f| f.to_string()).collect(),
        dependencies: deps.iter().map(|d| d.to_string()).collect(),
        metadata: None,
    }
}

/// What `cargo metadata` would say of each directory: inside the fixture, a workspace with a
/// function package (one bin shared with another package, so that `package=` matters) and an
/// extension package; anywhere else, no workspace (nothing outside the fixture is walked).
pub fn load(dirs: &[Utf8PathBuf]) -> Vec<Result<WorkspaceInfo, WorkspaceError>> {
    let fx = fixture();
    dirs.iter()
        .map(|dir| {
            if !dir.starts_with(&fx.root) || dir == &fx.root {
                return Err(WorkspaceError {
                    message: format!("`{dir}` is not a cargo workspace"),
                    help: "the fuzz fixture has workspaces under its tree only".into(),
                });
            }
            let catalog = dir.join("catalog");
            Ok(WorkspaceInfo {
                root: dir.clone(),
                manifest_path: dir.join("Cargo.toml"),
                target_directory: dir.join("target"),
                packages: vec![
                    package(
                        &catalog,
                        "catalog",
                        &["get-product", "put-product", "order-events", "a"],
                        &["lambda_runtime"],
                    ),
                    package(
                        &dir.join("catalog-api"),
                        "catalog-api",
                        &["put-product", "b"],
                        &["lambda_http"],
                    ),
                    package(
                        &dir.join("telemetry"),
                        "telemetry-ext",
                        &["telemetry", "secrets-cache"],
                        &["lambda-extension"],
                    ),
                ],
                profiles: BTreeSet::from(["custom".to_string()]),
                release_keys: BTreeSet::from(["lto".to_string()]),
                metadata: None,
            })
        })
        .collect()
}

/// Renders every diagnostic as `check` prints them (graphical and JSON).
pub fn print(errors: &ManifestErrors) {
    for e in &errors.0 {
        let _ = render(e, false);
    }
    let _ = serde_json::to_string(&to_json(errors));
}

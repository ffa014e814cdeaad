//! cargo-lambda's build configuration, read the way cargo-lambda 1.9.2 reads it, as plain data
//! for `init`, `import` and the drift warnings of `check`.
//!
//! For a bin `B` of package `P` built with `cargo lambda build --package P --bin B` in a
//! directory `D` (its `workspace` node's directory), cargo-lambda merges, later sources winning
//! key by key (lists are replaced, never joined; a `true` is never turned back off):
//! 1. `D/CargoLambda.toml`: `[build]`; with a context `NAME`, `[default.build]` then
//!    `[NAME.build]` instead (its plain `[build]` is then not read);
//! 2. `[workspace.metadata.lambda.build]` of the workspace's root Cargo.toml;
//! 3. `[workspace.metadata.lambda.bin.B.build]` (or `bin.P` when there is no `bin.B`);
//! 4. the package's `[package.metadata.lambda.bin.B.build]` (or `bin.P`), and only when it has
//!    neither, its `[package.metadata.lambda.build]`;
//! 5. with a context, `CargoLambda.toml`'s `[global.build]`, above everything.
//!
//! `[...deploy] runtime` is read from the same places. `include`, `lambda_dir` and `target_dir`
//! are relative to `D`, where cargo-lambda runs. `CARGO_LAMBDA_*` variables are not read: they
//! belong to a shell, not to the repository.

mod drift;
mod include;
mod layer;

use std::collections::BTreeMap;
use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;

pub use drift::{Class, Drift, drift};
pub use include::Entry;
pub use layer::{Layer, Origin, SourceKind, Sourced};

use crate::resolve::WorkspaceInfo;

/// The global configuration file cargo-lambda reads in the directory it runs in.
pub const FILE_NAME: &str = "CargoLambda.toml";

/// cargo-lambda's configuration for the bins built from one directory.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where cargo-lambda runs: `CargoLambda.toml` is read here, and paths are relative to it.
    pub dir: Utf8PathBuf,
    /// `CargoLambda.toml`'s build table (the context's, over `[default.build]`).
    file: Layer,
    /// `[global.build]`, with a context.
    global: Layer,
    /// `[workspace.metadata.lambda]`.
    workspace: Layer,
    /// `[workspace.metadata.lambda.bin.NAME]`, by name.
    workspace_bins: BTreeMap<String, Layer>,
    /// Each package that has a `[package.metadata]` table, by name.
    packages: BTreeMap<String, PackageConfig>,
    /// Sources that could not be read at all (a `CargoLambda.toml` that is not TOML, say).
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct PackageConfig {
    /// `[package.metadata.lambda]`.
    package: Layer,
    /// `[package.metadata.lambda.bin.NAME]`, by name.
    bins: BTreeMap<String, Layer>,
    /// Whether it has a `[package.metadata.lambda]` table at all.
    lambda: bool,
}

impl Config {
    /// Reads the configuration that applies in `dir`, for the packages of `info`, with the
    /// context `context` (`--context` of cargo-lambda).
    pub fn read(dir: &Utf8Path, info: &WorkspaceInfo, context: Option<&str>) -> Config {
        let mut config = Config {
            dir: dir.to_path_buf(),
            ..Config::default()
        };
        config.read_file(context);
        let root_manifest = info.manifest_path.clone();
        match info.metadata.as_ref().and_then(|m| m.get("lambda")) {
            None => {}
            Some(lambda @ Value::Object(_)) => {
                let (layer, bins) = lambda_tables(
                    lambda,
                    &root_manifest,
                    "workspace.metadata.lambda",
                    SourceKind::Workspace,
                    SourceKind::WorkspaceBin,
                    &mut config.problems,
                );
                config.workspace = layer;
                config.workspace_bins = bins;
            }
            Some(_) => config.problems.push(format!(
                "{root_manifest}: `[workspace.metadata] lambda` is not a table (cargo-lambda refuses it)"
            )),
        }
        for p in &info.packages {
            let Some(metadata) = &p.metadata else {
                continue;
            };
            let manifest = p.dir.join("Cargo.toml");
            let mut pc = PackageConfig::default();
            match metadata.get("lambda") {
                None => {}
                Some(lambda @ Value::Object(_)) => {
                    let (layer, bins) = lambda_tables(
                        lambda,
                        &manifest,
                        "package.metadata.lambda",
                        SourceKind::Package,
                        SourceKind::Package,
                        &mut config.problems,
                    );
                    pc = PackageConfig {
                        package: layer,
                        bins,
                        lambda: true,
                    };
                }
                Some(_) => config.problems.push(format!(
                    "{manifest}: `[package.metadata] lambda` is not a table (cargo-lambda refuses it)"
                )),
            }
            config.packages.insert(p.name.clone(), pc);
        }
        config
    }

    fn read_file(&mut self, context: Option<&str>) {
        let path = self.dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                self.problems.push(format!("cannot read {path}: {e}"));
                return;
            }
        };
        let table: Value = match toml::from_str::<toml::Table>(&text)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::to_value(t).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                self.problems
                    .push(format!("{path} is not valid TOML: {}", e.trim()));
                return;
            }
        };
        let layer = |profile: Option<&str>, kind: SourceKind| {
            let scope = match profile {
                Some(p) => table.get(p),
                None => Some(&table),
            };
            let prefix = profile.map(|p| format!("{p}.")).unwrap_or_default();
            let origin = Arc::new(Origin {
                kind,
                file: path.clone(),
                table: format!("{prefix}build"),
            });
            Layer::read(
                scope.and_then(|s| s.get("build")),
                scope.and_then(|s| s.get("deploy")),
                &origin,
            )
        };
        match context {
            None => self.file = layer(None, SourceKind::File),
            Some(name) => {
                self.file = layer(Some("default"), SourceKind::File)
                    .under(layer(Some(name), SourceKind::File));
                self.global = layer(Some("global"), SourceKind::FileGlobal);
            }
        }
    }

    /// The configuration cargo-lambda builds bin `bin` of package `package` with.
    pub fn for_bin(&self, package: &str, bin: &str) -> Layer {
        let workspace_bin = self
            .workspace_bins
            .get(bin)
            .or_else(|| self.workspace_bins.get(package));
        let package_layer = self.packages.get(package).map(|p| {
            p.bins
                .get(bin)
                .or_else(|| p.bins.get(package))
                .unwrap_or(&p.package)
        });
        [
            Some(&self.file),
            Some(&self.workspace),
            workspace_bin,
            package_layer,
            Some(&self.global),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .fold(Layer::default(), Layer::under)
    }

    /// Why cargo-lambda's configuration makes `bin` of `package` a Lambda bin, if it does: the
    /// package has a `[package.metadata.lambda]` table, or a workspace `bin` table names it.
    pub fn marks(&self, package: &str, bin: &str) -> Option<String> {
        if self.packages.get(package).is_some_and(|p| p.lambda) {
            return Some("[package.metadata.lambda]".into());
        }
        [bin, package]
            .into_iter()
            .find(|n| self.workspace_bins.contains_key(*n))
            .map(|n| format!("[workspace.metadata.lambda.bin.{n}]"))
    }

    /// Whether any source sets anything (then the drift check has something to compare).
    pub fn is_empty(&self) -> bool {
        self.file.is_empty()
            && self.global.is_empty()
            && self.workspace.is_empty()
            && self.workspace_bins.values().all(Layer::is_empty)
            && self
                .packages
                .values()
                .all(|p| p.package.is_empty() && p.bins.values().all(Layer::is_empty))
    }
}

/// The build layer and the `bin.NAME` layers of a `[...metadata.lambda]` table.
fn lambda_tables(
    lambda: &Value,
    file: &Utf8Path,
    table: &str,
    kind: SourceKind,
    bin_kind: SourceKind,
    problems: &mut Vec<String>,
) -> (Layer, BTreeMap<String, Layer>) {
    let origin = Arc::new(Origin {
        kind,
        file: file.to_path_buf(),
        table: format!("{table}.build"),
    });
    let layer = Layer::read(lambda.get("build"), lambda.get("deploy"), &origin);
    let mut bins = BTreeMap::new();
    match lambda.get("bin") {
        None => {}
        Some(Value::Object(map)) => {
            for (name, t) in map {
                let origin = Arc::new(Origin {
                    kind: bin_kind,
                    file: file.to_path_buf(),
                    table: format!("{table}.bin.{name}.build"),
                });
                bins.insert(
                    name.clone(),
                    Layer::read(t.get("build"), t.get("deploy"), &origin),
                );
            }
        }
        Some(_) => problems.push(format!(
            "{file}: `[{table}] bin` is not a table (cargo-lambda refuses it)"
        )),
    }
    (layer, bins)
}

impl Layer {
    /// The one target cargo-lambda builds for, as lambda.kdl writes it (`arm64`, `x86_64` or a
    /// triple): `arm64` wins over `x86_64`, which wins over `target`.
    pub fn arch(&self) -> Option<Sourced<String>> {
        let word = |s: &Sourced<bool>, w: &str| Sourced {
            value: w.to_string(),
            origin: Arc::clone(&s.origin),
            key: s.key.clone(),
            written: s.written.clone(),
        };
        if let Some(a) = &self.arm64 {
            return Some(word(a, "arm64"));
        }
        if let Some(x) = &self.x86_64 {
            return Some(word(x, "x86_64"));
        }
        self.target.clone()
    }

    /// cargo-lambda refuses `arm64`/`x86_64` together with `target`.
    pub fn arch_conflict(&self) -> Option<String> {
        let flag = self.arm64.as_ref().or(self.x86_64.as_ref())?;
        let target = self.target.as_ref()?;
        Some(format!(
            "cargo-lambda 1.9.2 refuses {} together with {}: lambda-batch takes `{}`",
            target.describe(),
            flag.describe(),
            flag.key
        ))
    }

    /// The profile cargo-lambda builds with, when the configuration sets one: `profile`, else
    /// `release = true`.
    pub fn profile(&self) -> Option<Sourced<String>> {
        if let Some(p) = &self.profile {
            return Some(p.clone());
        }
        self.release.as_ref().map(|r| Sourced {
            value: "release".to_string(),
            origin: Arc::clone(&r.origin),
            key: r.key.clone(),
            written: r.written.clone(),
        })
    }
}

#[cfg(test)]
mod tests;

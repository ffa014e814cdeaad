//! [`ResolvedArtifact`]: what resolution hands the plan for one artifact and target, every
//! value final, in groups. Each group is flattened into the JSON (`plan --format json`), so the
//! JSON has one flat object per artifact, its fields in the groups' order.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use miette::SourceSpan;
use schemars::JsonSchema;
use serde::Serialize;

use super::includes::{IncludeFile, KeyFile};
#[cfg(doc)]
use super::remap;
use crate::manifest::Merged;
use crate::manifest::settings::{Compiler, OutputFormat, Runtime, Sbom};
use crate::manifest::values::{Arch, ArtifactKind, GlibcVersion, Libc};

/// One artifact built for one target, with every setting final.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResolvedArtifact {
    /// Which artifact: its name, kind, workspace, package and bin.
    #[serde(flatten)]
    pub identity: Identity,
    /// What cargo builds: the target, the profile and the program.
    #[serde(flatten)]
    pub build: Build,
    /// What is written, for which Lambda runtime, and where.
    #[serde(flatten)]
    pub packaging: Packaging,
    /// How cargo is called: its target dir, features, environment and flags.
    #[serde(flatten)]
    pub cargo: CargoCall,
    /// What comes from outside the package: files shipped beside the executable, and what the
    /// artifact cache's input key covers besides the package.
    #[serde(flatten)]
    pub inputs: Inputs,
    /// Where `deploy` puts it on Lambda (not part of the build: left out of the plan's JSON).
    #[serde(skip)]
    #[schemars(skip)]
    pub deploy: super::DeploySettings,
}

/// Which artifact: its name, kind, workspace, package and bin.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Identity {
    /// The artifact name (output folder).
    pub name: String,
    /// Function or extension.
    pub kind: ArtifactKind,
    /// The workspace path as written in the manifest.
    pub workspace: String,
    /// The cargo workspace root (absolute).
    #[schemars(with = "String")]
    pub workspace_root: Utf8PathBuf,
    /// The cargo workspace's root Cargo.toml, passed as `--manifest-path`.
    #[schemars(with = "String")]
    pub cargo_manifest: Utf8PathBuf,
    /// The package that has the bin.
    pub package: String,
    /// Cargo's id of that package.
    #[schemars(with = "String")]
    pub package_id: cargo_metadata::PackageId,
    /// The package's directory.
    #[schemars(with = "String")]
    pub package_dir: Utf8PathBuf,
    /// The cargo bin target.
    pub bin: String,
    /// Found by `discover=true` rather than declared.
    pub discovered: bool,
    /// `flatten=true`.
    pub flatten: bool,
    /// `internal=true`.
    pub internal: bool,
    /// Where in the manifest this artifact comes from, for diagnostics.
    #[serde(skip)]
    #[schemars(skip)]
    pub span: SourceSpan,
    /// Every bin target of its package: a `--bin` of another package in the same cargo call
    /// must not name one of these (cargo would build both into one file).
    #[serde(skip)]
    #[schemars(skip)]
    pub package_bins: Vec<String>,
}

/// What cargo builds: the target, the profile and the program.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Build {
    /// The architecture.
    pub arch: Arch,
    /// The target triple, without glibc suffix.
    pub target: String,
    /// gnu or musl.
    pub libc: Libc,
    /// The newest glibc the executable may need (gnu only): the triple's suffix or the runtime's.
    pub glibc: Option<GlibcVersion>,
    /// The cargo profile.
    pub profile: String,
    /// The build program.
    pub compiler: Compiler,
    /// Built through `cargo auditable` (its dependency list embedded in `.dep-v0`).
    pub auditable: bool,
}

/// What is written, for which Lambda runtime, and where.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Packaging {
    /// binary or zip.
    pub output_format: OutputFormat,
    /// The Lambda runtime.
    pub runtime: Runtime,
    /// The output directory, placeholders expanded (absolute).
    #[schemars(with = "String")]
    pub lambda_dir: Utf8PathBuf,
    /// The bill of materials written beside the output.
    pub sbom: Sbom,
}

impl Packaging {
    /// The packaging settings merged for one artifact, written into `lambda_dir` (its
    /// `lambda-dir` with the placeholders of one target expanded).
    pub(super) fn settled(merged: &Merged<'_>, lambda_dir: Utf8PathBuf) -> Packaging {
        Packaging {
            output_format: merged.output_format.value(),
            runtime: merged.runtime.value(),
            lambda_dir,
            sbom: merged.sbom.value(),
        }
    }
}

/// How cargo is called: its target dir, features, environment and flags.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CargoCall {
    /// The cargo target directory (absolute).
    #[schemars(with = "String")]
    pub target_dir: Utf8PathBuf,
    /// Whether the manifest set `target-dir` (otherwise it is the workspace's own).
    pub target_dir_set: bool,
    /// Release optimizations in effect (profile `release` and `optimizations true`).
    pub optimizations: bool,
    /// The keys the workspace's own `[profile.release]` sets: release optimizations leave them
    /// to it.
    pub release_keys: Vec<String>,
    /// Features of the package.
    pub features: Vec<String>,
    /// `no-default-features`.
    pub no_default_features: bool,
    /// `all-features`.
    pub all_features: bool,
    /// Environment for the cargo process.
    pub env: BTreeMap<String, String>,
    /// The manifest's rustc flags (the plan puts the optimization flags before them).
    pub rustflags: Vec<String>,
    /// `--remap-path-prefix` flags (see [`remap`]), the same for every artifact of the
    /// manifest: cargo gets them in front of every other rustflag.
    pub path_remapping: Vec<String>,
    /// The rustflags cargo would read from its config for this workspace and target (see
    /// [`remap::config_rustflags`]): kept in front of `rustflags` when neither `RUSTFLAGS` nor
    /// `CARGO_ENCODED_RUSTFLAGS` is set, since setting either makes cargo ignore its config.
    #[serde(skip)]
    #[schemars(skip)]
    pub config_rustflags: Vec<String>,
}

/// What comes from outside the package: files shipped beside the executable, and what the
/// artifact cache's input key covers besides the package.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Inputs {
    /// The files to ship beside the executable.
    pub includes: Vec<IncludeFile>,
    /// Files the artifact cache's input key covers besides the packages' own
    /// (`cache-key-files`), sorted by label.
    pub cache_key_files: Vec<KeyFile>,
    /// Variables the input key covers besides those cargo reads (`cache-key-env`), sorted.
    pub cache_key_env: Vec<String>,
}

//! The JSON report `run --report FILE` writes (SPEC §2): its types (their JSON Schema is
//! `schema/report.schema.json`), how a run's outcome fills it, and writing it.

use std::io::Write;

use base64::Engine;
use camino::Utf8Path;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::cache::{CacheStatus, Keys};
use crate::execute::{ArtifactOutcome, GroupStatus, RunOutcome};
use crate::fingerprint::hex;
use crate::manifest::settings::{Compiler, OutputFormat, Runtime, Sbom};
use crate::manifest::values::{Arch, ArtifactKind};
use crate::package::ZipEntryReport;
use crate::plan::Plan;

/// The version of the report's format: raised when a field that readers rely on changes
/// meaning or goes away (fields are added without raising it). `emit` reads this version only.
pub const REPORT_VERSION: u32 = 1;

/// What happened in one run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The version of this format ([`REPORT_VERSION`]); 0 (absent) in reports written before
    /// it was recorded.
    #[serde(default)]
    pub report_version: u32,
    /// The lambda-batch that wrote it.
    #[serde(default)]
    pub lambda_batch_version: String,
    /// The manifest file.
    pub manifest: String,
    /// Every artifact built, fresh or failed.
    pub success: bool,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// When the run started (RFC 3339, UTC): the times of `cargo_calls` count from it. Absent
    /// in reports from before it was recorded.
    #[serde(default)]
    pub started_at: Option<String>,
    /// One entry per (artifact, target) of the run.
    pub artifacts: Vec<ArtifactReport>,
    /// One entry per cargo call of the plan, in the plan's order: what it built and when it
    /// ran. Empty in reports from before it was recorded.
    #[serde(default)]
    pub cargo_calls: Vec<CargoCall>,
}

/// One cargo call of the run and when it ran, in seconds from the report's `started_at`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CargoCall {
    /// Its lane: the calls of one lane (one target dir) run one after another, lanes side by
    /// side.
    pub lane: usize,
    /// The workspace root (the call's working directory).
    pub workspace: String,
    /// The target triple.
    pub target: String,
    /// The cargo profile.
    pub profile: String,
    /// The build program.
    pub compiler: Compiler,
    /// The outputs it builds: indices into `artifacts`.
    pub outputs: Vec<usize>,
    /// How it ended.
    pub status: CallStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// The command line it ran (the cache may have narrowed it to the bins it did not have);
    /// absent when it started no cargo.
    pub command: Option<String>,
    /// When its turn came (its lane got to it; the freshness check, the cache and the wait for
    /// a jobserver token come before its cargo starts).
    pub queued: f64,
    /// When its cargo child started; absent when it started none (`fresh`, `cached`,
    /// `skipped`, or it could not start).
    pub start: Option<f64>,
    /// When it ended: its cargo exited, or it was found fresh, taken from the cache, given up.
    pub end: f64,
    /// The CPU time (user and system, in seconds) of its cargo child and everything that child
    /// waited for (rustc, build scripts, linkers); absent when it started none.
    pub cpu_seconds: Option<f64>,
}

/// How a cargo call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallStatus {
    /// Cargo ran and succeeded.
    Succeeded,
    /// Not started: nothing it reads changed since its last build.
    Fresh,
    /// Not started: every executable came from the artifact cache (or was here for its key).
    Cached,
    /// It failed, or could not start.
    Failed,
    /// The run stopped it.
    Killed,
    /// Never started: the run stopped first.
    Skipped,
}

/// The outcome for one artifact and target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Packaged in this run.
    Built,
    /// Its output was already up to date.
    Fresh,
    /// Its build or packaging failed (or a failure elsewhere stopped it).
    Failed,
}

/// One artifact and target in the report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ArtifactReport {
    /// The artifact name.
    pub name: String,
    /// function or extension.
    pub kind: ArtifactKind,
    /// The workspace path as written in the manifest.
    pub workspace: String,
    /// The package that has the bin.
    pub package: String,
    /// The bin target.
    pub bin: String,
    /// The target triple.
    pub target: String,
    /// The architecture.
    pub arch: Arch,
    /// The cargo profile.
    pub profile: String,
    /// The build program.
    pub compiler: Compiler,
    /// binary or zip.
    pub output_format: OutputFormat,
    /// The main output file.
    pub output: String,
    /// Its size in bytes (absent when failed).
    pub size: Option<u64>,
    /// SHA-256 of the output, hex.
    pub sha256: Option<String>,
    /// SHA-256 of the output, base64 (Terraform's `source_code_hash`).
    pub sha256_base64: Option<String>,
    /// The zip's entries, in archive order (empty for binary outputs).
    pub entries: Vec<ZipEntryReport>,
    /// built, fresh or failed.
    pub status: Status,
    /// Seconds from the start of its group's build to its output being written.
    pub seconds: f64,
    /// Why it failed.
    pub error: Option<String>,
    /// The features cargo compiled the executable's package with, as its `compiler-artifact`
    /// message says (absent when failed). Each package is built with the features it gets
    /// alone: packages share a cargo call only when that changes none of them.
    pub features: Option<Vec<String>>,
    /// The rustc flags cargo gave every crate of the executable (`CARGO_ENCODED_RUSTFLAGS`,
    /// else `RUSTFLAGS`, else the cargo config's): the path remapping, the optimization flags
    /// and the user's.
    pub rustflags: Vec<String>,
    /// What the artifact cache did for the executable: `hit` (the cache has it: it came from
    /// there, or the one here was up to date and the cache holds it too), `stored` (built and
    /// stored), `miss` (built and not stored, or failed). Absent when the run had no cache.
    pub cache: Option<CacheStatus>,
    /// The executable's input key (absent when the run had no cache, or it could not be
    /// computed).
    pub key: Option<String>,
    /// The Lambda runtime it is built for (a function's `Runtime`, an extension's compatible
    /// runtime). Always written; absent only in reports from before `report_version` 1.
    #[serde(default)]
    pub runtime: Option<Runtime>,
    /// The function's handler: `bootstrap`, which the `provided` runtimes run. Absent for
    /// extensions: a layer has no handler (its executable's path is in `entries`).
    #[serde(default)]
    pub handler: Option<String>,
    /// Where `publish` put the zip (absent when the run did not publish it).
    #[serde(default)]
    pub published: Option<Published>,
    /// What `deploy` did with it (absent when the run did not deploy it, or only as a dry run).
    #[serde(default)]
    pub deployed: Option<Deployed>,
    /// The software bill of materials written beside the output (absent without the `sbom`
    /// setting, and for a failed output).
    #[serde(default)]
    pub sbom: Option<SbomFile>,
}

/// What `deploy` did with an output: the Lambda function (or, for an extension, the layer)
/// and its state afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Deployed {
    /// The Lambda function's name (functions).
    pub function: Option<String>,
    /// The layer's name (extensions).
    pub layer: Option<String>,
    /// `created`, `updated` or `unchanged` (functions); `published` or `unchanged` (layers);
    /// `failed`.
    pub action: String,
    /// Lambda's `CodeSha256` of what it runs now (the zip's base64 SHA-256).
    pub code_sha256: Option<String>,
    /// The function version published (`publish-version`), or the one the alias points at.
    pub version: Option<String>,
    /// The alias pointed at that version.
    pub alias: Option<String>,
    /// The layer version holding the extension's zip (extensions).
    pub layer_version_arn: Option<String>,
}

/// An SBOM file beside an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SbomFile {
    /// Its path: the output's, with `.cdx.json` appended.
    pub path: String,
    /// Its format.
    pub format: Sbom,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

impl ArtifactReport {
    /// Whether its output is a zip, the form Lambda deploys.
    pub fn is_zip(&self) -> bool {
        self.output_format == OutputFormat::Zip
    }
}

/// How outputs become zips, for the commands that need them (`publish`, `emit`) and are given
/// binaries.
pub const ZIP_HELP: &str = "set `output-format \"zip\"` for them in lambda.kdl";

/// Where a zip was published: its content-addressed object in S3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Published {
    /// `s3://BUCKET/KEY`.
    pub url: String,
    /// The bucket.
    pub bucket: String,
    /// The object key: `PREFIX/<name>/<arch>/<sha256 hex>.zip`.
    pub key: String,
    /// The object's version id, when the bucket is versioned (what `s3_object_version` wants).
    pub version_id: Option<String>,
    /// Whether this run uploaded it (`false`: the object was already there, with these very
    /// bytes since the key names them).
    pub uploaded: bool,
}

/// The handler of an artifact of `kind`: `bootstrap` for functions, none for extensions.
pub fn handler(kind: ArtifactKind) -> Option<String> {
    match kind {
        ArtifactKind::Function => Some("bootstrap".to_owned()),
        ArtifactKind::Extension => None,
    }
}

/// The report status of an outcome.
pub fn status(outcome: &ArtifactOutcome) -> Status {
    match outcome {
        ArtifactOutcome::Packaged { packaged, .. } if packaged.fresh => Status::Fresh,
        ArtifactOutcome::Packaged { .. } => Status::Built,
        ArtifactOutcome::Failed { .. } => Status::Failed,
    }
}

/// What the artifact cache did for an output, when the run had one (`with_cache`): a failed
/// output is a miss.
pub fn cache_status(outcome: &ArtifactOutcome, with_cache: bool) -> Option<CacheStatus> {
    if !with_cache {
        return None;
    }
    match outcome {
        ArtifactOutcome::Packaged { cache, .. } => *cache,
        ArtifactOutcome::Failed { .. } => Some(CacheStatus::Miss),
    }
}

/// The report of one run of `plan`, with its input keys `keys`.
pub fn build(plan: &Plan, keys: &Keys, outcome: &RunOutcome) -> Report {
    let artifacts = plan
        .artifacts
        .iter()
        .zip(&outcome.artifacts)
        .enumerate()
        .map(|(i, (a, o))| {
            let r = &a.resolved;
            let (size, sha256, sha256_base64, entries, seconds, error, features) = match o {
                ArtifactOutcome::Packaged {
                    packaged,
                    elapsed,
                    features,
                    ..
                } => (
                    Some(packaged.size),
                    Some(hex(&packaged.sha256)),
                    Some(base64::engine::general_purpose::STANDARD.encode(packaged.sha256)),
                    packaged.entries.clone(),
                    elapsed.as_secs_f64(),
                    None,
                    Some(features.clone()),
                ),
                ArtifactOutcome::Failed { error, elapsed, .. } => (
                    None,
                    None,
                    None,
                    Vec::new(),
                    elapsed.as_secs_f64(),
                    Some(error.clone()),
                    None,
                ),
            };
            let rustflags = plan
                .groups
                .get(a.group)
                .map(|g| rustflags(&g.env, r, &|k| std::env::var(k).ok()))
                .unwrap_or_default();
            ArtifactReport {
                name: r.identity.name.clone(),
                kind: r.identity.kind,
                workspace: r.identity.workspace.clone(),
                package: r.identity.package.clone(),
                bin: r.identity.bin.clone(),
                target: r.build.target.clone(),
                arch: r.build.arch,
                profile: r.build.profile.clone(),
                compiler: r.build.compiler,
                output_format: r.packaging.output_format,
                output: a.output.to_string(),
                size,
                sha256,
                sha256_base64,
                entries,
                status: status(o),
                seconds,
                error,
                features,
                rustflags,
                cache: cache_status(o, outcome.cache.is_some()),
                key: outcome
                    .cache
                    .as_ref()
                    .and(keys.digest(i).map(str::to_string)),
                runtime: Some(r.packaging.runtime),
                handler: handler(r.identity.kind),
                published: None,
                deployed: None,
                sbom: None,
            }
        })
        .collect();
    Report {
        report_version: REPORT_VERSION,
        lambda_batch_version: env!("CARGO_PKG_VERSION").to_owned(),
        manifest: plan.manifest.to_string(),
        success: outcome.success(),
        seconds: outcome.elapsed.as_secs_f64(),
        started_at: Some(humantime::format_rfc3339_millis(outcome.started_at).to_string()),
        artifacts,
        cargo_calls: cargo_calls(plan, outcome),
    }
}

/// Each cargo call of `plan` as `outcome` says it ran.
fn cargo_calls(plan: &Plan, outcome: &RunOutcome) -> Vec<CargoCall> {
    // Milliseconds are what the executor's clock is worth here.
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    plan.groups
        .iter()
        .zip(&outcome.groups)
        .map(|(g, o)| {
            let (status, error) = match &o.status {
                GroupStatus::Succeeded => (CallStatus::Succeeded, None),
                GroupStatus::Fresh => (CallStatus::Fresh, None),
                GroupStatus::Cached => (CallStatus::Cached, None),
                GroupStatus::Failed(why) => (CallStatus::Failed, Some(why.clone())),
                GroupStatus::Killed => (CallStatus::Killed, None),
                GroupStatus::Skipped => (CallStatus::Skipped, None),
            };
            CargoCall {
                lane: g.lane,
                workspace: g.workspace_root.to_string(),
                target: g.target.clone(),
                profile: g.profile.clone(),
                compiler: g.compiler,
                outputs: g.artifacts.clone(),
                status,
                error,
                command: o.command.clone(),
                queued: ms(o.queued),
                start: o.spawned.map(ms),
                end: ms(o.ended),
                cpu_seconds: o.cpu.map(ms),
            }
        })
        .collect()
}

/// The rustflags cargo gives the crates of a group whose environment (on top of the caller's,
/// `inherited`) is `env`: `CARGO_ENCODED_RUSTFLAGS`, else `RUSTFLAGS`, else the cargo config's.
pub fn rustflags(
    env: &std::collections::BTreeMap<String, String>,
    artifact: &crate::resolve::ResolvedArtifact,
    inherited: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let get = |k: &str| env.get(k).cloned().or_else(|| inherited(k));
    if let Some(encoded) = get("CARGO_ENCODED_RUSTFLAGS") {
        return encoded
            .split('\u{1f}')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
    }
    if let Some(flags) = get("RUSTFLAGS") {
        return flags.split_whitespace().map(str::to_string).collect();
    }
    artifact.cargo.config_rustflags.clone()
}

/// Writes `report` to `path` atomically (a temporary file beside it, then a rename), so a
/// reader never sees half a report.
pub fn write(path: &Utf8Path, report: &Report) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    text.push(b'\n');
    let mut file = AtomicFile::create(path)?;
    file.file().write_all(&text)?;
    file.sync()?;
    // A report is meant to be read by other tools and users.
    Ok(file.commit(0o644)?)
}

//! Build provenance: `run --provenance FILE` writes an in-toto Statement v1 whose predicate is
//! SLSA Provenance v1: every output of the run as a subject (its path relative to the manifest,
//! its SHA-256), the build's definition (this project's build type, the manifest and the
//! command line as external parameters; the checkout's commit, the manifest's and lock files'
//! digests and the toolchain's versions as resolved dependencies) and the run's details (the
//! builder, when it started and finished). A stage above `report`: [`statement`] is a pure
//! function of the report and what [`gather`] read; signing it is the CI's business
//! (docs/supply-chain.md).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::SystemTime;

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::fingerprint::hex;
use crate::plan::Plan;
use crate::report::{Report, Status};

/// The in-toto Statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The SLSA Provenance predicate type.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// What a `lambda-batch run` is as a build type: the meaning of its parameters is described
/// in docs/supply-chain.md.
pub const BUILD_TYPE: &str = "urn:lambda-batch:build-type:run:v1";
/// The builder outside CI (in GitHub Actions: the workflow that ran).
pub const LOCAL_BUILDER: &str = "urn:lambda-batch:builder:local";

/// What the statement says besides the report.
#[derive(Debug, Clone)]
pub struct Context {
    /// The manifest (absolute); subjects are named relative to its directory.
    pub manifest: Utf8PathBuf,
    /// The subcommand (`run`, `publish`).
    pub command: String,
    /// The command line after the program name, as given.
    pub arguments: Vec<String>,
    /// The resolved dependencies (ResourceDescriptors), from [`gather`].
    pub resolved: Vec<Value>,
    /// The builder's id.
    pub builder: String,
    /// The invocation's id, when the CI names it.
    pub invocation: Option<String>,
    /// When the run started.
    pub started: SystemTime,
    /// When it finished.
    pub finished: SystemTime,
}

/// The statement, as JSON.
pub fn statement(report: &Report, cx: &Context) -> Value {
    let dir = cx.manifest.parent().unwrap_or(Utf8Path::new(""));
    let subjects: Vec<Value> = report
        .artifacts
        .iter()
        .filter(|a| a.status != Status::Failed)
        .filter_map(|a| {
            let sha = a.sha256.as_deref()?;
            let path = Utf8Path::new(&a.output);
            let name = path.strip_prefix(dir).unwrap_or(path);
            Some(json!({ "name": name.as_str(), "digest": { "sha256": sha } }))
        })
        .collect();
    let manifest_name = cx.manifest.file_name().unwrap_or("lambda.kdl");
    let mut metadata = json!({
        "startedOn": rfc3339(cx.started),
        "finishedOn": rfc3339(cx.finished),
    });
    if let Some(id) = &cx.invocation {
        metadata["invocationId"] = json!(id);
    }
    json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "manifest": manifest_name,
                    "command": cx.command,
                    "arguments": cx.arguments,
                },
                "internalParameters": {
                    "reportVersion": report.report_version,
                },
                "resolvedDependencies": cx.resolved,
            },
            "runDetails": {
                "builder": {
                    "id": cx.builder,
                    "version": { "lambda-batch": env!("CARGO_PKG_VERSION") },
                },
                "metadata": metadata,
            },
        },
    })
}

/// The statement, pretty-printed, with a final newline.
pub fn render(report: &Report, cx: &Context) -> String {
    let mut text = serde_json::to_string_pretty(&statement(report, cx))
        .expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// Writes `text` to `path` atomically.
pub fn write(path: &Utf8Path, text: &str) -> Result<(), crate::atomic::Error> {
    crate::atomic::write(path, text.as_bytes(), 0o644)
}

/// What the build resolved, read from the machine: the git commit of the checkout holding the
/// manifest (when it is one), the digests of the manifest and of each workspace's Cargo.lock,
/// and the versions of the tools that built `plan`'s artifacts.
pub fn gather(plan: &Plan, manifest: &Utf8Path) -> Vec<Value> {
    let dir = manifest.parent().unwrap_or(Utf8Path::new("."));
    let mut out = Vec::new();
    if let Some(git) = git(dir) {
        out.push(git);
    }
    let mut files: BTreeSet<Utf8PathBuf> = BTreeSet::new();
    files.insert(manifest.to_path_buf());
    for a in &plan.artifacts {
        files.insert(a.resolved.identity.workspace_root.join("Cargo.lock"));
    }
    for file in files {
        if let Ok(bytes) = std::fs::read(&file) {
            let name = file.strip_prefix(dir).unwrap_or(&file);
            out.push(json!({
                "name": name.as_str(),
                "digest": { "sha256": hex(&Sha256::digest(&bytes)) },
            }));
        }
    }
    let mut tools: BTreeMap<(String, String), Value> = BTreeMap::new();
    for versions in crate::cache::tool_versions(plan).into_iter().flatten() {
        for (name, version) in versions {
            let t = tool(&name, &version);
            tools.insert((name, t["uri"].as_str().unwrap_or("").to_string()), t);
        }
    }
    out.extend(tools.into_values());
    out
}

/// A tool as a resource: `pkg:generic/NAME@VERSION`, with rustc's commit as its digest and the
/// whole version line as an annotation.
fn tool(name: &str, version: &str) -> Value {
    let first = version.lines().next().unwrap_or("").trim();
    let field = |key: &str| {
        version
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    // `rustc 1.92.0 (…)`, `cargo 1.92.0 (…)`, `cargo-zigbuild 0.20.1`, `0.15.1` (zig),
    // `ldd (Debian GLIBC 2.36-9) 2.36`: the first number outside parentheses.
    let mut depth = 0usize;
    let outside: String = first
        .chars()
        .filter(|&c| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => return depth == 0,
            }
            false
        })
        .collect();
    let number = field("release:").unwrap_or_else(|| {
        outside
            .split_whitespace()
            .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or("unknown")
            .to_string()
    });
    let mut t = json!({
        "name": name,
        "uri": format!("pkg:generic/{name}@{}", number.replace('+', "%2B")),
        "annotations": { "version": first },
    });
    if let Some(commit) = field("commit-hash:").filter(|c| c.len() == 40) {
        t["digest"] = json!({ "gitCommit": commit });
    }
    t
}

/// The checkout holding `dir`: its origin (without credentials) or its path, and its commit;
/// annotated `dirty` when tracked files differ from it.
fn git(dir: &Utf8Path) -> Option<Value> {
    let run = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let commit = run(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty())?;
    let uri = match run(&["remote", "get-url", "origin"]).filter(|u| !u.is_empty()) {
        Some(url) => format!("git+{}", without_credentials(&url)),
        None => format!("git+file://{}", run(&["rev-parse", "--show-toplevel"])?),
    };
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let digest_key = if commit.len() == 64 {
        "sha256"
    } else {
        "gitCommit"
    };
    Some(json!({
        "uri": uri,
        "digest": { digest_key: commit },
        "annotations": { "dirty": dirty },
    }))
}

/// A URL without its user and password (`https://user:token@host/…` → `https://host/…`).
fn without_credentials(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some((_, host)) = authority.rsplit_once('@') {
            return format!("{scheme}://{host}/{path}");
        }
    }
    url.to_string()
}

/// The builder and the invocation: in GitHub Actions the workflow file at its ref, and the run
/// (with its attempt); elsewhere [`LOCAL_BUILDER`].
pub fn builder(env: &dyn Fn(&str) -> Option<String>) -> (String, Option<String>) {
    let server = env("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
    match (env("GITHUB_ACTIONS").as_deref(), env("GITHUB_WORKFLOW_REF")) {
        (Some("true"), Some(workflow)) => {
            let invocation = match (env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID")) {
                (Some(repo), Some(run)) => Some(format!(
                    "{server}/{repo}/actions/runs/{run}/attempts/{}",
                    env("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into())
                )),
                _ => None,
            };
            (format!("{server}/{workflow}"), invocation)
        }
        _ => (LOCAL_BUILDER.to_string(), None),
    }
}

/// RFC 3339, UTC, seconds.
fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_resources_with_their_versions() {
        let rustc = tool(
            "rustc",
            "rustc 1.92.0 (ded5c06cf 2025-12-08)\nbinary: rustc\ncommit-hash: ded5c06cf21d2b93bffd5d884aa6e96934ee4234\nrelease: 1.92.0\n",
        );
        assert_eq!(rustc["uri"], "pkg:generic/rustc@1.92.0");
        assert_eq!(
            rustc["digest"]["gitCommit"],
            "ded5c06cf21d2b93bffd5d884aa6e96934ee4234"
        );
        assert_eq!(
            rustc["annotations"]["version"],
            "rustc 1.92.0 (ded5c06cf 2025-12-08)"
        );
        assert_eq!(tool("zig", "0.15.1")["uri"], "pkg:generic/zig@0.15.1");
        assert_eq!(
            tool("libc", "ldd (Debian GLIBC 2.36-9+deb12u14) 2.36")["uri"],
            "pkg:generic/libc@2.36"
        );
        assert_eq!(
            tool("cargo", "cargo 1.92.0 (344c4567c 2025-10-21)")["uri"],
            "pkg:generic/cargo@1.92.0"
        );
    }

    #[test]
    fn credentials_never_reach_the_statement() {
        assert_eq!(
            without_credentials("https://x-access-token:ghs_secret@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            without_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
    }

    #[test]
    fn the_builder_is_the_workflow_in_github_actions() {
        let vars: BTreeMap<&str, &str> = [
            ("GITHUB_ACTIONS", "true"),
            (
                "GITHUB_WORKFLOW_REF",
                "o/r/.github/workflows/build.yml@refs/heads/main",
            ),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_RUN_ID", "42"),
        ]
        .into();
        let (id, invocation) = builder(&|k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(
            id,
            "https://github.com/o/r/.github/workflows/build.yml@refs/heads/main"
        );
        assert_eq!(
            invocation.as_deref(),
            Some("https://github.com/o/r/actions/runs/42/attempts/1")
        );
        assert_eq!(builder(&|_| None), (LOCAL_BUILDER.to_string(), None));
    }
}

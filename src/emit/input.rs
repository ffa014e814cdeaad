//! The report `emit` reads, checked: its version, that it is whole, that every output was
//! built as a zip, and that each local zip is still the one the report describes.

use camino::{Utf8Path, Utf8PathBuf};

use crate::fingerprint::{hex, sha256_reader};
use crate::manifest::settings::Runtime;
use crate::manifest::values::{Arch, ArtifactKind};
use crate::report::run_report::ZIP_HELP;
use crate::report::{REPORT_VERSION, Report, Status};

/// Why `emit` cannot use its input: a message and a help line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EmitError {
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

fn error(message: impl Into<String>, help: impl Into<String>) -> EmitError {
    EmitError {
        message: message.into(),
        help: help.into(),
    }
}

/// One output, as every format needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The artifact name.
    pub name: String,
    /// Function or extension.
    pub kind: ArtifactKind,
    /// The architecture.
    pub arch: Arch,
    /// The runtime.
    pub runtime: Runtime,
    /// `bootstrap` for functions, none for extensions.
    pub handler: Option<String>,
    /// SHA-256 of the zip, base64 (Terraform's `source_code_hash`, Lambda's `CodeSha256`).
    pub sha256_base64: String,
    /// Where the zip is.
    pub code: Code,
}

/// Where an artifact's zip is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// Published: the S3 object.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The object's version, in a versioned bucket.
        version: Option<String>,
    },
    /// Not published: the local zip, relative to the directory of the file written.
    Local(String),
}

/// Reads the report at `path`: whole, of the version this lambda-batch reads.
pub fn read_report(path: &Utf8Path) -> Result<Report, EmitError> {
    let again = "write it again with `lambda-batch run --report FILE` (or `publish --report FILE`)";
    let bytes = std::fs::read(path)
        .map_err(|e| error(format!("cannot read the report `{path}`: {e}"), again))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_eof() {
            error(
                format!(
                    "the report `{path}` ends early, at line {} column {}: it is truncated",
                    e.line(),
                    e.column()
                ),
                again,
            )
        } else {
            error(format!("the report `{path}` is not JSON: {e}"), again)
        }
    })?;
    let Some(object) = value.as_object() else {
        return Err(error(
            format!("`{path}` is not a lambda-batch report (not a JSON object)"),
            again,
        ));
    };
    match object.get("report_version").map(|v| v.as_u64()) {
        None if object.contains_key("artifacts") => {
            return Err(error(
                format!(
                    "the report `{path}` was written by an older lambda-batch (it has no \
                     `report_version`; this one reads version {REPORT_VERSION})"
                ),
                again,
            ));
        }
        None => {
            return Err(error(
                format!("`{path}` is not a lambda-batch report (it has no `report_version`)"),
                again,
            ));
        }
        Some(Some(v)) if v == u64::from(REPORT_VERSION) => {}
        Some(v) => {
            let by = object
                .get("lambda_batch_version")
                .and_then(|v| v.as_str())
                .map(|v| format!(" (written by lambda-batch {v})"))
                .unwrap_or_default();
            let v = v.map_or_else(|| "not a number".to_owned(), |v| v.to_string());
            return Err(error(
                format!(
                    "the report `{path}` has report_version {v}{by}; this lambda-batch ({}) reads version {REPORT_VERSION}",
                    env!("CARGO_PKG_VERSION")
                ),
                "emit with the lambda-batch that wrote the report, or write it again with this one",
            ));
        }
    }
    serde_json::from_value(value).map_err(|e| {
        error(
            format!("the report `{path}` is not one lambda-batch wrote: {e}"),
            again,
        )
    })
}

/// Every output of `report`, with its zip checked when it is local (named relative to
/// `base`). Fails on an empty report, a failed or binary output, a missing zip or one whose
/// size or SHA-256 differs from the report's.
pub fn artifacts(report: &Report, base: &Utf8Path) -> Result<Vec<Artifact>, EmitError> {
    if report.artifacts.is_empty() {
        return Err(error(
            "the report lists no artifact",
            "emit from the report of a run that built something",
        ));
    }
    let names = |pred: &dyn Fn(&crate::report::ArtifactReport) -> bool| -> String {
        report
            .artifacts
            .iter()
            .filter(|a| pred(a))
            .map(|a| format!("{} ({})", a.name, a.arch.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let failed = names(&|a| a.status == Status::Failed);
    if !failed.is_empty() {
        return Err(error(
            format!("the report's run did not build every output: {failed} failed"),
            "deploy tools need every zip: fix the build and run it again",
        ));
    }
    let binaries = names(&|a| !a.is_zip());
    if !binaries.is_empty() {
        return Err(error(
            format!("Lambda deploys zips, and these outputs are binaries: {binaries}"),
            format!("{ZIP_HELP}, or run them separately (`--only`)"),
        ));
    }
    let mut out = Vec::with_capacity(report.artifacts.len());
    for a in &report.artifacts {
        let label = format!("{} ({})", a.name, a.arch.as_str());
        let (Some(size), Some(sha256), Some(sha256_base64), Some(runtime)) = (
            a.size,
            a.sha256.as_ref(),
            a.sha256_base64.as_ref(),
            a.runtime,
        ) else {
            return Err(error(
                format!("the report has no size, hashes or runtime for {label}"),
                "write the report again with `lambda-batch run --report FILE`",
            ));
        };
        let code = match &a.published {
            Some(p) => Code::S3 {
                bucket: p.bucket.clone(),
                key: p.key.clone(),
                version: p.version_id.clone(),
            },
            None => {
                let zip = Utf8PathBuf::from(&a.output);
                check_zip(&zip, size, sha256, &label)?;
                Code::Local(crate::manifest::relative(base, &zip).to_string())
            }
        };
        out.push(Artifact {
            name: a.name.clone(),
            kind: a.kind,
            arch: a.arch,
            runtime,
            handler: a.handler.clone(),
            sha256_base64: sha256_base64.clone(),
            code,
        });
    }
    Ok(out)
}

/// `Err` unless `zip` has `size` bytes and the SHA-256 `sha256`.
fn check_zip(zip: &Utf8Path, size: u64, sha256: &str, label: &str) -> Result<(), EmitError> {
    let rebuild = "run the build again to write a report that matches the zips";
    let file = std::fs::File::open(zip).map_err(|e| {
        error(
            format!("the zip of {label}, `{zip}`, cannot be read: {e}"),
            rebuild,
        )
    })?;
    let (digest, len) = sha256_reader(file).map_err(|e| {
        error(
            format!("the zip of {label}, `{zip}`, cannot be read: {e}"),
            rebuild,
        )
    })?;
    let digest = hex(&digest);
    if len != size || digest != sha256 {
        return Err(error(
            format!(
                "the zip of {label}, `{zip}`, is not the one the report describes ({len} bytes, \
                 SHA-256 {digest}; the report says {size} bytes, {sha256}): it was rebuilt or \
                 changed after the report was written"
            ),
            rebuild,
        ));
    }
    Ok(())
}

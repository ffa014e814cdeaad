//! What `deploy` does for each output of a run: the function or layer it names, and where its
//! zip is, read from the plan (the deploy settings) and the report (the zip).

use camino::Utf8PathBuf;

use super::DIRECT_UPLOAD_LIMIT;
use crate::manifest::settings::Runtime;
use crate::manifest::values::{Arch, ArtifactKind};
use crate::plan::Plan;
use crate::report::{Report, Status};
use crate::resolve::DeploySettings;

/// The deploy settings of an output.
pub type Settings = DeploySettings;

/// A function or a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A Lambda function (a `function` of the manifest).
    Function,
    /// A Lambda layer (an `extension`).
    Layer,
}

/// Where one output's zip comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// Its object in S3 (`publish`).
    S3 {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The object's version, in a versioned bucket.
        version: Option<String>,
    },
    /// The local zip, sent in the request.
    Zip(Utf8PathBuf),
}

/// One output to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The index of its artifact in the report (and the plan).
    pub index: usize,
    /// The manifest's artifact name.
    pub artifact: String,
    /// Function or layer.
    pub kind: TargetKind,
    /// The architecture.
    pub arch: Arch,
    /// The runtime (a layer's compatible runtime).
    pub runtime: Runtime,
    /// The handler (functions).
    pub handler: String,
    /// The zip's base64 SHA-256: Lambda's `CodeSha256`.
    pub code_sha256: String,
    /// The zip's size in bytes.
    pub size: u64,
    /// Where its bytes come from.
    pub code: Code,
    /// The deploy settings, names expanded.
    pub settings: Settings,
}

/// The outputs of `report` that deploy: one target per built (or fresh) zip, in report order;
/// the settings come from `plan`, whose artifacts are the report's. A binary output or a failed
/// one deploys nothing.
pub fn targets(plan: &Plan, report: &Report) -> Vec<Target> {
    report
        .artifacts
        .iter()
        .zip(&plan.artifacts)
        .enumerate()
        .filter_map(|(index, (a, p))| {
            if a.status == Status::Failed || !a.is_zip() {
                return None;
            }
            let code = match &a.published {
                Some(p) => Code::S3 {
                    bucket: p.bucket.clone(),
                    key: p.key.clone(),
                    version: p.version_id.clone(),
                },
                None => Code::Zip(Utf8PathBuf::from(&a.output)),
            };
            Some(Target {
                index,
                artifact: a.name.clone(),
                kind: match a.kind {
                    ArtifactKind::Function => TargetKind::Function,
                    ArtifactKind::Extension => TargetKind::Layer,
                },
                arch: a.arch,
                runtime: a.runtime.unwrap_or(p.resolved.packaging.runtime),
                handler: a.handler.clone().unwrap_or_else(|| "bootstrap".to_owned()),
                code_sha256: a.sha256_base64.clone()?,
                size: a.size?,
                code,
                settings: p.resolved.deploy.clone(),
            })
        })
        .collect()
}

/// Zips Lambda cannot take in the request because no S3 object stands for them: each as
/// `name (arch): size`.
pub fn direct_upload_limit(targets: &[Target]) -> Vec<String> {
    targets
        .iter()
        .filter(|t| matches!(t.code, Code::Zip(_)) && t.size > DIRECT_UPLOAD_LIMIT)
        .map(|t| {
            format!(
                "{} ({}): {:.1} MiB",
                t.artifact,
                t.arch.as_str(),
                t.size as f64 / 1024.0 / 1024.0
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, size: u64, code: Code) -> Target {
        Target {
            index: 0,
            artifact: name.to_owned(),
            kind: TargetKind::Function,
            arch: Arch::Arm64,
            runtime: Runtime::Al2023,
            handler: "bootstrap".to_owned(),
            code_sha256: String::new(),
            size,
            code,
            settings: Settings::default(),
        }
    }

    #[test]
    fn only_a_zip_over_the_limit_sent_in_the_request_is_named() {
        let zip = || Code::Zip(Utf8PathBuf::from("big.zip"));
        let s3 = || Code::S3 {
            bucket: "b".to_owned(),
            key: "k".to_owned(),
            version: None,
        };
        let targets = [
            target("at-limit", DIRECT_UPLOAD_LIMIT, zip()),
            target("over", DIRECT_UPLOAD_LIMIT + 1, zip()),
            target("published", 3 * DIRECT_UPLOAD_LIMIT, s3()),
        ];
        assert_eq!(
            direct_upload_limit(&targets),
            vec!["over (arm64): 50.0 MiB".to_owned()]
        );
    }
}

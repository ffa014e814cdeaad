//! `emit terraform`: a `*.auto.tfvars.json` that sets one variable, `lambda_artifacts`, a map
//! by artifact name then architecture. Every entry has the same attributes (`null` where one
//! does not apply), so that it fits one `map(map(object({...})))` type, the declaration
//! docs/deploy.md gives.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::input::{Artifact, Code};
use crate::manifest::values::ArtifactKind;

/// The variable's JSON text.
pub(super) fn render(artifacts: &[Artifact]) -> String {
    let mut by_name: BTreeMap<&str, BTreeMap<&str, Value>> = BTreeMap::new();
    for a in artifacts {
        by_name
            .entry(&a.name)
            .or_default()
            .insert(a.arch.as_str(), entry(a));
    }
    let document = json!({ "lambda_artifacts": by_name });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// One artifact and architecture: what `aws_lambda_function` (or, for an extension,
/// `aws_lambda_layer_version`) takes.
fn entry(a: &Artifact) -> Value {
    let arch = [a.arch.as_str()];
    let runtime = a.runtime.as_str();
    let extension = a.kind == ArtifactKind::Extension;
    let (s3_bucket, s3_key, s3_object_version, filename) = match &a.code {
        Code::S3 {
            bucket,
            key,
            version,
        } => (Some(bucket), Some(key), version.as_ref(), None),
        Code::Local(path) => (None, None, None, Some(path)),
    };
    json!({
        "kind": a.kind.as_str(),
        "source_code_hash": a.sha256_base64,
        "architectures": arch,
        "runtime": runtime,
        "handler": a.handler,
        "compatible_architectures": extension.then_some(arch),
        "compatible_runtimes": extension.then_some([runtime]),
        "s3_bucket": s3_bucket,
        "s3_key": s3_key,
        "s3_object_version": s3_object_version,
        "filename": filename,
    })
}

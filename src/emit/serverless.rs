//! `emit serverless`: the `functions:` of a Serverless Framework service whose functions are
//! packaged individually, each with its own `package.artifact`, and `layers:` for the
//! extensions.

use super::input::{Artifact, Code};
use super::names::serverless_keys;
use super::yaml::{Node, document, map, s};
use crate::manifest::values::ArtifactKind;

/// The fragment's text.
pub(super) fn render(artifacts: &[Artifact]) -> String {
    let items: Vec<(&str, _)> = artifacts
        .iter()
        .map(|a| (a.name.as_str(), a.arch))
        .collect();
    let keys = serverless_keys(&items);
    let mut functions = Vec::new();
    let mut layers = Vec::new();
    for (a, key) in artifacts.iter().zip(keys) {
        let package = map([("artifact", artifact(&a.code))]);
        match a.kind {
            ArtifactKind::Function => {
                let mut function = Vec::new();
                if let Some(handler) = &a.handler {
                    function.push(("handler", s(handler)));
                }
                function.extend([
                    ("runtime", s(a.runtime.as_str())),
                    ("architecture", s(a.arch.as_str())),
                    ("package", package),
                ]);
                functions.push((key, map(function)));
            }
            ArtifactKind::Extension => layers.push((
                key,
                map([
                    ("package", package),
                    (
                        "compatibleRuntimes",
                        Node::List(vec![s(a.runtime.as_str())]),
                    ),
                    (
                        "compatibleArchitectures",
                        Node::List(vec![s(a.arch.as_str())]),
                    ),
                ]),
            )),
        }
    }
    let mut sections = vec![("functions", map(functions))];
    if !layers.is_empty() {
        sections.push(("layers", map(layers)));
    }
    document(
        &[
            "Written by `lambda-batch emit serverless` from a run's report: write it again rather than editing it.",
            "In serverless.yml: `functions: ${file(./THIS_FILE):functions}` (and `layers:` likewise), with `package: individually: true`.",
        ],
        &map(sections),
    )
}

/// `package.artifact`: `s3://BUCKET/KEY` (Serverless fetches it), or the zip's path relative to
/// this file.
fn artifact(code: &Code) -> Node {
    match code {
        Code::S3 { bucket, key, .. } => s(format!("s3://{bucket}/{key}")),
        Code::Local(path) => s(path),
    }
}

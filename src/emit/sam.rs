//! `emit sam`: an AWS SAM template. One `AWS::Serverless::Function` per function and
//! architecture, one `AWS::Serverless::LayerVersion` per extension and architecture, their
//! code the published S3 object or the local zip (which `sam deploy` uploads), and an output
//! with each one's ARN.

use super::input::{Artifact, Code};
use super::names::logical_ids;
use super::yaml::{Node, document, map, s};
use crate::manifest::values::ArtifactKind;

/// The template's text.
pub(super) fn render(artifacts: &[Artifact]) -> String {
    let items: Vec<(&str, _)> = artifacts
        .iter()
        .map(|a| (a.name.as_str(), a.arch))
        .collect();
    let ids = logical_ids(&items);
    let mut resources = Vec::new();
    let mut outputs = Vec::new();
    for (a, id) in artifacts.iter().zip(&ids) {
        let arch = Node::List(vec![s(a.arch.as_str())]);
        let runtime = s(a.runtime.as_str());
        let label = format!("{} ({})", a.name, a.arch.as_str());
        let (kind, properties, arn) = match a.kind {
            ArtifactKind::Function => {
                let mut properties = vec![("CodeUri", code(&a.code))];
                if let Some(handler) = &a.handler {
                    properties.push(("Handler", s(handler)));
                }
                properties.extend([("Runtime", runtime), ("Architectures", arch)]);
                (
                    "AWS::Serverless::Function",
                    properties,
                    map([("Fn::GetAtt", Node::List(vec![s(id), s("Arn")]))]),
                )
            }
            ArtifactKind::Extension => (
                "AWS::Serverless::LayerVersion",
                vec![
                    ("ContentUri", code(&a.code)),
                    ("CompatibleRuntimes", Node::List(vec![runtime])),
                    ("CompatibleArchitectures", arch),
                ],
                // A SAM layer's `Ref` is the ARN of its version.
                map([("Ref", s(id))]),
            ),
        };
        resources.push((
            id.clone(),
            map([("Type", s(kind)), ("Properties", map(properties))]),
        ));
        outputs.push((
            format!("{id}Arn"),
            map([
                ("Description", s(format!("The ARN of {label}"))),
                ("Value", arn),
            ]),
        ));
    }
    let template = map([
        ("AWSTemplateFormatVersion", s("2010-09-09")),
        ("Transform", s("AWS::Serverless-2016-10-31")),
        (
            "Description",
            s("Lambda functions and extensions built by lambda-batch"),
        ),
        ("Resources", map(resources)),
        ("Outputs", map(outputs)),
    ]);
    document(
        &[
            "Written by `lambda-batch emit sam` from a run's report: write it again rather than editing it.",
        ],
        &template,
    )
}

/// `CodeUri`/`ContentUri`: the S3 object, or the zip's path relative to the template.
fn code(code: &Code) -> Node {
    match code {
        Code::S3 {
            bucket,
            key,
            version,
        } => {
            let mut location = vec![("Bucket", s(bucket)), ("Key", s(key))];
            if let Some(version) = version {
                location.push(("Version", s(version)));
            }
            map(location)
        }
        Code::Local(path) => s(path),
    }
}

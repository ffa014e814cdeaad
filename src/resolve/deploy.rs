//! Where `deploy` puts an artifact on Lambda: its deploy settings merged, the function or
//! layer name's placeholders expanded for one target.

use std::collections::BTreeSet;

use crate::diagnostic::{ErrorCode, ManifestError, suggest};
use crate::manifest::values::{Arch, ArtifactKind};
use crate::manifest::{Layer, Merged};

/// The deploy settings of one artifact and target, final.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploySettings {
    /// The Lambda function's name (a function's `function-name`) or the layer's (an
    /// extension's `layer-name`), placeholders expanded.
    pub name: String,
    /// `role`: the execution role a missing function is created with (none: it is not created).
    pub role: Option<String>,
    /// `alias`: the alias pointed at the version published.
    pub alias: Option<String>,
    /// `publish-version`: publish a version after changing the function.
    pub publish_version: bool,
    /// `layers`: the extensions of the manifest whose layers the function gets, in order.
    pub layers: Vec<String>,
}

impl DeploySettings {
    /// The deploy settings merged for artifact `name` of `kind` and its target of `arch`
    /// (`several_archs`: the artifact is built for more than one).
    pub(super) fn settled(
        merged: &Merged<'_>,
        kind: ArtifactKind,
        name: &str,
        arch: Arch,
        several_archs: bool,
    ) -> DeploySettings {
        let template = match kind {
            ArtifactKind::Function => merged.function_name.set,
            ArtifactKind::Extension => merged.layer_name.set,
        };
        DeploySettings {
            name: deploy_name(
                template.map(|t| t.value.as_str()),
                name,
                arch,
                several_archs,
            ),
            role: merged.role.value(),
            alias: merged.alias.value(),
            publish_version: merged.publish_version.value(),
            layers: merged.layers.items().map(|l| l.value.clone()).collect(),
        }
    }
}

/// The function or layer name of artifact `name` of `kind` for `arch`: `template` expanded,
/// else the artifact's name, or `{name}-{arch}` when the artifact is built for several
/// architectures (`several_archs`), so that each gets a function of its own.
pub fn deploy_name(template: Option<&str>, name: &str, arch: Arch, several_archs: bool) -> String {
    let template = match template {
        Some(t) => t,
        None if several_archs => "{name}-{arch}",
        None => "{name}",
    };
    template
        .replace("{name}", name)
        .replace("{arch}", arch.as_str())
}

/// Each name in the `layers` of `layers` (one artifact's levels) that is no extension of the
/// manifest (`extensions`), once per place it is written (`reported`).
pub(super) fn unknown_layers(
    layers: &[&Layer],
    extensions: &BTreeSet<&str>,
    reported: &mut BTreeSet<(usize, usize)>,
) -> Vec<ManifestError> {
    let known: Vec<&str> = extensions.iter().copied().collect();
    Merged::of(layers)
        .layers
        .items()
        .filter(|name| !extensions.contains(name.value.as_str()))
        .filter(|name| reported.insert((name.span.offset(), name.span.len())))
        .map(|name| {
            ManifestError::new(
                ErrorCode::UnknownExtension,
                format!("`layers` names `{}`, which is no extension of this manifest", name.value),
                name.span,
                "not an extension",
            )
            .with_help(if known.is_empty() {
                "`layers` names extensions declared in lambda.kdl (`extension \"NAME\"`), whose layers `deploy` publishes".to_owned()
            } else {
                suggest(&name.value, "extensions", &known)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_default_to_the_artifact_with_the_arch_only_when_several() {
        assert_eq!(deploy_name(None, "api", Arch::Arm64, false), "api");
        assert_eq!(deploy_name(None, "api", Arch::Arm64, true), "api-arm64");
        assert_eq!(
            deploy_name(Some("prod-{name}-{arch}"), "api", Arch::X86_64, false),
            "prod-api-x86_64"
        );
        assert_eq!(
            deploy_name(Some("fixed"), "api", Arch::X86_64, true),
            "fixed"
        );
    }
}

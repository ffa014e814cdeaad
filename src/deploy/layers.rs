//! A function's layer list after deploy: the layers it names at their newest versions, every
//! other layer it has kept where it is.

/// The layer of a layer version ARN (`arn:…:layer:NAME:VERSION` → `arn:…:layer:NAME`).
pub(super) fn layer_of(version_arn: &str) -> &str {
    match version_arn.rsplit_once(':') {
        Some((layer, version)) if version.chars().all(|c| c.is_ascii_digit()) => layer,
        _ => version_arn,
    }
}

/// `current` with each version of a layer in `wanted` replaced, in place, by the wanted
/// version, and the wanted layers it did not have appended in their order. Every other layer
/// stays, in its place.
pub fn merge_layers(current: &[String], wanted: &[String]) -> Vec<String> {
    let mut out: Vec<String> = current
        .iter()
        .map(|arn| {
            wanted
                .iter()
                .find(|w| layer_of(w) == layer_of(arn))
                .unwrap_or(arn)
                .clone()
        })
        .collect();
    for w in wanted {
        if !out.iter().any(|arn| layer_of(arn) == layer_of(w)) {
            out.push(w.clone());
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(name: &str, version: u32) -> String {
        format!("arn:aws:lambda:us-east-1:123456789012:layer:{name}:{version}")
    }

    #[test]
    fn a_newer_version_replaces_the_old_in_place_and_others_stay() {
        let current = vec![arn("vendor", 3), arn("telemetry", 1), arn("other", 9)];
        let merged = merge_layers(&current, &[arn("telemetry", 2), arn("cache", 1)]);
        assert_eq!(
            merged,
            vec![
                arn("vendor", 3),
                arn("telemetry", 2),
                arn("other", 9),
                arn("cache", 1)
            ]
        );
    }

    #[test]
    fn nothing_changes_when_the_versions_are_there() {
        let current = vec![arn("telemetry", 2), arn("vendor", 3)];
        assert_eq!(merge_layers(&current, &[arn("telemetry", 2)]), current);
        assert_eq!(merge_layers(&[], &[]), Vec::<String>::new());
    }

    #[test]
    fn a_layer_is_told_apart_by_name_not_prefix() {
        assert_eq!(
            layer_of(&arn("tele", 1)),
            "arn:aws:lambda:us-east-1:123456789012:layer:tele"
        );
        let merged = merge_layers(&[arn("tele", 1)], &[arn("telemetry", 4)]);
        assert_eq!(merged, vec![arn("tele", 1), arn("telemetry", 4)]);
    }
}

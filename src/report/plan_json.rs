//! The plan as `plan --format json` prints it (`schema/plan.schema.json`): the plan joined,
//! artifact by artifact, with the input keys the cache stage computed beside it. Neither is
//! changed; this only reads both.

use camino::Utf8Path;
use schemars::JsonSchema;
use serde::Serialize;

use crate::cache::{KeyInput, Keys};
use crate::plan::{Group, Plan, PlannedArtifact};

/// Everything a run will do, computed before it starts.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Plan")]
pub struct PlanJson<'a> {
    /// The manifest file.
    #[schemars(with = "String")]
    manifest: &'a Utf8Path,
    /// The cargo invocations, in the order they start within their lane.
    groups: &'a [Group],
    /// One packaging job per (artifact, target).
    artifacts: Vec<ArtifactJson<'a>>,
}

/// One artifact for one target: what to package once its executable exists.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "PlannedArtifact")]
struct ArtifactJson<'a> {
    #[serde(flatten)]
    planned: &'a PlannedArtifact,
    /// Its input key for the shared artifact cache: a digest of everything that can change
    /// its executable (filled in by the cache stage for `plan` and for `run` with a cache;
    /// absent otherwise, or when it could not be computed).
    key: Option<&'a str>,
    /// Why there is no key, when it was asked for and could not be computed: the artifact is
    /// then built as without a cache, and never stored.
    key_error: Option<&'a str>,
    /// What went into the key, each input with the digest of its value (`plan -v`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    key_inputs: &'a [KeyInput],
}

impl<'a> PlanJson<'a> {
    /// `plan` with `keys` (empty: none computed); with `inputs`, what went into each key.
    pub fn new(plan: &'a Plan, keys: &'a Keys, inputs: bool) -> PlanJson<'a> {
        let artifacts = plan
            .artifacts
            .iter()
            .enumerate()
            .map(|(i, planned)| ArtifactJson {
                planned,
                key: keys.digest(i),
                key_error: keys.error(i).map(|e| e.0.as_str()),
                key_inputs: match keys.key(i) {
                    Some(key) if inputs => &key.inputs,
                    _ => &[],
                },
            })
            .collect();
        PlanJson {
            manifest: &plan.manifest,
            groups: &plan.groups,
            artifacts,
        }
    }

    /// The JSON text, pretty-printed, with a final newline.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n",
            serde_json::to_string_pretty(self).unwrap_or_default()
        )
    }
}

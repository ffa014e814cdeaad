//! The schemas in `schema/`, generated from the code's own types and tables.

pub mod kdl;

use schemars::JsonSchema;

/// JSON Schema of `plan --format json`.
pub fn plan_json() -> String {
    pretty::<crate::report::plan_json::PlanJson<'static>>()
}

/// JSON Schema of `run --report FILE`.
pub fn report_json() -> String {
    pretty::<crate::report::Report>()
}

/// JSON Schema of the manifest's data model (`schema --format json`).
pub fn manifest_json() -> String {
    let mut v = serde_json::to_value(schemars::schema_for!(kdl::ManifestModel)).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("description".into(), "The data model of lambda.kdl (KDL 1.0): the nodes and settings of SPEC §1. The KDL Schema in lambda.kdl-schema describes the same in KDL terms.".into());
    }
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn pretty<T: JsonSchema>() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(T)).unwrap_or_default() + "\n"
}

/// The files of `schema/`, by name, as they should be.
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        ("lambda.kdl-schema", kdl::kdl_schema()),
        ("lambda.schema.json", manifest_json()),
        ("plan.schema.json", plan_json()),
        ("report.schema.json", report_json()),
    ]
}

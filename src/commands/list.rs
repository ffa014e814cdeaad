//! `lambda-batch list`: one row per artifact and target.

use camino::Utf8Path;
use serde::Serialize;

use super::Error;
use crate::cli::{Format, ShardArgs};
use crate::exit_code::ExitCode;
use crate::plan::CargoFlags;
use crate::report::display_path;
use crate::report::table;

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    kind: &'a str,
    workspace: &'a str,
    arch: &'a str,
    target: &'a str,
    profile: &'a str,
    compiler: &'a str,
    format: &'a str,
    output: String,
}

/// Prints the artifact table (of one shard, with `--shard`).
pub fn list(
    manifest: Option<&Utf8Path>,
    format: Format,
    shard: &ShardArgs,
) -> Result<ExitCode, Error> {
    // A shard is a set of the cargo calls `run` makes: those need the packages' features
    // compared (`cargo tree`), which listing everything does not.
    let builds = shard.shard.is_some();
    let checked = super::load(
        manifest,
        &CargoFlags::default(),
        builds,
        format == Format::Json,
    )?;
    let part;
    let plan = match &shard.shard {
        Some(spec) => {
            part = super::shard::narrow(&checked.plan, spec, shard.timings.as_deref())?.0;
            &part
        }
        None => &checked.plan,
    };
    let rows: Vec<Row> = plan
        .artifacts
        .iter()
        .map(|a| {
            let r = &a.resolved;
            Row {
                name: &r.identity.name,
                kind: r.identity.kind.as_str(),
                workspace: &r.identity.workspace,
                arch: r.build.arch.as_str(),
                target: &r.build.target,
                profile: &r.build.profile,
                compiler: r.build.compiler.as_str(),
                format: a.format(),
                // JSON holds absolute paths (as plan's does); the table, paths as people read them.
                output: match format {
                    Format::Json => a.output.to_string(),
                    Format::Text => display_path(&a.output),
                },
            }
        })
        .collect();
    let text = match format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
        Format::Text => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.name.into(),
                        r.kind.into(),
                        r.workspace.into(),
                        r.arch.into(),
                        r.profile.into(),
                        r.compiler.into(),
                        r.format.into(),
                        r.output.clone(),
                    ]
                })
                .collect();
            table::render(
                &[
                    "NAME",
                    "KIND",
                    "WORKSPACE",
                    "ARCH",
                    "PROFILE",
                    "COMPILER",
                    "FORMAT",
                    "OUTPUT",
                ],
                &cells,
            )
        }
    };
    super::print(&text)?;
    Ok(ExitCode::OK)
}

//! `lambda-batch plan`: the groups and the exact cargo commands.

use std::fmt::Write;

use camino::Utf8Path;

use crate::cli::Format;
use crate::exit_code;
use crate::plan::{CargoFlags, Plan};
use crate::report::display_path;

/// Prints the plan, with each artifact's input key (and with `verbose`, what went into it).
pub fn plan(
    manifest: Option<&Utf8Path>,
    format: Format,
    flags: &CargoFlags,
    verbose: bool,
    color: bool,
) -> i32 {
    let mut checked = match super::load(manifest, flags, color, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let located = crate::cache::locate(&checked.plan);
    super::compute_keys(
        &mut checked,
        None,
        &located.found,
        &crate::cache::Toolchains::default(),
    );
    let mut plan = checked.plan;
    if !verbose {
        for a in &mut plan.artifacts {
            a.key_inputs.clear();
        }
    }
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        ),
        Format::Text => print!("{}", text(&plan)),
    }
    exit_code::OK
}

/// The plan for people: each cargo call with the artifacts it feeds, and their input keys
/// when they were computed (with what went into each when the plan holds that).
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let lanes = plan
        .groups
        .iter()
        .map(|g| g.lane)
        .max()
        .map_or(0, |l| l + 1);
    let _ = writeln!(
        out,
        "{} cargo invocation{} in {} lane{} (lanes run in parallel; the groups of a lane share a target dir and run in turn), {} outputs",
        plan.groups.len(),
        if plan.groups.len() == 1 { "" } else { "s" },
        lanes,
        if lanes == 1 { "" } else { "s" },
        plan.artifacts.len()
    );
    for g in &plan.groups {
        let _ = writeln!(
            out,
            "\ngroup {} (lane {}): {} {} {} in {}",
            g.id,
            g.lane,
            g.compiler,
            g.target,
            g.profile,
            display_path(&g.workspace_root)
        );
        let _ = writeln!(out, "  $ {}", g.command_line());
        for s in &g.not_grouped_with {
            let _ = writeln!(out, "  not with group {}: {}", s.group, s.reason);
        }
        for &i in &g.artifacts {
            let a = &plan.artifacts[i];
            let _ = writeln!(
                out,
                "  → {} {} ({}/{}) → {}",
                a.resolved.kind.as_str(),
                a.resolved.name,
                a.resolved.package,
                a.resolved.bin,
                display_path(&a.output)
            );
            match (&a.key, &a.key_error) {
                (Some(key), _) => {
                    let _ = writeln!(out, "      key {key}");
                }
                (None, Some(why)) => {
                    let _ = writeln!(out, "      no key: {why}");
                }
                (None, None) => {}
            }
            for input in &a.key_inputs {
                let _ = writeln!(
                    out,
                    "        {}  {}",
                    &input.digest[..16.min(input.digest.len())],
                    input.name
                );
            }
        }
    }
    out
}

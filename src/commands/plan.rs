//! `lambda-batch plan`: the groups and the exact cargo commands.

use std::fmt::Write;

use camino::Utf8Path;

use camino::Utf8PathBuf;

use super::Error;
use super::affected::Affected;
use crate::cache::{CacheMode, CacheSettings, Keys};
use crate::cli::Format;
use crate::exit_code::ExitCode;
use crate::pipeline::Checked;
use crate::plan::shard::{Matrix, Shard, ShardSpec};
use crate::plan::{CargoFlags, Plan};
use crate::report::display_path;
use crate::report::plan_json::PlanJson;

/// `plan --shard`, `--shards`, `--timings`, and the cache `--shards` asks.
#[derive(Debug, Clone, Default)]
pub struct Sharding<'a> {
    /// Only this shard's part of the plan.
    pub shard: Option<ShardSpec>,
    /// The split into this many shards instead of the plan.
    pub shards: Option<usize>,
    /// The earlier report that balances them.
    pub timings: Option<&'a Utf8Path>,
    /// `--cache` (or its variable): with `--shards`, only what misses is split.
    pub cache: Option<&'a str>,
    /// `--cache-mode`.
    pub cache_mode: CacheMode,
}

/// Prints the plan, with each artifact's input key (and with `verbose`, what went into it);
/// or one shard of it; or, with `--shards N`, the split.
pub fn plan(
    manifest: Option<&Utf8Path>,
    format: Format,
    flags: &CargoFlags,
    verbose: bool,
    sharding: &Sharding,
    color: bool,
) -> Result<ExitCode, Error> {
    let checked = super::load(manifest, flags, true, format == Format::Json)?;
    if let Some(count) = sharding.shards {
        let timings = super::shard::timings(sharding.timings)?;
        if let Some(cache) = cache_settings(&checked, sharding)? {
            let affected = super::affected::affected(&checked, &cache, count, &timings, color);
            super::print(&match format {
                Format::Json => format!(
                    "{}\n",
                    serde_json::to_string(&Matrix {
                        include: affected.shards.clone()
                    })
                    .unwrap_or_default()
                ),
                Format::Text => affected_text(&checked.plan, &affected, &cache),
            })?;
            return Ok(ExitCode::OK);
        }
        let shards = crate::plan::shard::split(&checked.plan, count, &timings);
        super::print(&match format {
            Format::Json => format!(
                "{}\n",
                serde_json::to_string(&Matrix { include: shards }).unwrap_or_default()
            ),
            Format::Text => shards_text(&checked.plan, &shards),
        })?;
        return Ok(ExitCode::OK);
    }
    let part;
    let plan = match &sharding.shard {
        Some(spec) => {
            let (narrowed, shard) = super::shard::narrow(&checked.plan, spec, sharding.timings)?;
            crate::report::output::eprintln(&super::shard::note(
                spec,
                &narrowed,
                &checked.plan,
                &shard,
            ));
            part = narrowed;
            &part
        }
        None => &checked.plan,
    };
    let keys = super::keys_of(&checked, plan);
    super::print(&match format {
        Format::Json => PlanJson::new(plan, &keys, verbose).to_text(),
        Format::Text => text(plan, &keys, verbose),
    })?;
    Ok(ExitCode::OK)
}

/// The cache `plan --shards` asks, found as `run` finds it; `None` without one (or with mode
/// `off`).
fn cache_settings(checked: &Checked, sharding: &Sharding) -> Result<Option<CacheSettings>, Error> {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| Utf8PathBuf::from_path_buf(d).ok())
        .unwrap_or_else(|| Utf8PathBuf::from("."));
    let manifest_cache = checked.resolved.manifest.cache.as_ref().map(|c| &c.value);
    crate::cache::settings(
        sharding.cache,
        manifest_cache,
        sharding.cache_mode,
        false,
        &cwd,
    )
    .map_err(|e| Error::usage(e.message, e.help))
}

/// The affected-only split for people: how many outputs miss, then the shards.
fn affected_text(plan: &Plan, affected: &Affected, cache: &CacheSettings) -> String {
    let mut out = String::new();
    let outputs = plan.artifacts.len();
    if affected.shards.is_empty() {
        let _ = writeln!(
            out,
            "nothing to build: {} holds every output of the plan ({outputs})",
            cache.location
        );
        return out;
    }
    let calls: usize = affected.shards.iter().map(|s| s.groups.len()).sum();
    let _ = writeln!(
        out,
        "{} of {outputs} outputs are not in {}: {calls} of {} cargo calls to make ({} with costs learned from earlier runs)",
        affected.missing.len(),
        cache.location,
        plan.groups.len(),
        affected.learned
    );
    out.push('\n');
    out.push_str(&shards_text(plan, &affected.shards));
    out
}

/// The split for people: each shard with its estimate and its cargo calls' outputs.
pub fn shards_text(plan: &Plan, shards: &[Shard]) -> String {
    let mut out = String::new();
    let total: f64 = shards.iter().map(|s| s.estimated_seconds).sum();
    let calls: usize = shards.iter().map(|s| s.groups.len()).sum();
    let _ = writeln!(
        out,
        "{} cargo invocation{} in {} shard{} (estimated {:.0}s in all; whole cargo calls, those sharing a target dir, target and profile kept together)",
        calls,
        if calls == 1 { "" } else { "s" },
        shards.len(),
        if shards.len() == 1 { "" } else { "s" },
        total
    );
    for s in shards {
        let _ = writeln!(
            out,
            "\nshard {}: {} output{}, {} cargo call{}, estimated {:.0}s",
            s.shard,
            s.artifacts.len(),
            if s.artifacts.len() == 1 { "" } else { "s" },
            s.groups.len(),
            if s.groups.len() == 1 { "" } else { "s" },
            s.estimated_seconds
        );
        if s.groups.is_empty() {
            let _ = writeln!(out, "  (nothing to build)");
        }
        for g in s.groups.iter().filter_map(|&g| plan.groups.get(g)) {
            // Only the outputs the shard builds (with a cache, a call narrowed to its misses).
            let names: Vec<String> = g
                .artifacts
                .iter()
                .filter_map(|&i| plan.artifacts.get(i))
                .filter(|a| {
                    let shown = format!("{} ({})", a.resolved.identity.name, a.resolved.build.arch);
                    s.artifacts.contains(&shown)
                })
                .map(|a| a.resolved.identity.name.clone())
                .collect();
            let _ = writeln!(
                out,
                "  {} {} {} {} in {}: {}",
                crate::plan::shard::group_id(plan, g),
                g.compiler,
                g.target,
                g.profile,
                display_path(&g.workspace_root),
                names.join(", ")
            );
        }
    }
    out
}

/// The plan for people: each cargo call with the artifacts it feeds, and their input keys
/// when `keys` has them (with `inputs`, what went into each).
pub fn text(plan: &Plan, keys: &Keys, inputs: bool) -> String {
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
    if lanes > 1 {
        let mut dirs: std::collections::BTreeMap<usize, &camino::Utf8Path> = Default::default();
        for g in &plan.groups {
            dirs.entry(g.lane).or_insert(&g.target_dir);
        }
        for (lane, dir) in dirs {
            let why = if dir.ends_with(crate::resolve::ZIG_HOST_DIR) {
                " (cargo-zigbuild for this machine's own triple: it shares no compiled unit with the other calls of the target dir around it)"
            } else {
                ""
            };
            let _ = writeln!(out, "lane {lane}: target dir {}{why}", display_path(dir));
        }
    }
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
            let Some(a) = plan.artifacts.get(i) else {
                continue;
            };
            let _ = writeln!(
                out,
                "  → {} {} ({}/{}) → {}",
                a.resolved.identity.kind.as_str(),
                a.resolved.identity.name,
                a.resolved.identity.package,
                a.resolved.identity.bin,
                display_path(&a.output)
            );
            match keys.get(i) {
                Some(Ok(key)) => {
                    let _ = writeln!(out, "      key {}", key.digest);
                    for input in key.inputs.iter().filter(|_| inputs) {
                        let _ = writeln!(
                            out,
                            "        {}  {}",
                            &input.digest[..16.min(input.digest.len())],
                            input.name
                        );
                    }
                }
                Some(Err(why)) => {
                    let _ = writeln!(out, "      no key: {why}");
                }
                None => {}
            }
        }
    }
    out
}

//! Shards: the plan cut into N disjoint parts that together cover it, one per CI runner.
//!
//! The unit is a cargo call group: one executable is never built by two runners, and a group's
//! artifacts stay with the cargo call that builds them all at once. Groups that share a target
//! dir, a target and a profile (a *cluster*) compile the same dependency crates into the same
//! place, so a runner that gets the whole cluster builds those crates once; splitting a cluster
//! builds them on two runners.
//!
//! The split:
//! 1. Each group gets a cost: the seconds an earlier `--report` measured for it (`--timings`;
//!    the slowest of its artifacts, each timed from the start of its group), else an estimate
//!    from its profile and number of bins ([`estimate`]). Each cluster also costs one
//!    dependency build ([`dependencies`]).
//! 2. Clusters are the units, placed longest first on the least loaded shard (LPT).
//! 3. A unit of several groups is cut in two (each half paying the dependency build again)
//!    only when that lowers the estimate of the longest shard; repeated until no cut helps.
//!
//! Everything is ordered by cost, then by names that do not depend on where the checkout is
//! (the manifest's workspace paths, artifact names, targets, profiles), never by absolute
//! paths: every runner, wherever it checked the commit out, computes the same split.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use camino::Utf8PathBuf;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Group, Plan};

/// `--shard K/N`: the K-th (from 1) of N parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    /// K, from 1 to `count`.
    pub index: usize,
    /// N, at least 1.
    pub count: usize,
}

impl FromStr for ShardSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<ShardSpec, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N (for example 1/4)"))?;
        let number = |word: &str, what: &str| {
            if word.trim().is_empty() {
                return Err(format!("`{s}` has no {what} (K/N, as in 1/4)"));
            }
            word.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{word}` in `{s}` is not a {what} (K/N, as in 1/4)"))
        };
        let (index, count) = (number(k, "shard number")?, number(n, "shard count")?);
        if count == 0 {
            return Err(format!("`{s}`: the shard count must be at least 1"));
        }
        if index == 0 {
            return Err(format!(
                "`{s}`: shards are numbered from 1 (1/{count} is the first)"
            ));
        }
        if index > count {
            return Err(format!(
                "`{s}`: there are only {count} shard{} (the last is {count}/{count})",
                if count == 1 { "" } else { "s" }
            ));
        }
        Ok(ShardSpec { index, count })
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Seconds measured for each (artifact name, target triple) by an earlier run.
pub type Timings = BTreeMap<(String, String), f64>;

/// One part of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Shard {
    /// `K/N`: what `--shard` takes.
    pub shard: String,
    /// Its outputs, as `name (arch)`, in plan order.
    pub artifacts: Vec<String>,
    /// The estimate of its build time (each cluster's dependency build included).
    pub estimated_seconds: f64,
    /// The groups of the plan it builds (indices into `Plan::groups`).
    #[serde(skip)]
    pub groups: Vec<usize>,
}

/// What `plan --shards N --format json` prints: a GitHub Actions matrix (`include` entries
/// become jobs, each with `matrix.shard`, `matrix.artifacts`, `matrix.estimated_seconds`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Matrix {
    /// One entry per shard.
    pub include: Vec<Shard>,
}

/// The estimated dependency build of a cluster: compiling the crates its groups share, once
/// per runner. Rough on purpose (there is no count of crates before cargo runs); it only has
/// to weigh keeping a cluster together against the rest of the work.
pub fn dependencies(optimized: bool) -> f64 {
    if optimized { 60.0 } else { 30.0 }
}

/// The estimated seconds of `group` without its dependencies: compiling and linking each of
/// its bins (optimized builds link with LTO, which dominates).
pub fn estimate(group: &Group, optimized: bool) -> f64 {
    let per_bin = if optimized { 15.0 } else { 4.0 };
    1.0 + per_bin * group.bins.len().max(1) as f64
}

/// A cluster's groups, or part of them, placed on one shard together.
#[derive(Debug, Clone)]
struct Unit {
    /// For tie-breaks: the smallest name among its groups.
    name: String,
    /// The cluster's dependency build, paid once per unit.
    base: f64,
    /// Its groups with their costs, most expensive first.
    groups: Vec<(String, usize, f64)>,
}

impl Unit {
    fn cost(&self) -> f64 {
        self.base + self.groups.iter().map(|g| g.2).sum::<f64>()
    }

    /// The unit cut in two by LPT over its groups.
    fn halves(&self) -> (Unit, Unit) {
        let mut parts: [Vec<(String, usize, f64)>; 2] = [Vec::new(), Vec::new()];
        let mut load = [0.0f64; 2];
        for g in &self.groups {
            let k = usize::from(load[1] < load[0]);
            load[k] += g.2;
            parts[k].push(g.clone());
        }
        let [a, b] = parts;
        let unit = |groups: Vec<(String, usize, f64)>| Unit {
            name: groups.iter().map(|g| g.0.clone()).min().unwrap_or_default(),
            base: self.base,
            groups,
        };
        (unit(a), unit(b))
    }
}

/// A name for a group that is the same in every checkout: its workspace as the manifest writes
/// it, its target and profile, and its artifacts' names.
fn group_name(plan: &Plan, group: &Group) -> String {
    let mut names: Vec<&str> = group
        .artifacts
        .iter()
        .filter_map(|&i| plan.artifacts.get(i))
        .map(|a| a.resolved.identity.name.as_str())
        .collect();
    names.sort_unstable();
    let workspace = group
        .artifacts
        .first()
        .and_then(|&i| plan.artifacts.get(i))
        .map_or("", |a| a.resolved.identity.workspace.as_str());
    format!(
        "{workspace} {} {} {}",
        group.target,
        group.profile,
        names.join(",")
    )
}

/// Whether `group` builds with release optimizations (or a release-like profile).
fn optimized(plan: &Plan, group: &Group) -> bool {
    group.profile != "dev"
        && group.profile != "test"
        && group
            .artifacts
            .iter()
            .filter_map(|&i| plan.artifacts.get(i))
            .any(|a| a.resolved.cargo.optimizations || a.resolved.build.profile == "release")
}

/// The cost of `group`: the slowest of its artifacts in `timings` when any is there, else the
/// estimate.
fn group_cost(plan: &Plan, group: &Group, timings: &Timings) -> f64 {
    let measured = group
        .artifacts
        .iter()
        .filter_map(|&i| plan.artifacts.get(i))
        .filter_map(|a| {
            timings
                .get(&(
                    a.resolved.identity.name.clone(),
                    a.resolved.build.target.clone(),
                ))
                .copied()
        })
        .filter(|s| s.is_finite() && *s >= 0.0)
        .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
    measured.unwrap_or_else(|| estimate(group, optimized(plan, group)))
}

/// The units before any cut: one per cluster (target dir, target, profile).
fn clusters(plan: &Plan, timings: &Timings) -> Vec<Unit> {
    let mut by_key: BTreeMap<(Utf8PathBuf, String, String), Unit> = BTreeMap::new();
    for g in &plan.groups {
        let name = group_name(plan, g);
        let cost = group_cost(plan, g, timings);
        let unit = by_key
            .entry((g.target_dir.clone(), g.target.clone(), g.profile.clone()))
            .or_insert_with(|| Unit {
                name: name.clone(),
                base: 0.0,
                groups: Vec::new(),
            });
        unit.base = unit.base.max(dependencies(optimized(plan, g)));
        if name < unit.name {
            unit.name = name.clone();
        }
        unit.groups.push((name, g.id, cost));
    }
    let mut units: Vec<Unit> = by_key.into_values().collect();
    for u in &mut units {
        u.groups
            .sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    }
    units
}

/// Longest first, each onto the least loaded shard (the lowest numbered among equals): the
/// units of each shard and its load.
fn lpt(units: &[Unit], count: usize) -> Vec<(Vec<usize>, f64)> {
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| {
        units[b]
            .cost()
            .total_cmp(&units[a].cost())
            .then_with(|| units[a].name.cmp(&units[b].name))
    });
    let mut shards: Vec<(Vec<usize>, f64)> = vec![(Vec::new(), 0.0); count.max(1)];
    for u in order {
        let k = (0..shards.len())
            .min_by(|&a, &b| shards[a].1.total_cmp(&shards[b].1).then(a.cmp(&b)))
            .unwrap_or(0);
        shards[k].0.push(u);
        shards[k].1 += units[u].cost();
    }
    shards
}

fn makespan(shards: &[(Vec<usize>, f64)]) -> f64 {
    shards.iter().map(|s| s.1).fold(0.0, f64::max)
}

/// The plan cut into `count` shards (see the module doc); shard K of the result is
/// `--shard K/count`. A shard may be empty when there are fewer groups than shards.
pub fn split(plan: &Plan, count: usize, timings: &Timings) -> Vec<Shard> {
    let count = count.max(1);
    let mut units = clusters(plan, timings);
    // Each cut adds a unit, so this ends after at most one cut per group.
    loop {
        let best = makespan(&lpt(&units, count));
        let mut candidates: Vec<usize> = (0..units.len())
            .filter(|&u| units[u].groups.len() > 1)
            .collect();
        candidates.sort_by(|&a, &b| {
            units[b]
                .cost()
                .total_cmp(&units[a].cost())
                .then_with(|| units[a].name.cmp(&units[b].name))
        });
        let cut = candidates.into_iter().find_map(|u| {
            let (a, b) = units[u].halves();
            let mut trial = units.clone();
            trial[u] = a;
            trial.push(b);
            (makespan(&lpt(&trial, count)) < best).then_some(trial)
        });
        match cut {
            Some(trial) => units = trial,
            None => break,
        }
    }
    lpt(&units, count)
        .into_iter()
        .enumerate()
        .map(|(k, (members, load))| {
            let mut groups: Vec<usize> = members
                .iter()
                .flat_map(|&u| units[u].groups.iter().map(|g| g.1))
                .collect();
            groups.sort_unstable();
            let artifacts = groups
                .iter()
                .filter_map(|&g| plan.groups.get(g))
                .flat_map(|g| g.artifacts.iter().copied())
                .collect::<std::collections::BTreeSet<usize>>()
                .into_iter()
                .filter_map(|i| plan.artifacts.get(i))
                .map(|a| format!("{} ({})", a.resolved.identity.name, a.resolved.build.arch))
                .collect();
            Shard {
                shard: format!("{}/{count}", k + 1),
                artifacts,
                estimated_seconds: (load * 10.0).round() / 10.0,
                groups,
            }
        })
        .collect()
}

/// The part of `plan` that builds only `groups` (indices into `plan.groups`): those groups
/// and their artifacts, renumbered in plan order, each group waiting only for kept groups.
pub fn restrict(plan: &Plan, groups: &[usize]) -> Plan {
    let kept: Vec<&Group> = plan
        .groups
        .iter()
        .filter(|g| groups.contains(&g.id))
        .collect();
    let group_id: BTreeMap<usize, usize> = kept
        .iter()
        .enumerate()
        .map(|(new, g)| (g.id, new))
        .collect();
    let mut lane_id: BTreeMap<usize, usize> = BTreeMap::new();
    for g in &kept {
        let next = lane_id.len();
        lane_id.entry(g.lane).or_insert(next);
    }
    let artifact_id: BTreeMap<usize, usize> = plan
        .artifacts
        .iter()
        .filter(|a| group_id.contains_key(&a.group))
        .enumerate()
        .map(|(new, a)| (a.id, new))
        .collect();
    let artifacts = plan
        .artifacts
        .iter()
        .filter_map(|a| {
            Some(super::PlannedArtifact {
                id: *artifact_id.get(&a.id)?,
                group: *group_id.get(&a.group)?,
                ..a.clone()
            })
        })
        .collect();
    let groups = kept
        .iter()
        .map(|g| Group {
            id: group_id[&g.id],
            lane: lane_id[&g.lane],
            artifacts: g
                .artifacts
                .iter()
                .filter_map(|a| artifact_id.get(a).copied())
                .collect(),
            waits_for: g
                .waits_for
                .iter()
                .filter_map(|w| group_id.get(w).copied())
                .collect(),
            not_grouped_with: g
                .not_grouped_with
                .iter()
                .filter_map(|s| {
                    Some(super::Split {
                        group: *group_id.get(&s.group)?,
                        ..s.clone()
                    })
                })
                .collect(),
            ..(*g).clone()
        })
        .collect();
    Plan {
        manifest: plan.manifest.clone(),
        groups,
        artifacts,
        flags: plan.flags.clone(),
    }
}

/// Shard `spec` of `plan`: what it builds, as a plan of its own, and its description.
pub fn select(plan: &Plan, spec: ShardSpec, timings: &Timings) -> (Plan, Shard) {
    let mut shards = split(plan, spec.count, timings);
    let shard = shards.swap_remove(spec.index.clamp(1, spec.count) - 1);
    (restrict(plan, &shard.groups), shard)
}

#[cfg(test)]
mod tests;

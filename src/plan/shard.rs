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
//!
//! With the artifact cache, `plan --shards N` splits only the calls that miss ([`affected`]),
//! each narrowed to its missing outputs and costed by what the cache learned of it
//! ([`Learned`], by [`identity`]); its shards name their calls ([`group_id`]) in `K/N:ID,...`,
//! so that a runner builds exactly what the plan gave it, whatever the cache holds by then.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use camino::Utf8PathBuf;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Group, Plan};

/// `--shard K/N`: the K-th (from 1) of N parts; `K/N:ID,ID,...` also names the cargo calls of
/// the part ([`group_id`]), as an affected-only matrix hands them on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardSpec {
    /// K, from 1 to `count`.
    pub index: usize,
    /// N, at least 1.
    pub count: usize,
    /// The ids of the cargo calls the part builds, when named: then they are the part, and
    /// the split is not computed.
    pub groups: Option<Vec<String>>,
}

/// How many hex digits of the SHA-256 of a group's [`identity`] make its id.
pub const GROUP_ID_LEN: usize = 12;

impl FromStr for ShardSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<ShardSpec, String> {
        let (spec, ids) = match s.split_once(':') {
            Some((spec, ids)) => (spec, Some(ids)),
            None => (s, None),
        };
        let groups = match ids {
            None => None,
            Some(ids) => Some(group_ids(s, ids)?),
        };
        let (k, n) = spec
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
        Ok(ShardSpec {
            index,
            count,
            groups,
        })
    }
}

/// The ids after `K/N:` in `s`.
fn group_ids(s: &str, ids: &str) -> Result<Vec<String>, String> {
    if ids.trim().is_empty() {
        return Err(format!(
            "`{s}` names no cargo call after `:` (K/N:ID,..., as `plan --shards N` prints it with a cache)"
        ));
    }
    ids.split(',')
        .map(|id| {
            let id = id.trim();
            let valid = id.len() == GROUP_ID_LEN
                && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if valid {
                Ok(id.to_string())
            } else {
                Err(format!(
                    "`{id}` in `{s}` is not the id of a cargo call ({GROUP_ID_LEN} hex digits, as `plan --shards N` prints them)"
                ))
            }
        })
        .collect()
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)?;
        if let Some(groups) = &self.groups {
            write!(f, ":{}", groups.join(","))?;
        }
        Ok(())
    }
}

impl ShardSpec {
    /// `K/N` alone, for people.
    pub fn number(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

/// Seconds measured for each (artifact name, target triple) by an earlier run.
pub type Timings = BTreeMap<(String, String), f64>;

/// Seconds the cache learned for cargo calls, by the call's [`identity`].
pub type Learned = BTreeMap<String, f64>;

/// What a group costs, best first: `--timings`, then what the cache learned, then the estimate.
#[derive(Debug, Clone, Copy)]
pub struct Costs<'a> {
    /// From `--timings FILE`.
    pub timings: &'a Timings,
    /// From the cache.
    pub learned: &'a Learned,
}

/// One part of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Shard {
    /// What `--shard` takes: `K/N`, or `K/M:ID,...` when the split names its calls (with a
    /// cache: only the calls that miss, M the number of shards that build something).
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
/// The workspace of `group`'s outputs, as the manifest writes it.
fn workspace_of<'p>(plan: &'p Plan, group: &Group) -> &'p str {
    group
        .artifacts
        .first()
        .and_then(|&i| plan.artifacts.get(i))
        .map_or("", |a| a.resolved.identity.workspace.as_str())
}

fn group_name(plan: &Plan, group: &Group) -> String {
    let mut names: Vec<&str> = group
        .artifacts
        .iter()
        .filter_map(|&i| plan.artifacts.get(i))
        .map(|a| a.resolved.identity.name.as_str())
        .collect();
    names.sort_unstable();
    let workspace = workspace_of(plan, group);
    format!(
        "{workspace} {} {} {}",
        group.target,
        group.profile,
        names.join(",")
    )
}

/// What a cargo call is, in words that are the same on every runner and in every checkout: the
/// workspace as the manifest writes it, build program, target, profile, and each output's
/// name, package, bin and features (never an absolute path). A call narrowed to some of its
/// outputs is another call. What the cache files learned costs under (see [`group_id`]).
pub fn identity(plan: &Plan, group: &Group) -> String {
    let mut outputs: Vec<String> = group
        .artifacts
        .iter()
        .filter_map(|&i| plan.artifacts.get(i))
        .map(|a| {
            let r = &a.resolved;
            let mut features = r.cargo.features.clone();
            features.sort_unstable();
            format!(
                "{} {}/{} features={}{}{}",
                r.identity.name,
                r.identity.package,
                r.identity.bin,
                features.join(","),
                if r.cargo.no_default_features {
                    " no-default-features"
                } else {
                    ""
                },
                if r.cargo.all_features {
                    " all-features"
                } else {
                    ""
                },
            )
        })
        .collect();
    outputs.sort_unstable();
    let workspace = workspace_of(plan, group);
    format!(
        "workspace {workspace}\ncompiler {}\ntarget {}\nprofile {}\n{}",
        group.compiler,
        group.target,
        group.profile,
        outputs.join("\n")
    )
}

/// The short id of a cargo call: the first [`GROUP_ID_LEN`] hex digits of the SHA-256 of its
/// [`identity`].
pub fn group_id(plan: &Plan, group: &Group) -> String {
    let digest = crate::fingerprint::hex(&crate::fingerprint::sha256(
        identity(plan, group).as_bytes(),
    ));
    digest[..GROUP_ID_LEN].to_string()
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

/// The cost of `group`: the slowest of its artifacts in `--timings` when any is there, else
/// what the cache learned for it, else the estimate.
fn group_cost(plan: &Plan, group: &Group, costs: &Costs<'_>) -> f64 {
    let timings = costs.timings;
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
    measured
        .or_else(|| {
            costs
                .learned
                .get(&identity(plan, group))
                .copied()
                .filter(|s| s.is_finite() && *s >= 0.0)
        })
        .unwrap_or_else(|| estimate(group, optimized(plan, group)))
}

/// The units before any cut: one per cluster (target dir, target, profile) of `groups`.
fn clusters(plan: &Plan, groups: &[Group], costs: &Costs<'_>) -> Vec<Unit> {
    let mut by_key: BTreeMap<(Utf8PathBuf, String, String), Unit> = BTreeMap::new();
    for g in groups {
        let name = group_name(plan, g);
        let cost = group_cost(plan, g, costs);
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
    let costs = Costs {
        timings,
        learned: &Learned::new(),
    };
    split_groups(plan, &plan.groups, count, &costs)
}

/// The calls of `plan` that have something to build, `missing` (indices into
/// `Plan::artifacts`), each narrowed to those outputs, cut into at most `count` shards: only
/// the shards that build something, numbered `K/M` among themselves, each naming its calls
/// (`K/M:ID,...`, ids of the whole calls, which is what `--shard` finds in the plan). None
/// when nothing is missing.
pub fn affected(plan: &Plan, missing: &[usize], count: usize, costs: &Costs<'_>) -> Vec<Shard> {
    let narrowed: Vec<Group> = plan
        .groups
        .iter()
        .map(|g| super::narrowed(plan, g, missing))
        .filter(|g| !g.artifacts.is_empty())
        .collect();
    let shards: Vec<Shard> = split_groups(plan, &narrowed, count, costs)
        .into_iter()
        .filter(|s| !s.groups.is_empty())
        .collect();
    let used = shards.len();
    shards
        .into_iter()
        .enumerate()
        .map(|(k, s)| {
            let ids: Vec<String> = s
                .groups
                .iter()
                .filter_map(|&g| plan.groups.get(g))
                .map(|g| group_id(plan, g))
                .collect();
            Shard {
                shard: format!("{}/{used}:{}", k + 1, ids.join(",")),
                ..s
            }
        })
        .collect()
}

/// `groups` (each with its id in `plan`, possibly narrowed) cut into `count` shards.
fn split_groups(plan: &Plan, groups: &[Group], count: usize, costs: &Costs<'_>) -> Vec<Shard> {
    let count = count.max(1);
    let mut units = clusters(plan, groups, costs);
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
            let mut ids: Vec<usize> = members
                .iter()
                .flat_map(|&u| units[u].groups.iter().map(|g| g.1))
                .collect();
            ids.sort_unstable();
            let artifacts = ids
                .iter()
                .filter_map(|&id| groups.iter().find(|g| g.id == id))
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
                groups: ids,
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

/// Shard `spec` of `plan`: what it builds, as a plan of its own, and its description. A spec
/// that names its calls is those calls; an id `plan` does not have is an error (the jobs did
/// not plan the same thing), naming it.
pub fn select(plan: &Plan, spec: &ShardSpec, timings: &Timings) -> Result<(Plan, Shard), String> {
    let costs = Costs {
        timings,
        learned: &Learned::new(),
    };
    let Some(ids) = &spec.groups else {
        let mut shards = split_groups(plan, &plan.groups, spec.count, &costs);
        let shard = shards.swap_remove(spec.index.clamp(1, spec.count) - 1);
        return Ok((restrict(plan, &shard.groups), shard));
    };
    let by_id: BTreeMap<String, usize> = plan
        .groups
        .iter()
        .map(|g| (group_id(plan, g), g.id))
        .collect();
    let mut chosen: Vec<usize> = Vec::new();
    for id in ids {
        match by_id.get(id) {
            Some(&g) => chosen.push(g),
            None => {
                return Err(format!(
                    "shard {} names the cargo call `{id}`, which this plan does not have",
                    spec.number()
                ));
            }
        }
    }
    chosen.sort_unstable();
    chosen.dedup();
    let groups: Vec<Group> = chosen
        .iter()
        .filter_map(|&g| plan.groups.get(g).cloned())
        .collect();
    let mut whole = split_groups(plan, &groups, 1, &costs);
    let shard = Shard {
        shard: spec.to_string(),
        ..whole.swap_remove(0)
    };
    Ok((restrict(plan, &chosen), shard))
}

#[cfg(test)]
mod tests;

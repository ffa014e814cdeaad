//! `plan --shards N` with a cache: only the cargo calls that have something to build, each
//! narrowed to its outputs the cache does not hold, balanced by the costs the cache learned
//! from earlier runs (see `plan::shard::affected` and `cache::Cost`).
//!
//! An output is taken as held when a lookup by `run` would find it: its input key (computed
//! as `run` computes it), the newest trusted record whose files hash the same in this
//! checkout, its blob there with the record's length, built with the values the variables
//! its build read have here. Asked without downloading anything. Whatever cannot be asked
//! (no key, a cache that is down) is a miss: erring towards building.

use std::collections::BTreeSet;

use crate::cache::{Cache, CacheSettings, Keys, Presence, env_matches};
use crate::pipeline::Checked;
use crate::plan::Plan;
use crate::plan::shard::{self, Costs, Learned, Shard, Timings};
use crate::report::diagnostics::print_warning;

/// What the cache said about a plan: the outputs it lacks (indices into `Plan::artifacts`)
/// and the shards of the calls that build them.
pub struct Affected {
    /// The outputs to build.
    pub missing: Vec<usize>,
    /// At most N shards, none empty.
    pub shards: Vec<Shard>,
    /// How many calls' costs came from the cache.
    pub learned: usize,
}

/// Asks `settings`' cache about every output of `checked`'s plan and splits what misses into
/// at most `count` shards (`timings` over the learned costs over the estimate). Warnings
/// (bad entries, bad cost objects, a cache that is down) go to stderr; nothing here fails.
pub fn affected(
    checked: &Checked,
    settings: &CacheSettings,
    count: usize,
    timings: &Timings,
    color: bool,
) -> Affected {
    let plan = &checked.plan;
    let keys = super::keys_of(checked, plan);
    let cache = Cache::open(settings.location.clone(), settings.mode);
    let missing = missing(plan, &keys, &cache, color);
    let (learned, found) = learned(plan, &missing, &cache, color);
    let costs = Costs {
        timings,
        learned: &learned,
    };
    Affected {
        shards: shard::affected(plan, &missing, count, &costs),
        missing,
        learned: found,
    }
}

/// The outputs of `plan` the cache does not hold for this checkout.
fn missing(plan: &Plan, keys: &Keys, cache: &Cache, color: bool) -> Vec<usize> {
    let asked: Vec<usize> = (0..plan.artifacts.len())
        .filter(|&a| keys.key(a).is_some())
        .collect();
    let digests: Vec<_> = asked
        .iter()
        .filter_map(|&a| keys.key(a).map(|k| k.digest.clone()))
        .collect();
    let answers = cache.probe_many(&digests, &|reads| keys.matches(reads));
    let mut held = BTreeSet::new();
    let mut warned = BTreeSet::new();
    for (&a, answer) in asked.iter().zip(answers) {
        if let Some(message) = answer.warning()
            && warned.insert(message.clone())
        {
            print_warning(&message, color);
        }
        let Presence::Present(record) = answer else {
            continue;
        };
        let Some(group) = plan.artifacts.get(a).and_then(|p| plan.groups.get(p.group)) else {
            continue;
        };
        // The check `run` makes of a hit before using it.
        if env_matches(&record.env, &|name: &str| group.env_value(name)) {
            held.insert(a);
        }
    }
    (0..plan.artifacts.len())
        .filter(|a| !held.contains(a))
        .collect()
}

/// The costs the cache learned for the calls that build `missing`: for each, narrowed to
/// those outputs, its own cost, else the whole call's (an upper bound); and how many calls
/// got one.
fn learned(plan: &Plan, missing: &[usize], cache: &Cache, color: bool) -> (Learned, usize) {
    let pairs: Vec<(String, String)> = plan
        .groups
        .iter()
        .map(|g| crate::plan::narrowed(plan, g, missing))
        .filter(|n| !n.artifacts.is_empty())
        .filter_map(|n| {
            let whole = plan.groups.get(n.id)?;
            Some((shard::identity(plan, &n), shard::identity(plan, whole)))
        })
        .collect();
    let asked: Vec<String> = pairs
        .iter()
        .flat_map(|(n, w)| [n.clone(), w.clone()])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (found, warnings) = cache.learned_costs(&asked);
    for w in &warnings {
        print_warning(w, color);
    }
    let mut learned = Learned::new();
    for (narrowed, whole) in pairs {
        if let Some(&s) = found.get(&narrowed).or_else(|| found.get(&whole)) {
            learned.insert(narrowed, s);
        }
    }
    let count = learned.len();
    (learned, count)
}

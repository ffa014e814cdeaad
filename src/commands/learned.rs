//! The costs a run stores beside the executables it stores: each cargo call it made, by the
//! call's identity (see `cache::Cost`), for `plan --shards N` to balance the next split with.

use crate::cache::{Cache, Cost};
use crate::execute::{GroupStatus, RunOutcome};
use crate::plan::Plan;
use crate::plan::shard::identity;
use crate::report::diagnostics::print_warning;

/// Stores the cost of every cargo call of `outcome` that ran to success, as the call it was
/// (narrowed by the cache to what it built, it is that narrower call), when `cache` may be
/// written. A failure is one warning; the run's outcome does not change.
pub fn store(cache: &Cache, plan: &Plan, outcome: &RunOutcome, color: bool) {
    if !cache.mode().writes() {
        return;
    }
    for (group, ended) in plan.groups.iter().zip(&outcome.groups) {
        let Some(spawned) = ended.spawned else {
            continue;
        };
        if ended.status != GroupStatus::Succeeded || ended.built.is_empty() {
            continue;
        }
        let call = crate::plan::narrowed(plan, group, &ended.built);
        let seconds = ended.ended.saturating_sub(spawned).as_secs_f64();
        let cpu = ended.cpu.map(|c| c.as_secs_f64());
        let cost = Cost::new(&identity(plan, &call), round(seconds), cpu.map(round));
        if let Err(warning) = cache.store_cost(&cost) {
            print_warning(&warning, color);
            return;
        }
    }
}

/// To the millisecond: the split needs no more.
fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

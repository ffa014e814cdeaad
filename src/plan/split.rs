//! Which artifacts of one grouping key may share a cargo call, and why the others do not.
//!
//! Artifacts that agree on every grouping key would get the same flags from cargo, but cargo
//! also resolves features once per call for all the packages it selects: a package built with
//! others may get dependency features it does not ask for, and then its executable differs
//! from the one it gets built alone. Two artifacts therefore share a call only when
//! - they are of the same package (features are per package), or their packages' dependency
//!   closures, each resolved alone, agree on the features of every package they both contain
//!   (exact, see [`crate::resolve::tree`]); when a closure cannot be read, its package is
//!   built in calls of its own;
//! - no bin name they ask for is also a bin of the other's package (`--bin X` builds the bin
//!   `X` of every package selected with `-p`, into one file).
//!
//! Artifacts are placed in turn into the first call they fit; each call records why it could
//! not join each earlier call of its key.

use std::collections::{BTreeSet, HashMap};

use schemars::JsonSchema;
use serde::Serialize;

use super::command::{self, CargoFlags};
use crate::resolve::ResolvedArtifact;
use crate::resolve::{Answer, Query};

/// The feature resolution of packages alone: one answer per query, in order.
pub(super) type Views<'a> = &'a dyn Fn(&[Query]) -> Vec<Answer>;

/// Why a group is not part of another group of the same grouping key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Split {
    /// The other group.
    pub group: usize,
    /// What keeps them apart.
    pub kind: SplitKind,
    /// For people: the packages, and the dependency or bin they disagree on.
    pub reason: String,
}

/// What keeps two groups of one key apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SplitKind {
    /// Their packages, each resolved alone, compile a dependency with different features.
    Features,
    /// The features of a package alone could not be resolved (`cargo tree` failed).
    Unresolved,
    /// A bin name of one is also a bin of the other's package.
    BinName,
}

/// The groups of a plan: the artifacts of each, and why each is apart from the earlier groups
/// of its key.
pub(super) struct Partition {
    pub members: Vec<Vec<usize>>,
    pub splits: Vec<Vec<Split>>,
}

/// The query that resolves `a`'s package alone, with `a`'s own flags and environment.
pub(super) fn query(
    a: &ResolvedArtifact,
    flags: &CargoFlags,
    inherited: &dyn Fn(&str) -> Option<String>,
) -> Query {
    let mut cargo_flags = Vec::new();
    for (on, flag) in [
        (flags.locked, "--locked"),
        (flags.offline, "--offline"),
        (flags.frozen, "--frozen"),
    ] {
        if on {
            cargo_flags.push(flag.to_string());
        }
    }
    Query {
        workspace_root: a.identity.workspace_root.clone(),
        cargo_manifest: a.identity.cargo_manifest.clone(),
        package: a.identity.package.clone(),
        target: a.build.target.clone(),
        features: a.cargo.features.clone(),
        no_default_features: a.cargo.no_default_features,
        all_features: a.cargo.all_features,
        cargo_flags,
        env: command::env(a, inherited),
    }
}

/// Splits each set of artifacts agreeing on every grouping key (`keyed`) into cargo calls.
/// Without `views`, packages are not compared (the commands that only validate).
pub(super) fn partition(
    arts: &[ResolvedArtifact],
    keyed: Vec<Vec<usize>>,
    flags: &CargoFlags,
    inherited: &dyn Fn(&str) -> Option<String>,
    views: Option<Views>,
) -> Partition {
    // Resolve alone every package that might share a call with another package.
    let mut queries: Vec<Query> = Vec::new();
    let mut index: HashMap<Query, usize> = HashMap::new();
    let mut query_of: HashMap<usize, usize> = HashMap::new();
    if views.is_some() {
        for idxs in &keyed {
            let packages: BTreeSet<&str> = idxs
                .iter()
                .map(|&i| arts[i].identity.package.as_str())
                .collect();
            if packages.len() < 2 {
                continue;
            }
            for &i in idxs {
                let q = query(&arts[i], flags, inherited);
                let next = queries.len();
                let k = *index.entry(q.clone()).or_insert(next);
                if k == next {
                    queries.push(q);
                }
                query_of.insert(i, k);
            }
        }
    }
    let answers: Vec<Answer> = match views {
        Some(f) if !queries.is_empty() => f(&queries),
        _ => Vec::new(),
    };
    let answer = |i: usize| query_of.get(&i).and_then(|&k| answers.get(k));

    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut splits: Vec<Vec<Split>> = Vec::new();
    for idxs in keyed {
        let base = members.len();
        let mut subgroups: Vec<Vec<usize>> = Vec::new();
        let mut notes: Vec<Vec<Split>> = Vec::new();
        for i in idxs {
            let mut tried: Vec<Split> = Vec::new();
            let mut placed = None;
            for (k, g) in subgroups.iter().enumerate() {
                match g.iter().find_map(|&j| apart(arts, i, j, &answer)) {
                    None => {
                        placed = Some(k);
                        break;
                    }
                    Some((kind, reason)) => tried.push(Split {
                        group: base + k,
                        kind,
                        reason,
                    }),
                }
            }
            let k = placed.unwrap_or_else(|| {
                subgroups.push(Vec::new());
                notes.push(Vec::new());
                subgroups.len() - 1
            });
            subgroups[k].push(i);
            for s in tried {
                if !notes[k].iter().any(|n| n.group == s.group) {
                    notes[k].push(s);
                }
            }
        }
        members.extend(subgroups);
        splits.extend(notes);
    }
    Partition { members, splits }
}

/// Why artifacts `i` and `j` (of one key) cannot share a cargo call, if they cannot.
fn apart<'a>(
    arts: &[ResolvedArtifact],
    i: usize,
    j: usize,
    answer: &dyn Fn(usize) -> Option<&'a Answer>,
) -> Option<(SplitKind, String)> {
    let (a, b) = (&arts[i], &arts[j]);
    if a.identity.package == b.identity.package {
        return None;
    }
    let clash = [(a, b), (b, a)].into_iter().find_map(|(x, y)| {
        (y.identity.bin == x.identity.bin || y.identity.package_bins.contains(&x.identity.bin)).then(|| {
            format!(
                "packages `{}` and `{}` both have a bin `{}`: `--bin {}` would build both into one file",
                x.identity.package, y.identity.package, x.identity.bin, x.identity.bin
            )
        })
    });
    if let Some(reason) = clash {
        return Some((SplitKind::BinName, reason));
    }
    match (answer(i), answer(j)) {
        (Some(Ok(va)), Some(Ok(vb))) => va.conflict(vb).map(|c| {
            let host = if c.node.host { " (for the host)" } else { "" };
            let list = |f: &[String]| {
                if f.is_empty() {
                    "no features".to_string()
                } else {
                    f.join(",")
                }
            };
            let union: BTreeSet<&String> = c.ours.iter().chain(&c.theirs).collect();
            let union: Vec<String> = union.into_iter().cloned().collect();
            (
                SplitKind::Features,
                format!(
                    "`{}` and `{}`, each built alone, compile `{}`{host} with different features ({}: {}; {}: {}); one cargo call would give both {}",
                    a.identity.package,
                    b.identity.package,
                    c.node.package,
                    a.identity.package,
                    list(&c.ours),
                    b.identity.package,
                    list(&c.theirs),
                    list(&union)
                ),
            )
        }),
        (Some(Err(e)), _) => Some((SplitKind::Unresolved, unresolved(&a.identity.package, e))),
        (_, Some(Err(e))) => Some((SplitKind::Unresolved, unresolved(&b.identity.package, e))),
        // Not compared (validation only).
        _ => None,
    }
}

fn unresolved(package: &str, why: &str) -> String {
    format!(
        "the features cargo resolves for `{package}` alone are not known ({why}), so it is built without other packages"
    )
}

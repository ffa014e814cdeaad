//! The split: disjoint and covering, clusters kept whole unless that makes one shard the
//! longest, the same in every checkout, and measured times taking over from the estimate.

use std::collections::BTreeSet;

use camino::Utf8PathBuf;

use super::*;
use crate::manifest::values::Arch;
use crate::plan::tests::{artifact, no_env, resolved};
use crate::plan::{CargoFlags, plan_with_env};
use crate::resolve::ResolvedArtifact;

/// An artifact of package `package` in workspace `ws`, under the checkout `root`; a distinct
/// feature list gives it a cargo call of its own.
fn art(root: &str, ws: &str, name: &str, feature: Option<&str>) -> ResolvedArtifact {
    let mut a = artifact(name, name, Arch::X86_64);
    let ws_root = Utf8PathBuf::from(root).join(ws);
    a.identity.workspace = ws.into();
    a.identity.workspace_root = ws_root.clone();
    a.identity.cargo_manifest = ws_root.join("Cargo.toml");
    a.identity.package_dir = ws_root.join(name);
    a.cargo.target_dir = ws_root.join("target");
    a.packaging.lambda_dir = Utf8PathBuf::from(root).join("out");
    a.cargo.features = feature.map(|f| vec![f.to_string()]).unwrap_or_default();
    a
}

fn plan_of(arts: Vec<ResolvedArtifact>) -> Plan {
    plan_with_env(&resolved(arts), &CargoFlags::default(), &no_env, None).unwrap()
}

/// Three workspaces: `a` with three calls, `b` with two, `c` with one.
fn monorepo(root: &str) -> Plan {
    plan_of(vec![
        art(root, "a", "a1", Some("x")),
        art(root, "a", "a2", Some("y")),
        art(root, "a", "a3", Some("z")),
        art(root, "b", "b1", Some("x")),
        art(root, "b", "b2", Some("y")),
        art(root, "c", "c1", None),
    ])
}

fn names(plan: &Plan, shard: &Shard) -> BTreeSet<String> {
    shard
        .groups
        .iter()
        .flat_map(|&g| plan.groups[g].artifacts.iter())
        .map(|&i| plan.artifacts[i].resolved.identity.name.clone())
        .collect()
}

fn assert_partition(plan: &Plan, shards: &[Shard]) {
    let mut seen = BTreeSet::new();
    for s in shards {
        for &g in &s.groups {
            assert!(seen.insert(g), "group {g} is in two shards: {shards:?}");
        }
    }
    assert_eq!(seen, (0..plan.groups.len()).collect(), "{shards:?}");
}

#[test]
fn shard_numbers_are_checked() {
    assert_eq!(
        "2/3".parse::<ShardSpec>(),
        Ok(ShardSpec {
            index: 2,
            count: 3,
            groups: None
        })
    );
    assert_eq!("1/1".parse::<ShardSpec>().unwrap().to_string(), "1/1");
    for (bad, says) in [
        ("0/2", "numbered from 1"),
        ("3/2", "only 2 shards"),
        ("2/1", "only 1 shard "),
        ("1/0", "at least 1"),
        ("0/0", "at least 1"),
        ("two", "is not K/N"),
        ("1/", "has no shard count"),
        ("/2", "has no shard number"),
        ("-1/2", "is not a shard number"),
        ("1/2/3", "is not a shard count"),
    ] {
        let e = bad.parse::<ShardSpec>().unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

#[test]
fn shards_are_disjoint_cover_the_plan_and_keep_clusters_whole() {
    let plan = monorepo("/repo");
    assert_eq!(plan.groups.len(), 6);
    for n in 1..=8 {
        let shards = split(&plan, n, &Timings::new());
        assert_eq!(shards.len(), n);
        assert_partition(&plan, &shards);
        for (k, s) in shards.iter().enumerate() {
            assert_eq!(s.shard, format!("{}/{n}", k + 1));
        }
    }
    // Three clusters on three shards: one each, dependency builds never repeated.
    let three = split(&plan, 3, &Timings::new());
    let sets: Vec<BTreeSet<String>> = three.iter().map(|s| names(&plan, s)).collect();
    for cluster in [vec!["a1", "a2", "a3"], vec!["b1", "b2"], vec!["c1"]] {
        let cluster: BTreeSet<String> = cluster.into_iter().map(String::from).collect();
        assert!(sets.contains(&cluster), "{sets:?}");
    }
    // The estimates add up to the work (no cluster paid twice).
    let total: f64 = three.iter().map(|s| s.estimated_seconds).sum();
    let expected = 3.0 * dependencies(false) + 6.0 * estimate(&plan.groups[0], false);
    assert!((total - expected).abs() < 0.5, "{total} {expected}");
}

#[test]
fn a_cluster_is_cut_only_when_it_would_be_the_longest_shard() {
    // One workspace of eight calls and two small ones: on two shards the big one is cut.
    let mut arts: Vec<ResolvedArtifact> = (0..8)
        .map(|i| art("/repo", "big", &format!("big{i}"), Some(&format!("f{i}"))))
        .collect();
    arts.push(art("/repo", "s", "s1", None));
    arts.push(art("/repo", "t", "t1", None));
    let plan = plan_of(arts);
    let keep = split(&plan, 3, &Timings::new());
    let sets: Vec<BTreeSet<String>> = keep.iter().map(|s| names(&plan, s)).collect();
    // big: 30 + 8·5 = 70; s, t: 35 each. Three shards: big whole, s, t.
    assert!(sets.iter().any(|s| s.len() == 8), "{sets:?}");
    let two = split(&plan, 2, &Timings::new());
    assert_partition(&plan, &two);
    let loads: Vec<f64> = two.iter().map(|s| s.estimated_seconds).collect();
    // Whole, the big cluster alone is 70 against 70: no cut lowers that.
    assert_eq!(loads, [70.0, 70.0], "{two:?}");
    // Alone, the big cluster has to be cut for two shards to share it.
    let plan = plan_of(
        (0..8)
            .map(|i| art("/repo", "big", &format!("big{i}"), Some(&format!("f{i}"))))
            .collect(),
    );
    let two = split(&plan, 2, &Timings::new());
    assert_partition(&plan, &two);
    assert_eq!(names(&plan, &two[0]).len(), 4, "{two:?}");
    assert_eq!(
        two.iter().map(|s| s.estimated_seconds).collect::<Vec<_>>(),
        [50.0, 50.0]
    );
}

#[test]
fn more_shards_than_calls_leaves_some_empty() {
    let plan = plan_of(vec![art("/repo", "a", "only", None)]);
    let shards = split(&plan, 3, &Timings::new());
    assert_eq!(shards[0].artifacts, ["only (x86_64)"]);
    assert!(shards[1].groups.is_empty() && shards[2].artifacts.is_empty());
    assert_eq!(shards[2].estimated_seconds, 0.0);
    let spec = ShardSpec {
        index: 3,
        count: 3,
        groups: None,
    };
    let (part, _) = select(&plan, &spec, &Timings::new()).unwrap();
    assert!(part.groups.is_empty() && part.artifacts.is_empty());
}

#[test]
fn every_checkout_computes_the_same_split() {
    let here = monorepo("/home/runner/work/repo");
    let there = monorepo("/tmp/x/other-checkout/of/the/repo");
    for n in 1..=6 {
        let a: Vec<Vec<String>> = split(&here, n, &Timings::new())
            .iter()
            .map(|s| s.artifacts.clone())
            .collect();
        let b: Vec<Vec<String>> = split(&there, n, &Timings::new())
            .iter()
            .map(|s| s.artifacts.clone())
            .collect();
        assert_eq!(a, b, "{n} shards");
        assert_eq!(a, {
            let again: Vec<Vec<String>> = split(&here, n, &Timings::new())
                .iter()
                .map(|s| s.artifacts.clone())
                .collect();
            again
        });
    }
}

#[test]
fn measured_times_take_over_from_the_estimate() {
    let plan = monorepo("/repo");
    let target = plan.artifacts[0].resolved.build.target.clone();
    // Without timings workspace `a` is the biggest; measured, `c1` is far slower than the rest.
    let mut timings = Timings::new();
    timings.insert(("c1".into(), target.clone()), 500.0);
    timings.insert(("a1".into(), target.clone()), 2.0);
    let two = split(&plan, 2, &timings);
    assert_partition(&plan, &two);
    let alone = two.iter().find(|s| names(&plan, s).contains("c1")).unwrap();
    assert_eq!(names(&plan, alone), BTreeSet::from(["c1".to_string()]));
    assert_eq!(alone.estimated_seconds, 500.0 + dependencies(false));
    // Another target's time is not this one's.
    let mut other = Timings::new();
    other.insert(("c1".into(), "aarch64-unknown-linux-gnu".into()), 500.0);
    assert_eq!(split(&plan, 2, &other), split(&plan, 2, &Timings::new()));
}

#[test]
fn a_restricted_plan_is_renumbered_and_self_contained() {
    let mut arts = vec![
        art("/repo", "a", "a1", Some("x")),
        art("/repo", "b", "b1", None),
    ];
    // The same bin twice in one target dir: the second call waits for the first.
    let mut again = art("/repo", "a", "a1", Some("y"));
    again.identity.name = "a1-again".into();
    arts.push(again);
    let plan = plan_of(arts);
    assert_eq!(plan.groups.len(), 3);
    let waiting = plan
        .groups
        .iter()
        .find(|g| !g.waits_for.is_empty())
        .expect("a group waits");
    let part = restrict(&plan, &[waiting.id]);
    assert_eq!(part.groups.len(), 1);
    assert_eq!(part.groups[0].id, 0);
    assert_eq!(part.groups[0].lane, 0);
    assert!(part.groups[0].waits_for.is_empty());
    assert_eq!(part.artifacts.len(), 1);
    assert_eq!(part.artifacts[0].id, 0);
    assert_eq!(part.artifacts[0].group, 0);
    assert_eq!(part.artifacts[0].resolved.identity.name, "a1-again");
    assert_eq!(part.groups[0].artifacts, [0]);

    let whole = restrict(&plan, &[0, 1, 2]);
    assert_eq!(
        serde_json::to_value(&whole).unwrap(),
        serde_json::to_value(&plan).unwrap()
    );
}

#[test]
fn a_shard_may_name_its_calls() {
    let id = "0123456789ab";
    let spec: ShardSpec = format!("1/2:{id},ba9876543210").parse().unwrap();
    assert_eq!(spec.index, 1);
    assert_eq!(spec.count, 2);
    assert_eq!(
        spec.groups,
        Some(vec![id.to_string(), "ba9876543210".to_string()])
    );
    assert_eq!(spec.to_string(), format!("1/2:{id},ba9876543210"));
    assert_eq!(spec.number(), "1/2");
    for (bad, says) in [
        ("1/2:", "names no cargo call"),
        ("1/2:xyz", "is not the id of a cargo call"),
        ("1/2:0123456789AB", "is not the id of a cargo call"),
        ("1/2:0123456789ab,", "is not the id of a cargo call"),
        ("3/2:0123456789ab", "only 2 shards"),
    ] {
        let e = bad.parse::<ShardSpec>().unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

#[test]
fn identities_and_ids_are_the_same_in_every_checkout_and_differ_between_calls() {
    let here = monorepo("/home/runner/work/repo");
    let there = monorepo("/tmp/x/other-checkout/of/the/repo");
    let ids: Vec<String> = here.groups.iter().map(|g| group_id(&here, g)).collect();
    let theirs: Vec<String> = there.groups.iter().map(|g| group_id(&there, g)).collect();
    assert_eq!(ids, theirs);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len());
    assert!(ids.iter().all(|id| id.len() == GROUP_ID_LEN));
    let text = identity(&here, &here.groups[0]);
    assert!(!text.contains("/home/runner"), "{text}");
    assert!(text.contains("workspace a\n"), "{text}");
    assert!(text.contains("a1 a1/a1 features=x"), "{text}");
}

#[test]
fn only_the_calls_that_miss_are_split_and_named() {
    let plan = monorepo("/repo");
    let costs = Costs {
        timings: &Timings::new(),
        learned: &Learned::new(),
    };
    // Nothing missing: no shard at all.
    assert!(affected(&plan, &[], 4, &costs).is_empty());
    // One output of workspace `b` missing: one shard, of just that call, for any N.
    let b2 = plan
        .artifacts
        .iter()
        .position(|a| a.resolved.identity.name == "b2")
        .unwrap();
    for n in [1, 2, 5] {
        let shards = affected(&plan, &[b2], n, &costs);
        assert_eq!(shards.len(), 1, "{shards:?}");
        let id = group_id(&plan, &plan.groups[plan.artifacts[b2].group]);
        assert_eq!(shards[0].shard, format!("1/1:{id}"));
        assert_eq!(shards[0].artifacts, ["b2 (x86_64)"]);
        // What `run --shard` makes of it: exactly that call.
        let spec: ShardSpec = shards[0].shard.parse().unwrap();
        let (part, shard) = select(&plan, &spec, &Timings::new()).unwrap();
        assert_eq!(part.groups.len(), 1);
        assert_eq!(part.artifacts[0].resolved.identity.name, "b2");
        assert_eq!(shard.shard, shards[0].shard);
    }
    // Three calls of three clusters on two shards: never an empty one, all named.
    let missing: Vec<usize> = ["a1", "b1", "c1"]
        .iter()
        .map(|n| {
            plan.artifacts
                .iter()
                .position(|a| a.resolved.identity.name == *n)
                .unwrap()
        })
        .collect();
    let two = affected(&plan, &missing, 2, &costs);
    assert_eq!(two.len(), 2);
    let mut seen = BTreeSet::new();
    for (k, s) in two.iter().enumerate() {
        let spec: ShardSpec = s.shard.parse().unwrap();
        assert_eq!(spec.number(), format!("{}/2", k + 1));
        let (part, _) = select(&plan, &spec, &Timings::new()).unwrap();
        for a in &part.artifacts {
            assert!(seen.insert(a.resolved.identity.name.clone()));
        }
    }
    assert_eq!(
        seen,
        BTreeSet::from(["a1".to_string(), "b1".to_string(), "c1".to_string()])
    );
    // An id the plan does not have is an error naming it.
    let spec: ShardSpec = "1/1:0123456789ab".parse().unwrap();
    let e = select(&plan, &spec, &Timings::new()).unwrap_err();
    assert!(
        e.contains("`0123456789ab`") && e.contains("does not have"),
        "{e}"
    );
}

#[test]
fn learned_costs_take_over_from_the_estimate_and_timings_from_them() {
    let plan = monorepo("/repo");
    let all: Vec<usize> = (0..plan.artifacts.len()).collect();
    let c1 = plan
        .groups
        .iter()
        .find(|g| plan.artifacts[g.artifacts[0]].resolved.identity.name == "c1")
        .unwrap();
    let mut learned = Learned::new();
    learned.insert(identity(&plan, c1), 500.0);
    let none = Timings::new();
    let two = affected(
        &plan,
        &all,
        2,
        &Costs {
            timings: &none,
            learned: &learned,
        },
    );
    let alone = two
        .iter()
        .find(|s| s.artifacts.contains(&"c1 (x86_64)".to_string()))
        .unwrap();
    assert_eq!(alone.artifacts, ["c1 (x86_64)"]);
    assert_eq!(alone.estimated_seconds, 500.0 + dependencies(false));
    // `--timings` wins over what was learned.
    let mut timings = Timings::new();
    timings.insert(("c1".into(), c1.target.clone()), 7.0);
    let two = affected(
        &plan,
        &all,
        2,
        &Costs {
            timings: &timings,
            learned: &learned,
        },
    );
    assert!(two.iter().all(|s| s.estimated_seconds < 500.0), "{two:?}");
}

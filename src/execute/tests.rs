//! The executor on a fake build program (`testdata/fake-cargo.sh`, cargo-dist's fake build
//! backend idea): lanes, waiting in turn, keep-going, fail-fast and stopping, with real child
//! processes, real message streams and real packaging, without compiling anything.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use camino::Utf8PathBuf;

use super::events::Recorded;
use super::*;
use crate::cache::{CacheKey, Key, KeyError, Keys};
use crate::manifest::Manifest;
use crate::manifest::settings::OutputFormat;
use crate::package::fixture::{Tree, resolved};
use crate::plan::{CargoFlags, plan_with_env};
use crate::resolve::{Resolved, ResolvedArtifact};

/// A temporary tree with an executable to hand out and the fake program.
struct Fake {
    tree: Tree,
    program: Utf8PathBuf,
}

impl Fake {
    fn new() -> Fake {
        let tree = Tree::new();
        let program = tree.base.join("fake-cargo");
        std::fs::write(&program, include_str!("testdata/fake-cargo.sh")).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        Fake { tree, program }
    }

    /// The function `name` (bin `name`), built in `lane` (a target dir of its own) by a fake
    /// cargo told to `mode` (`ok`, `fail`, `hang`) after `delay` seconds.
    fn artifact(&self, name: &str, lane: usize, mode: &str, delay: &str) -> ResolvedArtifact {
        let base = &self.tree.base;
        let mut a = resolved(base, OutputFormat::Zip);
        a.identity.name = name.into();
        a.identity.bin = name.into();
        a.identity.package_bins = vec![name.into()];
        a.cargo.target_dir = base.join(format!("target{lane}"));
        let env = [
            ("FAKE_MODE", mode.to_string()),
            ("FAKE_DELAY", delay.to_string()),
            ("FAKE_EXE", self.tree.exe.to_string()),
            ("FAKE_OUT", self.out(lane).to_string()),
            ("FAKE_ID", a.identity.package_id.repr.clone()),
            (
                "FAKE_MANIFEST",
                a.identity.package_dir.join("Cargo.toml").to_string(),
            ),
        ];
        a.cargo.env = env.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        a
    }

    /// Where the fake writes the executables of `lane`.
    fn out(&self, lane: usize) -> Utf8PathBuf {
        self.tree.base.join(format!("out{lane}"))
    }

    /// The plan of one artifact per `(name, lane, mode, delay)`, as [`Fake::artifact`] makes them.
    fn plan_of(&self, specs: &[(&str, usize, &str, &str)]) -> Plan {
        let artifacts = specs
            .iter()
            .map(|&(name, lane, mode, delay)| self.artifact(name, lane, mode, delay))
            .collect();
        self.plan(artifacts)
    }

    fn plan(&self, artifacts: Vec<ResolvedArtifact>) -> Plan {
        let manifest = Manifest {
            path: self.tree.base.join("lambda.kdl"),
            dir: self.tree.base.clone(),
            source: miette::NamedSource::new("lambda.kdl", Arc::from("")),
            defaults: Default::default(),
            cache: None,
            publish: None,
            workspaces: Vec::new(),
        };
        let resolved = Resolved {
            manifest,
            artifacts,
            workspaces: Default::default(),
        };
        plan_with_env(&resolved, &CargoFlags::default(), &|_| None, None).unwrap()
    }

    fn options(&self, keep_going: bool) -> Options {
        Options {
            jobs: 2,
            keep_going,
            programs: [("cargo".to_string(), self.program.clone().into())].into(),
            missing: BTreeMap::new(),
            color: false,
            source_date_epoch: None,
            interrupt: Interrupt::default(),
            sample_cpu: false,
            cache: None,
            toolchains: Default::default(),
        }
    }
}

/// Runs `plan`, returning the outcome and every event.
fn run(plan: &Plan, options: &Options) -> (RunOutcome, Vec<Event>) {
    let sink = Recorded::default();
    let outcome = execute(plan, options, &sink).unwrap();
    let events = sink.0.into_inner().unwrap();
    (outcome, events.into_iter().map(|s| s.event).collect())
}

/// The index in `plan.artifacts` of the artifact `name`.
fn index(plan: &Plan, name: &str) -> usize {
    plan.artifacts
        .iter()
        .position(|a| a.resolved.identity.name == name)
        .unwrap()
}

fn cause_of(outcome: &RunOutcome, artifact: usize) -> Option<Cause> {
    match &outcome.artifacts[artifact] {
        ArtifactOutcome::Failed { cause, .. } => Some(*cause),
        ArtifactOutcome::Packaged { .. } => None,
    }
}

#[test]
fn two_lanes_build_and_package_every_artifact() {
    let fake = Fake::new();
    let plan = fake.plan_of(&[
        ("a", 0, "ok", "0"),
        ("b", 0, "ok", "0"),
        ("c", 1, "ok", "0"),
    ]);
    assert_eq!(plan.groups.len(), 2, "one group per lane");
    let (outcome, events) = run(&plan, &fake.options(false));
    assert!(outcome.success(), "{outcome:#?}");
    assert_eq!(outcome.stopped, None);
    for (a, o) in plan.artifacts.iter().zip(&outcome.artifacts) {
        let ArtifactOutcome::Packaged { packaged, .. } = o else {
            panic!("{} not packaged: {o:?}", a.resolved.identity.name);
        };
        assert_eq!(packaged.output, a.output);
        assert!(a.output.is_file(), "{} written", a.output);
        assert_eq!(packaged.entries[0].name, "bootstrap");
    }
    let started = events
        .iter()
        .filter(|e| matches!(e, Event::GroupStarted { .. }))
        .count();
    let packaged = events
        .iter()
        .filter(|e| matches!(e, Event::ArtifactPackaged { .. }))
        .count();
    assert_eq!((started, packaged), (2, 3));
    assert!(matches!(
        events.first(),
        Some(Event::RunStarted {
            groups: 2,
            artifacts: 3,
            jobs: 2,
            ..
        })
    ));
}

#[test]
fn events_carry_the_times_the_outcome_reports() {
    let fake = Fake::new();
    let plan = fake.plan_of(&[
        ("a", 0, "ok", "0.2"),
        ("b", 0, "ok", "0.2"),
        ("c", 1, "ok", "0"),
    ]);
    let before = std::time::SystemTime::now();
    let sink = Recorded::default();
    let options = Options {
        sample_cpu: true,
        ..fake.options(false)
    };
    let outcome = execute(&plan, &options, &sink).unwrap();
    let events = sink.0.into_inner().unwrap();
    assert!(outcome.success(), "{outcome:#?}");
    assert!(outcome.started_at >= before);
    let when = |wanted: &dyn Fn(&Event) -> bool| {
        events
            .iter()
            .find(|s| wanted(&s.event))
            .map(|s| s.at)
            .unwrap()
    };
    for (g, group) in plan.groups.iter().enumerate() {
        let o = &outcome.groups[g];
        let started = when(&|e| matches!(e, Event::GroupStarted { group, .. } if *group == g));
        let finished = when(&|e| matches!(e, Event::GroupFinished { group, .. } if *group == g));
        assert_eq!(o.spawned, Some(started), "group {g}");
        assert_eq!(o.ended, finished, "group {g}");
        assert_eq!(o.queued + o.elapsed, o.ended, "group {g}");
        assert!(
            o.queued <= started && started < finished,
            "group {g}: {o:?}"
        );
        assert!(o.cpu.is_some(), "the fake cargo's CPU time, from wait4");
        assert!(
            o.command
                .as_deref()
                .is_some_and(|c| c.starts_with("FAKE_DELAY") && c.contains(" cargo build ")),
            "{o:?}"
        );
        for &a in &group.artifacts {
            let ready = when(
                &|e| matches!(e, Event::PackagingStarted { artifact, origin: Origin::Built } if *artifact == a),
            );
            let done =
                when(&|e| matches!(e, Event::ArtifactPackaged { artifact, .. } if *artifact == a));
            assert!(started <= ready && ready <= done && done <= outcome.elapsed);
        }
    }
    // The groups of lane 0 ran in turn: the second's turn came when the first ended.
    let lane0: Vec<usize> = plan
        .groups
        .iter()
        .filter(|g| g.lane == 0)
        .map(|g| g.id)
        .collect();
    if let [first, second] = lane0[..] {
        assert!(outcome.groups[second].queued >= outcome.groups[first].ended);
    }
    if std::path::Path::new("/proc/stat").exists() {
        let samples: Vec<f64> = events
            .iter()
            .filter_map(|s| match s.event {
                Event::CpuSampled { busy } => Some(busy),
                _ => None,
            })
            .collect();
        assert!(!samples.is_empty(), "a last sample at the end, at least");
        assert!(samples.iter().all(|b| (0.0..=1.0).contains(b)));
    }
}

#[test]
fn the_groups_of_a_lane_run_in_turn() {
    let fake = Fake::new();
    // Two groups in one lane (their env differs), the first slower than the second.
    let plan = fake.plan_of(&[("a", 0, "ok", "0.3"), ("b", 0, "ok", "0")]);
    assert_eq!(plan.groups.len(), 2);
    assert_eq!(plan.groups[0].lane, plan.groups[1].lane);
    let (outcome, events) = run(&plan, &fake.options(false));
    assert!(outcome.success(), "{outcome:#?}");
    let at = |wanted: &dyn Fn(&Event) -> bool| events.iter().position(wanted).unwrap();
    let first_done = at(&|e| matches!(e, Event::GroupFinished { group: 0, .. }));
    let second_started = at(&|e| matches!(e, Event::GroupStarted { group: 1, .. }));
    assert!(
        first_done < second_started,
        "the second group starts after the first ended"
    );
}

#[test]
fn fail_fast_stops_the_other_lane_and_blames_the_failing_bin() {
    let fake = Fake::new();
    // The failure comes once the other lane's child is running.
    let started = fake.tree.base.join("slow-started");
    let mut broken = fake.artifact("broken", 0, "fail", "0");
    broken
        .cargo
        .env
        .insert("FAKE_WAIT_FOR".into(), started.to_string());
    let mut slow = fake.artifact("slow", 1, "hang", "0");
    slow.cargo
        .env
        .insert("FAKE_STARTED".into(), started.to_string());
    let plan = fake.plan(vec![broken, slow]);
    let (outcome, events) = run(&plan, &fake.options(false));
    assert_eq!(outcome.stopped, Some(StopReason::Failure));
    assert!(!outcome.success());
    let broken = index(&plan, "broken");
    let ArtifactOutcome::Failed { error, cause, .. } = &outcome.artifacts[broken] else {
        panic!("broken was packaged");
    };
    assert_eq!(*cause, Cause::Build);
    assert_eq!(
        error,
        "error: could not compile `fake` (bin \"broken\") due to 1 previous error"
    );
    let slow = index(&plan, "slow");
    assert_eq!(cause_of(&outcome, slow), Some(Cause::Stopped));
    assert_eq!(
        outcome.groups[plan.artifacts[slow].group].status,
        GroupStatus::Killed,
        "the running child of the other lane is stopped"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Stopping {
            reason: StopReason::Failure
        }
    )));
    assert!(!fake.out(1).exists(), "the stopped build wrote nothing");
}

#[test]
fn keep_going_builds_the_other_lane_after_a_failure() {
    let fake = Fake::new();
    let plan = fake.plan_of(&[("broken", 0, "fail", "0"), ("fine", 1, "ok", "0.3")]);
    let (outcome, _) = run(&plan, &fake.options(true));
    assert_eq!(
        outcome.stopped, None,
        "a failure under --keep-going is no stop"
    );
    assert!(!outcome.success());
    assert_eq!(
        cause_of(&outcome, index(&plan, "broken")),
        Some(Cause::Build)
    );
    assert_eq!(cause_of(&outcome, index(&plan, "fine")), None, "packaged");
    let broken_group = plan.artifacts[index(&plan, "broken")].group;
    assert!(matches!(
        &outcome.groups[broken_group].status,
        GroupStatus::Failed(why) if why.starts_with("cargo failed (exit status: 101)")
    ));
}

#[test]
fn a_signal_stops_every_running_child() {
    let fake = Fake::new();
    let plan = fake.plan_of(&[("one", 0, "hang", "0"), ("two", 1, "hang", "0")]);
    let options = fake.options(true);
    let interrupt = options.interrupt.clone();
    let raiser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        interrupt.raise(libc::SIGINT);
    });
    let (outcome, _) = run(&plan, &options);
    raiser.join().unwrap();
    assert_eq!(outcome.stopped, Some(StopReason::Signal(libc::SIGINT)));
    assert_eq!(outcome.signal(), Some(libc::SIGINT));
    for (g, o) in plan.groups.iter().zip(&outcome.groups) {
        assert!(
            matches!(o.status, GroupStatus::Killed | GroupStatus::Skipped),
            "group {} still ran: {:?}",
            g.id,
            o.status
        );
    }
    for o in &outcome.artifacts {
        assert!(
            matches!(o, ArtifactOutcome::Failed { cause: Cause::Stopped, error, .. } if error == "not built: interrupted (Ctrl-C)"),
            "{o:?}"
        );
    }
    assert!(
        outcome.elapsed < Duration::from_secs(30),
        "the children were stopped, not waited for"
    );
}

#[test]
fn a_missing_program_fails_its_groups_without_starting_them() {
    let fake = Fake::new();
    let plan = fake.plan_of(&[("a", 0, "ok", "0"), ("b", 1, "ok", "0")]);
    let mut options = fake.options(true);
    options.missing = [(
        "cargo".to_string(),
        "not built: `cargo` is missing".to_string(),
    )]
    .into();
    let (outcome, events) = run(&plan, &options);
    assert!(outcome.missing_tool);
    for o in &outcome.artifacts {
        assert!(
            matches!(o, ArtifactOutcome::Failed { cause: Cause::Build, error, .. } if error == "not built: `cargo` is missing"),
            "{o:?}"
        );
    }
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::GroupStarted { .. }))
    );
    assert!(!fake.out(0).exists() && !fake.out(1).exists());
}

/// The cargo calls the fake logged, one line each.
fn calls(log: &Utf8PathBuf) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// `plan` with its fake cargo logging to `log`, and the input key of each artifact named in
/// `keys` (the others have none: "no Cargo.lock").
fn keyed(mut plan: Plan, keys: &[(&str, &str)], log: &Utf8PathBuf) -> (Plan, Arc<Keys>) {
    for g in &mut plan.groups {
        g.env.insert("FAKE_LOG".into(), log.to_string());
    }
    let table = plan
        .artifacts
        .iter()
        .map(|a| {
            keys.iter()
                .find(|(name, _)| *name == a.resolved.identity.name)
                .map(|(_, k)| Key {
                    digest: CacheKey::new(*k).unwrap(),
                    inputs: Vec::new(),
                    tools: BTreeMap::new(),
                })
                .ok_or_else(|| KeyError("no Cargo.lock".into()))
        })
        .collect();
    (plan, Arc::new(Keys::new(table)))
}

fn statuses(outcome: &RunOutcome) -> Vec<Option<crate::cache::CacheStatus>> {
    outcome
        .artifacts
        .iter()
        .map(|o| match o {
            ArtifactOutcome::Packaged { cache, .. } => *cache,
            ArtifactOutcome::Failed { .. } => None,
        })
        .collect()
}

#[test]
fn the_cache_supplies_what_it_has_and_cargo_builds_only_the_rest() {
    use crate::cache::{Cache, CacheLocation, CacheMode, CacheStatus::*};
    let store = tempfile::tempdir().unwrap();
    let location = CacheLocation::Directory {
        path: Utf8PathBuf::from_path_buf(store.path().join("cache")).unwrap(),
    };
    let cache_run = |mode, cache_only, keys: &Arc<Keys>| CacheRun {
        cache: Arc::new(Cache::open(location.clone(), mode)),
        cache_only,
        keys: Arc::clone(keys),
    };
    let with = |fake: &Fake, c: CacheRun| Options {
        cache: Some(c),
        ..fake.options(false)
    };
    let specs = [
        ("a", 0, "ok", "0"),
        ("b", 0, "ok", "0"),
        ("c", 0, "ok", "0"),
    ];
    let keys = [("a", "ka"), ("b", "kb"), ("c", "kc")];

    // A first machine builds everything in one call and stores each executable.
    let first = Fake::new();
    let log1 = first.tree.base.join("cargo.log");
    let (plan, table) = keyed(first.plan_of(&specs), &keys, &log1);
    assert_eq!(plan.groups.len(), 1);
    let (outcome, _) = run(
        &plan,
        &with(&first, cache_run(CacheMode::ReadWrite, false, &table)),
    );
    assert!(outcome.success(), "{outcome:#?}");
    assert_eq!(statuses(&outcome), [Some(Stored); 3]);
    assert_eq!(calls(&log1).len(), 1);

    // Another machine: every executable comes from the cache and cargo never starts.
    let second = Fake::new();
    let log2 = second.tree.base.join("cargo.log");
    let (plan, table) = keyed(second.plan_of(&specs), &keys, &log2);
    let (outcome, events) = run(
        &plan,
        &with(&second, cache_run(CacheMode::ReadWrite, false, &table)),
    );
    assert!(outcome.success(), "{outcome:#?}");
    assert_eq!(statuses(&outcome), [Some(Hit); 3]);
    assert_eq!(outcome.groups[0].status, GroupStatus::Cached);
    assert!(calls(&log2).is_empty(), "cargo started: {:?}", calls(&log2));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::GroupStarted { .. }))
    );
    for a in &plan.artifacts {
        assert!(a.output.is_file(), "{}", a.output);
    }
    let fetched = |name: &str| {
        let a = &plan.artifacts[index(&plan, name)];
        let state_dir = crate::plan::state::state_dir(&a.resolved.cargo.target_dir);
        crate::plan::state::fetched_executable(&state_dir, &a.output, &a.resolved.identity.bin)
    };
    let before = std::fs::metadata(fetched("a")).unwrap().modified().unwrap();

    // `b` changed: cargo builds `b` alone; `a` and `c` are what this machine holds for their
    // keys (nothing downloaded again) and the cache is known to have them.
    let (plan, table) = keyed(
        second.plan_of(&specs),
        &[("a", "ka"), ("b", "kb2"), ("c", "kc")],
        &log2,
    );
    let (outcome, _) = run(
        &plan,
        &with(&second, cache_run(CacheMode::ReadWrite, false, &table)),
    );
    assert!(outcome.success(), "{outcome:#?}");
    assert_eq!(statuses(&outcome), [Some(Hit), Some(Stored), Some(Hit)]);
    let logged = calls(&log2);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].contains("--bin b")
            && !logged[0].contains("--bin a")
            && !logged[0].contains("--bin c"),
        "{logged:?}"
    );
    assert_eq!(
        std::fs::metadata(fetched("a")).unwrap().modified().unwrap(),
        before
    );

    // Read mode never writes; an artifact without a key is built and missed.
    let third = Fake::new();
    let log3 = third.tree.base.join("cargo.log");
    let (plan, table) = keyed(third.plan_of(&specs), &[("a", "ka"), ("b", "kb3")], &log3);
    let objects = || walkdir::WalkDir::new(store.path()).into_iter().count();
    let count = objects();
    let (outcome, _) = run(
        &plan,
        &with(&third, cache_run(CacheMode::Read, false, &table)),
    );
    assert!(outcome.success(), "{outcome:#?}");
    assert_eq!(statuses(&outcome), [Some(Hit), Some(Miss), Some(Miss)]);
    assert_eq!(objects(), count, "read mode wrote to the cache");
    let logged = calls(&log3);
    assert!(
        logged.len() == 1 && logged[0].contains("--bin b") && logged[0].contains("--bin c"),
        "{logged:?}"
    );

    // --cache-only: what is missing fails and cargo does not start.
    let fourth = Fake::new();
    let log4 = fourth.tree.base.join("cargo.log");
    let (plan, table) = keyed(
        fourth.plan_of(&specs),
        &[("a", "ka"), ("b", "kb4"), ("c", "kc")],
        &log4,
    );
    let (outcome, _) = run(
        &plan,
        &with(&fourth, cache_run(CacheMode::ReadWrite, true, &table)),
    );
    assert!(!outcome.success());
    assert!(calls(&log4).is_empty(), "{:?}", calls(&log4));
    assert_eq!(statuses(&outcome), [Some(Hit), None, Some(Hit)]);
    let b = &outcome.artifacts[index(&plan, "b")];
    assert!(
        matches!(b, ArtifactOutcome::Failed { error, cause: Cause::Build, .. } if error.contains("--cache-only") && error.contains("not in the cache")),
        "{b:?}"
    );
    assert_eq!(
        outcome.stopped, None,
        "a missing executable does not stop the others"
    );
}

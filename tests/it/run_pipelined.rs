//! Packaging is pipelined: an artifact is packaged as soon as cargo reports its executable,
//! while the cargo process is still running. Driven through the library (`execute` with a
//! recording event sink) with a build program that runs the real cargo and then lingers until
//! the sink has seen every artifact packaged.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use camino::Utf8PathBuf;
use lambda_batch::execute::{self, Event, EventSink, GroupStatus, Interrupt, Options, Recorded};
use lambda_batch::plan::CargoFlags;

use crate::support::test::{Test, bin_source, write_executable};

/// Records every event, and when it has seen `artifacts` packaged, creates `release`, the file
/// the build program waits for before it exits. Notes when the group started and when it
/// released it.
struct Releasing {
    recorded: Recorded,
    artifacts: usize,
    packaged: AtomicUsize,
    release: PathBuf,
    started: Mutex<Option<Instant>>,
    released: Mutex<Option<Instant>>,
}

impl EventSink for Releasing {
    fn event(&self, at: Duration, event: Event) {
        match event {
            Event::GroupStarted { .. } => *self.started.lock().unwrap() = Some(Instant::now()),
            Event::ArtifactPackaged { .. }
                if self.packaged.fetch_add(1, Ordering::SeqCst) + 1 == self.artifacts =>
            {
                *self.released.lock().unwrap() = Some(Instant::now());
                fs::write(&self.release, "").unwrap();
            }
            _ => {}
        }
        self.recorded.event(at, event);
    }
}

#[test]
fn artifacts_are_packaged_while_cargo_still_runs() {
    let fx = Test::new("pipelined");
    fx.workspace(
        "svc",
        "pl-svc",
        &[
            ("pl-one", &bin_source("pl-one")),
            ("pl-two", &bin_source("pl-two")),
        ],
    );
    let manifest =
        fx.manifest("workspace \"svc\" {\n    function \"pl-one\"\n    extension \"pl-two\"\n}");
    let manifest = Utf8PathBuf::from_path_buf(manifest).unwrap();
    let checked = lambda_batch::pipeline::check_file(&manifest, &CargoFlags::default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let plan = checked.plan;
    assert_eq!(plan.groups.len(), 1);
    // cargo, then waiting until the sink has seen both outputs packaged (at most 5 minutes,
    // polling). If packaging waited for the process to end, the process would end only after
    // those 5 minutes, without the outputs, and the order checked below fails.
    let release = fx.path().join("release");
    let slow_cargo = fx.path().join("bin/slow-cargo");
    write_executable(
        &slow_cargo,
        format!(
            "#!/bin/sh\ncargo \"$@\"\nstatus=$?\ni=0\n\
             while [ $i -lt 3000 ] && [ ! -e '{}' ]; do sleep 0.1; i=$((i + 1)); done\n\
             exit $status\n",
            release.display()
        ),
    );
    let options = Options {
        jobs: 2,
        keep_going: false,
        programs: BTreeMap::from([("cargo".to_string(), slow_cargo)]),
        missing: BTreeMap::new(),
        color: false,
        source_date_epoch: None,
        interrupt: Interrupt::default(),
        sample_cpu: false,
        cache: None,
        toolchains: Default::default(),
    };
    let sink = Releasing {
        recorded: Recorded::default(),
        artifacts: plan.artifacts.len(),
        packaged: AtomicUsize::new(0),
        release,
        started: Mutex::default(),
        released: Mutex::default(),
    };
    let outcome = execute::execute(&plan, &options, &sink).unwrap();
    assert!(outcome.success(), "{outcome:#?}");

    let lingered = sink.released.into_inner().unwrap().expect("released")
        - sink.started.into_inner().unwrap().expect("started");
    let events: Vec<Event> = sink
        .recorded
        .0
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|s| s.event)
        .collect();
    let finished = events
        .iter()
        .position(|e| matches!(e, Event::GroupFinished { .. }))
        .expect("the group finished");
    let Event::GroupFinished {
        status, elapsed, ..
    } = &events[finished]
    else {
        unreachable!()
    };
    assert_eq!(status, &GroupStatus::Succeeded);
    // Its time covers the process's whole life, up to the release at least.
    assert!(*elapsed >= lingered, "{elapsed:?} < {lingered:?}");
    for artifact in 0..plan.artifacts.len() {
        let queued = events.iter().position(
            |e| matches!(e, Event::PackagingStarted { artifact: a, .. } if *a == artifact),
        );
        assert!(queued.is_some_and(|q| q < finished), "{events:#?}");
        let packaged = events
            .iter()
            .position(
                |e| matches!(e, Event::ArtifactPackaged { artifact: a, .. } if *a == artifact),
            )
            .unwrap_or_else(|| panic!("artifact {artifact} was not packaged: {events:#?}"));
        assert!(
            packaged < finished,
            "artifact {artifact} was packaged only after cargo ended: {events:#?}"
        );
    }
    // The units cargo reported were counted as they came.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::UnitCompiled { done: 2, .. }))
    );
}

//! Packaging is pipelined: an artifact is packaged as soon as cargo reports its executable,
//! while the cargo process is still running. Driven through the library (`execute` with a
//! recording event sink) with a build program that runs the real cargo and then lingers.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::test::{Test, bin_source};
use camino::Utf8PathBuf;
use lambda_batch::execute::Recorded;
use lambda_batch::execute::{self, Event, GroupStatus, Interrupt, Options};
use lambda_batch::plan::CargoFlags;

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
    // cargo, then at least 5 more seconds before the process ends, and on a machine too loaded
    // to package two small debug executables in that time, until both outputs are written (at
    // most 5 minutes), and a second more for their events. If packaging waited for the process
    // to end, the outputs could not appear while it lingers and the order checked below fails.
    let outputs: Vec<String> = plan
        .artifacts
        .iter()
        .map(|a| format!("[ -f '{}' ]", a.output))
        .collect();
    let slow_cargo = fx.write(
        "bin/slow-cargo",
        format!(
            "#!/bin/sh\ncargo \"$@\"\nstatus=$?\nsleep 5\ni=0\n\
             while [ $i -lt 300 ] && ! {{ {}; }}; do sleep 1; i=$((i + 1)); done\n\
             sleep 1\nexit $status\n",
            outputs.join(" && ")
        ),
    );
    fs::set_permissions(&slow_cargo, fs::Permissions::from_mode(0o755)).unwrap();
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
    let sink = Recorded::default();
    let outcome = execute::execute(&plan, &options, &sink).unwrap();
    assert!(outcome.success(), "{outcome:#?}");

    let events: Vec<Event> = sink
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
    assert!(*elapsed >= Duration::from_secs(5));
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

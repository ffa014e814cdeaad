//! Ctrl-C during a build: SIGINT to lambda-batch's process group (what a terminal does) while a
//! cargo child runs a slow build script and packaging is in progress. lambda-batch exits 130,
//! no process of the build is left, and no temporary file is left in any lambda-dir; its
//! `--timeline` page is still written, and shows what was done before the signal.

use std::fs;

use crate::support::page;
use crate::support::test::{
    Test, bin_source, dead_owner, processes_under, temp_files, wait_for_none,
};

/// A build script that announces itself with its pid, then takes far longer than the test.
const SLEEPY_BUILD_RS: &str = r#"fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    std::fs::write(format!("{dir}/build-script-started"), std::process::id().to_string()).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(600));
}
"#;

#[test]
fn sigint_to_the_process_group_exits_130_and_leaves_nothing_behind() {
    let fx = Test::new("interrupt");
    fx.workspace(
        "a-quick",
        "ci-quick",
        &[("ci-quick", &bin_source("ci-quick"))],
    );
    // Incompressible, so that zipping it is still going on when the next group's build script
    // has started (groups of a lane run in workspace order).
    let mut noise = Vec::with_capacity(24 << 20);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while noise.len() < 24 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    fx.write("a-quick/noise.bin", &noise);
    fx.workspace(
        "b-sleepy",
        "ci-sleepy",
        &[("ci-sleepy", &bin_source("ci-sleepy"))],
    );
    fx.write("b-sleepy/build.rs", SLEEPY_BUILD_RS);
    fx.manifest(
        "workspace \"a-quick\" {\n    function \"ci-quick\" {\n        include \"noise.bin\"\n    }\n}\n\nworkspace \"b-sleepy\" {\n    function \"ci-sleepy\"\n}",
    );
    // Leftovers of an earlier run killed outright, in a lambda-dir and an artifact's folder:
    // the run sweeps them at its start (their process is gone).
    let out = fx.path().join("out");
    let dead = dead_owner();
    let planted = [
        fx.write(&format!("out/x86_64/{dead}-planted"), "partial"),
        fx.write(&format!("out/x86_64/ci-quick/{dead}-planted"), "partial"),
    ];

    let mut run = fx
        .lb(&[
            "run",
            "--report",
            "report.json",
            "--timeline",
            "timeline.html",
        ])
        .process_group()
        .start(fx.path(), "run");
    let logs = || {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            fs::read_to_string(fx.path().join("run.stdout")).unwrap_or_default(),
            fs::read_to_string(fx.path().join("run.stderr")).unwrap_or_default()
        )
    };

    let marker = fx.path().join("b-sleepy/build-script-started");
    run.wait_until("the build script started", || marker.exists());
    let build_script_pid = fs::read_to_string(&marker).unwrap();
    // ... and until packaging is writing its zip (it hashes its inputs first).
    let zip = out.join("x86_64/ci-quick/bootstrap.zip");
    assert!(
        planted.iter().all(|p| !p.exists()),
        "the leftovers of a dead run are swept at the start"
    );
    run.wait_until("packaging started", || {
        if !temp_files(&out).is_empty() {
            return true;
        }
        assert!(
            !zip.exists(),
            "packaging finished before it could be interrupted: make noise.bin bigger\n{}",
            logs()
        );
        false
    });

    run.signal_group(libc::SIGINT);
    let status = run.wait();
    assert_eq!(status.code(), Some(130), "{}", logs());
    assert!(logs().contains("interrupted"), "{}", logs());

    // Nothing of the build is left running: not cargo, rustc, nor the build script (what was
    // killed exits as soon as it is scheduled).
    wait_for_none("processes of the build", || processes_under(fx.path()));
    wait_for_none("the build script", || {
        let script_cwd = fs::read_link(format!("/proc/{}/cwd", build_script_pid.trim()));
        match script_cwd {
            Ok(cwd) if cwd.starts_with(fx.path()) => vec![build_script_pid.clone()],
            _ => Vec::new(),
        }
    });
    assert_eq!(temp_files(&out), Vec::<String>::new(), "{}", logs());
    assert!(!out.join("x86_64/ci-sleepy/bootstrap.zip").exists());
    // Cancelled mid-write: no zip at all rather than a truncated one.
    assert!(!zip.exists(), "{}", logs());
    let report: lambda_batch::report::Report =
        serde_json::from_str(&fs::read_to_string(fx.path().join("report.json")).unwrap()).unwrap();
    assert!(!report.success);

    // The timeline: the quick call built, the sleepy one stopped; the quick output's
    // executable was ready and its packaging stopped; the sleepy one never got that far.
    use lambda_batch::report::run_report::CallStatus;
    let statuses: Vec<CallStatus> = report.cargo_calls.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [CallStatus::Succeeded, CallStatus::Killed],
        "{}",
        logs()
    );
    let doc = page::parse(&fx.path().join("timeline.html"));
    assert_eq!(page::select(&doc, "svg g.call > rect.call.built").len(), 1);
    assert_eq!(page::select(&doc, "svg g.call > rect.call.killed").len(), 1);
    assert_eq!(page::select(&doc, "svg g.output").len(), 2);
    assert_eq!(
        page::select(&doc, "svg g.output line.ready + rect.pack.stopped").len(),
        1,
        "the quick output: ready, then its packaging stopped"
    );
    assert_eq!(
        page::select(&doc, "svg g.output path.cross.stopped").len(),
        1
    );
    let facts: String = page::select(&doc, "table.facts")[0].text().collect();
    assert!(facts.contains("Endedinterrupted"), "{facts}");
    let summary: String = page::select(&doc, "p.summary")[0].text().collect();
    assert!(summary.ends_with("(interrupted)"), "{summary}");
}

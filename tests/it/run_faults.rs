//! Faults during `run`, each one as a user or a machine inflicts it: SIGKILL in the middle of a
//! build and of packaging followed by another run, SIGINT/SIGTERM/SIGHUP, outputs deleted or
//! truncated by hand, two runs of one manifest at once with one interrupted, a lambda-dir that
//! cannot be written (a file in the way, a read-only or full file system), includes that
//! match what cannot be shipped, an output inside an included directory, and a stdout that is
//! closed early or full. After each: no truncated output, no temporary file anywhere, nothing
//! wrongly `fresh`, no process left, an exit code that says what happened.
//!
//! Builds are real cargo builds of one-line bins. The tests whose build script sleeps use a
//! target dir of their own: cargo locks a target dir while it builds, and a sleeping build
//! would stall every other test sharing `target/shared`.

use crate::support::test;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use crate::support::test::{
    Invocation, Started, Test, bin_source, processes_under, statuses, temp_files, wait_for_none,
    zip_entries,
};
use lambda_batch::report::{Report, Status};

/// A build script that, while `LBF_SLEEP=1`, announces itself with its pid and sleeps far
/// longer than any test; otherwise it does nothing. Declared with `rerun-if-env-changed`, so
/// that the next run without the variable builds again.
const SLEEPY_BUILD_RS: &str = r#"fn main() {
    println!("cargo:rerun-if-env-changed=LBF_SLEEP");
    if std::env::var("LBF_SLEEP").as_deref() == Ok("1") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        std::fs::write(format!("{dir}/build-script-started"), std::process::id().to_string()).unwrap();
        std::thread::sleep(std::time::Duration::from_secs(600));
    }
}
"#;

/// Incompressible bytes, so that zipping them takes a while.
fn noise(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// A workspace `ws` (package `fault-<bin>`, one bin `bin` and the sleepy build script) and a
/// manifest building it as a zip into `out/{arch}`, in a target dir of its own, with `body`
/// inside the function node.
fn sleepy(bin: &str, body: &str) -> Test {
    let fx = Test::new(bin);
    fx.workspace("ws", &format!("fault-{bin}"), &[(bin, &bin_source(bin))]);
    fx.write("ws/build.rs", SLEEPY_BUILD_RS);
    fx.write(
        "lambda.kdl",
        format!(
            "defaults {{\n    profile \"dev\"\n    compiler \"cargo\"\n    output-format \"zip\"\n    lambda-dir \"out/{{arch}}\"\n    target-dir \"target\"\n}}\n\nworkspace \"ws\" {{\n    function \"{bin}\" {{\n{body}\n    }}\n}}\n"
        ),
    );
    fx
}

/// `lambda-batch ARGS` with extra environment, started in the background; its output goes
/// to `<name>.stdout` and `<name>.stderr` in the test's directory.
fn start(fx: &Test, args: &[&str], env: &[(&str, &str)], name: &str) -> Started {
    let mut invocation = fx.lb(args);
    for (k, v) in env {
        invocation = invocation.env(k, v);
    }
    invocation.start(fx.path(), name)
}

/// Kills what a SIGKILLed lambda-batch could not: the build script its cargo child started
/// (cargo dies with lambda-batch; a build script is cargo's child, not ours).
fn kill_leftovers(dir: &Path) {
    for p in processes_under(dir) {
        if let Some(pid) = p.split(':').next().and_then(|p| p.parse::<i32>().ok()) {
            // SAFETY: kill(2) on a process of this test's tree.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// The report of the last run.
fn report(fx: &Test) -> Report {
    serde_json::from_str(&fs::read_to_string(fx.path().join("report.json")).unwrap()).unwrap()
}

/// No temporary file in the output and state directories.
#[track_caller]
fn no_temp_files(fx: &Test) {
    for dir in ["out", "target/lambda-batch"] {
        assert_eq!(
            temp_files(&fx.path().join(dir)),
            Vec::<String>::new(),
            "in {dir}"
        );
    }
}

/// This user's owner lock files of lambda-batch processes (see `atomic`).
fn owner_locks() -> Vec<String> {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("lambda-batch-owners-{uid}"));
    fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sigkill_in_the_middle_of_a_build_then_another_run() {
    let fx = sleepy("fk-build", "");
    let mut run = start(&fx, &["run"], &[("LBF_SLEEP", "1")], "first");
    let marker = fx.path().join("ws/build-script-started");
    run.wait_until("the build script started", || marker.exists());
    run.signal(libc::SIGKILL);
    assert_eq!(run.wait().signal(), Some(libc::SIGKILL));
    // Its cargo child dies with it (PR_SET_PDEATHSIG): the kernel signals it at once, and it
    // is gone as soon as it has handled that.
    wait_for_none("cargo outliving lambda-batch", || {
        processes_under(fx.path())
            .into_iter()
            .filter(|p| p.contains("cargo build"))
            .collect()
    });
    kill_leftovers(fx.path());
    assert!(!fx.path().join("out/x86_64/fk-build/bootstrap.zip").exists());

    let (_, report) = fx.run_with_report(&[], 0);
    assert_eq!(
        statuses(&report).values().collect::<Vec<_>>(),
        [&Status::Built]
    );
    let entries = zip_entries(&fx.path().join("out/x86_64/fk-build/bootstrap.zip"));
    assert_eq!(entries["bootstrap"].0, 0o755);
    no_temp_files(&fx);
    // Its record is right: the next run finds everything fresh.
    let (_, report) = fx.run_with_report(&[], 0);
    assert_eq!(
        statuses(&report).values().collect::<Vec<_>>(),
        [&Status::Fresh]
    );
}

#[test]
fn sigkill_in_the_middle_of_packaging_then_another_run() {
    let fx = sleepy("fk-pack", "        include \"noise.bin\"");
    let bytes = noise(48 << 20);
    fx.write("ws/noise.bin", &bytes);
    let out = fx.path().join("out");
    let zip = out.join("x86_64/fk-pack/bootstrap.zip");
    let mut run = start(&fx, &["run"], &[], "first");
    run.wait_until("packaging started", || !temp_files(&out).is_empty());
    assert!(
        !zip.exists(),
        "packaging finished before it could be killed"
    );
    let pid = run.pid();
    run.signal(libc::SIGKILL);
    run.wait();
    // What SIGKILL leaves: a temporary file (and the dead process's lock file), no zip.
    let left = temp_files(&out);
    assert!(!left.is_empty());
    assert!(
        left.iter().all(|f| f.contains(&format!("-tmp-{pid}-"))),
        "{left:?}"
    );
    assert!(!zip.exists());
    assert!(
        owner_locks()
            .iter()
            .any(|l| l.starts_with(&format!("{pid}-")))
    );

    let (_, report) = fx.run_with_report(&[], 0);
    assert_eq!(
        statuses(&report).values().collect::<Vec<_>>(),
        [&Status::Built]
    );
    let entries = zip_entries(&zip);
    assert_eq!(entries["noise.bin"].1, bytes, "the include is whole");
    no_temp_files(&fx);
    assert!(
        !owner_locks()
            .iter()
            .any(|l| l.starts_with(&format!("{pid}-"))),
        "the dead run's lock file is swept"
    );
}

#[test]
fn sigint_sigterm_and_sighup_end_a_run_and_leave_nothing() {
    let fx = sleepy("fk-signal", "");
    let marker = fx.path().join("ws/build-script-started");
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let _ = fs::remove_file(&marker);
        // -j 1024: far more jobs than CPUs must not mean more threads.
        let mut run = start(
            &fx,
            &["run", "-j", "1024", "--report", "report.json"],
            &[("LBF_SLEEP", "1")],
            &format!("signal-{signal}"),
        );
        run.wait_until("the build script started", || marker.exists());
        let threads = fs::read_to_string(format!("/proc/{}/status", run.pid()))
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix("Threads:")
                    .map(|n| n.trim().parse::<usize>().unwrap())
            })
            .unwrap();
        assert!(threads < 32, "{threads} threads with -j 1024");
        // To lambda-batch alone, as `timeout` or a closed SSH session sends it. How long it
        // takes to stop is measured in BENCHMARKS.md (`scripts/bench-faults.sh`).
        run.signal(signal);
        let status = run.wait();
        assert_eq!(status.code(), Some(128 + signal), "{}", run.logs());
        // Nothing of the build survives it (what it killed exits as soon as it is scheduled).
        wait_for_none(&format!("signal {signal}: processes of the build"), || {
            processes_under(fx.path())
        });
        no_temp_files(&fx);
        assert!(
            !fx.path()
                .join("out/x86_64/fk-signal/bootstrap.zip")
                .exists()
        );
        assert!(!report(&fx).success);
    }
}

#[test]
fn outputs_deleted_or_truncated_by_hand_are_packaged_again() {
    let fx = Test::new("by-hand");
    fx.workspace(
        "ws",
        "fault-by-hand",
        &[("fk-hand", &bin_source("fk-hand"))],
    );
    fx.write("ws/LICENSE", "MIT\n");
    fx.manifest(
        "workspace \"ws\" {\n    include \"LICENSE\"\n    function \"fk-hand\"\n    function \"fk-hand-bin\" bin=\"fk-hand\" {\n        output-format \"binary\"\n    }\n}",
    );
    fx.run_with_report(&[], 0);
    let zip = fx.path().join("out/x86_64/fk-hand/bootstrap.zip");
    let exe = fx.path().join("out/x86_64/fk-hand-bin/bootstrap");
    let copy = fx.path().join("out/x86_64/fk-hand-bin/LICENSE");
    let (zip_sha, exe_sha) = (
        fx.hash("out/x86_64/fk-hand/bootstrap.zip"),
        fx.hash("out/x86_64/fk-hand-bin/bootstrap"),
    );
    let damage: [(&str, &dyn Fn()); 4] = [
        ("zip truncated", &|| {
            fs::OpenOptions::new()
                .write(true)
                .open(&zip)
                .unwrap()
                .set_len(100)
                .unwrap()
        }),
        ("zip deleted", &|| fs::remove_file(&zip).unwrap()),
        ("executable truncated", &|| {
            fs::OpenOptions::new()
                .write(true)
                .open(&exe)
                .unwrap()
                .set_len(10)
                .unwrap()
        }),
        ("include copy deleted", &|| fs::remove_file(&copy).unwrap()),
    ];
    for (what, harm) in damage {
        harm();
        let (_, report) = fx.run_with_report(&[], 0);
        let built: Vec<Status> = statuses(&report).into_values().collect();
        assert!(built.contains(&Status::Built), "{what}: {built:?}");
        assert_eq!(
            fx.hash("out/x86_64/fk-hand/bootstrap.zip"),
            zip_sha,
            "{what}"
        );
        assert_eq!(
            fx.hash("out/x86_64/fk-hand-bin/bootstrap"),
            exe_sha,
            "{what}"
        );
        assert_eq!(fx.read("out/x86_64/fk-hand-bin/LICENSE"), "MIT\n", "{what}");
    }
}

#[test]
fn two_runs_of_one_manifest_at_once_one_interrupted() {
    let fx = sleepy("fk-twice", "        include \"noise.bin\"");
    let bytes = noise(24 << 20);
    fx.write("ws/noise.bin", &bytes);
    // Built once, so that the next runs go straight to packaging.
    fx.run_with_report(&[], 0);
    fs::remove_file(fx.path().join("out/x86_64/fk-twice/bootstrap.zip")).unwrap();
    let out = fx.path().join("out");
    let of = |pid: i32| {
        let mark = format!("-tmp-{pid}-");
        temp_files(&out).iter().any(|f| f.contains(&mark))
    };
    // Each run is frozen (SIGSTOP) once it is writing its zip, so that both are surely in
    // the middle of packaging when the first one gets Ctrl-C.
    let mut first = start(&fx, &["run"], &[], "first");
    let pid = first.pid();
    first.wait_until("the first run is packaging", || of(pid));
    first.signal(libc::SIGSTOP);
    let mut second = start(&fx, &["run", "--report", "report.json"], &[], "second");
    let pid2 = second.pid();
    second.wait_until("the second run is packaging", || of(pid2));
    second.signal(libc::SIGSTOP);
    first.signal(libc::SIGINT);
    first.signal(libc::SIGCONT);
    assert_eq!(first.wait().code(), Some(130), "{}", first.logs());
    assert!(
        of(pid2),
        "the interrupted run removed the other run's temporary file"
    );
    second.signal(libc::SIGCONT);
    let status = second.wait();
    assert_eq!(status.code(), Some(0), "{}", second.logs());
    let entries = zip_entries(&out.join("x86_64/fk-twice/bootstrap.zip"));
    assert_eq!(entries["noise.bin"].1, bytes);
    assert!(report(&fx).success);
    no_temp_files(&fx);
}

/// A tmpfs mounted at `at` (options `opts`) while it lives; `None` where mounting is not
/// allowed (the test then says so and checks what it can).
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, opts: &str) -> Option<Mount> {
        fs::create_dir_all(at).unwrap();
        let ok = Invocation::program("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(at)
            .output()
            .code
            == 0;
        if !ok {
            eprintln!(
                "note: cannot mount a tmpfs at {} here: that case is not tested",
                at.display()
            );
        }
        ok.then(|| Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        Invocation::program("umount").arg(&self.0).output();
    }
}

#[test]
fn a_lambda_dir_that_cannot_be_written() {
    let fx = Test::new("unwritable");
    fx.workspace("ws", "fault-unwritable", &[("fk-ro", &bin_source("fk-ro"))]);
    fx.manifest("workspace \"ws\" {\n    function \"fk-ro\"\n}");
    // A file where the lambda-dir should be.
    fx.write("out", "not a directory");
    let (run, report) = fx.run_with_report(&[], 1);
    assert!(run.stderr.contains("out/x86_64"), "{}", run.stderr);
    assert!(!report.success);
    assert_eq!(fx.read("out"), "not a directory");
    fs::remove_file(fx.path().join("out")).unwrap();

    // A read-only file system (root ignores permission bits, not a read-only mount).
    if let Some(_ro) = Mount::tmpfs(&fx.path().join("out"), "ro,size=1m") {
        let (run, _) = fx.run_with_report(&[], 1);
        assert!(
            run.stderr.contains("Read-only file system"),
            "{}",
            run.stderr
        );
    }

    // A full one: 64 KiB cannot hold the zip (over 150 KiB, even without debug info).
    if let Some(_full) = Mount::tmpfs(&fx.path().join("out"), "size=64k") {
        let (run, _) = fx.run_with_report(&[], 1);
        assert!(
            run.stdout.contains("No space left on device"),
            "{}",
            test::describe(&run)
        );
        assert!(
            run.stdout.contains("out/x86_64/fk-ro/bootstrap.zip"),
            "{}",
            run.stdout
        );
        assert!(!run.stderr.contains("ZipWriter") && !run.stdout.contains("ZipWriter"));
        assert_eq!(temp_files(&fx.path().join("out")), Vec::<String>::new());
        assert!(!fx.path().join("out/x86_64/fk-ro/bootstrap.zip").exists());
    }

    // The freshness records on a full disk, after the output was written: a warning, not a
    // failure, and the next run packages again rather than trusting a record it has not.
    let state = fx.path().join("target");
    fs::create_dir_all(&state).unwrap();
    fx.write(
        "lambda.kdl",
        fx.manifest_text().replace(
            &format!("target-dir \"{}\"", test::shared_target().display()),
            "target-dir \"target\"",
        ),
    );
    if let Some(_full) = Mount::tmpfs(&state.join("lambda-batch/stamps"), "size=64k") {
        fs::write(
            state.join("lambda-batch/stamps/filler"),
            vec![0u8; 64 << 10],
        )
        .ok();
        let (run, report) = fx.run_with_report(&[], 0);
        assert!(
            run.stderr
                .contains("was written, but not its freshness record"),
            "{}",
            run.stderr
        );
        assert_eq!(
            statuses(&report).into_values().collect::<Vec<_>>(),
            [Status::Built]
        );
        zip_entries(&fx.path().join("out/x86_64/fk-ro/bootstrap.zip"));
        let (_, report) = fx.run_with_report(&[], 0);
        assert_eq!(
            statuses(&report).into_values().collect::<Vec<_>>(),
            [Status::Built]
        );
    }
}

#[test]
fn includes_refuse_what_they_cannot_ship_by_name_and_never_hang() {
    let fx = Test::new("includes");
    fx.workspace("ws", "fault-includes", &[("fk-inc", &bin_source("fk-inc"))]);
    fx.write("ws/assets/ok.txt", "ok");
    fx.manifest(
        "workspace \"ws\" {\n    function \"fk-inc\" {\n        include \"assets\"\n    }\n}",
    );
    // What the case is, how it puts the file in place, what the error says.
    type Case<'a> = (&'a str, &'a dyn Fn(&Path), &'a str);
    let cases: [Case; 3] = [
        (
            "a FIFO",
            &|p| {
                let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
                // SAFETY: mkfifo with a NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
            },
            "is a FIFO (named pipe), not a regular file",
        ),
        (
            "a name that is not UTF-8",
            &|p| fs::write(p, "x").unwrap(),
            "its name is not UTF-8",
        ),
        (
            "a backslash",
            &|p| fs::write(p, "x").unwrap(),
            "its name has a `\\`",
        ),
    ];
    let names: [&[u8]; 3] = [b"pipe", b"bad\xff.txt", b"a\\b.txt"];
    for ((what, make, message), name) in cases.iter().zip(names) {
        use std::os::unix::ffi::OsStrExt;
        let path = fx
            .path()
            .join("ws/assets")
            .join(std::ffi::OsStr::from_bytes(name));
        make(&path);
        let mut run = start(&fx, &["run"], &[], "include");
        let status = run.wait();
        let logs = run.logs();
        assert_eq!(status.code(), Some(2), "{what}\n{logs}");
        assert!(logs.contains(message), "{what}\n{logs}");
        let shown = String::from_utf8_lossy(name).into_owned();
        assert!(
            logs.contains(&format!("`assets/{shown}`")),
            "{what}: not named\n{logs}"
        );
        assert!(
            !fx.path().join("out").exists(),
            "{what}: something was built"
        );
        fs::remove_file(&path).unwrap();
    }
    fx.run_with_report(&[], 0);
}

#[test]
fn an_output_inside_an_included_directory_is_refused_before_any_build() {
    let fx = Test::new("output-included");
    fx.workspace(
        "ws",
        "fault-output-included",
        &[("fk-self", &bin_source("fk-self"))],
    );
    fx.write("ws/dist/README", "outputs go here\n");
    let manifest = |include: &str| {
        format!(
            "defaults {{\n    profile \"dev\"\n    compiler \"cargo\"\n    output-format \"zip\"\n    lambda-dir \"ws/dist/{{arch}}\"\n    target-dir \"{}\"\n}}\n\nworkspace \"ws\" {{\n    include \"{include}\"\n    function \"fk-self\"\n}}\n",
            test::shared_target().display()
        )
    };
    fx.write("lambda.kdl", manifest("dist"));
    let run = fx.lb(&["run"]).status(2);
    assert!(
        run.stderr
            .contains("include `dist` of `fk-self` would pack")
            && run.stderr.contains("its own output"),
        "{}",
        run.stderr
    );
    assert!(!fx.path().join("ws/dist/x86_64").exists());
    // Narrowed to what is meant, the zip stays the same size run after run.
    fx.write("lambda.kdl", manifest("dist/README"));
    fx.run_with_report(&[], 0);
    let first = fx.hash("ws/dist/x86_64/fk-self/bootstrap.zip");
    let (_, report) = fx.run_with_report(&["--only", "fk-self"], 0);
    assert_eq!(
        statuses(&report).into_values().collect::<Vec<_>>(),
        [Status::Fresh]
    );
    assert_eq!(fx.hash("ws/dist/x86_64/fk-self/bootstrap.zip"), first);
    // Packed already by an older lambda-batch? The pattern is judged, not the disk.
    fx.write("lambda.kdl", manifest("**/*.zip"));
    fx.lb(&["check"]).status(2);
}

#[test]
fn stdout_closed_early_or_full() {
    let fx = Test::new("stdout");
    fx.workspace("ws", "fault-stdout", &[("fk-out", &bin_source("fk-out"))]);
    let many: String = (0..1000)
        .map(|i| format!("    function \"f{i}\" bin=\"fk-out\"\n"))
        .collect();
    fx.manifest(&format!("workspace \"ws\" {{\n{many}}}"));
    // `lambda-batch list | head -1`, for every command that writes much to stdout.
    for args in [
        &["list"][..],
        &["list", "--format", "json"],
        &["plan"],
        &["plan", "--format", "json"],
        &["run", "--dry-run"],
        &["schema"],
    ] {
        let mut child = fx.lb(args).spawn();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The reader goes away, as `head -1` does.
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!first.is_empty());
    }
    // A full stdout is an error people hear about.
    for args in [
        &["list"][..],
        &["plan", "--format", "json"],
        &["check", "--format", "json"],
    ] {
        let run = fx
            .lb(args)
            .stdout(fs::File::create("/dev/full").unwrap())
            .status(1);
        assert!(
            run.stderr.contains("No space left on device"),
            "{args:?}: {}",
            run.stderr
        );
    }

    // `run`: its outputs stay whatever becomes of the summary.
    fx.manifest("workspace \"ws\" {\n    function \"fk-out\"\n}");
    let zip = fx.path().join("out/x86_64/fk-out/bootstrap.zip");
    let run = fx
        .lb(&["run", "--report", "report.json"])
        .stdout(fs::File::create("/dev/full").unwrap())
        .status(1);
    assert!(
        run.stderr
            .contains("cannot write the summary to stdout: No space left on device"),
        "{}",
        run.stderr
    );
    zip_entries(&zip);
    assert!(report(&fx).success, "the report says the build succeeded");
    // A timeline that cannot be written fails the run; the outputs and the report stay.
    fs::write(fx.path().join("a-file"), "").unwrap();
    fs::remove_file(fx.path().join("report.json")).unwrap();
    let run = fx
        .lb(&[
            "run",
            "--report",
            "report.json",
            "--timeline",
            "a-file/timeline.html",
        ])
        .status(1);
    assert!(
        run.stderr
            .contains("cannot write the timeline `a-file/timeline.html`"),
        "{}",
        run.stderr
    );
    zip_entries(&zip);
    assert!(report(&fx).success, "the report says the build succeeded");
    // Closed before the summary: quietly, and with the run's own exit code.
    let mut child = fx.lb(&["run"]).spawn();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error"),
        "{stderr}"
    );
    zip_entries(&zip);
}

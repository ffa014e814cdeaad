//! How a test runs a process: an [`Invocation`] is lambda-batch (or another program a test
//! needs, such as cargo, qemu or an executable taken out of a zip) with its arguments, working
//! directory and environment, not started yet. Every invocation starts from the same
//! [hermetic](Invocation::hermetic) environment, so that nothing of the caller's shell (a
//! `RUSTFLAGS`, a cache setting, `GITHUB_ACTIONS`) reaches a test, and a test adds what it is
//! about with [`Invocation::env`].
//!
//! It ends in one of three ways: [`Invocation::status`] runs it to the end and asserts its exit
//! code before anything else is looked at; [`Invocation::start`] leaves it running in the
//! background ([`Started`]) for the tests that signal or stop it; [`Invocation::spawn`] hands
//! the child to a test that reads or closes its pipes itself.
//!
//! Waiting is polling with a deadline ([`HANG`]) that only fails: a test never sleeps for a
//! guessed time, and never asserts how fast something was (speed is measured in
//! BENCHMARKS.md, by scripts, with the machine's load recorded).

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a test waits for something that must happen before it calls it a hang and fails:
/// far longer than anything takes on a loaded machine, so that reaching it means the awaited
/// thing never happens.
pub const HANG: Duration = Duration::from_secs(180);

/// How often a waiting test looks again.
const POLL: Duration = Duration::from_millis(10);

/// The variables a test's processes keep from the test's own environment; every other one is
/// cleared. Where the tools are: `PATH`, the homes of cargo, rustup and pyenv (whose shims run
/// cargo-zigbuild, zig and cargo-lambda), the cargo and toolchain that run the tests; the user,
/// locale and temp dir; and the suite's build settings (`scripts/test.sh`), which reach every
/// fixture build alike.
const KEPT: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "CARGO",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "CARGO_PROFILE_DEV_DEBUG",
    "CARGO_INCREMENTAL",
];

/// One run of a program, not started yet.
pub struct Invocation {
    command: Command,
}

impl Invocation {
    /// `lambda-batch --color never ARGS` in `dir`.
    pub fn lb(dir: &Path, args: &[&str]) -> Invocation {
        Invocation::program(env!("CARGO_BIN_EXE_lambda-batch"))
            .args(["--color", "never"])
            .args(args)
            .current_dir(dir)
    }

    /// `program`, in the test's working directory until [`Invocation::current_dir`] says
    /// otherwise.
    pub fn program(program: impl AsRef<OsStr>) -> Invocation {
        Invocation {
            command: Command::new(program),
        }
        .hermetic()
    }

    /// Clears the environment, then sets back the variables of [`KEPT`] from the test's own
    /// and turns colors off (`NO_COLOR=1`, `CARGO_TERM_COLOR=never`). Every constructor starts
    /// with it; called again, it drops what was set since.
    pub fn hermetic(mut self) -> Invocation {
        self.command.env_clear();
        for key in KEPT {
            if let Some(value) = std::env::var_os(key) {
                self.command.env(key, value);
            }
        }
        self.command
            .env("NO_COLOR", "1")
            .env("CARGO_TERM_COLOR", "never");
        self
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Invocation {
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args(mut self, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Invocation {
        self.command.args(args);
        self
    }

    /// Runs it in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Invocation {
        self.command.current_dir(dir);
        self
    }

    /// Sets an environment variable of the process.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Invocation {
        self.command.env(key, value);
        self
    }

    /// Removes an environment variable from the process.
    pub fn env_remove(mut self, key: &str) -> Invocation {
        self.command.env_remove(key);
        self
    }

    /// Where its standard output goes (a pipe unless set: [`Invocation::status`] captures it).
    pub fn stdout(mut self, to: impl Into<Stdio>) -> Invocation {
        self.command.stdout(to);
        self
    }

    /// Starts it as the leader of a process group of its own, as a shell starts a job, so that
    /// [`Started::signal_group`] reaches it and every process it starts.
    pub fn process_group(mut self) -> Invocation {
        use std::os::unix::process::CommandExt;
        self.command.process_group(0);
        self
    }

    /// The command itself, for support code that starts a process in its own way (a server
    /// tied to the test binary's life, a bootstrap served by a Runtime API): still from the
    /// hermetic environment.
    pub fn into_command(self) -> Command {
        self.command
    }

    /// Runs it and asserts that it exits with `code`.
    #[track_caller]
    pub fn status(self, code: i32) -> Run {
        let run = self.output();
        assert_eq!(run.code, code, "exit status\n{}", describe(&run));
        run
    }

    /// Runs it without asserting its exit code: for a test that goes through a corpus and
    /// reports every input that fails together, with the code among the facts it checks.
    #[track_caller]
    pub fn output(mut self) -> Run {
        let output = self
            .command
            .output()
            .unwrap_or_else(|e| panic!("{:?} does not start: {e}", self.command));
        Run {
            code: output.status.code().unwrap_or(-1),
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts it with its standard output and error piped, for a test that reads or closes
    /// them itself.
    #[track_caller]
    pub fn spawn(mut self) -> Child {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{:?} does not start: {e}", self.command))
    }

    /// Starts it in the background, its standard output and error written to
    /// `<dir>/<name>.stdout` and `<dir>/<name>.stderr`.
    #[track_caller]
    pub fn start(mut self, dir: &Path, name: &str) -> Started {
        let logs = dir.join(name);
        let child = self
            .command
            .stdin(Stdio::null())
            .stdout(fs::File::create(logs.with_extension("stdout")).expect("a log file"))
            .stderr(fs::File::create(logs.with_extension("stderr")).expect("a log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("{:?} does not start: {e}", self.command));
        Started { child, logs }
    }
}

/// What one run of a program did.
#[derive(Debug)]
pub struct Run {
    /// Its exit code (-1 when a signal ended it).
    pub code: i32,
    /// Its exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// The exit status, stdout and stderr of a run, for assertion messages.
pub fn describe(run: &Run) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        run.status, run.stdout, run.stderr
    )
}

/// A process started in the background by [`Invocation::start`]; killed if the test leaves
/// it running.
pub struct Started {
    child: Child,
    logs: PathBuf,
}

impl Started {
    /// Its process id.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a pid")
    }

    /// What it wrote so far, for assertion messages.
    pub fn logs(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            fs::read_to_string(self.logs.with_extension("stdout")).unwrap_or_default(),
            fs::read_to_string(self.logs.with_extension("stderr")).unwrap_or_default()
        )
    }

    /// Sends `signal` to the process.
    #[track_caller]
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0);
    }

    /// Sends `signal` to its process group ([`Invocation::process_group`]), as a terminal
    /// sends Ctrl-C to a job.
    #[track_caller]
    pub fn signal_group(&self, signal: i32) {
        // SAFETY: kill(2) on the process group this test created for its child.
        assert_eq!(unsafe { libc::kill(-self.pid(), signal) }, 0);
    }

    /// Polls until `ready()`; fails when the process ends first or when [`HANG`] passes.
    #[track_caller]
    pub fn wait_until(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + HANG;
        while !ready() {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                panic!("ended ({status}) before {what}\n{}", self.logs());
            }
            assert!(Instant::now() < deadline, "never {what}\n{}", self.logs());
            std::thread::sleep(POLL);
        }
    }

    /// Waits for it to exit; kills it and fails when [`HANG`] passes first.
    #[track_caller]
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + HANG;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                return status;
            }
            if Instant::now() >= deadline {
                self.kill();
                panic!("still running after {HANG:?}\n{}", self.logs());
            }
            std::thread::sleep(POLL);
        }
    }

    fn kill(&mut self) {
        if let Ok(pgid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on the group of our own child, if it leads one (else ESRCH).
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// Polls until `ready()`; fails naming `what` when [`HANG`] passes first.
#[track_caller]
pub fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG;
    while !ready() {
        assert!(Instant::now() < deadline, "never {what} (waited {HANG:?})");
        std::thread::sleep(POLL);
    }
}

/// Polls until `found()` finds nothing; fails naming `what` and listing what it found last
/// when [`HANG`] passes first. For what must go away: a killed process is only gone once the
/// kernel has scheduled it to exit, which on a loaded machine is not at once.
#[track_caller]
pub fn wait_for_none(what: &str, mut found: impl FnMut() -> Vec<String>) {
    let deadline = Instant::now() + HANG;
    loop {
        let left = found();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still there after {HANG:?}: {left:#?}"
        );
        std::thread::sleep(POLL);
    }
}

/// Writes `bytes` to `path` as an executable (mode 755) that can be run at once. The bytes go
/// to a file beside it that is never run, and `install` copies them: a test process writing
/// the executable itself could have its descriptor inherited by a child another test thread
/// forks at that moment, and running the file fails with "text file busy" until that child
/// execs. `install` is single-threaded and forks nothing.
#[track_caller]
pub fn write_executable(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create dirs");
    }
    let mut staged = path.as_os_str().to_owned();
    staged.push(".staged");
    let staged = PathBuf::from(staged);
    fs::write(&staged, bytes).expect("write the staged executable");
    Invocation::program("install")
        .args(["-m", "755"])
        .arg(&staged)
        .arg(path)
        .status(0);
    fs::remove_file(&staged).expect("remove the staged executable");
}

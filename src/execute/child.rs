//! One cargo child process. It runs in a process group of its own, so that stopping it reaches
//! everything it started (rustc, build scripts, linkers, zig) with one `kill(-pgid)`, whether
//! the Ctrl-C came from a terminal or was sent to lambda-batch alone. Its stdout is parsed as
//! cargo's JSON message stream and its stderr read line by line, both on reader threads that
//! deliver to one channel, so the thread that owns the child can also watch the stop flags.

use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use cargo_metadata::Message;

/// How often a running child's streams and the stop flags are looked at.
pub(super) const POLL: Duration = Duration::from_millis(50);
/// How long a stopped child gets to exit after SIGINT before its group gets SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// How long to keep reading after the child exited while something it started still holds
/// its output open (a daemon such as a compiler cache server).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How a driven child ended.
#[derive(Debug)]
pub(super) struct Ended {
    /// Its exit status.
    pub status: io::Result<ExitStatus>,
    /// It was signalled to stop.
    pub killed: bool,
    /// The CPU time (user and system) of the child and of every process it waited for, as
    /// the kernel counted it when the child was reaped (`None` where that cannot be had).
    pub cpu: Option<Duration>,
}

/// Something the child wrote, or the end of one of its streams.
#[derive(Debug)]
pub(super) enum Output {
    /// One message of cargo's JSON stream (non-JSON stdout lines arrive as `TextLine`).
    Message(Box<Message>),
    /// One line of stderr, without its terminator.
    Stderr(String),
    /// One of the two streams reached its end.
    Closed,
}

/// What [`CargoChild::next`] found.
#[derive(Debug)]
pub(super) enum Next {
    /// Some output.
    Output(Output),
    /// Nothing within the timeout.
    Timeout,
    /// Both streams are closed: the child and everything it started are done with them.
    Done,
}

/// A spawned cargo child in its own process group.
#[derive(Debug)]
pub(super) struct CargoChild {
    child: Option<Child>,
    pgid: i32,
    rx: Receiver<Output>,
    open: u8,
}

impl CargoChild {
    /// Spawns `command` with piped stdout and stderr, no stdin, in a new process group.
    pub(super) fn spawn(mut command: Command) -> io::Result<CargoChild> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        die_with_parent(&mut command);
        let mut child = command.spawn()?;
        let pgid = i32::try_from(child.id()).map_err(io::Error::other)?;
        let (tx, rx) = mpsc::channel();
        let mut open = 0;
        if let Some(stdout) = child.stdout.take() {
            open += 1;
            read_messages(stdout, tx.clone());
        }
        if let Some(stderr) = child.stderr.take() {
            open += 1;
            read_lines(stderr, tx);
        }
        Ok(CargoChild {
            child: Some(child),
            pgid,
            rx,
            open,
        })
    }

    /// The next output, waiting at most `timeout`.
    pub(super) fn next(&mut self, timeout: Duration) -> Next {
        if self.open == 0 {
            return Next::Done;
        }
        match self.rx.recv_timeout(timeout) {
            Ok(Output::Closed) => {
                self.open -= 1;
                if self.open == 0 {
                    Next::Done
                } else {
                    Next::Output(Output::Closed)
                }
            }
            Ok(out) => Next::Output(out),
            Err(RecvTimeoutError::Timeout) => Next::Timeout,
            Err(RecvTimeoutError::Disconnected) => {
                self.open = 0;
                Next::Done
            }
        }
    }

    /// Hands everything the child writes to `on_output` until both its streams are closed (or
    /// it exited and they stay open longer than [`DRAIN_GRACE`]), then waits for it. Whenever
    /// `stop()` says so, the child's process group gets SIGINT, then SIGKILL every
    /// [`KILL_GRACE`]. `gate` is held until the child writes anything, exits, or `gate_until`
    /// passes.
    pub(super) fn drive<G>(
        mut self,
        mut gate: Option<G>,
        gate_until: Instant,
        mut on_output: impl FnMut(Output),
        mut stop: impl FnMut() -> bool,
    ) -> Ended {
        let mut stop_sent: Option<Instant> = None;
        let mut killed = false;
        let mut exited_at: Option<Instant> = None;
        loop {
            let next = self.next(POLL);
            if !matches!(next, Next::Timeout) {
                // Any output means the child is past its start-up.
                gate = None;
            }
            match next {
                Next::Output(output) => on_output(output),
                Next::Done => break,
                Next::Timeout => {
                    if self.exited() == Some(true) {
                        gate = None;
                        let at = *exited_at.get_or_insert_with(Instant::now);
                        if at.elapsed() > DRAIN_GRACE {
                            break;
                        }
                    } else if gate.is_some() && Instant::now() > gate_until {
                        gate = None;
                    }
                }
            }
            if stop() {
                match stop_sent {
                    None => {
                        self.signal_group(libc::SIGINT);
                        stop_sent = Some(Instant::now());
                        killed = true;
                    }
                    Some(at) if at.elapsed() > KILL_GRACE => {
                        self.signal_group(libc::SIGKILL);
                        stop_sent = Some(Instant::now());
                    }
                    Some(_) => {}
                }
            }
        }
        drop(gate);
        // Both streams are closed; the child may still be running (it closed them itself).
        while self.exited() == Some(false) {
            if stop() {
                self.signal_group(if killed { libc::SIGKILL } else { libc::SIGINT });
                killed = true;
            }
            thread::sleep(POLL);
        }
        let (status, cpu) = match self.wait(killed) {
            Ok((status, cpu)) => (Ok(status), cpu),
            Err(e) => (Err(e), None),
        };
        Ended {
            status,
            killed,
            cpu,
        }
    }

    /// Sends `signal` to the child's whole process group. Only called before the child is
    /// reaped, so the group id cannot have been reused.
    pub(super) fn signal_group(&self, signal: i32) {
        if self.child.is_some() {
            // SAFETY: kill(2) with a negative pid signals a process group; it touches no memory.
            unsafe {
                libc::kill(-self.pgid, signal);
            }
        }
    }

    /// Whether the child has exited (it is not reaped, so its group id stays reserved);
    /// `None` where that cannot be told without reaping it.
    pub(super) fn exited(&self) -> Option<bool> {
        match self.child.as_ref() {
            Some(c) => wait_unreaped(c, false).ok().flatten(),
            None => Some(true),
        }
    }

    /// Waits for the child to exit and reaps it, with the CPU time it used. With `sweep`, first
    /// sends SIGKILL to its process group, so that nothing it started outlives a stopped build.
    pub(super) fn wait(mut self, sweep: bool) -> io::Result<(ExitStatus, Option<Duration>)> {
        let Some(child) = self.child.take() else {
            return Err(io::Error::other("the child was already waited for"));
        };
        if sweep && matches!(wait_unreaped(&child, true), Ok(Some(true))) {
            // The leader is a zombie, so its pid (the group id) is still reserved.
            // SAFETY: as in `signal_group`.
            unsafe {
                libc::kill(-self.pgid, libc::SIGKILL);
            }
        }
        reap(child)
    }
}

impl Drop for CargoChild {
    fn drop(&mut self) {
        // Only reached without `wait` on an early return: never leave a build running.
        if let Some(mut child) = self.child.take() {
            // SAFETY: as in `signal_group`; the child is not reaped yet.
            unsafe {
                libc::kill(-self.pgid, libc::SIGKILL);
            }
            let _ = child.wait();
        }
    }
}

/// Has the kernel kill the child if lambda-batch dies without stopping it (killed by SIGKILL,
/// for example by a CI timeout): a cargo child in its own process group gets no terminal
/// signal, and would otherwise build on with nobody waiting for it.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the hook only makes async-signal-safe system calls (prctl, getppid).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the death signal was armed.
            if libc::getppid() != parent {
                return Err(io::Error::other("lambda-batch exited"));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

/// Whether `child` has exited, leaving it unreaped (a zombie); with `block`, waits for it.
#[cfg(target_os = "linux")]
fn wait_unreaped(child: &Child, block: bool) -> io::Result<Option<bool>> {
    let pid: libc::id_t = child.id();
    let flags = libc::WEXITED | libc::WNOWAIT | if block { 0 } else { libc::WNOHANG };
    loop {
        // SAFETY: `info` is a plain C struct that waitid fills in; zeroed is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid with WNOWAIT only observes the child; `info` outlives the call.
        let r = unsafe { libc::waitid(libc::P_PID, pid, &mut info, flags) };
        if r == 0 {
            // With WNOHANG and no state change, waitid leaves si_pid zero.
            // SAFETY: reading a field waitid filled in (or left zeroed).
            return Ok(Some(unsafe { info.si_pid() } != 0));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Reaps `child` with wait4(2), which also tells the CPU time of the child and of every
/// descendant it waited for (cargo waits for its rustc, build scripts and linkers).
fn reap(child: Child) -> io::Result<(ExitStatus, Option<Duration>)> {
    use std::os::unix::process::ExitStatusExt;
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `usage` is a plain C struct that wait4 fills in; zeroed is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own unreaped child; both pointers outlive the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            let time = |t: libc::timeval| {
                Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
                    + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
            };
            // std's `Child` has nothing left to wait for; dropping it closes nothing open.
            drop(child);
            return Ok((
                ExitStatus::from_raw(status),
                Some(time(usage.ru_utime) + time(usage.ru_stime)),
            ));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Elsewhere the child is only observed by reaping it: unknown until then (no group sweep,
/// no early end of draining).
#[cfg(not(target_os = "linux"))]
fn wait_unreaped(_child: &Child, _block: bool) -> io::Result<Option<bool>> {
    Ok(None)
}

fn read_messages(stdout: impl Read + Send + 'static, tx: Sender<Output>) {
    thread::spawn(move || {
        for message in Message::parse_stream(BufReader::new(stdout)) {
            let Ok(message) = message else { break };
            if tx.send(Output::Message(Box::new(message))).is_err() {
                return;
            }
        }
        let _ = tx.send(Output::Closed);
    });
}

fn read_lines(stderr: impl Read + Send + 'static, tx: Sender<Output>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    while matches!(buf.last(), Some(b'\n' | b'\r')) {
                        buf.pop();
                    }
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    if tx.send(Output::Stderr(line)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Output::Closed);
    });
}

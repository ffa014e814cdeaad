//! Running one group: its cargo child, its message stream, and the packaging of each
//! executable on the rayon pool the moment cargo reports it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::{Message, TargetKind};

use super::cached::{self, Found};
use super::child::{CargoChild, Ended, Output};
use super::events::{Cause, Event, GroupStatus, Origin, StopReason};
use super::outcome::{ArtifactOutcome, GroupOutcome, blame, ended, stopped_message};
use super::{Run, estimate, fresh, zig};
use crate::cache::CallEnded;
use crate::manifest::settings::Compiler;
use crate::package::{self, PackageError};
use crate::plan::{Group, PlannedArtifact};

/// Runs `group` to its end and records the outcome of the group and of every artifact the
/// group did not hand to packaging.
pub(super) fn run<'r>(run: &'r Run<'r>, group: &'r Group, scope: &rayon::Scope<'r>) {
    let started = Instant::now();
    if let Some(reason) = run.stop_reason() {
        return skip(run, group, reason);
    }
    if let Some(why) = run.options.missing.get(&group.program) {
        run.missing_tool.store(true, Ordering::SeqCst);
        return fail_to_start(run, group, started, why.clone());
    }
    let full_check = fresh::Check::new(
        group,
        &program(run, group),
        &run.options.toolchains,
        &run.output_dirs,
    );
    if let Some(executables) = full_check
        .as_ref()
        .and_then(|c| c.fresh(group.artifacts.len()))
    {
        for (&a, (executable, features)) in group.artifacts.iter().zip(executables) {
            dispatch(
                run,
                group.id,
                a,
                executable,
                features,
                Origin::Here,
                started,
                scope,
            );
        }
        return finish(
            run,
            group,
            GroupStatus::Fresh,
            started.elapsed(),
            Vec::new(),
            None,
        );
    }

    // The artifact cache: what is here for its key or in the cache is packaged from there,
    // and cargo only builds the rest.
    let narrowed: Group;
    let mut check = full_check;
    let group: &Group = match &run.options.cache {
        None => group,
        Some(c) => {
            let found = cached::before_build(run, group, c);
            let mut left: Vec<usize> = Vec::new();
            let mut why_left: Vec<String> = Vec::new();
            let mut fetched = false;
            for (&a, found) in group.artifacts.iter().zip(found) {
                match found {
                    Found::Ready {
                        executable,
                        features,
                        origin,
                    } => {
                        fetched |= origin == Origin::Fetched;
                        dispatch(
                            run, group.id, a, executable, features, origin, started, scope,
                        );
                    }
                    Found::Build(why) => {
                        left.push(a);
                        why_left.push(why);
                    }
                }
            }
            if left.is_empty() {
                let status = if fetched {
                    GroupStatus::Cached
                } else {
                    GroupStatus::Fresh
                };
                return finish(run, group, status, started.elapsed(), Vec::new(), None);
            }
            narrowed = crate::plan::narrowed(run.plan, group, &left);
            if c.cache_only {
                return not_in_cache(run, &narrowed, started, &why_left);
            }
            if left.len() == group.artifacts.len() {
                group
            } else {
                // The stamp of the whole call no longer describes what is here.
                if let Some(full) = &check {
                    full.forget();
                }
                check = fresh::Check::new(
                    &narrowed,
                    &program(run, &narrowed),
                    &run.options.toolchains,
                    &run.output_dirs,
                );
                &narrowed
            }
        }
    };
    // One token per child: its implicit one (see the module doc of `execute`).
    let token = match acquire_token(run) {
        Ok(Some(token)) => token,
        Ok(None) => return skip(run, group, run.stop_reason().unwrap_or(StopReason::Failure)),
        Err(e) => return fail_to_start(run, group, started, format!("no jobserver token: {e}")),
    };
    if let Some(reason) = run.stop_reason() {
        return skip(run, group, reason);
    }
    let gate = run.gate.enter(group);
    if let Some(reason) = run.stop_reason() {
        return skip(run, group, reason);
    }

    // Cargo would fail with "can't find crate for `std`": say what is missing instead.
    if group.compiler != Compiler::Cross && run.options.toolchains.target_missing(group) {
        run.missing_tool.store(true, Ordering::SeqCst);
        let t = &group.target;
        let why = format!(
            "the Rust standard library for `{t}` is not installed (help: rustup target add {t})"
        );
        return fail_to_start(run, group, started, why);
    }
    let (command, shown) = command(run, group);
    if let Some(check) = &check {
        check.forget();
    }
    let started_at = SystemTime::now();
    let child = match CargoChild::spawn(command) {
        Ok(child) => child,
        Err(e) => {
            return fail_to_start(
                run,
                group,
                started,
                format!("cannot start `{}`: {e}", group.program),
            );
        }
    };
    let spawned = run.now();
    let estimate = estimate::load(group);
    run.sink.event(
        spawned,
        Event::GroupStarted {
            group: group.id,
            command: shown.clone(),
            estimated_units: estimate,
        },
    );

    let mut state = State {
        units: 0,
        estimate,
        dispatched: vec![false; group.artifacts.len()],
        executables: vec![None; group.artifacts.len()],
        features: vec![Vec::new(); group.artifacts.len()],
        stderr: Vec::new(),
    };
    let stop = || {
        let stopping = run.stop_reason().is_some();
        if stopping {
            run.announce_stop();
        }
        stopping
    };
    let on_output = |output: Output| match output {
        Output::Message(message) => on_message(run, group, scope, started, &mut state, *message),
        Output::Stderr(line) => {
            state.stderr.push(line.clone());
            run.emit(Event::GroupOutput {
                group: group.id,
                line,
            });
        }
        Output::Closed => {}
    };
    let gate_until = started + zig::GATE_TIMEOUT;
    let Ended {
        status,
        killed,
        cpu,
    } = child.drive(gate, gate_until, on_output, stop);
    // Only now is the child done with its implicit token.
    drop(token);
    let elapsed = started.elapsed();

    let group_status = ended(&group.program, &status, killed, &state.stderr);
    // Cargo has now written the dep-info of every bin it built: the entries that waited for
    // it are recorded, on the pool.
    let call = if group_status == GroupStatus::Succeeded {
        CallEnded::Succeeded
    } else {
        CallEnded::Unknown
    };
    for packed in run.call_ended(group.id, call) {
        let id = group.id;
        scope.spawn(move |_| {
            settle_packaged(run, packed, call);
            run.job_ended(id);
        });
    }
    if group_status == GroupStatus::Succeeded {
        estimate::store(group, state.units);
        let executables: Option<Vec<Utf8PathBuf>> = state.executables.iter().cloned().collect();
        if let (Some(check), Some(executables)) = (&check, executables) {
            check.store(&executables, &state.features, started_at);
        }
    }
    for (k, &a) in group.artifacts.iter().enumerate() {
        if state.dispatched.get(k).copied().unwrap_or(false) {
            continue;
        }
        let Some(artifact) = run.plan.artifacts.get(a) else {
            continue;
        };
        let stop = run.stop_reason().unwrap_or(StopReason::Failure);
        let (error, cause) = blame(
            &group_status,
            stop,
            &group.program,
            &state.stderr,
            &artifact.resolved,
        );
        run.settle(
            a,
            ArtifactOutcome::Failed {
                error,
                cause,
                elapsed,
            },
        );
    }
    let failed = matches!(group_status, GroupStatus::Failed(_))
        || (group_status == GroupStatus::Succeeded && !state.dispatched.iter().all(|d| *d));
    let ran = Ran {
        spawned,
        command: shown,
        cpu,
        built: group.artifacts.clone(),
    };
    finish(run, group, group_status, elapsed, state.stderr, Some(ran));
    if failed {
        run.fail();
    }
}

/// Takes one jobserver token, waiting until one is free; `None` when the run stops first. The
/// wait is on jobserver's helper thread, so that a signal ends it: a build killed while it held
/// tokens never gives them back, and a plain blocking read would then wait forever.
fn acquire_token(run: &Run<'_>) -> Result<Option<jobserver::Acquired>, String> {
    let (tx, rx) = mpsc::channel();
    let helper = run
        .jobserver
        .clone()
        .into_helper_thread(move |token| {
            let _ = tx.send(token);
        })
        .map_err(|e| e.to_string())?;
    helper.request_token();
    loop {
        match rx.recv_timeout(super::child::POLL) {
            Ok(token) => return token.map(Some).map_err(|e| e.to_string()),
            // Dropping the helper interrupts its wait; a token it took meanwhile is dropped
            // with the channel, which gives it back.
            Err(RecvTimeoutError::Timeout) if run.stop_reason().is_some() => return Ok(None),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err("the jobserver's helper thread ended".into());
            }
        }
    }
}

/// What one group's message loop keeps.
struct State {
    units: u64,
    estimate: Option<u64>,
    /// Parallel to `group.artifacts`: handed to packaging.
    dispatched: Vec<bool>,
    /// Parallel to `group.artifacts`: the executable cargo reported.
    executables: Vec<Option<Utf8PathBuf>>,
    /// Parallel to `group.artifacts`: the features cargo compiled its package with.
    features: Vec<Vec<String>>,
    stderr: Vec<String>,
}

fn on_message<'r>(
    run: &'r Run<'r>,
    group: &Group,
    scope: &rayon::Scope<'r>,
    started: Instant,
    state: &mut State,
    message: Message,
) {
    match message {
        Message::CompilerArtifact(artifact) => {
            state.units += 1;
            run.emit(Event::UnitCompiled {
                group: group.id,
                done: state.units,
                total: state.estimate.map(|e| e.max(state.units)),
                name: artifact.target.name.clone(),
                fresh: artifact.fresh,
            });
            let Some(reported) = &artifact.executable else {
                return;
            };
            if !artifact.target.is_kind(TargetKind::Bin) {
                return;
            }
            for (k, &a) in group.artifacts.iter().enumerate() {
                let Some(planned) = run.plan.artifacts.get(a) else {
                    continue;
                };
                if state.dispatched.get(k).copied().unwrap_or(true)
                    || planned.resolved.identity.bin != artifact.target.name
                    || !same_package(group, planned, &artifact)
                {
                    continue;
                }
                state.dispatched[k] = true;
                let executable = executable_path(reported, planned);
                state.executables[k] = Some(executable.clone());
                let mut features = artifact.features.clone();
                features.sort();
                state.features[k] = features.clone();
                dispatch(
                    run,
                    group.id,
                    a,
                    executable,
                    features,
                    Origin::Built,
                    started,
                    scope,
                );
            }
        }
        Message::CompilerMessage(m) => {
            // Only with a message format that leaves rendering to us; show it as cargo would.
            if let Some(rendered) = &m.message.rendered {
                for line in rendered.lines() {
                    state.stderr.push(line.to_string());
                    run.emit(Event::GroupOutput {
                        group: group.id,
                        line: line.to_string(),
                    });
                }
            }
        }
        Message::TextLine(line) if !line.trim().is_empty() => {
            run.emit(Event::GroupOutput {
                group: group.id,
                line,
            });
        }
        _ => {}
    }
}

/// Queues the packaging of one artifact on the pool.
#[allow(clippy::too_many_arguments)] // one artifact's packaging job: each is a part of it
fn dispatch<'r>(
    run: &'r Run<'r>,
    group: usize,
    artifact: usize,
    executable: Utf8PathBuf,
    features: Vec<String>,
    origin: Origin,
    started: Instant,
    scope: &rayon::Scope<'r>,
) {
    run.emit(Event::PackagingStarted { artifact, origin });
    run.job_queued(group);
    scope.spawn(move |_| {
        // An output whose entry waits for its cargo call stays a job of the group until then.
        if package_one(run, group, artifact, &executable, features, origin, started) {
            run.job_ended(group);
        }
    });
}

/// An output packaged, its cache entry not yet recorded.
pub(super) struct Packed {
    artifact: usize,
    executable: Utf8PathBuf,
    features: Vec<String>,
    origin: Origin,
    packaged: package::Packaged,
    started: Instant,
}

/// Packages one artifact of `group`, stores its executable into the cache or checks that the
/// cache has it (see [`cached::after_packaging`]), and records its outcome. An executable this
/// run's cargo built, stored into the cache, waits for the end of its call (see
/// [`CallEnded`]): `false` when it was left waiting, and the call's end finishes the job.
fn package_one(
    run: &Run<'_>,
    group: usize,
    artifact: usize,
    executable: &Utf8Path,
    features: Vec<String>,
    origin: Origin,
    started: Instant,
) -> bool {
    let Some(planned) = run.plan.artifacts.get(artifact) else {
        return true;
    };
    let interrupted = |elapsed| {
        run.options
            .interrupt
            .received()
            .map(|signal| ArtifactOutcome::Failed {
                error: stopped_message(StopReason::Signal(signal)),
                cause: Cause::Stopped,
                elapsed,
            })
    };
    if let Some(outcome) = interrupted(started.elapsed()) {
        run.announce_stop();
        run.settle(artifact, outcome);
        return true;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        package::package(planned, executable, &run.package_options)
    }));
    let elapsed = started.elapsed();
    let error = match result {
        Ok(Ok(packaged)) => {
            let packed = Packed {
                artifact,
                executable: executable.to_path_buf(),
                features,
                origin,
                packaged,
                started,
            };
            let (packed, call) = if origin == Origin::Built && cached::stores(run) {
                match run.after_call(group, packed) {
                    Ok(()) => return false,
                    Err(ended) => ended,
                }
            } else {
                (packed, CallEnded::Unknown)
            };
            settle_packaged(run, packed, call);
            return true;
        }
        // After a Ctrl-C the error is most likely the cancellation itself.
        Ok(Err(_)) | Err(_) if interrupted(elapsed).is_some() => {
            run.announce_stop();
            if let Some(outcome) = interrupted(elapsed) {
                run.settle(artifact, outcome);
            }
            return true;
        }
        Ok(Err(e)) => describe(&e),
        Err(_) => "packaging panicked (a bug in lambda-batch: please report it)".to_string(),
    };
    run.settle(
        artifact,
        ArtifactOutcome::Failed {
            error,
            cause: Cause::Package,
            elapsed,
        },
    );
    run.fail();
    true
}

/// Stores the executable of an output packaged into the cache or checks that the cache has
/// it (`call`: what is known of the cargo call that built it), and records its outcome.
fn settle_packaged(run: &Run<'_>, packed: Packed, call: CallEnded) {
    let Packed {
        artifact,
        executable,
        features,
        origin,
        packaged,
        started,
    } = packed;
    let cache = cached::after_packaging(run, artifact, &executable, &features, origin, call);
    run.settle(
        artifact,
        ArtifactOutcome::Packaged {
            packaged,
            features,
            elapsed: started.elapsed(),
            cache,
        },
    );
}

/// The command to spawn, and how to show it.
fn command(run: &Run<'_>, group: &Group) -> (Command, String) {
    let mut shown = group.clone();
    shown
        .env
        .extend(zig::extra_env(group, run.zig_lanes_overlap));
    let program = program(run, group);
    let mut command = Command::new(&program);
    command
        .args(&shown.args)
        .envs(&shown.env)
        .current_dir(&group.workspace_root);
    if let Some(bin) = crate::cache::pyenv_bin_dir(&program) {
        let inherited = shown
            .env
            .get("PATH")
            .map(Into::into)
            .or_else(|| std::env::var_os("PATH"));
        let dirs = std::iter::once(bin.to_path_buf())
            .chain(inherited.iter().flat_map(std::env::split_paths));
        if let Ok(path) = std::env::join_paths(dirs) {
            command.env("PATH", path);
        }
    }
    if run.options.color
        && std::env::var_os("CARGO_TERM_COLOR").is_none()
        && !group.env.contains_key("CARGO_TERM_COLOR")
    {
        command.env("CARGO_TERM_COLOR", "always");
    }
    run.jobserver.configure(&mut command);
    (command, shown.command_line())
}

/// The program to spawn for `group`: where it was located, or its name.
fn program(run: &Run<'_>, group: &Group) -> std::path::PathBuf {
    run.options
        .programs
        .get(&group.program)
        .cloned()
        .unwrap_or_else(|| group.program.clone().into())
}

/// Records a group that never started because the run stopped.
fn skip(run: &Run<'_>, group: &Group, reason: StopReason) {
    run.announce_stop();
    for &a in &group.artifacts {
        run.settle(
            a,
            ArtifactOutcome::Failed {
                error: stopped_message(reason),
                cause: Cause::Stopped,
                elapsed: Duration::ZERO,
            },
        );
    }
    finish(
        run,
        group,
        GroupStatus::Skipped,
        Duration::ZERO,
        Vec::new(),
        None,
    );
}

/// Records a group under `--cache-only` whose artifacts `group.artifacts` are neither here
/// nor in the cache (`why`, parallel): they fail, and cargo is not started. The run does not
/// stop for it (it fails in the end): nothing expensive is left to stop, and every missing
/// artifact is worth reporting.
fn not_in_cache(run: &Run<'_>, group: &Group, started: Instant, why: &[String]) {
    let elapsed = started.elapsed();
    for (&a, why) in group.artifacts.iter().zip(why) {
        run.settle(
            a,
            ArtifactOutcome::Failed {
                error: format!("not built (--cache-only): {why}"),
                cause: Cause::Build,
                elapsed,
            },
        );
    }
    let n = group.artifacts.len();
    let status = match why {
        [one] => GroupStatus::Failed(format!("--cache-only: {one}")),
        _ => GroupStatus::Failed(format!(
            "--cache-only: {n} executables are neither up to date here nor in the cache"
        )),
    };
    finish(run, group, status, elapsed, Vec::new(), None);
}

/// Records a group whose child could not be started.
fn fail_to_start(run: &Run<'_>, group: &Group, started: Instant, why: String) {
    let elapsed = started.elapsed();
    for &a in &group.artifacts {
        run.settle(
            a,
            ArtifactOutcome::Failed {
                error: why.clone(),
                cause: Cause::Build,
                elapsed,
            },
        );
    }
    finish(
        run,
        group,
        GroupStatus::Failed(why),
        elapsed,
        Vec::new(),
        None,
    );
    run.fail();
}

/// What a group's cargo child was: when it was spawned, the command as shown, its CPU time.
struct Ran {
    spawned: Duration,
    command: String,
    cpu: Option<Duration>,
    built: Vec<usize>,
}

/// Records how `group` ended, `elapsed` after its turn came, with its child's part (`ran`)
/// when it started one.
fn finish(
    run: &Run<'_>,
    group: &Group,
    status: GroupStatus,
    elapsed: Duration,
    stderr: Vec<String>,
    ran: Option<Ran>,
) {
    let ended = run.now();
    let cpu = ran.as_ref().and_then(|r| r.cpu);
    run.sink.event(
        ended,
        Event::GroupFinished {
            group: group.id,
            status: status.clone(),
            elapsed,
            cpu,
        },
    );
    let mut all = run.groups.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(slot) = all.get_mut(group.id) {
        *slot = Some(GroupOutcome {
            status,
            elapsed,
            stderr,
            queued: ended.saturating_sub(elapsed),
            ended,
            spawned: ran.as_ref().map(|r| r.spawned),
            built: ran.as_ref().map(|r| r.built.clone()).unwrap_or_default(),
            command: ran.map(|r| r.command),
            cpu,
        });
    }
}

/// A packaging error with its help line, for people.
fn describe(e: &PackageError) -> String {
    use miette::Diagnostic;
    if let PackageError::Io { source, .. } = e
        && source.raw_os_error() == Some(libc::ENOSPC)
    {
        return format!(
            "{e} (help: the disk is full: free space there and run again; nothing half-written was left)"
        );
    }
    match e.help() {
        Some(help) => format!("{e} (help: {help})"),
        None => e.to_string(),
    }
}

/// Whether cargo's artifact comes from the planned artifact's package (its bin name matched
/// already): cargo's id or manifest directory says so. `cross` reports both from inside its
/// container; there the plan's rule decides, that no two packages of one call have a
/// requested bin's name.
fn same_package(
    group: &Group,
    planned: &PlannedArtifact,
    artifact: &cargo_metadata::Artifact,
) -> bool {
    artifact.package_id == planned.resolved.identity.package_id
        || artifact.manifest_path.parent() == Some(planned.resolved.identity.package_dir.as_path())
        || group.compiler == Compiler::Cross
}

/// Where the executable is: as cargo reported it, or, when that path is not on this machine
/// (`cross` reports container paths), where the plan expects cargo to put it.
fn executable_path(reported: &Utf8Path, planned: &PlannedArtifact) -> Utf8PathBuf {
    if reported.exists() {
        return reported.to_path_buf();
    }
    if planned.executable.exists() {
        planned.executable.clone()
    } else {
        reported.to_path_buf()
    }
}

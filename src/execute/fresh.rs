//! Not starting cargo for a group when nothing it reads has changed.
//!
//! A no-op `cargo build` costs ~0.1 s, but a no-op `cargo zigbuild` costs 0.3–0.5 s (a Python
//! start-up, zig probing the target, `rustc -vV`), and the groups of a lane run one after the
//! other: eight groups made a no-op run take ~3 s. So after each successful build of a group,
//! lambda-batch writes a stamp, `<target-dir>/lambda-batch/groups/<key>.json`, holding:
//! - the invocation: lambda-batch's version, the program (path, size, mtime), the working
//!   directory, the arguments and environment the plan gives it, the variables of
//!   lambda-batch's environment that change what cargo, rustc, rustup and zig build or which
//!   of them run (`EnvPolicy::fresh`: `CARGO*`, `RUST*`, `ZIG*`, `PATH`, `HOME`, but not
//!   those that only change how output is shown, the network, credentials or the job count),
//!   and what `rustc -vV` says in the workspace (the toolchain rustup picks there);
//! - every other variable cargo would rebuild on, with its value: the names rustc records in
//!   each crate's dep-info (`env!`, `option_env!`) and those build scripts declare with
//!   `rerun-if-env-changed`, but those cargo sets itself (`EnvPolicy::seen_by_build`). A
//!   variable cargo ignores is ignored here too, so a variable that changes on every run (a CI
//!   job id, hyperfine's) does not defeat the check;
//! - each executable cargo reported, with its size and mtime;
//! - the size and mtime (or absence) of every file cargo's freshness depends on, as far as it
//!   can be seen from outside: the paths in the dep-info cargo writes beside each executable
//!   (every source file of every path package in the build, including the files build scripts
//!   name with `rerun-if-changed`, walked when they are directories), the `Cargo.toml` of each
//!   of those packages, `Cargo.lock`, the cargo config and toolchain files from the workspace
//!   up, `$CARGO_HOME/config.toml`, and, for a path package with a build script, every file
//!   under its directory (cargo reruns such a script when any of them changes, unless the
//!   script says otherwise). Registry and git dependencies are pinned by `Cargo.lock` and
//!   their sources are never edited in place.
//!
//! The next run compares all of that with a few `stat` calls. When everything is identical the
//! group is fresh: its artifacts are packaged from the recorded executables (which packaging's
//! own stamps then usually find unchanged too) and no process is spawned. Anything different,
//! missing or unreadable means cargo runs, exactly as without a stamp, and the stamp is removed
//! before it starts. No stamp is written when it could be wrong:
//! - a file outside the target dir was modified less than [`SETTLE`] before the build
//!   started, or during it (except `Cargo.lock` during it: cargo itself writes that);
//! - dep-info is missing, or holds relative paths or paths that do not exist on this machine
//!   (`cross` builds in a container, so its groups are never skipped);
//! - a directory to walk is too large ([`MAX_WALK`]).
//!
//! `LAMBDA_BATCH_ALWAYS_BUILD=1` turns the check off (cargo then runs for every group); so does
//! deleting `<target-dir>/lambda-batch/groups`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::cache::Toolchains;
use crate::fingerprint::{
    EnvPolicy, Fingerprint, PathState, SETTLE, cargo_home, env_vars, has_build_script,
    parse_dep_info, read_upward, unix_ns,
};
use crate::manifest::settings::Compiler;
use crate::plan::Group;
use crate::plan::state::group_stamps;
use crate::store::Store;

/// The group stamps; the version is raised when a stamp's meaning changes, so that old stamps
/// are ignored.
const STAMPS: Store<Stamp> = Store::new("lambda-batch group stamp", 2);

/// The most files a stamp walks under one directory; beyond it no stamp is written.
pub(super) const MAX_WALK: usize = 20_000;

/// Set to a non-empty value other than `0`, cargo runs for every group.
pub(super) const ALWAYS_BUILD_VAR: &str = "LAMBDA_BATCH_ALWAYS_BUILD";

/// One recorded path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Recorded {
    path: Utf8PathBuf,
    state: PathState,
}

impl Recorded {
    fn now(path: Utf8PathBuf) -> Recorded {
        let state = PathState::of(path.as_std_path());
        Recorded { path, state }
    }

    fn unchanged(&self) -> bool {
        PathState::of(self.path.as_std_path()) == self.state
    }
}

/// The stamp file's contents.
#[derive(Debug, Serialize, Deserialize)]
struct Stamp {
    /// Digest of the invocation (see the module doc).
    key: String,
    /// Parallel to the group's artifacts.
    executables: Vec<Recorded>,
    /// Parallel to the group's artifacts: the features cargo compiled each one's package with.
    features: Vec<Vec<String>>,
    inputs: Vec<Recorded>,
    /// The variables cargo would rebuild on, with their values for this build.
    env: BTreeMap<String, Option<String>>,
}

/// The freshness check of one group in this run.
#[derive(Debug)]
pub(super) struct Check {
    path: Utf8PathBuf,
    key: String,
    /// The plan's environment for the cargo child.
    env: BTreeMap<String, String>,
    workspace_root: Utf8PathBuf,
    target_dir: Utf8PathBuf,
    /// Directories never walked: the target dir and every output directory.
    skip: Vec<Utf8PathBuf>,
}

/// Whether the check is turned off for this process.
pub(super) fn disabled() -> bool {
    std::env::var(ALWAYS_BUILD_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

impl Check {
    /// Sets up the check of `group`, spawned as `program`; `None` when groups of its kind are
    /// never skipped (`cross`, or the check is off) or the toolchain cannot be asked.
    pub(super) fn new(
        group: &Group,
        program: &Path,
        toolchains: &Toolchains,
        output_dirs: &BTreeSet<Utf8PathBuf>,
    ) -> Option<Check> {
        if group.compiler == Compiler::Cross || disabled() {
            return None;
        }
        let mut h = Fingerprint::new();
        h.field(
            "version",
            &format!("{} {}", STAMPS.version(), env!("CARGO_PKG_VERSION")),
        );
        h.field("cwd", group.workspace_root.as_str());
        h.field("target-dir", group.target_dir.as_str());
        h.field("program", &group.program);
        h.field("path", &program.to_string_lossy());
        let located = which::which(program).ok();
        let located = located.as_deref().unwrap_or(program);
        h.field("program-state", &format!("{:?}", PathState::of(located)));
        // `--keep-going` changes what cargo does after a failure, not what a success builds.
        for a in group.args.iter().filter(|a| *a != "--keep-going") {
            h.field("arg", a);
        }
        h.env("env", &group.env);
        h.env(
            "inherited",
            env_vars(|k| !group.env.contains_key(k))
                .into_iter()
                .filter(|(k, v)| EnvPolicy::fresh(k, v)),
        );
        h.field("rustc", &toolchains.version(group)?);
        let key = h.finish();
        let path = group_stamps(&group.state_dir).join(format!("{}.json", &key[..32]));
        let mut skip: Vec<Utf8PathBuf> = output_dirs.iter().cloned().collect();
        skip.push(group.target_dir.clone());
        Some(Check {
            path,
            key,
            env: group.env.clone(),
            workspace_root: group.workspace_root.clone(),
            target_dir: group.target_dir.clone(),
            skip,
        })
    }

    /// The recorded executables and the features they were compiled with (parallel to the
    /// group's artifacts) when the group is fresh: its stamp is for this very invocation, and
    /// every executable and input is as recorded.
    pub(super) fn fresh(&self, artifacts: usize) -> Option<Vec<(Utf8PathBuf, Vec<String>)>> {
        let stamp = STAMPS.load(&self.path)?;
        if stamp.key != self.key
            || stamp.executables.len() != artifacts
            || stamp.features.len() != artifacts
        {
            return None;
        }
        if stamp.env.iter().any(|(k, v)| self.value(k) != *v) {
            return None;
        }
        let all_same = stamp
            .executables
            .iter()
            .chain(&stamp.inputs)
            .all(Recorded::unchanged);
        let all_files = stamp
            .executables
            .iter()
            .all(|e| matches!(e.state, PathState::File { .. }));
        (all_same && all_files).then(|| {
            stamp
                .executables
                .into_iter()
                .map(|e| e.path)
                .zip(stamp.features)
                .collect()
        })
    }

    /// Removes the stamp: cargo is about to run and may replace what it describes.
    pub(super) fn forget(&self) {
        let _ = fs::remove_file(&self.path);
    }

    /// Records a successful build whose executables (parallel to the group's artifacts) are
    /// `executables`, compiled with `features`; `started` is when the build started. Best
    /// effort, and only when the record can be trusted (see the module doc).
    pub(super) fn store(
        &self,
        executables: &[Utf8PathBuf],
        features: &[Vec<String>],
        started: SystemTime,
    ) {
        let Some(inputs) = self.inputs(executables) else {
            return;
        };
        let settled = unix_ns(started.checked_sub(SETTLE));
        let start = unix_ns(Some(started));
        let inputs: Vec<Recorded> = inputs.into_iter().map(Recorded::now).collect();
        let suspect = |r: &Recorded| {
            // A directory's mtime says an entry was added or removed: an added file is an input
            // itself, and cargo does not rebuild for a removed one it did not read.
            let PathState::File { mtime_ns: t, .. } = r.state else {
                return false;
            };
            if r.path.starts_with(&self.target_dir) {
                // Cargo's own files (build script outputs), written by this build.
                false
            } else if r.path.file_name() == Some("Cargo.lock") {
                // Cargo rewrites the lock file at the start of a build when it resolves anew.
                (settled..start).contains(&t)
            } else {
                t >= settled
            }
        };
        if inputs.iter().any(suspect) {
            return;
        }
        let executables: Vec<Recorded> = executables
            .iter()
            .map(|e| Recorded::now(e.clone()))
            .collect();
        if !executables
            .iter()
            .all(|e| matches!(e.state, PathState::File { .. }))
        {
            return;
        }
        let Some(names) = tracked_env(&self.target_dir, &executables) else {
            return;
        };
        let env = names
            .into_iter()
            .map(|k| {
                let v = self.value(&k);
                (k, v)
            })
            .collect();
        let stamp = Stamp {
            key: self.key.clone(),
            executables,
            features: features.to_vec(),
            inputs,
            env,
        };
        let _ = STAMPS.save(&self.path, &stamp);
    }

    /// The value of `name` in the cargo child's environment.
    fn value(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }

    /// Every path whose state the stamp records, or `None` when they cannot all be known.
    fn inputs(&self, executables: &[Utf8PathBuf]) -> Option<BTreeSet<Utf8PathBuf>> {
        let mut inputs: BTreeSet<Utf8PathBuf> =
            read_upward(&self.workspace_root).into_iter().collect();
        inputs.extend(
            self.workspace_root
                .ancestors()
                .map(|a| a.join("Cargo.lock")),
        );
        let home = cargo_home();
        let mut packages: BTreeSet<Utf8PathBuf> = BTreeSet::new();
        let mut walked: BTreeSet<Utf8PathBuf> = BTreeSet::new();
        for exe in executables {
            let text = fs::read_to_string(format!("{exe}.d")).ok()?;
            for dep in parse_dep_info(&text)? {
                if !dep.is_absolute() {
                    return None;
                }
                match PathState::of(dep.as_std_path()) {
                    PathState::File { .. } => {}
                    PathState::Dir { .. } => {
                        if walked.insert(dep.clone()) {
                            self.walk(&dep, &mut inputs)?;
                        }
                    }
                    PathState::Absent | PathState::Other => return None,
                }
                let generated = dep.starts_with(&self.target_dir)
                    || home.as_ref().is_some_and(|h| dep.starts_with(h));
                if !generated && let Some(root) = package_root(&dep) {
                    packages.insert(root);
                }
                inputs.insert(dep);
            }
        }
        for root in packages {
            let manifest = root.join("Cargo.toml");
            if has_build_script(&root, &manifest) && walked.insert(root.clone()) {
                self.walk(&root, &mut inputs)?;
            }
            inputs.insert(manifest);
        }
        Some(inputs)
    }

    /// Adds every directory and file under `dir` (not the target dir, `.git`, `target` or an
    /// output directory) to `inputs`; `None` beyond [`MAX_WALK`] entries.
    fn walk(&self, dir: &Utf8Path, inputs: &mut BTreeSet<Utf8PathBuf>) -> Option<()> {
        let mut count = 0usize;
        let walker = walkdir::WalkDir::new(dir)
            .follow_links(true)
            .into_iter()
            .filter_entry(|e| {
                let name = e.file_name();
                let skipped =
                    e.depth() > 0 && e.file_type().is_dir() && (name == ".git" || name == "target");
                !skipped && !self.skip.iter().any(|s| e.path() == s.as_std_path())
            });
        for entry in walker {
            let entry = entry.ok()?;
            count += 1;
            if count > MAX_WALK {
                return None;
            }
            let path = Utf8Path::from_path(entry.path())?;
            inputs.insert(path.to_path_buf());
        }
        Some(())
    }
}

/// The names of the environment variables cargo rebuilds on, as recorded around the
/// executables (`<target-dir>/<triple>/<profile>/<bin>`) and in the host directory
/// (`<target-dir>/<profile>`, build scripts and proc macros): the `# env-dep:NAME` lines rustc
/// writes into each crate's dep-info (`env!`, `option_env!`) and the `rerun-if-env-changed`
/// lines of build script outputs, but those cargo sets itself, whose value no build takes
/// from lambda-batch's environment (see [`EnvPolicy::seen_by_build`]). `None` when a `deps`
/// directory is not there (a `build-dir` set elsewhere): then they cannot be known.
fn tracked_env(target_dir: &Utf8Path, executables: &[Recorded]) -> Option<BTreeSet<String>> {
    let paths: Vec<Utf8PathBuf> = executables.iter().map(|e| e.path.clone()).collect();
    EnvDeps::default().names(target_dir, &paths)
}

/// [`tracked_env`] for many executables of one run: each dep-info and build script output is
/// read once while it is unchanged.
#[derive(Debug, Default)]
pub(super) struct EnvDeps {
    read: Mutex<HashMap<Utf8PathBuf, (PathState, Vec<String>)>>,
}

impl EnvDeps {
    /// The names of the variables cargo rebuilds on around `executables` (see
    /// [`tracked_env`]).
    pub(super) fn names(
        &self,
        target_dir: &Utf8Path,
        executables: &[Utf8PathBuf],
    ) -> Option<BTreeSet<String>> {
        let mut dirs = BTreeSet::new();
        for e in executables {
            let uplift = e.parent()?;
            if !uplift.join("deps").is_dir() {
                return None;
            }
            dirs.insert(uplift.to_path_buf());
            // The host directory holds no `deps` when nothing is built for the host.
            dirs.insert(target_dir.join(uplift.file_name()?));
        }
        let mut names = BTreeSet::new();
        for dir in dirs {
            for entry in dir
                .join("deps")
                .read_dir_utf8()
                .into_iter()
                .flatten()
                .flatten()
            {
                if entry.path().extension() == Some("d") {
                    names.extend(self.read(entry.path(), env_dep_names));
                }
            }
            for entry in dir
                .join("build")
                .read_dir_utf8()
                .into_iter()
                .flatten()
                .flatten()
            {
                names.extend(self.read(&entry.path().join("output"), rerun_env_names));
            }
        }
        names.retain(|name| EnvPolicy::seen_by_build(name));
        Some(names)
    }

    /// The names `parse` finds in the file at `path` (none when it cannot be read).
    fn read(&self, path: &Utf8Path, parse: fn(&str) -> Vec<String>) -> Vec<String> {
        let state = PathState::of(path.as_std_path());
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, names)) = read.get(path)
            && *seen == state
        {
            return names.clone();
        }
        let names = parse(&fs::read_to_string(path).unwrap_or_default());
        read.insert(path.to_path_buf(), (state, names.clone()));
        names
    }
}

/// The variables a crate's dep-info says rustc read (`# env-dep:NAME[=VALUE]`).
fn env_dep_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# env-dep:"))
        .map(|rest| rest.split_once('=').map_or(rest, |(n, _)| n).to_string())
        .collect()
}

/// The variables a build script's output declares with `rerun-if-env-changed`.
fn rerun_env_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            line.strip_prefix("cargo::rerun-if-env-changed=")
                .or_else(|| line.strip_prefix("cargo:rerun-if-env-changed="))
        })
        .map(|name| name.trim().to_string())
        .collect()
}

/// The directory of the package owning `path`: the nearest ancestor holding a `Cargo.toml`.
fn package_root(path: &Utf8Path) -> Option<Utf8PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|d| d.join("Cargo.toml").is_file())
        .map(Utf8Path::to_path_buf)
}

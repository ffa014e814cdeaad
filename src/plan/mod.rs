//! Stage 3: resolved artifacts → cargo invocations (groups) and packaging jobs, as plain data
//! that `plan --format json` prints and `run` executes.

mod command;
mod outputs;
pub mod shard;
mod split;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8PathBuf;
use schemars::JsonSchema;
use serde::Serialize;

pub use command::{AUDITABLE, CargoFlags};
pub use split::{Split, SplitKind};

use crate::diagnostic::{ManifestError, ManifestErrors};
use crate::manifest::settings::Compiler;
use crate::resolve::{Resolved, ResolvedArtifact};

/// Everything a run will do, computed before it starts; built once by this stage, then only
/// read. What later stages learn about it (input keys, outcomes) they return beside it, as
/// tables indexed like its artifacts.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The manifest file.
    pub manifest: Utf8PathBuf,
    /// The cargo invocations, in the order they start within their lane.
    pub groups: Vec<Group>,
    /// One packaging job per (artifact, target).
    pub artifacts: Vec<PlannedArtifact>,
    /// The flags every cargo call got (`--locked`, `--keep-going`, ...), to rebuild a call
    /// for part of its group.
    #[serde(skip)]
    pub flags: CargoFlags,
}

/// One cargo invocation building several bins.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Group {
    /// Index in `Plan::groups`.
    pub id: usize,
    /// Groups of one lane share a target dir and run one after another; lanes run in parallel.
    pub lane: usize,
    /// The cargo workspace root; the process's working directory.
    #[schemars(with = "String")]
    pub workspace_root: Utf8PathBuf,
    /// The cargo target directory.
    #[schemars(with = "String")]
    pub target_dir: Utf8PathBuf,
    /// The target triple (without glibc suffix).
    pub target: String,
    /// The cargo profile.
    pub profile: String,
    /// The build program.
    pub compiler: Compiler,
    /// The executable to spawn, looked up on PATH.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables set on it (on top of lambda-batch's own).
    pub env: BTreeMap<String, String>,
    /// Packages selected with `-p`.
    pub packages: Vec<String>,
    /// Bins selected with `--bin`.
    pub bins: Vec<String>,
    /// Indices into `Plan::artifacts` this invocation builds.
    pub artifacts: Vec<usize>,
    /// Earlier groups of its lane whose packaging must have read their executables before
    /// this one starts: they build a bin of the same name for the same target and profile,
    /// and cargo replaces `<target>/<profile>/<bin>` when it builds it again.
    pub waits_for: Vec<usize>,
    /// lambda-batch's state for its target dir: `<target-dir>/lambda-batch` (group stamps,
    /// unit counts, a zig cache).
    #[schemars(with = "String")]
    pub state_dir: Utf8PathBuf,
    /// The `ZIG_GLOBAL_CACHE_DIR` it gets when zig builds of several lanes may run at once
    /// (two or more lanes use cargo-zigbuild, and `--jobs` is above 1); `None` when it keeps
    /// the user's zig cache (not cargo-zigbuild, one zig lane, or the manifest sets it).
    #[schemars(with = "Option<String>")]
    pub zig_cache_dir: Option<Utf8PathBuf>,
    /// Why this call is not part of an earlier one that agrees with it on every grouping key.
    pub not_grouped_with: Vec<Split>,
}

impl Group {
    /// The value of `name` for this cargo call: the plan's, else this process's.
    pub fn env_value(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }

    /// The command line, shell-quoted, for people.
    pub fn command_line(&self) -> String {
        let mut words: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect();
        words.push(shell_quote(&self.program));
        words.extend(self.args.iter().map(|a| shell_quote(a)));
        words.join(" ")
    }
}

/// Quotes a word for a POSIX shell when it needs it. Words of letters, digits and `-_./=:,+@%`
/// stay as they are (cargo's `--config k=v` and `--features a,b` read best that way); any other
/// word is quoted by `shlex` (a word with a NUL byte, which no shell can take, is shown escaped).
pub fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        return s.to_string();
    }
    match shlex::try_quote(s) {
        Ok(quoted) => quoted.into_owned(),
        Err(_) => format!("{s:?}"),
    }
}

/// One artifact for one target: what to package once its executable exists.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlannedArtifact {
    /// Index in `Plan::artifacts`.
    pub id: usize,
    /// The group that builds its executable.
    pub group: usize,
    /// Everything resolution decided about it.
    #[serde(flatten)]
    pub resolved: ResolvedArtifact,
    /// The main output: the executable (binary format) or the zip.
    #[schemars(with = "String")]
    pub output: Utf8PathBuf,
    /// The executable's path inside the artifact.
    pub executable_entry: String,
    /// Every file the artifact writes.
    #[schemars(with = "Vec<String>")]
    pub files: Vec<Utf8PathBuf>,
    /// Where cargo writes the executable: `<target-dir>/<target>/<profile dir>/<bin>` (its
    /// reported path wins when that exists on this machine; `cross` reports container paths).
    #[schemars(with = "String")]
    pub executable: Utf8PathBuf,
    /// The record of its last packaging, under its group's state dir.
    #[schemars(with = "String")]
    pub stamp: Utf8PathBuf,
}

impl PlannedArtifact {
    /// `resolved`, placed by the output rules (SPEC §2), built by group `group`.
    pub fn new(id: usize, group: usize, resolved: ResolvedArtifact) -> PlannedArtifact {
        let o = outputs::outputs(&resolved);
        PlannedArtifact::placed(id, group, resolved, o)
    }

    fn placed(
        id: usize,
        group: usize,
        resolved: ResolvedArtifact,
        o: outputs::Outputs,
    ) -> PlannedArtifact {
        let executable = command::executable(&resolved);
        let stamp = state::package_stamp(&state::state_dir(&resolved.cargo.target_dir), &o.output);
        PlannedArtifact {
            id,
            group,
            resolved,
            output: o.output,
            executable_entry: o.executable_entry,
            files: o.files,
            executable,
            stamp,
        }
    }
}

/// Groups the resolved artifacts into cargo invocations and checks their outputs for
/// collisions, without comparing the feature resolution of packages (see [`split`]): for the
/// commands that only validate. Its groups can be larger than those of [`plan_builds`].
pub fn plan(resolved: &Resolved, flags: &CargoFlags) -> Result<Plan, ManifestErrors> {
    let env_lookup = |k: &str| std::env::var(k).ok();
    plan_with_env(resolved, flags, &env_lookup, None)
}

/// [`plan`], with packages sharing a cargo call only when that changes none of their
/// executables (each package's features resolved alone by `cargo tree`, cached): the plan
/// `plan` prints and `run` executes.
pub fn plan_builds(resolved: &Resolved, flags: &CargoFlags) -> Result<Plan, ManifestErrors> {
    let env_lookup = |k: &str| std::env::var(k).ok();
    plan_with_env(resolved, flags, &env_lookup, Some(&crate::resolve::views))
}

/// The problems [`plan`] would report: outputs that collide, includes that would pack an
/// output. Cheaper than planning, for a check of the whole manifest before it is narrowed.
pub fn output_errors(resolved: &Resolved) -> Vec<ManifestError> {
    let arts = &resolved.artifacts;
    let outs: Vec<outputs::Outputs> = arts.iter().map(outputs::outputs).collect();
    let mut errors = outputs::collisions(arts, &outs);
    errors.extend(outputs::includes_of_outputs(arts, &outs));
    errors
}

/// [`plan`] with the caller's environment and the feature resolution given explicitly.
pub fn plan_with_env(
    resolved: &Resolved,
    flags: &CargoFlags,
    inherited: &dyn Fn(&str) -> Option<String>,
    views: Option<split::Views>,
) -> Result<Plan, ManifestErrors> {
    let arts = &resolved.artifacts;
    let outs: Vec<outputs::Outputs> = arts.iter().map(outputs::outputs).collect();
    let mut errors = outputs::collisions(arts, &outs);
    errors.extend(outputs::includes_of_outputs(arts, &outs));
    if !errors.is_empty() {
        return Err(ManifestErrors(errors).finish(&resolved.manifest.source));
    }

    // Artifacts agreeing on every key share one cargo call.
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, a) in arts.iter().enumerate() {
        by_key.entry(group_key(a, inherited)).or_default().push(i);
    }
    let split::Partition { members, splits } = split::partition(
        arts,
        by_key.into_values().collect(),
        flags,
        inherited,
        views,
    );

    let mut lanes: BTreeMap<Utf8PathBuf, usize> = BTreeMap::new();
    for m in &members {
        let next = lanes.len();
        lanes
            .entry(arts[m[0]].cargo.target_dir.clone())
            .or_insert(next);
    }
    let mut artifacts: Vec<PlannedArtifact> = Vec::with_capacity(arts.len());
    let mut groups = Vec::with_capacity(members.len());
    let mut group_of = vec![0usize; arts.len()];
    for (gid, m) in members.iter().enumerate() {
        let first = &arts[m[0]];
        let members: Vec<&ResolvedArtifact> = m.iter().map(|&i| &arts[i]).collect();
        let call = command::Call::of(&members, flags);
        for &i in m {
            group_of[i] = gid;
        }
        groups.push(Group {
            id: gid,
            lane: lanes[&first.cargo.target_dir],
            workspace_root: first.identity.workspace_root.clone(),
            target_dir: first.cargo.target_dir.clone(),
            target: first.build.target.clone(),
            profile: first.build.profile.clone(),
            compiler: first.build.compiler,
            program: call.program,
            args: call.args,
            env: command::env(first, inherited),
            packages: call.packages,
            bins: call.bins,
            artifacts: m.clone(),
            waits_for: Vec::new(),
            state_dir: state::state_dir(&first.cargo.target_dir),
            zig_cache_dir: None,
            not_grouped_with: splits[gid].clone(),
        });
    }
    waits(&mut groups);
    zig_caches(&mut groups);
    for (i, (a, o)) in arts.iter().zip(outs).enumerate() {
        artifacts.push(PlannedArtifact::placed(i, group_of[i], a.clone(), o));
    }
    Ok(Plan {
        manifest: resolved.manifest.path.clone(),
        groups,
        artifacts,
        flags: flags.clone(),
    })
}

/// The program, arguments and environment that build `a` alone (`-p <its package> --bin
/// <its bin>` with its own settings): what its executable is, whatever group it is built in
/// (see [`split`]). The input key is computed from them.
pub fn alone(
    a: &ResolvedArtifact,
    flags: &CargoFlags,
    inherited: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<String>, BTreeMap<String, String>) {
    let call = command::Call::of(&[a], flags);
    (call.program, call.args, command::env(a, inherited))
}

/// `group` narrowed to the artifacts `keep` (indices into `plan.artifacts`, each one of the
/// group's): the same cargo call for only their packages and bins, as the plan would have
/// made it for them alone. Each artifact is one (bin, target) pair, so a group of several
/// targets narrows per pair.
pub fn narrowed(plan: &Plan, group: &Group, keep: &[usize]) -> Group {
    let members: Vec<&ResolvedArtifact> = keep
        .iter()
        .filter(|i| group.artifacts.contains(i))
        .filter_map(|&i| plan.artifacts.get(i).map(|a| &a.resolved))
        .collect();
    if members.is_empty() {
        return Group {
            artifacts: Vec::new(),
            ..group.clone()
        };
    }
    let call = command::Call::of(&members, &plan.flags);
    Group {
        program: call.program,
        args: call.args,
        packages: call.packages,
        bins: call.bins,
        artifacts: group
            .artifacts
            .iter()
            .copied()
            .filter(|i| keep.contains(i))
            .collect(),
        ..group.clone()
    }
}

/// The `cargo tree` query that resolves `a`'s package alone (see [`split`]): its dependency
/// closure for its target, from which the input key takes the path packages.
pub fn tree_query(
    a: &ResolvedArtifact,
    flags: &CargoFlags,
    inherited: &dyn Fn(&str) -> Option<String>,
) -> crate::resolve::Query {
    split::query(a, flags, inherited)
}

/// Fills `waits_for`: a group waits for the earlier groups of its lane that write an
/// executable to the same path.
fn waits(groups: &mut [Group]) {
    for k in 0..groups.len() {
        let (earlier, rest) = groups.split_at_mut(k);
        let g = &mut rest[0];
        g.waits_for = earlier
            .iter()
            .filter(|e| {
                e.lane == g.lane
                    && e.target == g.target
                    && e.profile == g.profile
                    && e.bins.iter().any(|b| g.bins.contains(b))
            })
            .map(|e| e.id)
            .collect();
    }
}

/// Fills `zig_cache_dir`: when two or more lanes use cargo-zigbuild for the same target, each
/// zig group gets its lane's own zig cache, unless the manifest's env sets one. Lanes that
/// build different targets keep the user's cache: zig's entries are per target, and zig
/// locks them against its own concurrent `zig cc` processes, which one cargo build already
/// runs many of.
pub(crate) fn zig_caches(groups: &mut [Group]) {
    let zig = |g: &Group| g.compiler == Compiler::CargoZigbuild;
    let mut lanes_of: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for g in groups.iter().filter(|g| zig(g)) {
        lanes_of.entry(&g.target).or_default().insert(g.lane);
    }
    if lanes_of.values().all(|lanes| lanes.len() < 2) {
        return;
    }
    for g in groups.iter_mut().filter(|g| zig(g)) {
        if !g.env.contains_key(ZIG_CACHE_VAR) {
            g.zig_cache_dir = Some(state::zig_cache(&g.state_dir));
        }
    }
}

/// The variable zig reads for its global cache directory.
pub const ZIG_CACHE_VAR: &str = "ZIG_GLOBAL_CACHE_DIR";

/// Everything that must agree for two artifacts to share a cargo call.
fn group_key(a: &ResolvedArtifact, inherited: &dyn Fn(&str) -> Option<String>) -> String {
    serde_json::json!([
        a.identity.workspace_root,
        a.cargo.target_dir,
        command::target_arg(a),
        a.build.profile,
        a.build.compiler,
        a.build.auditable,
        a.cargo.features,
        a.cargo.no_default_features,
        a.cargo.all_features,
        command::env(a, inherited),
        command::profile_overrides(a),
        a.cargo.target_dir_set,
    ])
    .to_string()
}

#[cfg(test)]
mod tests;

//! The shared artifact cache in a run (see `crate::cache`).
//!
//! Before a group's cargo starts, and only when the group is not locally fresh (see
//! [`super::fresh`]), each of its artifacts is found, in this order:
//! 1. here: the executable this machine last built or fetched for the artifact's input key,
//!    recorded in `<target-dir>/lambda-batch/cache/held/`, when the key is the same, the file
//!    is unchanged (size and mtime) and so are the variables the build turned out to read;
//! 2. in the cache: all of the group's other keys are looked up at once (a bounded number at
//!    a time), each hit downloaded beside the target dir (`cache/fetched/`), its SHA-256
//!    verified by the cache, then checked as packaging checks an executable (ELF machine,
//!    glibc) and against the variables it was built with;
//! 3. otherwise it is built: the group's cargo call narrows to the artifacts left (a group
//!    with none left starts nothing).
//!
//! Every executable is then packaged exactly as a built one. After packaging, what came from
//! cargo is stored (mode `read-write`) once its cargo call has ended, when cargo has written
//! the dep-info that says what it read (the zip is written at once; only the entry waits); what was already here is looked for in the cache
//! without downloading it, and stored when absent, so that a runner that restored its target
//! dir still fills the cache; what came from the cache is a hit. The held record remembers
//! which caches are known to hold the key, so that an unchanged run asks the network nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::Run;
use super::events::{Event, Origin};
use super::fresh;
use crate::cache::{
    Cache, CacheKey, CacheStatus, CallEnded, Key, Keys, Lookup, MissReason, Presence, Reads,
    RecordFields, Store, env_differs, env_matches, value_digest,
};
use crate::fingerprint::PathState;
use crate::plan::state::{fetched_executable, held_record};
use crate::plan::{Group, PlannedArtifact};
use crate::store;

/// How a run uses the artifact cache.
#[derive(Debug, Clone)]
pub struct CacheRun {
    /// The open cache (mode `read` or `read-write`).
    pub cache: Arc<Cache>,
    /// `--cache-only`: cargo is never started; an artifact that is neither here nor in the
    /// cache fails.
    pub cache_only: bool,
    /// The input key of each of the plan's artifacts, by index.
    pub keys: Arc<Keys>,
}

/// What one artifact of a group needs before cargo starts.
#[derive(Debug, Clone)]
pub(super) enum Found {
    /// Its executable is here or was fetched: package it.
    Ready {
        /// Where it is.
        executable: Utf8PathBuf,
        /// The features its package was compiled with.
        features: Vec<String>,
        /// Here or fetched.
        origin: Origin,
    },
    /// It has to be built; why, for people (what `--cache-only` says).
    Build(String),
}

/// The held records; the version is raised when their meaning changes.
const HELD: store::Store<Held> = store::Store::new("lambda-batch held executable", 2);

/// What this machine holds for one output with respect to the cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Held {
    /// The input key its executable was built or fetched for.
    key: String,
    /// Where that executable is (cargo's output, or a fetched copy).
    executable: Utf8PathBuf,
    /// Its state then.
    state: PathState,
    /// The features its package was compiled with.
    features: Vec<String>,
    /// The variables its build read, with the digest of each value (see `Record::env`).
    env: BTreeMap<String, Option<String>>,
    /// The files of its package it read, with their digests (see `Record::reads`).
    reads: Reads,
    /// The caches known to hold the key for those files (their locations).
    present: Vec<String>,
}

impl Held {
    fn path(planned: &PlannedArtifact) -> Utf8PathBuf {
        let state_dir = crate::plan::state::state_dir(&planned.resolved.cargo.target_dir);
        held_record(&state_dir, &planned.output)
    }

    fn load(planned: &PlannedArtifact) -> Option<Held> {
        HELD.load(Held::path(planned))
    }

    fn save(&self, planned: &PlannedArtifact) {
        // Best effort: without it the next run asks the cache again.
        let _ = HELD.save(&Held::path(planned), self);
    }

    /// Whether its executable is the one `key` names, right here, in this environment, with
    /// the files it read as they are in this checkout.
    fn usable(&self, key: &CacheKey, env: &dyn Fn(&str) -> Option<String>, keys: &Keys) -> bool {
        self.key == key.as_str()
            && matches!(self.state, PathState::File { .. })
            && PathState::of(self.executable.as_std_path()) == self.state
            && env_matches(&self.env, env)
            && keys.matches(&self.reads)
    }
}

/// Finds what each artifact of `group` (not locally fresh) needs: here, in the cache, or a
/// build. Parallel to `group.artifacts`.
pub(super) fn before_build(run: &Run<'_>, group: &Group, c: &CacheRun) -> Vec<Found> {
    let env = |name: &str| group.env_value(name);
    let mut found: Vec<Option<Found>> = vec![None; group.artifacts.len()];
    let mut lookups: Vec<(usize, CacheKey, Utf8PathBuf)> = Vec::new();
    for (k, &a) in group.artifacts.iter().enumerate() {
        let Some(planned) = run.plan.artifacts.get(a) else {
            continue;
        };
        let key = match c.keys.get(a) {
            Some(Ok(key)) => key.digest.clone(),
            Some(Err(why)) => {
                found[k] = Some(Found::Build(format!("it has no input key: {why}")));
                continue;
            }
            None => {
                found[k] = Some(Found::Build(
                    "it has no input key: it was not computed".into(),
                ));
                continue;
            }
        };
        if !fresh::disabled()
            && let Some(held) = Held::load(planned)
            && held.usable(&key, &env, &c.keys)
        {
            found[k] = Some(Found::Ready {
                executable: held.executable,
                features: held.features,
                origin: Origin::Here,
            });
            continue;
        }
        let state_dir = crate::plan::state::state_dir(&planned.resolved.cargo.target_dir);
        let dest = fetched_executable(&state_dir, &planned.output, &planned.resolved.identity.bin);
        lookups.push((k, key, dest));
    }
    if !lookups.is_empty() {
        let requests: Vec<(CacheKey, Utf8PathBuf)> = lookups
            .iter()
            .map(|(_, key, dest)| (key.clone(), dest.clone()))
            .collect();
        let results = c
            .cache
            .lookup_many(&requests, &|reads| c.keys.matches(reads));
        for ((k, key, dest), lookup) in lookups.into_iter().zip(results) {
            let planned = &run.plan.artifacts[group.artifacts[k]];
            found[k] = Some(fetched(run, c, planned, &key, &dest, lookup, &env));
        }
    }
    found
        .into_iter()
        .map(|f| f.unwrap_or_else(|| Found::Build("it is not in the plan".into())))
        .collect()
}

/// What a lookup of `planned`'s `key` into `dest` came to.
fn fetched(
    run: &Run<'_>,
    c: &CacheRun,
    planned: &PlannedArtifact,
    key: &CacheKey,
    dest: &Utf8Path,
    lookup: Lookup,
    env: &dyn Fn(&str) -> Option<String>,
) -> Found {
    let hit = match lookup {
        Lookup::Hit(hit) => hit,
        Lookup::Miss(miss) => {
            if let Some(message) = miss.reason.warning() {
                warn(run, message);
            }
            return Found::Build(missed(&miss.reason, key));
        }
    };
    let differ = env_differs(&hit.record.env, env);
    if !differ.is_empty() {
        return Found::Build(format!(
            "the cache's executable for key {} was built with other values of {}",
            short(key),
            differ.join(", ")
        ));
    }
    if let Err(e) = crate::package::check_executable(planned, dest) {
        warn(
            run,
            format!(
                "ignoring the cache's executable for {} ({}), key {}: {e}",
                planned.resolved.identity.name, planned.resolved.build.target, key
            ),
        );
        return Found::Build(format!(
            "the cache's executable for key {} is not one for this target",
            short(key)
        ));
    }
    Held {
        key: key.as_str().to_string(),
        executable: dest.to_path_buf(),
        state: PathState::of(dest.as_std_path()),
        features: hit.record.features.clone(),
        env: hit.record.env.clone(),
        reads: hit.record.reads.clone(),
        present: vec![c.cache.location().to_string()],
    }
    .save(planned);
    Found::Ready {
        executable: dest.to_path_buf(),
        features: hit.record.features,
        origin: Origin::Fetched,
    }
}

/// Why a lookup missed, for people.
fn missed(reason: &MissReason, key: &CacheKey) -> String {
    let key = short(key);
    match reason {
        MissReason::NotFound | MissReason::Off => format!("key {key} is not in the cache"),
        MissReason::OtherFormat(n) => {
            format!("the cache's entry for key {key} is of another format ({n})")
        }
        MissReason::Invalid(_) => format!("the cache's entry for key {key} is corrupt"),
        MissReason::Untrusted(_) => {
            format!("the cache's entry for key {key} is not signed with the signing key")
        }
        MissReason::Unavailable(why) => format!("the cache is unavailable ({why})"),
        MissReason::Down => "the cache is unavailable (see the warning above)".to_string(),
        MissReason::Local(why) => {
            format!("the cache's entry for key {key} could not be written here: {why}")
        }
    }
}

/// The first characters of a key, for people.
pub(super) fn short(key: &CacheKey) -> &str {
    &key.as_str()[..12.min(key.as_str().len())]
}

fn warn(run: &Run<'_>, message: String) {
    run.emit(Event::CacheWarning { message });
}

/// Whether the run stores what cargo builds into a cache: the entries of a call's
/// executables then wait for the call's end (see [`CallEnded`]).
pub(super) fn stores(run: &Run<'_>) -> bool {
    run.options
        .cache
        .as_ref()
        .is_some_and(|c| c.cache.mode().writes())
}

/// After `artifact` was packaged from `executable` (compiled with `features`, from
/// `origin`; `call`: what is known of the cargo call that built it): stores it or checks that
/// the cache has it, and says what the cache did for it (`None`: the run has no cache).
pub(super) fn after_packaging(
    run: &Run<'_>,
    artifact: usize,
    executable: &Utf8Path,
    features: &[String],
    origin: Origin,
    call: CallEnded,
) -> Option<CacheStatus> {
    let c = run.options.cache.as_ref()?;
    let planned = run.plan.artifacts.get(artifact)?;
    let group = run.plan.groups.get(planned.group)?;
    let Some(Key {
        digest: key,
        inputs,
        tools,
    }) = c.keys.key(artifact)
    else {
        return Some(CacheStatus::Miss);
    };
    let location = c.cache.location().to_string();
    if origin == Origin::Fetched {
        return Some(CacheStatus::Hit);
    }
    let held = Held::load(planned).filter(|h| h.key == key.as_str());
    let same_file = held.as_ref().is_some_and(|h| {
        h.executable == executable && PathState::of(executable.as_std_path()) == h.state
    });
    // The variables the build read: known from the held record for the same file, else
    // from cargo's records beside the executable.
    let env = match (&held, same_file) {
        (Some(h), true) => Some(h.env.clone()),
        _ => run
            .env_deps
            .names(
                &planned.resolved.cargo.target_dir,
                &[executable.to_path_buf()],
            )
            .map(|names| {
                let value = |name: &str| group.env_value(name);
                names
                    .into_iter()
                    .map(|n| {
                        let digest = value_digest(value(&n));
                        (n, digest)
                    })
                    .collect::<BTreeMap<_, _>>()
            }),
    };
    // The files it read: known from the held record for the same file, else from cargo's
    // dep-info beside it (see `cache::Checkout::record`). A held record that names a whole
    // package is recorded again: it may have been written before cargo wrote the dep-info (a
    // run that stores nothing does not wait for its call to end), and the call has ended now.
    let reads = match (&held, same_file) {
        (Some(h), true) if !h.reads.names_a_package() => Some(h.reads.clone()),
        _ => match c.keys.checkout() {
            Some(checkout) => {
                let r = &planned.resolved;
                match checkout.record(
                    executable,
                    &r.identity.package,
                    &r.identity.package_dir,
                    &r.cargo.target_dir,
                    call,
                ) {
                    Ok(reads) => Some(reads),
                    Err(why) => {
                        warn(
                            run,
                            format!("not storing {} in the cache: {why}", r.identity.name),
                        );
                        None
                    }
                }
            }
            None => Some(Reads::default()),
        },
    };
    let Some(reads) = reads else {
        return Some(CacheStatus::Miss);
    };
    let mut present: BTreeSet<String> = held
        .as_ref()
        .filter(|_| same_file)
        .map(|h| h.present.iter().cloned().collect())
        .unwrap_or_default();

    let status = if origin == Origin::Here && present.contains(&location) {
        CacheStatus::Hit
    } else {
        let absent = match origin {
            Origin::Here => match c.cache.contains(key, &reads) {
                Presence::Present(_) => None,
                other => {
                    if let Some(message) = other.warning() {
                        warn(run, message);
                    }
                    Some(matches!(other, Presence::Absent(_)))
                }
            },
            _ => Some(true),
        };
        match absent {
            None => {
                present.insert(location.clone());
                CacheStatus::Hit
            }
            // Absent, and this run may write: store it.
            Some(true) if c.cache.mode().writes() => match &env {
                Some(env) => {
                    let fields = RecordFields {
                        tools: tools.clone(),
                        inputs: inputs
                            .iter()
                            .map(|i| (i.name.clone(), i.digest.clone()))
                            .collect(),
                        features: features.to_vec(),
                        env: env.clone(),
                        reads: reads.clone(),
                    };
                    let stored = c.cache.store(key, executable, &fields);
                    if let Some(message) = stored.warning() {
                        warn(run, message);
                    }
                    if matches!(stored, Store::Stored(_)) {
                        present.insert(location.clone());
                        CacheStatus::Stored
                    } else {
                        CacheStatus::Miss
                    }
                }
                None => CacheStatus::Miss,
            },
            _ => CacheStatus::Miss,
        }
    };
    if let Some(env) = env {
        Held {
            key: key.as_str().to_string(),
            executable: executable.to_path_buf(),
            state: PathState::of(executable.as_std_path()),
            features: features.to_vec(),
            env,
            reads,
            present: present.into_iter().collect(),
        }
        .save(planned);
    }
    Some(status)
}

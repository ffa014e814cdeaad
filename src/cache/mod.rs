//! The shared artifact cache: executables stored once under their SHA-256 (blobs), and a small
//! JSON record per input key naming the blob, in a directory or an S3 bucket.
//!
//! It sits between plan and execute: [`compute_keys`] computes each (artifact, target)'s
//! input key, returned as a table beside the plan ([`Keys`]; the plan is never changed), and
//! the run looks each up before building and stores what it built. The API is synchronous; a small tokio
//! runtime inside the [`Cache`] drives object_store. Nothing here fails a build: a missing,
//! corrupt or truncated entry is a miss, and a backend that is unreachable or refuses is a
//! warning after a bounded wait ([`CONNECT_TIMEOUT`], [`READ_TIMEOUT`], [`REQUEST_TIMEOUT`]),
//! after which it is not asked again during the run.
//!
//! The storage's surface is re-exported here; its modules are private.

mod backend;
mod costs;
mod directory;
mod health;
mod input_key;
mod key;
mod keys;
mod layout;
mod mode;
mod outcome;
mod package_files;
mod pause;
mod probe;
mod programs;
mod reads;
mod record;
mod relative;
mod settings;
mod signing;
mod toolchain;
mod transfer;
mod versions;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::SystemTime;

use camino::{Utf8Path, Utf8PathBuf};
use futures_util::StreamExt;
use tokio::runtime::Runtime;

pub use crate::manifest::{CacheLocation, InvalidCacheUrl};
pub use backend::{
    BACKOFF, CONNECT_TIMEOUT, MAX_RETRIES, PART_SIZE, READ_TIMEOUT, REQUEST_TIMEOUT, RETRY_WINDOW,
};
pub use costs::{COSTS_FORMAT, Cost, costs_path};
pub use directory::{
    BlobFile, IndexFile, Inventory, OtherFile, Pruner, RUN_LOG, RUNS_KEPT, RecordFile,
    RecordSummary, Removal, RunEntry, append_run, inventory, last_runs, trim_run_log,
};
pub use input_key::{KEY_FORMAT, KeyContext, compute_keys};
pub use key::{CacheKey, InvalidKey};
pub use keys::{Key, KeyError, KeyInput, Keys};
pub use layout::{LAYOUT_DIR, blob_path, index_path, record_dir, record_path};
pub use mode::{CacheMode, UnknownMode};
pub use outcome::{
    CacheStatus, Fetched, Hit, Lookup, Miss, MissReason, Presence, SkipReason, Store, StoreFailure,
};
pub use programs::{Located, MissingTool, install_hint, locate, pyenv_bin_dir};
pub use reads::{CallEnded, Checkout, Reads};
pub use record::{
    MAX_EXECUTABLE_SIZE, RECORD_FORMAT, Record, RecordFields, env_differs, env_matches,
    value_digest,
};
pub use settings::{CacheSettings, SettingsError, settings};
pub use signing::{SIGNING_KEY_VAR, SigningKey};
pub use toolchain::Toolchains;

/// An S3 client for `bucket`, configured from the `AWS_*` variables of `env` as the cache's is
/// (credentials, region, endpoint, addressing style) and with its time bounds and retries
/// ([`CONNECT_TIMEOUT`], [`READ_TIMEOUT`], [`REQUEST_TIMEOUT`], [`MAX_RETRIES`]): what
/// `publish` uploads through.
pub fn s3_store(
    bucket: &str,
    env: &BTreeMap<String, String>,
) -> Result<std::sync::Arc<dyn object_store::ObjectStore>, String> {
    backend::open_s3(bucket, env)
}

/// One line for an object_store error: its message, the causes it leaves out, and of an S3
/// error body only its code and message.
pub fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    transfer::describe(error)
}

use backend::Backend;
use health::Health;
use record::RecordProblem;
use signing::Untrusted;
use transfer::{Sink, TransferError};

use crate::fingerprint::{env_vars, hex};

/// How many lookups [`Cache::lookup_many`] keeps under way at once: enough to hide S3's
/// per-request latency over a plan's keys, few enough not to look like a flood.
pub const LOOKUP_CONCURRENCY: usize = 8;

/// How many of a key's records its index keeps, newest first, and a lookup may read before it
/// calls the key a miss: each is one small request, and a key gains a record per version of its
/// package's files that was built.
pub const MAX_CANDIDATES: usize = 16;

/// Whether the files a record says its executable read are this checkout's (see
/// [`Checkout::matches`]).
pub type ReadsCheck<'a> = &'a (dyn Fn(&Reads) -> bool + Sync);

/// An open cache for one run. `Sync`: lookups and stores may come from several threads.
#[derive(Debug)]
pub struct Cache {
    location: CacheLocation,
    mode: CacheMode,
    health: Health,
    /// With a key, every record stored is signed and every record read must verify.
    signing: Option<SigningKey>,
    /// `None` when the mode is `off` or the backend could not be opened.
    inner: Option<Inner>,
    /// Whether the run asked the backend anything (an unchanged run asks nothing, and then
    /// logs nothing either).
    asked: std::sync::atomic::AtomicBool,
}

#[derive(Debug)]
struct Inner {
    /// Always `Some` until dropped.
    runtime: Option<Runtime>,
    backend: Backend,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Every operation has finished when its call returns; what is left (idle connections)
        // must not hold up the exit.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Cache {
    /// Opens the cache at `location`, S3 settings from the process's `AWS_*` environment and
    /// the signing key from [`SIGNING_KEY_VAR`]. Never fails: a backend that cannot be opened
    /// is reported by the first lookup or store.
    pub fn open(location: CacheLocation, mode: CacheMode) -> Cache {
        let env = env_vars(|name| name.starts_with("AWS_"));
        Cache::open_with_env(location, mode, env.into_iter().collect())
            .with_signing_key(SigningKey::from_env())
    }

    /// The cache, signing what it stores and trusting only what verifies with `key` (`None`:
    /// neither).
    pub fn with_signing_key(mut self, key: Option<SigningKey>) -> Cache {
        self.signing = key;
        self
    }

    /// Whether entries are signed and verified.
    pub fn signs(&self) -> bool {
        self.signing.is_some()
    }

    /// Opens the cache with the given `AWS_*` variables in place of the process's.
    pub fn open_with_env(
        location: CacheLocation,
        mode: CacheMode,
        env: BTreeMap<String, String>,
    ) -> Cache {
        if mode == CacheMode::Off {
            return Cache {
                location,
                mode,
                health: Health::default(),
                signing: None,
                inner: None,
                asked: Default::default(),
            };
        }
        let opened = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(8)
            .thread_name("lambda-batch-cache")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the cache's I/O threads: {e}"))
            .and_then(|runtime| {
                let backend = Backend::open(&location, mode, &env)?;
                Ok(Inner {
                    runtime: Some(runtime),
                    backend,
                })
            });
        match opened {
            Ok(inner) => Cache {
                location,
                mode,
                health: Health::default(),
                signing: None,
                inner: Some(inner),
                asked: Default::default(),
            },
            Err(why) => Cache {
                health: Health::down_from_start(format!("{location}: {why}")),
                location,
                mode,
                signing: None,
                inner: None,
                asked: Default::default(),
            },
        }
    }

    /// Where the cache is.
    pub fn location(&self) -> &CacheLocation {
        &self.location
    }

    /// What the run may do with it.
    pub fn mode(&self) -> CacheMode {
        self.mode
    }

    /// Whether the backend failed during this run (so lookups are no longer made): after a
    /// run of misses, the difference between "not in the cache" and "no cache".
    pub fn is_down(&self) -> bool {
        self.health.reads_down()
    }

    /// Looks `key` up: the newest of its records whose files `check` finds here; on a hit
    /// the executable is at `dest` (written beside it, verified, then renamed over it, mode
    /// 0755). On a miss `dest` is untouched.
    pub fn lookup(&self, key: &CacheKey, dest: &Utf8Path, check: ReadsCheck<'_>) -> Lookup {
        self.block_on(self.lookup_async(key, Some(dest), check))
    }

    /// Looks `key` up as [`Cache::lookup`]; on a hit the executable's bytes are in memory.
    pub fn lookup_in_memory(&self, key: &CacheKey, check: ReadsCheck<'_>) -> Lookup {
        self.block_on(self.lookup_async(key, None, check))
    }

    /// Looks every (key, destination) up, [`LOOKUP_CONCURRENCY`] at a time; the results are
    /// in the order of `requests`.
    pub fn lookup_many(
        &self,
        requests: &[(CacheKey, Utf8PathBuf)],
        check: ReadsCheck<'_>,
    ) -> Vec<Lookup> {
        self.block_on(
            futures_util::stream::iter(requests)
                .map(|(key, dest)| self.lookup_async(key, Some(dest), check))
                .buffered(LOOKUP_CONCURRENCY)
                .collect(),
        )
    }

    /// Whether `key` is in the cache for the files `reads`, without downloading its
    /// executable: its record (checked as a lookup checks it) and its blob's length.
    pub fn contains(&self, key: &CacheKey, reads: &Reads) -> Presence {
        self.block_on(self.contains_async(key, reads))
    }

    /// Stores the executable at `executable` under `key`: its blob first, then the record, each
    /// written atomically, so that no reader sees a partial object or a record without its blob.
    /// Two runners storing one key at once both succeed; the last record written stays.
    pub fn store(&self, key: &CacheKey, executable: &Utf8Path, fields: &RecordFields) -> Store {
        self.block_on(self.store_async(key, executable, fields))
    }

    /// Runs `future` on the cache's runtime; without one (mode `off`, or a backend that could
    /// not be opened) the future never reaches a backend, so polling it here is enough.
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        match self.inner.as_ref().and_then(|inner| inner.runtime.as_ref()) {
            Some(runtime) => runtime.block_on(future),
            None => futures_util::FutureExt::now_or_never(future)
                .expect("without a backend, cache operations finish without waiting"),
        }
    }

    /// The backend and its store a read goes to, or why none is made: the mode does not read
    /// (`Off`), the backend failed before (`Down`, `Unavailable`), or a directory that does not
    /// exist was opened to read (`NotFound`). A run that gets them has asked the cache.
    fn reader(&self) -> Result<(&Backend, &dyn object_store::ObjectStore), MissReason> {
        if !self.mode.reads() {
            return Err(MissReason::Off);
        }
        self.health.check_read()?;
        let inner = self.inner.as_ref().ok_or(MissReason::Down)?;
        self.asked.store(true, std::sync::atomic::Ordering::Relaxed);
        let store = inner.backend.store.as_deref().ok_or(MissReason::NotFound)?;
        Ok((&inner.backend, store))
    }

    async fn lookup_async(
        &self,
        key: &CacheKey,
        dest: Option<&Utf8Path>,
        check: ReadsCheck<'_>,
    ) -> Lookup {
        let miss = |reason| {
            Lookup::Miss(Miss {
                key: key.clone(),
                reason,
            })
        };
        let (backend, store) = match self.reader() {
            Ok(reader) => reader,
            Err(reason) => return miss(reason),
        };
        let record = match self.find_record(store, backend, key, check).await {
            Ok(record) => record,
            Err(reason) => return miss(reason),
        };
        let sink = match dest {
            Some(dest) => Sink::file(dest),
            // The record's size is checked against the blob's before a byte is read.
            None => Ok(Sink::Memory(Vec::with_capacity(
                record.size.min(PART_SIZE as u64) as usize,
            ))),
        };
        let blob_object = backend.path(&blob_path(&record.sha256));
        let fetched = match sink {
            Ok(sink) => transfer::download_blob(store, &blob_object, &record, sink).await,
            Err(e) => Err(e),
        };
        match fetched {
            Ok(fetched) => {
                self.mark_used(&record_path(key, &record.reads.digest()));
                Lookup::Hit(Hit { record, fetched })
            }
            Err(e) => miss(self.lookup_failed(e)),
        }
    }

    /// The newest record of `key` whose files `check` finds here (its index, then its records
    /// newest first); a bad one is passed over (and said, when nothing else matches), never
    /// used. What a lookup downloads, and what `plan --shards` asks for (see `probe`).
    async fn find_record(
        &self,
        store: &dyn object_store::ObjectStore,
        backend: &Backend,
        key: &CacheKey,
        check: ReadsCheck<'_>,
    ) -> Result<Record, MissReason> {
        let candidates = transfer::get_index(store, &backend.path(&index_path(key)))
            .await
            .map_err(|e| self.lookup_failed(e))?;
        let mut problem = None;
        for name in candidates.iter().take(MAX_CANDIDATES) {
            let object = backend.path(&record_path(key, name));
            match self.read_record(store, &object, key).await {
                Ok(record) if check(&record.reads) => return Ok(record),
                Ok(_) | Err(MissReason::NotFound) => {}
                Err(
                    reason @ (MissReason::Invalid(_)
                    | MissReason::Untrusted(_)
                    | MissReason::OtherFormat(_)),
                ) => {
                    problem.get_or_insert(reason);
                }
                Err(reason) => return Err(reason),
            }
        }
        Err(problem.unwrap_or(MissReason::NotFound))
    }

    /// The record at `object`, stored under `key`, checked: its format, its contents against
    /// the key and its own name, and (with a signing key) its signature.
    async fn read_record(
        &self,
        store: &dyn object_store::ObjectStore,
        object: &object_store::path::Path,
        key: &CacheKey,
    ) -> Result<Record, MissReason> {
        let bytes = transfer::get_record(store, object)
            .await
            .map_err(|e| self.lookup_failed(e))?;
        let invalid =
            |why: String| MissReason::Invalid(format!("{}: `{object}`: {why}", self.location));
        let record = match Record::parse(&bytes, key) {
            Ok(record) => record,
            Err(RecordProblem::Unsupported(format)) => return Err(MissReason::OtherFormat(format)),
            Err(RecordProblem::Invalid(why)) => return Err(invalid(why)),
        };
        let name = format!("{}.json", record.reads.digest());
        if object.filename() != Some(name.as_str()) {
            return Err(invalid(format!(
                "the record's files have the digest of `{name}`, not of its name"
            )));
        }
        self.trusted(&record, object)?;
        Ok(record)
    }

    async fn contains_async(&self, key: &CacheKey, reads: &Reads) -> Presence {
        let (backend, store) = match self.reader() {
            Ok(reader) => reader,
            Err(reason) => return Presence::of_miss(reason),
        };
        let record_object = backend.path(&record_path(key, &reads.digest()));
        let record = match self.read_record(store, &record_object, key).await {
            Ok(record) => record,
            Err(reason) => return Presence::of_miss(reason),
        };
        let failed = |e| Presence::of_miss(self.lookup_failed(e));
        // A record the index lost (two runners adding at once) is not found by lookups:
        // absent, so that storing it again lists it.
        let digest = reads.digest();
        match transfer::get_index(store, &backend.path(&index_path(key))).await {
            Ok(names) if names.contains(&digest) => {}
            Ok(_) => return Presence::Absent(MissReason::NotFound),
            Err(e) => return failed(e),
        }
        let blob_object = backend.path(&blob_path(&record.sha256));
        match transfer::blob_exists(store, &blob_object, &record).await {
            Ok(true) => {
                self.mark_used(&record_path(key, &digest));
                Presence::Present(record)
            }
            Ok(false) => Presence::Absent(MissReason::Invalid(format!(
                "{}: the record of `{key}` names the blob {}, which is missing or of another length",
                self.location, record.sha256
            ))),
            Err(e) => failed(e),
        }
    }

    /// Whether `record` (read from `object`) may be used: always without a signing key; with
    /// one, only when it carries the key's signature over itself.
    fn trusted(
        &self,
        record: &Record,
        object: &object_store::path::Path,
    ) -> Result<(), MissReason> {
        let Some(signing) = &self.signing else {
            return Ok(());
        };
        signing.verify(record).map_err(|untrusted| {
            let what = match untrusted {
                Untrusted::Unsigned => "has no signature",
                Untrusted::WronglySigned => "has a signature that does not verify",
            };
            MissReason::Untrusted(format!(
                "{}: the entry `{object}` of key {} {what} with {SIGNING_KEY_VAR}",
                self.location, record.key
            ))
        })
    }

    /// Marks the record at `relative` used now, for `cache prune`'s least-recently-used
    /// order: in a directory cache only (its modification time; best effort, in any mode).
    fn mark_used(&self, relative: &str) {
        if let CacheLocation::Directory { path } = &self.location {
            directory::touch(&path.join(relative));
        }
    }

    /// Appends `entry` to the run log of a directory cache this run may write to and asked
    /// something (read by `cache stats`); best effort: a log that cannot be written fails
    /// nothing.
    pub fn log_run(&self, entry: &RunEntry) {
        if let (CacheLocation::Directory { path }, true) = (&self.location, self.mode.writes())
            && self.inner.is_some()
            && self.asked.load(std::sync::atomic::Ordering::Relaxed)
        {
            let _ = directory::append_run(path, entry);
        }
    }

    /// The miss a failed lookup is.
    fn lookup_failed(&self, error: TransferError) -> MissReason {
        match error {
            TransferError::NotFound => MissReason::NotFound,
            TransferError::Invalid(why) => MissReason::Invalid(format!("{}: {why}", self.location)),
            TransferError::Local(why) => MissReason::Local(why),
            TransferError::Backend { why, .. } => {
                self.health.read_failed(format!("{}: {why}", self.location))
            }
        }
    }

    async fn store_async(
        &self,
        key: &CacheKey,
        executable: &Utf8Path,
        fields: &RecordFields,
    ) -> Store {
        match self.mode {
            CacheMode::Off => return Store::Skipped(SkipReason::Off),
            CacheMode::Read => return Store::Skipped(SkipReason::ReadOnly),
            CacheMode::ReadWrite => {}
        }
        if let Err(skipped) = self.health.check_write() {
            return skipped;
        }
        let Some(store) = self
            .inner
            .as_ref()
            .and_then(|inner| inner.backend.store.as_deref())
        else {
            return Store::Skipped(SkipReason::Down);
        };
        let backend = &self
            .inner
            .as_ref()
            .expect("a store has its backend")
            .backend;
        self.asked.store(true, std::sync::atomic::Ordering::Relaxed);
        let Some(file_name) = executable.file_name() else {
            return Store::Failed(StoreFailure::Local(format!("`{executable}` is not a file")));
        };
        let stored = async {
            let read = transfer::read_executable(executable)?;
            let mut record = Record::new(
                key,
                &read.sha256,
                read.size,
                file_name,
                fields,
                SystemTime::now(),
            );
            record.signature = self.signing.as_ref().map(|k| k.sign(&record));
            let blob_object = backend.path(&blob_path(&record.sha256));
            transfer::upload_blob(store, &blob_object, executable, read).await?;
            pause::after_blob().await;
            let digest = record.reads.digest();
            let record_object = backend.path(&record_path(key, &digest));
            transfer::put_record(store, &record_object, &record).await?;
            // Then the index, this record first. A bad index is rewritten from scratch.
            let index_object = backend.path(&index_path(key));
            let mut names = match transfer::get_index(store, &index_object).await {
                Ok(names) => names,
                Err(TransferError::Invalid(_)) => Vec::new(),
                Err(e) => return Err(e),
            };
            names.retain(|n| *n != digest);
            names.insert(0, digest.clone());
            names.truncate(MAX_CANDIDATES);
            transfer::put_index(store, &index_object, &names).await?;
            if matches!(self.location, CacheLocation::Directory { .. }) {
                // `cache prune` may have run meanwhile: it removes a blob no record named yet,
                // and rewrites indexes. What it took is put back, so that the entry is whole.
                if !transfer::blob_exists(store, &blob_object, &record).await? {
                    let again = transfer::read_executable(executable)?;
                    if hex(&again.sha256) != record.sha256 {
                        return Err(TransferError::Local(format!(
                            "`{executable}` changed while it was being stored"
                        )));
                    }
                    transfer::upload_blob(store, &blob_object, executable, again).await?;
                }
                let mut names = transfer::get_index(store, &index_object)
                    .await
                    .unwrap_or_default();
                if !names.contains(&digest) {
                    names.insert(0, digest);
                    names.truncate(MAX_CANDIDATES);
                    transfer::put_index(store, &index_object, &names).await?;
                }
            }
            Ok::<_, TransferError>(record)
        };
        match stored.await {
            Ok(record) => Store::Stored(record),
            Err(TransferError::Local(why) | TransferError::Invalid(why)) => {
                Store::Failed(StoreFailure::Local(why))
            }
            Err(TransferError::NotFound) => self.health.write_failed(
                format!("{}: the bucket or directory does not exist", self.location),
                false,
            ),
            Err(TransferError::Backend { why, refused }) => self
                .health
                .write_failed(format!("{}: {why}", self.location), refused),
        }
    }
}

/// The versions of the tools that build each artifact of `plan` (`rustc -vV`, `cargo -V`, and
/// the build program's and its linker's own), asked as the input key asks them and kept
/// between runs alike, in plan order; `Err` says why one could not be asked.
pub fn tool_versions(plan: &crate::plan::Plan) -> Vec<Result<BTreeMap<String, String>, String>> {
    let versions = versions::Versions::new(crate::resolve::local_cache_dir("tools"));
    let toolchains = Toolchains::default();
    let inherited = |k: &str| std::env::var(k).ok();
    let programs = BTreeMap::new();
    plan.artifacts
        .iter()
        .map(|a| {
            let (_, _, env) = crate::plan::alone(&a.resolved, &plan.flags, &inherited);
            versions.of(&a.resolved, &env, &programs, &toolchains)
        })
        .collect()
}

//! The client and the run over a report's zips: [`CONCURRENCY`] objects at a time, each asked
//! for, then uploaded if absent; the first failure of the bucket stops the rest.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use object_store::ObjectStore;
use tokio::runtime::Runtime;

use super::CONCURRENCY;
use super::object::{PublishFile, files_of};
use super::table::{Entry, PublishTable, State};
use super::upload::{self, Failure, Found, Put};
use crate::manifest::PublishLocation;
use crate::report::Report;

/// Upload what is missing, or only say what would be uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Upload every zip the bucket does not have.
    Upload,
    /// Ask the bucket, upload nothing.
    DryRun,
}

/// HEADs of the keys the outputs most likely have, under way while the build runs: by key, the
/// size asked for and what was found (a key that failed to answer is left out: it is asked
/// again).
pub struct Prefetch {
    answers: Option<tokio::task::JoinHandle<BTreeMap<String, (u64, Found)>>>,
}

impl Prefetch {
    /// Nothing asked in advance.
    pub fn none() -> Prefetch {
        Prefetch { answers: None }
    }
}

/// An S3 client for one destination, with the I/O threads that drive it.
pub struct Publisher {
    location: PublishLocation,
    store: Arc<dyn ObjectStore>,
    /// Always `Some` until dropped.
    runtime: Option<Runtime>,
}

impl Drop for Publisher {
    fn drop(&mut self) {
        // Every request has finished when `publish` returns; idle connections must not hold
        // up the exit.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Publisher {
    /// A client for `location`, configured from the `AWS_*` variables of `env` (see
    /// `crate::cache::s3_store`); an error says why it cannot be configured.
    pub fn open(
        location: &PublishLocation,
        env: &BTreeMap<String, String>,
    ) -> Result<Publisher, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lambda-batch-publish")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the upload threads: {e}"))?;
        let store = crate::cache::s3_store(&location.bucket, env)?;
        Ok(Publisher {
            location: location.clone(),
            store,
            runtime: Some(runtime),
        })
    }

    /// A client configured from the process's `AWS_*` environment.
    pub fn from_env(location: &PublishLocation) -> Result<Publisher, String> {
        let env = crate::fingerprint::env_vars(|name| name.starts_with("AWS_"));
        Publisher::open(location, &env.into_iter().collect())
    }

    /// Where it publishes.
    pub fn location(&self) -> &PublishLocation {
        &self.location
    }

    /// Starts asking for the keys of `files` (see [`super::likely_files`]) in the background,
    /// [`CONCURRENCY`] at a time; [`Publisher::publish`] then only asks again for the keys that
    /// turned out different.
    pub fn prefetch(&self, files: Vec<PublishFile>) -> Prefetch {
        let Some(runtime) = self.runtime.as_ref() else {
            return Prefetch::none();
        };
        let store = Arc::clone(&self.store);
        let answers = runtime.spawn(async move {
            let store = store.as_ref();
            futures_util::stream::iter(files)
                .map(|file| async move {
                    let found = upload::head(store, &file).await.ok();
                    found.map(|found| (file.key, (file.size, found)))
                })
                .buffer_unordered(CONCURRENCY)
                .filter_map(|answer| async move { answer })
                .collect()
                .await
        });
        Prefetch {
            answers: Some(answers),
        }
    }

    /// Publishes every zip `report` lists as built (or, with [`Mode::DryRun`], asks which are
    /// there), taking what `prefetch` already found for a key; stops starting new objects once
    /// `cancel` is set (then the table says `interrupted` with `signal`). The table is parallel
    /// to `report.artifacts`.
    pub fn publish(
        &self,
        report: &Report,
        mode: Mode,
        cancel: &Arc<AtomicBool>,
        signal: &dyn Fn() -> Option<i32>,
        prefetch: Prefetch,
    ) -> PublishTable {
        let work: Vec<(usize, Vec<PublishFile>)> = report
            .artifacts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| files_of(&self.location, a).map(|files| (i, files)))
            .collect();
        let down: Mutex<Option<String>> = Mutex::new(None);
        let down = &down;
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the publisher");
        let known = match prefetch.answers {
            Some(answers) => runtime.block_on(answers).unwrap_or_default(),
            None => BTreeMap::new(),
        };
        let known = &known;
        let mut states: Vec<(usize, State)> =
            runtime.block_on(
                futures_util::stream::iter(&work)
                    .map(|(i, files)| async move {
                        (*i, self.one(files, mode, cancel, down, known).await)
                    })
                    .buffer_unordered(CONCURRENCY)
                    .collect(),
            );
        let mut unavailable = down.lock().unwrap_or_else(|p| p.into_inner()).take();
        if mode == Mode::DryRun && unavailable.is_none() {
            // A HEAD cannot tell a missing bucket from a missing key.
            if let Some((_, files)) = work.iter().find(|(i, _)| {
                states
                    .iter()
                    .any(|(j, s)| j == i && *s == State::WouldUpload)
            }) && let Err(Failure::Bucket(why)) =
                runtime.block_on(upload::check_bucket(self.store.as_ref(), &files[0].key))
            {
                unavailable = Some(why);
                for (_, state) in &mut states {
                    if *state == State::WouldUpload {
                        *state = State::NotTried;
                    }
                }
            }
        }
        let mut entries: Vec<Option<Entry>> = vec![None; report.artifacts.len()];
        for (i, files) in &work {
            entries[*i] = Some(Entry {
                bucket: self.location.bucket.clone(),
                key: files[0].key.clone(),
                state: State::NotTried,
            });
        }
        for (i, state) in states {
            if let Some(entry) = entries[i].as_mut() {
                entry.state = state;
            }
        }
        let interrupted = if cancel.load(Ordering::SeqCst) {
            signal()
        } else {
            None
        };
        PublishTable {
            location: self.location.clone(),
            entries,
            unavailable,
            interrupted,
        }
    }

    /// One artifact's files, the zip first: its state is the zip's, unless a file beside it
    /// fails.
    async fn one(
        &self,
        files: &[PublishFile],
        mode: Mode,
        cancel: &Arc<AtomicBool>,
        down: &Mutex<Option<String>>,
        known: &BTreeMap<String, (u64, Found)>,
    ) -> State {
        let mut zip_state = None;
        for file in files {
            let state = self.file(file, mode, cancel, down, known).await;
            match (&zip_state, state) {
                (None, state) => zip_state = Some(state),
                (Some(_), state @ (State::Failed(_) | State::NotTried)) => return state,
                (Some(_), _) => {}
            }
        }
        zip_state.unwrap_or(State::NotTried)
    }

    async fn file(
        &self,
        file: &PublishFile,
        mode: Mode,
        cancel: &Arc<AtomicBool>,
        down: &Mutex<Option<String>>,
        known: &BTreeMap<String, (u64, Found)>,
    ) -> State {
        let is_down = || down.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        if cancel.load(Ordering::SeqCst) || is_down() {
            return State::NotTried;
        }
        let failed = |failure: Failure| match failure {
            Failure::Object(why) => State::Failed(why),
            Failure::Interrupted => State::NotTried,
            Failure::Bucket(why) => {
                // Only the first failure is the bucket's story; the others are its echoes.
                let mut down = down.lock().unwrap_or_else(|p| p.into_inner());
                if down.is_none() {
                    *down = Some(why);
                }
                State::NotTried
            }
        };
        let store = self.store.as_ref();
        let found = match known.get(&file.key) {
            // Asked during this publish, while the build ran: as good as asking now.
            Some((size, found)) if *size == file.size => Ok(found.clone()),
            _ => upload::head(store, file).await,
        };
        match found {
            Ok(Found::Present { version_id }) => return State::Exists { version_id },
            Ok(Found::Absent) => {}
            Err(failure) => return failed(failure),
        }
        if mode == Mode::DryRun {
            return State::WouldUpload;
        }
        if cancel.load(Ordering::SeqCst) || is_down() {
            return State::NotTried;
        }
        match upload::put(store, file, cancel).await {
            Ok(Put::Created { version_id }) => State::Uploaded { version_id },
            // Another publisher created it between our HEAD and PUT: the same bytes.
            Ok(Put::AlreadyThere) => match upload::head(store, file).await {
                Ok(Found::Present { version_id }) => State::Exists { version_id },
                Ok(Found::Absent) => State::Failed(format!(
                    "`{}` was refused as existing, then not found",
                    file.key
                )),
                Err(failure) => failed(failure),
            },
            Err(failure) => failed(failure),
        }
    }
}

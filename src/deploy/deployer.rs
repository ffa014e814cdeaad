//! The run over a report's outputs: layers first, then functions, `jobs` at a time; for each,
//! read what Lambda has, then change only what differs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, FunctionCode, FunctionConfiguration, LastUpdateStatus, LayerVersionContentInput,
    Runtime as LambdaRuntime, State as FunctionState,
};
use base64::Engine;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::runtime::Runtime;

use super::layers::merge_layers;
use super::table::{Action, DeployTable, Entry};
use super::target::{Target, TargetKind};
use crate::manifest::values::Arch;

/// Change what differs, or only say what would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Create, update and publish what differs.
    Deploy,
    /// Call only the read APIs; say what would change.
    DryRun,
}

/// How long a function may stay `InProgress` (or `Pending`) after a change before deploy gives
/// up on it.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

/// Error codes that say the credentials (not one function) are refused: deploying stops.
const REFUSED: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "MissingAuthenticationToken",
];

/// Why a call failed.
enum Failure {
    /// The endpoint or the credentials: nothing else will work either.
    Endpoint(String),
    /// This function or layer.
    Call(String),
}

/// A Lambda client with the I/O threads that drive it.
pub struct Deployer {
    client: Client,
    /// Always `Some` until dropped.
    runtime: Option<Runtime>,
}

impl Drop for Deployer {
    fn drop(&mut self) {
        // Every call has finished when `deploy` returns; idle connections must not hold up the
        // exit.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// What a deploy shares between its tasks.
struct Run<'a> {
    mode: Mode,
    cancel: &'a Arc<AtomicBool>,
    keep_going: bool,
    /// Set on the first failure without `--keep-going`: nothing new starts.
    stop: AtomicBool,
    /// The endpoint's failure, once.
    down: Mutex<Option<String>>,
    on_done: &'a (dyn Fn(&Target, &Entry) + Sync),
}

impl Run<'_> {
    fn stopped(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
            || self.stop.load(Ordering::SeqCst)
            || self
                .down
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some()
    }

    /// The action of a failed call; an endpoint failure is recorded once and stops the rest.
    fn failed(&self, failure: Failure) -> Action {
        match failure {
            Failure::Call(why) => {
                if !self.keep_going {
                    self.stop.store(true, Ordering::SeqCst);
                }
                Action::Failed(why)
            }
            Failure::Endpoint(why) => {
                let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
                if down.is_none() {
                    *down = Some(why);
                }
                Action::NotTried
            }
        }
    }
}

impl Deployer {
    /// A client configured from the environment (see [`super::client`]).
    pub fn from_env() -> Result<Deployer, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lambda-batch-deploy")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the client's threads: {e}"))?;
        let client = runtime.block_on(super::client::lambda())?;
        Ok(Deployer {
            client,
            runtime: Some(runtime),
        })
    }

    /// Deploys `targets` (see [`super::targets`]) of a report of `artifacts` outputs: layers
    /// first, then functions, `jobs` at a time; `on_done` hears of each as it ends. Nothing new
    /// starts once `cancel` is set (the table then says `interrupted` with `signal`), once the
    /// endpoint fails, or after a failure unless `keep_going`.
    #[allow(clippy::too_many_arguments)]
    pub fn deploy(
        &self,
        targets: &[Target],
        artifacts: usize,
        mode: Mode,
        jobs: usize,
        keep_going: bool,
        cancel: &Arc<AtomicBool>,
        signal: &dyn Fn() -> Option<i32>,
        on_done: &(dyn Fn(&Target, &Entry) + Sync),
    ) -> DeployTable {
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the deployer");
        let run = Run {
            mode,
            cancel,
            keep_going,
            stop: AtomicBool::new(false),
            down: Mutex::new(None),
            on_done,
        };
        let run = &run;
        let jobs = jobs.max(1);
        let layers: Vec<&Target> = targets
            .iter()
            .filter(|t| t.kind == TargetKind::Layer)
            .collect();
        let functions: Vec<&Target> = targets
            .iter()
            .filter(|t| t.kind == TargetKind::Function)
            .collect();
        let mut done: Vec<(usize, Entry)> = runtime.block_on(
            futures_util::stream::iter(layers)
                .map(|t| async move { (t.index, self.finish(run, t, self.layer(run, t).await)) })
                .buffer_unordered(jobs)
                .collect(),
        );
        // Each extension's newest layer version for each architecture, as this run left it.
        let mut layer_arns: BTreeMap<(String, Arch), Result<Option<String>, String>> =
            BTreeMap::new();
        for (i, entry) in &done {
            let Some(t) = targets.iter().find(|t| t.index == *i) else {
                continue;
            };
            let arn = match &entry.action {
                Action::Failed(why) => Err(format!(
                    "its layer `{}` ({}) failed: {why}",
                    entry.name,
                    t.arch.as_str()
                )),
                Action::NotTried => Err(format!("its layer `{}` was not deployed", entry.name)),
                _ => Ok(entry.layer_version_arn.clone()),
            };
            layer_arns.insert((t.artifact.clone(), t.arch), arn);
        }
        let layer_arns = &layer_arns;
        let functions: Vec<(usize, Entry)> = runtime.block_on(
            futures_util::stream::iter(functions)
                .map(|t| async move {
                    let entry = self.function(run, t, layer_arns).await;
                    (t.index, self.finish(run, t, entry))
                })
                .buffer_unordered(jobs)
                .collect(),
        );
        done.extend(functions);
        let mut entries: Vec<Option<Entry>> = vec![None; artifacts];
        for (i, entry) in done {
            if let Some(slot) = entries.get_mut(i) {
                *slot = Some(entry);
            }
        }
        let interrupted = if cancel.load(Ordering::SeqCst) {
            signal()
        } else {
            None
        };
        let unavailable = run.down.lock().unwrap_or_else(|p| p.into_inner()).take();
        DeployTable {
            entries,
            unavailable,
            interrupted,
        }
    }

    fn finish(&self, run: &Run<'_>, t: &Target, entry: Entry) -> Entry {
        if entry.action != Action::NotTried {
            (run.on_done)(t, &entry);
        }
        entry
    }

    /// One extension: its layer's newest version for the architecture if it holds the zip,
    /// else a new version.
    async fn layer(&self, run: &Run<'_>, t: &Target) -> Entry {
        let name = &t.settings.name;
        let mut entry = Entry::new(name, true);
        if run.stopped() {
            return entry;
        }
        let newest = match self.newest_layer_version(name, t.arch).await {
            Ok(newest) => newest,
            Err(f) => {
                entry.action = run.failed(f);
                return entry;
            }
        };
        if let Some((arn, sha)) = newest
            && sha == t.code_sha256
        {
            entry.action = Action::Unchanged;
            entry.code_sha256 = Some(sha);
            entry.layer_version_arn = Some(arn);
            return entry;
        }
        if run.mode == Mode::DryRun {
            entry.action = Action::WouldPublish;
            return entry;
        }
        if run.stopped() {
            return entry;
        }
        let content = match code(t) {
            Ok(Bytes::S3 {
                bucket,
                key,
                version,
            }) => LayerVersionContentInput::builder()
                .s3_bucket(bucket)
                .s3_key(key)
                .set_s3_object_version(version)
                .build(),
            Ok(Bytes::Zip(bytes)) => LayerVersionContentInput::builder()
                .zip_file(Blob::new(bytes))
                .build(),
            Err(why) => {
                entry.action = run.failed(Failure::Call(why));
                return entry;
            }
        };
        let published = self
            .client
            .publish_layer_version()
            .layer_name(name)
            .description(format!("{} ({})", t.artifact, t.arch.as_str()))
            .content(content)
            .compatible_architectures(architecture(t.arch))
            .compatible_runtimes(LambdaRuntime::from(t.runtime.as_str()))
            .send()
            .await;
        match published {
            Ok(out) => {
                entry.action = Action::Published;
                entry.layer_version_arn = out.layer_version_arn;
                entry.code_sha256 = out.content.and_then(|c| c.code_sha256);
            }
            Err(e) => entry.action = run.failed(failure("PublishLayerVersion", e)),
        }
        entry
    }

    /// The newest version of layer `name` compatible with `arch`: its ARN and `CodeSha256`.
    async fn newest_layer_version(
        &self,
        name: &str,
        arch: Arch,
    ) -> Result<Option<(String, String)>, Failure> {
        let mut newest: Option<i64> = None;
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_layer_versions()
                .layer_name(name)
                .compatible_architecture(architecture(arch))
                .set_marker(marker.take())
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e) if not_found(&e) => return Ok(None),
                Err(e) => return Err(failure("ListLayerVersions", e)),
            };
            for v in page.layer_versions() {
                // The filter is the server's; checked here too.
                if v.compatible_architectures().contains(&architecture(arch))
                    && newest.is_none_or(|n| v.version > n)
                {
                    newest = Some(v.version);
                }
            }
            match page.next_marker {
                Some(m) if !m.is_empty() => marker = Some(m),
                _ => break,
            }
        }
        let Some(version) = newest else {
            return Ok(None);
        };
        let got = self
            .client
            .get_layer_version()
            .layer_name(name)
            .version_number(version)
            .send()
            .await
            .map_err(|e| failure("GetLayerVersion", e))?;
        let sha = got.content.and_then(|c| c.code_sha256).unwrap_or_default();
        Ok(got.layer_version_arn.map(|arn| (arn, sha)))
    }

    /// One function: created, or brought to the zip, architecture, layers and alias wanted.
    async fn function(
        &self,
        run: &Run<'_>,
        t: &Target,
        layer_arns: &BTreeMap<(String, Arch), Result<Option<String>, String>>,
    ) -> Entry {
        let name = &t.settings.name;
        let mut entry = Entry::new(name, false);
        entry.alias = t.settings.alias.clone();
        if run.stopped() {
            return entry;
        }
        // The layers it names, at the version this run left for its architecture (`None` in a
        // dry run where the layer would be published).
        let mut wanted: Vec<String> = Vec::new();
        let mut layers_pending = false;
        for ext in &t.settings.layers {
            match layer_arns.get(&(ext.clone(), t.arch)) {
                Some(Ok(Some(arn))) => wanted.push(arn.clone()),
                Some(Ok(None)) => layers_pending = true,
                Some(Err(why)) => {
                    entry.action = run.failed(Failure::Call(why.clone()));
                    return entry;
                }
                None => {
                    entry.action = run.failed(Failure::Call(format!(
                        "extension `{ext}` is not deployed for {} in this run: deploy it with the function (check `--only` and its `arch`)",
                        t.arch.as_str()
                    )));
                    return entry;
                }
            }
        }
        let current = match self.client.get_function().function_name(name).send().await {
            Ok(out) => out.configuration,
            Err(e) if not_found(&e) => return self.create(run, t, &wanted, entry).await,
            Err(e) => {
                entry.action = run.failed(failure("GetFunction", e));
                return entry;
            }
        };
        let current = current.unwrap_or_else(|| FunctionConfiguration::builder().build());
        let code_changes = current.code_sha256() != Some(t.code_sha256.as_str())
            || current.architectures() != [architecture(t.arch)];
        let current_layers: Vec<String> = current
            .layers()
            .iter()
            .filter_map(|l| l.arn.clone())
            .collect();
        let layers = merge_layers(&current_layers, &wanted);
        let layer_changes = layers != current_layers || layers_pending;
        let mut changes: Vec<String> = Vec::new();
        if code_changes {
            changes.push("code".into());
        }
        if layer_changes {
            changes.push("layers".into());
        }
        let mut alias_version = None;
        if let Some(alias) = &t.settings.alias {
            match self.alias_version(name, alias).await {
                Ok(Some((version, sha))) if sha == t.code_sha256 && !code_changes => {
                    alias_version = Some(version)
                }
                Ok(_) => changes.push(format!("alias {alias}")),
                Err(f) => {
                    entry.action = run.failed(f);
                    return entry;
                }
            }
        }
        if changes.is_empty() {
            entry.action = Action::Unchanged;
            entry.code_sha256 = Some(t.code_sha256.clone());
            entry.version = alias_version;
            return entry;
        }
        if run.mode == Mode::DryRun {
            entry.action = Action::WouldUpdate(changes);
            return entry;
        }
        let result = async {
            self.settled(name, &Status::from(&current)).await?;
            if code_changes {
                let mut update = self
                    .client
                    .update_function_code()
                    .function_name(name)
                    .architectures(architecture(t.arch));
                update = match code(t).map_err(Failure::Call)? {
                    Bytes::S3 {
                        bucket,
                        key,
                        version,
                    } => update
                        .s3_bucket(bucket)
                        .s3_key(key)
                        .set_s3_object_version(version),
                    Bytes::Zip(bytes) => update.zip_file(Blob::new(bytes)),
                };
                let updated = update
                    .send()
                    .await
                    .map_err(|e| failure("UpdateFunctionCode", e))?;
                self.settled(name, &configuration_of_code(&updated)).await?;
            }
            if layer_changes {
                let updated = self
                    .client
                    .update_function_configuration()
                    .function_name(name)
                    .set_layers(Some(layers.clone()))
                    .send()
                    .await
                    .map_err(|e| failure("UpdateFunctionConfiguration", e))?;
                self.settled(name, &configuration_of_config(&updated))
                    .await?;
            }
            self.version_and_alias(t, code_changes || layer_changes)
                .await
        }
        .await;
        match result {
            Ok(version) => {
                entry.action = Action::Updated;
                entry.code_sha256 = Some(t.code_sha256.clone());
                entry.version = version.or(alias_version);
            }
            Err(f) => entry.action = run.failed(f),
        }
        entry
    }

    /// A function that does not exist yet: created with `role`, the runtime, handler and
    /// architecture of its zip, and its layers; nothing else.
    async fn create(
        &self,
        run: &Run<'_>,
        t: &Target,
        layers: &[String],
        mut entry: Entry,
    ) -> Entry {
        let name = &t.settings.name;
        let Some(role) = &t.settings.role else {
            entry.action = run.failed(Failure::Call(format!(
                "the Lambda function `{name}` does not exist, and deploy creates a function only with the setting `role \"arn:aws:iam::ACCOUNT:role/NAME\"` (its execution role)"
            )));
            return entry;
        };
        if run.mode == Mode::DryRun {
            entry.action = Action::WouldCreate;
            return entry;
        }
        let result = async {
            let function_code = match code(t).map_err(Failure::Call)? {
                Bytes::S3 {
                    bucket,
                    key,
                    version,
                } => FunctionCode::builder()
                    .s3_bucket(bucket)
                    .s3_key(key)
                    .set_s3_object_version(version)
                    .build(),
                Bytes::Zip(bytes) => FunctionCode::builder().zip_file(Blob::new(bytes)).build(),
            };
            let created = self
                .client
                .create_function()
                .function_name(name)
                .role(role)
                .runtime(LambdaRuntime::from(t.runtime.as_str()))
                .handler(&t.handler)
                .architectures(architecture(t.arch))
                .code(function_code)
                .set_layers((!layers.is_empty()).then(|| layers.to_vec()))
                .send()
                .await
                .map_err(|e| failure("CreateFunction", e))?;
            self.settled(name, &configuration_of_create(&created))
                .await?;
            self.version_and_alias(t, true).await
        }
        .await;
        match result {
            Ok(version) => {
                entry.action = Action::Created;
                entry.code_sha256 = Some(t.code_sha256.clone());
                entry.version = version;
            }
            Err(f) => entry.action = run.failed(f),
        }
        entry
    }

    /// After a change (`changed`): a version published when `publish-version` or `alias` asks
    /// for one, and the alias pointed at it. The version, if any.
    async fn version_and_alias(
        &self,
        t: &Target,
        changed: bool,
    ) -> Result<Option<String>, Failure> {
        let name = &t.settings.name;
        let alias = t.settings.alias.as_deref();
        if !(t.settings.publish_version || alias.is_some()) || !(changed || alias.is_some()) {
            return Ok(None);
        }
        // Lambda refuses the version if the code changed meanwhile (another deploy).
        let published = self
            .client
            .publish_version()
            .function_name(name)
            .code_sha256(&t.code_sha256)
            .send()
            .await
            .map_err(|e| failure("PublishVersion", e))?;
        let Some(version) = published.version else {
            return Err(Failure::Call("PublishVersion answered no version".into()));
        };
        if let Some(alias) = alias {
            let exists = match self
                .client
                .get_alias()
                .function_name(name)
                .name(alias)
                .send()
                .await
            {
                Ok(_) => true,
                Err(e) if not_found(&e) => false,
                Err(e) => return Err(failure("GetAlias", e)),
            };
            if exists {
                self.client
                    .update_alias()
                    .function_name(name)
                    .name(alias)
                    .function_version(&version)
                    .send()
                    .await
                    .map_err(|e| failure("UpdateAlias", e))?;
            } else {
                self.client
                    .create_alias()
                    .function_name(name)
                    .name(alias)
                    .function_version(&version)
                    .send()
                    .await
                    .map_err(|e| failure("CreateAlias", e))?;
            }
        }
        Ok(Some(version))
    }

    /// The version alias `alias` of `function` points at and that version's `CodeSha256`;
    /// `None` when there is no such alias.
    async fn alias_version(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<Option<(String, String)>, Failure> {
        let got = match self
            .client
            .get_alias()
            .function_name(function)
            .name(alias)
            .send()
            .await
        {
            Ok(got) => got,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(failure("GetAlias", e)),
        };
        let Some(version) = got.function_version else {
            return Ok(None);
        };
        let config = self
            .client
            .get_function_configuration()
            .function_name(function)
            .qualifier(&version)
            .send()
            .await
            .map_err(|e| failure("GetFunctionConfiguration", e))?;
        Ok(Some((version, config.code_sha256.unwrap_or_default())))
    }

    /// Waits until function `name` is neither `Pending` nor `InProgress` (`now` is what the last
    /// call said of it: most calls need no asking at all), polling with a growing interval, at
    /// most [`WAIT_LIMIT`]. An update that failed is this function's failure.
    async fn settled(&self, name: &str, now: &Status) -> Result<(), Failure> {
        let mut status = now.clone();
        let start = Instant::now();
        let mut interval = Duration::from_millis(250);
        loop {
            if status.failed {
                return Err(Failure::Call(format!(
                    "Lambda could not apply the change: {}",
                    status.reason.as_deref().unwrap_or("no reason given")
                )));
            }
            if !status.busy {
                return Ok(());
            }
            if start.elapsed() > WAIT_LIMIT {
                return Err(Failure::Call(format!(
                    "the function is still being updated after {} s",
                    WAIT_LIMIT.as_secs()
                )));
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(Duration::from_secs(5));
            let config = self
                .client
                .get_function_configuration()
                .function_name(name)
                .send()
                .await
                .map_err(|e| failure("GetFunctionConfiguration", e))?;
            status = Status::of(
                config.state.as_ref(),
                config.last_update_status.as_ref(),
                config.last_update_status_reason.as_deref(),
            );
        }
    }
}

/// Whether a function is still changing, or its last change failed.
#[derive(Debug, Clone)]
struct Status {
    busy: bool,
    failed: bool,
    reason: Option<String>,
}

impl Status {
    fn of(
        state: Option<&FunctionState>,
        update: Option<&LastUpdateStatus>,
        reason: Option<&str>,
    ) -> Status {
        Status {
            busy: matches!(state, Some(FunctionState::Pending))
                || matches!(update, Some(LastUpdateStatus::InProgress)),
            failed: matches!(state, Some(FunctionState::Failed))
                || matches!(update, Some(LastUpdateStatus::Failed)),
            reason: reason.map(str::to_owned),
        }
    }
}

impl From<&FunctionConfiguration> for Status {
    fn from(c: &FunctionConfiguration) -> Status {
        Status::of(
            c.state.as_ref(),
            c.last_update_status.as_ref(),
            c.last_update_status_reason.as_deref(),
        )
    }
}

fn configuration_of_code(
    out: &aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeOutput,
) -> Status {
    Status::of(
        out.state.as_ref(),
        out.last_update_status.as_ref(),
        out.last_update_status_reason.as_deref(),
    )
}

fn configuration_of_config(
    out: &aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationOutput,
) -> Status {
    Status::of(
        out.state.as_ref(),
        out.last_update_status.as_ref(),
        out.last_update_status_reason.as_deref(),
    )
}

fn configuration_of_create(
    out: &aws_sdk_lambda::operation::create_function::CreateFunctionOutput,
) -> Status {
    Status::of(
        out.state.as_ref(),
        out.last_update_status.as_ref(),
        out.last_update_status_reason.as_deref(),
    )
}

/// The code of a call: an S3 object, or a zip's bytes.
enum Bytes {
    S3 {
        bucket: String,
        key: String,
        version: Option<String>,
    },
    Zip(Vec<u8>),
}

/// Lambda's name of an architecture.
fn architecture(arch: Arch) -> Architecture {
    match arch {
        Arch::X86_64 => Architecture::X8664,
        Arch::Arm64 => Architecture::Arm64,
    }
}

/// Where the target's bytes come from: its S3 object, or the zip's bytes, read and checked
/// against the report's SHA-256 (a zip rebuilt since is refused, never deployed as another).
fn code(t: &Target) -> Result<Bytes, String> {
    match &t.code {
        super::target::Code::S3 {
            bucket,
            key,
            version,
        } => Ok(Bytes::S3 {
            bucket: bucket.clone(),
            key: key.clone(),
            version: version.clone(),
        }),
        super::target::Code::Zip(path) => {
            if t.size > super::DIRECT_UPLOAD_LIMIT {
                return Err(format!(
                    "`{path}` is {} bytes, over Lambda's limit for a zip sent in the request ({} bytes): publish it to S3 first (a `publish` node in lambda.kdl, or `--to s3://BUCKET/PREFIX`)",
                    t.size,
                    super::DIRECT_UPLOAD_LIMIT
                ));
            }
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
            let sha = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
            if sha != t.code_sha256 {
                return Err(format!(
                    "`{path}` changed since it was packaged (its SHA-256 is not the report's): run again"
                ));
            }
            Ok(Bytes::Zip(bytes))
        }
    }
}

/// Whether Lambda answered that the function, alias or layer does not exist.
fn not_found<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    matches!(e, SdkError::ServiceError(_)) && e.code() == Some("ResourceNotFoundException")
}

/// A failed call, said with the operation's name and Lambda's code and message.
fn failure<E>(operation: &str, e: SdkError<E>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &e {
        SdkError::ServiceError(service) => {
            let Some(code) = e.code().map(str::to_owned) else {
                // Not Lambda's JSON error: a proxy's or a load balancer's answer.
                return Failure::Endpoint(format!(
                    "{operation}: HTTP {} without a Lambda error",
                    service.raw().status().as_u16()
                ));
            };
            let text = match e.message() {
                Some(message) if !message.is_empty() => format!("{operation}: {code}: {message}"),
                _ => format!("{operation}: {code}"),
            };
            if REFUSED.contains(&code.as_str()) {
                Failure::Endpoint(text)
            } else {
                Failure::Call(text)
            }
        }
        SdkError::TimeoutError(_) => Failure::Endpoint(format!(
            "{operation}: no answer within {} s",
            super::client::OPERATION_TIMEOUT.as_secs()
        )),
        _ => Failure::Endpoint(format!("{operation}: {}", causes(&e))),
    }
}

/// An error and its sources, each said once: `dispatch failure: io error: ... refused`.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(e) = next {
        let text = e.to_string();
        if !words.iter().any(|w| w.contains(&text)) {
            words.push(text);
        }
        next = e.source();
    }
    words.join(": ")
}

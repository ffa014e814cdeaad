//! Stage 6: `deploy`: every function of a run's report pointed at its zip on Lambda, every
//! extension published as a layer, and only where something changed.
//!
//! It reads the plan (each output's deploy settings: function or layer name, role, alias,
//! layers) and the run's report (each zip's path, size, architecture, runtime, handler,
//! base64 SHA-256, and where `publish` put it) as data, and hands back a [`DeployTable`], one
//! entry per report artifact, that the caller prints and copies into the report's `deployed`
//! fields. Nothing here touches the plan.
//!
//! Lambda reports each function's `CodeSha256`, the base64 SHA-256 of its zip: the report's
//! `sha256_base64`. A function whose code and architecture already match, and whose layers are
//! already the newest versions of the layers it names, is asked once (`GetFunction`) and left
//! alone. Layers go first, each published only when its newest version compatible with the
//! architecture holds other bytes; then the functions, [`DEFAULT_JOBS`] (or `--jobs`) at a
//! time, each change waiting for the function to leave `InProgress` before the next. Calls go
//! through the AWS SDK for Rust (`aws-config`'s credential chain, `AWS_ENDPOINT_URL`), with
//! bounded time-outs and throttling retried with backoff and jitter (`client.rs`).

mod client;
mod deployer;
mod layers;
mod table;
mod target;

pub use deployer::{Deployer, Mode};
pub use layers::merge_layers;
pub use table::{Action, DeployTable, Entry};
pub use target::{Settings, Target, TargetKind, direct_upload_limit, targets};

/// How many functions (or layers) are deployed at once unless `--jobs` says otherwise:
/// Lambda's control plane throttles bursts of updates per account, and eight calls in flight
/// hide its latency well enough.
pub const DEFAULT_JOBS: usize = 8;

/// The largest zip Lambda takes in the request itself (`ZipFile`): larger ones must come from
/// S3 (`publish`).
pub const DIRECT_UPLOAD_LIMIT: u64 = 50 * 1024 * 1024;

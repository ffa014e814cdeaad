//! The storage behind the cache: object_store's S3 client or its local file system, with the
//! time bounds that keep a dead backend from stalling a build.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use camino::Utf8Path;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, RetryConfig};

use super::mode::CacheMode;
use crate::manifest::CacheLocation;

/// How long a TCP (and TLS) connection may take. A healthy endpoint answers in milliseconds
/// and AWS recommends 3.1 s for S3; a blackholed address (dropped SYNs) costs exactly this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a request may wait for its response headers, and then for each piece of the body.
/// Bounds a server that accepts and never answers. It also bounds uploading one request's body
/// (the response comes after it), so [`PART_SIZE`] bytes must go up within it: 10 s asks for
/// 0.8 MB/s, far below any network a cache is worth using on.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one request may take in all: a 250 MB executable (Lambda's largest) downloads in
/// it at 2 MB/s. Only a server that trickles bytes just faster than [`READ_TIMEOUT`] gets here.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How often a request that failed fast (refused connection, HTTP 5xx, throttling) is retried.
/// S3 asks clients to retry its 500/503s; three tries with [`BACKOFF`] ride out a blip.
pub const MAX_RETRIES: usize = 3;

/// No retry starts later than this after a request's first try: a request that timed out
/// (10 s) is not tried again, so a dead endpoint costs one timeout, not four.
pub const RETRY_WINDOW: Duration = Duration::from_secs(5);

/// Waits between retries: 0.1 s, doubling, at most 1 s (so 3 retries add at most ~2 s).
pub const BACKOFF: BackoffConfig = BackoffConfig {
    init_backoff: Duration::from_millis(100),
    max_backoff: Duration::from_secs(1),
    base: 2.0,
};

/// Executables up to this size go up in one PUT; larger ones in parts of this size, so that
/// no request carries more than [`READ_TIMEOUT`] allows and memory stays bounded. S3's smallest
/// part is 5 MiB.
pub const PART_SIZE: usize = 8 << 20;

/// The store and the root of the cache inside it.
#[derive(Debug)]
pub(crate) struct Backend {
    /// `None`: a directory that does not exist, opened `read`: every key is absent.
    pub(crate) store: Option<Arc<dyn ObjectStore>>,
    /// The cache's root inside the store (the S3 prefix), without a trailing `/`.
    pub(crate) prefix: String,
}

impl Backend {
    /// Opens the backend of `location`; an error is a message for a warning, since a cache that
    /// cannot be opened is one that is down.
    pub(crate) fn open(
        location: &CacheLocation,
        mode: CacheMode,
        env: &BTreeMap<String, String>,
    ) -> Result<Backend, String> {
        match location {
            CacheLocation::Directory { path } => open_directory(path, mode),
            CacheLocation::S3 { bucket, prefix } => Ok(Backend {
                store: Some(open_s3(bucket, env)?),
                prefix: prefix.clone(),
            }),
        }
    }

    /// The object path of `relative` (a `layout` path) under the root.
    pub(crate) fn path(&self, relative: &str) -> object_store::path::Path {
        if self.prefix.is_empty() {
            object_store::path::Path::from(relative)
        } else {
            object_store::path::Path::from(format!("{}/{relative}", self.prefix))
        }
    }
}

fn open_directory(path: &Utf8Path, mode: CacheMode) -> Result<Backend, String> {
    if !path.exists() {
        if !mode.writes() {
            return Ok(Backend {
                store: None,
                prefix: String::new(),
            });
        }
        std::fs::create_dir_all(path)
            .map_err(|e| format!("cannot create the cache directory `{path}`: {e}"))?;
    }
    if mode.writes() {
        // Marks the directory as a cache for backup tools, and for the input key's walk of a
        // package that the cache directory happens to be inside of. Best effort: a cache
        // without the tag works the same.
        let tag = path.join("CACHEDIR.TAG");
        if !tag.exists() {
            let _ = crate::atomic::write(&tag, &super::package_files::cachedir_tag(), 0o644);
        }
    }
    let store = LocalFileSystem::new_with_prefix(path)
        .map_err(|e| format!("cannot open the cache directory `{path}`: {e}"))?;
    Ok(Backend {
        store: Some(Arc::new(store)),
        prefix: String::new(),
    })
}

/// The S3 client, configured from the `AWS_*` variables of `env` the way the AWS tools read
/// them, with the cache's own time bounds.
pub(crate) fn open_s3(
    bucket: &str,
    env: &BTreeMap<String, String>,
) -> Result<Arc<dyn ObjectStore>, String> {
    // reqwest is built without a bundled TLS crypto provider; ring is ours. Installing fails
    // harmlessly when a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let mut builder = AmazonS3Builder::new();
    for (name, value) in env {
        if !name.starts_with("AWS_") {
            continue;
        }
        if let Ok(key) = name.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            builder = builder.with_config(key, value);
        }
    }
    let endpoint = env
        .get("AWS_ENDPOINT_URL_S3")
        .or_else(|| env.get("AWS_ENDPOINT_URL"));
    let style_chosen = env.contains_key("AWS_VIRTUAL_HOSTED_STYLE_REQUEST");
    match endpoint {
        Some(endpoint) => {
            // An S3-compatible server (MinIO, Ceph, moto, a local gateway) is often plain HTTP
            // and rarely serves virtual-hosted bucket names.
            if endpoint.starts_with("http://") {
                builder = builder.with_allow_http(true);
            }
            if !style_chosen {
                builder = builder.with_virtual_hosted_style_request(false);
            }
        }
        None => {
            // AWS's own endpoints: virtual-hosted style, as AWS recommends, except for bucket
            // names with dots, which its TLS certificates do not cover that way.
            if !style_chosen && !bucket.contains('.') {
                builder = builder.with_virtual_hosted_style_request(true);
            }
        }
    }
    builder = builder
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
            humantime::format_duration(CONNECT_TIMEOUT).to_string(),
        )
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::ReadTimeout),
            humantime::format_duration(READ_TIMEOUT).to_string(),
        )
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
            humantime::format_duration(REQUEST_TIMEOUT).to_string(),
        )
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::UserAgent),
            concat!("lambda-batch/", env!("CARGO_PKG_VERSION")),
        )
        .with_retry(RetryConfig {
            backoff: BACKOFF,
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_WINDOW,
        })
        .with_bucket_name(bucket);
    let store = builder
        .build()
        .map_err(|e| format!("cannot configure the S3 client: {e}"))?;
    Ok(Arc::new(store))
}

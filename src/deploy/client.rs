//! The Lambda client: the AWS SDK for Rust configured from the standard places (environment,
//! shared config and credentials files with profiles and SSO, web identity for CI's OIDC,
//! container and instance metadata; `AWS_ENDPOINT_URL`), over rustls on ring, with every call
//! bounded in time and throttling retried.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// How long a connection may take to open: a dead endpoint fails after this (per attempt).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one attempt of a call may take, the upload of a 50 MiB zip included.
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a call may take, its retries included.
pub(crate) const OPERATION_TIMEOUT: Duration = Duration::from_secs(300);
/// How many times a call is tried: throttling (`TooManyRequestsException`, HTTP 429), 5xx
/// answers and broken connections are retried, after an exponential backoff with full jitter
/// (a random wait up to [`INITIAL_BACKOFF`] × 2ⁿ, at most [`MAX_BACKOFF`]).
pub(crate) const MAX_ATTEMPTS: u32 = 6;
/// The first backoff's upper bound.
pub(crate) const INITIAL_BACKOFF: Duration = Duration::from_millis(250);
/// The longest backoff.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// A Lambda client configured from the environment; an error says what is missing.
pub(crate) async fn lambda() -> Result<aws_sdk_lambda::Client, String> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF);
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts)
        .retry_config(retry)
        .load()
        .await;
    if config.region().is_none() {
        return Err(
            "no AWS region: set AWS_REGION, or a region in the AWS profile (AWS_PROFILE)".into(),
        );
    }
    Ok(aws_sdk_lambda::Client::new(&config))
}

//! What the integration tests share: the builder that runs lambda-batch ([`test`]), a Lambda
//! Runtime API on loopback ([`runtime_api`]), an S3 server on loopback ([`s3_server`]),
//! endpoints that refuse, fail or never answer ([`bad_endpoints`]), checks of what `emit`
//! writes ([`emitted`]), of the Mermaid gantt blocks of a step summary ([`gantt`]) and of a
//! timeline page ([`page`]), and a recording, throttling proxy in front of the AWS server
//! ([`aws_proxy`]).

pub mod aws_proxy;
pub mod bad_endpoints;
pub mod emitted;
pub mod gantt;
pub mod invocation;
pub mod page;
pub mod runtime_api;
pub mod s3_server;
pub mod test;

//! lambda-batch: build every AWS Lambda function and extension of a Rust monorepo from one
//! KDL manifest. The pipeline: [`manifest`] → [`resolve`] → [`plan`] → [`cache`] → execute →
//! [`report`]; above it, the release hand-off: [`publish`] (zips to S3) and [`emit`] (deploy
//! tools' inputs from a report).
// Diagnostics are built on the cold path only; boxing them would buy nothing.
#![allow(clippy::result_large_err)]
#![warn(unreachable_pub)]
// `print!` and `eprint!` panic when the stream is gone: write through `report::output`.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod atomic;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod diagnostic;
pub mod edit;
pub mod emit;
pub mod execute;
pub mod exit_code;
pub mod fingerprint;
pub mod manifest;
pub mod migrate;
pub mod package;
pub mod pipeline;
pub mod plan;
pub mod provenance;
pub mod publish;
pub mod report;
pub mod resolve;
pub mod sbom;
pub mod schema;
pub mod store;
pub mod upkeep;

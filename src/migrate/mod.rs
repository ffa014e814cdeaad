//! From cargo-lambda to lambda.kdl: cargo-lambda's build configuration, read the way
//! cargo-lambda reads it ([`cargo_lambda`]); where a manifest's resolved artifacts drift from
//! it ([`drift`]: `check`'s warnings); its settings translated into lambda.kdl's, at the level
//! they come from ([`translate`]); carried into an existing manifest as `edit`'s
//! comment-keeping edits ([`import`]), or written into a first one ([`init`]).
//!
//! It stands above `resolve` (it reads cargo metadata and the resolved artifacts) and beside
//! `edit` (whose edits it makes); no stage below it knows cargo-lambda.

pub mod cargo_lambda;
pub mod import;
pub mod init;
pub mod translate;

pub use cargo_lambda::{Drift, drift};

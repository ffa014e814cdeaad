//! Stage 6: `emit`: what a deploy tool reads, written from a run's report. A pure function of
//! the report (and of the zips it names, which are checked): no build, no network.
//!
//! - [`Format::Terraform`]: a `*.auto.tfvars.json` with one map variable, `lambda_artifacts`,
//!   by artifact name then architecture;
//! - [`Format::Sam`]: an AWS SAM template, one `AWS::Serverless::Function` per function and
//!   architecture and one `AWS::Serverless::LayerVersion` per extension and architecture;
//! - [`Format::Serverless`]: the `functions:` (and `layers:`) of a Serverless Framework service.
//!
//! Each artifact's code is its published S3 object when the report has one (`publish`),
//! otherwise its local zip, named relative to the directory of the file written.

mod input;
mod names;
mod sam;
mod serverless;
mod terraform;
mod yaml;

use camino::Utf8Path;

pub use input::{Artifact, Code, EmitError, artifacts, read_report};

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Terraform variables (`*.auto.tfvars.json`): `var.lambda_artifacts[NAME][ARCH]`.
    Terraform,
    /// An AWS SAM template (CloudFormation, YAML).
    Sam,
    /// A Serverless Framework `functions:`/`layers:` fragment (YAML).
    Serverless,
}

/// The text of `format` for `report`, whose local zips are named relative to `base` (the
/// directory of the file written, absolute); the zips are checked against the report first.
pub fn emit(
    format: Format,
    report: &crate::report::Report,
    base: &Utf8Path,
) -> Result<String, EmitError> {
    let artifacts = artifacts(report, base)?;
    Ok(match format {
        Format::Terraform => terraform::render(&artifacts),
        Format::Sam => sam::render(&artifacts),
        Format::Serverless => serverless::render(&artifacts),
    })
}

//! `lambda-batch schema`: the manifest's schema.

use super::Error;
use crate::cli::SchemaFormat;
use crate::exit_code::ExitCode;

/// Prints the KDL Schema or the JSON Schema of lambda.kdl.
pub fn schema(format: SchemaFormat) -> Result<ExitCode, Error> {
    let text = match format {
        SchemaFormat::Kdl => crate::schema::kdl::kdl_schema(),
        SchemaFormat::Json => crate::schema::manifest_json(),
    };
    super::print(&text)?;
    Ok(ExitCode::OK)
}

//! `lambda-batch schema`: the manifest's schema.

use crate::cli::SchemaFormat;
use crate::exit_code;

/// Prints the KDL Schema or the JSON Schema of lambda.kdl.
pub fn schema(format: SchemaFormat) -> i32 {
    let text = match format {
        SchemaFormat::Kdl => crate::schema::kdl::kdl_schema(),
        SchemaFormat::Json => crate::schema::manifest_json(),
    };
    crate::report::output::stdout_then(&text, exit_code::OK)
}

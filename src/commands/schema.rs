//! `lambda-batch schema`: the manifest's schema.

use crate::cli::SchemaFormat;
use crate::exit_code;

/// Prints the KDL Schema or the JSON Schema of lambda.kdl.
pub fn schema(format: SchemaFormat) -> i32 {
    match format {
        SchemaFormat::Kdl => print!("{}", crate::schema::kdl::kdl_schema()),
        SchemaFormat::Json => print!("{}", crate::schema::manifest_json()),
    }
    exit_code::OK
}

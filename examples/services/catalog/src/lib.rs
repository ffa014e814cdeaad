//! Shared handler of the catalog functions.

use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::value::RawValue;

/// What every catalog function answers: its own name and the event it received.
#[derive(Serialize)]
pub struct Echo {
    pub function: &'static str,
    /// The event exactly as it arrived (raw JSON text, key order and spacing kept).
    pub echo: Box<RawValue>,
}

/// Answers `{"function":"<function>","echo":<event>}`.
pub async fn echo(
    function: &'static str,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Echo, Error> {
    Ok(Echo {
        function,
        echo: event.payload,
    })
}

//! Consumes order events; answers `{"function":"order-events","echo":<event>}`.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Serialize;
use serde_json::value::RawValue;

#[derive(Serialize)]
struct Echo {
    function: &'static str,
    /// The event exactly as it arrived (raw JSON text).
    echo: Box<RawValue>,
}

async fn handler(event: LambdaEvent<Box<RawValue>>) -> Result<Echo, Error> {
    Ok(Echo {
        function: env!("CARGO_BIN_NAME"),
        echo: event.payload,
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}

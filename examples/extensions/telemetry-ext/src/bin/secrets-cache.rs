//! Internal extension (shipped at the zip root as `secrets-cache`): internal extensions
//! may only register for INVOKE; it refreshes its cache before each invocation.

use lambda_extension::{service_fn, Error, Extension, LambdaEvent, NextEvent};
use serde_json::json;

async fn on_event(event: LambdaEvent) -> Result<(), Error> {
    if let NextEvent::Invoke(e) = event.next {
        println!(
            "{}",
            json!({"extension": "secrets-cache", "refreshed-for": e.request_id})
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    Extension::new()
        .with_events(&["INVOKE"])
        .with_events_processor(service_fn(on_event))
        .run()
        .await
}

//! External extension (shipped as `extensions/telemetry`): registers for INVOKE and
//! SHUTDOWN and forwards the function's telemetry records to stdout as JSON lines.

use lambda_extension::{
    service_fn, Error, Extension, LambdaEvent, LambdaTelemetry, NextEvent, SharedService,
};
use serde_json::{json, Value};

async fn on_event(event: LambdaEvent) -> Result<(), Error> {
    match event.next {
        NextEvent::Invoke(e) => {
            println!(
                "{}",
                json!({"extension": "telemetry", "invoke": e.request_id})
            );
            Ok(())
        }
        NextEvent::Shutdown(e) => {
            println!(
                "{}",
                json!({"extension": "telemetry", "shutdown": e.shutdown_reason})
            );
            // lambda-extension would keep polling after SHUTDOWN; the sandbox is going away.
            std::process::exit(0)
        }
    }
}

async fn on_telemetry(records: Vec<LambdaTelemetry<Value>>) -> Result<(), Error> {
    for record in records {
        println!(
            "{}",
            json!({"extension": "telemetry", "record": format!("{record:?}")})
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    Extension::new()
        .with_events_processor(service_fn(on_event))
        .with_telemetry_record_type::<Value>()
        .with_telemetry_processor(SharedService::new(service_fn(on_telemetry)))
        .run()
        .await
}

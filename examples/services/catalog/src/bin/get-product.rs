use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        catalog_api::echo(env!("CARGO_BIN_NAME"), event)
    }))
    .await
}

#!/usr/bin/env python3
"""Writes the one-function-per-workspace benchmark repository (issue 15).

The common layout of AWS's own example repositories: every function is its own small cargo
workspace, with its own dependency set and its own Cargo.lock. 12 workspaces, one artifact
each (10 functions, 2 extensions); real lambda_runtime / lambda_http / aws_lambda_events /
lambda-extension code:

  functions/api-products      HTTP API (lambda_http, default features)
  functions/api-report        streaming HTTP response (lambda_http apigw_http only +
                              lambda_runtime::streaming)
  functions/sqs-orders        SQS batch with partial failures (aws_lambda_events: sqs)
  functions/s3-thumbnails     S3 object-created events (aws_lambda_events: s3)
  functions/ddb-audit         DynamoDB stream (aws_lambda_events: dynamodb)
  functions/sns-notify        SNS notifications (aws_lambda_events: sns)
  functions/nightly-report    scheduled job, an EventBridge schedule (aws_lambda_events:
                              eventbridge, chrono)
  functions/kinesis-metrics   Kinesis records (aws_lambda_events: kinesis)
  functions/cognito-presignup Cognito pre-sign-up trigger (aws_lambda_events: cognito)
  functions/authorizer        API Gateway request authorizer (aws_lambda_events: apigw)
  extensions/telemetry-ext    external extension, telemetry API (lambda-extension)
  extensions/logs-ext         external extension, logs API (lambda-extension)
  lambda.kdl                  release, x86_64 + arm64, cargo-zigbuild, zip, one shared
                              target dir (target/shared)

Each workspace's Cargo.lock is copied from benches/onefn-locks/<name>.lock, so that every run
builds the same crate versions. A missing lock file is generated (`cargo generate-lockfile`)
and copied back there, to be committed.

A smaller benchmark, for a quick check that every step works (the environment chooses):
  ONEFN_ONLY     names of the workspaces to write (comma or space separated; default: all 12)
  ONEFN_PROFILE  the profile of lambda.kdl (default: release)
  ONEFN_ARCH     its architectures, x86_64 and/or arm64 (default: both)

usage: gen_onefn_monorepo.py DIR
"""
import os
import shutil
import subprocess
import sys

from benchlib import write_under

root = sys.argv[1]
locks = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onefn-locks")

RUNTIME = 'lambda_runtime = "1.5"\n'
SERDE = 'serde = { version = "1", features = ["derive"] }\nserde_json = "1"\n'
TOKIO = 'tokio = { version = "1", features = ["macros"] }\n'


def events(*features):
    feats = ", ".join(f'"{f}"' for f in features)
    return ('aws_lambda_events = { version = "1.2", default-features = false, '
            f"features = [{feats}] }}\n")


def event_main(event_type, body, uses=""):
    """A lambda_runtime function taking `event_type` and returning JSON."""
    return f'''use lambda_runtime::{{run, service_fn, tracing, Error, LambdaEvent}};
use serde_json::{{json, Value}};
{uses}
async fn handler(event: LambdaEvent<{event_type}>) -> Result<Value, Error> {{
    let payload = event.payload;
{body}
}}

#[tokio::main]
async fn main() -> Result<(), Error> {{
    tracing::init_default_subscriber();
    run(service_fn(handler)).await
}}
'''


FUNCTIONS = {
    "api-products": ("functions", 'lambda_http = "1.3"\n' + SERDE + TOKIO, '''use lambda_http::{run, service_fn, tracing, Body, Error, Request, RequestExt, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Product {
    id: String,
    name: String,
    price_cents: u64,
}

async fn handler(event: Request) -> Result<Response<Body>, Error> {
    let id = event
        .path_parameters_ref()
        .and_then(|p| p.first("id"))
        .or_else(|| event.query_string_parameters_ref().and_then(|q| q.first("id")))
        .unwrap_or("0")
        .to_string();
    let product = Product {
        name: format!("product {id}"),
        price_cents: 1999,
        id,
    };
    let body = serde_json::to_string(&product)?;
    let response = Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.into())
        .map_err(Box::new)?;
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(handler)).await
}
'''),
    "api-report": ("functions",
                   'lambda_http = { version = "1.3", default-features = false, features = ["apigw_http", "tracing"] }\n'
                   + RUNTIME + TOKIO, '''use lambda_http::{run_with_streaming_response, service_fn, tracing, Error, Request, RequestExt, Response};
use lambda_runtime::streaming::{channel, Body};

/// Streams a CSV report line by line (a Lambda function URL with response streaming).
async fn handler(event: Request) -> Result<Response<Body>, Error> {
    let rows: usize = event
        .query_string_parameters_ref()
        .and_then(|q| q.first("rows"))
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let (mut tx, rx) = channel();
    tokio::spawn(async move {
        let _ = tx.send_data("day,orders\\n".into()).await;
        for day in 0..rows {
            let line = format!("{day},{}\\n", (day * 7919) % 1000);
            if tx.send_data(line.into()).await.is_err() {
                break;
            }
        }
    });
    Ok(Response::builder()
        .header("content-type", "text/csv")
        .body(rx)?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run_with_streaming_response(service_fn(handler)).await
}
'''),
    "sqs-orders": ("functions", RUNTIME + events("sqs") + SERDE + TOKIO, '''use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use serde::Deserialize;

#[derive(Deserialize)]
struct Order {
    id: String,
    quantity: u32,
}

/// Reports the messages that are not valid orders as batch item failures.
async fn handler(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for record in event.payload.records {
        let order = record
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Order>(b).ok())
            .filter(|o| o.quantity > 0 && !o.id.is_empty());
        if order.is_none() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(handler)).await
}
'''),
    "s3-thumbnails": ("functions", RUNTIME + events("s3") + 'percent-encoding = "2"\n' + SERDE + TOKIO,
                      event_main("S3Event", '''    let keys: Vec<String> = payload
        .records
        .iter()
        .filter_map(|r| r.s3.object.key.as_deref())
        .map(|k| percent_decode_str(&k.replace('+', " ")).decode_utf8_lossy().into_owned())
        .map(|k| format!("thumbnails/{k}"))
        .collect();
    Ok(json!({ "thumbnails": keys }))''', "use aws_lambda_events::event::s3::S3Event;\nuse percent_encoding::percent_decode_str;\n")),
    "ddb-audit": ("functions", RUNTIME + events("dynamodb") + SERDE + TOKIO,
                  event_main("Event", '''    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for record in &payload.records {
        *counts.entry(record.event_name.clone()).or_default() += 1;
    }
    Ok(json!({ "changes": counts }))''', "use aws_lambda_events::event::dynamodb::Event;\n")),
    "sns-notify": ("functions", RUNTIME + events("sns") + SERDE + TOKIO,
                   event_main("SnsEvent", '''    let subjects: Vec<String> = payload
        .records
        .iter()
        .map(|r| r.sns.subject.clone().unwrap_or_else(|| r.sns.message.chars().take(40).collect()))
        .collect();
    Ok(json!({ "notified": subjects }))''', "use aws_lambda_events::event::sns::SnsEvent;\n")),
    "nightly-report": ("functions", RUNTIME + events("eventbridge") + 'chrono = { version = "0.4", default-features = false, features = ["clock"] }\n' + SERDE + TOKIO,
                       event_main("EventBridgeEvent<Value>", '''    let when = payload.time.unwrap_or_else(Utc::now);
    let day = when.date_naive().pred_opt().unwrap_or(when.date_naive());
    Ok(json!({ "report_for": day.to_string(), "schedule": payload.detail_type }))''',
                                  "use aws_lambda_events::event::eventbridge::EventBridgeEvent;\nuse chrono::Utc;\n")),
    "kinesis-metrics": ("functions", RUNTIME + events("kinesis") + SERDE + TOKIO,
                        event_main("KinesisEvent", '''    let bytes: usize = payload.records.iter().map(|r| r.kinesis.data.0.len()).sum();
    Ok(json!({ "records": payload.records.len(), "bytes": bytes }))''', "use aws_lambda_events::event::kinesis::KinesisEvent;\n")),
    "cognito-presignup": ("functions", RUNTIME + events("cognito") + SERDE + TOKIO, '''use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreSignup;
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};

/// Confirms users of the company's domain at sign-up.
async fn handler(
    event: LambdaEvent<CognitoEventUserPoolsPreSignup>,
) -> Result<CognitoEventUserPoolsPreSignup, Error> {
    let mut payload = event.payload;
    let email = payload.request.user_attributes.get("email").cloned().unwrap_or_default();
    if email.ends_with("@example.com") {
        payload.response.auto_confirm_user = true;
        payload.response.auto_verify_email = true;
    }
    Ok(payload)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(handler)).await
}
'''),
    "authorizer": ("functions", RUNTIME + events("apigw") + SERDE + TOKIO,
                   event_main("ApiGatewayCustomAuthorizerRequestTypeRequest", '''    let token = payload
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let effect = if token == "Bearer allow" { "Allow" } else { "Deny" };
    Ok(json!({
        "principalId": "user",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Action": "execute-api:Invoke",
                "Effect": effect,
                "Resource": payload.method_arn.unwrap_or_default(),
            }],
        },
    }))''', "use aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;\n")),
    "telemetry-ext": ("extensions", 'lambda-extension = "1.1"\nserde_json = "1"\n' + TOKIO, '''use lambda_extension::{
    service_fn, tracing, Error, Extension, LambdaEvent, LambdaTelemetry, NextEvent, SharedService,
};
use serde_json::Value;

async fn on_event(event: LambdaEvent) -> Result<(), Error> {
    if let NextEvent::Shutdown(e) = event.next {
        tracing::info!(reason = ?e.shutdown_reason, "shutting down");
    }
    Ok(())
}

async fn on_telemetry(records: Vec<LambdaTelemetry<Value>>) -> Result<(), Error> {
    for record in records {
        println!("{}", serde_json::json!({ "telemetry": format!("{record:?}") }));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    Extension::new()
        .with_events_processor(service_fn(on_event))
        .with_telemetry_record_type::<Value>()
        .with_telemetry_processor(SharedService::new(service_fn(on_telemetry)))
        .run()
        .await
}
'''),
    "logs-ext": ("extensions", 'lambda-extension = "1.1"\n' + TOKIO, '''use lambda_extension::{service_fn, tracing, Error, Extension, LambdaLog, LambdaLogRecord, SharedService};

async fn on_logs(logs: Vec<LambdaLog>) -> Result<(), Error> {
    for log in logs {
        match log.record {
            LambdaLogRecord::Function(line) => println!("[function] {line}"),
            LambdaLogRecord::Extension(line) => println!("[extension] {line}"),
            _ => {}
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    Extension::new()
        .with_logs_processor(SharedService::new(service_fn(on_logs)))
        .run()
        .await
}
'''),
}


def write(path, text):
    write_under(root, path, text)


def words(name, default):
    return os.environ.get(name, default).replace(",", " ").split()


only = words("ONEFN_ONLY", " ".join(FUNCTIONS))
archs = words("ONEFN_ARCH", "x86_64 arm64")
profile = os.environ.get("ONEFN_PROFILE", "release")
unknown = [n for n in only if n not in FUNCTIONS] + [a for a in archs if a not in ("x86_64", "arm64")]
if unknown or not only or not archs or not profile:
    sys.exit(f"gen_onefn_monorepo.py: ONEFN_ONLY names workspaces among {', '.join(FUNCTIONS)}; "
             f"ONEFN_ARCH is x86_64 and/or arm64; ONEFN_PROFILE a cargo profile (unknown: {unknown})")
manifest = [f'''// Generated by benches/gen_onefn_monorepo.py: one workspace per function.
defaults {{
    profile "{profile}"
    arch {" ".join(f'"{a}"' for a in archs)}
    compiler "cargo-zigbuild"
    output-format "zip"
    lambda-dir "target/lambda/{{arch}}"
    target-dir "target/shared"
}}
''']
for name in only:
    kind, deps, main = FUNCTIONS[name]
    ws = f"{kind}/{name}"
    write(f"{ws}/Cargo.toml", f'''[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

# A workspace of its own, as `cargo lambda new` makes it.
[workspace]

[dependencies]
{deps}''')
    write(f"{ws}/src/main.rs", main)
    node = "extension" if kind == "extensions" else "function"
    manifest.append(f'\nworkspace "{ws}" {{\n    {node} "{name}"\n}}\n')
    lock = os.path.join(locks, f"{name}.lock")
    dest = os.path.join(root, ws, "Cargo.lock")
    if os.path.exists(lock):
        with open(lock) as f:
            write(f"{ws}/Cargo.lock", f.read())
    else:
        subprocess.run(["cargo", "generate-lockfile", "--quiet"], cwd=os.path.join(root, ws), check=True)
        os.makedirs(locks, exist_ok=True)
        shutil.copyfile(dest, lock)
        print(f"wrote {lock}: commit it", file=sys.stderr)
write("lambda.kdl", "".join(manifest))

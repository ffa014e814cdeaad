#!/usr/bin/env python3
"""Writes the build benchmark monorepo: real lambda_runtime functions and one extension.

Used by scripts/bench-build.sh (not by CI). Layout (4 cargo workspaces, 10 functions, 1
extension; the dependency specs are those of examples/, whose Cargo.lock files are copied so
that nothing new has to be resolved):

  services/catalog     one package `catalog` (lib + 4 bins: get-product, list-products,
                       put-product, delete-product)
  services/orders      lib package `orders-common` (common/src/lib.rs: the shared source file
                       the "touch" scenario touches) + 3 one-bin packages (create-order,
                       get-order, order-events)
  services/users       one package `users` (lib + 3 bins: get-user, put-user, user-events)
  extensions/telemetry one package `telemetry` (an external extension)
  lambda.kdl           release, x86_64 + arm64, cargo-zigbuild, zip, one shared target dir

usage: gen_build_monorepo.py DIR EXAMPLES_DIR
"""
import os
import shutil
import sys

from benchlib import write_under

root, examples = sys.argv[1], sys.argv[2]

DEPS = """[workspace.dependencies]
lambda_runtime = { version = "1.5", default-features = false }
serde = { version = "1", features = ["derive"] }
serde_json = { version = "1", features = ["raw_value"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
"""
EXT_DEPS = """[workspace.dependencies]
lambda-extension = { version = "1.1", default-features = false }
serde_json = { version = "1", features = ["raw_value"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
"""
PKG_DEPS = """[dependencies]
lambda_runtime.workspace = true
serde.workspace = true
serde_json.workspace = true
tokio.workspace = true
"""



def write(path, text):
    write_under(root, path, text)


def package(name, extra=""):
    return (f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'
            f'publish = false\n\n{PKG_DEPS}{extra}')


def lib(domain):
    # A little real code: typed requests and responses through serde, so that each workspace
    # has its own crate to compile on top of the shared dependencies.
    return f'''//! Shared code of the {domain} functions.
use serde::{{Deserialize, Serialize}};
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct Request {{
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub body: Value,
}}

#[derive(Debug, Serialize)]
pub struct Response {{
    pub function: &'static str,
    pub domain: &'static str,
    pub id: Option<String>,
    pub fields: usize,
    pub echo: Value,
}}

pub fn handle(function: &'static str, request: Request) -> Response {{
    let fields = match &request.body {{
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    }};
    Response {{ function, domain: "{domain}", id: request.id, fields, echo: request.body }}
}}
'''


def main_rs(crate):
    return f'''use lambda_runtime::{{service_fn, Error, LambdaEvent}};

#[tokio::main]
async fn main() -> Result<(), Error> {{
    lambda_runtime::run(service_fn(|event: LambdaEvent<{crate}::Request>| async move {{
        Ok::<_, Error>({crate}::handle(env!("CARGO_BIN_NAME"), event.payload))
    }}))
    .await
}}
'''


def workspace(path, members, deps=DEPS, lock="services"):
    write(f"{path}/Cargo.toml",
          '[workspace]\nresolver = "2"\nmembers = [' + ", ".join(f'"{m}"' for m in members)
          + ']\n\n' + deps)
    dst = os.path.join(root, path, "Cargo.lock")
    if not os.path.exists(dst):
        shutil.copy(os.path.join(examples, lock, "Cargo.lock"), dst)


# services/catalog: one package, four bins.
workspace("services/catalog", ["catalog"])
write("services/catalog/catalog/Cargo.toml", package("catalog"))
write("services/catalog/catalog/src/lib.rs", lib("catalog"))
for b in ["get-product", "list-products", "put-product", "delete-product"]:
    write(f"services/catalog/catalog/src/bin/{b}.rs", main_rs("catalog"))

# services/orders: a shared lib package and one package per function.
workspace("services/orders", ["common", "create-order", "get-order", "order-events"])
write("services/orders/common/Cargo.toml",
      '[package]\nname = "orders-common"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n'
      '[dependencies]\nserde.workspace = true\nserde_json.workspace = true\n')
write("services/orders/common/src/lib.rs", lib("orders"))
for b in ["create-order", "get-order", "order-events"]:
    write(f"services/orders/{b}/Cargo.toml",
          package(b, 'orders-common = { path = "../common" }\n'))
    write(f"services/orders/{b}/src/main.rs", main_rs("orders_common"))

# services/users: one package, three bins.
workspace("services/users", ["users"])
write("services/users/users/Cargo.toml", package("users"))
write("services/users/users/src/lib.rs", lib("users"))
for b in ["get-user", "put-user", "user-events"]:
    write(f"services/users/users/src/bin/{b}.rs", main_rs("users"))

# extensions/telemetry: one external extension.
workspace("extensions/telemetry", ["telemetry"], deps=EXT_DEPS, lock="extensions")
write("extensions/telemetry/telemetry/Cargo.toml",
      '[package]\nname = "telemetry"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n'
      '[dependencies]\nlambda-extension.workspace = true\nserde_json.workspace = true\n'
      'tokio.workspace = true\n')
write("extensions/telemetry/telemetry/src/main.rs", '''use lambda_extension::{service_fn, Error, LambdaEvent, NextEvent};

async fn on_event(event: LambdaEvent) -> Result<(), Error> {
    if let NextEvent::Invoke(e) = event.next {
        println!("{}", serde_json::json!({"extension": "telemetry", "invoke": e.request_id}));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_extension::run(service_fn(on_event)).await
}
''')

MANIFEST = '''// Generated by benches/gen_build_monorepo.py: the build benchmark.
defaults {
    profile "release"
    arch "x86_64" "arm64"
    compiler "cargo-zigbuild"
    output-format "zip"
    lambda-dir "target/lambda/{arch}"
    target-dir "target/shared"
}

workspace "services/catalog" discover=true
workspace "services/orders" discover=true
workspace "services/users" discover=true
workspace "extensions/telemetry" {
    extension "telemetry"
}
'''
write("lambda.kdl", MANIFEST)
# The same without `target-dir`: every workspace builds into its own target/ (lanes side by side).
write("lambda-own-target-dirs.kdl",
      MANIFEST.replace('    target-dir "target/shared"\n', ""))
print(f"{root}: 4 workspaces, 10 functions, 1 extension")

//! `deploy` against moto's Lambda, IAM and S3 on 127.0.0.1, through a recording proxy that
//! counts every call (and can throttle), on the example monorepo's release build (the root
//! manifest's: each test's manifest sits beside it with the same build settings, so the build
//! in `target/shared` is shared with `run_examples` and done once per suite; only the zips
//! are written again, under `target/deploy-tests/`). What Lambda holds afterwards is read back
//! with boto3, never taken from what lambda-batch says.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support::aws_proxy::{Proxy, Request};
use crate::support::bad_endpoints;
use crate::support::s3_server::{BUCKET, open_server as s3_server};
use crate::support::test::{Invocation, Run, Test, bin_source, describe, repo};
use base64::Engine;
use lambda_batch::report::Report;

/// A manifest beside the root one (same build settings), removed when dropped. Outputs go to
/// `target/deploy-tests/<tag>/<arch>`, and functions and layers are named `<tag>-<name>-<arch>`
/// so that tests running at once keep apart on the one server.
struct Manifest {
    path: PathBuf,
    tag: String,
}

impl Drop for Manifest {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Manifest {
    /// `extra` goes into `defaults`; `get_product` is the function's own settings.
    fn new(tag: &str, extra: &str, get_product: &str) -> Manifest {
        let tag = format!("{tag}{}", std::process::id());
        let path = repo().join(format!(".lambda-deploy-{tag}.kdl"));
        let m = Manifest { path, tag };
        m.write(extra, get_product);
        m
    }

    fn write(&self, extra: &str, get_product: &str) {
        self.write_with(extra, get_product, "");
    }

    /// [`Manifest::write`] with `telemetry` as the telemetry extension's own settings.
    fn write_with(&self, extra: &str, get_product: &str, telemetry: &str) {
        let tag = &self.tag;
        let text = format!(
            r#"// The root lambda.kdl's build, deployed by tests/it/deploy.rs.
defaults {{
    profile "release"
    arch "x86_64" "arm64"
    compiler "cargo-zigbuild"
    output-format "zip"
    lambda-dir "target/deploy-tests/{tag}/{{arch}}"
    target-dir "target/shared"
    runtime "provided.al2023"
    function-name "{tag}-{{name}}-{{arch}}"
    layer-name "{tag}-{{name}}-{{arch}}"
{extra}}}

workspace "examples/services" {{
    include "LICENSE"
    function "get-product" {{
{get_product}    }}
    function "put-product" package="catalog-api"
    function "order-events" flatten=true {{
        lambda-dir "target/deploy-tests/{tag}/{{arch}}/orders"
    }}
}}

workspace "examples/extensions" {{
    extension "telemetry" {{
{telemetry}    }}
    extension "secrets-cache" internal=true
}}
"#
        );
        std::fs::write(&self.path, text).expect("writing the test's manifest");
    }

    fn name(&self, artifact: &str, arch: &str) -> String {
        format!("{}-{artifact}-{arch}", self.tag)
    }

    /// `lambda-batch deploy MANIFEST --report FILE ARGS` through `proxy`, exiting with
    /// `code`; the run and its report.
    #[track_caller]
    fn deploy(&self, proxy: &str, args: &[&str], code: i32) -> (Run, Report) {
        self.deploy_with(proxy, args, &[], code)
    }

    /// [`Manifest::deploy`] with `env` set too.
    #[track_caller]
    fn deploy_with(
        &self,
        proxy: &str,
        args: &[&str],
        env: &[(&str, &str)],
        code: i32,
    ) -> (Run, Report) {
        let report = repo()
            .join("target/deploy-tests")
            .join(format!("{}.json", self.tag));
        std::fs::create_dir_all(report.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&report);
        let mut invocation = Invocation::lb(&repo(), &["deploy"])
            .arg(&self.path)
            .arg("--report")
            .arg(&report)
            .args(args);
        for (k, v) in aws_env(proxy) {
            invocation = invocation.env(&k, v);
        }
        for (k, v) in env {
            invocation = invocation.env(k, v);
        }
        let run = invocation.status(code);
        let text = std::fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("no report ({e})\n{}", describe(&run)));
        (run, serde_json::from_str(&text).expect("the report parses"))
    }
}

/// The AWS environment of a client of `endpoint` with the server's credentials, and nothing
/// from this machine's AWS configuration.
fn aws_env(endpoint: &str) -> BTreeMap<String, String> {
    let server = s3_server();
    let mut env = server.env();
    env.insert("AWS_ENDPOINT_URL".into(), endpoint.into());
    env.insert("AWS_CONFIG_FILE".into(), "/nonexistent/aws/config".into());
    env.insert(
        "AWS_SHARED_CREDENTIALS_FILE".into(),
        "/nonexistent/aws/credentials".into(),
    );
    env.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
    env.insert("AWS_PROFILE".into(), "default".into());
    env
}

/// Creates each function with placeholder code (a one-file zip) and its architecture.
fn precreate(functions: &[(String, &str)]) {
    precreate_with_layers(functions, &[]);
}

/// [`precreate`], each function given `layers` (layer version ARNs).
fn precreate_with_layers(functions: &[(String, &str)], layers: &[String]) {
    const SCRIPT: &str = r#"
import io, json, sys, zipfile, boto3
endpoint, key, secret, role, functions, layers = sys.argv[1:7]
lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=key, aws_secret_access_key=secret)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("bootstrap", "placeholder")
for name, arch in json.loads(functions):
    lam.create_function(FunctionName=name, Role=role, Runtime="provided.al2023",
                        Handler="bootstrap", Architectures=[arch], Code={"ZipFile": buf.getvalue()},
                        Layers=json.loads(layers))
"#;
    let server = s3_server();
    let list = serde_json::to_string(functions).unwrap();
    let layers = serde_json::to_string(layers).unwrap();
    server.python(SCRIPT, &[&server.role, &list, &layers]);
}

/// Publishes a layer of the user's own, `name` (one file); its version ARN.
fn foreign_layer(name: &str) -> String {
    const SCRIPT: &str = r#"
import io, sys, zipfile, boto3
endpoint, key, secret, name = sys.argv[1:5]
lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=key, aws_secret_access_key=secret)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("lib/foreign.txt", "not lambda-batch's")
print(lam.publish_layer_version(LayerName=name, Content={"ZipFile": buf.getvalue()})["LayerVersionArn"])
"#;
    s3_server().python(SCRIPT, &[name]).trim().to_owned()
}

/// What Lambda holds for a function, asked with boto3: CodeSha256, architectures, layer ARNs,
/// runtime, handler; `None` when it does not exist.
#[derive(Debug, serde::Deserialize)]
struct Function {
    sha: String,
    archs: Vec<String>,
    layers: Vec<String>,
    runtime: String,
    handler: String,
    aliases: BTreeMap<String, String>,
}

fn function(name: &str) -> Option<Function> {
    const SCRIPT: &str = r#"
import json, sys, boto3
endpoint, key, secret, name = sys.argv[1:5]
lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=key, aws_secret_access_key=secret)
try:
    c = lam.get_function(FunctionName=name)["Configuration"]
except lam.exceptions.ResourceNotFoundException:
    print("null"); sys.exit(0)
aliases = {a["Name"]: a["FunctionVersion"] for a in lam.list_aliases(FunctionName=name)["Aliases"]}
print(json.dumps({"sha": c["CodeSha256"], "archs": c["Architectures"],
                  "layers": [l["Arn"] for l in c.get("Layers", [])],
                  "runtime": c.get("Runtime", ""), "handler": c.get("Handler", ""),
                  "aliases": aliases}))
"#;
    let out = s3_server().python(SCRIPT, &[name]);
    serde_json::from_str(&out).expect("the function as JSON")
}

/// Asserts that every Lambda call in `calls` (S3's are `publish`'s, checked by moto in its
/// tests) is signed as AWS wants it: Signature Version 4 with the
/// server's access key, for Lambda in the client's region, and each signature the one botocore
/// (AWS's own signer in Python) computes from the request as it reached the proxy. The server
/// these tests use does not check signatures (see `open_server`), so this does.
#[track_caller]
fn assert_signed(calls: &[Request]) {
    // Lambda's paths start with its API version (`/2015-03-31/functions`, `/2018-10-31/layers`).
    let lambda: Vec<Request> = calls
        .iter()
        .filter(|r| r.path.starts_with("/20"))
        .cloned()
        .collect();
    assert!(!lambda.is_empty());
    assert_eq!(
        badly_signed(&lambda),
        Vec::<String>::new(),
        "of {} calls",
        lambda.len()
    );
}

/// The calls of `calls` whose signature is missing or wrong (see [`assert_signed`]).
fn badly_signed(calls: &[Request]) -> Vec<String> {
    const SCRIPT: &str = r#"
import base64, hashlib, json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
endpoint, key, secret, path = sys.argv[1:5]
bad = []
for r in json.load(open(path)):
    headers = {k.lower(): v for k, v in r["headers"]}
    body = base64.b64decode(r["body"])
    what = r["method"] + " " + r["path"]
    scheme, _, fields = headers.get("authorization", "").partition(" ")
    fields = dict(f.strip().split("=", 1) for f in fields.split(",") if "=" in f)
    if scheme != "AWS4-HMAC-SHA256" or "Signature" not in fields:
        bad.append(what + ": not signed with SigV4"); continue
    ak, day, region, service, _ = fields["Credential"].split("/")
    if (ak, region, service) != (key, "us-east-1", "lambda"):
        bad.append(what + ": signed for " + fields["Credential"]); continue
    sha = headers.get("x-amz-content-sha256")
    if sha is not None and sha != hashlib.sha256(body).hexdigest():
        bad.append(what + ": x-amz-content-sha256 is not the body's"); continue
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(method=r["method"], url="http://" + headers["host"] + r["path"],
                         data=body, headers={k: v for k, v in headers.items() if k in signed})
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(ak, secret), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != fields["Signature"]:
        bad.append(what + ": the signature is not botocore's")
print(json.dumps(bad))
"#;
    let requests: Vec<serde_json::Value> = calls
        .iter()
        .map(|r| {
            serde_json::json!({
                "method": r.method,
                "path": r.path,
                "headers": r.headers,
                "body": base64::engine::general_purpose::STANDARD.encode(&r.body),
            })
        })
        .collect();
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), serde_json::to_vec(&requests).unwrap()).unwrap();
    let out = s3_server().python(SCRIPT, &[file.path().to_str().unwrap()]);
    serde_json::from_str(&out).expect("the check's findings as JSON")
}

/// The calls that may change something.
fn mutating(calls: &[Request]) -> Vec<(String, String)> {
    calls
        .iter()
        .filter(|r| r.mutates())
        .map(|r| (r.operation(), r.subject().unwrap_or_default()))
        .collect()
}

const ARCHES: &[&str] = &["x86_64", "arm64"];
const FUNCTIONS: &[&str] = &["get-product", "put-product", "order-events"];
const LAYERS_OF_GET_PRODUCT: &str =
    "        include \"config/*.toml\" \"assets/**/*.json\"\n        layers \"telemetry\"\n";

#[test]
fn functions_are_updated_once_layers_published_once_and_only_what_changed_again() {
    let server = s3_server();
    let proxy = Proxy::start(&server.endpoint);
    let m = Manifest::new("dep", "", LAYERS_OF_GET_PRODUCT);
    let m = &m;
    let all: Vec<(String, &str)> = FUNCTIONS
        .iter()
        .flat_map(|f| ARCHES.iter().map(move |a| (m.name(f, a), *a)))
        .collect();
    precreate(&all);
    let placeholder = function(&all[0].0).unwrap().sha;

    // First: every function updated to its zip, both extensions published as layers for both
    // architectures, and get-product given the telemetry layer of its architecture.
    let (run, report) = m.deploy(&proxy.endpoint, &[], 0);
    let calls = proxy.take();
    assert_signed(&calls);
    // The check sees a request changed after it was signed.
    let mut forged = calls
        .iter()
        .find(|r| r.operation() == "UpdateFunctionCode")
        .unwrap()
        .clone();
    forged.body.push(b' ');
    assert_eq!(badly_signed(&[forged]).len(), 1);
    let mut layer_arns = BTreeMap::new();
    for a in &report.artifacts {
        let d = a
            .deployed
            .as_ref()
            .unwrap_or_else(|| panic!("{} not deployed\n{}", a.name, describe(&run)));
        let arch = a.arch.as_str();
        let sha = a.sha256_base64.clone().unwrap();
        if a.kind.as_str() == "extension" {
            assert_eq!(d.action, "published", "{}", a.name);
            assert_eq!(d.layer.as_deref(), Some(m.name(&a.name, arch).as_str()));
            assert_eq!(d.code_sha256.as_deref(), Some(sha.as_str()));
            layer_arns.insert((a.name.clone(), arch), d.layer_version_arn.clone().unwrap());
            continue;
        }
        assert_eq!(d.action, "updated", "{}", a.name);
        assert_eq!(d.function.as_deref(), Some(m.name(&a.name, arch).as_str()));
        let f = function(&m.name(&a.name, arch)).unwrap();
        assert_ne!(f.sha, placeholder);
        assert_eq!(f.sha, sha, "{} ({arch}) holds its zip", a.name);
        assert_eq!(f.archs, vec![arch.to_owned()]);
    }
    for arch in ARCHES {
        let f = function(&m.name("get-product", arch)).unwrap();
        assert_eq!(
            f.layers,
            vec![layer_arns[&("telemetry".to_owned(), *arch)].clone()]
        );
        assert!(layer_arns[&("telemetry".to_owned(), *arch)].contains(&m.name("telemetry", arch)));
        assert!(
            function(&m.name("put-product", arch))
                .unwrap()
                .layers
                .is_empty()
        );
    }
    let mut changes = mutating(&calls);
    changes.sort();
    let mut expected: Vec<(String, String)> = all
        .iter()
        .map(|(n, _)| ("UpdateFunctionCode".to_owned(), n.clone()))
        .chain(ARCHES.iter().flat_map(|a| {
            ["telemetry", "secrets-cache"]
                .iter()
                .map(|e| ("PublishLayerVersion".to_owned(), m.name(e, a)))
                .collect::<Vec<_>>()
        }))
        .chain(ARCHES.iter().map(|a| {
            (
                "UpdateFunctionConfiguration".to_owned(),
                m.name("get-product", a),
            )
        }))
        .collect();
    expected.sort();
    assert_eq!(changes, expected, "{}", describe(&run));
    // The architecture goes with the code, and the zip in the request (no publish here).
    for r in calls
        .iter()
        .filter(|r| r.operation() == "UpdateFunctionCode")
    {
        let arch = if r.subject().unwrap().ends_with("arm64") {
            "arm64"
        } else {
            "x86_64"
        };
        assert!(
            r.text()
                .contains(&format!("\"Architectures\":[\"{arch}\"]")),
            "{}",
            r.text()
        );
        assert!(r.text().contains("\"ZipFile\""));
    }
    assert!(
        run.stdout.contains("6 updated, 4 published"),
        "{}",
        describe(&run)
    );
    eprintln!(
        "first deploy: {} calls, {} changing",
        calls.len(),
        changes.len()
    );

    // Again: nothing is changed, and every output says so.
    let (again, report) = m.deploy(&proxy.endpoint, &[], 0);
    let calls = proxy.take();
    assert_eq!(mutating(&calls), vec![], "{}", describe(&again));
    for a in &report.artifacts {
        assert_eq!(
            a.deployed.as_ref().unwrap().action,
            "unchanged",
            "{}",
            a.name
        );
    }
    assert!(
        again.stdout.contains("10 unchanged"),
        "{}",
        describe(&again)
    );
    eprintln!("second deploy: {} calls", calls.len());

    // One function changes (its zip loses the config files): exactly its two functions are
    // updated, nothing else, and `--publish-version` publishes a version of those two only.
    m.write(
        "",
        "        include \"assets/**/*.json\"\n        layers \"telemetry\"\n",
    );
    let (changed, report) = m.deploy(&proxy.endpoint, &["--publish-version"], 0);
    let mut changes = mutating(&proxy.take());
    changes.sort();
    let get_product = [
        m.name("get-product", "arm64"),
        m.name("get-product", "x86_64"),
    ];
    let mut expected: Vec<(String, String)> = get_product
        .iter()
        .flat_map(|n| {
            [
                ("PublishVersion".to_owned(), n.clone()),
                ("UpdateFunctionCode".to_owned(), n.clone()),
            ]
        })
        .collect();
    expected.sort();
    assert_eq!(changes, expected, "{}", describe(&changed));
    for a in &report.artifacts {
        let d = a.deployed.as_ref().unwrap();
        let version = (a.name == "get-product").then(|| "1".to_owned());
        assert_eq!(d.version, version, "{} ({})", a.name, a.arch.as_str());
    }
    let changed_sha = |report: &Report, arch: &str| {
        report
            .artifacts
            .iter()
            .find(|a| a.name == "get-product" && a.arch.as_str() == arch)
            .and_then(|a| a.sha256_base64.clone())
            .unwrap()
    };
    let new_sha = changed_sha(&report, "x86_64");
    assert_eq!(
        function(&m.name("get-product", "x86_64")).unwrap().sha,
        new_sha
    );

    // A dry run of the first manifest says what it would change, and changes nothing.
    m.write("", LAYERS_OF_GET_PRODUCT);
    let (dry, report) = m.deploy(&proxy.endpoint, &["--dry-run"], 0);
    let calls = proxy.take();
    assert_eq!(mutating(&calls), vec![], "{}", describe(&dry));
    assert!(!calls.is_empty());
    assert_eq!(
        function(&m.name("get-product", "x86_64")).unwrap().sha,
        new_sha
    );
    assert_ne!(changed_sha(&report, "x86_64"), new_sha);
    assert!(
        dry.stdout.contains("would update code")
            && dry
                .stdout
                .contains("dry run, nothing changed on Lambda: 8 unchanged, 2 would update"),
        "{}",
        describe(&dry)
    );
    assert!(
        report
            .artifacts
            .iter()
            .all(|a| a.deployed.is_none() || a.deployed.as_ref().unwrap().action == "unchanged")
    );
}

#[test]
fn a_missing_function_is_created_only_with_a_role_from_the_published_zip() {
    let server = s3_server();
    let proxy = Proxy::start(&server.endpoint);
    let only = ["--only", "put-product", "--arch", "x86_64"];
    let m = Manifest::new("new", "", "");
    let name = m.name("put-product", "x86_64");

    // No role: an error naming the function and the setting, and nothing created.
    let (refused, report) = m.deploy(&proxy.endpoint, &only, 1);
    assert!(
        refused.stderr.contains(&format!("`{name}` does not exist"))
            && refused.stderr.contains("`role"),
        "{}",
        describe(&refused)
    );
    assert_eq!(
        report.artifacts[0].deployed.as_ref().unwrap().action,
        "failed"
    );
    assert_eq!(mutating(&proxy.take()), vec![]);
    assert!(function(&name).is_none());

    // With a role, published to S3 first: created from the object with the zip's runtime,
    // handler and architecture, a version published and the alias pointed at it.
    m.write(
        &format!(
            "    role \"{}\"\n    publish-version true\n    alias \"live\"\n    sbom \"cyclonedx\"\n",
            server.role
        ),
        "",
    );
    let to = format!("s3://{BUCKET}/tests/deploy-{}", m.tag);
    let mut args = only.to_vec();
    args.extend(["--to", &to]);
    let (created, report) = m.deploy(&proxy.endpoint, &args, 0);
    let calls = proxy.take();
    assert_signed(&calls);
    let a = &report.artifacts[0];
    let d = a.deployed.as_ref().unwrap();
    assert_eq!(d.action, "created", "{}", describe(&created));
    assert_eq!(d.version.as_deref(), Some("1"));
    assert_eq!(d.alias.as_deref(), Some("live"));
    let f = function(&name).unwrap();
    assert_eq!(Some(f.sha.clone()), a.sha256_base64);
    assert_eq!(f.archs, vec!["x86_64"]);
    assert_eq!(f.runtime, "provided.al2023");
    assert_eq!(f.handler, "bootstrap");
    assert_eq!(
        f.aliases,
        BTreeMap::from([("live".to_owned(), "1".to_owned())])
    );
    let create = calls
        .iter()
        .find(|r| r.operation() == "CreateFunction")
        .unwrap();
    let key = &a.published.as_ref().unwrap().key;
    assert!(
        create.text().contains(key) && !create.text().contains("ZipFile"),
        "{}",
        create.text()
    );
    // The SBOM is written beside the zip, as by `run`, and goes up beside its object, as by
    // `publish`.
    let sbom = a.sbom.as_ref().expect("the report names the SBOM");
    assert_eq!(sbom.path, format!("{}.cdx.json", a.output));
    assert!(repo().join(&sbom.path).is_file(), "{}", sbom.path);
    let sbom_key = format!("{}.cdx.json", key.strip_suffix(".zip").unwrap());
    assert!(
        calls
            .iter()
            .any(|r| r.method == "PUT" && r.path.split('?').next().unwrap().ends_with(&sbom_key)),
        "no upload of {sbom_key}: {:?}",
        calls.iter().map(Request::operation).collect::<Vec<_>>()
    );

    // Again: nothing changes, and the alias's version is reported.
    let (again, report) = m.deploy(&proxy.endpoint, &args, 0);
    assert_eq!(mutating(&proxy.take()), vec![], "{}", describe(&again));
    let d = report.artifacts[0].deployed.clone().unwrap();
    assert_eq!(
        (d.action.as_str(), d.version.as_deref()),
        ("unchanged", Some("1"))
    );
}

#[test]
fn throttling_is_retried_and_a_dead_endpoint_is_one_error() {
    let server = s3_server();
    let proxy = Proxy::start(&server.endpoint);
    let m = Manifest::new("thr", "", "");
    let name = m.name("order-events", "arm64");
    precreate(&[(name.clone(), "arm64")]);
    let only = ["--only", "order-events", "--arch", "arm64"];

    proxy.throttle_next(3);
    let (run, report) = m.deploy(&proxy.endpoint, &only, 0);
    let calls = proxy.take();
    let throttled = calls.iter().filter(|r| r.throttled).count();
    assert_eq!(throttled, 3, "{calls:?}");
    assert!(calls.iter().take(3).all(|r| r.throttled));
    assert_eq!(
        report.artifacts[0].deployed.as_ref().unwrap().action,
        "updated",
        "{}",
        describe(&run)
    );
    assert_eq!(
        Some(function(&name).unwrap().sha),
        report.artifacts[0].sha256_base64
    );

    // Nothing listens: one error, exit 1, the report written without `deployed`.
    let (dead, report) = m.deploy(&bad_endpoints::closed_port(), &only, 1);
    let errors = dead
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .count();
    assert_eq!(errors, 1, "{}", describe(&dead));
    assert!(
        dead.stderr.contains("cannot deploy to Lambda"),
        "{}",
        describe(&dead)
    );
    assert!(report.artifacts[0].deployed.is_none());
    // Neither run printed the credentials.
    for out in [&run.stderr, &run.stdout, &dead.stderr, &dead.stdout] {
        assert!(!out.contains(&server.secret_key) && !out.contains(&server.access_key));
    }
}

#[test]
fn a_new_layer_version_replaces_the_old_once_the_code_settled_and_other_layers_stay() {
    let server = s3_server();
    let proxy = Proxy::start(&server.endpoint);
    let uses_telemetry = "        layers \"telemetry\"\n";
    let m = Manifest::new("lay", "", uses_telemetry);
    let name = m.name("get-product", "x86_64");
    let foreign = foreign_layer(&format!("{}-foreign", m.tag));
    precreate_with_layers(&[(name.clone(), "x86_64")], std::slice::from_ref(&foreign));
    let only = [
        "--only",
        "get-product",
        "--only",
        "telemetry",
        "--arch",
        "x86_64",
    ];
    let telemetry_arn = |report: &Report| {
        report
            .artifacts
            .iter()
            .find(|a| a.name == "telemetry")
            .and_then(|a| a.deployed.as_ref()?.layer_version_arn.clone())
            .expect("the telemetry layer's version")
    };

    // Lambda answers that the code update is still going on: deploy asks until it is done
    // before it changes the function's layers.
    proxy.in_progress_next(1);
    let (first, report) = m.deploy(&proxy.endpoint, &only, 0);
    let operations: Vec<String> = proxy.take().iter().map(Request::operation).collect();
    let at = |op: &str| {
        operations
            .iter()
            .position(|o| o == op)
            .unwrap_or_else(|| panic!("no {op} in {operations:?}\n{}", describe(&first)))
    };
    assert!(
        at("UpdateFunctionCode") < at("GetFunctionConfiguration")
            && at("GetFunctionConfiguration") < at("UpdateFunctionConfiguration"),
        "{operations:?}"
    );
    let v1 = telemetry_arn(&report);
    assert_eq!(
        function(&name).unwrap().layers,
        vec![foreign.clone(), v1.clone()]
    );

    // The extension changes: a new version of its layer takes the old one's place, the
    // user's own layer stays, and nothing else is called that changes anything.
    m.write_with("", uses_telemetry, "        include \"Cargo.toml\"\n");
    let (second, report) = m.deploy(&proxy.endpoint, &only, 0);
    let mut changes = mutating(&proxy.take());
    changes.sort();
    assert_eq!(
        changes,
        vec![
            (
                "PublishLayerVersion".to_owned(),
                m.name("telemetry", "x86_64")
            ),
            ("UpdateFunctionConfiguration".to_owned(), name.clone()),
        ],
        "{}",
        describe(&second)
    );
    let v2 = telemetry_arn(&report);
    assert_ne!(v1, v2);
    assert_eq!(function(&name).unwrap().layers, vec![foreign, v2]);
}

#[test]
fn the_ci_job_of_docs_deploy_md_parses_and_deploys() {
    use clap::Parser;
    let doc = std::fs::read_to_string(repo().join("docs/deploy.md")).unwrap();
    let mut deploys = 0;
    let mut block: Option<String> = None;
    for line in doc.lines() {
        match &mut block {
            None if line.trim_start() == "```yaml" => block = Some(String::new()),
            Some(text) if line.trim_start() == "```" => {
                let yaml: serde_yaml::Value = serde_yaml::from_str(text).expect("the YAML parses");
                // Other blocks are SAM and Serverless files.
                let steps = yaml["deploy"]["steps"]
                    .as_sequence()
                    .cloned()
                    .unwrap_or_default();
                for run in steps.iter().filter_map(|s| s["run"].as_str()) {
                    let run = run.replace("\\\n", " ");
                    for command in run
                        .lines()
                        .map(str::trim)
                        .filter(|l| l.starts_with("lambda-batch "))
                    {
                        let words = shlex::split(command).expect("shell words");
                        let cli = lambda_batch::cli::Cli::try_parse_from(&words)
                            .unwrap_or_else(|e| panic!("{command}: {e}"));
                        assert!(matches!(cli.command, lambda_batch::cli::Command::Deploy(_)));
                        deploys += 1;
                    }
                }
                block = None;
            }
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    assert_eq!(deploys, 1, "one deploy command in docs/deploy.md's CI job");
}

#[test]
fn check_names_a_layers_entry_that_is_no_extension() {
    let t = Test::new("deploy-layers");
    t.workspace(
        "app",
        "deploy-layers-app",
        &[
            ("dl-fn", &bin_source("dl-fn")),
            ("dl-telemetry", &bin_source("dl-telemetry")),
        ],
    );
    t.manifest(
        "workspace \"app\" {\n    function \"dl-fn\" {\n        layers \"dl-telemetry\" \"dl-telemetri\"\n    }\n    extension \"dl-telemetry\"\n}\n",
    );
    let run = t.lb(&["check"]).status(2);
    assert!(
        run.stderr
            .contains("`layers` names `dl-telemetri`, which is no extension")
            && run.stderr.contains("dl-telemetry`?")
            && !run.stderr.contains("names `dl-telemetry`"),
        "{}",
        describe(&run)
    );
    // The span points at the name in lambda.kdl.
    assert!(
        run.stderr.contains("not an extension"),
        "{}",
        describe(&run)
    );
    t.manifest(
        "workspace \"app\" {\n    function \"dl-fn\" {\n        layers \"dl-telemetry\"\n    }\n    extension \"dl-telemetry\"\n}\n",
    );
    t.lb(&["check"]).status(0);
}

#[test]
fn a_failed_function_stops_the_rest_unless_keep_going_and_is_annotated() {
    let server = s3_server();
    let proxy = Proxy::start(&server.endpoint);
    let m = Manifest::new("kg", "", "");
    let existing = m.name("put-product", "x86_64");
    precreate(&[(existing.clone(), "x86_64")]);
    // One call at a time, in report order: get-product (missing, no role) comes first.
    let args = ["--only", "*-product", "--arch", "x86_64", "--jobs", "1"];

    let (stopped, report) = m.deploy_with(&proxy.endpoint, &args, &[("GITHUB_ACTIONS", "true")], 1);
    let actions: Vec<Option<String>> = report
        .artifacts
        .iter()
        .map(|a| a.deployed.as_ref().map(|d| d.action.clone()))
        .collect();
    assert_eq!(
        actions,
        vec![Some("failed".to_owned()), None],
        "{}",
        describe(&stopped)
    );
    assert_eq!(mutating(&proxy.take()), vec![]);
    assert!(
        stopped
            .stdout
            .contains("::error title=lambda-batch deploy::cannot deploy get-product (x86_64)"),
        "{}",
        describe(&stopped)
    );

    // `--timeline`, as every `run` flag, is taken too, and written although a function failed.
    let timeline = repo()
        .join("target/deploy-tests")
        .join(format!("{}.html", m.tag));
    let _ = std::fs::remove_file(&timeline);
    let mut keep_going = args.to_vec();
    keep_going.extend(["--keep-going", "--timeline", timeline.to_str().unwrap()]);
    let (kept, report) = m.deploy(&proxy.endpoint, &keep_going, 1);
    let page = std::fs::read_to_string(&timeline).expect("the timeline page");
    assert!(page.contains("<svg"), "{}", describe(&kept));
    let actions: Vec<Option<String>> = report
        .artifacts
        .iter()
        .map(|a| a.deployed.as_ref().map(|d| d.action.clone()))
        .collect();
    assert_eq!(
        actions,
        vec![Some("failed".to_owned()), Some("updated".to_owned())],
        "{}",
        describe(&kept)
    );
    assert_eq!(
        mutating(&proxy.take()),
        vec![("UpdateFunctionCode".to_owned(), existing.clone())]
    );
    assert!(
        !kept.stdout.contains("::error"),
        "annotations only in GitHub Actions"
    );
}

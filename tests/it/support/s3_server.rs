//! An S3-protocol server on 127.0.0.1 for the tests of one test binary: moto's server mode
//! (installed by `scripts/setup.sh`), started on first use on a free port, with request
//! signing checked, and killed when the test binary exits, whether its tests pass or panic
//! (and by the kernel if the binary itself is killed).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};

use super::invocation::Invocation;
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The bucket every test gets; tests keep apart by prefix.
pub const BUCKET: &str = "lambda-batch-cache";

/// How long moto may take to start answering: about 2 s on an idle machine, much more on a
/// loaded one.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The running server and the credentials it accepts.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// An access key of an IAM user moto knows, allowed everything on S3.
    pub access_key: String,
    /// Its secret.
    pub secret_key: String,
    /// The ARN of an IAM role Lambda functions can be created with (`deploy`'s `role`).
    pub role: String,
    /// moto's output, shown when something goes wrong.
    pub log: PathBuf,
}

/// Kills the server when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

static SERVER: OnceLock<S3Server> = OnceLock::new();
static OPEN_SERVER: OnceLock<S3Server> = OnceLock::new();
static GUARD: Mutex<Vec<Guard>> = Mutex::new(Vec::new());

/// The server of this test binary, started by the first caller.
pub fn s3_server() -> &'static S3Server {
    SERVER.get_or_init(|| start(true))
}

/// A second server of this test binary, with authentication off, for Lambda. With it on,
/// moto (5.2) refuses every Lambda request without a body, every GET `deploy` reads with
/// (`GetFunction`, `ListLayerVersions`, ...), as `SignatureDoesNotMatch`, boto3's exactly like
/// the AWS SDK for Rust's: to check a signature it rebuilds the request with
/// `data=body or querystring` (`IAMRequestBase._create_aws_request`), so for a request without
/// a body it hashes the query's parameters as the payload, or, without a query, the request's
/// headers (what `BaseResponse.setup_class` parses as its "querystring" then), never the empty
/// body the client signed. Requests with a body (POST, PUT) pass. The deploy tests check the
/// signatures themselves instead (`assert_signed` in `deploy.rs`, with botocore's signer). It
/// has the same bucket and a role for functions.
pub fn open_server() -> &'static S3Server {
    OPEN_SERVER.get_or_init(|| start(false))
}

impl S3Server {
    /// `AWS_*` variables for a client of this server, with these credentials.
    pub fn env_with(&self, access_key: &str, secret_key: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("AWS_ENDPOINT_URL".to_owned(), self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".to_owned(), access_key.to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), secret_key.to_owned()),
            ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ])
    }

    /// `AWS_*` variables for a client of this server with valid credentials.
    pub fn env(&self) -> BTreeMap<String, String> {
        self.env_with(&self.access_key, &self.secret_key)
    }

    /// The last lines moto printed.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

extern "C" fn stop_at_exit() {
    if let Ok(mut guard) = GUARD.lock() {
        if !guard.is_empty() {
            guard.clear();
            for server in [SERVER.get(), OPEN_SERVER.get()].into_iter().flatten() {
                let _ = std::fs::remove_file(&server.log);
            }
        }
    }
}

fn start(auth: bool) -> S3Server {
    let moto = which::which("moto_server")
        .expect("moto_server is not on PATH: run scripts/setup.sh (pip install 'moto[server]')");
    let port = free_port();
    let log = std::env::temp_dir().join(format!(
        "lambda-batch-moto-{}{}.log",
        std::process::id(),
        if auth { "" } else { "-open" }
    ));
    let log_file = std::fs::File::create(&log).expect("creating moto's log file");

    // The kernel kills moto when the thread that started it ends (PR_SET_PDEATHSIG), so it is
    // started from a thread that lives as long as the test binary.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut command = Invocation::program(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .into_command();
        command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("moto's log"))
            .stderr(log_file);
        // SAFETY: prctl is async-signal-safe and touches nothing of the parent.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let _ = tx.send(command.spawn());
        loop {
            std::thread::park();
        }
    });
    let child = rx
        .recv()
        .expect("the thread that starts moto")
        .expect("starting moto_server");
    GUARD.lock().unwrap().push(Guard(child));
    // SAFETY: registering a plain function with no arguments.
    unsafe {
        libc::atexit(stop_at_exit);
    }

    let endpoint = format!("http://127.0.0.1:{port}");
    let server = S3Server {
        endpoint: endpoint.clone(),
        access_key: String::new(),
        secret_key: String::new(),
        role: String::new(),
        log,
    };
    wait_until_serving(port, &server);
    let (access_key, secret_key, role) = provision(&server, auth);
    S3Server {
        access_key,
        secret_key,
        role,
        ..server
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// Polls moto with a plain HTTP request until it answers, up to [`START_TIMEOUT`].
fn wait_until_serving(port: u16, server: &S3Server) {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = http_status(port, "GET", "/moto-api/data.json", "") {
            if status == 200 {
                return;
            }
        }
        if Instant::now() > deadline {
            stop_at_exit();
            panic!(
                "moto did not answer on port {port} within {START_TIMEOUT:?}:\n{}",
                server.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One HTTP/1.0 request to 127.0.0.1:`port`; the response's status, if there is one.
fn http_status(port: u16, method: &str, path: &str, body: &str) -> Option<u16> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Creates an IAM user with an access key allowed all of S3 and Lambda (and to pass roles),
/// the test bucket and a role for Lambda functions, then (with `auth`) turns
/// moto's authentication on, so that requests with any other credentials (or a bad signature)
/// are refused the way S3 refuses them. boto3 comes with moto.
fn provision(server: &S3Server, auth: bool) -> (String, String, String) {
    const SCRIPT: &str = r#"
import json, sys, boto3
endpoint, bucket = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam = boto3.client("iam", **kw)
iam.create_user(UserName="lambda-batch")
iam.put_user_policy(UserName="lambda-batch", PolicyName="s3", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "lambda:*", "iam:PassRole"], "Resource": "*"}]}))
key = iam.create_access_key(UserName="lambda-batch")["AccessKey"]
boto3.client("s3", **kw).create_bucket(Bucket=bucket)
role = iam.create_role(RoleName="lambda-batch-deploy", AssumeRolePolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
print(json.dumps([key["AccessKeyId"], key["SecretAccessKey"], role]))
"#;
    let output = Invocation::program("python3")
        .args(["-c", SCRIPT, &server.endpoint, BUCKET])
        .into_command()
        .stdin(Stdio::null())
        .output()
        .expect("running python3 (installed with moto by scripts/setup.sh)");
    assert!(
        output.status.success(),
        "provisioning moto failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log_tail()
    );
    let (access_key, secret_key, role): (String, String, String) =
        serde_json::from_slice(&output.stdout).expect("the access key as JSON");
    let port = server.endpoint.rsplit(':').next().unwrap().parse().unwrap();
    if !auth {
        return (access_key, secret_key, role);
    }
    assert_eq!(
        http_status(port, "POST", "/moto-api/reset-auth", "0"),
        Some(200),
        "turning moto's authentication on"
    );
    (access_key, secret_key, role)
}

impl S3Server {
    /// Creates the bucket `name`, with versioning turned on when `versioned` (boto3, with this
    /// server's credentials).
    pub fn create_bucket(&self, name: &str, versioned: bool) {
        const SCRIPT: &str = r#"
import sys, boto3
endpoint, key, secret, bucket, versioned = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key, aws_secret_access_key=secret)
s3.create_bucket(Bucket=bucket)
if versioned == "1":
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
"#;
        self.python(SCRIPT, &[name, if versioned { "1" } else { "0" }]);
    }

    /// Every version of every object under `prefix` in `bucket`: (key, version id, size),
    /// sorted. In a bucket without versioning each object has one, `null`.
    pub fn versions(&self, bucket: &str, prefix: &str) -> Vec<(String, String, u64)> {
        const SCRIPT: &str = r#"
import json, sys, boto3
endpoint, key, secret, bucket, prefix = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key, aws_secret_access_key=secret)
out = []
# Filtered here: moto checks the signature of a `prefix` with a `/` differently from boto3.
for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
    for v in page.get("Versions", []):
        if v["Key"].startswith(prefix):
            out.append([v["Key"], v["VersionId"], v["Size"]])
print(json.dumps(sorted(out)))
"#;
        let stdout = self.python(SCRIPT, &[bucket, prefix]);
        serde_json::from_str(&stdout).expect("the versions as JSON")
    }

    /// Runs a boto3 `script` with the endpoint, the credentials and `args` (`sys.argv[1:4]`,
    /// then the rest); its stdout.
    pub fn python(&self, script: &str, args: &[&str]) -> String {
        let output = Invocation::program("python3")
            .args([
                "-c",
                script,
                &self.endpoint,
                &self.access_key,
                &self.secret_key,
            ])
            .args(args)
            .into_command()
            .stdin(Stdio::null())
            .output()
            .expect("running python3 (installed with moto by scripts/setup.sh)");
        assert!(
            output.status.success(),
            "boto3 against moto failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.log_tail()
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }
}

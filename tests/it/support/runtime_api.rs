//! A Lambda Runtime API served on 127.0.0.1, enough to run one invocation of a real
//! `bootstrap` in a test: it hands out one event, captures what the function posts back,
//! and holds every later `next` call until the test is done with it. Only std, no crates.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};

use super::invocation::Invocation;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";
/// How often blocked waits look at the clock, the child and the shutdown flag.
const POLL: Duration = Duration::from_millis(20);

/// The architecture of a bootstrap: x86_64 runs natively, arm64 under qemu-aarch64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Arm64,
}

/// What the function reported for the one invocation it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Body of `POST /invocation/{id}/response`.
    Response(String),
    /// Body of `POST /invocation/{id}/error`.
    InvocationError(String),
    /// Body of `POST /runtime/init/error`.
    InitError(String),
    /// A request the Runtime API does not have, or for another request id.
    BadRequest(String),
}

/// A running Runtime API server that serves one event.
pub struct RuntimeApi {
    addr: SocketAddr,
    request_id: String,
    outcomes: Receiver<Outcome>,
    shutdown: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    /// Binds 127.0.0.1:0 and serves `event` (JSON text) to the first `next` call.
    pub fn start(event: &str, function_arn: &str) -> io::Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let request_id = format!("{:032x}", unique());
        let (tx, outcomes) = mpsc::channel();
        let shutdown = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            event: event.to_owned(),
            request_id: request_id.clone(),
            function_arn: function_arn.to_owned(),
            event_served: AtomicBool::new(false),
            shutdown: shutdown.clone(),
        });
        let acceptor = thread::spawn(move || accept_loop(listener, shared, tx));
        Ok(RuntimeApi {
            addr,
            request_id,
            outcomes,
            shutdown,
            acceptor: Some(acceptor),
        })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request id given to the event.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The next thing the function reported, if it reports within `wait`.
    pub fn outcome(&self, wait: Duration) -> Option<Outcome> {
        self.outcomes.recv_timeout(wait).ok()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so its thread sees the flag and ends.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Runs `bootstrap` against a fresh Runtime API with one `event` and returns the body it
/// posted as its response. Any other outcome, an early exit, or no answer within `timeout`
/// is an error that carries the process's stderr. The child is always killed and reaped.
pub fn invoke(
    bootstrap: &Path,
    arch: Arch,
    event: &str,
    timeout: Duration,
) -> Result<String, String> {
    let name = function_name(bootstrap);
    let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
    let api =
        RuntimeApi::start(event, &arn).map_err(|e| format!("cannot start the Runtime API: {e}"))?;

    let mut command = match arch {
        Arch::X86_64 => Invocation::program(bootstrap),
        Arch::Arm64 => Invocation::program("qemu-aarch64")
            .args(["-L", "/usr/aarch64-linux-gnu"])
            .arg(bootstrap),
    }
    .into_command();
    command
        .env("AWS_LAMBDA_RUNTIME_API", api.addr().to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command
        .spawn()
        .map_err(|e| format!("cannot run {} ({arch:?}): {e}", bootstrap.display()))?;
    let mut child = Reaped::new(child);

    let deadline = Instant::now() + timeout;
    let failure = loop {
        match api.outcomes.recv_timeout(POLL) {
            Ok(Outcome::Response(body)) => return Ok(body),
            Ok(other) => break format!("the function did not answer: {other:?}"),
            Err(RecvTimeoutError::Disconnected) => break "the Runtime API stopped".to_owned(),
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Ok(Some(status)) = child.child.try_wait() {
            // It may have posted just before exiting.
            if let Ok(Outcome::Response(body)) = api.outcomes.try_recv() {
                return Ok(body);
            }
            break format!("the bootstrap exited before answering ({status})");
        }
        if Instant::now() >= deadline {
            break format!("no answer within {timeout:?}");
        }
    };
    let (stdout, stderr) = child.finish();
    Err(format!(
        "{}: {failure}\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}",
        bootstrap.display()
    ))
}

/// The function's name: the folder of a `bootstrap`, or the executable's own name.
fn function_name(bootstrap: &Path) -> String {
    let named = if bootstrap.file_name().is_some_and(|n| n == "bootstrap") {
        bootstrap.parent().and_then(Path::file_name)
    } else {
        bootstrap.file_name()
    };
    named.map_or_else(
        || "function".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A child process that is killed and waited for however the test leaves, with its
/// stdout and stderr drained on threads so a chatty child never blocks on a full pipe.
struct Reaped {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Reaped {
    fn new(mut child: Child) -> Reaped {
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        Reaped {
            child,
            stdout,
            stderr,
        }
    }

    /// Kills and reaps the child, then returns what it printed (stdout, stderr).
    fn finish(&mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let collect =
            |h: Option<JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
        (collect(self.stdout.take()), collect(self.stderr.take()))
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        self.finish();
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// What every connection thread needs to know.
struct Shared {
    event: String,
    request_id: String,
    function_arn: String,
    event_served: AtomicBool,
    shutdown: Arc<AtomicBool>,
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, outcomes: Sender<Outcome>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        let outcomes = outcomes.clone();
        thread::spawn(move || {
            let _ = serve_connection(stream, &shared, &outcomes);
        });
    }
}

/// Serves requests on one keep-alive connection until the client closes it.
fn serve_connection(
    stream: TcpStream,
    shared: &Shared,
    outcomes: &Sender<Outcome>,
) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader, &mut writer)? {
        let path = request.path.split('?').next().unwrap_or_default();
        match (request.method.as_str(), path) {
            ("GET", NEXT) => {
                if shared.event_served.swap(true, Ordering::SeqCst) {
                    // One event per test: later polls wait, as Lambda's do between events.
                    while !shared.shutdown.load(Ordering::SeqCst) {
                        thread::sleep(POLL);
                    }
                    return Ok(());
                }
                let deadline = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    + Duration::from_secs(30);
                let headers = [
                    ("Lambda-Runtime-Aws-Request-Id", shared.request_id.clone()),
                    (
                        "Lambda-Runtime-Deadline-Ms",
                        deadline.as_millis().to_string(),
                    ),
                    (
                        "Lambda-Runtime-Invoked-Function-Arn",
                        shared.function_arn.clone(),
                    ),
                ];
                write_response(&mut writer, 200, &headers, shared.event.as_bytes())?;
            }
            ("POST", INIT_ERROR) => {
                let _ = outcomes.send(Outcome::InitError(request.body_text()));
                write_response(&mut writer, 202, &[], br#"{"status":"OK"}"#)?;
            }
            ("POST", path) if path.starts_with(INVOCATION) => {
                let rest = &path[INVOCATION.len()..];
                let outcome = match rest.split_once('/') {
                    Some((id, "response")) if id == shared.request_id => {
                        Outcome::Response(request.body_text())
                    }
                    Some((id, "error")) if id == shared.request_id => {
                        Outcome::InvocationError(request.body_text())
                    }
                    _ => Outcome::BadRequest(format!("POST {path}: {}", request.body_text())),
                };
                let accepted = !matches!(outcome, Outcome::BadRequest(_));
                let _ = outcomes.send(outcome);
                if accepted {
                    write_response(&mut writer, 202, &[], br#"{"status":"OK"}"#)?;
                } else {
                    write_response(
                        &mut writer,
                        400,
                        &[],
                        br#"{"errorType":"InvalidRequestID"}"#,
                    )?;
                }
            }
            (method, path) => {
                let _ = outcomes.send(Outcome::BadRequest(format!("{method} {path}")));
                write_response(&mut writer, 404, &[], br#"{"errorType":"NotFound"}"#)?;
            }
        }
        if request.close {
            return Ok(());
        }
    }
    Ok(())
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
    /// The client asked to close the connection after this exchange.
    close: bool,
}

impl Request {
    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one HTTP/1.x request; `None` when the client closed the connection between requests.
fn read_request(reader: &mut impl BufRead, writer: &mut impl Write) -> io::Result<Option<Request>> {
    let mut line = String::new();
    // Tolerate stray CRLFs between requests (RFC 9112 §2.2).
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path), version) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid(format!("bad request line {line:?}")));
    };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut close = version == Some("HTTP/1.0");

    let mut content_length = 0usize;
    let mut chunked = false;
    let mut expect_continue = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("connection closed inside the headers".to_owned()));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(invalid(format!("bad header {header:?}")));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                content_length = value
                    .parse()
                    .map_err(|_| invalid(format!("bad Content-Length {value:?}")))?
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => match value.to_ascii_lowercase().as_str() {
                "close" => close = true,
                "keep-alive" => close = false,
                _ => {}
            },
            "expect" => expect_continue = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
    }
    if expect_continue {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        writer.flush()?;
    }

    let body = if chunked {
        read_chunked(reader)?
    } else {
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body)?;
        body
    };
    Ok(Some(Request {
        method,
        path,
        body,
        close,
    }))
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size = line.trim_end().split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| invalid(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            break;
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        line.clear();
        reader.read_line(&mut line)?; // the CRLF closing the chunk
    }
    // Trailer fields, up to the empty line.
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            return Ok(body);
        }
    }
}

fn write_response(
    writer: &mut impl Write,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        _ => "Not Found",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    writer.write_all(body)?;
    writer.flush()
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A value unique to this server within the test process (and likely across processes).
fn unique() -> u128 {
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    (u128::from(std::process::id()) << 96)
        ^ (nanos << 16)
        ^ u128::from(COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// [`invoke`] for an executable held in memory (taken out of a zip): written as
/// `<temp>/<function>/bootstrap`, mode 0755, so that the Runtime API names the function.
pub fn invoke_bytes(
    function: &str,
    executable: &[u8],
    arch: Arch,
    event: &str,
    timeout: Duration,
) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?;
    let bootstrap = dir.path().join(function).join("bootstrap");
    super::invocation::write_executable(&bootstrap, executable);
    invoke(&bootstrap, arch, event, timeout)
}

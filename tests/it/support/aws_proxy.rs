//! A recording proxy on 127.0.0.1 in front of the local AWS server (moto): every request the
//! binary sends through it is recorded (method, path, body) and forwarded, and it can answer
//! the next requests itself with Lambda's throttling error (HTTP 429,
//! `TooManyRequestsException`) instead, to see that they are retried, or make the next
//! answers to `UpdateFunctionCode` say the update is still going on (`LastUpdateStatus`
//! `InProgress`), as Lambda's do where moto's say `Successful` at once. Requests keep their
//! `Host` header, so their signatures stay valid upstream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request that reached the proxy.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `PUT`, `POST`, ...
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The headers, as sent (names as written).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Answered with a throttling error instead of being forwarded.
    pub throttled: bool,
}

impl Request {
    /// Whether the request may change something (any method but GET and HEAD).
    pub fn mutates(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD")
    }

    /// Lambda's name of the operation (for the calls deploy makes), else `METHOD PATH`.
    pub fn operation(&self) -> String {
        let path = self.path.split('?').next().unwrap_or("");
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let op = match (self.method.as_str(), parts.as_slice()) {
            ("GET", [_, "functions", _]) => "GetFunction",
            ("GET", [_, "functions", _, "configuration"]) => "GetFunctionConfiguration",
            ("PUT", [_, "functions", _, "code"]) => "UpdateFunctionCode",
            ("PUT", [_, "functions", _, "configuration"]) => "UpdateFunctionConfiguration",
            ("POST", [_, "functions"]) => "CreateFunction",
            ("POST", [_, "functions", _, "versions"]) => "PublishVersion",
            ("GET", [_, "functions", _, "aliases", _]) => "GetAlias",
            ("POST", [_, "functions", _, "aliases"]) => "CreateAlias",
            ("PUT", [_, "functions", _, "aliases", _]) => "UpdateAlias",
            ("GET", [_, "layers", _, "versions"]) => "ListLayerVersions",
            ("POST", [_, "layers", _, "versions"]) => "PublishLayerVersion",
            ("GET", [_, "layers", _, "versions", _]) => "GetLayerVersion",
            _ => return format!("{} {path}", self.method),
        };
        op.to_owned()
    }

    /// The function or layer the call is about (the path's third part), URL-decoded.
    pub fn subject(&self) -> Option<String> {
        let path = self.path.split('?').next()?;
        let name = path.trim_matches('/').split('/').nth(2)?;
        Some(name.replace("%3A", ":"))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The proxy; it serves until the test binary exits.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    log: Arc<Mutex<Vec<Request>>>,
    throttle: Arc<AtomicUsize>,
    in_progress: Arc<AtomicUsize>,
}

impl Proxy {
    /// A proxy in front of the server at `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream_port: u16 = upstream
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("an upstream http://127.0.0.1:PORT");
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let throttle = Arc::new(AtomicUsize::new(0));
        let in_progress = Arc::new(AtomicUsize::new(0));
        {
            let log = Arc::clone(&log);
            let faults = Faults {
                throttle: Arc::clone(&throttle),
                in_progress: Arc::clone(&in_progress),
            };
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let log = Arc::clone(&log);
                    let faults = faults.clone();
                    std::thread::spawn(move || serve(stream, upstream_port, &log, &faults));
                }
            });
        }
        Proxy {
            endpoint,
            log,
            throttle,
            in_progress,
        }
    }

    /// Answers the next `n` requests with a throttling error.
    pub fn throttle_next(&self, n: usize) {
        self.throttle.store(n, Ordering::SeqCst);
    }

    /// Makes the next `n` answers to `UpdateFunctionCode` say the update is in progress.
    pub fn in_progress_next(&self, n: usize) {
        self.in_progress.store(n, Ordering::SeqCst);
    }

    /// The requests since the last call, in the order they arrived.
    pub fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

/// What the proxy answers differently from upstream: how many requests still get a throttling
/// error, and how many `UpdateFunctionCode` answers still say `InProgress`.
#[derive(Clone)]
struct Faults {
    throttle: Arc<AtomicUsize>,
    in_progress: Arc<AtomicUsize>,
}

/// Takes one from `counter` if it is above zero; whether it was.
fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// Serves one client connection: its requests, one after another (keep-alive).
fn serve(client: TcpStream, upstream_port: u16, log: &Mutex<Vec<Request>>, faults: &Faults) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(120)));
    let mut reader = BufReader::new(client.try_clone().expect("cloning the client stream"));
    let mut client = client;
    loop {
        let Some((head, body)) = read_message(&mut reader) else {
            return;
        };
        let request_line = head.lines().next().unwrap_or("").to_owned();
        let mut words = request_line.split_whitespace();
        let method = words.next().unwrap_or("").to_owned();
        let path = words.next().unwrap_or("").to_owned();
        let throttled = take_one(&faults.throttle);
        let code_update =
            method == "PUT" && path.split('?').next().unwrap_or("").ends_with("/code");
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        log.lock().unwrap().push(Request {
            method,
            path,
            headers,
            body: body.clone(),
            throttled,
        });
        let response = if throttled {
            let body =
                br#"{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded"}"#;
            let mut r = format!(
                "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nx-amzn-ErrorType: TooManyRequestsException\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        } else {
            match forward(&head, &body, upstream_port) {
                // The same length, so the framing holds.
                Some(r) if code_update && take_one(&faults.in_progress) => {
                    String::from_utf8_lossy(&r)
                        .replace(
                            "\"LastUpdateStatus\": \"Successful\"",
                            "\"LastUpdateStatus\": \"InProgress\"",
                        )
                        .replace(
                            "\"LastUpdateStatus\":\"Successful\"",
                            "\"LastUpdateStatus\":\"InProgress\"",
                        )
                        .into_bytes()
                }
                Some(r) => r,
                None => return,
            }
        };
        if client.write_all(&response).is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 message from `reader`: its head (start line and headers) and its body
/// (by `Content-Length`, or chunked); `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" || line == "\n" {
            if head.is_empty() {
                continue;
            }
            break;
        }
        head.push_str(&line);
    }
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some((head, body))
}

/// Sends the request upstream on a connection of its own and returns the response, re-framed
/// with a `Content-Length` for the client's kept-alive connection.
fn forward(head: &str, body: &[u8], port: u16) -> Option<Vec<u8>> {
    let mut upstream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    upstream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .ok()?;
    let mut out = String::new();
    for (i, line) in head.lines().enumerate() {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if i > 0
            && matches!(
                name.as_str(),
                "connection" | "transfer-encoding" | "content-length"
            )
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    upstream.write_all(out.as_bytes()).ok()?;
    upstream.write_all(body).ok()?;
    let mut reader = BufReader::new(upstream);
    let is_head = head.starts_with("HEAD ");
    let (head, body) = read_response(&mut reader, is_head)?;
    if is_head {
        // Its Content-Length is the object's, and there is no body.
        let mut response = head.replace('\n', "\r\n").replace("\r\r\n", "\r\n");
        response.push_str("\r\n");
        return Some(response.into_bytes());
    }
    let mut response = String::new();
    for (i, line) in head.lines().enumerate() {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if i > 0
            && matches!(
                name.as_str(),
                "connection" | "transfer-encoding" | "content-length"
            )
        {
            continue;
        }
        response.push_str(line);
        response.push_str("\r\n");
    }
    response.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = response.into_bytes();
    bytes.extend_from_slice(&body);
    Some(bytes)
}

/// A response read to its end (the upstream connection closes after it); only its head when
/// it answers a HEAD request (`head_only`).
fn read_response(reader: &mut BufReader<TcpStream>, head_only: bool) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
    }
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    if head_only {
        return Some((head, Vec::new()));
    }
    let chunked = header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let length = header("content-length").and_then(|v| v.parse::<usize>().ok());
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = length {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else {
        reader.read_to_end(&mut body).ok()?;
    }
    Some((head, body))
}

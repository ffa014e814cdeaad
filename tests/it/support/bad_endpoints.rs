//! Endpoints on 127.0.0.1 that fail the way a cache backend fails in the field: a closed port
//! (connection refused), a server that accepts connections and never answers (a blackhole: a
//! hung proxy, a dropped route), and one that answers every request with one HTTP status.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a bad endpoint lives at most, whatever its test does.
const LIFETIME: Duration = Duration::from_secs(300);
/// How often its thread looks at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// `http://127.0.0.1:PORT` where nothing listens: connections are refused at once.
pub fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A listener on 127.0.0.1 served by one thread until dropped.
pub struct BadEndpoint {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Connections accepted so far.
    connections: Arc<AtomicUsize>,
    /// Requests answered so far (always 0 for a blackhole).
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BadEndpoint {
    /// Accepts every connection and never sends a byte back.
    pub fn blackhole() -> BadEndpoint {
        BadEndpoint::serve(None)
    }

    /// Answers every request with `status` and an S3-style XML error.
    pub fn status(status: u16) -> BadEndpoint {
        BadEndpoint::serve(Some(status))
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn serve(status: Option<u16>) -> BadEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (connections, requests, stop) =
                (connections.clone(), requests.clone(), stop.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                // Held open, unanswered, until the endpoint is dropped.
                let mut held: Vec<TcpStream> = Vec::new();
                while !stop.load(Ordering::SeqCst) && started.elapsed() < LIFETIME {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections.fetch_add(1, Ordering::SeqCst);
                            match status {
                                None => held.push(stream),
                                Some(status) => {
                                    let requests = requests.clone();
                                    std::thread::spawn(move || answer(stream, status, &requests));
                                }
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(POLL)
                        }
                        Err(_) => std::thread::sleep(POLL),
                    }
                }
            })
        };
        BadEndpoint {
            endpoint,
            connections,
            requests,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BadEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads each request on `stream` (headers, then the body its Content-Length announces) and
/// answers it with `status`, until the client closes the connection.
fn answer(stream: TcpStream, status: u16, requests: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().expect("cloning a TCP stream"));
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut saw_request = false;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            saw_request = true;
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        if !saw_request {
            return;
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        let code = match status {
            403 => "AccessDenied",
            500 => "InternalError",
            503 => "SlowDown",
            _ => "Error",
        };
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>test endpoint</Message></Error>"
        );
        let response = format!(
            "HTTP/1.1 {status} Test\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{xml}",
            xml.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

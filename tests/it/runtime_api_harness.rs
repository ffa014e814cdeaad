//! Tests of the Runtime API harness itself, against a real `lambda_runtime` bootstrap
//! from examples/ and against hand-written HTTP clients.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::runtime_api::{Arch, Outcome, RuntimeApi, invoke};
use crate::support::test::{Invocation, write_executable};

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:test";

/// Builds one bin of an example workspace (dev profile) into `<repo>/target/shared`,
/// the target dir every example build shares, and returns the executable.
fn build_example(workspace: &str, bin: &str, zig_target: Option<&str>) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = repo.join("target/shared");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = match zig_target {
        Some(target) => Invocation::program(cargo).args(["zigbuild", "--target", target]),
        None => Invocation::program(cargo).arg("build"),
    };
    build
        .args(["--quiet", "--locked", "--bin", bin, "--manifest-path"])
        .arg(repo.join("examples").join(workspace).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .status(0);
    let triple_dir = zig_target.map(|t| t.split(".2.").next().unwrap_or(t));
    triple_dir
        .map_or(target_dir.clone(), |t| target_dir.join(t))
        .join("debug")
        .join(bin)
}

#[test]
fn get_product_answers_with_its_name_and_the_event() {
    let bootstrap = build_example("services", "get-product", None);
    let event = r#"{"id": "p-42", "fields": ["name", "price"]}"#;
    let answer = invoke(&bootstrap, Arch::X86_64, event, Duration::from_secs(30)).unwrap();
    assert_eq!(
        answer,
        format!(r#"{{"function":"get-product","echo":{event}}}"#)
    );
}

#[test]
fn arm64_bootstrap_runs_under_qemu() {
    let bootstrap = build_example(
        "services",
        "put-product",
        Some("aarch64-unknown-linux-gnu.2.34"),
    );
    let answer = invoke(&bootstrap, Arch::Arm64, "[1,2,3]", Duration::from_secs(60)).unwrap();
    assert_eq!(answer, r#"{"function":"put-product","echo":[1,2,3]}"#);
}

#[test]
fn a_bootstrap_that_exits_is_an_error_with_its_stderr() {
    let dir = tempdir("exits");
    let script = executable(
        &dir,
        "bootstrap",
        "#!/bin/sh\necho 'cannot start' >&2\nexit 3\n",
    );
    let error = invoke(&script, Arch::X86_64, "{}", Duration::from_secs(10)).unwrap_err();
    assert!(error.contains("exited before answering"), "{error}");
    assert!(error.contains("cannot start"), "{error}");
}

#[test]
fn a_bootstrap_that_never_answers_times_out() {
    let dir = tempdir("hangs");
    // It writes its pid before it says it waits; `exec` keeps the pid.
    let script = executable(
        &dir,
        "bootstrap",
        "#!/bin/sh\necho $$ > \"$0.pid\"\necho waiting >&2\nexec sleep 60\n",
    );
    let error = invoke(&script, Arch::X86_64, "{}", Duration::from_millis(500)).unwrap_err();
    assert!(error.contains("no answer within"), "{error}");
    assert!(error.contains("waiting"), "{error}");
    // Killed and reaped by the time the error is returned, not left to run out its sleep.
    let pid = std::fs::read_to_string(dir.join("bootstrap.pid")).unwrap();
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "the child {} was not killed",
        pid.trim()
    );
}

#[test]
fn next_then_chunked_response_on_one_keep_alive_connection() {
    let api = RuntimeApi::start(r#"{"k":1}"#, ARN).unwrap();
    let mut stream = TcpStream::connect(api.addr()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());

    write!(
        stream,
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    .unwrap();
    let (status, headers, body) = read_response(&mut reader);
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"k":1}"#);
    assert_eq!(
        header(&headers, "lambda-runtime-aws-request-id"),
        api.request_id()
    );
    assert_eq!(header(&headers, "lambda-runtime-invoked-function-arn"), ARN);
    assert_eq!(header(&headers, "content-type"), "application/json");
    let deadline: u128 = header(&headers, "lambda-runtime-deadline-ms")
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(
        (now + 20_000..now + 31_000).contains(&deadline),
        "deadline {deadline}, now {now}"
    );

    let id = api.request_id().to_owned();
    write!(
        stream,
        "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
         Transfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{{\"a\"\r\n6\r\n:true}}\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    .unwrap();
    let (status, _, _) = read_response(&mut reader);
    assert_eq!(status, 202);
    assert_eq!(
        api.outcome(Duration::from_secs(5)),
        Some(Outcome::Response(r#"{"a":true}"#.to_owned()))
    );
}

#[test]
fn errors_and_unknown_request_ids_are_reported_as_such() {
    let api = RuntimeApi::start("{}", ARN).unwrap();
    let mut stream = TcpStream::connect(api.addr()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut post = |path: &str, body: &str| {
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        read_response(&mut reader).0
    };
    let id = api.request_id().to_owned();

    assert_eq!(post("/2018-06-01/runtime/init/error", "boom"), 202);
    assert_eq!(
        api.outcome(Duration::from_secs(5)),
        Some(Outcome::InitError("boom".to_owned()))
    );
    assert_eq!(
        post(&format!("/2018-06-01/runtime/invocation/{id}/error"), "bad"),
        202
    );
    assert_eq!(
        api.outcome(Duration::from_secs(5)),
        Some(Outcome::InvocationError("bad".to_owned()))
    );
    assert_eq!(
        post("/2018-06-01/runtime/invocation/other-id/response", "{}"),
        400
    );
    assert!(matches!(
        api.outcome(Duration::from_secs(5)),
        Some(Outcome::BadRequest(_))
    ));
}

#[test]
fn a_second_next_is_held_until_the_server_is_dropped() {
    let api = RuntimeApi::start("{}", ARN).unwrap();
    let next = |addr| {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n"
        )
        .unwrap();
        stream
    };
    let first = next(api.addr());
    assert_eq!(read_response(&mut BufReader::new(first)).0, 200);

    let mut second = next(api.addr());
    second
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0; 1];
    let held = second.read(&mut byte).unwrap_err();
    assert!(
        matches!(
            held.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{held}"
    );

    drop(api);
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(
        second.read(&mut byte).unwrap(),
        0,
        "dropping the server closes held polls"
    );
}

/// Reads one response: status, lower-cased headers, body (Content-Length framed).
fn read_response(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>, String) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = header(&headers, "content-length").parse().unwrap();
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, headers, String::from_utf8(body).unwrap())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("runtime-api-harness-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes an executable script (see [`write_executable`]).
fn executable(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    write_executable(&path, text);
    path
}

//! Writing to stdout and stderr without ever panicking (`println!` panics when the reader of a
//! pipe has gone, as in `lambda-batch list | head -1`, or when stdout is a full disk).

use std::io::{self, Write};

/// Why stdout could not take the output.
#[derive(Debug)]
pub enum StdoutError {
    /// The reader went away (EPIPE): nobody is left to tell, and nothing is wrong.
    Closed,
    /// Any other failure (a full disk, an I/O error), which people must hear about.
    Failed(io::Error),
}

/// Writes `text` to stdout and flushes it.
pub fn stdout(text: &str) -> Result<(), StdoutError> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            io::ErrorKind::BrokenPipe => StdoutError::Closed,
            _ => StdoutError::Failed(e),
        })
}

/// Writes `text` to stderr. A stderr that cannot be written (closed, a broken pipe) loses the
/// message but never stops lambda-batch.
pub fn eprint(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// [`eprint`] with a line break.
pub fn eprintln(line: &str) {
    eprint(&format!("{line}\n"));
}

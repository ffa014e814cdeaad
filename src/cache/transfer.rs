//! Moving bytes between the backend and local files: a blob downloaded into a temporary file
//! beside its destination (or into memory) and verified before anything sees it; a blob
//! uploaded in one PUT or in parts, checked against the digest it is stored under.

use std::fs::File;
use std::io::{Read, Write};

use camino::Utf8Path;
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use super::backend::PART_SIZE;
use super::outcome::Fetched;
use super::record::{MAX_EXECUTABLE_SIZE, Record};
use crate::atomic::AtomicFile;
use crate::fingerprint::{StreamDigest, hex, sha256, sha256_reader};

/// A record is a few hundred bytes; anything this large is not one.
const MAX_RECORD_SIZE: u64 = 1 << 20;

/// How many uploads of one blob's parts are under way at once.
const PART_CONCURRENCY: usize = 4;

/// Why a transfer failed: the backend, the entry's contents, or the local file.
#[derive(Debug)]
pub(crate) enum TransferError {
    /// The key or blob does not exist.
    NotFound,
    /// The backend failed; `refused` when it answered with a refusal (HTTP 401/403).
    Backend { why: String, refused: bool },
    /// The entry exists but is not what it should be.
    Invalid(String),
    /// A local file could not be read or written.
    Local(String),
}

impl TransferError {
    fn backend(e: object_store::Error) -> TransferError {
        match e {
            // S3 answers 404 for a missing bucket too: that is a misconfigured cache, not an
            // absent key, and must not pass silently as an endless run of misses.
            object_store::Error::NotFound { ref source, .. }
                if source.to_string().contains("NoSuchBucket") =>
            {
                TransferError::Backend {
                    why: format!("the bucket does not exist: {}", describe(&e)),
                    refused: true,
                }
            }
            object_store::Error::NotFound { .. } => TransferError::NotFound,
            e => {
                let refused = matches!(
                    e,
                    object_store::Error::PermissionDenied { .. }
                        | object_store::Error::Unauthenticated { .. }
                );
                TransferError::Backend {
                    why: describe(&e),
                    refused,
                }
            }
        }
    }
}

/// One line for a backend error: object_store's message, the causes it leaves out (the
/// "connection refused" or "operation timed out" under "error sending request"), and of an S3
/// error body only its code and message.
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = one_line(&error.to_string());
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = one_line(&cause.to_string());
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `text` with an XML error body reduced to `Code: Message` and on one line.
fn one_line(text: &str) -> String {
    let between = |s: &'_ str, open: &str, close: &str| -> Option<String> {
        let start = s.find(open)? + open.len();
        let end = s[start..].find(close)? + start;
        Some(s[start..end].to_owned())
    };
    let text = match text.find("<?xml").or_else(|| text.find("<Error>")) {
        Some(start) => {
            let body = &text[start..];
            let code = between(body, "<Code>", "</Code>").unwrap_or_default();
            let message = between(body, "<Message>", "</Message>").unwrap_or_default();
            format!("{}{code}: {message}", &text[..start])
        }
        None => text.to_owned(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a record's bytes.
pub(crate) async fn get_record(
    store: &dyn ObjectStore,
    path: &Path,
) -> Result<Vec<u8>, TransferError> {
    let result = store.get(path).await.map_err(TransferError::backend)?;
    if result.meta.size > MAX_RECORD_SIZE {
        return Err(TransferError::Invalid(format!(
            "the record `{path}` has {} bytes, too many for a record",
            result.meta.size
        )));
    }
    let bytes = result.bytes().await.map_err(TransferError::backend)?;
    Ok(bytes.to_vec())
}

/// The record names a key's index lists, newest first (none when it has no index). Any
/// entry that is not a record's name is left out: the index only chooses which records to read,
/// each of which is checked on its own.
pub(crate) async fn get_index(
    store: &dyn ObjectStore,
    path: &Path,
) -> Result<Vec<String>, TransferError> {
    let bytes = match get_record(store, path).await {
        Ok(bytes) => bytes,
        Err(TransferError::NotFound) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let names: Vec<String> = serde_json::from_slice(&bytes).map_err(|e| {
        TransferError::Invalid(format!("the index `{path}` is not a list of names ({e})"))
    })?;
    Ok(names
        .into_iter()
        .filter(|n| super::record::is_sha256_hex(n))
        .collect())
}

/// Writes a key's index (after the record it names first).
pub(crate) async fn put_index(
    store: &dyn ObjectStore,
    path: &Path,
    names: &[String],
) -> Result<(), TransferError> {
    let mut json = serde_json::to_vec_pretty(names).expect("names serialize");
    json.push(b'\n');
    store
        .put(path, PutPayload::from(json))
        .await
        .map_err(TransferError::backend)?;
    Ok(())
}

/// Whether the blob `record` names is there with the record's length (its bytes are checked
/// by every download, not here).
pub(crate) async fn blob_exists(
    store: &dyn ObjectStore,
    path: &Path,
    record: &Record,
) -> Result<bool, TransferError> {
    match store.head(path).await {
        Ok(meta) => Ok(meta.size == record.size),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(TransferError::backend(e)),
    }
}

/// Where a download goes.
pub(crate) enum Sink {
    /// A temporary file beside its destination, renamed over it once verified (dropped
    /// unverified, it is removed and the destination is untouched).
    File(AtomicFile),
    /// Memory.
    Memory(Vec<u8>),
}

impl Sink {
    /// A temporary file beside `dest` (its directory created if needed).
    pub(crate) fn file(dest: &Utf8Path) -> Result<Sink, TransferError> {
        AtomicFile::create(dest)
            .map(Sink::File)
            .map_err(|e| TransferError::Local(e.to_string()))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), TransferError> {
        match self {
            Sink::File(file) => file.file().write_all(bytes).map_err(|e| {
                TransferError::Local(format!("writing beside `{}`: {e}", file.dest()))
            }),
            Sink::Memory(buf) => {
                buf.extend_from_slice(bytes);
                Ok(())
            }
        }
    }

    /// Puts the verified bytes in place: an executable file (mode 0755) at the destination.
    fn finish(self) -> Result<Fetched, TransferError> {
        match self {
            Sink::File(file) => {
                let dest = file.dest().to_path_buf();
                file.commit(0o755)
                    .map_err(|e| TransferError::Local(e.to_string()))?;
                Ok(Fetched::File(dest))
            }
            Sink::Memory(buf) => Ok(Fetched::Memory(buf)),
        }
    }
}

/// Downloads the blob `record` names into `sink` and checks its length and SHA-256 before
/// putting it in place; a blob that does not match is an [`TransferError::Invalid`].
pub(crate) async fn download_blob(
    store: &dyn ObjectStore,
    path: &Path,
    record: &Record,
    mut sink: Sink,
) -> Result<Fetched, TransferError> {
    let result = store.get(path).await.map_err(|e| match e {
        object_store::Error::NotFound { .. } => TransferError::Invalid(format!(
            "the record of `{}` names the blob {}, which is missing",
            record.key, record.sha256
        )),
        e => TransferError::backend(e),
    })?;
    let mismatch = |what: String| {
        TransferError::Invalid(format!(
            "the blob {} of `{}` {what}",
            record.sha256, record.key
        ))
    };
    if result.meta.size != record.size {
        return Err(mismatch(format!(
            "has {} bytes where its record says {} (truncated or replaced)",
            result.meta.size, record.size
        )));
    }
    let mut digest = StreamDigest::new();
    let mut stream = result.into_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(TransferError::backend)?;
        digest.update(&chunk);
        if digest.size() > record.size {
            return Err(mismatch(format!(
                "is longer than the {} bytes its record says",
                record.size
            )));
        }
        sink.write(&chunk)?;
    }
    let (sha, len) = digest.finish();
    if len != record.size {
        return Err(mismatch(format!(
            "ended after {len} of {} bytes (truncated)",
            record.size
        )));
    }
    let digest = hex(&sha);
    if digest != record.sha256 {
        return Err(mismatch(format!("has the SHA-256 {digest} (corrupt)")));
    }
    sink.finish()
}

/// An executable read for storing: its digest and length, and its bytes when it is small
/// enough to go up in one request.
pub(crate) struct Executable {
    pub(crate) sha256: [u8; 32],
    pub(crate) size: u64,
    pub(crate) bytes: Option<Vec<u8>>,
}

/// Reads (and hashes) the executable at `path`.
pub(crate) fn read_executable(path: &Utf8Path) -> Result<Executable, TransferError> {
    let local = |e: std::io::Error| TransferError::Local(format!("reading `{path}`: {e}"));
    let mut file = File::open(path).map_err(local)?;
    let size = file.metadata().map_err(local)?.len();
    if size > MAX_EXECUTABLE_SIZE {
        return Err(TransferError::Local(format!(
            "`{path}` has {size} bytes, more than the cache takes ({MAX_EXECUTABLE_SIZE})"
        )));
    }
    if size <= PART_SIZE as u64 {
        let mut bytes = Vec::with_capacity(size as usize);
        file.read_to_end(&mut bytes).map_err(local)?;
        return Ok(Executable {
            sha256: sha256(&bytes),
            size: bytes.len() as u64,
            bytes: Some(bytes),
        });
    }
    let (sha256, size) = sha256_reader(&mut file).map_err(local)?;
    Ok(Executable {
        sha256,
        size,
        bytes: None,
    })
}

/// Uploads the executable at `path` as the blob `blob`. In one PUT when its bytes were kept;
/// else in parts, hashing again as it goes: if the file changed since it was hashed the upload
/// is abandoned, so that a blob always matches its name.
pub(crate) async fn upload_blob(
    store: &dyn ObjectStore,
    blob: &Path,
    path: &Utf8Path,
    executable: Executable,
) -> Result<(), TransferError> {
    if let Some(bytes) = executable.bytes {
        store
            .put(blob, PutPayload::from(bytes))
            .await
            .map_err(TransferError::backend)?;
        return Ok(());
    }
    let local = |e: std::io::Error| TransferError::Local(format!("reading `{path}`: {e}"));
    let upload = store
        .put_multipart(blob)
        .await
        .map_err(TransferError::backend)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut file = File::open(path).map_err(local)?;
    let mut digest = StreamDigest::new();
    let mut buf = vec![0u8; PART_SIZE];
    let outcome = loop {
        let n = match read_some(&mut file, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(local(e)),
        };
        digest.update(&buf[..n]);
        if let Err(e) = writer.wait_for_capacity(PART_CONCURRENCY).await {
            // The upload failed: the parts already sent are abandoned below.
            break Err(TransferError::backend(e));
        }
        writer.write(&buf[..n]);
    };
    let changed = digest.finish() != (executable.sha256, executable.size);
    match outcome {
        Ok(()) if !changed => {
            writer.finish().await.map_err(TransferError::backend)?;
            Ok(())
        }
        Ok(()) => {
            let _ = writer.abort().await;
            Err(TransferError::Local(format!(
                "`{path}` changed while it was being stored"
            )))
        }
        Err(e) => {
            let _ = writer.abort().await;
            Err(e)
        }
    }
}

/// Writes a record (after its blob).
pub(crate) async fn put_record(
    store: &dyn ObjectStore,
    path: &Path,
    record: &Record,
) -> Result<(), TransferError> {
    store
        .put(path, PutPayload::from(record.to_json()))
        .await
        .map_err(TransferError::backend)?;
    Ok(())
}

/// Writes a small object whole (a learned cost): one PUT, or a rename in a directory.
pub(crate) async fn put_small(
    store: &dyn ObjectStore,
    path: &Path,
    bytes: Vec<u8>,
) -> Result<(), TransferError> {
    store
        .put(path, PutPayload::from(bytes))
        .await
        .map_err(TransferError::backend)?;
    Ok(())
}

/// Fills `buf` as far as the reader allows (a short read only at the end).
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

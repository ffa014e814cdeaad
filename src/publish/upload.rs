//! One object: is it there (HEAD), and putting it there (one conditional PUT, or parts), with
//! the local file checked against the report as it is read.

use std::fs::File;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, WriteMultipart};

use super::PART_SIZE;
use super::object::PublishFile;
use crate::cache::describe_error;
use crate::fingerprint::{StreamDigest, hex};

/// How many parts of one zip go up at once.
const PART_CONCURRENCY: usize = 4;

/// Why an object could not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    /// The bucket failed (unreachable, missing, refusing): nothing more should be asked.
    Bucket(String),
    /// This object only: its local file, or what is at its key.
    Object(String),
    /// A signal arrived.
    Interrupted,
}

/// What a HEAD found at a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Found {
    /// Nothing.
    Absent,
    /// An object of the expected size, so the same bytes (the key names them).
    Present { version_id: Option<String> },
}

/// Asks whether `file`'s key holds an object. One of another size is not this zip, whatever
/// its name says: it is never overwritten, and publishing it fails.
pub(super) async fn head(store: &dyn ObjectStore, file: &PublishFile) -> Result<Found, Failure> {
    match store.head(&Path::from(file.key.as_str())).await {
        Ok(meta) if meta.size == file.size => Ok(Found::Present {
            version_id: meta.version,
        }),
        Ok(meta) => Err(Failure::Object(format!(
            "the object `{}` already exists with {} bytes, but this zip has {}: its key names \
             other bytes, so it is left alone (delete it if it is corrupt)",
            file.key, meta.size, file.size
        ))),
        Err(object_store::Error::NotFound { .. }) => Ok(Found::Absent),
        Err(e) => Err(bucket_failure(&e)),
    }
}

/// Whether the bucket exists, for a dry run that found nothing (S3 answers a HEAD of a missing
/// bucket like one of a missing key; a GET says which).
pub(super) async fn check_bucket(store: &dyn ObjectStore, key: &str) -> Result<(), Failure> {
    match store.get(&Path::from(key)).await {
        Ok(_) => Ok(()),
        Err(e @ object_store::Error::NotFound { .. }) if is_missing_bucket(&e) => {
            Err(bucket_failure(&e))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(bucket_failure(&e)),
    }
}

/// What putting an object did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Put {
    /// Created, with its version id in a versioned bucket.
    Created { version_id: Option<String> },
    /// Someone else created the key first (the same bytes): nothing was written.
    AlreadyThere,
}

/// Uploads `file` to its key, never over an existing object: one PUT with `If-None-Match: *`
/// for a zip up to [`PART_SIZE`], else a multipart upload (S3 has no conditional completion in
/// object_store, so two publishers racing on one large key may both write it: the same bytes).
/// The file must still be what the report says (size and SHA-256), or nothing is written.
pub(super) async fn put(
    store: &dyn ObjectStore,
    file: &PublishFile,
    cancel: &Arc<AtomicBool>,
) -> Result<Put, Failure> {
    let path = Path::from(file.key.as_str());
    let local = |e: std::io::Error| Failure::Object(format!("cannot read `{}`: {e}", file.path));
    let mut reader = File::open(&file.path).map_err(local)?;
    let size = reader.metadata().map_err(local)?.len();
    if size != file.size {
        return Err(changed(file, &format!("it has {size} bytes")));
    }
    if size <= PART_SIZE as u64 {
        let mut bytes = Vec::with_capacity(size as usize);
        reader.read_to_end(&mut bytes).map_err(local)?;
        let mut digest = StreamDigest::new();
        digest.update(&bytes);
        check_digest(file, digest)?;
        let options = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        return match store
            .put_opts(&path, PutPayload::from(bytes), options)
            .await
        {
            Ok(result) => Ok(Put::Created {
                version_id: result.version,
            }),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Put::AlreadyThere),
            Err(e) => Err(bucket_failure(&e)),
        };
    }
    let upload = store
        .put_multipart(&path)
        .await
        .map_err(|e| bucket_failure(&e))?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut digest = StreamDigest::new();
    let mut buf = vec![0u8; PART_SIZE];
    let outcome = loop {
        if cancel.load(Ordering::SeqCst) {
            break Err(Failure::Interrupted);
        }
        let n = match read_some(&mut reader, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(local(e)),
        };
        digest.update(&buf[..n]);
        if let Err(e) = writer.wait_for_capacity(PART_CONCURRENCY).await {
            break Err(bucket_failure(&e));
        }
        writer.write(&buf[..n]);
    };
    match outcome.and_then(|()| check_digest(file, digest)) {
        Ok(()) => {
            let result = writer.finish().await.map_err(|e| bucket_failure(&e))?;
            Ok(Put::Created {
                version_id: result.version,
            })
        }
        Err(e) => {
            // The parts sent so far are dropped; the key never shows a partial object.
            let _ = writer.abort().await;
            Err(e)
        }
    }
}

/// `Err` when what was read is not what the report says.
fn check_digest(file: &PublishFile, digest: StreamDigest) -> Result<(), Failure> {
    let (sha, size) = digest.finish();
    if size != file.size {
        return Err(changed(file, &format!("{size} bytes were read")));
    }
    let sha = hex(&sha);
    if sha != file.sha256 {
        return Err(changed(file, &format!("its SHA-256 is {sha}")));
    }
    Ok(())
}

fn changed(file: &PublishFile, what: &str) -> Failure {
    Failure::Object(format!(
        "`{}` is not the zip the report describes ({what}; the report says {} bytes, SHA-256 \
         {}): it changed after it was built; run the build again",
        file.path, file.size, file.sha256
    ))
}

/// S3 answers 404 `NoSuchBucket` for a missing bucket (in a body: a HEAD cannot say it).
fn is_missing_bucket(e: &object_store::Error) -> bool {
    describe_error(e).contains("NoSuchBucket")
}

fn bucket_failure(e: &object_store::Error) -> Failure {
    if is_missing_bucket(e) {
        return Failure::Bucket(format!("the bucket does not exist: {}", describe_error(e)));
    }
    Failure::Bucket(describe_error(e))
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

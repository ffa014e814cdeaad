//! SHA-256 of files and byte streams, read in chunks so that large includes never sit in memory
//! whole and a cancelled run stops between chunks.

use std::fs::File;
use std::io::{Read, Write};

use camino::Utf8Path;

use super::PackageError;
use super::cancel::Cancel;
use crate::fingerprint::StreamDigest;

const CHUNK: usize = 1 << 20;

/// SHA-256 and length of a file's bytes.
pub(crate) fn sha256_file(
    path: &Utf8Path,
    cancel: &Cancel,
) -> Result<([u8; 32], u64), PackageError> {
    let file = File::open(path).map_err(PackageError::io("reading", path))?;
    copy_hashing(file, path, std::io::sink(), path, cancel)
}

/// Copies `from` (read from `from_path`) into `to` (written to `to_path`), returning the
/// SHA-256 and length of what was copied.
pub(crate) fn copy_hashing(
    mut from: impl Read,
    from_path: &Utf8Path,
    mut to: impl Write,
    to_path: &Utf8Path,
    cancel: &Cancel,
) -> Result<([u8; 32], u64), PackageError> {
    let mut digest = StreamDigest::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        cancel.check()?;
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(PackageError::io("reading", from_path)(e)),
        };
        digest.update(&buf[..n]);
        to.write_all(&buf[..n])
            .map_err(PackageError::io("writing", to_path))?;
    }
    Ok(digest.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fingerprint::sha256;

    #[test]
    fn streamed_digests_match() {
        let dir = tempfile::tempdir().unwrap();
        let p = Utf8Path::from_path(dir.path()).unwrap().join("f");
        let big: Vec<u8> = (0..3 * CHUNK + 7).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &big).unwrap();
        let (sha, len) = sha256_file(&p, &Cancel::none("t")).unwrap();
        assert_eq!((sha, len), (sha256(&big), big.len() as u64));
        let mut copy = Vec::new();
        copy_hashing(&big[..], &p, &mut copy, &p, &Cancel::none("t")).unwrap();
        assert_eq!(copy, big);
    }

    #[test]
    fn cancelled_copy_stops() {
        let flag = std::sync::atomic::AtomicBool::new(true);
        let f = Utf8Path::new("f");
        let err = copy_hashing(
            &b"x"[..],
            f,
            std::io::sink(),
            f,
            &Cancel::new(Some(&flag), "t"),
        );
        assert!(matches!(err, Err(PackageError::Cancelled { .. })));
    }
}

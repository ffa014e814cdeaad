//! The zip output (SPEC §2): reproducible, so that the same inputs give the same bytes on every
//! machine and run, and Terraform's `source_code_hash` only changes when the code does.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

use camino::Utf8Path;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

use super::PackageError;
use super::cancel::Cancel;
use super::hash::copy_hashing;
use super::inputs::{Inputs, Source};
use super::prepared::Prepared;
use crate::atomic::AtomicFile;

/// 1980-01-01 00:00:00 UTC, the first instant a zip can hold.
const DOS_MIN: i64 = 315_532_800;
/// 2107-12-31 23:59:58 UTC, the last.
const DOS_MAX: i64 = 4_354_819_198;
/// Pinned rather than left to the library's default, which could change under us.
const DEFLATE_LEVEL: i64 = 6;
/// Entries at least this large get zip64 sizes (deflate may grow incompressible data a little).
const LARGE_ENTRY: u64 = u32::MAX as u64 - (1 << 20);

/// The DOS timestamp of every entry: `SOURCE_DATE_EPOCH` (UTC) clamped to what a zip can hold,
/// or 1980-01-01 00:00:00.
pub(crate) fn dos_time(source_date_epoch: Option<i64>) -> DateTime {
    let Some(epoch) = source_date_epoch else {
        return DateTime::DEFAULT;
    };
    let secs = epoch.clamp(DOS_MIN, DOS_MAX);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    // In range by the clamp above; the fallback only guards against a mistake in the arithmetic.
    DateTime::from_date_and_time(
        y as u16,
        m as u8,
        d as u8,
        (rem / 3600) as u8,
        (rem % 3600 / 60) as u8,
        (rem % 60) as u8,
    )
    .unwrap_or(DateTime::DEFAULT)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Writes the zip to a temporary file beside `dest`, ready to be committed.
pub(crate) fn prepare(
    dest: &Utf8Path,
    inputs: &Inputs,
    time: DateTime,
    cancel: &Cancel,
) -> Result<Prepared, PackageError> {
    let mut out = AtomicFile::create(dest)?;
    let zip_err = |source| PackageError::Zip {
        path: dest.to_path_buf(),
        source,
    };
    {
        let file: &File = out.file();
        let mut zip = ZipWriter::new(QuietAfterError::new(BufWriter::new(file)));
        for entry in &inputs.entries {
            cancel.check()?;
            // Every field spelled out: nothing may come from the host or the library's defaults.
            let options = SimpleFileOptions::default()
                .compression_method(CompressionMethod::Deflated)
                .compression_level(Some(DEFLATE_LEVEL))
                .last_modified_time(time)
                .unix_permissions(entry.mode)
                .system(System::Unix)
                .large_file(entry.size >= LARGE_ENTRY);
            zip.start_file(entry.name.as_str(), options)
                .map_err(zip_err)?;
            let (sha, size) = match &entry.source {
                Source::Executable => {
                    copy_hashing(&inputs.executable[..], dest, &mut zip, dest, cancel)?
                }
                Source::File(path) => {
                    let f = File::open(path).map_err(PackageError::io("reading include", path))?;
                    copy_hashing(f, path, &mut zip, dest, cancel)?
                }
            };
            if (sha, size) != (entry.sha256, entry.size) {
                let path = match &entry.source {
                    Source::File(p) => p.clone(),
                    Source::Executable => dest.to_path_buf(),
                };
                return Err(PackageError::InputChanged { path });
            }
        }
        let quiet = zip.finish().map_err(zip_err)?;
        quiet
            .into_inner()
            .map_err(|e| PackageError::io("writing", dest)(e))?
            .into_inner()
            .map_err(|e| PackageError::io("writing", dest)(e.into_error()))?;
    }
    let file = out.file();
    file.seek(SeekFrom::Start(0))
        .map_err(PackageError::io("reading back", dest))?;
    let (sha256, size) = copy_hashing(&*file, dest, std::io::sink(), dest, cancel)?;
    Ok(Prepared {
        file: out.close(),
        mode: super::inputs::FILE_MODE,
        sha256,
        size,
    })
}

/// A writer that fails once, then pretends: after its first error every write and seek
/// succeeds without touching the file. A `ZipWriter` dropped unfinished (after a write failed,
/// on a full disk say) finishes the archive in its `drop` and prints any error raw to stderr
/// (`ZipWriter::drop: failed to finalize archive: Io(Os { code: 28, … })`); the first error
/// is the one reported, with the file's name, and the temporary file is removed anyway.
struct QuietAfterError<W> {
    inner: W,
    /// The first error, once there was one.
    failed: Option<std::io::ErrorKind>,
    /// Where a write would be and how far the file would reach, after the error.
    position: u64,
    end: u64,
}

impl<W: Write + Seek> QuietAfterError<W> {
    fn new(inner: W) -> Self {
        QuietAfterError {
            inner,
            failed: None,
            position: 0,
            end: 0,
        }
    }

    /// The writer, or the error that silenced it.
    fn into_inner(self) -> std::io::Result<W> {
        match self.failed {
            Some(kind) => Err(kind.into()),
            None => Ok(self.inner),
        }
    }

    /// Passes `result` on, and remembers a first error.
    fn watch<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result {
            self.failed = Some(e.kind());
            let at = self.inner.stream_position().unwrap_or(0);
            self.position = at;
            self.end = at;
        }
        result
    }
}

impl<W: Write + Seek> Write for QuietAfterError<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed.is_some() {
            self.position += buf.len() as u64;
            self.end = self.end.max(self.position);
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.watch(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.failed.is_some() {
            return Ok(());
        }
        let result = self.inner.flush();
        self.watch(result)
    }
}

impl<W: Write + Seek> Seek for QuietAfterError<W> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        if self.failed.is_some() {
            let base = match to {
                SeekFrom::Start(n) => return Ok(self.moved_to(n)),
                SeekFrom::Current(d) => (self.position, d),
                SeekFrom::End(d) => (self.end, d),
            };
            let n = base.0.checked_add_signed(base.1).unwrap_or(0);
            return Ok(self.moved_to(n));
        }
        let result = self.inner.seek(to);
        self.watch(result)
    }
}

impl<W> QuietAfterError<W> {
    fn moved_to(&mut self, n: u64) -> u64 {
        self.position = n;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(t: DateTime) -> (u16, u8, u8, u8, u8, u8) {
        (
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
        )
    }

    /// A file that holds `room` bytes, then is full.
    struct Full {
        data: std::io::Cursor<Vec<u8>>,
        room: u64,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.data.position() + buf.len() as u64 > self.room {
                return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
            }
            self.data.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Seek for Full {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.data.seek(to)
        }
    }

    #[test]
    fn a_full_disk_is_one_error_and_the_unfinished_zip_drops_quietly() {
        let full = Full {
            data: std::io::Cursor::new(Vec::new()),
            room: 100,
        };
        let mut zip = ZipWriter::new(QuietAfterError::new(full));
        zip.start_file("a", SimpleFileOptions::default()).unwrap();
        let noise: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let err = zip.write_all(&noise).and_then(|()| zip.flush());
        let finished = zip.finish().map(|w| w.into_inner());
        // The error shows, once: either writing the entry or finishing the archive fails.
        assert!(
            err.is_err() || matches!(finished, Ok(Err(_)) | Err(_)),
            "the full disk went unnoticed"
        );
        // Dropped unfinished after the error: nothing panics, nothing is printed.
        let mut zip = ZipWriter::new(QuietAfterError::new(Full {
            data: std::io::Cursor::new(Vec::new()),
            room: 10,
        }));
        let _ = zip.start_file("a", SimpleFileOptions::default());
        let _ = zip.write_all(&noise);
        drop(zip);
    }

    #[test]
    fn source_date_epoch_becomes_a_clamped_dos_time() {
        assert_eq!(parts(dos_time(None)), (1980, 1, 1, 0, 0, 0));
        assert_eq!(parts(dos_time(Some(0))), (1980, 1, 1, 0, 0, 0));
        assert_eq!(parts(dos_time(Some(-5))), (1980, 1, 1, 0, 0, 0));
        // 2023-11-14 22:13:21 UTC; DOS seconds are even.
        assert_eq!(
            parts(dos_time(Some(1_700_000_001))),
            (2023, 11, 14, 22, 13, 20)
        );
        // A leap day.
        assert_eq!(parts(dos_time(Some(951_782_400))), (2000, 2, 29, 0, 0, 0));
        assert_eq!(parts(dos_time(Some(i64::MAX))), (2107, 12, 31, 23, 59, 58));
    }
}

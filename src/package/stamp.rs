//! The record of the last packaging of one output, kept where the plan says (under the cargo
//! target dir): the digest of its inputs and what it wrote, so that an unchanged artifact is
//! not packaged again.

use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::PackageError;
use super::cancel::Cancel;
use super::hash::sha256_file;
use crate::fingerprint::hex;
use crate::store::Store;

/// The packaging stamps; the version is raised when a stamp's meaning changes, so that old
/// stamps are ignored.
const STAMPS: Store<Stamp> = Store::new("lambda-batch packaging stamp", 2);

/// The last packaging of one output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    /// The main output (several artifacts' stamps share a directory: this says whose it is).
    pub output: Utf8PathBuf,
    /// Digest of the inputs (`Inputs::digest`).
    pub inputs: String,
    /// Every file written, the main output first.
    pub files: Vec<StampFile>,
}

/// One written file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StampFile {
    /// Where it is.
    pub path: Utf8PathBuf,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its length.
    pub size: u64,
    /// Its permission bits.
    pub mode: u32,
}

impl Stamp {
    /// Reads a stamp; any problem (missing, unreadable, another version) means "no stamp".
    pub(crate) fn load(path: &Utf8Path) -> Option<Stamp> {
        STAMPS.load(path)
    }

    /// The main output's (size, sha256) when this stamp is for `output` and `inputs`, and every
    /// file it lists is still on disk with the bytes it recorded.
    pub(crate) fn fresh(
        &self,
        output: &Utf8Path,
        inputs: &str,
        cancel: &Cancel,
    ) -> Result<Option<(u64, [u8; 32])>, PackageError> {
        let Some(main) = self.files.first() else {
            return Ok(None);
        };
        if self.output != output || main.path != output || self.inputs != inputs {
            return Ok(None);
        }
        let mut main_sha = None;
        for f in &self.files {
            // The size and mode first: a cheap way out before hashing.
            match std::fs::metadata(&f.path) {
                Ok(m)
                    if m.is_file()
                        && m.len() == f.size
                        && m.permissions().mode() & 0o7777 == f.mode => {}
                _ => return Ok(None),
            }
            let sha = match sha256_file(&f.path, cancel) {
                Ok((sha, _)) => sha,
                Err(e @ PackageError::Cancelled { .. }) => return Err(e),
                Err(_) => return Ok(None),
            };
            if hex(&sha) != f.sha256 {
                return Ok(None);
            }
            main_sha.get_or_insert(sha);
        }
        Ok(main_sha.map(|sha| (main.size, sha)))
    }

    /// The files the stamp at `path` says were written for `output`, whatever its version:
    /// what a new packaging of that output may have to remove. Stamps written before stamps
    /// were kept in a [`Store`] (the record alone, with its version inside) count too.
    pub(crate) fn written_files(path: &Utf8Path, output: &Utf8Path) -> Vec<Utf8PathBuf> {
        #[derive(Deserialize)]
        struct AnyFile {
            path: Utf8PathBuf,
        }
        #[derive(Deserialize)]
        struct AnyStamp {
            output: Utf8PathBuf,
            files: Vec<AnyFile>,
        }
        let stamp = STAMPS.load_any_version::<AnyStamp>(path).or_else(|| {
            let text = std::fs::read(path).ok()?;
            serde_json::from_slice::<AnyStamp>(&text).ok()
        });
        match stamp {
            Some(stamp) if stamp.output == output => {
                stamp.files.into_iter().map(|f| f.path).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The size and SHA-256 (hex) the stamp at `path` records for `output`, as it was last
    /// packaged: what the output most likely still is (nothing is checked against the file).
    pub(crate) fn recorded(path: &Utf8Path, output: &Utf8Path) -> Option<(u64, String)> {
        let stamp = Stamp::load(path)?;
        let main = stamp.files.into_iter().next()?;
        (stamp.output == output && main.path == output).then_some((main.size, main.sha256))
    }

    /// Writes the stamp atomically.
    pub(crate) fn save(&self, path: &Utf8Path) -> Result<(), PackageError> {
        Ok(STAMPS.save(path, self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::sha256;
    use crate::plan::state::{package_stamp, state_dir};

    /// The stamp file of the output at `output`, under the cargo target dir `target_dir`.
    fn path(target_dir: &Utf8Path, output: &Utf8Path) -> Utf8PathBuf {
        package_stamp(&state_dir(target_dir), output)
    }

    fn setup() -> (tempfile::TempDir, Utf8PathBuf, Stamp) {
        let d = tempfile::tempdir().unwrap();
        let base = Utf8PathBuf::from_path_buf(d.path().to_path_buf()).unwrap();
        let out = base.join("out/bootstrap");
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(&out, "exe").unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
        let stamp = Stamp {
            output: out.clone(),
            inputs: "abc".into(),
            files: vec![StampFile {
                path: out,
                sha256: hex(&sha256(b"exe")),
                size: 3,
                mode: 0o644,
            }],
        };
        (d, base, stamp)
    }

    #[test]
    fn round_trip_and_freshness() {
        let (_d, base, stamp) = setup();
        let none = Cancel::none("t");
        let p = path(&base.join("target"), &stamp.output);
        assert!(p.starts_with(base.join("target/lambda-batch/stamps")));
        assert_eq!(Stamp::load(&p), None);
        stamp.save(&p).unwrap();
        let loaded = Stamp::load(&p).unwrap();
        assert_eq!(loaded, stamp);
        let out = &stamp.output;
        assert_eq!(
            loaded.fresh(out, "abc", &none).unwrap(),
            Some((3, sha256(b"exe")))
        );
        assert_eq!(
            loaded.fresh(out, "abd", &none).unwrap(),
            None,
            "inputs changed"
        );
        assert_eq!(
            loaded.fresh(&base.join("x"), "abc", &none).unwrap(),
            None,
            "another output"
        );
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            loaded.fresh(out, "abc", &none).unwrap(),
            None,
            "mode changed"
        );
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(loaded.fresh(out, "abc", &none).unwrap().is_some());
        assert_eq!(Stamp::written_files(&p, out), vec![out.clone()]);
        assert_eq!(
            Stamp::written_files(&p, &base.join("x")),
            Vec::<Utf8PathBuf>::new()
        );
        std::fs::write(out, "EXE").unwrap();
        assert_eq!(
            loaded.fresh(out, "abc", &none).unwrap(),
            None,
            "output edited, same size"
        );
        std::fs::remove_file(out).unwrap();
        assert_eq!(
            loaded.fresh(out, "abc", &none).unwrap(),
            None,
            "output deleted"
        );
    }

    #[test]
    fn garbage_or_other_version_is_no_stamp_but_still_names_its_files() {
        let (_d, base, stamp) = setup();
        let p = base.join("s.json");
        std::fs::write(&p, "{not json").unwrap();
        assert_eq!(Stamp::load(&p), None);
        assert_eq!(
            Stamp::written_files(&p, &stamp.output),
            Vec::<Utf8PathBuf>::new()
        );
        let newer: Store<Stamp> = Store::new("lambda-batch packaging stamp", 3);
        newer.save(&p, &stamp).unwrap();
        assert_eq!(Stamp::load(&p), None);
        assert_eq!(
            Stamp::written_files(&p, &stamp.output),
            vec![stamp.output.clone()]
        );
        // As the previous release wrote it: the record alone.
        let bare = serde_json::json!({
            "version": 2,
            "output": stamp.output,
            "inputs": "abc",
            "files": [{"path": stamp.output, "sha256": "00", "size": 3, "mode": 420}],
        });
        std::fs::write(&p, bare.to_string()).unwrap();
        assert_eq!(Stamp::load(&p), None);
        assert_eq!(
            Stamp::written_files(&p, &stamp.output),
            vec![stamp.output.clone()]
        );
    }

    #[test]
    fn different_outputs_get_different_stamps() {
        let t = Utf8Path::new("/t");
        assert_ne!(
            path(t, "/a/bootstrap".into()),
            path(t, "/b/bootstrap".into())
        );
    }
}

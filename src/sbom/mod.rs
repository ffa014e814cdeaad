//! Software bills of materials: for each output of a run whose `sbom` setting asks for one,
//! `<output>.cdx.json` beside it, listing exactly the packages compiled into it (the closure of
//! its package built alone for its target and features, as `cargo tree` resolves it, see
//! `crate::resolve::View`), with the output's SHA-256. A stage above `report`: it reads the
//! plan and the report as data and hands back one [`SbomFile`] (or why not) per output.
//!
//! An SBOM is a function of the closure, the lock file and the output's bytes, so an output
//! taken from the artifact cache, a fresh one and a rebuilt one get the same file, byte for
//! byte.

mod cyclonedx;
mod lock;
mod purl;

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};

use crate::fingerprint::hex;
use crate::manifest::settings::Sbom;
use crate::plan::Plan;
use crate::report::run_report::SbomFile;
use crate::report::{Report, Status};
use crate::resolve::{Answer, Query};

pub use cyclonedx::SPEC_VERSION;
pub use lock::Lock;

/// The file name suffix of a CycloneDX SBOM, added to the output's.
pub const CYCLONEDX_SUFFIX: &str = ".cdx.json";

/// The closures of packages alone (`crate::resolve::views`, cached between runs).
pub type Views<'a> = &'a dyn Fn(&[Query]) -> Vec<Answer>;

/// Writes the SBOM of every output of `report` (in `plan`'s order) that asks for one and was
/// built, fresh or taken from the cache, atomically; one answer per artifact: the file, none,
/// or why it could not be written (the output itself stays, and an SBOM an earlier run left
/// beside it is removed: it may describe other bytes). An output that asks for none loses the
/// SBOM an earlier run left beside it, for the same reason.
pub fn write_all(
    plan: &Plan,
    report: &Report,
    views: Views<'_>,
    source_date_epoch: Option<i64>,
) -> Vec<Result<Option<SbomFile>, String>> {
    let inherited = |k: &str| std::env::var(k).ok();
    let wanted: Vec<usize> = plan
        .artifacts
        .iter()
        .zip(&report.artifacts)
        .enumerate()
        .filter(|(_, (a, r))| {
            a.resolved.packaging.sbom != Sbom::None
                && r.status != Status::Failed
                && r.sha256.is_some()
        })
        .map(|(i, _)| i)
        .collect();
    let mut out: Vec<Result<Option<SbomFile>, String>> =
        (0..plan.artifacts.len()).map(|_| Ok(None)).collect();
    // An output whose `sbom` is now `none` keeps no SBOM an earlier run wrote beside it: that
    // one describes the bytes of an earlier build, and a scanner reading the folder would take
    // it for this one's.
    for (a, r) in plan.artifacts.iter().zip(&report.artifacts) {
        if a.resolved.packaging.sbom == Sbom::None {
            let _ = std::fs::remove_file(format!("{}{CYCLONEDX_SUFFIX}", r.output));
        }
    }
    if wanted.is_empty() {
        return out;
    }
    let queries: Vec<Query> = wanted
        .iter()
        .map(|&i| crate::plan::tree_query(&plan.artifacts[i].resolved, &plan.flags, &inherited))
        .collect();
    let answers = views(&queries);
    let mut locks: BTreeMap<Utf8PathBuf, Lock> = BTreeMap::new();
    for (&i, answer) in wanted.iter().zip(answers) {
        let a = &plan.artifacts[i].resolved;
        let r = &report.artifacts[i];
        let label = format!("{} ({})", a.identity.name, a.build.arch);
        let path = Utf8PathBuf::from(format!("{}{CYCLONEDX_SUFFIX}", r.output));
        let view = match answer {
            Ok(view) => view,
            Err(why) => {
                out[i] = Err(format!(
                    "no SBOM for {label}: its packages could not be listed: {why}"
                ));
                // An SBOM of an earlier build would describe other bytes than the output's.
                let _ = std::fs::remove_file(&path);
                continue;
            }
        };
        let root = &a.identity.workspace_root;
        let lock = locks.entry(root.clone()).or_insert_with(|| {
            std::fs::read_to_string(root.join("Cargo.lock"))
                .map(|t| Lock::parse(&t))
                .unwrap_or_default()
        });
        let output = Utf8Path::new(&r.output);
        let input = cyclonedx::Input {
            name: &a.identity.name,
            target: &a.build.target,
            output: output.file_name().unwrap_or(""),
            sha256: r.sha256.as_deref().unwrap_or_default(),
            view: &view,
            lock,
            package_dir: &a.identity.package_dir,
            source_date_epoch,
        };
        let text = cyclonedx::render(&input);
        out[i] = write(&path, text.as_bytes())
            .map(|()| {
                Some(SbomFile {
                    path: path.to_string(),
                    format: Sbom::CycloneDx,
                    size: text.len() as u64,
                    sha256: hex(&Sha256::digest(text.as_bytes())),
                })
            })
            .map_err(|e| {
                let _ = std::fs::remove_file(&path);
                format!("cannot write the SBOM of {label} `{path}`: {e}")
            });
    }
    out
}

/// Writes `bytes` to `path` atomically, leaving a file that already holds them untouched.
fn write(path: &Utf8Path, bytes: &[u8]) -> Result<(), crate::atomic::Error> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    crate::atomic::write(path, bytes, 0o644)
}

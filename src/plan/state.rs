//! Where lambda-batch keeps what it remembers between runs: `<target-dir>/lambda-batch/`,
//! beside the builds it describes, so that `cargo clean` forgets both. The plan names the
//! directory of each group and the packaging stamp of each artifact; execute and package only
//! read and write there.

use camino::{Utf8Path, Utf8PathBuf};

use crate::fingerprint::{hex, sha256};

/// lambda-batch's directory under the cargo target dir `target_dir`.
pub fn state_dir(target_dir: &Utf8Path) -> Utf8PathBuf {
    target_dir.join("lambda-batch")
}

/// The packaging stamp of the output at `output` (see `package`), under `state_dir`.
pub fn package_stamp(state_dir: &Utf8Path, output: &Utf8Path) -> Utf8PathBuf {
    state_dir
        .join("stamps")
        .join(format!("{}.json", output_name(output)))
}

/// What this machine holds for the output at `output` with respect to the artifact cache (see
/// `execute::cached`): which key its executable was last built or fetched for, and where that
/// executable is. Under `state_dir`.
pub fn held_record(state_dir: &Utf8Path, output: &Utf8Path) -> Utf8PathBuf {
    state_dir
        .join("cache")
        .join("held")
        .join(format!("{}.json", output_name(output)))
}

/// Where an executable fetched from the artifact cache for the output at `output` is kept,
/// under `state_dir`: one per output, replaced when its key changes.
pub fn fetched_executable(state_dir: &Utf8Path, output: &Utf8Path, bin: &str) -> Utf8PathBuf {
    state_dir
        .join("cache")
        .join("fetched")
        .join(output_name(output))
        .join(bin)
}

/// A file name for the output at `output`.
fn output_name(output: &Utf8Path) -> String {
    hex(&sha256(output.as_str().as_bytes())[..16])
}

/// The directory of the group stamps (see `execute::fresh`) under `state_dir`.
pub fn group_stamps(state_dir: &Utf8Path) -> Utf8PathBuf {
    state_dir.join("groups")
}

/// The remembered unit counts (see `execute::estimate`) under `state_dir`.
pub fn unit_counts(state_dir: &Utf8Path) -> Utf8PathBuf {
    state_dir.join("units.json")
}

/// The zig cache of a lane whose zig builds may overlap another lane's (see `execute::zig`).
pub fn zig_cache(state_dir: &Utf8Path) -> Utf8PathBuf {
    state_dir.join("zig-cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_output_gets_its_own_stamp_under_the_state_dir() {
        let state = state_dir(Utf8Path::new("/t"));
        assert_eq!(state, "/t/lambda-batch");
        let a = package_stamp(&state, "/a/bootstrap".into());
        assert!(a.starts_with("/t/lambda-batch/stamps"));
        assert_ne!(a, package_stamp(&state, "/b/bootstrap".into()));
    }
}

//! Finding the build programs on PATH before anything starts, so that a missing tool is one
//! clear message (and exit 3) rather than a failure halfway through a run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::plan::Plan;

/// A build program the plan needs that is not on PATH.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{program}` is not installed (or not on PATH); it is needed for {needed_for}")]
pub struct MissingTool {
    /// The program.
    pub program: String,
    /// Which groups need it, for people.
    pub needed_for: String,
    /// How to install it.
    pub install: String,
}

/// The programs the plan spawns: those found on PATH, by name, and those missing.
#[derive(Debug, Clone, Default)]
pub struct Located {
    /// Each program found, by the name the plan uses.
    pub found: BTreeMap<String, PathBuf>,
    /// Each program not found.
    pub missing: Vec<MissingTool>,
}

/// Every program the plan spawns, looked up on PATH.
pub fn locate(plan: &Plan) -> Located {
    let mut found = BTreeMap::new();
    let mut missing = Vec::new();
    let mut users: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for g in &plan.groups {
        let names: Vec<&str> = g
            .artifacts
            .iter()
            .filter_map(|&i| plan.artifacts.get(i))
            .map(|a| a.resolved.identity.name.as_str())
            .collect();
        let needed = format!("{} ({})", names.join(", "), g.target);
        users
            .entry(g.program.as_str())
            .or_default()
            .push(needed.clone());
        if g.program == crate::plan::AUDITABLE {
            // cargo-auditable runs the compiler's own program.
            users.entry(g.compiler.program()).or_default().push(needed);
        }
    }
    for (program, needed) in users {
        match which::which(program) {
            Ok(path) => {
                let path = behind_pyenv_shim(program, &path).unwrap_or(path);
                found.insert(program.to_string(), path);
            }
            Err(_) => missing.push(MissingTool {
                program: program.to_string(),
                needed_for: needed.join("; "),
                install: install_hint(program).to_string(),
            }),
        }
    }
    Located { found, missing }
}

/// The real executable behind a pyenv shim (`pip install cargo-zigbuild` under pyenv puts one
/// on PATH). The shim is a shell script that starts pyenv on every call, ~0.3 s each: asking
/// pyenv once and spawning the program directly makes a no-op run that much faster per group.
fn behind_pyenv_shim(program: &str, path: &std::path::Path) -> Option<PathBuf> {
    let shims = path.parent()?;
    if shims.file_name()? != "shims" {
        return None;
    }
    let pyenv = shims.parent()?.join("bin").join("pyenv");
    let pyenv = if pyenv.is_file() {
        pyenv
    } else {
        which::which("pyenv").ok()?
    };
    let out = std::process::Command::new(pyenv)
        .args(["which", program])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let real = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (out.status.success() && real.is_file()).then_some(real)
}

/// The `bin` directory of a pyenv Python version when `program` lives in one (as the program
/// behind a pyenv shim does). `pyenv exec` puts that directory first on PATH, so that what the
/// program starts in turn (cargo-zigbuild runs `python3 -m ziglang` for every link and probe)
/// skips the shims too; a child spawned directly needs the same.
pub fn pyenv_bin_dir(program: &std::path::Path) -> Option<&std::path::Path> {
    let bin = program.parent()?;
    let versions = bin.parent()?.parent()?;
    (bin.file_name()? == "bin" && versions.file_name()? == "versions").then_some(bin)
}

/// How to install a tool a build needs: what `run` says of a missing build program, and what
/// `lambda-batch doctor` lists.
pub fn install_hint(tool: &str) -> &'static str {
    match tool {
        "cargo" => "install Rust with rustup: https://rustup.rs",
        "cargo-zigbuild" => {
            "pip install cargo-zigbuild (or cargo install --locked cargo-zigbuild, plus zig)"
        }
        "zig" => "pip install ziglang (comes with pip install cargo-zigbuild)",
        "cross" => {
            "cargo install cross --git https://github.com/cross-rs/cross (it also needs Docker or Podman)"
        }
        "docker" | "podman" => "install Docker (https://docs.docker.com/engine/install/) or Podman",
        "cargo-auditable" => "cargo install --locked cargo-auditable",
        _ => "install it and make sure it is on PATH",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::pyenv_bin_dir;

    #[test]
    fn only_a_pyenv_version_bin_dir_is_put_first_on_path() {
        let real = Path::new("/root/.pyenv/versions/3.11.7/bin/cargo-zigbuild");
        assert_eq!(
            pyenv_bin_dir(real),
            Some(Path::new("/root/.pyenv/versions/3.11.7/bin"))
        );
        assert_eq!(pyenv_bin_dir(Path::new("/root/.cargo/bin/cargo")), None);
        assert_eq!(
            pyenv_bin_dir(Path::new("/root/.pyenv/shims/cargo-zigbuild")),
            None
        );
        assert_eq!(pyenv_bin_dir(Path::new("cargo")), None);
    }
}

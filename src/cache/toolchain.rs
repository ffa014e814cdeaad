//! The Rust toolchain cargo will use in a workspace, asked once per run for all the workspaces
//! rustup cannot tell apart: its `rustc -vV` (part of each input key, and of a group's local
//! freshness check in `execute`) and whether a target has its standard library installed.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use camino::Utf8Path;

use crate::plan::Group;

/// The rustc cargo runs with the plan's environment `env`: `RUSTC` from it or from the
/// process's environment, else `rustc`.
fn rustc(env: &BTreeMap<String, String>) -> String {
    env.get("RUSTC")
        .cloned()
        .or_else(|| std::env::var("RUSTC").ok())
        .unwrap_or_else(|| "rustc".into())
}

/// `rustc -vV` per toolchain selection (see [`selection`]), asked once per run.
#[derive(Debug, Default)]
pub struct Toolchains {
    /// Answers by question and [`Toolchains::key`].
    known: Mutex<HashMap<String, Option<String>>>,
    /// rustup's directory overrides, read once per run.
    overrides: OnceLock<Option<BTreeMap<String, String>>>,
}

impl Toolchains {
    /// Whether the standard library for `group`'s target is missing from the toolchain cargo
    /// will use (a rustup target not added): `rustc --print target-libdir` names a directory
    /// that does not exist. `false` when rustc cannot say.
    pub fn target_missing(&self, group: &Group) -> bool {
        let key = format!(
            "libdir\0{}\0{}",
            self.key(&group.workspace_root, &group.env),
            group.target
        );
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = known.get(&key) {
            return v.is_some();
        }
        let libdir = Command::new(rustc(&group.env))
            .args(["--print", "target-libdir", "--target", &group.target])
            .envs(&group.env)
            .current_dir(&group.workspace_root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        let missing = libdir.filter(|d| !d.is_empty() && !Path::new(d).is_dir());
        let answer = missing.is_some();
        known.insert(key, missing);
        answer
    }

    /// What decides the toolchain in `dir` with the plan's environment `env`: rustc, the
    /// environment and [`selection`].
    fn key(&self, dir: &Utf8Path, env: &BTreeMap<String, String>) -> String {
        format!(
            "{}\0{:?}\0{}",
            rustc(env),
            env,
            selection(dir, self.overrides.get_or_init(rustup_overrides).as_ref())
        )
    }

    /// What `rustc -vV` prints in `group`'s workspace with `group`'s environment, if it runs.
    pub fn version(&self, group: &Group) -> Option<String> {
        self.version_in(&group.workspace_root, &group.env)
    }

    /// What `cargo -V` prints in `dir` with the plan's environment `env`, if it runs (`-vV`
    /// would add the machine's OS and libraries, which do not change what cargo builds).
    pub fn cargo_version_in(
        &self,
        dir: &Utf8Path,
        env: &BTreeMap<String, String>,
    ) -> Option<String> {
        let key = format!("cargo\0{}\0{}", cargo(env), self.key(dir, env));
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = known.get(&key) {
            return v.clone();
        }
        let out = Command::new(cargo(env))
            .arg("-V")
            .envs(env)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        known.insert(key, out.clone());
        out
    }

    /// What `rustc -vV` prints in `dir` with the plan's environment `env`, if it runs.
    /// Workspaces that agree on everything rustup chooses the toolchain by share one answer.
    pub fn version_in(&self, dir: &Utf8Path, env: &BTreeMap<String, String>) -> Option<String> {
        let key = format!("version\0{}", self.key(dir, env));
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = known.get(&key) {
            return v.clone();
        }
        let out = Command::new(rustc(env))
            .arg("-vV")
            .envs(env)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        known.insert(key, out.clone());
        out
    }
}

/// The cargo rustup runs with the plan's environment `env`: `CARGO` from it or from the
/// process's environment, else `cargo`.
fn cargo(env: &BTreeMap<String, String>) -> String {
    env.get("CARGO")
        .cloned()
        .or_else(|| std::env::var("CARGO").ok())
        .unwrap_or_else(|| "cargo".into())
}

/// What decides the toolchain rustup runs in `dir`, besides the environment: the directory
/// override that applies (`rustup override set`, the nearest ancestor listed in rustup's
/// `settings.toml`) and the nearest `rust-toolchain(.toml)` file. When rustup's settings
/// cannot be read (`overrides` is `None`), the directory itself.
fn selection(dir: &Utf8Path, overrides: Option<&BTreeMap<String, String>>) -> String {
    let Some(overrides) = overrides else {
        return format!("dir {dir}");
    };
    let applied = dir
        .ancestors()
        .find_map(|a| overrides.get(a.as_str()).map(|t| format!("{a}={t}")));
    let file = dir.ancestors().find_map(|a| {
        ["rust-toolchain", "rust-toolchain.toml"]
            .iter()
            .map(|name| a.join(name))
            .find(|p| p.is_file())
    });
    format!("override {applied:?} file {file:?}")
}

/// The `[overrides]` of rustup's `settings.toml` (none when there is no such file); `None` when
/// the file cannot be read or understood.
fn rustup_overrides() -> Option<BTreeMap<String, String>> {
    let home = crate::fingerprint::rustup_home()?;
    let text = match fs::read_to_string(home.join("settings.toml")) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(BTreeMap::new()),
        Err(_) => return None,
    };
    let doc = toml::from_str::<toml::Table>(&text).ok()?;
    match doc.get("overrides") {
        None => Some(BTreeMap::new()),
        Some(toml::Value::Table(t)) => {
            Some(t.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspaces_share_a_toolchain_answer_unless_rustup_could_choose_differently() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        for ws in ["a", "b", "c/inner", "d"] {
            fs::create_dir_all(root.join(ws)).unwrap();
        }
        fs::write(
            root.join("c/rust-toolchain.toml"),
            "[toolchain]\nchannel = \"1.80\"\n",
        )
        .unwrap();
        let none = BTreeMap::new();
        let key = |ws: &str, o: Option<&BTreeMap<String, String>>| selection(&root.join(ws), o);
        assert_eq!(key("a", Some(&none)), key("b", Some(&none)));
        assert_ne!(key("a", Some(&none)), key("c/inner", Some(&none)));
        let overrides: BTreeMap<String, String> =
            [(root.join("d").to_string(), "nightly".to_string())].into();
        assert_ne!(key("a", Some(&overrides)), key("d", Some(&overrides)));
        assert_eq!(key("a", Some(&overrides)), key("b", Some(&overrides)));
        // Settings that cannot be read: every workspace is asked on its own.
        assert_ne!(key("a", None), key("b", None));
    }
}

//! The versions of the programs that build an executable, for its input key: `rustc -vV` and
//! `cargo -V` (through [`Toolchains`]), and per build program `cargo-zigbuild -V` and the zig
//! it links with, `cross -V`, or for plain cargo the linker's `--version` and the C library's.
//!
//! Each is asked once per run. The answers of programs that are slow to start (a pyenv shim or
//! a Python module costs ~0.2–0.3 s) are also kept between runs, in lambda-batch's local cache
//! directory (`tools/`), keyed on the program's path, size and modification time (and those of
//! the files that decide its answer): replacing or upgrading the program is a new question.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::programs::pyenv_bin_dir;
use super::toolchain::Toolchains;
use crate::fingerprint::{PathState, hex, sha256};
use crate::manifest::settings::Compiler;
use crate::manifest::values::Libc;
use crate::resolve::ResolvedArtifact;
use crate::store::Store;

/// The answers kept between runs; the version is raised when an entry's meaning changes.
const ENTRIES: Store<Entry> = Store::new("lambda-batch tool version", 1);

/// One answer kept between runs.
#[derive(Serialize, Deserialize)]
struct Entry {
    question: String,
    answer: String,
}

/// The versions of an artifact's tools by name, or why one could not be asked.
type ToolVersions = Result<BTreeMap<String, String>, String>;

/// The versions asked during one run.
#[derive(Debug)]
pub(crate) struct Versions {
    /// Where answers are kept between runs; `None`: not kept.
    dir: Option<PathBuf>,
    /// Answers by question.
    known: Mutex<HashMap<String, Result<String, String>>>,
    /// Whole answers of [`Versions::of`], by what they depend on: artifacts that share a
    /// workspace, compiler, target and environment ask nothing again (not even the PATH).
    tools: Mutex<HashMap<String, ToolVersions>>,
}

impl Versions {
    /// Versions kept in `dir` between runs (`None`: not kept).
    pub(crate) fn new(dir: Option<PathBuf>) -> Versions {
        Versions {
            dir,
            known: Mutex::default(),
            tools: Mutex::default(),
        }
    }

    /// The versions of everything that builds `a`, by tool name, with `env` the plan's
    /// environment for its cargo call and `programs` the located build programs. `Err` when one
    /// cannot be asked: the key would not say what built the executable.
    pub(crate) fn of(
        &self,
        a: &ResolvedArtifact,
        env: &BTreeMap<String, String>,
        programs: &BTreeMap<String, PathBuf>,
        toolchains: &Toolchains,
    ) -> Result<BTreeMap<String, String>, String> {
        let question = format!(
            "{:?}\0{}\0{}\0{:?}\0{env:?}",
            a.build.compiler, a.identity.workspace_root, a.build.target, a.build.libc
        );
        if let Some(known) = self
            .tools
            .lock()
            .ok()
            .and_then(|t| t.get(&question).cloned())
        {
            return known;
        }
        let answer = self.ask_tools(a, env, programs, toolchains);
        if let Ok(mut t) = self.tools.lock() {
            t.insert(question, answer.clone());
        }
        answer
    }

    /// [`Versions::of`], asked.
    fn ask_tools(
        &self,
        a: &ResolvedArtifact,
        env: &BTreeMap<String, String>,
        programs: &BTreeMap<String, PathBuf>,
        toolchains: &Toolchains,
    ) -> Result<BTreeMap<String, String>, String> {
        let root = &a.identity.workspace_root;
        let mut tools = BTreeMap::new();
        let rustc = toolchains
            .version_in(root, env)
            .ok_or_else(|| format!("`rustc -vV` failed in `{root}`"))?;
        tools.insert("rustc".to_string(), rustc);
        let cargo = toolchains
            .cargo_version_in(root, env)
            .ok_or_else(|| format!("`cargo -V` failed in `{root}`"))?;
        tools.insert("cargo".to_string(), cargo);
        let program = |name: &str| -> Result<PathBuf, String> {
            programs
                .get(name)
                .cloned()
                .or_else(|| which::which(name).ok())
                .ok_or_else(|| format!("`{name}` is not installed"))
        };
        match a.build.compiler {
            Compiler::CargoZigbuild => {
                let zigbuild = program("cargo-zigbuild")?;
                let version = self.ask(&zigbuild, &["-V"], env, &[])?;
                tools.insert("cargo-zigbuild".to_string(), version);
                tools.insert("zig".to_string(), self.zig(&zigbuild, env)?);
            }
            Compiler::Cross => {
                let cross = program("cross")?;
                tools.insert("cross".to_string(), self.ask(&cross, &["-V"], env, &[])?);
            }
            Compiler::Cargo => {
                // The linker and the C library it links against come from the machine.
                let var = format!(
                    "CARGO_TARGET_{}_LINKER",
                    a.build.target.to_uppercase().replace(['-', '.'], "_")
                );
                let linker = env
                    .get(&var)
                    .cloned()
                    .or_else(|| std::env::var(&var).ok())
                    .unwrap_or_else(|| "cc".to_string());
                let answer = match which::which(&linker) {
                    Ok(path) => self.ask_now(&path, &["--version"], env)?,
                    Err(_) => format!("`{linker}` not found"),
                };
                tools.insert("linker".to_string(), first_line(&answer));
                if a.build.libc == Libc::Gnu
                    && let Ok(ldd) = which::which("ldd")
                {
                    let answer = self.ask_now(&ldd, &["--version"], env)?;
                    tools.insert("libc".to_string(), first_line(&answer));
                }
            }
        }
        if a.build.auditable {
            // cargo-auditable has no version of its own to print: its bytes stand for it.
            let auditable = program(crate::plan::AUDITABLE)?;
            tools.insert("cargo-auditable".to_string(), self.digest(&auditable)?);
        }
        Ok(tools)
    }

    /// `sha256:HEX` of the file at `path`, read once per run.
    fn digest(&self, path: &Path) -> Result<String, String> {
        let question = format!("digest\0{}\0{:?}", path.display(), PathState::of(path));
        if let Some(known) = self.known(&question) {
            return known;
        }
        let answer = std::fs::read(path)
            .map(|bytes| format!("sha256:{}", hex(&sha256(&bytes))))
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()));
        self.remember(question, answer)
    }

    /// The version of the zig cargo-zigbuild (at `zigbuild`) links with, found as it finds it:
    /// `python3 -m ziglang` (`CARGO_ZIGBUILD_PYTHON_PATH`, else `python3` on the PATH its
    /// children get), else `zig` (`CARGO_ZIGBUILD_ZIG_PATH`, else on PATH).
    fn zig(&self, zigbuild: &Path, env: &BTreeMap<String, String>) -> Result<String, String> {
        let var = |k: &str| env.get(k).cloned().or_else(|| std::env::var(k).ok());
        let mut path: Vec<PathBuf> = pyenv_bin_dir(zigbuild)
            .map(Path::to_path_buf)
            .into_iter()
            .collect();
        let inherited: OsString = var("PATH").map(OsString::from).unwrap_or_default();
        path.extend(std::env::split_paths(&inherited));
        let search = std::env::join_paths(path).unwrap_or_default();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let find = |name: String| which::which_in(name, Some(&search), &cwd).ok();
        let python = find(var("CARGO_ZIGBUILD_PYTHON_PATH").unwrap_or_else(|| "python3".into()));
        if let Some(python) = python {
            let package = ziglang_files(&python);
            // Without the package's files to key on, the answer is asked every run.
            let answer = if package.is_empty() {
                self.ask_now(&python, &["-m", "ziglang", "version"], env)
            } else {
                self.ask(&python, &["-m", "ziglang", "version"], env, &package)
            };
            if let Ok(version) = answer {
                return Ok(version);
            }
        }
        let zig = find(var("CARGO_ZIGBUILD_ZIG_PATH").unwrap_or_else(|| "zig".into()))
            .ok_or("zig is not installed (neither `python3 -m ziglang` nor `zig`)")?;
        self.ask(&zig, &["version"], env, &[])
    }

    /// What `program args` prints, asked once per run and kept between runs while `program`
    /// and `files` are unchanged.
    fn ask(
        &self,
        program: &Path,
        args: &[&str],
        env: &BTreeMap<String, String>,
        files: &[PathBuf],
    ) -> Result<String, String> {
        let mut question = format!("{}\0{}", ENTRIES.version(), program.display());
        for a in args {
            question.push_str(&format!("\0{a}"));
        }
        for p in std::iter::once(&program.to_path_buf()).chain(files) {
            question.push_str(&format!("\0{}={:?}", p.display(), PathState::of(p)));
        }
        if let Some(known) = self.known(&question) {
            return known;
        }
        let stored = self.entry(&question);
        if let Some(answer) = stored.as_ref().and_then(|p| read_entry(p, &question)) {
            return self.remember(question, Ok(answer));
        }
        let answer = run(program, args, env);
        if let (Some(path), Ok(answer)) = (&stored, &answer) {
            let entry = Entry {
                question: question.clone(),
                answer: answer.clone(),
            };
            // A store that cannot be written only costs time.
            ENTRIES.save_or_skip(path, &entry);
        }
        self.remember(question, answer)
    }

    /// What `program args` prints, asked once per run.
    fn ask_now(
        &self,
        program: &Path,
        args: &[&str],
        env: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        let question = format!("now\0{}\0{args:?}", program.display());
        if let Some(known) = self.known(&question) {
            return known;
        }
        let answer = run(program, args, env);
        self.remember(question, answer)
    }

    fn known(&self, question: &str) -> Option<Result<String, String>> {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(question)
            .cloned()
    }

    fn remember(&self, question: String, answer: Result<String, String>) -> Result<String, String> {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(question, answer.clone());
        answer
    }

    fn entry(&self, question: &str) -> Option<PathBuf> {
        let name = hex(&sha256(question.as_bytes())[..16]);
        self.dir.as_ref().map(|d| d.join(format!("{name}.json")))
    }
}

fn read_entry(path: &Path, question: &str) -> Option<String> {
    let entry = ENTRIES.load(path)?;
    (entry.question == question).then_some(entry.answer)
}

/// Runs `program args` with the plan's environment on top of this process's; its output,
/// trimmed, when it succeeds.
fn run(program: &Path, args: &[&str], env: &BTreeMap<String, String>) -> Result<String, String> {
    let shown = format!("{} {}", program.display(), args.join(" "));
    let out = Command::new(program)
        .args(args)
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run `{shown}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{shown}` failed ({})", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if text.is_empty() {
        // Some programs (old ldd) print their version on stderr.
        return Ok(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(text)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// The files of the `ziglang` Python package next to `python` (a pyenv version, a virtualenv,
/// a system prefix: `<prefix>/lib/python3.X/site-packages/ziglang`): what `pip install -U
/// ziglang` replaces. Empty when it is not there.
fn ziglang_files(python: &Path) -> Vec<PathBuf> {
    let Some(prefix) = python.parent().and_then(Path::parent) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(prefix.join("lib")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .map(|e| e.path().join("site-packages/ziglang"))
        .filter(|d| d.is_dir())
        .flat_map(|d| [d.join("zig"), d.join("__init__.py")])
        .filter(|f| f.is_file())
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A script that counts its runs in `count` and prints `version`.
    fn script(dir: &Path, version: &str) -> PathBuf {
        let path = dir.join("tool");
        let count = dir.join("count");
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho x >> '{}'\necho '{version}'\n",
                count.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn runs(dir: &Path) -> usize {
        std::fs::read_to_string(dir.join("count"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    #[test]
    fn answers_are_kept_between_runs_until_the_program_changes() {
        let d = tempfile::tempdir().unwrap();
        let store = d.path().join("tools");
        let tool = script(d.path(), "tool 1.0");
        let env = BTreeMap::new();
        let first = Versions::new(Some(store.clone()));
        assert_eq!(first.ask(&tool, &["-V"], &env, &[]).unwrap(), "tool 1.0");
        assert_eq!(first.ask(&tool, &["-V"], &env, &[]).unwrap(), "tool 1.0");
        assert_eq!(runs(d.path()), 1, "asked once per run");
        let second = Versions::new(Some(store.clone()));
        assert_eq!(second.ask(&tool, &["-V"], &env, &[]).unwrap(), "tool 1.0");
        assert_eq!(runs(d.path()), 1, "kept between runs");
        // An upgrade writes the program again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let tool = script(d.path(), "tool 2.0.1");
        let third = Versions::new(Some(store));
        assert_eq!(third.ask(&tool, &["-V"], &env, &[]).unwrap(), "tool 2.0.1");
        assert_eq!(runs(d.path()), 2);
        // Not kept: asked again by the next run.
        let none = Versions::new(None);
        none.ask(&tool, &["-V"], &env, &[]).unwrap();
        assert_eq!(runs(d.path()), 3);
        let err = none
            .ask(&d.path().join("missing"), &["-V"], &env, &[])
            .unwrap_err();
        assert!(err.contains("could not run"), "{err}");
    }
}

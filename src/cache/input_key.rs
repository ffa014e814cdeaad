//! The input key of each (artifact, target): a SHA-256 over everything that can change its
//! executable, computed before anything is built, the same in every checkout of one commit
//! (paths are written with placeholders, see [`super::relative`]) and different when any
//! input changes. In order, each input named and digested:
//!
//! 1. `key-format`: the version of this recipe;
//! 2. `tool <name>`: `rustc -vV` and `cargo -V` in the workspace, and the build program's
//!    version: `cargo-zigbuild -V` and the zig it links with, `cross -V`, or for plain cargo
//!    the linker's `--version` and (gnu targets) `ldd --version` (see [`super::versions`]);
//! 3. `program` and `args`: the cargo call that builds the artifact alone (`-p <package>
//!    --bin <bin>` with its features, profile, target with glibc, `--config` optimizations),
//!    never its group's call: `--only`, the manifest's other entries or a shard do not change
//!    it. `--locked`, `--offline`, `--frozen`, `--keep-going` and the message format are left
//!    out: they change whether cargo succeeds, not what it builds;
//! 4. `env <NAME>`: the environment of that call: the manifest's `env` and `RUSTFLAGS` (with
//!    the path remapping, the optimization flags and the user's), and the variables of
//!    lambda-batch's environment that configure cargo, rustc and zig (`CARGO*`, `RUST*`,
//!    `ZIG*`, `CROSS_*`), except those that only choose where things are or how they are
//!    shown (see [`keyed`]);
//! 5. `cache-key-env <NAME>`: the manifest's `cache-key-env` variables;
//! 6. `file <path>`: `Cargo.lock`, every `Cargo.toml` from the package's directory up to the
//!    workspace root, the cargo config and toolchain files cargo reads from the workspace up
//!    and in `$CARGO_HOME` (those present), and `Cross.toml` for `cross`;
//! 7. `package <dir>`: every file of each path package in the artifact's dependency closure
//!    for its target (normal and build dependencies, as `cargo tree` resolves the package
//!    alone; see [`super::package_files`] for what is not read);
//! 8. `cache-key-file <label>`: the manifest's `cache-key-files`.
//!
//! What cannot be known before building is what a build script reads outside its package (a
//! file, a variable): the manifest adds it with `cache-key-files` and `cache-key-env`.
//! Variables read with `env!`/`option_env!` or declared by build scripts are also checked
//! after the fact, against the values the executable was built with (see `execute`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use camino::{Utf8Path, Utf8PathBuf};

use super::package_files::PackageFiles;
use super::relative::Placeholders;
use super::toolchain::Toolchains;
use super::versions::Versions;
use crate::fingerprint::{Fingerprint, hex, read_upward, sha256, sha256_file};
use crate::manifest::values::Compiler;
use crate::plan::{self, KeyInput, Plan, PlannedArtifact};
use crate::resolve::{Answer, Query};

/// The version of the key's recipe: bumped whenever what goes in, or how, changes.
pub const KEY_FORMAT: &str = "lambda-batch input key 1";

/// Everything the keys of one plan are computed with.
pub struct KeyContext<'a> {
    /// The build programs, located (see [`super::locate`]).
    pub programs: &'a BTreeMap<String, PathBuf>,
    /// `rustc -vV` and `cargo -V`, shared with the run.
    pub toolchains: &'a Toolchains,
    /// lambda-batch's environment.
    pub env: &'a BTreeMap<String, String>,
    /// Directories no package walk enters: every target dir and output directory of the
    /// manifest (of every artifact, whatever `--only` selects).
    pub excluded_dirs: Vec<Utf8PathBuf>,
    /// Files no package walk reads: the manifest, the report.
    pub excluded_files: Vec<Utf8PathBuf>,
    /// The dependency closure of packages alone (`resolve::views`, cached).
    pub views: &'a dyn Fn(&[Query]) -> Vec<Answer>,
    /// Where slow programs' versions are kept between runs (`None`: not kept).
    pub versions_dir: Option<PathBuf>,
}

/// Computes the input key of every artifact of `plan` and writes it (or why there is none)
/// into the artifact.
pub fn compute_keys(plan: &mut Plan, cx: &KeyContext<'_>) {
    let inherited = |k: &str| cx.env.get(k).cloned();
    let flags = plan.flags.clone();
    let Some(first) = plan.artifacts.first() else {
        return;
    };
    let (cargo_home, rustup_home) = super::relative::homes();
    let placeholders = Placeholders::new(
        &first.resolved.path_remapping,
        cargo_home.as_deref(),
        rustup_home.as_deref(),
    );

    // The closures, each package asked once.
    let mut queries: Vec<Query> = Vec::new();
    let mut query_of: Vec<usize> = Vec::with_capacity(plan.artifacts.len());
    let mut index: HashMap<Query, usize> = HashMap::new();
    for a in &plan.artifacts {
        let q = plan::tree_query(&a.resolved, &flags, &inherited);
        let next = queries.len();
        let k = *index.entry(q.clone()).or_insert(next);
        if k == next {
            queries.push(q);
        }
        query_of.push(k);
    }
    let answers = (cx.views)(&queries);

    // Every path package once, several at a time.
    let files = PackageFiles::new(cx.excluded_dirs.clone(), cx.excluded_files.clone());
    let dirs: BTreeSet<Utf8PathBuf> = answers
        .iter()
        .filter_map(|a| a.as_ref().ok())
        .flat_map(|v| v.path_packages())
        .map(Utf8PathBuf::from)
        .collect();
    files.read_all(&dirs.into_iter().collect::<Vec<_>>());

    let memo = Memo {
        versions: Versions::new(cx.versions_dir.clone()),
        files,
        digests: FileDigests::default(),
    };
    for (a, k) in plan.artifacts.iter_mut().zip(query_of) {
        let closure = answers
            .get(k)
            .cloned()
            .unwrap_or_else(|| Err("not asked".into()));
        let computed = closure.and_then(|view| {
            let packages: Vec<Utf8PathBuf> = view
                .path_packages()
                .into_iter()
                .map(Utf8PathBuf::from)
                .collect();
            inputs(a, &flags, cx, &placeholders, &memo, &packages)
        });
        match computed {
            Ok((inputs, tools)) => {
                a.key = Some(key_of(&inputs));
                a.key_inputs = inputs;
                a.key_tools = tools;
                a.key_error = None;
            }
            Err(why) => {
                a.key = None;
                a.key_inputs = Vec::new();
                a.key_tools = BTreeMap::new();
                a.key_error = Some(why);
            }
        }
    }
}

/// The key of a list of inputs: SHA-256 over each name and digest, lowercase hex.
pub fn key_of(inputs: &[KeyInput]) -> String {
    let mut f = Fingerprint::new();
    for i in inputs {
        f.field(&i.name, &i.digest);
    }
    f.finish()
}

/// Every input of `a`'s key, in order, and the versions of its tools.
fn inputs(
    a: &PlannedArtifact,
    flags: &plan::CargoFlags,
    cx: &KeyContext<'_>,
    placeholders: &Placeholders,
    memo: &Memo,
    packages: &[Utf8PathBuf],
) -> Result<(Vec<KeyInput>, BTreeMap<String, String>), String> {
    let r = &a.resolved;
    let inherited = |k: &str| cx.env.get(k).cloned();
    let mut out: Vec<KeyInput> = Vec::new();
    let mut add = |name: String, value: &str| {
        out.push(KeyInput {
            name,
            digest: hex(&sha256(value.as_bytes())),
        });
    };
    add("key-format".into(), KEY_FORMAT);

    let (program, args, env) = plan::alone(r, flags, &inherited);
    let tools = memo.versions.of(r, &env, cx.programs, cx.toolchains)?;
    for (name, version) in &tools {
        add(format!("tool {name}"), version);
    }
    add("program".into(), &program);
    let args: Vec<String> = args
        .iter()
        .filter(|a| !IGNORED_ARGS.contains(&a.as_str()) && !a.starts_with("--message-format"))
        .map(|a| placeholders.apply(a))
        .collect();
    add("args".into(), &args.join("\0"));

    let mut vars: BTreeMap<String, String> = cx
        .env
        .iter()
        .filter(|(k, v)| keyed(k, v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    vars.extend(env);
    for (k, v) in &vars {
        add(format!("env {k}"), &placeholders.apply(v));
    }
    for k in &r.cache_key_env {
        let v = cx
            .env
            .get(k)
            .map_or("(unset)".to_string(), |v| format!("={v}"));
        add(format!("cache-key-env {k}"), &v);
    }

    let lock = r.workspace_root.join("Cargo.lock");
    let Some(lock_digest) = memo.digests.of(&lock)? else {
        return Err(format!(
            "`{lock}` does not exist: without it the dependencies' versions are not known before building"
        ));
    };
    out.push(KeyInput {
        name: format!("file {}", placeholders.path(&lock)),
        digest: lock_digest,
    });
    let mut upward: BTreeSet<Utf8PathBuf> = BTreeSet::new();
    if r.package_dir.starts_with(&r.workspace_root) {
        for d in r.package_dir.ancestors() {
            if d == r.workspace_root {
                break;
            }
            upward.insert(d.join("Cargo.toml"));
        }
    }
    upward.extend(read_upward(&r.workspace_root));
    if r.compiler == Compiler::Cross {
        upward.insert(r.workspace_root.join("Cross.toml"));
    }
    let mut present: Vec<(String, String)> = Vec::new();
    for p in upward {
        if let Some(digest) = memo.digests.of(&p)? {
            present.push((placeholders.path(&p), digest));
        }
    }
    present.sort();
    for (label, digest) in present {
        out.push(KeyInput {
            name: format!("file {label}"),
            digest,
        });
    }

    let mut labelled: Vec<(String, &Utf8PathBuf)> =
        packages.iter().map(|d| (placeholders.path(d), d)).collect();
    labelled.sort();
    for (label, dir) in labelled {
        let digest = memo.files.digest(dir)?;
        out.push(KeyInput {
            name: format!("package {label}"),
            digest,
        });
    }
    for f in &r.cache_key_files {
        out.push(file(format!("cache-key-file {}", f.label), &f.source)?);
    }
    Ok((out, tools))
}

/// What the keys of one plan read once and share: tool versions, path packages' files, and
/// the files read upward.
struct Memo {
    versions: Versions,
    files: PackageFiles,
    digests: FileDigests,
}

/// The digests of the files every artifact's key reads (`Cargo.lock`, the files read upward),
/// each file read once per process however many artifacts share it.
#[derive(Default)]
struct FileDigests(RefCell<HashMap<Utf8PathBuf, Option<String>>>);

impl FileDigests {
    /// The SHA-256 of the file at `path`, `None` when there is no file there.
    fn of(&self, path: &Utf8Path) -> Result<Option<String>, String> {
        if let Some(known) = self.0.borrow().get(path) {
            return Ok(known.clone());
        }
        let digest = if path.is_file() {
            Some(file(String::new(), path)?.digest)
        } else {
            None
        };
        self.0
            .borrow_mut()
            .insert(path.to_path_buf(), digest.clone());
        Ok(digest)
    }
}

/// The input `name` of the contents of the file at `path`.
fn file(name: String, path: &Utf8Path) -> Result<KeyInput, String> {
    let sha = sha256_file(path.as_std_path()).map_err(|e| format!("reading `{path}`: {e}"))?;
    Ok(KeyInput {
        name,
        digest: hex(&sha),
    })
}

/// Arguments that change whether cargo succeeds, not what it builds.
const IGNORED_ARGS: &[&str] = &["--locked", "--offline", "--frozen", "--keep-going"];

/// Variables of lambda-batch's environment whose name starts with one of these configure
/// what cargo, rustc, zig or cross build.
const KEYED_PREFIXES: &[&str] = &["CARGO", "RUST", "ZIG", "CROSS_"];

/// Of those, the ones that only say where things are (their contents are keyed elsewhere,
/// or do not matter), how output is shown, how the network or credentials are set up, how
/// many jobs run, or that cargo sets itself for the processes it starts.
const NOT_KEYED: &[&str] = &[
    "CARGO",
    "CARGO_HOME",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_JOBS",
    "CARGO_MAKEFLAGS",
    "CARGO_LOG",
    "CARGO_REGISTRY_TOKEN",
    "CARGO_REGISTRY_DEFAULT",
    "CARGO_REGISTRY_CREDENTIAL_PROVIDER",
    "CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "CARGO_ZIGBUILD_CACHE_DIR",
    "CARGO_ZIGBUILD_ZIG_COMMAND",
    "CARGO_ZIGBUILD_ZIG_COMMAND_ARGS",
    "RUSTC",
    "RUSTDOC",
    "RUSTDOCFLAGS",
    "RUST_BACKTRACE",
    "RUST_LIB_BACKTRACE",
    "RUST_LOG",
    "RUSTC_LOG",
    "RUST_MIN_STACK",
    "RUST_TEST_THREADS",
    "ZIG_GLOBAL_CACHE_DIR",
    "ZIG_LOCAL_CACHE_DIR",
];

/// The same, by prefix.
const NOT_KEYED_PREFIXES: &[&str] = &[
    "CARGO_TERM_",
    "CARGO_HTTP_",
    "CARGO_NET_",
    "CARGO_REGISTRIES_",
    "CARGO_CACHE_",
    "CARGO_FUTURE_INCOMPAT",
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "CARGO_CRATE_",
    "CARGO_BIN_",
    "CARGO_CFG_",
    "CARGO_FEATURE_",
    "CARGO_LOG_",
    // rustup's settings only choose the toolchain, whose `rustc -vV` is keyed.
    "RUSTUP_",
];

/// Whether lambda-batch's variable `name` (with `value`) goes into the key. `RUSTC_WRAPPER`
/// and `RUSTC_WORKSPACE_WRAPPER` do, unless the wrapper is sccache, which caches rustc's output
/// without changing it (so that runners with and without it share the cache).
pub fn keyed(name: &str, value: &str) -> bool {
    if matches!(name, "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER") {
        let program = Utf8Path::new(value).file_name().unwrap_or(value);
        return !matches!(program, "sccache" | "");
    }
    if name == "RUSTUP_TOOLCHAIN" {
        return true;
    }
    KEYED_PREFIXES.iter().any(|p| name.starts_with(p))
        && !NOT_KEYED.contains(&name)
        && !NOT_KEYED_PREFIXES.iter().any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_location_and_credential_variables_stay_out_of_the_key() {
        for name in [
            "CARGO_TERM_COLOR",
            "CARGO_HOME",
            "CARGO_MAKEFLAGS",
            "CARGO_BUILD_JOBS",
            "CARGO_REGISTRIES_MY_TOKEN",
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "RUSTUP_HOME",
            "RUST_BACKTRACE",
            "ZIG_GLOBAL_CACHE_DIR",
            "PATH",
            "HOME",
            "SOURCE_DATE_EPOCH",
        ] {
            assert!(!keyed(name, "x"), "{name}");
        }
        for name in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_PROFILE_RELEASE_LTO",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER",
            "CARGO_INCREMENTAL",
            "CARGO_UNSTABLE_BUILD_STD",
            "CARGO_ZIGBUILD_ZIG_PATH",
            "RUSTUP_TOOLCHAIN",
            "ZIG_LIB_DIR",
            "CROSS_CONTAINER_ENGINE",
        ] {
            assert!(keyed(name, "x"), "{name}");
        }
        assert!(!keyed("RUSTC_WRAPPER", "/home/ci/.cargo/bin/sccache"));
        assert!(!keyed("RUSTC_WRAPPER", ""));
        assert!(keyed("RUSTC_WRAPPER", "/usr/local/bin/my-wrapper"));
    }

    #[test]
    fn the_key_is_the_inputs_in_order() {
        let i = |n: &str, d: &str| KeyInput {
            name: n.into(),
            digest: d.into(),
        };
        let a = key_of(&[i("args", "1"), i("env X", "2")]);
        assert_eq!(a.len(), 64);
        assert_eq!(a, key_of(&[i("args", "1"), i("env X", "2")]));
        assert_ne!(a, key_of(&[i("env X", "2"), i("args", "1")]));
        assert_ne!(a, key_of(&[i("args", "1"), i("env X", "3")]));
        assert_ne!(a, key_of(&[i("args", "1"), i("env Y", "2")]));
    }
}

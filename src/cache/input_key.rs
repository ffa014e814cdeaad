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
//!    shown (see [`EnvPolicy::keyed`]);
//! 5. `cache-key-env <NAME>`: the manifest's `cache-key-env` variables;
//! 6. `file <path>`: `Cargo.lock`, every `Cargo.toml` from the package's directory up to the
//!    workspace root, the cargo config and toolchain files cargo reads from the workspace up
//!    and in `$CARGO_HOME` (those present), and `Cross.toml` for `cross`;
//! 7. `package <dir>`: every file of each path package in the artifact's dependency closure
//!    for its target (normal and build dependencies, as `cargo tree` resolves the package
//!    alone; see [`super::package_files`] for what is not read), except the artifact's own
//!    package: `reads <dir>` says that the files of that one are recorded with each entry,
//!    those its executable read, and matched in the checkout (see [`super::reads`]);
//! 8. `cache-key-file <label>`: the manifest's `cache-key-files`.
//!
//! What cannot be known before building is what a build script reads outside its package (a
//! file, a variable): the manifest adds it with `cache-key-files` and `cache-key-env`.
//! Variables read with `env!`/`option_env!` or declared by build scripts are also checked
//! after the fact, against the values the executable was built with (see `execute`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};

use super::keys::{Key, KeyError, KeyInput, Keys};
use super::package_files::PackageFiles;
use super::reads::Checkout;
use super::relative::Placeholders;
use super::toolchain::Toolchains;
use super::versions::Versions;
use crate::fingerprint::{EnvPolicy, hex, read_upward, sha256, sha256_file};
use crate::manifest::settings::Compiler;
use crate::plan::{self, Plan, PlannedArtifact};
use crate::resolve::{Answer, Query};

/// The version of the key's recipe: bumped whenever what goes in, or how, changes.
pub const KEY_FORMAT: &str = "lambda-batch input key 2";

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

/// The input key of every artifact of `plan`, or why it has none, in plan order.
pub fn compute_keys(plan: &Plan, cx: &KeyContext<'_>) -> Keys {
    let inherited = |k: &str| cx.env.get(k).cloned();
    let flags = &plan.flags;
    let Some(first) = plan.artifacts.first() else {
        return Keys::none();
    };
    let (cargo_home, rustup_home) = super::relative::homes();
    let placeholders = Placeholders::new(
        &first.resolved.cargo.path_remapping,
        cargo_home.as_deref(),
        rustup_home.as_deref(),
    );

    // The closures, each package asked once.
    let mut queries: Vec<Query> = Vec::new();
    let mut query_of: Vec<usize> = Vec::with_capacity(plan.artifacts.len());
    let mut index: HashMap<Query, usize> = HashMap::new();
    for a in &plan.artifacts {
        let q = plan::tree_query(&a.resolved, flags, &inherited);
        let next = queries.len();
        let k = *index.entry(q.clone()).or_insert(next);
        if k == next {
            queries.push(q);
        }
        query_of.push(k);
    }
    let answers = (cx.views)(&queries);

    // Every path package once, several at a time.
    let files = Arc::new(PackageFiles::new(
        cx.excluded_dirs.clone(),
        cx.excluded_files.clone(),
    ));
    let dirs: BTreeSet<Utf8PathBuf> = answers
        .iter()
        .filter_map(|a| a.as_ref().ok())
        .flat_map(|v| v.path_packages())
        .map(Utf8PathBuf::from)
        .collect();
    files.read_all(&dirs.into_iter().collect::<Vec<_>>());

    let memo = Memo {
        versions: Versions::new(cx.versions_dir.clone()),
        files: Arc::clone(&files),
        digests: FileDigests::default(),
        // The same for every artifact: asked of the policy once.
        keyed_env: cx
            .env
            .iter()
            .filter(|(k, v)| EnvPolicy::keyed(k, v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let keys = plan.artifacts.iter().zip(query_of).map(|(a, k)| {
        let closure = answers
            .get(k)
            .cloned()
            .unwrap_or_else(|| Err("not asked".into()));
        closure
            .and_then(|view| {
                let packages: Vec<Utf8PathBuf> = view
                    .path_packages()
                    .into_iter()
                    .map(Utf8PathBuf::from)
                    .collect();
                inputs(a, flags, cx, &placeholders, &memo, &packages)
            })
            .map(|(inputs, tools)| Key::new(inputs, tools))
            .map_err(KeyError)
    });
    let keys: Vec<_> = keys.collect();
    Keys::in_checkout(keys, Arc::new(Checkout::new(placeholders, files)))
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

    let mut vars = memo.keyed_env.clone();
    vars.extend(env);
    for (k, v) in &vars {
        add(format!("env {k}"), &placeholders.apply(v));
    }
    for k in &r.inputs.cache_key_env {
        let v = cx
            .env
            .get(k)
            .map_or("(unset)".to_string(), |v| format!("={v}"));
        add(format!("cache-key-env {k}"), &v);
    }

    let lock = r.identity.workspace_root.join("Cargo.lock");
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
    if r.identity
        .package_dir
        .starts_with(&r.identity.workspace_root)
    {
        for d in r.identity.package_dir.ancestors() {
            if d == r.identity.workspace_root {
                break;
            }
            upward.insert(d.join("Cargo.toml"));
        }
    }
    upward.extend(read_upward(&r.identity.workspace_root));
    if r.build.compiler == Compiler::Cross {
        upward.insert(r.identity.workspace_root.join("Cross.toml"));
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
        if *dir == r.identity.package_dir {
            out.push(KeyInput {
                name: format!("reads {label}"),
                digest: hex(&sha256(b"recorded with each entry")),
            });
            continue;
        }
        let digest = memo.files.digest(dir)?;
        out.push(KeyInput {
            name: format!("package {label}"),
            digest,
        });
    }
    for f in &r.inputs.cache_key_files {
        out.push(file(format!("cache-key-file {}", f.label), &f.source)?);
    }
    Ok((out, tools))
}

/// What the keys of one plan read once and share: tool versions, path packages' files, the
/// files read upward, and the variables of lambda-batch's environment that are keyed.
struct Memo {
    versions: Versions,
    files: Arc<PackageFiles>,
    digests: FileDigests,
    keyed_env: BTreeMap<String, String>,
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

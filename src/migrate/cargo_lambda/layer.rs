//! One table of cargo-lambda build keys (`[build]`, `[package.metadata.lambda.build]`, ...) →
//! a [`Layer`]: the keys that shape the output typed, the others listed, each with where it was
//! read. Values are checked the way cargo-lambda 1.9.2 deserializes them, so that a value it
//! refuses is reported instead of translated.

use std::sync::Arc;

use camino::Utf8PathBuf;
use serde_json::Value;

use crate::manifest::kdl_string;
use crate::manifest::settings::{Compiler, OutputFormat};

/// Which of cargo-lambda's sources a table is, in its order of precedence (later wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SourceKind {
    /// `CargoLambda.toml`: `[build]`, or with a context `[default.build]` then `[NAME.build]`.
    File,
    /// `[workspace.metadata.lambda]` in the workspace's root Cargo.toml.
    Workspace,
    /// `[workspace.metadata.lambda.bin.NAME]`.
    WorkspaceBin,
    /// `[package.metadata.lambda]`, or its `bin.NAME` table (which then replaces it).
    Package,
    /// `CargoLambda.toml`'s `[global.build]` with a context: above everything.
    FileGlobal,
}

/// A table cargo-lambda reads build keys from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Which source it is.
    pub kind: SourceKind,
    /// The file (absolute).
    pub file: Utf8PathBuf,
    /// The table's name as written in the file: `package.metadata.lambda.build`.
    pub table: String,
}

/// A value and the key it was read from.
#[derive(Debug, Clone)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// The table.
    pub origin: Arc<Origin>,
    /// The key as written (`env` or `env_var`, `compiler.extra_args`).
    pub key: String,
    /// The value as written, in TOML, for messages.
    pub written: String,
}

impl<T> Sourced<T> {
    /// `[package.metadata.lambda.build] output_format = "zip"`.
    pub fn describe(&self) -> String {
        format!("[{}] {} = {}", self.origin.table, self.key, self.written)
    }
}

/// A key lambda-batch does not translate, or a value cargo-lambda would refuse.
#[derive(Debug, Clone)]
pub struct Note {
    /// The key and its value.
    pub key: Sourced<()>,
    /// Why it is not carried over.
    pub why: String,
}

/// The keys of one table that shape what a build produces.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// `output_format`.
    pub output_format: Option<Sourced<OutputFormat>>,
    /// `lambda_dir`, relative to where cargo-lambda runs.
    pub lambda_dir: Option<Sourced<String>>,
    /// `flatten`: the name of the bin written straight into the lambda dir.
    pub flatten: Option<Sourced<String>>,
    /// `arm64 = true`.
    pub arm64: Option<Sourced<bool>>,
    /// `x86_64 = true`.
    pub x86_64: Option<Sourced<bool>>,
    /// `target`: the first triple of the list (cargo-lambda builds only that one).
    pub target: Option<Sourced<String>>,
    /// `extension = true`.
    pub extension: Option<Sourced<bool>>,
    /// `internal = true`.
    pub internal: Option<Sourced<bool>>,
    /// `compiler.type`.
    pub compiler: Option<Sourced<Compiler>>,
    /// `disable_optimizations = true`.
    pub disable_optimizations: Option<Sourced<bool>>,
    /// `include`: paths relative to where cargo-lambda runs, or `DEST:SRC`.
    pub include: Option<Sourced<Vec<String>>>,
    /// `features` (a non-empty list).
    pub features: Option<Sourced<Vec<String>>>,
    /// `all_features = true`.
    pub all_features: Option<Sourced<bool>>,
    /// `no_default_features = true`.
    pub no_default_features: Option<Sourced<bool>>,
    /// `profile`.
    pub profile: Option<Sourced<String>>,
    /// `release = true`.
    pub release: Option<Sourced<bool>>,
    /// `target_dir`, relative to where cargo-lambda runs.
    pub target_dir: Option<Sourced<String>>,
    /// `env_var` (or its alias `env`): the cargo process's environment.
    pub env: Option<Sourced<Vec<(String, String)>>>,
    /// `[...deploy] runtime`, which decides the glibc.
    pub runtime: Option<Sourced<String>>,
    /// Keys with no lambda-batch equivalent, and values cargo-lambda would refuse.
    pub notes: Vec<Note>,
}

/// Build keys cargo-lambda knows that lambda.kdl has no setting for, and what to do instead.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "skip_target_check",
        "lambda-batch checks every Rust target before building",
    ),
    (
        "env_file",
        "lambda.kdl has no environment files: write the variables with `env`",
    ),
    ("quiet", "a command-line flag: `lambda-batch run -q`"),
    ("verbose", "a command-line flag: `lambda-batch run -v`"),
    ("color", "a command-line flag: `lambda-batch --color`"),
    ("jobs", "a command-line flag: `lambda-batch run --jobs`"),
    (
        "keep_going",
        "a command-line flag: `lambda-batch run --keep-going`",
    ),
    ("locked", "a command-line flag: `lambda-batch run --locked`"),
    (
        "offline",
        "a command-line flag: `lambda-batch run --offline`",
    ),
    ("frozen", "a command-line flag: `lambda-batch run --frozen`"),
    (
        "message_format",
        "lambda-batch reads cargo's JSON messages itself",
    ),
    (
        "config",
        "lambda.kdl has no cargo `--config` values: put them in .cargo/config.toml",
    ),
    (
        "unstable_flags",
        "lambda.kdl has no `-Z` flags: put them in .cargo/config.toml",
    ),
    ("timings", "lambda.kdl has no `--timings`"),
    (
        "manifest_path",
        "the `workspace` node names the directory to build",
    ),
    ("ignore_rust_version", "lambda.kdl has no such setting"),
    ("unit_graph", "lambda.kdl has no such setting"),
    (
        "packages",
        "lambda.kdl names each bin's package with `package=`",
    ),
    (
        "workspace",
        "lambda.kdl declares each function and extension",
    ),
    ("exclude", "lambda.kdl declares each function and extension"),
    ("all", "lambda.kdl declares each function and extension"),
    ("lib", "lambda-batch builds bins only"),
    (
        "bin",
        "lambda.kdl declares each bin with `function`/`extension`",
    ),
    (
        "bins",
        "lambda.kdl declares each bin with `function`/`extension`",
    ),
    ("example", "lambda-batch builds bins only"),
    ("examples", "lambda-batch builds bins only"),
    ("test", "lambda-batch builds bins only"),
    ("tests", "lambda-batch builds bins only"),
    ("bench", "lambda-batch builds bins only"),
    ("benches", "lambda-batch builds bins only"),
    ("all_targets", "lambda-batch builds bins only"),
    (
        "artifact_dir",
        "lambda-batch writes outputs to `lambda-dir`",
    ),
    ("compile_time_deps", "lambda.kdl has no such setting"),
    ("future_incompat_report", "lambda.kdl has no such setting"),
];

/// The value as TOML would show it, for messages and comments.
pub(crate) fn written(v: &Value) -> String {
    match v {
        // One line, escaped the way TOML and KDL both read it.
        Value::String(s) => kdl_string(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(written).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{k} = {}", written(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

impl Layer {
    /// Reads the build table `build` (and the deploy table `deploy`, for `runtime`) of one
    /// source; either may be absent.
    pub fn read(build: Option<&Value>, deploy: Option<&Value>, origin: &Arc<Origin>) -> Layer {
        let mut layer = Layer::default();
        let deploy_origin = Arc::new(Origin {
            table: deploy_table(&origin.table),
            ..(**origin).clone()
        });
        if let Some(deploy) = deploy {
            match deploy {
                Value::Object(map) => {
                    if let Some(v) = map.get("runtime") {
                        match v {
                            Value::String(s) => {
                                layer.runtime =
                                    Some(sourced(s.clone(), &deploy_origin, "runtime", v))
                            }
                            _ => layer.refused(&deploy_origin, "runtime", v, "it takes a string"),
                        }
                    }
                }
                other => layer.refused(&deploy_origin, "", other, "it must be a table"),
            }
        }
        let Some(build) = build else {
            return layer;
        };
        let Value::Object(map) = build else {
            layer.refused(origin, "", build, "it must be a table");
            return layer;
        };
        for (key, v) in map {
            layer.key(origin, key, v);
        }
        layer
    }

    fn key(&mut self, origin: &Arc<Origin>, key: &str, v: &Value) {
        match key {
            "output_format" => match v.as_str() {
                Some("binary") => {
                    self.output_format = Some(sourced(OutputFormat::Binary, origin, key, v))
                }
                Some("zip") => {
                    self.output_format = Some(sourced(OutputFormat::Zip, origin, key, v))
                }
                _ => self.refused(origin, key, v, "it takes \"binary\" or \"zip\""),
            },
            "lambda_dir" => self.string(origin, key, v, |l, x| l.lambda_dir = Some(x)),
            "flatten" => self.string(origin, key, v, |l, x| l.flatten = Some(x)),
            "target_dir" => self.string(origin, key, v, |l, x| l.target_dir = Some(x)),
            "profile" => self.string(origin, key, v, |l, x| l.profile = Some(x)),
            "arm64" => self.flag(origin, key, v, |l, x| l.arm64 = Some(x)),
            "x86_64" => self.flag(origin, key, v, |l, x| l.x86_64 = Some(x)),
            "extension" => self.flag(origin, key, v, |l, x| l.extension = Some(x)),
            "internal" => self.flag(origin, key, v, |l, x| l.internal = Some(x)),
            "disable_optimizations" => {
                self.flag(origin, key, v, |l, x| l.disable_optimizations = Some(x))
            }
            "all_features" => self.flag(origin, key, v, |l, x| l.all_features = Some(x)),
            "no_default_features" => {
                self.flag(origin, key, v, |l, x| l.no_default_features = Some(x))
            }
            "release" => self.flag(origin, key, v, |l, x| l.release = Some(x)),
            "target" => match strings(v) {
                Some(list) => {
                    if list.len() > 1 {
                        self.note(origin, key, v, "cargo-lambda builds only the first target of the list: only it is carried over");
                    }
                    if let Some(first) = list.into_iter().next() {
                        self.target = Some(sourced(first, origin, key, v));
                    }
                }
                None => self.refused(
                    origin,
                    key,
                    v,
                    "it takes a list of triples, such as [\"aarch64-unknown-linux-gnu\"]",
                ),
            },
            "features" => match strings(v) {
                // cargo-lambda does not pass an empty list on: it leaves the features to the
                // sources below it.
                Some(list) if list.is_empty() => {}
                Some(list) => self.features = Some(sourced(list, origin, key, v)),
                None => self.refused(origin, key, v, "it takes a list of feature names"),
            },
            "include" => match strings(v) {
                Some(list) => self.include = Some(sourced(list, origin, key, v)),
                None => self.refused(origin, key, v, "it takes a list of paths"),
            },
            "env_var" | "env" => self.env(origin, key, v),
            "compiler" => self.compiler(origin, v),
            _ => match UNSUPPORTED.iter().find(|(k, _)| *k == key) {
                Some((_, why)) => {
                    if !is_off(v) {
                        self.note(origin, key, v, why);
                    }
                }
                None => self.note(
                    origin,
                    key,
                    v,
                    "cargo-lambda 1.9.2 has no such build key and ignores it",
                ),
            },
        }
    }

    fn string(
        &mut self,
        origin: &Arc<Origin>,
        key: &str,
        v: &Value,
        set: impl FnOnce(&mut Layer, Sourced<String>),
    ) {
        match v.as_str() {
            Some(x) => set(self, sourced(x.to_string(), origin, key, v)),
            None => self.refused(origin, key, v, "it takes a string"),
        }
    }

    /// A boolean key: only `true` counts, as cargo-lambda never passes a `false` on.
    fn flag(
        &mut self,
        origin: &Arc<Origin>,
        key: &str,
        v: &Value,
        set: impl FnOnce(&mut Layer, Sourced<bool>),
    ) {
        match v.as_bool() {
            Some(true) => set(self, sourced(true, origin, key, v)),
            Some(false) => {}
            None => self.refused(origin, key, v, "it takes true or false"),
        }
    }

    fn env(&mut self, origin: &Arc<Origin>, key: &str, v: &Value) {
        if self.env.is_some() {
            self.refused(
                origin,
                key,
                v,
                "`env` is another name for `env_var`: cargo-lambda refuses a table with both",
            );
            return;
        }
        let entries: Option<Vec<String>> = match v {
            Value::Array(_) => strings(v),
            Value::Object(map) => Some(
                map.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect(),
            ),
            _ => None,
        };
        let Some(entries) = entries else {
            self.refused(
                origin,
                key,
                v,
                "it takes a list of \"KEY=VALUE\" strings or a table of strings",
            );
            return;
        };
        let mut vars = Vec::new();
        for e in &entries {
            let (k, val) = e.trim().split_once('=').unwrap_or((e.as_str(), ""));
            let (k, val) = (k.trim(), val.trim());
            if k.is_empty() || val.is_empty() {
                // cargo-lambda then drops the whole build environment without a word.
                self.refused(origin, key, v, &format!("`{e}` is not KEY=VALUE with a non-empty value, and cargo-lambda then sets none of these variables"));
                self.env = Some(sourced(Vec::new(), origin, key, v));
                return;
            }
            vars.push((k.to_string(), val.to_string()));
        }
        self.env = Some(sourced(vars, origin, key, v));
    }

    fn compiler(&mut self, origin: &Arc<Origin>, v: &Value) {
        let Value::Object(map) = v else {
            self.refused(
                origin,
                "compiler",
                v,
                "it takes a table such as { type = \"cargo\" }",
            );
            return;
        };
        let kind = match map.get("type").and_then(Value::as_str) {
            Some("cargo") => Compiler::Cargo,
            Some("cargo_zigbuild") => Compiler::CargoZigbuild,
            Some("cross") => Compiler::Cross,
            _ => {
                self.refused(
                    origin,
                    "compiler",
                    v,
                    "its `type` is \"cargo\", \"cargo_zigbuild\" or \"cross\"",
                );
                return;
            }
        };
        self.compiler = Some(sourced(kind, origin, "compiler", v));
        for (k, x) in map {
            let key = format!("compiler.{k}");
            match k.as_str() {
                "type" => {}
                "subcommand" if kind == Compiler::Cargo => {
                    if !is_off(x) {
                        self.note(
                            origin,
                            &key,
                            x,
                            "lambda-batch runs `cargo build` itself and has no custom build command",
                        );
                    }
                }
                "extra_args" if kind == Compiler::Cargo => {
                    if !is_off(x) {
                        self.note(
                            origin,
                            &key,
                            x,
                            "lambda.kdl has no extra cargo arguments: put cargo settings in .cargo/config.toml, rustc flags in `rustflags`",
                        );
                    }
                }
                _ => self.note(
                    origin,
                    &key,
                    x,
                    "cargo-lambda 1.9.2 ignores this key of this compiler",
                ),
            }
        }
    }

    fn note(&mut self, origin: &Arc<Origin>, key: &str, v: &Value, why: &str) {
        self.notes.push(Note {
            key: sourced((), origin, key, v),
            why: why.to_string(),
        });
    }

    fn refused(&mut self, origin: &Arc<Origin>, key: &str, v: &Value, why: &str) {
        self.note(
            origin,
            key,
            v,
            &format!("cargo-lambda 1.9.2 refuses this value: {why}"),
        );
    }

    /// This layer with `higher` on top, the way cargo-lambda merges its sources: a key set in
    /// `higher` replaces the same key here (lists are replaced, not joined), except that a
    /// `true` can never be turned back off.
    pub fn under(self, higher: Layer) -> Layer {
        fn or<T>(low: Option<T>, high: Option<T>) -> Option<T> {
            high.or(low)
        }
        fn any<T>(low: Option<T>, high: Option<T>) -> Option<T> {
            low.or(high)
        }
        let mut notes = self.notes;
        notes.extend(higher.notes);
        Layer {
            output_format: or(self.output_format, higher.output_format),
            lambda_dir: or(self.lambda_dir, higher.lambda_dir),
            flatten: or(self.flatten, higher.flatten),
            arm64: any(self.arm64, higher.arm64),
            x86_64: any(self.x86_64, higher.x86_64),
            target: or(self.target, higher.target),
            extension: any(self.extension, higher.extension),
            internal: any(self.internal, higher.internal),
            compiler: or(self.compiler, higher.compiler),
            disable_optimizations: any(self.disable_optimizations, higher.disable_optimizations),
            include: or(self.include, higher.include),
            features: or(self.features, higher.features),
            all_features: any(self.all_features, higher.all_features),
            no_default_features: any(self.no_default_features, higher.no_default_features),
            profile: or(self.profile, higher.profile),
            release: any(self.release, higher.release),
            target_dir: or(self.target_dir, higher.target_dir),
            env: or(self.env, higher.env),
            runtime: or(self.runtime, higher.runtime),
            notes,
        }
    }

    /// Whether the layer sets nothing at all.
    pub fn is_empty(&self) -> bool {
        self.output_format.is_none()
            && self.lambda_dir.is_none()
            && self.flatten.is_none()
            && self.arm64.is_none()
            && self.x86_64.is_none()
            && self.target.is_none()
            && self.extension.is_none()
            && self.internal.is_none()
            && self.compiler.is_none()
            && self.disable_optimizations.is_none()
            && self.include.is_none()
            && self.features.is_none()
            && self.all_features.is_none()
            && self.no_default_features.is_none()
            && self.profile.is_none()
            && self.release.is_none()
            && self.target_dir.is_none()
            && self.env.is_none()
            && self.runtime.is_none()
            && self.notes.is_empty()
    }
}

/// `build` → `deploy` in a table name: `package.metadata.lambda.deploy`.
fn deploy_table(build_table: &str) -> String {
    match build_table.strip_suffix("build") {
        Some(prefix) => format!("{prefix}deploy"),
        None => format!("{build_table}.deploy"),
    }
}

fn sourced<T>(value: T, origin: &Arc<Origin>, key: &str, v: &Value) -> Sourced<T> {
    Sourced {
        value,
        origin: Arc::clone(origin),
        key: key.to_string(),
        written: written(v),
    }
}

/// A list of strings, or `None` when `v` is anything else.
fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// A value that asks for nothing: `false`, an empty list or string, zero.
fn is_off(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::Null => true,
        Value::Number(n) => n.as_u64() == Some(0),
        Value::Object(m) => m.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin(kind: SourceKind, table: &str) -> Arc<Origin> {
        Arc::new(Origin {
            kind,
            file: "/w/Cargo.toml".into(),
            table: table.into(),
        })
    }

    #[test]
    fn keys_are_typed_and_the_rest_is_listed() {
        let o = origin(SourceKind::Package, "package.metadata.lambda.build");
        let l = Layer::read(
            Some(&json!({
                "output_format": "zip", "arm64": true, "x86_64": false,
                "target": ["aarch64-unknown-linux-gnu.2.17", "x86_64-unknown-linux-gnu"],
                "features": [], "include": ["static:assets", "README.md"],
                "env": {"A": "1"}, "compiler": {"type": "cargo", "extra_args": ["--locked"]},
                "locked": true, "jobs": 0, "frobnicate": 1,
            })),
            Some(&json!({"runtime": "provided.al2", "memory": 512})),
            &o,
        );
        assert!(matches!(
            l.output_format.as_ref().map(|v| v.value),
            Some(OutputFormat::Zip)
        ));
        assert!(l.arm64.is_some() && l.x86_64.is_none() && l.features.is_none());
        assert_eq!(
            l.target.as_ref().unwrap().value,
            "aarch64-unknown-linux-gnu.2.17"
        );
        assert_eq!(
            l.env.as_ref().unwrap().value,
            vec![("A".to_string(), "1".to_string())]
        );
        assert_eq!(l.compiler.as_ref().unwrap().value, Compiler::Cargo);
        assert_eq!(
            l.runtime.as_ref().unwrap().describe(),
            "[package.metadata.lambda.deploy] runtime = \"provided.al2\""
        );
        let keys: Vec<&str> = l.notes.iter().map(|n| n.key.key.as_str()).collect();
        assert_eq!(
            keys,
            vec!["compiler.extra_args", "frobnicate", "locked", "target"]
        );
    }

    #[test]
    fn refused_values_are_notes_not_settings() {
        let o = origin(SourceKind::File, "build");
        let l = Layer::read(
            Some(&json!({
                "output_format": "Zip", "target": "x86_64-unknown-linux-gnu",
                "arm64": "yes", "env_var": ["A=1", "B="], "compiler": {"type": "gcc"},
            })),
            None,
            &o,
        );
        assert!(l.output_format.is_none() && l.target.is_none() && l.arm64.is_none());
        assert!(l.compiler.is_none());
        assert_eq!(l.env.as_ref().unwrap().value, Vec::new());
        assert_eq!(l.notes.len(), 5, "{:?}", l.notes);
        assert!(
            l.notes
                .iter()
                .all(|n| n.why.starts_with("cargo-lambda 1.9.2 refuses"))
        );
    }

    #[test]
    fn higher_layers_replace_keys_but_never_turn_a_flag_off() {
        let low = Layer::read(
            Some(&json!({"features": ["a", "b"], "arm64": true, "include": ["x"]})),
            None,
            &origin(SourceKind::File, "build"),
        );
        let high = Layer::read(
            Some(&json!({"features": ["c"], "arm64": false, "include": []})),
            None,
            &origin(SourceKind::Package, "package.metadata.lambda.build"),
        );
        let m = low.under(high);
        assert_eq!(m.features.as_ref().unwrap().value, vec!["c".to_string()]);
        assert_eq!(
            m.features.as_ref().unwrap().origin.kind,
            SourceKind::Package
        );
        assert_eq!(m.arm64.as_ref().unwrap().origin.kind, SourceKind::File);
        assert!(m.include.as_ref().unwrap().value.is_empty());
    }
}

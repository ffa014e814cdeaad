//! Drift: where what lambda.kdl resolves for an artifact differs from what cargo-lambda's
//! configuration of the same bin asks for. lambda-batch builds what lambda.kdl says; these are
//! warnings so that nobody is surprised by the difference.
//!
//! Only keys the configuration sets are compared: a key it leaves out is cargo-lambda's default
//! or a command-line flag, which no file records.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use miette::SourceSpan;

use super::include;
use super::{Config, Layer, Sourced};
use crate::diagnostic::{ErrorCode, ManifestError};
use crate::manifest::normalize;
use crate::manifest::values::{ArtifactKind, TargetSpec};
use crate::resolve::{Resolved, ResolvedArtifact, clean_path};

/// The kinds of keys compared, one warning each at most per artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// `output_format` → `output-format`.
    OutputFormat,
    /// `arm64`, `x86_64`, `target` → `arch`.
    Arch,
    /// `features`, `all_features`, `no_default_features`.
    Features,
    /// `include`.
    Include,
    /// `compiler`.
    Compiler,
    /// `extension`, `internal`, `flatten`: where the executable goes.
    Layout,
    /// `lambda_dir` → `lambda-dir`.
    LambdaDir,
    /// `target_dir` → `target-dir`.
    TargetDir,
    /// `profile`, `release`.
    Profile,
    /// `disable_optimizations` → `optimizations`.
    Optimizations,
    /// `env_var` → `env`.
    Env,
    /// `[deploy] runtime` → `runtime`.
    Runtime,
}

impl Class {
    /// What differs, in words.
    pub fn noun(self) -> &'static str {
        match self {
            Class::OutputFormat => "output format",
            Class::Arch => "architectures",
            Class::Features => "features",
            Class::Include => "included files",
            Class::Compiler => "compiler",
            Class::Layout => "output layout",
            Class::LambdaDir => "output directory",
            Class::TargetDir => "cargo target directory",
            Class::Profile => "profile",
            Class::Optimizations => "release optimizations",
            Class::Env => "build environment",
            Class::Runtime => "runtime",
        }
    }
}

/// One difference between lambda.kdl and cargo-lambda's configuration.
#[derive(Debug, Clone)]
pub struct Drift {
    /// The artifact.
    pub artifact: String,
    /// Its workspace path, as written in lambda.kdl.
    pub workspace: String,
    /// Whether it was found by `discover=true` (it has no node of its own).
    pub discovered: bool,
    /// Where it is declared (or discovered) in lambda.kdl.
    pub span: SourceSpan,
    /// What differs.
    pub class: Class,
    /// The file that sets the key.
    pub file: Utf8PathBuf,
    /// The key: `[package.metadata.lambda.build] output_format = "zip"`.
    pub key: String,
    /// What cargo-lambda builds.
    pub theirs: String,
    /// What lambda.kdl resolves.
    pub ours: String,
}

/// Every drift of the resolved manifest, artifact by artifact in manifest order. `context` is
/// cargo-lambda's `--context`.
pub fn drift(resolved: &Resolved, context: Option<&str>) -> Vec<Drift> {
    let mut configs: HashMap<Utf8PathBuf, Config> = HashMap::new();
    let mut groups: Vec<(&str, Vec<&ResolvedArtifact>)> = Vec::new();
    for a in &resolved.artifacts {
        match groups.iter_mut().find(|(n, _)| *n == a.identity.name) {
            Some((_, g)) => g.push(a),
            None => groups.push((&a.identity.name, vec![a])),
        }
    }
    let mut out = Vec::new();
    for (_, group) in groups {
        let a = group[0];
        let dir = normalize(&resolved.manifest.dir.join(&a.identity.workspace));
        let Some(info) = resolved.workspaces.get(&dir) else {
            continue;
        };
        let config = configs
            .entry(dir.clone())
            .or_insert_with(|| Config::read(&dir, info, context));
        if config.is_empty() {
            continue;
        }
        let eff = config.for_bin(&a.identity.package, &a.identity.bin);
        compare(&dir, &eff, &group, &mut out);
    }
    out
}

/// Compares one artifact (all its targets) with its configuration.
fn compare(dir: &Utf8Path, eff: &Layer, group: &[&ResolvedArtifact], out: &mut Vec<Drift>) {
    let a = group[0];
    let mut push = |class: Class, key: &dyn Keyed, theirs: String, ours: String| {
        out.push(Drift {
            artifact: a.identity.name.clone(),
            workspace: a.identity.workspace.clone(),
            discovered: a.identity.discovered,
            span: a.identity.span,
            class,
            file: key.file(),
            key: key.describe(),
            theirs,
            ours,
        });
    };
    if let Some(f) = &eff.output_format
        && f.value != a.packaging.output_format
    {
        push(
            Class::OutputFormat,
            f,
            f.value.as_str().into(),
            a.packaging.output_format.as_str().into(),
        );
    }
    if let Some(arch) = eff.arch()
        && let Ok(spec) = TargetSpec::parse(&arch.value)
    {
        let ours: BTreeSet<String> = group.iter().map(|r| target_word(r)).collect();
        let theirs = target_word_of(&spec);
        let pinned_ok = spec
            .glibc
            .is_none_or(|v| group.iter().all(|r| r.build.glibc == Some(v)));
        if ours.len() != 1 || !ours.contains(&theirs) || !pinned_ok {
            push(Class::Arch, &arch, arch.value.clone(), join(&ours));
        }
    }
    features(eff, a, &mut push);
    if let Some(inc) = &eff.include {
        let theirs: BTreeSet<(String, Utf8PathBuf)> = include::files(dir, &inc.value)
            .into_iter()
            .map(|(name, src)| (name, normalize(&src)))
            .collect();
        let ours: BTreeSet<(String, Utf8PathBuf)> = a
            .inputs
            .includes
            .iter()
            .map(|f| (clean_path(&f.archive_path), normalize(&f.source)))
            .collect();
        if theirs != ours {
            let show = |s: &BTreeSet<(String, Utf8PathBuf)>,
                        other: &BTreeSet<(String, Utf8PathBuf)>| {
                if s.is_empty() {
                    return "no files".to_string();
                }
                let only: Vec<String> = s.difference(other).map(|(n, _)| n.clone()).collect();
                format!("{} ({})", count(s.len()), shorten(&only))
            };
            push(
                Class::Include,
                inc,
                show(&theirs, &ours),
                show(&ours, &theirs),
            );
        }
    }
    if let Some(c) = &eff.compiler
        && c.value != a.build.compiler
    {
        push(
            Class::Compiler,
            c,
            c.value.as_str().into(),
            a.build.compiler.as_str().into(),
        );
    }
    layout(eff, a, &mut push);
    if let Some(d) = &eff.lambda_dir {
        let theirs = normalize(&dir.join(&d.value));
        if group.iter().any(|r| r.packaging.lambda_dir != theirs) {
            let ours: BTreeSet<String> = group
                .iter()
                .map(|r| r.packaging.lambda_dir.to_string())
                .collect();
            push(Class::LambdaDir, d, theirs.to_string(), join(&ours));
        }
    }
    if let Some(d) = &eff.target_dir {
        let theirs = normalize(&dir.join(&d.value));
        if a.cargo.target_dir != theirs {
            push(
                Class::TargetDir,
                d,
                theirs.to_string(),
                a.cargo.target_dir.to_string(),
            );
        }
    }
    if let Some(p) = eff.profile()
        && p.value != a.build.profile
    {
        push(Class::Profile, &p, p.value.clone(), a.build.profile.clone());
    }
    if let Some(o) = &eff.disable_optimizations
        && a.cargo.optimizations
    {
        push(
            Class::Optimizations,
            o,
            "disabled".into(),
            "cargo-lambda's release optimizations".into(),
        );
    }
    if let Some(e) = &eff.env {
        let theirs: BTreeMap<String, String> = e.value.iter().cloned().collect();
        if theirs != a.cargo.env {
            let show = |m: &BTreeMap<String, String>| {
                if m.is_empty() {
                    "no variables".to_string()
                } else {
                    m.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            };
            push(Class::Env, e, show(&theirs), show(&a.cargo.env));
        }
    }
    if let Some(r) = &eff.runtime
        && r.value != a.packaging.runtime.as_str()
    {
        push(
            Class::Runtime,
            r,
            r.value.clone(),
            a.packaging.runtime.as_str().into(),
        );
    }
}

fn features(
    eff: &Layer,
    a: &ResolvedArtifact,
    push: &mut impl FnMut(Class, &dyn Keyed, String, String),
) {
    if let Some(f) = &eff.features {
        let theirs: BTreeSet<&String> = f.value.iter().collect();
        let ours: BTreeSet<&String> = a.cargo.features.iter().collect();
        if theirs != ours {
            let show = |s: &BTreeSet<&String>| {
                if s.is_empty() {
                    "none".to_string()
                } else {
                    s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")
                }
            };
            push(Class::Features, f, show(&theirs), show(&ours));
            return;
        }
    }
    if let Some(x) = &eff.all_features
        && !a.cargo.all_features
    {
        push(
            Class::Features,
            x,
            "all features".into(),
            "not all-features".into(),
        );
        return;
    }
    if let Some(x) = &eff.no_default_features
        && !a.cargo.no_default_features
    {
        push(
            Class::Features,
            x,
            "without default features".into(),
            "with default features".into(),
        );
    }
}

fn layout(
    eff: &Layer,
    a: &ResolvedArtifact,
    push: &mut impl FnMut(Class, &dyn Keyed, String, String),
) {
    let ours = describe_layout(a.identity.kind, a.identity.internal, a.identity.flatten);
    if let Some(x) = &eff.extension {
        let internal = eff.internal.is_some();
        if a.identity.kind != ArtifactKind::Extension || a.identity.internal != internal {
            let key: &dyn Keyed = match (&eff.internal, a.identity.kind) {
                (Some(i), ArtifactKind::Extension) => i,
                _ => x,
            };
            push(
                Class::Layout,
                key,
                describe_layout(ArtifactKind::Extension, internal, false),
                ours,
            );
        }
        return;
    }
    // Without `extension`, `internal` applies when the bin is built as an extension anyway.
    if let Some(i) = &eff.internal
        && a.identity.kind == ArtifactKind::Extension
        && !a.identity.internal
    {
        push(
            Class::Layout,
            i,
            describe_layout(ArtifactKind::Extension, true, false),
            ours.clone(),
        );
        return;
    }
    if let Some(f) = &eff.flatten
        && a.identity.kind == ArtifactKind::Function
    {
        let flat = f.value == a.identity.bin;
        if flat != a.identity.flatten {
            push(
                Class::Layout,
                f,
                describe_layout(ArtifactKind::Function, false, flat),
                ours,
            );
        }
    }
}

fn describe_layout(kind: ArtifactKind, internal: bool, flatten: bool) -> String {
    match (kind, internal, flatten) {
        (ArtifactKind::Extension, true, _) => "an internal extension".into(),
        (ArtifactKind::Extension, false, _) => "an extension".into(),
        (ArtifactKind::Function, _, true) => "a flattened function".into(),
        (ArtifactKind::Function, _, false) => "a function".into(),
    }
}

/// `x86_64`, `arm64`, or the triple when it is not plain gnu.
fn target_word(r: &ResolvedArtifact) -> String {
    match r.build.libc {
        crate::manifest::values::Libc::Gnu => r.build.arch.as_str().to_string(),
        crate::manifest::values::Libc::Musl => r.build.target.clone(),
    }
}

fn target_word_of(spec: &TargetSpec) -> String {
    match spec.libc {
        crate::manifest::values::Libc::Gnu => spec.arch.as_str().to_string(),
        crate::manifest::values::Libc::Musl => spec.triple(),
    }
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn count(n: usize) -> String {
    format!("{n} file{}", if n == 1 { "" } else { "s" })
}

/// The first few names of a list, for a message.
fn shorten(names: &[String]) -> String {
    const SHOWN: usize = 3;
    if names.is_empty() {
        return "the same names, from other files".into();
    }
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    format!("only {s}")
}

/// A configuration value of any type: where it is and how it reads.
pub(crate) trait Keyed {
    /// The file that sets it.
    fn file(&self) -> Utf8PathBuf;
    /// `[table] key = value`.
    fn describe(&self) -> String;
}

impl<T> Keyed for Sourced<T> {
    fn file(&self) -> Utf8PathBuf {
        self.origin.file.clone()
    }
    fn describe(&self) -> String {
        Sourced::describe(self)
    }
}

impl Drift {
    /// The warning `check` prints, pointing at the artifact in lambda.kdl.
    pub fn diagnostic(&self, manifest_dir: &Utf8Path) -> ManifestError {
        let file = self
            .file
            .strip_prefix(manifest_dir)
            .map(Utf8Path::to_path_buf)
            .unwrap_or_else(|_| self.file.clone());
        let label = if self.discovered {
            format!("discovers `{}`: {}", self.artifact, self.ours)
        } else {
            format!("lambda.kdl: {}", self.ours)
        };
        ManifestError::new(
            ErrorCode::Drift,
            format!(
                "`{}` drifts from cargo-lambda's configuration ({}): lambda.kdl says {}, cargo-lambda's configuration {}",
                self.artifact,
                self.class.noun(),
                self.ours,
                self.theirs
            ),
            self.span,
            label,
        )
        .with_help(format!(
            "{file} sets {}; lambda-batch builds what lambda.kdl says: change lambda.kdl to match (`lambda-batch import` carries cargo-lambda's configuration over) or remove the key from {file}",
            self.key
        ))
        .warning()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lists() {
        assert_eq!(shorten(&["a".into()]), "only `a`");
        let many: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        assert_eq!(shorten(&many), "only `0`, `1`, `2` and 2 more");
    }
}

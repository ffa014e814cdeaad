//! cargo-lambda's configuration of each bin → lambda.kdl settings at the level they came from:
//! `CargoLambda.toml` → `defaults` (or each `workspace` when several workspaces read different
//! files), `[workspace.metadata.lambda]` → the `workspace` node, package and `bin` tables → the
//! artifact node.
//!
//! The result builds what cargo-lambda builds, although the two merge levels differently:
//! - replacing settings are written where the value in effect comes from; a lower level then
//!   replaces them in lambda.kdl as in cargo-lambda;
//! - lists (`features`, `include`, `env`) are replaced by a lower source in cargo-lambda but
//!   joined in lambda.kdl, so a list stays at its level only when no artifact below it has a
//!   list of its own; otherwise it is written on each artifact that uses it;
//! - `include` paths are relative to where cargo-lambda runs (the workspace directory), and
//!   are rewritten for the directory of the node that holds them.

use std::collections::BTreeSet;
use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};

use super::cargo_lambda::{Class, Config, Entry, Layer, Origin, SourceKind, Sourced};
use crate::manifest::settings::Runtime;
use crate::manifest::values::{ArtifactKind, TargetSpec};
use crate::manifest::{has_wildcard, normalize, relative};
use crate::resolve::{IncludeExpander, clean_path};

/// A workspace to translate: where cargo-lambda runs and the artifacts built there.
#[derive(Debug, Clone)]
pub struct WorkspaceIn {
    /// The directory (absolute): cargo-lambda's working directory.
    pub dir: Utf8PathBuf,
    /// cargo-lambda's configuration there.
    pub config: Config,
    /// Its artifacts.
    pub artifacts: Vec<ArtifactIn>,
}

/// An artifact to translate.
#[derive(Debug, Clone)]
pub struct ArtifactIn {
    /// Its package.
    pub package: String,
    /// Its package's directory (absolute).
    pub package_dir: Utf8PathBuf,
    /// The bin target.
    pub bin: String,
    /// Function or extension, as found or declared.
    pub kind: ArtifactKind,
    /// The features its package declares (cargo refuses others).
    pub features: BTreeSet<String>,
}

/// The translation of every workspace, level by level.
#[derive(Debug, Clone, Default)]
pub struct Translation {
    /// Settings of `defaults`.
    pub defaults: Level,
    /// One per input workspace, in order.
    pub workspaces: Vec<WorkspaceOut>,
}

/// A workspace's settings and its artifacts'.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceOut {
    /// Settings of the `workspace` node.
    pub level: Level,
    /// One per input artifact, in order.
    pub artifacts: Vec<ArtifactOut>,
}

/// What an artifact node becomes.
#[derive(Debug, Clone, Default)]
pub struct ArtifactOut {
    /// Function or extension (cargo-lambda's `extension = true` makes an extension).
    pub kind: Option<ArtifactKind>,
    /// `internal=true`.
    pub internal: bool,
    /// `flatten=true`.
    pub flatten: bool,
    /// Where the kind, `internal` and `flatten` come from, when cargo-lambda's configuration
    /// sets them.
    pub from: Option<String>,
    /// Its settings.
    pub level: Level,
}

/// Settings and remarks for one node.
#[derive(Debug, Clone, Default)]
pub struct Level {
    /// Setting lines, in the spec's order of settings.
    pub lines: Vec<Line>,
    /// Keys that are not carried over, with why: written as comments.
    pub remarks: Vec<String>,
}

/// One setting node: the words `lambda-batch set` takes, and where the value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The setting.
    pub setting: &'static str,
    /// Its values, as `set` takes them (`into=DIR` and `as=NAME` for `include`).
    pub values: Vec<String>,
    /// `from Cargo.toml [package.metadata.lambda.build] output_format`.
    pub from: String,
}

impl Translation {
    /// Every remark of every level, each once, for the warning that lists them.
    pub fn remarks(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let levels =
            std::iter::once(&self.defaults).chain(self.workspaces.iter().flat_map(|w| {
                std::iter::once(&w.level).chain(w.artifacts.iter().map(|a| &a.level))
            }));
        for l in levels {
            for r in &l.remarks {
                if seen.insert(r.clone()) {
                    out.push(r.clone());
                }
            }
        }
        out
    }

    /// Whether anything is carried over at all.
    pub fn is_empty(&self) -> bool {
        let empty = |l: &Level| l.lines.is_empty() && l.remarks.is_empty();
        empty(&self.defaults)
            && self.workspaces.iter().all(|w| {
                empty(&w.level)
                    && w.artifacts
                        .iter()
                        .all(|a| empty(&a.level) && a.kind.is_none() && !a.internal && !a.flatten)
            })
    }
}

/// The settings lambda.kdl takes from cargo-lambda, in the spec's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Arch,
    Profile,
    Compiler,
    OutputFormat,
    LambdaDir,
    TargetDir,
    Runtime,
    Optimizations,
    Features,
    NoDefaultFeatures,
    AllFeatures,
    Include,
    Env,
}

const KEYS: &[Key] = &[
    Key::Arch,
    Key::Profile,
    Key::Compiler,
    Key::OutputFormat,
    Key::LambdaDir,
    Key::TargetDir,
    Key::Runtime,
    Key::Optimizations,
    Key::Features,
    Key::NoDefaultFeatures,
    Key::AllFeatures,
    Key::Include,
    Key::Env,
];

impl Key {
    fn setting(self) -> &'static str {
        match self {
            Key::Arch => "arch",
            Key::Profile => "profile",
            Key::Compiler => "compiler",
            Key::OutputFormat => "output-format",
            Key::LambdaDir => "lambda-dir",
            Key::TargetDir => "target-dir",
            Key::Runtime => "runtime",
            Key::Optimizations => "optimizations",
            Key::Features => "features",
            Key::NoDefaultFeatures => "no-default-features",
            Key::AllFeatures => "all-features",
            Key::Include => "include",
            Key::Env => "env",
        }
    }

    /// Lists join down lambda.kdl's levels; everything else is replaced.
    fn joins(self) -> bool {
        matches!(self, Key::Features | Key::Include | Key::Env)
    }
}

/// The value in effect for one key of one artifact, not yet written for a level.
#[derive(Debug, Clone)]
struct Candidate {
    origin: Arc<Origin>,
    key: String,
    value: Value,
    /// Part of the value left out for this artifact, with why.
    dropped: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    /// The same words at any level.
    Words(Vec<String>),
    /// cargo-lambda `include` entries, relative to the workspace directory.
    Includes(Vec<String>),
    /// A value lambda.kdl cannot take, with why.
    Refused(String),
}

/// Where a candidate's source puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Defaults,
    Workspace,
    Artifact,
}

fn place(kind: SourceKind, key: Key) -> Place {
    match kind {
        // Include paths are relative to the workspace directory: that is their node.
        SourceKind::File if key == Key::Include => Place::Workspace,
        SourceKind::File => Place::Defaults,
        SourceKind::Workspace => Place::Workspace,
        SourceKind::WorkspaceBin | SourceKind::Package | SourceKind::FileGlobal => Place::Artifact,
    }
}

/// What the translation needs besides the configuration.
struct Ctx<'a> {
    /// The manifest's directory: `lambda-dir` and `target-dir` are relative to it.
    manifest_dir: &'a Utf8Path,
    expander: IncludeExpander,
}

/// Translates every workspace for a manifest in `manifest_dir`.
pub fn translate(workspaces: &[WorkspaceIn], manifest_dir: &Utf8Path) -> Translation {
    let mut ctx = Ctx {
        manifest_dir,
        expander: IncludeExpander::default(),
    };
    let effective: Vec<Vec<Layer>> = workspaces
        .iter()
        .map(|w| {
            w.artifacts
                .iter()
                .map(|a| w.config.for_bin(&a.package, &a.bin))
                .collect()
        })
        .collect();
    let mut out = Translation {
        defaults: Level::default(),
        workspaces: workspaces
            .iter()
            .map(|w| WorkspaceOut {
                level: Level::default(),
                artifacts: vec![ArtifactOut::default(); w.artifacts.len()],
            })
            .collect(),
    };
    for &key in KEYS {
        let candidates: Vec<Vec<Option<Candidate>>> = workspaces
            .iter()
            .zip(&effective)
            .map(|(w, effs)| {
                effs.iter()
                    .zip(&w.artifacts)
                    .map(|(e, a)| candidate(key, e, a, &w.dir, &ctx))
                    .collect()
            })
            .collect();
        place_key(key, workspaces, &candidates, &mut ctx, &mut out);
    }
    for (wi, (w, effs)) in workspaces.iter().zip(&effective).enumerate() {
        for (ai, (a, eff)) in w.artifacts.iter().zip(effs).enumerate() {
            layout(a, eff, &mut out.workspaces[wi].artifacts[ai], manifest_dir);
            notes(eff, wi, ai, workspaces.len(), manifest_dir, &mut out);
        }
    }
    out
}

/// The candidate of `key` for artifact `a`, whose configuration in effect is `eff`.
fn candidate(
    key: Key,
    eff: &Layer,
    a: &ArtifactIn,
    dir: &Utf8Path,
    ctx: &Ctx<'_>,
) -> Option<Candidate> {
    fn words<T>(s: &Sourced<T>, words: Vec<String>) -> Candidate {
        Candidate {
            origin: Arc::clone(&s.origin),
            key: s.key.clone(),
            value: Value::Words(words),
            dropped: None,
        }
    }
    fn refused<T>(s: &Sourced<T>, why: String) -> Candidate {
        Candidate {
            origin: Arc::clone(&s.origin),
            key: s.key.clone(),
            value: Value::Refused(why),
            dropped: None,
        }
    }
    let path = |s: &Sourced<String>| {
        let p = Utf8Path::new(&s.value);
        let written = if p.is_absolute() {
            p.to_path_buf()
        } else {
            relative(ctx.manifest_dir, &normalize(&dir.join(p)))
        };
        words(s, vec![written.to_string()])
    };
    Some(match key {
        Key::Arch => {
            let a = eff.arch()?;
            match TargetSpec::parse(&a.value) {
                Ok(_) => words(&a, vec![a.value.clone()]),
                Err(why) => refused(
                    &a,
                    format!("{why}: lambda-batch builds for x86_64 and arm64 Linux"),
                ),
            }
        }
        Key::Profile => {
            let p = eff.profile()?;
            if p.value == "debug" {
                refused(&p, "cargo's `dev` profile is called `dev`".into())
            } else {
                words(&p, vec![p.value.clone()])
            }
        }
        Key::Compiler => {
            let c = eff.compiler.as_ref()?;
            words(c, vec![c.value.as_str().into()])
        }
        Key::OutputFormat => {
            let f = eff.output_format.as_ref()?;
            words(f, vec![f.value.as_str().into()])
        }
        Key::LambdaDir => path(eff.lambda_dir.as_ref()?),
        Key::TargetDir => path(eff.target_dir.as_ref()?),
        Key::Runtime => {
            let r = eff.runtime.as_ref()?;
            match Runtime::parse(&r.value) {
                Some(rt) => words(r, vec![rt.as_str().into()]),
                None => refused(
                    r,
                    format!("lambda-batch builds for {}", Runtime::ALL.join(" and ")),
                ),
            }
        }
        Key::Optimizations => words(eff.disable_optimizations.as_ref()?, vec!["false".into()]),
        Key::Features => {
            let f = eff.features.as_ref()?;
            // `dep/feature` names a dependency's feature: cargo checks those itself.
            let (known, unknown): (Vec<String>, Vec<String>) = f
                .value
                .iter()
                .cloned()
                .partition(|x| x.contains('/') || a.features.contains(x));
            let mut c = words(f, known);
            if !unknown.is_empty() {
                c.dropped = Some(format!(
                    "package `{}` has no feature {} (cargo would refuse to build it)",
                    a.package,
                    unknown
                        .iter()
                        .map(|u| format!("`{u}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            c
        }
        Key::NoDefaultFeatures => words(eff.no_default_features.as_ref()?, Vec::new()),
        Key::AllFeatures => words(eff.all_features.as_ref()?, Vec::new()),
        Key::Include => {
            let i = eff.include.as_ref()?;
            Candidate {
                origin: Arc::clone(&i.origin),
                key: i.key.clone(),
                value: Value::Includes(i.value.clone()),
                dropped: None,
            }
        }
        Key::Env => {
            let e = eff.env.as_ref()?;
            words(e, e.value.iter().map(|(k, v)| format!("{k}={v}")).collect())
        }
    })
}

/// Decides where each artifact's value of `key` is written.
fn place_key(
    key: Key,
    workspaces: &[WorkspaceIn],
    candidates: &[Vec<Option<Candidate>>],
    ctx: &mut Ctx<'_>,
    out: &mut Translation,
) {
    let at = |c: &Candidate| place(c.origin.kind, key);
    // A value from CargoLambda.toml goes to `defaults` when every workspace has the same one
    // (and, for a list, when no artifact anywhere has a list of its own).
    let file_values: Vec<Option<&Candidate>> = candidates
        .iter()
        .map(|cs| cs.iter().flatten().find(|c| at(c) == Place::Defaults))
        .collect();
    let hoist = match file_values.first() {
        Some(Some(first)) => {
            file_values
                .iter()
                .all(|c| c.is_some_and(|c| c.value == first.value && c.key == first.key))
                && (!key.joins()
                    || candidates.iter().flatten().all(|c| {
                        c.as_ref()
                            .is_some_and(|c| at(c) == Place::Defaults && c.value == first.value)
                    }))
        }
        _ => false,
    };
    if hoist && let Some(Some(c)) = file_values.first() {
        let files: BTreeSet<&Utf8Path> = file_values
            .iter()
            .flatten()
            .map(|c| c.origin.file.as_path())
            .collect();
        let from = if files.len() == 1 {
            from(c, ctx.manifest_dir)
        } else {
            format!(
                "from each workspace's CargoLambda.toml [{}] {}",
                c.origin.table, c.key
            )
        };
        emit(key, c, None, from, &mut out.defaults, ctx);
    }
    for (wi, (w, cs)) in workspaces.iter().zip(candidates).enumerate() {
        // The workspace-wide value: the workspace's own, else CargoLambda.toml's (not hoisted).
        let shared = cs
            .iter()
            .flatten()
            .find(|c| at(c) == Place::Workspace)
            .or_else(|| {
                (!hoist)
                    .then(|| cs.iter().flatten().find(|c| at(c) == Place::Defaults))
                    .flatten()
            });
        let everyone = shared.is_some_and(|s| {
            cs.iter().all(|c| {
                c.as_ref()
                    .is_some_and(|c| c.origin == s.origin && c.value == s.value)
            })
        });
        let on_workspace = shared.filter(|_| !key.joins() || everyone);
        if let Some(c) = on_workspace {
            let from = from(c, ctx.manifest_dir);
            emit(
                key,
                c,
                Some((&w.dir, &w.dir)),
                from,
                &mut out.workspaces[wi].level,
                ctx,
            );
        }
        let covered = |c: &Candidate| {
            (hoist && at(c) == Place::Defaults)
                || on_workspace.is_some_and(|s| s.origin == c.origin && s.value == c.value)
        };
        for (ai, c) in cs.iter().enumerate() {
            if let Some(c) = c
                && let Some(why) = &c.dropped
            {
                let text = remark(c, why, ctx.manifest_dir);
                let level = &mut out.workspaces[wi].artifacts[ai].level;
                if !level.remarks.contains(&text) {
                    level.remarks.push(text);
                }
            }
        }
        // Includes that cannot be written relative to their package: on the workspace node
        // when every artifact of it has the very same list.
        let mut lifted = false;
        for (ai, (a, c)) in w.artifacts.iter().zip(cs).enumerate() {
            let Some(c) = c.as_ref().filter(|c| !covered(c)) else {
                continue;
            };
            let from = from(c, ctx.manifest_dir);
            let base = Some((w.dir.as_path(), a.package_dir.as_path()));
            match lines(key, c, base, ctx) {
                Ok(lines) => {
                    out.workspaces[wi].artifacts[ai]
                        .level
                        .lines
                        .extend(lines.into_iter().map(|values| Line {
                            setting: key.setting(),
                            values,
                            from: from.clone(),
                        }))
                }
                Err(_) if key == Key::Include && lifted => {}
                Err(why) => {
                    let same = cs
                        .iter()
                        .all(|x| x.as_ref().is_some_and(|x| x.value == c.value));
                    if key == Key::Include && same && on_workspace.is_none() {
                        lifted = true;
                        emit(
                            key,
                            c,
                            Some((&w.dir, &w.dir)),
                            from,
                            &mut out.workspaces[wi].level,
                            ctx,
                        );
                    } else {
                        out.workspaces[wi].artifacts[ai].level.remarks.push(remark(
                            c,
                            &why,
                            ctx.manifest_dir,
                        ));
                    }
                }
            }
        }
    }
}

/// The settings of one drift class for one artifact, written on the artifact itself (its
/// package directory `package_dir`, in workspace `dir`), for what the translated levels left
/// different.
pub fn for_artifact(
    class: Class,
    eff: &Layer,
    a: &ArtifactIn,
    dir: &Utf8Path,
    manifest_dir: &Utf8Path,
) -> Level {
    let keys: &[Key] = match class {
        Class::OutputFormat => &[Key::OutputFormat],
        Class::Arch => &[Key::Arch],
        Class::Features => &[Key::Features, Key::NoDefaultFeatures, Key::AllFeatures],
        Class::Include => &[Key::Include],
        Class::Compiler => &[Key::Compiler],
        Class::LambdaDir => &[Key::LambdaDir],
        Class::TargetDir => &[Key::TargetDir],
        Class::Profile => &[Key::Profile],
        Class::Optimizations => &[Key::Optimizations],
        Class::Env => &[Key::Env],
        Class::Runtime => &[Key::Runtime],
        Class::Layout => &[],
    };
    let mut ctx = Ctx {
        manifest_dir,
        expander: IncludeExpander::default(),
    };
    let mut level = Level::default();
    for &key in keys {
        if let Some(c) = candidate(key, eff, a, dir, &ctx) {
            let from = from(&c, manifest_dir);
            emit(
                key,
                &c,
                Some((dir, &a.package_dir)),
                from,
                &mut level,
                &mut ctx,
            );
        }
    }
    level
}

/// Writes a candidate's lines at a level, or a remark saying why it cannot be.
fn emit(
    key: Key,
    c: &Candidate,
    base: Option<(&Utf8Path, &Utf8Path)>,
    from: String,
    level: &mut Level,
    ctx: &mut Ctx<'_>,
) {
    match lines(key, c, base, ctx) {
        Ok(lines) => level.lines.extend(lines.into_iter().map(|values| Line {
            setting: key.setting(),
            values,
            from: from.clone(),
        })),
        Err(why) => level.remarks.push(remark(c, &why, ctx.manifest_dir)),
    }
}

/// A candidate as the words of its setting nodes (none for an empty list, which still
/// replaces the lists above it in cargo-lambda). `base` is (where cargo-lambda runs, the
/// directory include patterns of the level are relative to); `None` for the defaults.
fn lines(
    key: Key,
    c: &Candidate,
    base: Option<(&Utf8Path, &Utf8Path)>,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<Vec<String>>, String> {
    match &c.value {
        Value::Refused(why) => Err(why.clone()),
        Value::Words(words) if key.joins() && words.is_empty() => Ok(Vec::new()),
        Value::Words(words) => Ok(vec![words.clone()]),
        Value::Includes(entries) => {
            let Some((cwd, base)) = base else {
                return Err("include paths need a workspace".into());
            };
            entries
                .iter()
                .map(|e| {
                    include_line(e, cwd, base, ctx).map_err(|why| format!("entry {e:?}: {why}"))
                })
                .collect()
        }
    }
}

/// One cargo-lambda include entry (relative to `cwd`, where cargo-lambda runs) as the words of
/// `set include`, relative to `base`.
fn include_line(
    entry: &str,
    cwd: &Utf8Path,
    base: &Utf8Path,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<String>, String> {
    let Entry { dest, src } = Entry::parse(entry);
    let src_path = Utf8Path::new(&src);
    if src_path.is_absolute() {
        return Err("an absolute path: lambda-batch includes files of the repository only".into());
    }
    let source = normalize(&cwd.join(src_path));
    let Ok(rel) = source.strip_prefix(base) else {
        return Err(format!(
            "`{}` is outside `{}`, the directory the pattern would be relative to",
            relative(ctx.manifest_dir, &source),
            relative(ctx.manifest_dir, base)
        ));
    };
    let rel = rel.as_str().to_string();
    if rel.is_empty() {
        return Err("it names the whole directory".into());
    }
    if has_wildcard(&rel) {
        return Err(
            "the path has glob characters, which lambda.kdl would read as a pattern".into(),
        );
    }
    if ctx.expander.expand(base, &rel).is_err() {
        return Err(
            "it names no file: cargo-lambda skips it, lambda-batch refuses an include that matches nothing"
                .into(),
        );
    }
    let dest = clean_path(&dest);
    if dest.is_empty() || dest.split('/').any(|c| c == "..") {
        return Err("its destination is not a path inside the archive".into());
    }
    Ok(if dest == rel {
        vec![rel]
    } else if let Some(prefix) = dest.strip_suffix(&format!("/{rel}")) {
        vec![rel.clone(), format!("into={prefix}")]
    } else {
        vec![rel, format!("as={dest}")]
    })
}

/// `extension`, `internal` and `flatten`: properties of the artifact node.
fn layout(a: &ArtifactIn, eff: &Layer, out: &mut ArtifactOut, manifest_dir: &Utf8Path) {
    let mut from: Vec<(Arc<Origin>, String)> = Vec::new();
    let mut kind = a.kind;
    if let Some(x) = &eff.extension {
        kind = ArtifactKind::Extension;
        out.kind = Some(kind);
        from.push((Arc::clone(&x.origin), x.key.clone()));
    }
    // `internal` means something for an extension only (cargo-lambda's `--extension`).
    if kind == ArtifactKind::Extension
        && let Some(i) = &eff.internal
    {
        out.internal = true;
        from.push((Arc::clone(&i.origin), i.key.clone()));
    }
    if kind == ArtifactKind::Function
        && let Some(f) = &eff.flatten
        && f.value == a.bin
    {
        out.flatten = true;
        from.push((Arc::clone(&f.origin), f.key.clone()));
    }
    if from.is_empty() {
        return;
    }
    let mut parts: Vec<String> = Vec::new();
    let mut last: Option<&Arc<Origin>> = None;
    for (o, k) in &from {
        if last.is_some_and(|l| l == o) {
            parts.push(k.clone());
        } else {
            parts.push(format!(
                "{} [{}] {k}",
                shown(&o.file, manifest_dir),
                o.table
            ));
        }
        last = Some(o);
    }
    out.from = Some(format!("from {}", parts.join(", ")));
}

/// The keys not carried over, as remarks on the level their table belongs to.
fn notes(
    eff: &Layer,
    wi: usize,
    ai: usize,
    workspaces: usize,
    dir: &Utf8Path,
    out: &mut Translation,
) {
    for n in &eff.notes {
        let text = format!(
            "not carried over: {} {}: {}",
            shown(&n.key.origin.file, dir),
            n.key.describe(),
            n.why
        );
        let level = match n.key.origin.kind {
            SourceKind::File if workspaces == 1 => &mut out.defaults,
            SourceKind::File | SourceKind::Workspace => &mut out.workspaces[wi].level,
            _ => &mut out.workspaces[wi].artifacts[ai].level,
        };
        if !level.remarks.contains(&text) {
            level.remarks.push(text);
        }
    }
    if let Some(conflict) = eff.arch_conflict() {
        let level = &mut out.workspaces[wi].artifacts[ai].level;
        let text = format!("note: {conflict}");
        if !level.remarks.contains(&text) {
            level.remarks.push(text);
        }
    }
}

fn from(c: &Candidate, dir: &Utf8Path) -> String {
    format!(
        "from {} [{}] {}",
        shown(&c.origin.file, dir),
        c.origin.table,
        c.key
    )
}

fn remark(c: &Candidate, why: &str, dir: &Utf8Path) -> String {
    format!(
        "not carried over: {} [{}] {}: {why}",
        shown(&c.origin.file, dir),
        c.origin.table,
        c.key
    )
}

/// A file as the comments show it: relative to the manifest's directory.
fn shown(file: &Utf8Path, dir: &Utf8Path) -> String {
    relative(dir, file).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, Utf8PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let d = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).unwrap();
        for f in [
            "LICENSE",
            "pkg/assets/a.css",
            "pkg/conf/app.toml",
            "pkg/notes[1].txt",
        ] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        (t, d)
    }

    #[test]
    fn include_entries_are_rewritten_for_the_node_directory() {
        let (_t, ws) = tree();
        let pkg = ws.join("pkg");
        let mut ctx = Ctx {
            manifest_dir: &ws,
            expander: IncludeExpander::default(),
        };
        let mut line = |e: &str, base: &Utf8Path| include_line(e, &ws, base, &mut ctx);
        // At the workspace, paths stay as written.
        assert_eq!(line("LICENSE", &ws).unwrap(), vec!["LICENSE"]);
        // On a package's artifact, `into=` keeps cargo-lambda's archive path...
        assert_eq!(
            line("pkg/conf/app.toml", &pkg).unwrap(),
            vec!["conf/app.toml", "into=pkg"]
        );
        // ... and `as=` renames what DEST:SRC renames.
        assert_eq!(
            line("static:pkg/assets", &pkg).unwrap(),
            vec!["assets", "as=static"]
        );
        assert_eq!(
            line("www/assets:pkg/assets", &pkg).unwrap(),
            vec!["assets", "into=www"]
        );
        for (entry, why) in [
            ("LICENSE", "is outside `pkg`"),
            ("pkg/missing", "it names no file"),
            ("pkg/notes[1].txt", "glob characters"),
            ("/etc/hosts", "an absolute path"),
            ("../x:pkg/conf/app.toml", "not a path inside the archive"),
        ] {
            let err = line(entry, &pkg).unwrap_err();
            assert!(err.contains(why), "{entry}: {err}");
        }
    }
}

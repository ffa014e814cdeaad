//! The values of a decoded manifest checked: each setting's vocabulary, names, paths, globs,
//! placeholders, counts of values. Every problem is collected with its span and a help line,
//! so that all of a file's problems come out in one run.

use camino::Utf8Path;
use knus::span::Span;
use miette::SourceSpan;

use super::cache_location::CacheLocation;
use super::model::{ArtifactDecl, IncludeDecl, Layer, Spanned, WorkspaceDecl};
use super::publish_location::PublishLocation;
use super::raw::{self, Sp};
use super::spec;
use super::values::{ArtifactKind, Compiler, OutputFormat, PLACEHOLDERS, Runtime, TargetSpec};
use crate::diagnostic::{ErrorCode, ManifestError, suggest};

/// Converts a knus span into a miette one.
pub(super) fn span(s: &Span) -> SourceSpan {
    SourceSpan::from((s.0, s.1.saturating_sub(s.0)))
}

pub(crate) fn spanned<T: Clone>(v: &Sp<T>) -> Spanned<T> {
    Spanned::new((**v).clone(), span(v.span()))
}

/// Checks decoded values and collects every problem.
#[derive(Default)]
pub(crate) struct Checker {
    /// Every problem found so far.
    pub(crate) errors: Vec<ManifestError>,
}

impl Checker {
    fn bad(
        &mut self,
        message: impl Into<String>,
        at: SourceSpan,
        label: &str,
        help: impl Into<String>,
    ) {
        self.errors
            .push(ManifestError::new(ErrorCode::BadValue, message, at, label).with_help(help));
    }

    pub(crate) fn workspace(&mut self, w: &raw::RawWorkspace) -> WorkspaceDecl {
        let path = spanned(&w.path);
        self.non_empty(
            &path,
            "workspace path",
            "write the directory of a Cargo.toml, relative to lambda.kdl",
        );
        let mut artifacts = Vec::new();
        for (kind, nodes) in [
            (ArtifactKind::Function, &w.functions),
            (ArtifactKind::Extension, &w.extensions),
        ] {
            artifacts.extend(nodes.iter().map(|a| self.artifact(kind, a)));
        }
        artifacts.sort_by_key(|a: &ArtifactDecl| a.span.offset());
        WorkspaceDecl {
            path,
            discover: w.discover.as_ref().map(spanned),
            layer: self.layer(&w.settings, &w.lists()),
            artifacts,
            span: span(&w.span),
        }
    }

    fn artifact(&mut self, kind: ArtifactKind, a: &raw::RawArtifact) -> ArtifactDecl {
        let name = spanned(&a.name);
        self.non_empty(
            &name,
            "artifact name",
            "the name is the output folder's name",
        );
        if name.value.contains(['/', '\\']) || name.value == "." || name.value == ".." {
            self.bad(
                format!("artifact name `{}` is not a plain folder name", name.value),
                name.span,
                "not a folder name",
                "the name becomes a folder (or file) under lambda-dir: use letters, digits, `-` and `_`",
            );
        }
        for v in [&a.bin, &a.package].into_iter().flatten() {
            self.non_empty(
                &spanned(v),
                "value",
                "write the name of a cargo target or package",
            );
        }
        if let (ArtifactKind::Function, Some(internal)) = (kind, &a.internal) {
            self.errors.push(
                ManifestError::new(
                    ErrorCode::InternalOnFunction,
                    "`internal=` is only for extensions",
                    span(internal.span()),
                    "on a function",
                )
                .with_help("remove `internal=`, or declare this artifact with `extension` if it is an extension"),
            );
        }
        if let (ArtifactKind::Extension, Some(flatten)) = (kind, &a.flatten) {
            self.errors.push(
                ManifestError::new(
                    ErrorCode::FlattenOnExtension,
                    "`flatten=` is only for functions",
                    span(flatten.span()),
                    "on an extension",
                )
                .with_help("remove `flatten=`: an extension is always written under `extensions/`"),
            );
        }
        ArtifactDecl {
            kind,
            name,
            bin: a.bin.as_ref().map(spanned),
            package: a.package.as_ref().map(spanned),
            flatten: kind == ArtifactKind::Function && a.flatten.as_ref().is_some_and(|f| **f),
            internal: kind == ArtifactKind::Extension && a.internal.as_ref().is_some_and(|f| **f),
            layer: self.layer(&a.settings, &a.lists()),
            span: span(&a.span),
        }
    }

    fn non_empty(&mut self, v: &Spanned<String>, what: &str, help: &str) {
        if v.value.trim().is_empty() {
            self.bad(format!("empty {what}"), v.span, "empty", help);
        }
    }

    pub(crate) fn layer(&mut self, s: &raw::RawSettings, lists: &raw::RawLists<'_>) -> Layer {
        Layer {
            arch: s.arch.as_ref().map(|a| self.arch(a)),
            profile: s.profile.as_ref().and_then(|p| self.profile(p)),
            compiler: s
                .compiler
                .as_ref()
                .and_then(|c| self.one_of(c, "compiler", Compiler::ALL, Compiler::parse)),
            output_format: s.output_format.as_ref().and_then(|c| {
                self.one_of(c, "output-format", OutputFormat::ALL, OutputFormat::parse)
            }),
            lambda_dir: s.lambda_dir.as_ref().and_then(|d| self.lambda_dir(d)),
            target_dir: s.target_dir.as_ref().map(|d| {
                let v = spanned(&d.value);
                self.non_empty(&v, "target-dir", "write a directory relative to lambda.kdl");
                v
            }),
            runtime: s
                .runtime
                .as_ref()
                .and_then(|c| self.one_of(c, "runtime", Runtime::ALL, Runtime::parse)),
            optimizations: s.optimizations.as_ref().map(|b| spanned(&b.value)),
            no_default_features: s
                .no_default_features
                .as_ref()
                .map(|f| Spanned::new(f.value, span(&f.span))),
            all_features: s
                .all_features
                .as_ref()
                .map(|f| Spanned::new(f.value, span(&f.span))),
            features: self.strings(
                lists.features,
                "features",
                "name at least one feature: `features \"json\"`",
            ),
            includes: self.includes(lists.includes),
            env: self.env(lists.env),
            rustflags: self.strings(
                lists.rustflags,
                "rustflags",
                "give at least one flag: `rustflags \"-C\" \"force-frame-pointers=yes\"`",
            ),
            cache_key_files: self.key_files(lists.cache_key_files),
            cache_key_env: self.key_env(lists.cache_key_env),
        }
    }

    fn one_of<T>(
        &mut self,
        node: &raw::RawString,
        setting: &str,
        words: &[&str],
        parse: fn(&str) -> Option<T>,
    ) -> Option<Spanned<T>> {
        let v = &node.value;
        match parse(v) {
            Some(t) => Some(Spanned::new(t, span(v.span()))),
            None => {
                self.bad(
                    format!("`{}` is not a valid {setting}", v.as_str()),
                    span(v.span()),
                    "unknown value",
                    suggest(v, "values", words),
                );
                None
            }
        }
    }

    fn arch(&mut self, node: &raw::RawStrings) -> Spanned<Vec<Spanned<TargetSpec>>> {
        if node.values.is_empty() {
            self.bad(
                "`arch` needs at least one architecture",
                span(&node.span),
                "no value",
                "write for example `arch \"x86_64\" \"arm64\"`",
            );
        }
        let mut targets: Vec<Spanned<TargetSpec>> = Vec::new();
        for v in &node.values {
            match TargetSpec::parse(v) {
                Ok(t) => {
                    if let Some(prev) = targets.iter().find(|p| p.value.triple() == t.triple()) {
                        self.errors.push(
                            ManifestError::new(
                                ErrorCode::BadValue,
                                format!(
                                    "`{}` names the target `{}` a second time",
                                    v.as_str(),
                                    t.triple()
                                ),
                                span(v.span()),
                                "same target again",
                            )
                            .with_label(prev.span, "first here")
                            .with_help("list each target once"),
                        );
                    } else {
                        targets.push(Spanned::new(t, span(v.span())));
                    }
                }
                Err(why) => self.bad(
                    format!("`{}` is not a valid arch", v.as_str()),
                    span(v.span()),
                    "unknown architecture",
                    format!("{why}; {}", suggest(v, "values", &spec::arch_values())),
                ),
            }
        }
        Spanned::new(targets, span(&node.span))
    }

    fn profile(&mut self, node: &raw::RawString) -> Option<Spanned<String>> {
        let v = spanned(&node.value);
        let before = self.errors.len();
        if v.value == "debug" {
            self.bad(
                "`debug` is not a cargo profile name",
                v.span,
                "reserved by cargo",
                "the profile that builds into target/debug is called `dev`",
            );
        } else if v.value.is_empty()
            || !v
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.bad(
                format!("`{}` is not a valid cargo profile name", v.value),
                v.span,
                "invalid profile name",
                "profile names use letters, digits, `-` and `_`: `dev`, `release`, or a custom one from [profile.NAME]",
            );
        }
        (self.errors.len() == before).then_some(v)
    }

    fn lambda_dir(&mut self, node: &raw::RawString) -> Option<Spanned<String>> {
        let v = spanned(&node.value);
        let before = self.errors.len();
        self.non_empty(&v, "lambda-dir", "write a directory relative to lambda.kdl");
        let mut rest = v.value.as_str();
        let mut offset = 0;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                self.bad(
                    "unclosed `{` in lambda-dir",
                    v.span,
                    "unclosed placeholder",
                    "placeholders are {arch}, {target}, {profile} and {workspace}",
                );
                break;
            };
            let name = &rest[open + 1..open + close];
            if !PLACEHOLDERS.contains(&name) {
                // +1 for the opening quote of the string literal.
                let at = v.span.offset() + 1 + offset + open;
                self.bad(
                    format!("unknown placeholder `{{{name}}}` in lambda-dir"),
                    SourceSpan::from((at, close + 1)),
                    "unknown placeholder",
                    suggest(name, "placeholders", PLACEHOLDERS),
                );
            }
            offset += open + close + 1;
            rest = &rest[open + close + 1..];
        }
        (self.errors.len() == before).then_some(v)
    }

    fn strings(
        &mut self,
        nodes: &[raw::RawStrings],
        setting: &str,
        help: &str,
    ) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        for node in nodes {
            if node.values.is_empty() {
                self.bad(
                    format!("`{setting}` needs at least one value"),
                    span(&node.span),
                    "no value",
                    help,
                );
            }
            for v in &node.values {
                let v = spanned(v);
                self.non_empty(&v, setting, help);
                out.push(v);
            }
        }
        out
    }

    fn includes(&mut self, nodes: &[raw::RawInclude]) -> Vec<IncludeDecl> {
        let mut out = Vec::new();
        for node in nodes {
            if node.patterns.is_empty() {
                self.bad(
                    "`include` needs at least one glob pattern",
                    span(&node.span),
                    "no pattern",
                    "write for example `include \"config/*.toml\"`",
                );
            }
            let into = node.into.as_ref().map(spanned);
            if let Some(into) = &into
                && let Err(why) = check_relative(&into.value)
            {
                self.errors.push(
                    ManifestError::new(
                        ErrorCode::IncludeOutside,
                        format!("`into=\"{}\"` {why}", into.value),
                        into.span,
                        "outside the archive",
                    )
                    .with_help(
                        "`into=` names a folder inside the archive, such as `into=\"config\"`",
                    ),
                );
            }
            let rename = node.rename.as_ref().map(spanned);
            if let Some(rename) = &rename {
                self.include_rename(rename, node);
            }
            for p in &node.patterns {
                let pattern = spanned(p);
                if let Err(why) = check_relative(&pattern.value) {
                    self.errors.push(
                        ManifestError::new(ErrorCode::IncludeOutside, format!("include pattern `{}` {why}", pattern.value), pattern.span, "leaves its base directory")
                            .with_help("include patterns are relative to the directory of the node that declares them and may not leave it"),
                    );
                } else if let Err(e) = globset::Glob::new(&pattern.value) {
                    self.bad(
                        format!(
                            "`{}` is not a valid glob pattern: {}",
                            pattern.value,
                            e.kind()
                        ),
                        pattern.span,
                        "invalid glob",
                        "globs use `*`, `**`, `?`, `[abc]` and `{a,b}`",
                    );
                }
                out.push(IncludeDecl {
                    pattern,
                    into: into.clone(),
                    rename: rename.clone(),
                });
            }
        }
        out
    }

    /// `as=` renames one literal path: checked like `into=`, and refused with a wildcard or with
    /// several patterns (they would all get the one name).
    fn include_rename(&mut self, rename: &Spanned<String>, node: &raw::RawInclude) {
        if let Err(why) = check_relative(&rename.value).and_then(|()| {
            if rename.value.split('/').all(|c| c.is_empty() || c == ".") {
                Err("is empty")
            } else {
                Ok(())
            }
        }) {
            self.errors.push(
                ManifestError::new(
                    ErrorCode::IncludeOutside,
                    format!("`as=\"{}\"` {why}", rename.value),
                    rename.span,
                    "outside the archive",
                )
                .with_help("`as=` names a path inside the archive, such as `as=\"static\"`"),
            );
        }
        if node.patterns.len() > 1 {
            self.bad(
                "`as=` renames one path, but this `include` has several patterns",
                rename.span,
                "one name for several paths",
                "write one `include \"path\" as=\"name\"` per path",
            );
        }
        for p in &node.patterns {
            let p = spanned(p);
            if has_wildcard(&p.value) {
                self.bad(
                    format!("`as=` renames a path, but `{}` is a glob pattern", p.value),
                    p.span,
                    "a glob",
                    "`as=` takes a file or directory written out (`include \"assets/public\" as=\"static\"`); use `into=` to put glob matches under a folder",
                );
            }
        }
    }

    /// `cache-key-files`: glob patterns relative to the node's directory. Unlike an include
    /// they may go up with `..` (a build script reads files outside its package), but not be
    /// absolute, so that the key stays the same in every checkout.
    fn key_files(&mut self, nodes: &[raw::RawStrings]) -> Vec<Spanned<String>> {
        let help = "name the files a build script reads outside its package, relative to the node's directory: `cache-key-files \"../proto/*.proto\"`";
        let patterns = self.strings(nodes, "cache-key-files", help);
        for p in &patterns {
            let absolute = Utf8Path::new(&p.value).is_absolute() || p.value.starts_with('\\');
            if absolute {
                self.bad(
                    format!("cache-key-files pattern `{}` is an absolute path", p.value),
                    p.span,
                    "absolute",
                    "patterns are relative to the directory of the node that declares them (`..` may go up), so that every checkout computes the same key",
                );
            } else if let Err(e) = globset::Glob::new(&p.value) {
                self.bad(
                    format!("`{}` is not a valid glob pattern: {}", p.value, e.kind()),
                    p.span,
                    "invalid glob",
                    "globs use `*`, `**`, `?`, `[abc]` and `{a,b}`",
                );
            }
        }
        patterns
    }

    /// `cache-key-env`: environment variable names.
    fn key_env(&mut self, nodes: &[raw::RawStrings]) -> Vec<Spanned<String>> {
        let help =
            "name the variables a build script or `option_env!` reads: `cache-key-env \"GIT_SHA\"`";
        let names = self.strings(nodes, "cache-key-env", help);
        for n in &names {
            if n.value.contains(['=', '\0']) || n.value.chars().any(char::is_whitespace) {
                self.bad(
                    format!("`{}` is not an environment variable name", n.value),
                    n.span,
                    "bad name",
                    "use letters, digits and `_`",
                );
            }
        }
        names
    }

    /// The top-level `cache "URL"` node: a directory (relative to the manifest's directory
    /// `dir`), a `file://` URL or an `s3://bucket/prefix`.
    pub(crate) fn cache(
        &mut self,
        node: &raw::RawString,
        dir: &Utf8Path,
    ) -> Option<Spanned<CacheLocation>> {
        let v = spanned(&node.value);
        match CacheLocation::parse(&v.value, dir) {
            Ok(location) => Some(Spanned::new(location, v.span)),
            Err(e) => {
                self.errors.push(
                    ManifestError::new(ErrorCode::BadValue, e.to_string(), v.span, "not a cache URL")
                        .with_help("a cache is a directory (relative to lambda.kdl, or absolute), `file:///path`, or `s3://bucket/prefix`"),
                );
                None
            }
        }
    }

    /// The top-level `publish "s3://bucket/prefix"` node.
    pub(crate) fn publish(&mut self, node: &raw::RawString) -> Option<Spanned<PublishLocation>> {
        let v = spanned(&node.value);
        match PublishLocation::parse(&v.value) {
            Ok(location) => Some(Spanned::new(location, v.span)),
            Err(e) => {
                self.errors.push(
                    ManifestError::new(ErrorCode::BadValue, e.to_string(), v.span, "not an S3 destination")
                        .with_help("`publish` takes the bucket and key prefix the zips go to: `publish \"s3://my-bucket/lambda\"`"),
                );
                None
            }
        }
    }

    fn env(&mut self, nodes: &[raw::RawEnv]) -> Vec<(String, Spanned<String>)> {
        let mut out = Vec::new();
        for node in nodes {
            if node.vars.is_empty() {
                self.bad(
                    "`env` needs at least one KEY=\"value\" property",
                    span(&node.span),
                    "no variable",
                    "write for example `env RUST_LOG=\"info\"`",
                );
            }
            for (k, v) in &node.vars {
                if k.is_empty() || k.contains('=') || k.contains('\0') {
                    self.bad(
                        format!("`{k}` is not an environment variable name"),
                        span(v.span()),
                        "bad name",
                        "use letters, digits and `_`",
                    );
                }
                out.push((k.clone(), spanned(v)));
            }
        }
        out
    }
}

/// Whether an include pattern has glob syntax (a literal path has none).
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// Rejects absolute paths and `..` components: an include may not leave its base.
pub fn check_relative(p: &str) -> Result<(), &'static str> {
    let path = Utf8Path::new(p);
    if path.is_absolute() || p.starts_with('/') || p.starts_with('\\') {
        return Err("is an absolute path");
    }
    if p.split(['/', '\\']).any(|c| c == "..") {
        return Err("goes up with `..`");
    }
    Ok(())
}

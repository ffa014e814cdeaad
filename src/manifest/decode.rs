//! KDL text → [`Manifest`]: knus decodes the structure, then every value is checked here so that
//! all problems of a file come out in one run, each pointing at its span.

use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use knus::span::Span;
use miette::{Diagnostic, SourceSpan};

use super::model::{ArtifactDecl, IncludeDecl, Layer, Manifest, Spanned, WorkspaceDecl};
use super::raw::{self, RawDocument, Sp};
use super::spec;
use super::values::{ArtifactKind, Compiler, OutputFormat, PLACEHOLDERS, Runtime, TargetSpec};
use crate::diagnostic::{ErrorCode, ManifestError, ManifestErrors, Source, suggest};

/// Converts a knus span into a miette one.
pub fn span(s: &Span) -> SourceSpan {
    SourceSpan::from((s.0, s.1.saturating_sub(s.0)))
}

fn spanned<T: Clone>(v: &Sp<T>) -> Spanned<T> {
    Spanned::new((**v).clone(), span(v.span()))
}

/// Decodes and checks manifest text. `path` is the manifest's absolute path.
pub fn parse(path: &Utf8Path, text: &str) -> Result<Manifest, ManifestErrors> {
    let (manifest, errors, source) = parse_partial(path, text);
    match manifest {
        Some(m) if errors.is_empty() => Ok(m),
        _ => Err(ManifestErrors(errors).finish(&source)),
    }
}

/// Decodes as much as possible: every problem found, and a manifest when the structure could
/// be decoded once unknown nodes and properties are set aside. That manifest lets later stages
/// report their own problems in the same run; it must never be built from when errors exist.
pub fn parse_partial(
    path: &Utf8Path,
    text: &str,
) -> (Option<Manifest>, Vec<ManifestError>, Source) {
    let name = path.file_name().unwrap_or("lambda.kdl").to_string();
    let source: Source = miette::NamedSource::new(name.clone(), Arc::from(text));
    let dir = path
        .parent()
        .map(Utf8Path::to_path_buf)
        .unwrap_or_else(|| Utf8PathBuf::from("."));

    /// The most decoding passes (see below); far more errors than any real file has.
    const MAX_PASSES: usize = 500;
    let ast = match knus::parse_ast::<Span>(&name, text) {
        Ok(ast) => ast,
        Err(e) => return (None, knus_errors(&e, None), source),
    };
    let mut errors = Vec::new();
    let mut current = text.to_string();
    let mut raw = None;
    // Unknown nodes and properties are blanked out (same length, so spans stay true) and the
    // text decoded again, so that one typo does not hide every other problem in the file.
    // Each pass blanks at least one node or property, or the loop stops: the bound only keeps
    // a pathological file from taking long.
    for pass in 0..MAX_PASSES {
        // Blanking keeps the text KDL; if it ever does not, stop with what was found.
        if pass > 0 && knus::parse_ast::<Span>(&name, &current).is_err() {
            break;
        }
        match knus::parse::<RawDocument>(&name, &current) {
            Ok(r) => {
                raw = Some(r);
                break;
            }
            Err(e) => {
                let found = knus_errors(&e, Some(&ast));
                let mut next = current.clone();
                for f in &found {
                    let Some(span) = f.primary_span() else {
                        continue;
                    };
                    // A property goes with its value; anything else takes the innermost node
                    // it stands in (an unknown node is that node itself, a bad value its setting).
                    match innermost_node(&ast.nodes, span.offset()) {
                        Some(node) if f.code != ErrorCode::UnknownProperty => {
                            blank(&mut next, node, false)
                        }
                        _ => blank(&mut next, span, f.code == ErrorCode::UnknownProperty),
                    }
                }
                // knus stops looking inside a node at its first bad child, so each pass can
                // find problems the previous one did not reach.
                errors.extend(found);
                if next == current {
                    break;
                }
                current = next;
            }
        }
    }
    let Some(raw) = raw else {
        return (None, errors, source);
    };

    let mut cx = Checker::default();
    let defaults = raw
        .defaults
        .as_ref()
        .map(|d| cx.layer(&d.settings, &d.includes, &d.env, &d.features, &d.rustflags))
        .unwrap_or_default();
    let workspaces: Vec<WorkspaceDecl> = raw.workspaces.iter().map(|w| cx.workspace(w)).collect();
    if workspaces.is_empty() && errors.is_empty() {
        let end = text.trim_end().len();
        cx.errors.push(
            ManifestError::new(ErrorCode::BadValue, "the manifest declares no workspace: there is nothing to build", SourceSpan::from((end, 0)), "nothing after this")
                .with_help("add one, for example `workspace \"services\" discover=true`, or run `lambda-batch init`"),
        );
    }
    errors.extend(cx.errors);
    let manifest = Manifest {
        path: path.to_path_buf(),
        dir,
        source: source.clone(),
        defaults,
        workspaces,
    };
    (Some(manifest), errors, source)
}

/// Replaces a span with spaces; for a property, also its `=value`.
fn blank(text: &mut String, span: SourceSpan, property: bool) {
    let start = span.offset().min(text.len());
    let mut end = (span.offset() + span.len()).min(text.len());
    if property {
        let bytes = text.as_bytes();
        if bytes.get(end) == Some(&b'=') {
            end += 1;
            // A raw string: r"..." or r#"..."#, closed by a quote and as many hashes.
            if bytes.get(end) == Some(&b'r') && matches!(bytes.get(end + 1), Some(b'"' | b'#')) {
                let hashes = bytes[end + 1..].iter().take_while(|b| **b == b'#').count();
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                let body = end + 2 + hashes;
                end = bytes
                    .get(body..)
                    .and_then(|rest| {
                        rest.windows(close.len())
                            .position(|w| w == close.as_slice())
                    })
                    .map_or(bytes.len(), |i| body + i + close.len());
            } else if bytes.get(end) == Some(&b'"') {
                end += 1;
                while end < bytes.len() && bytes[end] != b'"' {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                end = (end + 1).min(bytes.len());
            } else {
                while end < bytes.len()
                    && !matches!(
                        bytes[end],
                        b' ' | b'\t' | b'\n' | b'\r' | b';' | b'{' | b'}'
                    )
                {
                    end += 1;
                }
            }
        }
    }
    if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return;
    }
    // Keep newlines so that line numbers stay true as well.
    let replacement: String = text[start..end]
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect::<String>();
    // Multi-byte characters become one space each: pad to keep byte offsets.
    let pad = (end - start).saturating_sub(replacement.len());
    text.replace_range(start..end, &(replacement + &" ".repeat(pad)));
}

#[derive(Default)]
struct Checker {
    errors: Vec<ManifestError>,
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

    fn workspace(&mut self, w: &raw::RawWorkspace) -> WorkspaceDecl {
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
            layer: self.layer(&w.settings, &w.includes, &w.env, &w.features, &w.rustflags),
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
            layer: self.layer(&a.settings, &a.includes, &a.env, &a.features, &a.rustflags),
            span: span(&a.span),
        }
    }

    fn non_empty(&mut self, v: &Spanned<String>, what: &str, help: &str) {
        if v.value.trim().is_empty() {
            self.bad(format!("empty {what}"), v.span, "empty", help);
        }
    }

    fn layer(
        &mut self,
        s: &raw::RawSettings,
        includes: &[raw::RawInclude],
        env: &[raw::RawEnv],
        features: &[raw::RawStrings],
        rustflags: &[raw::RawStrings],
    ) -> Layer {
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
                features,
                "features",
                "name at least one feature: `features \"json\"`",
            ),
            includes: self.includes(includes),
            env: self.env(env),
            rustflags: self.strings(
                rustflags,
                "rustflags",
                "give at least one flag: `rustflags \"-C\" \"force-frame-pointers=yes\"`",
            ),
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
                });
            }
        }
        out
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

/// A name as written: knus quotes names with Rust's `escape_default` (`functi\u{f3}n`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') if chars.peek() == Some(&'{') => {
                chars.next();
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&format!("\\u{{{hex}}}")),
                }
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
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

/// Turns knus's errors into ours, adding "did you mean" and where a misplaced node belongs.
fn knus_errors(e: &knus::Error, ast: Option<&knus::ast::Document<Span>>) -> Vec<ManifestError> {
    let mut out = Vec::new();
    let related: Vec<&dyn Diagnostic> = e.related().map(|r| r.collect()).unwrap_or_default();
    for d in related {
        let message = d.to_string();
        let label = d.labels().and_then(|mut l| l.next());
        let at = label
            .as_ref()
            .map(|l| *l.inner())
            .unwrap_or_else(|| SourceSpan::from((0, 0)));
        let label_text = label
            .as_ref()
            .and_then(|l| l.label().map(str::to_string))
            .unwrap_or_default();
        let knus_help = d.help().map(|h| h.to_string());
        let quoted = unescape(message.split('`').nth(1).unwrap_or(""));
        let mut err = if ast.is_none() {
            ManifestError::new(ErrorCode::Syntax, format!("invalid KDL: {message}"), at, if label_text.is_empty() { "here".into() } else { label_text })
                .with_help(knus_help.unwrap_or_else(|| "lambda.kdl is KDL 1.0: nodes are `name arg prop=\"value\" { children }`, booleans are `true`/`false`".into()))
        } else if message.starts_with("unexpected node") {
            let parent = ast.and_then(|a| parent_of(&a.nodes, at.offset(), None));
            let allowed = spec::children_of(parent.as_deref());
            let place = match &parent {
                None => "at the top level".to_string(),
                Some(p) => format!("inside `{p}`"),
            };
            let help = match spec::where_allowed(&quoted) {
                Some(w) if !allowed.contains(&quoted.as_str()) => w,
                _ if allowed.is_empty() => format!(
                    "`{}` takes no child nodes",
                    parent.clone().unwrap_or_default()
                ),
                _ => suggest(&quoted, &format!("nodes {place}"), &allowed),
            };
            ManifestError::new(
                ErrorCode::UnknownNode,
                format!("unknown node `{quoted}` {place}"),
                at,
                "unknown node",
            )
            .with_help(help)
        } else if message.starts_with("unexpected property") {
            let owner = ast.and_then(|a| owner_of(&a.nodes, at.offset()));
            let allowed = owner
                .as_deref()
                .and_then(spec::properties_of)
                .unwrap_or_default();
            let on = owner.map(|o| format!(" on `{o}`")).unwrap_or_default();
            let help = if allowed.is_empty() {
                "this node takes no properties".to_string()
            } else {
                suggest(&quoted, "properties", &allowed)
            };
            ManifestError::new(
                ErrorCode::UnknownProperty,
                format!("unknown property `{quoted}`{on}"),
                at,
                "unknown property",
            )
            .with_help(help)
        } else if message.starts_with("duplicate node") {
            ManifestError::new(
                ErrorCode::DuplicateNode,
                format!("`{quoted}` is given twice"),
                at,
                "second one",
            )
            .with_help(format!("`{quoted}` may appear once here: merge the two"))
        } else {
            let help = if message.contains("argument") {
                "check the number of values this node takes (see `lambda-batch schema`)".to_string()
            } else if message.contains("bool") {
                "booleans are written `true` or `false`, without quotes".to_string()
            } else if message.contains("string") {
                "strings are written in double quotes".to_string()
            } else {
                "see `lambda-batch schema` for what this node takes".to_string()
            };
            ManifestError::new(
                ErrorCode::BadValue,
                message.clone(),
                at,
                if label_text.is_empty() {
                    "here".into()
                } else {
                    label_text
                },
            )
            .with_help(knus_help.unwrap_or(help))
        };
        if err.message.is_empty() {
            err.message = "invalid manifest".into();
        }
        out.push(err);
    }
    if out.is_empty() {
        out.push(ManifestError::unlabelled(ErrorCode::Syntax, e.to_string()));
    }
    out
}

/// The full span of the innermost node whose span contains `offset`.
fn innermost_node(nodes: &[knus::ast::SpannedNode<Span>], offset: usize) -> Option<SourceSpan> {
    for n in nodes {
        let s = n.span();
        if s.0 <= offset && offset < s.1.max(s.0 + 1) {
            let inner = n.children.as_ref().and_then(|c| innermost_node(c, offset));
            return inner.or(Some(span(s)));
        }
    }
    None
}

/// The name of the node whose direct child starts at `offset` (`None`: top level).
fn parent_of(
    nodes: &[knus::ast::SpannedNode<Span>],
    offset: usize,
    parent: Option<&str>,
) -> Option<String> {
    for n in nodes {
        let s = n.span();
        if s.0 == offset || n.node_name.span().0 == offset {
            return parent.map(str::to_string);
        }
        if s.0 <= offset && offset < s.1 {
            if let Some(children) = &n.children {
                return parent_of(children, offset, Some(&n.node_name));
            }
        }
    }
    parent.map(str::to_string)
}

/// The name of the innermost node whose span contains `offset`.
fn owner_of(nodes: &[knus::ast::SpannedNode<Span>], offset: usize) -> Option<String> {
    for n in nodes {
        let s = n.span();
        if s.0 <= offset && offset < s.1 {
            let inner = n.children.as_ref().and_then(|c| owner_of(c, offset));
            return inner.or_else(|| Some(n.node_name.to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_messages_are_shown_as_written() {
        assert_eq!(unescape("functi\\u{f3}n"), "functión");
        assert_eq!(unescape("\\u{fc}nknown"), "ünknown");
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("bad\\u{zz}"), "bad\\u{zz}");
    }
}

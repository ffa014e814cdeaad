//! KDL text → [`Manifest`]: knus decodes the structure; what it rejects is reported and blanked
//! out (offsets kept) and the text decoded again, so that one typo does not hide the rest;
//! then [`super::check`] checks every value.

use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use knus::span::Span;
use miette::{Diagnostic, SourceSpan};

use super::check::{Checker, span};
use super::model::{Manifest, WorkspaceDecl};
use super::nodes::RawDocument;
use super::spec;
use crate::diagnostic::{ErrorCode, ManifestError, ManifestErrors, Source, suggest};

/// Decodes and checks manifest text. `path` is the manifest's absolute path.
pub(super) fn parse(path: &Utf8Path, text: &str) -> Result<Manifest, ManifestErrors> {
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

    /// The most decoding passes (see below): one per level of nesting is what a file needs.
    const MAX_PASSES: usize = 32;
    // Bounded before any parser runs: knus descends recursively into child blocks.
    let scanned = match super::limits::scan(text) {
        Ok(scanned) => scanned,
        Err(e) => return (None, vec![e], source),
    };
    let ast = match knus::parse_ast::<Span>(&name, &scanned) {
        Ok(ast) => ast,
        Err(e) => return (None, knus_errors(&e, None), source),
    };
    let mut errors = Vec::new();
    let mut current = scanned;
    unknown_names(&ast.nodes, None, &mut errors);
    for e in &errors {
        let Some(at) = e.primary_span() else { continue };
        match e.code {
            ErrorCode::UnknownProperty => blank(&mut current, at, true),
            ErrorCode::UnknownNode => blank(&mut current, at, false),
            // An argument count: the node it belongs to.
            _ => {
                if let Some(node) = innermost_node(&ast.nodes, at.offset()) {
                    blank(&mut current, node, false);
                }
            }
        }
    }
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
        .map(|d| cx.layer(&d.settings))
        .unwrap_or_default();
    let cache = raw.cache.as_ref().and_then(|c| cx.cache(c, &dir));
    let publish = raw.publish.as_ref().and_then(|p| cx.publish(p));
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
        cache,
        publish,
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
            unknown_node(&quoted, at, parent.as_deref())
        } else if message.starts_with("unexpected property") {
            let owner = ast.and_then(|a| owner_of(&a.nodes, at.offset()));
            unknown_property(&quoted, at, owner.as_deref())
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

/// An unknown node `name` at `at`, under `parent` (`None`: the top level).
fn unknown_node(name: &str, at: SourceSpan, parent: Option<&str>) -> ManifestError {
    let allowed = spec::children_of(parent);
    let place = match parent {
        None => "at the top level".to_string(),
        Some(p) => format!("inside `{p}`"),
    };
    let help = match spec::where_allowed(name) {
        Some(w) if !allowed.contains(&name) => w,
        _ if allowed.is_empty() => format!("`{}` takes no child nodes", parent.unwrap_or_default()),
        _ => suggest(name, &format!("nodes {place}"), &allowed),
    };
    ManifestError::new(
        ErrorCode::UnknownNode,
        format!("unknown node `{name}` {place}"),
        at,
        "unknown node",
    )
    .with_help(help)
}

/// An unknown property `name` at `at`, on the node `owner`.
fn unknown_property(name: &str, at: SourceSpan, owner: Option<&str>) -> ManifestError {
    let allowed = owner.and_then(spec::properties_of).unwrap_or_default();
    let on = owner.map(|o| format!(" on `{o}`")).unwrap_or_default();
    let help = if allowed.is_empty() {
        "this node takes no properties".to_string()
    } else {
        suggest(name, "properties", &allowed)
    };
    ManifestError::new(
        ErrorCode::UnknownProperty,
        format!("unknown property `{name}`{on}"),
        at,
        "unknown property",
    )
    .with_help(help)
}

/// Every unknown node and property and every known node with a wrong number of arguments,
/// in one walk of the syntax tree. knus rejects a node at its first unknown property or
/// argument count and decodes none of its siblings after it, so finding them by decoding
/// took one pass over the whole file per problem (300 of them: 12 s).
fn unknown_names(
    nodes: &[knus::ast::SpannedNode<Span>],
    parent: Option<&str>,
    out: &mut Vec<ManifestError>,
) {
    let allowed = spec::children_of(parent);
    for n in nodes {
        let name: &str = &n.node_name;
        if !allowed.contains(&name) {
            out.push(unknown_node(name, span(n.span()), parent));
            continue;
        }
        // Functions and extensions decode each other's properties too: `internal=` on a
        // function gets its own diagnostic from the checker.
        let properties = match name {
            "function" | "extension" => spec::properties_of("function")
                .into_iter()
                .chain(spec::properties_of("extension"))
                .flatten()
                .collect::<Vec<_>>()
                .into(),
            _ => spec::properties_of(name),
        };
        if let Some(properties) = properties {
            for key in n.properties.keys() {
                if !properties.contains(&&***key) {
                    out.push(unknown_property(key, span(key.span()), Some(name)));
                }
            }
        }
        if let Some(e) = arity(n) {
            // The node is blanked whole, children and all, as knus would have stopped there.
            out.push(e);
            continue;
        }
        if let Some(children) = &n.children {
            unknown_names(children, Some(name), out);
        }
    }
}

/// How many arguments a known node takes: the fewest and the most (`None`: any number).
/// Knus decodes each setting with at least as many as `min`; zero values of a setting that
/// takes a list get the checker's own diagnostic.
fn arguments_taken(name: &str) -> Option<(usize, Option<usize>, &'static str)> {
    use spec::ValueShape;
    if let Some(node) = spec::NODES.iter().find(|n| n.name == name) {
        return Some(match node.argument {
            Some(what) => (1, Some(1), what),
            None => (0, Some(0), "no argument"),
        });
    }
    Some(match spec::setting(name)?.shape {
        ValueShape::OneOf(_) | ValueShape::String | ValueShape::Path | ValueShape::Bool => {
            (1, Some(1), "one value")
        }
        ValueShape::Flag => (0, Some(1), "at most one value, `true` or `false`"),
        ValueShape::Arch | ValueShape::Strings | ValueShape::Include => (0, None, "values"),
        ValueShape::Env => (0, Some(0), "`KEY=\"value\"` properties and no argument"),
    })
}

/// A known node with too few or too many arguments. Knus stops decoding a node's siblings
/// at such a node, so these too are found here rather than one decoding pass each.
fn arity(n: &knus::ast::SpannedNode<Span>) -> Option<ManifestError> {
    let name: &str = &n.node_name;
    let (min, max, what) = arguments_taken(name)?;
    // What the argument of a structural node is, in a few words.
    let structural = match name {
        "workspace" => Some("its path"),
        "function" | "extension" => Some("its name"),
        _ => None,
    };
    let help = "check the number of values this node takes (see `lambda-batch schema`)";
    if let Some(extra) = max.and_then(|max| n.arguments.get(max)) {
        let takes = match structural {
            Some(argument) => format!("one argument, {argument}"),
            None => what.to_string(),
        };
        return Some(
            ManifestError::new(
                ErrorCode::BadValue,
                format!("unexpected argument: `{name}` takes {takes}"),
                span(extra.literal.span()),
                "one too many",
            )
            .with_help(help),
        );
    }
    if n.arguments.len() < min {
        let takes = match structural {
            Some(argument) => argument.to_string(),
            None => what.to_string(),
        };
        return Some(
            ManifestError::new(
                ErrorCode::BadValue,
                format!("missing argument: `{name}` needs {takes}"),
                span(n.span()),
                "no argument",
            )
            .with_help(help),
        );
    }
    None
}

/// The last node of `nodes` (siblings, in file order) that starts at or before `offset`: the
/// only one that can hold it. A binary search, so that thousands of errors among thousands
/// of nodes stay fast.
fn candidate(
    nodes: &[knus::ast::SpannedNode<Span>],
    offset: usize,
) -> Option<&knus::ast::SpannedNode<Span>> {
    let after = nodes.partition_point(|n| n.span().0 <= offset);
    nodes.get(after.checked_sub(1)?)
}

/// The full span of the innermost node whose span contains `offset`.
fn innermost_node(nodes: &[knus::ast::SpannedNode<Span>], offset: usize) -> Option<SourceSpan> {
    let n = candidate(nodes, offset)?;
    let s = n.span();
    if offset < s.1.max(s.0 + 1) {
        let inner = n.children.as_ref().and_then(|c| innermost_node(c, offset));
        return inner.or(Some(span(s)));
    }
    None
}

/// The name of the node whose direct child starts at `offset` (`None`: top level).
fn parent_of(
    nodes: &[knus::ast::SpannedNode<Span>],
    offset: usize,
    parent: Option<&str>,
) -> Option<String> {
    if let Some(n) = candidate(nodes, offset) {
        let s = n.span();
        if s.0 == offset || n.node_name.span().0 == offset {
            return parent.map(str::to_string);
        }
        if offset < s.1 {
            if let Some(children) = &n.children {
                return parent_of(children, offset, Some(&n.node_name));
            }
        }
    }
    parent.map(str::to_string)
}

/// The name of the innermost node whose span contains `offset`.
fn owner_of(nodes: &[knus::ast::SpannedNode<Span>], offset: usize) -> Option<String> {
    let n = candidate(nodes, offset)?;
    if offset < n.span().1 {
        let inner = n.children.as_ref().and_then(|c| owner_of(c, offset));
        return inner.or_else(|| Some(n.node_name.to_string()));
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

    #[test]
    fn as_renames_one_written_out_path() {
        let ok = "workspace \"w\" {\n    include \"assets/public\" as=\"static\" into=\"www\"\n}\n";
        let m = parse(Utf8Path::new("/m/lambda.kdl"), ok).unwrap();
        let inc = &m.workspaces[0].layer.includes[0];
        assert_eq!(
            inc.rename.as_ref().map(|r| r.value.as_str()),
            Some("static")
        );
        assert_eq!(inc.into.as_ref().map(|r| r.value.as_str()), Some("www"));
        let bad = "workspace \"w\" {\n    include \"a/*\" as=\"x\"\n    include \"a\" \"b\" as=\"../y\"\n    include \"c\" as=\"./\"\n}\n";
        let errors = parse(Utf8Path::new("/m/lambda.kdl"), bad).unwrap_err();
        let messages: Vec<&str> = errors.0.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "`as=` renames a path, but `a/*` is a glob pattern",
                "`as=\"../y\"` goes up with `..`",
                "`as=` renames one path, but this `include` has several patterns",
                "`as=\"./\"` is empty",
            ]
        );
    }

    #[test]
    fn the_cache_node_and_the_key_settings_are_checked() {
        let ok = "cache \"ci-cache\"\ndefaults {\n    cache-key-files \"../proto/*.proto\"\n    cache-key-env \"GIT_SHA\"\n}\nworkspace \"w\" {\n    cache-key-env \"BUILD_ID\" \"GIT_SHA\"\n}\n";
        let m = parse(Utf8Path::new("/m/lambda.kdl"), ok).unwrap();
        let cache = m.cache.unwrap();
        assert_eq!(
            cache.value,
            crate::manifest::CacheLocation::Directory {
                path: "/m/ci-cache".into()
            },
            "a relative directory is taken from the manifest's directory"
        );
        assert_eq!(
            &ok[cache.span.offset()..][..cache.span.len()],
            "\"ci-cache\""
        );
        assert_eq!(m.defaults.cache_key_files[0].value, "../proto/*.proto");
        let env: Vec<&str> = m.workspaces[0]
            .layer
            .cache_key_env
            .iter()
            .map(|v| v.value.as_str())
            .collect();
        assert_eq!(env, ["BUILD_ID", "GIT_SHA"]);

        let bad = "cache \"ftp://host/x\"\nworkspace \"w\" {\n    cache-key-files \"/etc/passwd\" \"a/[\"\n    cache-key-env \"A=B\"\n}\n";
        let errors = parse(Utf8Path::new("/m/lambda.kdl"), bad).unwrap_err();
        let found: Vec<(&str, &str)> = errors
            .0
            .iter()
            .map(|e| {
                let span = e.primary_span().unwrap();
                (e.message.as_str(), &bad[span.offset()..][..span.len()])
            })
            .collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found[0].0.contains("`ftp://` is not a supported backend"),
            "{found:?}"
        );
        assert_eq!(found[0].1, "\"ftp://host/x\"");
        assert_eq!(found[1].1, "\"/etc/passwd\"");
        assert!(found[2].0.contains("not a valid glob"), "{found:?}");
        assert_eq!(found[3].1, "\"A=B\"");
    }

    #[test]
    fn the_publish_node_takes_an_s3_destination_once() {
        let ok = "publish \"s3://releases/lambda/\"\nworkspace \"w\"\n";
        let m = parse(Utf8Path::new("/m/lambda.kdl"), ok).unwrap();
        let publish = m.publish.unwrap();
        assert_eq!(publish.value.to_string(), "s3://releases/lambda");
        assert_eq!(
            &ok[publish.span.offset()..][..publish.span.len()],
            "\"s3://releases/lambda/\""
        );

        for (bad, expected) in [
            (
                "publish \"dist\"\nworkspace \"w\"\n",
                "write `s3://bucket/prefix`",
            ),
            (
                "publish \"s3://Bad_Bucket\"\nworkspace \"w\"\n",
                "is not a bucket name",
            ),
            (
                "publish \"s3://a-b\"\npublish \"s3://c-d\"\nworkspace \"w\"\n",
                "publish",
            ),
        ] {
            let errors = parse(Utf8Path::new("/m/lambda.kdl"), bad).unwrap_err();
            assert_eq!(errors.0.len(), 1, "{bad}: {:?}", errors.0);
            assert!(
                errors.0[0].message.contains(expected),
                "{bad}: {:?}",
                errors.0
            );
        }
    }
}

//! The kinds of setting values: how one node of a setting is decoded, checked, shown in the
//! manifest's JSON data model, and what its declared default stands for; and [`Setting`], one
//! declaration as data (the rows of `SETTINGS`).
//!
//! A setting's declaration (`super::settings`) names one of these kinds; everything about the
//! value follows from it. A new kind is a type implementing [`Kind`] here; most new settings
//! reuse one: [`Str`] (`role "arn:..."`, `alias "live"`), [`Template`] with its own
//! placeholders (`function-name "{name}-{arch}"`), [`Bool`] (`publish-version true`),
//! [`OneOf`] over a word enum (`sbom "cyclonedx"`), [`Strings`] (`layers "ARN" ...`).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use camino::Utf8Path;
use miette::SourceSpan;
use schemars::JsonSchema;
use serde::Serialize;

use super::check::{Checker, check_relative, has_wildcard, span, spanned};
use super::raw::{RawBool, RawEnv, RawFlag, RawInclude, RawString, RawStrings};
use super::values::{PLACEHOLDERS, Spanned, TargetSpec, Word, arch_pattern, arch_values};
use crate::diagnostic::{ErrorCode, ManifestError, suggest};

/// How a setting's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueShape {
    /// Exactly one string from a fixed list.
    OneOf(&'static [&'static str]),
    /// One or more strings from a list of words or triples.
    Arch,
    /// Exactly one free string.
    String,
    /// Exactly one free string that is a path.
    Path,
    /// Exactly one boolean.
    Bool,
    /// A bare node, or one boolean.
    Flag,
    /// One or more free strings.
    Strings,
    /// One or more glob patterns and optional `into=` and `as=` properties.
    Include,
    /// `KEY="value"` properties.
    Env,
}

/// Whether a lower level replaces or extends the value of a higher one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inheritance {
    /// The lowest level that sets it wins.
    Replaces,
    /// Every level adds to it.
    Accumulates,
}

/// One setting node, as its declaration in `super::settings` states it.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The node name.
    pub name: &'static str,
    /// How its values are written.
    pub shape: ValueShape,
    /// Replace or accumulate.
    pub inheritance: Inheritance,
    /// The nodes that may hold it.
    pub levels: &'static [&'static str],
    /// The default, as words.
    pub default: &'static str,
    /// One line for people.
    pub doc: &'static str,
    /// How to write it, for a diagnostic that finds it missing or empty.
    pub help: &'static str,
    /// What `lambda-batch set NAME ...` takes, for help lines.
    pub example: &'static str,
    /// Whether `add function|extension` takes it as `--NAME`.
    pub add: bool,
}

impl Setting {
    /// Whether a node named `node` may hold it.
    pub fn allowed_in(&self, node: &str) -> bool {
        self.levels.contains(&node)
    }

    /// Whether one node of it holds several values (as `--NAME` of `add`, the flag repeats).
    pub fn takes_many(&self) -> bool {
        matches!(
            self.shape,
            ValueShape::Arch | ValueShape::Strings | ValueShape::Include | ValueShape::Env
        )
    }
}

/// One kind of setting value.
pub trait Kind {
    /// One node of the setting, as knus decodes it.
    type Raw: knus::Decode<knus::span::Span> + fmt::Debug;
    /// One node's value, checked: what a level keeps (for a kind of accumulating setting, a
    /// `Vec` that each node and each level adds to).
    type Value: Clone + fmt::Debug;
    /// What the merge gives when no level sets it: the declared default as a value.
    type Plain;
    /// The value in the manifest's JSON data model (`schema --format json`).
    type Json: JsonSchema + Serialize;
    /// How its values are written: the KDL Schema, the editing commands and the argument
    /// counts read it.
    const SHAPE: ValueShape;

    /// Checks one node of `setting`, reporting every problem to `cx`; `None` when the value
    /// cannot be used.
    fn check(raw: &Self::Raw, setting: &Setting, cx: &mut Checker) -> Option<Self::Value>;

    /// The plain value of a checked one.
    fn plain(value: &Self::Value) -> Self::Plain;

    /// The declared default (`default:` of the declaration, in words) as a value; `None`
    /// when the words do not parse (a unit test checks every replacing setting's does).
    fn default_value(words: &str) -> Option<Self::Plain>;
}

/// A replacing setting after the merge: the value of the lowest level that sets it, if any.
pub struct Chosen<'a, K: Kind> {
    /// The lowest level's value (with its span), `None` when no level sets it.
    pub set: Option<&'a K::Value>,
    /// The declared default, in words.
    pub default: &'static str,
}

impl<K: Kind> Chosen<'_, K> {
    /// The lowest level's value, or else the declared default.
    pub fn value(&self) -> K::Plain {
        match self.set {
            Some(v) => K::plain(v),
            None => K::default_value(self.default)
                .expect("every replacing setting's declared default parses (unit-tested)"),
        }
    }
}

/// An accumulating setting after the merge: what each level adds, highest level first.
pub struct Every<'a, T> {
    /// One slice per level (defaults, workspace, then the artifact when declared).
    pub levels: Vec<&'a [T]>,
}

impl<'a, T> Every<'a, T> {
    /// Every level's values, in order: defaults first.
    pub fn items(&self) -> impl Iterator<Item = &'a T> + '_ {
        self.levels.iter().flat_map(|level| level.iter())
    }
}

/// Exactly one word of `W`'s list.
pub struct OneOf<W>(PhantomData<W>);

impl<W: Word> Kind for OneOf<W> {
    type Raw = RawString;
    type Value = Spanned<W>;
    type Plain = W;
    type Json = W;
    const SHAPE: ValueShape = ValueShape::OneOf(W::ALL);

    fn check(raw: &RawString, setting: &Setting, cx: &mut Checker) -> Option<Spanned<W>> {
        let v = &raw.value;
        match W::parse(v) {
            Some(w) => Some(Spanned::new(w, span(v.span()))),
            None => {
                cx.bad(
                    format!("`{}` is not a valid {}", v.as_str(), setting.name),
                    span(v.span()),
                    "unknown value",
                    suggest(v, "values", W::ALL),
                );
                None
            }
        }
    }

    fn plain(value: &Spanned<W>) -> W {
        value.value
    }

    fn default_value(words: &str) -> Option<W> {
        W::parse(words)
    }
}

/// One or more architectures or target triples (`arch`).
pub struct Arch;

impl Kind for Arch {
    type Raw = RawStrings;
    /// The targets, each spanned, and the node's span.
    type Value = Spanned<Vec<Spanned<TargetSpec>>>;
    type Plain = Vec<TargetSpec>;
    type Json = Vec<ArchWord>;
    const SHAPE: ValueShape = ValueShape::Arch;

    fn check(raw: &RawStrings, setting: &Setting, cx: &mut Checker) -> Option<Self::Value> {
        if raw.values.is_empty() {
            cx.bad(
                format!("`{}` needs at least one architecture", setting.name),
                span(&raw.span),
                "no value",
                setting.help,
            );
        }
        let mut targets: Vec<Spanned<TargetSpec>> = Vec::new();
        for v in &raw.values {
            match TargetSpec::parse(v) {
                Ok(t) => {
                    if let Some(prev) = targets.iter().find(|p| p.value.triple() == t.triple()) {
                        cx.errors.push(
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
                Err(why) => cx.bad(
                    format!("`{}` is not a valid {}", v.as_str(), setting.name),
                    span(v.span()),
                    "unknown architecture",
                    format!("{why}; {}", suggest(v, "values", &arch_values())),
                ),
            }
        }
        Some(Spanned::new(targets, span(&raw.span)))
    }

    fn plain(value: &Self::Value) -> Vec<TargetSpec> {
        value.value.iter().map(|t| t.value).collect()
    }

    fn default_value(words: &str) -> Option<Vec<TargetSpec>> {
        words
            .split_whitespace()
            .map(|w| TargetSpec::parse(w).ok())
            .collect()
    }
}

/// An `arch` word in the JSON data model: a string matching [`arch_pattern`].
#[derive(Debug, Serialize)]
pub struct ArchWord(pub String);

impl JsonSchema for ArchWord {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ArchWord".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": arch_pattern() })
    }
}

/// A cargo profile name (`profile`).
pub struct Profile;

impl Kind for Profile {
    type Raw = RawString;
    type Value = Spanned<String>;
    type Plain = String;
    type Json = String;
    const SHAPE: ValueShape = ValueShape::String;

    fn check(raw: &RawString, _: &Setting, cx: &mut Checker) -> Option<Spanned<String>> {
        let v = spanned(&raw.value);
        let before = cx.errors.len();
        if v.value == "debug" {
            cx.bad(
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
            cx.bad(
                format!("`{}` is not a valid cargo profile name", v.value),
                v.span,
                "invalid profile name",
                "profile names use letters, digits, `-` and `_`: `dev`, `release`, or a custom one from [profile.NAME]",
            );
        }
        (cx.errors.len() == before).then_some(v)
    }

    fn plain(value: &Spanned<String>) -> String {
        value.value.clone()
    }

    fn default_value(words: &str) -> Option<String> {
        Some(words.to_string())
    }
}

/// Exactly one free string, not empty (`role "arn:..."`, `alias "live"`).
pub struct Str;

impl Kind for Str {
    type Raw = RawString;
    type Value = Spanned<String>;
    type Plain = Option<String>;
    type Json = String;
    const SHAPE: ValueShape = ValueShape::String;

    fn check(raw: &RawString, setting: &Setting, cx: &mut Checker) -> Option<Spanned<String>> {
        let v = spanned(&raw.value);
        cx.non_empty(&v, setting.name, setting.help);
        Some(v)
    }

    fn plain(value: &Spanned<String>) -> Option<String> {
        Some(value.value.clone())
    }

    /// No string is set unless a level sets one: the default only describes what then happens.
    fn default_value(_: &str) -> Option<Option<String>> {
        Some(None)
    }
}

/// A directory relative to the manifest, not empty, whose default is described rather than
/// written (`target-dir`: "the workspace's own").
pub struct Path;

impl Kind for Path {
    type Raw = RawString;
    type Value = Spanned<String>;
    type Plain = Option<String>;
    type Json = String;
    const SHAPE: ValueShape = ValueShape::Path;

    fn check(raw: &RawString, setting: &Setting, cx: &mut Checker) -> Option<Spanned<String>> {
        Str::check(raw, setting, cx)
    }

    fn plain(value: &Spanned<String>) -> Option<String> {
        Some(value.value.clone())
    }

    fn default_value(_: &str) -> Option<Option<String>> {
        Some(None)
    }
}

/// The placeholders a [`Template`] understands.
pub trait Placeholders {
    /// Their names, without braces.
    const NAMES: &'static [&'static str];
}

/// `lambda-dir`'s placeholders: `{arch}`, `{target}`, `{profile}`, `{workspace}`.
pub struct OutputPlaceholders;

impl Placeholders for OutputPlaceholders {
    const NAMES: &'static [&'static str] = PLACEHOLDERS;
}

/// `function-name`'s and `layer-name`'s placeholders: `{name}` (the artifact's) and `{arch}`.
pub struct NamePlaceholders;

impl Placeholders for NamePlaceholders {
    const NAMES: &'static [&'static str] = &["name", "arch"];
}

/// A path relative to the manifest with placeholders `{name}` of `P` (`lambda-dir`).
pub struct Template<P>(PhantomData<P>);

impl<P: Placeholders> Kind for Template<P> {
    type Raw = RawString;
    /// The text, placeholders unexpanded.
    type Value = Spanned<String>;
    type Plain = String;
    type Json = String;
    const SHAPE: ValueShape = ValueShape::Path;

    fn check(raw: &RawString, setting: &Setting, cx: &mut Checker) -> Option<Spanned<String>> {
        let v = spanned(&raw.value);
        let before = cx.errors.len();
        cx.non_empty(&v, setting.name, setting.help);
        let names = P::NAMES
            .iter()
            .map(|n| format!("{{{n}}}"))
            .collect::<Vec<_>>();
        let listed = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "none".into(),
        };
        let mut rest = v.value.as_str();
        let mut offset = 0;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                cx.bad(
                    format!("unclosed `{{` in {}", setting.name),
                    v.span,
                    "unclosed placeholder",
                    format!("placeholders are {listed}"),
                );
                break;
            };
            let name = &rest[open + 1..open + close];
            if !P::NAMES.contains(&name) {
                // +1 for the opening quote of the string literal.
                let at = v.span.offset() + 1 + offset + open;
                cx.bad(
                    format!("unknown placeholder `{{{name}}}` in {}", setting.name),
                    SourceSpan::from((at, close + 1)),
                    "unknown placeholder",
                    suggest(name, "placeholders", P::NAMES),
                );
            }
            offset += open + close + 1;
            rest = &rest[open + close + 1..];
        }
        (cx.errors.len() == before).then_some(v)
    }

    fn plain(value: &Spanned<String>) -> String {
        value.value.clone()
    }

    fn default_value(words: &str) -> Option<String> {
        Some(words.to_string())
    }
}

/// Exactly one boolean (`optimizations false`).
pub struct Bool;

impl Kind for Bool {
    type Raw = RawBool;
    type Value = Spanned<bool>;
    type Plain = bool;
    type Json = bool;
    const SHAPE: ValueShape = ValueShape::Bool;

    fn check(raw: &RawBool, _: &Setting, _: &mut Checker) -> Option<Spanned<bool>> {
        Some(spanned(&raw.value))
    }

    fn plain(value: &Spanned<bool>) -> bool {
        value.value
    }

    fn default_value(words: &str) -> Option<bool> {
        words.parse().ok()
    }
}

/// A bare node meaning `true`, or one boolean to turn an inherited one off
/// (`all-features`); its default is `off`.
pub struct Flag;

impl Kind for Flag {
    type Raw = RawFlag;
    type Value = Spanned<bool>;
    type Plain = bool;
    type Json = bool;
    const SHAPE: ValueShape = ValueShape::Flag;

    fn check(raw: &RawFlag, _: &Setting, _: &mut Checker) -> Option<Spanned<bool>> {
        Some(Spanned::new(raw.value, span(&raw.span)))
    }

    fn plain(value: &Spanned<bool>) -> bool {
        value.value
    }

    fn default_value(words: &str) -> Option<bool> {
        match words {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        }
    }
}

/// One or more free strings, each not empty (`features`, `rustflags`).
pub struct Strings;

impl Kind for Strings {
    type Raw = RawStrings;
    type Value = Vec<Spanned<String>>;
    type Plain = Vec<String>;
    type Json = Vec<String>;
    const SHAPE: ValueShape = ValueShape::Strings;

    fn check(raw: &RawStrings, setting: &Setting, cx: &mut Checker) -> Option<Self::Value> {
        if raw.values.is_empty() {
            cx.bad(
                format!("`{}` needs at least one value", setting.name),
                span(&raw.span),
                "no value",
                setting.help,
            );
        }
        let mut out = Vec::with_capacity(raw.values.len());
        for v in &raw.values {
            let v = spanned(v);
            cx.non_empty(&v, setting.name, setting.help);
            out.push(v);
        }
        Some(out)
    }

    fn plain(value: &Self::Value) -> Vec<String> {
        value.iter().map(|v| v.value.clone()).collect()
    }

    fn default_value(_: &str) -> Option<Vec<String>> {
        Some(Vec::new())
    }
}

/// Glob patterns relative to the node's directory that, unlike an include's, may go up with
/// `..` (a build script reads files outside its package), but not be absolute, so that the
/// input key stays the same in every checkout (`cache-key-files`).
pub struct KeyFiles;

impl Kind for KeyFiles {
    type Raw = RawStrings;
    type Value = Vec<Spanned<String>>;
    type Plain = Vec<String>;
    type Json = Vec<String>;
    const SHAPE: ValueShape = ValueShape::Strings;

    fn check(raw: &RawStrings, setting: &Setting, cx: &mut Checker) -> Option<Self::Value> {
        let patterns = Strings::check(raw, setting, cx)?;
        for p in &patterns {
            let absolute = Utf8Path::new(&p.value).is_absolute() || p.value.starts_with('\\');
            if absolute {
                cx.bad(
                    format!("{} pattern `{}` is an absolute path", setting.name, p.value),
                    p.span,
                    "absolute",
                    "patterns are relative to the directory of the node that declares them (`..` may go up), so that every checkout computes the same key",
                );
            } else if let Err(e) = globset::Glob::new(&p.value) {
                cx.bad(
                    format!("`{}` is not a valid glob pattern: {}", p.value, e.kind()),
                    p.span,
                    "invalid glob",
                    "globs use `*`, `**`, `?`, `[abc]` and `{a,b}`",
                );
            }
        }
        Some(patterns)
    }

    fn plain(value: &Self::Value) -> Vec<String> {
        Strings::plain(value)
    }

    fn default_value(_: &str) -> Option<Vec<String>> {
        Some(Vec::new())
    }
}

/// Environment variable names (`cache-key-env`).
pub struct VarNames;

impl Kind for VarNames {
    type Raw = RawStrings;
    type Value = Vec<Spanned<String>>;
    type Plain = Vec<String>;
    type Json = Vec<String>;
    const SHAPE: ValueShape = ValueShape::Strings;

    fn check(raw: &RawStrings, setting: &Setting, cx: &mut Checker) -> Option<Self::Value> {
        let names = Strings::check(raw, setting, cx)?;
        for n in &names {
            if n.value.contains(['=', '\0']) || n.value.chars().any(char::is_whitespace) {
                cx.bad(
                    format!("`{}` is not an environment variable name", n.value),
                    n.span,
                    "bad name",
                    "use letters, digits and `_`",
                );
            }
        }
        Some(names)
    }

    fn plain(value: &Self::Value) -> Vec<String> {
        Strings::plain(value)
    }

    fn default_value(_: &str) -> Option<Vec<String>> {
        Some(Vec::new())
    }
}

/// `include "glob" ... into="dir"` or `include "path" as="name"`: one [`IncludeDecl`] per
/// pattern.
pub struct Include;

impl Kind for Include {
    type Raw = RawInclude;
    type Value = Vec<IncludeDecl>;
    type Plain = Vec<IncludeDecl>;
    type Json = Vec<IncludeModel>;
    const SHAPE: ValueShape = ValueShape::Include;

    fn check(node: &RawInclude, setting: &Setting, cx: &mut Checker) -> Option<Vec<IncludeDecl>> {
        if node.patterns.is_empty() {
            cx.bad(
                format!("`{}` needs at least one glob pattern", setting.name),
                span(&node.span),
                "no pattern",
                setting.help,
            );
        }
        let into = node.into.as_ref().map(spanned);
        if let Some(into) = &into
            && let Err(why) = check_relative(&into.value)
        {
            cx.errors.push(
                ManifestError::new(
                    ErrorCode::IncludeOutside,
                    format!("`into=\"{}\"` {why}", into.value),
                    into.span,
                    "outside the archive",
                )
                .with_help("`into=` names a folder inside the archive, such as `into=\"config\"`"),
            );
        }
        let rename = node.rename.as_ref().map(spanned);
        if let Some(rename) = &rename {
            include_rename(cx, rename, node);
        }
        let mut out = Vec::with_capacity(node.patterns.len());
        for p in &node.patterns {
            let pattern = spanned(p);
            if let Err(why) = check_relative(&pattern.value) {
                cx.errors.push(
                    ManifestError::new(ErrorCode::IncludeOutside, format!("include pattern `{}` {why}", pattern.value), pattern.span, "leaves its base directory")
                        .with_help("include patterns are relative to the directory of the node that declares them and may not leave it"),
                );
            } else if let Err(e) = globset::Glob::new(&pattern.value) {
                cx.bad(
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
        Some(out)
    }

    fn plain(value: &Vec<IncludeDecl>) -> Vec<IncludeDecl> {
        value.clone()
    }

    fn default_value(_: &str) -> Option<Vec<IncludeDecl>> {
        Some(Vec::new())
    }
}

/// `as=` renames one literal path: checked like `into=`, and refused with a wildcard or with
/// several patterns (they would all get the one name).
fn include_rename(cx: &mut Checker, rename: &Spanned<String>, node: &RawInclude) {
    if let Err(why) = check_relative(&rename.value).and_then(|()| {
        if rename.value.split('/').all(|c| c.is_empty() || c == ".") {
            Err("is empty")
        } else {
            Ok(())
        }
    }) {
        cx.errors.push(
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
        cx.bad(
            "`as=` renames one path, but this `include` has several patterns",
            rename.span,
            "one name for several paths",
            "write one `include \"path\" as=\"name\"` per path",
        );
    }
    for p in &node.patterns {
        let p = spanned(p);
        if has_wildcard(&p.value) {
            cx.bad(
                format!("`as=` renames a path, but `{}` is a glob pattern", p.value),
                p.span,
                "a glob",
                "`as=` takes a file or directory written out (`include \"assets/public\" as=\"static\"`); use `into=` to put glob matches under a folder",
            );
        }
    }
}

/// An `include` node.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct IncludeModel {
    /// Glob patterns.
    pub patterns: Vec<String>,
    /// Folder of the archive.
    pub into: Option<String>,
    /// Archive path of the one file or directory a literal pattern names.
    #[serde(rename = "as")]
    pub rename: Option<String>,
}

/// `env KEY="value" ...`: each variable with its value (a later one wins for the same key).
pub struct Env;

impl Kind for Env {
    type Raw = RawEnv;
    type Value = Vec<(String, Spanned<String>)>;
    type Plain = BTreeMap<String, String>;
    type Json = BTreeMap<String, String>;
    const SHAPE: ValueShape = ValueShape::Env;

    fn check(node: &RawEnv, setting: &Setting, cx: &mut Checker) -> Option<Self::Value> {
        if node.vars.is_empty() {
            cx.bad(
                format!(
                    "`{}` needs at least one KEY=\"value\" property",
                    setting.name
                ),
                span(&node.span),
                "no variable",
                setting.help,
            );
        }
        let mut out = Vec::with_capacity(node.vars.len());
        for (k, v) in &node.vars {
            if k.is_empty() || k.contains('=') || k.contains('\0') {
                cx.bad(
                    format!("`{k}` is not an environment variable name"),
                    span(v.span()),
                    "bad name",
                    "use letters, digits and `_`",
                );
            }
            out.push((k.clone(), spanned(v)));
        }
        Some(out)
    }

    fn plain(value: &Self::Value) -> BTreeMap<String, String> {
        value
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    fn default_value(_: &str) -> Option<BTreeMap<String, String>> {
        Some(BTreeMap::new())
    }
}

/// One pattern of an `include` node.
#[derive(Debug, Clone)]
pub struct IncludeDecl {
    /// The glob pattern.
    pub pattern: Spanned<String>,
    /// `into="dir"`.
    pub into: Option<Spanned<String>>,
    /// `as="path"`: the archive path of the file or directory the (literal) pattern names.
    pub rename: Option<Spanned<String>>,
}

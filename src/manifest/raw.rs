//! The KDL document as knus decodes it: strings and spans, no interpretation yet.
//!
//! Values that have a fixed vocabulary (`arch`, `compiler`, ...) are decoded as spanned strings
//! and checked by their kind (`super::kinds`), so that every bad value in a file is reported in
//! one run with the list of valid values, instead of knus stopping at the first conversion error.
//! The settings of a node are one [`RawSettings`], generated from the declarations in
//! `super::settings`, flattened into each node that holds settings.

use std::collections::BTreeMap;

use knus::span::Span;

pub(super) use super::settings::RawSettings;

/// A value with the byte span it was written at.
pub(super) type Sp<T> = knus::span::Spanned<T, Span>;

/// The whole `lambda.kdl`.
#[derive(knus::Decode, Debug, Default)]
#[knus(span_type = Span)]
pub(super) struct RawDocument {
    #[knus(child)]
    pub defaults: Option<RawDefaults>,
    #[knus(child)]
    pub cache: Option<RawString>,
    #[knus(child)]
    pub publish: Option<RawString>,
    #[knus(children(name = "workspace"))]
    pub workspaces: Vec<RawWorkspace>,
}

/// `defaults { ... }`.
#[derive(knus::Decode, Debug, Default)]
#[knus(span_type = Span)]
pub(super) struct RawDefaults {
    #[knus(flatten(child))]
    pub settings: RawSettings,
}

/// `workspace "path" discover=true { ... }`.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub(super) struct RawWorkspace {
    #[knus(span)]
    pub span: Span,
    #[knus(argument)]
    pub path: Sp<String>,
    #[knus(property)]
    pub discover: Option<Sp<bool>>,
    #[knus(children(name = "function"))]
    pub functions: Vec<RawArtifact>,
    #[knus(children(name = "extension"))]
    pub extensions: Vec<RawArtifact>,
    #[knus(flatten(child))]
    pub settings: RawSettings,
}

/// `function "name" ...` or `extension "name" ...`: both accept every property so that a
/// misplaced one (`internal=` on a function) gets a precise error instead of "unexpected".
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub(super) struct RawArtifact {
    #[knus(span)]
    pub span: Span,
    #[knus(argument)]
    pub name: Sp<String>,
    #[knus(property)]
    pub bin: Option<Sp<String>>,
    #[knus(property)]
    pub package: Option<Sp<String>>,
    #[knus(property)]
    pub flatten: Option<Sp<bool>>,
    #[knus(property)]
    pub internal: Option<Sp<bool>>,
    #[knus(flatten(child))]
    pub settings: RawSettings,
}

/// A node with exactly one string argument.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub struct RawString {
    #[knus(argument)]
    pub value: Sp<String>,
}

/// A node with one or more string arguments.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub struct RawStrings {
    #[knus(span)]
    pub span: Span,
    #[knus(arguments)]
    pub values: Vec<Sp<String>>,
}

/// A node with one boolean argument.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub struct RawBool {
    #[knus(argument)]
    pub value: Sp<bool>,
}

/// A bare flag node (`all-features`), optionally `all-features false` to turn an inherited one off.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub struct RawFlag {
    #[knus(span)]
    pub span: Span,
    #[knus(argument, default = true)]
    pub value: bool,
}

/// `include "glob" ... into="dir"`, or `include "path" as="name"`.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub struct RawInclude {
    #[knus(span)]
    pub span: Span,
    #[knus(arguments)]
    pub patterns: Vec<Sp<String>>,
    #[knus(property)]
    pub into: Option<Sp<String>>,
    /// `as=`: the archive path of a literal path (a keyword in Rust, hence the name).
    #[knus(property(name = "as"))]
    pub rename: Option<Sp<String>>,
}

/// `env KEY="value" ...`.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub struct RawEnv {
    #[knus(span)]
    pub span: Span,
    #[knus(properties)]
    pub vars: BTreeMap<String, Sp<String>>,
}

//! The nodes of setting values as knus decodes them: strings and spans, no interpretation yet.
//!
//! Values that have a fixed vocabulary (`arch`, `compiler`, ...) are decoded as spanned strings
//! and checked by their kind (`super::kinds`), so that every bad value in a file is reported in
//! one run with the list of valid values, instead of knus stopping at the first conversion error.

use std::collections::BTreeMap;

use knus::span::Span;

/// A value with the byte span it was written at.
pub(super) type Sp<T> = knus::span::Spanned<T, Span>;

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

//! The KDL document as knus decodes it: strings and spans, no interpretation yet.
//!
//! Values that have a fixed vocabulary (`arch`, `compiler`, ...) are decoded as spanned strings
//! and checked in [`super::validate`], so that every bad value in a file is reported in one run
//! with the list of valid values, instead of knus stopping at the first conversion error.

use std::collections::BTreeMap;

use knus::span::Span;

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
    #[knus(children(name = "include"))]
    pub includes: Vec<RawInclude>,
    #[knus(children(name = "env"))]
    pub env: Vec<RawEnv>,
    #[knus(children(name = "features"))]
    pub features: Vec<RawStrings>,
    #[knus(children(name = "rustflags"))]
    pub rustflags: Vec<RawStrings>,
    #[knus(children(name = "cache-key-files"))]
    pub cache_key_files: Vec<RawStrings>,
    #[knus(children(name = "cache-key-env"))]
    pub cache_key_env: Vec<RawStrings>,
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
    #[knus(children(name = "include"))]
    pub includes: Vec<RawInclude>,
    #[knus(children(name = "env"))]
    pub env: Vec<RawEnv>,
    #[knus(children(name = "features"))]
    pub features: Vec<RawStrings>,
    #[knus(children(name = "rustflags"))]
    pub rustflags: Vec<RawStrings>,
    #[knus(children(name = "cache-key-files"))]
    pub cache_key_files: Vec<RawStrings>,
    #[knus(children(name = "cache-key-env"))]
    pub cache_key_env: Vec<RawStrings>,
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
    #[knus(children(name = "include"))]
    pub includes: Vec<RawInclude>,
    #[knus(children(name = "env"))]
    pub env: Vec<RawEnv>,
    #[knus(children(name = "features"))]
    pub features: Vec<RawStrings>,
    #[knus(children(name = "rustflags"))]
    pub rustflags: Vec<RawStrings>,
    #[knus(children(name = "cache-key-files"))]
    pub cache_key_files: Vec<RawStrings>,
    #[knus(children(name = "cache-key-env"))]
    pub cache_key_env: Vec<RawStrings>,
    #[knus(flatten(child))]
    pub settings: RawSettings,
}

/// The settings that replace (rather than accumulate) down the inheritance chain.
#[derive(knus::Decode, Debug, Default)]
#[knus(span_type = Span)]
pub(super) struct RawSettings {
    #[knus(child)]
    pub arch: Option<RawStrings>,
    #[knus(child)]
    pub profile: Option<RawString>,
    #[knus(child)]
    pub compiler: Option<RawString>,
    #[knus(child)]
    pub output_format: Option<RawString>,
    #[knus(child)]
    pub lambda_dir: Option<RawString>,
    #[knus(child)]
    pub target_dir: Option<RawString>,
    #[knus(child)]
    pub runtime: Option<RawString>,
    #[knus(child)]
    pub optimizations: Option<RawBool>,
    #[knus(child)]
    pub no_default_features: Option<RawFlag>,
    #[knus(child)]
    pub all_features: Option<RawFlag>,
}

/// A node with exactly one string argument.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub(super) struct RawString {
    #[knus(argument)]
    pub value: Sp<String>,
}

/// A node with one or more string arguments.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub(super) struct RawStrings {
    #[knus(span)]
    pub span: Span,
    #[knus(arguments)]
    pub values: Vec<Sp<String>>,
}

/// A node with one boolean argument.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub(super) struct RawBool {
    #[knus(argument)]
    pub value: Sp<bool>,
}

/// A bare flag node (`all-features`), optionally `all-features false` to turn an inherited one off.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub(super) struct RawFlag {
    #[knus(span)]
    pub span: Span,
    #[knus(argument, default = true)]
    pub value: bool,
}

/// `include "glob" ... into="dir"`, or `include "path" as="name"`.
#[derive(knus::Decode, Debug)]
#[knus(span_type = Span)]
pub(super) struct RawInclude {
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
pub(super) struct RawEnv {
    #[knus(span)]
    pub span: Span,
    #[knus(properties)]
    pub vars: BTreeMap<String, Sp<String>>,
}

/// The accumulating settings of one node (`include`, `env`, `features`, `rustflags`,
/// `cache-key-files`, `cache-key-env`), which knus keeps as repeated children of each node.
pub(super) struct RawLists<'a> {
    pub includes: &'a [RawInclude],
    pub env: &'a [RawEnv],
    pub features: &'a [RawStrings],
    pub rustflags: &'a [RawStrings],
    pub cache_key_files: &'a [RawStrings],
    pub cache_key_env: &'a [RawStrings],
}

/// Gives [`RawLists`] for each kind of node that holds settings.
macro_rules! raw_lists {
    ($($t:ty),*) => {$(
        impl $t {
            pub(super) fn lists(&self) -> RawLists<'_> {
                RawLists {
                    includes: &self.includes,
                    env: &self.env,
                    features: &self.features,
                    rustflags: &self.rustflags,
                    cache_key_files: &self.cache_key_files,
                    cache_key_env: &self.cache_key_env,
                }
            }
        }
    )*};
}
raw_lists!(RawDefaults, RawWorkspace, RawArtifact);

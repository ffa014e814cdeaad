//! The typed values of manifest settings, each with the words the manifest accepts for it, and
//! [`Spanned`], a value with where it was written.

use std::fmt;

use miette::SourceSpan;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A CPU architecture Lambda runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Arch {
    /// `x86_64` (aliases `x86-64`, `amd64`).
    #[serde(rename = "x86_64")]
    X86_64,
    /// `arm64` (alias `aarch64`).
    #[serde(rename = "arm64")]
    Arm64,
}

impl Arch {
    /// The name used in `{arch}` and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The first component of the target triple.
    pub fn triple_prefix(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }

    /// The `-C target-cpu` cargo-lambda uses for release builds.
    pub fn target_cpu(self) -> &'static str {
        match self {
            Arch::X86_64 => "haswell",
            Arch::Arm64 => "neoverse-n1",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The C library of a target.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Libc {
    /// glibc, dynamically linked: checked against the runtime's version.
    Gnu,
    /// musl, statically linked.
    Musl,
}

/// A glibc version such as `2.34`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion {
    /// Major version (2).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl GlibcVersion {
    /// Parses `2.34`.
    pub fn parse(s: &str) -> Option<Self> {
        let (major, minor) = s.split_once('.')?;
        if major.is_empty()
            || minor.is_empty()
            || !(major.chars().chain(minor.chars())).all(|c| c.is_ascii_digit())
        {
            return None;
        }
        Some(GlibcVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for GlibcVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GlibcVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GlibcVersion::parse(&s).ok_or_else(|| serde::de::Error::custom("expected MAJOR.MINOR"))
    }
}

impl JsonSchema for GlibcVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GlibcVersion".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[0-9]+\\.[0-9]+$" })
    }
}

/// One entry of `arch`: an architecture, a libc and an optional pinned glibc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetSpec {
    /// The architecture.
    pub arch: Arch,
    /// gnu or musl.
    pub libc: Libc,
    /// A glibc written as a triple suffix (`.2.17`); otherwise the runtime's applies.
    pub glibc: Option<GlibcVersion>,
}

/// The words `arch` accepts besides full triples.
pub const ARCH_WORDS: &[&str] = &["x86_64", "x86-64", "amd64", "arm64", "aarch64"];

/// The regular expression an `arch` value must match (the KDL Schema and the JSON data model).
pub fn arch_pattern() -> String {
    let words = ARCH_WORDS
        .iter()
        .map(|w| regex_escape(w))
        .collect::<Vec<_>>()
        .join("|");
    let triples = TRIPLES
        .iter()
        .map(|t| {
            if t.ends_with("gnu") {
                format!("{}(\\.2\\.[0-9]+)?", regex_escape(t))
            } else {
                regex_escape(t)
            }
        })
        .collect::<Vec<_>>()
        .join("|");
    format!("^({words}|{triples})$")
}

fn regex_escape(s: &str) -> String {
    s.replace('.', "\\.").replace('-', "\\-")
}

/// Every word `arch` accepts, for help lines.
pub fn arch_values() -> Vec<&'static str> {
    ARCH_WORDS.iter().chain(TRIPLES.iter()).copied().collect()
}

/// The full triples `arch` accepts (each optionally with a `.2.xx` glibc suffix on gnu).
pub const TRIPLES: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-gnu",
    "aarch64-unknown-linux-musl",
];

impl TargetSpec {
    /// Parses an `arch` value: an alias, or a triple with an optional glibc suffix.
    pub fn parse(s: &str) -> Result<Self, String> {
        let gnu = |arch| TargetSpec {
            arch,
            libc: Libc::Gnu,
            glibc: None,
        };
        match s {
            "x86_64" | "x86-64" | "amd64" => return Ok(gnu(Arch::X86_64)),
            "arm64" | "aarch64" => return Ok(gnu(Arch::Arm64)),
            _ => {}
        }
        for triple in TRIPLES {
            let Some(rest) = s.strip_prefix(triple) else {
                continue;
            };
            let arch = if triple.starts_with("x86_64") {
                Arch::X86_64
            } else {
                Arch::Arm64
            };
            let libc = if triple.ends_with("musl") {
                Libc::Musl
            } else {
                Libc::Gnu
            };
            if rest.is_empty() {
                return Ok(TargetSpec {
                    arch,
                    libc,
                    glibc: None,
                });
            }
            let Some(version) = rest.strip_prefix('.') else {
                continue;
            };
            if libc == Libc::Musl {
                return Err(format!(
                    "`{triple}` is a musl target: it takes no glibc suffix"
                ));
            }
            return match GlibcVersion::parse(version) {
                Some(v) if v.major == 2 => Ok(TargetSpec {
                    arch,
                    libc,
                    glibc: Some(v),
                }),
                _ => Err(format!(
                    "`{version}` is not a glibc version (expected 2.MINOR, as in `{triple}.2.17`)"
                )),
            };
        }
        Err(format!(
            "`{s}` is not an architecture lambda-batch builds for"
        ))
    }

    /// The target triple, without glibc suffix: `{target}` and cargo's `--target`.
    pub fn triple(&self) -> String {
        let libc = match self.libc {
            Libc::Gnu => "gnu",
            Libc::Musl => "musl",
        };
        format!("{}-unknown-linux-{libc}", self.arch.triple_prefix())
    }
}

/// A value with the span of the manifest text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: SourceSpan,
}

impl<T> Spanned<T> {
    /// Wraps a value with its span.
    pub fn new(value: T, span: SourceSpan) -> Self {
        Spanned { value, span }
    }
}

/// One word of a fixed list: the enum of a one-of setting, declared with [`words!`].
pub trait Word: Copy + fmt::Debug + JsonSchema + Serialize {
    /// Every word, in manifest spelling.
    const ALL: &'static [&'static str];
    /// Parses the manifest spelling.
    fn parse(s: &str) -> Option<Self>;
}

/// Declares the words of a one-of setting as an enum: each variant with its manifest
/// spelling, which serde, the JSON Schema, `ALL`, `parse`, `as_str`, `Display` and
/// [`Word`] (for `kinds::OneOf`) all use.
macro_rules! words {
    ($(
        $(#[doc = $doc:literal])*
        pub enum $name:ident {
            $(
                $(#[doc = $vdoc:literal])*
                $variant:ident = $word:literal,
            )*
        }
    )*) => {$(
        $(#[doc = $doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            ::serde::Serialize,
            ::serde::Deserialize,
            ::schemars::JsonSchema,
        )]
        pub enum $name {
            $(
                $(#[doc = $vdoc])*
                #[serde(rename = $word)]
                $variant,
            )*
        }

        impl $name {
            /// Every word, in manifest spelling.
            pub const ALL: &'static [&'static str] = &[$($word),*];

            /// Parses the manifest spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($word => Some(Self::$variant),)*
                    _ => None,
                }
            }

            /// The manifest spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)*
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::manifest::values::Word for $name {
            const ALL: &'static [&'static str] = Self::ALL;

            fn parse(s: &str) -> Option<Self> {
                Self::parse(s)
            }
        }
    )*};
}
pub(crate) use words;

/// Function or extension.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// A Lambda function: its executable is `bootstrap`.
    Function,
    /// A Lambda extension: its executable lives under `extensions/`.
    Extension,
}

impl ArtifactKind {
    /// The node name.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Function => "function",
            ArtifactKind::Extension => "extension",
        }
    }
}

/// The placeholders `lambda-dir` understands.
pub const PLACEHOLDERS: &[&str] = &["arch", "target", "profile", "workspace"];

/// `template` with each placeholder `{name}` of [`PLACEHOLDERS`] replaced by the value at the
/// same position in `values`.
pub fn expand_placeholders(template: &str, values: [&str; PLACEHOLDERS.len()]) -> String {
    PLACEHOLDERS
        .iter()
        .zip(values)
        .fold(template.to_string(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_triples() {
        assert_eq!(TargetSpec::parse("amd64").unwrap().arch, Arch::X86_64);
        assert_eq!(
            TargetSpec::parse("aarch64").unwrap().triple(),
            "aarch64-unknown-linux-gnu"
        );
        let t = TargetSpec::parse("aarch64-unknown-linux-gnu.2.17").unwrap();
        assert_eq!(
            t.glibc,
            Some(GlibcVersion {
                major: 2,
                minor: 17
            })
        );
        assert_eq!(t.triple(), "aarch64-unknown-linux-gnu");
        assert_eq!(
            TargetSpec::parse("x86_64-unknown-linux-musl").unwrap().libc,
            Libc::Musl
        );
        assert!(TargetSpec::parse("x86_64-unknown-linux-musl.2.17").is_err());
        assert!(TargetSpec::parse("x86_64-unknown-linux-gnu.3").is_err());
        assert!(TargetSpec::parse("x86_64-unknown-linux-gnux").is_err());
        assert!(TargetSpec::parse("sparc").is_err());
    }
}

//! What a run may do with the cache: `read-write`, `read` or `off`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Whether the cache is looked up and whether it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheMode {
    /// Look every executable up; store what was built.
    #[default]
    ReadWrite,
    /// Look every executable up; never write to the cache (pull requests from forks, say).
    Read,
    /// Neither: the cache is not opened at all.
    Off,
}

impl CacheMode {
    /// Every mode, as spelled on the command line.
    pub const NAMES: [&'static str; 3] = ["read-write", "read", "off"];

    /// The mode as spelled on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheMode::ReadWrite => "read-write",
            CacheMode::Read => "read",
            CacheMode::Off => "off",
        }
    }

    /// Whether lookups go to the backend.
    pub fn reads(self) -> bool {
        self != CacheMode::Off
    }

    /// Whether stores go to the backend.
    pub fn writes(self) -> bool {
        self == CacheMode::ReadWrite
    }
}

impl fmt::Display for CacheMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cache mode that is none of [`CacheMode::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("unknown cache mode `{given}`")]
#[diagnostic(
    code(lambda_batch::cache::mode),
    help("the cache mode is one of `read-write`, `read` or `off`")
)]
pub struct UnknownMode {
    /// What was given.
    pub given: String,
}

impl FromStr for CacheMode {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read-write" => Ok(CacheMode::ReadWrite),
            "read" => Ok(CacheMode::Read),
            "off" => Ok(CacheMode::Off),
            _ => Err(UnknownMode {
                given: s.to_owned(),
            }),
        }
    }
}

//! Which cache a run uses and how: `run --cache URL`, else `LAMBDA_BATCH_CACHE`, else the
//! manifest's `cache "URL"` node (a relative directory is taken from the current directory
//! for the first two, from the manifest's directory for the node); `--cache-mode` (or
//! `LAMBDA_BATCH_CACHE_MODE`), `read-write` by default; `--cache-only`.

use camino::Utf8Path;

use super::mode::CacheMode;
use crate::manifest::{CacheLocation, InvalidCacheUrl};

/// The cache of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    /// Where it is.
    pub location: CacheLocation,
    /// What the run may do with it (never `off`: then there is no cache).
    pub mode: CacheMode,
    /// `--cache-only`: never start cargo; what is not in the cache (or up to date here) fails.
    pub cache_only: bool,
}

/// A cache configuration that cannot be used, for people: the message and a help line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

impl From<InvalidCacheUrl> for SettingsError {
    fn from(e: InvalidCacheUrl) -> Self {
        use miette::Diagnostic;
        SettingsError {
            message: e.to_string(),
            help: e.help().map(|h| h.to_string()).unwrap_or_default(),
        }
    }
}

/// The cache a run uses: `flag` (`--cache`, or `LAMBDA_BATCH_CACHE` through it; relative to
/// `cwd`) over the manifest's node `manifest`; `None` without one, or with mode `off`.
pub fn settings(
    flag: Option<&str>,
    manifest: Option<&CacheLocation>,
    mode: CacheMode,
    cache_only: bool,
    cwd: &Utf8Path,
) -> Result<Option<CacheSettings>, SettingsError> {
    let location = match flag.filter(|f| !f.is_empty()) {
        Some(url) => Some(CacheLocation::parse(url, cwd)?),
        None => manifest.cloned(),
    };
    match (location, mode) {
        (_, CacheMode::Off) if cache_only => Err(SettingsError {
            message: "`--cache-only` with `--cache-mode off`: there is no cache to take the executables from".into(),
            help: "leave out one of them".into(),
        }),
        (None, _) if cache_only => Err(SettingsError {
            message: "`--cache-only` needs a cache".into(),
            help: "give `--cache URL`, set LAMBDA_BATCH_CACHE, or add `cache \"URL\"` to lambda.kdl".into(),
        }),
        (None, _) | (_, CacheMode::Off) => Ok(None),
        (Some(location), mode) => Ok(Some(CacheSettings {
            location,
            mode,
            cache_only,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_manifest_and_paths_are_taken_from_where_they_were_given() {
        let cwd = Utf8Path::new("/work");
        let node = CacheLocation::Directory {
            path: "/repo/ci-cache".into(),
        };
        let rw = CacheMode::ReadWrite;
        let got = settings(Some("cache"), Some(&node), rw, false, cwd)
            .unwrap()
            .unwrap();
        assert_eq!(
            got.location,
            CacheLocation::Directory {
                path: "/work/cache".into()
            }
        );
        let got = settings(None, Some(&node), CacheMode::Read, true, cwd)
            .unwrap()
            .unwrap();
        assert_eq!(
            (got.location, got.mode, got.cache_only),
            (node.clone(), CacheMode::Read, true)
        );
        // An empty LAMBDA_BATCH_CACHE is no cache.
        assert_eq!(
            settings(Some(""), Some(&node), rw, false, cwd)
                .unwrap()
                .unwrap()
                .location,
            node
        );
        assert_eq!(settings(None, None, rw, false, cwd), Ok(None));
        assert_eq!(
            settings(None, Some(&node), CacheMode::Off, false, cwd),
            Ok(None)
        );
    }

    #[test]
    fn what_cannot_work_is_said() {
        let cwd = Utf8Path::new("/work");
        let err = settings(None, None, CacheMode::ReadWrite, true, cwd).unwrap_err();
        assert!(err.message.contains("needs a cache"), "{err:?}");
        let node = CacheLocation::Directory { path: "/c".into() };
        let err = settings(None, Some(&node), CacheMode::Off, true, cwd).unwrap_err();
        assert!(err.message.contains("--cache-mode off"), "{err:?}");
        let err = settings(Some("gs://b/p"), None, CacheMode::ReadWrite, false, cwd).unwrap_err();
        assert!(err.message.contains("gs://"), "{err:?}");
        assert!(err.help.contains("s3://"), "{err:?}");
    }
}

//! Where the shared artifact cache lives: a directory (a plain path or a `file://` URL) or an
//! S3 bucket and prefix (`s3://bucket/prefix`). A value of the manifest's `cache` node (checked
//! with the rest of the manifest) as much as of `run --cache`; the cache stage opens it.

use std::fmt;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

/// A parsed cache URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "backend", rename_all = "kebab-case")]
pub enum CacheLocation {
    /// A directory on a local or network file system (CI cache actions, NFS, EFS).
    Directory {
        /// The directory, absolute.
        path: Utf8PathBuf,
    },
    /// A prefix in an S3 bucket (or an S3-compatible server's, through `AWS_ENDPOINT_URL`).
    S3 {
        /// The bucket's name.
        bucket: String,
        /// The key prefix inside the bucket, without leading or trailing `/`; may be empty.
        prefix: String,
    },
}

/// A cache URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("invalid cache URL `{url}`: {reason}")]
#[diagnostic(
    code(lambda_batch::cache::url),
    help(
        "a cache is a directory (`/path/to/cache`, `file:///path/to/cache`) or an S3 prefix (`s3://bucket/prefix`)"
    )
)]
pub struct InvalidCacheUrl {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: String,
}

impl CacheLocation {
    /// Parses a cache URL; a relative directory is taken relative to `base` (the current
    /// directory for a flag or the environment, the manifest's directory for the manifest).
    pub fn parse(url: &str, base: &Utf8Path) -> Result<Self, InvalidCacheUrl> {
        let invalid = |reason: &str| InvalidCacheUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        if url.trim().is_empty() {
            return Err(invalid("it is empty"));
        }
        if url.chars().any(char::is_control) {
            return Err(invalid("it contains a control character"));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = parse_s3(rest).map_err(|reason| invalid(&reason))?;
            return Ok(CacheLocation::S3 { bucket, prefix });
        }
        if url.starts_with("file:") {
            let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
            let path = parsed
                .to_file_path()
                .map_err(|()| invalid("a file URL names an absolute local path"))?;
            let path = Utf8PathBuf::from_path_buf(path)
                .map_err(|_| invalid("the path is not valid UTF-8"))?;
            return Ok(CacheLocation::Directory { path });
        }
        if let Some((scheme, _)) = url.split_once("://") {
            if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(invalid(&format!(
                    "`{scheme}://` is not a supported backend (supported: a directory, `file://`, `s3://`)"
                )));
            }
        }
        let path = Utf8Path::new(url);
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            base.join(path)
        };
        Ok(CacheLocation::Directory { path })
    }

    /// The backend's name: `directory` or `s3`.
    pub fn backend(&self) -> &'static str {
        match self {
            CacheLocation::Directory { .. } => "directory",
            CacheLocation::S3 { .. } => "s3",
        }
    }
}

/// `bucket/prefix/...` after `s3://`: the bucket and the normalized prefix.
pub(super) fn parse_s3(rest: &str) -> Result<(String, String), String> {
    if rest.contains(['?', '#']) {
        return Err("an S3 URL has no query or fragment".to_owned());
    }
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err("the bucket name is missing (`s3://bucket/prefix`)".to_owned());
    }
    // S3's own rules for bucket names, so that a typo fails here and not as a 400 later.
    let valid_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let valid_ends = bucket.as_bytes()[0].is_ascii_alphanumeric()
        && bucket.as_bytes()[bucket.len() - 1].is_ascii_alphanumeric();
    if !(3..=63).contains(&bucket.len()) || !valid_chars || !valid_ends {
        return Err(format!(
            "`{bucket}` is not a bucket name (3 to 63 lowercase letters, digits, `.` and `-`)"
        ));
    }
    let mut segments = Vec::new();
    for segment in prefix.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." {
            return Err("the prefix has a `.` or `..` segment".to_owned());
        }
        segments.push(segment);
    }
    Ok((bucket.to_owned(), segments.join("/")))
}

impl fmt::Display for CacheLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheLocation::Directory { path } => write!(f, "{path}"),
            CacheLocation::S3 { bucket, prefix } if prefix.is_empty() => {
                write!(f, "s3://{bucket}")
            }
            CacheLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

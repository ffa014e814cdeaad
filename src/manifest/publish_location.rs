//! Where `publish` puts the zips: an S3 bucket and a key prefix (`s3://bucket/prefix`). A value
//! of the manifest's top-level `publish` node (checked with the rest of the manifest) as much
//! as of `publish --to`; the publish stage uploads there.

use std::fmt;

use super::cache_location::parse_s3;

/// A parsed `s3://bucket/prefix` destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishLocation {
    /// The bucket's name.
    pub bucket: String,
    /// The key prefix inside the bucket, without leading or trailing `/`; may be empty.
    pub prefix: String,
}

/// A destination that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid publish destination `{url}`: {reason}")]
pub struct InvalidPublishUrl {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: String,
}

impl PublishLocation {
    /// Parses `s3://bucket/prefix` (S3's rules for bucket names; no `.`/`..` segments).
    pub fn parse(url: &str) -> Result<PublishLocation, InvalidPublishUrl> {
        let invalid = |reason: String| InvalidPublishUrl {
            url: url.to_owned(),
            reason,
        };
        if url.chars().any(char::is_control) {
            return Err(invalid("it contains a control character".to_owned()));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(invalid(
                "zips are published to S3: write `s3://bucket/prefix`".to_owned(),
            ));
        };
        let (bucket, prefix) = parse_s3(rest).map_err(invalid)?;
        Ok(PublishLocation { bucket, prefix })
    }
}

impl fmt::Display for PublishLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PublishLocation;

    #[test]
    fn s3_urls_give_bucket_and_prefix_and_nothing_else_is_a_destination() {
        let l = PublishLocation::parse("s3://releases/lambda//v1/").unwrap();
        assert_eq!(
            (l.bucket.as_str(), l.prefix.as_str()),
            ("releases", "lambda/v1")
        );
        assert_eq!(l.to_string(), "s3://releases/lambda/v1");
        assert_eq!(PublishLocation::parse("s3://releases").unwrap().prefix, "");
        for bad in [
            "releases/x",
            "file:///tmp/x",
            "s3://",
            "s3://A_B/x",
            "s3://b1/../x",
            "s3://bb/x?y",
        ] {
            let e = PublishLocation::parse(bad).unwrap_err();
            assert_eq!(e.url, bad);
            assert!(!e.reason.is_empty());
        }
    }
}

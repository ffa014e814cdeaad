//! What `cache prune` says for an S3 cache: the lifecycle rule that expires its objects, for
//! `aws s3api put-bucket-lifecycle-configuration`. S3 has no "last used" a client can read
//! cheaply (no access times; listing a large prefix costs a request per 1000 objects and races
//! with every writer), while a lifecycle rule expires objects inside S3, for free, by age.

use std::time::Duration;

/// The age the rule uses when only `--max-size` was given (S3 expires by age, not by size).
pub const DEFAULT_DAYS: u64 = 30;

/// The lifecycle configuration expiring the cache's objects under `prefix` (the cache's own
/// prefix, empty for a whole bucket) after `days`, and abandoning multipart uploads that a
/// killed store left after one day.
pub fn rule(prefix: &str, days: u64) -> serde_json::Value {
    let prefix = if prefix.is_empty() {
        "v2/".to_string()
    } else {
        format!("{prefix}/v2/")
    };
    serde_json::json!({
        "Rules": [{
            "ID": "lambda-batch-cache-expiry",
            "Filter": { "Prefix": prefix },
            "Status": "Enabled",
            "Expiration": { "Days": days },
            "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 1 }
        }]
    })
}

/// Whole days for `age`, at least one (S3's smallest expiration).
pub fn days(age: Duration) -> u64 {
    age.as_secs().div_ceil(86_400).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_names_the_cache_prefix_and_whole_days() {
        let r = rule("ci/cache", 30);
        assert_eq!(r["Rules"][0]["Filter"]["Prefix"], "ci/cache/v2/");
        assert_eq!(r["Rules"][0]["Expiration"]["Days"], 30);
        assert_eq!(rule("", 1)["Rules"][0]["Filter"]["Prefix"], "v2/");
        assert_eq!(days(Duration::from_secs(12 * 3600)), 1);
        assert_eq!(days(Duration::ZERO), 1);
        assert_eq!(days(Duration::from_secs(30 * 86_400)), 30);
        assert_eq!(days(Duration::from_secs(30 * 86_400 + 1)), 31);
    }
}

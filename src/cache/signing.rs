//! Signed entries: with a secret in [`SIGNING_KEY_VAR`], every record stored carries an
//! HMAC-SHA256 over its key, its executable's digest and the record itself, and every record
//! read must carry one that verifies. The blob is verified against the record's digest (as
//! always), so a valid signature vouches for the executable's bytes too: whoever can write to
//! the cache but does not hold the secret cannot make a runner that holds it use an executable
//! of theirs (as Turborepo's `TURBO_REMOTE_CACHE_SIGNATURE_KEY` does for its remote cache).
//!
//! The secret is never printed: [`SigningKey`]'s `Debug` shows no byte of it, and no message
//! names more than the variable.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::record::Record;
use crate::fingerprint::hex;

/// The variable that holds the signing secret. Empty is unset: GitHub Actions hands a
/// workflow started from a fork an empty string for every secret.
pub const SIGNING_KEY_VAR: &str = "LAMBDA_BATCH_CACHE_SIGNING_KEY";

/// What the MAC is over, first: the version of this recipe.
const DOMAIN: &[u8] = b"lambda-batch cache entry signature 1\0";

/// The secret that signs and verifies entries.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// Why a record is not trusted under a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Untrusted {
    /// It carries no signature.
    Unsigned,
    /// Its signature is not this key's over this record.
    WronglySigned,
}

impl SigningKey {
    /// The key of `secret`; `None` when it is empty.
    pub fn new(secret: impl Into<Vec<u8>>) -> Option<SigningKey> {
        let secret = secret.into();
        (!secret.is_empty()).then_some(SigningKey(secret))
    }

    /// The key in this process's [`SIGNING_KEY_VAR`], if it is set and not empty.
    pub fn from_env() -> Option<SigningKey> {
        std::env::var_os(SIGNING_KEY_VAR)
            .and_then(|v| SigningKey::new(std::os::unix::ffi::OsStringExt::into_vec(v)))
    }

    fn mac(&self, record: &Record) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        let mut unsigned = record.clone();
        unsigned.signature = None;
        for part in [
            DOMAIN,
            record.key.as_str().as_bytes(),
            b"\0",
            record.sha256.as_bytes(),
            b"\0",
            &unsigned.to_json(),
        ] {
            mac.update(part);
        }
        mac
    }

    /// The signature of `record` (whatever signature it carries), lowercase hex.
    pub(crate) fn sign(&self, record: &Record) -> String {
        hex(&self.mac(record).finalize().into_bytes())
    }

    /// Whether `record` carries this key's signature over itself (compared in constant time).
    pub(crate) fn verify(&self, record: &Record) -> Result<(), Untrusted> {
        let Some(signature) = &record.signature else {
            return Err(Untrusted::Unsigned);
        };
        let bytes = unhex(signature).ok_or(Untrusted::WronglySigned)?;
        self.mac(record)
            .verify_slice(&bytes)
            .map_err(|_| Untrusted::WronglySigned)
    }
}

/// The bytes of lowercase or uppercase hex.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::cache::{CacheKey, RecordFields};

    fn record() -> Record {
        Record::new(
            &CacheKey::new("k1").unwrap(),
            &[7; 32],
            10,
            "bootstrap",
            &RecordFields::default(),
            UNIX_EPOCH,
        )
    }

    #[test]
    fn a_signature_covers_the_key_the_digest_and_the_record() {
        let key = SigningKey::new("secret").unwrap();
        let mut signed = record();
        assert_eq!(key.verify(&signed), Err(Untrusted::Unsigned));
        signed.signature = Some(key.sign(&signed));
        assert_eq!(key.verify(&signed), Ok(()));
        // Signing is over the record without its signature: the same either way.
        assert_eq!(key.sign(&signed), signed.signature.clone().unwrap());

        let other = SigningKey::new("other").unwrap();
        assert_eq!(other.verify(&signed), Err(Untrusted::WronglySigned));
        let changes: [fn(&mut Record); 5] = [
            |r| r.sha256 = "8".repeat(64),
            |r| r.key = CacheKey::new("k2").unwrap(),
            |r| r.size += 1,
            |r| {
                r.env.insert("GIT_SHA".into(), None);
            },
            |r| r.signature = Some("zz".into()),
        ];
        for change in changes {
            let mut forged = signed.clone();
            change(&mut forged);
            assert_eq!(key.verify(&forged), Err(Untrusted::WronglySigned));
        }
    }

    #[test]
    fn an_empty_secret_is_no_key_and_none_is_ever_shown() {
        assert!(SigningKey::new("").is_none());
        let key = SigningKey::new("hunter2").unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey(..)");
        assert_eq!(unhex("0aFf"), Some(vec![10, 255]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("é1"), None);
    }
}

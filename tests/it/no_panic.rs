//! No input makes lambda-batch panic: every prefix of the root manifest and thousands of
//! random byte mutations of it go through the whole check pipeline (decode, resolve, plan,
//! diagnostics rendering), and a sample of them through the real binary, which must exit
//! cleanly with 0 or 2.

use std::sync::{Mutex, PoisonError};

use camino::Utf8PathBuf;
use lambda_batch::pipeline::check_text;
use lambda_batch::report::diagnostics::render;

use crate::support::test::{Invocation, repo};

fn root() -> Utf8PathBuf {
    Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `render` replaces the process's panic hook with a silent one while it draws (miette's
/// renderer can panic, and the diagnostic is then printed plainly), and puts the previous one
/// back. Two threads doing that at once can leave the silent hook installed for the rest of
/// the test binary, and every later failing test without its message: one render at a time.
static RENDERING: Mutex<()> = Mutex::new(());

/// Runs one text through the pipeline in-process; a panic fails the test with the input.
fn check_in_process(text: &str, what: &str) -> bool {
    let path = root().join("lambda.kdl");
    let result = std::panic::catch_unwind(|| match check_text(&path, text) {
        Ok(_) => true,
        Err(errors) => {
            assert!(!errors.0.is_empty(), "an error result with no diagnostic");
            for e in &errors.0 {
                let drawn = {
                    let _alone = RENDERING.lock().unwrap_or_else(PoisonError::into_inner);
                    render(e, false)
                };
                assert!(!drawn.is_empty());
            }
            false
        }
    });
    match result {
        Ok(ok) => ok,
        Err(_) => panic!("panicked on {what}:\n{text}"),
    }
}

fn mutations(seed: u64, count: usize) -> Vec<Vec<u8>> {
    let original = std::fs::read(root().join("lambda.kdl")).unwrap();
    let alphabet: &[u8] = b"{}\"=;\\/*()#-.0123456789 \n\tabcxyz_\xc3\xa9\xff\x00";
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len().max(1));
                match rng.below(4) {
                    0 => bytes[at] ^= 1 << rng.below(8),
                    1 => bytes[at] = alphabet[rng.below(alphabet.len())],
                    2 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, alphabet[rng.below(alphabet.len())]),
                }
            }
            bytes
        })
        .collect()
}

#[test]
fn every_prefix_of_the_manifest_is_handled() {
    let text = std::fs::read_to_string(root().join("lambda.kdl")).unwrap();
    let mut valid = 0;
    for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
        if check_in_process(&text[..end], &format!("prefix of {end} bytes")) {
            valid += 1;
        }
    }
    assert!(
        check_in_process(&text, "the whole manifest"),
        "the root manifest must be valid"
    );
    // Only prefixes that end after a complete workspace node can be valid.
    assert!(
        valid < text.len() / 10,
        "{valid} prefixes valid: the checker accepts truncated input"
    );
}

#[test]
fn random_mutations_are_handled() {
    for (i, bytes) in mutations(0x5eed, 1500).into_iter().enumerate() {
        let text = String::from_utf8_lossy(&bytes);
        check_in_process(&text, &format!("mutation {i}"));
    }
}

#[test]
fn the_binary_exits_cleanly_on_broken_input() {
    let dir = tempfile::tempdir().unwrap();
    // Keep the manifest's relative workspace paths meaningful: write next to the root's.
    let text = std::fs::read(root().join("lambda.kdl")).unwrap();
    let mut inputs: Vec<Vec<u8>> = (0..text.len())
        .step_by(37)
        .map(|n| text[..n].to_vec())
        .collect();
    inputs.extend(mutations(0xbad, 60));
    for (i, bytes) in inputs.iter().enumerate() {
        let file = dir.path().join(format!("m{i}.kdl"));
        std::fs::write(&file, bytes).unwrap();
        let out = Invocation::lb(&repo(), &["check"]).arg(&file).output();
        let stderr = &out.stderr;
        assert!(
            matches!(out.code, 0 | 2),
            "input {i}: exit {}\n{stderr}",
            out.code
        );
        assert!(
            !stderr.contains("panicked"),
            "input {i} panicked:\n{stderr}"
        );
        if out.code == 2 {
            assert!(
                stderr.contains("×") || stderr.contains("error"),
                "input {i}: exit 2 without a diagnostic:\n{stderr}"
            );
        }
    }
}

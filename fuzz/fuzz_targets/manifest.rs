//! The manifest path: bytes → text (UTF-8 and size checked) → decode → resolve against the
//! fixture's workspaces (no cargo started) → plan, and every diagnostic rendered. Any panic,
//! stack overflow or time-out is a finding.
#![no_main]

use lambda_batch::manifest::limits;
use lambda_batch::pipeline::check_text_loaded;
use lambda_batch_fuzz::{fixture, load, print};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fx = fixture();
    let text = match limits::from_bytes("lambda.kdl", data.to_vec()) {
        Ok(text) => text,
        Err(errors) => return print(&errors),
    };
    match check_text_loaded(&fx.manifest, &text, &load) {
        Ok(checked) => {
            let _ = serde_json::to_string(&checked.plan);
            let _ = lambda_batch::commands::plan::text(&checked.plan);
        }
        Err(errors) => print(&errors),
    }
});

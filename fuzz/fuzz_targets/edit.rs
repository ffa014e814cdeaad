//! The editing path: the first byte chooses an edit and a level, the rest is the manifest.
//! Parse (kdl crate), edit, validate the result as `check` does (against the fixture's
//! workspaces, no cargo started), print it and its diagnostics. Beyond panics, one property:
//! an edit that succeeds gives text the editor reads back.
#![no_main]

use lambda_batch::edit::add::{self, NewArtifact};
use lambda_batch::edit::{Document, Level, format, remove, set};
use lambda_batch::manifest::values::ArtifactKind;
use lambda_batch::pipeline::check_text_loaded;
use lambda_batch_fuzz::{fixture, load, print};
use libfuzzer_sys::fuzz_target;

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let fx = fixture();
    let text = String::from_utf8_lossy(rest);
    let Ok(mut doc) = Document::parse(&fx.manifest, &text) else {
        return;
    };
    let level = match op & 3 {
        0 => Level::Defaults,
        1 => Level::from_flags(Some("ws"), None),
        2 => Level::from_flags(None, Some("get-product")),
        _ => Level::from_flags(Some("ws"), Some("telemetry")),
    };
    let mut new = NewArtifact::new(ArtifactKind::Extension, "new-ext", "ws");
    new.settings = vec![
        ("arch", words(&["arm64", "x86_64"])),
        ("include", words(&["config/*.toml"])),
    ];
    let edited = match (op >> 2) % 8 {
        0 => set::set(&mut doc, &level, "arch", &words(&["arm64"])),
        1 => set::unset(&mut doc, &level, "include", &[]),
        2 => set::set(&mut doc, &level, "env", &words(&["A=1", "B=two words"])),
        3 => add::artifact(&mut doc, &new),
        4 => add::workspace(&mut doc, "ws2", true),
        5 => remove::artifact(&mut doc, "put-product", None),
        6 => set::set(
            &mut doc,
            &level,
            "include",
            &words(&["config/*.toml", "into=cfg"]),
        ),
        _ => format::format(&doc).map(|_| String::new()),
    };
    let out = doc.render();
    if edited.is_ok() {
        assert!(
            Document::parse(&fx.manifest, &out).is_ok(),
            "an edit gave text the editor cannot read back:\n{out}"
        );
    }
    if let Err(errors) = check_text_loaded(&fx.manifest, &out, &load) {
        print(&errors);
    }
});

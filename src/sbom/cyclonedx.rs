//! One artifact's CycloneDX 1.5 JSON document: a pure function of what the artifact was built
//! from (its package's closure, the lock file) and of what came out (the output's SHA-256).
//!
//! The document holds no timestamp and no serial number, so the same inputs give the same
//! bytes on every machine and in every checkout: path packages are named relative to the
//! artifact's package, keys are sorted, lists ordered by purl. `SOURCE_DATE_EPOCH`, when set,
//! is written as `metadata.timestamp`.

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8Path;
use serde_json::{Value, json};

use super::lock::Lock;
use super::purl::{self, Label};
use crate::resolve::View;

/// What one artifact's SBOM is made of.
pub(super) struct Input<'a> {
    /// The artifact's name.
    pub name: &'a str,
    /// Its target triple.
    pub target: &'a str,
    /// The output's file name (`bootstrap.zip`, `bootstrap`, `ext.zip`).
    pub output: &'a str,
    /// The output's SHA-256, hex.
    pub sha256: &'a str,
    /// The artifact's package's closure for its target and features.
    pub view: &'a View,
    /// The workspace's lock file.
    pub lock: &'a Lock,
    /// The artifact's package's directory: path packages are named relative to it.
    pub package_dir: &'a Utf8Path,
    /// `SOURCE_DATE_EPOCH`, when set.
    pub source_date_epoch: Option<i64>,
}

/// The CycloneDX specification version written.
pub const SPEC_VERSION: &str = "1.5";

/// The `bom-ref` of the artifact itself (`metadata.component`).
const ARTIFACT_REF: &str = "artifact";

/// The document, pretty-printed, with a final newline.
pub(super) fn render(input: &Input<'_>) -> String {
    let mut text =
        serde_json::to_string_pretty(&document(input)).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// The document as a JSON value.
pub(super) fn document(input: &Input<'_>) -> Value {
    let view = input.view;
    // Every package of the closure, the root included, once whatever it is compiled for; a
    // package compiled only for the host (a build script's or proc-macro's dependency) is not
    // inside the executable: its scope is `excluded`.
    let mut packages: BTreeMap<String, bool> = BTreeMap::new();
    packages.insert(view.root.clone(), true);
    for node in view.nodes.keys() {
        let inside = packages
            .entry(crate::resolve::package_of(&node.package))
            .or_insert(false);
        *inside |= !node.host;
    }
    let refs: BTreeMap<&str, String> = packages
        .keys()
        .map(|p| (p.as_str(), purl_of(p, input)))
        .collect();

    let mut components: Vec<(String, Value)> = packages
        .iter()
        .map(|(p, inside)| {
            let purl = refs[p.as_str()].clone();
            (
                purl.clone(),
                component(p, purl, *inside, p == &view.root, input),
            )
        })
        .collect();
    components.sort_by(|a, b| a.0.cmp(&b.0));

    let root_ref = refs[view.root.as_str()].clone();
    let mut dependencies: Vec<Value> = vec![json!({
        "ref": ARTIFACT_REF,
        "dependsOn": [root_ref],
    })];
    let mut by_ref: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in packages.keys() {
        let on = view
            .edges
            .get(p)
            .into_iter()
            .flatten()
            .filter_map(|d| refs.get(d.as_str()).cloned())
            .collect();
        by_ref.insert(refs[p.as_str()].clone(), on);
    }
    dependencies.extend(
        by_ref
            .into_iter()
            .map(|(r, on)| json!({ "ref": r, "dependsOn": on })),
    );

    let root = Label::parse(&view.root);
    let mut artifact = json!({
        "type": "application",
        "bom-ref": ARTIFACT_REF,
        "name": input.name,
        "hashes": [{ "alg": "SHA-256", "content": input.sha256 }],
        "properties": [
            { "name": "lambda-batch:output", "value": input.output },
            { "name": "lambda-batch:package", "value": root.name },
            { "name": "lambda-batch:target", "value": input.target },
        ],
    });
    if let Some(version) = root.version {
        artifact["version"] = json!(version);
    }
    let mut metadata = json!({
        "tools": {
            "components": [{
                "type": "application",
                "name": "lambda-batch",
                "version": env!("CARGO_PKG_VERSION"),
            }],
        },
        "component": artifact,
    });
    if let Some(ts) = input.source_date_epoch.and_then(timestamp) {
        metadata["timestamp"] = json!(ts);
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": metadata,
        "components": components.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
        "dependencies": dependencies,
    })
}

/// One package as a component.
fn component(label: &str, purl: String, inside: bool, root: bool, input: &Input<'_>) -> Value {
    let l = Label::parse(label);
    let mut c = json!({
        "type": if root { "application" } else { "library" },
        "bom-ref": purl,
        "name": l.name,
        "purl": purl,
        "scope": if inside { "required" } else { "excluded" },
    });
    if let Some(version) = l.version {
        c["version"] = json!(version);
    }
    if let Some(checksum) = l
        .version
        .filter(|_| l.path.is_none())
        .and_then(|v| input.lock.find(l.name, v, l.source))
        .and_then(|e| e.checksum.as_deref())
    {
        c["hashes"] = json!([{ "alg": "SHA-256", "content": checksum }]);
    }
    if let Some(license) = input.view.licenses.get(label) {
        c["licenses"] = json!([{ "expression": spdx(license) }]);
    }
    c
}

/// The purl of the package `label` (`pkg:cargo/NAME@VERSION` with its source as a qualifier).
fn purl_of(label: &str, input: &Input<'_>) -> String {
    let l = Label::parse(label);
    if let Some(dir) = l.path {
        return purl::path(
            l.name,
            l.version,
            &relative(Utf8Path::new(dir), input.package_dir),
        );
    }
    let source = l
        .version
        .and_then(|v| input.lock.find(l.name, v, l.source))
        .and_then(|e| e.source.as_deref());
    purl::of(l.name, l.version, source)
}

/// A license as cargo's manifests write it, as an SPDX expression: the old `MIT/Apache-2.0`
/// form means `MIT OR Apache-2.0`.
fn spdx(license: &str) -> String {
    license
        .split('/')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// `dir` relative to `base` (both absolute), `.` when they are the same.
fn relative(dir: &Utf8Path, base: &Utf8Path) -> String {
    let d: Vec<&str> = dir.components().map(|c| c.as_str()).collect();
    let b: Vec<&str> = base.components().map(|c| c.as_str()).collect();
    let common = d.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; b.len() - common];
    parts.extend(&d[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// RFC 3339 (UTC, seconds) of `epoch`, when it is a time `SystemTime` holds.
fn timestamp(epoch: i64) -> Option<String> {
    let epoch = u64::try_from(epoch).ok()?;
    let t = std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(epoch))?;
    Some(humantime::format_rfc3339_seconds(t).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        View::parse(
            "\
app v0.1.0 (/repo/fns/app)|MIT|
|-- shared v0.2.0 (/repo/libs/shared)||
|   `-- log v0.4.22|MIT/Apache-2.0|std
|-- gitdep v1.0.0 (https://github.com/o/gitdep?branch=main#0123abcd)|Apache-2.0|
`-- serde_derive v1.0.200 (proc-macro)|MIT OR Apache-2.0|default
    `-- quote v1.0.36|MIT OR Apache-2.0|proc-macro
",
        )
        .unwrap()
    }

    fn lock() -> Lock {
        Lock::parse(
            r#"
version = 4

[[package]]
name = "log"
version = "0.4.22"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "a7a70ba024b9dc04c27ea2f0c0548feb474ec5c54bba33a7f72f873a39d07b24"

[[package]]
name = "gitdep"
version = "1.0.0"
source = "git+https://github.com/o/gitdep?branch=main#0123abcd0123abcd0123abcd0123abcd0123abcd"

[[package]]
name = "quote"
version = "1.0.36"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0fa76aaf39101c457836aec0ce2316dbdc3ab723cdda1c6bd4e6ad4208acaca7"

[[package]]
name = "serde_derive"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "856f046b9400cee3c8c94ed572ecdb752444c24528c035cd35882aad6f492bcb"

[[package]]
name = "shared"
version = "0.2.0"
"#,
        )
    }

    fn input<'a>(view: &'a View, lock: &'a Lock, dir: &'a Utf8Path) -> Input<'a> {
        Input {
            name: "app",
            target: "x86_64-unknown-linux-gnu",
            output: "bootstrap.zip",
            sha256: "00ff",
            view,
            lock,
            package_dir: dir,
            source_date_epoch: None,
        }
    }

    #[test]
    fn every_package_once_with_purl_hash_license_and_scope() {
        let (v, l) = (view(), lock());
        let doc = document(&input(&v, &l, Utf8Path::new("/repo/fns/app")));
        let comps = doc["components"].as_array().unwrap();
        let purls: Vec<&str> = comps.iter().map(|c| c["purl"].as_str().unwrap()).collect();
        assert_eq!(
            purls,
            [
                "pkg:cargo/app@0.1.0?download_url=file%3A%2F%2F.",
                "pkg:cargo/gitdep@1.0.0?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fo%2Fgitdep%3Fbranch%3Dmain%400123abcd0123abcd0123abcd0123abcd0123abcd",
                "pkg:cargo/log@0.4.22",
                "pkg:cargo/quote@1.0.36",
                "pkg:cargo/serde_derive@1.0.200",
                "pkg:cargo/shared@0.2.0?download_url=file%3A%2F%2F..%2F..%2Flibs%2Fshared",
            ]
        );
        let by = |p: &str| comps.iter().find(|c| c["purl"] == p).unwrap().clone();
        let log = by("pkg:cargo/log@0.4.22");
        assert_eq!(log["scope"], "required");
        assert_eq!(log["licenses"][0]["expression"], "MIT OR Apache-2.0");
        assert_eq!(
            log["hashes"][0]["content"],
            "a7a70ba024b9dc04c27ea2f0c0548feb474ec5c54bba33a7f72f873a39d07b24"
        );
        assert_eq!(by("pkg:cargo/quote@1.0.36")["scope"], "excluded");
        assert_eq!(by("pkg:cargo/serde_derive@1.0.200")["scope"], "excluded");
        assert!(by(purls[1]).get("hashes").is_none());
        let app = &doc["metadata"]["component"];
        assert_eq!(app["hashes"][0]["content"], "00ff");
        assert_eq!(app["version"], "0.1.0");
        assert!(doc["metadata"].get("timestamp").is_none());
        assert!(doc.get("serialNumber").is_none());
        let deps = doc["dependencies"].as_array().unwrap();
        assert_eq!(deps.len(), 7);
        assert_eq!(deps[0]["dependsOn"][0], purls[0]);
        let shared = deps.iter().find(|d| d["ref"] == purls[5]).unwrap();
        assert_eq!(shared["dependsOn"], json!(["pkg:cargo/log@0.4.22"]));
    }

    #[test]
    fn the_same_closure_elsewhere_gives_the_same_bytes() {
        let l = lock();
        let here = view();
        let there = View::parse(
            &"\
app v0.1.0 (/repo/fns/app)|MIT|
|-- shared v0.2.0 (/repo/libs/shared)||
|   `-- log v0.4.22|MIT/Apache-2.0|std
|-- gitdep v1.0.0 (https://github.com/o/gitdep?branch=main#0123abcd)|Apache-2.0|
`-- serde_derive v1.0.200 (proc-macro)|MIT OR Apache-2.0|default
    `-- quote v1.0.36|MIT OR Apache-2.0|proc-macro
"
            .replace("/repo/", "/elsewhere/checkout/"),
        )
        .unwrap();
        assert_eq!(
            render(&input(&here, &l, Utf8Path::new("/repo/fns/app"))),
            render(&input(
                &there,
                &l,
                Utf8Path::new("/elsewhere/checkout/fns/app")
            ))
        );
    }

    #[test]
    fn source_date_epoch_is_the_timestamp() {
        let (v, l) = (view(), lock());
        let mut i = input(&v, &l, Utf8Path::new("/repo/fns/app"));
        i.source_date_epoch = Some(1_700_000_000);
        assert_eq!(
            document(&i)["metadata"]["timestamp"],
            "2023-11-14T22:13:20Z"
        );
    }
}

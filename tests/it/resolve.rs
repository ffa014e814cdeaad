//! Inheritance (replace vs accumulate), discovery, placeholders and includes, resolved against
//! the real example workspaces.

use camino::Utf8PathBuf;
use lambda_batch::manifest::settings::{Compiler, OutputFormat, Runtime};
use lambda_batch::manifest::values::{Arch, ArtifactKind, Libc};
use lambda_batch::pipeline::check_file;
use lambda_batch::plan::CargoFlags;
use lambda_batch::resolve::ResolvedArtifact;

fn root() -> Utf8PathBuf {
    Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn resolve(manifest: &str) -> Vec<ResolvedArtifact> {
    let path = root().join(manifest);
    match check_file(&path, &CargoFlags::default()) {
        Ok(c) => c.resolved.artifacts,
        Err(e) => panic!(
            "{manifest}: {:?}",
            e.0.iter().map(|d| &d.message).collect::<Vec<_>>()
        ),
    }
}

/// What the plan gives cargo for `name` on `target`: the RUSTFLAGS of its call, and the keys
/// of the `--config profile.<profile>.KEY=VALUE` settings of its call.
fn cargo_gets(manifest: &str, name: &str, target: &str) -> (String, Vec<String>) {
    let plan = check_file(&root().join(manifest), &CargoFlags::default())
        .unwrap_or_else(|e| panic!("{manifest}: {e:?}"))
        .plan;
    let a = plan
        .artifacts
        .iter()
        .find(|a| a.resolved.identity.name == name && a.resolved.build.target == target)
        .unwrap_or_else(|| panic!("no {name} for {target}"));
    let g = &plan.groups[a.group];
    // The path remapping comes first (the same for every group, see src/resolve/remap.rs);
    // what follows is the optimization and manifest flags these tests are about.
    let all = g.env.get("RUSTFLAGS").cloned().unwrap_or_default();
    let remaps = all
        .split(' ')
        .take_while(|f| f.starts_with("--remap-path-prefix="))
        .count();
    assert!(remaps >= 1, "{all}");
    assert!(
        all.split(' ')
            .skip(remaps)
            .all(|f| !f.starts_with("--remap-path-prefix=")),
        "{all}"
    );
    let rustflags = all.split(' ').skip(remaps).collect::<Vec<_>>().join(" ");
    let prefix = format!("profile.{}.", g.profile);
    let keys = g
        .args
        .windows(2)
        .filter(|w| w[0] == "--config")
        .filter_map(|w| w[1].strip_prefix(&prefix))
        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_string()))
        .collect();
    (rustflags, keys)
}

fn find<'a>(arts: &'a [ResolvedArtifact], name: &str, target: &str) -> &'a ResolvedArtifact {
    arts.iter()
        .find(|a| a.identity.name == name && a.build.target == target)
        .unwrap_or_else(|| panic!("no {name} for {target}"))
}

#[test]
fn replacing_settings_take_the_lowest_level() {
    let arts = resolve("tests/manifests/valid/every-setting.kdl");
    let valid = root().join("tests/manifests/valid");
    // get-product overrides arch with a pinned glibc and a musl triple, and lambda-dir.
    let gp = find(&arts, "get-product", "x86_64-unknown-linux-gnu");
    assert_eq!(gp.build.glibc.map(|g| g.to_string()), Some("2.17".into()));
    assert_eq!(
        gp.packaging.lambda_dir,
        valid.join("target/every/x86_64-unknown-linux-gnu")
    );
    let musl = find(&arts, "get-product", "aarch64-unknown-linux-musl");
    assert_eq!(
        (musl.build.arch, musl.build.libc, musl.build.glibc),
        (Arch::Arm64, Libc::Musl, None)
    );
    // Inherited from defaults.
    assert_eq!(gp.packaging.runtime, Runtime::Al2);
    assert_eq!(gp.build.compiler, Compiler::CargoZigbuild);
    assert_eq!(gp.packaging.output_format, OutputFormat::Zip);
    // The manifest's target dir; cargo-zigbuild's calls for this machine's own triple share
    // no unit with the other calls there, so they build in a dir of their own inside it.
    assert_eq!(
        gp.cargo.target_dir,
        valid.join("target/shared/lambda-batch/zig-host")
    );
    assert!(gp.cargo.target_dir_set);
    assert_eq!(musl.cargo.target_dir, valid.join("target/shared"));
    assert!(gp.cargo.no_default_features, "from the workspace");
    // products-put: compiler and optimizations replaced; flags turned back off.
    let pp = find(&arts, "products-put", "aarch64-unknown-linux-gnu");
    assert_eq!(
        (
            pp.build.compiler,
            pp.cargo.optimizations,
            pp.identity.bin.as_str(),
            pp.identity.package.as_str()
        ),
        (Compiler::Cargo, false, "put-product", "catalog-api")
    );
    assert!(pp.cargo.all_features && !pp.cargo.no_default_features);
    assert_eq!(pp.cargo.rustflags, ["-C force-frame-pointers=yes"]);
    assert_eq!(
        cargo_gets(
            "tests/manifests/valid/every-setting.kdl",
            "products-put",
            "aarch64-unknown-linux-gnu"
        )
        .0,
        "-C force-frame-pointers=yes",
        "no target-cpu without optimizations"
    );
    assert_eq!(
        pp.build.glibc.map(|g| g.to_string()),
        Some("2.26".into()),
        "the runtime's glibc"
    );
    // Placeholders: {arch} {profile} {workspace}.
    let ap = find(&arts, "products-put", "aarch64-unknown-linux-gnu");
    assert_eq!(
        ap.packaging.lambda_dir,
        valid.join("target/every/arm64/release/services")
    );
    // telemetry: dev profile, so no release optimizations at all.
    let t = find(&arts, "telemetry", "x86_64-unknown-linux-gnu");
    assert_eq!(
        (
            t.build.profile.as_str(),
            t.cargo.optimizations,
            t.build.compiler
        ),
        ("dev", false, Compiler::Cross)
    );
    let (_, overrides) = cargo_gets(
        "tests/manifests/valid/every-setting.kdl",
        "telemetry",
        "x86_64-unknown-linux-gnu",
    );
    assert!(overrides.is_empty());
}

#[test]
fn accumulating_settings_add_up_down_the_levels() {
    let arts = resolve("tests/manifests/valid/every-setting.kdl");
    let oe = find(&arts, "order-events", "x86_64-unknown-linux-gnu");
    let env: Vec<(&str, &str)> = oe
        .cargo
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(env, [("A", "1"), ("B", "2"), ("RUST_LOG", "info")]);
    let (rustflags, _) = cargo_gets(
        "tests/manifests/valid/every-setting.kdl",
        "order-events",
        "x86_64-unknown-linux-gnu",
    );
    assert_eq!(
        rustflags,
        ["-C", "target-cpu=haswell", "-C force-frame-pointers=yes"].join(" ")
    );
    let gp = find(&arts, "get-product", "x86_64-unknown-linux-gnu");
    let includes: Vec<&str> = gp
        .inputs
        .includes
        .iter()
        .map(|i| i.archive_path.as_str())
        .collect();
    // The workspace's LICENSE (into="legal") plus the function's own, relative to the package.
    assert_eq!(
        includes,
        [
            "assets/schema/product.json",
            "config/app.toml",
            "legal/LICENSE"
        ]
    );
    assert_eq!(
        gp.inputs.includes[2].source,
        root().join("examples/services/LICENSE")
    );
    assert_eq!(
        gp.inputs.includes[1].source,
        root().join("examples/services/catalog/config/app.toml")
    );
    let h = find(&arts, "handler-a", "x86_64-unknown-linux-gnu");
    assert_eq!(h.cargo.features, ["json"]);
}

#[test]
fn release_optimizations_respect_the_workspace_profile() {
    let arts = resolve("lambda.kdl");
    let (rustflags, keys) = cargo_gets("lambda.kdl", "get-product", "aarch64-unknown-linux-gnu");
    assert_eq!(keys, ["strip", "lto", "codegen-units", "panic"]);
    assert_eq!(rustflags, ["-C", "target-cpu=neoverse-n1"].join(" "));
    // examples/extensions sets [profile.release] strip itself.
    let e = find(&arts, "telemetry", "x86_64-unknown-linux-gnu");
    let (_, keys) = cargo_gets("lambda.kdl", "telemetry", "x86_64-unknown-linux-gnu");
    assert_eq!(keys, ["lto", "codegen-units", "panic"]);
    assert_eq!(e.identity.kind, ArtifactKind::Extension);
}

#[test]
fn discovery_finds_lambda_bins_and_explicit_nodes_win() {
    let arts = resolve("tests/manifests/valid/discover.kdl");
    let mut names: Vec<(&str, ArtifactKind, OutputFormat, bool)> = arts
        .iter()
        .map(|a| {
            (
                a.identity.name.as_str(),
                a.identity.kind,
                a.packaging.output_format,
                a.identity.discovered,
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            (
                "get-product",
                ArtifactKind::Function,
                OutputFormat::Zip,
                false
            ),
            (
                "order-events",
                ArtifactKind::Function,
                OutputFormat::Binary,
                true
            ),
            (
                "put-product",
                ArtifactKind::Function,
                OutputFormat::Binary,
                true
            ),
            (
                "secrets-cache",
                ArtifactKind::Extension,
                OutputFormat::Binary,
                true
            ),
            (
                "telemetry",
                ArtifactKind::Extension,
                OutputFormat::Binary,
                true
            ),
        ]
    );
}

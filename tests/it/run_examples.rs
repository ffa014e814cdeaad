//! The root `lambda.kdl`, run in place: it builds the example monorepo (release, x86_64 and
//! arm64, cargo-zigbuild, zip) into `target/lambda/<arch>/`. The test checks the whole output
//! tree against SPEC §2, every zip's entries, modes and include bytes, each executable's ELF
//! machine and glibc needs, runs every function's bootstrap against a local Lambda Runtime API
//! (arm64 under qemu-aarch64), and runs the manifest a second time: every output is then fresh
//! and byte-identical. Then the release hand-off on that build: `emit` writes the Terraform
//! variables, SAM template and Serverless functions of its report (local zips), `publish`
//! uploads its zips to a local S3 server (moto) and `emit` writes them again from publish's
//! report (S3 objects); each is checked against the report and the zips, the SAM templates by
//! `cfn-lint`, and all six against golden files in `tests/golden/emit/` (with each zip's
//! hashes in place of the hashes, which change with the toolchain; `UPDATE_GOLDEN=1`
//! rewrites them).

use crate::support::{emitted, page, runtime_api, s3_server};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::support::test::{Invocation, Run, describe, repo, tree, write_executable, zip_entries};
use goblin::elf::Elf;
use goblin::elf::header::{EM_AARCH64, EM_X86_64};
use lambda_batch::report::{Report, Status};
use sha2::{Digest, Sha256};

/// The newest glibc `provided.al2023` has.
const RUNTIME_GLIBC: (u32, u32) = (2, 34);

/// What one output of the root manifest must hold: archive path → (mode, source file).
struct Expected {
    /// Path under `target/lambda/<arch>/`.
    output: &'static str,
    /// The cargo bin it ships.
    bin: &'static str,
    /// The executable's entry.
    executable: &'static str,
    /// Other entries and the file (relative to the repo) whose bytes they must be.
    includes: &'static [(&'static str, &'static str)],
    /// A function (run against the Runtime API) rather than an extension.
    function: bool,
}

const LICENSE: (&str, &str) = ("LICENSE", "examples/services/LICENSE");

const OUTPUTS: &[Expected] = &[
    Expected {
        output: "get-product/bootstrap.zip",
        bin: "get-product",
        executable: "bootstrap",
        includes: &[
            LICENSE,
            (
                "assets/schema/product.json",
                "examples/services/catalog/assets/schema/product.json",
            ),
            (
                "config/app.toml",
                "examples/services/catalog/config/app.toml",
            ),
        ],
        function: true,
    },
    Expected {
        output: "put-product/bootstrap.zip",
        bin: "put-product",
        executable: "bootstrap",
        includes: &[LICENSE],
        function: true,
    },
    Expected {
        // flatten=true, with its own lambda-dir target/lambda/{arch}/orders.
        output: "orders/bootstrap.zip",
        bin: "order-events",
        executable: "bootstrap",
        includes: &[LICENSE],
        function: true,
    },
    Expected {
        output: "extensions/telemetry.zip",
        bin: "telemetry",
        executable: "extensions/telemetry",
        includes: &[],
        function: false,
    },
    Expected {
        // internal=true: the executable at the archive root.
        output: "extensions/secrets-cache.zip",
        bin: "secrets-cache",
        executable: "secrets-cache",
        includes: &[],
        function: false,
    },
];

const ARCHES: &[(&str, u16, runtime_api::Arch)] = &[
    ("x86_64", EM_X86_64, runtime_api::Arch::X86_64),
    ("arm64", EM_AARCH64, runtime_api::Arch::Arm64),
];

/// Runs the root manifest in the repository, with a report (and a timeline, `timeline`, when
/// given) written outside the output tree.
fn run_root(report: &Path, timeline: Option<&Path>) -> (Run, Report) {
    match timeline {
        Some(page) => root(&["run", "--timeline", page.to_str().unwrap()], report, &[]),
        None => root(&["run"], report, &[]),
    }
}

/// `lambda-batch ARGS --report REPORT` on the root manifest in the repository, with `env`.
fn root(args: &[&str], report: &Path, env: &[(String, String)]) -> (Run, Report) {
    let mut invocation = Invocation::lb(&repo(), args).arg("--report").arg(report);
    for (k, v) in env {
        invocation = invocation.env(k, v);
    }
    let output = invocation.status(0);
    let report: Report = serde_json::from_str(&fs::read_to_string(report).unwrap()).unwrap();
    (output, report)
}

/// The three formats `emit` writes, and the file each is written to.
const EMITTED: &[(&str, &str)] = &[
    ("terraform", "lambda.auto.tfvars.json"),
    ("sam", "template.yaml"),
    ("serverless", "functions.yml"),
];

/// Emits the three formats of the report at `report` into `<repo>/target/emit/<variant>/`,
/// checks each against the report and the zips (the SAM template with cfn-lint too), and
/// compares it with `tests/golden/emit/<variant>/`, each artifact's hashes replaced by
/// placeholders.
fn emit_and_compare(report_path: &Path, variant: &str) {
    let report: Report = serde_json::from_str(&fs::read_to_string(report_path).unwrap()).unwrap();
    let dir = repo().join("target/emit").join(variant);
    let _ = fs::remove_dir_all(&dir);
    for (format, file) in EMITTED {
        let out = dir.join(file);
        Invocation::lb(&repo(), &["emit", format, "--report"])
            .arg(report_path)
            .arg("-o")
            .arg(&out)
            .status(0);
        let text = fs::read_to_string(&out).unwrap();
        match *format {
            "terraform" => emitted::check_terraform(&text, &dir, &report),
            "sam" => {
                emitted::check_sam(&text, &dir, &report);
                emitted::cfn_lint(&out);
            }
            _ => emitted::check_serverless(&text, &dir, &report),
        }
        let mut normalized = text.clone();
        for a in &report.artifacts {
            let label = format!("{} {}", a.name, a.arch.as_str());
            normalized = normalized
                .replace(
                    a.sha256.as_deref().unwrap(),
                    &format!("<sha256 of {label}>"),
                )
                .replace(
                    a.sha256_base64.as_deref().unwrap(),
                    &format!("<sha256_base64 of {label}>"),
                );
        }
        let golden = repo().join("tests/golden/emit").join(variant).join(file);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            fs::create_dir_all(golden.parent().unwrap()).unwrap();
            fs::write(&golden, &normalized).unwrap();
        }
        let expected = fs::read_to_string(&golden)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", golden.display()));
        assert!(
            normalized == expected,
            "`emit {format}` differs from {} (UPDATE_GOLDEN=1 rewrites it):\n{normalized}",
            golden.display()
        );
    }
}

/// The highest `GLIBC_x.y` version an ELF needs.
fn max_glibc(elf: &Elf<'_>) -> Option<(u32, u32)> {
    let verneed = elf.verneed.as_ref()?;
    let mut max = None;
    for need in verneed.iter() {
        for aux in need.iter() {
            let Some(name) = elf.dynstrtab.get_at(aux.vna_name) else {
                continue;
            };
            let Some(version) = name.strip_prefix("GLIBC_") else {
                continue;
            };
            let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            let v = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
            max = max.max(Some(v));
        }
    }
    max
}

#[test]
fn the_root_manifest_builds_and_packages_every_example_for_both_architectures() {
    let repo = repo();
    let lambda = repo.join("target/lambda");
    // Only what this run writes may be in the tree.
    let _ = fs::remove_dir_all(&lambda);
    let scratch = tempfile::Builder::new()
        .prefix("lambda-batch-examples-")
        .tempdir()
        .unwrap();
    let timeline = scratch.path().join("timeline.html");
    let (_, report) = run_root(&scratch.path().join("report.json"), Some(&timeline));

    // SPEC §2: exactly these files, for both architectures.
    let mut expected_tree: Vec<String> = ARCHES
        .iter()
        .flat_map(|(arch, ..)| OUTPUTS.iter().map(move |o| format!("{arch}/{}", o.output)))
        .collect();
    expected_tree.sort();
    assert_eq!(tree(&lambda), expected_tree);

    let mut zips: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (arch, machine, runtime_arch) in ARCHES {
        for o in OUTPUTS {
            let zip = lambda.join(arch).join(o.output);
            let entries = zip_entries(&zip);
            let mut names: Vec<&str> = o.includes.iter().map(|(name, _)| *name).collect();
            names.push(o.executable);
            names.sort();
            assert_eq!(
                entries.keys().map(String::as_str).collect::<Vec<_>>(),
                names,
                "{arch}/{}",
                o.output
            );
            for (name, source) in o.includes {
                let (mode, bytes) = &entries[*name];
                assert_eq!(*mode, 0o644, "{arch}/{}: mode of {name}", o.output);
                assert_eq!(
                    bytes,
                    &fs::read(repo.join(source)).unwrap(),
                    "{arch}/{}: {name} differs from {source}",
                    o.output
                );
            }
            let (mode, executable) = &entries[o.executable];
            assert_eq!(*mode, 0o755, "{arch}/{}: executable mode", o.output);
            let elf = Elf::parse(executable).expect("the executable is an ELF");
            assert_eq!(elf.header.e_machine, *machine, "{arch}/{}", o.output);
            let glibc = max_glibc(&elf);
            assert!(
                glibc.is_some_and(|v| v <= RUNTIME_GLIBC),
                "{arch}/{} needs glibc {glibc:?}, newer than provided.al2023's",
                o.output
            );

            if o.function {
                let bootstrap = scratch
                    .path()
                    .join(format!("{arch}-{}", o.bin))
                    .join("bootstrap");
                write_executable(&bootstrap, executable);
                let event = format!(r#"{{"arch":"{arch}","items":[1,2.5,"three",null]}}"#);
                let answer =
                    runtime_api::invoke(&bootstrap, *runtime_arch, &event, Duration::from_secs(60))
                        .unwrap_or_else(|e| panic!("{arch}/{}: {e}", o.output));
                assert_eq!(
                    answer,
                    format!(r#"{{"function":"{}","echo":{event}}}"#, o.bin),
                    "{arch}/{}",
                    o.output
                );
            }
            zips.insert(format!("{arch}/{}", o.output), fs::read(&zip).unwrap());
        }
    }

    // The report: every output built, with the zip's size and hashes.
    assert!(report.success);
    assert_eq!(report.artifacts.len(), ARCHES.len() * OUTPUTS.len());
    for a in &report.artifacts {
        assert_eq!(a.status, Status::Built, "{}", a.name);
        let rel = Path::new(&a.output)
            .strip_prefix(&lambda)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let bytes = &zips[&rel];
        assert_eq!(a.size, Some(bytes.len() as u64), "{rel}");
        let digest = Sha256::digest(bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(a.sha256.as_deref(), Some(hex.as_str()), "{rel}");
    }

    // When each cargo call ran, and the page that draws it.
    check_cargo_calls(&report);
    check_timeline(&timeline, &report, &scratch.path().join("timeline.png"));

    // Again: nothing to do, and not one byte changes.
    let (second, report) = run_root(&scratch.path().join("report2.json"), None);
    for a in &report.artifacts {
        assert_eq!(a.status, Status::Fresh, "{}: {}", a.name, describe(&second));
    }
    assert_eq!(tree(&lambda), expected_tree);
    for (rel, bytes) in &zips {
        assert_eq!(&fs::read(lambda.join(rel)).unwrap(), bytes, "{rel} changed");
    }

    // The release hand-off: the deploy tools' inputs from the local zips...
    emit_and_compare(&scratch.path().join("report2.json"), "local");
    // ... and from their published objects (nothing is built again).
    let server = s3_server::s3_server();
    server.create_bucket("lambda-artifacts", false);
    let env: Vec<(String, String)> = server.env().into_iter().collect();
    let to = "s3://lambda-artifacts/examples";
    let published = scratch.path().join("published.json");
    let publish_page = scratch.path().join("publish-timeline.html");
    let (out, report) = root(
        &[
            "publish",
            "--to",
            to,
            "--timeline",
            publish_page.to_str().unwrap(),
        ],
        &published,
        &env,
    );
    // `publish` takes run's options: its timeline shows every call fresh.
    let doc = page::parse(&publish_page);
    assert_eq!(
        page::select(&doc, "svg g.call > rect.call.fresh").len(),
        report.cargo_calls.len(),
        "{}",
        describe(&out)
    );
    for a in &report.artifacts {
        assert_eq!(a.status, Status::Fresh, "{}: {}", a.name, describe(&out));
        assert!(
            a.published.as_ref().is_some_and(|p| p.uploaded),
            "{}",
            a.name
        );
    }
    emit_and_compare(&published, "s3");
}

/// The report's cargo calls of the cold build: every one ran cargo, in order within its lane,
/// and together they build every output once.
fn check_cargo_calls(report: &Report) {
    use lambda_batch::report::run_report::CallStatus;
    let started = report.started_at.as_deref().expect("started_at");
    let started = humantime::parse_rfc3339(started).expect("RFC 3339");
    assert!(started <= std::time::SystemTime::now());
    assert!(!report.cargo_calls.is_empty());
    let mut outputs: Vec<usize> = Vec::new();
    for c in &report.cargo_calls {
        assert!(c.queued <= c.end && c.end <= report.seconds, "{c:?}");
        match c.status {
            CallStatus::Succeeded => {
                let start = c.start.expect("a cargo call that ran has a start");
                assert!(c.queued <= start && start < c.end, "{c:?}");
                assert!(c.cpu_seconds.is_some_and(|s| s > 0.0), "{c:?}");
                assert!(
                    c.command.as_deref().is_some_and(|s| s.contains("zigbuild")),
                    "{c:?}"
                );
            }
            // A target dir kept from an earlier run of the suite: nothing to compile.
            CallStatus::Fresh => {
                assert_eq!(
                    (c.start, c.cpu_seconds, c.command.as_ref()),
                    (None, None, None)
                );
            }
            _ => panic!("{c:?}"),
        }
        outputs.extend(&c.outputs);
    }
    outputs.sort_unstable();
    assert_eq!(outputs, (0..report.artifacts.len()).collect::<Vec<_>>());
    for lane in report.cargo_calls.iter().map(|c| c.lane) {
        let calls: Vec<_> = report
            .cargo_calls
            .iter()
            .filter(|c| c.lane == lane)
            .collect();
        for pair in calls.windows(2) {
            assert!(
                pair[1].queued >= pair[0].end,
                "a lane runs its calls in turn: {pair:?}"
            );
        }
    }
}

/// The cold build's `--timeline` page: it parses, it has a bar per cargo call and a mark per
/// output, and Chromium draws it (`png`) with each bar in its colour where the markup puts it.
fn check_timeline(path: &Path, report: &Report, png: &Path) {
    let doc = page::parse(path);
    let bars = page::select(&doc, "svg g.call > rect.call");
    assert_eq!(bars.len(), report.cargo_calls.len());
    let ran = |status| {
        report
            .cargo_calls
            .iter()
            .filter(|c| c.status == status)
            .count()
    };
    assert_eq!(
        page::select(&doc, "svg g.call > rect.call.built").len(),
        ran(lambda_batch::report::run_report::CallStatus::Succeeded)
    );
    assert_eq!(
        page::select(&doc, "svg g.output").len(),
        report.artifacts.len()
    );
    assert_eq!(
        page::select(&doc, "svg g.output rect.pack.written").len(),
        report.artifacts.len()
    );
    for call in page::select(&doc, "svg g.call") {
        let title: String = call
            .select(&scraper::Selector::parse("title").unwrap())
            .next()
            .expect("a call's hover text")
            .text()
            .collect();
        assert!(
            title.contains("zigbuild") || title.contains("cargo not started"),
            "{title}"
        );
    }
    assert_eq!(
        page::select(&doc, "table.outputs tbody tr").len(),
        report.artifacts.len()
    );
    let summary: String = page::select(&doc, "p.summary")[0].text().collect();
    assert!(
        summary.starts_with("10 outputs: 10 built, 0 fresh, 0 failed in "),
        "{summary}"
    );

    page::screenshot(path, png);
    let picture = page::Picture::open(png);
    assert!(picture.colours() > 50, "the screenshot is (nearly) blank");
    // Each class's colour, as the page's style sheet says.
    let style: String = page::select(&doc, "style")[0].text().collect();
    let colour = |class: &str| {
        let rule = format!("{class}{{fill:#");
        let at = style
            .find(&rule)
            .unwrap_or_else(|| panic!("no rule {rule}"))
            + rule.len()
            - 1;
        page::hex(&style[at..at + 7])
    };
    let class_of = |e: &scraper::ElementRef<'_>| {
        let classes: Vec<&str> = e.value().attr("class").unwrap_or("").split(' ').collect();
        format!("rect.{}", classes.join("."))
    };
    // Where the drawing is on the screen: the legend's swatch of a cargo call (14 px wide, the
    // lowest thing of its colour) found by its colour.
    let swatch = page::select(&doc, "svg > rect.call.built")
        .into_iter()
        .next()
        .expect("the legend");
    let (px, py) = picture
        .lowest_run(colour("rect.call.built"), 12..=16)
        .expect("the legend's swatch is not on the screenshot");
    let origin = (
        px as f64 - page::number(&swatch, "x").ceil(),
        py as f64 - (page::number(&swatch, "y") + page::number(&swatch, "height") - 1.0),
    );
    let packs = page::select(&doc, "svg g.output rect.pack");
    let legend = page::select(&doc, "svg > rect.call, svg > rect.pack, svg > rect.wait");
    let shapes: Vec<_> = bars.iter().chain(&packs).chain(&legend).collect();
    let mut checked = 0;
    for shape in shapes {
        let class = class_of(shape);
        let (x, y, w, h) = (
            page::number(shape, "x"),
            page::number(shape, "y"),
            page::number(shape, "width"),
            page::number(shape, "height"),
        );
        // Too narrow to sample past anti-aliased edges.
        if w < 6.0 {
            continue;
        }
        // The middle, above a bar's text.
        let (sx, sy) = (origin.0 + x + w / 2.0, origin.1 + y + (h / 2.0).min(3.0));
        let (sx, sy) = (sx.floor() as usize, sy.floor() as usize);
        assert!(
            sx < picture.width && sy < picture.height,
            "off the screen: {x},{y}"
        );
        let want = colour(&class);
        assert!(
            page::near(picture.at(sx, sy), want),
            "{class} at ({x}, {y}) is drawn {:?} at ({sx}, {sy}), not {want:?}",
            picture.at(sx, sy)
        );
        checked += 1;
    }
    // The legend's 12 swatches, and the bars and packaging marks wide enough to sample.
    assert!(checked > legend.len(), "{checked} shapes checked");
}

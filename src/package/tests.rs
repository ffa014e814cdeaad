//! `package()` end to end on real files: layouts, modes, reproducibility, freshness, atomicity,
//! cancellation.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::atomic::TEMP_PREFIX;
use std::time::{Duration, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};

use super::fixture::{Tree, planned, resolved};
use crate::plan::state::state_dir;

/// Where packaging stamps live under a cargo target dir.
fn stamp_dir(target_dir: &Utf8Path) -> Utf8PathBuf {
    state_dir(target_dir).join("stamps")
}
use super::*;
use crate::fingerprint::sha256;
use crate::manifest::values::{Arch, ArtifactKind};

fn mode(path: &Utf8Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Utf8Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            Utf8Path::from_path(e.path())
                .unwrap()
                .strip_prefix(dir)
                .unwrap()
                .to_string()
        })
        .collect();
    out.sort();
    out
}

/// (name, unix mode, bytes, has extra data) of every entry, in archive order.
fn zip_entries(path: &Utf8Path) -> Vec<(String, u32, Vec<u8>, bool)> {
    let mut z = ::zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            let extra = f.extra_data().is_some_and(|e| !e.is_empty());
            (
                f.name().unwrap().to_string(),
                f.unix_mode().unwrap(),
                bytes,
                extra,
            )
        })
        .collect()
}

fn set_mtime(path: &Utf8Path, secs_ago: u64) {
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(secs_ago))
        .unwrap();
}

fn opts() -> PackageOptions {
    PackageOptions::default()
}

#[test]
fn zip_has_sorted_entries_modes_bytes_and_fixed_time() {
    let t = Tree::new();
    let a = t.artifact(OutputFormat::Zip);
    let p = package(&a, &t.exe, &opts()).unwrap();
    assert_eq!(p.output, t.base.join("lambda/get-product/bootstrap.zip"));
    assert!(!p.fresh);
    let bytes = fs::read(&p.output).unwrap();
    assert_eq!((p.size, p.sha256), (bytes.len() as u64, sha256(&bytes)));
    assert_eq!(mode(&p.output), 0o644);

    let exe = fs::read(&t.exe).unwrap();
    let entries = zip_entries(&p.output);
    let summary: Vec<(&str, u32, bool)> = entries
        .iter()
        .map(|(n, m, _, extra)| (n.as_str(), *m, *extra))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("LICENSE", 0o100644, false),
            ("bin/run.sh", 0o100755, false),
            ("bootstrap", 0o100755, false),
        ]
    );
    assert_eq!(entries[0].2, b"MIT\n");
    assert_eq!(entries[1].2, b"#!/bin/sh\n");
    assert_eq!(entries[2].2, exe);

    let mut z = ::zip::ZipArchive::new(fs::File::open(&p.output).unwrap()).unwrap();
    let u16_at = |at: u64| u16::from_le_bytes([bytes[at as usize], bytes[at as usize + 1]]);
    for i in 0..z.len() {
        let f = z.by_index(i).unwrap();
        // No extra fields, in the local header (offset 28) nor the central one (offset 30).
        assert_eq!(&bytes[f.header_start() as usize..][..4], b"PK\x03\x04");
        assert_eq!(u16_at(f.header_start() + 28), 0, "local extra field");
        assert_eq!(
            &bytes[f.central_header_start() as usize..][..4],
            b"PK\x01\x02"
        );
        assert_eq!(
            u16_at(f.central_header_start() + 30),
            0,
            "central extra field"
        );
        assert_eq!(f.compression(), ::zip::CompressionMethod::Deflated);
        assert!(!f.is_dir());
        let t = f.last_modified().unwrap();
        assert_eq!(
            (t.year(), t.month(), t.day(), t.hour(), t.minute()),
            (1980, 1, 1, 0, 0)
        );
        // Made on Unix, whatever the host: the high byte of "version made by".
        assert_eq!(f.unix_mode().map(|m| m & 0o170000), Some(0o100000));
    }

    let report: Vec<(String, u32, u64)> = p
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.mode, e.size))
        .collect();
    assert_eq!(
        report,
        vec![
            ("LICENSE".into(), 0o644, 4),
            ("bin/run.sh".into(), 0o755, 10),
            ("bootstrap".into(), 0o755, exe.len() as u64),
        ]
    );
    // Nothing but the zip in the output directory: no temporary files left.
    assert_eq!(
        files_under(&t.base.join("lambda")),
        vec!["get-product/bootstrap.zip"]
    );
}

#[test]
fn zip_is_byte_identical_across_trees_and_mtimes() {
    let (t1, t2) = (Tree::new(), Tree::new());
    for (i, f) in [
        "ws/LICENSE",
        "ws/config/run.sh",
        "target/release/get-product",
    ]
    .iter()
    .enumerate()
    {
        set_mtime(&t1.base.join(f), 10 + i as u64);
        set_mtime(&t2.base.join(f), 100_000 + 7 * i as u64);
    }
    let p1 = package(&t1.artifact(OutputFormat::Zip), &t1.exe, &opts()).unwrap();
    let p2 = package(&t2.artifact(OutputFormat::Zip), &t2.exe, &opts()).unwrap();
    let (b1, b2) = (fs::read(&p1.output).unwrap(), fs::read(&p2.output).unwrap());
    assert!(b1 == b2, "zips differ");
    assert_eq!(p1.sha256, p2.sha256);

    // Repackaging after touching the sources (stamp removed) gives the same bytes again.
    set_mtime(&t1.base.join("ws/LICENSE"), 5_000_000);
    fs::remove_dir_all(t1.base.join("target/lambda-batch")).unwrap();
    let again = package(&t1.artifact(OutputFormat::Zip), &t1.exe, &opts()).unwrap();
    assert!(!again.fresh);
    assert!(fs::read(&again.output).unwrap() == b1);
}

#[test]
fn source_date_epoch_sets_the_entry_time() {
    let t = Tree::new();
    let a = t.artifact(OutputFormat::Zip);
    let first = package(&a, &t.exe, &opts()).unwrap();
    let o = PackageOptions {
        source_date_epoch: Some(1_700_000_000),
        ..opts()
    };
    let p = package(&a, &t.exe, &o).unwrap();
    assert!(!p.fresh, "the timestamp is an input of a zip");
    assert_ne!(p.sha256, first.sha256);
    let mut z = ::zip::ZipArchive::new(fs::File::open(&p.output).unwrap()).unwrap();
    let tm = z.by_index(0).unwrap().last_modified().unwrap();
    let got = (
        tm.year(),
        tm.month(),
        tm.day(),
        tm.hour(),
        tm.minute(),
        tm.second(),
    );
    assert_eq!(got, (2023, 11, 14, 22, 13, 20));
}

#[test]
fn binary_copies_executable_and_includes_with_modes() {
    let t = Tree::new();
    // Make the cargo output's own mode irrelevant.
    fs::set_permissions(&t.exe, fs::Permissions::from_mode(0o700)).unwrap();
    let a = t.artifact(OutputFormat::Binary);
    let p = package(&a, &t.exe, &opts()).unwrap();
    let root = t.base.join("lambda/get-product");
    assert_eq!(p.output, root.join("bootstrap"));
    assert!(p.entries.is_empty());
    let exe = fs::read(&t.exe).unwrap();
    assert_eq!(fs::read(&p.output).unwrap(), exe);
    assert_eq!((p.size, p.sha256), (exe.len() as u64, sha256(&exe)));
    assert_eq!(mode(&p.output), 0o755);
    assert_eq!(fs::read(root.join("LICENSE")).unwrap(), b"MIT\n");
    assert_eq!(mode(&root.join("LICENSE")), 0o644);
    assert_eq!(mode(&root.join("bin/run.sh")), 0o755);
    assert_eq!(
        files_under(&t.base.join("lambda")),
        vec![
            "get-product/LICENSE",
            "get-product/bin/run.sh",
            "get-product/bootstrap"
        ]
    );
    let mut want: Vec<Utf8PathBuf> = a.files.clone();
    want.sort();
    let mut got: Vec<Utf8PathBuf> = files_under(&t.base.join("lambda"))
        .into_iter()
        .map(|f| t.base.join("lambda").join(f))
        .collect();
    got.sort();
    assert_eq!(got, want, "exactly the files the plan announced");
}

/// How one row of SPEC §2's table is declared, and what it must produce.
struct Layout {
    kind: ArtifactKind,
    flatten: bool,
    internal: bool,
    format: OutputFormat,
    output: &'static str,
    entries: &'static [&'static str],
}

#[test]
fn every_layout_of_spec_section_2() {
    use ArtifactKind::{Extension, Function};
    use OutputFormat::{Binary, Zip};
    let row = |kind, flatten, internal, format, output, entries| Layout {
        kind,
        flatten,
        internal,
        format,
        output,
        entries,
    };
    let t = Tree::new();
    let rows = [
        row(Function, false, false, Binary, "telemetry/bootstrap", &[]),
        row(
            Function,
            false,
            false,
            Zip,
            "telemetry/bootstrap.zip",
            &["bootstrap"],
        ),
        row(Function, true, false, Binary, "bootstrap", &[]),
        row(Function, true, false, Zip, "bootstrap.zip", &["bootstrap"]),
        row(Extension, false, false, Binary, "extensions/telemetry", &[]),
        row(
            Extension,
            false,
            false,
            Zip,
            "extensions/telemetry.zip",
            &["extensions/telemetry"],
        ),
        row(Extension, false, true, Binary, "extensions/telemetry", &[]),
        row(
            Extension,
            false,
            true,
            Zip,
            "extensions/telemetry.zip",
            &["telemetry"],
        ),
    ];
    for (i, l) in rows.iter().enumerate() {
        let mut r = resolved(&t.base, l.format);
        r.identity.name = "telemetry".into();
        r.identity.kind = l.kind;
        r.identity.flatten = l.flatten;
        r.identity.internal = l.internal;
        r.packaging.lambda_dir = t.base.join(format!("case{i}"));
        let a = planned(r);
        let p = package(&a, &t.exe, &opts()).unwrap();
        assert_eq!(
            p.output,
            t.base.join(format!("case{i}/{}", l.output)),
            "case {i}"
        );
        let zip = l.format == Zip;
        assert_eq!(mode(&p.output), if zip { 0o644 } else { 0o755 });
        if zip {
            let got: Vec<String> = zip_entries(&p.output).into_iter().map(|e| e.0).collect();
            assert_eq!(got, l.entries.to_vec(), "case {i}");
        }
    }
}

#[test]
fn extension_binary_includes_go_under_the_lambda_dir() {
    let t = Tree::new();
    let mut r = resolved(&t.base, OutputFormat::Binary);
    r.identity.name = "telemetry".into();
    r.identity.kind = ArtifactKind::Extension;
    r.inputs.includes = t.includes();
    let a = planned(r);
    package(&a, &t.exe, &opts()).unwrap();
    assert_eq!(
        files_under(&t.base.join("lambda")),
        vec!["LICENSE", "bin/run.sh", "extensions/telemetry"]
    );
}

#[test]
fn unchanged_inputs_are_fresh_and_changes_repackage() {
    let t = Tree::new();
    let a = t.artifact(OutputFormat::Zip);
    let first = package(&a, &t.exe, &opts()).unwrap();
    let stamps = files_under(&stamp_dir(&a.resolved.cargo.target_dir));
    assert_eq!(stamps.len(), 1, "{stamps:?}");

    // Fresh: same report, output not rewritten (its mtime stays in the past).
    set_mtime(&first.output, 1000);
    let before = fs::metadata(&first.output).unwrap().modified().unwrap();
    let fresh = package(&a, &t.exe, &opts()).unwrap();
    assert!(fresh.fresh);
    assert_eq!((fresh.size, fresh.sha256), (first.size, first.sha256));
    assert_eq!(fresh.entries, first.entries);
    assert_eq!(
        fs::metadata(&first.output).unwrap().modified().unwrap(),
        before
    );
    // Touching a source without changing it keeps it fresh.
    set_mtime(&t.base.join("ws/LICENSE"), 3);
    assert!(package(&a, &t.exe, &opts()).unwrap().fresh);

    let rebuilt = |why: &str| {
        let p = package(&a, &t.exe, &opts()).unwrap();
        assert!(!p.fresh, "{why}: should repackage");
        assert!(
            package(&a, &t.exe, &opts()).unwrap().fresh,
            "{why}: then fresh"
        );
        p
    };
    fs::write(t.base.join("ws/LICENSE"), "MIT!\n").unwrap();
    let p = rebuilt("include bytes changed");
    assert_ne!(p.sha256, first.sha256);
    fs::set_permissions(t.base.join("ws/LICENSE"), fs::Permissions::from_mode(0o755)).unwrap();
    rebuilt("include mode changed");
    let mut exe = fs::read(&t.exe).unwrap();
    exe.extend_from_slice(b"padding");
    fs::write(&t.exe, exe).unwrap();
    rebuilt("executable changed");
    fs::remove_file(&a.output).unwrap();
    rebuilt("output deleted");
    let mut z = fs::read(&a.output).unwrap();
    let last = z.len() - 1;
    z[last] ^= 1;
    fs::write(&a.output, z).unwrap();
    rebuilt("output edited");
    fs::write(
        a.resolved
            .cargo
            .target_dir
            .join("lambda-batch/stamps")
            .join(&stamps[0]),
        "garbage",
    )
    .unwrap();
    rebuilt("stamp unreadable");
}

#[test]
fn binary_freshness_watches_every_copied_file() {
    let t = Tree::new();
    let a = t.artifact(OutputFormat::Binary);
    package(&a, &t.exe, &opts()).unwrap();
    let o = PackageOptions {
        source_date_epoch: Some(1_700_000_000),
        ..opts()
    };
    assert!(
        package(&a, &t.exe, &o).unwrap().fresh,
        "binaries carry no timestamp"
    );
    let copy = t.base.join("lambda/get-product/LICENSE");
    fs::write(&copy, "edited").unwrap();
    assert!(!package(&a, &t.exe, &opts()).unwrap().fresh);
    assert_eq!(fs::read(&copy).unwrap(), b"MIT\n");
    fs::remove_file(&copy).unwrap();
    assert!(!package(&a, &t.exe, &opts()).unwrap().fresh);
    assert!(copy.exists());
}

#[test]
fn binary_outputs_drop_files_no_longer_included_and_repair_modes() {
    use std::os::unix::fs::PermissionsExt;
    let t = Tree::new();
    let a = t.artifact(OutputFormat::Binary);
    package(&a, &t.exe, &opts()).unwrap();
    let dir = t.base.join("lambda/get-product");
    let mode = |f: &str| fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("bootstrap"), 0o755);
    assert_eq!(mode("LICENSE"), 0o644);

    // A mode changed by hand is not "fresh": it is put back.
    fs::set_permissions(dir.join("bootstrap"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(dir.join("LICENSE"), fs::Permissions::from_mode(0o755)).unwrap();
    assert!(!package(&a, &t.exe, &opts()).unwrap().fresh);
    assert_eq!((mode("bootstrap"), mode("LICENSE")), (0o755, 0o644));
    assert!(package(&a, &t.exe, &opts()).unwrap().fresh);

    // The `into="bin"` include is dropped: its copy and the directory it leaves empty go.
    let mut fewer = a.clone();
    fewer.resolved.inputs.includes.truncate(1);
    let fewer = crate::package::fixture::planned(fewer.resolved);
    assert!(!package(&fewer, &t.exe, &opts()).unwrap().fresh);
    assert_eq!(
        files_under(&t.base.join("lambda")),
        ["get-product/LICENSE", "get-product/bootstrap"]
    );

    // A stale file that another artifact of the run writes is left to that artifact.
    package(&a, &t.exe, &opts()).unwrap();
    let shared = dir.join("bin/run.sh");
    let o = PackageOptions {
        planned_files: std::sync::Arc::new([shared.clone()].into()),
        ..opts()
    };
    package(&fewer, &t.exe, &o).unwrap();
    assert!(shared.is_file());
}

#[test]
fn a_failure_leaves_the_previous_output_untouched() {
    let t = Tree::new();
    for format in [OutputFormat::Zip, OutputFormat::Binary] {
        let a = t.artifact(format);
        package(&a, &t.exe, &opts()).unwrap();
        let before: Vec<(String, Vec<u8>)> = files_under(&t.base.join("lambda"))
            .into_iter()
            .map(|f| (f.clone(), fs::read(t.base.join("lambda").join(&f)).unwrap()))
            .collect();

        // An include gone since resolution.
        fs::rename(t.base.join("ws/config/run.sh"), t.base.join("ws/moved")).unwrap();
        fs::write(t.base.join("ws/LICENSE"), "changed").unwrap();
        let err = package(&a, &t.exe, &opts()).unwrap_err();
        assert!(matches!(err, PackageError::Io { .. }), "{err:?}");
        // An executable for the wrong machine.
        fs::rename(t.base.join("ws/moved"), t.base.join("ws/config/run.sh")).unwrap();
        let mut arm = a.clone();
        arm.resolved.build.arch = Arch::Arm64;
        let err = package(&arm, &t.exe, &opts()).unwrap_err();
        assert!(matches!(err, PackageError::WrongMachine { .. }), "{err:?}");
        // Not an executable at all.
        let script = t.base.join("ws/config/run.sh");
        let err = package(&a, &script, &opts()).unwrap_err();
        assert!(matches!(err, PackageError::NotElf { .. }), "{err:?}");

        let after: Vec<(String, Vec<u8>)> = files_under(&t.base.join("lambda"))
            .into_iter()
            .map(|f| (f.clone(), fs::read(t.base.join("lambda").join(&f)).unwrap()))
            .collect();
        assert_eq!(before, after, "{format:?}");
        fs::write(t.base.join("ws/LICENSE"), "MIT\n").unwrap();
    }
}

#[test]
fn a_file_in_the_way_fails_cleanly() {
    let t = Tree::new();
    let a = t.artifact(OutputFormat::Zip);
    // A non-empty directory where the zip goes: the rename fails.
    fs::create_dir_all(a.output.join("x")).unwrap();
    let err = package(&a, &t.exe, &opts()).unwrap_err();
    assert!(matches!(err, PackageError::Io { .. }), "{err:?}");
    assert_eq!(files_under(&t.base.join("lambda")), Vec::<String>::new());
    assert!(
        !stamp_dir(&a.resolved.cargo.target_dir).exists(),
        "no stamp without an output"
    );
}

#[test]
fn cancellation_stops_before_writing() {
    let t = Tree::new();
    for format in [OutputFormat::Zip, OutputFormat::Binary] {
        let a = t.artifact(format);
        let first = package(&a, &t.exe, &opts()).unwrap();
        let original = fs::read(&first.output).unwrap();
        fs::write(t.base.join("ws/LICENSE"), "changed").unwrap();
        let o = PackageOptions {
            cancel: Some(Arc::new(AtomicBool::new(true))),
            ..opts()
        };
        let err = package(&a, &t.exe, &o).unwrap_err();
        assert!(
            matches!(err, PackageError::Cancelled { ref name } if name == "get-product"),
            "{err:?}"
        );
        assert_eq!(fs::read(&first.output).unwrap(), original);
        for dir in temp_dirs(&a) {
            let stray: Vec<String> = files_under(&dir)
                .into_iter()
                .filter(|f| f.contains(TEMP_PREFIX))
                .collect();
            assert!(stray.is_empty(), "{stray:?}");
        }
        // Not cancelled: the change is packaged.
        let o = PackageOptions {
            cancel: Some(Arc::new(AtomicBool::new(false))),
            ..opts()
        };
        assert!(!package(&a, &t.exe, &o).unwrap().fresh);
        fs::write(t.base.join("ws/LICENSE"), "MIT\n").unwrap();
    }
}

#[test]
fn temp_dirs_cover_outputs_and_stamps() {
    let t = Tree::new();
    let a = t.artifact(OutputFormat::Binary);
    let dirs = temp_dirs(&a);
    assert_eq!(
        dirs,
        vec![
            t.base.join("lambda/get-product"),
            t.base.join("lambda/get-product/bin"),
            t.base.join("target/lambda-batch/stamps"),
        ]
    );
}

#[test]
fn many_artifacts_package_in_parallel() {
    use rayon::prelude::*;
    let t = Tree::new();
    let arts: Vec<PlannedArtifact> = (0..8)
        .map(|i| {
            let format = if i % 2 == 0 {
                OutputFormat::Zip
            } else {
                OutputFormat::Binary
            };
            let mut r = resolved(&t.base, format);
            r.identity.name = format!("fn-{i}");
            r.inputs.includes = t.includes();
            planned(r)
        })
        .collect();
    let results: Vec<Packaged> = arts
        .par_iter()
        .map(|a| package(a, &t.exe, &opts()).unwrap())
        .collect();
    for (a, p) in arts.iter().zip(&results) {
        assert_eq!(p.output, a.output);
        assert_eq!(p.sha256, sha256(&fs::read(&p.output).unwrap()));
    }
    // Same inputs, same zip, whatever the artifact's name.
    assert_eq!(results[0].sha256, results[2].sha256);
    assert_eq!(files_under(&stamp_dir(&t.base.join("target"))).len(), 8);
}

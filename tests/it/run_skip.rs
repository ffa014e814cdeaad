//! A group whose inputs did not change is not handed to cargo again (src/execute/fresh.rs),
//! and every kind of change that makes cargo rebuild makes lambda-batch start cargo: a bin's
//! source, an `include_str!` file of a path dependency, a file only a build script reads, a
//! path dependency's Cargo.toml, a variable read with `option_env!`, a variable a build script
//! declares with `rerun-if-env-changed`, `RUSTFLAGS`, a deleted executable. A variable cargo
//! ignores does not, nor one that only changes how cargo shows its output, a credential, or one
//! cargo sets itself for what it starts (see `fingerprint::EnvPolicy`). Cargo runs through a wrapper on PATH that logs each invocation, so "not
//! started" is observed, not inferred; the bytes of the rebuilt bootstrap show the change.

use crate::support::test;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::support::test::{Run, Test, describe, shared_target, statuses, wait_for, zip_entries};
use lambda_batch::report::{Report, Status};

/// Longer than the window in which lambda-batch does not trust a modification time.
const SETTLE: Duration = Duration::from_millis(2300);

struct Logged {
    fx: Test,
    log: PathBuf,
    path: String,
}

impl Logged {
    fn new() -> Logged {
        let fx = Test::new("skip");
        let bin_dir = fx.path().join("bin");
        fs::create_dir_all(&bin_dir).unwrap();
        let log = fx.path().join("cargo.log");
        let path = test::logging_cargo(&bin_dir, &log);
        Logged { fx, log, path }
    }

    /// `run --report`, with extra environment; returns the output, the report and how many
    /// `cargo build` invocations it made.
    fn run(&self, env: &[(&str, &str)]) -> (Run, Report, usize) {
        let before = self.builds();
        let report = self.fx.path().join("report.json");
        let _ = fs::remove_file(&report);
        let mut invocation = self
            .fx
            .lb(&["run", "-v", "--report", report.to_str().unwrap()])
            .env("PATH", &self.path);
        for (k, v) in env {
            invocation = invocation.env(k, v);
        }
        let output = invocation.status(0);
        let text = fs::read_to_string(&report).unwrap();
        let report: Report = serde_json::from_str(&text).unwrap();
        (output, report, self.builds() - before)
    }

    fn builds(&self) -> usize {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("build "))
            .count()
    }

    /// After a change: the next run starts cargo and the one after it does not.
    fn rebuilds(&self, what: &str, env: &[(&str, &str)]) -> Run {
        self.settle();
        let (out, _, builds) = self.run(env);
        assert_eq!(builds, 1, "{what}: cargo did not run\n{}", describe(&out));
        let (again, report, builds) = self.run(env);
        assert_eq!(
            builds,
            0,
            "{what}: cargo ran again on an unchanged tree\n{}",
            describe(&again)
        );
        assert!(again.stderr.contains("Fresh"), "{}", describe(&again));
        assert_eq!(statuses(&report)[NAME], Status::Fresh);
        out
    }

    /// Waits until the last change to the two packages is older than [`SETTLE`]: a build that
    /// starts sooner records no stamp (lambda-batch cannot know whether cargo read a file
    /// modified that close to its start), and the run after it would start cargo again.
    fn settle(&self) {
        let newest = ["svc", "lib"]
            .iter()
            .flat_map(|d| walk(&self.fx.path().join(d)))
            .filter_map(|p| fs::metadata(p).ok()?.modified().ok())
            .max()
            .expect("the packages' files");
        wait_for("the last change to settle", || {
            SystemTime::now()
                .duration_since(newest)
                .is_ok_and(|age| age > SETTLE)
        });
    }

    fn bootstrap(&self) -> Vec<u8> {
        let zip = self.fx.path().join("out/x86_64/sk-fn/bootstrap.zip");
        zip_entries(&zip).remove("bootstrap").unwrap().1
    }
}

const ALWAYS: &str = "LAMBDA_BATCH_ALWAYS_BUILD";
const NAME: &str = "sk-fn x86_64-unknown-linux-gnu";

/// Sets the mtime of every file and directory under `dir` a minute back, as if the tree had
/// been checked out earlier.
fn age(dir: &Path) {
    let past = SystemTime::now() - Duration::from_secs(60);
    for e in walk(dir) {
        fs::File::open(&e).unwrap().set_modified(past).unwrap();
    }
}

/// `dir`, and everything under it, the deepest first.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.push(dir.to_path_buf());
    out
}

/// The bin's source: prints `version`, the path dependency's constants, an optional variable,
/// what the build script saw and its package's name (a variable cargo sets itself).
fn bin(version: &str) -> String {
    format!(
        "fn main() {{\n    println!(\"sk-fn says {version} {{}} {{}} {{}} {{}} {{}}\", sk_lib::SCHEMA, sk_lib::DATA, option_env!(\"SK_GREETING\").unwrap_or(\"no-greeting\"), env!(\"SK_SUFFIX_SEEN\"), env!(\"CARGO_PKG_NAME\"));\n}}\n"
    )
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn unchanged_groups_do_not_start_cargo_and_every_change_does() {
    let lx = Logged::new();
    let fx = &lx.fx;
    fx.write(
        "svc/Cargo.toml",
        "[package]\nname = \"sk-svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nsk-lib = { path = \"../lib\" }\n\n[workspace]\n",
    );
    // Declares one variable, and so only reruns when it changes.
    fx.write(
        "svc/build.rs",
        "fn main() {\n    println!(\"cargo:rerun-if-env-changed=SK_SUFFIX\");\n    let v = std::env::var(\"SK_SUFFIX\").unwrap_or_else(|_| \"no-suffix\".into());\n    println!(\"cargo:rustc-env=SK_SUFFIX_SEEN=suffix-{v}\");\n}\n",
    );
    fx.write("svc/src/bin/sk-fn.rs", bin("v1"));
    fx.write(
        "lib/Cargo.toml",
        "[package]\nname = \"sk-lib\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n",
    );
    // No rerun-if-changed: cargo reruns this script when any file of the package changes.
    fx.write(
        "lib/build.rs",
        "fn main() {\n    let schema = std::fs::read_to_string(\"proto/schema.txt\").unwrap();\n    let out = std::env::var(\"OUT_DIR\").unwrap();\n    std::fs::write(format!(\"{out}/schema.rs\"), format!(\"pub const SCHEMA: &str = {:?};\", schema.trim())).unwrap();\n}\n",
    );
    fx.write("lib/proto/schema.txt", "schema-one\n");
    fx.write("lib/data/msg.txt", "data-one");
    fx.write(
        "lib/src/lib.rs",
        "include!(concat!(env!(\"OUT_DIR\"), \"/schema.rs\"));\npub const DATA: &str = include_str!(\"../data/msg.txt\");\n",
    );
    fx.manifest("workspace \"svc\" {\n    function \"sk-fn\"\n}");
    age(fx.path());

    // First build, then nothing changed: cargo is not started, the zip is reported fresh.
    let (first, report, builds) = lx.run(&[]);
    assert_eq!(builds, 1, "{}", describe(&first));
    assert_eq!(statuses(&report)[NAME], Status::Built);
    assert!(contains(&lx.bootstrap(), "sk-fn says v1"));
    let (second, report, builds) = lx.run(&[]);
    assert_eq!(builds, 0, "{}", describe(&second));
    assert_eq!(statuses(&report)[NAME], Status::Fresh);
    let (_, _, builds) = lx.run(&[(ALWAYS, "1")]);
    assert_eq!(builds, 1, "{ALWAYS}=1 must always start cargo");

    // The bin's own source.
    fx.write("svc/src/bin/sk-fn.rs", bin("v2"));
    lx.rebuilds("bin source", &[]);
    assert!(contains(&lx.bootstrap(), "sk-fn says v2"));

    // A file the path dependency includes with include_str!.
    fx.write("lib/data/msg.txt", "data-two");
    lx.rebuilds("include_str! file of a path dependency", &[]);
    assert!(contains(&lx.bootstrap(), "data-two"));

    // A file only the path dependency's build script reads.
    fx.write("lib/proto/schema.txt", "schema-two\n");
    lx.rebuilds("file read by a build script", &[]);
    assert!(contains(&lx.bootstrap(), "schema-two"));

    // The path dependency's Cargo.toml.
    fx.write(
        "lib/Cargo.toml",
        "[package]\nname = \"sk-lib\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[features]\nextra = []\n",
    );
    lx.rebuilds("Cargo.toml of a path dependency", &[]);

    // Variables: one the bin reads with option_env!, one a build script tracks, RUSTFLAGS.
    let greeting = [("SK_GREETING", "greeting-from-env")];
    lx.rebuilds("variable read with option_env!", &greeting);
    assert!(contains(&lx.bootstrap(), "greeting-from-env"));
    let suffix = [greeting[0], ("SK_SUFFIX", "from-env")];
    lx.rebuilds("variable tracked by a build script", &suffix);
    assert!(contains(&lx.bootstrap(), "suffix-from-env"));
    // A variable nothing reads changes nothing cargo builds: cargo is not started.
    let (out, _, builds) = lx.run(&[suffix[0], suffix[1], ("SK_UNRELATED", "1")]);
    assert_eq!(builds, 0, "{}", describe(&out));
    // Nor do cargo's variables that change nothing it builds: how it shows its output, a
    // registry token (new on every CI job), or one it sets itself for what it starts (the bin
    // reads `CARGO_PKG_NAME`; cargo hands it the package's name whatever this one says).
    for var in [
        ("RUST_LOG", "sk_skip=trace"),
        ("CARGO_TERM_VERBOSE", "false"),
        ("CARGO_REGISTRY_TOKEN", "job-42"),
        ("CARGO_PKG_NAME", "not-sk-svc"),
    ] {
        let (out, _, builds) = lx.run(&[suffix[0], suffix[1], var]);
        assert_eq!(builds, 0, "{}={}\n{}", var.0, var.1, describe(&out));
    }
    assert!(contains(&lx.bootstrap(), "sk-svc"));
    lx.rebuilds(
        "RUSTFLAGS",
        &[
            suffix[0],
            suffix[1],
            ("RUSTFLAGS", "-Cdebug-assertions=off"),
        ],
    );

    // The executable in the target dir is gone (e.g. `cargo clean -p`).
    let exe = shared_target().join("x86_64-unknown-linux-gnu/debug/sk-fn");
    fs::remove_file(&exe).unwrap();
    lx.rebuilds("deleted executable", &[]);
    assert!(exe.is_file());
    let bootstrap = lx.bootstrap();
    for text in [
        "sk-fn says v2",
        "schema-two",
        "data-two",
        "no-greeting",
        "suffix-no-suffix",
    ] {
        assert!(
            contains(&bootstrap, text),
            "{text} not in the rebuilt bootstrap"
        );
    }
}

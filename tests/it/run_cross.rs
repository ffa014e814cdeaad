//! `compiler "cross"`, end to end: a stand-in `cross` first on PATH records the argv, the
//! working directory and the environment it was started with, then runs `cargo` with the same
//! arguments (Docker, which the real cross needs, is not available in CI); with `auditable
//! true` it is started by cargo-auditable, as its `$CARGO`.

use std::fs;

use crate::support::test::{Test, bin_source, statuses, write_executable, zip_entries};
use lambda_batch::report::Status;

#[test]
fn the_cross_stand_in_receives_exactly_the_planned_argv() {
    let fx = Test::new("cross");
    fx.workspace(
        "svc",
        "cx-svc",
        &[
            ("cx-one", &bin_source("cx-one")),
            ("cx-two", &bin_source("cx-two")),
        ],
    );
    fx.manifest(
        "workspace \"svc\" {\n    compiler \"cross\"\n    function \"cx-one\"\n    function \"cx-two\"\n}",
    );
    let bin = fx.path().join("bin");
    let log = fx.path().join("log");
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&log).unwrap();
    write_executable(
        &bin.join("cross"),
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > '{log}/argv'\npwd > '{log}/cwd'\nenv -0 > '{log}/env'\nexec cargo \"$@\"\n",
            log = log.display()
        ),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let plan = fx
        .lb(&["plan", "--format", "json"])
        .env("PATH", &path)
        .status(0);
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let groups = plan["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "one cross call for both bins: {plan:#}");
    assert_eq!(groups[0]["program"], "cross");
    let planned: Vec<String> = groups[0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();

    let report = fx.path().join("report.json");
    fx.lb(&["run", "--report", report.to_str().unwrap()])
        .env("PATH", &path)
        .status(0);

    let argv: Vec<String> = fs::read_to_string(log.join("argv"))
        .expect("the stand-in ran")
        .split_terminator('\0')
        .map(str::to_string)
        .collect();
    assert_eq!(argv, planned);
    assert!(
        argv.contains(&"--target".to_string())
            && argv.contains(&"x86_64-unknown-linux-gnu".to_string())
    );
    let cwd = fs::read_to_string(log.join("cwd")).unwrap();
    assert_eq!(
        fs::canonicalize(cwd.trim()).unwrap(),
        fs::canonicalize(fx.path().join("svc")).unwrap(),
        "cross runs in the workspace root"
    );
    let env = fs::read_to_string(log.join("env")).unwrap();
    assert!(
        env.split('\0').any(|kv| kv.starts_with("CARGO_MAKEFLAGS=")),
        "the shared jobserver is handed to the build program"
    );

    let report: lambda_batch::report::Report =
        serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let st = statuses(&report);
    for name in ["cx-one", "cx-two"] {
        assert_eq!(
            st[&format!("{name} x86_64-unknown-linux-gnu")],
            Status::Built
        );
        let zip = fx.path().join(format!("out/x86_64/{name}/bootstrap.zip"));
        let entries = zip_entries(&zip);
        assert_eq!(entries.keys().collect::<Vec<_>>(), ["bootstrap"]);
        assert_eq!(entries["bootstrap"].0, 0o755);
    }

    // `auditable true`: cargo-auditable runs cross (its `$CARGO`) with the build's arguments
    // and itself as the rustc wrapper, so the executables carry their dependency list.
    fx.manifest(
        "workspace \"svc\" {\n    compiler \"cross\"\n    auditable true\n    function \"cx-one\"\n    function \"cx-two\"\n}",
    );
    let plan = fx
        .lb(&["plan", "--format", "json"])
        .env("PATH", &path)
        .status(0);
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let group = &plan["groups"][0];
    assert_eq!(group["program"], "cargo-auditable");
    assert_eq!(group["env"]["CARGO"], "cross");
    let planned: Vec<String> = group["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(planned[0], "auditable");
    fx.lb(&["run"]).env("PATH", &path).status(0);
    let argv: Vec<String> = fs::read_to_string(log.join("argv"))
        .unwrap()
        .split_terminator('\0')
        .map(str::to_string)
        .collect();
    assert_eq!(argv, planned[1..]);
    let env = fs::read_to_string(log.join("env")).unwrap();
    assert!(
        env.split('\0')
            .any(|kv| kv.starts_with("RUSTC_WORKSPACE_WRAPPER=") && kv.ends_with("cargo-auditable")),
        "cross gets cargo-auditable as the rustc wrapper"
    );
    for name in ["cx-one", "cx-two"] {
        let zip = fx.path().join(format!("out/x86_64/{name}/bootstrap.zip"));
        let exe = zip_entries(&zip).remove("bootstrap").unwrap().1;
        let elf = goblin::elf::Elf::parse(&exe).unwrap();
        assert!(
            elf.section_headers
                .iter()
                .any(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(".dep-v0")),
            "{name}"
        );
    }
}

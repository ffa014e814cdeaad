//! `auditable true`, end to end with every compiler installed here: the executables built
//! through `cargo auditable` (plain cargo) and `cargo auditable zigbuild` carry the `.dep-v0`
//! section, and `rust-audit-info` (installed by setup) reads back each function's own
//! dependencies and not the other function's; an artifact of the same package without the
//! setting has no such section and is built in a cargo call of its own. Two small packages with
//! a path dependency each keep the builds short (the cross route is in `run_cross`).

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::test::{Invocation, Test, zip_entries};

/// A workspace `svc` of two packages, each with a path dependency of its own.
fn workspace(t: &Test) {
    t.write(
        "svc/Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"alpha\", \"beta\", \"only-alpha\", \"only-beta\"]\n",
    );
    for (package, dep, bins) in [
        ("alpha", "only-alpha", &["au-alpha", "au-plain"][..]),
        ("beta", "only-beta", &["au-beta"][..]),
    ] {
        let crate_name = dep.replace('-', "_");
        t.write(
            &format!("svc/{package}/Cargo.toml"),
            format!(
                "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{dep} = {{ path = \"../{dep}\" }}\n"
            ),
        );
        for bin in bins {
            t.write(
                &format!("svc/{package}/src/bin/{bin}.rs"),
                format!("fn main() {{\n    println!(\"{{}}\", {crate_name}::NAME);\n}}\n"),
            );
        }
        t.write(
            &format!("svc/{dep}/Cargo.toml"),
            format!("[package]\nname = \"{dep}\"\nversion = \"0.2.0\"\nedition = \"2021\"\npublish = false\n"),
        );
        t.write(
            &format!("svc/{dep}/src/lib.rs"),
            format!("pub const NAME: &str = \"{dep}\";\n"),
        );
    }
}

/// The package names `rust-audit-info` reads from `exe`, or `None` when it finds no list.
fn audit_info(dir: &Path, exe: &[u8]) -> Option<BTreeSet<String>> {
    let path = dir.join("exe-under-audit");
    std::fs::write(&path, exe).unwrap();
    let run = Invocation::program("rust-audit-info").arg(&path).output();
    if run.code != 0 {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    Some(
        json["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect(),
    )
}

/// Whether the ELF `exe` has a section named `name`.
fn has_section(exe: &[u8], name: &str) -> bool {
    let elf = goblin::elf::Elf::parse(exe).unwrap();
    elf.section_headers
        .iter()
        .any(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(name))
}

#[test]
fn auditable_executables_list_their_own_dependencies_with_cargo_and_zigbuild() {
    let t = Test::new("auditable");
    workspace(&t);
    t.manifest(
        "workspace \"svc\" {\n    auditable true\n    function \"au-alpha\"\n    function \"au-plain\" {\n        auditable false\n    }\n    function \"au-beta\" {\n        compiler \"cargo-zigbuild\"\n    }\n}",
    );
    let plan = t.lb(&["plan", "--format", "json"]).status(0);
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let programs: Vec<(String, String)> = plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["program"].as_str().unwrap().to_string(),
                g["args"][0].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The auditable and the plain bin of one package never share a call.
    assert_eq!(programs.len(), 3, "{plan:#}");
    for (program, first) in [
        ("cargo-auditable", "auditable"),
        ("cargo", "build"),
        ("cargo-auditable", "auditable"),
    ] {
        assert!(
            programs.contains(&(program.to_string(), first.to_string())),
            "{programs:?}"
        );
    }
    t.run_with_report(&[], 0);

    let exe = |name: &str| {
        let zip = t.path().join(format!("out/x86_64/{name}/bootstrap.zip"));
        zip_entries(&zip).remove("bootstrap").unwrap().1
    };
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let alpha = exe("au-alpha");
    assert!(has_section(&alpha, ".dep-v0"));
    assert_eq!(
        audit_info(t.path(), &alpha),
        Some(names(&["alpha", "only-alpha"]))
    );
    let beta = exe("au-beta");
    assert!(
        has_section(&beta, ".dep-v0"),
        "built by cargo auditable zigbuild"
    );
    assert_eq!(
        audit_info(t.path(), &beta),
        Some(names(&["beta", "only-beta"]))
    );
    let plain = exe("au-plain");
    assert!(!has_section(&plain, ".dep-v0"));
    assert_eq!(audit_info(t.path(), &plain), None);
}

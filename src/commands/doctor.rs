//! `lambda-batch doctor`: the tools this manifest needs, found or missing, with how to install.

use std::collections::BTreeSet;
use std::process::Command;

use camino::Utf8Path;

use super::Error;
use crate::cache::install_hint;
use crate::exit_code::ExitCode;
use crate::manifest::settings::Compiler;
use crate::plan::{CargoFlags, Plan};
use crate::report::output::eprintln;
use crate::report::table;

/// One tool the manifest needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// What is needed.
    pub tool: String,
    /// Why (which compiler or target).
    pub why: String,
    /// Where it was found, or `None`.
    pub found: Option<String>,
    /// How to install it.
    pub install: String,
}

/// Checks the tools; exit 0 when all are found, 3 otherwise (the table says which).
pub fn doctor(manifest: Option<&Utf8Path>) -> Result<ExitCode, Error> {
    if super::cargo_program().is_none() {
        // Without cargo the workspaces cannot be read: cargo is the one tool to report.
        let row = vec![
            "cargo".to_string(),
            "reading the workspaces, every build".to_string(),
            "MISSING".to_string(),
            install_hint("cargo").to_string(),
        ];
        let table = table::render(&["TOOL", "NEEDED FOR", "STATUS", "INSTALL"], &[row]);
        let printed = super::print(&table);
        eprintln("error: cargo is missing; the other tools are checked once it is installed");
        printed?;
        return Ok(ExitCode::MISSING_TOOL);
    }
    let checked = super::load(manifest, &CargoFlags::default(), false, false)?;
    let needs = needs(&checked.plan);
    let rows: Vec<Vec<String>> = needs
        .iter()
        .map(|n| {
            vec![
                n.tool.clone(),
                n.why.clone(),
                n.found
                    .clone()
                    .map(|f| format!("ok ({f})"))
                    .unwrap_or_else(|| "MISSING".into()),
                if n.found.is_some() {
                    String::new()
                } else {
                    n.install.clone()
                },
            ]
        })
        .collect();
    let table = table::render(&["TOOL", "NEEDED FOR", "STATUS", "INSTALL"], &rows);
    let missing = needs.iter().filter(|n| n.found.is_none()).count();
    let printed = super::print(&table);
    if missing == 0 {
        eprintln(&format!("all {} tools found", needs.len()));
    } else {
        eprintln(&format!(
            "error: {missing} tool{} missing",
            if missing == 1 { "" } else { "s" }
        ));
    }
    printed?;
    Ok(if missing == 0 {
        ExitCode::OK
    } else {
        ExitCode::MISSING_TOOL
    })
}

/// The tools a plan needs, each looked up.
pub fn needs(plan: &Plan) -> Vec<Need> {
    let compilers: BTreeSet<Compiler> = plan.groups.iter().map(|g| g.compiler).collect();
    let mut out = vec![found(
        "cargo",
        "every build",
        which::which("cargo").ok().map(|p| p.display().to_string()),
        install_hint("cargo"),
    )];
    // Targets rustup must have: cross brings its own toolchains in the container.
    let targets: BTreeSet<&str> = plan
        .groups
        .iter()
        .filter(|g| g.compiler != Compiler::Cross)
        .map(|g| g.target.as_str())
        .collect();
    if !targets.is_empty() {
        let installed = installed_targets();
        for t in targets {
            let ok = installed.as_ref().map(|i| i.contains(t));
            out.push(found(
                &format!("rust target {t}"),
                "cargo / cargo-zigbuild builds",
                match ok {
                    Some(true) => Some("installed".into()),
                    Some(false) => None,
                    None => Some("not checked: no rustup".into()),
                },
                &format!("rustup target add {t}"),
            ));
        }
    }
    if compilers.contains(&Compiler::CargoZigbuild) {
        out.push(found(
            "cargo-zigbuild",
            "compiler \"cargo-zigbuild\"",
            which::which("cargo-zigbuild")
                .ok()
                .map(|p| p.display().to_string()),
            install_hint("cargo-zigbuild"),
        ));
        out.push(found(
            "zig",
            "compiler \"cargo-zigbuild\"",
            find_zig(),
            install_hint("zig"),
        ));
    }
    if plan
        .groups
        .iter()
        .any(|g| g.program == crate::plan::AUDITABLE)
    {
        out.push(found(
            "cargo-auditable",
            "auditable true (the dependency list embedded in each executable)",
            which::which("cargo-auditable")
                .ok()
                .map(|p| p.display().to_string()),
            install_hint("cargo-auditable"),
        ));
    }
    if compilers.contains(&Compiler::Cross) {
        out.push(found(
            "cross",
            "compiler \"cross\"",
            which::which("cross").ok().map(|p| p.display().to_string()),
            install_hint("cross"),
        ));
        let engine = which::which("docker")
            .or_else(|_| which::which("podman"))
            .ok()
            .map(|p| p.display().to_string());
        out.push(found(
            "docker or podman",
            "compiler \"cross\"",
            engine,
            install_hint("docker"),
        ));
    }
    out
}

fn found(tool: &str, why: &str, at: Option<String>, install: &str) -> Need {
    Need {
        tool: tool.into(),
        why: why.into(),
        found: at,
        install: install.into(),
    }
}

/// `rustup target list --installed`, or `None` without rustup.
fn installed_targets() -> Option<BTreeSet<String>> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().to_string())
            .collect(),
    )
}

/// zig as cargo-zigbuild finds it: `$CARGO_ZIGBUILD_ZIG_PATH`, `zig` on PATH, or `python3 -m ziglang`.
pub fn find_zig() -> Option<String> {
    if let Some(p) = std::env::var_os("CARGO_ZIGBUILD_ZIG_PATH") {
        return Some(p.to_string_lossy().into_owned());
    }
    if let Ok(p) = which::which("zig") {
        return Some(p.display().to_string());
    }
    let ok = Command::new("python3")
        .args(["-c", "import ziglang"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| "python3 -m ziglang".to_string())
}

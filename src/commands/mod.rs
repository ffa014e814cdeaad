//! One module per subcommand; each returns the process exit code.

pub mod check;
pub mod doctor;
pub mod edit;
pub mod list;
pub mod plan;
pub mod run;
pub mod schema;

use camino::{Utf8Path, Utf8PathBuf};

use crate::diagnostic::ManifestErrors;
use crate::exit_code;
use crate::pipeline::{self, Checked};
use crate::plan::CargoFlags;
use crate::report::diagnostics::print_errors;

/// Locates, loads, resolves and plans the manifest; prints diagnostics and returns exit code 2
/// on any problem.
pub fn load(manifest: Option<&Utf8Path>, flags: &CargoFlags, color: bool) -> Result<Checked, i32> {
    let path = locate(manifest, color)?;
    require_cargo(color)?;
    pipeline::check_file(&path, flags).map_err(|errors| {
        print_errors(&errors, color);
        exit_code::INVALID
    })
}

/// Where cargo is, the way `cargo metadata` is run: `$CARGO`, else `cargo` on PATH.
pub fn cargo_program() -> Option<std::path::PathBuf> {
    match std::env::var_os("CARGO") {
        Some(cargo) => which::which(cargo).ok(),
        None => which::which("cargo").ok(),
    }
}

/// Exit 3, naming cargo and how to install it, when cargo cannot be found: every command that
/// resolves a workspace runs `cargo metadata`.
pub fn require_cargo(color: bool) -> Result<(), i32> {
    if cargo_program().is_some() {
        return Ok(());
    }
    let word = if color {
        "\u{1b}[1;31merror\u{1b}[0m"
    } else {
        "error"
    };
    eprintln!(
        "{word}: `cargo` is not installed (or not on PATH); it is needed to read the cargo workspaces"
    );
    eprintln!("  help: install Rust with rustup: https://rustup.rs");
    Err(exit_code::MISSING_TOOL)
}

/// Finds the manifest, printing the diagnostic when there is none.
pub fn locate(manifest: Option<&Utf8Path>, color: bool) -> Result<Utf8PathBuf, i32> {
    crate::manifest::locate(manifest).map_err(|e| {
        print_errors(&ManifestErrors(vec![e]), color);
        exit_code::INVALID
    })
}

/// A path as people want to read it: relative to the current directory when below it.
pub fn display_path(p: &Utf8Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| Utf8PathBuf::from_path_buf(c).ok());
    match cwd.as_deref().and_then(|c| p.strip_prefix(c).ok()) {
        Some(rel) if !rel.as_str().is_empty() => rel.to_string(),
        _ => p.to_string(),
    }
}

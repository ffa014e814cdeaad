//! `lambda-batch emit FORMAT --report FILE [-o FILE]`: a deploy tool's input from a report.

use camino::{Utf8Path, Utf8PathBuf};

use super::Error;
use crate::cli::EmitArgs;
use crate::exit_code::ExitCode;

/// Reads the report, checks its zips, writes the format to `-o` (atomically) or standard
/// output. [`Error::Emit`] (exit 1), with nothing written, when the report or a zip is not
/// usable.
pub fn emit(args: &EmitArgs) -> Result<ExitCode, Error> {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| Utf8PathBuf::from_path_buf(d).ok())
        .ok_or_else(|| {
            Error::Emit(crate::emit::EmitError {
                message: "the current directory is not a readable UTF-8 path".into(),
                help: String::new(),
            })
        })?;
    let report = crate::emit::read_report(&args.report).map_err(Error::Emit)?;
    let output = args
        .output
        .as_ref()
        .map(|o| crate::manifest::normalize(&cwd.join(o)));
    let base = output
        .as_deref()
        .and_then(Utf8Path::parent)
        .unwrap_or(&cwd)
        .to_path_buf();
    let text = crate::emit::emit(args.format, &report, &base).map_err(Error::Emit)?;
    match output {
        Some(path) => {
            if let Some(dir) = path.parent() {
                crate::atomic::Sweeper::new().sweep(dir);
            }
            crate::atomic::write(&path, text.as_bytes(), 0o644).map_err(Error::Output)?;
        }
        None => super::print(&text)?,
    }
    Ok(ExitCode::OK)
}

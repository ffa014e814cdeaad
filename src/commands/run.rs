//! `lambda-batch run`: build and package.

use crate::cli::RunArgs;
use crate::exit_code;

/// Builds and packages every selected artifact.
pub fn run(args: &RunArgs, color: bool) -> i32 {
    let checked = match super::load(args.manifest.as_deref(), &args.cargo.flags(), color) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.dry_run {
        print!("{}", super::plan::text(&checked.plan));
        return exit_code::OK;
    }
    eprintln!("error: building is not available in this version");
    exit_code::FAILED
}

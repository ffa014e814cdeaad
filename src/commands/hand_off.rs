//! What `publish` and `deploy` share once their build is done: the SBOMs, written as `run`
//! writes them (an SBOM that cannot be written hands nothing on), and one way to end, early
//! with an error or at the end, through `run::finish` (the report, the timeline, the
//! provenance).

use std::time::SystemTime;

use super::Error;
use super::run;
use crate::cli::RunArgs;
use crate::exit_code::ExitCode;
use crate::plan::Plan;
use crate::report::diagnostics::print_error;
use crate::report::run_report::Report;
use crate::report::timeline::Timeline;

/// How a command that builds first comes to its end.
pub struct Ending<'a> {
    /// The run's arguments (where the report, timeline and provenance go).
    pub args: &'a RunArgs,
    /// The subcommand.
    pub command: &'static str,
    /// What it built.
    pub plan: &'a Plan,
    /// When it started.
    pub started: SystemTime,
    /// The build's timeline, when asked for.
    pub timeline: Option<&'a Timeline>,
    /// Whether errors are printed in color.
    pub color: bool,
}

impl Ending<'_> {
    /// Writes the results of the run (`report`, with `unwritten`, what could not be written
    /// so far) and exits with `code`.
    pub fn finish(
        &self,
        report: &Report,
        code: ExitCode,
        unwritten: Vec<Error>,
    ) -> Result<ExitCode, Error> {
        run::finish(
            self.args,
            run::Ran::new(self.command, self.plan, self.started),
            report,
            self.timeline,
            code,
            unwritten,
        )
    }

    /// Stops the command: `message` (with `help`) printed, then [`Ending::finish`].
    pub fn stop(
        &self,
        report: &Report,
        code: ExitCode,
        unwritten: Vec<Error>,
        message: &str,
        help: &str,
    ) -> Result<ExitCode, Error> {
        print_error(message, help, self.color);
        self.finish(report, code, unwritten)
    }
}

/// Writes the SBOM of each output of `report` that asks for one, as `run` does, adding what
/// could not be written to `unwritten`; then why nothing may be handed on, if so: a build that
/// ended with `built` other than success, or an SBOM that could not be written.
pub fn write_sboms(
    plan: &Plan,
    report: &mut Report,
    built: ExitCode,
    unwritten: &mut Vec<Error>,
) -> Option<&'static str> {
    let errors = run::write_sboms(plan, report);
    let written = errors.is_empty();
    unwritten.extend(errors);
    if !written {
        Some("an SBOM could not be written")
    } else if built != ExitCode::OK {
        Some("the build did not succeed")
    } else {
        None
    }
}

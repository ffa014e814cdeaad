//! Stage 5: what people and tools see: diagnostics, tables, progress, summaries, JSON reports.

pub mod diagnostics;
pub mod diff;
pub mod github;
pub mod output;
mod path;
pub mod plan_json;
pub mod progress;
pub mod run_report;
pub mod summary;
pub mod table;
pub mod timeline;

pub use path::display_path;
pub use run_report::{ArtifactReport, Deployed, Published, REPORT_VERSION, Report, Status};

//! Stage 5: what people and tools see: diagnostics, tables, progress, summaries, JSON reports.

pub mod diagnostics;
pub mod json;
pub mod progress;
pub mod run_report;
pub mod summary;
pub mod table;

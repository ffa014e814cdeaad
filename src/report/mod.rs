//! Stage 5: what people and tools see: diagnostics, tables, progress, summaries, JSON reports.

pub mod diagnostics;
pub mod json;
pub mod table;

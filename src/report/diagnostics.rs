//! Every error lambda-batch prints: diagnostics rendered for people (miette, set up here
//! once) and for tools (JSON), and one-line `error:` messages with their help line.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use serde::Serialize;

use crate::diagnostic::{ErrorCode, ManifestError, ManifestErrors, Severity};

/// Renders one manifest diagnostic with miette's graphical handler.
pub fn render(e: &ManifestError, color: bool) -> String {
    render_diagnostic(e, color)
}

/// Renders any diagnostic with miette's graphical handler.
pub fn render_diagnostic(d: &dyn Diagnostic, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, d).is_err() {
        out = format!("error: {d}");
    }
    out
}

/// The word `error`, bold red when `color`.
fn error_word(color: bool) -> &'static str {
    if color {
        "\u{1b}[1;31merror\u{1b}[0m"
    } else {
        "error"
    }
}

/// The word `warning`, bold yellow when `color`.
fn warning_word(color: bool) -> &'static str {
    if color {
        "\u{1b}[1;33mwarning\u{1b}[0m"
    } else {
        "warning"
    }
}

/// Prints `warning: MESSAGE` to stderr.
pub fn print_warning(message: &str, color: bool) {
    eprintln!("{}", warning_line(message, color));
}

/// The line `warning: MESSAGE`, for a printer that places its own lines (the progress bars).
pub fn warning_line(message: &str, color: bool) -> String {
    format!("{}: {message}", warning_word(color))
}

/// Prints `error: MESSAGE` to stderr, then `  help: HELP` unless `help` is empty.
pub fn print_error(message: &str, help: &str, color: bool) {
    eprintln!("{}: {message}", error_word(color));
    if !help.is_empty() {
        eprintln!("  help: {help}");
    }
}

/// Prints every diagnostic to stderr, then a closing line.
pub fn print_errors(errors: &ManifestErrors, color: bool) {
    for e in &errors.0 {
        eprintln!("{}", render(e, color));
    }
    let n = errors.0.len();
    let file = errors
        .0
        .iter()
        .find_map(|e| e.source.as_ref().map(|s| s.name().to_string()))
        .unwrap_or_else(|| crate::manifest::FILE_NAME.to_string());
    if n > 1
        || errors
            .0
            .iter()
            .any(|e| e.source.is_some() && !e.labels.is_empty())
    {
        eprintln!(
            "error: {file} is invalid: {n} problem{}",
            if n == 1 { "" } else { "s" }
        );
    }
}

/// Prints warnings to stderr, then a line that counts them (nothing when there are none).
pub fn print_warnings(warnings: &[ManifestError], color: bool) {
    for w in warnings {
        eprintln!("{}", render(w, color));
    }
    let n = warnings.len();
    if n > 0 {
        print_warning(
            &format!("{n} warning{}", if n == 1 { "" } else { "s" }),
            color,
        );
    }
}

/// One diagnostic as JSON (`check --format json`).
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    /// `error` or `warning`.
    pub severity: Severity,
    /// `lambda_batch::...`.
    pub code: &'static str,
    /// The kind, kebab-case.
    pub kind: ErrorCode,
    /// The message.
    pub message: String,
    /// 1-based line of the primary label.
    pub line: Option<usize>,
    /// 1-based column of the primary label.
    pub column: Option<usize>,
    /// The labels: text and 1-based line/column.
    pub labels: Vec<JsonLabel>,
    /// The help line.
    pub help: Option<String>,
}

/// A label of a [`JsonDiagnostic`].
#[derive(Debug, Serialize)]
pub struct JsonLabel {
    /// The label text.
    pub label: Option<String>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Byte offset.
    pub offset: usize,
    /// Length in bytes.
    pub length: usize,
}

/// Diagnostics as JSON values, with line and column computed against the manifest text.
pub fn to_json(errors: &ManifestErrors) -> Vec<JsonDiagnostic> {
    to_json_all(&errors.0)
}

/// [`to_json`] for any list of diagnostics, errors and warnings alike.
pub fn to_json_all(diagnostics: &[ManifestError]) -> Vec<JsonDiagnostic> {
    diagnostics
        .iter()
        .map(|e| {
            let text = e
                .source
                .as_ref()
                .map(|s| s.inner().to_string())
                .unwrap_or_default();
            let lc = e.line_col(&text);
            JsonDiagnostic {
                severity: e.severity,
                code: e.code.as_str(),
                kind: e.code,
                message: e.message.clone(),
                line: lc.map(|x| x.0),
                column: lc.map(|x| x.1),
                labels: e
                    .labels
                    .iter()
                    .map(|l| {
                        let (line, column) = crate::diagnostic::line_col(&text, l.offset());
                        JsonLabel {
                            label: l.label().map(str::to_string),
                            line,
                            column,
                            offset: l.offset(),
                            length: l.len(),
                        }
                    })
                    .collect(),
                help: e.help.clone(),
            }
        })
        .collect()
}

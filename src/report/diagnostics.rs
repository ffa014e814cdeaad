//! Every error lambda-batch prints: diagnostics rendered for people (miette, set up here
//! once) and for tools (JSON), and one-line `error:` messages with their help line.
//!
//! Rendering never takes the process down and stays linear in the size of the file: each
//! diagnostic reads its source through a [`LineIndex`] (miette would scan the file from its
//! start for every one), a diagnostic whose lines are too long to draw or that panics inside
//! miette is printed plainly with its line and column, and a flood of problems is cut short
//! after the first few of each kind, with a count of the rest (`check --format json` lists
//! every one).

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use super::output::eprint;
use crate::diagnostic::{ErrorCode, LineIndex, ManifestError, ManifestErrors, Severity};

/// The most diagnostics drawn in full by one [`print_errors`].
pub const MAX_RENDERED: usize = 50;
/// The most diagnostics of one kind drawn in full by one [`print_errors`].
pub const MAX_RENDERED_PER_KIND: usize = 10;
/// The longest source line (in bytes) drawn under a diagnostic; a longer one is not shown.
pub const MAX_RENDER_LINE: usize = 1000;
/// The most source lines drawn under one label.
pub const MAX_RENDER_LINES: usize = 200;

/// Renders one manifest diagnostic with miette's graphical handler (or plainly, see the
/// module documentation).
pub fn render(e: &ManifestError, color: bool) -> String {
    match &e.source {
        Some(source) => {
            let index = LineIndex::new(source.inner());
            render_indexed(e, &index, color)
        }
        None => render_diagnostic(e, color),
    }
}

/// [`render`] with the index of the error's source already built.
fn render_indexed(e: &ManifestError, index: &LineIndex, color: bool) -> String {
    match &e.source {
        Some(source) => {
            let indexed = WithIndex {
                error: e,
                source: Indexed {
                    name: source.name(),
                    text: source.inner(),
                    index,
                },
            };
            render_diagnostic(&indexed, color)
        }
        None => render_diagnostic(e, color),
    }
}

/// Renders any diagnostic with miette's graphical handler; plainly (message, line and column,
/// help) when its source lines are too long to draw, or when miette fails or panics.
pub fn render_diagnostic(d: &dyn Diagnostic, color: bool) -> String {
    if too_large_to_draw(d) {
        return plain(d);
    }
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let drawn = quietly(|| {
        let mut out = String::new();
        handler.render_report(&mut out, d).map(|()| out)
    });
    match drawn {
        Ok(Ok(out)) => out,
        _ => plain(d),
    }
}

/// Runs `f`, catching a panic without the panic hook printing it.
fn quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result
}

/// Whether a label of `d` covers more lines, or lines longer, than are drawn: miette's
/// renderer pads with `{:width$}`, which panics beyond 65,535 columns, and a line of
/// megabytes drawn under each of thousands of diagnostics fills gigabytes.
fn too_large_to_draw(d: &dyn Diagnostic) -> bool {
    let (Some(source), Some(labels)) = (d.source_code(), d.labels()) else {
        return false;
    };
    labels.into_iter().any(|label| {
        let Ok(contents) = source.read_span(label.inner(), 1, 1) else {
            return false;
        };
        let data = contents.data();
        data.split(|b| *b == b'\n').count() > MAX_RENDER_LINES + 2
            || data
                .split(|b| *b == b'\n')
                .any(|line| line.len() > MAX_RENDER_LINE)
    })
}

/// A diagnostic without its source drawn: the message, where each label is, and the help.
fn plain(d: &dyn Diagnostic) -> String {
    let mut out = String::new();
    if let Some(code) = d.code() {
        out.push_str(&format!("{code}\n\n"));
    }
    out.push_str(&format!("  × {d}\n"));
    let labels: Vec<LabeledSpan> = d.labels().map(Iterator::collect).unwrap_or_default();
    if let Some(source) = d.source_code() {
        for label in &labels {
            let Ok(at) = source.read_span(label.inner(), 0, 0) else {
                continue;
            };
            let name = at.name().unwrap_or("");
            out.push_str(&format!(
                "   at [{name}:{}:{}]: {}\n",
                at.line() + 1,
                at.column() + 1,
                label.label().unwrap_or("here")
            ));
        }
        if !labels.is_empty() {
            out.push_str("   (the source is not drawn: its lines are too long)\n");
        }
    }
    if let Some(help) = d.help() {
        out.push_str(&format!("  help: {help}\n"));
    }
    out
}

/// A manifest diagnostic whose source is read through an index.
struct WithIndex<'a> {
    error: &'a ManifestError,
    source: Indexed<'a>,
}

impl fmt::Debug for WithIndex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.error, f)
    }
}

impl fmt::Display for WithIndex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.error, f)
    }
}

impl std::error::Error for WithIndex<'_> {}

impl Diagnostic for WithIndex<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.error.code()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.error.help()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.error
            .source_code()
            .map(|_| &self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.error.labels()
    }
}

/// Manifest text with its [`LineIndex`]: reads a span by handing miette only the lines around
/// it, then moves what miette found back to the whole text's offsets and line numbers.
struct Indexed<'a> {
    name: &'a str,
    text: &'a str,
    index: &'a LineIndex,
}

impl SourceCode for Indexed<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let end = span.offset() + span.len().saturating_sub(1);
        let first = self.index.miette_line(span.offset());
        let last = self.index.miette_line(end).max(first);
        let from_line = first.saturating_sub(context_lines_before);
        let from = self.index.miette_line_start(from_line).min(self.text.len());
        let to = self
            .index
            // Two lines more than the context: miette reads one line further when the span
            // ends on a line break, and reading past what it needs changes nothing.
            .miette_line_start(last + context_lines_after + 3)
            .clamp(from, self.text.len());
        let window = &self.text.as_bytes()[from..to];
        // `from` starts the span's line or one before it, so the span keeps its place (a span
        // past the end of the text stays past the end of the window, for miette to refuse).
        let local = SourceSpan::new((span.offset() - from).into(), span.len());
        let found = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            found.data(),
            SourceSpan::new((found.span().offset() + from).into(), found.span().len()),
            found.line() + from_line,
            found.column(),
            found.line_count() + from_line,
        )))
    }
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
    eprint(&format!("{}\n", warning_line(message, color)));
}

/// The line `warning: MESSAGE`, for a printer that places its own lines (the progress bars).
pub fn warning_line(message: &str, color: bool) -> String {
    format!("{}: {message}", warning_word(color))
}

/// Prints `error: MESSAGE` to stderr, then `  help: HELP` unless `help` is empty.
pub fn print_error(message: &str, help: &str, color: bool) {
    let mut text = format!("{}: {message}\n", error_word(color));
    if !help.is_empty() {
        text.push_str(&format!("  help: {help}\n"));
    }
    eprint(&text);
}

/// Prints the diagnostics to stderr (the first [`MAX_RENDERED_PER_KIND`] of each kind, at
/// most [`MAX_RENDERED`]; a count of the others), then a closing line.
pub fn print_errors(errors: &ManifestErrors, color: bool) {
    print_diagnostics(&errors.0, color);
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
        eprint(&format!(
            "error: {file} is invalid: {n} problem{}\n",
            if n == 1 { "" } else { "s" }
        ));
    }
}

/// Prints warnings to stderr as [`print_errors`] prints errors, then a line that counts them
/// (nothing when there are none).
pub fn print_warnings(warnings: &[ManifestError], color: bool) {
    print_diagnostics(warnings, color);
    let n = warnings.len();
    if n > 0 {
        print_warning(
            &format!("{n} warning{}", if n == 1 { "" } else { "s" }),
            color,
        );
    }
}

/// Renders diagnostics to stderr: the first [`MAX_RENDERED_PER_KIND`] of each kind, at most
/// [`MAX_RENDERED`], then a count of the others.
fn print_diagnostics(diagnostics: &[ManifestError], color: bool) {
    let mut index: Option<(*const u8, LineIndex)> = None;
    let mut shown_of: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut hidden: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut shown = 0;
    for e in diagnostics {
        let kind = e.code.as_str();
        let of_kind = shown_of.entry(kind).or_default();
        if shown >= MAX_RENDERED || *of_kind >= MAX_RENDERED_PER_KIND {
            *hidden.entry(kind).or_default() += 1;
            continue;
        }
        *of_kind += 1;
        shown += 1;
        let rendered = match &e.source {
            Some(source) => {
                let text = source.inner();
                // Every diagnostic of a file shares its text: index it once.
                let key = text.as_ptr();
                if !matches!(&index, Some((k, _)) if *k == key) {
                    index = Some((key, LineIndex::new(text)));
                }
                match &index {
                    Some((_, i)) => render_indexed(e, i, color),
                    None => render(e, color),
                }
            }
            None => render(e, color),
        };
        eprint(&format!("{rendered}\n"));
    }
    if !hidden.is_empty() {
        let total: usize = hidden.values().sum();
        let kinds: Vec<String> = hidden
            .iter()
            .map(|(kind, n)| format!("{n} {}", kind.trim_start_matches("lambda_batch::")))
            .collect();
        eprint(&format!(
            "note: {total} more not shown ({}); `lambda-batch check --format json` lists every one\n",
            kinds.join(", ")
        ));
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
    let mut index: Option<(*const u8, LineIndex)> = None;
    let empty = LineIndex::new("");
    diagnostics
        .iter()
        .map(|e| {
            let text: &str = e.source.as_ref().map(|s| &**s.inner()).unwrap_or_default();
            let key = text.as_ptr();
            if !matches!(&index, Some((k, _)) if *k == key) {
                index = Some((key, LineIndex::new(text)));
            }
            let lines = index.as_ref().map_or(&empty, |(_, i)| i);
            let lc = e.line_col_indexed(text, lines);
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
                        let (line, column) = lines.line_col(text, l.offset());
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::diagnostic::Source;

    fn error(text: &str, spans: &[(usize, usize)]) -> ManifestError {
        let source: Source = miette::NamedSource::new("m.kdl", Arc::from(text));
        let mut e = ManifestError::new(ErrorCode::BadValue, "bad", spans[0], "first")
            .with_help("fix it")
            .with_source(&source);
        for (i, s) in spans.iter().enumerate().skip(1) {
            e = e.with_label(*s, format!("label {i}"));
        }
        e
    }

    /// What miette draws reading the whole text itself.
    fn unindexed(e: &ManifestError) -> String {
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_context_lines(1);
        let mut out = String::new();
        handler.render_report(&mut out, e).unwrap();
        out
    }

    #[test]
    fn the_index_draws_what_miette_draws_from_the_whole_text() {
        let texts = [
            "a\nbb\nccc\ndddd\neeeee\n",
            "a\r\nbb\r\nccc\r\ndddd\r\n",
            "one\rtwo\rthree\nfour",
            "x",
            "é\nà ü\n日本\n",
            "\n\n\n\n",
            "no newline at the end",
        ];
        for text in texts {
            for start in 0..=text.len() {
                for len in [0, 1, 2, 5, 9] {
                    if !text.is_char_boundary(start)
                        || start + len > text.len()
                        || !text.is_char_boundary(start + len)
                    {
                        continue;
                    }
                    let spans = [(start, len), (0, 1.min(text.len()))];
                    for n in 1..=2 {
                        let e = error(text, &spans[..n]);
                        assert_eq!(
                            render(&e, false),
                            unindexed(&e),
                            "{text:?} at {start}+{len}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn lines_too_long_to_draw_are_described_plainly() {
        let text = format!("workspace \"a\" {}bogus=1\n", " ".repeat(70_000));
        let e = error(&text, &[(70_014, 5)]);
        let out = render(&e, false);
        assert!(out.contains("[m.kdl:1:70015]: first"), "{out}");
        assert!(out.contains("help: fix it"), "{out}");
        assert!(out.len() < 1000);
    }

    #[test]
    fn json_lines_and_columns_match_the_plain_count() {
        let text = "a\né b\n\n  c日本 d\n";
        let spans: Vec<(usize, usize)> = (0..text.len())
            .filter(|i| text.is_char_boundary(*i))
            .map(|i| (i, 0))
            .collect();
        let errors = ManifestErrors(spans.iter().map(|s| error(text, &[*s])).collect());
        for (d, s) in to_json(&errors).iter().zip(&spans) {
            let want = crate::diagnostic::line_col(text, s.0);
            assert_eq!((d.line, d.column), (Some(want.0), Some(want.1)));
        }
    }
}

//! Diagnostics that point into `lambda.kdl`: one type for every manifest problem, so that all of
//! them can be collected in one pass and rendered by miette with labels and a help line.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};
use serde::Serialize;

/// The source text of a manifest, shared by every diagnostic that points into it.
pub type Source = NamedSource<Arc<str>>;

/// What kind of problem a diagnostic reports; stable, printed as `lambda_batch::<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The text is not valid KDL 1.0.
    Syntax,
    /// A node name the manifest language does not have.
    UnknownNode,
    /// A property the node does not take.
    UnknownProperty,
    /// A value of the wrong type or outside the allowed set.
    BadValue,
    /// A node that may appear only once appears again.
    DuplicateNode,
    /// A workspace path that is not a cargo workspace or package.
    Workspace,
    /// A bin target that no package of the workspace has.
    UnknownBin,
    /// A package the workspace does not have.
    UnknownPackage,
    /// A bin that several packages have, without `package=`.
    AmbiguousBin,
    /// Two artifacts with the same name.
    DuplicateArtifact,
    /// Two outputs that would be written to the same path.
    OutputCollision,
    /// An include pattern that matches no file.
    IncludeNoMatch,
    /// An include pattern or match outside its base directory.
    IncludeOutside,
    /// A file an include matched that cannot be shipped (its name, or not a regular file).
    IncludeFile,
    /// `internal=` on a function.
    InternalOnFunction,
    /// `flatten=` on an extension.
    FlattenOnExtension,
    /// A feature the package does not declare.
    UnknownFeature,
    /// A `layers` name that is no extension of the manifest.
    UnknownExtension,
    /// The manifest file cannot be found or read.
    Io,
    /// A setting that differs from cargo-lambda's configuration of the same bin (a warning).
    Drift,
    /// The manifest exceeds a bound lambda-batch sets (size, nesting depth, node count).
    Limit,
}

impl ErrorCode {
    /// The code as printed by miette and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Syntax => "lambda_batch::syntax",
            ErrorCode::UnknownNode => "lambda_batch::unknown_node",
            ErrorCode::UnknownProperty => "lambda_batch::unknown_property",
            ErrorCode::BadValue => "lambda_batch::bad_value",
            ErrorCode::DuplicateNode => "lambda_batch::duplicate_node",
            ErrorCode::Workspace => "lambda_batch::workspace",
            ErrorCode::UnknownBin => "lambda_batch::unknown_bin",
            ErrorCode::UnknownPackage => "lambda_batch::unknown_package",
            ErrorCode::AmbiguousBin => "lambda_batch::ambiguous_bin",
            ErrorCode::DuplicateArtifact => "lambda_batch::duplicate_artifact",
            ErrorCode::OutputCollision => "lambda_batch::output_collision",
            ErrorCode::IncludeNoMatch => "lambda_batch::include_no_match",
            ErrorCode::IncludeOutside => "lambda_batch::include_outside",
            ErrorCode::IncludeFile => "lambda_batch::include_file",
            ErrorCode::InternalOnFunction => "lambda_batch::internal_on_function",
            ErrorCode::FlattenOnExtension => "lambda_batch::flatten_on_extension",
            ErrorCode::UnknownFeature => "lambda_batch::unknown_feature",
            ErrorCode::UnknownExtension => "lambda_batch::unknown_extension",
            ErrorCode::Io => "lambda_batch::io",
            ErrorCode::Drift => "lambda_batch::drift",
            ErrorCode::Limit => "lambda_batch::limit",
        }
    }
}

/// How serious a diagnostic is: errors make a manifest invalid, warnings only inform (and fail
/// `check --deny-warnings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The manifest is invalid.
    #[default]
    Error,
    /// The manifest is valid, but something deserves a look.
    Warning,
}

/// One problem in a manifest, with labelled spans into its text and a help line.
#[derive(Debug, Clone)]
pub struct ManifestError {
    /// What kind of problem this is.
    pub code: ErrorCode,
    /// Error or warning.
    pub severity: Severity,
    /// The one-line message.
    pub message: String,
    /// Labelled spans, the primary one first.
    pub labels: Vec<LabeledSpan>,
    /// What to do about it.
    pub help: Option<String>,
    /// The manifest text the labels point into.
    pub source: Option<Source>,
}

impl ManifestError {
    /// A diagnostic with one primary label.
    pub fn new(
        code: ErrorCode,
        message: impl Into<String>,
        span: impl Into<SourceSpan>,
        label: impl Into<String>,
    ) -> Self {
        ManifestError {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: vec![LabeledSpan::new_primary_with_span(
                Some(label.into()),
                span.into(),
            )],
            help: None,
            source: None,
        }
    }

    /// A diagnostic that points nowhere in the file (a missing file, say).
    pub fn unlabelled(code: ErrorCode, message: impl Into<String>) -> Self {
        ManifestError {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            source: None,
        }
    }

    /// The same diagnostic as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Adds the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: impl Into<SourceSpan>, label: impl Into<String>) -> Self {
        self.labels
            .push(LabeledSpan::new_with_span(Some(label.into()), span.into()));
        self
    }

    /// Attaches the manifest text, for rendering.
    pub fn with_source(mut self, source: &Source) -> Self {
        self.source = Some(source.clone());
        self
    }

    /// The primary span, if any.
    pub fn primary_span(&self) -> Option<SourceSpan> {
        self.labels
            .iter()
            .find(|l| l.primary())
            .or(self.labels.first())
            .map(|l| *l.inner())
    }

    /// 1-based line and column of the primary span in `text`.
    pub fn line_col(&self, text: &str) -> Option<(usize, usize)> {
        self.primary_span().map(|s| line_col(text, s.offset()))
    }

    /// [`ManifestError::line_col`] through an index of `text`.
    pub fn line_col_indexed(&self, text: &str, index: &LineIndex) -> Option<(usize, usize)> {
        self.primary_span()
            .map(|s| index.line_col(text, s.offset()))
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Where the lines of a text start, so that the line and column of any offset are found in
/// logarithmic time: thousands of diagnostics in one file must not each scan the file.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// The offset of the first byte of every line ([`line_col`]'s lines: `\n` ends a line).
    starts: Vec<usize>,
    /// The offset of the first byte of every line as miette counts them (`\n`, `\r\n` and a
    /// lone `\r` each end one).
    miette_starts: Vec<usize>,
    /// The number of characters before every [`CHECKPOINT`]-th byte.
    chars_before: Vec<usize>,
    /// The text's length.
    len: usize,
}

/// Bytes between two character counts of a [`LineIndex`].
const CHECKPOINT: usize = 1024;

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut miette_starts = vec![0];
        let mut chars_before = Vec::with_capacity(bytes.len() / CHECKPOINT + 1);
        let mut chars = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if i % CHECKPOINT == 0 {
                chars_before.push(chars);
            }
            // Every byte that does not continue a character starts one.
            if b & 0xc0 != 0x80 {
                chars += 1;
            }
            match b {
                b'\n' => {
                    starts.push(i + 1);
                    miette_starts.push(i + 1);
                }
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => miette_starts.push(i + 1),
                _ => {}
            }
        }
        LineIndex {
            starts,
            miette_starts,
            chars_before,
            len: bytes.len(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset of the indexed `text`, as
    /// [`line_col`] gives them.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len).min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (
            line,
            self.chars_to(text, offset) - self.chars_to(text, start) + 1,
        )
    }

    /// The number of characters in `text[..offset]`.
    fn chars_to(&self, text: &str, offset: usize) -> usize {
        let block = offset / CHECKPOINT;
        let from = block * CHECKPOINT;
        let counted = self.chars_before.get(block).copied().unwrap_or(0);
        let rest = text.as_bytes().get(from..offset).unwrap_or_default();
        counted + rest.iter().filter(|&&b| b & 0xc0 != 0x80).count()
    }

    /// The 0-based line (as miette counts lines) that holds byte `offset`.
    pub fn miette_line(&self, offset: usize) -> usize {
        self.miette_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// Where the 0-based miette line `line` starts (the text's length past the last line).
    pub fn miette_line_start(&self, line: usize) -> usize {
        self.miette_starts.get(line).copied().unwrap_or(self.len)
    }

    /// The length in bytes of the 0-based miette line `line`, its line break included.
    pub fn miette_line_len(&self, line: usize) -> usize {
        self.miette_line_start(line + 1)
            .saturating_sub(self.miette_line_start(line))
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ManifestError {}

impl Diagnostic for ManifestError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        if self.labels.is_empty() {
            return None;
        }
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// Every problem found in a manifest, in file order.
#[derive(Debug, Clone, Default)]
pub struct ManifestErrors(pub Vec<ManifestError>);

impl ManifestErrors {
    /// Sorts by position, drops exact duplicates and attaches the source to each.
    pub fn finish(mut self, source: &Source) -> Self {
        self.0
            .sort_by_key(|e| e.primary_span().map(|s| s.offset()).unwrap_or(0));
        self.0.dedup_by(|a, b| {
            a.code == b.code && a.message == b.message && a.primary_span() == b.primary_span()
        });
        for e in &mut self.0 {
            if e.source.is_none() {
                e.source = Some(source.clone());
            }
        }
        self
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s) in the manifest", self.0.len())
    }
}

impl std::error::Error for ManifestErrors {}

/// The "did you mean" candidate closest to `word`, if any is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "did you mean `x`?" plus the list of valid values.
pub fn suggest(word: &str, what: &str, candidates: &[&str]) -> String {
    let list = candidates
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match closest(word, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`? valid {what}: {list}"),
        None if candidates.is_empty() => format!("there are no {what}"),
        None => format!("valid {what}: {list}"),
    }
}

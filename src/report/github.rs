//! At home in GitHub Actions logs: when `GITHUB_ACTIONS=true`, manifest diagnostics and build
//! failures are also printed as workflow commands (`::error file=…,line=…,col=…::…`, which the
//! runner turns into annotations on the run and on the lines of lambda.kdl), and a run's
//! closing table is appended as Markdown to the file `$GITHUB_STEP_SUMMARY` names.
//!
//! GitHub reads workflow commands from a step's standard output; a command whose standard
//! output is JSON for a tool (`--format json`) prints them on standard error instead, so that
//! the JSON stays whole. Data and property values are escaped the way GitHub's toolkit does
//! (`%`, CR, LF; and in properties also `:` and `,`).

use std::fmt;
use std::io::Write;

use camino::Utf8Path;

use crate::cache::{CacheStatus, Keys};
use crate::diagnostic::{ManifestError, Severity, line_col};
use crate::execute::{ArtifactOutcome, Cause, RunOutcome};
use crate::plan::Plan;
use crate::report::display_path;
use crate::report::run_report::{Status, cache_status, status};
use crate::report::summary::{human_size, short_key};
use crate::report::timeline::{Timeline, mermaid};

/// The variable GitHub Actions sets to `true` on its runners.
pub const ACTIONS_VAR: &str = "GITHUB_ACTIONS";

/// The variable naming the file a step's Markdown summary is appended to.
pub const STEP_SUMMARY_VAR: &str = "GITHUB_STEP_SUMMARY";

/// Whether this process runs in a GitHub Actions job.
pub fn enabled() -> bool {
    std::env::var(ACTIONS_VAR).is_ok_and(|v| v == "true")
}

/// A workflow command's message, escaped.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value, escaped.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// How an annotation shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `::error`.
    Error,
    /// `::warning`.
    Warning,
}

/// One annotation: `::error file=F,line=L,col=C,endLine=…,endColumn=…,title=T::message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// Error or warning.
    pub level: Level,
    /// The file, relative to the repository root.
    pub file: Option<String>,
    /// 1-based line and column where it starts.
    pub start: Option<(usize, usize)>,
    /// 1-based line and column where it ends.
    pub end: Option<(usize, usize)>,
    /// The annotation's title.
    pub title: Option<String>,
    /// The message (may span lines).
    pub message: String,
}

impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut props: Vec<(&str, String)> = Vec::new();
        if let Some(file) = &self.file {
            props.push(("file", file.clone()));
        }
        if let Some((line, col)) = self.start {
            props.push(("line", line.to_string()));
            props.push(("col", col.to_string()));
        }
        if let Some((line, col)) = self.end {
            props.push(("endLine", line.to_string()));
            props.push(("endColumn", col.to_string()));
        }
        if let Some(title) = &self.title {
            props.push(("title", title.clone()));
        }
        let word = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let props: Vec<String> = props
            .iter()
            .map(|(k, v)| format!("{k}={}", escape_property(v)))
            .collect();
        let sep = if props.is_empty() { "" } else { " " };
        write!(
            f,
            "::{word}{sep}{}::{}",
            props.join(","),
            escape_data(&self.message)
        )
    }
}

/// How the manifest at `path` is named to GitHub: relative to the repository root
/// (`workspace`, GitHub's `$GITHUB_WORKSPACE`), else to the working directory `cwd`, else as is.
pub fn file_name(path: &Utf8Path, workspace: Option<&Utf8Path>, cwd: Option<&Utf8Path>) -> String {
    [workspace, cwd]
        .into_iter()
        .flatten()
        .find_map(|base| path.strip_prefix(base).ok())
        .filter(|rel| !rel.as_str().is_empty())
        .unwrap_or(path)
        .to_string()
}

/// [`file_name`] with GitHub's and this process's directories.
pub fn file_name_here(path: &Utf8Path) -> String {
    let workspace = std::env::var("GITHUB_WORKSPACE").ok();
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| camino::Utf8PathBuf::from_path_buf(d).ok());
    file_name(
        path,
        workspace.as_deref().map(Utf8Path::new),
        cwd.as_deref(),
    )
}

/// One annotation per diagnostic, each on the span of its primary label in `file` (the
/// manifest, as [`file_name`] names it; without it, the diagnostic's source name).
pub fn diagnostics(diagnostics: &[ManifestError], file: Option<&str>) -> Vec<Annotation> {
    diagnostics
        .iter()
        .map(|e| {
            let text = e.source.as_ref().map(|s| s.inner().to_string());
            let span = e.primary_span();
            let (start, end) = match (&text, span) {
                (Some(text), Some(span)) => (
                    Some(line_col(text, span.offset())),
                    last_char(text, span.offset(), span.len()).map(|i| line_col(text, i)),
                ),
                _ => (None, None),
            };
            let file = file
                .map(str::to_string)
                .or_else(|| e.source.as_ref().map(|s| s.name().to_string()));
            let mut message = e.message.clone();
            let label = e
                .labels
                .iter()
                .find(|l| l.primary())
                .or(e.labels.first())
                .and_then(|l| l.label());
            if let Some(label) = label.filter(|l| !e.message.contains(l)) {
                message.push_str(&format!(" ({label})"));
            }
            if let Some(help) = &e.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            Annotation {
                level: match e.severity {
                    Severity::Error => Level::Error,
                    Severity::Warning => Level::Warning,
                },
                file: file.filter(|_| start.is_some()),
                start,
                end,
                title: Some(e.code.as_str().to_string()),
                message,
            }
        })
        .collect()
}

/// The offset of the last character of the span `offset..offset + len` of `text` that is not
/// white space (GitHub's end line and column are inclusive); `None` when there is none.
fn last_char(text: &str, offset: usize, len: usize) -> Option<usize> {
    let end = (offset + len).min(text.len());
    let span = text.get(offset..end)?;
    let trimmed = span.trim_end();
    trimmed.char_indices().last().map(|(i, _)| offset + i)
}

/// One annotation per output that failed to build or package (the cargo call failed, its
/// packaging failed, `--cache-only` did not find it), naming the artifact.
pub fn failures(plan: &Plan, outcome: &RunOutcome) -> Vec<Annotation> {
    plan.artifacts
        .iter()
        .zip(&outcome.artifacts)
        .filter_map(|(a, o)| match o {
            ArtifactOutcome::Failed {
                error,
                cause: cause @ (Cause::Build | Cause::Package),
                ..
            } => {
                let what = if *cause == Cause::Build {
                    "build"
                } else {
                    "packaging"
                };
                Some(Annotation {
                    level: Level::Error,
                    file: None,
                    start: None,
                    end: None,
                    title: Some(format!(
                        "lambda-batch: {} ({}) {what} failed",
                        a.resolved.identity.name, a.resolved.build.arch
                    )),
                    message: format!(
                        "{} ({}, {}): {error}",
                        a.resolved.identity.name, a.resolved.build.arch, a.resolved.build.target
                    ),
                })
            }
            _ => None,
        })
        .collect()
}

/// Prints annotations: on standard output (where GitHub reads workflow commands), or on
/// standard error when standard output is JSON for a tool (`to_stderr`).
pub fn emit(annotations: &[Annotation], to_stderr: bool) {
    let text: String = annotations.iter().map(|a| format!("{a}\n")).collect();
    if to_stderr {
        super::output::eprint(&text);
    } else {
        // Annotations are extra: a stdout that cannot take them changes nothing.
        let _ = super::output::stdout(&text);
    }
}

/// A Markdown table cell: pipes escaped, lines joined.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The closing table of a run as Markdown for the step summary, titled `title` (the shard,
/// when there is one): one row per output, with the cache's part when the run had a cache,
/// then the totals, then the run's `timeline` as a Mermaid gantt chart.
pub fn step_summary(
    plan: &Plan,
    keys: &Keys,
    outcome: &RunOutcome,
    title: &str,
    timeline: Option<&Timeline>,
) -> String {
    let with_cache = outcome.cache.is_some();
    let mut out = format!("### {}\n\n", cell(title));
    let mut header = vec!["Artifact", "Arch", "Target", "Output", "Size", "Status"];
    if with_cache {
        header.extend(["Cache", "Key"]);
    }
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!(
        "|{}\n",
        header
            .iter()
            .map(|h| if *h == "Size" { " ---: |" } else { " --- |" })
            .collect::<String>()
    ));
    for (i, (a, o)) in plan.artifacts.iter().zip(&outcome.artifacts).enumerate() {
        let size = match o {
            ArtifactOutcome::Packaged { packaged, .. } => human_size(packaged.size),
            ArtifactOutcome::Failed { .. } => "-".into(),
        };
        let st = match status(o) {
            Status::Built => "built",
            Status::Fresh => "fresh",
            Status::Failed => "**failed**",
        };
        let mut row = vec![
            cell(&a.resolved.identity.name),
            a.resolved.build.arch.as_str().to_string(),
            cell(&a.resolved.build.target),
            format!("`{}`", cell(&display_path(&a.output))),
            size,
            st.to_string(),
        ];
        if with_cache {
            row.push(
                cache_status(o, true)
                    .map_or("-", CacheStatus::as_str)
                    .to_string(),
            );
            row.push(
                keys.digest(i)
                    .map_or("-".to_string(), |k| format!("`{}`", short_key(k))),
            );
        }
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out.push_str(&super::summary::totals(plan, outcome, |location| {
        format!("`{}`", cell(location))
    }));
    out.push_str("\n\n");
    if let Some(timeline) = timeline {
        out.push_str(&mermaid::block(timeline, title));
    }
    out
}

/// Appends `markdown` to the file at `path` (never truncating it: other steps' summaries are
/// in it). The file must exist: GitHub creates it for each step.
pub fn append(path: &std::path::Path, markdown: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    file.write_all(markdown.as_bytes())?;
    file.flush()
}

#[cfg(test)]
mod tests;

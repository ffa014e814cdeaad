//! `lambda.kdl` as an editable KDL document: the kdl crate's tree, which writes back every byte
//! it read, plus the lookups the edits need (defaults, workspaces, artifacts).

use std::sync::Arc;

use camino::Utf8Path;
use kdl_v1::{KdlDocument, KdlNode, KdlValue};
use miette::{LabeledSpan, NamedSource, SourceSpan};

use super::error::EditError;
use crate::diagnostic::{Source, line_col};
use crate::manifest::values::ArtifactKind;

/// The manifest text as a tree that renders back to the same bytes until it is edited.
#[derive(Debug, Clone)]
pub struct Document {
    /// The kdl crate's document.
    pub kdl: KdlDocument,
    /// The text it was parsed from (without a byte order mark), for labels.
    pub source: Source,
    /// The file starts with a UTF-8 byte order mark, which is written back first.
    bom: bool,
    /// Every line of the file ends with CRLF: the lines an edit adds do too.
    crlf: bool,
}

/// A `function` or `extension` node, by position.
#[derive(Debug, Clone)]
pub struct ArtifactAt {
    /// Index of its workspace node at the top level.
    pub workspace: usize,
    /// Its index in the workspace's block.
    pub index: usize,
    /// Function or extension.
    pub kind: ArtifactKind,
    /// The artifact name.
    pub name: String,
    /// The workspace path as written.
    pub workspace_path: String,
    /// Where the node stands in the original text.
    pub span: SourceSpan,
}

impl Document {
    /// Parses manifest text; `path` names it in diagnostics.
    pub fn parse(path: &Utf8Path, text: &str) -> Result<Self, EditError> {
        let name = path.file_name().unwrap_or(crate::manifest::FILE_NAME);
        // The kdl crate reads a byte order mark as the first node's leading space, where a
        // node inserted before it would push it into the middle of the file.
        let (bom, text) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let crlf = text.contains("\r\n") && !has_lone_lf(text);
        let source: Source = NamedSource::new(name, Arc::from(text));
        // Bounded before the kdl crate, which descends recursively into child blocks.
        if let Err(e) = crate::manifest::limits::scan(text) {
            return Err(EditError::Syntax {
                message: e.message,
                help: e.help.unwrap_or_default(),
                manifest: source,
                span: e.labels.first().map_or((0, 0).into(), |l| *l.inner()),
                label: e
                    .labels
                    .first()
                    .and_then(|l| l.label())
                    .unwrap_or("here")
                    .to_string(),
            });
        }
        match text.parse::<KdlDocument>() {
            Ok(kdl) => Ok(Document {
                kdl,
                source,
                bom,
                crlf,
            }),
            Err(e) => {
                let offset = e.span.offset().min(text.len());
                Err(EditError::Syntax {
                    message: format!("{name} is not valid KDL 1.0: {}", e.kind),
                    help: e.help.map(str::to_string).unwrap_or_else(|| {
                        "nodes are `name arg prop=\"value\" { children }`, one per line or separated by `;`".into()
                    }),
                    manifest: source,
                    span: SourceSpan::from((offset, e.span.len())),
                    label: e.label.unwrap_or("here").to_string(),
                })
            }
        }
    }

    /// The text, with every edit made so far.
    pub fn render(&self) -> String {
        self.dress(self.kdl.to_string())
    }

    /// `text` (this document rewritten) with the file's byte order mark and line breaks.
    pub fn dress(&self, text: String) -> String {
        let mut text = if self.crlf && has_lone_lf(&text) {
            text.replace("\r\n", "\n").replace('\n', "\r\n")
        } else {
            text
        };
        if self.bom {
            text.insert(0, '\u{feff}');
        }
        text
    }

    /// Index of the `defaults` node.
    pub fn defaults(&self) -> Option<usize> {
        self.kdl
            .nodes()
            .iter()
            .position(|n| n.name().value() == "defaults")
    }

    /// Every `workspace` node: index and path as written.
    pub fn workspaces(&self) -> Vec<(usize, String)> {
        self.kdl
            .nodes()
            .iter()
            .enumerate()
            .filter(|(_, n)| n.name().value() == "workspace")
            .map(|(i, n)| (i, first_arg(n).unwrap_or_default().to_string()))
            .collect()
    }

    /// Indices of the `workspace` nodes whose path is `path` (after normalizing both).
    pub fn workspaces_at(&self, path: &str) -> Vec<usize> {
        self.workspaces()
            .into_iter()
            .filter(|(_, p)| same_path(p, path))
            .map(|(i, _)| i)
            .collect()
    }

    /// Every `function` and `extension` node, in file order.
    pub fn artifacts(&self) -> Vec<ArtifactAt> {
        let mut out = Vec::new();
        for (w, path) in self.workspaces() {
            let Some(block) = self.kdl.nodes()[w].children() else {
                continue;
            };
            for (index, n) in block.nodes().iter().enumerate() {
                let kind = match n.name().value() {
                    "function" => ArtifactKind::Function,
                    "extension" => ArtifactKind::Extension,
                    _ => continue,
                };
                out.push(ArtifactAt {
                    workspace: w,
                    index,
                    kind,
                    name: first_arg(n).unwrap_or_default().to_string(),
                    workspace_path: path.clone(),
                    span: span_of(n),
                });
            }
        }
        out
    }

    /// The top-level node at `index`.
    pub fn top(&self, index: usize) -> Option<&KdlNode> {
        self.kdl.nodes().get(index)
    }

    /// A label on the top-level node at `index`.
    pub fn label_top(&self, index: usize, text: impl Into<String>) -> Option<LabeledSpan> {
        self.top(index)
            .map(|n| LabeledSpan::new_with_span(Some(text.into()), head_span(n)))
    }

    /// 1-based line of an offset of the original text.
    pub fn line(&self, span: SourceSpan) -> usize {
        line_col(self.source.inner(), span.offset()).0
    }
}

/// Whether a line of `text` ends with a bare LF.
fn has_lone_lf(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
}

/// The first argument of a node, when it is a string.
pub fn first_arg(node: &KdlNode) -> Option<&str> {
    node.entries()
        .iter()
        .find(|e| e.name().is_none())
        .and_then(|e| e.value().as_string())
}

/// The value of a property, when it is a boolean.
pub fn bool_prop(node: &KdlNode, key: &str) -> Option<bool> {
    node.entries()
        .iter()
        .rev()
        .find(|e| e.name().is_some_and(|n| n.value() == key))
        .and_then(|e| match e.value() {
            KdlValue::Bool(b) => Some(*b),
            _ => None,
        })
}

/// The span of a node in the text it was parsed from.
pub fn span_of(node: &KdlNode) -> SourceSpan {
    SourceSpan::from((node.span().offset(), node.span().len()))
}

/// The span of a node's name and first argument, for labels that should not cover a block.
pub fn head_span(node: &KdlNode) -> SourceSpan {
    let start = node.span().offset();
    let end = node
        .entries()
        .first()
        .map(|e| e.span().offset() + e.span().len())
        .unwrap_or(start + node.name().value().len());
    SourceSpan::from((start, end.saturating_sub(start)))
}

/// A workspace path as people write it several ways: `./a/b/` and `a//b` are `a/b`.
pub fn normalize_path(path: &str) -> String {
    let normalized = crate::manifest::normalize(Utf8Path::new(path.trim()));
    let s = normalized.as_str().trim_end_matches('/');
    if s.is_empty() {
        ".".to_string()
    } else {
        s.to_string()
    }
}

/// Whether two workspace paths name the same directory, as written.
pub fn same_path(a: &str, b: &str) -> bool {
    normalize_path(a) == normalize_path(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compare_normalized() {
        assert!(same_path("./services/catalog/", "services//catalog"));
        assert!(same_path(".", "./"));
        assert!(!same_path("services", "services/catalog"));
        assert_eq!(normalize_path("a/../b"), "b");
    }

    #[test]
    fn lookups() {
        let text = "defaults {\n    arch \"arm64\"\n}\nworkspace \"a\" {\n    function \"f\"\n    include \"x\"\n    extension \"e\"\n}\nworkspace \"./a/\"\n";
        let doc = Document::parse(Utf8Path::new("/m/lambda.kdl"), text).unwrap();
        assert_eq!(doc.defaults(), Some(0));
        assert_eq!(doc.workspaces_at("a"), vec![1, 2]);
        let names: Vec<_> = doc
            .artifacts()
            .into_iter()
            .map(|a| (a.name, a.index))
            .collect();
        assert_eq!(names, vec![("f".to_string(), 0), ("e".to_string(), 2)]);
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn byte_order_mark_and_crlf_are_kept() {
        let text = "\u{feff}// first\r\nworkspace \"a\" {\r\n    function \"f\"\r\n}\r\n";
        let doc = Document::parse(Utf8Path::new("lambda.kdl"), text).unwrap();
        assert_eq!(doc.render(), text);
        assert_eq!(doc.dress("a\nb\r\n".into()), "\u{feff}a\r\nb\r\n");
        let lf = Document::parse(Utf8Path::new("lambda.kdl"), "a\r\nb\n").unwrap();
        assert_eq!(
            lf.dress("x\n".into()),
            "x\n",
            "mixed line breaks are left alone"
        );
    }

    #[test]
    fn syntax_errors_point_into_the_text() {
        let err = Document::parse(Utf8Path::new("lambda.kdl"), "a {\n b }\n").unwrap_err();
        assert!(matches!(err, EditError::Syntax { .. }), "{err:?}");
    }
}

//! `fmt`: the one canonical layout of `lambda.kdl`, comments kept.
//!
//! - one node per line (`;` separators become line breaks), indented four spaces per level;
//! - one space between a node's name, arguments and properties, and before `{`; a block's
//!   children start on the line after `{`, and `}` stands alone at the node's indentation;
//!   an empty block is `{}`;
//! - empty lines: at most one in a row, none at the start of the file or of a block, none
//!   before `}`; the file ends with one line break;
//! - comments stay where they are relative to the nodes: a comment on its own line is
//!   re-indented to the level it stands at; a comment after a node stays on its line, after as
//!   many spaces as it had (at least one), so comments aligned in a column stay aligned; an
//!   own-line comment that continues a trailing comment above it (same column, no empty line
//!   between) stays under it;
//! - values are written as they were (`r"raw"`, `0x1F`); only the space around them changes.
//!
//! The output must mean the same as the input, with the same comments in the same order:
//! [`format`] re-reads what it wrote and refuses (rather than writes) anything else.

use kdl_v1::{KdlDocument, KdlEntry, KdlNode};

use super::document::Document;
use super::error::EditError;
use super::semantic::{comments, same_meaning};
use super::trivia::{Piece, is_blank, pieces};

/// One level of indentation.
pub const INDENT: &str = "    ";

/// The canonical text of a parsed manifest, checked to mean what it meant.
pub fn format(doc: &Document) -> Result<String, EditError> {
    let text = doc.source.inner();
    let mut printer = Printer::new(text);
    printer.document(&doc.kdl);
    let out = printer.finish();
    let again: KdlDocument = out.parse().map_err(|e| EditError::Internal {
        message: format!("the formatted manifest is not valid KDL ({e})"),
    })?;
    if !same_meaning(&doc.kdl, &again) {
        return Err(EditError::Internal {
            message: "formatting would change what the manifest says".into(),
        });
    }
    if comments(&doc.kdl) != comments(&again) {
        return Err(EditError::Internal {
            message: "formatting would lose or reorder a comment".into(),
        });
    }
    Ok(out)
}

/// Writes lines, deciding where line breaks, empty lines and comments go.
struct Printer<'s> {
    /// The original text, for the columns of comments.
    src: &'s str,
    /// Finished lines.
    out: String,
    /// The line being written.
    line: String,
    /// Original and output column of the comment that ends the current line.
    line_comment: Option<(usize, usize)>,
    /// The same for the previous line.
    last_comment: Option<(usize, usize)>,
    /// An empty line was seen and is due before the next thing printed.
    pending_blank: bool,
    /// Nothing printed yet in this block (or file): empty lines are dropped.
    fresh: bool,
}

impl<'s> Printer<'s> {
    fn new(src: &'s str) -> Self {
        Printer {
            src,
            out: String::new(),
            line: String::new(),
            line_comment: None,
            last_comment: None,
            pending_blank: false,
            fresh: true,
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        self.out
    }

    /// Ends the current line, if it has anything.
    fn flush(&mut self) {
        if !self.line.is_empty() {
            self.out.push_str(self.line.trim_end());
            self.out.push('\n');
            self.line.clear();
        }
        self.last_comment = self.line_comment.take();
    }

    /// Starts a line for something new: ends the current one, then the due empty line.
    fn begin_line(&mut self) {
        self.flush();
        if self.pending_blank && !self.fresh {
            self.out.push('\n');
        }
        self.pending_blank = false;
        self.fresh = false;
    }

    fn document(&mut self, doc: &KdlDocument) {
        self.fresh = true;
        self.trivia(doc.leading(), 0, 0);
        for node in doc.nodes() {
            self.node(node, 0);
        }
        let trailing = doc.trailing().unwrap_or("");
        self.trivia(
            Some(trailing),
            self.src.len().saturating_sub(trailing.len()),
            0,
        );
    }

    fn node(&mut self, node: &KdlNode, depth: usize) {
        let start = node.span().offset();
        let leading = node.leading().unwrap_or("");
        self.trivia(Some(leading), start.saturating_sub(leading.len()), depth);
        let head = head(node, depth);
        self.begin_line();
        self.line = format!("{}{head}", INDENT.repeat(depth));
        let end = start + node.span().len();
        if let Some(children) = node.children() {
            self.block(children, end.saturating_sub(1), depth);
        }
        self.trivia(node.trailing(), end, depth);
    }

    /// A `{ ... }` block whose `}` is at byte `close` of the original text.
    fn block(&mut self, children: &KdlDocument, close: usize, depth: usize) {
        let leading = children.leading().unwrap_or("");
        let trailing = children.trailing().unwrap_or("");
        let has_comment = |t: &str| pieces(t).iter().any(|(_, p)| p.is_comment());
        if children.nodes().is_empty() && !has_comment(leading) && !has_comment(trailing) {
            self.line.push_str(" {}");
            return;
        }
        self.line.push_str(" {");
        self.fresh = true;
        self.pending_blank = false;
        self.trivia(Some(leading), children.span().offset(), depth + 1);
        for child in children.nodes() {
            self.node(child, depth + 1);
        }
        self.trivia(
            Some(trailing),
            close.saturating_sub(trailing.len()),
            depth + 1,
        );
        self.flush();
        self.pending_blank = false;
        self.fresh = false;
        self.line = format!("{}}}", INDENT.repeat(depth));
    }

    /// Places the comments and line breaks of trivia that starts at byte `start`.
    fn trivia(&mut self, text: Option<&str>, start: usize, depth: usize) {
        let text = text.unwrap_or("");
        for (offset, piece) in pieces(text) {
            match piece {
                Piece::Newline => {
                    if self.line.is_empty() {
                        if !self.fresh {
                            self.pending_blank = true;
                        }
                        self.last_comment = None;
                    } else {
                        self.flush();
                    }
                }
                Piece::Semicolon => {}
                Piece::LineComment(comment) => {
                    let column = column(self.src, start + offset);
                    if self.line.is_empty() {
                        let continued = self
                            .last_comment
                            .filter(|(c, _)| *c == column && !self.pending_blank);
                        self.begin_line();
                        match continued {
                            Some((c, out)) => {
                                self.line = format!("{}{comment}", " ".repeat(out));
                                self.line_comment = Some((c, out));
                            }
                            None => {
                                self.line = format!("{}{comment}", INDENT.repeat(depth));
                            }
                        }
                    } else {
                        let pad = gap_before(self.src, start + offset).max(1);
                        self.line.push_str(&" ".repeat(pad));
                        self.line_comment = Some((column, width(&self.line)));
                        self.line.push_str(comment);
                    }
                }
                other => {
                    if self.line.is_empty() {
                        self.begin_line();
                        self.line = format!("{}{}", INDENT.repeat(depth), other.text());
                    } else {
                        self.line.push(' ');
                        self.line.push_str(other.text());
                    }
                }
            }
        }
    }
}

/// `(type)name arg prop=value`, with the comments between entries kept in line.
fn head(node: &KdlNode, depth: usize) -> String {
    let mut h = String::new();
    if let Some(ty) = node.ty() {
        h.push_str(&format!("({ty})"));
    }
    h.push_str(&node.name().to_string());
    for e in node.entries() {
        h.push_str(&gap(e.leading(), depth));
        h.push_str(&entry(e));
        for (_, p) in pieces(e.trailing().unwrap_or("")) {
            if p.is_comment() {
                h.push(' ');
                h.push_str(p.text());
            }
        }
    }
    if node.children().is_some() {
        for (_, p) in pieces(node.before_children().unwrap_or("")) {
            if p.is_comment() {
                h.push(' ');
                h.push_str(p.text());
            }
        }
    }
    h
}

/// The space before an entry: one space, with any comments in it kept; a line comment needs a
/// line continuation and puts the entry on the next line, one level deeper.
fn gap(trivia: Option<&str>, depth: usize) -> String {
    let trivia = trivia.unwrap_or("");
    if is_blank(trivia) {
        return " ".to_string();
    }
    let mut s = String::new();
    let mut line_start = false;
    for (_, p) in pieces(trivia) {
        match p {
            Piece::Newline | Piece::Semicolon | Piece::Continuation => {}
            Piece::LineComment(c) => {
                s.push_str(" \\ ");
                s.push_str(c);
                s.push('\n');
                s.push_str(&INDENT.repeat(depth + 1));
                line_start = true;
            }
            other => {
                if !line_start {
                    s.push(' ');
                }
                s.push_str(other.text());
                line_start = false;
            }
        }
    }
    if !line_start {
        s.push(' ');
    }
    s
}

/// `key=(type)value` as written.
fn entry(e: &KdlEntry) -> String {
    let mut s = String::new();
    if let Some(name) = e.name() {
        s.push_str(&format!("{name}="));
    }
    if let Some(ty) = e.ty() {
        s.push_str(&format!("({ty})"));
    }
    match e.value_repr() {
        Some(repr) => s.push_str(repr),
        None => s.push_str(&e.value().to_string()),
    }
    s
}

/// The 0-based column (in characters) of byte `offset` of `text`.
fn column(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| super::trivia::is_newline(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    before[line_start..].chars().count()
}

/// How many spaces stand right before byte `offset` of `text`, on its line.
fn gap_before(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    text[..offset]
        .chars()
        .rev()
        .take_while(|c| super::trivia::is_space(*c))
        .count()
}

/// The width (in characters) of the last line of `s`.
fn width(s: &str) -> usize {
    let last = super::trivia::after_last_newline(s).unwrap_or(s);
    last.chars().count()
}

#[cfg(test)]
mod tests {
    use camino::Utf8Path;

    use super::*;

    fn fmt(text: &str) -> String {
        let doc = Document::parse(Utf8Path::new("lambda.kdl"), text).unwrap();
        format(&doc).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn assert_fixed_point(text: &str) {
        let once = fmt(text);
        assert_eq!(fmt(&once), once, "not idempotent on {text:?}");
    }

    #[test]
    fn canonical_layout() {
        let text = "\n\n// head\n\n\n\ndefaults{\n  arch   \"x86_64\"  \"arm64\";profile \"release\"\n\n\n  compiler \"cargo\"          // aligned\n  runtime \"provided.al2\"    // aligned\n\n}\nworkspace \"w\" discover=true { function \"f\" ;   }\nworkspace \"v\" {}\n// eof";
        let expected = "// head\n\ndefaults {\n    arch \"x86_64\" \"arm64\"\n    profile \"release\"\n\n    compiler \"cargo\"          // aligned\n    runtime \"provided.al2\"    // aligned\n}\nworkspace \"w\" discover=true {\n    function \"f\"\n}\nworkspace \"v\" {}\n// eof\n";
        assert_eq!(fmt(text), expected);
        assert_fixed_point(text);
    }

    #[test]
    fn the_root_manifest_is_already_formatted() {
        let text = include_str!("../../lambda.kdl");
        assert_eq!(fmt(text), text);
    }

    #[test]
    fn comments_stay_in_place() {
        let text = "a { // on the brace\n        // own line\n  b 1 /* inline */ 2\n    /-c \"gone\" { x; }\n  // before close\n      } // after close\nd /* x */ ; // same line\n";
        let expected = "a { // on the brace\n    // own line\n    b 1 /* inline */ 2\n    /-c \"gone\" { x; }\n    // before close\n} // after close\nd /* x */ // same line\n";
        assert_eq!(fmt(text), expected);
        assert_fixed_point(text);
    }

    #[test]
    fn continued_comments_keep_their_column() {
        let text = "workspace \"legacy\" discover=true   // every bin that depends on lambda_runtime\n                                   // becomes a function\n";
        assert_eq!(fmt(text), text);
        let text = "a 1 // one\n  // two\n";
        assert_eq!(fmt(text), "a 1 // one\n// two\n");
    }

    #[test]
    fn values_keep_their_spelling() {
        let text = "n r#\"raw \"q\"\"# 0x1F 1.5e3 null (t)\"v\" k=(u)true \"é\" // ü\n";
        assert_eq!(fmt(text), text);
        let text = "n 1 \\\n    2 \\ // why\n  3\n";
        assert_eq!(fmt(text), "n 1 2 \\ // why\n    3\n");
        assert_fixed_point(text);
    }

    #[test]
    fn empty_and_comment_only_files() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n\n"), "");
        assert_eq!(fmt("// a\n\n\n// b"), "// a\n\n// b\n");
        assert_eq!(fmt("a {\n\n}\n"), "a {}\n");
    }

    /// Mutations of the example manifest: whatever parses formats, idempotently, to the same
    /// meaning and comments (format() itself checks the last two), and nothing panics.
    #[test]
    fn formatting_is_stable_under_mutation() {
        let base = include_str!("../../tests/manifests/valid/every-setting.kdl");
        for text in crate::edit::no_panic::mutations(base, 400) {
            let Ok(doc) = Document::parse(Utf8Path::new("lambda.kdl"), &text) else {
                continue;
            };
            let once = format(&doc).unwrap_or_else(|e| panic!("{e:?} on {text:?}"));
            let again = Document::parse(Utf8Path::new("lambda.kdl"), &once).unwrap();
            assert_eq!(format(&again).unwrap(), once, "not idempotent on {text:?}");
        }
    }
}

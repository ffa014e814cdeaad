//! The text the kdl crate keeps around nodes and entries ("trivia": whitespace, comments,
//! slashdashed items, `;` and line continuations), split into pieces the formatter can place.

/// One piece of trivia, borrowed from the text it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A line break.
    Newline,
    /// A `;` node terminator.
    Semicolon,
    /// `// ...` up to (not including) the line break.
    LineComment(&'a str),
    /// `/* ... */`, nested ones included.
    BlockComment(&'a str),
    /// `/-` and the node, entry or block it comments out.
    Slashdash(&'a str),
    /// A `\` line continuation (the comment and line break after it are pieces of their own).
    Continuation,
    /// Anything else, kept verbatim.
    Other(&'a str),
}

impl Piece<'_> {
    /// Whether this piece is a comment of some kind (kept by every edit and by `fmt`).
    pub fn is_comment(&self) -> bool {
        matches!(
            self,
            Piece::LineComment(_) | Piece::BlockComment(_) | Piece::Slashdash(_) | Piece::Other(_)
        )
    }

    /// The text of a comment piece.
    pub fn text(&self) -> &str {
        match self {
            Piece::LineComment(t)
            | Piece::BlockComment(t)
            | Piece::Slashdash(t)
            | Piece::Other(t) => t,
            Piece::Newline => "\n",
            Piece::Semicolon => ";",
            Piece::Continuation => "\\",
        }
    }
}

/// Whether `c` ends a line in KDL.
pub fn is_newline(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{85}' | '\u{0C}' | '\u{2028}' | '\u{2029}'
    )
}

/// Whether `c` is KDL whitespace (not a line break).
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{FEFF}' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Whether `text` ends with a line break.
pub fn ends_line(text: &str) -> bool {
    text.chars().next_back().is_some_and(is_newline)
}

/// Whether `text` holds only whitespace and line breaks.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| is_space(c) || is_newline(c))
}

/// The byte index just past the first line break of `text`, if it has one (`\r\n` counts once).
pub fn after_first_newline(text: &str) -> Option<usize> {
    let (i, c) = text.char_indices().find(|(_, c)| is_newline(*c))?;
    let end = i + c.len_utf8();
    Some(if c == '\r' && text[end..].starts_with('\n') {
        end + 1
    } else {
        end
    })
}

/// What follows the last line break of `text`, if it has one.
pub fn after_last_newline(text: &str) -> Option<&str> {
    let (i, c) = text.char_indices().rev().find(|(_, c)| is_newline(*c))?;
    Some(&text[i + c.len_utf8()..])
}

/// Splits `text` into its lines, each with its line break.
pub fn lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(end) = after_first_newline(rest) {
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Whether `text` starts with an empty line (only whitespace before its first line break).
pub fn starts_with_blank_line(text: &str) -> bool {
    after_first_newline(text).is_some_and(|end| is_blank(&text[..end]))
}

/// `text` without its first line when that line is empty.
pub fn strip_blank_line(text: &str) -> &str {
    match after_first_newline(text) {
        Some(end) if is_blank(&text[..end]) => &text[end..],
        _ => text,
    }
}

/// Splits trivia into pieces with their byte offsets; whitespace is dropped.
pub fn pieces(text: &str) -> Vec<(usize, Piece<'_>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        if is_space(c) {
            i += c.len_utf8();
        } else if is_newline(c) {
            out.push((i, Piece::Newline));
            i += after_first_newline(rest).unwrap_or(c.len_utf8());
        } else if c == ';' {
            out.push((i, Piece::Semicolon));
            i += 1;
        } else if c == '\\' {
            out.push((i, Piece::Continuation));
            i += 1;
        } else if rest.starts_with("//") {
            let end = rest
                .char_indices()
                .find(|(_, c)| is_newline(*c))
                .map_or(rest.len(), |(j, _)| j);
            out.push((i, Piece::LineComment(rest[..end].trim_end())));
            i += end;
        } else if rest.starts_with("/*") {
            let end = block_comment_end(rest);
            out.push((i, Piece::BlockComment(&rest[..end])));
            i += end;
        } else if rest.starts_with("/-") {
            let end = slashdash_end(rest);
            out.push((i, Piece::Slashdash(rest[..end].trim_end())));
            i += end;
        } else {
            // Nothing the kdl crate leaves in trivia; kept as it is rather than guessed at.
            let end = rest
                .char_indices()
                .find(|(_, c)| is_space(*c) || is_newline(*c))
                .map_or(rest.len(), |(j, _)| j);
            out.push((i, Piece::Other(&rest[..end.max(c.len_utf8())])));
            i += end.max(c.len_utf8());
        }
    }
    out
}

/// The length of the (possibly nested) block comment `text` starts with.
fn block_comment_end(text: &str) -> usize {
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("/*") {
            depth += 1;
            i += 2;
        } else if rest.starts_with("*/") {
            depth = depth.saturating_sub(1);
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    text.len()
}

/// The length of the quoted string (`"..."` or `r#"..."#`) `text` starts with.
fn string_end(text: &str) -> usize {
    if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let close = format!("\"{}", "#".repeat(hashes));
        let body = 1 + hashes + 1;
        return text
            .get(body..)
            .and_then(|b| b.find(&close))
            .map_or(text.len(), |j| body + j + close.len());
    }
    let mut escaped = false;
    for (j, c) in text.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return j + 1,
            _ => escaped = false,
        }
    }
    text.len()
}

/// Whether a raw string starts at byte `i` of `text` (`r"` or `r#`, not inside an identifier).
fn raw_string_at(text: &str, i: usize) -> bool {
    let rest = &text[i..];
    let opens = rest.starts_with("r\"")
        || (rest.starts_with("r#") && {
            let after = rest[1..].trim_start_matches('#');
            after.starts_with('"')
        });
    let prev = text[..i].chars().next_back();
    opens && prev.is_none_or(|p| is_space(p) || is_newline(p) || matches!(p, '=' | ')' | '{' | ';'))
}

/// The length of the slashdashed item `text` starts with (`/-` included): a node up to its
/// terminator, a `{ ... }` block, or one entry.
fn slashdash_end(text: &str) -> usize {
    let mut i = 2;
    while let Some(c) = text[i..].chars().next() {
        if is_space(c) {
            i += c.len_utf8();
        } else {
            break;
        }
    }
    let item = &text[i..];
    // In node position the item runs to the node's end; a lone entry or block stops earlier.
    // Both end at the first line break, `;` or unbalanced `}` outside strings and blocks.
    let mut depth = 0usize;
    let mut j = 0;
    let entry_like = item.starts_with('"')
        || raw_string_at(item, 0)
        || item.starts_with('(')
        || item.starts_with('{')
        || item
            .split(|c: char| is_space(c) || is_newline(c))
            .next()
            .is_some_and(|w| w.contains('='));
    while let Some(c) = item[j..].chars().next() {
        let rest = &item[j..];
        if c == '"' || raw_string_at(item, j) {
            j += string_end(rest);
        } else if rest.starts_with("/*") {
            j += block_comment_end(rest);
        } else if rest.starts_with("//") {
            if depth == 0 {
                break;
            }
            j += rest
                .char_indices()
                .find(|(_, c)| is_newline(*c))
                .map_or(rest.len(), |(k, _)| k);
        } else if c == '{' {
            depth += 1;
            j += 1;
        } else if c == '}' {
            if depth == 0 {
                break;
            }
            depth -= 1;
            j += 1;
            if depth == 0 && item.starts_with('{') {
                break;
            }
        } else if depth == 0 && (is_newline(c) || c == ';') {
            if c == ';' && !entry_like {
                j += 1;
            }
            break;
        } else if depth == 0 && entry_like && is_space(c) {
            break;
        } else if depth == 0 && c == '\\' {
            // A line continuation inside a slashdashed node: it goes on past the line break.
            j += 1;
            while let Some(d) = item[j..].chars().next() {
                j += d.len_utf8();
                if is_newline(d) {
                    break;
                }
            }
        } else {
            j += c.len_utf8();
        }
    }
    i + j
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Piece<'_>> {
        pieces(text).into_iter().map(|(_, p)| p).collect()
    }

    #[test]
    fn comments_and_terminators() {
        assert_eq!(
            kinds(" /* a /* b */ c */ ; // d\n\n"),
            vec![
                Piece::BlockComment("/* a /* b */ c */"),
                Piece::Semicolon,
                Piece::LineComment("// d"),
                Piece::Newline,
                Piece::Newline,
            ]
        );
        assert_eq!(kinds("\r\n"), vec![Piece::Newline]);
    }

    #[test]
    fn slashdash_extents() {
        assert_eq!(
            kinds("    /-runtime \"x\" { a; }\n    "),
            vec![Piece::Slashdash("/-runtime \"x\" { a; }"), Piece::Newline]
        );
        assert_eq!(kinds(" /-\"a b\" "), vec![Piece::Slashdash("/-\"a b\"")]);
        assert_eq!(
            kinds(" /-key=r#\"x\"# "),
            vec![Piece::Slashdash("/-key=r#\"x\"#")]
        );
        assert_eq!(
            kinds("/-node \"}\" // c\n"),
            vec![
                Piece::Slashdash("/-node \"}\""),
                Piece::LineComment("// c"),
                Piece::Newline
            ]
        );
        assert_eq!(kinds("/-{ a; b; } "), vec![Piece::Slashdash("/-{ a; b; }")]);
    }

    #[test]
    fn line_helpers() {
        assert_eq!(after_first_newline("ab\r\ncd"), Some(4));
        assert_eq!(after_last_newline("a\n  "), Some("  "));
        assert!(starts_with_blank_line("  \n// c\n"));
        assert!(!starts_with_blank_line("// c\n"));
        assert_eq!(strip_blank_line("\n    x"), "    x");
        assert_eq!(lines("a\nb"), vec!["a\n", "b"]);
    }
}

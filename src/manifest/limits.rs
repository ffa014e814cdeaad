//! The bounds every manifest is held to before a KDL parser sees it. Both parsers (knus for
//! decoding, the kdl crate for editing) descend recursively into child blocks and nested block
//! comments, so a file with thousands of `{` would overflow the stack; this one linear pass
//! rejects such a file with a spanned diagnostic instead. It also reads the file within a size
//! bound, points at the first byte that is not UTF-8, and gives knus a copy of the text whose
//! comments are blanked: knus spends microseconds per character of a `//` comment (a 2 MB one
//! took 12 s), while a blanked comment costs what whitespace costs. Offsets and line breaks are
//! kept, so every span into the copy is a span into the original. An unclosed block comment is
//! reported here too: knus's time on one is exponential in its nesting.

use std::io::Read;

use camino::Utf8Path;
use miette::SourceSpan;

use crate::diagnostic::{ErrorCode, ManifestError, ManifestErrors, Source};

/// The largest manifest read, in bytes. A manifest of 5,000 artifacts is about 200 KB.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// The deepest nesting of `{` blocks (the manifest language uses three levels), and of
/// `/* */` comments inside one another.
pub const MAX_DEPTH: usize = 32;
/// The most nodes a manifest may have.
pub const MAX_NODES: usize = 20_000;

/// Reads the manifest at `path`: at most [`MAX_FILE_BYTES`], and UTF-8 (else a diagnostic at
/// the first bad byte).
pub fn read(path: &Utf8Path) -> Result<String, ManifestErrors> {
    let io = |e: std::io::Error| {
        ManifestErrors(vec![ManifestError::unlabelled(
            ErrorCode::Io,
            format!("cannot read `{path}`: {e}"),
        )])
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ManifestErrors(vec![
            ManifestError::unlabelled(
                ErrorCode::Limit,
                format!(
                    "`{path}` is larger than {} MiB, the most lambda-batch reads",
                    MAX_FILE_BYTES >> 20
                ),
            )
            .with_help("a manifest of thousands of artifacts is a few hundred KB: check that this is the right file"),
        ]));
    }
    let name = path.file_name().unwrap_or(super::FILE_NAME);
    from_bytes(name, bytes)
}

/// `bytes` as text, or a diagnostic at the first byte that is not UTF-8.
pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<String, ManifestErrors> {
    let e = match String::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    let at = e.utf8_error().valid_up_to();
    let bad_len = e
        .utf8_error()
        .error_len()
        .unwrap_or(e.as_bytes().len() - at);
    let bad: Vec<String> = e.as_bytes()[at..at + bad_len]
        .iter()
        .map(|b| format!("0x{b:02x}"))
        .collect();
    // The lossy text is the same up to the bad bytes, which become one U+FFFD (3 bytes).
    let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
    let source: Source = miette::NamedSource::new(name, std::sync::Arc::from(text));
    Err(ManifestErrors(vec![
        ManifestError::new(
            ErrorCode::Syntax,
            format!(
                "{name} is not valid UTF-8: byte {} cannot start or continue a character here",
                bad.join(" ")
            ),
            SourceSpan::from((at, '\u{fffd}'.len_utf8())),
            "not UTF-8",
        )
        .with_help("KDL files are UTF-8 text: save the file as UTF-8 (this byte is shown as �)")
        .with_source(&source),
    ]))
}

/// The text knus decodes: `text` with the body of every comment replaced by spaces (see the
/// module documentation), once the nesting depth and the node count are within bounds.
pub fn scan(text: &str) -> Result<String, ManifestError> {
    let mut out = text.as_bytes().to_vec();
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut nodes = 0usize;
    // Whether the next token starts a node: at the start, after a newline, `;`, `{` or `}`.
    let mut node_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                // A line comment holds no line break: it all becomes spaces.
                let end = line_end(bytes, i);
                out[i..end].fill(b' ');
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = block_comment(bytes, &mut out, i)?;
            }
            b'"' => {
                node_start = count(&mut nodes, node_start, i)?;
                i = string_end(bytes, i + 1);
            }
            b'r' if raw_string_start(bytes, i).is_some() => {
                node_start = count(&mut nodes, node_start, i)?;
                let hashes = raw_string_start(bytes, i).unwrap_or(0);
                i = raw_string_end(bytes, i + 2 + hashes, hashes);
            }
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep(i, 1, "`{` blocks"));
                }
                node_start = true;
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                node_start = true;
                i += 1;
            }
            b'\n' | b'\r' | b';' => {
                node_start = true;
                i += 1;
            }
            // A line continuation: the node goes on past the newline.
            b'\\' => {
                i += 1;
                while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'\r') {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            b' ' | b'\t' => i += 1,
            _ => {
                node_start = count(&mut nodes, node_start, i)?;
                i += 1;
            }
        }
    }
    // Only comment bytes changed, and each was replaced by as many ASCII spaces.
    Ok(String::from_utf8(out).unwrap_or_else(|_| text.to_string()))
}

/// Counts a node when a token stands where a node starts; `false` afterwards.
fn count(nodes: &mut usize, node_start: bool, at: usize) -> Result<bool, ManifestError> {
    if node_start {
        *nodes += 1;
        if *nodes > MAX_NODES {
            return Err(ManifestError::new(
                ErrorCode::Limit,
                format!("the manifest has more than {MAX_NODES} nodes, the most lambda-batch reads"),
                SourceSpan::from((at, 0)),
                "this one is one too many",
            )
            .with_help("a manifest of thousands of artifacts has a few thousand nodes: check how this file was generated"));
        }
    }
    Ok(false)
}

fn too_deep(at: usize, len: usize, what: &str) -> ManifestError {
    ManifestError::new(
        ErrorCode::Limit,
        format!("{what} nested more than {MAX_DEPTH} deep"),
        SourceSpan::from((at, len)),
        "too deep",
    )
    .with_help("lambda.kdl nests three levels (workspace → function → setting): look for `{` or `/*` that are never closed")
}

/// Where the line that `at` is on ends: the offset of its line break (or of the end).
/// Breaks are those knus knows: `\n`, `\r`, form feed, U+0085, U+2028, U+2029.
fn line_end(bytes: &[u8], at: usize) -> usize {
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | b'\r' | 0x0c => return i,
            0xc2 if bytes.get(i + 1) == Some(&0x85) => return i,
            0xe2 if bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                return i;
            }
            _ => i += 1,
        }
    }
    i
}

/// Blanks the block comment at `at` (nested ones included, each counted against
/// [`MAX_DEPTH`]); returns the offset after it.
fn block_comment(bytes: &[u8], out: &mut [u8], at: usize) -> Result<usize, ManifestError> {
    let mut depth = 0usize;
    let mut i = at;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(too_deep(i, 2, "`/*` comments"));
            }
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                // Keep the outer `/*` and `*/`: a comment that spans lines inside a node must
                // stay a comment, or its line break would end the node.
                blank_keeping_breaks(out, at + 2, i - 2);
                return Ok(i);
            }
        } else {
            i += 1;
        }
    }
    // Unclosed: reported here. knus's comment parser backtracks through every way of reading
    // the nested `/*` (as a comment or as two characters): its time doubles with each level of
    // an unclosed comment, and 30 levels ran for hours.
    Err(ManifestError::new(
        ErrorCode::Syntax,
        "invalid KDL: unclosed comment `/*`".to_string(),
        SourceSpan::from((at, 2)),
        "opened here",
    )
    .with_help("comments nest: every `/*` inside this one needs its own `*/`, and then this one"))
}

/// Replaces every byte of `out[from..to]` that is not part of a line break with a space.
fn blank_keeping_breaks(out: &mut [u8], from: usize, to: usize) {
    let mut i = from;
    while i < to {
        match out[i] {
            b'\n' | b'\r' | 0x0c => i += 1,
            0xc2 if out.get(i + 1) == Some(&0x85) => i += 2,
            0xe2 if out.get(i + 1) == Some(&0x80)
                && matches!(out.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                i += 3
            }
            _ => {
                out[i] = b' ';
                i += 1;
            }
        }
    }
}

/// The offset after the string whose body starts at `at` (after its opening quote).
fn string_end(bytes: &[u8], at: usize) -> usize {
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The number of `#` of the raw string `r#"…"#` starting at `at`, if one does: `r` must start a
/// token (a raw string cannot follow a letter of an identifier).
fn raw_string_start(bytes: &[u8], at: usize) -> Option<usize> {
    let starts_token = at == 0 || !is_identifier_byte(bytes[at - 1]);
    if !starts_token {
        return None;
    }
    let hashes = bytes[at + 1..].iter().take_while(|b| **b == b'#').count();
    (bytes.get(at + 1 + hashes) == Some(&b'"')).then_some(hashes)
}

/// The offset after the raw string whose body starts at `at`, closed by `"` and `hashes` `#`.
fn raw_string_end(bytes: &[u8], at: usize, hashes: usize) -> usize {
    let mut i = at;
    while i < bytes.len() {
        if bytes[i] == b'"'
            && bytes[i + 1..]
                .iter()
                .take(hashes)
                .filter(|b| **b == b'#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    bytes.len()
}

/// Whether a byte can be part of a KDL 1.0 identifier (any byte of a non-ASCII character is).
fn is_identifier_byte(b: u8) -> bool {
    b > 0x20 && !b"\\/(){}<>;[]=,\"".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ast(text: &str) -> Result<String, String> {
        knus::parse_ast::<knus::span::Span>("m.kdl", text)
            .map(|a| format!("{a:?}"))
            .map_err(|e| format!("{:?}", miette::Report::new(e)))
    }

    #[test]
    fn comments_are_blanked_and_nothing_else_moves() {
        let text = "// top\nnode \"a // not a comment\" r#\"raw /* too */\"# { // end\n  /* block\n  /* nested */ spans */ child 1 /* x */ 2\n}\n";
        let scanned = scan(text).unwrap();
        assert_eq!(scanned.len(), text.len());
        assert_eq!(
            scanned,
            "      \nnode \"a // not a comment\" r#\"raw /* too */\"# {       \n  /*      \n                     */ child 1 /*   */ 2\n}\n"
        );
        assert_eq!(ast(&scanned), ast(text));
    }

    #[test]
    fn decoding_the_scanned_text_gives_the_same_document() {
        let base = include_str!("../../lambda.kdl");
        let alphabet = [
            "/", "*", "//", "/*", "*/", "\"", "r#\"", "\"#", "\\", "\n", "{", "}", "é", ";", "\r",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let mut text = base.to_string();
            for _ in 0..1 + next() % 4 {
                let mut at = (next() as usize) % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.insert_str(at, alphabet[(next() as usize) % alphabet.len()]);
            }
            let Ok(scanned) = scan(&text) else { continue };
            assert_eq!(scanned.len(), text.len());
            // Same nodes, values and spans; same errors at the same places.
            match (ast(&scanned), ast(&text)) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{text}\nscanned: {a:?}\noriginal: {b:?}"),
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_where_it_gets_too_deep() {
        let ok = "a {\n".repeat(MAX_DEPTH) + &"}\n".repeat(MAX_DEPTH);
        assert!(scan(&ok).is_ok());
        let deep = "a {\n".repeat(5000) + &"}\n".repeat(5000);
        let e = scan(&deep).unwrap_err();
        assert_eq!(e.code, ErrorCode::Limit);
        assert_eq!(e.primary_span().unwrap().offset(), 4 * MAX_DEPTH + 2);
        let comments = "/*".repeat(5000) + &"*/".repeat(5000) + "\nworkspace \"a\"";
        let e = scan(&comments).unwrap_err();
        assert_eq!(e.primary_span().unwrap().offset(), 2 * MAX_DEPTH);
        // Unclosed, at any depth: an error at the outer `/*`, found in linear time.
        for n in [1, 31] {
            let text = format!("a /* x */ b {}\nc", "/* ".repeat(n));
            let e = scan(&text).unwrap_err();
            assert_eq!(e.code, ErrorCode::Syntax);
            assert_eq!(e.message, "invalid KDL: unclosed comment `/*`");
            assert_eq!(e.primary_span().unwrap().offset(), 12);
        }
        // Braces in strings and comments are not blocks.
        let quoted = "a \"{{{{\" r\"{{{\" // {{{{\n".repeat(100) + "/* {{{ */";
        assert!(scan(&quoted).is_ok());
    }

    #[test]
    fn nodes_are_counted() {
        let many = "a;".repeat(MAX_NODES);
        assert!(scan(&many).is_ok());
        let e = scan(&(many.clone() + "b")).unwrap_err();
        assert_eq!(e.primary_span().unwrap().offset(), many.len());
        // Children, continued lines and comments.
        // Four nodes: `a` (continued on the next line), `b`, `c` and `r"g"`.
        let text = "a 1 \\\n  2 { b; c\n /* d\n e */ }\n// f\nr\"g\"\n";
        let nodes = 4;
        assert!(scan(&"a;".repeat(MAX_NODES - nodes)).is_ok());
        assert!(scan(&(text.to_string() + &"a;".repeat(MAX_NODES - nodes))).is_ok());
        assert!(scan(&(text.to_string() + &"a;".repeat(MAX_NODES - nodes + 1))).is_err());
    }

    #[test]
    fn bad_bytes_are_pointed_at() {
        let e = from_bytes("m.kdl", b"a 1\nb \"x\xffy\"\n".to_vec()).unwrap_err();
        let e = &e.0[0];
        assert_eq!(e.code, ErrorCode::Syntax);
        let text = e.source.as_ref().unwrap().inner().to_string();
        assert_eq!(e.line_col(&text), Some((2, 5)));
        assert!(e.message.contains("0xff"), "{}", e.message);
        assert_eq!(from_bytes("m", b"ok".to_vec()).unwrap(), "ok");
    }

    #[test]
    fn large_files_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = camino::Utf8PathBuf::from_path_buf(dir.path().join("lambda.kdl")).unwrap();
        std::fs::write(&path, vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
        let e = read(&path).unwrap_err();
        assert_eq!(e.0[0].code, ErrorCode::Limit);
        std::fs::write(&path, vec![b' '; MAX_FILE_BYTES as usize]).unwrap();
        assert!(read(&path).is_ok());
    }
}

//! Where the text of a new node goes, and what is left when a node leaves.
//!
//! The kdl crate keeps, for every node, the text before it (`leading`: blank lines, comments,
//! indentation) and after it (`trailing`: a comment, the line break). These rules decide those
//! strings for inserted nodes and repair them around removed ones so that (1) no other node's
//! text changes, and (2) removing a node that was inserted gives the original bytes back.

use kdl_v1::{KdlDocument, KdlNode};

use super::trivia::{
    after_first_newline, after_last_newline, ends_line, is_blank, is_space, lines,
    starts_with_blank_line, strip_blank_line,
};

/// Where a list of nodes lives: the top level of the file, or a `{ }` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place<'a> {
    /// The file itself.
    Top,
    /// A block whose `}` stands at this indentation.
    Block(&'a str),
}

/// The indentation a node was written with, when it starts its own line.
pub fn indent_of(node: &KdlNode) -> Option<&str> {
    after_last_newline(node.leading()?).filter(|s| s.chars().all(is_space))
}

/// One level of nesting in this document: what its first indented child adds to its parent's
/// indentation, four spaces when nothing shows.
pub fn indent_unit(doc: &KdlDocument) -> String {
    fn find(doc: &KdlDocument, own: &str) -> Option<String> {
        for node in doc.nodes() {
            let node_indent = indent_of(node).unwrap_or(own);
            let Some(children) = node.children() else {
                continue;
            };
            for child in children.nodes() {
                if let Some(unit) = indent_of(child).and_then(|c| c.strip_prefix(node_indent))
                    && !unit.is_empty()
                {
                    return Some(unit.to_string());
                }
            }
            if let Some(unit) = find(children, node_indent) {
                return Some(unit);
            }
        }
        None
    }
    find(doc, "").unwrap_or_else(|| "    ".to_string())
}

/// The indentation for a new child of `parent` (whose own indentation is `parent_indent`):
/// that of its existing children when they show one, else one `unit` deeper.
pub fn child_indent(parent: &KdlNode, parent_indent: &str, unit: &str) -> String {
    parent
        .children()
        .and_then(|c| c.nodes().iter().rev().find_map(indent_of))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{parent_indent}{unit}"))
}

/// The head of a top-level leading text: everything up to its last empty line (a file header
/// or a comment that stands apart), which stays in place when a node is put in front.
fn split_head(leading: &str) -> (&str, &str) {
    let mut end = 0;
    let mut at = 0;
    for line in lines(leading) {
        at += line.len();
        if is_blank(line) && ends_line(line) {
            end = at;
        }
    }
    leading.split_at(end)
}

/// The rest of the `{` line at the start of a block's first leading text, and what follows.
fn split_brace_line(leading: &str) -> (&str, &str) {
    match after_first_newline(leading) {
        Some(end) => leading.split_at(end),
        None => ("", leading),
    }
}

/// Inserts `node` at `index` of `doc`, indented by `indent`; `spaced` separates it by an empty
/// line from the node before it at the end (a new workspace), or from the node after it at the
/// top of the file (a new `defaults`).
pub fn insert(
    doc: &mut KdlDocument,
    place: Place<'_>,
    index: usize,
    mut node: KdlNode,
    indent: &str,
    spaced: bool,
) {
    let len = doc.nodes().len();
    let index = index.min(len);
    let mut lead = String::new();
    if index == len {
        if let Some(prev) = doc.nodes().last() {
            if !ends_line(prev.trailing().unwrap_or("")) {
                lead.push('\n');
            }
            if spaced {
                lead.push('\n');
            }
        } else {
            // An empty block or file: what it holds (comments) stays in front, in the
            // document's own leading text, so that removing the node gives it back as it was.
            let held = format!(
                "{}{}",
                doc.leading().unwrap_or(""),
                doc.trailing().unwrap_or("")
            );
            let kept = match place {
                Place::Block(close) => {
                    doc.set_trailing(close);
                    match after_last_newline(&held) {
                        Some(tail) if tail.chars().all(is_space) => {
                            held[..held.len() - tail.len()].to_string()
                        }
                        Some(_) => held.clone(),
                        None if is_blank(&held) => String::new(),
                        None => held.clone(),
                    }
                }
                Place::Top => {
                    doc.set_trailing("");
                    held.clone()
                }
            };
            let mut kept = kept;
            if kept.is_empty() {
                if matches!(place, Place::Block(_)) {
                    lead.push('\n');
                }
            } else {
                if !ends_line(&kept) {
                    kept.push('\n');
                }
                if spaced && place == Place::Top {
                    lead.push('\n');
                }
            }
            doc.set_leading(kept);
        }
        lead.push_str(indent);
        node.set_leading(lead);
        node.set_trailing("\n");
        doc.nodes_mut().push(node);
        return;
    }
    let prev_open = index > 0 && !ends_line(doc.nodes()[index - 1].trailing().unwrap_or(""));
    let next = &mut doc.nodes_mut()[index];
    let leading = next.leading().unwrap_or("").to_string();
    let (keep, rest) = match (index, place) {
        (0, Place::Top) => split_head(&leading),
        (0, Place::Block(_)) => split_brace_line(&leading),
        _ => ("", leading.as_str()),
    };
    lead.push_str(keep);
    if prev_open || (index == 0 && matches!(place, Place::Block(_)) && !ends_line(keep)) {
        lead.push('\n');
    }
    lead.push_str(indent);
    let rest = if spaced && index == 0 && place == Place::Top {
        format!("\n{rest}")
    } else {
        rest.to_string()
    };
    next.set_leading(rest);
    node.set_leading(lead);
    node.set_trailing("\n");
    doc.nodes_mut().insert(index, node);
}

/// Removes the node at `index` of `doc` with the comments above it; the inverse of [`insert`].
pub fn remove(doc: &mut KdlDocument, place: Place<'_>, index: usize) -> Option<KdlNode> {
    if index >= doc.nodes().len() {
        return None;
    }
    let removed = doc.nodes_mut().remove(index);
    let leading = removed.leading().unwrap_or("");
    // The first node's leading text also ends the `{` line, or holds the file's header.
    let keep = match (index, place) {
        (0, Place::Top) => Some(split_head(leading).0)
            .filter(|h| !is_blank(h))
            .unwrap_or(""),
        (0, Place::Block(_)) => split_brace_line(leading).0,
        _ => "",
    };
    let was_spaced = index > 0 && starts_with_blank_line(leading);
    match doc.nodes_mut().get_mut(index) {
        Some(next) => {
            let own = next.leading().unwrap_or("").to_string();
            let own = match (index, place) {
                (0, Place::Top) => strip_blank_line(&own).to_string(),
                _ if was_spaced && !starts_with_blank_line(&own) => format!("\n{own}"),
                _ => own,
            };
            next.set_leading(format!("{keep}{own}"));
        }
        None => {
            // The `{` line's own comment, or the line break before comments that end the block.
            let trailing = doc.trailing().unwrap_or("");
            if !is_blank(keep) || !is_blank(trailing) {
                let trailing = format!("{keep}{trailing}");
                doc.set_trailing(trailing);
            }
        }
    }
    Some(removed)
}

/// The children of `node`, after giving it an empty block (closed at `close_indent`) if it
/// has none.
pub fn ensure_block<'n>(node: &'n mut KdlNode, close_indent: &str) -> &'n mut KdlDocument {
    if node.children().is_none() {
        node.set_before_children(" ");
    }
    node.children_mut().get_or_insert_with(|| {
        let mut block = KdlDocument::new();
        block.set_leading("");
        block.set_trailing(close_indent);
        block
    })
}

/// Drops `node`'s block when it holds no node and no comment, as if it had never had one.
pub fn drop_empty_block(node: &mut KdlNode) {
    let empty = node.children().is_some_and(|c| {
        c.nodes().is_empty()
            && is_blank(c.leading().unwrap_or(""))
            && is_blank(c.trailing().unwrap_or(""))
    });
    if empty {
        node.clear_children();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> KdlDocument {
        text.parse().unwrap()
    }

    fn node(name: &str) -> KdlNode {
        let mut n = KdlNode::new(name);
        n.push(kdl_v1::KdlEntry::new("x"));
        n
    }

    /// Inserting then removing at every position of every level gives the text back.
    #[test]
    fn insert_then_remove_is_identity() {
        let texts = [
            "// head\n\na {\n    b 1 // c\n\n    // about d\n    d 2\n}\n// tail\n",
            "a {\n}\n",
            "a {}\n",
            "a { // brace\n    b\n}",
            "x\ny;\n",
            "",
            "// only a comment\n",
        ];
        for text in texts {
            let original = parse(text);
            assert_eq!(original.to_string(), text);
            for index in 0..=original.nodes().len() {
                for spaced in [false, true] {
                    let mut doc = original.clone();
                    insert(&mut doc, Place::Top, index, node("n"), "", spaced);
                    let inserted = doc.to_string();
                    assert!(
                        inserted.parse::<KdlDocument>().is_ok(),
                        "{text:?} + top {index}: {inserted:?}"
                    );
                    remove(&mut doc, Place::Top, index);
                    assert_eq!(
                        doc.to_string(),
                        text,
                        "top {index} spaced {spaced}: {inserted:?}"
                    );
                }
            }
            for (i, n) in original.nodes().iter().enumerate() {
                let Some(children) = n.children() else {
                    continue;
                };
                for index in 0..=children.nodes().len() {
                    let mut doc = original.clone();
                    let block = doc.nodes_mut()[i].children_mut().as_mut().unwrap();
                    insert(block, Place::Block(""), index, node("n"), "    ", false);
                    let inserted = doc.to_string();
                    assert!(
                        inserted.parse::<KdlDocument>().is_ok(),
                        "{text:?} + block {index}: {inserted:?}"
                    );
                    let block = doc.nodes_mut()[i].children_mut().as_mut().unwrap();
                    remove(block, Place::Block(""), index);
                    let mut restored = doc.to_string();
                    if is_blank(text) {
                        restored = text.to_string();
                    }
                    assert_eq!(restored, text, "block {index}: {inserted:?}");
                }
            }
        }
    }

    #[test]
    fn new_nodes_are_indented_and_spaced() {
        let mut doc = parse("// head\n\nworkspace \"a\" {\n    function \"f\"\n}\n");
        insert(&mut doc, Place::Top, 0, KdlNode::new("defaults"), "", true);
        let n = doc.nodes().len();
        insert(&mut doc, Place::Top, n, KdlNode::new("workspace"), "", true);
        let block = doc.nodes_mut()[1].children_mut().as_mut().unwrap();
        insert(block, Place::Block(""), 1, node("function"), "    ", false);
        assert_eq!(
            doc.to_string(),
            "// head\n\ndefaults\n\nworkspace \"a\" {\n    function \"f\"\n    function \"x\"\n}\n\nworkspace\n"
        );
    }

    #[test]
    fn blocks_come_and_go() {
        let mut doc = parse("workspace \"a\" {\n    function \"f\" // note\n}\n");
        let ws = &mut doc.nodes_mut()[0];
        let f = &mut ws.children_mut().as_mut().unwrap().nodes_mut()[0];
        let block = ensure_block(f, "    ");
        insert(
            block,
            Place::Block("    "),
            0,
            node("arch"),
            "        ",
            false,
        );
        assert_eq!(
            doc.to_string(),
            "workspace \"a\" {\n    function \"f\" {\n        arch \"x\"\n    } // note\n}\n"
        );
        let ws = &mut doc.nodes_mut()[0];
        let f = &mut ws.children_mut().as_mut().unwrap().nodes_mut()[0];
        remove(f.children_mut().as_mut().unwrap(), Place::Block("    "), 0);
        drop_empty_block(f);
        assert_eq!(
            doc.to_string(),
            "workspace \"a\" {\n    function \"f\" // note\n}\n"
        );
    }

    #[test]
    fn removal_keeps_separation_and_brace_comments() {
        let mut doc = parse("a {\n    x 1\n\n    // y\n    y 2\n    z 3\n}\n");
        let block = doc.nodes_mut()[0].children_mut().as_mut().unwrap();
        remove(block, Place::Block(""), 1);
        assert_eq!(doc.to_string(), "a {\n    x 1\n\n    z 3\n}\n");
        let mut doc = parse("a { // keep\n    x 1\n}\n");
        let block = doc.nodes_mut()[0].children_mut().as_mut().unwrap();
        remove(block, Place::Block(""), 0);
        assert_eq!(doc.to_string(), "a { // keep\n}\n");
    }

    #[test]
    fn indentation_is_detected() {
        let doc = parse("a {\n  b {\n    c\n  }\n}\n");
        assert_eq!(indent_unit(&doc), "  ");
        assert_eq!(indent_unit(&parse("a\n")), "    ");
        let doc = parse("a {\n\tb\n}\n");
        assert_eq!(indent_unit(&doc), "\t");
        assert_eq!(child_indent(&doc.nodes()[0], "", "    "), "\t");
    }
}

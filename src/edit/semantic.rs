//! What a KDL document says, apart from how it is laid out: `fmt` may only write text that says
//! the same thing, with the same comments in the same order.

use kdl_v1::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use super::trivia::pieces;

/// Whether two documents have the same nodes, entries and values, formatting aside.
pub fn same_meaning(a: &KdlDocument, b: &KdlDocument) -> bool {
    a.nodes().len() == b.nodes().len()
        && a.nodes()
            .iter()
            .zip(b.nodes())
            .all(|(x, y)| same_node(x, y))
}

fn same_node(a: &KdlNode, b: &KdlNode) -> bool {
    a.ty().map(|t| t.value()) == b.ty().map(|t| t.value())
        && a.name().value() == b.name().value()
        && a.entries().len() == b.entries().len()
        && a.entries()
            .iter()
            .zip(b.entries())
            .all(|(x, y)| same_entry(x, y))
        && match (a.children(), b.children()) {
            (None, None) => true,
            (Some(x), Some(y)) => same_meaning(x, y),
            _ => false,
        }
}

fn same_entry(a: &KdlEntry, b: &KdlEntry) -> bool {
    a.name().map(|n| n.value()) == b.name().map(|n| n.value())
        && a.ty().map(|t| t.value()) == b.ty().map(|t| t.value())
        && same_value(a.value(), b.value())
}

/// Values compare by what they are: `"x"` is `r"x"`, `0x10` is `16`.
fn same_value(a: &KdlValue, b: &KdlValue) -> bool {
    match (a.as_string(), b.as_string(), a.as_i64(), b.as_i64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Every comment (and slashdashed item) of a document, in order, as written.
pub fn comments(doc: &KdlDocument) -> Vec<String> {
    let mut out = Vec::new();
    collect_document(doc, &mut out);
    out
}

fn collect(text: Option<&str>, out: &mut Vec<String>) {
    out.extend(
        pieces(text.unwrap_or(""))
            .into_iter()
            .filter(|(_, p)| p.is_comment())
            .map(|(_, p)| p.text().to_string()),
    );
}

fn collect_document(doc: &KdlDocument, out: &mut Vec<String>) {
    collect(doc.leading(), out);
    for node in doc.nodes() {
        collect(node.leading(), out);
        for e in node.entries() {
            collect(e.leading(), out);
            collect(e.trailing(), out);
        }
        if let Some(children) = node.children() {
            collect(node.before_children(), out);
            collect_document(children, out);
        }
        collect(node.trailing(), out);
    }
    collect(doc.trailing(), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(t: &str) -> KdlDocument {
        t.parse().unwrap()
    }

    #[test]
    fn layout_does_not_matter_values_do() {
        assert!(same_meaning(
            &doc("a 1 \"x\" k=true { b; }\n"),
            &doc("a  1   r\"x\" k=true {\n    b\n}\n")
        ));
        assert!(!same_meaning(&doc("a 1\n"), &doc("a 2\n")));
        assert!(!same_meaning(&doc("a { }\n"), &doc("a\n")));
        assert!(!same_meaning(&doc("a k=1\n"), &doc("a j=1\n")));
    }

    #[test]
    fn comments_in_order() {
        let d = doc("// one\na /* two */ 1 { // three\n  /-b\n}\n// four\n");
        assert_eq!(
            comments(&d),
            vec!["// one", "/* two */", "// three", "/-b", "// four"]
        );
    }
}

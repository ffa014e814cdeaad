//! Just enough YAML for the templates `emit` writes: block mappings and sequences of strings,
//! in the order given. Strings that YAML could read as something else (a number, a date, a
//! boolean, `null`) or that hold characters with a meaning are written JSON-quoted, which YAML
//! reads as the same string.

/// A YAML value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node {
    /// A string.
    Str(String),
    /// A mapping, in this order.
    Map(Vec<(String, Node)>),
    /// A sequence.
    List(Vec<Node>),
}

/// A string node.
pub(super) fn s(value: impl Into<String>) -> Node {
    Node::Str(value.into())
}

/// A mapping from `(key, value)` pairs.
pub(super) fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
    Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// `value`, as a YAML document, after the comment lines `header`.
pub(super) fn document(header: &[&str], value: &Node) -> String {
    let mut out = String::new();
    for line in header {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    match value {
        Node::Str(text) => {
            out.push_str(&scalar(text));
            out.push('\n');
        }
        collection => write(&mut out, collection, 0),
    }
    out
}

/// Writes a mapping or sequence whose lines start at `indent` spaces.
fn write(out: &mut String, node: &Node, indent: usize) {
    let pad = " ".repeat(indent);
    match node {
        Node::Map(entries) if entries.is_empty() => out.push_str(&format!("{pad}{{}}\n")),
        Node::List(items) if items.is_empty() => out.push_str(&format!("{pad}[]\n")),
        Node::Map(entries) => {
            for (key, value) in entries {
                out.push_str(&pad);
                out.push_str(&scalar(key));
                out.push(':');
                inline_or_block(out, value, indent + 2);
            }
        }
        Node::List(items) => {
            for item in items {
                match item {
                    // `- key: value` with the mapping's other keys under the first.
                    Node::Map(entries) if !entries.is_empty() => {
                        let mut block = String::new();
                        write(&mut block, item, indent + 2);
                        out.push_str(&pad);
                        out.push_str("- ");
                        out.push_str(&block[indent + 2..]);
                    }
                    _ => {
                        out.push_str(&pad);
                        out.push('-');
                        inline_or_block(out, item, indent + 2);
                    }
                }
            }
        }
        Node::Str(text) => {
            out.push_str(&pad);
            out.push_str(&scalar(text));
            out.push('\n');
        }
    }
}

/// After `key:` or `-`: a scalar or an empty collection on the same line, anything else on the
/// next lines at `indent`.
fn inline_or_block(out: &mut String, node: &Node, indent: usize) {
    match node {
        Node::Str(text) => {
            out.push(' ');
            out.push_str(&scalar(text));
            out.push('\n');
        }
        Node::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Node::List(items) if items.is_empty() => out.push_str(" []\n"),
        collection => {
            out.push('\n');
            write(out, collection, indent);
        }
    }
}

/// A string as a YAML scalar: plain when YAML reads it back as that very string, otherwise
/// JSON-quoted.
fn scalar(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/' || c == '.')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:@-".contains(c))
        && !text.ends_with(':')
        && !text.contains("://")
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | ".inf" | ".nan"
        );
    if plain {
        text.to_owned()
    } else {
        serde_json::Value::String(text.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{Node, document, map, s};

    #[test]
    fn ambiguous_strings_are_quoted_and_everything_reads_back() {
        let value = map([
            ("AWSTemplateFormatVersion", s("2010-09-09")),
            ("Transform", s("AWS::Serverless-2016-10-31")),
            (
                "Resources",
                map([(
                    "Fn",
                    map([
                        ("Architectures", Node::List(vec![s("x86_64")])),
                        ("Yes", s("yes")),
                        ("Uri", s("s3://b/k.zip")),
                        ("Text", s("a: b # c \"d\"\n")),
                        ("Empty", Node::List(vec![])),
                        ("List", Node::List(vec![map([("A", s("1")), ("B", s(""))])])),
                    ]),
                )]),
            ),
        ]);
        let text = document(&["written by a test"], &value);
        assert!(text.starts_with("# written by a test\nAWSTemplateFormatVersion: \"2010-09-09\"\nTransform: AWS::Serverless-2016-10-31\n"), "{text}");
        let back: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let expected = serde_yaml::from_str::<serde_yaml::Value>(
            r#"{"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
                "Resources": {"Fn": {"Architectures": ["x86_64"], "Yes": "yes", "Uri": "s3://b/k.zip",
                "Text": "a: b # c \"d\"\n", "Empty": [], "List": [{"A": "1", "B": ""}]}}}"#,
        )
        .unwrap();
        assert_eq!(back, expected, "{text}");
    }
}

//! `remove NAME`: an artifact node goes, with the comments above it; a workspace it leaves with
//! nothing (no other node, property or comment) goes too, so that `add` then `remove` gives the
//! file back byte for byte.

use super::document::{Document, normalize_path};
use super::error::EditError;
use super::layout::{self, Place, drop_empty_block};
use super::target::NodeAt;

/// Removes the artifact `name` (from workspace `workspace` when given); returns what was done.
pub fn artifact(
    doc: &mut Document,
    name: &str,
    workspace: Option<&str>,
) -> Result<String, EditError> {
    let mut found = doc.find_artifacts(name, workspace)?;
    let path = normalize_path(&found[0].workspace_path);
    let kind = found[0].kind;
    // Last first, so that the positions still to visit stay valid.
    found.sort_by_key(|a| std::cmp::Reverse((a.workspace, a.index)));
    let mut emptied = Vec::new();
    for a in &found {
        let indent = doc.indent(NodeAt::Top(a.workspace));
        let Some(ws) = doc.kdl.nodes_mut().get_mut(a.workspace) else {
            continue;
        };
        if let Some(block) = ws.children_mut().as_mut() {
            layout::remove(block, Place::Block(&indent), a.index);
        }
        drop_empty_block(ws);
        let bare =
            ws.children().is_none() && ws.entries().len() == 1 && ws.entries()[0].name().is_none();
        if bare && !emptied.contains(&a.workspace) {
            emptied.push(a.workspace);
        }
    }
    emptied.sort_unstable_by(|a, b| b.cmp(a));
    for &w in &emptied {
        layout::remove(&mut doc.kdl, Place::Top, w);
    }
    Ok(format!(
        "removed {} `{name}` from workspace `{path}`{}",
        kind.as_str(),
        if emptied.is_empty() {
            ""
        } else {
            ", and the workspace, left empty"
        }
    ))
}

#[cfg(test)]
mod tests {
    use camino::Utf8Path;

    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(Utf8Path::new("lambda.kdl"), text).unwrap()
    }

    #[test]
    fn comments_above_go_with_the_node() {
        let text = "workspace \"a\" {\n    function \"f\"\n\n    // g is new\n    function \"g\" {\n        arch \"arm64\"\n    }\n    function \"h\" // h\n}\n";
        let mut d = doc(text);
        artifact(&mut d, "g", None).unwrap();
        assert_eq!(
            d.render(),
            "workspace \"a\" {\n    function \"f\"\n\n    function \"h\" // h\n}\n"
        );
    }

    #[test]
    fn a_workspace_with_something_left_stays() {
        let text = "workspace \"a\" discover=true {\n    function \"f\"\n}\nworkspace \"b\" {\n    function \"g\"\n    // keep me\n}\nworkspace \"c\" {\n    function \"h\"\n}\n";
        let mut d = doc(text);
        artifact(&mut d, "f", None).unwrap();
        artifact(&mut d, "g", Some("b")).unwrap();
        let summary = artifact(&mut d, "h", None).unwrap();
        assert!(summary.contains("left empty"), "{summary}");
        assert_eq!(
            d.render(),
            "workspace \"a\" discover=true\nworkspace \"b\" {\n    // keep me\n}\n"
        );
    }

    #[test]
    fn ambiguity_and_absence_are_errors() {
        let text =
            "workspace \"a\" {\n    function \"f\"\n}\nworkspace \"b\" {\n    function \"f\"\n}\n";
        let mut d = doc(text);
        let err = artifact(&mut d, "f", None).unwrap_err();
        assert!(err.to_string().contains("2 workspaces: `a`, `b`"), "{err}");
        assert!(artifact(&mut d, "g", None).is_err());
        assert!(artifact(&mut d, "f", Some("c")).is_err());
        assert_eq!(d.render(), text);
        artifact(&mut d, "f", Some("./b")).unwrap();
        assert_eq!(d.render(), "workspace \"a\" {\n    function \"f\"\n}\n");
    }
}

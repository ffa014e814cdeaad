//! `add function|extension|workspace`: new nodes, placed where a person would put them.
//!
//! A new artifact goes after the last artifact of its workspace (or at the end of the block);
//! a new workspace goes after the last node of the file (comments that end the file stay last),
//! after an empty line.

use kdl_v1::{KdlEntry, KdlNode, KdlValue};
use miette::LabeledSpan;

use super::document::{Document, head_span, normalize_path};
use super::error::EditError;
use super::layout::{self, Place, child_indent, ensure_block, indent_unit};
use super::target::NodeAt;
use super::value;
use crate::manifest::values::ArtifactKind;

/// What `add function` and `add extension` declare.
#[derive(Debug, Clone)]
pub struct NewArtifact {
    /// Function or extension.
    pub kind: ArtifactKind,
    /// The artifact name.
    pub name: String,
    /// The workspace path, relative to the manifest.
    pub workspace: String,
    /// `bin=`.
    pub bin: Option<String>,
    /// `package=`.
    pub package: Option<String>,
    /// The settings given on the command line (those declared with `add: true`), each with
    /// its values, in the order of their declarations.
    pub settings: Vec<(&'static str, Vec<String>)>,
    /// `flatten=true`.
    pub flatten: bool,
    /// `internal=true`.
    pub internal: bool,
}

impl NewArtifact {
    /// `function NAME` or `extension NAME` in `workspace`, with nothing else set.
    pub fn new(kind: ArtifactKind, name: &str, workspace: &str) -> NewArtifact {
        NewArtifact {
            kind,
            name: name.into(),
            workspace: workspace.into(),
            bin: None,
            package: None,
            settings: Vec::new(),
            flatten: false,
            internal: false,
        }
    }
}

/// Declares an artifact, and its workspace when the manifest has none at that path.
pub fn artifact(doc: &mut Document, new: &NewArtifact) -> Result<String, EditError> {
    if new.name.trim().is_empty() {
        return Err(EditError::usage(
            "the artifact name is empty",
            "the name becomes the output folder: use letters, digits, `-` and `_`",
        ));
    }
    // The decoder would report the duplicate too, but only here can it name the existing node.
    if let Some(existing) = doc.artifacts().into_iter().find(|a| a.name == new.name) {
        let label = doc
            .node(NodeAt::Child(existing.workspace, existing.index))
            .map(|n| LabeledSpan::new_with_span(Some("declared here".into()), head_span(n)));
        return Err(EditError::target(
            format!(
                "`{}` is already declared in workspace `{}`",
                new.name,
                normalize_path(&existing.workspace_path)
            ),
            format!(
                "artifact names are output folders and must be unique: pick another name, and build the same bin with `--bin {}`",
                new.bin.as_deref().unwrap_or(&new.name)
            ),
            &doc.source,
            label.into_iter().collect(),
        ));
    }
    let (w, created) = match doc.workspaces_at(&new.workspace).first() {
        Some(&w) => (w, false),
        None => (append_workspace(doc, &new.workspace, false), true),
    };
    let unit = indent_unit(&doc.kdl);
    let ws_indent = doc.indent(NodeAt::Top(w));
    let ws = doc
        .kdl
        .nodes_mut()
        .get_mut(w)
        .ok_or_else(|| EditError::Internal {
            message: "lost the workspace node".into(),
        })?;
    let indent = child_indent(ws, &ws_indent, &unit);
    let node = artifact_node(new, &indent, &unit)?;
    let index = ws
        .children()
        .and_then(|c| {
            c.nodes()
                .iter()
                .rposition(|n| matches!(n.name().value(), "function" | "extension"))
        })
        .map(|i| i + 1)
        .unwrap_or(usize::MAX);
    layout::insert(
        ensure_block(ws, &ws_indent),
        Place::Block(&ws_indent),
        index,
        node,
        &indent,
        false,
    );
    Ok(format!(
        "added {} `{}` to {}workspace `{}`",
        new.kind.as_str(),
        new.name,
        if created { "the new " } else { "" },
        normalize_path(&new.workspace)
    ))
}

/// Declares a workspace.
pub fn workspace(doc: &mut Document, path: &str, discover: bool) -> Result<String, EditError> {
    if let Some(&w) = doc.workspaces_at(path).first() {
        return Err(EditError::target(
            format!(
                "workspace `{}` is already in the manifest",
                normalize_path(path)
            ),
            "add its artifacts with `lambda-batch add function NAME --workspace PATH`, or set `discover=true` on it by hand",
            &doc.source,
            doc.label_top(w, "here").into_iter().collect(),
        ));
    }
    append_workspace(doc, path, discover);
    Ok(format!(
        "added workspace `{}`{}",
        normalize_path(path),
        if discover { " with discover=true" } else { "" }
    ))
}

/// Appends `workspace "PATH"` at the end of the file; returns its index.
fn append_workspace(doc: &mut Document, path: &str, discover: bool) -> usize {
    let mut node = KdlNode::new("workspace");
    node.push(KdlEntry::new(KdlValue::String(normalize_path(path))));
    if discover {
        node.push(KdlEntry::new_prop("discover", KdlValue::Bool(true)));
    }
    let end = doc.kdl.nodes().len();
    layout::insert(&mut doc.kdl, Place::Top, end, node, "", true);
    end
}

/// The `function`/`extension` node for `new`, its settings indented one `unit` below `indent`.
fn artifact_node(new: &NewArtifact, indent: &str, unit: &str) -> Result<KdlNode, EditError> {
    let mut node = KdlNode::new(new.kind.as_str());
    node.push(KdlEntry::new(KdlValue::String(new.name.clone())));
    for (key, v) in [("bin", &new.bin), ("package", &new.package)] {
        if let Some(v) = v {
            node.push(KdlEntry::new_prop(key, KdlValue::String(v.clone())));
        }
    }
    // Written as asked even on the wrong kind: the decoder then explains `internal=` on a function.
    for (key, on) in [("flatten", new.flatten), ("internal", new.internal)] {
        if on {
            node.push(KdlEntry::new_prop(key, KdlValue::Bool(true)));
        }
    }
    let inner = format!("{indent}{unit}");
    for (name, values) in new.settings.iter().filter(|(_, v)| !v.is_empty()) {
        let mut child = KdlNode::new(*name);
        for e in value::entries(value::setting(name)?, values)? {
            child.push(e);
        }
        let block = ensure_block(&mut node, indent);
        let end = block.nodes().len();
        layout::insert(block, Place::Block(indent), end, child, &inner, false);
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use camino::Utf8Path;

    use super::*;
    use crate::edit::remove;

    const TEXT: &str = "defaults {\n    arch \"arm64\"\n}\n\nworkspace \"a\" {\n    include \"L\" // c\n\n    function \"f\" // f\n}\n// end\n";

    fn doc(text: &str) -> Document {
        Document::parse(Utf8Path::new("lambda.kdl"), text).unwrap()
    }

    fn new(name: &str, workspace: &str) -> NewArtifact {
        NewArtifact::new(ArtifactKind::Function, name, workspace)
    }

    #[test]
    fn into_an_existing_workspace() {
        let mut d = doc(TEXT);
        let mut g = new("g", "./a");
        g.bin = Some("g-bin".into());
        g.flatten = true;
        g.settings = vec![
            ("arch", vec!["x86_64".into(), "arm64".into()]),
            ("include", vec!["config/*.toml".into()]),
        ];
        artifact(&mut d, &g).unwrap();
        assert_eq!(
            d.render(),
            TEXT.replace(
                "function \"f\" // f\n",
                "function \"f\" // f\n    function \"g\" bin=\"g-bin\" flatten=true {\n        arch \"x86_64\" \"arm64\"\n        include \"config/*.toml\"\n    }\n"
            )
        );
        remove::artifact(&mut d, "g", None).unwrap();
        assert_eq!(d.render(), TEXT);
    }

    #[test]
    fn into_a_new_workspace_and_back() {
        let mut d = doc(TEXT);
        let mut e = new("e", "b/");
        e.kind = ArtifactKind::Extension;
        e.internal = true;
        artifact(&mut d, &e).unwrap();
        assert_eq!(
            d.render(),
            TEXT.replace(
                "// end\n",
                "\nworkspace \"b\" {\n    extension \"e\" internal=true\n}\n// end\n"
            )
        );
        remove::artifact(&mut d, "e", Some("b")).unwrap();
        assert_eq!(d.render(), TEXT);
    }

    #[test]
    fn workspaces_once() {
        let mut d = doc(TEXT);
        workspace(&mut d, "c", true).unwrap();
        assert!(
            d.render()
                .ends_with("}\n\nworkspace \"c\" discover=true\n// end\n")
        );
        assert!(workspace(&mut d, "./c/", false).is_err());
        assert!(artifact(&mut d, &new("f", "c")).is_err());
    }
}

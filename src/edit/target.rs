//! Which node an edit applies to: the defaults, a workspace or an artifact, found by the names
//! the command line gives (`--workspace PATH`, `--artifact NAME`).

use kdl_v1::KdlNode;
use miette::LabeledSpan;

use super::document::{ArtifactAt, Document, head_span, normalize_path, same_path};
use super::error::EditError;
use super::layout::{indent_of, indent_unit};
use crate::diagnostic::suggest;

/// The level a setting is written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    /// The `defaults` node.
    Defaults,
    /// A `workspace` node, by path.
    Workspace(String),
    /// A `function` or `extension` node, by name (and workspace path when given).
    Artifact {
        /// The artifact name.
        name: String,
        /// Its workspace, when the name alone is ambiguous.
        workspace: Option<String>,
    },
}

impl Level {
    /// The level `--workspace` and `--artifact` select (neither: the defaults).
    pub fn from_flags(workspace: Option<&str>, artifact: Option<&str>) -> Self {
        match (workspace, artifact) {
            (_, Some(name)) => Level::Artifact {
                name: name.to_string(),
                workspace: workspace.map(str::to_string),
            },
            (Some(path), None) => Level::Workspace(path.to_string()),
            (None, None) => Level::Defaults,
        }
    }

    /// In words, for messages: "the defaults", "workspace `a`", "artifact `f`".
    pub fn describe(&self) -> String {
        match self {
            Level::Defaults => "the defaults".to_string(),
            Level::Workspace(p) => format!("workspace `{}`", normalize_path(p)),
            Level::Artifact { name, .. } => format!("artifact `{name}`"),
        }
    }
}

/// A node by position: a top-level node, or a child of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeAt {
    /// The top-level node at this index.
    Top(usize),
    /// Child `.1` of top-level node `.0`.
    Child(usize, usize),
}

impl Document {
    /// The node at `at`.
    pub fn node(&self, at: NodeAt) -> Option<&KdlNode> {
        match at {
            NodeAt::Top(i) => self.kdl.nodes().get(i),
            NodeAt::Child(i, j) => self.kdl.nodes().get(i)?.children()?.nodes().get(j),
        }
    }

    /// The node at `at`, to change it.
    pub fn node_mut(&mut self, at: NodeAt) -> Option<&mut KdlNode> {
        match at {
            NodeAt::Top(i) => self.kdl.nodes_mut().get_mut(i),
            NodeAt::Child(i, j) => self
                .kdl
                .nodes_mut()
                .get_mut(i)?
                .children_mut()
                .as_mut()?
                .nodes_mut()
                .get_mut(j),
        }
    }

    /// The indentation of the node at `at`, as written or as it would be in this file.
    pub fn indent(&self, at: NodeAt) -> String {
        let own = self.node(at).and_then(indent_of).map(str::to_string);
        match at {
            NodeAt::Top(_) => own.unwrap_or_default(),
            NodeAt::Child(i, _) => own.unwrap_or_else(|| {
                format!("{}{}", self.indent(NodeAt::Top(i)), indent_unit(&self.kdl))
            }),
        }
    }

    /// The one `workspace` node with this path.
    pub fn find_workspace(&self, path: &str) -> Result<usize, EditError> {
        let found = self.workspaces_at(path);
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(self.no_workspace(path)),
            many => Err(EditError::target(
                format!(
                    "{} workspace nodes have the path `{}`",
                    many.len(),
                    normalize_path(path)
                ),
                "give the setting to each artifact with --artifact, or merge the nodes into one",
                &self.source,
                many.iter()
                    .filter_map(|&i| self.label_top(i, "this one"))
                    .collect(),
            )),
        }
    }

    /// The error for a workspace path the manifest does not have.
    pub fn no_workspace(&self, path: &str) -> EditError {
        let paths: Vec<String> = self
            .workspaces()
            .into_iter()
            .map(|(_, p)| normalize_path(&p))
            .collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        EditError::target(
            format!("no workspace `{}` in the manifest", normalize_path(path)),
            if refs.is_empty() {
                "the manifest has no workspace yet: add one with `lambda-batch add workspace PATH`"
                    .to_string()
            } else {
                format!(
                    "{} (paths are relative to lambda.kdl, as written in it)",
                    suggest(&normalize_path(path), "workspaces", &refs)
                )
            },
            &self.source,
            Vec::new(),
        )
    }

    /// The artifact nodes named `name` (in workspace `workspace` when given); they all belong
    /// to one workspace path, or the name is ambiguous.
    pub fn find_artifacts(
        &self,
        name: &str,
        workspace: Option<&str>,
    ) -> Result<Vec<ArtifactAt>, EditError> {
        if let Some(path) = workspace
            && self.workspaces_at(path).is_empty()
        {
            return Err(self.no_workspace(path));
        }
        let all = self.artifacts();
        let found: Vec<ArtifactAt> = all
            .iter()
            .filter(|a| a.name == name)
            .filter(|a| workspace.is_none_or(|w| same_path(&a.workspace_path, w)))
            .cloned()
            .collect();
        if found.is_empty() {
            let names: Vec<&str> = all
                .iter()
                .filter(|a| workspace.is_none_or(|w| same_path(&a.workspace_path, w)))
                .map(|a| a.name.as_str())
                .collect();
            let place = workspace
                .map(|w| format!(" in workspace `{}`", normalize_path(w)))
                .unwrap_or_default();
            return Err(EditError::target(
                format!("no function or extension `{name}`{place}"),
                format!(
                    "{}; an artifact found by discover=true has no node of its own: declare it with `lambda-batch add function {name} --workspace PATH` first",
                    suggest(name, "artifacts", &names)
                ),
                &self.source,
                Vec::new(),
            ));
        }
        let mut paths: Vec<String> = found
            .iter()
            .map(|a| normalize_path(&a.workspace_path))
            .collect();
        paths.dedup();
        if paths.len() > 1 {
            return Err(EditError::target(
                format!(
                    "`{name}` is declared in {} workspaces: {}",
                    paths.len(),
                    paths
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!(
                    "choose one with --workspace, for example `--workspace {}`",
                    paths[0]
                ),
                &self.source,
                found
                    .iter()
                    .map(|a| {
                        LabeledSpan::new_with_span(
                            Some(format!("in `{}`", normalize_path(&a.workspace_path))),
                            self.artifact_head(a),
                        )
                    })
                    .collect(),
            ));
        }
        Ok(found)
    }

    /// The one artifact node named `name`.
    pub fn find_artifact(
        &self,
        name: &str,
        workspace: Option<&str>,
    ) -> Result<ArtifactAt, EditError> {
        let found = self.find_artifacts(name, workspace)?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(EditError::target(
                format!(
                    "`{name}` is declared {} times in one workspace",
                    found.len()
                ),
                "artifact names must be unique: remove or rename all but one",
                &self.source,
                found
                    .iter()
                    .map(|a| LabeledSpan::new_with_span(Some("here".into()), self.artifact_head(a)))
                    .collect(),
            )),
        }
    }

    /// The span of an artifact node's head.
    fn artifact_head(&self, a: &ArtifactAt) -> miette::SourceSpan {
        self.node(NodeAt::Child(a.workspace, a.index))
            .map(head_span)
            .unwrap_or(a.span)
    }

    /// The node a level names; `None` for the defaults when there is no `defaults` node.
    pub fn find_level(&self, level: &Level) -> Result<Option<NodeAt>, EditError> {
        Ok(match level {
            Level::Defaults => self.defaults().map(NodeAt::Top),
            Level::Workspace(path) => Some(NodeAt::Top(self.find_workspace(path)?)),
            Level::Artifact { name, workspace } => {
                let a = self.find_artifact(name, workspace.as_deref())?;
                Some(NodeAt::Child(a.workspace, a.index))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use camino::Utf8Path;

    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(Utf8Path::new("lambda.kdl"), text).unwrap()
    }

    #[test]
    fn levels_resolve_to_nodes() {
        let d = doc(
            "defaults\nworkspace \"a\" {\n  function \"f\"\n}\nworkspace \"b\" {\n  extension \"e\"\n  function \"f\"\n}\n",
        );
        assert_eq!(
            d.find_level(&Level::Defaults).unwrap(),
            Some(NodeAt::Top(0))
        );
        assert_eq!(
            d.find_level(&Level::Workspace("./b".into())).unwrap(),
            Some(NodeAt::Top(2))
        );
        assert_eq!(
            d.find_level(&Level::from_flags(Some("b"), Some("f")))
                .unwrap(),
            Some(NodeAt::Child(2, 1))
        );
        assert_eq!(d.indent(NodeAt::Child(2, 1)), "  ");
        let err = d
            .find_level(&Level::from_flags(None, Some("f")))
            .unwrap_err();
        assert!(err.to_string().contains("`a`, `b`"), "{err}");
        let err = d
            .find_level(&Level::from_flags(None, Some("g")))
            .unwrap_err();
        assert!(matches!(err, EditError::Target { .. }));
        let err = d.find_level(&Level::Workspace("c".into())).unwrap_err();
        assert!(err.to_string().contains("no workspace `c`"));
    }
}

//! `set` and `unset`: one setting at the defaults, a workspace or an artifact.
//!
//! `set` writes exactly one node of the setting at that level: an existing node keeps its place
//! and comments and gets the new values; further nodes of the same setting at that level (only
//! the accumulating ones may repeat) are removed. A new node goes after the level's last
//! setting, before its artifacts. `unset` removes the setting's nodes, or with values only
//! those values of an accumulating setting.

use kdl_v1::{KdlDocument, KdlNode};

use super::document::{Document, first_arg, normalize_path};
use super::error::EditError;
use super::layout::{self, Place, child_indent, drop_empty_block, ensure_block, indent_unit};
use super::target::{Level, NodeAt};
use super::value;
use crate::manifest::spec::{self, Inheritance, ValueShape};

/// Sets `name` to `values` at `level`; returns what was done, in words.
pub fn set(
    doc: &mut Document,
    level: &Level,
    name: &str,
    values: &[String],
) -> Result<String, EditError> {
    let setting = value::setting(name)?;
    let entries = value::entries(setting, values)?;
    let at = match doc.find_level(level)? {
        Some(at) => at,
        None => add_defaults(doc),
    };
    let unit = indent_unit(&doc.kdl);
    let own = doc.indent(at);
    let node = doc.node_mut(at).ok_or_else(lost)?;
    let existing = positions(node, setting.name);
    let what = if let Some((&first, others)) = existing.split_first() {
        let block = node.children_mut().as_mut().ok_or_else(lost)?;
        *block.nodes_mut()[first].entries_mut() = entries;
        for &i in others.iter().rev() {
            layout::remove(block, Place::Block(&own), i);
        }
        "set"
    } else {
        let indent = child_indent(node, &own, &unit);
        let index = setting_slot(node);
        let mut new = KdlNode::new(setting.name);
        for e in entries {
            new.push(e);
        }
        layout::insert(
            ensure_block(node, &own),
            Place::Block(&own),
            index,
            new,
            &indent,
            false,
        );
        "added"
    };
    Ok(format!(
        "{what} `{}` at {}",
        shown(setting.name, values),
        level.describe()
    ))
}

/// Removes `name` (or only `values` of it) at `level`; returns what was done, in words.
pub fn unset(
    doc: &mut Document,
    level: &Level,
    name: &str,
    values: &[String],
) -> Result<String, EditError> {
    let setting = value::setting(name)?;
    let at = doc.find_level(level)?;
    let existing = at
        .and_then(|at| doc.node(at))
        .map(|n| positions(n, setting.name))
        .unwrap_or_default();
    if existing.is_empty() {
        return Err(not_set(doc, setting.name, level));
    }
    let at = at.ok_or_else(lost)?;
    if !values.is_empty() && setting.inheritance != Inheritance::Accumulates {
        return Err(EditError::usage(
            format!("`unset {}` takes no values", setting.name),
            format!(
                "`{}` holds one value at each level: `lambda-batch unset {}` removes it",
                setting.name, setting.name
            ),
        ));
    }
    let own = doc.indent(at);
    let node = doc.node_mut(at).ok_or_else(lost)?;
    let block = node.children_mut().as_mut().ok_or_else(lost)?;
    let emptied: Vec<usize> = if values.is_empty() {
        existing.clone()
    } else {
        remove_values(block, &existing, setting.shape, values)?
    };
    for &i in emptied.iter().rev() {
        layout::remove(block, Place::Block(&own), i);
    }
    drop_empty_block(node);
    // A `defaults` left with nothing goes too, so that `set` then `unset` gives the file back.
    if let (Level::Defaults, NodeAt::Top(i)) = (level, at)
        && node.children().is_none()
        && node.entries().is_empty()
    {
        layout::remove(&mut doc.kdl, Place::Top, i);
    }
    Ok(if values.is_empty() {
        format!("removed `{}` from {}", setting.name, level.describe())
    } else {
        format!(
            "removed {} from `{}` at {}",
            values.join(" "),
            setting.name,
            level.describe()
        )
    })
}

/// Creates `defaults` at the top of the file (after its header comment); returns where.
pub(crate) fn add_defaults(doc: &mut Document) -> NodeAt {
    let spaced = !doc.kdl.nodes().is_empty();
    layout::insert(
        &mut doc.kdl,
        Place::Top,
        0,
        KdlNode::new("defaults"),
        "",
        spaced,
    );
    NodeAt::Top(0)
}

/// Indices of `node`'s children named `name`.
fn positions(node: &KdlNode, name: &str) -> Vec<usize> {
    node.children()
        .map(|c| {
            c.nodes()
                .iter()
                .enumerate()
                .filter(|(_, n)| n.name().value() == name)
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default()
}

/// Where a new setting goes among `node`'s children: after the last setting, else before the
/// first artifact, else at the end.
fn setting_slot(node: &KdlNode) -> usize {
    let Some(children) = node.children() else {
        return 0;
    };
    let nodes = children.nodes();
    if let Some(last) = nodes
        .iter()
        .rposition(|n| spec::setting(n.name().value()).is_some())
    {
        return last + 1;
    }
    nodes
        .iter()
        .position(|n| matches!(n.name().value(), "function" | "extension"))
        .unwrap_or(nodes.len())
}

/// Removes `values` from the setting nodes at `indices`; returns the nodes left without a value.
fn remove_values(
    block: &mut KdlDocument,
    indices: &[usize],
    shape: ValueShape,
    values: &[String],
) -> Result<Vec<usize>, EditError> {
    let by_key = shape == ValueShape::Env;
    let matches = |e: &kdl_v1::KdlEntry, v: &str| {
        if by_key {
            e.name().is_some_and(|n| n.value() == v)
        } else {
            e.name().is_none() && e.value().as_string() == Some(v)
        }
    };
    let missing: Vec<&String> = values
        .iter()
        .filter(|v| {
            !indices
                .iter()
                .any(|&i| block.nodes()[i].entries().iter().any(|e| matches(e, v)))
        })
        .collect();
    if let Some(v) = missing.first() {
        let name = block.nodes()[indices[0]].name().value().to_string();
        let present: Vec<String> = indices
            .iter()
            .flat_map(|&i| block.nodes()[i].entries())
            .filter_map(|e| match (by_key, e.name()) {
                (true, Some(k)) => Some(k.value().to_string()),
                (false, None) => e.value().as_string().map(str::to_string),
                _ => None,
            })
            .collect();
        return Err(EditError::usage(
            format!(
                "`{name}` has no {} `{v}` at this level",
                if by_key { "variable" } else { "value" }
            ),
            format!(
                "it has: {}",
                present
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut emptied = Vec::new();
    for &i in indices {
        let node = &mut block.nodes_mut()[i];
        node.entries_mut()
            .retain(|e| !values.iter().any(|v| matches(e, v)));
        let left = node.entries().iter().any(|e| {
            if by_key {
                e.name().is_some()
            } else {
                e.name().is_none()
            }
        });
        if !left {
            emptied.push(i);
        }
    }
    Ok(emptied)
}

/// The error for unsetting what a level does not set, saying where it is set.
fn not_set(doc: &Document, name: &str, level: &Level) -> EditError {
    let mut places = Vec::new();
    let sets = |n: &KdlNode| {
        n.children()
            .is_some_and(|c| c.nodes().iter().any(|s| s.name().value() == name))
    };
    if doc.defaults().and_then(|i| doc.top(i)).is_some_and(sets) {
        places.push("the defaults".to_string());
    }
    for (w, path) in doc.workspaces() {
        let Some(ws) = doc.top(w) else { continue };
        if sets(ws) {
            places.push(format!("--workspace {}", normalize_path(&path)));
        }
        for a in ws.children().map(KdlDocument::nodes).unwrap_or_default() {
            if matches!(a.name().value(), "function" | "extension") && sets(a) {
                places.push(format!("--artifact {}", first_arg(a).unwrap_or_default()));
            }
        }
    }
    EditError::target(
        format!("`{name}` is not set at {}", level.describe()),
        if places.is_empty() {
            format!("`{name}` is not set anywhere in the manifest")
        } else {
            format!("it is set at: {}", places.join(", "))
        },
        &doc.source,
        Vec::new(),
    )
}

/// `arch "x" "y"` as typed, for messages.
fn shown(name: &str, values: &[String]) -> String {
    if values.is_empty() {
        name.to_string()
    } else {
        format!("{name} {}", values.join(" "))
    }
}

/// An index that stopped pointing at a node: cannot happen, reported rather than panicking.
fn lost() -> EditError {
    EditError::Internal {
        message: "lost track of a node while editing".into(),
    }
}

#[cfg(test)]
mod tests {
    use camino::Utf8Path;

    use super::*;

    const TEXT: &str = "// head\n\nworkspace \"a\" {\n    include \"LICENSE\"   // legal\n\n    function \"f\"\n    extension \"e\" {\n        env A=\"1\" // vars\n        env B=\"2\"\n    }\n}\n";

    fn doc(text: &str) -> Document {
        Document::parse(Utf8Path::new("lambda.kdl"), text).unwrap()
    }

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_are_created_at_the_top_and_removed_when_empty() {
        let mut d = doc(TEXT);
        set(&mut d, &Level::Defaults, "arch", &words(&["arm64"])).unwrap();
        assert_eq!(
            d.render(),
            TEXT.replace(
                "// head\n\n",
                "// head\n\ndefaults {\n    arch \"arm64\"\n}\n\n"
            )
        );
        unset(&mut d, &Level::Defaults, "arch", &[]).unwrap();
        assert_eq!(d.render(), TEXT);
    }

    #[test]
    fn replacing_keeps_place_and_comment() {
        let mut d = doc(TEXT);
        let ws = Level::Workspace("a".into());
        set(&mut d, &ws, "include", &words(&["NOTICE"])).unwrap();
        assert_eq!(d.render(), TEXT.replace("\"LICENSE\"", "\"NOTICE\""));
        set(&mut d, &ws, "profile", &words(&["release"])).unwrap();
        assert!(
            d.render()
                .contains("// legal\n    profile \"release\"\n\n    function")
        );
        unset(&mut d, &ws, "profile", &[]).unwrap();
        assert_eq!(d.render(), TEXT.replace("\"LICENSE\"", "\"NOTICE\""));
    }

    #[test]
    fn artifacts_get_and_lose_a_block() {
        let mut d = doc(TEXT);
        let f = Level::from_flags(None, Some("f"));
        set(&mut d, &f, "no-default-features", &[]).unwrap();
        assert!(
            d.render()
                .contains("    function \"f\" {\n        no-default-features\n    }\n")
        );
        unset(&mut d, &f, "no-default-features", &[]).unwrap();
        assert_eq!(d.render(), TEXT);
    }

    #[test]
    fn accumulating_settings_collapse_to_one_node() {
        let mut d = doc(TEXT);
        let e = Level::from_flags(Some("a"), Some("e"));
        set(&mut d, &e, "env", &words(&["C=3"])).unwrap();
        assert!(
            d.render()
                .contains("    extension \"e\" {\n        env C=\"3\" // vars\n    }\n")
        );
        let mut d = doc(TEXT);
        unset(&mut d, &e, "env", &words(&["B"])).unwrap();
        assert!(d.render().contains("env A=\"1\" // vars\n    }"));
        assert!(unset(&mut d, &e, "env", &words(&["Z"])).is_err());
        unset(&mut d, &e, "env", &words(&["A"])).unwrap();
        assert!(d.render().contains("    extension \"e\"\n}"));
    }

    #[test]
    fn refusals_name_the_problem() {
        let mut d = doc(TEXT);
        let err = unset(&mut d, &Level::Defaults, "env", &[]).unwrap_err();
        assert!(format!("{err:?}").contains("--artifact e"), "{err:?}");
        assert!(
            unset(
                &mut d,
                &Level::Workspace("a".into()),
                "include",
                &words(&["x"])
            )
            .is_err()
        );
        assert!(unset(&mut d, &Level::Workspace("a".into()), "profile", &[]).is_err());
        assert!(
            set(
                &mut d,
                &Level::Workspace("b".into()),
                "profile",
                &words(&["x"])
            )
            .is_err()
        );
        assert_eq!(d.render(), TEXT);
    }
}

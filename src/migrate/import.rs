//! `import`: cargo-lambda's configuration carried over into an existing lambda.kdl, as the
//! same comment-keeping edits `set` makes.
//!
//! Every workspace node of the manifest is read where it points (that directory is where
//! `cargo lambda build` runs) and every artifact of it, declared or discovered, gets the
//! settings cargo-lambda would build it with, at the level they come from. A discovered
//! artifact that needs settings of its own is declared first. What the edits leave different
//! (a setting the manifest already had at a lower level, say) is then set on the artifact
//! itself, and what still differs is reported as `check` would.

use std::collections::BTreeMap;

use kdl_v1::{KdlNode, KdlValue};

use super::cargo_lambda::{Class, Config, Drift, drift};
use super::translate::{self, ArtifactIn, Level, Line, Translation, WorkspaceIn};
use crate::edit::add::{self, NewArtifact};
use crate::edit::document::{self, Document};
use crate::edit::layout::{self, Place, child_indent, ensure_block, indent_unit};
use crate::edit::set;
use crate::edit::target::Level as At;
use crate::edit::{EditError, value};
use crate::manifest::normalize;
use crate::manifest::values::ArtifactKind;
use crate::pipeline::Checked;

/// An artifact of the manifest, as the edits name it.
#[derive(Debug, Clone)]
pub struct Named {
    /// Its name.
    pub name: String,
    /// Its workspace path as written.
    pub workspace: String,
    /// Found by `discover=true`: it has no node yet.
    pub discovered: bool,
    /// Its bin.
    pub bin: String,
}

/// A bin that cargo-lambda's configuration names but the manifest does not build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The workspace path, as written in the manifest.
    pub workspace: String,
    /// The package.
    pub package: String,
    /// The bin.
    pub bin: String,
    /// Function, or extension when the configuration says so.
    pub kind: ArtifactKind,
}

/// Bins that cargo-lambda's configuration names (`[package.metadata.lambda]`, a workspace `bin`
/// table) in the manifest's workspaces but that the manifest does not build.
pub fn left_out(checked: &Checked, context: Option<&str>) -> Vec<LeftOut> {
    let manifest = &checked.resolved.manifest;
    let mut out = Vec::new();
    for decl in &manifest.workspaces {
        let dir = normalize(&manifest.dir.join(&decl.path.value));
        let Some(info) = checked.resolved.workspaces.get(&dir) else {
            continue;
        };
        let config = Config::read(&dir, info, context);
        for p in &info.packages {
            if !(dir == info.root || p.dir.starts_with(&dir)) {
                continue;
            }
            for bin in &p.bins {
                let built = checked
                    .resolved
                    .artifacts
                    .iter()
                    .any(|a| a.identity.package == p.name && &a.identity.bin == bin);
                if built || config.marks(&p.name, bin).is_none() {
                    continue;
                }
                let entry = LeftOut {
                    workspace: decl.path.value.clone(),
                    package: p.name.clone(),
                    bin: bin.clone(),
                    kind: if config.for_bin(&p.name, bin).extension.is_some() {
                        ArtifactKind::Extension
                    } else {
                        ArtifactKind::Function
                    },
                };
                if !out.contains(&entry) {
                    out.push(entry);
                }
            }
        }
    }
    out
}

/// What `translate` needs for a checked manifest, and the names the edits use.
pub fn inputs(checked: &Checked, context: Option<&str>) -> (Vec<WorkspaceIn>, Vec<Vec<Named>>) {
    let manifest = &checked.resolved.manifest;
    let mut inputs = Vec::new();
    let mut names = Vec::new();
    for decl in &manifest.workspaces {
        let path = &decl.path.value;
        let dir = normalize(&manifest.dir.join(path));
        let Some(info) = checked.resolved.workspaces.get(&dir) else {
            continue;
        };
        let mut artifacts = Vec::new();
        let mut named: Vec<Named> = Vec::new();
        for a in &checked.resolved.artifacts {
            if &a.identity.workspace != path || named.iter().any(|n| n.name == a.identity.name) {
                continue;
            }
            let features = info
                .packages
                .iter()
                .find(|p| p.name == a.identity.package)
                .map(|p| p.features.clone())
                .unwrap_or_default();
            artifacts.push(ArtifactIn {
                package: a.identity.package.clone(),
                package_dir: a.identity.package_dir.clone(),
                bin: a.identity.bin.clone(),
                kind: a.identity.kind,
                features,
            });
            named.push(Named {
                name: a.identity.name.clone(),
                workspace: path.clone(),
                discovered: a.identity.discovered,
                bin: a.identity.bin.clone(),
            });
        }
        // Two workspace nodes with one path hold the same artifacts: translate them once.
        if names
            .iter()
            .any(|n: &Vec<Named>| n.first().is_some_and(|x| &x.workspace == path))
        {
            continue;
        }
        inputs.push(WorkspaceIn {
            dir: dir.clone(),
            config: Config::read(&dir, info, context),
            artifacts,
        });
        names.push(named);
    }
    (inputs, names)
}

/// Applies a translation to the document; returns one line per change, in words.
pub fn apply(
    doc: &mut Document,
    translation: &Translation,
    names: &[Vec<Named>],
) -> Result<Vec<String>, EditError> {
    let mut done = Vec::new();
    level(doc, &At::Defaults, &translation.defaults, &mut done)?;
    for (w, named) in translation.workspaces.iter().zip(names) {
        let Some(path) = named.first().map(|n| n.workspace.clone()) else {
            continue;
        };
        level(doc, &At::Workspace(path.clone()), &w.level, &mut done)?;
        for (a, n) in w.artifacts.iter().zip(named) {
            let changes = a.kind.is_some() || a.internal || a.flatten;
            let settles = !a.level.lines.is_empty() || !a.level.remarks.is_empty();
            if !changes && !settles {
                continue;
            }
            if n.discovered {
                declare(doc, n, a.kind.unwrap_or(ArtifactKind::Function), &mut done)?;
            }
            let at = At::Artifact {
                name: n.name.clone(),
                workspace: Some(n.workspace.clone()),
            };
            // Settings first: the comment on where the properties come from then goes on
            // the `{` line of the block they make.
            level(doc, &at, &a.level, &mut done)?;
            properties(doc, &at, a, &mut done)?;
        }
    }
    Ok(done)
}

/// Declares a discovered artifact so that it can have settings of its own (an explicit node
/// wins over the discovered one).
fn declare(
    doc: &mut Document,
    n: &Named,
    kind: ArtifactKind,
    done: &mut Vec<String>,
) -> Result<(), EditError> {
    if doc.artifacts().iter().any(|a| a.name == n.name) {
        return Ok(());
    }
    let new = NewArtifact {
        bin: (n.bin != n.name).then(|| n.bin.clone()),
        ..NewArtifact::new(kind, &n.name, &n.workspace)
    };
    done.push(add::artifact(doc, &new)?);
    Ok(())
}

/// The artifact node's kind, `internal=` and `flatten=`.
fn properties(
    doc: &mut Document,
    at: &At,
    a: &translate::ArtifactOut,
    done: &mut Vec<String>,
) -> Result<(), EditError> {
    let Some(node_at) = doc.find_level(at)? else {
        return Ok(());
    };
    let Some(node) = doc.node_mut(node_at) else {
        return Ok(());
    };
    let name = document::first_arg(node).unwrap_or_default().to_string();
    if let Some(kind) = a.kind
        && node.name().value() != kind.as_str()
    {
        node.set_name(kind.as_str());
        // A function's `flatten=` means nothing on an extension, and the decoder refuses it.
        node.remove("flatten");
        done.push(format!("`{name}` is now an {}", kind.as_str()));
    }
    for (prop, on) in [("internal", a.internal), ("flatten", a.flatten)] {
        let already = document::bool_prop(node, prop) == Some(true);
        if on && !already {
            node.insert(prop, KdlValue::Bool(true));
            done.push(format!("set `{prop}=true` on `{name}`"));
        }
    }
    if let Some(from) = &a.from {
        annotate(node, from);
    }
    Ok(())
}

/// Writes a level's lines (one `set` per setting, further nodes of it after the first) and its
/// remarks.
fn level(
    doc: &mut Document,
    at: &At,
    level: &Level,
    done: &mut Vec<String>,
) -> Result<(), EditError> {
    let mut by_setting: BTreeMap<&str, Vec<&Line>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for l in &level.lines {
        if !order.contains(&l.setting) {
            order.push(l.setting);
        }
        by_setting.entry(l.setting).or_default().push(l);
    }
    for setting in order {
        let lines = &by_setting[setting];
        if already(doc, at, setting, lines)? {
            continue;
        }
        let before = doc.render();
        let what = set::set(doc, at, setting, &lines[0].values)?;
        let mut changed = doc.render() != before;
        for (i, l) in lines.iter().enumerate().skip(1) {
            append(doc, at, setting, i, &l.values)?;
            changed = true;
        }
        let node_at = doc.find_level(at)?.ok_or_else(lost)?;
        let node = doc.node_mut(node_at).ok_or_else(lost)?;
        let mut nth = 0;
        if let Some(block) = node.children_mut().as_mut() {
            for n in block.nodes_mut() {
                if n.name().value() == setting {
                    if let Some(l) = lines.get(nth) {
                        annotate(n, &l.from);
                    }
                    nth += 1;
                }
            }
        }
        if changed {
            done.push(if lines.len() > 1 {
                format!(
                    "{what} (and {} more `{setting}` node{})",
                    lines.len() - 1,
                    if lines.len() > 2 { "s" } else { "" }
                )
            } else {
                what
            });
        }
    }
    if !level.remarks.is_empty() {
        remark(doc, at, &level.remarks)?;
    }
    Ok(())
}

/// Whether the level's `setting` nodes already hold exactly these lines' values, in order.
fn already(doc: &Document, at: &At, setting: &str, lines: &[&Line]) -> Result<bool, EditError> {
    let Some(node_at) = doc.find_level(at)? else {
        return Ok(false);
    };
    let Some(block) = doc.node(node_at).and_then(KdlNode::children) else {
        return Ok(false);
    };
    let values = |entries: &[kdl_v1::KdlEntry]| -> Vec<(Option<String>, String)> {
        entries
            .iter()
            .map(|e| {
                (
                    e.name().map(|n| n.value().to_string()),
                    e.value().to_string(),
                )
            })
            .collect()
    };
    let have: Vec<_> = block
        .nodes()
        .iter()
        .filter(|n| n.name().value() == setting)
        .map(|n| values(n.entries()))
        .collect();
    let s = value::setting(setting)?;
    let want = lines
        .iter()
        .map(|l| value::entries(s, &l.values).map(|e| values(&e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(have == want)
}

/// Adds one more `setting` node after the first `index` of them at a level.
fn append(
    doc: &mut Document,
    at: &At,
    setting: &str,
    index: usize,
    values: &[String],
) -> Result<(), EditError> {
    let s = value::setting(setting)?;
    let entries = value::entries(s, values)?;
    let node_at = doc.find_level(at)?.ok_or_else(lost)?;
    let own = doc.indent(node_at);
    let unit = indent_unit(&doc.kdl);
    let node = doc.node_mut(node_at).ok_or_else(lost)?;
    let indent = child_indent(node, &own, &unit);
    let block = ensure_block(node, &own);
    let position = block
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| n.name().value() == setting)
        .nth(index - 1)
        .map(|(i, _)| i + 1)
        .unwrap_or(block.nodes().len());
    let mut new = KdlNode::new(setting);
    for e in entries {
        new.push(e);
    }
    layout::insert(block, Place::Block(&own), position, new, &indent, false);
    Ok(())
}

/// Puts `// from ...` after a node (after its `{` when it has a block) that has no comment
/// there yet.
fn annotate(node: &mut KdlNode, from: &str) {
    let from = from.replace(['\n', '\r'], " ");
    if node.to_string().contains(&format!("// {from}")) {
        return;
    }
    if let Some(first) = node
        .children_mut()
        .as_mut()
        .and_then(|b| b.nodes_mut().first_mut())
    {
        // The first child's leading text starts with the rest of the `{` line.
        let leading = first.leading().unwrap_or("").to_string();
        if let Some(end) = leading.find('\n')
            && leading[..end].trim().is_empty()
        {
            first.set_leading(format!("  // {from}{}", &leading[end..]));
        }
        return;
    }
    let trailing = node.trailing().unwrap_or("");
    if trailing.contains("//") || trailing.contains("/*") {
        return;
    }
    node.set_trailing(format!("  // {from}{trailing}"));
}

/// Comment lines at the end of a level's settings (before its artifacts), each once.
fn remark(doc: &mut Document, at: &At, remarks: &[String]) -> Result<(), EditError> {
    let text = doc.render();
    let fresh: Vec<&String> = remarks
        .iter()
        .filter(|r| !text.contains(r.as_str()))
        .collect();
    if fresh.is_empty() {
        return Ok(());
    }
    let node_at = match doc.find_level(at)? {
        Some(n) => n,
        None => set::add_defaults(doc),
    };
    let own = doc.indent(node_at);
    let unit = indent_unit(&doc.kdl);
    let node = doc.node_mut(node_at).ok_or_else(lost)?;
    let indent = child_indent(node, &own, &unit);
    let lines: String = fresh
        .iter()
        .map(|r| format!("{indent}// {}\n", r.replace(['\n', '\r'], " ")))
        .collect();
    let block = ensure_block(node, &own);
    let first_artifact = block
        .nodes()
        .iter()
        .position(|n| matches!(n.name().value(), "function" | "extension"));
    match first_artifact {
        Some(i) if i > 0 => {
            let next = &mut block.nodes_mut()[i];
            let leading = next.leading().unwrap_or("").to_string();
            next.set_leading(format!("{lines}{leading}"));
        }
        Some(_) => {
            let next = &mut block.nodes_mut()[0];
            let leading = next.leading().unwrap_or("").to_string();
            // Keep what ends the `{` line where it is.
            let (head, rest) = match leading.find('\n') {
                Some(i) => leading.split_at(i + 1),
                None => ("\n", leading.as_str()),
            };
            let rest = rest.to_string();
            next.set_leading(format!("{head}{lines}{rest}"));
        }
        None if block.nodes().is_empty() => {
            let trailing = block.trailing().unwrap_or("").to_string();
            let leading = block.leading().unwrap_or("").to_string();
            let sep = if leading.ends_with('\n') { "" } else { "\n" };
            block.set_leading(format!("{leading}{sep}{lines}"));
            block.set_trailing(trailing);
        }
        None => {
            let trailing = block.trailing().unwrap_or("").to_string();
            block.set_trailing(format!("{lines}{trailing}"));
        }
    }
    Ok(())
}

/// Sets, on each drifting artifact itself, the value cargo-lambda builds it with (classes
/// whose value a lower level can replace); returns what was done.
pub fn settle(
    doc: &mut Document,
    drifts: &[Drift],
    checked: &Checked,
    context: Option<&str>,
) -> Result<Vec<String>, EditError> {
    let mut done = Vec::new();
    let manifest = &checked.resolved.manifest;
    let mut configs: BTreeMap<camino::Utf8PathBuf, Config> = BTreeMap::new();
    for d in drifts {
        let Some(a) = checked
            .resolved
            .artifacts
            .iter()
            .find(|a| a.identity.name == d.artifact)
        else {
            continue;
        };
        let dir = normalize(&manifest.dir.join(&a.identity.workspace));
        let Some(info) = checked.resolved.workspaces.get(&dir) else {
            continue;
        };
        let config = configs
            .entry(dir.clone())
            .or_insert_with(|| Config::read(&dir, info, context));
        let eff = config.for_bin(&a.identity.package, &a.identity.bin);
        let named = Named {
            name: a.identity.name.clone(),
            workspace: a.identity.workspace.clone(),
            discovered: a.identity.discovered,
            bin: a.identity.bin.clone(),
        };
        if d.class == Class::Layout {
            continue;
        }
        let input = ArtifactIn {
            package: a.identity.package.clone(),
            package_dir: a.identity.package_dir.clone(),
            bin: a.identity.bin.clone(),
            kind: a.identity.kind,
            features: info
                .packages
                .iter()
                .find(|p| p.name == a.identity.package)
                .map(|p| p.features.clone())
                .unwrap_or_default(),
        };
        let out = translate::for_artifact(d.class, &eff, &input, &dir, &manifest.dir);
        if out.lines.is_empty() {
            continue;
        }
        if named.discovered {
            declare(doc, &named, a.identity.kind, &mut done)?;
        }
        let at = At::Artifact {
            name: named.name.clone(),
            workspace: Some(named.workspace.clone()),
        };
        level(doc, &at, &out, &mut done)?;
    }
    Ok(done)
}

/// The drifts of a checked text.
pub fn drifts(checked: &Checked, context: Option<&str>) -> Vec<Drift> {
    drift(&checked.resolved, context)
}

/// An index that stopped pointing at a node: cannot happen, reported rather than panicking.
fn lost() -> EditError {
    EditError::Internal {
        message: "lost track of a node while importing".into(),
    }
}

//! What cargo compiles for one package built alone: every package in its dependency closure,
//! for the target or for the host, with the features cargo resolves for it. Read from
//! `cargo tree`, cargo's own feature resolver, and cached like the metadata (see
//! [`super::cache`]).
//!
//! Cargo resolves features once per invocation for all the packages it selects, so a package
//! built in one call with others can get dependency features it does not ask for. Two packages
//! can share a call without any of their executables changing exactly when every package (and
//! build kind) that both closures contain has the same features in both: the union of two
//! resolutions that agree wherever they overlap is itself closed under cargo's rules (a node's
//! optional and weak dependencies only depend on its own features), so it is what cargo
//! computes for the pair, and each closure is unchanged in it. When they disagree somewhere,
//! the union adds a feature to at least one of them. So the pairwise comparison of the views
//! of each package alone is exact, and a set of packages shares a call when every pair does.
//!
//! `cargo tree -e normal,build --target T` prints that closure (no dev-dependencies, as
//! `cargo build --bin` resolves without them; build-dependencies and proc-macros resolved for
//! the host, separately from normal dependencies, as resolver 2 does; platform-specific
//! dependencies for `T`). It does not mark which nodes are built for the host, so the kind is
//! rebuilt from the printed tree: a node is a host node when it is a proc-macro, sits under a
//! `[build-dependencies]` heading or under a host node. Duplicates are printed once (`(*)`),
//! so the view is read as a graph.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// One node of a closure: a package (cargo tree's `{p}`: name, version, source) and whether
/// it is compiled for the host (build scripts' and proc-macros' dependencies).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeKey {
    /// `name vX.Y.Z`, then ` (proc-macro)` and ` (source)` when cargo shows them.
    pub package: String,
    /// Compiled for the host rather than the target.
    pub host: bool,
}

/// A package's dependency closure as cargo resolves it when the package is built alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The root package's `{p}`.
    pub root: String,
    /// Every node reachable from the root, with its features (sorted). A node shown with two
    /// feature sets (which cargo does not produce) keeps both, and then never matches.
    #[serde(with = "as_list")]
    pub nodes: BTreeMap<NodeKey, BTreeSet<Vec<String>>>,
    /// Each package's license as its manifest declares it (cargo tree's `{l}`), the root's
    /// included; a package without one is absent.
    #[serde(default)]
    pub licenses: BTreeMap<String, String>,
    /// The dependencies of each package (`{p}` to `{p}`, host and target edges together), the
    /// root's included: what an SBOM's dependency graph lists.
    #[serde(default)]
    pub edges: BTreeMap<String, BTreeSet<String>>,
}

/// JSON maps need string keys: the nodes are stored as a list of pairs.
mod as_list {
    use super::*;
    use serde::{Deserializer, Serializer};

    type Nodes = BTreeMap<NodeKey, BTreeSet<Vec<String>>>;

    pub(super) fn serialize<S: Serializer>(nodes: &Nodes, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(nodes.iter())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Nodes, D::Error> {
        let pairs: Vec<(NodeKey, BTreeSet<Vec<String>>)> = Vec::deserialize(d)?;
        Ok(pairs.into_iter().collect())
    }
}

/// Where two views disagree: a node both contain with different features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The node.
    pub node: NodeKey,
    /// Its features in the first view.
    pub ours: Vec<String>,
    /// Its features in the second view.
    pub theirs: Vec<String>,
}

impl View {
    /// Reads the output of `cargo tree` for one root package (see [`parse`]).
    pub fn parse(text: &str) -> Option<View> {
        parse(text)
    }

    /// The first node both views contain with different features; `None` when the two
    /// packages can be built in one cargo call without changing either.
    pub fn conflict(&self, other: &View) -> Option<Conflict> {
        for (node, ours) in &self.nodes {
            let Some(theirs) = other.nodes.get(node) else {
                continue;
            };
            if ours != theirs || ours.len() != 1 {
                let first =
                    |s: &BTreeSet<Vec<String>>| s.iter().next().cloned().unwrap_or_default();
                return Some(Conflict {
                    node: node.clone(),
                    ours: first(ours),
                    theirs: first(theirs),
                });
            }
        }
        None
    }

    /// The directories of the path packages in the closure (`{p}` ends with ` (/abs/dir)`).
    pub fn path_packages(&self) -> BTreeSet<String> {
        let mut dirs: BTreeSet<String> = self
            .nodes
            .keys()
            .filter_map(|k| source_dir(&k.package))
            .collect();
        if let Some(d) = source_dir(&self.root) {
            dirs.insert(d);
        }
        dirs
    }
}

/// The directory of a path package from its `{p}`, `name v1.0.0 (/abs/dir)`.
fn source_dir(package: &str) -> Option<String> {
    let open = package.rfind(" (/")?;
    let dir = package[open + 2..].strip_suffix(')')?;
    Some(dir.to_string())
}

/// The `--format` given to cargo tree: the package, its license and its features, apart by a
/// separator that neither a package, an SPDX expression nor a feature name contains.
pub(super) const FORMAT: &str = "{p}|{l}|{f}";

/// Reads the output of `cargo tree -e normal,build --charset ascii --format '{p}|{l}|{f}'`
/// (or without the license, `{p}|{f}`) for one root package. `None` when it is not such an
/// output.
pub(super) fn parse(text: &str) -> Option<View> {
    struct Frame {
        key: NodeKey,
        /// Children from here on are build-dependencies.
        build: bool,
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut features: HashMap<NodeKey, BTreeSet<Vec<String>>> = HashMap::new();
    let mut edges: HashMap<NodeKey, BTreeSet<NodeKey>> = HashMap::new();
    let mut licenses: BTreeMap<String, String> = BTreeMap::new();
    let mut root: Option<(String, NodeKey)> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            if root.is_some() {
                // A second root: not the output of one package.
                break;
            }
            continue;
        }
        let mut rest = line;
        let mut depth = 0usize;
        while let Some(r) = rest
            .strip_prefix("|   ")
            .or_else(|| rest.strip_prefix("    "))
        {
            rest = r;
            depth += 1;
        }
        let node_depth = if let Some(r) = rest
            .strip_prefix("|-- ")
            .or_else(|| rest.strip_prefix("`-- "))
        {
            rest = r;
            depth + 1
        } else if rest.starts_with('[') {
            // `[build-dependencies]` (or dev) heading: the children of the node at `depth`.
            let frame = stack.get_mut(depth)?;
            frame.build = rest.trim() == "[build-dependencies]";
            stack.truncate(depth + 1);
            continue;
        } else if depth == 0 && root.is_none() {
            0
        } else {
            return None;
        };
        let (package, license, feats) = split_label(rest)?;
        if node_depth > stack.len() || (node_depth == 0) != root.is_none() {
            return None;
        }
        stack.truncate(node_depth);
        let parent = stack.last();
        let host =
            package.contains(" (proc-macro)") || parent.is_some_and(|p| p.key.host || p.build);
        let key = NodeKey {
            package: package.clone(),
            host,
        };
        features.entry(key.clone()).or_default().insert(feats);
        if let Some(license) = license {
            licenses.insert(package_of(&key.package), license);
        }
        match parent {
            Some(p) => {
                edges.entry(p.key.clone()).or_default().insert(key.clone());
            }
            None => root = Some((package, key.clone())),
        }
        stack.push(Frame { key, build: false });
    }
    let (root_name, root_key) = root?;
    // The closure of the root (every node printed is in it, but reading it as a graph keeps
    // the rule in one place).
    let mut nodes = BTreeMap::new();
    let mut package_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut todo = vec![root_key.clone()];
    let mut seen = BTreeSet::new();
    while let Some(k) = todo.pop() {
        if !seen.insert(k.clone()) {
            continue;
        }
        if k != root_key {
            nodes.insert(k.clone(), features.get(&k).cloned().unwrap_or_default());
        }
        let from = package_edges.entry(package_of(&k.package)).or_default();
        if let Some(children) = edges.get(&k) {
            from.extend(children.iter().map(|c| package_of(&c.package)));
            todo.extend(children.iter().cloned());
        }
    }
    licenses.retain(|p, _| package_edges.contains_key(p));
    Some(View {
        root: root_name,
        nodes,
        licenses,
        edges: package_edges,
    })
}

/// A package's `{p}` without cargo's ` (proc-macro)` mark: one package, whatever it is
/// compiled for.
pub fn package_of(label: &str) -> String {
    label.replacen(" (proc-macro)", "", 1)
}

/// `name v1 (src)|MIT|feat1,feat2 (*)` → (`name v1 (src)`, `MIT`, [feat1, feat2]); the
/// license is optional (and absent when empty).
fn split_label(line: &str) -> Option<(String, Option<String>, Vec<String>)> {
    let line = line.trim_end();
    let line = line.strip_suffix(" (*)").unwrap_or(line);
    let (front, feats) = line.rsplit_once('|')?;
    let (package, license) = match front.split_once('|') {
        Some((package, license)) => (package, Some(license.trim()).filter(|l| !l.is_empty())),
        None => (front, None),
    };
    let mut feats: Vec<String> = feats
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    feats.sort();
    Some((
        package.trim().to_string(),
        license.map(str::to_string),
        feats,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(package: &str, host: bool) -> NodeKey {
        NodeKey {
            package: package.into(),
            host,
        }
    }

    #[test]
    fn host_nodes_are_told_apart_and_duplicates_followed() {
        let text = "\
c v0.1.0 (/w/c)|
|-- shared v0.1.0 (/w/shared)|default,dflt
|   `-- helper v0.1.0 (/w/helper)|
|-- pm v0.1.0 (proc-macro) (/w/pm)|
|   `-- quote v1.0.0|proc-macro
`-- log v0.4.0|std
[build-dependencies]
`-- shared v0.1.0 (/w/shared)|default,dflt,extra
    |-- helper v0.1.0 (/w/helper)|
    `-- log v0.4.0|std (*)
";
        let v = parse(text).unwrap();
        assert_eq!(v.root, "c v0.1.0 (/w/c)");
        let got: Vec<(NodeKey, Vec<String>)> = v
            .nodes
            .iter()
            .map(|(k, f)| (k.clone(), f.iter().next().unwrap().clone()))
            .collect();
        let s = |x: &[&str]| x.iter().map(|f| f.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (key("helper v0.1.0 (/w/helper)", false), s(&[])),
                (key("helper v0.1.0 (/w/helper)", true), s(&[])),
                (key("log v0.4.0", false), s(&["std"])),
                (key("log v0.4.0", true), s(&["std"])),
                (key("pm v0.1.0 (proc-macro) (/w/pm)", true), s(&[])),
                (key("quote v1.0.0", true), s(&["proc-macro"])),
                (
                    key("shared v0.1.0 (/w/shared)", false),
                    s(&["default", "dflt"])
                ),
                (
                    key("shared v0.1.0 (/w/shared)", true),
                    s(&["default", "dflt", "extra"])
                ),
            ]
        );
        assert_eq!(
            v.path_packages().into_iter().collect::<Vec<_>>(),
            ["/w/c", "/w/helper", "/w/pm", "/w/shared"]
        );
    }

    #[test]
    fn licenses_and_package_edges_are_read() {
        let text = "\
a v0.1.0 (/w/a)|MIT|
|-- pm v0.1.0 (proc-macro) (/w/pm)||
|   `-- quote v1.0.0|MIT OR Apache-2.0|proc-macro
`-- log v0.4.0|MIT/Apache-2.0|std
[build-dependencies]
`-- log v0.4.0|MIT/Apache-2.0|std
";
        let v = parse(text).unwrap();
        let licenses: Vec<(&str, &str)> = v
            .licenses
            .iter()
            .map(|(p, l)| (p.as_str(), l.as_str()))
            .collect();
        assert_eq!(
            licenses,
            [
                ("a v0.1.0 (/w/a)", "MIT"),
                ("log v0.4.0", "MIT/Apache-2.0"),
                ("quote v1.0.0", "MIT OR Apache-2.0"),
            ]
        );
        let deps = |p: &str| v.edges[p].iter().cloned().collect::<Vec<_>>();
        assert_eq!(deps("a v0.1.0 (/w/a)"), ["log v0.4.0", "pm v0.1.0 (/w/pm)"]);
        assert_eq!(deps("pm v0.1.0 (/w/pm)"), ["quote v1.0.0"]);
        assert!(deps("log v0.4.0").is_empty());
        assert_eq!(v.edges.len(), 4);
    }

    #[test]
    fn a_heading_below_the_root_applies_to_its_node_only() {
        let text = "\
a v0.1.0 (/w/a)|
|-- x v1.0.0|
|   [build-dependencies]
|   `-- cc v1.0.0|
`-- y v1.0.0|
";
        let v = parse(text).unwrap();
        assert!(v.nodes.contains_key(&key("cc v1.0.0", true)));
        assert!(v.nodes.contains_key(&key("y v1.0.0", false)));
        assert!(v.nodes.contains_key(&key("x v1.0.0", false)));
    }

    #[test]
    fn views_conflict_only_where_they_overlap() {
        let a = parse("a v0 (/w/a)|\n`-- shared v0 (/w/s)|extra\n").unwrap();
        let b = parse("b v0 (/w/b)|\n`-- shared v0 (/w/s)|\n").unwrap();
        let c = parse("c v0 (/w/c)|\n[build-dependencies]\n`-- shared v0 (/w/s)|\n").unwrap();
        let conflict = a.conflict(&b).unwrap();
        assert_eq!(conflict.node, key("shared v0 (/w/s)", false));
        assert_eq!(conflict.ours, ["extra"]);
        assert!(conflict.theirs.is_empty());
        // The host node of `c` is another unit than the target node of `a`.
        assert_eq!(a.conflict(&c), None);
        assert_eq!(b.conflict(&b), None);
    }

    #[test]
    fn a_view_survives_json() {
        let v = parse("a v0 (/w/a)|\n`-- shared v0 (/w/s)|extra\n").unwrap();
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<View>(&text).unwrap(), v);
    }

    #[test]
    fn other_text_is_not_a_view() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("error: something\n"), None);
        assert_eq!(parse("a v0|\n\nb v0|\n"), parse("a v0|\n"));
        assert_eq!(parse("a v0|\n        `-- b v0|\n"), None);
    }
}

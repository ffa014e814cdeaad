//! The vocabulary of `lambda.kdl` as data: node names, where they may stand, their properties and
//! the settings with their values (the table of settings is generated from their declarations
//! in `super::settings`). Validation ("did you mean"), the editing commands and the generated
//! KDL Schema all read these tables, so the three cannot drift apart.

pub use super::kinds::{Inheritance, Setting, ValueShape};
pub use super::values::arch_values;

/// Every setting, in the order of their declarations.
pub use super::settings::SETTINGS;

/// Looks a setting up by node name.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// The names of every setting.
pub fn setting_names() -> Vec<&'static str> {
    SETTINGS.iter().map(|s| s.name).collect()
}

/// A structural (non-setting) node.
#[derive(Debug, Clone, Copy)]
pub struct NodeSpec {
    /// The node name.
    pub name: &'static str,
    /// Where it may stand: `None` for the top level, otherwise the parent's name.
    pub parents: &'static [Option<&'static str>],
    /// What its argument is, if it takes one.
    pub argument: Option<&'static str>,
    /// Its properties: name, value type ("string" or "boolean"), doc.
    pub properties: &'static [(&'static str, &'static str, &'static str)],
    /// Whether settings may stand inside it.
    pub settings: bool,
    /// At most one of it.
    pub unique: bool,
    /// One line for people.
    pub doc: &'static str,
}

/// The structural nodes.
pub const NODES: &[NodeSpec] = &[
    NodeSpec {
        name: "cache",
        parents: &[None],
        argument: Some(
            "the shared artifact cache: a directory (relative to the manifest), file:///path or s3://bucket/prefix",
        ),
        properties: &[],
        settings: false,
        unique: true,
        doc: "where run looks executables up and stores them, unless --cache or LAMBDA_BATCH_CACHE says otherwise",
    },
    NodeSpec {
        name: "publish",
        parents: &[None],
        argument: Some("where `publish` uploads the zips: s3://bucket/prefix"),
        properties: &[],
        settings: false,
        unique: true,
        doc: "each zip goes to PREFIX/<name>/<arch>/<sha256>.zip, unless publish --to says otherwise",
    },
    NodeSpec {
        name: "defaults",
        parents: &[None],
        argument: None,
        properties: &[],
        settings: true,
        unique: true,
        doc: "settings every artifact inherits unless a workspace or an artifact overrides them",
    },
    NodeSpec {
        name: "workspace",
        parents: &[None],
        argument: Some(
            "path to a cargo workspace root or package directory, relative to the manifest",
        ),
        properties: &[(
            "discover",
            "boolean",
            "every bin that depends on lambda_runtime / lambda_http / lambda-extension becomes a function / extension",
        )],
        settings: true,
        unique: false,
        doc: "a cargo workspace whose bins are built",
    },
    NodeSpec {
        name: "function",
        parents: &[Some("workspace")],
        argument: Some("artifact name: the output folder name"),
        properties: &[
            ("bin", "string", "cargo bin target (default: the name)"),
            (
                "package",
                "string",
                "the package that has the bin, when several do",
            ),
            (
                "flatten",
                "boolean",
                "write the output straight into lambda-dir",
            ),
        ],
        settings: true,
        unique: false,
        doc: "a Lambda function",
    },
    NodeSpec {
        name: "extension",
        parents: &[Some("workspace")],
        argument: Some("artifact name"),
        properties: &[
            ("bin", "string", "cargo bin target (default: the name)"),
            (
                "package",
                "string",
                "the package that has the bin, when several do",
            ),
            (
                "internal",
                "boolean",
                "put the executable at the archive root instead of extensions/",
            ),
        ],
        settings: true,
        unique: false,
        doc: "a Lambda extension",
    },
];

/// The names of the nodes that may stand under `parent` (`None`: the top level).
pub fn children_of(parent: Option<&str>) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = NODES
        .iter()
        .filter(|n| n.parents.contains(&parent))
        .map(|n| n.name)
        .collect();
    let takes_settings = match parent {
        None => None,
        Some(p) => NODES.iter().find(|n| n.name == p && n.settings),
    };
    if let Some(node) = takes_settings {
        names.extend(settings_in(SETTINGS, node.name));
    }
    names
}

/// The names of the settings of `table` that a node named `node` may hold.
fn settings_in(table: &'static [Setting], node: &str) -> impl Iterator<Item = &'static str> {
    table
        .iter()
        .filter(move |s| s.allowed_in(node))
        .map(|s| s.name)
}

/// The properties node `name` takes (`None` when it takes any, as `env` does).
pub fn properties_of(name: &str) -> Option<Vec<&'static str>> {
    match setting(name).map(|s| s.shape) {
        Some(ValueShape::Env) => None,
        Some(ValueShape::Include) => Some(vec!["into", "as"]),
        _ => Some(
            NODES
                .iter()
                .find(|n| n.name == name)
                .map(|n| n.properties.iter().map(|p| p.0).collect())
                .unwrap_or_default(),
        ),
    }
}

/// Where a node named `name` may stand, in words, for a help line.
pub fn where_allowed(name: &str) -> Option<String> {
    if let Some(node) = NODES.iter().find(|n| n.name == name) {
        let places: Vec<String> = node
            .parents
            .iter()
            .map(|p| match p {
                None => "at the top level".to_string(),
                Some(p) => format!("inside `{p}`"),
            })
            .collect();
        return Some(format!("`{name}` belongs {}", places.join(" or ")));
    }
    setting(name).map(setting_belongs)
}

/// Where a setting may stand, in words: "`x` is a setting: it belongs inside `a`, `b` or `c`".
fn setting_belongs(s: &Setting) -> String {
    let places: Vec<String> = s.levels.iter().map(|l| format!("`{l}`")).collect();
    let places = match places.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => places.concat(),
    };
    format!("`{}` is a setting: it belongs inside {places}", s.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A setting only functions (and the levels above them) may hold, as `layers` will be.
    const FUNCTIONS_ONLY: &[Setting] = &[Setting {
        name: "only-functions",
        shape: ValueShape::Strings,
        inheritance: Inheritance::Accumulates,
        levels: &["defaults", "workspace", "function"],
        default: "none",
        doc: "",
        help: "",
        example: "",
        add: false,
    }];

    #[test]
    fn a_setting_stands_only_where_its_levels_say() {
        let under = |node| settings_in(FUNCTIONS_ONLY, node).collect::<Vec<_>>();
        assert_eq!(under("function"), ["only-functions"]);
        assert!(under("extension").is_empty());
        assert_eq!(
            setting_belongs(&FUNCTIONS_ONLY[0]),
            "`only-functions` is a setting: it belongs inside `defaults`, `workspace` or `function`"
        );
        assert_eq!(
            where_allowed("arch").unwrap(),
            "`arch` is a setting: it belongs inside `defaults`, `workspace`, `function` or `extension`"
        );
        assert!(children_of(Some("extension")).contains(&"arch"));
        assert!(!children_of(None).contains(&"arch"));
    }
}

//! The vocabulary of `lambda.kdl` as data: node names, where they may stand, their properties and
//! the settings with their values. Validation ("did you mean"), the editing commands and the
//! generated KDL Schema all read these tables, so the three cannot drift apart.

use super::values::{ARCH_WORDS, Compiler, OutputFormat, Runtime, TRIPLES};

/// How a setting's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueShape {
    /// Exactly one string from a fixed list.
    OneOf(&'static [&'static str]),
    /// One or more strings from a list of words or triples.
    Arch,
    /// Exactly one free string.
    String,
    /// Exactly one free string that is a path.
    Path,
    /// Exactly one boolean.
    Bool,
    /// A bare node, or one boolean.
    Flag,
    /// One or more free strings.
    Strings,
    /// One or more glob patterns and optional `into=` and `as=` properties.
    Include,
    /// `KEY="value"` properties.
    Env,
}

/// Whether a lower level replaces or extends the value of a higher one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inheritance {
    /// The lowest level that sets it wins.
    Replaces,
    /// Every level adds to it.
    Accumulates,
}

/// One setting node.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The node name.
    pub name: &'static str,
    /// How its values are written.
    pub shape: ValueShape,
    /// Replace or accumulate.
    pub inheritance: Inheritance,
    /// The default, as words.
    pub default: &'static str,
    /// One line for people.
    pub doc: &'static str,
}

/// Every setting, in the order the spec lists them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "arch",
        shape: ValueShape::Arch,
        inheritance: Inheritance::Replaces,
        default: "x86_64",
        doc: "architectures (x86_64, arm64 and aliases) or full linux-gnu/musl triples, optionally with a glibc suffix",
    },
    Setting {
        name: "profile",
        shape: ValueShape::String,
        inheritance: Inheritance::Replaces,
        default: "dev",
        doc: "cargo profile: dev, release or a custom one",
    },
    Setting {
        name: "compiler",
        shape: ValueShape::OneOf(Compiler::ALL),
        inheritance: Inheritance::Replaces,
        default: "cargo-zigbuild",
        doc: "the program that builds",
    },
    Setting {
        name: "output-format",
        shape: ValueShape::OneOf(OutputFormat::ALL),
        inheritance: Inheritance::Replaces,
        default: "binary",
        doc: "write the executable, or a deployable zip",
    },
    Setting {
        name: "lambda-dir",
        shape: ValueShape::Path,
        inheritance: Inheritance::Replaces,
        default: "target/lambda",
        doc: "output directory, relative to the manifest; placeholders {arch} {target} {profile} {workspace}",
    },
    Setting {
        name: "target-dir",
        shape: ValueShape::Path,
        inheritance: Inheritance::Replaces,
        default: "the workspace's own",
        doc: "cargo target directory, relative to the manifest",
    },
    Setting {
        name: "runtime",
        shape: ValueShape::OneOf(Runtime::ALL),
        inheritance: Inheritance::Replaces,
        default: "provided.al2023",
        doc: "the Lambda runtime, which fixes the newest glibc the executable may need",
    },
    Setting {
        name: "optimizations",
        shape: ValueShape::Bool,
        inheritance: Inheritance::Replaces,
        default: "true",
        doc: "cargo-lambda's release optimizations (strip, thin LTO, one codegen unit, panic=abort, target-cpu)",
    },
    Setting {
        name: "features",
        shape: ValueShape::Strings,
        inheritance: Inheritance::Accumulates,
        default: "none",
        doc: "cargo features of the bin's package",
    },
    Setting {
        name: "no-default-features",
        shape: ValueShape::Flag,
        inheritance: Inheritance::Replaces,
        default: "off",
        doc: "build without the package's default features",
    },
    Setting {
        name: "all-features",
        shape: ValueShape::Flag,
        inheritance: Inheritance::Replaces,
        default: "off",
        doc: "build with every feature of the package",
    },
    Setting {
        name: "include",
        shape: ValueShape::Include,
        inheritance: Inheritance::Accumulates,
        default: "none",
        doc: "glob patterns of files to ship beside the executable; into=\"dir\" puts them under that folder, as=\"path\" stores one file or directory under another name",
    },
    Setting {
        name: "env",
        shape: ValueShape::Env,
        inheritance: Inheritance::Accumulates,
        default: "none",
        doc: "environment variables for the cargo process: env KEY=\"value\"",
    },
    Setting {
        name: "rustflags",
        shape: ValueShape::Strings,
        inheritance: Inheritance::Accumulates,
        default: "none",
        doc: "extra rustc flags, added to the optimization flags",
    },
    Setting {
        name: "cache-key-files",
        shape: ValueShape::Strings,
        inheritance: Inheritance::Accumulates,
        default: "none",
        doc: "glob patterns, relative to the node's directory (`..` may go up), of files outside the package that its build reads (a build script's inputs): their contents go into the artifact cache's input key",
    },
    Setting {
        name: "cache-key-env",
        shape: ValueShape::Strings,
        inheritance: Inheritance::Accumulates,
        default: "none",
        doc: "environment variables the build reads (a build script, `option_env!`): their values go into the artifact cache's input key",
    },
];

/// Looks a setting up by node name.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// The default of the setting `name`, as words (empty for an unknown name).
pub fn default_of(name: &str) -> &'static str {
    setting(name).map_or("", |s| s.default)
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
        None => false,
        Some(p) => NODES.iter().any(|n| n.name == p && n.settings),
    };
    if takes_settings {
        names.extend(setting_names());
    }
    names
}

/// The properties node `name` takes (`None` when it takes any, as `env` does).
pub fn properties_of(name: &str) -> Option<Vec<&'static str>> {
    match name {
        "env" => None,
        "include" => Some(vec!["into", "as"]),
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
    setting(name).map(|_| format!("`{name}` is a setting: it belongs inside `defaults`, `workspace`, `function` or `extension`"))
}

/// Every word `arch` accepts, for help lines.
pub fn arch_values() -> Vec<&'static str> {
    ARCH_WORDS.iter().chain(TRIPLES.iter()).copied().collect()
}

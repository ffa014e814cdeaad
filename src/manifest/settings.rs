//! Every setting of `lambda.kdl`, each declared once.
//!
//! A declaration says everything about a setting except what the code does with its value:
//!
//! ```text
//! /// A few words: the rustdoc of the generated fields, and the JSON Schema's description.
//! field_name: "node-name" => Kind, replace|accumulate {
//!     levels: EVERY_LEVEL,     // the nodes that may hold it ("defaults", "workspace", "function", "extension")
//!     default: "words",        // what applies when no level sets it, as the schema shows it
//!     doc: "one line",         // the KDL Schema's description, and `add --node-name`'s help
//!     help: "how to write it", // the help of a diagnostic that finds it missing or empty
//!     example: "values",       // what `lambda-batch set node-name ...` takes, in help lines
//!     add: false,              // whether `add function|extension` takes it as `--node-name`
//! }
//! ```
//!
//! The kind (`super::kinds`) fixes how one node is decoded and checked, and what its value is:
//! [`OneOf<W>`](OneOf) one word of an enum `W` declared with `words!` in this file,
//! [`Str`] one string, [`Template<P>`](Template) a string with the placeholders of `P`,
//! [`Bool`], [`Flag`] (a bare node), [`Strings`], [`Include`], [`Env`], and the specific ones
//! (`Arch`, `Profile`, `Path`, `KeyFiles`, `VarNames`). The rule says how the levels combine:
//! `replace` (the lowest level that sets it wins, else the default) or `accumulate` (every
//! level adds to it, defaults first). `super::declare` turns the list into the knus decoding of
//! every node that holds settings (`RawSettings`), the checked settings of one level (`Layer`,
//! `Checker::layer`), the vocabulary table ([`SETTINGS`]: `check`'s "did you mean" and argument
//! counts, the KDL Schema, `set`/`unset`, the flags of `add`), the JSON data model
//! (`SettingsModel`) and the merge ([`Merged`]).
//!
//! To add a setting:
//! 1. Declare it below. For example:
//!    ```text
//!    /// Publish a version after updating the code.
//!    publish_version: "publish-version" => Bool, replace {
//!        levels: &["defaults", "workspace", "function"],
//!        default: "false",
//!        doc: "publish a new version of the function after updating its code",
//!        help: "write `publish-version true`",
//!        example: "true",
//!        add: false,
//!    }
//!    ```
//!    `role "arn:..."` and `alias "live"` are [`Str`]; `layers "ARN" ...` is [`Strings`] with
//!    `accumulate`; `auditable true` is [`Bool`]; `sbom "cyclonedx"` is `OneOf<Sbom>`, with
//!    `words! { pub enum Sbom { CycloneDx = "cyclonedx", } }` above the declarations;
//!    `function-name "{name}-{arch}"` is `Template<P>`, `P` implementing `kinds::Placeholders`
//!    with its names. Fewer `levels` is all a level rule takes: `check` reports the setting on
//!    any other node, saying where it belongs.
//! 2. Use its value: `crate::resolve::settle` merges the levels (`Merged::of`):
//!    `merged.NAME.value()` is a replacing setting's final value (`merged.NAME.set` the lowest
//!    level's, with its span), `merged.NAME.items()` an accumulating one's values
//!    (`merged.NAME.levels` one slice per level). Put it into the group of `ResolvedArtifact`
//!    (`crate::resolve::artifact`) that the stages using it read.
//! 3. `UPDATE_SCHEMAS=1 cargo test --test it schema_sync::` rewrites `schema/` with it, and
//!    `UPDATE_DOCS=1 cargo test --test it docs::` the tables of `docs/manifest.md`, where the
//!    setting also gets its own section (the docs test fails until it has one).

use super::declare::settings;
use super::kinds::{
    Arch, Bool, Env, Flag, Include, KeyFiles, NamePlaceholders, OneOf, OutputPlaceholders, Path,
    Profile, Str, Strings, Template, VarNames,
};
use super::values::{GlibcVersion, words};

// The words of the one-of settings, declared beside them: a new one-of setting
// (`sbom "cyclonedx"`) declares its enum here, then itself below with the kind `OneOf<ItsEnum>`.
words! {
    /// The program that runs the build.
    pub enum Compiler {
        /// Plain `cargo build`.
        Cargo = "cargo",
        /// `cargo zigbuild`, linking against the runtime's glibc with zig.
        CargoZigbuild = "cargo-zigbuild",
        /// `cross build`, in a container.
        Cross = "cross",
    }

    /// What is written for each artifact.
    pub enum OutputFormat {
        /// The executable (and includes) as files.
        Binary = "binary",
        /// A deployable zip.
        Zip = "zip",
    }

    /// The software bill of materials written beside each output.
    pub enum Sbom {
        /// None.
        None = "none",
        /// CycloneDX 1.5 JSON, `<output>.cdx.json`.
        CycloneDx = "cyclonedx",
    }

    /// The Lambda runtime the artifacts run on, which fixes the newest glibc they may need.
    pub enum Runtime {
        /// Amazon Linux 2023: glibc 2.34.
        Al2023 = "provided.al2023",
        /// Amazon Linux 2: glibc 2.26.
        Al2 = "provided.al2",
    }
}

impl Compiler {
    /// The executable that is spawned, located on PATH.
    pub fn program(self) -> &'static str {
        self.as_str()
    }
}

impl Runtime {
    /// The glibc the runtime ships.
    pub fn glibc(self) -> GlibcVersion {
        match self {
            Runtime::Al2023 => GlibcVersion {
                major: 2,
                minor: 34,
            },
            Runtime::Al2 => GlibcVersion {
                major: 2,
                minor: 26,
            },
        }
    }
}

/// Every node that holds settings.
pub const EVERY_LEVEL: &[&str] = &["defaults", "workspace", "function", "extension"];

settings! {
    /// Architectures or triples.
    arch: "arch" => Arch, replace {
        levels: EVERY_LEVEL,
        default: "x86_64",
        doc: "architectures (x86_64, arm64 and aliases) or full linux-gnu/musl triples, optionally with a glibc suffix",
        help: "write for example `arch \"x86_64\" \"arm64\"`",
        example: "x86_64 arm64",
        add: true,
    }
    /// Cargo profile.
    profile: "profile" => Profile, replace {
        levels: EVERY_LEVEL,
        default: "dev",
        doc: "cargo profile: dev, release or a custom one",
        help: "write for example `profile \"release\"`",
        example: "release",
        add: false,
    }
    /// Build program.
    compiler: "compiler" => OneOf<Compiler>, replace {
        levels: EVERY_LEVEL,
        default: "cargo-zigbuild",
        doc: "the program that builds",
        help: "write for example `compiler \"cargo\"`",
        example: "cargo",
        add: false,
    }
    /// binary or zip.
    output_format: "output-format" => OneOf<OutputFormat>, replace {
        levels: EVERY_LEVEL,
        default: "binary",
        doc: "write the executable, or a deployable zip",
        help: "write for example `output-format \"zip\"`",
        example: "binary",
        add: true,
    }
    /// Output directory with placeholders.
    lambda_dir: "lambda-dir" => Template<OutputPlaceholders>, replace {
        levels: EVERY_LEVEL,
        default: "target/lambda",
        doc: "output directory, relative to the manifest; placeholders {arch} {target} {profile} {workspace}",
        help: "write a directory relative to lambda.kdl",
        example: "DIR",
        add: false,
    }
    /// Cargo target directory.
    target_dir: "target-dir" => Path, replace {
        levels: EVERY_LEVEL,
        default: "the workspace's own",
        doc: "cargo target directory, relative to the manifest",
        help: "write a directory relative to lambda.kdl",
        example: "DIR",
        add: false,
    }
    /// Lambda runtime.
    runtime: "runtime" => OneOf<Runtime>, replace {
        levels: EVERY_LEVEL,
        default: "provided.al2023",
        doc: "the Lambda runtime, which fixes the newest glibc the executable may need",
        help: "write for example `runtime \"provided.al2\"`",
        example: "provided.al2023",
        add: false,
    }
    /// Built through cargo-auditable.
    auditable: "auditable" => Bool, replace {
        levels: EVERY_LEVEL,
        default: "false",
        doc: "build through `cargo auditable`: the executable carries its dependency list in a `.dep-v0` section, which `cargo audit bin`, Trivy and Grype read",
        help: "write `auditable true`",
        example: "true",
        add: false,
    }
    /// The SBOM written beside each output.
    sbom: "sbom" => OneOf<Sbom>, replace {
        levels: EVERY_LEVEL,
        default: "none",
        doc: "a software bill of materials beside each output: `cyclonedx` writes `<output>.cdx.json` (CycloneDX 1.5) listing the packages compiled into it",
        help: "write `sbom \"cyclonedx\"`, or `sbom \"none\"` to turn an inherited one off",
        example: "cyclonedx",
        add: false,
    }
    /// Release optimizations.
    optimizations: "optimizations" => Bool, replace {
        levels: EVERY_LEVEL,
        default: "true",
        doc: "cargo-lambda's release optimizations (strip, thin LTO, one codegen unit, panic=abort, target-cpu)",
        help: "write `optimizations false` to turn them off",
        example: "false",
        add: false,
    }
    /// Features (accumulate).
    features: "features" => Strings, accumulate {
        levels: EVERY_LEVEL,
        default: "none",
        doc: "cargo features of the bin's package",
        help: "name at least one feature: `features \"json\"`",
        example: "VALUE...",
        add: false,
    }
    /// No default features.
    no_default_features: "no-default-features" => Flag, replace {
        levels: EVERY_LEVEL,
        default: "off",
        doc: "build without the package's default features",
        help: "write `no-default-features`, or `no-default-features false` to turn an inherited one off",
        example: "",
        add: false,
    }
    /// All features.
    all_features: "all-features" => Flag, replace {
        levels: EVERY_LEVEL,
        default: "off",
        doc: "build with every feature of the package",
        help: "write `all-features`, or `all-features false` to turn an inherited one off",
        example: "",
        add: false,
    }
    /// Include globs (accumulate).
    includes: "include" => Include, accumulate {
        levels: EVERY_LEVEL,
        default: "none",
        doc: "glob patterns of files to ship beside the executable; into=\"dir\" puts them under that folder, as=\"path\" stores one file or directory under another name",
        help: "write for example `include \"config/*.toml\"`",
        example: "'config/*.toml' into=config",
        add: true,
    }
    /// Environment of the cargo process (accumulates).
    env: "env" => Env, accumulate {
        levels: EVERY_LEVEL,
        default: "none",
        doc: "environment variables for the cargo process: env KEY=\"value\"",
        help: "write for example `env RUST_LOG=\"info\"`",
        example: "RUST_LOG=info",
        add: false,
    }
    /// Extra rustc flags (accumulate).
    rustflags: "rustflags" => Strings, accumulate {
        levels: EVERY_LEVEL,
        default: "none",
        doc: "extra rustc flags, added to the optimization flags",
        help: "give at least one flag: `rustflags \"-C\" \"force-frame-pointers=yes\"`",
        example: "VALUE...",
        add: false,
    }
    /// Files a build reads outside its package, for the artifact cache's input key
    /// (accumulate).
    cache_key_files: "cache-key-files" => KeyFiles, accumulate {
        levels: EVERY_LEVEL,
        default: "none",
        doc: "glob patterns, relative to the node's directory (`..` may go up), of files outside the package that its build reads (a build script's inputs): their contents go into the artifact cache's input key",
        help: "name the files a build script reads outside its package, relative to the node's directory: `cache-key-files \"../proto/*.proto\"`",
        example: "VALUE...",
        add: false,
    }
    /// Variables a build reads, for the artifact cache's input key (accumulate).
    cache_key_env: "cache-key-env" => VarNames, accumulate {
        levels: EVERY_LEVEL,
        default: "none",
        doc: "environment variables the build reads (a build script, `option_env!`): their values go into the artifact cache's input key",
        help: "name the variables a build script or `option_env!` reads: `cache-key-env \"GIT_SHA\"`",
        example: "VALUE...",
        add: false,
    }
    /// The Lambda function `deploy` updates, placeholders unexpanded.
    function_name: "function-name" => Template<NamePlaceholders>, replace {
        levels: &["defaults", "workspace", "function"],
        default: "the artifact's name, or {name}-{arch} when built for several architectures",
        doc: "the Lambda function `deploy` puts the function on; placeholders {name} {arch}",
        help: "write for example `function-name \"shop-{name}-{arch}\"`",
        example: "NAME",
        add: false,
    }
    /// The Lambda layer `deploy` publishes an extension as, placeholders unexpanded.
    layer_name: "layer-name" => Template<NamePlaceholders>, replace {
        levels: &["defaults", "workspace", "extension"],
        default: "the artifact's name, or {name}-{arch} when built for several architectures",
        doc: "the Lambda layer `deploy` publishes the extension as; placeholders {name} {arch}",
        help: "write for example `layer-name \"shop-{name}-{arch}\"`",
        example: "NAME",
        add: false,
    }
    /// The execution role a missing function is created with.
    role: "role" => Str, replace {
        levels: &["defaults", "workspace", "function"],
        default: "none: `deploy` creates no function",
        doc: "the execution role (IAM role ARN) `deploy` creates a missing function with",
        help: "write for example `role \"arn:aws:iam::123456789012:role/lambda\"`",
        example: "ARN",
        add: false,
    }
    /// The manifest's extensions whose layers the function gets (accumulate).
    layers: "layers" => Strings, accumulate {
        levels: &["defaults", "workspace", "function"],
        default: "none",
        doc: "extensions of this manifest whose layers `deploy` attaches to the function (their newest version for its architecture)",
        help: "name at least one extension of the manifest: `layers \"telemetry\"`",
        example: "EXTENSION...",
        add: false,
    }
    /// The alias `deploy` points at the version it publishes.
    alias: "alias" => Str, replace {
        levels: &["defaults", "workspace", "function"],
        default: "none",
        doc: "the alias `deploy` points at the version it publishes (a version is published when it is set)",
        help: "write for example `alias \"live\"`",
        example: "NAME",
        add: false,
    }
    /// Publish a version after a change.
    publish_version: "publish-version" => Bool, replace {
        levels: &["defaults", "workspace", "function"],
        default: "false",
        doc: "publish a version of the function after `deploy` changes it",
        help: "write `publish-version true`",
        example: "true",
        add: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_replacing_default_parses() {
        for (name, parses) in defaults_parse() {
            assert!(parses, "the default of `{name}` does not parse");
        }
    }

    #[test]
    fn names_are_unique_and_levels_known() {
        for (i, s) in SETTINGS.iter().enumerate() {
            assert!(
                SETTINGS[..i].iter().all(|t| t.name != s.name),
                "{} twice",
                s.name
            );
            assert!(
                s.levels.iter().all(|l| EVERY_LEVEL.contains(l)),
                "{}",
                s.name
            );
        }
    }
}

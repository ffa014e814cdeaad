//! The command line's argument types (clap derive); `commands` parses and dispatches them.

use camino::Utf8PathBuf;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cache::CacheMode;
use crate::manifest::spec::{SETTINGS, Setting};
use crate::manifest::values::{ARCH_WORDS, Arch, TargetSpec};
use crate::plan::shard::ShardSpec;

/// The largest `--jobs`: far more compiler jobs than any machine runs usefully at once (each
/// is a token in one pipe, and the packaging threads stay at the CPU count whatever it is).
pub const MAX_JOBS: usize = 1024;

/// Build every AWS Lambda function and extension of a Rust monorepo from one lambda.kdl.
#[derive(Debug, Parser)]
#[command(name = "lambda-batch", version, about, propagate_version = true)]
pub struct Cli {
    /// When to use colors.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses a command line (`args[0]` is the program name) without running anything: what
    /// `lambda-batch` would do with it, or clap's error (usage, `--help`, `--version`).
    pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_from(args)
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colors on a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to color output written to stderr.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
            }
        }
    }
}

/// Output formats for people or tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For tools.
    Json,
}

/// `schema --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    /// The KDL Schema document of lambda.kdl.
    Kdl,
    /// A JSON Schema of the manifest's data model.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build and package every artifact.
    Run(RunArgs),
    /// Build as `run` does, then upload every zip to S3 under a key that names its content
    /// (PREFIX/<name>/<arch>/<sha256>.zip); objects already there are not uploaded again.
    #[command(mut_arg("dry_run", |a| a.help(
        "Build as `run` does, then list what would be uploaded and what is there already; upload nothing"
    )))]
    Publish(PublishArgs),
    /// Build as `run` does (and publish, when the manifest publishes), then bring every
    /// function on Lambda to its zip and every extension's layer to its newest zip, changing
    /// only what differs.
    #[command(mut_arg("dry_run", |a| a.help(
        "Build as `run` does, then ask Lambda and list what would be created, updated or published; change nothing"
    )))]
    Deploy(DeployArgs),
    /// Write what a deploy tool reads (Terraform variables, a SAM template, Serverless
    /// functions) from the report of a `run` or `publish`; builds nothing, asks no network.
    Emit(EmitArgs),
    /// Look into or prune the shared artifact cache (the one `run` uses: `--cache`,
    /// LAMBDA_BATCH_CACHE, or the manifest's `cache` node).
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Validate the manifest: syntax, values, workspaces, bins, packages, includes, collisions;
    /// then warn where it drifts from cargo-lambda's configuration.
    Check {
        /// The manifest (default: lambda.kdl here or in a parent directory).
        manifest: Option<Utf8PathBuf>,
        /// Diagnostics for people or as JSON.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 2 when there are warnings (drift from cargo-lambda's configuration), for CI.
        #[arg(long)]
        deny_warnings: bool,
        /// The cargo-lambda context to compare with (`[NAME.build]` of CargoLambda.toml).
        #[arg(long, value_name = "NAME", env = "CARGO_LAMBDA_CONTEXT")]
        context: Option<String>,
    },
    /// Print the cargo invocations and packaging jobs without running them.
    #[command(group(clap::ArgGroup::new("sharding").args(["shard", "shards"])))]
    Plan {
        /// The manifest.
        manifest: Option<Utf8PathBuf>,
        /// For people or for tools.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Cargo flags, as `run` would pass them.
        #[command(flatten)]
        cargo: CargoArgs,
        /// Also show what went into each input key (each input's name and digest).
        #[arg(short, long)]
        verbose: bool,
        /// Only the K-th of N shards of the plan (from 1): what `run --shard K/N` builds.
        #[arg(long, value_name = "K/N", conflicts_with = "shards")]
        shard: Option<ShardSpec>,
        /// Print the split into N shards instead of the plan (with `--format json`, a GitHub
        /// Actions matrix: `{"include":[{"shard":"1/N",...},...]}`).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        shards: Option<u16>,
        /// Balance shards by the seconds each artifact took in this earlier `run --report`
        /// (give every shard the same file).
        #[arg(long, value_name = "FILE", requires = "sharding")]
        timings: Option<Utf8PathBuf>,
        /// With `--shards`: the artifact cache, found as `run` finds it (default: the
        /// manifest's `cache` node). Only the cargo calls with outputs it lacks are split,
        /// balanced by the costs earlier runs stored there.
        #[arg(long, value_name = "URL", env = "LAMBDA_BATCH_CACHE")]
        cache: Option<String>,
        /// With `--shards`: `off` splits the whole plan, as without a cache.
        #[arg(
            long,
            value_name = "MODE",
            env = "LAMBDA_BATCH_CACHE_MODE",
            default_value = "read-write",
            value_parser = PossibleValuesParser::new(CacheMode::NAMES).try_map(|mode| mode.parse::<CacheMode>())
        )]
        cache_mode: CacheMode,
    },
    /// One row per artifact and target.
    List {
        /// The manifest.
        manifest: Option<Utf8PathBuf>,
        /// For people or for tools.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Only the K-th of N shards, and the timings that balance them.
        #[command(flatten)]
        shard: ShardArgs,
    },
    /// Print the schema of lambda.kdl.
    Schema {
        /// KDL Schema or JSON Schema.
        #[arg(long, value_enum, default_value_t = SchemaFormat::Kdl)]
        format: SchemaFormat,
    },
    /// Check that the tools this manifest needs are installed.
    Doctor {
        /// The manifest.
        manifest: Option<Utf8PathBuf>,
    },
    /// Add a function, an extension or a workspace to the manifest.
    #[command(subcommand)]
    Add(AddCommand),
    /// Remove an artifact from the manifest.
    Remove {
        /// The artifact name.
        name: String,
        /// The workspace path, when the name is in several.
        #[arg(long)]
        workspace: Option<String>,
        /// The manifest.
        #[arg(long)]
        manifest: Option<Utf8PathBuf>,
    },
    /// Set a setting at the defaults, workspace or artifact level.
    Set(SetArgs),
    /// Remove a setting from the defaults, workspace or artifact level.
    Unset(UnsetArgs),
    /// Rewrite the manifest in the canonical layout, keeping comments.
    Fmt {
        /// Exit 1 if the file is not formatted, without writing it.
        #[arg(long)]
        check: bool,
        /// The manifest.
        manifest: Option<Utf8PathBuf>,
    },
    /// Write a lambda.kdl for the cargo workspaces under the current directory.
    Init {
        /// Where to write it (default: ./lambda.kdl); an existing file is never overwritten.
        #[arg(long)]
        path: Option<Utf8PathBuf>,
        /// The cargo-lambda context to carry over (`[NAME.build]` of CargoLambda.toml).
        #[arg(long, value_name = "NAME", env = "CARGO_LAMBDA_CONTEXT")]
        context: Option<String>,
    },
    /// Carry cargo-lambda's configuration over into an existing lambda.kdl.
    Import {
        /// Show the changes without writing them.
        #[arg(long)]
        dry_run: bool,
        /// The cargo-lambda context to carry over (`[NAME.build]` of CargoLambda.toml).
        #[arg(long, value_name = "NAME", env = "CARGO_LAMBDA_CONTEXT")]
        context: Option<String>,
        /// The manifest.
        #[arg(long)]
        manifest: Option<Utf8PathBuf>,
    },
}

/// Flags passed through to cargo.
#[derive(Debug, Clone, Default, Args)]
pub struct CargoArgs {
    /// Require Cargo.lock to be up to date.
    #[arg(long)]
    pub locked: bool,
    /// Run without accessing the network.
    #[arg(long)]
    pub offline: bool,
    /// Both --locked and --offline.
    #[arg(long)]
    pub frozen: bool,
}

impl CargoArgs {
    /// As plan data.
    pub fn flags(&self) -> crate::plan::CargoFlags {
        crate::plan::CargoFlags {
            locked: self.locked,
            offline: self.offline,
            frozen: self.frozen,
            keep_going: false,
        }
    }
}

/// `--shard K/N` and `--timings FILE`.
#[derive(Debug, Clone, Default, Args)]
pub struct ShardArgs {
    /// Only the K-th of N disjoint parts of the plan (from 1), each a set of whole cargo calls;
    /// every runner given the same manifest, selection and timings computes the same split.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<ShardSpec>,
    /// Balance shards by the seconds each artifact took in this earlier `run --report`
    /// (give every shard the same file).
    #[arg(long, value_name = "FILE", requires = "shard")]
    pub timings: Option<Utf8PathBuf>,
}

/// `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The manifest.
    pub manifest: Option<Utf8PathBuf>,
    /// Only artifacts whose name matches this glob (repeatable).
    #[arg(long, value_name = "GLOB", value_parser = only)]
    pub only: Vec<Only>,
    /// Only these architectures (x86_64, arm64 or aliases; repeatable).
    #[arg(long, value_parser = arch)]
    pub arch: Vec<Arch>,
    /// Build with this profile instead of the manifest's.
    #[arg(long)]
    pub profile: Option<String>,
    /// Total parallel jobs shared by every cargo process (default: number of CPUs; at most
    /// 1024).
    #[arg(short, long, value_parser = jobs)]
    pub jobs: Option<usize>,
    /// Build everything possible after a failure, and report every failure.
    #[arg(long)]
    pub keep_going: bool,
    /// Print the plan and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<Utf8PathBuf>,
    /// Write the run's timeline here: one HTML page (lanes, cargo calls, packaging, CPU use).
    #[arg(long, value_name = "FILE", env = "LAMBDA_BATCH_TIMELINE")]
    pub timeline: Option<Utf8PathBuf>,
    /// Write the build's provenance here: an in-toto Statement v1 with an SLSA Provenance v1
    /// predicate whose subjects are the outputs.
    #[arg(long, value_name = "FILE")]
    pub provenance: Option<Utf8PathBuf>,
    /// The shared artifact cache: a directory, file:///path or s3://bucket/prefix (default:
    /// the manifest's `cache` node). Executables found there are not built; those built are
    /// stored there.
    #[arg(long, value_name = "URL", env = "LAMBDA_BATCH_CACHE")]
    pub cache: Option<String>,
    /// What the run may do with the cache: look up and store, only look up, or neither.
    #[arg(
        long,
        value_name = "MODE",
        env = "LAMBDA_BATCH_CACHE_MODE",
        default_value = "read-write",
        value_parser = PossibleValuesParser::new(CacheMode::NAMES).try_map(|mode| mode.parse::<CacheMode>())
    )]
    pub cache_mode: CacheMode,
    /// Build nothing: take every executable from the cache (or what is up to date here), and
    /// fail the artifacts that are in neither (the assemble step of a sharded pipeline).
    #[arg(long)]
    pub cache_only: bool,
    /// Sharding.
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Cargo flags.
    #[command(flatten)]
    pub cargo: CargoArgs,
    /// Only errors and the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Show cargo's full output and every command.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `--only GLOB`: the glob as written, and what it matches.
#[derive(Debug, Clone)]
pub struct Only {
    /// As written.
    pub glob: String,
    /// Its matcher.
    pub matcher: globset::GlobMatcher,
}

/// Parses `--only`.
fn only(glob: &str) -> Result<Only, String> {
    globset::Glob::new(glob)
        .map(|g| Only {
            glob: glob.to_string(),
            matcher: g.compile_matcher(),
        })
        .map_err(|e| {
            format!("not a valid glob: {e} (use `*` and `?` wildcards, as in `--only 'get-*'`)")
        })
}

/// Parses `--arch` as the manifest's `arch` reads a value (aliases and triples), keeping the
/// architecture.
fn arch(value: &str) -> Result<Arch, String> {
    TargetSpec::parse(value)
        .map(|spec| spec.arch)
        .map_err(|e| format!("{e} (use one of {})", ARCH_WORDS.join(", ")))
}

/// Parses `--jobs`: from 1 to [`MAX_JOBS`].
fn jobs(value: &str) -> Result<usize, String> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    match value.parse::<usize>().map_err(|e| e.to_string())? {
        0 => Err("must be at least 1 (leave it out to use every CPU)".to_string()),
        n if n > MAX_JOBS => Err(format!(
            "more than lambda-batch runs at once (at most {MAX_JOBS}): leave it out to use every CPU ({cpus} here), or give at most {MAX_JOBS}"
        )),
        n => Ok(n),
    }
}

/// `publish`.
#[derive(Debug, Clone, Args)]
pub struct PublishArgs {
    /// Where: s3://BUCKET/PREFIX (default: the manifest's top-level `publish` node).
    #[arg(long, value_name = "s3://BUCKET/PREFIX", value_parser = crate::manifest::PublishLocation::parse)]
    pub to: Option<crate::manifest::PublishLocation>,
    /// Everything `run` takes.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// Publish the zips here first and deploy from S3 (default: the manifest's top-level
    /// `publish` node; without either, the zips go to Lambda in the request).
    #[arg(long, value_name = "s3://BUCKET/PREFIX", value_parser = crate::manifest::PublishLocation::parse)]
    pub to: Option<crate::manifest::PublishLocation>,
    /// Publish a version of each function changed, as the setting `publish-version true` does.
    #[arg(long)]
    pub publish_version: bool,
    /// Everything `run` takes (`--jobs` also bounds the calls to Lambda in flight, 8 unless
    /// given).
    #[command(flatten)]
    pub run: RunArgs,
}

/// `emit`.
#[derive(Debug, Clone, Args)]
pub struct EmitArgs {
    /// What to write.
    #[arg(value_enum)]
    pub format: crate::emit::Format,
    /// The report of a `run` or `publish` (`--report FILE`).
    #[arg(long, value_name = "FILE")]
    pub report: Utf8PathBuf,
    /// Write it here (atomically) instead of to standard output; local zips are named relative
    /// to this file's directory (else to the current directory).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<Utf8PathBuf>,
}

/// `cache ...`.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// What a directory cache holds (keys, records, blobs, bytes) and the hits and misses of
    /// the last runs that stored into it.
    Stats(CacheArgs),
    /// Remove the least recently used entries of a directory cache, safely while runs use it;
    /// for an S3 cache, print the lifecycle rule to set instead.
    #[command(group(clap::ArgGroup::new("limit").args(["max_size", "older_than"]).required(true).multiple(true)))]
    Prune(PruneArgs),
}

/// Which cache `cache` looks at, and how it answers.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// The manifest whose `cache` node names the cache (when neither `--cache` nor
    /// LAMBDA_BATCH_CACHE does).
    pub manifest: Option<Utf8PathBuf>,
    /// The cache: a directory, file:///path or s3://bucket/prefix, as `run --cache`.
    #[arg(long, value_name = "URL", env = "LAMBDA_BATCH_CACHE")]
    pub cache: Option<String>,
    /// For people or for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `cache prune`.
#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// The cache.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Remove least recently used entries until the cache holds at most SIZE (10GiB, 500MB;
    /// a bare number is bytes).
    #[arg(long, value_name = "SIZE", value_parser = crate::upkeep::parse_size)]
    pub max_size: Option<u64>,
    /// Remove entries last used longer ago than AGE (30d, 12h).
    #[arg(long, value_name = "AGE", value_parser = crate::upkeep::parse_age)]
    pub older_than: Option<std::time::Duration>,
    /// List what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `add ...`.
#[derive(Debug, Subcommand)]
pub enum AddCommand {
    /// Add a function.
    Function(AddArtifact),
    /// Add an extension.
    Extension(AddArtifact),
    /// Add a workspace.
    Workspace {
        /// Its path, relative to the manifest.
        path: String,
        /// Build every Lambda bin it has.
        #[arg(long)]
        discover: bool,
        /// The manifest.
        #[arg(long)]
        manifest: Option<Utf8PathBuf>,
    },
}

/// `add function|extension NAME`.
#[derive(Debug, Clone, Args)]
pub struct AddArtifact {
    /// The artifact name.
    pub name: String,
    /// The workspace path (the node is created if missing).
    #[arg(long)]
    pub workspace: String,
    /// The bin target, when it differs from the name.
    #[arg(long)]
    pub bin: Option<String>,
    /// The package, when several have the bin.
    #[arg(long)]
    pub package: Option<String>,
    /// The settings declared with `add: true`, each as `--NAME`.
    #[command(flatten)]
    pub settings: SettingFlags,
    /// Functions: write straight into lambda-dir.
    #[arg(long, conflicts_with = "internal")]
    pub flatten: bool,
    /// Extensions: executable at the archive root.
    #[arg(long)]
    pub internal: bool,
    /// The manifest.
    #[arg(long)]
    pub manifest: Option<Utf8PathBuf>,
}

/// The settings `add function|extension` takes as flags: each one declared with `add: true`
/// (`manifest::settings`) is `--NAME`, repeatable when it takes several values.
#[derive(Debug, Clone, Default)]
pub struct SettingFlags(pub Vec<(&'static str, Vec<String>)>);

impl SettingFlags {
    fn declared() -> impl Iterator<Item = &'static Setting> {
        SETTINGS.iter().filter(|s| s.add)
    }
}

impl clap::FromArgMatches for SettingFlags {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = SettingFlags::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        for s in SettingFlags::declared() {
            if let Some(values) = matches.get_many::<String>(s.name) {
                self.0.retain(|(name, _)| *name != s.name);
                self.0.push((s.name, values.cloned().collect()));
            }
        }
        Ok(())
    }
}

impl Args for SettingFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SettingFlags::declared().fold(cmd, |cmd, s| {
            let action = if s.takes_many() {
                clap::ArgAction::Append
            } else {
                clap::ArgAction::Set
            };
            // As clap's derive writes them (`--target-dir <TARGET_DIR>`), help capitalized.
            let value_name = s.name.to_uppercase().replace('-', "_");
            let mut help = s.doc.to_string();
            if let Some(first) = help.get(..1) {
                help.replace_range(..1, &first.to_uppercase());
            }
            cmd.arg(
                clap::Arg::new(s.name)
                    .long(s.name)
                    .value_name(value_name)
                    .help(help)
                    .action(action),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// Which level of the manifest `set` and `unset` edit, and the manifest.
#[derive(Debug, Clone, Args)]
pub struct LevelArgs {
    /// At this workspace's level.
    #[arg(long)]
    pub workspace: Option<String>,
    /// At this artifact's level.
    #[arg(long)]
    pub artifact: Option<String>,
    /// The manifest.
    #[arg(long)]
    pub manifest: Option<Utf8PathBuf>,
}

/// `set`.
#[derive(Debug, Clone, Args)]
pub struct SetArgs {
    /// The level and the manifest.
    #[command(flatten)]
    pub level: LevelArgs,
    /// The setting (options go before it).
    pub setting: String,
    /// Its values: `env` takes KEY=VALUE, `include` takes globs and `into=DIR` or `as=NAME`, a flag such as
    /// `all-features` takes none (or `true`/`false`). Replaces every value the level had.
    #[arg(num_args = 0.., allow_hyphen_values = true)]
    pub values: Vec<String>,
}

/// `unset`.
#[derive(Debug, Clone, Args)]
pub struct UnsetArgs {
    /// The level and the manifest.
    #[command(flatten)]
    pub level: LevelArgs,
    /// The setting (options go before it).
    pub setting: String,
    /// Only these values of an accumulating setting (features, include patterns, env KEYs,
    /// rustflags); none: the whole setting.
    #[arg(num_args = 0.., allow_hyphen_values = true)]
    pub values: Vec<String>,
}

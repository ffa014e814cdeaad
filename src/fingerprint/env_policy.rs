//! Which variables of lambda-batch's environment change a build: one policy for the three
//! places that ask (see [`EnvPolicy`]).

use camino::Utf8Path;

/// What a variable of lambda-batch's environment is to a build (see [`EnvPolicy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvRole {
    /// It changes what cargo, rustc or zig build, wherever they run (`RUSTFLAGS`,
    /// `CARGO_PROFILE_*`, `CARGO_TARGET_<TRIPLE>_LINKER`, `RUSTUP_TOOLCHAIN`, a
    /// `RUSTC_WRAPPER` that is not a cache): in every input key and every freshness check.
    Build,
    /// It changes what `cross` builds (`CROSS_*`): in every input key; in no freshness check,
    /// since `cross` groups are never fresh (they build in a container) and the others do not
    /// read it.
    Cross,
    /// It chooses, on this machine, which program runs or which files are read (`PATH`,
    /// `HOME`, `CARGO_HOME`, `CARGO`, `RUSTC`, `RUSTUP_*`, target and cache directories, the
    /// registries' indexes, an `sccache` wrapper): in the freshness check, which is about this
    /// machine; not in the input key, which holds what was chosen instead (the tools'
    /// versions, the files' contents), so that machines laid out differently share the cache.
    Local,
    /// It changes nothing a build produces: how output is shown or logged, how many jobs run,
    /// the network, credentials, cargo's own caches, documentation flags, and the variables
    /// cargo sets itself for the processes it starts. In neither.
    Ignored,
    /// Not a variable of cargo, rustc, rustup, zig or cross: it matters only to a build that
    /// reads it (`env!`, `option_env!`, a build script's `rerun-if-env-changed`), which is
    /// known once it has built, and checked then (see [`EnvPolicy::seen_by_build`]).
    Other,
}

/// Which variables change a build, decided once for the three places that ask:
///
/// - the **input key** of the shared artifact cache holds every [`EnvRole::Build`] and
///   [`EnvRole::Cross`] variable ([`EnvPolicy::keyed`]);
/// - a group's **freshness check** (no cargo started when nothing changed) holds every
///   [`EnvRole::Build`] and [`EnvRole::Local`] variable ([`EnvPolicy::fresh`]);
/// - both, and the **check of a cached executable**, also compare the variables a build turned
///   out to read, except those cargo sets itself for what it starts, which no build sees from
///   lambda-batch's environment ([`EnvPolicy::seen_by_build`]).
///
/// A variable whose name starts with `CARGO`, `RUST` or `ZIG` is [`EnvRole::Build`] unless a
/// rule says otherwise; the most specific rule wins (a whole name before a pattern, a pattern
/// with more fixed characters before one with fewer). So a variable those tools add in a new
/// release counts until it is known not to: a needless rebuild, never a wrong skip.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvPolicy;

/// A name (`CARGO_HOME`) or a pattern with one `*` (`CARGO_TERM_*`, `CARGO_REGISTRIES_*_TOKEN`),
/// and the role of the variables it matches.
struct Rule(&'static str, EnvRole);

/// The rules, grouped by why.
const RULES: &[Rule] = &[
    // The tools' own families.
    Rule("CARGO*", EnvRole::Build),
    Rule("RUST*", EnvRole::Build),
    Rule("ZIG*", EnvRole::Build),
    Rule("CROSS_*", EnvRole::Cross),
    // rustup only chooses the toolchain, whose `rustc -vV` the key holds; naming one
    // explicitly is a choice of what builds, wherever.
    Rule("RUSTUP_*", EnvRole::Local),
    Rule("RUSTUP_TOOLCHAIN", EnvRole::Build),
    // Where programs, settings and outputs are on this machine.
    Rule("PATH", EnvRole::Local),
    Rule("HOME", EnvRole::Local),
    Rule("CARGO", EnvRole::Local),
    Rule("CARGO_HOME", EnvRole::Local),
    Rule("CARGO_TARGET_DIR", EnvRole::Local),
    Rule("CARGO_BUILD_TARGET_DIR", EnvRole::Local),
    Rule("CARGO_ZIGBUILD_CACHE_DIR", EnvRole::Local),
    Rule("CARGO_ZIGBUILD_ZIG_COMMAND", EnvRole::Local),
    Rule("CARGO_ZIGBUILD_ZIG_COMMAND_ARGS", EnvRole::Local),
    Rule("RUSTC", EnvRole::Local),
    Rule("RUSTDOC", EnvRole::Local),
    Rule("ZIG_GLOBAL_CACHE_DIR", EnvRole::Local),
    Rule("ZIG_LOCAL_CACHE_DIR", EnvRole::Local),
    // Which index a registry's name stands for: the lock file says what was resolved.
    Rule("CARGO_REGISTRIES_*", EnvRole::Local),
    // How output is shown or logged.
    Rule("CARGO_TERM_*", EnvRole::Ignored),
    Rule("CARGO_LOG", EnvRole::Ignored),
    Rule("CARGO_LOG_*", EnvRole::Ignored),
    Rule("CARGO_FUTURE_INCOMPAT*", EnvRole::Ignored),
    Rule("RUST_BACKTRACE", EnvRole::Ignored),
    Rule("RUST_LIB_BACKTRACE", EnvRole::Ignored),
    Rule("RUST_LOG", EnvRole::Ignored),
    Rule("RUSTC_LOG", EnvRole::Ignored),
    Rule("RUST_MIN_STACK", EnvRole::Ignored),
    Rule("RUST_TEST_THREADS", EnvRole::Ignored),
    // Documentation: no part of a `cargo build`.
    Rule("RUSTDOCFLAGS", EnvRole::Ignored),
    // How many jobs run, and the jobserver a parent hands down.
    Rule("CARGO_BUILD_JOBS", EnvRole::Ignored),
    Rule("CARGO_MAKEFLAGS", EnvRole::Ignored),
    // The network, credentials (which change on every CI job) and cargo's own caches.
    Rule("CARGO_HTTP_*", EnvRole::Ignored),
    Rule("CARGO_NET_*", EnvRole::Ignored),
    Rule("CARGO_CACHE_*", EnvRole::Ignored),
    Rule("CARGO_REGISTRY_TOKEN", EnvRole::Ignored),
    Rule("CARGO_REGISTRY_DEFAULT", EnvRole::Ignored),
    Rule("CARGO_REGISTRY_CREDENTIAL_PROVIDER", EnvRole::Ignored),
    Rule(
        "CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS",
        EnvRole::Ignored,
    ),
    Rule("CARGO_REGISTRIES_*_TOKEN", EnvRole::Ignored),
    Rule("CARGO_REGISTRIES_*_CREDENTIAL_PROVIDER", EnvRole::Ignored),
    // What cargo sets for the processes it starts: they see cargo's values, never these.
    Rule("CARGO_PKG_*", EnvRole::Ignored),
    Rule("CARGO_MANIFEST_*", EnvRole::Ignored),
    Rule("CARGO_CRATE_*", EnvRole::Ignored),
    Rule("CARGO_BIN_*", EnvRole::Ignored),
    Rule("CARGO_CFG_*", EnvRole::Ignored),
    Rule("CARGO_FEATURE_*", EnvRole::Ignored),
    Rule("CARGO_PRIMARY_PACKAGE", EnvRole::Ignored),
    Rule("CARGO_TARGET_TMPDIR", EnvRole::Ignored),
    Rule("CARGO_RUSTC_CURRENT_DIR", EnvRole::Ignored),
];

/// Variables cargo sets itself for rustc and build scripts, whatever lambda-batch's
/// environment says of them.
const SET_BY_CARGO: &[&str] = &[
    "OUT_DIR",
    "TARGET",
    "HOST",
    "NUM_JOBS",
    "OPT_LEVEL",
    "DEBUG",
    "PROFILE",
    "RUSTC",
    "RUSTDOC",
    "RUSTC_LINKER",
    "CARGO",
    "CARGO_MAKEFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "CARGO_SBOM_PATH",
    "CARGO_PKG_*",
    "CARGO_MANIFEST_*",
    "CARGO_CRATE_*",
    "CARGO_BIN_*",
    "CARGO_CFG_*",
    "CARGO_FEATURE_*",
    "DEP_*",
];

/// The wrappers that cache rustc's output without changing it: runners with and without one
/// build the same executables, so it is [`EnvRole::Local`], not [`EnvRole::Build`].
const CACHING_WRAPPERS: &[&str] = &["sccache"];

impl EnvPolicy {
    /// The role of the variable `name`, set to `value`.
    pub fn role(name: &str, value: &str) -> EnvRole {
        if matches!(name, "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER") {
            let program = Utf8Path::new(value).file_name().unwrap_or(value);
            return if program.is_empty() || CACHING_WRAPPERS.contains(&program) {
                EnvRole::Local
            } else {
                EnvRole::Build
            };
        }
        RULES
            .iter()
            .filter_map(|Rule(pattern, role)| specificity(pattern, name).map(|s| (s, *role)))
            .max_by_key(|(s, _)| *s)
            .map_or(EnvRole::Other, |(_, role)| role)
    }

    /// Whether the variable is part of every input key.
    pub fn keyed(name: &str, value: &str) -> bool {
        matches!(
            EnvPolicy::role(name, value),
            EnvRole::Build | EnvRole::Cross
        )
    }

    /// Whether the variable is part of every group's freshness check.
    pub fn fresh(name: &str, value: &str) -> bool {
        matches!(
            EnvPolicy::role(name, value),
            EnvRole::Build | EnvRole::Local
        )
    }

    /// Whether a build that reads the variable (`env!`, `rerun-if-env-changed`) sees its
    /// value from lambda-batch's environment: every variable but those cargo sets itself.
    pub fn seen_by_build(name: &str) -> bool {
        !SET_BY_CARGO.iter().any(|p| specificity(p, name).is_some())
    }
}

/// How specifically `pattern` matches `name`, when it does: a whole name above every pattern,
/// a pattern by its number of fixed characters.
fn specificity(pattern: &str, name: &str) -> Option<usize> {
    match pattern.split_once('*') {
        None => (pattern == name).then_some(usize::MAX),
        Some((head, tail)) => (name.len() >= head.len() + tail.len()
            && name.starts_with(head)
            && name.ends_with(tail))
        .then_some(head.len() + tail.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input key's rule before it moved here, for the names it was written for: the key
    /// of every existing cache entry stays what it was.
    fn keyed_before(name: &str, value: &str) -> bool {
        const KEYED_PREFIXES: &[&str] = &["CARGO", "RUST", "ZIG", "CROSS_"];
        const NOT_KEYED: &[&str] = &[
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET_DIR",
            "CARGO_BUILD_JOBS",
            "CARGO_MAKEFLAGS",
            "CARGO_LOG",
            "CARGO_REGISTRY_TOKEN",
            "CARGO_REGISTRY_DEFAULT",
            "CARGO_REGISTRY_CREDENTIAL_PROVIDER",
            "CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
            "CARGO_ZIGBUILD_CACHE_DIR",
            "CARGO_ZIGBUILD_ZIG_COMMAND",
            "CARGO_ZIGBUILD_ZIG_COMMAND_ARGS",
            "RUSTC",
            "RUSTDOC",
            "RUSTDOCFLAGS",
            "RUST_BACKTRACE",
            "RUST_LIB_BACKTRACE",
            "RUST_LOG",
            "RUSTC_LOG",
            "RUST_MIN_STACK",
            "RUST_TEST_THREADS",
            "ZIG_GLOBAL_CACHE_DIR",
            "ZIG_LOCAL_CACHE_DIR",
        ];
        const NOT_KEYED_PREFIXES: &[&str] = &[
            "CARGO_TERM_",
            "CARGO_HTTP_",
            "CARGO_NET_",
            "CARGO_REGISTRIES_",
            "CARGO_CACHE_",
            "CARGO_FUTURE_INCOMPAT",
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_CFG_",
            "CARGO_FEATURE_",
            "CARGO_LOG_",
            "RUSTUP_",
        ];
        if matches!(name, "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER") {
            let program = Utf8Path::new(value).file_name().unwrap_or(value);
            return !matches!(program, "sccache" | "");
        }
        if name == "RUSTUP_TOOLCHAIN" {
            return true;
        }
        KEYED_PREFIXES.iter().any(|p| name.starts_with(p))
            && !NOT_KEYED.contains(&name)
            && !NOT_KEYED_PREFIXES.iter().any(|p| name.starts_with(p))
    }

    /// The freshness check's rule before it moved here.
    fn fresh_before(name: &str) -> bool {
        name != "CARGO_MAKEFLAGS"
            && (matches!(name, "PATH" | "HOME")
                || ["CARGO", "RUST", "ZIG"].iter().any(|p| name.starts_with(p)))
    }

    /// Names of every kind, and of every rule.
    fn names() -> Vec<String> {
        let mut names: Vec<String> = [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TERM_COLOR",
            "CARGO_TERM_PROGRESS_WHEN",
            "CARGO_MAKEFLAGS",
            "CARGO_BUILD_JOBS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_BUILD_TARGET",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_INCREMENTAL",
            "CARGO_PROFILE_RELEASE_LTO",
            "CARGO_PROFILE_DEV_DEBUG",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER",
            "CARGO_TARGET_DIR",
            "CARGO_UNSTABLE_BUILD_STD",
            "CARGO_ZIGBUILD_ZIG_PATH",
            "CARGO_ZIGBUILD_PYTHON_PATH",
            "CARGO_ZIGBUILD_CACHE_DIR",
            "CARGO_REGISTRIES_MY_TOKEN",
            "CARGO_REGISTRIES_MY_INDEX",
            "CARGO_REGISTRIES_CRATES_IO_PROTOCOL",
            "CARGO_REGISTRIES_MY_CREDENTIAL_PROVIDER",
            "CARGO_REGISTRY_TOKEN",
            "CARGO_HTTP_TIMEOUT",
            "CARGO_NET_OFFLINE",
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "CARGO_CFG_UNIX",
            "CARGO_FEATURE_JSON",
            "CARGO_LOG",
            "CARGO_LOG_PROFILE",
            "CARGO_FUTURE_INCOMPAT_REPORT_FREQUENCY",
            "RUSTFLAGS",
            "RUSTC",
            "RUSTC_BOOTSTRAP",
            "RUSTC_WRAPPER",
            "RUSTDOC",
            "RUSTDOCFLAGS",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
            "RUSTUP_DIST_SERVER",
            "RUST_BACKTRACE",
            "RUST_LOG",
            "RUST_MIN_STACK",
            "ZIG_GLOBAL_CACHE_DIR",
            "ZIG_VERBOSE_CC",
            "CROSS_CONTAINER_ENGINE",
            "CROSS_CONFIG",
            "PATH",
            "HOME",
            "SOURCE_DATE_EPOCH",
            "GITHUB_RUN_ID",
            "CC",
            "OUT_DIR",
        ]
        .map(String::from)
        .to_vec();
        for Rule(pattern, _) in RULES {
            names.push(pattern.replace('*', "X"));
        }
        names
    }

    #[test]
    fn the_input_key_holds_the_variables_it_always_held() {
        for name in names() {
            for value in ["x", "/usr/bin/sccache", ""] {
                assert_eq!(
                    EnvPolicy::keyed(&name, value),
                    keyed_before(&name, value),
                    "{name}={value}"
                );
            }
        }
        assert!(!EnvPolicy::keyed(
            "RUSTC_WRAPPER",
            "/home/ci/.cargo/bin/sccache"
        ));
        assert!(EnvPolicy::keyed(
            "RUSTC_WRAPPER",
            "/usr/local/bin/my-wrapper"
        ));
    }

    /// The freshness check differed from the key for the variables that change nothing built:
    /// it started cargo (for nothing) when one changed, e.g. a registry token that is new on
    /// every CI job. Everything else it held, it still holds.
    #[test]
    fn freshness_ignores_what_changes_nothing_built_and_keeps_the_rest() {
        for name in names() {
            let role = EnvPolicy::role(&name, "x");
            if role == EnvRole::Ignored {
                assert!(!EnvPolicy::fresh(&name, "x"), "{name}");
            } else {
                assert_eq!(
                    EnvPolicy::fresh(&name, "x"),
                    fresh_before(&name),
                    "{name}: {role:?}"
                );
            }
        }
        for name in [
            "CARGO_TERM_COLOR",
            "CARGO_BUILD_JOBS",
            "CARGO_HTTP_TIMEOUT",
            "CARGO_REGISTRY_TOKEN",
            "CARGO_REGISTRIES_MY_TOKEN",
            "CARGO_PKG_VERSION",
            "RUST_BACKTRACE",
            "RUST_LOG",
            "RUSTDOCFLAGS",
        ] {
            assert!(fresh_before(name) && !EnvPolicy::fresh(name, "x"), "{name}");
        }
        for name in ["PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTFLAGS"] {
            assert!(EnvPolicy::fresh(name, "x"), "{name}");
        }
        // An sccache wrapper is chosen here: not keyed, but fresh as before.
        assert!(EnvPolicy::fresh("RUSTC_WRAPPER", "sccache"));
        assert!(!EnvPolicy::fresh("CROSS_CONFIG", "x") && EnvPolicy::keyed("CROSS_CONFIG", "x"));
    }

    #[test]
    fn the_most_specific_rule_wins() {
        assert_eq!(
            EnvPolicy::role("CARGO_REGISTRIES_MY_INDEX", "x"),
            EnvRole::Local
        );
        assert_eq!(
            EnvPolicy::role("CARGO_REGISTRIES_MY_TOKEN", "x"),
            EnvRole::Ignored
        );
        assert_eq!(EnvPolicy::role("RUSTUP_TOOLCHAIN", "x"), EnvRole::Build);
        assert_eq!(EnvPolicy::role("RUSTUP_HOME", "x"), EnvRole::Local);
        assert_eq!(EnvPolicy::role("CARGO_LOG", "x"), EnvRole::Ignored);
        assert_eq!(EnvPolicy::role("CARGO_LOGGING_NEW", "x"), EnvRole::Build);
        assert_eq!(EnvPolicy::role("CARGOX", "x"), EnvRole::Build);
        assert_eq!(EnvPolicy::role("GIT_SHA", "x"), EnvRole::Other);
        // A pattern needs room for both ends.
        assert_eq!(
            specificity("CARGO_REGISTRIES_*_TOKEN", "CARGO_REGISTRIES_TOKEN"),
            None
        );
        // Every rule is reachable: no other rule of the same specificity hides it.
        for Rule(pattern, role) in RULES {
            assert_eq!(
                EnvPolicy::role(&pattern.replace('*', "X"), "x"),
                *role,
                "{pattern}"
            );
        }
    }

    #[test]
    fn builds_see_every_variable_but_those_cargo_sets() {
        for name in [
            "CARGO_PKG_VERSION",
            "OUT_DIR",
            "DEP_Z_INCLUDE",
            "CARGO",
            "RUSTC",
        ] {
            assert!(!EnvPolicy::seen_by_build(name), "{name}");
        }
        for name in ["GIT_SHA", "CC", "RUSTFLAGS", "CARGO_HOME", "SK_SUFFIX"] {
            assert!(EnvPolicy::seen_by_build(name), "{name}");
        }
    }
}

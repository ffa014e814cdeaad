//! The rustc flags that keep the paths of this machine out of the executables, and the
//! rustflags of the cargo config that setting `RUSTFLAGS` would otherwise hide.
//!
//! rustc writes source paths into an executable: panic locations (`file!()`, even in a
//! stripped release build) and, with debug info, every file name and the compilation
//! directory. Cargo passes the files of workspace members relative to the workspace root,
//! but those of registry and git dependencies (`$CARGO_HOME/registry/src/<index>/<crate>/`,
//! `$CARGO_HOME/git/checkouts/`) and of path dependencies outside the workspace as absolute
//! paths, and each crate's compilation directory is absolute. So two checkouts at different
//! paths, or two machines with different `CARGO_HOME`s, build different bytes. With
//! `--remap-path-prefix`, as cargo's own (unstable) `trim-paths` does:
//! - the registry sources → nothing (`index.crates.io-<hash>/serde-1.0.219/src/de.rs`),
//! - the git checkouts → nothing (`<repo>-<hash>/<rev>/src/lib.rs`),
//! - the manifest's directory → `.`, each workspace root outside it → its path relative to
//!   the manifest's directory (`../other`), and each target dir outside all of them →
//!   `target` (build scripts' generated sources live there),
//!
//! - a target dir nested in another for a lane of its own (see `target_dirs`) → what the
//!   outer one maps to, so that a build script's output reads the same from either,
//!
//! in that order (rustc applies the last prefix that matches, so `CARGO_HOME` inside the
//! checkout still maps to the registry form). Every artifact of a manifest gets the same
//! flags, whatever `--only` or `--arch` select: cargo keys compiled dependencies on the
//! rustflags, so flags that differed between workspaces sharing a target dir would compile
//! every shared dependency once per workspace.

use camino::{Utf8Path, Utf8PathBuf};

/// The `--remap-path-prefix` flags for a manifest in `manifest_dir` whose workspaces have the
/// roots `roots` and build into `target_dirs`, with cargo's home at `cargo_home`. Each
/// `(inner, outer)` of `nested` is a target dir inside another, which must read as the outer.
pub(super) fn flags(
    manifest_dir: &Utf8Path,
    roots: &[Utf8PathBuf],
    target_dirs: &[Utf8PathBuf],
    nested: &[(Utf8PathBuf, Utf8PathBuf)],
    cargo_home: Option<&Utf8Path>,
) -> Vec<String> {
    // Keep the outermost: a directory inside another is already mapped with it.
    let outermost = |dirs: Vec<Utf8PathBuf>| -> Vec<Utf8PathBuf> {
        let mut out: Vec<Utf8PathBuf> = dirs
            .iter()
            .filter(|a| !dirs.iter().any(|b| b != *a && a.starts_with(b)))
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let mut anchors = vec![manifest_dir.to_path_buf()];
    anchors.extend(roots.iter().cloned());
    let anchors = outermost(anchors);
    let mut out = Vec::new();
    for a in &anchors {
        out.push(format!(
            "--remap-path-prefix={a}={}",
            relative(manifest_dir, a)
        ));
    }
    let outside: Vec<Utf8PathBuf> = target_dirs
        .iter()
        .filter(|t| !anchors.iter().any(|a| t.starts_with(a)))
        .cloned()
        .collect();
    for t in outermost(outside) {
        out.push(format!("--remap-path-prefix={t}=target"));
    }
    let mut inner: Vec<String> = nested
        .iter()
        .map(|(inner, outer)| format!("--remap-path-prefix={inner}={}", mapped(&out, outer)))
        .collect();
    inner.sort();
    inner.dedup();
    out.extend(inner);
    if let Some(home) = cargo_home {
        out.push(format!(
            "--remap-path-prefix={}=",
            home.join("registry/src")
        ));
        out.push(format!(
            "--remap-path-prefix={}=",
            home.join("git/checkouts")
        ));
    }
    out
}

/// The directory and its replacement of a `--remap-path-prefix=FROM=TO` flag (rustc splits
/// at the last `=`); `None` for any other flag.
pub fn pair(flag: &str) -> Option<(&str, &str)> {
    flag.strip_prefix("--remap-path-prefix=")
        .and_then(|r| r.rsplit_once('='))
}

/// What rustc makes of `path` with the remapping `flags`: the last flag whose directory holds
/// it, its rest joined to the flag's replacement (the replacement alone for the directory
/// itself); `path` unchanged if none holds it.
fn mapped(flags: &[String], path: &Utf8Path) -> String {
    for flag in flags.iter().rev() {
        let Some((from, to)) = pair(flag) else {
            continue;
        };
        if let Ok(rest) = path.strip_prefix(from) {
            return if rest.as_str().is_empty() {
                to.to_string()
            } else {
                Utf8Path::new(to).join(rest).into_string()
            };
        }
    }
    path.to_string()
}

/// `to` relative to `from` (both absolute and normalized): `.`, `sub/dir`, `../other`.
fn relative(from: &Utf8Path, to: &Utf8Path) -> String {
    let f: Vec<&str> = from.components().map(|c| c.as_str()).collect();
    let t: Vec<&str> = to.components().map(|c| c.as_str()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; f.len() - common];
    parts.extend(&t[common..]);
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The rustflags cargo would take from its config for `target` when neither `RUSTFLAGS` nor
/// `CARGO_ENCODED_RUSTFLAGS` is set: `CARGO_TARGET_<TRIPLE>_RUSTFLAGS` or
/// `[target.<triple>] rustflags`, else `CARGO_BUILD_RUSTFLAGS` or `[build] rustflags`, from
/// the config files of `dir` and its ancestors and of `CARGO_HOME` (arrays joined, the deeper
/// file's last, as cargo merges them). `[target.'cfg(..)'] rustflags` tables are not read.
pub(super) fn config_rustflags(
    dir: &Utf8Path,
    target: &str,
    env: &dyn Fn(&str) -> Option<String>,
    cargo_home: Option<&Utf8Path>,
) -> Vec<String> {
    let var = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        target.to_uppercase().replace(['-', '.'], "_")
    );
    let mut files: Vec<Utf8PathBuf> = Vec::new();
    if let Some(home) = cargo_home {
        files.push(home.join("config"));
        files.push(home.join("config.toml"));
    }
    let mut upward: Vec<Utf8PathBuf> = Vec::new();
    for a in dir.ancestors() {
        if cargo_home.is_some_and(|h| a.join(".cargo") == h) {
            continue;
        }
        upward.push(a.join(".cargo/config.toml"));
        upward.push(a.join(".cargo/config"));
    }
    upward.reverse();
    files.extend(upward);
    let tables: Vec<toml::Table> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .filter_map(|t| toml::from_str(&t).ok())
        .collect();
    let from_files = |path: &[&str]| -> Option<Vec<String>> {
        let mut all: Option<Vec<String>> = None;
        for t in &tables {
            let mut v: Option<&toml::Value> = None;
            let mut cur: Option<&toml::Table> = Some(t);
            for (i, k) in path.iter().enumerate() {
                let next = cur.and_then(|c| c.get(*k));
                if i + 1 == path.len() {
                    v = next;
                } else {
                    cur = next.and_then(|n| n.as_table());
                }
            }
            let flags: Vec<String> = match v {
                Some(toml::Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                _ => continue,
            };
            all.get_or_insert_with(Vec::new).extend(flags);
        }
        all
    };
    let split = |s: String| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    if let Some(v) = env(&var) {
        return split(v);
    }
    if let Some(v) = from_files(&["target", target, "rustflags"]) {
        return v;
    }
    if let Some(v) = env("CARGO_BUILD_RUSTFLAGS") {
        return split(v);
    }
    from_files(&["build", "rustflags"]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_the_manifest_directory_and_the_registry_form() {
        let flags = flags(
            Utf8Path::new("/ci/repo"),
            &[
                "/ci/repo/services".into(),
                "/ci/repo".into(),
                "/ci/other/ws".into(),
            ],
            &["/ci/repo/target/shared".into(), "/tmp/t".into()],
            &[],
            Some(Utf8Path::new("/ci/repo/.cargo-home")),
        );
        assert_eq!(
            flags,
            [
                "--remap-path-prefix=/ci/other/ws=../other/ws",
                "--remap-path-prefix=/ci/repo=.",
                "--remap-path-prefix=/tmp/t=target",
                "--remap-path-prefix=/ci/repo/.cargo-home/registry/src=",
                "--remap-path-prefix=/ci/repo/.cargo-home/git/checkouts=",
            ]
        );
    }

    #[test]
    fn a_nested_target_dir_reads_as_the_one_it_is_in() {
        let nested = |outer: &str| (Utf8PathBuf::from(format!("{outer}/lb/zig")), outer.into());
        let flags = flags(
            Utf8Path::new("/ci/repo"),
            &["/ci/repo".into(), "/ci/other/ws".into()],
            &[
                "/ci/repo/target/shared".into(),
                "/ci/repo/target/shared/lb/zig".into(),
                "/ci/other/ws/target".into(),
                "/tmp/t".into(),
                "/tmp/t/lb/zig".into(),
            ],
            &[
                nested("/tmp/t"),
                nested("/ci/repo/target/shared"),
                nested("/ci/other/ws/target"),
                nested("/tmp/t"),
            ],
            Some(Utf8Path::new("/home/ci/.cargo")),
        );
        assert_eq!(
            flags,
            [
                "--remap-path-prefix=/ci/other/ws=../other/ws",
                "--remap-path-prefix=/ci/repo=.",
                "--remap-path-prefix=/tmp/t=target",
                "--remap-path-prefix=/ci/other/ws/target/lb/zig=../other/ws/target",
                "--remap-path-prefix=/ci/repo/target/shared/lb/zig=./target/shared",
                "--remap-path-prefix=/tmp/t/lb/zig=target",
                "--remap-path-prefix=/home/ci/.cargo/registry/src=",
                "--remap-path-prefix=/home/ci/.cargo/git/checkouts=",
            ]
        );
        // A generated file reads the same from either dir, as rustc joins the rest.
        for outer in ["/ci/repo/target/shared", "/ci/other/ws/target", "/tmp/t"] {
            let file = "x86_64-unknown-linux-gnu/debug/build/gen-0123/out/gen.rs";
            assert_eq!(
                mapped(&flags, &Utf8Path::new(outer).join("lb/zig").join(file)),
                mapped(&flags, &Utf8Path::new(outer).join(file)),
            );
        }
        assert_eq!(mapped(&flags, Utf8Path::new("/ci/repo")), ".");
        assert_eq!(
            mapped(&flags, Utf8Path::new("/elsewhere/x")),
            "/elsewhere/x"
        );
    }

    #[test]
    fn config_rustflags_follow_cargo_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let ws = root.join("repo/ws");
        std::fs::create_dir_all(ws.join(".cargo")).unwrap();
        std::fs::create_dir_all(root.join("repo/.cargo")).unwrap();
        std::fs::create_dir_all(root.join("home")).unwrap();
        std::fs::write(
            root.join("home/config.toml"),
            "[build]\nrustflags = [\"--cfg\", \"home\"]\n",
        )
        .unwrap();
        std::fs::write(
            root.join("repo/.cargo/config.toml"),
            "[build]\nrustflags = \"--cfg repo\"\n",
        )
        .unwrap();
        std::fs::write(
            ws.join(".cargo/config.toml"),
            "[target.aarch64-unknown-linux-gnu]\nrustflags = [\"--cfg\", \"arm\"]\n",
        )
        .unwrap();
        let none = |_: &str| None;
        let home = root.join("home");
        let x86 = config_rustflags(&ws, "x86_64-unknown-linux-gnu", &none, Some(&home));
        assert_eq!(x86, ["--cfg", "home", "--cfg", "repo"]);
        let arm = config_rustflags(&ws, "aarch64-unknown-linux-gnu", &none, Some(&home));
        assert_eq!(arm, ["--cfg", "arm"]);
        let env = |k: &str| (k == "CARGO_BUILD_RUSTFLAGS").then(|| "-C debuginfo=1".to_string());
        let x86 = config_rustflags(&ws, "x86_64-unknown-linux-gnu", &env, Some(&home));
        assert_eq!(x86, ["-C", "debuginfo=1"]);
    }
}

//! Paths written so that two checkouts of one commit agree: an input key hashes arguments,
//! environment values and file names, and those name the checkout (`/home/ci/work/repo/...`),
//! the cargo home and the target dir. Each such directory is replaced by a placeholder:
//! - `$CARGO_HOME` and `$RUSTUP_HOME`;
//! - every directory the path remapping maps (`--remap-path-prefix=FROM=TO`, the same for
//!   every artifact of a manifest, see `resolve::remap`): the manifest's directory becomes
//!   `$MANIFEST`, a workspace root outside it `$MANIFEST/../other` (its path as the manifest
//!   names it), a target dir outside all of them `$TARGET`.
//!
//! A path is only replaced where it stands as a whole path, at the start of a word (after `=`,
//! a space, `:`, `,`, a quote or the unit separator of `CARGO_ENCODED_RUSTFLAGS`) and not
//! followed by more of a file name: `/repo` does not touch `/repository` or `/x/repo`.

use camino::{Utf8Path, Utf8PathBuf};

/// The directories to replace, longest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Placeholders {
    anchors: Vec<(String, String)>,
}

impl Placeholders {
    /// The placeholders of a manifest whose artifacts get `remapping` (their
    /// `--remap-path-prefix` flags), with cargo's and rustup's homes at `cargo_home` and
    /// `rustup_home`.
    pub(crate) fn new(
        remapping: &[String],
        cargo_home: Option<&Utf8Path>,
        rustup_home: Option<&Utf8Path>,
    ) -> Placeholders {
        let mut anchors: Vec<(String, String)> = Vec::new();
        for flag in remapping {
            let Some((from, to)) = crate::resolve::remap_pair(flag) else {
                continue;
            };
            let name = match to {
                // The registry's and git's sources: under `$CARGO_HOME`, below.
                "" => continue,
                "." => "$MANIFEST".to_string(),
                "target" => "$TARGET".to_string(),
                rel => format!("$MANIFEST/{rel}"),
            };
            anchors.push((from.to_string(), name));
        }
        if let Some(home) = cargo_home {
            anchors.push((home.to_string(), "$CARGO_HOME".into()));
        }
        if let Some(home) = rustup_home {
            anchors.push((home.to_string(), "$RUSTUP_HOME".into()));
        }
        // `/` alone (or an empty path) would match every path.
        anchors.retain(|(from, _)| from.starts_with('/') && from.trim_end_matches('/').len() > 1);
        for (from, _) in &mut anchors {
            *from = from.trim_end_matches('/').to_string();
        }
        anchors.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        anchors.dedup_by(|a, b| a.0 == b.0);
        Placeholders { anchors }
    }

    /// `text` with every whole path under a placeholder's directory rewritten.
    pub(crate) fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let bytes = text.as_bytes();
        'scan: while i < text.len() {
            let starts_word = i == 0 || !is_path_char(bytes[i - 1]);
            if starts_word && bytes[i] == b'/' {
                for (from, to) in &self.anchors {
                    if text[i..].starts_with(from.as_str()) {
                        let end = i + from.len();
                        let whole = bytes
                            .get(end)
                            .is_none_or(|&b| b == b'/' || !is_path_char(b));
                        if whole {
                            out.push_str(to);
                            i = end;
                            continue 'scan;
                        }
                    }
                }
            }
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8().max(1);
        }
        out
    }

    /// A path, rewritten.
    pub(crate) fn path(&self, path: &Utf8Path) -> String {
        self.apply(path.as_str())
    }

    /// The path here of `label`, a path written by [`Placeholders::path`] that starts with a
    /// placeholder (`None` for any other, or one that climbs out of its placeholder's
    /// directory with `..`).
    pub(crate) fn resolve(&self, label: &str) -> Option<Utf8PathBuf> {
        let mut anchors: Vec<&(String, String)> = self.anchors.iter().collect();
        anchors.sort_by_key(|(_, to)| std::cmp::Reverse(to.len()));
        anchors.into_iter().find_map(|(from, to)| {
            let rest = label.strip_prefix(to.as_str())?;
            if rest.is_empty() {
                return Some(Utf8PathBuf::from(from));
            }
            let rest = rest.strip_prefix('/')?;
            let plain = Utf8Path::new(rest)
                .components()
                .all(|c| matches!(c, camino::Utf8Component::Normal(_)));
            plain.then(|| Utf8Path::new(from).join(rest))
        })
    }
}

/// Bytes that continue a file name (anything else ends a path).
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_./~+@%".contains(&b) || b >= 0x80
}

/// Cargo's and rustup's homes, as the environment names them.
pub(crate) fn homes() -> (Option<Utf8PathBuf>, Option<Utf8PathBuf>) {
    let rustup = crate::fingerprint::rustup_home().and_then(|p| Utf8PathBuf::from_path_buf(p).ok());
    (crate::fingerprint::cargo_home(), rustup)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders() -> Placeholders {
        let remap = [
            "--remap-path-prefix=/ci/work/repo=.",
            "--remap-path-prefix=/ci/work/shared=../shared",
            "--remap-path-prefix=/tmp/tgt=target",
            "--remap-path-prefix=/home/ci/.cargo/registry/src=",
        ]
        .map(String::from);
        Placeholders::new(
            &remap,
            Some(Utf8Path::new("/home/ci/.cargo")),
            Some(Utf8Path::new("/home/ci/.rustup/")),
        )
    }

    #[test]
    fn whole_paths_become_placeholders() {
        let p = placeholders();
        assert_eq!(
            p.apply("/ci/work/repo/services/Cargo.toml"),
            "$MANIFEST/services/Cargo.toml"
        );
        assert_eq!(p.apply("/ci/work/repo"), "$MANIFEST");
        assert_eq!(
            p.apply("--remap-path-prefix=/ci/work/repo=. --remap-path-prefix=/home/ci/.cargo/registry/src="),
            "--remap-path-prefix=$MANIFEST=. --remap-path-prefix=$CARGO_HOME/registry/src="
        );
        assert_eq!(p.apply("/ci/work/shared/lib"), "$MANIFEST/../shared/lib");
        assert_eq!(
            p.apply("/tmp/tgt/x86_64-unknown-linux-gnu"),
            "$TARGET/x86_64-unknown-linux-gnu"
        );
        assert_eq!(
            p.apply("a\u{1f}/home/ci/.rustup/toolchains"),
            "a\u{1f}$RUSTUP_HOME/toolchains"
        );
        assert_eq!(p.path(Utf8Path::new("/ci/work/repo/a b")), "$MANIFEST/a b");
    }

    #[test]
    fn only_whole_paths_are_replaced() {
        let p = placeholders();
        for text in [
            "/ci/work/repository",
            "/x/ci/work/repo",
            "/ci/work/repo.bak/x",
            "relative/ci/work/repo",
            "/usr/bin/cc",
            "",
            "ünïcode /ci/work/reposé",
        ] {
            assert_eq!(p.apply(text), text);
        }
        // Nothing is replaced by a root anchor.
        let root = Placeholders::new(&["--remap-path-prefix=/=.".to_string()], None, None);
        assert_eq!(root.apply("/usr/bin/cc"), "/usr/bin/cc");
    }
}

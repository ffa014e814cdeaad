//! Package URLs of cargo packages (`pkg:cargo/NAME@VERSION`), as cargo-cyclonedx writes them:
//! crates.io packages bare, other registries with `repository_url`, git packages with
//! `vcs_url` (`git+URL@COMMIT`), path packages with `download_url` (`file://` and the path
//! relative to the artifact's package, so that the purl is the same in every checkout).

/// The parts of cargo tree's `{p}`: `name v1.2.3`, then ` (proc-macro)` and ` (source)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Label<'a> {
    /// The package name.
    pub name: &'a str,
    /// Its version, without the `v`.
    pub version: Option<&'a str>,
    /// What cargo shows of its source (none for crates.io).
    pub source: Option<&'a str>,
    /// The directory of a path package.
    pub path: Option<&'a str>,
}

impl<'a> Label<'a> {
    /// Reads a `{p}`.
    pub(super) fn parse(label: &'a str) -> Label<'a> {
        let (head, rest) = label.split_once(' ').unwrap_or((label, ""));
        let (version, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let version = version.strip_prefix('v').filter(|v| !v.is_empty());
        let rest = rest.trim();
        let rest = rest.strip_prefix("(proc-macro)").unwrap_or(rest).trim();
        let source = rest.strip_prefix('(').and_then(|s| s.strip_suffix(')'));
        let path = source.filter(|s| s.starts_with('/'));
        Label {
            name: head,
            version,
            source,
            path,
        }
    }
}

/// The purl of a package from a registry or git, with its lock file `source`.
pub(super) fn of(name: &str, version: Option<&str>, source: Option<&str>) -> String {
    let base = base(name, version);
    match source {
        None => base,
        Some(s) if is_crates_io(s) => base,
        Some(s) => {
            if let Some(git) = s.strip_prefix("git+") {
                format!(
                    "{base}?vcs_url={}",
                    encode(&format!("git+{}", git.replace('#', "@")))
                )
            } else {
                let url = s.strip_prefix("registry+").unwrap_or(s);
                format!("{base}?repository_url={}", encode(url))
            }
        }
    }
}

/// The purl of a path package at `relative` (from the artifact's package).
pub(super) fn path(name: &str, version: Option<&str>, relative: &str) -> String {
    format!(
        "{}?download_url={}",
        base(name, version),
        encode(&format!("file://{relative}"))
    )
}

/// Whether a lock file source is crates.io (through its git or its sparse index).
fn is_crates_io(source: &str) -> bool {
    matches!(
        source,
        "registry+https://github.com/rust-lang/crates.io-index" | "sparse+https://index.crates.io/"
    )
}

fn base(name: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("pkg:cargo/{}@{}", encode(name), encode(v)),
        None => format!("pkg:cargo/{}", encode(name)),
    }
}

/// Percent-encodes everything but the unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read() {
        let l = Label::parse("pm v0.1.0 (proc-macro) (/w/pm)");
        assert_eq!(
            (l.name, l.version, l.path),
            ("pm", Some("0.1.0"), Some("/w/pm"))
        );
        let l = Label::parse("log v0.4.22");
        assert_eq!((l.name, l.version, l.source), ("log", Some("0.4.22"), None));
        let l = Label::parse("serde_derive v1.0.200 (proc-macro)");
        assert_eq!(l.source, None);
        let l = Label::parse("g v1.0.0 (https://github.com/o/g#abc)");
        assert_eq!(l.source, Some("https://github.com/o/g#abc"));
        assert_eq!(l.path, None);
    }

    #[test]
    fn sources_become_qualifiers() {
        assert_eq!(
            of(
                "a",
                Some("1.0.0+meta"),
                Some("sparse+https://index.crates.io/")
            ),
            "pkg:cargo/a@1.0.0%2Bmeta"
        );
        assert_eq!(
            of("a", Some("1.0.0"), Some("sparse+https://my.reg/index/")),
            "pkg:cargo/a@1.0.0?repository_url=sparse%2Bhttps%3A%2F%2Fmy.reg%2Findex%2F"
        );
        assert_eq!(
            of("a", Some("1.0.0"), Some("registry+https://my.reg/git")),
            "pkg:cargo/a@1.0.0?repository_url=https%3A%2F%2Fmy.reg%2Fgit"
        );
        assert_eq!(
            path("a", Some("0.1.0"), "."),
            "pkg:cargo/a@0.1.0?download_url=file%3A%2F%2F."
        );
    }
}

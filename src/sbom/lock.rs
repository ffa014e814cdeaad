//! What an SBOM takes from `Cargo.lock`: each package's source and checksum.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One `[[package]]` of a lock file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// `registry+URL`, `sparse+URL`, `git+URL#COMMIT`; none for path packages.
    pub source: Option<String>,
    /// The SHA-256 of the `.crate` file, hex (registry packages).
    pub checksum: Option<String>,
}

/// A lock file's packages, by name and version.
#[derive(Debug, Clone, Default)]
pub struct Lock {
    packages: BTreeMap<(String, String), Vec<Entry>>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(flatten)]
    entry: Entry,
}

impl Lock {
    /// Reads a lock file; one that does not parse holds no package.
    pub fn parse(text: &str) -> Lock {
        let mut packages: BTreeMap<(String, String), Vec<Entry>> = BTreeMap::new();
        if let Ok(file) = toml::from_str::<File>(text) {
            for p in file.package {
                packages
                    .entry((p.name, p.version))
                    .or_default()
                    .push(p.entry);
            }
        }
        Lock { packages }
    }

    /// The entry of `name` `version`; when several sources have it, the one cargo tree's
    /// `shown` source points at (a git URL, or a registry), else the first.
    pub fn find(&self, name: &str, version: &str, shown: Option<&str>) -> Option<&Entry> {
        let entries = self
            .packages
            .get(&(name.to_string(), version.to_string()))?;
        let with_source = || entries.iter().filter(|e| e.source.is_some());
        if entries.len() > 1 {
            let git = shown.is_some_and(|s| !s.starts_with("registry"));
            if let Some(e) = with_source()
                .find(|e| e.source.as_deref().is_some_and(|s| s.starts_with("git+")) == git)
            {
                return Some(e);
            }
        }
        with_source().next().or(entries.first())
    }
}

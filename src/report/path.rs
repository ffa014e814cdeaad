//! Paths as people read them.

use camino::{Utf8Path, Utf8PathBuf};

/// A path as people want to read it: relative to the current directory when below it.
pub fn display_path(p: &Utf8Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| Utf8PathBuf::from_path_buf(c).ok());
    match cwd.as_deref().and_then(|c| p.strip_prefix(c).ok()) {
        Some(rel) if !rel.as_str().is_empty() => rel.to_string(),
        _ => p.to_string(),
    }
}

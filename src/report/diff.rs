//! A unified diff of two texts, line by line, for `import --dry-run`.

/// Lines of context around each change.
const CONTEXT: usize = 2;

/// `old` → `new` as a unified diff with `---`/`+++` headers naming them; empty when equal.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(CONTEXT)
        .header(old_name, new_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let new = "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\n";
        assert_eq!(
            unified(old, new, "x", "y"),
            "--- x\n+++ y\n@@ -1,5 +1,5 @@\n a\n b\n-c\n+C\n d\n e\n@@ -9,2 +9,3 @@\n i\n j\n+k\n"
        );
        assert_eq!(unified(old, old, "x", "y"), "");
        assert_eq!(
            unified("a\n", "a\nb", "x", "y"),
            "--- x\n+++ y\n@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file\n"
        );
    }
}

//! What deploying did, one entry per artifact of the report it read.

use crate::report::Deployed;

/// What became of one function or layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The function did not exist and was created.
    Created,
    /// Its code, architecture, layers or alias were changed.
    Updated,
    /// A new version of the layer was published.
    Published,
    /// Everything already matched: nothing was changed.
    Unchanged,
    /// Dry run: it would be created.
    WouldCreate,
    /// Dry run: it would be updated (the list of changes).
    WouldUpdate(Vec<String>),
    /// Dry run: a layer version would be published.
    WouldPublish,
    /// It could not be deployed, and why.
    Failed(String),
    /// Not tried: deploying stopped first (the endpoint failed, a signal, or a failure without
    /// `--keep-going`).
    NotTried,
}

impl Action {
    /// The action's word, as the table and the report say it.
    pub fn word(&self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Published => "published",
            Action::Unchanged => "unchanged",
            Action::WouldCreate => "would create",
            Action::WouldUpdate(_) => "would update",
            Action::WouldPublish => "would publish",
            Action::Failed(_) => "failed",
            Action::NotTried => "not tried",
        }
    }

    /// Whether this is a success (or, in a dry run, a plan).
    pub fn ok(&self) -> bool {
        !matches!(self, Action::Failed(_) | Action::NotTried)
    }
}

/// One function or layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The Lambda function's name, or the layer's.
    pub name: String,
    /// A layer (an extension) rather than a function.
    pub layer: bool,
    /// What became of it.
    pub action: Action,
    /// Lambda's `CodeSha256` after deploying (what it holds when unchanged).
    pub code_sha256: Option<String>,
    /// The version published (`--publish-version`), or the alias's version.
    pub version: Option<String>,
    /// The alias pointed at that version.
    pub alias: Option<String>,
    /// The layer version a layer's zip is (published now or found).
    pub layer_version_arn: Option<String>,
}

impl Entry {
    /// A new entry for `name` that has not been tried yet.
    pub fn new(name: &str, layer: bool) -> Entry {
        Entry {
            name: name.to_owned(),
            layer,
            action: Action::NotTried,
            code_sha256: None,
            version: None,
            alias: None,
            layer_version_arn: None,
        }
    }

    /// Its `deployed` field in the report (none in a dry run or when not tried).
    pub fn deployed(&self) -> Option<Deployed> {
        match self.action {
            Action::WouldCreate
            | Action::WouldUpdate(_)
            | Action::WouldPublish
            | Action::NotTried => None,
            _ => Some(Deployed {
                function: (!self.layer).then(|| self.name.clone()),
                layer: self.layer.then(|| self.name.clone()),
                action: self.action.word().to_owned(),
                code_sha256: self.code_sha256.clone(),
                version: self.version.clone(),
                alias: self.alias.clone(),
                layer_version_arn: self.layer_version_arn.clone(),
            }),
        }
    }
}

/// The outcome of one `deploy` (or of its dry run): parallel to the report's artifacts.
#[derive(Debug, Clone, Default)]
pub struct DeployTable {
    /// One entry per report artifact; `None` for those that deploy nothing (a failed build).
    pub entries: Vec<Option<Entry>>,
    /// The failure of the endpoint itself (unreachable, credentials refused) that stopped
    /// deploying, reported once.
    pub unavailable: Option<String>,
    /// Deploying stopped on this signal.
    pub interrupted: Option<i32>,
}

impl DeployTable {
    /// Whether every function and layer was deployed (or, in a dry run, planned).
    pub fn success(&self) -> bool {
        self.unavailable.is_none()
            && self.interrupted.is_none()
            && self.entries.iter().flatten().all(|e| e.action.ok())
    }

    /// How many entries have each action word, in a fixed order of words.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        for e in self.entries.iter().flatten() {
            let word = e.action.word();
            match counts.iter_mut().find(|(w, _)| *w == word) {
                Some((_, n)) => *n += 1,
                None => counts.push((word, 1)),
            }
        }
        const ORDER: &[&str] = &[
            "created",
            "updated",
            "published",
            "unchanged",
            "would create",
            "would update",
            "would publish",
            "failed",
            "not tried",
        ];
        counts.sort_by_key(|(w, _)| ORDER.iter().position(|o| o == w));
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_a_fixed_order_and_failures_fail() {
        let mut a = Entry::new("a", false);
        a.action = Action::Unchanged;
        let mut b = Entry::new("b", false);
        b.action = Action::Updated;
        let mut c = Entry::new("c", true);
        c.action = Action::Failed("no".into());
        let table = DeployTable {
            entries: vec![Some(a.clone()), None, Some(b), Some(c)],
            ..DeployTable::default()
        };
        assert_eq!(
            table.counts(),
            vec![("updated", 1), ("unchanged", 1), ("failed", 1)]
        );
        assert!(!table.success());
        let ok = DeployTable {
            entries: vec![Some(a)],
            ..DeployTable::default()
        };
        assert!(ok.success());
    }

    #[test]
    fn a_dry_run_records_nothing_in_the_report() {
        let mut e = Entry::new("f", false);
        e.action = Action::WouldUpdate(vec!["code".into()]);
        assert_eq!(e.deployed(), None);
        e.action = Action::Unchanged;
        e.code_sha256 = Some("abc=".into());
        let d = e.deployed().unwrap();
        assert_eq!(d.function.as_deref(), Some("f"));
        assert_eq!(d.action, "unchanged");
        assert_eq!(d.layer, None);
    }
}

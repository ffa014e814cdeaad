//! Where each artifact's output goes (SPEC §2), and the check that no two outputs collide.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use camino::{Utf8Path, Utf8PathBuf};

use crate::diagnostic::{ErrorCode, ManifestError};
use crate::manifest::settings::OutputFormat;
use crate::manifest::values::ArtifactKind;
use crate::resolve::{IncludeRule, ResolvedArtifact};

use super::PlannedArtifact;

/// The paths an artifact writes.
#[derive(Debug, Clone)]
pub(super) struct Outputs {
    /// The main output: the executable (binary format) or the zip.
    pub output: Utf8PathBuf,
    /// The executable's path inside the artifact (`bootstrap`, `extensions/NAME`, `NAME`).
    pub executable_entry: String,
    /// Every file written, the main output first.
    pub files: Vec<Utf8PathBuf>,
}

impl PlannedArtifact {
    /// Whether its output is a zip, the form Lambda deploys (else the executable and its
    /// includes, as files).
    pub fn is_zip(&self) -> bool {
        self.resolved.packaging.output_format == OutputFormat::Zip
    }

    /// What its output is, in the manifest's word: `zip` or `binary`.
    pub fn format(&self) -> &'static str {
        self.resolved.packaging.output_format.as_str()
    }
}

/// Computes the output paths of one artifact.
pub(super) fn outputs(a: &ResolvedArtifact) -> Outputs {
    let dir = &a.packaging.lambda_dir;
    let (root, executable_entry, zip_path) = match a.identity.kind {
        ArtifactKind::Function if a.identity.flatten => (
            dir.clone(),
            "bootstrap".to_string(),
            dir.join("bootstrap.zip"),
        ),
        ArtifactKind::Function => (
            dir.join(&a.identity.name),
            "bootstrap".to_string(),
            dir.join(&a.identity.name).join("bootstrap.zip"),
        ),
        ArtifactKind::Extension => {
            let entry = if a.identity.internal && a.packaging.output_format == OutputFormat::Zip {
                a.identity.name.clone()
            } else {
                format!("extensions/{}", a.identity.name)
            };
            (
                dir.clone(),
                entry,
                dir.join("extensions")
                    .join(format!("{}.zip", a.identity.name)),
            )
        }
    };
    match a.packaging.output_format {
        OutputFormat::Zip => Outputs {
            output: zip_path.clone(),
            executable_entry,
            files: vec![zip_path],
        },
        OutputFormat::Binary => {
            let exe = root.join(&executable_entry);
            let mut files = vec![exe.clone()];
            files.extend(a.inputs.includes.iter().map(|i| root.join(&i.archive_path)));
            Outputs {
                output: exe,
                executable_entry,
                files,
            }
        }
    }
}

/// Every pair of artifacts that would write the same path (or a file where the other needs a
/// directory), one diagnostic per pair. `artifacts` and `outputs` are parallel.
pub(super) fn collisions(
    artifacts: &[ResolvedArtifact],
    outputs: &[Outputs],
) -> Vec<ManifestError> {
    // Hash maps, not ordered ones: comparing two paths walks their components, and thousands
    // of outputs made that the planner's largest cost. `owner`: each file written; `under`:
    // each directory an output is in, with that output.
    let mut owner: HashMap<&Utf8Path, usize> = HashMap::new();
    let mut under: HashMap<&Utf8Path, usize> = HashMap::new();
    let mut errors = Vec::new();
    let mut reported = std::collections::BTreeSet::new();
    for (i, out) in outputs.iter().enumerate() {
        let a = &artifacts[i];
        // An include that lands on the executable's own entry.
        if let Some(inc) = a
            .inputs
            .includes
            .iter()
            .find(|inc| inc.archive_path == out.executable_entry)
        {
            errors.push(
                ManifestError::new(
                    ErrorCode::OutputCollision,
                    format!(
                        "include `{}` of `{}` would replace its executable `{}`",
                        inc.source, a.identity.name, out.executable_entry
                    ),
                    miette::SourceSpan::from(inc.pattern_span),
                    "matches the executable's own name",
                )
                .with_label(a.identity.span, "in this artifact")
                .with_help("use `into=\"dir\"` on that include, or rename the file"),
            );
        }
        for file in &out.files {
            let clash = owner
                .get(file.as_path())
                .copied()
                .or_else(|| {
                    // A file that is an ancestor directory of another output, or the reverse.
                    file.ancestors().skip(1).find_map(|d| owner.get(d).copied())
                })
                // ... or a directory of an earlier output.
                .or_else(|| under.get(file.as_path()).copied());
            match clash {
                Some(j) if j != i && reported.insert((j.min(i), j.max(i))) => {
                    errors.push(collision(&artifacts[j], a, file))
                }
                Some(_) => {}
                None => {
                    owner.insert(file, i);
                    for d in file.ancestors().skip(1) {
                        match under.entry(d) {
                            // Its ancestors are in already.
                            Entry::Occupied(_) => break,
                            Entry::Vacant(v) => {
                                v.insert(i);
                            }
                        }
                    }
                }
            }
        }
    }
    errors
}

fn collision(
    first: &ResolvedArtifact,
    second: &ResolvedArtifact,
    path: &Utf8Path,
) -> ManifestError {
    if first.identity.name == second.identity.name {
        return ManifestError::new(
            ErrorCode::OutputCollision,
            format!("`{}` would write `{path}` for both {} and {}", first.identity.name, first.build.target, second.build.target),
            second.identity.span,
            "built for two targets into one place",
        )
        .with_help("add `{arch}` (or `{target}`) to its lambda-dir, for example `lambda-dir \"target/lambda/{arch}\"`");
    }
    ManifestError::new(
        ErrorCode::OutputCollision,
        format!(
            "`{}` and `{}` would both write `{path}`",
            first.identity.name, second.identity.name
        ),
        second.identity.span,
        "writes the same path",
    )
    .with_label(first.identity.span, "as this one")
    .with_help("give them different lambda-dir settings, or rename one")
}

/// Every artifact with an include that would match an output of the run (its own or
/// another's), one diagnostic per artifact. Such an archive would pack its previous self and
/// grow on every run, never fresh. The match is judged from the pattern, not from what is on
/// disk, so that a first run (no output yet) is refused like the next one.
pub(super) fn includes_of_outputs(
    artifacts: &[ResolvedArtifact],
    outputs: &[Outputs],
) -> Vec<ManifestError> {
    let mut files: BTreeMap<&Utf8Path, usize> = BTreeMap::new();
    for (i, out) in outputs.iter().enumerate() {
        for f in &out.files {
            files.entry(f.as_path()).or_insert(i);
        }
    }
    // Defaults' and workspaces' includes are shared by many artifacts: judge each rule once.
    let mut verdicts: HashMap<&IncludeRule, Option<(&Utf8Path, usize)>> = HashMap::new();
    let mut errors = Vec::new();
    for a in artifacts {
        let mut rules = HashSet::new();
        for inc in &a.inputs.includes {
            if !rules.insert(&*inc.rule) {
                continue;
            }
            let verdict = *verdicts.entry(&*inc.rule).or_insert_with(|| {
                let matcher = inc.rule.matcher()?;
                let start = matcher.walk_start();
                files
                    .range::<Utf8Path, _>((
                        std::ops::Bound::Included(start.as_path()),
                        std::ops::Bound::Unbounded,
                    ))
                    .take_while(|(p, _)| p.starts_with(&start))
                    .find(|(p, _)| matcher.would_match(p))
                    .map(|(p, j)| (*p, *j))
            });
            if let Some((path, j)) = verdict {
                let owner = &artifacts[j];
                let whose = if owner.identity.name == a.identity.name {
                    "its own output".to_string()
                } else {
                    format!("the output of `{}`", owner.identity.name)
                };
                errors.push(
                    ManifestError::new(
                        ErrorCode::OutputCollision,
                        format!(
                            "include `{}` of `{}` would pack `{path}`, {whose}",
                            inc.rule.pattern, a.identity.name
                        ),
                        miette::SourceSpan::from(inc.pattern_span),
                        "matches an output",
                    )
                    .with_label(owner.identity.span, "whose output it is")
                    .with_help("an output packed into an artifact makes it grow on every run: put lambda-dir outside what the pattern matches, or narrow the pattern"),
                );
                break;
            }
        }
    }
    errors
}

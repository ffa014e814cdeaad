//! Names the deploy tools accept, derived from artifact names and architectures: stable (the
//! same report gives the same names), valid in their tool, and never two alike.

use std::collections::BTreeMap;

use crate::fingerprint::{hex, sha256};
use crate::manifest::values::Arch;

/// The longest a derived name may be before its hash suffix: CloudFormation takes 255
/// characters for a logical ID, and a Lambda function name 64 (Serverless builds one from
/// the service, the stage and the key).
const MAX_STEM: usize = 200;

/// CloudFormation logical IDs (ASCII letters and digits, starting with a letter): the name in
/// CamelCase (`get-product` → `GetProduct`) and the architecture (`X86`, `Arm64`). Names that
/// would come out alike (`get-product`, `get_product`) each get the start of the SHA-256 of
/// their name and architecture appended. Parallel to `items`.
pub(super) fn logical_ids(items: &[(&str, Arch)]) -> Vec<String> {
    let ids = items
        .iter()
        .map(|(name, arch)| {
            let mut id = String::new();
            for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    id.push(first.to_ascii_uppercase());
                    id.extend(chars);
                }
            }
            if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
                id.insert(0, 'A');
            }
            id.truncate(MAX_STEM);
            id.push_str(match arch {
                Arch::X86_64 => "X86",
                Arch::Arm64 => "Arm64",
            });
            id
        })
        .collect();
    disambiguate(items, ids, "")
}

/// Keys of a Serverless `functions:` or `layers:` section (letters, digits, `-` and `_`): the
/// name, with every other character as `-`, and `-<arch>` when the same name comes in several
/// architectures. Parallel to `items`.
pub(super) fn serverless_keys(items: &[(&str, Arch)]) -> Vec<String> {
    let mut arches: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, _) in items {
        *arches.entry(name).or_default() += 1;
    }
    let keys = items
        .iter()
        .map(|(name, arch)| {
            let mut key: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            key.truncate(MAX_STEM);
            if arches[name] > 1 {
                key.push('-');
                key.push_str(arch.as_str());
            }
            key
        })
        .collect();
    disambiguate(items, keys, "-")
}

/// `names`, each one that is not unique with `separator` and 8 hex digits of the SHA-256 of
/// its artifact's name and architecture appended.
fn disambiguate(items: &[(&str, Arch)], mut names: Vec<String>, separator: &str) -> Vec<String> {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for n in &names {
        *count.entry(n.clone()).or_default() += 1;
    }
    for (n, (name, arch)) in names.iter_mut().zip(items) {
        if count[n.as_str()] > 1 {
            let digest = hex(&sha256(format!("{name}\0{}", arch.as_str()).as_bytes()));
            n.push_str(separator);
            n.push_str(&digest[..8]);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::{logical_ids, serverless_keys};
    use crate::manifest::values::Arch::{Arm64, X86_64};

    #[test]
    fn logical_ids_are_camel_case_alphanumeric_and_unique() {
        let items = [
            ("get-product", X86_64),
            ("get-product", Arm64),
            ("get_product", X86_64),
            ("3d render", X86_64),
            ("été", Arm64),
        ];
        let ids = logical_ids(&items);
        assert_eq!(ids[1], "GetProductArm64");
        assert!(
            ids[0].starts_with("GetProductX86") && ids[0].len() == 13 + 8,
            "{ids:?}"
        );
        assert!(
            ids[2].starts_with("GetProductX86") && ids[2] != ids[0],
            "{ids:?}"
        );
        assert_eq!(ids[3], "A3dRenderX86");
        assert_eq!(ids[4], "TArm64");
        for id in &ids {
            assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
            assert!(id.starts_with(|c: char| c.is_ascii_alphabetic()), "{id}");
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
        // The same report, the same names.
        assert_eq!(logical_ids(&items), ids);
    }

    #[test]
    fn serverless_keys_name_the_architecture_only_when_a_name_has_several() {
        let keys = serverless_keys(&[
            ("get-product", X86_64),
            ("get-product", Arm64),
            ("delete.product", Arm64),
            ("delete-product", Arm64),
        ]);
        assert_eq!(&keys[..2], ["get-product-x86_64", "get-product-arm64"]);
        assert!(keys[2].starts_with("delete-product-") && keys[3].starts_with("delete-product-"));
        assert_ne!(keys[2], keys[3]);
    }
}

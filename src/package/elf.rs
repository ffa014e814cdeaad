//! The check after every build (SPEC §1): the executable is an ELF for the artifact's machine, and
//! on gnu targets needs no `GLIBC_x.y` newer than the runtime (or pinned) glibc, so that a binary
//! that would die on Lambda with "GLIBC_2.xx not found" fails the build instead.

use camino::Utf8Path;
use goblin::elf::Elf;
use goblin::elf::header::{EM_AARCH64, EM_X86_64, machine_to_str};

use super::PackageError;
use crate::manifest::settings::Compiler;
use crate::manifest::values::{Arch, GlibcVersion, Libc};
use crate::resolve::ResolvedArtifact;

/// The section cargo-auditable embeds the dependency list in (zlib-compressed JSON).
pub(crate) const AUDIT_SECTION: &str = ".dep-v0";

/// Checks the executable's bytes against what `artifact` runs on, and that it carries the
/// dependency list exactly when `auditable` asks for it; `entry` names it in errors.
pub(crate) fn check(
    bytes: &[u8],
    path: &Utf8Path,
    artifact: &ResolvedArtifact,
    entry: &str,
) -> Result<(), PackageError> {
    let not_elf = |reason: String| PackageError::NotElf {
        path: path.to_path_buf(),
        reason,
    };
    if !bytes.starts_with(b"\x7fELF") {
        return Err(not_elf("it does not start with the ELF magic bytes".into()));
    }
    let elf = Elf::parse(bytes).map_err(|e| not_elf(e.to_string()))?;

    let wanted = match artifact.build.arch {
        Arch::X86_64 => EM_X86_64,
        Arch::Arm64 => EM_AARCH64,
    };
    if elf.header.e_machine != wanted {
        let found = match elf.header.e_machine {
            EM_X86_64 => "x86_64".to_string(),
            EM_AARCH64 => "arm64".to_string(),
            other => machine_to_str(other).to_lowercase(),
        };
        return Err(PackageError::WrongMachine {
            name: artifact.identity.name.clone(),
            entry: entry.to_string(),
            found,
            expected: artifact.build.arch.as_str().to_string(),
            help: format!(
                "cargo should have built it for `{}`; check `rustflags`, `env` (CARGO_BUILD_TARGET) and the workspace's .cargo/config.toml for a target or linker override",
                artifact.build.target
            ),
        });
    }

    let embedded = elf
        .section_headers
        .iter()
        .any(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(AUDIT_SECTION));
    if embedded != artifact.build.auditable {
        let help = if artifact.build.auditable {
            "it was built with `auditable true`, so through `cargo auditable`: check that no `env` or cargo config replaces RUSTC_WORKSPACE_WRAPPER".to_string()
        } else {
            "a rustc wrapper of the environment or the cargo config (RUSTC_WORKSPACE_WRAPPER) embeds it: write `auditable true` if that is meant, or remove the wrapper".to_string()
        };
        return Err(PackageError::AuditData {
            name: artifact.identity.name.clone(),
            entry: entry.to_string(),
            state: if embedded { "has" } else { "lacks" },
            help,
        });
    }

    if artifact.build.libc != Libc::Gnu {
        return Ok(());
    }
    let Some(max) = artifact.build.glibc else {
        return Ok(());
    };
    let Some((needed, version)) = newest_glibc_need(&elf) else {
        return Ok(());
    };
    // Strict: GLIBC_2.3.4 is newer than glibc 2.3.
    if version <= (max.major, max.minor, 0) {
        return Ok(());
    }
    let pinned = max != artifact.packaging.runtime.glibc();
    let provider = if pinned {
        format!("the target {}.{max}", artifact.build.target)
    } else {
        artifact.packaging.runtime.as_str().to_string()
    };
    Err(PackageError::GlibcTooNew {
        name: artifact.identity.name.clone(),
        entry: entry.to_string(),
        needed,
        provider,
        max: max.to_string(),
        help: glibc_help(artifact, max),
    })
}

fn glibc_help(artifact: &ResolvedArtifact, max: GlibcVersion) -> String {
    let musl = artifact.build.target.replace("-gnu", "-musl");
    if artifact.build.compiler == Compiler::CargoZigbuild {
        format!(
            "cargo-zigbuild linked against glibc {max}, so a prebuilt library or a build script brought in the newer symbol: pin an older glibc (`arch \"{}.2.17\"`) or build for musl (`arch \"{musl}\"`)",
            artifact.build.target
        )
    } else {
        format!(
            "`compiler \"{}\"` links against this machine's glibc: use `compiler \"cargo-zigbuild\"`, which links against glibc {max}, pin an older glibc (`arch \"{}.2.17\"`), or build for musl (`arch \"{musl}\"`)",
            artifact.build.compiler.as_str(),
            artifact.build.target
        )
    }
}

/// The newest `GLIBC_*` version the ELF needs (from any library), with its sort key.
fn newest_glibc_need(elf: &Elf<'_>) -> Option<(String, (u32, u32, u32))> {
    glibc_needs(elf).into_iter().max_by_key(|(_, v)| *v)
}

/// Every `GLIBC_*` version symbol the ELF needs, as written and as (major, minor, patch).
fn glibc_needs(elf: &Elf<'_>) -> Vec<(String, (u32, u32, u32))> {
    let Some(verneed) = &elf.verneed else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for need in verneed.iter() {
        for aux in need.iter() {
            let Some(name) = elf.dynstrtab.get_at(aux.vna_name) else {
                continue;
            };
            if let Some(v) = glibc_symbol_version(name) {
                out.push((name.to_string(), v));
            }
        }
    }
    out
}

/// `GLIBC_2.3.4` → (2, 3, 4). `GLIBC_PRIVATE` and other non-numbered symbols say nothing about
/// the release, except the ABI markers whose first release is known.
fn glibc_symbol_version(name: &str) -> Option<(u32, u32, u32)> {
    let rest = name.strip_prefix("GLIBC_")?;
    // Needed by binaries linked with `-z pack-relative-relocs`; glibc 2.36 introduced it.
    if rest == "ABI_DT_RELR" {
        return Some((2, 36, 0));
    }
    let mut parts = rest.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next()??;
    let patch = match parts.next() {
        Some(p) => p?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::settings::Runtime;
    use crate::package::fixture;

    fn artifact(arch: Arch, libc: Libc, glibc: Option<(u32, u32)>) -> ResolvedArtifact {
        let mut a = fixture::binary(Utf8Path::new("/nonexistent"));
        a.build.arch = arch;
        a.build.libc = libc;
        a.build.glibc = glibc.map(|(major, minor)| GlibcVersion { major, minor });
        a
    }

    fn run(path: &str, a: &ResolvedArtifact) -> Result<(), PackageError> {
        let bytes = std::fs::read(path).unwrap();
        check(&bytes, Utf8Path::new(path), a, "bootstrap")
    }

    const ARM64_ELF: &str = "/usr/aarch64-linux-gnu/lib/libc.so.6";

    #[test]
    fn machine_must_match_arch() {
        let any = Some((2, 99));
        run("/bin/true", &artifact(Arch::X86_64, Libc::Gnu, any)).unwrap();
        run(ARM64_ELF, &artifact(Arch::Arm64, Libc::Gnu, any)).unwrap();
        let err = run("/bin/true", &artifact(Arch::Arm64, Libc::Musl, None)).unwrap_err();
        assert!(
            matches!(&err, PackageError::WrongMachine { found, expected, .. } if found == "x86_64" && expected == "arm64"),
            "{err:?}"
        );
        let err = run(ARM64_ELF, &artifact(Arch::X86_64, Libc::Musl, None)).unwrap_err();
        assert!(matches!(err, PackageError::WrongMachine { .. }), "{err:?}");
    }

    #[test]
    fn glibc_newer_than_the_runtime_fails_naming_both() {
        let bytes = std::fs::read("/bin/ls").unwrap();
        let elf = Elf::parse(&bytes).unwrap();
        let (needed, v) = newest_glibc_need(&elf).expect("/bin/ls needs some GLIBC version");
        assert!(v > (2, 2, 0), "{needed}");

        let a = artifact(Arch::X86_64, Libc::Gnu, Some((2, 2)));
        let err = run("/bin/ls", &a).unwrap_err();
        let PackageError::GlibcTooNew {
            needed: n,
            max,
            ref provider,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(n, needed);
        assert_eq!(max, "2.2");
        assert!(
            provider.contains("2.2"),
            "a pinned glibc names the target: {provider}"
        );
        let message = format!(
            "`{}`: bootstrap needs {needed} but {provider} has glibc 2.2",
            a.identity.name
        );
        assert_eq!(run("/bin/ls", &a).unwrap_err().to_string(), message);

        // The exact newest version passes: only newer ones fail.
        let exact = artifact(Arch::X86_64, Libc::Gnu, Some((v.0, v.1)));
        run("/bin/ls", &exact).unwrap();
        // musl targets are static: no glibc check.
        run("/bin/ls", &artifact(Arch::X86_64, Libc::Musl, None)).unwrap();
    }

    #[test]
    fn runtime_glibc_is_named_by_runtime() {
        let mut a = artifact(Arch::X86_64, Libc::Gnu, None);
        a.packaging.runtime = Runtime::Al2;
        a.build.glibc = Some(GlibcVersion { major: 2, minor: 1 });
        // Not the runtime's own glibc: the pinned target is named.
        let err = run("/bin/ls", &a).unwrap_err().to_string();
        assert!(
            err.contains(&format!("the target {}.2.1", a.build.target)),
            "{err}"
        );
        // This machine's /bin/ls needs GLIBC_2.34 (newer than Amazon Linux 2's 2.26).
        a.build.glibc = Some(Runtime::Al2.glibc());
        let err = run("/bin/ls", &a).unwrap_err().to_string();
        assert!(err.contains("but provided.al2 has glibc 2.26"), "{err}");
    }

    #[test]
    fn not_an_elf_is_a_clear_error() {
        let a = artifact(Arch::X86_64, Libc::Gnu, Some((2, 34)));
        let err = check(b"#!/bin/sh\necho hi\n", Utf8Path::new("x"), &a, "bootstrap").unwrap_err();
        assert!(matches!(err, PackageError::NotElf { .. }), "{err:?}");
        let err = check(b"\x7fELF\x02\x01", Utf8Path::new("x"), &a, "bootstrap").unwrap_err();
        assert!(matches!(err, PackageError::NotElf { .. }), "{err:?}");
        assert!(check(b"", Utf8Path::new("x"), &a, "bootstrap").is_err());
    }

    #[test]
    fn version_symbols_parse() {
        assert_eq!(glibc_symbol_version("GLIBC_2.34"), Some((2, 34, 0)));
        assert_eq!(glibc_symbol_version("GLIBC_2.3.4"), Some((2, 3, 4)));
        assert_eq!(glibc_symbol_version("GLIBC_PRIVATE"), None);
        assert_eq!(glibc_symbol_version("GLIBC_ABI_DT_RELR"), Some((2, 36, 0)));
        assert_eq!(glibc_symbol_version("GCC_3.0"), None);
        assert_eq!(glibc_symbol_version("GLIBC_2.3.4.5"), None);
    }
}

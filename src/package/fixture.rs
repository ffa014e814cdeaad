//! Artifacts for the tests of this module, laid out in a temporary directory.

use camino::{Utf8Path, Utf8PathBuf};

use crate::manifest::settings::{Compiler, OutputFormat, Runtime};
use crate::manifest::values::{Arch, ArtifactKind, GlibcVersion, Libc};
use crate::plan::PlannedArtifact;
use crate::resolve::IncludeFile;
use crate::resolve::{Build, CargoCall, Identity, Inputs, Packaging, ResolvedArtifact};

/// A function `get-product` for x86_64 gnu under `base`, with no includes.
pub(crate) fn resolved(base: &Utf8Path, format: OutputFormat) -> ResolvedArtifact {
    ResolvedArtifact {
        identity: Identity {
            name: "get-product".into(),
            kind: ArtifactKind::Function,
            workspace: "services/catalog".into(),
            workspace_root: base.join("ws"),
            cargo_manifest: base.join("ws/Cargo.toml"),
            package: "catalog".into(),
            package_id: cargo_metadata::PackageId {
                repr: "path+file:///ws#catalog@0.1.0".into(),
            },
            package_dir: base.join("ws"),
            bin: "get-product".into(),
            discovered: false,
            flatten: false,
            internal: false,
            span: (0, 0).into(),
            package_bins: Vec::new(),
        },
        build: Build {
            arch: Arch::X86_64,
            target: "x86_64-unknown-linux-gnu".into(),
            libc: Libc::Gnu,
            // Whatever this machine's /bin/true needs.
            glibc: Some(GlibcVersion {
                major: 2,
                minor: 99,
            }),
            profile: "release".into(),
            compiler: Compiler::Cargo,
            auditable: false,
        },
        packaging: Packaging {
            output_format: format,
            runtime: Runtime::Al2023,
            lambda_dir: base.join("lambda"),
            sbom: crate::manifest::settings::Sbom::None,
        },
        cargo: CargoCall {
            target_dir: base.join("target"),
            target_dir_set: true,
            optimizations: true,
            release_keys: Vec::new(),
            features: Vec::new(),
            no_default_features: false,
            all_features: false,
            env: Default::default(),
            rustflags: Vec::new(),
            path_remapping: Vec::new(),
            config_rustflags: Vec::new(),
        },
        inputs: Inputs {
            includes: Vec::new(),
            cache_key_files: Vec::new(),
            cache_key_env: Vec::new(),
        },
        deploy: Default::default(),
    }
}

/// `resolved` placed by the plan's own output rules.
/// [`resolved`] with a binary output: the artifact of a test that looks at the executable only.
pub(crate) fn binary(base: &Utf8Path) -> ResolvedArtifact {
    resolved(base, OutputFormat::Binary)
}

pub(crate) fn planned(resolved: ResolvedArtifact) -> PlannedArtifact {
    PlannedArtifact::new(0, 0, resolved)
}

/// A temporary directory with an "executable from cargo" (a copy of /bin/true) and two
/// include sources, `LICENSE` (0644) and `config/run.sh` (0755).
pub(crate) struct Tree {
    _dir: tempfile::TempDir,
    /// The directory.
    pub base: Utf8PathBuf,
    /// The executable cargo produced.
    pub exe: Utf8PathBuf,
}

impl Tree {
    pub(crate) fn new() -> Tree {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let base = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
        let exe = base.join("target/release/get-product");
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        std::fs::copy("/bin/true", &exe).unwrap();
        std::fs::create_dir_all(base.join("ws/config")).unwrap();
        std::fs::write(base.join("ws/LICENSE"), "MIT\n").unwrap();
        std::fs::write(base.join("ws/config/run.sh"), "#!/bin/sh\n").unwrap();
        let perms = std::fs::Permissions::from_mode(0o700);
        std::fs::set_permissions(base.join("ws/config/run.sh"), perms).unwrap();
        Tree {
            _dir: dir,
            base,
            exe,
        }
    }

    /// The two includes, the second one under `into="bin"`.
    pub(crate) fn includes(&self) -> Vec<IncludeFile> {
        vec![
            IncludeFile {
                source: self.base.join("ws/LICENSE"),
                archive_path: "LICENSE".into(),
                pattern_span: (0, 0),
                rule: Default::default(),
            },
            IncludeFile {
                source: self.base.join("ws/config/run.sh"),
                archive_path: "bin/run.sh".into(),
                pattern_span: (0, 0),
                rule: Default::default(),
            },
        ]
    }

    /// A planned function in `format` with both includes.
    pub(crate) fn artifact(&self, format: OutputFormat) -> PlannedArtifact {
        let mut r = resolved(&self.base, format);
        r.inputs.includes = self.includes();
        planned(r)
    }
}

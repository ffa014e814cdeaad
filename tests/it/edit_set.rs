//! `set` and `unset` at the defaults, workspace and artifact levels on a copy of the example
//! monorepo: values change in place, comments stay, `unset` undoes `set`, and values the
//! decoder rejects are refused with the file untouched.

use crate::support::test::{Test, inserted};

#[test]
fn set_then_unset_at_every_level_gives_the_file_back() {
    let f = Test::examples();
    let original = f.manifest_text();
    let runtime = "    runtime \"provided.al2023\"\n";
    let license = "    include \"LICENSE\"                   // relative to examples/services\n";
    // (level flags, setting and values, text of the original, what `set` makes of it)
    let cases: &[(&[&str], &[&str], &str, String)] = &[
        (
            &[],
            &["optimizations", "false"],
            runtime,
            format!("{runtime}    optimizations false\n"),
        ),
        (&[], &["all-features"], runtime, format!("{runtime}    all-features\n")),
        (
            &["--workspace", "examples/extensions"],
            &["env", "RUST_LOG=info", "A=b c"],
            "workspace \"examples/extensions\" {\n",
            "workspace \"examples/extensions\" {\n    env RUST_LOG=\"info\" A=\"b c\"\n".into(),
        ),
        (
            &["--workspace", "examples/services"],
            &["rustflags", "-C", "force-frame-pointers=yes"],
            license,
            format!("{license}    rustflags \"-C\" \"force-frame-pointers=yes\"\n"),
        ),
        (
            &["--artifact", "put-product"],
            &["arch", "arm64"],
            "    function \"put-product\" package=\"catalog-api\"\n",
            "    function \"put-product\" package=\"catalog-api\" {\n        arch \"arm64\"\n    }\n".into(),
        ),
        (
            &["--artifact", "secrets-cache"],
            &["include", "Cargo.toml", "into=meta"],
            "    extension \"secrets-cache\" internal=true\n",
            "    extension \"secrets-cache\" internal=true {\n        include \"Cargo.toml\" into=\"meta\"\n    }\n".into(),
        ),
    ];
    for (level, setting, from, to) in cases {
        let mut set = vec!["set"];
        set.extend_from_slice(level);
        set.extend_from_slice(setting);
        f.lb(&set).status(0);
        let changed = f.manifest_text();
        assert!(
            inserted(&original, &changed).is_some(),
            "{set:?} changed more than it added:\n{changed}"
        );
        assert!(original.contains(from));
        assert_eq!(changed, original.replacen(from, to, 1), "{set:?}");
        f.assert_valid();
        let mut unset = vec!["unset"];
        unset.extend_from_slice(level);
        unset.push(setting[0]);
        f.lb(&unset).status(0);
        assert_eq!(f.manifest_text(), original, "after {unset:?}");
    }
    // The decoder's checks apply to every level: the example packages declare no features.
    let run = f
        .lb(&[
            "set",
            "--workspace",
            "examples/services",
            "--artifact",
            "get-product",
            "features",
            "tracing",
        ])
        .status(2);
    assert!(
        run.stderr.contains("lambda_batch::unknown_feature"),
        "{}",
        run.stderr
    );
    assert_eq!(f.manifest_text(), original);
}

#[test]
fn replacing_a_value_keeps_its_line_and_comment() {
    let f = Test::examples();
    let original = f.manifest_text();
    f.lb(&["set", "target-dir", "target/elsewhere"]).status(0);
    assert_eq!(
        f.manifest_text(),
        original.replace(
            "    target-dir \"target/shared\"          // one cargo target dir",
            "    target-dir \"target/elsewhere\"          // one cargo target dir"
        )
    );
    f.lb(&["set", "arch", "aarch64", "x86_64-unknown-linux-gnu.2.17"])
        .status(0);
    assert!(
        f.manifest_text()
            .contains("    arch \"aarch64\" \"x86_64-unknown-linux-gnu.2.17\"\n    compiler")
    );
    f.lb(&[
        "set",
        "--artifact",
        "order-events",
        "lambda-dir",
        "dist/{arch}",
    ])
    .status(0);
    assert!(f.manifest_text().contains(
        "    function \"order-events\" flatten=true {\n        lambda-dir \"dist/{arch}\"\n    }\n"
    ));
    f.assert_valid();
    // Back to the original values: the original bytes.
    f.lb(&["set", "target-dir", "target/shared"]).status(0);
    f.lb(&["set", "arch", "x86_64", "arm64"]).status(0);
    f.lb(&[
        "set",
        "--artifact",
        "order-events",
        "lambda-dir",
        "target/lambda/{arch}/orders",
    ])
    .status(0);
    assert_eq!(f.manifest_text(), original);
}

#[test]
fn defaults_are_created_at_the_top_when_missing() {
    let f = Test::examples();
    let original = f.manifest_text();
    let start = original.find("defaults {").unwrap();
    let end = original.find("workspace \"examples/services\"").unwrap();
    let without = format!("{}{}", &original[..start], &original[end..]);
    f.write("lambda.kdl", &without);
    f.lb(&["set", "profile", "release"]).status(0);
    let header_end = without.find("workspace").unwrap();
    assert_eq!(
        f.manifest_text(),
        format!(
            "{}defaults {{\n    profile \"release\"\n}}\n\n{}",
            &without[..header_end],
            &without[header_end..]
        )
    );
    f.assert_valid();
    f.lb(&["unset", "profile"]).status(0);
    assert_eq!(f.manifest_text(), without);
}

#[test]
fn accumulating_settings_are_one_node_per_level() {
    let f = Test::examples();
    let original = f.manifest_text();
    let with_two = original.replace(
        "    include \"LICENSE\"                   // relative to examples/services\n",
        "    include \"LICENSE\"                   // relative to examples/services\n    include \"catalog/config/*.toml\" into=\"legal\"\n",
    );
    f.write("lambda.kdl", &with_two);
    f.assert_valid();
    // `set` leaves exactly the given values, in the first node's place.
    f.lb(&[
        "set",
        "--workspace",
        "examples/services",
        "include",
        "LICENSE",
    ])
    .status(0);
    assert_eq!(f.manifest_text(), original);
    // `unset` with values removes only those.
    f.write("lambda.kdl", &with_two);
    f.lb(&[
        "unset",
        "--workspace",
        "examples/services",
        "include",
        "catalog/config/*.toml",
    ])
    .status(0);
    assert_eq!(f.manifest_text(), original);
    let run = f
        .lb(&[
            "unset",
            "--workspace",
            "examples/services",
            "include",
            "README.md",
        ])
        .status(2);
    assert!(run.stderr.contains("it has: `LICENSE`"), "{}", run.stderr);
}

#[test]
fn bad_values_are_refused_with_the_valid_ones() {
    let f = Test::examples();
    let before = f.hash("lambda.kdl");
    // (arguments, what stderr must say)
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["set", "arch", "sparc"],
            &[
                "`sparc` is not a valid arch",
                "`x86_64`, `x86-64`, `amd64`, `arm64`, `aarch64`",
                "lambda.kdl after `lambda-batch --color never set arch sparc`",
                "the file is unchanged",
            ],
        ),
        (
            &["set", "--workspace", "examples/services", "compiler", "gcc"],
            &[
                "`gcc` is not a valid compiler",
                "`cargo`, `cargo-zigbuild`, `cross`",
            ],
        ),
        (
            &[
                "set",
                "--artifact",
                "telemetry",
                "runtime",
                "provided.al2024",
            ],
            &["did you mean `provided.al2023`?"],
        ),
        (
            &["set", "arhc", "arm64"],
            &["unknown setting `arhc`", "did you mean `arch`?"],
        ),
        (
            &["set", "profile", "a", "b"],
            &["`profile` takes exactly one value, not 2"],
        ),
        (
            &["set", "optimizations", "maybe"],
            &["takes `true` or `false`"],
        ),
        (
            &["set", "env", "NOEQUALS"],
            &["`NOEQUALS` is not KEY=VALUE"],
        ),
        (
            &["set", "lambda-dir", "out/{arhc}"],
            &["unknown placeholder `{arhc}`", "did you mean `arch`?"],
        ),
        (
            &[
                "set",
                "rustflags",
                "-C",
                "x",
                "--workspace",
                "examples/services",
            ],
            &["options go before the setting"],
        ),
        (
            &["set", "--workspace", "examples/nowhere", "profile", "dev"],
            &["no workspace `examples/nowhere`", "did you mean"],
        ),
        (
            &["set", "--artifact", "nope", "profile", "dev"],
            &["no function or extension `nope`"],
        ),
        (
            &["unset", "runtime", "x"],
            &["`unset runtime` takes no values"],
        ),
        (
            &["unset", "--workspace", "examples/extensions", "lambda-dir"],
            &[
                "`lambda-dir` is not set at workspace `examples/extensions`",
                "--artifact order-events",
            ],
        ),
    ];
    for (args, says) in cases {
        let run = f.lb(args).status(2);
        for s in *says {
            assert!(
                run.stderr.contains(s),
                "{args:?} should say {s:?}:\n{}",
                run.stderr
            );
        }
        assert_eq!(f.hash("lambda.kdl"), before, "{args:?} wrote the file");
    }
}

#[test]
fn an_invalid_manifest_is_not_made_worse_nor_written() {
    let f = Test::examples();
    let broken = f
        .manifest_text()
        .replace("\"get-product\"", "\"get-prodct\"");
    f.write("lambda.kdl", &broken);
    let before = f.hash("lambda.kdl");
    let run = f.lb(&["set", "profile", "dev"]).status(2);
    assert!(
        run.stderr.contains("lambda_batch::unknown_bin"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("before `lambda-batch"),
        "{}",
        run.stderr
    );
    assert_eq!(f.hash("lambda.kdl"), before);
    // An edit that fixes it is written.
    f.lb(&["remove", "get-prodct"]).status(0);
    f.assert_valid();
}

#[test]
fn setting_what_is_already_there_writes_nothing() {
    use std::os::unix::fs::MetadataExt;
    let f = Test::examples();
    let path = f.path().join("lambda.kdl");
    // A modification time in the past, which any write would move to now however coarse the
    // file system's clock; and the file's inode, which a write through a temporary file and a
    // rename would change.
    let past = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let before = (
        f.hash("lambda.kdl"),
        std::fs::metadata(&path).unwrap().ino(),
    );
    let run = f.lb(&["set", "profile", "release"]).status(0);
    assert!(run.stderr.contains("unchanged"), "{}", run.stderr);
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(after.modified().unwrap(), past);
    assert_eq!((f.hash("lambda.kdl"), after.ino()), before);
}

#[test]
fn a_byte_order_mark_stays_first_and_crlf_lines_stay_crlf() {
    let f = Test::bare();
    // No defaults yet: `set` adds the node before the first one, where the mark was.
    let text = "\u{feff}// services\r\nworkspace \"examples/services\" {\r\n    function \"get-product\"\r\n}\r\n";
    f.write("lambda.kdl", text);
    f.lb(&["set", "arch", "arm64"]).status(0);
    let after = f.manifest_text();
    assert!(after.starts_with("\u{feff}defaults {\r\n"), "{after:?}");
    assert_eq!(after.matches('\u{feff}').count(), 1, "{after:?}");
    assert!(
        after.split('\n').all(|l| l.is_empty() || l.ends_with('\r')),
        "a line without CR: {after:?}"
    );
    assert!(after.ends_with(
        "// services\r\nworkspace \"examples/services\" {\r\n    function \"get-product\"\r\n}\r\n"
    ));
    f.assert_valid();
    f.lb(&["unset", "arch"]).status(0);
    f.lb(&["fmt", "--check"]).status(0);
    assert!(f.manifest_text().starts_with('\u{feff}'));
}

//! The documentation says what the code does: every KDL example of the README and `docs/`
//! decodes (as niri tests its wiki's KDL: each ```` ```kdl ```` block through the real decoder,
//! ```` ```kdl,must-fail ```` blocks must not decode); every documented `lambda-batch ...`
//! command line names a subcommand and flags that clap defines, and `docs/cli.md` names every
//! subcommand and flag; `docs/manifest.md` documents exactly the declared nodes and settings,
//! with two tables generated from the declarations (`UPDATE_DOCS=1` rewrites them); every
//! relative link resolves inside the repository, and every source path the docs name exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use camino::Utf8Path;
use clap::CommandFactory;
use lambda_batch::cli::Cli;
use lambda_batch::manifest::settings::EVERY_LEVEL;
use lambda_batch::manifest::spec::{Inheritance, NODES, SETTINGS, ValueShape};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The README and every document under `docs/`, as (path relative to the root, text).
fn documents() -> Vec<(PathBuf, String)> {
    let mut paths = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| PathBuf::from("docs").join(e.file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    paths.extend(docs);
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(root().join(&p))
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

/// A fenced code block: its info string (`kdl`, `kdl,must-fail`, `sh`, ...), its text and the
/// line of its opening fence (from 1).
struct Block {
    info: String,
    text: String,
    line: usize,
}

/// The fenced blocks of a Markdown text, callouts' `> ` taken off as niri does.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let line = line.trim();
        let line = line
            .strip_prefix("> ")
            .or_else(|| line.strip_prefix('>'))
            .unwrap_or(line);
        match &mut open {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some(Block {
                        info: info.trim().to_string(),
                        text: String::new(),
                        line: i + 1,
                    });
                }
            }
            Some(block) => {
                if line.starts_with("```") {
                    found.push(open.take().unwrap());
                } else {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    found
}

/// The text outside fenced blocks, each line with its number (from 1).
fn prose(markdown: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (i, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            lines.push((i + 1, line));
        }
    }
    lines
}

/// The inline code spans of a line of prose.
fn code_spans(line: &str) -> Vec<&str> {
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let fence = &rest[start..start + ticks];
        let body = &rest[start + ticks..];
        match body.find(fence) {
            Some(end) => {
                spans.push(body[..end].trim());
                rest = &body[end + ticks..];
            }
            None => break,
        }
    }
    spans
}

#[test]
fn every_kdl_example_decodes_and_every_must_fail_one_does_not() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, text) in documents() {
        for block in blocks(&text) {
            let must_fail = match block.info.as_str() {
                "kdl" => false,
                "kdl,must-fail" => true,
                other if other.starts_with("kdl") => {
                    panic!(
                        "{}:{}: unknown info string `{other}`",
                        path.display(),
                        block.line
                    )
                }
                _ => continue,
            };
            checked += 1;
            let (manifest, errors, _) =
                lambda_batch::manifest::parse_partial(Utf8Path::new("/x/lambda.kdl"), &block.text);
            let decodes = manifest.is_some() && errors.is_empty();
            if decodes == must_fail {
                failures.push(format!(
                    "{}:{}: {}\n{:?}\n{}",
                    path.display(),
                    block.line,
                    if must_fail {
                        "a must-fail example decodes"
                    } else {
                        "an example does not decode"
                    },
                    errors.iter().map(|e| &e.message).collect::<Vec<_>>(),
                    block.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 5, "only {checked} KDL examples found");
}

#[test]
fn the_kdl_examples_test_tells_good_from_bad() {
    let text = "```kdl\nworkspace \"w\" {\n    function \"f\"\n}\n```\n\n> ```kdl,must-fail\n> defaults {\n>     arch \"sparc\"\n> }\n> ```\n";
    let found = blocks(text);
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].info, "kdl,must-fail");
    let decodes = |t: &str| {
        let (m, e, _) = lambda_batch::manifest::parse_partial(Utf8Path::new("/x/lambda.kdl"), t);
        m.is_some() && e.is_empty()
    };
    assert!(decodes(&found[0].text));
    assert!(!decodes(&found[1].text), "{}", found[1].text);
}

// ----- command lines -----

/// Every `lambda-batch ...` command line of a document, with its line: code spans that start
/// with it, and lines of code blocks where it stands in command position (first on the line,
/// after `$(`, `|`, `;`, `&&`, YAML's `run:`, or variable assignments). Each is cut at the end
/// of its command (`)`, `|` between words, `;`, `&&`, `>`, `#`).
fn command_lines(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in prose(markdown) {
        for span in code_spans(line) {
            if span.starts_with("lambda-batch ") {
                found.push((n, cut_span(&span.replace("\\|", "|"))));
            }
        }
    }
    for block in blocks(markdown) {
        let joined = block.text.replace("\\\n", " ");
        for (i, line) in joined.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("lambda-batch ") {
                let before = rest[..at].trim_end();
                let before = before.strip_suffix("run:").unwrap_or(before).trim_end();
                let before = before.strip_suffix('-').unwrap_or(before).trim_end();
                let in_position = before.is_empty()
                    || ["$(", "|", ";", "&&", "(", "\""]
                        .iter()
                        .any(|s| before.ends_with(s))
                    || before
                        .split_whitespace()
                        .all(|w| w.contains('=') && !w.starts_with('-'));
                let tail = &rest[at..];
                if !in_position {
                    rest = &tail["lambda-batch ".len()..];
                    continue;
                }
                let end = [")", " | ", ";", "&&", ">", " #"]
                    .iter()
                    .filter_map(|stop| tail.find(stop))
                    .min()
                    .unwrap_or(tail.len());
                let command = tail[..end].split_whitespace().collect::<Vec<_>>().join(" ");
                found.push((block.line + 1 + i, command));
                rest = &tail[end..];
            }
        }
    }
    found
}

/// clap's definition of the command line, built (so `help`, `--help`, `--version` and the
/// global flags are on every subcommand, as the binary has them).
fn cli() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

/// A command line written in a code span, cut where a shell would end its command: at a ` | `,
/// `;`, `&&` or ` > ` outside brackets (inside them, `|` separates alternatives).
fn cut_span(span: &str) -> String {
    let mut depth = 0i32;
    for (i, c) in span.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            _ if depth == 0 => {
                let rest = &span[i..];
                if [" | ", ";", "&&", " > ", " #"]
                    .iter()
                    .any(|s| rest.starts_with(s))
                {
                    return span[..i].trim().to_string();
                }
            }
            _ => {}
        }
    }
    span.trim().to_string()
}

/// What is wrong with a documented command line, if anything: an unknown subcommand, or a
/// flag the command it names does not have. Placeholders (`[OPTIONS]`, `<COMMAND>`, `FILE`)
/// and alternatives (`text|json`, `--shard K/N | --shards N`) are read as a person would.
fn check_command_line(line: &str) -> Result<(), String> {
    let root = cli();
    let mut cmd = &root;
    let mut path = vec!["lambda-batch".to_string()];
    let mut words = line.split_whitespace().skip(1).peekable();
    let mut descend = true;
    while let Some(word) = words.next() {
        let bare = word.trim_matches(|c| "[]()<>{}.,:`\"'".contains(c));
        if bare.is_empty() {
            continue;
        }
        if bare.starts_with('-') {
            for alternative in bare.split('|') {
                let flag = alternative.split('=').next().unwrap_or(alternative);
                let flag = flag.trim_matches(|c| "[]()<>.,".contains(c));
                if !flag.starts_with('-') || flag == "-" {
                    continue;
                }
                let takes_value = find_flag(cmd, flag)
                    .ok_or_else(|| format!("`{}` has no flag `{flag}`", path.join(" ")))?;
                // The flag's value is the next word, not a subcommand.
                if takes_value && !alternative.contains('=') {
                    if let Some(next) = words.peek() {
                        if !next.starts_with('-') && !next.starts_with('[') {
                            words.next();
                        }
                    }
                }
            }
            continue;
        }
        let is_word = bare
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-' || c == '|');
        if !descend || !is_word || cmd.get_subcommands().next().is_none() {
            // A value, a placeholder or a positional argument: no subcommand after it.
            descend = false;
            continue;
        }
        let names: Vec<&str> = bare.split('|').collect();
        let mut next = None;
        for name in &names {
            let sub = cmd
                .find_subcommand(name)
                .ok_or_else(|| format!("`{}` has no subcommand `{name}`", path.join(" ")))?;
            next = next.or(Some(sub));
        }
        // `add function|extension`: the flags are checked against the first.
        cmd = next.unwrap();
        path.push(cmd.get_name().to_string());
    }
    Ok(())
}

/// Whether `cmd` has the flag `flag` (`--long` or `-s`), and if so whether it takes a value.
fn find_flag(cmd: &clap::Command, flag: &str) -> Option<bool> {
    cmd.get_arguments()
        .find(|a| match flag.strip_prefix("--") {
            Some(long) => a.get_long() == Some(long),
            None => flag.len() == 2 && a.get_short() == flag.chars().nth(1),
        })
        .map(|a| a.get_action().takes_values())
}

/// Every subcommand, at any depth.
fn all_subcommands(cmd: &clap::Command) -> Vec<&clap::Command> {
    let mut all = Vec::new();
    for sub in cmd.get_subcommands() {
        all.push(sub);
        all.extend(all_subcommands(sub));
    }
    all
}

#[test]
fn every_documented_command_line_names_real_subcommands_and_flags() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, text) in documents() {
        for (line, command) in command_lines(&text) {
            checked += 1;
            if let Err(e) = check_command_line(&command) {
                failures.push(format!("{}:{line}: `{command}`: {e}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 40, "only {checked} command lines found");
}

#[test]
fn the_command_line_check_rejects_what_does_not_exist() {
    for good in [
        "lambda-batch run --shard 2/4 --cache s3://b/p --report r.json",
        "lambda-batch plan [MANIFEST] [--format text|json] [-v] [--shard K/N | --shards N]",
        "lambda-batch add function NAME --workspace PATH [--arch A]... [--flatten]",
        "lambda-batch emit terraform|sam|serverless --report FILE [-o FILE]",
        "lambda-batch [--color auto|always|never] <COMMAND> [OPTIONS]",
        "lambda-batch run -j 4 --color never",
    ] {
        assert_eq!(check_command_line(good), Ok(()), "{good}");
    }
    for bad in [
        "lambda-batch build",
        "lambda-batch run --no-such-flag",
        "lambda-batch plan --keep-going",
        "lambda-batch add lambda NAME",
        "lambda-batch list -j 2",
        "lambda-batch emit terraform --to s3://b/p",
    ] {
        assert!(check_command_line(bad).is_err(), "`{bad}` passes");
    }
    let found = command_lines(
        "Run `lambda-batch check --deny-warnings`.\n\n```yaml\n      - run: lambda-batch run --cache-only \\\n          --report r.json\n      - run: echo \"m=$(lambda-batch plan --shards 2 --format json)\" >> out\n      - run: cargo install --locked lambda-batch --version 0.1.0\n```\n```sh\nLAMBDA_BATCH_CACHE=/c lambda-batch run | tee log\n```\n",
    );
    let found: Vec<&str> = found.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(
        found,
        [
            "lambda-batch check --deny-warnings",
            "lambda-batch run --cache-only --report r.json",
            "lambda-batch plan --shards 2 --format json",
            "lambda-batch run",
        ]
    );
}

/// The sections of docs/cli.md headed by a command in backquotes (`## \`run\``), by name.
fn cli_sections() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("docs/cli.md")).expect("docs/cli.md");
    let mut sections = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for (_, line) in prose(&text).into_iter().chain([(0, "## end")]) {
        if line.starts_with("## ") || line.starts_with("### ") {
            if let Some((name, body)) = current.take() {
                sections.insert(name, body);
            }
            let title = line.trim_start_matches('#').trim();
            if let Some(name) = title.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
                current = Some((name.to_string(), String::new()));
            }
            continue;
        }
        if let Some((_, body)) = &mut current {
            body.push_str(line);
            body.push('\n');
        }
    }
    // Code blocks count as part of their section.
    let mut name = None;
    for line in text.lines() {
        if line.starts_with("## ") || line.starts_with("### ") {
            let title = line.trim_start_matches('#').trim();
            name = title
                .strip_prefix('`')
                .and_then(|t| t.strip_suffix('`'))
                .map(str::to_string);
        } else if let Some(n) = &name {
            if line.starts_with("lambda-batch ") {
                let body = sections.get_mut(n).unwrap();
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    sections
}

#[test]
fn docs_cli_names_every_subcommand_and_every_flag() {
    let sections = cli_sections();
    let root = cli();
    let mut missing = Vec::new();
    let mut run_flags = BTreeSet::new();
    for sub in root.get_subcommands() {
        for flag in flags_of(sub) {
            if sub.get_name() == "run" {
                run_flags.insert(flag.clone());
            }
        }
    }
    for sub in root.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        let Some(body) = sections.get(name) else {
            missing.push(format!("no section `{name}`"));
            continue;
        };
        let inherits_run =
            body.contains("every flag of run") || body.contains("every flag of `run`");
        let mut flags: BTreeSet<String> = flags_of(sub);
        for nested in all_subcommands(sub) {
            flags.extend(flags_of(nested));
        }
        for flag in flags {
            if inherits_run && run_flags.contains(&flag) {
                continue;
            }
            if !mentions(body, &flag) {
                missing.push(format!("`{name}`'s section does not name `{flag}`"));
            }
        }
    }
    assert!(missing.is_empty(), "docs/cli.md:\n{}", missing.join("\n"));
}

#[test]
fn every_flag_docs_cli_names_in_a_section_is_that_commands() {
    let root = cli();
    let mut failures = Vec::new();
    for (name, body) in cli_sections() {
        let Some(cmd) = root.find_subcommand(&name) else {
            failures.push(format!("a section `{name}` of no subcommand"));
            continue;
        };
        let mut commands = vec![cmd];
        commands.extend(all_subcommands(cmd));
        for line in body.lines() {
            for span in code_spans(line) {
                let first = span.split_whitespace().next().unwrap_or("");
                if first == "lambda-batch" {
                    continue;
                }
                if root.find_subcommand(first).is_some() {
                    // `run --shard K/N` in another command's section.
                    if let Err(e) = check_command_line(&format!("lambda-batch {span}")) {
                        failures.push(format!("section `{name}`: `{span}`: {e}"));
                    }
                    continue;
                }
                for word in span.split([' ', ',', '|', '[', ']']) {
                    let flag = word.split('=').next().unwrap_or(word);
                    if !flag.starts_with('-') || flag.len() < 2 || flag.starts_with("---") {
                        continue;
                    }
                    if !commands.iter().any(|c| find_flag(c, flag).is_some()) {
                        failures.push(format!("section `{name}`: `{flag}` is no flag of `{name}`"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "docs/cli.md:\n{}", failures.join("\n"));
}

/// The long and short flags of a command (without `--help`, `--version` and globals).
fn flags_of(cmd: &clap::Command) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    for arg in cmd.get_arguments() {
        if arg.is_global_set() || arg.is_positional() {
            continue;
        }
        if let Some(long) = arg.get_long() {
            if long != "help" && long != "version" {
                flags.insert(format!("--{long}"));
            }
        }
        if let Some(short) = arg.get_short() {
            if short != 'h' && short != 'V' {
                flags.insert(format!("-{short}"));
            }
        }
    }
    flags
}

/// Whether `text` names `flag` as a word (`--cache` is not named by `--cache-only`).
fn mentions(text: &str, flag: &str) -> bool {
    text.match_indices(flag).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + flag.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '-')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '-')
    })
}

// ----- the manifest reference -----

const NODES_MARK: &str = "nodes";
const SETTINGS_MARK: &str = "settings";

/// A table cell: pipes escaped, and `<name>` kept from reading as an HTML tag.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn values_of(shape: ValueShape) -> String {
    match shape {
        ValueShape::OneOf(words) => words
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", "),
        ValueShape::Arch => "one or more architectures or triples".into(),
        // A path, or a template with placeholders: the section says which.
        ValueShape::String | ValueShape::Path => "one string".into(),
        ValueShape::Bool => "`true` or `false`".into(),
        ValueShape::Flag => "bare, or `true`/`false`".into(),
        ValueShape::Strings => "one or more strings".into(),
        ValueShape::Include => "glob patterns; `into=`, `as=`".into(),
        ValueShape::Env => "`KEY=\"value\"` properties".into(),
    }
}

/// The table of the structural nodes, from their declarations.
fn nodes_table() -> String {
    let mut s = String::from(
        "| node | where | argument | properties | settings inside | what |\n|---|---|---|---|---|---|\n",
    );
    for n in NODES {
        let place = n
            .parents
            .iter()
            .map(|p| match p {
                None => "top level".to_string(),
                Some(p) => format!("in `{p}`"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let place = if n.unique {
            format!("{place}, at most once")
        } else {
            place
        };
        let properties = n
            .properties
            .iter()
            .map(|(name, ty, doc)| {
                let example = if *ty == "boolean" { "true" } else { "\"...\"" };
                format!("`{name}={example}`: {doc}")
            })
            .collect::<Vec<_>>()
            .join("; ");
        s.push_str(&format!(
            "| [`{name}`](#{name}) | {place} | {arg} | {props} | {settings} | {doc} |\n",
            name = n.name,
            arg = cell(n.argument.unwrap_or("—")),
            props = if properties.is_empty() {
                "—".into()
            } else {
                cell(&properties)
            },
            settings = if n.settings { "yes" } else { "no" },
            doc = cell(n.doc),
        ));
    }
    s
}

/// The table of the settings, from their declarations.
fn settings_table() -> String {
    let mut s = String::from(
        "| setting | values | default | where | levels | what |\n|---|---|---|---|---|---|\n",
    );
    for setting in SETTINGS {
        let levels = if setting.levels == EVERY_LEVEL {
            "every level".to_string()
        } else {
            setting
                .levels
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let rule = match setting.inheritance {
            Inheritance::Replaces => "replace",
            Inheritance::Accumulates => "accumulate",
        };
        s.push_str(&format!(
            "| [`{name}`](#{name}) | {values} | {default} | {levels} | {rule} | {doc} |\n",
            name = setting.name,
            values = cell(&values_of(setting.shape)),
            default = cell(setting.default),
            doc = cell(setting.doc),
        ));
    }
    s
}

/// `text` with the generated part named `mark` replaced by `table`.
fn with_generated(text: &str, mark: &str, table: &str) -> String {
    let begin = format!("<!-- generated: {mark} ");
    let end = format!("<!-- end generated: {mark} -->");
    let start = text
        .find(&begin)
        .unwrap_or_else(|| panic!("docs/manifest.md has no `{begin}` marker"));
    let start = start + text[start..].find('\n').unwrap() + 1;
    let stop = text[start..]
        .find(&end)
        .unwrap_or_else(|| panic!("docs/manifest.md has no `{end}` marker"))
        + start;
    format!("{}{table}{}", &text[..start], &text[stop..])
}

#[test]
fn docs_manifest_tables_are_the_declarations() {
    let path = root().join("docs/manifest.md");
    let text = std::fs::read_to_string(&path).expect("docs/manifest.md");
    let generated = with_generated(&text, NODES_MARK, &nodes_table());
    let generated = with_generated(&generated, SETTINGS_MARK, &settings_table());
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    assert!(
        text == generated,
        "docs/manifest.md's generated tables differ from the declarations in \
         src/manifest/settings.rs and spec.rs: run `UPDATE_DOCS=1 cargo test --test it docs::` \
         and commit the result"
    );
}

/// The names of the `### \`NAME\`` sections under the `## ` heading that starts with `under`.
fn sections_under(text: &str, under: &str) -> BTreeSet<String> {
    let mut inside = false;
    let mut names = BTreeSet::new();
    for (_, line) in prose(text) {
        if let Some(title) = line.strip_prefix("## ") {
            inside = title.starts_with(under);
        } else if let Some(title) = line.strip_prefix("### ") {
            if inside {
                let name = title
                    .trim()
                    .strip_prefix('`')
                    .and_then(|t| t.strip_suffix('`'))
                    .unwrap_or_else(|| panic!("a section that is not `NAME`: {title}"));
                names.insert(name.to_string());
            }
        }
    }
    names
}

#[test]
fn docs_manifest_has_a_section_for_exactly_each_node_and_setting() {
    let text = std::fs::read_to_string(root().join("docs/manifest.md")).expect("docs/manifest.md");
    let declared_nodes: BTreeSet<String> = NODES.iter().map(|n| n.name.to_string()).collect();
    let declared_settings: BTreeSet<String> = SETTINGS.iter().map(|s| s.name.to_string()).collect();
    let nodes = sections_under(&text, "Nodes");
    let settings = sections_under(&text, "Settings");
    assert_eq!(
        nodes, declared_nodes,
        "docs/manifest.md, \"## Nodes\": one `### \\`NAME\\`` per node of src/manifest/spec.rs"
    );
    let undocumented: Vec<_> = declared_settings.difference(&settings).collect();
    let unknown: Vec<_> = settings.difference(&declared_settings).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "docs/manifest.md, \"## Settings and their levels\": settings without a section: \
         {undocumented:?}; sections of no declared setting: {unknown:?} (one `### \\`NAME\\`` per \
         setting of src/manifest/settings.rs)"
    );
}

// ----- links and paths -----

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings.
fn anchors(markdown: &str) -> BTreeSet<String> {
    prose(markdown)
        .into_iter()
        .filter(|(_, l)| l.starts_with('#'))
        .map(|(_, l)| slug(l.trim_start_matches('#')))
        .collect()
}

/// The targets of the inline links `[text](target)` of a line.
fn link_targets(line: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let tail = &rest[at + 2..];
        match tail.find(')') {
            Some(end) => {
                targets.push(&tail[..end]);
                rest = &tail[end..];
            }
            None => break,
        }
    }
    targets
}

/// `path` with `.` and `..` folded, or `None` when it climbs out of the repository.
fn inside_repository(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            _ => return None,
        }
    }
    Some(out)
}

#[test]
fn every_link_stays_in_the_repository_and_resolves() {
    let mut failures = Vec::new();
    for (path, text) in documents() {
        let dir = path.parent().unwrap_or(Path::new(""));
        for (n, line) in prose(&text) {
            for target in link_targets(line) {
                let at = format!("{}:{n}: `{target}`", path.display());
                if target.starts_with("https://") {
                    continue;
                }
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target, None),
                };
                let resolved = if file.is_empty() {
                    Some(path.clone())
                } else if file.starts_with('/') || file.contains(':') {
                    None
                } else {
                    inside_repository(&dir.join(file))
                };
                let Some(resolved) = resolved else {
                    failures.push(format!("{at} leaves the repository"));
                    continue;
                };
                if !root().join(&resolved).exists() {
                    failures.push(format!("{at}: no such file"));
                    continue;
                }
                if let Some(anchor) = anchor {
                    let target_text =
                        std::fs::read_to_string(root().join(&resolved)).unwrap_or_default();
                    if !anchors(&target_text).contains(anchor) {
                        failures.push(format!("{at}: no heading `#{anchor}` there"));
                    }
                }
            }
        }
        for forbidden in ["/work/", "shared/SPEC", "SPEC.md", "SPEC §"] {
            if text.contains(forbidden) {
                failures.push(format!("{} names `{forbidden}`", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_path_the_docs_name_exists() {
    let mut failures = Vec::new();
    for (path, text) in documents() {
        for (n, line) in prose(&text) {
            for span in code_spans(line) {
                for word in span.split([' ', ',', '(', ')']) {
                    let word = word.trim_end_matches(['.', ':', ';']);
                    let named = [
                        "src/",
                        "tests/",
                        "scripts/",
                        "schema/",
                        "examples/",
                        "docs/",
                    ]
                    .iter()
                    .any(|p| word.starts_with(p));
                    if !named || word.contains(['*', '<', '{', '[', '$']) {
                        continue;
                    }
                    if !root().join(word).exists() {
                        failures.push(format!("{}:{n}: `{word}` does not exist", path.display()));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_readmes_layout_of_the_code_names_every_module() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("## Layout of the code")
        .expect("a Layout of the code section");
    let end = readme[start + 3..]
        .find("\n## ")
        .map_or(readme.len(), |e| e + start + 3);
    let layout = &readme[start..end];
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("src")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "lib.rs" || name == "main.rs" {
            continue;
        }
        let is_dir = entry.path().is_dir();
        // A directory beside `NAME.rs` holds that module's submodules.
        if is_dir && root().join("src").join(format!("{name}.rs")).exists() {
            continue;
        }
        let named = format!("`src/{name}`");
        if !layout.contains(&named) {
            missing.push(named);
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's \"Layout of the code\" does not name {missing:?}"
    );
    // Where a setting is declared, merged and used: findable from the README alone.
    for file in [
        "src/manifest/settings.rs",
        "src/resolve/settle.rs",
        "src/resolve/artifact.rs",
    ] {
        assert!(layout.contains(file), "the README does not say `{file}`");
    }
}

#[test]
fn the_readme_starts_with_the_two_commands_and_ci_runs_the_second() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.starts_with(
            "# lambda-batch\n\n```sh\n./scripts/run.sh     # installs what it needs, then builds every artifact of ./lambda.kdl\n./scripts/test.sh    # installs what it needs, then runs the whole test suite (what CI runs)\n```\n"
        ),
        "the README no longer opens with the two commands"
    );
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(ci.lines().any(|l| l.trim() == "./scripts/test.sh"));
}

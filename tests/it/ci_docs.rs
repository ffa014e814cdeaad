//! docs/ci.md is a workflow that works: every YAML block parses; each complete workflow has
//! jobs whose `needs` exist and a matrix read from the `plan` job; and every `lambda-batch`
//! command line of every `run:` step, with GitHub's `${{ ... }}` expressions replaced by
//! plausible values, is accepted by lambda-batch's own argument parser. Together the blocks
//! hold the three steps of the sharded pipeline: the split, the shards storing into the cache,
//! and the assemble step.

use std::path::PathBuf;

use lambda_batch::cli::{Cli, Command};
use serde_yaml::Value;

fn doc() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md");
    std::fs::read_to_string(&path).expect("docs/ci.md")
}

/// The text of every ```yaml block.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_start().starts_with("```yaml") => current = Some(String::new()),
            Some(block) if line.trim_start().starts_with("```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "an unclosed code block");
    blocks
}

/// A plausible value for a GitHub expression, as a runner would substitute it.
fn expression(expr: &str) -> String {
    match expr.trim() {
        "matrix.shard" => "2/4".into(),
        "matrix.estimated_seconds" => "120".into(),
        "strategy.job-index" => "1".into(),
        "env.AWS_REGION" => "eu-west-1".into(),
        "github.sha" => "0123abcd".into(),
        other => panic!("no plausible value for the expression `{other}`"),
    }
}

/// `text` with each `${{ ... }}` replaced.
fn expand(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("a closed expression") + start;
        out.push_str(&expression(&rest[start + 3..end]));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Every `lambda-batch ...` command line in a shell script: lines joined at a trailing
/// backslash, each command cut at the end of its line or of its `$( ... )`, or at `|`, `;`,
/// `&&`, `>`; white space runs made one space.
fn commands(script: &str) -> Vec<String> {
    let joined = script.replace("\\\n", " ");
    let mut found = Vec::new();
    for line in joined.lines() {
        let mut rest = line;
        while let Some(i) = rest.find("lambda-batch ") {
            // In command position: first on the line, or after `$(`, a pipe, `;` or `&&`.
            let before = rest[..i].trim_end();
            let word_start = (i == 0
                || rest.as_bytes()[i - 1].is_ascii_whitespace()
                || rest.as_bytes()[i - 1] == b'(')
                && (before.is_empty() || before.ends_with(['(', '|', ';', '&']));
            let tail = &rest[i..];
            if !word_start {
                rest = &tail["lambda-batch ".len()..];
                continue;
            }
            let end = [")", "|", ";", "&&", ">"]
                .iter()
                .filter_map(|stop| tail.find(stop))
                .min()
                .unwrap_or(tail.len());
            found.push(tail[..end].split_whitespace().collect::<Vec<_>>().join(" "));
            rest = &tail[end..];
        }
    }
    found
}

/// Every `run:` of every step of every job.
fn run_steps(workflow: &Value) -> Vec<String> {
    let mut runs = Vec::new();
    let steps_of = |steps: &Value, runs: &mut Vec<String>| {
        for step in steps.as_sequence().into_iter().flatten() {
            if let Some(run) = step.get("run").and_then(Value::as_str) {
                runs.push(run.to_string());
            }
        }
    };
    if let Some(jobs) = workflow.get("jobs").and_then(Value::as_mapping) {
        for job in jobs.values() {
            steps_of(job.get("steps").unwrap_or(&Value::Null), &mut runs);
        }
    }
    // A fragment: the steps of one job.
    steps_of(workflow.get("steps").unwrap_or(&Value::Null), &mut runs);
    runs
}

#[test]
fn every_workflow_parses_and_every_command_line_is_accepted() {
    let blocks = yaml_blocks(&doc());
    assert!(blocks.len() >= 2, "{} yaml blocks", blocks.len());
    let mut all: Vec<Cli> = Vec::new();
    let mut workflows = 0;
    for block in &blocks {
        let workflow: Value = serde_yaml::from_str(block)
            .unwrap_or_else(|e| panic!("a YAML block does not parse: {e}\n{block}"));
        if let Some(jobs) = workflow.get("jobs").and_then(Value::as_mapping) {
            workflows += 1;
            assert!(workflow.get("on").is_some(), "a workflow without `on`");
            // Every `needs` names a job of the workflow.
            for (name, job) in jobs {
                for need in job
                    .get("needs")
                    .map(|n| match n {
                        Value::Sequence(s) => s.clone(),
                        other => vec![other.clone()],
                    })
                    .unwrap_or_default()
                {
                    assert!(
                        jobs.contains_key(&need),
                        "job {name:?} needs {need:?}, which is not a job"
                    );
                }
                assert!(job.get("runs-on").is_some(), "job {name:?} has no runs-on");
            }
            // The shard jobs take their matrix from the `plan` job's output.
            let matrix = jobs
                .values()
                .find_map(|j| j.get("strategy")?.get("matrix")?.as_str())
                .expect("a job with a matrix");
            assert_eq!(matrix, "${{ fromJSON(needs.plan.outputs.matrix) }}");
            let plan_output = jobs
                .get("plan")
                .and_then(|p| p.get("outputs")?.get("matrix")?.as_str())
                .expect("the plan job's output");
            assert_eq!(plan_output, "${{ steps.split.outputs.matrix }}");
        }
        for run in run_steps(&workflow) {
            for line in commands(&expand(&run)) {
                assert!(!line.contains('$'), "a shell expansion left in `{line}`");
                let words = shlex::split(&line).unwrap_or_else(|| panic!("cannot split `{line}`"));
                let cli = Cli::parse_args(&words)
                    .unwrap_or_else(|e| panic!("`{line}` is rejected:\n{e}"));
                all.push(cli);
            }
        }
    }
    assert!(workflows >= 2, "{workflows} complete workflows");

    // The pipeline's three steps are there: the split, the shards, the assemble step.
    let splits = all
        .iter()
        .filter(|c| matches!(&c.command, Command::Plan { shards: Some(_), format, .. } if *format == lambda_batch::cli::Format::Json))
        .count();
    assert!(
        splits >= 2,
        "`plan --shards N --format json` in each workflow"
    );
    let shards: Vec<_> = all
        .iter()
        .filter_map(|c| match &c.command {
            Command::Run(r) if r.shard.shard.is_some() => Some(r),
            _ => None,
        })
        .collect();
    assert!(shards.len() >= 3, "{} `run --shard` lines", shards.len());
    for r in &shards {
        assert_eq!(r.shard.shard.as_ref().unwrap().to_string(), "2/4");
        assert!(
            r.cache.is_some(),
            "a shard that does not store into the cache"
        );
        assert!(!r.cache_only);
    }
    let assembles: Vec<_> = all
        .iter()
        .filter_map(|c| match &c.command {
            Command::Run(r) if r.cache_only => Some(r),
            _ => None,
        })
        .collect();
    assert!(
        assembles.len() >= 2,
        "a `run --cache-only` in each workflow"
    );
    for r in assembles {
        assert!(r.cache.is_some() && r.report.is_some() && r.shard.shard.is_none());
    }
}

#[test]
fn the_extraction_finds_commands_and_the_parser_rejects_bad_ones() {
    assert_eq!(
        commands(
            "echo \"matrix=$(lambda-batch plan --shards 4 --format json)\" >> \"$GITHUB_OUTPUT\"\nlambda-batch run \\\n  --shard 1/2 | tee log"
        ),
        [
            "lambda-batch plan --shards 4 --format json",
            "lambda-batch run --shard 1/2"
        ]
    );
    assert_eq!(
        commands("cargo install --locked lambda-batch --version 0.1.0"),
        Vec::<String>::new()
    );
    assert_eq!(expand("--shard ${{ matrix.shard }}"), "--shard 2/4");
    // The parser the test relies on does reject what lambda-batch rejects.
    for bad in [
        "lambda-batch run --shard 0/4",
        "lambda-batch run --shard 5/4",
        "lambda-batch run --shard 1/0",
        "lambda-batch plan --shards 0",
        "lambda-batch plan --shard 1/2 --shards 2",
        "lambda-batch run --timings t.json",
        "lambda-batch run --cache-mode sometimes",
        "lambda-batch run --no-such-flag",
    ] {
        let words = shlex::split(bad).unwrap();
        assert!(Cli::parse_args(&words).is_err(), "`{bad}` is accepted");
    }
}

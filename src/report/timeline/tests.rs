//! The timeline drawn from made-up events of a made-up plan: what the page and the Mermaid
//! block hold, parsed back (an HTML parser; the gantt checker of the integration tests).

use std::time::{Duration, SystemTime};

use camino::Utf8PathBuf;
use scraper::{Html, Selector};

use super::*;
use crate::manifest::settings::OutputFormat;
use crate::manifest::values::Arch;
use crate::package::Packaged;
use crate::package::fixture::{Tree, resolved};
use crate::plan::{CargoFlags, plan_with_env};
use crate::resolve::{Resolved, ResolvedArtifact};

// The integration tests' checker of Mermaid's gantt grammar (the unit tests use part of it).
#[allow(dead_code, unreachable_pub)]
#[path = "../../../tests/it/support/gantt.rs"]
mod gantt;

/// A plan of three artifacts: `api` and `worker` (x86_64 and arm64: two calls) in one lane,
/// and one with a hostile name in a second lane.
fn plan(tree: &Tree) -> Plan {
    let base = &tree.base;
    let artifact = |name: &str, lane: usize, arch: Arch| -> ResolvedArtifact {
        let mut a = resolved(base, OutputFormat::Zip);
        a.identity.name = name.into();
        a.identity.bin = name.into();
        a.identity.package_bins = vec![name.into()];
        a.cargo.target_dir = base.join(format!("target{lane}"));
        a.packaging.lambda_dir = base.join(format!("lambda/{}", arch.as_str()));
        if arch == Arch::Arm64 {
            a.build.arch = arch;
            a.build.target = "aarch64-unknown-linux-gnu".into();
        }
        a
    };
    let artifacts = vec![
        artifact("api", 0, Arch::X86_64),
        artifact("worker", 0, Arch::Arm64),
        artifact("evil<b>&\"name:#;%", 1, Arch::X86_64),
    ];
    let manifest = crate::manifest::Manifest {
        path: base.join("lambda.kdl"),
        dir: base.clone(),
        source: miette::NamedSource::new("lambda.kdl", std::sync::Arc::from("")),
        defaults: Default::default(),
        cache: None,
        publish: None,
        workspaces: Vec::new(),
    };
    let resolved = Resolved {
        manifest,
        artifacts,
        workspaces: Default::default(),
    };
    plan_with_env(&resolved, &CargoFlags::default(), &|_| None, None).unwrap()
}

fn at(ms: u64, event: Event) -> Stamped {
    Stamped {
        at: Duration::from_millis(ms),
        event,
    }
}

fn packaged(size: u64, fresh: bool) -> Packaged {
    Packaged {
        output: Utf8PathBuf::from("/out/bootstrap.zip"),
        fresh,
        size,
        sha256: [0; 32],
        entries: Vec::new(),
        warning: None,
    }
}

/// The group of the artifact named `name`.
fn group_of(plan: &Plan, name: &str) -> usize {
    let a = plan
        .artifacts
        .iter()
        .position(|a| a.resolved.identity.name == name)
        .unwrap();
    plan.artifacts[a].group
}

/// One run of [`plan`]: `api`'s call builds (with a wait for its token), `worker`'s comes from
/// the cache (downloaded), the hostile one fails; the CPU is sampled.
fn run(plan: &Plan) -> Vec<Stamped> {
    let (api, worker, evil) = (
        group_of(plan, "api"),
        group_of(plan, "worker"),
        group_of(plan, "evil<b>&\"name:#;%"),
    );
    let index = |name: &str| {
        plan.artifacts
            .iter()
            .position(|a| a.resolved.identity.name == name)
            .unwrap()
    };
    vec![
        at(
            0,
            Event::RunStarted {
                groups: plan.groups.len(),
                artifacts: plan.artifacts.len(),
                jobs: 2,
                started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
                cpus: 2,
            },
        ),
        at(
            400,
            Event::GroupStarted {
                group: api,
                command: "cargo build --release -p catalog --bin api".into(),
                estimated_units: None,
            },
        ),
        at(
            500,
            Event::GroupStarted {
                group: evil,
                command: "cargo build --bin 'evil<b>'".into(),
                estimated_units: None,
            },
        ),
        at(
            800,
            Event::UnitCompiled {
                group: api,
                done: 1,
                total: None,
                name: "serde".into(),
                fresh: false,
            },
        ),
        at(
            900,
            Event::GroupOutput {
                group: evil,
                line: "error: left out of the recording".into(),
            },
        ),
        at(1000, Event::CpuSampled { busy: 0.5 }),
        at(
            1200,
            Event::ArtifactFailed {
                artifact: index("evil<b>&\"name:#;%"),
                error: "could not compile `evil<b>`".into(),
                cause: Cause::Build,
            },
        ),
        at(
            1200,
            Event::GroupFinished {
                group: evil,
                status: GroupStatus::Failed("cargo failed: <b>".into()),
                elapsed: Duration::from_millis(1200),
                cpu: Some(Duration::from_millis(900)),
            },
        ),
        at(2000, Event::CpuSampled { busy: 1.0 }),
        at(
            3000,
            Event::PackagingStarted {
                artifact: index("api"),
                origin: Origin::Built,
            },
        ),
        at(
            3300,
            Event::ArtifactPackaged {
                artifact: index("api"),
                packaged: packaged(3 << 20, false),
                elapsed: Duration::from_millis(3300),
                cache: Some(CacheStatus::Stored),
            },
        ),
        at(
            3400,
            Event::GroupFinished {
                group: api,
                status: GroupStatus::Succeeded,
                elapsed: Duration::from_millis(3400),
                cpu: Some(Duration::from_millis(5100)),
            },
        ),
        at(
            3500,
            Event::PackagingStarted {
                artifact: index("worker"),
                origin: Origin::Fetched,
            },
        ),
        at(
            3600,
            Event::GroupFinished {
                group: worker,
                status: GroupStatus::Cached,
                elapsed: Duration::from_millis(200),
                cpu: None,
            },
        ),
        at(
            3900,
            Event::ArtifactPackaged {
                artifact: index("worker"),
                packaged: packaged(1 << 20, false),
                elapsed: Duration::from_millis(500),
                cache: Some(CacheStatus::Hit),
            },
        ),
        at(4000, Event::CpuSampled { busy: 0.25 }),
    ]
}

fn timeline(tree: &Tree) -> Timeline {
    let plan = plan(tree);
    let events = run(&plan);
    Timeline::new(
        &plan,
        events,
        "3 outputs: 2 built, 0 fresh, 1 failed in 4.0s".into(),
    )
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

#[test]
fn the_events_read_as_calls_and_outputs() {
    let tree = Tree::new();
    let t = timeline(&tree);
    let chart = Chart::of(&t);
    assert_eq!(t.plan.groups.len(), 3, "{:#?}", t.plan.groups);
    let api = chart.calls[group_of(&t.plan, "api")].clone().unwrap();
    assert_eq!(api.state, CallState::Built);
    assert_eq!(api.queued, 0.0);
    assert_eq!(api.spawned, Some(0.4));
    assert_eq!(api.ended, 3.4);
    assert_eq!(api.cpu, Some(5.1));
    assert_eq!(api.units, (1, 0));
    let worker = chart.calls[group_of(&t.plan, "worker")].clone().unwrap();
    assert_eq!(worker.state, CallState::Cached);
    assert_eq!((worker.queued, worker.spawned), (3.4, None));
    assert_eq!(chart.lanes(), vec![0, 1]);
    assert_eq!(chart.end, 4.0);
    assert_eq!(chart.cpu.len(), 3);
    let fetched = &chart.outputs[1];
    assert_eq!(fetched.origin, Some(Origin::Fetched));
    assert_eq!((fetched.ready, fetched.settled), (Some(3.5), Some(3.9)));
    assert!(matches!(chart.outputs[2].state, OutputState::Failed { .. }));
}

#[test]
fn the_page_parses_and_has_a_bar_per_call_and_a_mark_per_output() {
    let tree = Tree::new();
    let t = timeline(&tree);
    let html = page::render(&t, "lambda-batch run");
    let doc = Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(select(&doc, "svg g.call > rect.call").len(), 3);
    assert_eq!(select(&doc, "svg g.call > rect.call.built").len(), 1);
    assert_eq!(select(&doc, "svg g.call > rect.call.cached").len(), 1);
    assert_eq!(select(&doc, "svg g.call > rect.call.failed").len(), 1);
    assert_eq!(select(&doc, "svg g.output").len(), 3);
    assert_eq!(select(&doc, "svg g.output rect.pack.downloaded").len(), 1);
    assert_eq!(select(&doc, "svg g.output rect.pack.written").len(), 1);
    assert_eq!(select(&doc, "svg g.output path.cross.failed").len(), 1);
    // The waits for their turn (the check, a token) before the two cargo calls.
    assert_eq!(select(&doc, "svg g.call > rect.wait").len(), 2);
    // Hovering a call shows its command and timings.
    let titles: Vec<String> = select(&doc, "svg g.call > title")
        .iter()
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(titles.len(), 3);
    assert!(
        titles
            .iter()
            .any(|t| t.contains("cargo build --release -p catalog --bin api")
                && t.contains("cargo started at 0.4s (waited 0.4s), ended at 3.4s (3.0s)")
                && t.contains("CPU 5.1s")),
        "{titles:#?}"
    );
    assert!(titles.iter().any(|t| t.contains("cargo failed: <b>")));
    // A table row per output and per call, and the closing line.
    assert_eq!(select(&doc, "table.outputs tbody tr").len(), 3);
    assert_eq!(select(&doc, "table.calls tbody tr").len(), 3);
    // Each cell under its heading.
    let headings: Vec<String> = select(&doc, "table.calls thead th")
        .iter()
        .map(|e| e.text().collect())
        .collect();
    let api = group_of(&t.plan, "api");
    let row: Vec<String> = select(&doc, "table.calls tbody tr")[api]
        .select(&Selector::parse("td").unwrap())
        .map(|e| e.text().collect())
        .collect();
    let cell = |heading: &str| &row[headings.iter().position(|h| h == heading).unwrap()];
    assert_eq!(cell("Target"), "x86_64-unknown-linux-gnu");
    assert_eq!(cell("Bins"), "api");
    assert_eq!(cell("Status"), "built");
    assert_eq!(cell("Waited"), "0.4s");
    assert_eq!(
        cell("Command"),
        "cargo build --release -p catalog --bin api"
    );
    let summary: String = select(&doc, "p.summary")[0].text().collect();
    assert_eq!(summary, "3 outputs: 2 built, 0 fresh, 1 failed in 4.0s");
    // The hostile name is text, never markup.
    assert!(select(&doc, "b").is_empty());
    assert!(html.contains("evil&lt;b&gt;&amp;&quot;name:#;%"));
    // Self-contained: nothing to fetch, nothing to run.
    for needle in [
        "<script", "<link", "<img", "src=", "href=", "url(", "@import",
    ] {
        assert!(!html.contains(needle), "{needle}");
    }
    assert!(
        html.contains("2027-01-15 08:00:00 UTC"),
        "the start, in UTC"
    );
    // The samples weighted by their spans: (0.5 + 1.0 + 2 × 0.25) / 4.
    assert!(html.contains("50% on average"));
}

#[test]
fn a_recording_cut_short_still_draws_a_valid_page() {
    let tree = Tree::new();
    let plan = plan(&tree);
    // Up to the moment `api`'s cargo is running: nothing settled.
    let events: Vec<Stamped> = run(&plan).into_iter().take(4).collect();
    let t = Timeline::new(&plan, events, "interrupted".into());
    let chart = Chart::of(&t);
    let api = chart.calls[group_of(&plan, "api")].clone().unwrap();
    assert_eq!((api.state, api.ended), (CallState::Killed, 0.8));
    let doc = Html::parse_document(&page::render(&t, "lambda-batch run"));
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(select(&doc, "svg g.call > rect.call.killed").len(), 2);
    assert_eq!(select(&doc, "svg g.output").len(), 0);
    assert_eq!(select(&doc, "table.outputs tbody tr").len(), 3);

    // Nothing recorded at all (a shard with nothing to build).
    let empty = Timeline::new(&plan, Vec::new(), "nothing to build".into());
    let doc = Html::parse_document(&page::render(&empty, "lambda-batch run"));
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert!(select(&doc, "svg g.call > rect.call").is_empty());
    assert!(mermaid::block(&empty, "lambda-batch run").is_empty());
}

#[test]
fn the_mermaid_block_keeps_to_the_gantt_grammar() {
    let tree = Tree::new();
    let t = timeline(&tree);
    let block = mermaid::block(&t, "lambda-batch run (shard 1/2): #1");
    let g = gantt::check(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
    assert_eq!(g.title, "lambda-batch run (shard 1/2)_ _1");
    assert_eq!(g.axis_format, "%M:%S");
    let sections: Vec<&str> = g.sections.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(sections, ["lane 1", "lane 2"]);
    let tasks = g.tasks();
    assert_eq!(tasks.len(), 3);
    let api = tasks.iter().find(|t| t.text.contains("api")).unwrap();
    assert_eq!(api.text, "build api (x86_64) 3.0s");
    assert_eq!((api.start, api.end), (400, 3400));
    assert!(api.tags.is_empty());
    let worker = tasks.iter().find(|t| t.text.contains("worker")).unwrap();
    assert_eq!(worker.tags, ["done"]);
    let evil = tasks.iter().find(|t| t.text.contains("evil")).unwrap();
    assert_eq!(evil.text, "failed evil_b___name____ (x86_64) 0.7s");
    assert_eq!(evil.tags, ["crit"]);
}

#[test]
fn a_long_run_shows_its_longest_calls() {
    let tree = Tree::new();
    let mut plan = plan(&tree);
    let template = plan.groups[0].clone();
    plan.groups = (0..75)
        .map(|i| crate::plan::Group {
            id: i,
            lane: i % 4,
            ..template.clone()
        })
        .collect();
    for a in &mut plan.artifacts {
        a.group = 0;
    }
    let events: Vec<Stamped> = (0..75u64)
        .flat_map(|i| {
            let start = 60_000 * i;
            [
                at(
                    start,
                    Event::GroupStarted {
                        group: i as usize,
                        command: "cargo build".into(),
                        estimated_units: None,
                    },
                ),
                at(
                    // Call i lasts i seconds: the longest are the last ones.
                    start + 1000 * i,
                    Event::GroupFinished {
                        group: i as usize,
                        status: GroupStatus::Succeeded,
                        elapsed: Duration::from_millis(1000 * i),
                        cpu: None,
                    },
                ),
            ]
        })
        .collect();
    let t = Timeline::new(&plan, events, String::new());
    let block = mermaid::block(&t, "lambda-batch run");
    let g = gantt::check(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
    assert_eq!(g.tasks().len(), mermaid::MAX_ROWS);
    assert_eq!(
        g.axis_format, "%H:%M:%S",
        "the run lasts longer than an hour"
    );
    let mut ids: Vec<usize> = g
        .tasks()
        .iter()
        .map(|t| t.id[1..].parse().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (46..=75).collect::<Vec<_>>());
    assert!(block.contains("\n30 of 75 cargo calls shown (the longest)"));
    // The page draws them all.
    let doc = Html::parse_document(&page::render(&t, "lambda-batch run"));
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(select(&doc, "svg g.call > rect.call").len(), 75);
}

#[test]
fn times_for_mermaid_and_for_people() {
    assert_eq!(mermaid::time(0.0), "2000-01-01 00:00:00.000");
    assert_eq!(mermaid::time(3723.0456), "2000-01-01 01:02:03.046");
    assert_eq!(mermaid::time(-1.0), "2000-01-01 00:00:00.000");
    assert_eq!(mermaid::time(1e9), "2000-01-01 23:59:59.999");
    assert_eq!(seconds(0.04), "0.0s");
    assert_eq!(seconds(59.94), "59.9s");
    assert_eq!(seconds(125.4), "2m 05s");
    assert_eq!(mermaid::text("a:b#c;d%e\nf", 80), "a_b_c_d_e_f");
    assert_eq!(mermaid::text("  x  ", 80), "x");
}

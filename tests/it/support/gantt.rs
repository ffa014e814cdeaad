//! A checker of the Mermaid `gantt` blocks lambda-batch writes into GitHub's step summary,
//! line by line against Mermaid's gantt grammar (its jison lexer and parser,
//! `packages/mermaid/src/diagrams/gantt/parser/gantt.jison`). The lexer tries its rules in
//! order at the start of each line, first match wins, case-insensitively: comments, the
//! `accTitle`/`accDescr`/`click`/`call`/`href` forms, the keywords, a bare date, `title`,
//! `section`, and only then a task's text (up to the first `:`) and its data. This checker
//! accepts the subset lambda-batch emits and fails on anything else: a fence, `gantt`,
//! `title`, `dateFormat`, `axisFormat`, then sections of tasks `TEXT :[TAGS,] ID, START, END`
//! with both times in the declared format. Older Mermaid versions also end a task's text or a
//! section's name at `#` or `;`: those are refused everywhere too.

/// The date format lambda-batch declares (dayjs tokens).
pub const DATE_FORMAT: &str = "YYYY-MM-DD HH:mm:ss.SSS";

/// What a checked block holds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Gantt {
    /// The title.
    pub title: String,
    /// The axis format.
    pub axis_format: String,
    /// Each section with its tasks: (text, tags, id, start ms, end ms).
    pub sections: Vec<(String, Vec<Task>)>,
}

/// One task of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Its text as Mermaid shows it (trimmed).
    pub text: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its id.
    pub id: String,
    /// Its start, in milliseconds after midnight of its day (days counted from the first).
    pub start: u64,
    /// Its end.
    pub end: u64,
}

impl Gantt {
    /// Every task, in order.
    pub fn tasks(&self) -> Vec<&Task> {
        self.sections.iter().flat_map(|(_, t)| t).collect()
    }
}

/// Keywords the lexer tries before a task's text, each with what must follow it for the rule
/// to match (`None`: nothing; `Some(true)`: white space). A line starting with one of them is
/// never a task.
const BEFORE_TASKS: &[(&str, bool)] = &[
    ("acctitle", false),
    ("accdescr", false),
    ("href", true),
    ("call", true),
    ("click", true),
    ("gantt", false),
    ("dateformat", true),
    ("inclusiveenddates", false),
    ("topaxis", false),
    ("axisformat", true),
    ("tickinterval", true),
    ("includes", true),
    ("excludes", true),
    ("todaymarker", true),
    ("weekday", true),
    ("weekend", true),
    ("title", true),
    ("accdescription", true),
    ("section", true),
];

/// Checks `markdown` (the step summary's text) holds exactly one gantt block, and returns it.
pub fn check(markdown: &str) -> Result<Gantt, String> {
    let lines: Vec<&str> = markdown.lines().collect();
    let open = lines
        .iter()
        .position(|l| *l == "```mermaid")
        .ok_or("no ```mermaid fence")?;
    if lines[open + 1..].contains(&"```mermaid") {
        return Err("more than one ```mermaid block".into());
    }
    let close = lines[open + 1..]
        .iter()
        .position(|l| *l == "```")
        .map(|i| open + 1 + i)
        .ok_or("the ```mermaid block is not closed")?;
    block(&lines[open + 1..close])
}

/// Checks the lines of one block (between its fences).
pub fn block(lines: &[&str]) -> Result<Gantt, String> {
    let fail = |n: usize, why: &str| Err(format!("line {} `{}`: {why}", n + 1, lines[n]));
    if lines.first() != Some(&"gantt") {
        return Err(format!(
            "the block starts with {:?}, not `gantt`",
            lines.first()
        ));
    }
    let mut gantt = Gantt::default();
    let mut date_format = None;
    let mut ids: Vec<String> = Vec::new();
    for (n, raw) in lines.iter().enumerate().skip(1) {
        let line = raw.trim_start();
        if line.is_empty() {
            continue;
        }
        if line.contains('%') && !line.starts_with("axisFormat ") {
            return fail(n, "`%` starts a comment in some positions");
        }
        if line.contains('#') || line.contains(';') {
            return fail(n, "`#` and `;` end a statement in older Mermaid versions");
        }
        let lower = line.to_ascii_lowercase();
        // A bare date at the start of a line is a token of its own.
        if date_prefix(line) {
            return fail(n, "a line starting with a date is not a statement");
        }
        let keyword = BEFORE_TASKS.iter().find(|(k, ws)| {
            lower.starts_with(k)
                && (!ws
                    || lower[k.len()..]
                        .chars()
                        .next()
                        .is_some_and(char::is_whitespace))
        });
        match keyword.map(|(k, _)| *k) {
            Some("title") => {
                if gantt.title.is_empty() && gantt.sections.is_empty() {
                    gantt.title = line[6..].trim().to_string();
                } else {
                    return fail(n, "one title, before the sections");
                }
            }
            Some("dateformat") => {
                let value = line[11..].trim();
                if value != DATE_FORMAT || !gantt.sections.is_empty() {
                    return fail(n, "the date format is not the declared one, or comes late");
                }
                date_format = Some(value.to_string());
            }
            Some("axisformat") => {
                let value = line[11..].trim();
                let ok = value.split(':').all(|p| matches!(p, "%H" | "%M" | "%S"));
                if !ok || !gantt.sections.is_empty() {
                    return fail(n, "axisFormat other than %H, %M, %S joined by `:`");
                }
                gantt.axis_format = value.to_string();
            }
            Some("section") => {
                let name = line[8..].trim();
                if name.is_empty() || name.contains(':') {
                    return fail(n, "a section needs a name without `:`");
                }
                gantt.sections.push((name.to_string(), Vec::new()));
            }
            Some(_) => return fail(n, "a keyword this checker does not accept"),
            None => {
                let Some((text, data)) = line.split_once(':') else {
                    return fail(n, "neither a statement nor `TEXT : DATA`");
                };
                if text.trim().is_empty() {
                    return fail(n, "a task needs text");
                }
                if date_format.is_none() {
                    return fail(n, "a task before the dateFormat");
                }
                let Some((_, tasks)) = gantt.sections.last_mut() else {
                    return fail(n, "a task outside of any section");
                };
                let task = match task(text, data) {
                    Ok(t) => t,
                    Err(why) => return fail(n, &why),
                };
                if ids.contains(&task.id) {
                    return fail(n, "a task id used twice");
                }
                ids.push(task.id.clone());
                tasks.push(task);
            }
        }
    }
    if date_format.is_none() {
        return Err("no dateFormat".into());
    }
    if gantt.sections.iter().any(|(_, t)| t.is_empty()) {
        return Err("a section without tasks".into());
    }
    Ok(gantt)
}

/// A task from its text and its data (after the `:`): `[TAG, ...] ID, START, END`.
fn task(text: &str, data: &str) -> Result<Task, String> {
    let items: Vec<&str> = data.split(',').map(str::trim).collect();
    let tags: Vec<String> = items
        .iter()
        .take_while(|i| matches!(**i, "done" | "crit" | "active" | "milestone"))
        .map(|t| t.to_string())
        .collect();
    let rest = &items[tags.len()..];
    let [id, start, end] = rest else {
        return Err(format!("data {rest:?}: not `ID, START, END`"));
    };
    let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !id_ok {
        return Err(format!("task id `{id}`"));
    }
    let start = date(start).ok_or_else(|| format!("start `{start}` is not {DATE_FORMAT}"))?;
    let end = date(end).ok_or_else(|| format!("end `{end}` is not {DATE_FORMAT}"))?;
    if end < start {
        return Err("the task ends before it starts".into());
    }
    Ok(Task {
        text: text.trim().to_string(),
        tags,
        id: id.to_string(),
        start,
        end,
    })
}

/// Whether `s` starts with `DDDD-DD-DD`.
fn date_prefix(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// A `YYYY-MM-DD HH:mm:ss.SSS` date-time as milliseconds (from the first day of its month).
fn date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() != 23 || !date_prefix(s) || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[19] != b'.' {
        return None;
    }
    let (day, h, m, sec, ms) = (
        digits(8..10)?,
        digits(11..13)?,
        digits(14..16)?,
        digits(17..19)?,
        digits(20..23)?,
    );
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some((((day - 1) * 24 + h) * 60 + m) * 60_000 + sec * 1000 + ms)
}

#[test]
fn the_checker_refuses_what_mermaid_would_read_otherwise() {
    let ok = [
        "gantt",
        "    title lambda-batch run",
        "    dateFormat YYYY-MM-DD HH:mm:ss.SSS",
        "    axisFormat %M:%S",
        "    section lane 1",
        "    build api (x86_64) 1.2s :c1, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    fresh b (x86_64) 0.0s :done, c2, 2000-01-01 00:00:01.300, 2000-01-01 00:00:01.300",
    ];
    let g = block(&ok).unwrap();
    assert_eq!(g.tasks().len(), 2);
    assert_eq!(g.tasks()[0].start, 100);
    assert_eq!(g.tasks()[1].tags, vec!["done".to_string()]);
    let with = |n: usize, line: &'static str| {
        let mut l = ok.to_vec();
        l[n] = line;
        block(&l)
    };
    for bad in [
        "    build a: b :c1, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    build a#b :c1, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    build a;b :c1, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    build 5% :c1, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    Section x :c1, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    click x :c1, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    Gantt-fn :c1, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    2024-01-01 :c1, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    build a :c1, 2000-01-01 00:00:02.100, 2000-01-01 00:00:01.300",
        "    build a :c1, 2000-01-01 0:00:00.100, 2000-01-01 00:00:01.300",
        "    build a :c1, 2000-01-01 00:00:00.100, 3s",
        "    build a :1c, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    build a :c2, 2000-01-01 00:00:00.100, 2000-01-01 00:00:01.300",
        "    build a",
        "    %% a comment",
        "    todayMarker off",
    ] {
        assert!(with(5, bad).is_err(), "accepted `{bad}`");
    }
    assert!(with(2, "    dateFormat YYYY-MM-DD").is_err());
    assert!(with(3, "    axisFormat %Y-%m-%d").is_err());
    assert!(with(0, "graph").is_err());
    assert!(block(&ok[..4]).is_ok(), "no sections is an empty chart");
}

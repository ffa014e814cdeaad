//! Workflow commands as GitHub reads them: escaping, properties, positions in lambda.kdl.

use camino::Utf8Path;

use super::*;

#[test]
fn data_and_properties_are_escaped_as_github_documents() {
    assert_eq!(
        escape_data("50% done\r\nnext: a,b"),
        "50%25 done%0D%0Anext: a,b"
    );
    assert_eq!(
        escape_property("50% done\r\nnext: a,b"),
        "50%25 done%0D%0Anext%3A a%2Cb"
    );
    // `%` first, so an escape is never escaped twice.
    assert_eq!(escape_data("%0A"), "%250A");
}

#[test]
fn an_annotation_prints_its_properties_in_order() {
    let a = Annotation {
        level: Level::Error,
        file: Some("infra/lambda.kdl".into()),
        start: Some((3, 5)),
        end: Some((3, 12)),
        title: Some("lambda_batch::unknown-setting".into()),
        message: "unknown setting `profle`\nhelp: did you mean `profile`?".into(),
    };
    assert_eq!(
        a.to_string(),
        "::error file=infra/lambda.kdl,line=3,col=5,endLine=3,endColumn=12,title=lambda_batch%3A%3Aunknown-setting::unknown setting `profle`%0Ahelp: did you mean `profile`?"
    );
    let bare = Annotation {
        level: Level::Warning,
        file: None,
        start: None,
        end: None,
        title: None,
        message: "x".into(),
    };
    assert_eq!(bare.to_string(), "::warning::x");
}

#[test]
fn the_file_is_named_from_the_repository_root() {
    let path = Utf8Path::new("/home/runner/work/app/app/infra/lambda.kdl");
    let ws = Utf8Path::new("/home/runner/work/app/app");
    let cwd = Utf8Path::new("/home/runner/work/app/app/infra");
    assert_eq!(file_name(path, Some(ws), Some(cwd)), "infra/lambda.kdl");
    assert_eq!(file_name(path, None, Some(cwd)), "lambda.kdl");
    assert_eq!(
        file_name(path, Some(Utf8Path::new("/elsewhere")), None),
        path.as_str()
    );
}

#[test]
fn a_diagnostic_points_at_its_span() {
    let text = "defaults {\n    profile \"dev\"\n    profle \"release\"\n}\n";
    let errors = crate::manifest::parse(Utf8Path::new("/r/lambda.kdl"), text).unwrap_err();
    let annotations = diagnostics(&errors.0, Some("lambda.kdl"));
    assert!(!annotations.is_empty());
    let a = &annotations[0];
    assert_eq!(a.level, Level::Error);
    assert_eq!(a.file.as_deref(), Some("lambda.kdl"));
    assert_eq!(a.start.map(|s| s.0), Some(3), "{a:?}");
    assert_eq!(a.start.map(|s| s.1), Some(5), "{a:?}");
    assert_eq!(
        a.end,
        Some((3, 20)),
        "the node, without the line break after it"
    );
    assert!(a.message.contains("profle"), "{a:?}");
    assert!(
        a.to_string()
            .starts_with("::error file=lambda.kdl,line=3,col=5,")
    );
}

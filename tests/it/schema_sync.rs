//! schema/ is generated from the code: regenerate it and fail on any difference
//! (`UPDATE_SCHEMAS=1 cargo test --test it schema_sync::` rewrites the files).

use std::path::Path;

use camino::Utf8Path;

#[test]
fn schema_files_match_the_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (name, content) in lambda_batch::schema::files() {
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &content).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == content => {}
            _ => stale.push(name),
        }
    }
    assert!(
        stale.is_empty(),
        "schema/ is stale for {stale:?}: run `UPDATE_SCHEMAS=1 cargo test --test it schema_sync::`"
    );
}

#[test]
fn the_kdl_schema_is_kdl_and_names_every_setting() {
    let schema = lambda_batch::schema::kdl::kdl_schema();
    knus::parse_ast::<knus::span::Span>("lambda.kdl-schema", &schema)
        .expect("the KDL schema parses as KDL 1.0");
    for s in lambda_batch::manifest::spec::SETTINGS {
        assert!(
            schema.contains(&format!("node \"{}\" id=\"{}\"", s.name, s.name)),
            "{} missing",
            s.name
        );
    }
    for n in lambda_batch::manifest::spec::NODES {
        assert!(schema.contains(&format!("node \"{}\"", n.name)));
    }
}

#[test]
fn every_setting_of_the_vocabulary_decodes() {
    // The spec tables drive the schema and the help lines; the decoder must accept each entry.
    use lambda_batch::manifest::spec::{SETTINGS, ValueShape};
    for s in SETTINGS {
        let value = match s.shape {
            ValueShape::OneOf(values) => format!("\"{}\"", values[0]),
            ValueShape::Arch => "\"arm64\"".into(),
            ValueShape::String => "\"release\"".into(),
            ValueShape::Path => "\"out\"".into(),
            ValueShape::Bool => "false".into(),
            ValueShape::Flag => String::new(),
            ValueShape::Strings => "\"x\"".into(),
            ValueShape::Include => "\"*.toml\" into=\"cfg\"".into(),
            ValueShape::Env => "KEY=\"v\"".into(),
        };
        // On the artifact node that may hold it (`layer-name` only on an extension).
        let node = if s.allowed_in("function") {
            "function"
        } else {
            "extension"
        };
        let text = format!(
            "defaults {{\n    {} {value}\n}}\nworkspace \"w\" {{\n    {} {value}\n    {node} \"f\" {{\n        {} {value}\n    }}\n}}\n",
            s.name, s.name, s.name
        );
        let (manifest, errors, _) =
            lambda_batch::manifest::parse_partial(Utf8Path::new("/x/lambda.kdl"), &text);
        assert!(
            manifest.is_some() && errors.is_empty(),
            "{}: {:?}",
            s.name,
            errors.iter().map(|e| &e.message).collect::<Vec<_>>()
        );
    }
}

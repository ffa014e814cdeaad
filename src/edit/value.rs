//! Command-line words → the KDL entries of a setting node, shaped by its declaration (its
//! kind's shape, its example).
//!
//! Only the shape is checked here (how many values, booleans, `KEY=VALUE`); what the values
//! mean (`arch sparc`, an unknown compiler) is checked by the decoder on the edited text, so
//! that an edit is refused by exactly the checks `lambda-batch check` makes.

use kdl_v1::{KdlEntry, KdlValue};

use super::error::EditError;
use crate::diagnostic::suggest;
use crate::manifest::spec::{self, Setting, ValueShape};

/// The setting named `name`, or a "did you mean" error.
pub fn setting(name: &str) -> Result<&'static Setting, EditError> {
    spec::setting(name).ok_or_else(|| {
        EditError::usage(
            format!("unknown setting `{name}`"),
            suggest(name, "settings", &spec::setting_names()),
        )
    })
}

/// The entries of `setting`'s node for these command-line values.
pub fn entries(setting: &Setting, values: &[String]) -> Result<Vec<KdlEntry>, EditError> {
    let (name, example) = (setting.name, setting.example);
    let count = |min: usize, max: Option<usize>| {
        let ok = values.len() >= min && max.is_none_or(|m| values.len() <= m);
        if ok {
            Ok(())
        } else {
            let wants = match (min, max) {
                (1, Some(1)) => "exactly one value".to_string(),
                (0, Some(1)) => "no value or one boolean".to_string(),
                (m, _) => format!("at least {m} value{}", if m == 1 { "" } else { "s" }),
            };
            Err(EditError::usage(
                format!("`{name}` takes {wants}, not {}", values.len()),
                format!("for example `lambda-batch set {name} {example}`"),
            ))
        }
    };
    let strings = || {
        values
            .iter()
            .map(|v| KdlEntry::new(KdlValue::String(v.clone())))
            .collect()
    };
    Ok(match setting.shape {
        ValueShape::OneOf(_) | ValueShape::String | ValueShape::Path => {
            count(1, Some(1))?;
            strings()
        }
        ValueShape::Arch | ValueShape::Strings => {
            count(1, None)?;
            strings()
        }
        ValueShape::Bool => {
            count(1, Some(1))?;
            vec![KdlEntry::new(boolean(setting, &values[0])?)]
        }
        ValueShape::Flag => {
            count(0, Some(1))?;
            match values.first() {
                Some(v) => vec![KdlEntry::new(boolean(setting, v)?)],
                None => Vec::new(),
            }
        }
        ValueShape::Include => {
            count(1, None)?;
            let mut patterns = Vec::new();
            let mut into = None;
            let mut rename = None;
            for v in values {
                let (slot, value, what) = if let Some(dir) = v.strip_prefix("into=") {
                    (&mut into, dir, "`into=` folder")
                } else if let Some(name) = v.strip_prefix("as=") {
                    (&mut rename, name, "`as=` name")
                } else {
                    patterns.push(KdlEntry::new(KdlValue::String(v.clone())));
                    continue;
                };
                if slot.is_some() {
                    return Err(EditError::usage(
                        format!(
                            "{} is given twice",
                            &what[..what.find(' ').unwrap_or(what.len())]
                        ),
                        format!(
                            "one `include` node has one {what}: run `set include` once per node"
                        ),
                    ));
                }
                *slot = Some(value.to_string());
            }
            if patterns.is_empty() {
                return Err(EditError::usage(
                    format!("`{name}` needs at least one glob pattern"),
                    format!("for example `lambda-batch set {name} {example}`"),
                ));
            }
            patterns.extend(into.map(|d| KdlEntry::new_prop("into", KdlValue::String(d))));
            patterns.extend(rename.map(|n| KdlEntry::new_prop("as", KdlValue::String(n))));
            patterns
        }
        ValueShape::Env => {
            count(1, None)?;
            let mut vars = Vec::new();
            for v in values {
                let Some((key, value)) = v.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                    return Err(EditError::usage(
                        format!("`{v}` is not KEY=VALUE"),
                        format!(
                            "write each variable as KEY=VALUE, for example `lambda-batch set {name} {example}`"
                        ),
                    ));
                };
                vars.push(KdlEntry::new_prop(key, KdlValue::String(value.to_string())));
            }
            vars
        }
    })
}

/// `true` or `false`, as the decoder reads them.
fn boolean(setting: &Setting, word: &str) -> Result<KdlValue, EditError> {
    // A flag's example is empty (the bare node): turning one off is the case worth showing.
    let example = match setting.shape {
        ValueShape::Bool => setting.example,
        _ => "false",
    };
    match word {
        "true" => Ok(KdlValue::Bool(true)),
        "false" => Ok(KdlValue::Bool(false)),
        _ => Err(EditError::usage(
            format!("`{}` takes `true` or `false`, not `{word}`", setting.name),
            format!("for example `lambda-batch set {} {example}`", setting.name),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn render(name: &str, v: &[&str]) -> Result<String, EditError> {
        let s = setting(name)?;
        let mut node = kdl_v1::KdlNode::new(name);
        for e in entries(s, &words(v))? {
            node.push(e);
        }
        Ok(node.to_string())
    }

    #[test]
    fn shapes() {
        assert_eq!(
            render("arch", &["x86_64", "arm64"]).unwrap(),
            "arch \"x86_64\" \"arm64\""
        );
        assert_eq!(
            render("optimizations", &["false"]).unwrap(),
            "optimizations false"
        );
        assert_eq!(render("all-features", &[]).unwrap(), "all-features");
        assert_eq!(
            render("env", &["RUST_LOG=info", "A=b=c"]).unwrap(),
            "env RUST_LOG=\"info\" A=\"b=c\""
        );
        assert_eq!(
            render("include", &["into=cfg", "config/*.toml"]).unwrap(),
            "include \"config/*.toml\" into=\"cfg\""
        );
        assert_eq!(
            render("rustflags", &["-C", "a=\"b\""]).unwrap(),
            "rustflags \"-C\" \"a=\\\"b\\\"\""
        );
    }

    #[test]
    fn refusals() {
        let err = render("arhc", &["x"]).unwrap_err();
        assert!(
            format!("{:?}", err).contains("did you mean `arch`"),
            "{err:?}"
        );
        assert!(render("profile", &["a", "b"]).is_err());
        assert!(render("profile", &[]).is_err());
        assert!(render("optimizations", &["yes"]).is_err());
        assert!(render("all-features", &["true", "false"]).is_err());
        assert!(render("env", &["NOVALUE"]).is_err());
        assert!(render("env", &["=x"]).is_err());
        assert!(render("include", &["into=a"]).is_err());
        assert!(render("include", &["a", "as=x", "as=y"]).is_err());
        assert_eq!(
            render("include", &["assets/public", "as=static"]).unwrap(),
            "include \"assets/public\" as=\"static\""
        );
    }
}

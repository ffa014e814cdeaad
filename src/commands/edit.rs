//! The editing commands: `add`, `remove`, `set`, `unset`, `fmt`, `init`.

use camino::Utf8Path;

use crate::cli::{AddCommand, SetArgs, UnsetArgs};
use crate::exit_code;

fn unavailable(what: &str) -> i32 {
    eprintln!("error: `{what}` is not available in this version");
    exit_code::INVALID
}

/// `add`.
pub fn add(_cmd: AddCommand, _color: bool) -> i32 {
    unavailable("add")
}

/// `remove`.
pub fn remove(
    _name: &str,
    _workspace: Option<&str>,
    _manifest: Option<&Utf8Path>,
    _color: bool,
) -> i32 {
    unavailable("remove")
}

/// `set`.
pub fn set(_args: &SetArgs, _color: bool) -> i32 {
    unavailable("set")
}

/// `unset`.
pub fn unset(_args: &UnsetArgs, _color: bool) -> i32 {
    unavailable("unset")
}

/// `fmt`.
pub fn fmt(_check: bool, _manifest: Option<&Utf8Path>, _color: bool) -> i32 {
    unavailable("fmt")
}

/// `init`.
pub fn init(_path: Option<&Utf8Path>, _color: bool) -> i32 {
    unavailable("init")
}

//! Editing `lambda.kdl` in place: `add`, `remove`, `set`, `unset` and `fmt` (and the edits of
//! `import`, which `migrate` makes through this module).
//!
//! Edits work on the document as the kdl 4 crate (`kdl_v1`, the KDL 1.0 implementation) reads
//! it: every node keeps the exact text around it, so whatever an edit does not touch is written
//! back byte for byte. [`layout`] decides the text around inserted and removed nodes, [`apply`]
//! validates the result exactly as `check` does and writes it atomically, or not at all.

pub mod add;
pub mod apply;
pub mod document;
pub mod error;
pub mod format;
pub mod layout;
pub mod remove;
pub mod semantic;
pub mod set;
pub mod target;
pub mod trivia;
pub mod value;
pub mod write;

pub use document::Document;
pub use error::EditError;
pub use target::Level;

#[cfg(test)]
mod no_panic;

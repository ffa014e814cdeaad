//! What one setting declaration generates: the [`settings!`] macro, invoked once, in
//! `super::settings`, with the list of every setting.
//!
//! From that list it writes, so that none of them can disagree with another:
//! - `RawSettings`: the settings of one node as knus decodes them, flattened into `defaults`,
//!   `workspace`, `function` and `extension` (knus 3.4's derive flattens only `Option` and
//!   `bool` children, so its `DecodePartial` is written here: a replacing setting is one
//!   optional child, an accumulating one a list of them);
//! - `Layer`: the checked settings of one level, each as its kind's value;
//! - `Checker::layer`: each node checked by its kind;
//! - `SETTINGS`: the vocabulary table (`spec::Setting`) that `check`'s "did you mean", the KDL
//!   Schema, the editing commands and the argument counts read;
//! - `SettingsModel`: the settings in the manifest's JSON data model;
//! - `Merged`: the levels of one artifact merged by each setting's rule.

/// Declares every setting; see `super::settings` for the grammar and how to add one.
macro_rules! settings {
    ($(
        $(#[doc = $summary:literal])*
        $field:ident: $node:literal => $kind:ty, $rule:ident {
            levels: $levels:expr,
            default: $default:literal,
            doc: $doc:literal,
            help: $help:literal,
            example: $example:literal,
            add: $add:literal $(,)?
        }
    )*) => {
        /// The index of each setting in [`SETTINGS`].
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy)]
        enum Declared {
            $($field,)*
        }

        /// Every setting, in the order of the declarations.
        pub const SETTINGS: &[$crate::manifest::kinds::Setting] = &[$(
            $crate::manifest::kinds::Setting {
                name: $node,
                shape: <$kind as $crate::manifest::kinds::Kind>::SHAPE,
                inheritance: $crate::manifest::declare::settings!(@inheritance $rule),
                levels: $levels,
                default: $default,
                doc: $doc,
                help: $help,
                example: $example,
                add: $add,
            },
        )*];

        /// The settings written in one node, as knus decodes them.
        #[derive(Debug, Default)]
        pub struct RawSettings {
            $(
                #[doc = concat!("`", $node, "`.")]
                pub $field: $crate::manifest::declare::settings!(@raw $rule $kind),
            )*
        }

        impl ::knus::traits::DecodePartial<::knus::span::Span> for RawSettings {
            fn insert_child(
                &mut self,
                node: &::knus::ast::SpannedNode<::knus::span::Span>,
                ctx: &mut ::knus::decode::Context<::knus::span::Span>,
            ) -> Result<bool, ::knus::errors::DecodeError<::knus::span::Span>> {
                match &**node.node_name {
                    $($node => {
                        $crate::manifest::declare::settings!(@decode $rule $node, self.$field, node, ctx);
                        Ok(true)
                    })*
                    _ => Ok(false),
                }
            }

            fn insert_property(
                &mut self,
                _: &::knus::span::Spanned<Box<str>, ::knus::span::Span>,
                _: &::knus::ast::Value<::knus::span::Span>,
                _: &mut ::knus::decode::Context<::knus::span::Span>,
            ) -> Result<bool, ::knus::errors::DecodeError<::knus::span::Span>> {
                Ok(false)
            }
        }

        /// The settings written at one level (defaults, workspace or artifact), checked: a
        /// replacing setting is `None` when the level leaves it to the one above, an
        /// accumulating one is what this level adds.
        #[derive(Debug, Clone, Default)]
        pub struct Layer {
            $(
                $(#[doc = $summary])*
                pub $field: $crate::manifest::declare::settings!(@slot $rule $kind),
            )*
        }

        impl $crate::manifest::check::Checker {
            /// Checks the settings of one node, each by its kind.
            pub(crate) fn layer(&mut self, raw: &RawSettings) -> Layer {
                let mut layer = Layer::default();
                $(
                    for r in raw.$field.iter() {
                        let setting = &SETTINGS[Declared::$field as usize];
                        if let Some(v) = <$kind as $crate::manifest::kinds::Kind>::check(r, setting, self) {
                            $crate::manifest::declare::settings!(@put $rule layer.$field, v);
                        }
                    }
                )*
                layer
            }
        }

        /// The settings of SPEC §1.
        #[derive(Debug, ::serde::Serialize, ::schemars::JsonSchema)]
        pub struct SettingsModel {
            $(
                $(#[doc = $summary])*
                #[serde(rename = $node)]
                pub $field: Option<<$kind as $crate::manifest::kinds::Kind>::Json>,
            )*
        }

        /// One artifact's settings merged down its levels (defaults → workspace → artifact),
        /// each by its rule: a replacing setting is the lowest level's value (or its declared
        /// default), an accumulating one every level's values (`items()`), or each level's
        /// (`levels`), in order.
        pub struct Merged<'a> {
            $(
                $(#[doc = $summary])*
                pub $field: $crate::manifest::declare::settings!(@merged $rule $kind),
            )*
        }

        impl<'a> Merged<'a> {
            /// Merges `layers`, highest first.
            pub fn of(layers: &[&'a Layer]) -> Merged<'a> {
                Merged {
                    $($field: $crate::manifest::declare::settings!(
                        @merge $rule layers, $field, SETTINGS[Declared::$field as usize].default
                    ),)*
                }
            }
        }

        /// Whether each replacing setting's declared default parses as its kind's value.
        #[cfg(test)]
        #[allow(clippy::vec_init_then_push)]
        fn defaults_parse() -> Vec<(&'static str, bool)> {
            let mut out = Vec::new();
            $($crate::manifest::declare::settings!(@default_parses $rule $kind, $node, $default, out);)*
            out
        }
    };

    (@inheritance replace) => { $crate::manifest::kinds::Inheritance::Replaces };
    (@inheritance accumulate) => { $crate::manifest::kinds::Inheritance::Accumulates };

    (@raw replace $kind:ty) => { Option<<$kind as $crate::manifest::kinds::Kind>::Raw> };
    (@raw accumulate $kind:ty) => { Vec<<$kind as $crate::manifest::kinds::Kind>::Raw> };

    // As knus's derive does for an optional child: a second node is reported, and decoded.
    (@decode replace $node:literal, $dest:expr, $n:ident, $ctx:ident) => {
        if $dest.is_some() {
            $ctx.emit_error(::knus::errors::DecodeError::unexpected(
                &$n.node_name,
                "node",
                concat!("duplicate node `", $node, "`, single node expected"),
            ));
        }
        $dest = Some(::knus::Decode::decode_node($n, $ctx)?);
    };
    (@decode accumulate $node:literal, $dest:expr, $n:ident, $ctx:ident) => {
        $dest.push(::knus::Decode::decode_node($n, $ctx)?);
    };

    (@slot replace $kind:ty) => { Option<<$kind as $crate::manifest::kinds::Kind>::Value> };
    (@slot accumulate $kind:ty) => { <$kind as $crate::manifest::kinds::Kind>::Value };

    (@put replace $dest:expr, $v:ident) => { $dest = Some($v) };
    (@put accumulate $dest:expr, $v:ident) => { $dest.extend($v) };

    (@merged replace $kind:ty) => { $crate::manifest::kinds::Chosen<'a, $kind> };
    (@merged accumulate $kind:ty) => {
        $crate::manifest::kinds::Every<
            'a,
            <<$kind as $crate::manifest::kinds::Kind>::Value as IntoIterator>::Item,
        >
    };

    (@merge replace $layers:ident, $field:ident, $default:expr) => {
        $crate::manifest::kinds::Chosen {
            set: $layers.iter().rev().find_map(|l| l.$field.as_ref()),
            default: $default,
        }
    };
    (@merge accumulate $layers:ident, $field:ident, $default:expr) => {
        $crate::manifest::kinds::Every {
            levels: $layers.iter().map(|l| l.$field.as_slice()).collect(),
        }
    };

    (@default_parses replace $kind:ty, $node:literal, $default:literal, $out:ident) => {
        $out.push((
            $node,
            <$kind as $crate::manifest::kinds::Kind>::default_value($default).is_some(),
        ))
    };
    (@default_parses accumulate $kind:ty, $node:literal, $default:literal, $out:ident) => {};
}

pub(crate) use settings;

//! The one place Rust names are made from C names.
//!
//! In: C identifiers (or their absence). Out: strings that are valid Rust
//! identifiers when printed through [`ident`]: keywords become raw
//! identifiers (`r#type`), the few words that cannot be raw get a `_` suffix.

use proc_macro2::{Ident, Span};

/// Words that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Strict and reserved keywords of Rust 2021.
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
    "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn",
    "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
    "virtual", "yield", "try", "gen",
];

/// The identifier for a name made by this module.
pub fn ident(name: &str) -> Ident {
    if let Some(raw) = name.strip_prefix("r#") {
        Ident::new_raw(raw, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// A C identifier as a Rust name (`type` -> `r#type`, `self` -> `self_`).
/// Characters Rust does not allow (clang names static locals `func.var`)
/// become `_`.
pub fn escape(c_name: &str) -> String {
    // Already escaped (names are derived from names made here).
    if c_name
        .strip_prefix("r#")
        .is_some_and(|rest| KEYWORDS.contains(&rest))
    {
        return c_name.to_owned();
    }
    if !c_name.is_empty()
        && !c_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || c_name.starts_with(|c: char| c.is_ascii_digit())
    {
        let mut s: String = c_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if s.starts_with(|c: char| c.is_ascii_digit()) {
            s.insert(0, '_');
        }
        return escape(&s);
    }
    if NOT_RAW.contains(&c_name) {
        format!("{c_name}_")
    } else if KEYWORDS.contains(&c_name) {
        format!("r#{c_name}")
    } else {
        c_name.to_owned()
    }
}

/// The plain text of a name (without `r#`), for messages and for building
/// derived names.
pub fn plain(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// Name of an anonymous type reached through member `member` of `parent`.
pub fn nested(parent: &str, member: &str) -> String {
    escape(&format!("{}__{}", plain(parent), plain(member)))
}

/// Field name of an anonymous member (a struct or union without a member
/// name): by byte offset in a struct, by position in a union where every
/// member is at offset 0. Both are stable for a given layout.
pub fn anon_member(is_union: bool, byte_offset: u32, position: usize) -> String {
    if is_union {
        format!("__anon{position}")
    } else {
        format!("__anon_{byte_offset}")
    }
}

/// Field name of explicit padding at `byte_offset`.
pub fn padding(byte_offset: u32) -> String {
    format!("__pad_{byte_offset}")
}

/// Field name of the storage bytes of bitfields starting at `byte_offset`.
pub fn bitfield_storage(byte_offset: u32) -> String {
    format!("_bitfield_{byte_offset}")
}

/// Setter of bitfield `name`.
pub fn setter(name: &str) -> String {
    format!("set_{}", plain(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_escape() {
        assert_eq!(escape("type"), "r#type");
        assert_eq!(escape("self"), "self_");
        assert_eq!(escape("flags"), "flags");
        assert_eq!(ident("r#type").to_string(), "r#type");
        assert_eq!(nested("flow_stats", "peer"), "flow_stats__peer");
        assert_eq!(setter("r#type"), "set_type");
        assert_eq!(escape("r#type"), "r#type");
        assert_eq!(escape("func.counter"), "func_counter");
        assert_eq!(escape("3d"), "_3d");
    }
}

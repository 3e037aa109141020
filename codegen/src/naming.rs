//! The one place Rust names are made from C names: type, field and
//! accessor names of the `types` module, the names anonymous types get from
//! their use, and every name of a skeleton (its structs, the fields of its
//! maps, programs and struct_ops variables, its data accessors).
//!
//! In: C identifiers (or their absence), object and section names. Out:
//! strings that are valid Rust identifiers when printed through [`ident`]:
//! keywords become raw identifiers (`r#type`), the few words that cannot be
//! raw get a `_` suffix. Two C names that would share one skeleton field
//! are an error ([`Collision`]), as two types sharing one Rust name are in
//! `ir`.

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

/// The name an anonymous type gets from its role in `owner`: a map's
/// `key`/`value`, a variable's `type` (`flows__key`, `cfg__type`).
pub fn role(owner: &str, role: &str) -> String {
    format!("{owner}__{role}")
}

/// The name an anonymous member's type gets: the parent's name and the
/// member's place (`holder__anon32`), by offset in a struct, by position in
/// a union (see [`anon_member`]).
pub fn anon_member_type(parent: &str, is_union: bool, byte_offset: u32, position: usize) -> String {
    let place = if is_union {
        position
    } else {
        byte_offset as usize
    };
    format!("{}__anon{place}", plain(parent))
}

/// The name of an anonymous type no named type holds (selected with
/// `--all`): by BTF id.
pub fn anon_root(btf_id: u32) -> String {
    format!("anon_{btf_id}")
}

/// The later of two types that want the same Rust name, suffixed with its
/// BTF id (`--rename-duplicates`).
pub fn renamed(name: &str, btf_id: u32) -> String {
    escape(&format!("{}__{btf_id}", plain(name)))
}

/// The constant of one row of the `layouts::LAYOUTS` table.
pub fn layout_row(btf_id: u32) -> String {
    format!("ROW_{btf_id}")
}

// ---- skeletons ----

/// The CamelCase prefix of an object's skeleton (`kitchen_sink` -> `KitchenSink`).
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Obj");
    }
    out
}

/// The item names of one object's skeleton (`kitchen`: `KitchenSkel`,
/// `OpenKitchenSkel`, `KitchenMaps`.., `KITCHEN_OBJECT`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkelNames {
    pub skel: String,
    pub open_skel: String,
    pub maps: String,
    pub open_maps: String,
    pub progs: String,
    pub open_progs: String,
    pub links: String,
    pub struct_ops: String,
    pub open_struct_ops: String,
    /// The constant holding the embedded object.
    pub object_const: String,
}

impl SkelNames {
    pub fn new(object: &str) -> SkelNames {
        let prefix = camel(object);
        let upper: String = object
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        SkelNames {
            skel: format!("{prefix}Skel"),
            open_skel: format!("Open{prefix}Skel"),
            maps: format!("{prefix}Maps"),
            open_maps: format!("Open{prefix}Maps"),
            progs: format!("{prefix}Progs"),
            open_progs: format!("Open{prefix}Progs"),
            links: format!("{prefix}Links"),
            struct_ops: format!("{prefix}StructOps"),
            open_struct_ops: format!("Open{prefix}StructOps"),
            object_const: escape(&format!("{upper}_OBJECT")),
        }
    }
}

/// Rust name of a data section's struct in `types` (`.data.custom` -> `SectionDataCustom`).
pub fn section_struct(section: &str) -> String {
    format!("Section{}", camel(section))
}

/// The accessors of a data section: `.rodata` -> (`rodata`, `rodata_mut`),
/// `.data.custom` -> (`data_custom`, `data_custom_mut`).
pub fn section_accessors(section: &str) -> (String, String) {
    let s: String = section
        .trim_start_matches('.')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let get = plain(&escape(&s)).to_owned();
    let get_mut = format!("{get}_mut");
    (escape(&get), escape(&get_mut))
}

/// Two C names that would be one Rust name in a skeleton.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{first}` and `{second}` would both be `{name}` in the skeleton")]
pub struct Collision {
    /// `maps`, `programs`, `links`...
    pub what: &'static str,
    pub name: String,
    pub first: String,
    pub second: String,
}

/// The skeleton field of each C name in `c_names` (a map, program or
/// struct_ops variable), in order; two that would share a field are a
/// [`Collision`]. `what` says which struct the fields are in.
pub fn skel_fields<'a>(
    what: &'static str,
    c_names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, Collision> {
    let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for c in c_names {
        let name = escape(c);
        if let Some(first) = seen.insert(name.clone(), c) {
            return Err(Collision {
                what,
                name: plain(&name).to_owned(),
                first: first.to_owned(),
                second: c.to_owned(),
            });
        }
        out.push(name);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // reason: tests

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

    #[test]
    fn skeleton_names() {
        assert_eq!(camel("kitchen_sink"), "KitchenSink");
        assert_eq!(camel("3d"), "Obj3d");
        let n = SkelNames::new("kitchen-sink");
        assert_eq!(n.open_skel, "OpenKitchenSinkSkel");
        assert_eq!(n.object_const, "KITCHEN_SINK_OBJECT");
        assert_eq!(section_struct(".data.custom"), "SectionDataCustom");
        assert_eq!(
            section_accessors(".data.custom"),
            ("data_custom".to_owned(), "data_custom_mut".to_owned())
        );
        assert_eq!(
            skel_fields("maps", ["a", "type"]).unwrap(),
            vec!["a".to_owned(), "r#type".to_owned()]
        );
        let err = skel_fields("maps", ["f.x", "f_x"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "maps `f.x` and `f_x` would both be `f_x` in the skeleton"
        );
    }
}

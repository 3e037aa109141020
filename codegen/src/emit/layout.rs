//! The optional `layouts::LAYOUTS` table: the Rust compiler's view of every
//! emitted struct and union, for tests that compare layouts with other
//! tools.
//!
//! In: [`Items`]. Out: the `pub mod layouts` item.

use syn::{BinOp, Expr};

use super::ast::{
    self, array, binary, doc, ident, int, reference, string, tuple, ty_named, ty_ref,
    ty_ref_static, ty_slice, ty_tuple, var, visibility,
};
use super::{mem_of, offset_of};
use std::collections::HashMap;

use bpf2rs_reader::btf::{Btf, Type};

use crate::ir::{FieldKind, Item, Items, StructItem};
use crate::naming::{self, escape, plain};

/// A `LAYOUTS` table of every struct and union: BTF id, C name, size and
/// each named member's bit offset, all computed by the Rust compiler from the
/// generated types (`size_of`, `offset_of!`). Tests compare it with what
/// other tools report for the same BTF.
pub fn layout_table(btf: &Btf, items: &Items) -> Vec<syn::Item> {
    ast::shared_spans(|| table(btf, items))
}

fn table(btf: &Btf, items: &Items) -> Vec<syn::Item> {
    let member = ty_tuple([ty_ref_static(ty_named("str")), ty_named("usize")]);
    let row_ty = ty_tuple([
        ty_named("u32"),
        ty_named("usize"),
        ty_ref_static(ty_slice(member)),
    ]);
    // One const per row and a table of those: a single constant holding
    // every row takes rustc's incremental mode many minutes to hash.
    let mut body = Vec::new();
    let mut names = Vec::new();
    for s in items.items.values().filter_map(|it| match it {
        Item::Struct(s) => Some(s),
        _ => None,
    }) {
        let name = naming::layout_row(s.btf_id.0);
        body.push(ast::item_const(
            true,
            &name,
            ty_named("Row"),
            row(s, &c_names(btf, s)),
        ));
        names.push(name);
    }
    let table = ast::item_const(
        true,
        "LAYOUTS",
        ty_ref(ty_slice(ty_named("Row")), false),
        reference(array(names.iter().map(|n| var(n))), false),
    );
    let mut content = vec![
        syn::Item::Type(syn::ItemType {
            attrs: vec![doc(" (BTF id, size, [(C member, bit offset)])")],
            vis: visibility(true),
            type_token: Default::default(),
            ident: ident("Row"),
            generics: Default::default(),
            eq_token: Default::default(),
            ty: Box::new(row_ty),
            semi_token: Default::default(),
        }),
        table,
    ];
    content.extend(body);
    vec![syn::Item::Mod(syn::ItemMod {
        attrs: vec![
            doc(" (BTF id, size, [(member, bit offset)]) of every struct and union,"),
            doc(" as the Rust compiler lays out the generated types."),
        ],
        vis: visibility(true),
        unsafety: None,
        mod_token: Default::default(),
        ident: ident("layouts"),
        content: Some((ast::brace(), content)),
        semi: None,
    })]
}

/// The C name of each named member whose Rust field name differs from it
/// other than by `r#` (C `self` is field `self_`).
fn c_names<'a>(btf: &'a Btf, s: &StructItem) -> HashMap<String, &'a str> {
    let members = match btf.type_by_id(s.btf_id) {
        Ok(Type::Struct(c) | Type::Union(c)) => &c.members[..],
        _ => &[],
    };
    members
        .iter()
        .filter(|m| !m.name.is_anon())
        .map(|m| btf.name(m.name))
        .filter_map(|c| {
            let rust = escape(c);
            (plain(&rust) != c).then_some((rust, c))
        })
        .collect()
}

/// `(id, size_of::<T>(), &[(member, bit offset)..])` of one struct or union,
/// members labelled with their C names.
fn row(s: &StructItem, c_names: &HashMap<String, &str>) -> Expr {
    let path = ["super", "types", s.name.as_str()];
    // Bit offset of the start of field `name`.
    let bit_offset_of = |name: &str| {
        binary(
            offset_of(&path, name),
            BinOp::Mul(Default::default()),
            int(8),
        )
    };
    let named = |name: &str| !name.starts_with("__anon");
    let label = |name: &str| c_names.get(name).copied().unwrap_or(plain(name)).to_owned();
    let mut members = Vec::new();
    for f in &s.fields {
        if f.kind == FieldKind::Member && named(&f.name) {
            let offset = if s.is_union {
                int(0)
            } else {
                bit_offset_of(&f.name)
            };
            members.push(tuple([string(&label(&f.name)), offset]));
        }
    }
    for b in s.bitfields.iter().filter(|b| named(&b.name)) {
        let bit = int(b.bit_offset.into());
        let offset = if s.is_union {
            bit
        } else if b.bit_offset == 0 {
            bit_offset_of(&b.storage)
        } else {
            binary(
                bit_offset_of(&b.storage),
                BinOp::Add(Default::default()),
                bit,
            )
        };
        members.push(tuple([string(&label(&b.name)), offset]));
    }
    tuple([
        int(s.btf_id.0.into()),
        mem_of("size_of", &path),
        reference(array(members), false),
    ])
}

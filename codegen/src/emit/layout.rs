//! The optional `layouts::LAYOUTS` table: the Rust compiler's view of every
//! emitted struct and union, for tests that compare layouts with other
//! tools.
//!
//! In: [`Items`]. Out: the `pub mod layouts` item.

use syn::{BinOp, Expr};

use super::ast::{
    self, array, binary, doc, ident, int, reference, string, tuple, ty_named, ty_ref, ty_slice,
    ty_tuple, visibility,
};
use super::{mem_of, offset_of};
use crate::ir::{FieldKind, Item, Items, StructItem};
use crate::naming::plain;

/// A `LAYOUTS` table of every struct and union: BTF id, C name, size and
/// each named member's bit offset, all computed by the Rust compiler from the
/// generated types (`size_of`, `offset_of!`). Tests compare it with what
/// other tools report for the same BTF.
pub fn layout_table(items: &Items) -> Vec<syn::Item> {
    ast::shared_spans(|| table(items))
}

fn table(items: &Items) -> Vec<syn::Item> {
    let rows = items.items.values().filter_map(|it| match it {
        Item::Struct(s) => Some(row(s)),
        _ => None,
    });
    let member = ty_tuple([ty_ref(ty_named("str"), false), ty_named("usize")]);
    let row_ty = ty_tuple([
        ty_named("u32"),
        ty_named("usize"),
        ty_ref(ty_slice(member), false),
    ]);
    let table = syn::Item::Const(syn::ItemConst {
        attrs: Vec::new(),
        vis: visibility(true),
        const_token: Default::default(),
        ident: ident("LAYOUTS"),
        generics: Default::default(),
        colon_token: Default::default(),
        ty: Box::new(ty_ref(ty_slice(row_ty), false)),
        eq_token: Default::default(),
        expr: Box::new(reference(array(rows), false)),
        semi_token: Default::default(),
    });
    vec![syn::Item::Mod(syn::ItemMod {
        attrs: vec![
            doc(" (BTF id, size, [(member, bit offset)]) of every struct and union,"),
            doc(" as the Rust compiler lays out the generated types."),
        ],
        vis: visibility(true),
        unsafety: None,
        mod_token: Default::default(),
        ident: ident("layouts"),
        content: Some((ast::brace(), vec![table])),
        semi: None,
    })]
}

/// `(id, size_of::<T>(), &[(member, bit offset)..])` of one struct or union.
fn row(s: &StructItem) -> Expr {
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
    let mut members = Vec::new();
    for f in &s.fields {
        if f.kind == FieldKind::Member && named(&f.name) {
            let offset = if s.is_union {
                int(0)
            } else {
                bit_offset_of(&f.name)
            };
            members.push(tuple([string(plain(&f.name)), offset]));
        }
    }
    for b in s.bitfields.iter().filter(|b| named(&b.name)) {
        let bit = int(b.bit_offset.into());
        let offset = if s.is_union {
            bit
        } else {
            binary(
                bit_offset_of(&b.storage),
                BinOp::Add(Default::default()),
                bit,
            )
        };
        members.push(tuple([string(plain(&b.name)), offset]));
    }
    tuple([
        int(s.btf_id.0.into()),
        mem_of("size_of", &path),
        reference(array(members), false),
    ])
}

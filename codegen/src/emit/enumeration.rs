//! One C enum -> a transparent integer newtype with the known values as
//! constants (C enums may hold any value), a `Debug` that names known
//! values, the `Pod` impl and a compile-time size check.

use syn::{Expr, Field, FieldMutability, Fields, FieldsUnnamed, ImplItem, Pat};

use super::ast::{
    self, arm, attr_list, call, doc, field0, global, ident, int, int_pat, item_impl, neg,
    pat_ident, reference, relative, string, tail, ty_named, var, Tokens,
};
use super::{c_doc_name, check_layout, debug_impl, pod_impl, Cx};
use crate::ir::EnumItem;
use crate::naming::plain;

/// Appends the items of enum `e` to `out`.
pub(super) fn enumeration(cx: &Cx, e: &EnumItem, out: &mut Vec<syn::Item>) {
    let name = e.name.as_str();
    let derives = ["Clone", "Copy", "PartialEq", "Eq", "Hash", "Default"];
    let value = Field {
        attrs: Vec::new(),
        vis: ast::visibility(true),
        mutability: FieldMutability::None,
        ident: None,
        colon_token: None,
        ty: cx.prim(e.repr),
    };
    out.push(syn::Item::Struct(syn::ItemStruct {
        attrs: vec![
            doc(&format!(
                " C {} ({} bytes): a value that may be any {}, with the known ones as constants.",
                c_doc_name(&e.c_name),
                e.size,
                e.repr
            )),
            attr_list("repr", Tokens::default().ident("transparent").build()),
            attr_list("derive", Tokens::default().list(&derives).build()),
        ],
        vis: ast::visibility(true),
        struct_token: Default::default(),
        ident: ident(name),
        generics: Default::default(),
        fields: Fields::Unnamed(FieldsUnnamed {
            paren_token: ast::paren(),
            unnamed: std::iter::once(value).collect(),
        }),
        semi_token: Some(Default::default()),
    }));

    let consts = e
        .values
        .iter()
        .map(|(c, v)| {
            ImplItem::Const(syn::ImplItemConst {
                attrs: Vec::new(),
                vis: ast::visibility(true),
                defaultness: None,
                const_token: Default::default(),
                ident: ident(c),
                generics: Default::default(),
                colon_token: Default::default(),
                ty: ty_named(name),
                eq_token: Default::default(),
                expr: call(relative(&[name]), [value_expr(e, *v)]),
                semi_token: Default::default(),
            })
        })
        .collect();
    out.push(item_impl(false, None, ty_named(name), consts));

    // Several names may share a value: the first one names it.
    let mut seen = std::collections::HashSet::new();
    let mut arms: Vec<syn::Arm> = e
        .values
        .iter()
        .filter(|(_, v)| seen.insert(*v))
        .map(|(n, v)| {
            let some = global(&["core", "option", "Option", "Some"]);
            arm(value_pat(e, *v), call(some, [string(plain(n))]))
        })
        .collect();
    arms.push(arm(
        Pat::Wild(syn::PatWild {
            attrs: Vec::new(),
            underscore_token: Default::default(),
        }),
        ast::path_expr(global(&["core", "option", "Option", "None"])),
    ));
    let known = syn::Stmt::Local(syn::Local {
        attrs: Vec::new(),
        let_token: Default::default(),
        pat: pat_ident("known"),
        init: Some(syn::LocalInit {
            eq_token: Default::default(),
            expr: Box::new(Expr::Match(syn::ExprMatch {
                attrs: Vec::new(),
                match_token: Default::default(),
                expr: Box::new(field0(var("self"))),
                brace_token: ast::brace(),
                arms,
            })),
            diverge: None,
        }),
        semi_token: Default::default(),
    });
    let fmt = call(
        global(&["bpf2rs", "__private", "fmt_enum"]),
        [
            string(plain(name)),
            var("known"),
            reference(field0(var("self")), false),
            var("f"),
        ],
    );
    out.push(debug_impl(name, vec![known, tail(fmt)]));
    // Sound: a transparent integer, and every bit pattern is a valid value.
    out.push(pod_impl(name));
    out.push(check_layout(name, e.size.into(), None, []));
}

/// Whether the C value `bits` is negative, and its magnitude, as the
/// enum's size and signedness read it.
fn value(e: &EnumItem, bits: u64) -> (bool, u64) {
    if e.signed {
        let v = match e.size {
            1 => bits as i8 as i64,
            2 => bits as i16 as i64,
            4 => bits as i32 as i64,
            _ => bits as i64,
        };
        (v < 0, v.unsigned_abs())
    } else {
        let v = match e.size {
            1 => bits as u8 as u64,
            2 => bits as u16 as u64,
            4 => bits as u32 as u64,
            _ => bits,
        };
        (false, v)
    }
}

/// The value in an expression: `-5` is a negation of a literal there.
fn value_expr(e: &EnumItem, bits: u64) -> Expr {
    match value(e, bits) {
        (true, m) => neg(int(m)),
        (false, m) => int(m),
    }
}

/// The value in a match pattern: `-5` is one literal there.
fn value_pat(e: &EnumItem, bits: u64) -> Pat {
    match value(e, bits) {
        (true, m) => int_pat(-i128::from(m)),
        (false, m) => int_pat(i128::from(m)),
    }
}

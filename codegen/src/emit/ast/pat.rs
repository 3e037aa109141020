//! Patterns, built as `syn::parse2` builds them (see `ast`).

use proc_macro2::Literal;
use syn::{Arm, Expr, ExprLit, Lit, Member, Pat, PatIdent, Path};

use super::{ident, paren, path_expr};

/// An integer literal pattern; a negative one is a single literal token in
/// a pattern (`-5 => ..`), unlike in an expression (see `neg`).
pub(in crate::emit) fn int_pat(v: i128) -> Pat {
    Pat::Lit(ExprLit {
        attrs: Vec::new(),
        lit: Lit::Verbatim(Literal::i128_unsuffixed(v)),
    })
}

/// `pat => body,`
pub(in crate::emit) fn arm(pat: Pat, body: Expr) -> Arm {
    Arm {
        attrs: Vec::new(),
        pat,
        guard: None,
        fat_arrow_token: Default::default(),
        body: Box::new(body),
        comma: Some(Default::default()),
    }
}

pub(in crate::emit) fn pat_ident(name: &str) -> Pat {
    Pat::Ident(PatIdent {
        attrs: Vec::new(),
        by_ref: None,
        mutability: None,
        ident: ident(name),
        subpat: None,
    })
}

/// `mut name`.
pub(in crate::emit) fn pat_ident_mut(name: &str) -> Pat {
    Pat::Ident(PatIdent {
        attrs: Vec::new(),
        by_ref: None,
        mutability: Some(Default::default()),
        ident: ident(name),
        subpat: None,
    })
}

/// `name @ pat`.
pub(in crate::emit) fn pat_bind(name: &str, pat: Pat) -> Pat {
    Pat::Ident(PatIdent {
        attrs: Vec::new(),
        by_ref: None,
        mutability: None,
        ident: ident(name),
        subpat: Some((Default::default(), Box::new(pat))),
    })
}

/// `_`.
pub(in crate::emit) fn pat_wild() -> Pat {
    Pat::Wild(syn::PatWild {
        attrs: Vec::new(),
        underscore_token: Default::default(),
    })
}

/// A path as a pattern (`::core::option::Option::None`).
pub(in crate::emit) fn pat_path(path: Path) -> Pat {
    match path_expr(path) {
        Expr::Path(p) => Pat::Path(p),
        _ => pat_wild(),
    }
}

/// `(elems..)`.
pub(in crate::emit) fn pat_tuple(elems: impl IntoIterator<Item = Pat>) -> Pat {
    Pat::Tuple(syn::PatTuple {
        attrs: Vec::new(),
        paren_token: paren(),
        elems: elems.into_iter().collect(),
    })
}

/// `path(elems..)` (`Some(x)`).
pub(in crate::emit) fn pat_tuple_struct(path: Path, elems: impl IntoIterator<Item = Pat>) -> Pat {
    Pat::TupleStruct(syn::PatTupleStruct {
        attrs: Vec::new(),
        qself: None,
        path,
        paren_token: paren(),
        elems: elems.into_iter().collect(),
    })
}

/// `path { a, mut b }`: each field bound to a local of its name (the
/// `Pat::Ident` in `fields` names both).
pub(in crate::emit) fn pat_struct(path: Path, fields: impl IntoIterator<Item = Pat>) -> Pat {
    let fields = fields
        .into_iter()
        .map(|pat| syn::FieldPat {
            attrs: Vec::new(),
            member: match &pat {
                Pat::Ident(p) => Member::Named(p.ident.clone()),
                _ => Member::Named(ident("_")),
            },
            colon_token: None,
            pat: Box::new(pat),
        })
        .collect();
    Pat::Struct(syn::PatStruct {
        attrs: Vec::new(),
        qself: None,
        path,
        brace_token: super::brace(),
        fields,
        rest: None,
    })
}

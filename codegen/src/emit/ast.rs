//! Small constructors of `syn` syntax trees, so that each emitted item reads
//! like the code it stands for.
//!
//! In: names, numbers and sub-trees. Out: `syn` nodes shaped as
//! `syn::parse2` would build them from the same source text, so that
//! prettyplease prints them the same way (a negative number, for example, is
//! a unary minus in an expression but one literal in a pattern). Literals
//! are the one deliberate difference, see `int`.
//!
//! Here: delimiters, paths, types and expressions; statements, functions,
//! items, attributes and raw tokens are in `ast/item.rs`, patterns in
//! `ast/pat.rs` (all used as `ast::name`).

use std::cell::Cell;

use proc_macro2::extra::DelimSpan;
use proc_macro2::{Delimiter, Group, Literal, Span, TokenStream};
use syn::{
    token, AngleBracketedGenericArguments, BinOp, Expr, ExprArray, ExprBinary, ExprBlock, ExprCall,
    ExprCast, ExprField, ExprLit, ExprMacro, ExprMethodCall, ExprPath, ExprReference, ExprTuple,
    ExprUnary, GenericArgument, Index, Lifetime, Lit, Macro, MacroDelimiter, Member, Pat, Path,
    PathArguments, PathSegment, Stmt, Type, TypeArray, TypePath, TypeReference, UnOp,
};

pub(super) use crate::naming::ident;

mod item;
mod pat;

pub(super) use item::*;
pub(super) use pat::*;

// ---- delimiters ----

thread_local! {
    // A delimiter token's `Default` builds (and drops) an empty token stream
    // to make its span, a cost that shows on vmlinux. Within one call of
    // `shared_spans` every delimiter shares one span instead; not longer,
    // as inside a proc macro a span belongs to one macro call.
    static DELIM_SPAN: Cell<Option<DelimSpan>> = const { Cell::new(None) };
}

fn new_delim_span() -> DelimSpan {
    Group::new(Delimiter::None, TokenStream::new()).delim_span()
}

fn delim_span() -> DelimSpan {
    DELIM_SPAN.with(Cell::get).unwrap_or_else(new_delim_span)
}

/// Runs `f`, building its delimiters with one shared span.
pub(super) fn shared_spans<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<DelimSpan>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DELIM_SPAN.with(|span| span.set(self.0));
        }
    }
    let _restore = Restore(DELIM_SPAN.with(|span| span.replace(Some(new_delim_span()))));
    f()
}

pub(super) fn paren() -> token::Paren {
    token::Paren { span: delim_span() }
}

pub(super) fn brace() -> token::Brace {
    token::Brace { span: delim_span() }
}

pub(super) fn bracket() -> token::Bracket {
    token::Bracket { span: delim_span() }
}

// ---- paths and types ----

/// A path from the crate root: `global(&["core", "mem", "size_of"])` is
/// `::core::mem::size_of`.
pub(super) fn global(segments: &[&str]) -> Path {
    let mut p = relative(segments);
    p.leading_colon = Some(Default::default());
    p
}

/// A path without leading `::` (`super::types::flow_key`, `self`).
pub(super) fn relative(segments: &[&str]) -> Path {
    Path {
        leading_colon: None,
        segments: segments
            .iter()
            .map(|s| PathSegment::from(ident(s)))
            .collect(),
    }
}

/// `path` with generic arguments on its last segment: `size_of::<T>` in an
/// expression (`turbofish`) or `Formatter<'_>` in a type.
pub(super) fn with_args(
    mut path: Path,
    turbofish: bool,
    args: impl IntoIterator<Item = GenericArgument>,
) -> Path {
    if let Some(last) = path.segments.last_mut() {
        last.arguments = PathArguments::AngleBracketed(AngleBracketedGenericArguments {
            colon2_token: turbofish.then(Default::default),
            lt_token: Default::default(),
            args: args.into_iter().collect(),
            gt_token: Default::default(),
        });
    }
    path
}

pub(super) fn ty_path(path: Path) -> Type {
    Type::Path(TypePath { qself: None, path })
}

/// An emitted type (or any single-segment type) by Rust name.
pub(super) fn ty_named(name: &str) -> Type {
    ty_path(relative(&[name]))
}

pub(super) fn ty_array(elem: Type, len: u64) -> Type {
    Type::Array(TypeArray {
        bracket_token: bracket(),
        elem: Box::new(elem),
        semi_token: Default::default(),
        len: int(len),
    })
}

pub(super) fn ty_ref(elem: Type, mutable: bool) -> Type {
    Type::Reference(TypeReference {
        and_token: Default::default(),
        lifetime: None,
        mutability: mutable.then(Default::default),
        elem: Box::new(elem),
    })
}

/// `&'static elem`.
pub(super) fn ty_ref_static(elem: Type) -> Type {
    Type::Reference(TypeReference {
        and_token: Default::default(),
        lifetime: Some(syn::Lifetime::new("'static", Span::call_site())),
        mutability: None,
        elem: Box::new(elem),
    })
}

pub(super) fn ty_tuple(elems: impl IntoIterator<Item = Type>) -> Type {
    Type::Tuple(syn::TypeTuple {
        paren_token: paren(),
        elems: elems.into_iter().collect(),
    })
}

pub(super) fn ty_slice(elem: Type) -> Type {
    Type::Slice(syn::TypeSlice {
        bracket_token: bracket(),
        elem: Box::new(elem),
    })
}

/// `path<args..>` as a type (`HashMap<K, V>`).
pub(super) fn ty_generic(path: Path, args: impl IntoIterator<Item = Type>) -> Type {
    ty_path(with_args(
        path,
        false,
        args.into_iter().map(GenericArgument::Type),
    ))
}

/// `impl path` (`impl AsRef<Path>`).
pub(super) fn ty_impl(path: Path) -> Type {
    Type::ImplTrait(syn::TypeImplTrait {
        impl_token: Default::default(),
        bounds: std::iter::once(syn::TypeParamBound::Trait(syn::TraitBound {
            paren_token: None,
            modifier: syn::TraitBoundModifier::None,
            lifetimes: None,
            path,
        }))
        .collect(),
    })
}

pub(super) fn lifetime(name: &str) -> GenericArgument {
    GenericArgument::Lifetime(Lifetime::new(name, Span::call_site()))
}

// ---- expressions ----

pub(super) fn path_expr(path: Path) -> Expr {
    Expr::Path(ExprPath {
        attrs: Vec::new(),
        qself: None,
        path,
    })
}

/// A local variable, `self` or an emitted type used as a value.
pub(super) fn var(name: &str) -> Expr {
    path_expr(relative(&[name]))
}

// Literals are kept as their token text (`Lit::Verbatim`) rather than as
// syn's typed literals, which re-parse that text when built and clone it
// when printed (5x the cost for an integer, 2x for a string, and there are
// ~400k of them in vmlinux). prettyplease prints both kinds from the token
// text, with two exceptions: only a `Lit::Str` doc becomes a `///` comment
// (see `doc`), and an array of only `Lit::Int`s is laid out on fewer lines
// (nothing here emits one).

fn lit(lit: Lit) -> Expr {
    Expr::Lit(ExprLit {
        attrs: Vec::new(),
        lit,
    })
}

/// An unsuffixed integer literal.
pub(super) fn int(v: u64) -> Expr {
    lit(Lit::Verbatim(Literal::u64_unsuffixed(v)))
}

/// A string literal.
pub(super) fn string(s: &str) -> Expr {
    let mut quoted = String::with_capacity(s.len() + 2);
    quoted.push('"');
    quoted.push_str(s);
    quoted.push('"');
    string_lit(quoted)
}

/// The literal for `quoted` (text between `"`s), escaped as
/// `proc_macro2::Literal::string` escapes.
fn string_lit(quoted: String) -> Expr {
    let text = &quoted[1..quoted.len() - 1];
    // Printable ASCII other than `"` and `\` needs no escapes (that is all
    // of our text in practice): take it as is, which is much cheaper.
    let plain = text
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    let token = if plain { quoted.parse().ok() } else { None };
    lit(Lit::Verbatim(
        token.unwrap_or_else(|| Literal::string(text)),
    ))
}

pub(super) fn boolean(v: bool) -> Expr {
    lit(Lit::Bool(syn::LitBool::new(v, Span::call_site())))
}

/// `func(args..)`.
pub(super) fn call(func: Path, args: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::Call(ExprCall {
        attrs: Vec::new(),
        func: Box::new(path_expr(func)),
        paren_token: paren(),
        args: args.into_iter().collect(),
    })
}

/// `receiver.method(args..)`.
pub(super) fn method(receiver: Expr, name: &str, args: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::MethodCall(ExprMethodCall {
        attrs: Vec::new(),
        receiver: Box::new(receiver),
        dot_token: Default::default(),
        method: ident(name),
        turbofish: None,
        paren_token: paren(),
        args: args.into_iter().collect(),
    })
}

fn member(base: Expr, member: Member) -> Expr {
    Expr::Field(ExprField {
        attrs: Vec::new(),
        base: Box::new(base),
        dot_token: Default::default(),
        member,
    })
}

/// `base.name`.
pub(super) fn field(base: Expr, name: &str) -> Expr {
    member(base, Member::Named(ident(name)))
}

/// `base.0`.
pub(super) fn field0(base: Expr) -> Expr {
    member(
        base,
        Member::Unnamed(Index {
            index: 0,
            span: Span::call_site(),
        }),
    )
}

/// `&expr` or `&mut expr`.
pub(super) fn reference(expr: Expr, mutable: bool) -> Expr {
    Expr::Reference(ExprReference {
        attrs: Vec::new(),
        and_token: Default::default(),
        mutability: mutable.then(Default::default),
        expr: Box::new(expr),
    })
}

/// `expr as ty`.
pub(super) fn cast(expr: Expr, ty: Type) -> Expr {
    Expr::Cast(ExprCast {
        attrs: Vec::new(),
        expr: Box::new(expr),
        as_token: Default::default(),
        ty: Box::new(ty),
    })
}

pub(super) fn binary(left: Expr, op: BinOp, right: Expr) -> Expr {
    Expr::Binary(ExprBinary {
        attrs: Vec::new(),
        left: Box::new(left),
        op,
        right: Box::new(right),
    })
}

pub(super) fn neg(expr: Expr) -> Expr {
    Expr::Unary(ExprUnary {
        attrs: Vec::new(),
        op: UnOp::Neg(Default::default()),
        expr: Box::new(expr),
    })
}

pub(super) fn tuple(elems: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::Tuple(ExprTuple {
        attrs: Vec::new(),
        paren_token: paren(),
        elems: elems.into_iter().collect(),
    })
}

pub(super) fn array(elems: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::Array(ExprArray {
        attrs: Vec::new(),
        bracket_token: bracket(),
        elems: elems.into_iter().collect(),
    })
}

/// `{ expr }`.
pub(super) fn block_expr(expr: Expr) -> Expr {
    Expr::Block(ExprBlock {
        attrs: Vec::new(),
        label: None,
        block: block(vec![tail(expr)]),
    })
}

/// `path!(tokens)`.
pub(super) fn macro_call(path: Path, tokens: TokenStream) -> Expr {
    Expr::Macro(ExprMacro {
        attrs: Vec::new(),
        mac: Macro {
            path,
            bang_token: Default::default(),
            delimiter: MacroDelimiter::Paren(paren()),
            tokens,
        },
    })
}

/// `expr?`.
pub(super) fn try_(expr: Expr) -> Expr {
    Expr::Try(syn::ExprTry {
        attrs: Vec::new(),
        expr: Box::new(expr),
        question_token: Default::default(),
    })
}

/// `*expr`.
pub(super) fn deref(expr: Expr) -> Expr {
    Expr::Unary(ExprUnary {
        attrs: Vec::new(),
        op: UnOp::Deref(Default::default()),
        expr: Box::new(expr),
    })
}

/// `left = right`.
pub(super) fn assign(left: Expr, right: Expr) -> Expr {
    Expr::Assign(syn::ExprAssign {
        attrs: Vec::new(),
        left: Box::new(left),
        eq_token: Default::default(),
        right: Box::new(right),
    })
}

/// `()`.
pub(super) fn unit() -> Expr {
    tuple([])
}

/// `path { fields }`; see `field_value` and `shorthand`.
pub(super) fn struct_expr(path: Path, fields: impl IntoIterator<Item = syn::FieldValue>) -> Expr {
    Expr::Struct(syn::ExprStruct {
        attrs: Vec::new(),
        qself: None,
        path,
        brace_token: brace(),
        fields: fields.into_iter().collect(),
        dot2_token: None,
        rest: None,
    })
}

/// `name: expr` in a struct expression.
pub(super) fn field_value(name: &str, expr: Expr) -> syn::FieldValue {
    syn::FieldValue {
        attrs: Vec::new(),
        member: Member::Named(ident(name)),
        colon_token: Some(Default::default()),
        expr,
    }
}

/// `name` in a struct expression (the local of the same name).
pub(super) fn shorthand(name: &str) -> syn::FieldValue {
    syn::FieldValue {
        attrs: Vec::new(),
        member: Member::Named(ident(name)),
        colon_token: None,
        expr: var(name),
    }
}

/// `if cond { then }` (`cond` may be a `let_`).
pub(super) fn if_(cond: Expr, then: Vec<Stmt>) -> Expr {
    Expr::If(syn::ExprIf {
        attrs: Vec::new(),
        if_token: Default::default(),
        cond: Box::new(cond),
        then_branch: block(then),
        else_branch: None,
    })
}

/// `let pat = expr`, the condition of an `if let`.
pub(super) fn let_(pat: Pat, expr: Expr) -> Expr {
    Expr::Let(syn::ExprLet {
        attrs: Vec::new(),
        let_token: Default::default(),
        pat: Box::new(pat),
        eq_token: Default::default(),
        expr: Box::new(expr),
    })
}

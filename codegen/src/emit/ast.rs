//! Small constructors of `syn` syntax trees, so that each emitted item reads
//! like the code it stands for.
//!
//! In: names, numbers and sub-trees. Out: `syn` nodes shaped as
//! `syn::parse2` would build them from the same source text, so that
//! prettyplease prints them the same way (a negative number, for example, is
//! a unary minus in an expression but one literal in a pattern). Literals
//! are the one deliberate difference, see `int`.

use std::cell::Cell;

use proc_macro2::extra::DelimSpan;
use proc_macro2::{Delimiter, Group, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use syn::{
    token, AngleBracketedGenericArguments, Arm, AttrStyle, Attribute, BinOp, Block, Expr,
    ExprArray, ExprBinary, ExprBlock, ExprCall, ExprCast, ExprField, ExprLit, ExprMacro,
    ExprMethodCall, ExprPath, ExprReference, ExprTuple, ExprUnary, FnArg, GenericArgument,
    Generics, ImplItem, ImplItemFn, Index, Item, ItemImpl, Lifetime, Lit, LitStr, Macro,
    MacroDelimiter, Member, Meta, MetaList, MetaNameValue, Pat, PatIdent, PatType, Path,
    PathArguments, PathSegment, Receiver, ReturnType, Signature, Stmt, Type, TypeArray, TypePath,
    TypeReference, UnOp, Visibility,
};

pub(super) use crate::naming::ident;

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

/// An integer literal pattern; a negative one is a single literal token in
/// a pattern (`-5 => ..`), unlike in an expression (see `neg`).
pub(super) fn int_pat(v: i128) -> Pat {
    Pat::Lit(ExprLit {
        attrs: Vec::new(),
        lit: Lit::Verbatim(Literal::i128_unsuffixed(v)),
    })
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

/// `pat => body,`
pub(super) fn arm(pat: Pat, body: Expr) -> Arm {
    Arm {
        attrs: Vec::new(),
        pat,
        guard: None,
        fat_arrow_token: Default::default(),
        body: Box::new(body),
        comma: Some(Default::default()),
    }
}

pub(super) fn pat_ident(name: &str) -> Pat {
    Pat::Ident(PatIdent {
        attrs: Vec::new(),
        by_ref: None,
        mutability: None,
        ident: ident(name),
        subpat: None,
    })
}

// ---- statements and functions ----

/// The last expression of a block, without `;`.
pub(super) fn tail(expr: Expr) -> Stmt {
    Stmt::Expr(expr, None)
}

pub(super) fn block(stmts: Vec<Stmt>) -> Block {
    Block {
        brace_token: brace(),
        stmts,
    }
}

/// `&self` or `&mut self`.
pub(super) fn self_ref(mutable: bool) -> FnArg {
    FnArg::Receiver(Receiver {
        attrs: Vec::new(),
        reference: Some((Default::default(), None)),
        mutability: mutable.then(Default::default),
        self_token: Default::default(),
        colon_token: None,
        ty: Box::new(ty_ref(ty_named("Self"), mutable)),
    })
}

/// `name: ty`.
pub(super) fn arg(name: &str, ty: Type) -> FnArg {
    FnArg::Typed(PatType {
        attrs: Vec::new(),
        pat: Box::new(pat_ident(name)),
        colon_token: Default::default(),
        ty: Box::new(ty),
    })
}

/// An associated function of an impl block.
pub(super) struct Method {
    pub attrs: Vec<Attribute>,
    pub public: bool,
    pub name: String,
    pub inputs: Vec<FnArg>,
    pub output: Option<Type>,
    pub body: Vec<Stmt>,
}

impl Method {
    pub(super) fn build(self) -> ImplItem {
        ImplItem::Fn(ImplItemFn {
            attrs: self.attrs,
            vis: visibility(self.public),
            defaultness: None,
            sig: Signature {
                constness: None,
                asyncness: None,
                unsafety: None,
                abi: None,
                fn_token: Default::default(),
                ident: ident(&self.name),
                generics: Generics::default(),
                paren_token: paren(),
                inputs: self.inputs.into_iter().collect(),
                variadic: None,
                output: match self.output {
                    Some(t) => ReturnType::Type(Default::default(), Box::new(t)),
                    None => ReturnType::Default,
                },
            },
            block: block(self.body),
        })
    }
}

// ---- items and attributes ----

pub(super) fn visibility(public: bool) -> Visibility {
    if public {
        Visibility::Public(Default::default())
    } else {
        Visibility::Inherited
    }
}

/// `impl self_ty { .. }`, `impl trait_ for self_ty { .. }` or the same with
/// `unsafe`.
pub(super) fn item_impl(
    unsafe_: bool,
    trait_: Option<Path>,
    self_ty: Type,
    items: Vec<ImplItem>,
) -> Item {
    Item::Impl(ItemImpl {
        attrs: Vec::new(),
        defaultness: None,
        unsafety: unsafe_.then(Default::default),
        impl_token: Default::default(),
        generics: Generics::default(),
        trait_: trait_.map(|p| (None, p, Default::default())),
        self_ty: Box::new(self_ty),
        brace_token: brace(),
        items,
    })
}

/// `const _: () = expr;`: a compile-time check.
/// `path!(tokens);` in item position.
pub(super) fn item_macro(path: Path, tokens: TokenStream) -> Item {
    Item::Macro(syn::ItemMacro {
        attrs: Vec::new(),
        ident: None,
        mac: Macro {
            path,
            bang_token: Default::default(),
            delimiter: MacroDelimiter::Paren(paren()),
            tokens,
        },
        semi_token: Some(Default::default()),
    })
}

/// `#[doc = text]`, printed as `///text`.
pub(super) fn doc(text: &str) -> Attribute {
    outer(Meta::NameValue(MetaNameValue {
        path: relative(&["doc"]),
        eq_token: Default::default(),
        value: lit(Lit::Str(LitStr::new(text, Span::call_site()))),
    }))
}

/// `#[name(tokens)]`.
pub(super) fn attr_list(name: &str, tokens: TokenStream) -> Attribute {
    outer(Meta::List(MetaList {
        path: relative(&[name]),
        delimiter: MacroDelimiter::Paren(paren()),
        tokens,
    }))
}

fn outer(meta: Meta) -> Attribute {
    Attribute {
        pound_token: Default::default(),
        style: AttrStyle::Outer,
        bracket_token: bracket(),
        meta,
    }
}

// ---- raw tokens (attribute arguments, macro arguments) ----

/// Tokens spaced as `quote!` spaces them: `,` alone, `::` joint then alone.
#[derive(Default)]
pub(super) struct Tokens(TokenStream);

impl Tokens {
    fn push(mut self, token: impl Into<TokenTree>) -> Self {
        self.0.extend([token.into()]);
        self
    }

    pub(super) fn ident(self, name: &str) -> Self {
        self.push(ident(name))
    }

    /// `a::b::c`.
    pub(super) fn path<'a>(mut self, segments: impl IntoIterator<Item = &'a str>) -> Self {
        for (i, s) in segments.into_iter().enumerate() {
            if i > 0 {
                self = self
                    .push(Punct::new(':', Spacing::Joint))
                    .push(Punct::new(':', Spacing::Alone));
            }
            self = self.ident(s);
        }
        self
    }

    pub(super) fn comma(self) -> Self {
        self.push(Punct::new(',', Spacing::Alone))
    }

    /// `name(n)`, as in `align(8)`.
    pub(super) fn call_int(self, name: &str, n: u64) -> Self {
        let arg = TokenTree::Literal(Literal::u64_unsuffixed(n));
        self.ident(name)
            .push(Group::new(Delimiter::Parenthesis, arg.into()))
    }

    /// Comma-separated paths: `Clone, Copy`, `dead_code, clippy::all`.
    pub(super) fn list(mut self, paths: &[&str]) -> Self {
        for (i, p) in paths.iter().enumerate() {
            if i > 0 {
                self = self.comma();
            }
            self = self.path(p.split("::"));
        }
        self
    }

    pub(super) fn build(self) -> TokenStream {
        self.0
    }
}

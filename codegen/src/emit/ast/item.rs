//! Statements, functions, items, attributes and raw tokens, built as
//! `syn::parse2` builds them (see `ast`).

use proc_macro2::{Delimiter, Group, Literal, Punct, Spacing, TokenStream, TokenTree};
use syn::{
    AttrStyle, Attribute, Block, Expr, FnArg, Generics, ImplItem, ImplItemFn, Item, ItemImpl, Lit,
    LitStr, Macro, MacroDelimiter, Meta, MetaList, MetaNameValue, Pat, PatType, Path, Receiver,
    ReturnType, Signature, Stmt, Type, Visibility,
};

use super::{brace, bracket, ident, lit, paren, pat_ident, relative, ty_named, ty_ref};
use proc_macro2::Span;

// ---- statements and functions ----

/// The last expression of a block, without `;`.
pub(in crate::emit) fn tail(expr: Expr) -> Stmt {
    Stmt::Expr(expr, None)
}

pub(in crate::emit) fn block(stmts: Vec<Stmt>) -> Block {
    Block {
        brace_token: brace(),
        stmts,
    }
}

/// `expr;`.
pub(in crate::emit) fn stmt(expr: Expr) -> Stmt {
    Stmt::Expr(expr, Some(Default::default()))
}

/// A block-like expression (`if ..`) as a statement, without `;`.
pub(in crate::emit) fn stmt_block(expr: Expr) -> Stmt {
    Stmt::Expr(expr, None)
}

/// `let pat = expr;`.
pub(in crate::emit) fn local(pat: Pat, expr: Expr) -> Stmt {
    Stmt::Local(syn::Local {
        attrs: Vec::new(),
        let_token: Default::default(),
        pat,
        init: Some(syn::LocalInit {
            eq_token: Default::default(),
            expr: Box::new(expr),
            diverge: None,
        }),
        semi_token: Default::default(),
    })
}

/// `self`, taken by value.
pub(in crate::emit) fn self_value() -> FnArg {
    FnArg::Receiver(Receiver {
        attrs: Vec::new(),
        reference: None,
        mutability: None,
        self_token: Default::default(),
        colon_token: None,
        ty: Box::new(ty_named("Self")),
    })
}

/// `&self` or `&mut self`.
pub(in crate::emit) fn self_ref(mutable: bool) -> FnArg {
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
pub(in crate::emit) fn arg(name: &str, ty: Type) -> FnArg {
    FnArg::Typed(PatType {
        attrs: Vec::new(),
        pat: Box::new(pat_ident(name)),
        colon_token: Default::default(),
        ty: Box::new(ty),
    })
}

/// An associated function of an impl block.
pub(in crate::emit) struct Method {
    pub attrs: Vec<Attribute>,
    pub public: bool,
    pub name: String,
    pub inputs: Vec<FnArg>,
    pub output: Option<Type>,
    pub body: Vec<Stmt>,
}

impl Method {
    pub(in crate::emit) fn build(self) -> ImplItem {
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

pub(in crate::emit) fn visibility(public: bool) -> Visibility {
    if public {
        Visibility::Public(Default::default())
    } else {
        Visibility::Inherited
    }
}

/// `impl self_ty { .. }`, `impl trait_ for self_ty { .. }` or the same with
/// `unsafe`.
pub(in crate::emit) fn item_impl(
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

/// `attrs` on an item that has attributes (struct, impl, const).
pub(in crate::emit) fn with_attrs(mut item: Item, attrs: Vec<Attribute>) -> Item {
    match &mut item {
        Item::Struct(s) => s.attrs = attrs,
        Item::Impl(i) => i.attrs = attrs,
        Item::Const(c) => c.attrs = attrs,
        _ => {}
    }
    item
}

/// `pub name: ty` (or without `pub`), with `attrs`.
pub(in crate::emit) fn named_field(
    attrs: Vec<Attribute>,
    public: bool,
    name: &str,
    ty: Type,
) -> syn::Field {
    syn::Field {
        attrs,
        vis: visibility(public),
        mutability: syn::FieldMutability::None,
        ident: Some(ident(name)),
        colon_token: Some(Default::default()),
        ty,
    }
}

/// `pub struct name { fields }`.
pub(in crate::emit) fn item_struct(
    attrs: Vec<Attribute>,
    name: &str,
    fields: Vec<syn::Field>,
) -> Item {
    Item::Struct(syn::ItemStruct {
        attrs,
        vis: visibility(true),
        struct_token: Default::default(),
        ident: ident(name),
        generics: Default::default(),
        fields: syn::Fields::Named(syn::FieldsNamed {
            brace_token: brace(),
            named: fields.into_iter().collect(),
        }),
        semi_token: None,
    })
}

/// `const name: ty = value;` (`pub` when `public`); `_` for a compile-time check.
pub(in crate::emit) fn item_const(public: bool, name: &str, ty: Type, value: Expr) -> Item {
    Item::Const(syn::ItemConst {
        attrs: Vec::new(),
        vis: visibility(public),
        const_token: Default::default(),
        ident: ident(name),
        generics: Default::default(),
        colon_token: Default::default(),
        ty: Box::new(ty),
        eq_token: Default::default(),
        expr: Box::new(value),
        semi_token: Default::default(),
    })
}

/// `path!(tokens);` in item position.
pub(in crate::emit) fn item_macro(path: Path, tokens: TokenStream) -> Item {
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
pub(in crate::emit) fn doc(text: &str) -> Attribute {
    outer(Meta::NameValue(MetaNameValue {
        path: relative(&["doc"]),
        eq_token: Default::default(),
        value: lit(Lit::Str(LitStr::new(text, Span::call_site()))),
    }))
}

/// `#[name(tokens)]`.
pub(in crate::emit) fn attr_list(name: &str, tokens: TokenStream) -> Attribute {
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
pub(in crate::emit) struct Tokens(TokenStream);

impl Tokens {
    fn push(mut self, token: impl Into<TokenTree>) -> Self {
        self.0.extend([token.into()]);
        self
    }

    pub(in crate::emit) fn ident(self, name: &str) -> Self {
        self.push(ident(name))
    }

    /// `a::b::c`.
    pub(in crate::emit) fn path<'a>(mut self, segments: impl IntoIterator<Item = &'a str>) -> Self {
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

    pub(in crate::emit) fn comma(self) -> Self {
        self.push(Punct::new(',', Spacing::Alone))
    }

    /// A string literal, escaped as `quote!` escapes it.
    pub(in crate::emit) fn string(self, s: &str) -> Self {
        self.push(Literal::string(s))
    }

    /// `name(n)`, as in `align(8)`.
    pub(in crate::emit) fn call_int(self, name: &str, n: u64) -> Self {
        let arg = TokenTree::Literal(Literal::u64_unsuffixed(n));
        self.ident(name)
            .push(Group::new(Delimiter::Parenthesis, arg.into()))
    }

    /// Comma-separated paths: `Clone, Copy`, `dead_code, clippy::all`.
    pub(in crate::emit) fn list(mut self, paths: &[&str]) -> Self {
        for (i, p) in paths.iter().enumerate() {
            if i > 0 {
                self = self.comma();
            }
            self = self.path(p.split("::"));
        }
        self
    }

    pub(in crate::emit) fn build(self) -> TokenStream {
        self.0
    }
}

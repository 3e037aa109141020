//! IR -> `syn` syntax trees, built directly with the `ast` helpers (no
//! quoting, no parsing of generated code): every decision was made in `ir`,
//! and `format` prints the trees.
//!
//! In: [`Items`], and a skeleton IR. Out: the `syn::Item`s of one
//! `pub mod types { .. }` (and optionally of `pub mod layouts`), and the
//! items of a skeleton ([`skeleton`]).

mod ast;
mod composite;
mod enumeration;
mod layout;
mod skel;
mod skel_maps;
mod skel_ops;

use syn::{Expr, GenericArgument, Stmt, Type};

use crate::ir::{Item, Items, RustTy};
use ast::{doc, global, ident, relative, ty_array, ty_named, ty_path, Tokens};

pub use layout::layout_table;
pub use skel::skeleton;

/// What emission needs to know about the whole module: which primitive
/// names a C type shadows (vmlinux has `typedef __u32 u32;`), so that only
/// those are spelled `::core::primitive::u32`.
#[derive(Debug)]
pub struct Cx {
    shadowed: std::collections::HashSet<String>,
    /// Targets of type aliases, to see through them.
    aliases: std::collections::HashMap<String, RustTy>,
}

impl Cx {
    pub fn new(items: &Items) -> Cx {
        Cx {
            shadowed: items.items.keys().cloned().collect(),
            aliases: items
                .items
                .values()
                .filter_map(|it| match it {
                    Item::Alias { name, target, .. } => Some((name.clone(), target.clone())),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Whether `t` implements `Default` by derive: std has it for arrays of
    /// up to 32 elements only.
    fn small_arrays(&self, t: &RustTy) -> bool {
        match t {
            RustTy::Array(e, n) => *n <= 32 && self.small_arrays(e),
            RustTy::Named(n) => self.aliases.get(n).is_none_or(|t| self.small_arrays(t)),
            _ => true,
        }
    }

    /// A primitive type, spelled through `::core::primitive` when shadowed.
    fn prim(&self, p: &str) -> Type {
        if self.shadowed.contains(p) {
            ty_path(global(&["core", "primitive", p]))
        } else {
            ty_named(p)
        }
    }
}

/// The (empty) `types` module with its docs and attributes; the items are
/// formatted separately and put inside as text (see `format`).
pub fn module_attrs() -> syn::Item {
    let allow = Tokens::default().list(&[
        "non_camel_case_types",
        "non_snake_case",
        "non_upper_case_globals",
        "dead_code",
        // C's names and layouts: bitfield accessors cast by design, padding
        // is left out of Debug, names and docs are C's.
        "clippy::all",
        "clippy::pedantic",
        // `unsafe impl Pod` is checked by the layout asserts beside it;
        // prettyplease drops the comment a SAFETY line would be.
        "clippy::undocumented_unsafe_blocks",
    ]);
    syn::Item::Mod(syn::ItemMod {
        attrs: vec![
            doc(" Types of the object's BTF, with the kernel's layout."),
            ast::attr_list("allow", allow.build()),
        ],
        vis: ast::visibility(true),
        unsafety: None,
        mod_token: Default::default(),
        ident: ident("types"),
        content: Some((ast::brace(), Vec::new())),
        semi: None,
    })
}

/// The syntax trees of some items of the `types` module, in order.
pub fn items<'a>(cx: &Cx, items: impl IntoIterator<Item = &'a Item>) -> Vec<syn::Item> {
    ast::shared_spans(|| {
        let mut out = Vec::new();
        for it in items {
            item(cx, it, &mut out);
        }
        out
    })
}

fn item(cx: &Cx, it: &Item, out: &mut Vec<syn::Item>) {
    match it {
        Item::Struct(s) => composite::composite(cx, s, out),
        Item::Enum(e) => enumeration::enumeration(cx, e, out),
        Item::Alias {
            name,
            c_name,
            target,
        } => out.push(syn::Item::Type(syn::ItemType {
            attrs: vec![doc(&format!(" C `typedef {c_name}`."))],
            vis: ast::visibility(true),
            type_token: Default::default(),
            ident: ident(name),
            generics: Default::default(),
            eq_token: Default::default(),
            ty: Box::new(ty(cx, target)),
            semi_token: Default::default(),
        })),
    }
}

/// The Rust type for `t`.
pub fn ty(cx: &Cx, t: &RustTy) -> Type {
    match t {
        RustTy::Prim(p) => cx.prim(p),
        RustTy::Bool => ty_path(global(&["bpf2rs", "ctypes", "Bool"])),
        RustTy::Named(n) => ty_named(n),
        RustTy::Array(elem, len) => ty_array(ty(cx, elem), u64::from(*len)),
    }
}

// ---- pieces shared by structs, unions and enums ----

/// `unsafe impl ::bpf2rs::Pod for name {}`.
fn pod_impl(name: &str) -> syn::Item {
    ast::item_impl(
        true,
        Some(global(&["bpf2rs", "Pod"])),
        ty_named(name),
        Vec::new(),
    )
}

/// `::core::mem::size_of::<type_path>()` (or `align_of`).
fn mem_of(what: &str, type_path: &[&str]) -> Expr {
    let arg = GenericArgument::Type(ty_path(relative(type_path)));
    ast::call(
        ast::with_args(global(&["core", "mem", what]), true, [arg]),
        [],
    )
}

/// `::core::mem::offset_of!(type_path, field)`.
fn offset_of(type_path: &[&str], field: &str) -> Expr {
    let tokens = Tokens::default()
        .path(type_path.iter().copied())
        .comma()
        .ident(field)
        .build();
    ast::macro_call(global(&["core", "mem", "offset_of"]), tokens)
}

/// How a doc comment names the C type: `` `struct flow` ``, or for an
/// anonymous type (named here after its parent and member or its typedef)
/// `anonymous struct, named after its use`.
fn c_doc_name(c_name: &str) -> String {
    match c_name.strip_suffix(" (anon)") {
        Some(kind) => format!("anonymous {kind}, named after its use"),
        None => format!("`{c_name}`"),
    }
}

/// `::bpf2rs::__private::check_layout!(name, size(N), align(A), field(offset)..);`:
/// one line per type (the macro expands to the `size_of`/`align_of`/
/// `offset_of!` assertions), which keeps the output of a whole kernel small.
fn check_layout<'a>(
    name: &str,
    size: u64,
    align: Option<u64>,
    fields: impl IntoIterator<Item = (&'a str, u64)>,
) -> syn::Item {
    let mut tokens = Tokens::default().ident(name).comma().call_int("size", size);
    if let Some(align) = align {
        tokens = tokens.comma().call_int("align", align);
        for (field, offset) in fields {
            tokens = tokens.comma().call_int(field, offset);
        }
    }
    ast::item_macro(
        global(&["bpf2rs", "__private", "check_layout"]),
        tokens.build(),
    )
}

/// `impl ::core::fmt::Debug for name { fn fmt(&self, f: ..) -> .. { body } }`.
fn debug_impl(name: &str, body: Vec<Stmt>) -> syn::Item {
    let formatter = ast::with_args(
        global(&["core", "fmt", "Formatter"]),
        false,
        [ast::lifetime("'_")],
    );
    let fmt = ast::Method {
        attrs: Vec::new(),
        public: false,
        name: "fmt".into(),
        inputs: vec![
            ast::self_ref(false),
            ast::arg("f", ast::ty_ref(ty_path(formatter), true)),
        ],
        output: Some(ty_path(global(&["core", "fmt", "Result"]))),
        body,
    };
    ast::item_impl(
        false,
        Some(global(&["core", "fmt", "Debug"])),
        ty_named(name),
        vec![fmt.build()],
    )
}

//! IR -> tokens. Only `quote!` here: every layout decision was made in `ir`.
//!
//! In: [`Items`]. Out: a `TokenStream` of one `pub mod types { .. }`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{Bitfield, EnumItem, FieldKind, GetterTy, Item, Items, RustTy, StructItem};
use crate::naming::{ident, plain, setter};

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

    fn prim(&self, p: &str) -> TokenStream {
        let id = format_ident!("{}", p);
        if self.shadowed.contains(p) {
            quote!(::core::primitive::#id)
        } else {
            quote!(#id)
        }
    }
}

/// The attributes and opening of the `types` module; emitted as text around
/// the separately formatted items (see `format`).
pub fn module_attrs() -> TokenStream {
    quote! {
        /// Types of the object's BTF, with the kernel's layout.
        #[allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, clippy::all)]
        pub mod types {}
    }
}

/// The tokens of some items of the `types` module.
pub fn items<'a>(cx: &Cx, items: impl IntoIterator<Item = &'a Item>) -> TokenStream {
    items.into_iter().map(|it| item(cx, it)).collect()
}

fn item(cx: &Cx, it: &Item) -> TokenStream {
    match it {
        Item::Struct(s) => composite(cx, s),
        Item::Enum(e) => enumeration(cx, e),
        Item::Alias {
            name,
            c_name,
            target,
        } => {
            let n = ident(name);
            let t = ty(cx, target);
            let doc = format!(" C `typedef {c_name}`.");
            quote! {
                #[doc = #doc]
                pub type #n = #t;
            }
        }
    }
}

pub fn ty(cx: &Cx, t: &RustTy) -> TokenStream {
    match t {
        RustTy::Prim(p) => cx.prim(p),
        RustTy::Bool => quote!(::bpf2rs::ctypes::Bool),
        RustTy::Named(n) => {
            let n = ident(n);
            quote!(#n)
        }
        RustTy::Array(elem, len) => {
            let e = ty(cx, elem);
            let l = Literal::usize_unsuffixed(*len as usize);
            quote!([#e; #l])
        }
    }
}

fn composite(cx: &Cx, s: &StructItem) -> TokenStream {
    let name = ident(&s.name);
    let doc = format!(
        " C `{}`: {} bytes, BTF id {}.",
        s.c_name, s.size, s.btf_id.0
    );
    let mut repr = vec![quote!(C)];
    if s.packed {
        repr.push(quote!(packed));
    }
    if let Some(a) = s.align_attr {
        let a = Literal::usize_unsuffixed(a as usize);
        repr.push(quote!(align(#a)));
    }
    let fields = s.fields.iter().map(|f| {
        let n = ident(&f.name);
        let t = ty(cx, &f.ty);
        quote!(pub #n: #t)
    });
    let keyword = if s.is_union {
        quote!(union)
    } else {
        quote!(struct)
    };
    let size = Literal::usize_unsuffixed(s.size as usize);
    let align = Literal::usize_unsuffixed(s.align as usize);
    let offsets = (!s.is_union).then(|| {
        s.fields.iter().map(|f| {
            let n = ident(&f.name);
            let off = Literal::usize_unsuffixed(f.offset as usize);
            let what = format!(
                "bpf2rs: offset of {}.{} differs from BTF ({})",
                plain(&s.name),
                plain(&f.name),
                f.offset
            );
            quote!((::core::mem::offset_of!(#name, #n), #off, #what))
        })
    });
    let offsets: Vec<TokenStream> = offsets.into_iter().flatten().collect();
    let accessors = s.bitfields.iter().map(|b| bitfield(cx, b));
    let size_msg = format!(
        "bpf2rs: size of {} differs from BTF ({})",
        plain(&s.name),
        s.size
    );
    let align_msg = format!(
        "bpf2rs: alignment of {} differs from BTF ({})",
        plain(&s.name),
        s.align
    );

    let plain_fields = !s.packed && s.fields.iter().all(|f| f.kind == FieldKind::Member);
    let derive_debug = if !s.is_union && plain_fields {
        quote!(, Debug)
    } else {
        quote!()
    };
    // std implements Default for arrays of up to 32 elements only.
    let derive_default = !s.is_union && s.fields.iter().all(|f| cx.small_arrays(&f.ty));
    let default_impl = if derive_default {
        quote!()
    } else {
        quote! {
            impl ::core::default::Default for #name {
                fn default() -> Self {
                    ::bpf2rs::Pod::zeroed()
                }
            }
        }
    };
    let manual_debug = derive_debug.is_empty();
    let derive_debug = if derive_default {
        quote!(#derive_debug, Default)
    } else {
        derive_debug
    };
    let debug = if !manual_debug {
        quote!()
    } else if s.is_union {
        let cname = &s.name;
        let cname = plain(cname);
        quote! {
            impl ::core::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    ::bpf2rs::__private::fmt_union(#cname, ::bpf2rs::Pod::as_bytes(self), f)
                }
            }
        }
    } else {
        let sname = plain(&s.name);
        let members = s
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Member)
            .map(|f| {
                let n = ident(&f.name);
                let label = plain(&f.name);
                if s.packed {
                    quote!(.field(#label, &{ self.#n }))
                } else {
                    quote!(.field(#label, &self.#n))
                }
            });
        let bits = s.bitfields.iter().map(|b| {
            let n = ident(&b.name);
            let label = plain(&b.name);
            quote!(.field(#label, &self.#n()))
        });
        quote! {
            impl ::core::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#sname) #(#members)* #(#bits)* .finish()
                }
            }
        }
    };
    let impl_block = if s.bitfields.is_empty() {
        quote!()
    } else {
        quote! {
            impl #name {
                #(#accessors)*
            }
        }
    };
    quote! {
        #[doc = #doc]
        #[repr(#(#repr),*)]
        #[derive(Clone, Copy #derive_debug)]
        pub #keyword #name {
            #(#fields,)*
        }
        #impl_block
        #debug
        #default_impl
        // SAFETY: repr(C), explicit padding fields, only Pod fields; the
        // asserts below check size and offsets against BTF.
        unsafe impl ::bpf2rs::Pod for #name {}
        const _: () = ::bpf2rs::__private::check_layout(&[
            (::core::mem::size_of::<#name>(), #size, #size_msg),
            (::core::mem::align_of::<#name>(), #align, #align_msg),
            #(#offsets),*
        ]);
    }
}

fn bitfield(cx: &Cx, b: &Bitfield) -> TokenStream {
    let get = ident(&b.name);
    let set = format_ident!("{}", setter(&b.name));
    let storage = ident(&b.storage);
    let off = Literal::u32_unsuffixed(b.bit_offset);
    let bits = Literal::u32_unsuffixed(b.bits);
    let signed = b.signed;
    let doc = format!(
        " Bitfield `{}`: {} bits at bit {} of `{}`.",
        plain(&b.name),
        b.bits,
        b.bit_offset,
        b.storage
    );
    let raw = quote!(::bpf2rs::__private::bitfield_get(&self.#storage, #off, #bits, #signed));
    let (ret, get_body, set_arg) = match &b.getter {
        GetterTy::Bool => (cx.prim("bool"), quote!(#raw != 0), {
            let u = cx.prim("u64");
            quote!(v as #u)
        }),
        GetterTy::Prim(p) => {
            let p = cx.prim(p);
            let u = cx.prim("u64");
            (p.clone(), quote!(#raw as #p), quote!(v as #u))
        }
        GetterTy::Enum(n, repr) => {
            let n = ident(n);
            let r = cx.prim(repr);
            let u = cx.prim("u64");
            (quote!(#n), quote!(#n(#raw as #r)), quote!(v.0 as #u))
        }
    };
    quote! {
        #[doc = #doc]
        pub fn #get(&self) -> #ret {
            #get_body
        }
        #[doc = #doc]
        pub fn #set(&mut self, v: #ret) {
            ::bpf2rs::__private::bitfield_set(&mut self.#storage, #off, #bits, #set_arg)
        }
    }
}

fn enumeration(cx: &Cx, e: &EnumItem) -> TokenStream {
    let name = ident(&e.name);
    let repr = cx.prim(e.repr);
    let doc = format!(
        " C `{}` ({} bytes): a value that may be any {}, with the known ones as constants.",
        e.c_name, e.size, e.repr
    );
    let lit = |v: u64| -> TokenStream {
        if e.signed {
            let v = match e.size {
                1 => v as i8 as i64,
                2 => v as i16 as i64,
                4 => v as i32 as i64,
                _ => v as i64,
            };
            let l = Literal::i64_unsuffixed(v.abs());
            if v < 0 {
                quote!(-#l)
            } else {
                quote!(#l)
            }
        } else {
            let v = match e.size {
                1 => v as u8 as u64,
                2 => v as u16 as u64,
                4 => v as u32 as u64,
                _ => v,
            };
            let l = Literal::u64_unsuffixed(v);
            quote!(#l)
        }
    };
    let consts = e.values.iter().map(|(n, v)| {
        let c = ident(n);
        let l = lit(*v);
        quote!(pub const #c: #name = #name(#l);)
    });
    let mut seen = std::collections::HashSet::new();
    let arms: Vec<TokenStream> = e
        .values
        .iter()
        .filter(|(_, v)| seen.insert(*v))
        .map(|(n, v)| {
            let l = lit(*v);
            let label = plain(n);
            quote!(#l => ::core::option::Option::Some(#label),)
        })
        .collect();
    let cname = plain(&e.name);
    let size = Literal::usize_unsuffixed(e.size as usize);
    let size_msg = format!("bpf2rs: size of {} differs from BTF ({})", cname, e.size);

    quote! {
        #[doc = #doc]
        #[repr(transparent)]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct #name(pub #repr);
        impl #name {
            #(#consts)*
        }
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let known = match self.0 {
                    #(#arms)*
                    _ => ::core::option::Option::None,
                };
                ::bpf2rs::__private::fmt_enum(#cname, known, &self.0, f)
            }
        }
        // SAFETY: a transparent integer: every bit pattern is a valid value.
        unsafe impl ::bpf2rs::Pod for #name {}
        const _: () = ::bpf2rs::__private::check_layout(&[(::core::mem::size_of::<#name>(), #size, #size_msg)]);
    }
}

/// A `LAYOUTS` table of every struct and union: BTF id, C name, size and
/// each named member's bit offset, all computed by the Rust compiler from the
/// generated types (`size_of`, `offset_of!`). Tests compare it with what
/// other tools report for the same BTF.
pub fn layout_table(items: &Items) -> TokenStream {
    let rows = items.items.values().filter_map(|it| {
        let Item::Struct(s) = it else { return None };
        let name = ident(&s.name);
        let id = Literal::u32_unsuffixed(s.btf_id.0);
        let members = s
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Member && !f.name.starts_with("__anon"))
            .filter(|_| !s.is_union)
            .map(|f| {
                let n = ident(&f.name);
                let label = plain(&f.name);
                quote!((#label, ::core::mem::offset_of!(super::types::#name, #n) * 8))
            })
            .chain(s.fields.iter().filter(|f| s.is_union && f.kind == FieldKind::Member && !f.name.starts_with("__anon")).map(|f| {
                let label = plain(&f.name);
                quote!((#label, 0))
            }))
            .chain(s.bitfields.iter().filter(|b| !b.name.starts_with("__anon")).map(|b| {
                let label = plain(&b.name);
                let storage = ident(&b.storage);
                let bit = Literal::usize_unsuffixed(b.bit_offset as usize);
                if s.is_union {
                    quote!((#label, #bit))
                } else {
                    quote!((#label, ::core::mem::offset_of!(super::types::#name, #storage) * 8 + #bit))
                }
            }));
        Some(quote!((#id, ::core::mem::size_of::<super::types::#name>(), &[#(#members),*])))
    });
    quote! {
        /// (BTF id, size, [(member, bit offset)]) of every struct and union,
        /// as the Rust compiler lays out the generated types.
        pub mod layouts {
            pub const LAYOUTS: &[(u32, usize, &[(&str, usize)])] = &[#(#rows),*];
        }
    }
}

//! One C struct or union -> its Rust type, bitfield accessors, `Debug` and
//! `Default` where they cannot be derived, the `Pod` impl and a
//! compile-time check of size, alignment and field offsets against BTF.

use syn::{BinOp, Expr, Field, FieldMutability, Fields, FieldsNamed, ImplItem};

use super::ast::{
    self, arg, attr_list, binary, block_expr, boolean, call, cast, doc, field, field0, global,
    ident, int, item_impl, method, reference, relative, self_ref, string, tail, ty_named, var,
    Method, Tokens,
};
use super::{c_doc_name, check_layout, debug_impl, pod_impl, ty, Cx};
use crate::ir::{Bitfield, FieldKind, GetterTy, StructItem};
use crate::naming::{plain, setter};

/// Appends the items of struct or union `s` to `out`.
pub(super) fn composite(cx: &Cx, s: &StructItem, out: &mut Vec<syn::Item>) {
    let name = s.name.as_str();
    let plain_fields = !s.packed && s.fields.iter().all(|f| f.kind == FieldKind::Member);
    let derive_debug = !s.is_union && plain_fields;
    // std implements Default for arrays of up to 32 elements only.
    let derive_default = !s.is_union && s.fields.iter().all(|f| cx.small_arrays(&f.ty));
    out.push(type_item(cx, s, derive_debug, derive_default));

    if !s.bitfields.is_empty() {
        let accessors = s.bitfields.iter().flat_map(|b| bitfield(cx, b)).collect();
        out.push(item_impl(false, None, ty_named(name), accessors));
    }
    if !derive_debug {
        let body = if s.is_union {
            call(
                global(&["bpf2rs", "__private", "fmt_union"]),
                [
                    string(plain(name)),
                    call(global(&["bpf2rs", "Pod", "as_bytes"]), [var("self")]),
                    var("f"),
                ],
            )
        } else {
            debug_struct(s)
        };
        out.push(debug_impl(name, vec![tail(body)]));
    }
    if !derive_default {
        let default = Method {
            attrs: Vec::new(),
            public: false,
            name: "default".into(),
            inputs: Vec::new(),
            output: Some(ty_named("Self")),
            body: vec![tail(call(global(&["bpf2rs", "Pod", "zeroed"]), []))],
        };
        out.push(item_impl(
            false,
            Some(global(&["core", "default", "Default"])),
            ty_named(name),
            vec![default.build()],
        ));
    }
    // Sound because of repr(C), explicit padding fields and only Pod fields;
    // the check below compares size and offsets with BTF.
    out.push(pod_impl(name));

    // Union members are all at offset 0: nothing to check.
    let offsets = s
        .fields
        .iter()
        .filter(|_| !s.is_union)
        .map(|f| (f.name.as_str(), u64::from(f.offset)));
    out.push(check_layout(
        name,
        s.size.into(),
        Some(s.align.into()),
        offsets,
    ));
}

/// The `#[repr(C)]` struct or union itself, with its derives.
fn type_item(cx: &Cx, s: &StructItem, derive_debug: bool, derive_default: bool) -> syn::Item {
    let name = s.name.as_str();
    let mut repr = Tokens::default().ident("C");
    if s.packed {
        repr = repr.comma().ident("packed");
    }
    if let Some(a) = s.align_attr {
        repr = repr.comma().call_int("align", u64::from(a));
    }
    let mut derives = vec!["Clone", "Copy"];
    if derive_debug {
        derives.push("Debug");
    }
    if derive_default {
        derives.push("Default");
    }
    let size = if s.c_size == s.size {
        format!("{} bytes", s.size)
    } else {
        format!("{} bytes ({} with tail padding)", s.c_size, s.size)
    };
    let attrs = vec![
        doc(&format!(
            " C {}: {size}, BTF id {}.",
            c_doc_name(&s.c_name),
            s.btf_id.0
        )),
        attr_list("repr", repr.build()),
        attr_list("derive", Tokens::default().list(&derives).build()),
    ];
    let fields = FieldsNamed {
        brace_token: ast::brace(),
        named: s
            .fields
            .iter()
            .map(|f| Field {
                attrs: Vec::new(),
                vis: ast::visibility(true),
                mutability: FieldMutability::None,
                ident: Some(ident(&f.name)),
                colon_token: Some(Default::default()),
                ty: ty(cx, &f.ty),
            })
            .collect(),
    };
    if s.is_union {
        syn::Item::Union(syn::ItemUnion {
            attrs,
            vis: ast::visibility(true),
            union_token: Default::default(),
            ident: ident(name),
            generics: Default::default(),
            fields,
        })
    } else {
        syn::Item::Struct(syn::ItemStruct {
            attrs,
            vis: ast::visibility(true),
            struct_token: Default::default(),
            ident: ident(name),
            generics: Default::default(),
            fields: Fields::Named(fields),
            semi_token: None,
        })
    }
}

/// `f.debug_struct("name").field("a", &self.a)...field("bits", &self.bits()).finish()`;
/// fields of a packed struct are copied out (`&{ self.a }`) since they may
/// be unaligned.
fn debug_struct(s: &StructItem) -> Expr {
    let mut e = method(var("f"), "debug_struct", [string(plain(&s.name))]);
    for f in s.fields.iter().filter(|f| f.kind == FieldKind::Member) {
        let mut value = field(var("self"), &f.name);
        if s.packed {
            value = block_expr(value);
        }
        e = method(
            e,
            "field",
            [string(plain(&f.name)), reference(value, false)],
        );
    }
    for b in &s.bitfields {
        let value = method(var("self"), &b.name, []);
        e = method(
            e,
            "field",
            [string(plain(&b.name)), reference(value, false)],
        );
    }
    method(e, "finish", [])
}

/// Getter and setter of one bitfield.
fn bitfield(cx: &Cx, b: &Bitfield) -> [ImplItem; 2] {
    let doc_text = format!(
        " Bitfield `{}`: {} bits at bit {} of `{}`.",
        plain(&b.name),
        b.bits,
        b.bit_offset,
        b.storage
    );
    let storage = |mutable| reference(field(var("self"), &b.storage), mutable);
    let raw = call(
        global(&["bpf2rs", "__private", "bitfield_get"]),
        [
            storage(false),
            int(b.bit_offset.into()),
            int(b.bits.into()),
            boolean(b.signed),
        ],
    );
    // syn trees are not Clone here (no `clone-impls`): build the type twice.
    let ret = || match &b.getter {
        GetterTy::Bool => cx.prim("bool"),
        GetterTy::Prim(p) => cx.prim(p),
        GetterTy::Enum(n, _) => ty_named(n),
    };
    let (get_body, set_arg) = match &b.getter {
        GetterTy::Bool => (
            binary(raw, BinOp::Ne(Default::default()), int(0)),
            cast(var("v"), cx.prim("u64")),
        ),
        GetterTy::Prim(p) => (cast(raw, cx.prim(p)), cast(var("v"), cx.prim("u64"))),
        GetterTy::Enum(n, repr) => (
            call(relative(&[n]), [cast(raw, cx.prim(repr))]),
            cast(field0(var("v")), cx.prim("u64")),
        ),
    };
    let set_body = call(
        global(&["bpf2rs", "__private", "bitfield_set"]),
        [
            storage(true),
            int(b.bit_offset.into()),
            int(b.bits.into()),
            set_arg,
        ],
    );
    let getter = Method {
        attrs: vec![doc(&doc_text)],
        public: true,
        name: b.name.clone(),
        inputs: vec![self_ref(false)],
        output: Some(ret()),
        body: vec![tail(get_body)],
    };
    let setter = Method {
        attrs: vec![doc(&doc_text)],
        public: true,
        name: setter(&b.name),
        inputs: vec![self_ref(true), arg("v", ret())],
        output: None,
        body: vec![tail(set_body)],
    };
    [getter.build(), setter.build()]
}

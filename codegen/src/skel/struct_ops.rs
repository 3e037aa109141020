//! The struct_ops parts of a skeleton: a typed value per variable before
//! load (`open.struct_ops.<var>.value`, the object's struct from `types`),
//! the created maps after load (`skel.struct_ops.<var>`), and their
//! registrations in `skel.links`, made by `attach()`.
//!
//! In: the object's struct_ops variables and their Rust types. Out: token
//! pieces the skeleton template splices in; all empty for an object
//! without struct_ops, whose skeleton stays as it was.

use bpf2rs::obj::ObjectSpec;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::naming;

/// Token pieces of the skeleton for its struct_ops variables.
#[derive(Default)]
pub(super) struct OpsTokens {
    /// The open and loaded `...StructOps` struct definitions.
    pub(super) items: TokenStream,
    /// `pub struct_ops: Open...StructOps,` in the open skeleton.
    pub(super) open_field: TokenStream,
    /// Its initialiser in `from_object` (reads the typed values).
    pub(super) open_init: TokenStream,
    /// `struct_ops,` when destructuring the open skeleton in `load`.
    pub(super) open_binding: TokenStream,
    /// Writes the values and autocreate flags back before load.
    pub(super) open_applies: Vec<TokenStream>,
    /// `pub struct_ops: ...StructOps,` in the loaded skeleton.
    pub(super) loaded_field: TokenStream,
    /// Its initialiser in `load` (takes the maps out of the object).
    pub(super) loaded_init: TokenStream,
    /// Registration fields of the links struct and their `None`s.
    pub(super) link_fields: Vec<TokenStream>,
    pub(super) link_inits: Vec<TokenStream>,
    /// `attach()`'s registrations.
    pub(super) attaches: Vec<TokenStream>,
}

/// The pieces for `spec`'s struct_ops variables, `tys` their Rust types
/// (in `types`), `prefix` the skeleton's CamelCase prefix.
pub(super) fn tokens(spec: &ObjectSpec, tys: &[syn::Ident], prefix: &str) -> OpsTokens {
    if spec.struct_ops.is_empty() {
        return OpsTokens::default();
    }
    let open_ty = format_ident!("Open{}StructOps", prefix);
    let loaded_ty = format_ident!("{}StructOps", prefix);
    let mut open_fields = Vec::new();
    let mut open_inits = Vec::new();
    let mut loaded_fields = Vec::new();
    let mut loaded_inits = Vec::new();
    let mut out = OpsTokens::default();
    for (o, ty) in spec.struct_ops.iter().zip(tys) {
        let f = naming::ident(&naming::escape(&o.name));
        let name = &o.name;
        let how = if o.link {
            "registers through a BPF link"
        } else {
            "registers by writing the map's value"
        };
        let d = format!(
            " `{}` (`struct {}`, section `{}`): its value before load. Function \
             pointers are set by the loader to the programs the object names.",
            o.name, o.type_name, o.section
        );
        open_fields
            .push(quote!(#[doc = #d] pub #f: ::bpf2rs::struct_ops::OpenStructOps<types::#ty>));
        open_inits.push(quote!(#f: ::bpf2rs::__private::open_struct_ops(&object, #name)?));
        out.open_applies.push(
            quote!(::bpf2rs::__private::set_struct_ops(&mut object, #name, &struct_ops.#f)?;),
        );
        let d = format!(
            " `struct_ops` map `{}` (`struct {}`; {how}). `None` when its autocreate was off.",
            o.name, o.type_name
        );
        loaded_fields.push(
            quote!(#[doc = #d] pub #f: ::core::option::Option<::bpf2rs::struct_ops::StructOpsMap>),
        );
        loaded_inits.push(quote!(#f: ::bpf2rs::__private::take_struct_ops(&mut object, #name)));
        let d = format!(
            " Registration of `struct_ops` map `{}` made by `attach()` (`None`: not \
             registered); dropping it unregisters.",
            o.name
        );
        out.link_fields.push(
            quote!(#[doc = #d] pub #f: ::core::option::Option<::bpf2rs::struct_ops::StructOps>),
        );
        out.link_inits
            .push(quote!(#f: ::core::option::Option::None));
        out.attaches.push(quote! {
            if let (::core::option::Option::Some(ops), link @ ::core::option::Option::None) =
                (&self.struct_ops.#f, &mut self.links.#f)
            {
                *link = ::core::option::Option::Some(ops.register()?);
            }
        });
    }
    out.items = quote! {
        /// `struct_ops` variables before load: typed values and autocreate.
        #[derive(Debug)]
        #[allow(dead_code, non_snake_case, clippy::struct_field_names)]
        pub struct #open_ty {
            #(#open_fields,)*
        }

        /// `struct_ops` maps of the loaded object; `attach()` registers them.
        #[derive(Debug)]
        #[allow(dead_code, non_snake_case, clippy::struct_field_names)]
        pub struct #loaded_ty {
            #(#loaded_fields,)*
        }
    };
    out.open_field = quote! {
        /// `struct_ops` variables: values and autocreate, applied at load.
        pub struct_ops: #open_ty,
    };
    out.open_init = quote!(struct_ops: #open_ty { #(#open_inits,)* },);
    out.open_binding = quote!(struct_ops,);
    out.loaded_field = quote! {
        /// `struct_ops` maps (registered by `attach()`).
        pub struct_ops: #loaded_ty,
    };
    out.loaded_init = quote!(struct_ops: #loaded_ty { #(#loaded_inits,)* },);
    out
}

//! Expand: the checked input into tokens.
//!
//! In: an [`Input`] without errors and, when asked for, its [`BtfLayout`].
//! Out: `unsafe impl ::bpf2rs::Pod` plus one `const _` block of compile-time
//! checks: each field type is Pod, no byte is implicit padding, and the
//! layout equals the BTF type's. Sizes and offsets are only known to the
//! compiler, so the checks are const evaluations that panic with a message
//! built in const (a tiny formatter, [`message_builder`]), spanned on the
//! field or type at fault.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;

use crate::btf_check::BtfLayout;
use crate::input::{Field, Input, Shape};

/// Name of the const message builder inside the generated block.
const MSG: &str = "__Bpf2rsPodMessage";

pub fn expand(input: &Input<'_>, btf: Option<&BtfLayout>) -> TokenStream {
    let ident = input.ident;
    let msg = syn::Ident::new(MSG, Span::call_site());

    let pod_fields = input.fields.iter().map(|field| {
        let ty = field.ty;
        quote_spanned! {field.span=>
            const _: fn() = __bpf2rs_assert_pod::<#ty>;
        }
    });

    let padding = if input.transparent {
        Vec::new()
    } else {
        match input.shape {
            Shape::Struct => struct_padding(input, &msg),
            Shape::Union => union_padding(input, &msg),
        }
    };
    let btf_checks = btf.map(|layout| btf_checks(input, layout, &msg));
    let builder = message_builder(&msg);

    quote! {
        #[automatically_derived]
        unsafe impl ::bpf2rs::Pod for #ident {}

        #[allow(dead_code, clippy::all, clippy::pedantic)]
        const _: () = {
            #builder
            fn __bpf2rs_assert_pod<T: ::bpf2rs::Pod>() {}
            #(#pod_fields)*
            #(#padding)*
            #btf_checks
        };
    }
}

/// For each field, the bytes between its end and the next field's start (or
/// the end of the struct) must be zero. `repr(C)` keeps declaration order, so
/// neighbours in the source are neighbours in memory.
fn struct_padding(input: &Input<'_>, msg: &syn::Ident) -> Vec<TokenStream> {
    let ident = input.ident;
    let type_name = ident.unraw().to_string();
    if input.fields.is_empty() {
        let text = format!(" of padding in `{type_name}`, which has no fields");
        return vec![quote! {
            const _: () = {
                let size = ::core::mem::size_of::<#ident>();
                if size != 0 {
                    let m = #msg::new().bytes(size).str(#text);
                    ::core::panic!("{}", m.as_str());
                }
            };
        }];
    }
    let mut checks = Vec::new();
    for (i, field) in input.fields.iter().enumerate() {
        let member = &field.member;
        let ty = field.ty;
        let (next, what) = match input.fields.get(i + 1) {
            Some(next) => {
                let next_member = &next.member;
                (
                    quote_spanned!(field.span=> ::core::mem::offset_of!(#ident, #next_member)),
                    " of padding after field `",
                )
            }
            None => (
                quote_spanned!(field.span=> ::core::mem::size_of::<#ident>()),
                " of trailing padding after field `",
            ),
        };
        checks.push(gap_check(
            field,
            quote_spanned!(field.span=>
                ::core::mem::offset_of!(#ident, #member) + ::core::mem::size_of::<#ty>()),
            next,
            what,
            Shape::Struct,
            msg,
        ));
    }
    checks
}

/// A union's bytes past a smaller field are padding while that field is the
/// one written: every field must span the whole union.
fn union_padding(input: &Input<'_>, msg: &syn::Ident) -> Vec<TokenStream> {
    let ident = input.ident;
    input
        .fields
        .iter()
        .map(|field| {
            let ty = field.ty;
            gap_check(
                field,
                quote_spanned!(field.span=> ::core::mem::size_of::<#ty>()),
                quote_spanned!(field.span=> ::core::mem::size_of::<#ident>()),
                " of trailing padding after union field `",
                Shape::Union,
                msg,
            )
        })
        .collect()
}

/// `if next > end { panic!("<N> bytes<what><field>` at offset <end> ...") }`.
fn gap_check(
    field: &Field<'_>,
    end: TokenStream,
    next: TokenStream,
    what: &str,
    shape: Shape,
    msg: &syn::Ident,
) -> TokenStream {
    let after = format!("{what}{}` at offset ", field.name);
    let hint = match shape {
        Shape::Struct => quote!(.str(" (make it an explicit `[u8; ").num(gap).str("]` field)")),
        Shape::Union => quote!(.str(" (make every field as large as the union)")),
    };
    quote_spanned! {field.span=>
        const _: () = {
            let end = #end;
            let next = #next;
            if next > end {
                let gap = next - end;
                let m = #msg::new()
                    .bytes(gap)
                    .str(#after)
                    .num(end)
                    #hint;
                ::core::panic!("{}", m.as_str());
            }
        };
    }
}

fn btf_checks(input: &Input<'_>, layout: &BtfLayout, msg: &syn::Ident) -> TokenStream {
    let ident = input.ident;
    let what = &layout.what;
    let path = &layout.object_path;

    let size = Literal::u64_unsuffixed(layout.byte_size);
    let size_text = format!(" here but {} in {what}", bytes(layout.byte_size));
    let size_prefix = format!("`{}` is ", ident.unraw());
    let size_check = quote_spanned! {ident.span()=>
        const _: () = {
            let here = ::core::mem::size_of::<#ident>();
            if here != #size {
                let m = #msg::new().str(#size_prefix).bytes(here).str(#size_text);
                ::core::panic!("{}", m.as_str());
            }
        };
    };

    let field_checks = layout.fields.iter().filter_map(|expected| {
        let field = input.fields.get(expected.index)?;
        let member = &field.member;
        let ty = field.ty;
        let offset = Literal::u64_unsuffixed(expected.byte_offset);
        let offset_prefix = format!("field `{}` is at offset ", field.name);
        let offset_text = format!(" here but at offset {} in {what}", expected.byte_offset);
        let offset_check = quote_spanned! {field.span=>
            const _: () = {
                let here = ::core::mem::offset_of!(#ident, #member);
                if here != #offset {
                    let m = #msg::new().str(#offset_prefix).num(here).str(#offset_text);
                    ::core::panic!("{}", m.as_str());
                }
            };
        };
        let size_check = expected.byte_size.map(|byte_size| {
            let size = Literal::u64_unsuffixed(byte_size);
            let prefix = format!("field `{}` is ", field.name);
            let text = format!(" here but {} in {what}", bytes(byte_size));
            quote_spanned! {field.span=>
                const _: () = {
                    let here = ::core::mem::size_of::<#ty>();
                    if here != #size {
                        let m = #msg::new().str(#prefix).bytes(here).str(#text);
                        ::core::panic!("{}", m.as_str());
                    }
                };
            }
        });
        Some(quote!(#offset_check #size_check))
    });

    quote! {
        // rustc tracks included files: a rebuilt object re-runs these checks.
        const _: &[u8] = ::core::include_bytes!(#path);
        #size_check
        #(#field_checks)*
    }
}

fn bytes(n: u64) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

/// A const-evaluable string builder: const panics cannot format numbers, so
/// the message is assembled in a fixed buffer and panicked with as `&str`.
/// Overlong messages are cut at a character boundary.
fn message_builder(msg: &syn::Ident) -> TokenStream {
    quote! {
        struct #msg {
            buf: [u8; 256],
            len: usize,
        }

        impl #msg {
            const fn new() -> Self {
                Self { buf: [0; 256], len: 0 }
            }

            const fn str(mut self, s: &str) -> Self {
                let s = s.as_bytes();
                let mut i = 0;
                while i < s.len() && self.len < self.buf.len() {
                    self.buf[self.len] = s[i];
                    self.len += 1;
                    i += 1;
                }
                self
            }

            const fn num(mut self, mut n: usize) -> Self {
                let mut digits = [0u8; 20];
                let mut count = 0;
                loop {
                    digits[count] = b'0' + (n % 10) as u8;
                    count += 1;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                while count > 0 && self.len < self.buf.len() {
                    count -= 1;
                    self.buf[self.len] = digits[count];
                    self.len += 1;
                }
                self
            }

            const fn bytes(self, n: usize) -> Self {
                self.num(n).str(if n == 1 { " byte" } else { " bytes" })
            }

            const fn as_str(&self) -> &str {
                let (bytes, _) = self.buf.split_at(self.len);
                match ::core::str::from_utf8(bytes) {
                    Ok(s) => s,
                    Err(e) => match ::core::str::from_utf8(bytes.split_at(e.valid_up_to()).0) {
                        Ok(s) => s,
                        Err(_) => "",
                    },
                }
            }
        }
    }
}

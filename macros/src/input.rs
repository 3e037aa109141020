//! Parse: a `syn::DeriveInput` into the few facts `#[derive(Pod)]` needs.
//!
//! In: the derive input. Out: an [`Input`] (shape, repr, fields, the optional
//! `#[bpf2rs(btf = .., name = ..)]` request), with every problem found pushed
//! to [`Errors`] rather than returned at the first one.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Member, Type};

use crate::Errors;

/// What `#[derive(Pod)]` accepts: a struct or a union (enums are rejected).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    Struct,
    Union,
}

pub struct Input<'a> {
    pub ident: &'a Ident,
    pub shape: Shape,
    /// `#[repr(transparent)]`: the layout is the one non-zero-sized field's,
    /// so there is no padding to look for.
    pub transparent: bool,
    pub fields: Vec<Field<'a>>,
    pub btf: Option<BtfRequest>,
}

pub struct Field<'a> {
    /// `name` or `0`, as `offset_of!` wants it.
    pub member: Member,
    /// The name as written, without `r#`; the index for tuple fields.
    pub name: String,
    pub ty: &'a Type,
    /// Where errors about this field point (its name, or its type when unnamed).
    pub span: Span,
    /// `#[bpf2rs(padding)]`: an explicit padding field, not a BTF member.
    pub padding: bool,
}

/// `#[bpf2rs(btf = "path", name = "type")]` on the type.
pub struct BtfRequest {
    pub path: LitStr,
    /// The BTF type name; defaults to the Rust type's name.
    pub name: Option<LitStr>,
}

const REPR_HELP: &str = "#[derive(Pod)] requires #[repr(C)] or #[repr(transparent)]: \
                         the default Rust layout may reorder fields and change between compilers";

/// Parses `input`, recording every problem in `errors`. Returns `None` only
/// when there is nothing sensible to check further (an enum).
pub fn parse<'a>(input: &'a DeriveInput, errors: &mut Errors) -> Option<Input<'a>> {
    let (shape, fields) = match &input.data {
        Data::Struct(data) => (Shape::Struct, collect_fields(&data.fields, errors)),
        Data::Union(data) => (Shape::Union, collect_named(&data.fields.named, errors)),
        Data::Enum(data) => {
            errors.push(syn::Error::new(
                data.enum_token.span,
                "#[derive(Pod)] does not support enums: not every bit pattern is a valid \
                 variant; use a #[repr(transparent)] struct around the integer, with \
                 associated constants for the values",
            ));
            return None;
        }
    };
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Pod)] does not support generic types: padding and the Pod bound must \
             be checked for one concrete layout; derive it on a concrete type instead",
        ));
    }
    let (c, transparent) = parse_repr(input, errors);
    if !c && !transparent {
        errors.push(syn::Error::new(input.ident.span(), REPR_HELP));
    }
    let btf = parse_container_attrs(input, errors);
    if btf.is_some() {
        if let Some(field) = fields
            .iter()
            .find(|f| matches!(f.member, Member::Unnamed(_)))
        {
            errors.push(syn::Error::new(
                field.span,
                "a BTF check matches fields to members by name: use named fields",
            ));
        }
    }
    Some(Input {
        ident: &input.ident,
        shape,
        transparent,
        fields,
        btf,
    })
}

/// Reads every `#[repr(..)]`: whether it says `C` and whether `transparent`.
/// `packed`, `align(N)` and the rest are left to rustc, which validates them;
/// the padding checks hold for any of them.
fn parse_repr(input: &DeriveInput, errors: &mut Errors) -> (bool, bool) {
    let (mut c, mut transparent) = (false, false);
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("C") {
                c = true;
            } else if meta.path.is_ident("transparent") {
                transparent = true;
            }
            // `packed(N)`, `align(N)`: consume the argument.
            if meta.input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in meta.input);
                content.parse::<proc_macro2::TokenStream>()?;
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    (c, transparent)
}

fn parse_container_attrs(input: &DeriveInput, errors: &mut Errors) -> Option<BtfRequest> {
    let mut path: Option<LitStr> = None;
    let mut name: Option<LitStr> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("bpf2rs")) {
        let result = attr.parse_nested_meta(|meta| {
            let slot = if meta.path.is_ident("btf") {
                &mut path
            } else if meta.path.is_ident("name") {
                &mut name
            } else {
                return Err(meta.error(
                    "unknown bpf2rs attribute: expected `btf = \"path/to/x.bpf.o\"` \
                     or `name = \"btf_type\"`",
                ));
            };
            let value: LitStr = meta.value()?.parse()?;
            if slot.is_some() {
                return Err(syn::Error::new(value.span(), "given twice"));
            }
            *slot = Some(value);
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    match (path, name) {
        (Some(path), name) => Some(BtfRequest { path, name }),
        (None, Some(name)) => {
            errors.push(syn::Error::new(
                name.span(),
                "`name` needs `btf = \"path/to/x.bpf.o\"`: the object to look the type up in",
            ));
            None
        }
        (None, None) => None,
    }
}

fn collect_fields<'a>(fields: &'a Fields, errors: &mut Errors) -> Vec<Field<'a>> {
    match fields {
        Fields::Named(named) => collect_named(&named.named, errors),
        Fields::Unnamed(unnamed) => unnamed
            .unnamed
            .iter()
            .enumerate()
            .map(|(index, f)| Field {
                member: Member::Unnamed(syn::Index {
                    index: index as u32,
                    span: f.ty.span(),
                }),
                name: index.to_string(),
                ty: &f.ty,
                span: f.ty.span(),
                padding: parse_field_attrs(f, errors),
            })
            .collect(),
        Fields::Unit => Vec::new(),
    }
}

fn collect_named<'a>(
    fields: &'a syn::punctuated::Punctuated<syn::Field, syn::Token![,]>,
    errors: &mut Errors,
) -> Vec<Field<'a>> {
    fields
        .iter()
        .filter_map(|f| {
            let ident = f.ident.as_ref()?;
            Some(Field {
                member: Member::Named(ident.clone()),
                name: ident.unraw().to_string(),
                ty: &f.ty,
                span: ident.span(),
                padding: parse_field_attrs(f, errors),
            })
        })
        .collect()
}

/// `#[bpf2rs(padding)]` on a field.
fn parse_field_attrs(field: &syn::Field, errors: &mut Errors) -> bool {
    let mut padding = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("bpf2rs")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("padding") {
                padding = true;
                Ok(())
            } else {
                Err(meta.error("unknown bpf2rs field attribute: expected `padding`"))
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    padding
}

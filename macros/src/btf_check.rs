//! Check (expansion time): `#[bpf2rs(btf = .., name = ..)]` against the object.
//!
//! In: the parsed [`Input`] and its [`BtfRequest`]. Out: a [`BtfLayout`] with
//! the BTF size and each matched field's BTF offset and size, which
//! [`crate::expand`] turns into compile-time assertions (Rust sizes and
//! offsets are only known to the compiler). What can be decided now is
//! decided now, as spanned errors: an unreadable object, a missing type, a
//! struct/union mismatch, field names missing on either side or out of order.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use proc_macro2::Span;
use syn::ext::IdentExt;

use crate::input::{BtfRequest, Input, Shape};
use crate::lookup::{self, Composite, CompositeKind};
use crate::Errors;

/// What the compiler must confirm about the Rust type.
pub struct BtfLayout {
    /// Absolute path of the object, for `include_bytes!` (so rustc tracks it).
    pub object_path: String,
    /// "BTF struct flow_key", for messages.
    pub what: String,
    pub byte_size: u64,
    pub fields: Vec<BtfField>,
}

pub struct BtfField {
    /// Index into [`Input::fields`].
    pub index: usize,
    pub byte_offset: u64,
    /// `None` when BTF gives the member no size (e.g. a function type).
    pub byte_size: Option<u64>,
}

/// Loads the object named by `request` and matches `input`'s fields against
/// the BTF type. Problems go to `errors`; `None` when nothing can be checked.
pub fn check(input: &Input<'_>, request: &BtfRequest, errors: &mut Errors) -> Option<BtfLayout> {
    let joined = match resolve(&request.path.value()) {
        Ok(p) => p,
        Err(message) => {
            errors.push(syn::Error::new(request.path.span(), message));
            return None;
        }
    };
    // Canonical when it exists (symlinks resolved, for include_bytes!);
    // otherwise tidied for the message.
    let path = std::fs::canonicalize(&joined).unwrap_or_else(|_| lexically_normal(&joined));
    let Some(object_path) = path.to_str().map(str::to_string) else {
        errors.push(syn::Error::new(
            request.path.span(),
            format!("BTF object path {} is not UTF-8", path.display()),
        ));
        return None;
    };
    let data = match std::fs::read(&path) {
        Ok(data) => data,
        Err(e) => {
            errors.push(syn::Error::new(
                request.path.span(),
                format!("cannot read BTF object {object_path}: {e}"),
            ));
            return None;
        }
    };
    let btf = match lookup::from_object(&data) {
        Ok(btf) => btf,
        Err(e) => {
            errors.push(syn::Error::new(
                request.path.span(),
                format!("{object_path}: {e}"),
            ));
            return None;
        }
    };
    let (name, name_span) = match &request.name {
        Some(lit) => (lit.value(), lit.span()),
        None => (input.ident.unraw().to_string(), input.ident.span()),
    };
    let prefer = match input.shape {
        Shape::Struct => CompositeKind::Struct,
        Shape::Union => CompositeKind::Union,
    };
    let composite = match lookup::find_composite(&btf, &name, prefer) {
        Ok(c) => c,
        Err(e) => {
            errors.push(syn::Error::new(
                name_span,
                format!("{object_path}: section .BTF: {e}"),
            ));
            return None;
        }
    };
    let what = format!("BTF {} {name}", composite.kind.keyword());
    if composite.kind != prefer {
        errors.push(syn::Error::new(
            input.ident.span(),
            format!(
                "`{}` is a {} here but {what} is a {}",
                input.ident.unraw(),
                prefer.keyword(),
                composite.kind.keyword(),
            ),
        ));
    }
    let fields = match_members(input, &composite, &what, name_span, errors);
    Some(BtfLayout {
        object_path,
        what,
        byte_size: composite.byte_size,
        fields,
    })
}

/// `$OUT_DIR/x.bpf.o` (or `${OUT_DIR}/..`) is in the crate's build-script
/// output directory, where `bpf2rs_codegen::Builder` writes the objects it
/// compiles; cargo sets `OUT_DIR` for every rustc of a crate with a build
/// script. Other relative paths are relative to the crate being compiled,
/// like `build.rs` paths (cargo sets `CARGO_MANIFEST_DIR` for every rustc).
fn resolve(path: &str) -> Result<PathBuf, String> {
    let in_out_dir = ["$OUT_DIR", "${OUT_DIR}"]
        .iter()
        .find_map(|v| path.strip_prefix(v))
        .filter(|rest| rest.is_empty() || rest.starts_with('/'));
    if let Some(rest) = in_out_dir {
        let dir = std::env::var_os("OUT_DIR").ok_or_else(|| {
            format!(
                "BTF object path {path} uses $OUT_DIR, but OUT_DIR is not set: only a crate \
                 with a build script (build.rs) has one"
            )
        })?;
        return Ok(Path::new(&dir).join(rest.trim_start_matches('/')));
    }
    let path = Path::new(path);
    Ok(match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) if path.is_relative() => Path::new(&dir).join(path),
        _ => path.to_path_buf(),
    })
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

/// Matches Rust fields to BTF members by name, in order. Explicit padding
/// fields (`#[bpf2rs(padding)]`) have no member and are skipped.
fn match_members(
    input: &Input<'_>,
    composite: &Composite,
    what: &str,
    name_span: Span,
    errors: &mut Errors,
) -> Vec<BtfField> {
    let rust_names: HashSet<&str> = input
        .fields
        .iter()
        .filter(|f| !f.padding)
        .map(|f| f.name.as_str())
        .collect();
    let btf_names: HashSet<&str> = composite.members.iter().map(|m| m.name.as_str()).collect();
    let member_list = composite
        .members
        .iter()
        .map(|m| {
            if m.name.is_empty() {
                "(anonymous)"
            } else {
                &m.name
            }
        })
        .collect::<Vec<_>>()
        .join(", ");

    let anonymous: Vec<String> = composite
        .members
        .iter()
        .filter(|m| m.name.is_empty())
        .map(|m| (m.bit_offset / 8).to_string())
        .collect();
    if !anonymous.is_empty() {
        errors.push(syn::Error::new(
            name_span,
            format!(
                "{what} has anonymous members (at offsets {}); fields are matched to \
                 members by name, so this type cannot be checked",
                anonymous.join(", ")
            ),
        ));
    }
    let missing: Vec<String> = composite
        .members
        .iter()
        .filter(|m| !m.name.is_empty() && !rust_names.contains(m.name.as_str()))
        .map(|m| match m.bitfield_bits != 0 || m.bit_offset % 8 != 0 {
            true => format!("`{}` (bit offset {})", m.name, m.bit_offset),
            false => format!("`{}` (offset {})", m.name, m.bit_offset / 8),
        })
        .collect();
    if !missing.is_empty() {
        let (noun, list) = match missing.len() {
            1 => ("member", missing.join("")),
            _ => ("members", missing.join(", ")),
        };
        errors.push(syn::Error::new(
            input.ident.span(),
            format!("{what} has {noun} {list}, missing here"),
        ));
    }

    let mut matched = Vec::new();
    for (index, field) in input.fields.iter().enumerate().filter(|(_, f)| !f.padding) {
        let Some(member) = composite.members.iter().find(|m| m.name == field.name) else {
            errors.push(syn::Error::new(
                field.span,
                format!(
                    "no member `{}` in {what} (its members: {member_list}); mark explicit \
                     padding with #[bpf2rs(padding)]",
                    field.name
                ),
            ));
            continue;
        };
        if member.bitfield_bits != 0 || member.bit_offset % 8 != 0 {
            errors.push(syn::Error::new(
                field.span,
                format!(
                    "member `{}` of {what} is a bitfield ({} bits at bit offset {}); only \
                     whole-byte members can be checked",
                    member.name, member.bitfield_bits, member.bit_offset
                ),
            ));
            continue;
        }
        matched.push(BtfField {
            index,
            byte_offset: u64::from(member.bit_offset / 8),
            byte_size: member.byte_size,
        });
    }

    // Same names, different order: offsets would catch it too, but this says why.
    let rust_order = input
        .fields
        .iter()
        .filter(|f| !f.padding && btf_names.contains(f.name.as_str()));
    let btf_order = composite
        .members
        .iter()
        .filter(|m| rust_names.contains(m.name.as_str()));
    if let Some((field, member)) = rust_order.zip(btf_order).find(|(f, m)| f.name != m.name) {
        errors.push(syn::Error::new(
            field.span,
            format!(
                "field `{}` is out of order: {what} has `{}` here",
                field.name, member.name
            ),
        ));
    }
    matched
}

//! A skeleton's map handles: the Rust type of each map family over its
//! key, value and record types, and the compile-time size checks of the
//! Rust types a build named.
//!
//! In: [`MapFamily`]s and [`SkelTy`]s of the skeleton IR. Out: `syn` types
//! and `const _` items.

use syn::{Path, Type};

use super::ast::{self, global, relative, ty_array, ty_generic, ty_path};
use super::{ty, Cx};
use crate::ir::skel::{
    FixedKind, HashKind, MapFamily, RecordsKind, SkelTy, Skeleton, UserTy, ValuesKind,
};
use crate::ir::RustTy;

/// `::bpf2rs::map::name`.
fn map_path(name: &str) -> Path {
    global(&["bpf2rs", "map", name])
}

/// The handle type of a map family.
pub(super) fn handle_ty(cx: &Cx, family: &MapFamily) -> Type {
    let q = |t: &SkelTy| qualified(cx, t);
    match family {
        MapFamily::Hash { kind, key, value } => {
            let name = match kind {
                HashKind::Hash => "HashMap",
                HashKind::LruHash => "LruHashMap",
                HashKind::PerCpuHash => "PerCpuHashMap",
                HashKind::LruPerCpuHash => "LruPerCpuHashMap",
            };
            ty_generic(map_path(name), [q(key), q(value)])
        }
        MapFamily::Array { per_cpu, value } => {
            let name = if *per_cpu { "PerCpuArray" } else { "Array" };
            ty_generic(map_path(name), [q(value)])
        }
        MapFamily::Values { kind, value } => {
            let name = match kind {
                ValuesKind::Queue => "Queue",
                ValuesKind::Stack => "Stack",
                ValuesKind::BloomFilter => "BloomFilter",
            };
            ty_generic(map_path(name), [q(value)])
        }
        MapFamily::LpmTrie { data, value } => ty_generic(map_path("LpmTrie"), [q(data), q(value)]),
        MapFamily::ArrayOfMaps { inner } => {
            ty_generic(map_path("ArrayOfMaps"), [handle_ty(cx, inner)])
        }
        MapFamily::HashOfMaps { key, inner } => {
            ty_generic(map_path("HashOfMaps"), [q(key), handle_ty(cx, inner)])
        }
        MapFamily::SockHash { key } => ty_generic(map_path("SockHash"), [q(key)]),
        MapFamily::Fixed(kind) => ty_path(map_path(match kind {
            FixedKind::ProgArray => "ProgArray",
            FixedKind::StackTrace => "StackTrace",
            FixedKind::CgroupArray => "CgroupArray",
            FixedKind::DevMap => "DevMap",
            FixedKind::DevMapHash => "DevMapHash",
            FixedKind::CpuMap => "CpuMap",
            FixedKind::XskMap => "XskMap",
            FixedKind::SockMap => "SockMap",
        })),
        MapFamily::Records { kind, event } => records_ty(cx, *kind, event.as_ref()),
        MapFamily::Untyped => ty_path(map_path("Map")),
    }
}

/// A ring buffer or perf event array handle, typed by its record or raw.
fn records_ty(cx: &Cx, kind: RecordsKind, event: Option<&SkelTy>) -> Type {
    let (module, typed, raw) = match kind {
        RecordsKind::RingBuf => ("ringbuf", "RingBuf", "RawRingBuf"),
        RecordsKind::UserRingBuf => ("ringbuf", "UserRingBuf", "UserRingBuf"),
        RecordsKind::PerfEventArray => ("perf", "PerfEventArray", "PerfEventArray"),
    };
    match event {
        Some(e) => ty_generic(global(&["bpf2rs", module, typed]), [qualified(cx, e)]),
        None => ty_path(global(&["bpf2rs", module, raw])),
    }
}

/// A type as seen from outside the `types` module.
fn qualified(cx: &Cx, t: &SkelTy) -> Type {
    match t {
        SkelTy::Gen(t) => qualified_gen(cx, t),
        SkelTy::User(u) => user_ty(u),
    }
}

fn qualified_gen(cx: &Cx, t: &RustTy) -> Type {
    match t {
        RustTy::Named(n) => ty_path(relative(&["types", n])),
        RustTy::Array(e, len) => ty_array(qualified_gen(cx, e), u64::from(*len)),
        other => ty(cx, other),
    }
}

/// The syntax tree of a type the build wrote. The skeleton IR checked that
/// it parses (the one parse in `emit`: the build's own Rust text, not
/// generated code, and syn trees cannot be cloned out of the IR here).
fn user_ty(u: &UserTy) -> Type {
    syn::parse_str(&u.text).unwrap_or_else(|_| {
        Type::Infer(syn::TypeInfer {
            underscore_token: Default::default(),
        })
    })
}

/// `const _: () = ::bpf2rs::__private::check_size::<T>(N, "..");` for each
/// Rust type a build named for a map's key or value.
pub(super) fn user_type_checks(s: &Skeleton) -> Vec<syn::Item> {
    let mut checks = Vec::new();
    for m in &s.maps {
        for (what, user, size) in &m.user_types {
            let message = format!(
                "bpf2rs: map {}: the {what} type {} is not {size} bytes",
                m.name, user.compact
            );
            let check = ast::call(
                ast::with_args(
                    global(&["bpf2rs", "__private", "check_size"]),
                    true,
                    [syn::GenericArgument::Type(user_ty(user))],
                ),
                [ast::int(u64::from(*size)), ast::string(&message)],
            );
            checks.push(ast::item_const(false, "_", ast::ty_tuple([]), check));
        }
    }
    checks
}

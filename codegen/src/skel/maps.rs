//! A skeleton's maps as Rust: which BTF types each map's key, value,
//! record, LPM data and inner map come from (roots of the type IR), and the
//! handle of its kernel family over those types.
//!
//! In: the object's maps and the build's options. Out: [`MapRoots`] to add
//! to the type IR, then [`MapTys`] and the handle type of each map.

use bpf2rs::btf::{Btf, Kind, TypeId};
use bpf2rs::obj::{MapSpec, MapType, ObjectSpec};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::SkelOptions;
use crate::emit::{self, Cx};
use crate::ir::{Root, RustTy};
use crate::naming;

/// A key, value or record type of a map as the skeleton names it.
pub(super) enum Ty {
    /// A type generated into `types` (or a primitive, or bytes).
    Gen(RustTy),
    /// A Rust type the build named (`crate::Pair`), checked for size at
    /// compile time.
    User(syn::Type),
}

/// Which roots of the type IR a map's types come from.
#[derive(Debug, Default)]
pub(super) struct MapRoots {
    key: Option<usize>,
    value: Option<usize>,
    /// The data after an LPM trie key's u32 prefix length.
    lpm_data: Option<usize>,
    /// Record type of a ring or perf buffer the build typed.
    event: Option<usize>,
    inner: Option<Box<MapRoots>>,
}

/// A map's types as Rust types.
pub(super) struct MapTys {
    key: Ty,
    value: Ty,
    lpm_data: Option<Ty>,
    event: Option<Ty>,
    inner: Option<Box<MapTys>>,
}

pub(super) fn bytes(n: u32) -> RustTy {
    RustTy::Array(Box::new(RustTy::Prim("u8")), n)
}

/// Adds the roots of map `m`'s types (`owner` is the outer map of an inner
/// template, for names and options).
pub(super) fn collect_map_roots(
    btf: &Btf,
    opts: &SkelOptions,
    m: &MapSpec,
    owner: &str,
    roots: &mut Vec<Root>,
) -> Result<MapRoots, String> {
    let mut add = |id: TypeId, context: String| {
        roots.push(Root { id, context });
        roots.len() - 1
    };
    let mut r = MapRoots::default();
    let inner_of = if m.name == owner { "" } else { "inner " };
    let (c_key, c_value) = if inner_of.is_empty() {
        named_types(&opts.map_types, m)
    } else {
        (None, None)
    };
    let (rust_key, rust_value) = if inner_of.is_empty() {
        named_types(&opts.rust_map_types, m)
    } else {
        (None, None)
    };
    let context = naming::escape(&m.name);
    if rust_key.is_none() {
        let key = pick(btf, m.key_type, c_key.as_deref(), m.key_size)
            .map_err(|e| format!("{inner_of}key: {e}"))?;
        if let Some(id) = key {
            r.key = Some(add(id, format!("{context}__key")));
            if m.map_type == MapType::LPM_TRIE {
                if let Some(data) = lpm_data_type(btf, id) {
                    r.lpm_data = Some(add(data, format!("{context}__key__data")));
                }
            }
        }
    }
    let own_value = match m.map_type {
        MapType::RINGBUF | MapType::USER_RINGBUF => None,
        _ => m.value_type,
    };
    if rust_value.is_none() {
        let value = pick(btf, own_value, c_value.as_deref(), m.value_size)
            .map_err(|e| format!("{inner_of}value: {e}"))?;
        if let Some(id) = value {
            r.value = Some(add(id, format!("{context}__value")));
        }
    }
    let events = opts.ringbuf_events.iter().map(|e| {
        (
            e,
            "ringbuf_event",
            [MapType::RINGBUF, MapType::USER_RINGBUF],
        )
    });
    let perf = opts
        .perf_events
        .iter()
        .map(|e| (e, "perf_event", [MapType::PERF_EVENT_ARRAY; 2]));
    for ((map, c_type), option, families) in events.chain(perf) {
        if *map != m.name || !inner_of.is_empty() {
            continue;
        }
        if !families.contains(&m.map_type) {
            return Err(format!("{option} names a map of type {}", m.map_type));
        }
        let id = find_type(btf, c_type).ok_or_else(|| {
            format!(
                "no C type `{c_type}` in the object's BTF (clang emits BTF only for types that globals, maps or \
                 function signatures use: declare e.g. `{c_type} *unused __attribute__((unused));` in the BPF source)"
            )
        })?;
        r.event = Some(add(id, c_type.clone()));
    }
    if let Some(inner) = &m.inner {
        r.inner = Some(Box::new(collect_map_roots(btf, opts, inner, owner, roots)?));
    }
    Ok(r)
}

/// The data type of an LPM trie key `struct { __u32 prefixlen; T data; }`:
/// `T`, when the key is a u32 at byte 0 and one member at byte 4.
fn lpm_data_type(btf: &Btf, key: TypeId) -> Option<TypeId> {
    let r = btf.skip_mods_and_typedefs(key).ok()?;
    let bpf2rs::btf::Type::Struct(c) = btf.type_by_id(r).ok()? else {
        return None;
    };
    let [prefix, data] = &c.members[..] else {
        return None;
    };
    let prefix_ok =
        prefix.bit_offset == 0 && prefix.bitfield_size == 0 && btf.size_of(prefix.ty).ok()? == 4;
    (prefix_ok && data.bit_offset == 32 && data.bitfield_size == 0).then_some(data.ty)
}

/// Map `m`'s types from the IR's roots and the build's options.
pub(super) fn resolve_map_tys(
    opts: &SkelOptions,
    m: &MapSpec,
    owner: &str,
    r: &MapRoots,
    ty_at: &dyn Fn(Option<usize>) -> Option<RustTy>,
) -> Result<MapTys, String> {
    let (rust_key, rust_value) = if m.name == owner {
        named_types(&opts.rust_map_types, m)
    } else {
        (None, None)
    };
    let user = |what: &str, path: String| -> Result<Ty, String> {
        syn::parse_str::<syn::Type>(&path)
            .map(Ty::User)
            .map_err(|e| format!("{what} type `{path}` is not a Rust type: {e}"))
    };
    let key = match rust_key {
        Some(p) => user("key", p)?,
        None => Ty::Gen(ty_at(r.key).unwrap_or_else(|| bytes(m.key_size))),
    };
    let value = match rust_value {
        Some(p) => user("value", p)?,
        None => Ty::Gen(ty_at(r.value).unwrap_or_else(|| bytes(m.value_size))),
    };
    let lpm_data = (m.map_type == MapType::LPM_TRIE && m.key_size > 4)
        .then(|| Ty::Gen(ty_at(r.lpm_data).unwrap_or_else(|| bytes(m.key_size - 4))));
    let inner = match (&m.inner, &r.inner) {
        (Some(spec), Some(roots)) => {
            Some(Box::new(resolve_map_tys(opts, spec, owner, roots, ty_at)?))
        }
        _ => None,
    };
    Ok(MapTys {
        key,
        value,
        lpm_data,
        event: ty_at(r.event).map(Ty::Gen),
        inner,
    })
}

/// The key and value types a build named for map `m` (an empty name keeps
/// the map's own).
fn named_types(
    named: &[(String, String, String)],
    m: &MapSpec,
) -> (Option<String>, Option<String>) {
    named
        .iter()
        .find(|(name, _, _)| *name == m.name)
        .map(|(_, k, v)| {
            let some = |s: &String| (!s.is_empty()).then(|| s.clone());
            (some(k), some(v))
        })
        .unwrap_or((None, None))
}

/// The BTF type for a key or value: the definition's, or one the build
/// names (checked for size), or none (bytes).
fn pick(
    btf: &Btf,
    own: Option<TypeId>,
    named: Option<&str>,
    size: u32,
) -> Result<Option<TypeId>, String> {
    if let Some(name) = named {
        let id = find_type(btf, name)
            .ok_or_else(|| format!("no C type `{name}` in the object's BTF"))?;
        let actual = btf.size_of(id).map_err(|e| e.to_string())?;
        if actual != size {
            return Err(format!("`{name}` is {actual} bytes, the map's is {size}"));
        }
        return Ok(Some(id));
    }
    Ok(own)
}

/// A C type by name: `struct x`, `union x`, `enum x`, or a typedef/struct name.
pub(super) fn find_type(btf: &Btf, name: &str) -> Option<TypeId> {
    let (kinds, bare): (&[Kind], &str) = if let Some(n) = name.strip_prefix("struct ") {
        (&[Kind::Struct], n)
    } else if let Some(n) = name.strip_prefix("union ") {
        (&[Kind::Union], n)
    } else if let Some(n) = name.strip_prefix("enum ") {
        (&[Kind::Enum, Kind::Enum64], n)
    } else {
        (
            &[
                Kind::Typedef,
                Kind::Struct,
                Kind::Union,
                Kind::Enum,
                Kind::Enum64,
                Kind::Int,
            ],
            name,
        )
    };
    kinds
        .iter()
        .find_map(|k| btf.find_by_name(bare.trim(), *k).ok())
}

/// The Rust handle type of a map, by kernel family; `None` for the
/// families the runtime has no handle for (they get the untyped `Map`).
pub(super) fn handle_ty(cx: &Cx, m: &MapSpec, t: &MapTys) -> Option<TokenStream> {
    let k = qualified(cx, &t.key);
    let v = qualified(cx, &t.value);
    let event = t.event.as_ref().map(|e| qualified(cx, e));
    Some(match m.map_type {
        MapType::HASH => quote!(::bpf2rs::map::HashMap<#k, #v>),
        MapType::LRU_HASH => quote!(::bpf2rs::map::LruHashMap<#k, #v>),
        MapType::ARRAY if m.key_size == 4 => quote!(::bpf2rs::map::Array<#v>),
        MapType::PERCPU_HASH => quote!(::bpf2rs::map::PerCpuHashMap<#k, #v>),
        MapType::LRU_PERCPU_HASH => quote!(::bpf2rs::map::LruPerCpuHashMap<#k, #v>),
        MapType::PERCPU_ARRAY if m.key_size == 4 => quote!(::bpf2rs::map::PerCpuArray<#v>),
        MapType::QUEUE => quote!(::bpf2rs::map::Queue<#v>),
        MapType::STACK => quote!(::bpf2rs::map::Stack<#v>),
        MapType::BLOOM_FILTER => quote!(::bpf2rs::map::BloomFilter<#v>),
        MapType::LPM_TRIE => {
            let data = qualified(cx, t.lpm_data.as_ref()?);
            quote!(::bpf2rs::map::LpmTrie<#data, #v>)
        }
        MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS => {
            let inner = match (&m.inner, &t.inner) {
                (Some(spec), Some(tys)) => {
                    handle_ty(cx, spec, tys).unwrap_or_else(|| quote!(::bpf2rs::map::Map))
                }
                _ => quote!(::bpf2rs::map::Map),
            };
            if m.map_type == MapType::ARRAY_OF_MAPS {
                quote!(::bpf2rs::map::ArrayOfMaps<#inner>)
            } else {
                quote!(::bpf2rs::map::HashOfMaps<#k, #inner>)
            }
        }
        MapType::PROG_ARRAY => quote!(::bpf2rs::map::ProgArray),
        MapType::STACK_TRACE => quote!(::bpf2rs::map::StackTrace),
        MapType::CGROUP_ARRAY => quote!(::bpf2rs::map::CgroupArray),
        MapType::DEVMAP => quote!(::bpf2rs::map::DevMap),
        MapType::DEVMAP_HASH => quote!(::bpf2rs::map::DevMapHash),
        MapType::CPUMAP => quote!(::bpf2rs::map::CpuMap),
        MapType::XSKMAP => quote!(::bpf2rs::map::XskMap),
        MapType::SOCKMAP => quote!(::bpf2rs::map::SockMap),
        MapType::SOCKHASH => quote!(::bpf2rs::map::SockHash<#k>),
        MapType::RINGBUF => match event {
            Some(e) => quote!(::bpf2rs::ringbuf::RingBuf<#e>),
            None => quote!(::bpf2rs::ringbuf::RawRingBuf),
        },
        MapType::USER_RINGBUF => match event {
            Some(e) => quote!(::bpf2rs::ringbuf::UserRingBuf<#e>),
            None => quote!(::bpf2rs::ringbuf::UserRingBuf),
        },
        MapType::PERF_EVENT_ARRAY => match event {
            Some(e) => quote!(::bpf2rs::perf::PerfEventArray<#e>),
            None => quote!(::bpf2rs::perf::PerfEventArray),
        },
        _ => return None,
    })
}

/// A type as seen from outside the `types` module.
fn qualified(cx: &Cx, t: &Ty) -> TokenStream {
    match t {
        Ty::Gen(t) => qualified_gen(cx, t),
        Ty::User(t) => quote!(#t),
    }
}

fn qualified_gen(cx: &Cx, t: &RustTy) -> TokenStream {
    match t {
        RustTy::Named(n) => {
            let n = naming::ident(n);
            quote!(types::#n)
        }
        RustTy::Array(e, len) => {
            let e = qualified_gen(cx, e);
            let l = Literal::usize_unsuffixed(*len as usize);
            quote!([#e; #l])
        }
        other => {
            let t = emit::ty(cx, other);
            quote!(#t)
        }
    }
}

/// Compile-time checks that the Rust types a build named for a map have
/// the map's sizes.
pub(super) fn user_type_checks(spec: &ObjectSpec, map_tys: &[MapTys]) -> Vec<TokenStream> {
    let mut checks = Vec::new();
    for (m, t) in spec.maps.iter().zip(map_tys) {
        for (what, ty, size) in [
            ("key", &t.key, m.key_size),
            ("value", &t.value, m.value_size),
        ] {
            if let Ty::User(ty) = ty {
                let size_lit = Literal::usize_unsuffixed(size as usize);
                let msg = format!(
                    "bpf2rs: map {}: the {what} type {} is not {size} bytes",
                    m.name,
                    quote!(#ty).to_string().replace(' ', "")
                );
                checks.push(quote! {
                    const _: () = ::bpf2rs::__private::check_size::<#ty>(#size_lit, #msg);
                });
            }
        }
    }
    checks
}

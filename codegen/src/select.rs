//! What to emit: the root types of the IR, for `types` and for skeletons
//! alike. An object's roots are its map keys and values, its globals and
//! its struct_ops variables; a selection adds types asked for by name, or
//! every type. The IR then emits each root and everything it holds by
//! value.
//!
//! In: a [`Btf`], an [`ObjectSpec`] and what was asked for ([`Selection`],
//! or a skeleton's [`SkelOptions`]). Out: the [`Root`]s in order, each with
//! the name an anonymous type would get; for a skeleton also which root
//! each map's key, value and record, each data section and each struct_ops
//! variable is ([`SkelRoots`]).

use bpf2rs_reader::btf::{Btf, Kind, Type, TypeId};
use bpf2rs_reader::obj::{MapSpec, MapType, ObjectSpec};

use crate::error::TypesError;
use crate::naming;
use crate::options::SkelOptions;

/// Which types to generate.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Every struct, union, enum and typedef of the BTF.
    pub all: bool,
    /// Types asked for by C name (`flow_key`, `task_struct`).
    pub names: Vec<String>,
    /// Suffix the later of two types that would share a Rust name with its
    /// BTF id (and report it), instead of failing.
    pub rename_duplicates: bool,
    /// Also emit `layouts::LAYOUTS`, the compiler's view of every struct
    /// (for tests that compare layouts with other tools).
    pub layout_table: bool,
}

/// A type to emit, with the name an anonymous one should get.
#[derive(Clone, Debug)]
pub struct Root {
    pub id: TypeId,
    /// Used only when the type has no name of its own.
    pub context: String,
}

/// Roots in the order the IR visits them, each pushed with the index the
/// caller keeps to find its Rust type again (`Items::root_tys`).
#[derive(Debug, Default)]
struct RootList(Vec<Root>);

impl RootList {
    fn push(&mut self, id: TypeId, context: String) -> usize {
        self.0.push(Root { id, context });
        self.0.len() - 1
    }
}

/// The roots an object implies for `cargo bpf2rs types`: map keys and
/// values, global variables one by one and struct_ops variables, each with
/// the name an anonymous type would get.
pub fn object_roots(spec: &ObjectSpec) -> Vec<Root> {
    let mut roots = RootList::default();
    for m in &spec.maps {
        let mut push = |id: Option<TypeId>, role: &str| {
            if let Some(id) = id {
                roots.push(id, naming::role(&m.name, role));
            }
        };
        push(m.key_type, "key");
        push(m.value_type, "value");
        if let Some(inner) = &m.inner {
            push(inner.key_type, "inner_key");
            push(inner.value_type, "inner_value");
        }
    }
    for d in &spec.data {
        for v in &d.vars {
            if let Some(id) = v.btf_type {
                roots.push(id, naming::role(&v.name, "type"));
            }
        }
    }
    for o in &spec.struct_ops {
        roots.push(o.btf_type, naming::role(&o.name, "type"));
    }
    roots.0
}

/// `roots`, then the roots `selection` adds over `btf`: the types it names,
/// or every type.
pub fn select(
    btf: &Btf,
    mut roots: Vec<Root>,
    selection: &Selection,
) -> Result<Vec<Root>, TypesError> {
    for name in &selection.names {
        let id = [
            Kind::Struct,
            Kind::Union,
            Kind::Enum,
            Kind::Enum64,
            Kind::Typedef,
        ]
        .iter()
        .find_map(|k| btf.find_by_name(name, *k).ok())
        .ok_or_else(|| TypesError::NotFound(name.clone()))?;
        roots.push(Root {
            id,
            context: name.clone(),
        });
    }
    if selection.all {
        // Named types in name order, so that anonymous types nested in them
        // get their parent's name deterministically.
        let mut named: Vec<(&str, TypeId)> = btf
            .iter()
            .filter(|(_, t)| match t {
                Type::Struct(_) | Type::Union(_) | Type::Enum(_) => !t.name().is_anon(),
                Type::Typedef(td) => is_value_typedef(btf, td.target),
                _ => false,
            })
            .map(|(id, t)| (btf.name(t.name()), id))
            .collect();
        named.sort();
        roots.extend(named.into_iter().map(|(n, id)| Root {
            id,
            context: n.to_owned(),
        }));
        // Anonymous types nobody contains by value (rare): named by id.
        for (id, t) in btf.iter() {
            if matches!(t, Type::Struct(_) | Type::Union(_) | Type::Enum(_)) && t.name().is_anon() {
                roots.push(Root {
                    id,
                    context: naming::anon_root(id.0),
                });
            }
        }
    }
    Ok(roots)
}

/// Whether a typedef names something with a value (not a function or void).
fn is_value_typedef(btf: &Btf, target: TypeId) -> bool {
    let Ok(r) = btf.skip_mods_and_typedefs(target) else {
        return false;
    };
    !matches!(
        btf.type_by_id(r),
        Ok(Type::FuncProto(_) | Type::Void | Type::Fwd(_)) | Err(_)
    )
}

/// A C type by name: `struct x`, `union x`, `enum x`, or a typedef/struct name.
pub fn find_type(btf: &Btf, name: &str) -> Option<TypeId> {
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

// ---- skeletons ----

/// A skeleton's roots and where each part of the object is among them.
#[derive(Debug, Default)]
pub struct SkelRoots {
    pub roots: Vec<Root>,
    /// Per map of the object, in order.
    pub maps: Vec<MapRoots>,
    /// Per data section of the object, in order (`None`: no BTF, or empty).
    pub data: Vec<Option<usize>>,
    /// Per struct_ops variable of the object, in order.
    pub struct_ops: Vec<usize>,
}

/// Which roots a map's types are (indices into [`SkelRoots::roots`]).
#[derive(Debug, Default)]
pub struct MapRoots {
    pub key: Option<usize>,
    pub value: Option<usize>,
    /// The data after an LPM trie key's u32 prefix length.
    pub lpm_data: Option<usize>,
    /// Record type of a ring or perf buffer the build typed.
    pub event: Option<usize>,
    /// The inner map template's, for a map of maps.
    pub inner: Option<Box<MapRoots>>,
}

/// Why the skeleton's roots could not be selected: a map option names a
/// map or type the object does not have, or a type of the wrong size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError {
    pub map: String,
    pub message: String,
}

/// The roots of a skeleton for `spec`: per map (key, LPM data, value,
/// record, then its inner map's), per data section (the section as one
/// struct), per struct_ops variable, in that order.
pub fn skeleton_roots(
    btf: &Btf,
    spec: &ObjectSpec,
    opts: &SkelOptions,
) -> Result<SkelRoots, MapError> {
    check_named_maps(spec, opts)?;
    let mut roots = RootList::default();
    let mut maps = Vec::with_capacity(spec.maps.len());
    for m in &spec.maps {
        let r = map_roots(btf, opts, m, &m.name, &mut roots).map_err(|message| MapError {
            map: m.name.clone(),
            message,
        })?;
        maps.push(r);
    }
    let data = spec
        .data
        .iter()
        .map(|d| match d.btf_type {
            Some(id) if d.size > 0 => Some(roots.push(id, naming::section_struct(&d.name))),
            _ => None,
        })
        .collect();
    // struct_ops variables: their struct, typed in the open skeleton.
    let struct_ops = spec
        .struct_ops
        .iter()
        .map(|o| roots.push(o.btf_type, naming::role(&o.name, "type")))
        .collect();
    Ok(SkelRoots {
        roots: roots.0,
        maps,
        data,
        struct_ops,
    })
}

/// Every map an option names exists.
fn check_named_maps(spec: &ObjectSpec, opts: &SkelOptions) -> Result<(), MapError> {
    let named = opts.map_types.iter().map(|(m, _, _)| (m, "map_types"));
    let named = named.chain(
        opts.rust_map_types
            .iter()
            .map(|(m, _, _)| (m, "map_rust_types")),
    );
    let named = named.chain(
        opts.ringbuf_events
            .iter()
            .map(|(m, _)| (m, "ringbuf_event")),
    );
    let named = named.chain(opts.perf_events.iter().map(|(m, _)| (m, "perf_event")));
    for (map, option) in named {
        if spec.map(map).is_none() {
            return Err(MapError {
                map: map.clone(),
                message: format!("{option} names a map the object does not have"),
            });
        }
    }
    Ok(())
}

/// Adds the roots of map `m`'s types (`owner` is the outer map of an inner
/// template, for names and options).
fn map_roots(
    btf: &Btf,
    opts: &SkelOptions,
    m: &MapSpec,
    owner: &str,
    roots: &mut RootList,
) -> Result<MapRoots, String> {
    let mut r = MapRoots::default();
    let outer = m.name == owner;
    let inner_of = if outer { "" } else { "inner " };
    let (c_key, c_value) = if outer {
        named_types(&opts.map_types, &m.name)
    } else {
        (None, None)
    };
    let (rust_key, rust_value) = if outer {
        named_types(&opts.rust_map_types, &m.name)
    } else {
        (None, None)
    };
    let field = naming::escape(&m.name);
    if rust_key.is_none() {
        let key = pick(btf, m.key_type, c_key.as_deref(), m.key_size)
            .map_err(|e| format!("{inner_of}key: {e}"))?;
        if let Some(id) = key {
            r.key = Some(roots.push(id, naming::role(&field, "key")));
            if m.map_type == MapType::LPM_TRIE {
                if let Some(data) = lpm_data_type(btf, id) {
                    r.lpm_data = Some(roots.push(data, naming::role(&field, "key__data")));
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
            r.value = Some(roots.push(id, naming::role(&field, "value")));
        }
    }
    if outer {
        // Each option naming the map adds its type; the last one types it.
        for (id, c_type) in event_types(btf, opts, m)? {
            r.event = Some(roots.push(id, c_type.to_owned()));
        }
    }
    if let Some(inner) = &m.inner {
        r.inner = Some(Box::new(map_roots(btf, opts, inner, owner, roots)?));
    }
    Ok(r)
}

/// The record types the build named for ring buffer or perf event array
/// `m`, and their C names.
fn event_types<'a>(
    btf: &Btf,
    opts: &'a SkelOptions,
    m: &MapSpec,
) -> Result<Vec<(TypeId, &'a str)>, String> {
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
    let mut found = Vec::new();
    for ((map, c_type), option, families) in events.chain(perf) {
        if *map != m.name {
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
        found.push((id, c_type.as_str()));
    }
    Ok(found)
}

/// The data type of an LPM trie key `struct { __u32 prefixlen; T data; }`:
/// `T`, when the key is a u32 at byte 0 and one member at byte 4.
fn lpm_data_type(btf: &Btf, key: TypeId) -> Option<TypeId> {
    let r = btf.skip_mods_and_typedefs(key).ok()?;
    let Type::Struct(c) = btf.type_by_id(r).ok()? else {
        return None;
    };
    let [prefix, data] = &c.members[..] else {
        return None;
    };
    let prefix_ok =
        prefix.bit_offset == 0 && prefix.bitfield_size == 0 && btf.size_of(prefix.ty).ok()? == 4;
    (prefix_ok && data.bit_offset == 32 && data.bitfield_size == 0).then_some(data.ty)
}

/// The key and value types a build named for map `map` (an empty name
/// keeps the map's own).
pub(crate) fn named_types(
    named: &[(String, String, String)],
    map: &str,
) -> (Option<String>, Option<String>) {
    named
        .iter()
        .find(|(name, _, _)| name == map)
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

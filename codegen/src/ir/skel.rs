//! The skeleton IR: what a skeleton holds, as plain data. Each map with its
//! field name and its handle by kernel family over Rust key, value and
//! record types; each program; each typed data section with its accessors;
//! each struct_ops variable with its Rust type.
//!
//! In: an [`ObjectSpec`], the skeleton's roots ([`SkelRoots`]) and the
//! type IR built from them ([`Items`]), and the build's options. Out: a
//! [`Skeleton`], which `emit::skel` walks. Every name comes from `naming`.

use bpf2rs_reader::obj::{DataKind, MapOrigin, MapSpec, MapType, ObjectSpec};

use super::{Items, RustTy};
use crate::naming::{self, SkelNames};
use crate::options::SkelOptions;
use crate::select::{named_types, MapRoots, SkelRoots};

/// One object's skeleton.
#[derive(Clone, Debug, PartialEq)]
pub struct Skeleton {
    /// The object's name (`kitchen`), as `OpenObject::open_bytes` takes it.
    pub object: String,
    /// Path of the object for `include_bytes!`.
    pub object_path: String,
    /// File name of the object, for docs.
    pub object_file: String,
    pub names: SkelNames,
    pub maps: Vec<SkelMap>,
    pub programs: Vec<SkelProgram>,
    /// The data sections that have a Rust type, in object order.
    pub data: Vec<DataSection>,
    pub struct_ops: Vec<StructOpsVar>,
}

/// A key, value or record type as the skeleton names it.
#[derive(Clone, Debug, PartialEq)]
pub enum SkelTy {
    /// A type generated into `types` (or a primitive, or bytes).
    Gen(RustTy),
    /// A Rust type the build named (`crate::Pair`), checked for size at
    /// compile time.
    User(UserTy),
}

/// A Rust type the build wrote (`crate::Pair`), known to parse as a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserTy {
    /// As written.
    pub text: String,
    /// Without whitespace, for messages (`crate :: Pair` -> `crate::Pair`).
    pub compact: String,
}

impl UserTy {
    /// `text` if it is a Rust type; `what` (key, value) names it in the error.
    fn parse(what: &str, text: String) -> Result<UserTy, String> {
        // Input from the build, in Rust syntax: parsing is how to check it.
        syn::parse_str::<syn::Type>(&text)
            .map_err(|e| format!("{what} type `{text}` is not a Rust type: {e}"))?;
        let compact = text.split_whitespace().collect();
        Ok(UserTy { text, compact })
    }
}

/// The handle of a map, by kernel family, over its Rust types.
#[derive(Clone, Debug, PartialEq)]
pub enum MapFamily {
    Hash {
        kind: HashKind,
        key: SkelTy,
        value: SkelTy,
    },
    /// `Array<V>` (`per_cpu`: `PerCpuArray<V>`), for 4-byte keys.
    Array {
        per_cpu: bool,
        value: SkelTy,
    },
    /// `Queue<V>`, `Stack<V>`, `BloomFilter<V>`.
    Values {
        kind: ValuesKind,
        value: SkelTy,
    },
    /// `LpmTrie<D, V>`, D the key's data after its prefix length.
    LpmTrie {
        data: SkelTy,
        value: SkelTy,
    },
    ArrayOfMaps {
        inner: Box<MapFamily>,
    },
    HashOfMaps {
        key: SkelTy,
        inner: Box<MapFamily>,
    },
    /// `SockHash<K>`.
    SockHash {
        key: SkelTy,
    },
    /// A handle without type parameters (`ProgArray`, `DevMap`...).
    Fixed(FixedKind),
    /// `RingBuf<E>`, `UserRingBuf<E>`, `PerfEventArray<E>`, or their raw
    /// forms without a record type.
    Records {
        kind: RecordsKind,
        event: Option<SkelTy>,
    },
    /// The untyped `Map`, for families the runtime has no handle for.
    Untyped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    Hash,
    LruHash,
    PerCpuHash,
    LruPerCpuHash,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValuesKind {
    Queue,
    Stack,
    BloomFilter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedKind {
    ProgArray,
    StackTrace,
    CgroupArray,
    DevMap,
    DevMapHash,
    CpuMap,
    XskMap,
    SockMap,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordsKind {
    RingBuf,
    UserRingBuf,
    PerfEventArray,
}

/// One map of the skeleton.
#[derive(Clone, Debug, PartialEq)]
pub struct SkelMap {
    /// The map's name in the object.
    pub name: String,
    /// Its field in the maps structs.
    pub field: String,
    /// The kernel map type, as docs spell it (`hash`).
    pub map_type: String,
    /// Defined in the legacy `maps` section.
    pub legacy: bool,
    pub family: MapFamily,
    /// Rust types the build named for the key or value: (`key`/`value`,
    /// type, the map's size for it), checked at compile time.
    pub user_types: Vec<(&'static str, UserTy, u32)>,
}

/// One program of the skeleton.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkelProgram {
    pub name: String,
    pub field: String,
    pub section: String,
    /// The program type, as docs spell it (`xdp`).
    pub prog_type: String,
}

/// A global data section with a Rust type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSection {
    /// `.rodata`, `.data.custom`.
    pub section: String,
    /// Its struct in `types`.
    pub ty: String,
    /// Accessor names: `rodata`, `rodata_mut`.
    pub get: String,
    pub get_mut: String,
    /// Writable after load (everything but `.rodata*`).
    pub writable: bool,
}

/// A struct_ops variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructOpsVar {
    pub name: String,
    pub field: String,
    /// The C struct (`tcp_congestion_ops`).
    pub type_name: String,
    pub section: String,
    /// Registered through a BPF link (`.struct_ops.link`).
    pub link: bool,
    /// Its struct in `types`.
    pub ty: String,
}

/// Why the skeleton IR could not be built: a map's options (`map`), or
/// anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkelIrError {
    Map { map: String, message: String },
    Other(String),
}

/// The skeleton of `spec`, whose types `items` holds (built from `roots`).
pub fn build(
    spec: &ObjectSpec,
    opts: &SkelOptions,
    roots: &SkelRoots,
    items: &Items,
) -> Result<Skeleton, SkelIrError> {
    let ty_at = |slot: Option<usize>| -> Option<RustTy> {
        slot.and_then(|i| items.root_tys.get(i)?.clone())
    };
    let names = |what, list: Vec<&str>| {
        naming::skel_fields(what, list).map_err(|e| SkelIrError::Other(e.to_string()))
    };
    let map_fields = names("maps", spec.maps.iter().map(|m| m.name.as_str()).collect())?;
    let prog_fields = names(
        "programs",
        spec.programs.iter().map(|p| p.name.as_str()).collect(),
    )?;
    let ops_fields = names(
        "struct_ops variables",
        spec.struct_ops.iter().map(|o| o.name.as_str()).collect(),
    )?;
    // Programs and struct_ops registrations share the links struct.
    names(
        "links",
        (spec.programs.iter().map(|p| p.name.as_str()))
            .chain(spec.struct_ops.iter().map(|o| o.name.as_str()))
            .collect(),
    )?;
    let mut maps = Vec::with_capacity(spec.maps.len());
    for ((m, r), field) in spec.maps.iter().zip(&roots.maps).zip(map_fields) {
        let map_err = |message| SkelIrError::Map {
            map: m.name.clone(),
            message,
        };
        let tys = map_tys(opts, m, &m.name, r, &ty_at).map_err(map_err)?;
        maps.push(SkelMap {
            name: m.name.clone(),
            field,
            map_type: m.map_type.to_string(),
            legacy: m.origin == MapOrigin::Legacy,
            family: family(m, &tys),
            user_types: user_types(m, &tys),
        });
    }
    let programs = spec
        .programs
        .iter()
        .zip(prog_fields)
        .map(|(p, field)| SkelProgram {
            name: p.name.clone(),
            field,
            section: p.section.clone(),
            prog_type: p.prog_type().to_string(),
        })
        .collect();
    let data = data_sections(spec, roots, &ty_at)?;
    let mut struct_ops = Vec::with_capacity(spec.struct_ops.len());
    for ((o, slot), field) in spec
        .struct_ops
        .iter()
        .zip(&roots.struct_ops)
        .zip(ops_fields)
    {
        let Some(RustTy::Named(ty)) = ty_at(Some(*slot)) else {
            return Err(SkelIrError::Other(format!(
                "struct_ops variable {}: struct {} has no Rust type",
                o.name, o.type_name
            )));
        };
        struct_ops.push(StructOpsVar {
            name: o.name.clone(),
            field,
            type_name: o.type_name.clone(),
            section: o.section.clone(),
            link: o.link,
            ty,
        });
    }
    Ok(Skeleton {
        object: spec.name.clone(),
        object_path: opts.object_path.display().to_string(),
        object_file: opts
            .object_path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        names: SkelNames::new(&spec.name),
        maps,
        programs,
        data,
        struct_ops,
    })
}

/// The data sections that have a Rust type, with their accessors.
fn data_sections(
    spec: &ObjectSpec,
    roots: &SkelRoots,
    ty_at: &dyn Fn(Option<usize>) -> Option<RustTy>,
) -> Result<Vec<DataSection>, SkelIrError> {
    let mut data = Vec::new();
    for (d, slot) in spec.data.iter().zip(&roots.data) {
        let Some(RustTy::Named(ty)) = ty_at(*slot) else {
            continue;
        };
        let (get, get_mut) = naming::section_accessors(&d.name);
        data.push(DataSection {
            section: d.name.clone(),
            ty,
            get,
            get_mut,
            writable: d.kind != DataKind::Rodata,
        });
    }
    let accessors = data
        .iter()
        .flat_map(|d| [d.get.as_str(), d.get_mut.as_str()]);
    naming::skel_fields("data accessors", accessors.collect::<Vec<_>>())
        .map_err(|e| SkelIrError::Other(e.to_string()))?;
    Ok(data)
}

/// A map's types as the skeleton names them.
struct MapTys {
    key: SkelTy,
    value: SkelTy,
    lpm_data: Option<SkelTy>,
    event: Option<SkelTy>,
    inner: Option<Box<MapTys>>,
}

fn bytes(n: u32) -> SkelTy {
    SkelTy::Gen(RustTy::Array(Box::new(RustTy::Prim("u8")), n))
}

/// Map `m`'s types from the IR's roots and the build's options (`owner`
/// is the outer map of an inner template).
fn map_tys(
    opts: &SkelOptions,
    m: &MapSpec,
    owner: &str,
    r: &MapRoots,
    ty_at: &dyn Fn(Option<usize>) -> Option<RustTy>,
) -> Result<MapTys, String> {
    let (rust_key, rust_value) = if m.name == owner {
        named_types(&opts.rust_map_types, &m.name)
    } else {
        (None, None)
    };
    let generated = |slot, size| ty_at(slot).map_or_else(|| bytes(size), SkelTy::Gen);
    let key = match rust_key {
        Some(text) => SkelTy::User(UserTy::parse("key", text)?),
        None => generated(r.key, m.key_size),
    };
    let value = match rust_value {
        Some(text) => SkelTy::User(UserTy::parse("value", text)?),
        None => generated(r.value, m.value_size),
    };
    let lpm_data = (m.map_type == MapType::LPM_TRIE && m.key_size > 4)
        .then(|| generated(r.lpm_data, m.key_size - 4));
    let inner = match (&m.inner, &r.inner) {
        (Some(spec), Some(roots)) => Some(Box::new(map_tys(opts, spec, owner, roots, ty_at)?)),
        _ => None,
    };
    Ok(MapTys {
        key,
        value,
        lpm_data,
        event: ty_at(r.event).map(SkelTy::Gen),
        inner,
    })
}

/// The handle of map `m` by its kernel family.
fn family(m: &MapSpec, t: &MapTys) -> MapFamily {
    let hash = |kind| MapFamily::Hash {
        kind,
        key: t.key.clone(),
        value: t.value.clone(),
    };
    let values = |kind| MapFamily::Values {
        kind,
        value: t.value.clone(),
    };
    let records = |kind| MapFamily::Records {
        kind,
        event: t.event.clone(),
    };
    let inner = || match (&m.inner, &t.inner) {
        (Some(spec), Some(tys)) => Box::new(family(spec, tys)),
        _ => Box::new(MapFamily::Untyped),
    };
    match m.map_type {
        MapType::HASH => hash(HashKind::Hash),
        MapType::LRU_HASH => hash(HashKind::LruHash),
        MapType::PERCPU_HASH => hash(HashKind::PerCpuHash),
        MapType::LRU_PERCPU_HASH => hash(HashKind::LruPerCpuHash),
        MapType::ARRAY | MapType::PERCPU_ARRAY if m.key_size == 4 => MapFamily::Array {
            per_cpu: m.map_type == MapType::PERCPU_ARRAY,
            value: t.value.clone(),
        },
        MapType::QUEUE => values(ValuesKind::Queue),
        MapType::STACK => values(ValuesKind::Stack),
        MapType::BLOOM_FILTER => values(ValuesKind::BloomFilter),
        MapType::LPM_TRIE => match &t.lpm_data {
            Some(data) => MapFamily::LpmTrie {
                data: data.clone(),
                value: t.value.clone(),
            },
            None => MapFamily::Untyped,
        },
        MapType::ARRAY_OF_MAPS => MapFamily::ArrayOfMaps { inner: inner() },
        MapType::HASH_OF_MAPS => MapFamily::HashOfMaps {
            key: t.key.clone(),
            inner: inner(),
        },
        MapType::PROG_ARRAY => MapFamily::Fixed(FixedKind::ProgArray),
        MapType::STACK_TRACE => MapFamily::Fixed(FixedKind::StackTrace),
        MapType::CGROUP_ARRAY => MapFamily::Fixed(FixedKind::CgroupArray),
        MapType::DEVMAP => MapFamily::Fixed(FixedKind::DevMap),
        MapType::DEVMAP_HASH => MapFamily::Fixed(FixedKind::DevMapHash),
        MapType::CPUMAP => MapFamily::Fixed(FixedKind::CpuMap),
        MapType::XSKMAP => MapFamily::Fixed(FixedKind::XskMap),
        MapType::SOCKMAP => MapFamily::Fixed(FixedKind::SockMap),
        MapType::SOCKHASH => MapFamily::SockHash { key: t.key.clone() },
        MapType::RINGBUF => records(RecordsKind::RingBuf),
        MapType::USER_RINGBUF => records(RecordsKind::UserRingBuf),
        MapType::PERF_EVENT_ARRAY => records(RecordsKind::PerfEventArray),
        _ => MapFamily::Untyped,
    }
}

/// The build's own Rust types of map `m`, with the sizes they must have.
fn user_types(m: &MapSpec, t: &MapTys) -> Vec<(&'static str, UserTy, u32)> {
    [
        ("key", &t.key, m.key_size),
        ("value", &t.value, m.value_size),
    ]
    .into_iter()
    .filter_map(|(what, ty, size)| match ty {
        SkelTy::User(u) => Some((what, u.clone(), size)),
        SkelTy::Gen(_) => None,
    })
    .collect()
}

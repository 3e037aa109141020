//! Map definitions: BTF-style in `.maps` (the fields are encoded in the
//! member types of an anonymous struct, see `bpf_helpers.h`'s `__uint`,
//! `__type`, `__array`) and legacy `struct bpf_map_def`s in `maps`.
//!
//! In: the ELF tables and the object's BTF. Out: `MapSpec`s sorted by their
//! offset in the section, static `values` resolved to map and program names.

use object::SymbolKind;

use super::elf::{Elf, Section, R_BPF_64_ABS64};
use super::error::ObjError;
use super::{MapOrigin, MapSlot, MapSpec, MapType, Pinning, SlotTarget};
use crate::btf::{Btf, Member, Type, TypeId};

pub(crate) const BTF_MAPS: &str = ".maps";
pub(crate) const LEGACY_MAPS: &str = "maps";

/// Deepest map-in-map nesting accepted (outer -> inner).
const MAX_NESTING: u32 = 2;

pub(crate) fn read_maps(elf: &Elf<'_>, btf: Option<&Btf>) -> Result<Vec<MapSpec>, ObjError> {
    let mut maps = Vec::new();
    if let Some(sec) = elf.section_by_name(BTF_MAPS) {
        let btf = btf.ok_or_else(|| elf.cx.no_btf("section .maps"))?;
        maps.extend(read_btf_maps(elf, btf, sec)?);
    }
    for sec in elf
        .sections
        .iter()
        .filter(|s| s.name == LEGACY_MAPS || s.name.starts_with("maps/"))
    {
        maps.extend(read_legacy_maps(elf, sec)?);
    }
    let mut seen = std::collections::HashSet::new();
    for m in &maps {
        if !seen.insert(m.name.as_str()) {
            let section = match m.origin {
                MapOrigin::Btf => BTF_MAPS,
                MapOrigin::Legacy => LEGACY_MAPS,
            };
            return Err(elf.cx.map(section, &m.name, "defined twice"));
        }
    }
    Ok(maps)
}

fn read_btf_maps(elf: &Elf<'_>, btf: &Btf, sec: &Section<'_>) -> Result<Vec<MapSpec>, ObjError> {
    let datasec = btf
        .iter()
        .find_map(|(_, t)| match t {
            Type::Datasec(d) if btf.name(d.name) == BTF_MAPS => Some(d),
            _ => None,
        })
        .ok_or_else(|| elf.cx.section(BTF_MAPS, "no DATASEC .maps in BTF"))?;
    let symbols = elf.symbols_in(sec.index);
    let mut maps = Vec::new();
    let mut defs = Vec::new();
    for v in datasec.vars.iter() {
        let Type::Var(var) = btf.type_by_id(v.ty).map_err(|e| elf.cx.btf(BTF_MAPS, e))? else {
            return Err(elf
                .cx
                .section(BTF_MAPS, format!("DATASEC entry {} is not a VAR", v.ty)));
        };
        let name = btf.name(var.name).to_owned();
        let sym = symbols
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| elf.cx.map(BTF_MAPS, &name, "no ELF symbol for this map"))?;
        let mut spec = parse_def(elf, btf, &name, var.ty, 0)?;
        spec.section_offset = sym.value;
        maps.push(spec);
        defs.push((name, var.ty, sym.value, sym.size));
    }
    read_static_values(elf, btf, sec, &mut maps)?;
    for (name, ty, offset, size) in defs {
        check_initial_bytes(elf, btf, sec, &name, ty, offset, size)?;
    }
    maps.sort_by_key(|m| m.section_offset);
    Ok(maps)
}

/// Reads one definition struct. `depth` 0 is a top-level map; deeper ones are
/// inner-map templates.
fn parse_def(
    elf: &Elf<'_>,
    btf: &Btf,
    name: &str,
    ty: TypeId,
    depth: u32,
) -> Result<MapSpec, ObjError> {
    let err = |m: String| elf.cx.map(BTF_MAPS, name, m);
    let btf_err = |e| elf.cx.map(BTF_MAPS, name, e);
    let def_id = btf
        .skip_mods_and_typedefs(ty)
        .map_err(|e| btf_err(e.to_string()))?;
    let Type::Struct(def) = btf.type_by_id(def_id).map_err(|e| btf_err(e.to_string()))? else {
        return Err(err(format!(
            "definition is a {}, not a struct",
            btf.kind_of(def_id).map(|k| k.as_str()).unwrap_or("?")
        )));
    };
    let mut spec = MapSpec {
        name: name.to_owned(),
        origin: MapOrigin::Btf,
        map_type: MapType::UNSPEC,
        key_size: 0,
        value_size: 0,
        max_entries: 0,
        map_flags: 0,
        numa_node: 0,
        map_extra: 0,
        pinning: Pinning::None,
        key_type: None,
        value_type: None,
        inner: None,
        values: Vec::new(),
        section_offset: 0,
    };
    let mut have_type = false;
    let mut key_size = None;
    let mut value_size = None;
    let mut has_values = false;
    for m in def.members.iter() {
        let field = btf.name(m.name);
        let uint = || uint_field(btf, m).map_err(|e| err(format!("field {field}: {e}")));
        match field {
            "type" => {
                spec.map_type = MapType(uint()?);
                have_type = true;
            }
            "max_entries" => spec.max_entries = uint()?,
            "map_flags" => spec.map_flags = uint()?,
            "numa_node" => spec.numa_node = uint()?,
            "map_extra" => spec.map_extra = u64::from(uint()?),
            "pinning" => spec.pinning = Pinning::from_u32(uint()?),
            "key_size" => key_size = Some(uint()?),
            "value_size" => value_size = Some(uint()?),
            "key" => {
                spec.key_type =
                    Some(type_field(btf, m).map_err(|e| err(format!("field key: {e}")))?)
            }
            "value" => {
                spec.value_type =
                    Some(type_field(btf, m).map_err(|e| err(format!("field value: {e}")))?)
            }
            "values" => {
                has_values = true;
                let elem = array_field(btf, m).map_err(|e| err(format!("field values: {e}")))?;
                let resolved = btf
                    .skip_mods_and_typedefs(elem)
                    .map_err(|e| err(format!("field values: {e}")))?;
                if matches!(btf.type_by_id(resolved), Ok(Type::Struct(_))) {
                    if depth + 1 >= MAX_NESTING {
                        return Err(err(
                            "field values: an inner map cannot itself hold maps".into()
                        ));
                    }
                    let inner = parse_def(elf, btf, &format!("{name}.inner"), resolved, depth + 1)?;
                    spec.inner = Some(Box::new(inner));
                }
            }
            "" => return Err(err("anonymous field in definition".into())),
            other => return Err(err(format!("unknown field `{other}`"))),
        }
    }
    if !have_type {
        return Err(err("missing field `type`".into()));
    }
    settle_sizes(&mut spec, btf, key_size, value_size).map_err(err)?;
    if has_values && !(spec.map_type.is_map_in_map() || spec.map_type == MapType::PROG_ARRAY) {
        return Err(err(format!(
            "field values is only for map-in-map and prog_array maps, not {}",
            spec.map_type
        )));
    }
    if spec.map_type.is_map_in_map() && spec.inner.is_none() && depth == 0 {
        return Err(err(
            "map-in-map needs an inner map template: __array(values, struct { ... })".into(),
        ));
    }
    Ok(spec)
}

/// Sets the key and value sizes from `key`/`value` types or the explicit
/// `key_size`/`value_size` fields (one of each, not both), then the sizes
/// the kernel requires but the source may leave implicit: map and program
/// fds are 4-byte values, perf event arrays are indexed by CPU.
fn settle_sizes(
    spec: &mut MapSpec,
    btf: &Btf,
    key_size: Option<u32>,
    value_size: Option<u32>,
) -> Result<(), String> {
    spec.key_size = match (spec.key_type, key_size) {
        (Some(_), Some(_)) => return Err("both `key` and `key_size` given; use one".into()),
        (Some(t), None) => btf.size_of(t).map_err(|e| format!("key: {e}"))?,
        (None, Some(s)) => s,
        (None, None) => 0,
    };
    spec.value_size = match (spec.value_type, value_size) {
        (Some(_), Some(_)) => return Err("both `value` and `value_size` given; use one".into()),
        (Some(t), None) => btf.size_of(t).map_err(|e| format!("value: {e}"))?,
        (None, Some(s)) => s,
        (None, None) => 0,
    };
    let fd_valued = spec.map_type.is_map_in_map()
        || spec.map_type == MapType::PROG_ARRAY
        || spec.map_type == MapType::PERF_EVENT_ARRAY;
    if fd_valued {
        if spec.key_size == 0 {
            spec.key_size = 4;
        }
        if spec.value_size == 0 {
            spec.value_size = 4;
        }
    }
    Ok(())
}

/// A BTF definition says everything in its member types; its bytes in the
/// section stay zero, except the `values` slots (pointers that `.rel.maps`
/// fills). A non-zero byte elsewhere is an initialiser (`.key = (void *)1`)
/// the definition's BTF does not carry, so it is refused naming the field,
/// as cilium/ebpf refuses any non-zero definition byte (loadBTFMaps:
/// "initializing BTF map definitions").
fn check_initial_bytes(
    elf: &Elf<'_>,
    btf: &Btf,
    sec: &Section<'_>,
    name: &str,
    ty: TypeId,
    offset: u64,
    sym_size: u64,
) -> Result<(), ObjError> {
    let err = |m: String| elf.cx.map(BTF_MAPS, name, m);
    if sec.nobits {
        return Ok(());
    }
    let def_id = btf
        .skip_mods_and_typedefs(ty)
        .map_err(|e| err(e.to_string()))?;
    let Ok(Type::Struct(def)) = btf.type_by_id(def_id) else {
        return Ok(()); // parse_def has refused it already
    };
    // Old compilers leave symbol sizes 0: the struct's size then.
    let size = if sym_size != 0 {
        sym_size
    } else {
        u64::from(def.byte_size)
    };
    let bytes = usize::try_from(offset)
        .ok()
        .zip(usize::try_from(size).ok())
        .and_then(|(start, len)| sec.data.get(start..start.checked_add(len)?))
        .ok_or_else(|| {
            err(format!(
                "definition at {offset:#x}+{size} runs past the section ({} bytes)",
                sec.data.len()
            ))
        })?;
    let Some(first) = bytes.iter().position(|&b| b != 0) else {
        return Ok(());
    };
    // Byte ranges of the members; `values` (a flexible array whose
    // initialised slots make the symbol longer than the struct) runs to
    // the end of the definition.
    let mut fields: Vec<(&str, u64, u64)> = Vec::with_capacity(def.members.len());
    for m in def.members.iter() {
        let field = btf.name(m.name);
        let start = u64::from(m.bit_offset / 8);
        let end = if field == "values" {
            size
        } else {
            let len = btf
                .size_of(m.ty)
                .map_err(|e| err(format!("field {field}: {e}")))?;
            start + u64::from(len)
        };
        fields.push((field, start, end));
    }
    let owner = |at: u64| fields.iter().find(|(_, s, e)| at >= *s && at < *e);
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if b == 0 {
            continue;
        }
        let at = i as u64;
        match owner(at) {
            Some(("values", _, _)) => {}
            Some((field, start, end)) => {
                return Err(err(format!(
                    "field {field}: non-zero initial value (bytes {start}..{end} of the \
                     definition); a BTF map definition is read from its BTF, and only \
                     `values` may be initialised"
                )))
            }
            None => {
                return Err(err(format!(
                    "non-zero byte at offset {at} of the definition, outside every field"
                )))
            }
        }
    }
    Ok(())
}

/// `__uint(name, N)` is `int (*name)[N]`: N is the array length.
fn uint_field(btf: &Btf, m: &Member) -> Result<u32, String> {
    let ptr = btf
        .skip_mods_and_typedefs(m.ty)
        .map_err(|e| e.to_string())?;
    let Type::Ptr(p) = btf.type_by_id(ptr).map_err(|e| e.to_string())? else {
        return Err("not declared with __uint (want a pointer to an array)".into());
    };
    let arr = btf
        .skip_mods_and_typedefs(p.target)
        .map_err(|e| e.to_string())?;
    match btf.type_by_id(arr).map_err(|e| e.to_string())? {
        Type::Array(a) => Ok(a.len),
        _ => Err("not declared with __uint (want a pointer to an array)".into()),
    }
}

/// `__type(name, T)` is `T *name`.
fn type_field(btf: &Btf, m: &Member) -> Result<TypeId, String> {
    let ptr = btf
        .skip_mods_and_typedefs(m.ty)
        .map_err(|e| e.to_string())?;
    match btf.type_by_id(ptr).map_err(|e| e.to_string())? {
        Type::Ptr(p) => Ok(p.target),
        _ => Err("not declared with __type (want a pointer)".into()),
    }
}

/// `__array(name, T)` is `T *name[]`: the element's pointee.
fn array_field(btf: &Btf, m: &Member) -> Result<TypeId, String> {
    let arr = btf
        .skip_mods_and_typedefs(m.ty)
        .map_err(|e| e.to_string())?;
    let Type::Array(a) = btf.type_by_id(arr).map_err(|e| e.to_string())? else {
        return Err("not declared with __array (want an array of pointers)".into());
    };
    let ptr = btf
        .skip_mods_and_typedefs(a.elem)
        .map_err(|e| e.to_string())?;
    match btf.type_by_id(ptr).map_err(|e| e.to_string())? {
        Type::Ptr(p) => Ok(p.target),
        _ => Err("not declared with __array (want an array of pointers)".into()),
    }
}

/// Static `values`: each slot is an 8-byte pointer in the map's definition,
/// left zero in the section and described by a `.rel.maps` relocation.
fn read_static_values(
    elf: &Elf<'_>,
    btf: &Btf,
    sec: &Section<'_>,
    maps: &mut [MapSpec],
) -> Result<(), ObjError> {
    let relocs = elf.relocations(sec)?;
    if relocs.is_empty() {
        return Ok(());
    }
    let symbols = elf.symbols_in(sec.index);
    for (i, r) in relocs.iter().enumerate() {
        let rerr = |m: String| elf.cx.reloc(BTF_MAPS, i, m);
        if r.r_type != R_BPF_64_ABS64 {
            return Err(rerr(format!(
                "type {} in .maps (want R_BPF_64_ABS64)",
                r.r_type
            )));
        }
        let owner = symbols
            .iter()
            .find(|s| s.contains(r.offset))
            .ok_or_else(|| {
                rerr(format!(
                    "offset {:#x} is inside no map definition",
                    r.offset
                ))
            })?;
        let map = maps
            .iter_mut()
            .find(|m| m.name == owner.name)
            .ok_or_else(|| {
                rerr(format!(
                    "offset {:#x}: no map named {}",
                    r.offset, owner.name
                ))
            })?;
        let values_off = values_offset(btf, &map.name).ok_or_else(|| {
            rerr(format!(
                "map {} has a relocation but no `values` field",
                map.name
            ))
        })?;
        let rel = r.offset - owner.value;
        if rel < values_off || (rel - values_off) % 8 != 0 {
            return Err(rerr(format!(
                "map {}: relocation at byte {rel} of the definition is not a `values` slot",
                map.name
            )));
        }
        let index = ((rel - values_off) / 8) as u32;
        if map.max_entries != 0 && index >= map.max_entries && map.map_type != MapType::HASH_OF_MAPS
        {
            return Err(rerr(format!(
                "map {}: static value at slot {index}, but max_entries is {}",
                map.name, map.max_entries
            )));
        }
        let target_sym = &elf.symbols[r.symbol];
        let target_sec = target_sym.section.and_then(|s| elf.section(s));
        let target = match target_sec {
            Some(s) if s.name == BTF_MAPS => SlotTarget::Map(target_sym.name.clone()),
            Some(s) if s.executable && target_sym.kind == SymbolKind::Text => {
                SlotTarget::Program(target_sym.name.clone())
            }
            _ => {
                return Err(rerr(format!(
                    "map {}: slot {index} refers to `{}`, which is neither a map nor a program",
                    map.name, target_sym.name
                )))
            }
        };
        match (&target, map.map_type) {
            (SlotTarget::Map(_), t) if t.is_map_in_map() => {}
            (SlotTarget::Program(_), MapType::PROG_ARRAY) => {}
            _ => {
                return Err(rerr(format!(
                    "map {} ({}): slot {index} cannot hold `{}`",
                    map.name,
                    map.map_type,
                    target.name()
                )))
            }
        }
        map.values.push(MapSlot { index, target });
    }
    for m in maps.iter_mut() {
        m.values.sort_by_key(|s| s.index);
    }
    Ok(())
}

/// Byte offset of the `values` member in a map's definition struct.
fn values_offset(btf: &Btf, map: &str) -> Option<u64> {
    let (_, var) = btf
        .iter()
        .find(|(_, t)| matches!(t, Type::Var(v) if btf.name(v.name) == map))?;
    let Type::Var(var) = var else { return None };
    let def = btf.skip_mods_and_typedefs(var.ty).ok()?;
    let Type::Struct(s) = btf.type_by_id(def).ok()? else {
        return None;
    };
    s.members
        .iter()
        .find(|m| btf.name(m.name) == "values")
        .map(|m| u64::from(m.bit_offset / 8))
}

/// How many bytes of a legacy definition of `n_fields` whole u32s bpf2rs
/// reads, and the form it reads them as. The fields of the longer forms it
/// does not use (`id`; iproute2's `inner_id, inner_idx`) count as read: they
/// belong to a known layout, and the fixtures of both forms set them.
fn legacy_form(n_fields: usize) -> (usize, &'static str) {
    match n_fields {
        0..=6 => (20, "the 5 fields of struct bpf_map_def"),
        7 | 8 => (28, "aya's 7 fields (.., id, pinning)"),
        _ => (
            36,
            "iproute2's struct bpf_elf_map (.., id, pinning, inner_id, inner_idx)",
        ),
    }
}

/// Legacy definitions: consecutive u32 fields `type, key_size, value_size,
/// max_entries, map_flags`, optionally followed by `id, pinning` (aya-ebpf's
/// 28-byte form) and `inner_id, inner_idx` (iproute2's 36-byte
/// `struct bpf_elf_map`). Each symbol in the section is one map.
///
/// Bytes past the fields of the form a size implies must be zero, as
/// libbpf < 1.0 required of anything past its 20-byte `struct bpf_map_def`
/// (`bpf_object__init_user_maps`: "has unrecognized, non-zero options"):
/// a setting there would otherwise be dropped without a word.
fn read_legacy_maps(elf: &Elf<'_>, sec: &Section<'_>) -> Result<Vec<MapSpec>, ObjError> {
    let symbols: Vec<_> = elf
        .symbols_in(sec.index)
        .into_iter()
        .filter(|s| matches!(s.kind, SymbolKind::Data | SymbolKind::Unknown))
        .collect();
    if symbols.is_empty() {
        return Ok(Vec::new());
    }
    // Older compilers leave symbol sizes 0; then every definition has the
    // same size, the section's divided by the number of maps.
    let even = sec.data.len() as u64 / symbols.len() as u64;
    let mut maps = Vec::new();
    for sym in symbols {
        let size = if sym.size != 0 { sym.size } else { even };
        let err = |m: String| elf.cx.map(&sec.name, &sym.name, m);
        if size < 20 {
            return Err(err(format!(
                "legacy definition is {size} bytes, need at least 20 (5 u32 fields)"
            )));
        }
        let start = sym.value as usize;
        let bytes = sec
            .data
            .get(start..start.saturating_add(size as usize))
            .ok_or_else(|| {
                err(format!(
                    "definition at {start:#x}+{size} runs past the section ({} bytes)",
                    sec.data.len()
                ))
            })?;
        let field = |i: usize| -> u32 {
            let b = [
                bytes[i * 4],
                bytes[i * 4 + 1],
                bytes[i * 4 + 2],
                bytes[i * 4 + 3],
            ];
            elf.u32(b)
        };
        let n_fields = (size / 4) as usize;
        let (read_end, form) = legacy_form(n_fields);
        if bytes
            .get(read_end..)
            .is_some_and(|t| t.iter().any(|&b| b != 0))
        {
            return Err(err(format!(
                "legacy definition has non-zero bytes past the fields bpf2rs reads \
                 (offset {read_end}..{size}: a {size}-byte definition is read as {form})"
            )));
        }
        let pinning = match n_fields {
            0..=6 => Pinning::None,
            // aya-ebpf's 7-field form uses libbpf's numbering: 1 is by name.
            7 | 8 => Pinning::from_u32(field(6)),
            // iproute2's `struct bpf_elf_map` numbers differently: 1 is
            // PIN_OBJECT_NS, 2 is PIN_GLOBAL_NS (iproute2 include/bpf_elf.h);
            // neither is libbpf's by-name pinning, so keep the number.
            _ => match field(6) {
                0 => Pinning::None,
                n => Pinning::Other(n),
            },
        };
        maps.push(MapSpec {
            name: sym.name.clone(),
            origin: MapOrigin::Legacy,
            map_type: MapType(field(0)),
            key_size: field(1),
            value_size: field(2),
            max_entries: field(3),
            map_flags: field(4),
            numa_node: 0,
            map_extra: 0,
            pinning,
            key_type: None,
            value_type: None,
            inner: None,
            values: Vec::new(),
            section_offset: sym.value,
        });
    }
    Ok(maps)
}

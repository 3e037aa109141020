//! Access specs: a CO-RE access string (`0:1:2`) walked over one BTF, and
//! the same path looked up by member names in a candidate target type
//! (libbpf's `bpf_core_parse_spec` / `bpf_core_spec_match`, tools/lib/bpf/relo_core.c).
//!
//! In: a BTF, a root type and raw indices. Out: [`Spec`], the accessors that
//! carry names (anonymous members are only offsets) and the bit offset.

use crate::btf::{Btf, Type, TypeId, MAX_DEPTH};

use super::compat::fields_are_compat;
use super::{essential_name, CoreError, Family};

/// Longest access string, as in libbpf (BPF_CORE_SPEC_MAX_LEN).
const SPEC_MAX_LEN: usize = 64;

/// One step of a spec: a named member, an array element or an enumerator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Accessor {
    /// The composite, array element or enum type (modifiers skipped).
    pub(crate) type_id: TypeId,
    pub(crate) idx: u32,
    /// Member or enumerator name; `None` for an array index.
    pub(crate) name: Option<String>,
}

/// A resolved access path in one BTF.
#[derive(Clone, Debug, Default)]
pub(crate) struct Spec {
    pub(crate) root_type_id: TypeId,
    pub(crate) accessors: Vec<Accessor>,
    /// Member indices including anonymous members: the target's access string.
    pub(crate) raw: Vec<u32>,
    pub(crate) bit_offset: u64,
}

pub(crate) fn parse_access(access: &str) -> Result<Vec<u32>, CoreError> {
    let raw: Result<Vec<u32>, _> = access.split(':').map(str::parse::<u32>).collect();
    let raw = raw.map_err(|_| CoreError::Invalid(format!("bad access string `{access}`")))?;
    if raw.is_empty() || raw.len() > SPEC_MAX_LEN {
        return Err(CoreError::Invalid(format!("bad access string `{access}`")));
    }
    Ok(raw)
}

fn btf_err(e: crate::btf::BtfError) -> CoreError {
    CoreError::Invalid(e.to_string())
}

/// Walks `raw` over the local BTF from `root`.
pub(crate) fn parse_local(
    btf: &Btf,
    root: TypeId,
    raw: &[u32],
    family: Family,
) -> Result<Spec, CoreError> {
    let mut spec = Spec {
        root_type_id: root,
        raw: raw.to_vec(),
        ..Spec::default()
    };
    match family {
        Family::Type => {
            if raw != [0] {
                return Err(CoreError::Invalid(
                    "type relocation with an access string other than 0".into(),
                ));
            }
            return Ok(spec);
        }
        Family::Enumval => {
            let id = btf.skip_mods_and_typedefs(root).map_err(btf_err)?;
            let e = match btf.type_by_id(id).map_err(btf_err)? {
                Type::Enum(e) => e,
                _ => {
                    return Err(CoreError::Invalid(
                        "enum value relocation on a non-enum type".into(),
                    ))
                }
            };
            let [idx] = raw else {
                return Err(CoreError::Invalid(
                    "enum value relocation with a long access string".into(),
                ));
            };
            let v = e
                .values
                .get(*idx as usize)
                .ok_or_else(|| CoreError::Invalid(format!("enumerator #{idx} out of range")))?;
            spec.accessors.push(Accessor {
                type_id: id,
                idx: *idx,
                name: Some(btf.name(v.name).to_owned()),
            });
            return Ok(spec);
        }
        Family::Field => {}
    }
    let mut id = btf.skip_mods_and_typedefs(root).map_err(btf_err)?;
    let size = btf.size_of(id).map_err(btf_err)?;
    spec.accessors.push(Accessor {
        type_id: id,
        idx: raw[0],
        name: None,
    });
    spec.bit_offset = u64::from(raw[0]) * u64::from(size) * 8;
    for &idx in &raw[1..] {
        id = btf.skip_mods_and_typedefs(id).map_err(btf_err)?;
        match btf.type_by_id(id).map_err(btf_err)? {
            Type::Struct(c) | Type::Union(c) => {
                let m = c
                    .members
                    .get(idx as usize)
                    .ok_or_else(|| CoreError::Invalid(format!("member #{idx} out of range")))?;
                spec.bit_offset += u64::from(btf.member_bits(m).map_err(btf_err)?.bit_offset);
                if !m.name.is_anon() {
                    spec.accessors.push(Accessor {
                        type_id: id,
                        idx,
                        name: Some(btf.name(m.name).to_owned()),
                    });
                }
                id = m.ty;
            }
            Type::Array(a) => {
                let flex = is_flex_array(btf, spec.accessors.last(), a.len)?;
                if !flex && idx >= a.len {
                    return Err(CoreError::Invalid(format!(
                        "array index {idx} out of range"
                    )));
                }
                id = btf.skip_mods_and_typedefs(a.elem).map_err(btf_err)?;
                spec.accessors.push(Accessor {
                    type_id: id,
                    idx,
                    name: None,
                });
                spec.bit_offset +=
                    u64::from(idx) * u64::from(btf.size_of(id).map_err(btf_err)?) * 8;
            }
            _ => {
                return Err(CoreError::Invalid(format!(
                    "access `{idx}` into a type that is neither composite nor array"
                )))
            }
        }
    }
    Ok(spec)
}

/// A zero-length array that is the last member of its struct.
fn is_flex_array(btf: &Btf, prev: Option<&Accessor>, len: u32) -> Result<bool, CoreError> {
    let Some(prev) = prev else { return Ok(false) };
    if prev.name.is_none() || len > 0 {
        return Ok(false);
    }
    Ok(match btf.type_by_id(prev.type_id).map_err(btf_err)? {
        Type::Struct(c) | Type::Union(c) => prev.idx as usize + 1 == c.members.len(),
        _ => false,
    })
}

/// Follows `local` in the candidate `cand_id` of `target`; `None` when the
/// candidate has no such field (or enumerator).
pub(crate) fn match_target(
    local_btf: &Btf,
    local: &Spec,
    target: &Btf,
    cand_id: TypeId,
    family: Family,
) -> Result<Option<Spec>, CoreError> {
    let mut spec = Spec {
        root_type_id: cand_id,
        ..Spec::default()
    };
    match family {
        Family::Type => unreachable_type(),
        Family::Enumval => {
            let local_acc = &local.accessors[0];
            let want = essential_name(local_acc.name.as_deref().unwrap_or(""));
            let id = target.skip_mods_and_typedefs(cand_id).map_err(btf_err)?;
            let Type::Enum(e) = target.type_by_id(id).map_err(btf_err)? else {
                return Ok(None);
            };
            for (i, v) in e.values.iter().enumerate() {
                let name = target.name(v.name);
                if essential_name(name) == want {
                    spec.accessors.push(Accessor {
                        type_id: id,
                        idx: i as u32,
                        name: Some(name.to_owned()),
                    });
                    spec.raw.push(i as u32);
                    return Ok(Some(spec));
                }
            }
            Ok(None)
        }
        Family::Field => {
            let mut targ_id = cand_id;
            for (i, local_acc) in local.accessors.iter().enumerate() {
                if local_acc.name.is_some() {
                    match match_member(local_btf, local_acc, target, targ_id, &mut spec, 0)? {
                        Some(next) => targ_id = next,
                        None => return Ok(None),
                    }
                    continue;
                }
                if i > 0 {
                    let arr_id = target.skip_mods_and_typedefs(targ_id).map_err(btf_err)?;
                    let Type::Array(a) = target.type_by_id(arr_id).map_err(btf_err)? else {
                        return Ok(None);
                    };
                    let flex = is_flex_array(target, spec.accessors.last(), a.len)?;
                    if !flex && local_acc.idx >= a.len {
                        return Ok(None);
                    }
                    targ_id = target.skip_mods_and_typedefs(a.elem).map_err(btf_err)?;
                } else {
                    targ_id = target.skip_mods_and_typedefs(targ_id).map_err(btf_err)?;
                }
                if spec.raw.len() >= SPEC_MAX_LEN {
                    return Err(CoreError::Invalid("access path too deep".into()));
                }
                spec.accessors.push(Accessor {
                    type_id: targ_id,
                    idx: local_acc.idx,
                    name: None,
                });
                spec.raw.push(local_acc.idx);
                let size = target.size_of(targ_id).map_err(btf_err)?;
                spec.bit_offset += u64::from(local_acc.idx) * u64::from(size) * 8;
            }
            Ok(Some(spec))
        }
    }
}

fn unreachable_type() -> Result<Option<Spec>, CoreError> {
    Err(CoreError::Invalid(
        "type relocations are matched by type, not by spec".into(),
    ))
}

/// Finds the member `local_acc` names in the composite `targ_id`, looking
/// through anonymous members; returns the member's type.
fn match_member(
    local_btf: &Btf,
    local_acc: &Accessor,
    target: &Btf,
    targ_id: TypeId,
    spec: &mut Spec,
    depth: u32,
) -> Result<Option<TypeId>, CoreError> {
    if depth > MAX_DEPTH {
        return Err(CoreError::Invalid(
            "anonymous members nested too deep".into(),
        ));
    }
    let local_member = match local_btf.type_by_id(local_acc.type_id).map_err(btf_err)? {
        Type::Struct(c) | Type::Union(c) => c.members.get(local_acc.idx as usize).cloned(),
        _ => None,
    }
    .ok_or_else(|| CoreError::Invalid("local accessor is not a member".into()))?;
    let local_name = local_acc.name.as_deref().unwrap_or("");
    let targ_id = target.skip_mods_and_typedefs(targ_id).map_err(btf_err)?;
    let members = match target.type_by_id(targ_id).map_err(btf_err)? {
        Type::Struct(c) | Type::Union(c) => c.members.clone(),
        _ => return Ok(None),
    };
    for (i, m) in members.iter().enumerate() {
        if spec.raw.len() >= SPEC_MAX_LEN {
            return Err(CoreError::Invalid("access path too deep".into()));
        }
        let bit_offset = u64::from(target.member_bits(m).map_err(btf_err)?.bit_offset);
        spec.bit_offset += bit_offset;
        spec.raw.push(i as u32);
        if m.name.is_anon() {
            if let Some(found) = match_member(local_btf, local_acc, target, m.ty, spec, depth + 1)?
            {
                return Ok(Some(found));
            }
        } else if target.name(m.name) == local_name {
            if !fields_are_compat(local_btf, local_member.ty, target, m.ty)? {
                return Ok(None);
            }
            spec.accessors.push(Accessor {
                type_id: targ_id,
                idx: i as u32,
                name: Some(local_name.to_owned()),
            });
            return Ok(Some(m.ty));
        }
        spec.bit_offset -= bit_offset;
        spec.raw.pop();
    }
    Ok(None)
}

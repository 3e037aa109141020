//! Type compatibility rules of CO-RE (tools/lib/bpf/relo_core.c):
//! `fields_are_compat` for the field at the end of an access path,
//! `types_are_compat` for type relocations and `types_match` for
//! `bpf_core_type_matches()`.
//!
//! In: a local and a target BTF and one type of each. Out: yes or no.

use crate::btf::{Btf, Type, TypeId, MAX_DEPTH};

use super::{essential_name, CoreError};

fn btf_err(e: crate::btf::BtfError) -> CoreError {
    CoreError::Invalid(e.to_string())
}

fn resolved(btf: &Btf, id: TypeId) -> Result<(TypeId, &Type), CoreError> {
    let id = btf.skip_mods_and_typedefs(id).map_err(btf_err)?;
    Ok((id, btf.type_by_id(id).map_err(btf_err)?))
}

fn is_composite(t: &Type) -> bool {
    matches!(t, Type::Struct(_) | Type::Union(_))
}

/// Whether an integer is a whole value (not the old bitfield-like INT
/// encoding with an offset or a partial width).
fn plain_int(t: &Type) -> bool {
    matches!(t, Type::Int(i) if i.bit_offset == 0)
}

/// The field a local access path ends on can live in the target field:
/// composites with composites, ints with ints of any size, enums and
/// forward declarations by essential name, arrays by element.
pub(crate) fn fields_are_compat(
    local: &Btf,
    local_id: TypeId,
    target: &Btf,
    targ_id: TypeId,
) -> Result<bool, CoreError> {
    let (mut l_id, mut t_id) = (local_id, targ_id);
    for _ in 0..=MAX_DEPTH {
        let (_, l) = resolved(local, l_id)?;
        let (_, t) = resolved(target, t_id)?;
        if is_composite(l) && is_composite(t) {
            return Ok(true);
        }
        return Ok(match (l, t) {
            (Type::Ptr(_), Type::Ptr(_)) | (Type::Float(_), Type::Float(_)) => true,
            (Type::Int(_), Type::Int(_)) => plain_int(l) && plain_int(t),
            (Type::Enum(_), Type::Enum(_)) | (Type::Fwd(_), Type::Fwd(_)) => {
                essential_name(local.name(l.name())) == essential_name(target.name(t.name()))
            }
            (Type::Array(la), Type::Array(ta)) => {
                l_id = la.elem;
                t_id = ta.elem;
                continue;
            }
            _ => false,
        });
    }
    Err(CoreError::Invalid("field types nested too deep".into()))
}

/// `bpf_core_types_are_compat`: same kinds, pointers and arrays compared by
/// what they hold, function prototypes by parameters; names of composites
/// were already compared when choosing candidates.
pub(crate) fn types_are_compat(
    local: &Btf,
    local_id: TypeId,
    target: &Btf,
    targ_id: TypeId,
    depth: u32,
) -> Result<bool, CoreError> {
    if depth > MAX_DEPTH {
        return Err(CoreError::Invalid("types nested too deep".into()));
    }
    let (_, l) = resolved(local, local_id)?;
    let (_, t) = resolved(target, targ_id)?;
    Ok(match (l, t) {
        (Type::Void, Type::Void)
        | (Type::Struct(_), Type::Struct(_))
        | (Type::Union(_), Type::Union(_))
        | (Type::Enum(_), Type::Enum(_))
        | (Type::Fwd(_), Type::Fwd(_))
        | (Type::Float(_), Type::Float(_)) => true,
        (Type::Int(_), Type::Int(_)) => plain_int(l) && plain_int(t),
        (Type::Ptr(lp), Type::Ptr(tp)) => {
            types_are_compat(local, lp.target, target, tp.target, depth + 1)?
        }
        (Type::Array(la), Type::Array(ta)) => {
            types_are_compat(local, la.elem, target, ta.elem, depth + 1)?
        }
        (Type::FuncProto(lf), Type::FuncProto(tf)) => {
            if lf.params.len() != tf.params.len() {
                return Ok(false);
            }
            for (lp, tp) in lf.params.iter().zip(tf.params.iter()) {
                if !types_are_compat(local, lp.ty, target, tp.ty, depth + 1)? {
                    return Ok(false);
                }
            }
            types_are_compat(local, lf.ret, target, tf.ret, depth + 1)?
        }
        _ => false,
    })
}

/// `bpf_core_types_match`: stricter than compatible. Composites need every
/// local member by name with a matching type, enums every local
/// enumerator name and the same size, ints the same size and signedness.
/// Behind a pointer, composites match by name only.
pub(crate) fn types_match(
    local: &Btf,
    local_id: TypeId,
    target: &Btf,
    targ_id: TypeId,
    behind_ptr: bool,
    depth: u32,
) -> Result<bool, CoreError> {
    if depth > MAX_DEPTH {
        return Err(CoreError::Invalid("types nested too deep".into()));
    }
    let (_, l) = resolved(local, local_id)?;
    let (_, t) = resolved(target, targ_id)?;
    let names_match =
        || essential_name(local.name(l.name())) == essential_name(target.name(t.name()));
    Ok(match (l, t) {
        (Type::Void, Type::Void) => true,
        (Type::Fwd(_), Type::Fwd(_) | Type::Struct(_) | Type::Union(_))
        | (Type::Struct(_) | Type::Union(_), Type::Fwd(_)) => names_match(),
        (Type::Struct(lc), Type::Struct(tc)) | (Type::Union(lc), Type::Union(tc)) => {
            if !names_match() {
                return Ok(false);
            }
            if behind_ptr {
                return Ok(true);
            }
            if lc.members.len() > tc.members.len() {
                return Ok(false);
            }
            for lm in lc.members.iter() {
                let lname = local.name(lm.name);
                let Some(tm) = tc.members.iter().find(|tm| target.name(tm.name) == lname) else {
                    return Ok(false);
                };
                if !types_match(local, lm.ty, target, tm.ty, false, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (Type::Enum(le), Type::Enum(te)) => {
            if !names_match() || le.byte_size != te.byte_size {
                return Ok(false);
            }
            le.values.iter().all(|lv| {
                let n = essential_name(local.name(lv.name));
                te.values
                    .iter()
                    .any(|tv| essential_name(target.name(tv.name)) == n)
            })
        }
        (Type::Int(li), Type::Int(ti)) => {
            plain_int(l)
                && plain_int(t)
                && li.byte_size == ti.byte_size
                && li.encoding.signed == ti.encoding.signed
        }
        (Type::Float(lf), Type::Float(tf)) => lf.byte_size == tf.byte_size,
        (Type::Ptr(lp), Type::Ptr(tp)) => {
            types_match(local, lp.target, target, tp.target, true, depth + 1)?
        }
        (Type::Array(la), Type::Array(ta)) => {
            la.len == ta.len && types_match(local, la.elem, target, ta.elem, behind_ptr, depth + 1)?
        }
        (Type::FuncProto(lf), Type::FuncProto(tf)) => {
            if lf.params.len() != tf.params.len() {
                return Ok(false);
            }
            for (lp, tp) in lf.params.iter().zip(tf.params.iter()) {
                if !types_match(local, lp.ty, target, tp.ty, behind_ptr, depth + 1)? {
                    return Ok(false);
                }
            }
            types_match(local, lf.ret, target, tf.ret, behind_ptr, depth + 1)?
        }
        _ => false,
    })
}

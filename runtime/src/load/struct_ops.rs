//! struct_ops variables at load (the rules of libbpf's
//! bpf_map__init_kern_struct_ops): each becomes a BPF_MAP_TYPE_STRUCT_OPS
//! map whose value is the kernel's `struct bpf_struct_ops_<name>`; the
//! object's members are copied by name into its `data` member (the
//! kernel's layout may differ from the object's), and each function pointer
//! gets the fd of its program, which is loaded as BPF_PROG_TYPE_STRUCT_OPS
//! with attach_btf_id = the kernel's `struct <name>` and
//! expected_attach_type = the member's index there.
//!
//! In: the spec's struct_ops variables, their settings (value, autocreate)
//! and the kernel's BTF. Out: a [`Plan`] per created variable, the programs'
//! bindings, then (after the programs load) [`StructOpsMap`]s.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd};

use super::co_re::{essential_name, CoreTarget};
use super::LoadError;
use crate::btf::{Btf, Composite, Kind, Type, TypeId};
use crate::map::Map;
use crate::obj::{MapType, ObjectSpec, ProgType, StructOpsSpec};
use crate::prog::Program;
use crate::struct_ops::{StructOpsMap, StructOpsSettings, BPF_F_LINK};
use crate::sys;

/// What a program is loaded as when a struct_ops variable points at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Binding {
    /// The kernel's `struct <name>` (BPF_PROG_LOAD attach_btf_id).
    pub(crate) kern_type_id: u32,
    /// The member's index in it (BPF_PROG_LOAD expected_attach_type).
    pub(crate) member_index: u32,
    /// The variable and member, for messages.
    pub(crate) ops: String,
    pub(crate) member: String,
}

/// One struct_ops variable to create.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) ops: StructOpsSpec,
    /// `struct bpf_struct_ops_<name>` in the kernel's BTF.
    value_type_id: u32,
    /// The kernel value, function pointers still zero.
    value: Vec<u8>,
    /// (byte offset in `value`, program) of each function pointer.
    slots: Vec<(usize, String)>,
}

/// The plans of every created variable and what each of their programs
/// is loaded as.
#[derive(Debug, Default)]
pub(crate) struct Plans {
    pub(crate) plans: Vec<Plan>,
    pub(crate) bindings: HashMap<String, Binding>,
}

/// Whether any struct_ops variable is to be created (the kernel BTF is
/// then needed).
pub(crate) fn any_created(spec: &ObjectSpec, settings: &[StructOpsSettings]) -> bool {
    spec.struct_ops
        .iter()
        .zip(settings)
        .any(|(_, s)| s.autocreate)
}

fn err(object: &str, ops: &StructOpsSpec, message: String) -> LoadError {
    LoadError::StructOps {
        object: object.to_owned(),
        map: ops.name.clone(),
        message: format!("struct {}: {message}", ops.type_name),
    }
}

/// The kernel values and program bindings of every variable whose
/// autocreate is on.
pub(crate) fn plan(
    spec: &ObjectSpec,
    settings: &[StructOpsSettings],
    kernel: Option<&CoreTarget>,
    notes: &mut Vec<String>,
) -> Result<Plans, LoadError> {
    let object = spec.name.as_str();
    let mut out = Plans::default();
    for (ops, s) in spec.struct_ops.iter().zip(settings) {
        if !s.autocreate {
            notes.push(format!(
                "struct_ops map {}: not created (autocreate is off)",
                ops.name
            ));
            continue;
        }
        let local = spec
            .btf
            .as_deref()
            .ok_or_else(|| err(object, ops, "the object has no BTF".into()))?;
        let kernel =
            kernel.ok_or_else(|| err(object, ops, "no kernel BTF to find it in".into()))?;
        let plan =
            plan_one(local, kernel, ops, s.value()).map_err(|message| err(object, ops, message))?;
        for (member, program) in &plan.skipped {
            notes.push(format!(
                "struct_ops map {}: member {member} is not in the kernel's struct {}: \
                 program {program} is not used there",
                ops.name, ops.type_name
            ));
        }
        for b in plan.bound {
            match out.bindings.get(&b.1) {
                Some(prev)
                    if prev.kern_type_id != b.0.kern_type_id
                        || prev.member_index != b.0.member_index =>
                {
                    return Err(err(
                        object,
                        ops,
                        format!(
                            "member {}: program {} is also {}.{}, a different kernel \
                             member; a struct_ops program serves one member of one struct",
                            b.0.member, b.1, prev.ops, prev.member
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    out.bindings.insert(b.1, b.0);
                }
            }
        }
        out.plans.push(plan.plan);
    }
    Ok(out)
}

#[derive(Debug)]
struct PlanOne {
    plan: Plan,
    /// (binding, program) of each function pointer set.
    bound: Vec<(Binding, String)>,
    /// (member, program) bound in the object but absent from the kernel.
    skipped: Vec<(String, String)>,
}

fn plan_one(
    local: &Btf,
    kernel: &CoreTarget,
    ops: &StructOpsSpec,
    data: &[u8],
) -> Result<PlanOne, String> {
    let kbtf: &Btf = kernel.btf();
    let tname = essential_name(&ops.type_name);
    let KernelOps {
        vtype_id,
        vtype,
        ktype_id,
        ktype,
        data_off,
    } = kernel_ops(kernel, tname)?;
    let Ok(Type::Struct(ltype)) = local.type_by_id(ops.btf_type) else {
        return Err("not a struct in the object's BTF".into());
    };
    let mut value = vec![0u8; vtype.byte_size as usize];
    let mut slots = Vec::new();
    let mut bound = Vec::new();
    let mut skipped = Vec::new();
    for m in ltype.members.iter() {
        let mname = local.name(m.name);
        let merr = |e: String| format!("member {mname}: {e}");
        let program = ops
            .programs
            .iter()
            .find(|s| s.member == mname)
            .map(|s| s.program.clone());
        let moff = (m.bit_offset / 8) as usize;
        let msize = local.size_of(m.ty).map_err(|e| merr(e.to_string()))? as usize;
        let bytes = data
            .get(moff..moff + msize)
            .ok_or_else(|| merr("past the end of the value".into()))?;
        let Some((kidx, km)) = ktype
            .members
            .iter()
            .enumerate()
            .find(|(_, k)| kbtf.name(k.name) == mname)
        else {
            if bytes.iter().any(|&b| b != 0) {
                return Err(merr(format!(
                    "set (non-zero) in the object, but the kernel's struct {tname} has no \
                     such member"
                )));
            }
            if let Some(p) = program {
                skipped.push((mname.to_owned(), p));
            }
            continue;
        };
        if m.bitfield_size != 0 || km.bitfield_size != 0 {
            return Err(merr("bitfield members are not supported".into()));
        }
        let lty = local
            .skip_mods_and_typedefs(m.ty)
            .map_err(|e| merr(e.to_string()))?;
        let kty = kbtf
            .skip_mods_and_typedefs(km.ty)
            .map_err(|e| merr(e.to_string()))?;
        let lkind = local.kind_of(lty).map_err(|e| merr(e.to_string()))?;
        let kkind = kbtf.kind_of(kty).map_err(|e| merr(e.to_string()))?;
        if lkind != kkind {
            return Err(merr(format!(
                "the object's is a {lkind:?}, the kernel's a {kkind:?}"
            )));
        }
        let koff = data_off + (km.bit_offset / 8) as usize;
        if lkind == Kind::Ptr {
            // Pointers the object does not bind to a program stay NULL.
            let Some(program) = program else { continue };
            check_func_ptr(kbtf, kty, &program).map_err(merr)?;
            if value.get(koff..koff + 8).is_none() {
                return Err(merr("past the end of the kernel value".into()));
            }
            slots.push((koff, program.clone()));
            bound.push((
                Binding {
                    kern_type_id: ktype_id.0,
                    member_index: kidx as u32,
                    ops: ops.name.clone(),
                    member: mname.to_owned(),
                },
                program,
            ));
            continue;
        }
        let ksize = kbtf.size_of(kty).map_err(|e| merr(e.to_string()))? as usize;
        if ksize != msize {
            return Err(merr(format!(
                "{msize} bytes in the object, {ksize} in the kernel"
            )));
        }
        value
            .get_mut(koff..koff + ksize)
            .ok_or_else(|| merr("past the end of the kernel value".into()))?
            .copy_from_slice(bytes);
    }
    Ok(PlanOne {
        plan: Plan {
            ops: ops.clone(),
            value_type_id: vtype_id.0,
            value,
            slots,
        },
        bound,
        skipped,
    })
}

/// The kernel's side of struct `tname`: the value type the map holds
/// (`bpf_struct_ops_<tname>`), the ops struct inside it, and where.
struct KernelOps<'k> {
    vtype_id: TypeId,
    vtype: &'k Composite,
    ktype_id: TypeId,
    ktype: &'k Composite,
    /// Byte offset of the ops struct in the value.
    data_off: usize,
}

fn kernel_ops<'k>(kernel: &'k CoreTarget, tname: &str) -> Result<KernelOps<'k>, String> {
    let kbtf: &Btf = kernel.btf();
    let vname = format!("bpf_struct_ops_{tname}");
    let find = |name: &str| -> Result<TypeId, String> {
        if let Some(id) = kernel.find(name, Kind::Struct) {
            return Ok(id);
        }
        if kernel.named(name).is_empty() && in_a_module(kernel, name) {
            return Err(format!(
                "struct {name} is in a kernel module's BTF; struct_ops of kernel modules \
                 are not supported yet"
            ));
        }
        Err(format!(
            "the kernel BTF has no struct {name}: this kernel cannot take struct {tname} \
             from BPF (too old, or the subsystem is not built in)"
        ))
    };
    let vtype_id = find(&vname)?;
    let ktype_id = find(tname)?;
    let Ok(Type::Struct(vtype)) = kbtf.type_by_id(vtype_id) else {
        return Err(format!("kernel type {vname} is not a struct"));
    };
    let Ok(Type::Struct(ktype)) = kbtf.type_by_id(ktype_id) else {
        return Err(format!("kernel type {tname} is not a struct"));
    };
    let data_member = vtype
        .members
        .iter()
        .find(|m| m.ty == ktype_id)
        .ok_or_else(|| {
            format!("the kernel's struct {vname} has no member of type struct {tname}")
        })?;
    Ok(KernelOps {
        vtype_id,
        vtype,
        ktype_id,
        ktype,
        data_off: (data_member.bit_offset / 8) as usize,
    })
}

/// Checks that the kernel member of (resolved) type `kty`, which the object
/// sets to `program`, is a function pointer.
fn check_func_ptr(kbtf: &Btf, kty: TypeId, program: &str) -> Result<(), String> {
    let Ok(Type::Ptr(p)) = kbtf.type_by_id(kty) else {
        return Err("not a pointer in the kernel BTF".into());
    };
    let target = kbtf
        .skip_mods_and_typedefs(p.target)
        .and_then(|t| kbtf.kind_of(t))
        .map_err(|e| e.to_string())?;
    if target != Kind::FuncProto {
        return Err(format!(
            "set to program {program}, but the kernel's member is not a function pointer"
        ));
    }
    Ok(())
}

/// Whether a kernel module's BTF has a struct named `name`.
fn in_a_module(kernel: &CoreTarget, name: &str) -> bool {
    kernel.module_with(name, Kind::Struct).is_some()
}

/// Which struct_ops programs load: those a created variable points at
/// (whatever their autoload says, as libbpf); those that only variables
/// left uncreated point at do not. A struct_ops program no variable points
/// at cannot load: an error while its autoload is on.
pub(crate) fn adjust_autoload(
    spec: &ObjectSpec,
    plans: &Plans,
    autoload: &mut [bool],
    notes: &mut Vec<String>,
) -> Result<(), LoadError> {
    for (p, load) in spec.programs.iter().zip(autoload.iter_mut()) {
        if p.prog_type() != ProgType::STRUCT_OPS {
            continue;
        }
        if plans.bindings.contains_key(&p.name) {
            *load = true;
            continue;
        }
        let referenced = spec
            .struct_ops
            .iter()
            .any(|o| o.programs.iter().any(|s| s.program == p.name));
        if referenced {
            if *load {
                notes.push(format!(
                    "program {}: not loaded (no created struct_ops map uses it)",
                    p.name
                ));
            }
            *load = false;
        } else if *load {
            return Err(LoadError::Link {
                object: spec.name.clone(),
                program: p.name.clone(),
                message: format!(
                    "section `{}`: a struct_ops program loads only as a member of a \
                     `.struct_ops` / `.struct_ops.link` variable, and no variable of this \
                     object points at it; set a variable's function pointer to it or turn \
                     its autoload off",
                    p.section
                ),
            });
        }
    }
    Ok(())
}

/// Creates the BPF_MAP_TYPE_STRUCT_OPS map of a plan.
pub(crate) fn create_map(
    object: &str,
    plan: &Plan,
    btf_fd: Option<BorrowedFd<'_>>,
) -> Result<Map, LoadError> {
    let ops = &plan.ops;
    // The kernel finds the object's BTF through btf_fd even though the
    // value type is vmlinux's (6.1's map_create insists on it).
    let btf_fd = btf_fd.ok_or_else(|| {
        err(
            object,
            ops,
            "the kernel did not take the object's BTF, which struct_ops maps need (see the notes)"
                .into(),
        )
    })?;
    let create = sys::MapCreate {
        name: &ops.name,
        map_type: MapType::STRUCT_OPS.0,
        key_size: 4,
        value_size: plan.value.len() as u32,
        max_entries: 1,
        map_flags: if ops.link { BPF_F_LINK } else { 0 },
        btf_fd: Some(btf_fd),
        btf_vmlinux_value_type_id: plan.value_type_id,
        ..Default::default()
    };
    let fd = sys::map_create(&create).map_err(|e| {
        let hint = if ops.link && e.errno() == Some(libc::EINVAL) {
            " (struct_ops links, map flag BPF_F_LINK, need Linux 6.4 or later; a \
             `.struct_ops` variable registers without one)"
        } else {
            ""
        };
        err(object, ops, format!("creating the map: {e}{hint}"))
    })?;
    Map::from_fd(&ops.name, fd).map_err(|source| LoadError::Map {
        object: object.to_owned(),
        source,
    })
}

/// The created map with its programs' fds written into the value.
pub(crate) fn finish(
    object: &str,
    plan: Plan,
    map: Map,
    programs: &[Program],
) -> Result<StructOpsMap, LoadError> {
    let Plan {
        ops,
        mut value,
        slots,
        ..
    } = plan;
    let mut fds = Vec::with_capacity(slots.len());
    for (offset, program) in slots {
        let prog = programs
            .iter()
            .find(|p| p.name() == program)
            .and_then(|p| p.fd().ok())
            .ok_or_else(|| err(object, &ops, format!("program {program} was not loaded")))?;
        let fd = prog.as_fd().try_clone_to_owned().map_err(|e| {
            err(
                object,
                &ops,
                format!("duplicating the fd of program {program}: {e}"),
            )
        })?;
        // The kernel reads the prog fd from the function pointer's slot
        // (bpf_struct_ops_map_update_elem: `*(unsigned long *)(udata + moff)`).
        let raw = std::os::fd::AsRawFd::as_raw_fd(&fd) as u64;
        value
            .get_mut(offset..offset + 8)
            .ok_or_else(|| {
                err(
                    object,
                    &ops,
                    format!("slot of program {program} out of range"),
                )
            })?
            .copy_from_slice(&raw.to_ne_bytes());
        fds.push(fd);
    }
    Ok(StructOpsMap::new(
        object.to_owned(),
        ops.type_name.clone(),
        ops.link,
        map,
        value,
        fds,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::btf::testing::{BtfBuilder, UNSIGNED};
    use crate::obj::StructOpsSlot;

    /// The object's `struct demo_ops { u32 flags; void (*init)(void);
    /// char name[4]; u32 extra; }` (24 bytes) with `value`.
    fn local() -> Btf {
        let mut b = BtfBuilder::new();
        let u32_ = b.int("unsigned int", 4, UNSIGNED);
        let char_ = b.int("char", 1, UNSIGNED);
        let proto = b.func_proto(TypeId::VOID, &[]);
        let fptr = b.ptr(proto);
        let name = b.array(char_, u32_, 4);
        b.struct_(
            "demo_ops",
            24,
            &[
                ("flags", u32_, 0),
                ("init", fptr, 64),
                ("name", name, 128),
                ("extra", u32_, 160),
            ],
        );
        Btf::parse(&b.bytes()).unwrap()
    }

    /// The kernel's: members in another order, no `extra`, and
    /// `struct bpf_struct_ops_demo_ops { u64 common; struct demo_ops data; }`.
    fn kernel(name_len: u32) -> CoreTarget {
        let mut b = BtfBuilder::new();
        let u32_ = b.int("unsigned int", 4, UNSIGNED);
        let u64_ = b.int("long long unsigned int", 8, UNSIGNED);
        let char_ = b.int("char", 1, UNSIGNED);
        let proto = b.func_proto(TypeId::VOID, &[]);
        let fptr = b.ptr(proto);
        let name = b.array(char_, u32_, name_len);
        let ops = b.struct_(
            "demo_ops",
            24,
            &[("name", name, 0), ("init", fptr, 64), ("flags", u32_, 128)],
        );
        b.struct_(
            "bpf_struct_ops_demo_ops",
            32,
            &[("common", u64_, 0), ("data", ops, 64)],
        );
        CoreTarget::new(Arc::new(Btf::parse(&b.bytes()).unwrap()))
    }

    fn spec(btf: &Btf, extra: u32) -> (StructOpsSpec, Vec<u8>) {
        let id = btf.find_by_name("demo_ops", Kind::Struct).unwrap();
        let mut data = vec![0u8; 24];
        data[0..4].copy_from_slice(&7u32.to_ne_bytes());
        data[16..19].copy_from_slice(b"cc\0");
        data[20..24].copy_from_slice(&extra.to_ne_bytes());
        let ops = StructOpsSpec {
            name: "demo".into(),
            section: ".struct_ops".into(),
            link: false,
            type_name: "demo_ops".into(),
            btf_type: id,
            data: data.clone(),
            programs: vec![StructOpsSlot {
                member: "init".into(),
                offset: 8,
                program: "demo_init".into(),
            }],
        };
        (ops, data)
    }

    #[test]
    fn members_are_copied_by_name_into_the_kernel_layout() {
        let local = local();
        let (ops, data) = spec(&local, 0);
        let one = plan_one(&local, &kernel(4), &ops, &data).unwrap();
        let mut want = vec![0u8; 32];
        want[8..11].copy_from_slice(b"cc\0"); // name at data + 0
        want[24..28].copy_from_slice(&7u32.to_ne_bytes()); // flags at data + 16
        assert_eq!(one.plan.value, want);
        // init: data + 8, member 1 of the kernel's struct.
        assert_eq!(one.plan.slots, vec![(16, "demo_init".to_owned())]);
        assert_eq!(one.bound.len(), 1);
        assert_eq!(one.bound[0].0.member_index, 1);
        assert!(one.skipped.is_empty());
    }

    #[test]
    fn a_set_member_the_kernel_lacks_is_an_error_naming_it() {
        let local = local();
        let (ops, data) = spec(&local, 3);
        let err = plan_one(&local, &kernel(4), &ops, &data).unwrap_err();
        assert_eq!(
            err,
            "member extra: set (non-zero) in the object, but the kernel's struct demo_ops \
             has no such member"
        );
    }

    #[test]
    fn a_member_of_another_size_is_an_error_naming_it() {
        let local = local();
        let (ops, data) = spec(&local, 0);
        let err = plan_one(&local, &kernel(8), &ops, &data).unwrap_err();
        assert_eq!(err, "member name: 4 bytes in the object, 8 in the kernel");
    }

    #[test]
    fn a_kernel_without_the_value_type_is_named() {
        let local = local();
        let (mut ops, data) = spec(&local, 0);
        ops.type_name = "other_ops".into();
        let err = plan_one(&local, &kernel(4), &ops, &data).unwrap_err();
        assert!(
            err.starts_with("the kernel BTF has no struct bpf_struct_ops_other_ops"),
            "{err}"
        );
    }
}

//! `SEC(".struct_ops")` and `SEC(".struct_ops.link")` variables: instances
//! of a kernel operations struct (`tcp_congestion_ops`, `sched_ext_ops`...)
//! whose function pointers name BPF programs. The kernel takes each as a
//! BPF_MAP_TYPE_STRUCT_OPS map.
//!
//! In: the ELF sections, their `.rel` relocations and the object's BTF
//! (DATASEC offsets already fixed). Out: one [`StructOpsSpec`] per variable.

use object::SymbolKind;

use super::elf::{Elf, Section, R_BPF_64_ABS64};
use super::error::ObjError;
use crate::btf::{Btf, Type, TypeId};

/// One struct_ops variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructOpsSpec {
    /// The variable's name, which is also the map's name.
    pub name: String,
    /// `.struct_ops` or `.struct_ops.link`.
    pub section: String,
    /// `.struct_ops.link`: registered through a BPF link (map flag
    /// BPF_F_LINK) rather than by updating the map.
    pub link: bool,
    /// The C struct, e.g. `tcp_congestion_ops`.
    pub type_name: String,
    /// The struct in the object's BTF.
    pub btf_type: TypeId,
    /// The variable's initial bytes (function pointers are zero here).
    pub data: Vec<u8>,
    /// Function-pointer members set to programs, in member order.
    pub programs: Vec<StructOpsSlot>,
}

/// A function-pointer member of a struct_ops variable and its program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructOpsSlot {
    pub member: String,
    /// Byte offset of the member in the struct.
    pub offset: u32,
    pub program: String,
}

/// Every struct_ops variable of the object.
pub(crate) fn read_struct_ops(
    elf: &Elf<'_>,
    btf: Option<&Btf>,
) -> Result<Vec<StructOpsSpec>, ObjError> {
    let mut out = Vec::new();
    for sec in elf
        .sections
        .iter()
        .filter(|s| s.name == ".struct_ops" || s.name.starts_with(".struct_ops."))
    {
        let name = sec.name.as_str();
        let btf = btf.ok_or_else(|| elf.cx.no_btf(format!("section {name}")))?;
        let datasec = btf
            .iter()
            .find_map(|(_, t)| match t {
                Type::Datasec(d) if btf.name(d.name) == name => Some(d),
                _ => None,
            })
            .ok_or_else(|| elf.cx.section(name, format!("no DATASEC {name} in BTF")))?;
        let mut vars = Vec::new();
        for v in datasec.vars.iter() {
            let Ok(Type::Var(var)) = btf.type_by_id(v.ty) else {
                return Err(elf
                    .cx
                    .section(name, format!("DATASEC entry {} is not a VAR", v.ty)));
            };
            let var_name = btf.name(var.name).to_owned();
            let err = |m: String| elf.cx.map(name, &var_name, m);
            let ty = btf
                .skip_mods_and_typedefs(var.ty)
                .map_err(|e| err(e.to_string()))?;
            let Ok(Type::Struct(c)) = btf.type_by_id(ty) else {
                return Err(err("a struct_ops variable must be a struct".into()));
            };
            let start = v.offset as usize;
            let data = sec
                .data
                .get(start..start + c.byte_size as usize)
                .ok_or_else(|| {
                    err(format!(
                        "{} bytes at offset {start} are past the section's end",
                        c.byte_size
                    ))
                })?
                .to_vec();
            vars.push(StructOpsSpec {
                name: var_name,
                section: name.to_owned(),
                link: name == ".struct_ops.link",
                type_name: btf.name(c.name).to_owned(),
                btf_type: ty,
                data,
                programs: Vec::new(),
            });
        }
        bind_programs(elf, btf, sec, &mut vars)?;
        out.extend(vars);
    }
    Ok(out)
}

/// Fills `programs` of each variable from the section's relocations: an
/// R_BPF_64_ABS64 at a function-pointer member names the program.
fn bind_programs(
    elf: &Elf<'_>,
    btf: &Btf,
    sec: &Section<'_>,
    vars: &mut [StructOpsSpec],
) -> Result<(), ObjError> {
    let name = sec.name.as_str();
    let symbols = elf.symbols_in(sec.index);
    for (i, r) in elf.relocations(sec)?.iter().enumerate() {
        let rerr = |m: String| elf.cx.reloc(name, i, m);
        if r.r_type != R_BPF_64_ABS64 {
            return Err(rerr(format!("type {} (want R_BPF_64_ABS64)", r.r_type)));
        }
        let owner = symbols
            .iter()
            .find(|s| s.contains(r.offset))
            .ok_or_else(|| rerr(format!("offset {:#x} is inside no variable", r.offset)))?;
        let rel = (r.offset - owner.value) as u32;
        let var = vars
            .iter_mut()
            .find(|v| v.name == owner.name)
            .ok_or_else(|| rerr(format!("no struct_ops variable {}", owner.name)))?;
        let Ok(Type::Struct(c)) = btf.type_by_id(var.btf_type) else {
            return Err(rerr(format!("{}: not a struct", var.name)));
        };
        let member = c
            .members
            .iter()
            .find(|m| m.bit_offset == rel * 8 && m.bitfield_size == 0)
            .ok_or_else(|| {
                rerr(format!(
                    "{}: relocation at byte {rel} is not at a member",
                    var.name
                ))
            })?;
        let target = &elf.symbols[r.symbol];
        let in_code = target
            .section
            .and_then(|s| elf.section(s))
            .is_some_and(|s| s.executable);
        if !in_code || target.kind != SymbolKind::Text {
            return Err(rerr(format!(
                "{}.{} refers to `{}`, which is not a program",
                var.name,
                btf.name(member.name),
                target.name
            )));
        }
        var.programs.push(StructOpsSlot {
            member: btf.name(member.name).to_owned(),
            offset: rel,
            program: target.name.clone(),
        });
    }
    for v in vars.iter_mut() {
        v.programs.sort_by_key(|s| s.offset);
    }
    Ok(())
}

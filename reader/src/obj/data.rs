//! Global data (`.data`, `.rodata`, `.bss` and their `.name` variants) and
//! externs (`.kconfig`, `.ksyms`, and undefined symbols that are neither).
//!
//! In: the ELF tables and the object's BTF. Out: `DataSection`s with every
//! variable's offset and size, and `Extern`s. clang leaves the DATASEC sizes
//! and variable offsets zero in `.o` files (only the linker would know them),
//! so they are taken from the section headers and symbols and written back
//! into the BTF, as the kernel needs them when the BTF is loaded.

use std::collections::HashSet;

use object::SymbolKind;

use super::elf::{Elf, Section, R_BPF_64_32};
use super::error::ObjError;
use super::{DataKind, DataSection, Extern, ExternKind, GlobalVar};
use crate::btf::{Btf, FuncLinkage, Records, Type, TypeId, VarLinkage, VarSecinfo};

pub(crate) const KCONFIG: &str = ".kconfig";
pub(crate) const KSYMS: &str = ".ksyms";

/// The kind of global data an ELF section holds, by the names libbpf uses.
pub(crate) fn data_kind(name: &str) -> Option<DataKind> {
    let is =
        |base: &str| name == base || name.strip_prefix(base).is_some_and(|r| r.starts_with('.'));
    if is(".rodata") {
        Some(DataKind::Rodata)
    } else if is(".data") {
        Some(DataKind::Data)
    } else if is(".bss") {
        Some(DataKind::Bss)
    } else {
        None
    }
}

pub(crate) fn read_data(
    elf: &Elf<'_>,
    mut btf: Option<&mut Btf>,
) -> Result<(Vec<DataSection>, Vec<Extern>), ObjError> {
    let mut out = Vec::new();
    for sec in &elf.sections {
        let Some(kind) = data_kind(&sec.name) else {
            continue;
        };
        if sec.executable {
            continue;
        }
        out.push(read_section(elf, btf.as_deref_mut(), sec, kind)?);
    }
    if let Some(b) = btf.as_deref_mut() {
        fix_other_datasecs(elf, b)?;
    }
    let externs = read_externs(elf, btf.as_deref())?;
    Ok((out, externs))
}

/// The DATASECs of the other sections that have bytes in the file (`.maps`,
/// legacy `maps`, `license`, `version`): clang leaves their sizes and
/// offsets zero as well, and the kernel refuses a DATASEC of size 0
/// (`btf_datasec_check_meta()` in kernel/bpf/btf.c), so they are fixed the
/// same way, as libbpf's `btf_fixup_datasec()` does. `.kconfig` and `.ksyms`
/// have no ELF section: their layout is the loader's to choose.
fn fix_other_datasecs(elf: &Elf<'_>, btf: &mut Btf) -> Result<(), ObjError> {
    let todo: Vec<(TypeId, String, Records<VarSecinfo>)> = btf
        .iter()
        .filter_map(|(id, t)| match t {
            Type::Datasec(d) if data_kind(btf.name(d.name)).is_none() => {
                Some((id, btf.name(d.name).to_owned(), d.vars.clone()))
            }
            _ => None,
        })
        .collect();
    for (id, name, entries) in todo {
        let Some(sec) = elf.section_by_name(&name) else {
            continue;
        };
        let err = |m: String| elf.cx.section(&sec.name, m);
        let size =
            u32::try_from(sec.size).map_err(|_| err(format!("{} bytes is too large", sec.size)))?;
        let symbols = elf.symbols_in(sec.index);
        let mut vars = Vec::with_capacity(entries.len());
        for v in entries.iter() {
            let Ok(Type::Var(var)) = btf.type_by_id(v.ty) else {
                return Err(err(format!("DATASEC entry {} is not a VAR", v.ty)));
            };
            let var_name = btf.name(var.name);
            let sym = symbols
                .iter()
                .find(|s| s.name == var_name)
                .ok_or_else(|| err(format!("variable {var_name}: no ELF symbol")))?;
            let byte_size = if v.byte_size != 0 {
                v.byte_size
            } else {
                btf.size_of(var.ty)
                    .map_err(|e| err(format!("variable {var_name}: {e}")))?
            };
            let offset = u32::try_from(sym.value).unwrap_or(u32::MAX);
            if u64::from(offset) + u64::from(byte_size) > u64::from(size) {
                return Err(err(format!(
                    "variable {var_name} at {offset}+{byte_size} runs past the section ({size} bytes)"
                )));
            }
            vars.push(VarSecinfo {
                ty: v.ty,
                offset,
                byte_size,
            });
        }
        vars.sort_by_key(|v| v.offset);
        btf.fix_datasec(id, size, vars);
    }
    Ok(())
}

fn read_section(
    elf: &Elf<'_>,
    btf: Option<&mut Btf>,
    sec: &Section<'_>,
    kind: DataKind,
) -> Result<DataSection, ObjError> {
    // The kernel caps a map value well below this; refusing early also keeps
    // a hostile `.bss` size from allocating gigabytes.
    const MAX_DATA: u64 = 1 << 28;
    if sec.size > MAX_DATA {
        return Err(elf.cx.section(
            &sec.name,
            format!(
                "{} bytes is too large for a global data map (limit {MAX_DATA})",
                sec.size
            ),
        ));
    }
    let size = sec.size as u32;
    let bytes = if sec.nobits {
        vec![0; size as usize]
    } else {
        sec.data.to_vec()
    };
    let symbols = elf.symbols_in(sec.index);
    let datasec = btf.as_deref().and_then(|b| {
        b.iter().find_map(|(id, t)| match t {
            Type::Datasec(d) if b.name(d.name) == sec.name => Some((id, d.clone())),
            _ => None,
        })
    });
    let mut vars = Vec::new();
    match (&datasec, btf.as_deref()) {
        (Some((_, d)), Some(b)) => {
            for v in d.vars.iter() {
                let Ok(Type::Var(var)) = b.type_by_id(v.ty) else {
                    return Err(elf
                        .cx
                        .section(&sec.name, format!("DATASEC entry {} is not a VAR", v.ty)));
                };
                let name = b.name(var.name);
                let sym = symbols.iter().find(|s| s.name == name).ok_or_else(|| {
                    elf.cx
                        .section(&sec.name, format!("variable {name}: no ELF symbol"))
                })?;
                let var_size = if v.byte_size != 0 {
                    v.byte_size
                } else {
                    b.size_of(var.ty)
                        .map_err(|e| elf.cx.section(&sec.name, format!("variable {name}: {e}")))?
                };
                let offset = u32::try_from(sym.value).unwrap_or(u32::MAX);
                if u64::from(offset) + u64::from(var_size) > u64::from(size) {
                    return Err(elf.cx.section(
                        &sec.name,
                        format!("variable {name} at {offset}+{var_size} runs past the section ({size} bytes)"),
                    ));
                }
                vars.push((
                    GlobalVar {
                        name: name.to_owned(),
                        btf_type: Some(var.ty),
                        offset,
                        size: var_size,
                        global: var.linkage != VarLinkage::Static,
                    },
                    v.ty,
                ));
            }
        }
        _ => {
            for sym in symbols.iter().filter(|s| s.kind == SymbolKind::Data) {
                vars.push((
                    GlobalVar {
                        name: sym.name.clone(),
                        btf_type: None,
                        offset: u32::try_from(sym.value).unwrap_or(u32::MAX),
                        size: u32::try_from(sym.size).unwrap_or(u32::MAX),
                        global: sym.global,
                    },
                    TypeId::VOID,
                ));
            }
        }
    }
    vars.sort_by(|a, b| {
        a.0.offset
            .cmp(&b.0.offset)
            .then_with(|| a.0.name.cmp(&b.0.name))
    });
    if let (Some((id, _)), Some(b)) = (datasec.as_ref(), btf) {
        let fixed: Vec<VarSecinfo> = vars
            .iter()
            .map(|(v, var_id)| VarSecinfo {
                ty: *var_id,
                offset: v.offset,
                byte_size: v.size,
            })
            .collect();
        b.fix_datasec(*id, size, fixed);
    }
    Ok(DataSection {
        name: sec.name.clone(),
        kind,
        size,
        bytes,
        btf_type: datasec.map(|(id, _)| id),
        vars: vars.into_iter().map(|(v, _)| v).collect(),
    })
}

/// Every undefined symbol is an extern. Those in the `.kconfig` / `.ksyms`
/// DATASECs are the loader's to resolve; the others (a function declared but
/// not defined, an `extern` variable without `__kconfig` / `__ksym`, or any
/// extern of an object without BTF) are read as [`ExternKind::Unresolved`],
/// so that the object can still be inspected, and refused by the loader.
fn read_externs(elf: &Elf<'_>, btf: Option<&Btf>) -> Result<Vec<Extern>, ObjError> {
    let undefined: Vec<_> = elf
        .symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| s.undefined && !s.name.is_empty())
        .collect();
    if undefined.is_empty() {
        return Ok(Vec::new());
    }
    // Which extern section (and BTF type) declares each name.
    let mut declared: Vec<(String, ExternKind, TypeId, bool)> = Vec::new();
    // clang describes an unresolved extern by a FUNC or VAR of linkage
    // extern that no DATASEC lists.
    let mut loose: Vec<(String, TypeId, bool)> = Vec::new();
    if let Some(btf) = btf {
        for (id, t) in btf.iter() {
            match t {
                Type::Datasec(d) => {
                    let kind = match btf.name(d.name) {
                        KCONFIG => ExternKind::Kconfig,
                        KSYMS => ExternKind::Ksym,
                        _ => continue,
                    };
                    for v in d.vars.iter() {
                        let entry = btf.type_by_id(v.ty).map_err(|e| elf.cx.btf(".BTF", e))?;
                        match entry {
                            Type::Var(var) => {
                                declared.push((btf.name(var.name).to_owned(), kind, var.ty, false))
                            }
                            Type::Func(f) => {
                                declared.push((btf.name(f.name).to_owned(), kind, v.ty, true))
                            }
                            _ => {}
                        }
                    }
                }
                Type::Func(f) if f.linkage == FuncLinkage::Extern => {
                    // The FUNC itself, as for a kfunc.
                    loose.push((btf.name(f.name).to_owned(), id, true));
                }
                Type::Var(v) if v.linkage == VarLinkage::Extern => {
                    loose.push((btf.name(v.name).to_owned(), v.ty, false));
                }
                _ => {}
            }
        }
    }
    // Read only if some extern has no BTF at all.
    let mut called: Option<HashSet<usize>> = None;
    let mut externs = Vec::new();
    for (index, sym) in undefined {
        let (kind, btf_type, is_func) =
            if let Some((_, kind, ty, is_func)) = declared.iter().find(|d| d.0 == sym.name) {
                (*kind, Some(*ty), *is_func)
            } else if let Some((_, ty, is_func)) = loose.iter().find(|l| l.0 == sym.name) {
                (ExternKind::Unresolved, Some(*ty), *is_func)
            } else {
                if called.is_none() {
                    called = Some(called_symbols(elf)?);
                }
                let is_func = called.as_ref().is_some_and(|c| c.contains(&index));
                (ExternKind::Unresolved, None, is_func)
            };
        externs.push(Extern {
            name: sym.name.clone(),
            kind,
            btf_type,
            is_func,
            weak: sym.weak,
        });
    }
    externs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(externs)
}

/// Indexes of the symbols some call instruction (R_BPF_64_32) refers to:
/// how an extern is known to be a function when no BTF says so.
fn called_symbols(elf: &Elf<'_>) -> Result<HashSet<usize>, ObjError> {
    let mut out = HashSet::new();
    for sec in elf.sections.iter().filter(|s| s.executable) {
        for r in elf.relocations(sec)? {
            if r.r_type == R_BPF_64_32 {
                out.insert(r.symbol);
            }
        }
    }
    Ok(out)
}

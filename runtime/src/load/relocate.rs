//! Relocating one program: append the subprograms it calls (bpf-to-bpf calls
//! and callback addresses), fix call offsets, and bind map fds and global
//! data addresses into `ld_imm64` instructions.
//!
//! In: the object spec, the program, and the fds of created maps. Out: the
//! final instructions with their func/line info, ready for BPF_PROG_LOAD.

use std::collections::HashMap;

use crate::btf::ext::{FuncInfo, LineInfo};
use crate::btf::Btf;
use crate::obj::{Insn, ObjectSpec, ProgramSpec, RelocTarget, INSN_SIZE};

use super::co_re::{self, CoreTarget, Resolution};
use super::externs::Externs;

/// `src_reg` values of `ld_imm64` and `call` (include/uapi/linux/bpf.h).
const BPF_PSEUDO_MAP_FD: u8 = 1;
const BPF_PSEUDO_MAP_VALUE: u8 = 2;
const BPF_PSEUDO_CALL: u8 = 1;
const BPF_PSEUDO_FUNC: u8 = 4;

/// A program ready to load.
#[derive(Debug, Default)]
pub(crate) struct Relocated {
    pub(crate) insns: Vec<Insn>,
    pub(crate) func_info: Vec<FuncInfo>,
    pub(crate) line_info: Vec<LineInfo>,
    /// CO-RE relocations applied, by instruction of `insns`.
    pub(crate) core: Vec<CoreApplied>,
}

/// One CO-RE relocation as applied to a linked program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreApplied {
    /// Instruction index in the loaded program.
    pub insn: usize,
    /// The function (program or subprogram) the relocation belongs to.
    pub function: String,
    pub resolution: Resolution,
}

/// Where relocations point, by name: map fds and data-section map fds.
pub(crate) struct Fds<'a> {
    pub(crate) maps: &'a HashMap<String, i32>,
    pub(crate) data: &'a HashMap<String, i32>,
    pub(crate) externs: &'a Externs,
    /// The object's BTF and the kernel's, for CO-RE.
    pub(crate) local_btf: Option<&'a Btf>,
    pub(crate) kernel: Option<&'a CoreTarget>,
}

pub(crate) fn relocate(
    spec: &ObjectSpec,
    prog: &ProgramSpec,
    fds: &Fds<'_>,
) -> Result<Relocated, String> {
    let funcs: Vec<&ProgramSpec> = spec.programs.iter().chain(&spec.subprograms).collect();
    let mut out = Relocated::default();
    // (function, its first instruction in the output)
    let mut placed: Vec<(&ProgramSpec, usize)> = Vec::new();
    let mut queue: Vec<&ProgramSpec> = vec![prog];
    while let Some(f) = queue.pop() {
        if placed.iter().any(|(p, _)| std::ptr::eq(*p, f)) {
            continue;
        }
        let start = out.insns.len();
        placed.push((f, start));
        out.insns.extend_from_slice(&f.insns);
        out.func_info.extend(f.func_info.iter().map(|r| FuncInfo {
            insn_off: r.insn_off + start as u32,
            ..*r
        }));
        out.line_info.extend(f.line_info.iter().map(|r| LineInfo {
            insn_off: r.insn_off + start as u32,
            ..*r
        }));
        // Callees of this function, queued so they are appended after it.
        for (i, insn) in f.insns.iter().enumerate() {
            if let Some(target) = callee(f, i, insn)? {
                let callee = find(&funcs, &target.0, target.1).ok_or_else(|| {
                    format!(
                        "instruction {i} of {} calls {} instruction {}, which starts no function",
                        f.name, target.0, target.1
                    )
                })?;
                queue.push(callee);
            }
        }
    }
    // Second pass: every function's place is known; patch calls and loads.
    for &(f, start) in &placed {
        for (i, insn) in f.insns.iter().enumerate() {
            if let Some(target) = callee(f, i, insn)? {
                let callee = find(&funcs, &target.0, target.1).ok_or("callee vanished")?;
                let callee_start = placed
                    .iter()
                    .find(|(p, _)| std::ptr::eq(*p, callee))
                    .map(|(_, s)| *s)
                    .ok_or("callee not placed")?;
                let at = start + i;
                out.insns[at].imm = (callee_start as i64 - (at as i64 + 1)) as i32;
                if insn.is_ld_imm64() {
                    out.insns[at].src_reg = BPF_PSEUDO_FUNC;
                }
            }
        }
        for (n, r) in f.core_relos.iter().enumerate() {
            let at = start + r.insn_off as usize;
            let local = fds.local_btf.ok_or("CO-RE relocations without BTF")?;
            let kernel = fds.kernel.ok_or("CO-RE relocations without a kernel BTF")?;
            let fail = |e: co_re::CoreError| {
                format!(
                    "{}: CO-RE relocation #{n} at instruction {}: {e}",
                    f.name, r.insn_off
                )
            };
            let res = co_re::resolve(local, r, kernel).map_err(fail)?;
            co_re::patch(&mut out.insns, at, &res)
                .map_err(|e| format!("{} ({}): {e}", f.name, res.description))?;
            out.core.push(CoreApplied {
                insn: at,
                function: f.name.clone(),
                resolution: res,
            });
        }
        for r in &f.relocations {
            let at = start + r.insn;
            match &r.target {
                RelocTarget::Map(name) => {
                    let fd = fds.maps.get(name).ok_or_else(|| {
                        format!(
                            "uses map {name}, which is not created (its autocreate is \
                                 off): turn this program's autoload off too, or create the map"
                        )
                    })?;
                    out.insns[at].src_reg = BPF_PSEUDO_MAP_FD;
                    out.insns[at].imm = *fd;
                }
                RelocTarget::Data { section, offset } => {
                    let fd = fds
                        .data
                        .get(section)
                        .ok_or_else(|| format!("global data {section} has no map"))?;
                    let addend = out.insns[at].imm as i64 + i64::from(*offset);
                    let next = out
                        .insns
                        .get_mut(at + 1)
                        .ok_or("ld_imm64 without its second half")?;
                    next.imm = addend as i32;
                    out.insns[at].src_reg = BPF_PSEUDO_MAP_VALUE;
                    out.insns[at].imm = *fd;
                }
                RelocTarget::Function { .. } => {} // handled above
                RelocTarget::Extern(name) => fds.externs.apply(&mut out.insns, at, name)?,
            }
        }
    }
    Ok(out)
}

/// The (section, instruction index in that section) a call or callback load
/// at `i` of `f` targets, or `None` when the instruction is neither.
fn callee(f: &ProgramSpec, i: usize, insn: &Insn) -> Result<Option<(String, usize)>, String> {
    let is_call = insn.is_call() && insn.src_reg == BPF_PSEUDO_CALL;
    // clang writes a callback's address (bpf_loop, bpf_for_each_map_elem)
    // as a plain ld_imm64 relocated against code; the kernel wants
    // BPF_PSEUDO_FUNC, set when the call offsets are patched.
    let is_func_addr = insn.is_ld_imm64()
        && (insn.src_reg == BPF_PSEUDO_FUNC
            || (insn.src_reg == 0
                && f.relocations
                    .iter()
                    .any(|r| r.insn == i && matches!(r.target, RelocTarget::Function { .. }))));
    if !is_call && !is_func_addr {
        return Ok(None);
    }
    let reloc = f.relocations.iter().find(|r| r.insn == i);
    let (section, index) = match reloc.map(|r| &r.target) {
        // Relative to a symbol: a function's own symbol (imm -1) or the
        // section symbol (imm = target - 1). Callback addresses count bytes.
        Some(RelocTarget::Function { section, offset }) => {
            let base = (*offset / INSN_SIZE as u64) as i64;
            let rel = if is_call {
                i64::from(insn.imm) + 1
            } else {
                i64::from(insn.imm) / INSN_SIZE as i64
            };
            (section.clone(), base + rel)
        }
        // A call to an extern (kfunc): not a bpf-to-bpf call.
        Some(RelocTarget::Extern(_)) => return Ok(None),
        Some(_) => {
            return Err(format!(
                "instruction {i} of {} is a call with a non-function relocation",
                f.name
            ))
        }
        // No relocation: a call within the same section, relative to the next instruction.
        None => {
            let here = (f.section_insn_offset + i) as i64;
            (f.section.clone(), here + i64::from(insn.imm) + 1)
        }
    };
    let index = usize::try_from(index)
        .map_err(|_| format!("instruction {i} of {} calls before its section", f.name))?;
    Ok(Some((section, index)))
}

fn find<'a>(funcs: &[&'a ProgramSpec], section: &str, index: usize) -> Option<&'a ProgramSpec> {
    funcs
        .iter()
        .copied()
        .find(|p| p.section == section && p.section_insn_offset == index)
}

//! Programs: every function symbol in an executable section, its
//! instructions, the relocations that land in it and its `.BTF.ext` records.
//!
//! In: the ELF tables, `.BTF.ext`, and the maps, data sections and externs
//! already read (relocation targets must be one of them). Out: programs
//! (functions in program sections) and subprograms (functions in `.text`).

use object::SymbolKind;

use super::data::data_kind;
use super::elf::{Elf, Reloc, Section, R_BPF_64_32, R_BPF_64_64};
use super::error::ObjError;
use super::maps::{BTF_MAPS, LEGACY_MAPS};
use super::section::section_def;
use super::{DataSection, Extern, MapOrigin, MapSpec, ProgramSpec};
use crate::btf::ext::{BtfExt, SectionRecords};

/// Size of one BPF instruction.
pub const INSN_SIZE: usize = 8;
const OP_LD_IMM64: u8 = 0x18;
const OP_CALL: u8 = 0x85;

/// One BPF instruction, decoded from the object's byte order.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Insn {
    pub code: u8,
    pub dst_reg: u8,
    pub src_reg: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    fn decode(b: &[u8], little_endian: bool) -> Insn {
        let (dst_reg, src_reg) = if little_endian {
            (b[1] & 0xf, b[1] >> 4)
        } else {
            (b[1] >> 4, b[1] & 0xf)
        };
        let off = [b[2], b[3]];
        let imm = [b[4], b[5], b[6], b[7]];
        Insn {
            code: b[0],
            dst_reg,
            src_reg,
            off: if little_endian {
                i16::from_le_bytes(off)
            } else {
                i16::from_be_bytes(off)
            },
            imm: if little_endian {
                i32::from_le_bytes(imm)
            } else {
                i32::from_be_bytes(imm)
            },
        }
    }

    /// The instruction in this machine's byte order, as bpf(2) takes it.
    pub fn to_native_bytes(self) -> [u8; 8] {
        let regs = if cfg!(target_endian = "little") {
            self.dst_reg & 0xf | self.src_reg << 4
        } else {
            self.dst_reg << 4 | self.src_reg & 0xf
        };
        let off = self.off.to_ne_bytes();
        let imm = self.imm.to_ne_bytes();
        [
            self.code, regs, off[0], off[1], imm[0], imm[1], imm[2], imm[3],
        ]
    }

    /// Whether this is the first half of a 64-bit immediate load.
    pub fn is_ld_imm64(&self) -> bool {
        self.code == OP_LD_IMM64
    }

    /// Whether this is a call (helper, kfunc or bpf-to-bpf).
    pub fn is_call(&self) -> bool {
        self.code == OP_CALL
    }
}

/// A relocation inside a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// Instruction index from the program's first instruction.
    pub insn: usize,
    /// Name of the symbol the relocation refers to.
    pub symbol: String,
    pub target: RelocTarget,
}

/// What a relocated instruction refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelocTarget {
    /// ld_imm64 of a map's fd, by map name.
    Map(String),
    /// ld_imm64 of the address of global data: section and the symbol's
    /// offset in it (the instruction's immediate adds to it).
    Data { section: String, offset: u32 },
    /// A `.kconfig` / `.ksyms` extern, by name.
    Extern(String),
    /// A call to (or the address of) a function: its section and byte
    /// offset; for a section symbol, offset 0 and the instruction's
    /// immediate locates the callee.
    Function { section: String, offset: u64 },
}

type Programs = (Vec<ProgramSpec>, Vec<ProgramSpec>);

pub(crate) fn read_programs(
    elf: &Elf<'_>,
    ext: Option<&BtfExt>,
    maps: &[MapSpec],
    data: &[DataSection],
    externs: &[Extern],
) -> Result<Programs, ObjError> {
    let mut programs = Vec::new();
    let mut subprograms = Vec::new();
    for sec in elf
        .sections
        .iter()
        .filter(|s| s.executable && !s.data.is_empty())
    {
        let funcs = read_section(elf, sec, ext, maps, data, externs)?;
        if sec.name == ".text" {
            subprograms.extend(funcs);
        } else {
            programs.extend(funcs);
        }
    }
    Ok((programs, subprograms))
}

fn read_section(
    elf: &Elf<'_>,
    sec: &Section<'_>,
    ext: Option<&BtfExt>,
    maps: &[MapSpec],
    data: &[DataSection],
    externs: &[Extern],
) -> Result<Vec<ProgramSpec>, ObjError> {
    if !sec.data.len().is_multiple_of(INSN_SIZE) {
        return Err(elf.cx.section(
            &sec.name,
            format!(
                "{} bytes is not a whole number of instructions",
                sec.data.len()
            ),
        ));
    }
    let insns: Vec<Insn> = sec
        .data
        .chunks_exact(INSN_SIZE)
        .map(|c| Insn::decode(c, elf.little_endian))
        .collect();
    let funcs: Vec<_> = elf
        .symbols_in(sec.index)
        .into_iter()
        .filter(|s| s.kind == SymbolKind::Text)
        .collect();
    if funcs.is_empty() {
        return Err(elf
            .cx
            .section(&sec.name, "code without any function symbol"));
    }
    let def = if sec.name == ".text" {
        None
    } else {
        section_def(&sec.name)
    };
    let mut out = Vec::with_capacity(funcs.len());
    for f in &funcs {
        let err = |m: String| {
            elf.cx
                .section(&sec.name, format!("function {}: {m}", f.name))
        };
        if f.value % INSN_SIZE as u64 != 0 || f.size % INSN_SIZE as u64 != 0 || f.size == 0 {
            return Err(err(format!(
                "offset {} / size {} are not whole instructions",
                f.value, f.size
            )));
        }
        let start = (f.value / INSN_SIZE as u64) as usize;
        let len = (f.size / INSN_SIZE as u64) as usize;
        let body = insns.get(start..start.saturating_add(len)).ok_or_else(|| {
            err(format!(
                "instructions {start}..{} run past the section ({} instructions)",
                start + len,
                insns.len()
            ))
        })?;
        out.push(ProgramSpec {
            name: f.name.clone(),
            section: sec.name.clone(),
            def: def.clone(),
            section_insn_offset: start,
            insns: body.to_vec(),
            relocations: Vec::new(),
            func_info: Vec::new(),
            line_info: Vec::new(),
            core_relos: Vec::new(),
            global: f.global,
            hidden: f.hidden,
        });
    }
    for (i, r) in elf.relocations(sec)?.iter().enumerate() {
        let (prog, reloc) = resolve(elf, sec, i, r, &insns, &mut out, maps, data, externs)?;
        out[prog].relocations.push(reloc);
    }
    if let Some(ext) = ext {
        for p in &mut out {
            let range = p.section_insn_offset..p.section_insn_offset + p.insns.len();
            p.func_info = rebase(
                &ext.func_info,
                &sec.name,
                &range,
                |r| r.insn_off,
                |r, o| r.insn_off = o,
            );
            p.line_info = rebase(
                &ext.line_info,
                &sec.name,
                &range,
                |r| r.insn_off,
                |r, o| r.insn_off = o,
            );
            p.core_relos = rebase(
                &ext.core_relos,
                &sec.name,
                &range,
                |r| r.insn_off,
                |r, o| r.insn_off = o,
            );
        }
    }
    Ok(out)
}

/// Records of `section` inside `range` (instructions), with their byte
/// offsets turned into instruction indexes from the range's start.
fn rebase<T: Copy>(
    all: &[SectionRecords<T>],
    section: &str,
    range: &std::ops::Range<usize>,
    get: impl Fn(&T) -> u32,
    set: impl Fn(&mut T, u32),
) -> Vec<T> {
    all.iter()
        .filter(|s| s.section == section)
        .flat_map(|s| s.records.iter())
        .filter_map(|r| {
            let insn = get(r) as usize / INSN_SIZE;
            range.contains(&insn).then(|| {
                let mut r = *r;
                set(&mut r, (insn - range.start) as u32);
                r
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)] // reason: one call site; the tables it checks against are separate on purpose
fn resolve(
    elf: &Elf<'_>,
    sec: &Section<'_>,
    index: usize,
    r: &Reloc,
    insns: &[Insn],
    progs: &mut [ProgramSpec],
    maps: &[MapSpec],
    data: &[DataSection],
    externs: &[Extern],
) -> Result<(usize, Relocation), ObjError> {
    let err = |m: String| elf.cx.reloc(&sec.name, index, m);
    if !r.offset.is_multiple_of(INSN_SIZE as u64) || r.offset as usize >= sec.data.len() {
        return Err(err(format!(
            "offset {:#x} is not an instruction of the section ({} bytes)",
            r.offset,
            sec.data.len()
        )));
    }
    let insn_idx = r.offset as usize / INSN_SIZE;
    let insn = insns[insn_idx];
    let prog = progs
        .iter()
        .position(|p| {
            insn_idx >= p.section_insn_offset && insn_idx < p.section_insn_offset + p.insns.len()
        })
        .ok_or_else(|| err(format!("instruction {insn_idx} is outside every function")))?;
    let sym = &elf.symbols[r.symbol];
    match r.r_type {
        R_BPF_64_64 if !insn.is_ld_imm64() || insn_idx + 1 >= insns.len() => {
            return Err(err(format!("R_BPF_64_64 on instruction {insn_idx} (opcode {:#04x}), which is not a 64-bit load", insn.code)));
        }
        R_BPF_64_32 if !insn.is_call() => {
            return Err(err(format!(
                "R_BPF_64_32 on instruction {insn_idx} (opcode {:#04x}), which is not a call",
                insn.code
            )));
        }
        R_BPF_64_64 | R_BPF_64_32 => {}
        other => return Err(err(format!("unsupported relocation type {other} in code"))),
    }
    let target = if sym.undefined {
        if !externs.iter().any(|e| e.name == sym.name) {
            return Err(err(format!("refers to undefined symbol `{}`", sym.name)));
        }
        RelocTarget::Extern(sym.name.clone())
    } else {
        let target_sec = sym
            .section
            .and_then(|s| elf.section(s))
            .ok_or_else(|| err(format!("symbol `{}` is in no section", sym.name)))?;
        let is_section_sym = sym.kind == SymbolKind::Section;
        if target_sec.name == BTF_MAPS
            || target_sec.name == LEGACY_MAPS
            || target_sec.name.starts_with("maps/")
        {
            let map = if is_section_sym {
                // Old compilers refer to the section; the immediate holds the
                // definition's offset. Offsets restart in every section, so
                // only maps defined the way this section defines them count.
                let origin = if target_sec.name == BTF_MAPS {
                    MapOrigin::Btf
                } else {
                    MapOrigin::Legacy
                };
                maps.iter()
                    .find(|m| m.origin == origin && i64::from(insn.imm) == m.section_offset as i64)
            } else {
                maps.iter().find(|m| m.name == sym.name)
            };
            let map = map.ok_or_else(|| {
                err(format!(
                    "refers to `{}` in {}, which is no map",
                    sym.name, target_sec.name
                ))
            })?;
            RelocTarget::Map(map.name.clone())
        } else if data_kind(&target_sec.name).is_some() {
            if !data.iter().any(|d| d.name == target_sec.name) {
                return Err(err(format!(
                    "refers to data section {} that was not read",
                    target_sec.name
                )));
            }
            RelocTarget::Data {
                section: target_sec.name.clone(),
                offset: if is_section_sym {
                    0
                } else {
                    u32::try_from(sym.value).unwrap_or(u32::MAX)
                },
            }
        } else if target_sec.executable {
            RelocTarget::Function {
                section: target_sec.name.clone(),
                offset: if is_section_sym { 0 } else { sym.value },
            }
        } else {
            return Err(err(format!(
                "refers to `{}` in section {}, which holds no map, data or code",
                sym.name, target_sec.name
            )));
        }
    };
    let p = &progs[prog];
    Ok((
        prog,
        Relocation {
            insn: insn_idx - p.section_insn_offset,
            symbol: sym.name.clone(),
            target,
        },
    ))
}

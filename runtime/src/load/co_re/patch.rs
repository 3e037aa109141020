//! Rewriting one instruction with a [`Resolution`]: the immediate of an ALU
//! instruction, the offset (and access size) of a load or store, or both
//! halves of an `ld_imm64`; or poisoning it (libbpf's bpf_core_patch_insn).

use crate::obj::Insn;

use super::{CoreError, Resolution};

/// Helper id of a poisoned instruction (libbpf's 0xbad2310, "bad relo"): the
/// verifier only complains if it is reachable, with "invalid func unknown#195896080".
pub const POISON_IMM: i32 = 0xbad2310;

const CLASS_LD: u8 = 0x00;
const CLASS_LDX: u8 = 0x01;
const CLASS_ST: u8 = 0x02;
const CLASS_STX: u8 = 0x03;
const CLASS_ALU: u8 = 0x04;
const CLASS_ALU64: u8 = 0x07;
const SRC_X: u8 = 0x08;
const CALL: u8 = 0x85;

fn poison(insn: &mut Insn) {
    *insn = Insn {
        code: CALL,
        dst_reg: 0,
        src_reg: 0,
        off: 0,
        imm: POISON_IMM,
    };
}

fn size_bytes(code: u8) -> u32 {
    match code & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

fn size_code(bytes: u32) -> Option<u8> {
    Some(match bytes {
        4 => 0x00,
        2 => 0x08,
        1 => 0x10,
        8 => 0x18,
        _ => return None,
    })
}

/// Applies `res` to the instruction at `at`.
pub fn patch(insns: &mut [Insn], at: usize, res: &Resolution) -> Result<(), CoreError> {
    let err = |message: String| CoreError::Patch { insn: at, message };
    let insn = *insns
        .get(at)
        .ok_or_else(|| err("past the end of the program".into()))?;
    let poison_here = |insns: &mut [Insn]| {
        if insn.is_ld_imm64() {
            if let Some(next) = insns.get_mut(at + 1) {
                poison(next);
            }
        }
        poison(&mut insns[at]);
    };
    if res.poison {
        poison_here(insns);
        return Ok(());
    }
    match insn.code & 0x07 {
        CLASS_ALU | CLASS_ALU64 => {
            if insn.code & SRC_X != 0 {
                return Err(err("ALU instruction with a register source".into()));
            }
            if res.validate && insn.imm as u32 as u64 != res.orig_val & 0xffff_ffff {
                return Err(err(format!(
                    "expected immediate {}, found {}",
                    res.orig_val, insn.imm
                )));
            }
            insns[at].imm = res.new_val as i32;
        }
        CLASS_LDX | CLASS_ST | CLASS_STX => {
            if res.validate && i64::from(insn.off) as u64 != res.orig_val {
                return Err(err(format!(
                    "expected offset {}, found {}",
                    res.orig_val, insn.off
                )));
            }
            if res.new_val > i16::MAX as u64 {
                return Err(err(format!(
                    "offset {} does not fit an instruction",
                    res.new_val
                )));
            }
            if res.fail_memsz_adjust {
                poison_here(insns);
                return Ok(());
            }
            insns[at].off = res.new_val as i16;
            if res.new_size != 0 && size_bytes(insn.code) != res.new_size {
                let sz = size_code(res.new_size)
                    .ok_or_else(|| err(format!("no load of {} bytes", res.new_size)))?;
                insns[at].code = (insn.code & !0x18) | sz;
            }
        }
        CLASS_LD => {
            let next = insns.get(at + 1).copied();
            let Some(next) =
                next.filter(|n| insn.is_ld_imm64() && insn.src_reg == 0 && n.code == 0)
            else {
                return Err(err("load that is not a plain ld_imm64".into()));
            };
            let imm = u64::from(insn.imm as u32) | u64::from(next.imm as u32) << 32;
            if res.validate && imm != res.orig_val {
                return Err(err(format!(
                    "expected immediate {}, found {imm}",
                    res.orig_val
                )));
            }
            insns[at].imm = res.new_val as u32 as i32;
            insns[at + 1].imm = (res.new_val >> 32) as u32 as i32;
        }
        _ => {
            return Err(err(format!(
                "opcode {:#04x} cannot carry a relocated value",
                insn.code
            )))
        }
    }
    Ok(())
}

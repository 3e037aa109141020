//! The probes' programs: a few hand-assembled instructions and one way to
//! load them.
//!
//! In: a program type, its load attributes and instructions. Out: the
//! program's fd (closed by the caller at the end of its probe), or the
//! kernel's errno and, when asked for, the verifier's log.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use crate::obj::{AttachType, Insn, ProgType};
use crate::sys::{self, SysError};

/// How a probe program is loaded: what BPF_PROG_LOAD takes besides the
/// instructions.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct LoadAttrs {
    pub prog_type: ProgType,
    pub expected_attach_type: Option<AttachType>,
    pub attach_btf_id: u32,
    pub prog_flags: u32,
}

impl LoadAttrs {
    pub fn of(prog_type: ProgType) -> LoadAttrs {
        LoadAttrs {
            prog_type,
            ..Default::default()
        }
    }

    pub fn attach(self, attach: AttachType) -> LoadAttrs {
        LoadAttrs {
            expected_attach_type: Some(attach),
            ..self
        }
    }
}

/// Size of the verifier log a probe reads: the log of a two-instruction
/// program is a few lines.
pub(super) const LOG_SIZE: usize = 4096;

/// Loads a probe program; with a non-empty `log`, the verifier writes its
/// log there (level 1), which is how a probe tells one refusal from
/// another.
pub(super) fn load_with(
    attrs: &LoadAttrs,
    name: &str,
    insns: &[Insn],
    log: &mut [u8],
) -> Result<OwnedFd, SysError> {
    let insns: Vec<u8> = insns.iter().flat_map(|i| i.to_native_bytes()).collect();
    let license: &CStr = c"GPL";
    if let Some(first) = log.first_mut() {
        *first = 0;
    }
    sys::prog_load(
        &sys::ProgLoad {
            name,
            prog_type: attrs.prog_type.0,
            expected_attach_type: attrs.expected_attach_type.map_or(0, |a| a.0),
            insns: &insns,
            license,
            prog_flags: attrs.prog_flags,
            attach_btf_id: attrs.attach_btf_id,
            log_level: u32::from(!log.is_empty()),
            ..Default::default()
        },
        log,
    )
}

/// Loads a probe program without a log.
pub(super) fn load(
    prog_type: ProgType,
    attach: Option<AttachType>,
    insns: &[Insn],
) -> Result<OwnedFd, SysError> {
    let attrs = LoadAttrs {
        expected_attach_type: attach,
        ..LoadAttrs::of(prog_type)
    };
    load_with(&attrs, "", insns, &mut [])
}

/// The verifier log's text up to its NUL.
pub(super) fn log_text(log: &[u8]) -> &str {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    std::str::from_utf8(&log[..end]).unwrap_or("")
}

/// `r0 = 0; exit`.
pub(super) fn return_zero() -> [Insn; 2] {
    [mov64_imm(0, 0), exit()]
}

/// `r{dst} = imm` (BPF_ALU64 | BPF_MOV | BPF_K).
pub(super) fn mov64_imm(dst: u8, imm: i32) -> Insn {
    Insn {
        code: 0xb7,
        dst_reg: dst,
        imm,
        ..Default::default()
    }
}

/// `r{dst} = r{src}` (BPF_ALU64 | BPF_MOV | BPF_X).
pub(super) fn mov64_reg(dst: u8, src: u8) -> Insn {
    Insn {
        code: 0xbf,
        dst_reg: dst,
        src_reg: src,
        ..Default::default()
    }
}

/// `r{dst} += imm` (BPF_ALU64 | BPF_ADD | BPF_K).
pub(super) fn add64_imm(dst: u8, imm: i32) -> Insn {
    Insn {
        code: 0x07,
        dst_reg: dst,
        imm,
        ..Default::default()
    }
}

/// `*(u64 *)(r{dst} + off) = imm` (BPF_ST | BPF_MEM | BPF_DW).
pub(super) fn st_dw(dst: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code: 0x7a,
        dst_reg: dst,
        off,
        imm,
        ..Default::default()
    }
}

/// `r{dst} = &map[0] + offset`: the two halves of a BPF_LD | BPF_IMM |
/// BPF_DW with BPF_PSEUDO_MAP_VALUE (the map's fd in the first half, the
/// offset into its value in the second), how programs address global data.
pub(super) fn ld_map_value(dst: u8, map: BorrowedFd<'_>, offset: i32) -> [Insn; 2] {
    const BPF_PSEUDO_MAP_VALUE: u8 = 2;
    [
        Insn {
            code: 0x18,
            dst_reg: dst,
            src_reg: BPF_PSEUDO_MAP_VALUE,
            imm: map.as_raw_fd(),
            ..Default::default()
        },
        Insn {
            imm: offset,
            ..Default::default()
        },
    ]
}

/// A call of helper `id` (BPF_JMP | BPF_CALL).
pub(super) fn call(id: i32) -> Insn {
    Insn {
        code: 0x85,
        imm: id,
        ..Default::default()
    }
}

/// BPF_JMP | BPF_EXIT.
pub(super) fn exit() -> Insn {
    Insn {
        code: 0x95,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_program_is_mov_r0_0_exit() {
        let insns: Vec<u8> = return_zero()
            .iter()
            .flat_map(|i| i.to_native_bytes())
            .collect();
        assert_eq!(insns.len(), 16);
        assert_eq!(insns[0], 0xb7, "BPF_ALU64 | BPF_MOV | BPF_K");
        assert_eq!(insns[1], 0, "dst r0, src r0");
        assert_eq!(&insns[4..8], &[0; 4], "imm 0");
        assert_eq!(insns[8], 0x95, "BPF_JMP | BPF_EXIT");
    }

    #[test]
    fn log_text_stops_at_the_nul() {
        assert_eq!(log_text(b"invalid func\0junk"), "invalid func");
        assert_eq!(log_text(b""), "");
    }
}

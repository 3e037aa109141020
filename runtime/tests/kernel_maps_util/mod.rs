//! Shared by the kernel_maps_* tests (the root check is in `common`): a minimal,
//! test-only program loader (hand-assembled BPF instructions; the real
//! loader lives elsewhere).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // reason: tests; each binary uses a subset

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use bpf2rs::sys::{self, ProgLoad, TestRun};

/// `BPF_PROG_TYPE_RAW_TRACEPOINT`: runs under BPF_PROG_TEST_RUN on a chosen
/// CPU (BPF_F_TEST_RUN_ON_CPU, net/bpf/test_run.c).
const RAW_TRACEPOINT: u32 = 17;
const TEST_RUN_ON_CPU: u32 = 1;

/// BPF helper ids (include/uapi/linux/bpf.h).
pub const MAP_UPDATE_ELEM: i32 = 2;
pub const GET_SMP_PROCESSOR_ID: i32 = 8;
pub const GET_STACKID: i32 = 27;

/// One instruction: `struct bpf_insn` in this machine's byte order
/// (little-endian here: dst_reg in the low nibble).
pub fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = (src << 4) | (dst & 0xf);
    b[2..4].copy_from_slice(&off.to_ne_bytes());
    b[4..8].copy_from_slice(&imm.to_ne_bytes());
    b
}

pub const R0: u8 = 0;
pub const R1: u8 = 1;
pub const R2: u8 = 2;
pub const R3: u8 = 3;
pub const R4: u8 = 4;
pub const R10: u8 = 10;

/// `dst = imm` (BPF_ALU64 | BPF_MOV | BPF_K).
pub fn mov_imm(dst: u8, imm: i32) -> [u8; 8] {
    insn(0xb7, dst, 0, 0, imm)
}
/// `dst = src` (BPF_ALU64 | BPF_MOV | BPF_X).
pub fn mov_reg(dst: u8, src: u8) -> [u8; 8] {
    insn(0xbf, dst, src, 0, 0)
}
/// `dst += imm`.
pub fn add_imm(dst: u8, imm: i32) -> [u8; 8] {
    insn(0x07, dst, 0, 0, imm)
}
/// `dst *= imm`.
pub fn mul_imm(dst: u8, imm: i32) -> [u8; 8] {
    insn(0x27, dst, 0, 0, imm)
}
/// `*(u64 *)(dst + off) = src` (BPF_STX | BPF_MEM | BPF_DW).
pub fn stx_dw(dst: u8, off: i16, src: u8) -> [u8; 8] {
    insn(0x7b, dst, src, off, 0)
}
/// `*(u32 *)(dst + off) = imm` (BPF_ST | BPF_MEM | BPF_W).
pub fn st_w(dst: u8, off: i16, imm: i32) -> [u8; 8] {
    insn(0x62, dst, 0, off, imm)
}
/// `dst = map` (BPF_LD | BPF_DW | BPF_IMM with src BPF_PSEUDO_MAP_FD): two slots.
pub fn ld_map_fd(dst: u8, map: BorrowedFd<'_>) -> [[u8; 8]; 2] {
    [insn(0x18, dst, 1, 0, map.as_raw_fd()), [0u8; 8]]
}
/// `call helper`.
pub fn call(helper: i32) -> [u8; 8] {
    insn(0x85, 0, 0, 0, helper)
}
/// `exit`.
pub fn exit() -> [u8; 8] {
    insn(0x95, 0, 0, 0, 0)
}

/// Loads `insns` as a raw tracepoint program; on failure panics with the
/// verifier log.
pub fn load_raw_tp(name: &str, insns: &[[u8; 8]]) -> OwnedFd {
    let bytes: Vec<u8> = insns.iter().flatten().copied().collect();
    let mut load = ProgLoad {
        name,
        prog_type: RAW_TRACEPOINT,
        insns: &bytes,
        license: c"GPL",
        ..Default::default()
    };
    match sys::prog_load(&load, &mut []) {
        Ok(fd) => fd,
        Err(first) => {
            let mut log = vec![0u8; 1 << 20];
            load.log_level = 1;
            let again = sys::prog_load(&load, &mut log);
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            panic!(
                "load {name}: {first}; retry with log: {:?}\n{}",
                again.err(),
                String::from_utf8_lossy(&log[..end])
            );
        }
    }
}

/// A program that writes `cpu * 1000 + tag` as a u64 at `key` (u32) of
/// `map` with bpf_map_update_elem: on a per-CPU map only the running CPU's
/// slot changes.
pub fn per_cpu_writer(map: BorrowedFd<'_>, key: u32, tag: i32) -> OwnedFd {
    let [ld0, ld1] = ld_map_fd(R1, map);
    load_raw_tp(
        "percpu_writer",
        &[
            call(GET_SMP_PROCESSOR_ID),
            mul_imm(R0, 1000),
            add_imm(R0, tag),
            stx_dw(R10, -16, R0),
            st_w(R10, -4, key as i32),
            ld0,
            ld1,
            mov_reg(R2, R10),
            add_imm(R2, -4),
            mov_reg(R3, R10),
            add_imm(R3, -16),
            mov_imm(R4, 0),
            call(MAP_UPDATE_ELEM),
            mov_imm(R0, 0),
            exit(),
        ],
    )
}

/// A program that records its kernel stack in stack trace `map` and
/// returns the stack id (negative errno on failure).
pub fn stack_recorder(map: BorrowedFd<'_>) -> OwnedFd {
    let [ld0, ld1] = ld_map_fd(R2, map);
    load_raw_tp(
        "stack_recorder",
        &[ld0, ld1, mov_imm(R3, 0), call(GET_STACKID), exit()],
    )
}

/// The smallest program: returns 0.
pub fn trivial_prog() -> OwnedFd {
    load_raw_tp("trivial", &[mov_imm(R0, 0), exit()])
}

/// Runs `prog` once on `cpu` (BPF_F_TEST_RUN_ON_CPU); returns its r0.
pub fn run_on_cpu(prog: BorrowedFd<'_>, cpu: u32) -> u32 {
    let mut run = TestRun {
        cpu,
        flags: TEST_RUN_ON_CPU,
        ..Default::default()
    };
    sys::prog_test_run(prog, &mut run)
        .unwrap_or_else(|e| panic!("test run on cpu {cpu}: {e}"))
        .retval
}

/// Open fds of this process (the directory handle itself included, the
/// same way every time).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

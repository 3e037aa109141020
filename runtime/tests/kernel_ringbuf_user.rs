//! Real-kernel checks of UserRingBuf: records written from user space reach
//! a BPF program that drains them with `bpf_user_ringbuf_drain`.
//!
//! The drainer is hand-assembled here and loaded with `sys::prog_load`: its
//! callback address is an `ld_imm64` relocated against `.text`, which the
//! object loader does not yet mark as `BPF_PSEUDO_FUNC` (libbpf does), so
//! a compiled drainer cannot be loaded through it today.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_ringbuf_util;

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use bpf2rs::btf::testing::BtfBuilder;
use bpf2rs::btf::TypeId;
use bpf2rs::map::{CreateFlags, Queue};
use bpf2rs::ringbuf::{EventError, UserRingBuf};
use bpf2rs::sys::{self, ProgLoad, TestRun};
use common::require_root;
use kernel_ringbuf_util::{addr_of, in_bpf_map, thread_allocs, Command, CountingAlloc};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// A 16-aligned command, as a C `struct { __u64 seq; __u32 tag; }
/// __attribute__((aligned(16)))`: the same 16 bytes as [`Command`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, bpf2rs::Pod)]
#[repr(C, align(16))]
struct AlignedCommand {
    seq: u64,
    tag: u32,
    pad: u32,
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = (src << 4) | (dst & 0xf);
    b[2..4].copy_from_slice(&off.to_ne_bytes());
    b[4..8].copy_from_slice(&imm.to_ne_bytes());
    b
}

/// `ld_imm64 dst, imm` with pseudo source `src` (two instructions).
fn ld64(dst: u8, src: u8, imm: i32) -> [[u8; 8]; 2] {
    [insn(0x18, dst, src, 0, imm), insn(0, 0, 0, 0, 0)]
}

const MOV_K: u8 = 0xb7;
const MOV_X: u8 = 0xbf;
const ADD_K: u8 = 0x07;
const JNE_K: u8 = 0x55;
const CALL: u8 = 0x85;
const EXIT: u8 = 0x95;
const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_FUNC: u8 = 4;
const MAP_PUSH_ELEM: i32 = 87;
const DYNPTR_READ: i32 = 201;
const USER_RINGBUF_DRAIN: i32 = 209;
const XDP: u32 = 6;

/// An XDP program that drains `ring`, pushing every 16-byte record it can
/// read into `queue` (records of another size fail `bpf_dynptr_read` and
/// are dropped by the program).
fn drainer(ring: i32, queue: i32) -> OwnedFd {
    let mut p: Vec<[u8; 8]> = Vec::new();
    p.extend(ld64(1, PSEUDO_MAP_FD, ring)); // 0-1: r1 = ring
    p.extend(ld64(2, PSEUDO_FUNC, 9 - 3)); // 2-3: r2 = callback (insn 9)
    p.push(insn(MOV_K, 3, 0, 0, 0)); // 4: r3 = ctx = 0
    p.push(insn(MOV_K, 4, 0, 0, 0)); // 5: r4 = flags = 0
    p.push(insn(CALL, 0, 0, 0, USER_RINGBUF_DRAIN)); // 6
    p.push(insn(MOV_K, 0, 0, 0, 2)); // 7: XDP_PASS
    p.push(insn(EXIT, 0, 0, 0, 0)); // 8
                                    // callback(dynptr = r1, ctx = r2)
    p.push(insn(MOV_X, 3, 1, 0, 0)); // 9: r3 = dynptr
    p.push(insn(MOV_X, 1, 10, 0, 0)); // 10: r1 = fp
    p.push(insn(ADD_K, 1, 0, 0, -16)); // 11: r1 = fp - 16
    p.push(insn(MOV_K, 2, 0, 0, 16)); // 12: len
    p.push(insn(MOV_K, 4, 0, 0, 0)); // 13: offset
    p.push(insn(MOV_K, 5, 0, 0, 0)); // 14: flags
    p.push(insn(CALL, 0, 0, 0, DYNPTR_READ)); // 15
    p.push(insn(JNE_K, 0, 0, 6, 0)); // 16: failed read -> 23
    p.extend(ld64(1, PSEUDO_MAP_FD, queue)); // 17-18
    p.push(insn(MOV_X, 2, 10, 0, 0)); // 19
    p.push(insn(ADD_K, 2, 0, 0, -16)); // 20
    p.push(insn(MOV_K, 3, 0, 0, 0)); // 21
    p.push(insn(CALL, 0, 0, 0, MAP_PUSH_ELEM)); // 22
    p.push(insn(MOV_K, 0, 0, 0, 0)); // 23: continue draining
    p.push(insn(EXIT, 0, 0, 0, 0)); // 24
    let bytes: Vec<u8> = p.concat();
    // Callbacks need BTF func_info: `int drain_user(void *ctx)` at 0 and
    // `long cb(void *dynptr, void *ctx)` at 9.
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, 1);
    let long = b.int("long", 8, 1);
    let ptr = b.ptr(TypeId(0));
    let main_proto = b.func_proto(int, &[("ctx", ptr)]);
    let main = b.func("drain_user", main_proto, 0);
    let cb_proto = b.func_proto(long, &[("dynptr", ptr), ("ctx", ptr)]);
    let cb = b.func("cb", cb_proto, 0);
    let btf = sys::btf_load(&b.bytes(), &mut []).unwrap();
    let func_info: Vec<u8> = [0, main.0, 9, cb.0]
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .collect();
    let mut log = vec![0u8; 1 << 16];
    sys::prog_load(
        &ProgLoad {
            name: "drain_user",
            prog_type: XDP,
            insns: &bytes,
            license: c"GPL",
            log_level: 1,
            prog_btf_fd: Some(btf.as_fd()),
            func_info: &func_info,
            ..Default::default()
        },
        &mut log,
    )
    .unwrap_or_else(|e| {
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        panic!("{e}\n{}", String::from_utf8_lossy(&log[..end]))
    })
}

fn drain(prog: &OwnedFd) {
    let mut t = TestRun {
        data_in: &[0u8; 64],
        ..Default::default()
    };
    let out = sys::prog_test_run(prog.as_fd(), &mut t).unwrap();
    assert_eq!(out.retval, 2);
}

fn drained(q: &Queue<Command>) -> Vec<Command> {
    std::iter::from_fn(|| q.pop().unwrap()).collect()
}

fn setup(name: &str) -> (UserRingBuf<Command>, Queue<Command>, OwnedFd) {
    require_root();
    let ur = UserRingBuf::<Command>::create(name, 16 << 10).unwrap();
    let q = Queue::<Command>::create("drained", 4096, CreateFlags::NONE).unwrap();
    let prog = drainer(ur.as_fd().as_raw_fd(), q.as_fd().as_raw_fd());
    (ur, q, prog)
}

fn cmd(seq: u64) -> Command {
    Command {
        seq,
        tag: (seq * 2) as u32,
        pad: 0,
    }
}

#[test]
fn submitted_records_reach_the_program_in_order() {
    let (mut ur, q, prog) = setup("commands");
    // 16 KiB, 24 bytes per record: room for 682.
    let mut sent = 0u64;
    loop {
        match ur.submit(&cmd(sent)) {
            Ok(()) => sent += 1,
            Err(EventError::Full { len: 16, .. }) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(sent, (16 << 10) / 24);
    let full = ur.submit(&cmd(0)).unwrap_err();
    assert!(
        full.to_string()
            .starts_with("map commands: reserve: no room for a 16-byte record"),
        "{full}"
    );
    drain(&prog);
    assert_eq!(drained(&q), (0..sent).map(cmd).collect::<Vec<_>>());
    assert_eq!(ur.free(), 16 << 10, "the kernel consumed everything");
}

#[test]
fn reservations_are_written_in_place_and_discards_skipped() {
    let (mut ur, q, prog) = setup("commands2");
    let mut r = ur.reserve().unwrap();
    *r = cmd(1_000);
    r.submit();
    ur.reserve().unwrap().discard();
    drop(ur.reserve().unwrap()); // dropped unsubmitted: discarded
    let mut r = ur.reserve_wait(Duration::from_secs(1)).unwrap();
    r.seq = 2_000;
    r.tag = 9;
    r.pad = 0;
    r.submit();
    // A record of another size reaches the program, whose read fails.
    ur.reserve_bytes(4).unwrap().submit();
    let mut r = ur.reserve_bytes(16).unwrap();
    r.copy_from_slice(bpf2rs::Pod::as_bytes(&cmd(3_000)));
    r.submit();
    drain(&prog);
    let got = drained(&q);
    assert_eq!(
        got,
        [
            cmd(1_000),
            Command {
                seq: 2_000,
                tag: 9,
                pad: 0
            },
            cmd(3_000)
        ]
    );

    let e = ur.reserve_bytes(1 << 20).unwrap_err();
    assert!(matches!(e, EventError::TooLarge { .. }), "{e:?}");
    assert!(
        e.to_string().contains("does not fit a 16384-byte ring"),
        "{e}"
    );
}

#[test]
fn a_full_ring_waits_until_the_program_drains_it() {
    let (mut ur, q, prog) = setup("commands3");
    while ur.submit(&cmd(1)).is_ok() {}
    let start = Instant::now();
    std::thread::scope(|s| {
        let drainer = s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            drain(&prog);
        });
        let e = ur
            .reserve_wait(Duration::from_millis(1))
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(e, EventError::Full { .. }), "{e:?}");
        let mut r = ur.reserve_wait(Duration::from_secs(5)).unwrap();
        *r = cmd(7);
        // Submit only once the drain run is over: it may still be draining
        // when room appears, and would take the new record too. An
        // unsubmitted (busy) record stops the drain, so it is not taken.
        drainer.join().unwrap();
        r.submit();
    });
    assert!(
        start.elapsed() >= Duration::from_millis(50),
        "it waited for the drain"
    );
    assert_eq!(drained(&q).len(), 682);
    drain(&prog);
    assert_eq!(drained(&q), [cmd(7)]);
}

/// Records of a 16-aligned type start 8-aligned in the ring: reserve()
/// hands out those on a 16-aligned place in place and the others through
/// the handle's aligned buffer, copied in on submit.
#[test]
fn reservations_of_a_16_aligned_type_reach_the_program_whole() {
    require_root();
    let mut ur = UserRingBuf::<AlignedCommand>::create("aligned_commands", 16 << 10).unwrap();
    let q = Queue::<Command>::create("drained", 4096, CreateFlags::NONE).unwrap();
    let prog = drainer(ur.as_fd().as_raw_fd(), q.as_fd().as_raw_fd());
    let mut addrs = Vec::with_capacity(1_000);
    let mut sent = Vec::new();
    // 24 bytes per record: 16 KiB holds 682; three rounds wrap the ring.
    for round in 0..3u64 {
        sent.clear();
        sent.reserve(700);
        let before = thread_allocs();
        for i in 0..600u64 {
            let seq = round * 1_000 + i;
            let mut r = ur.reserve().unwrap();
            assert_eq!(addr_of(&*r) % 16, 0, "every reservation is 16-aligned");
            if round == 0 && addrs.len() < addrs.capacity() {
                addrs.push(addr_of(&*r));
            }
            match i % 5 {
                // Discarded ones (either way) never reach the program.
                4 => r.discard(),
                3 => drop(r),
                2 => {
                    r.bytes_mut()[..8].copy_from_slice(&seq.to_ne_bytes());
                    r.bytes_mut()[8..].copy_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0]);
                    r.submit();
                    sent.push(Command {
                        seq,
                        tag: 9,
                        pad: 0,
                    });
                }
                _ => {
                    *r = AlignedCommand {
                        seq,
                        tag: i as u32,
                        pad: 0,
                    };
                    r.submit();
                    sent.push(Command {
                        seq,
                        tag: i as u32,
                        pad: 0,
                    });
                }
            }
        }
        // And by copy.
        ur.submit(&AlignedCommand {
            seq: round,
            tag: 77,
            pad: 0,
        })
        .unwrap();
        sent.push(Command {
            seq: round,
            tag: 77,
            pad: 0,
        });
        assert_eq!(thread_allocs() - before, 0, "no allocation per record");
        drain(&prog);
        assert_eq!(drained(&q), sent, "round {round}");
        assert_eq!(ur.free(), 16 << 10, "the kernel consumed everything");
    }
    // Both ways were taken: in place (in the ring, one after another) and
    // through one reused buffer.
    let (in_ring, bounced): (Vec<usize>, Vec<usize>) = addrs.iter().partition(|a| in_bpf_map(**a));
    assert_eq!(
        (in_ring.len(), bounced.len()),
        (300, 300),
        "every other one"
    );
    assert!(bounced.iter().all(|a| *a == bounced[0]));
}

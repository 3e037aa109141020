//! Applying CO-RE resolutions to instructions: ALU immediates, load/store
//! offsets with access-size changes, both halves of ld_imm64, poisoning,
//! and the checks that the instruction holds what the compiler wrote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::btf::ext::CoreReloKind;
use bpf2rs::load::co_re::{patch, CoreError, Resolution, POISON_IMM};
use bpf2rs::obj::Insn;

fn res(orig: u64, new: u64) -> Resolution {
    Resolution {
        kind: CoreReloKind::FIELD_BYTE_OFFSET,
        orig_val: orig,
        new_val: new,
        validate: true,
        orig_size: 0,
        new_size: 0,
        fail_memsz_adjust: false,
        poison: false,
        description: "byte_off struct foo.b (0:1)".into(),
        target: None,
    }
}

fn insn(code: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        dst_reg: 1,
        src_reg: 2,
        off,
        imm,
    }
}

#[test]
fn alu_immediate_is_replaced() {
    let mut p = [insn(0x07, 0, 4)]; // r1 += 4
    patch(&mut p, 0, &res(4, 16)).unwrap();
    assert_eq!(p[0].imm, 16);
}

#[test]
fn load_offset_and_size_are_replaced() {
    let mut p = [insn(0x61, 4, 0)]; // r1 = *(u32 *)(r2 + 4)
    let mut r = res(4, 24);
    r.orig_size = 4;
    r.new_size = 8;
    patch(&mut p, 0, &r).unwrap();
    assert_eq!((p[0].code, p[0].off), (0x79, 24)); // now a u64 load
}

#[test]
fn unsafe_size_change_and_poison_turn_into_the_bad_helper_call() {
    let mut p = [insn(0x61, 4, 0)];
    let mut r = res(4, 8);
    r.fail_memsz_adjust = true;
    patch(&mut p, 0, &r).unwrap();
    assert_eq!((p[0].code, p[0].imm, p[0].src_reg), (0x85, POISON_IMM, 0));

    let mut p = [insn(0x18, 0, 1), insn(0, 0, 0)];
    p[0].src_reg = 0;
    p[1].src_reg = 0;
    let mut r = res(1, 0);
    r.poison = true;
    patch(&mut p, 0, &r).unwrap();
    assert!(p.iter().all(|i| i.code == 0x85 && i.imm == POISON_IMM));
}

#[test]
fn ld_imm64_gets_both_halves() {
    let mut p = [insn(0x18, 0, 7), insn(0, 0, 0)];
    p[0].src_reg = 0;
    patch(&mut p, 0, &res(7, 0x1_0000_0002)).unwrap();
    assert_eq!((p[0].imm, p[1].imm), (2, 1));
}

#[test]
fn instruction_not_holding_the_local_value_is_refused() {
    let mut p = [insn(0x07, 0, 5)];
    let err = patch(&mut p, 0, &res(4, 16)).unwrap_err();
    assert!(matches!(err, CoreError::Patch { insn: 0, .. }), "{err}");
    let mut p = [insn(0x61, 4, 0)];
    assert!(
        patch(&mut p, 0, &res(4, 40_000)).is_err(),
        "offset beyond i16"
    );
    let mut p = [insn(0x0f, 0, 4)]; // r1 += r2: no immediate
    assert!(patch(&mut p, 0, &res(4, 8)).is_err());
    assert!(patch(&mut p, 3, &res(4, 8)).is_err(), "past the end");
}

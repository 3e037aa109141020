//! Generated layouts against the kernel: a BPF program writes known values
//! into bitfields (signed, unsigned, straddling, _Bool, enum), a union, an
//! enum, __int128, a packed struct and nested anonymous types; user space
//! reads them through the generated accessors, then writes values the
//! program checks.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::prog::TestRunInput;
use bpf2rs_tests::require_root;
use bpf2rs_tests::skel::layout::{types, LayoutSkel};

fn expect_bits(b: &types::bits) {
    assert_eq!(b.a(), 5);
    assert_eq!(b.s(), -3);
    assert_eq!(b.wide(), 0xAB_CDE1_2345);
    assert_eq!(b.flag(), 1);
    assert!(b.b());
    assert_eq!(b.c(), types::color::BLUE);
    assert_eq!(b.straddle(), 0x2AAA_AAAA);
    assert_eq!(b.tail, 0xBEEF);
}

#[test]
fn program_writes_are_read_through_generated_types() {
    require_root();
    let skel = LayoutSkel::open().unwrap().load().unwrap();
    let out = skel
        .progs
        .write_values
        .test_run(&TestRunInput {
            data: &[0u8; 64],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 2);

    let b = skel.maps.bits_map.get(0).unwrap();
    expect_bits(&b);

    let h = skel.maps.holder_map.get(0).unwrap();
    assert_eq!(h.tag, b'T');
    assert_eq!(h.al.x, -42);
    assert_eq!(
        bpf2rs::Pod::as_bytes(&h.__anon_32),
        0xDEAD_BEEFu32.to_ne_bytes()
    );
    assert_eq!(h.peer.inner_x, 1234);
    assert_eq!(h.peer.inner_y, -5);
    assert_eq!(
        h.big,
        (0x0102_0304_0506_0708i128 << 64) | 0x1112_1314_1516_1718
    );
    assert_eq!(h.d, 2.5);
    assert!(h.ok.get());
    assert_eq!(bpf2rs::ctypes::c_str(&h.name), b"bpf");
    assert_eq!(h.r#type, 77);
    assert_eq!(h.col, types::color::NEG);
    assert_eq!(h.col.0, -2);
    assert_eq!(h.bigv, types::big::BIG_LARGE);
    assert_eq!(h.ptr, 0x1000);
    assert_eq!((h.td.a, h.td.b), (9, 10));
    assert_eq!({ h.pk.a }, b'p');
    assert_eq!({ h.pk.b }, 0x0102_0304);
    assert_eq!({ h.pk.c }, 0x0506);
    expect_bits(&h.bf);
    assert!(format!("{:?}", h.bf).contains("s: -3"), "{:?}", h.bf);
}

#[test]
fn user_space_writes_are_read_by_the_program() {
    require_root();
    let skel = LayoutSkel::open().unwrap().load().unwrap();
    let mut b = types::bits::default();
    b.set_a(5);
    b.set_s(-3);
    b.set_wide(0xAB_CDE1_2345);
    b.set_flag(1);
    b.set_b(true);
    b.set_c(types::color::BLUE);
    b.set_straddle(0x2AAA_AAAA);
    b.tail = 0xBEEF;
    expect_bits(&b);
    skel.maps.bits_map.set(1, &b).unwrap();
    skel.progs
        .check_values
        .test_run(&TestRunInput {
            data: &[0u8; 64],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        skel.bss().unwrap().check_ok,
        1,
        "the program saw every field user space wrote"
    );

    // One wrong field and the program says so.
    b.set_s(3);
    skel.maps.bits_map.set(1, &b).unwrap();
    skel.progs
        .check_values
        .test_run(&TestRunInput {
            data: &[0u8; 64],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(skel.bss().unwrap().check_ok, 0);
}

//! `#[derive(Pod)]` on types that are sound: they compile, and their bytes
//! round-trip. The failing cases live in `tests/ui` (run by `derive_ui.rs`).

#![allow(clippy::unwrap_used)] // reason: tests

use bpf2rs::Pod;

/// `struct flow_key` of tests/bpf/maps.bpf.c, tail padding made explicit.
#[derive(Clone, Copy, Debug, PartialEq, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../tests/bpf/maps.bpf.o", name = "flow_key")]
struct FlowKey {
    saddr: u32,
    daddr: u32,
    sport: u16,
    dport: u16,
    proto: u8,
    #[bpf2rs(padding)]
    _pad: [u8; 3],
}

/// `name` defaults to the Rust type's name.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../tests/bpf/maps.bpf.o")]
struct my_value {
    x: i32,
    y: i32,
    z: i32,
}

/// `struct packed_s` of tests/bpf/layout.bpf.c: packed, 7 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Pod)]
#[repr(C, packed)]
#[bpf2rs(btf = "../tests/bpf/layout.bpf.o", name = "packed_s")]
struct PackedS {
    a: i8,
    b: u32,
    c: u16,
}

/// `anon_typedef_t`: a typedef of an anonymous struct, found through the typedef.
#[derive(Clone, Copy, Debug, PartialEq, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../tests/bpf/layout.bpf.o", name = "anon_typedef_t")]
struct AnonTypedef {
    a: i32,
    b: i16,
    #[bpf2rs(padding)]
    _pad: [u8; 2],
}

/// No BTF check; nested Pod types and arrays.
#[derive(Clone, Copy, Debug, PartialEq, Pod)]
#[repr(C)]
struct Event {
    key: FlowKey,
    values: [my_value; 2],
    ts_ns: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Pod)]
#[repr(transparent)]
struct Ifindex(u32);

#[derive(Clone, Copy, Debug, PartialEq, Pod)]
#[repr(C)]
struct Pair(u32, u32);

#[derive(Clone, Copy, Debug, PartialEq, Pod)]
#[repr(C, packed)]
struct Packed {
    tag: u8,
    value: u64,
}

#[derive(Clone, Copy, Pod)]
#[repr(C)]
union Word {
    raw: u64,
    halves: [u32; 2],
}

#[derive(Clone, Copy, Debug, PartialEq, Pod)]
#[repr(C)]
struct Empty {}

#[test]
fn flow_key_bytes_round_trip() {
    let key = FlowKey {
        saddr: 0x0a00_0001,
        daddr: 0x0a00_0002,
        sport: 1234,
        dport: 80,
        proto: 17,
        _pad: [0; 3],
    };
    let bytes = key.as_bytes();
    assert_eq!(bytes.len(), 16);
    assert_eq!(&bytes[8..10], &1234u16.to_ne_bytes());
    assert_eq!(bytes[12], 17);
    assert_eq!(FlowKey::from_bytes(bytes), Some(key));
    assert_eq!(FlowKey::from_bytes(&bytes[..15]), None);
}

#[test]
fn nested_and_modified_reprs_round_trip() {
    let mut event = Event::zeroed();
    event.values[1].z = -7;
    event.ts_ns = 42;
    assert_eq!(Event::from_bytes(event.as_bytes()), Some(event));
    assert_eq!(core::mem::size_of::<Event>(), 16 + 24 + 8);

    let mut ifindex = Ifindex(3);
    ifindex.as_bytes_mut().copy_from_slice(&9u32.to_ne_bytes());
    assert_eq!(ifindex, Ifindex(9));

    let packed = Packed { tag: 1, value: 2 };
    assert_eq!(packed.as_bytes().len(), 9);
    assert_eq!(Packed::from_bytes(packed.as_bytes()), Some(packed));

    let pair = Pair(1, 2);
    assert_eq!(Pair::from_bytes(pair.as_bytes()), Some(pair));

    let packed_s = PackedS {
        a: -1,
        b: 0x0102_0304,
        c: 5,
    };
    assert_eq!(core::mem::size_of::<PackedS>(), 7);
    assert_eq!(PackedS::from_bytes(packed_s.as_bytes()), Some(packed_s));

    let td = AnonTypedef {
        a: 9,
        b: 10,
        _pad: [0; 2],
    };
    assert_eq!(AnonTypedef::from_bytes(td.as_bytes()), Some(td));

    let word = Word { raw: u64::MAX };
    assert_eq!(word.as_bytes(), &[0xff; 8]);

    assert_eq!(Empty {}.as_bytes(), &[] as &[u8]);
}

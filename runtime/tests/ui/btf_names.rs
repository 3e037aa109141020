use bpf2rs::Pod;

// `src_addr` is not a member; `saddr` has no field; `_pad` is not marked padding.
#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/maps.bpf.o", name = "flow_key")]
struct FlowKey {
    src_addr: u32,
    daddr: u32,
    sport: u16,
    dport: u16,
    proto: u8,
    _pad: [u8; 3],
}

// Same names as BTF `struct my_value { int x, y, z; }`, another order.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/maps.bpf.o")]
struct my_value {
    y: i32,
    x: i32,
    z: i32,
}

fn main() {}

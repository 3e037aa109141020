use bpf2rs::Pod;

// BTF `struct my_value { int x, y, z; }` is 12 bytes; `z` is 4 of them.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/maps.bpf.o")]
struct my_value {
    x: i32,
    y: i32,
    z: i64,
}

fn main() {}

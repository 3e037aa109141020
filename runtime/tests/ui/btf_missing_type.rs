use bpf2rs::Pod;

#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/maps.bpf.o", name = "no_such_type")]
struct Missing {
    a: u32,
}

// BTF has a struct of this name, not a union.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/maps.bpf.o")]
union my_value {
    x: [i32; 3],
    y: [i32; 3],
    z: [i32; 3],
}

fn main() {}

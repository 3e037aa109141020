use bpf2rs::Pod;

// `struct holder` (tests/bpf/layout.bpf.c) has an anonymous union member.
#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/layout.bpf.o", name = "holder")]
struct Holder {
    tag: u8,
}

// `struct bits` is made of bitfields: no Rust field can stand for one.
#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/layout.bpf.o", name = "bits")]
struct Bits {
    a: u32,
    tail: u16,
}

fn main() {}

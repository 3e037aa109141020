use bpf2rs::Pod;

#[derive(Clone, Copy, Pod)]
struct NoRepr {
    a: u32,
}

// `packed` alone keeps the Rust layout: field order is not guaranteed.
#[derive(Clone, Copy, Pod)]
#[repr(packed)]
struct PackedOnly {
    a: u8,
    b: u32,
}

fn main() {}

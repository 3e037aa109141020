use bpf2rs::Pod;

#[derive(Clone, Copy, Pod)]
#[repr(C)]
struct Tail {
    a: u32,
    x: u16,
}

#[derive(Clone, Copy, Pod)]
#[repr(C, align(8))]
struct Aligned {
    a: u32,
}

#[derive(Clone, Copy, Pod)]
#[repr(C)]
union Mixed {
    wide: u64,
    narrow: u16,
}

fn main() {}

use bpf2rs::Pod;

#[derive(Clone, Copy, Pod)]
#[repr(C)]
struct Gap {
    proto: u8,
    addr: u32,
    port: u16,
    seq: u64,
}

fn main() {}

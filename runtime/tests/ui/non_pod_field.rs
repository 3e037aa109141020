use bpf2rs::Pod;

// Neither `bool` nor `char` accepts every bit pattern.
#[derive(Clone, Copy, Pod)]
#[repr(C)]
struct Flags {
    count: u32,
    enabled: bool,
    _pad: [u8; 3],
    letter: char,
}

fn main() {}

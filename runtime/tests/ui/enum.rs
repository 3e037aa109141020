use bpf2rs::Pod;

#[derive(Clone, Copy, Pod)]
#[repr(u32)]
enum Action {
    Pass,
    Drop,
}

fn main() {}

// What generated code does when the Rust layout disagrees with BTF: the
// one-line check fails the build naming the type, member and BTF number.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct flow {
    pub saddr: u32,
    pub sport: u16,
    pub proto: u8,
    pub __pad_7: [u8; 1],
}

::bpf2rs::__private::check_layout!(flow, size(8), align(4), saddr(0), sport(4), proto(7));

::bpf2rs::__private::check_layout!(flow, size(12));

fn main() {}

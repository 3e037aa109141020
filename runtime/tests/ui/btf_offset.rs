use bpf2rs::Pod;

// `sport` is __u16 in BTF: every later member moves.
#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/maps.bpf.o", name = "flow_key")]
struct FlowKey {
    saddr: u32,
    daddr: u32,
    sport: u32,
    dport: u16,
    proto: u8,
    #[bpf2rs(padding)]
    _pad: u8,
}

fn main() {}

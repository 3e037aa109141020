use bpf2rs::Pod;

#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/no_such.bpf.o", name = "flow_key")]
struct FlowKey {
    saddr: u32,
}

// Not an ELF object.
#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "../../../../tests/bpf/maps.bpf.c", name = "flow_key")]
struct FromSource {
    saddr: u32,
}

fn main() {}

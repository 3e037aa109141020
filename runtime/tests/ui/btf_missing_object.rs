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

// $OUT_DIR in a crate without a build script.
#[derive(Clone, Copy, Pod)]
#[repr(C)]
#[bpf2rs(btf = "$OUT_DIR/maps.bpf.o", name = "flow_key")]
struct FromOutDir {
    saddr: u32,
}

fn main() {}

use bpf2rs::Pod;

#[derive(Clone, Copy, Pod)]
#[repr(C)]
struct Wrapper<T: Copy> {
    value: T,
}

// Every problem is reported, not just the first.
#[derive(Clone, Copy, Pod)]
#[bpf2rs(name = "flow_key", color = "red")]
struct Many<'a> {
    value: &'a u32,
}

fn main() {}

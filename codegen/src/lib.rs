//! bpf2rs-codegen: Rust from compiled eBPF objects.
pub mod inspect;

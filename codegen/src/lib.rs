//! bpf2rs-codegen: Rust from compiled eBPF objects, and the `cargo bpf2rs`
//! command line.
//!
//! In: a compiled BPF object (`.bpf.o`) or raw BTF. Out: for now, the
//! `inspect` view of an object ([`inspect::to_json`], [`inspect::to_text`]).

pub mod cli;
pub mod inspect;

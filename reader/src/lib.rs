//! bpf2rs-reader: the one parser of bpf2rs.
//!
//! The first stage of the pipeline (read -> model -> select -> IR -> emit),
//! shared by the runtime (`bpf2rs`, which re-exports it as `bpf2rs_reader::btf` and
//! `bpf2rs_reader::obj`), the code generator and the derive macro's BTF check.
//!
//! - [`btf`] reads BTF (object, vmlinux, split module BTF) into a checked
//!   model, resolves it, writes and sanitizes it.
//! - [`obj`] reads a compiled BPF object (ELF) into an [`obj::ObjectSpec`]:
//!   maps, global data, programs, relocations, BTF.ext.
//!
//! Every input is bounds-checked: bad bytes give an error naming the object,
//! section, map or type, never a panic. The only `unsafe` is the read-only
//! mapping of kernel BTF in `sys` and the byte views of [`AlignedBytes`].

pub mod btf;
pub mod obj;

mod aligned;
mod sys;

pub use aligned::AlignedBytes;

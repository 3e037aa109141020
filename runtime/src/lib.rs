//! bpf2rs: the runtime of a pure-Rust eBPF user-space toolchain.
//!
//! - [`btf`] reads BTF (object, vmlinux, split module BTF) into a checked model,
//!   and [`obj`] reads a compiled BPF object (ELF) into an [`obj::ObjectSpec`]:
//!   maps, global data, programs, relocations. Both are the `bpf2rs-reader`
//!   crate, re-exported.
//! - [`probe`] says what the running kernel supports (probed once, cached).
//! - [`load`] brings an object into the kernel, [`link`] attaches its
//!   programs and [`struct_ops`] registers its kernel operations structs.
//! - [`Global`] and [`GlobalMut`] are typed global data after load: the
//!   memory-mapped section, or a copy read and written through the map on
//!   kernels that cannot map it.
//! - [`Pod`] marks types that are plain bytes; [`ctypes`] holds the C types
//!   generated code uses (`_Bool`, C strings).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = bpf2rs::obj::ObjectSpec::from_file("kitchen.bpf.o")?;
//! for map in &spec.maps {
//!     println!("{} {} {}", map.name, map.map_type, map.max_entries);
//! }
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod ctypes;
mod global;
pub mod link;
pub mod load;
pub mod map;
pub mod mmap;
pub mod perf;
mod pod;
pub mod probe;
pub mod prog;
pub mod ringbuf;
pub mod struct_ops;
pub mod sys;
mod usdt;

pub use bpf2rs_macros::Pod;
pub use bpf2rs_reader::{btf, obj};
pub use global::{Global, GlobalMut};
pub use pod::{AlignedBytes, Pod};

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

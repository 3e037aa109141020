//! bpf2rs-codegen: Rust from compiled eBPF objects, and the `cargo bpf2rs`
//! command line.
//!
//! In: a compiled BPF object (`.bpf.o`) or raw BTF. Out: Rust types with the
//! kernel's layout ([`types::generate`]) and the `inspect` view of an object.
//!
//! Pipeline, for types and skeletons alike: object/BTF model -> [`select`]
//! (which roots) -> [`ir`] (layout decided; the skeleton's maps by family)
//! -> [`emit`] (syn trees, names from [`naming`]) -> [`mod@format`]
//! (prettyplease).

mod builder;
mod builder_header;
pub mod c_header;
pub mod cli;
pub mod compat;
pub mod emit;
mod error;
pub mod features;
pub mod format;
pub mod inspect;
pub mod ir;
pub mod naming;
mod options;
pub mod scaffold;
pub mod select;
pub mod skel;
pub mod types;

pub use builder::{BuildError, Builder};

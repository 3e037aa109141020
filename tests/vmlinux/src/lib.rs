//! Every type of this kernel's BTF as bpf2rs generates it (`cargo bpf2rs
//! types /sys/kernel/btf/vmlinux --all --rename-duplicates`), compiled under
//! `deny(warnings)`: building this crate checks that the output for a whole
//! kernel compiles warning-free and passes the compile-time layout
//! assertions of every struct (rustc's size, alignment and member offsets
//! against the BTF numbers, which `runtime/tests/btf_vmlinux_bpftool.rs`
//! checks against bpftool for every type). With the `layout-table` feature
//! (on by default), `tests/vmlinux_vs_bpftool.rs` also compares the layouts
//! rustc computed (`layouts::LAYOUTS`) with bpftool's directly.
//!
//! ```
//! use bpf2rs_vmlinux::types::list_head;
//! assert_eq!(core::mem::size_of::<list_head>(), 16);
//! ```

#![deny(warnings)]
// `unsafe impl Pod` carries no `// SAFETY:` comment (comments do not survive
// prettyplease); the layout checks next to each impl are what make it sound.
#![allow(clippy::undocumented_unsafe_blocks)]

include!(concat!(env!("OUT_DIR"), "/vmlinux.rs"));

/// What the build script generated.
pub mod facts {
    include!(concat!(env!("OUT_DIR"), "/facts.rs"));
}

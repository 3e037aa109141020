//! Every type of this kernel's BTF as bpf2rs generates it (`cargo bpf2rs
//! types /sys/kernel/btf/vmlinux --all --rename-duplicates`), compiled under
//! `deny(warnings)`: building this crate checks that the output for a whole
//! kernel compiles warning-free and passes the compile-time layout
//! assertions of every struct. `tests/vmlinux_vs_bpftool.rs` compares the
//! layouts rustc computed (`layouts::LAYOUTS`) with bpftool's.
//!
//! ```
//! use bpf2rs_vmlinux::types::list_head;
//! assert_eq!(core::mem::size_of::<list_head>(), 16);
//! ```

#![deny(warnings)]

include!(concat!(env!("OUT_DIR"), "/vmlinux.rs"));

/// What the build script generated.
pub mod facts {
    include!(concat!(env!("OUT_DIR"), "/facts.rs"));
}

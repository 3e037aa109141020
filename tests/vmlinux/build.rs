//! Generates Rust types for every struct, union, enum and typedef of this
//! kernel's BTF (`/sys/kernel/btf/vmlinux`, or the file named by
//! `BPF2RS_VMLINUX_BTF`) into `OUT_DIR/vmlinux.rs`, with duplicates renamed
//! and the compiler-computed layout table, so that building this crate
//! checks that bpf2rs's output for a whole kernel compiles warning-free and
//! passes its own layout assertions.

#![allow(clippy::expect_used)] // reason: a build script reports failure by panicking

use std::path::{Path, PathBuf};
use std::time::Instant;

use bpf2rs::btf::Btf;
use bpf2rs_codegen::types::{self, Selection};

const DEFAULT_BTF: &str = "/sys/kernel/btf/vmlinux";

fn main() {
    println!("cargo:rerun-if-env-changed=BPF2RS_VMLINUX_BTF");
    let path = std::env::var("BPF2RS_VMLINUX_BTF").unwrap_or_else(|_| DEFAULT_BTF.to_owned());
    println!("cargo:rerun-if-changed={path}");
    if !Path::new(&path).exists() {
        panic!(
            "{path} is missing: bpf2rs-vmlinux generates types from the running kernel's BTF, \
             which needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (or point \
             BPF2RS_VMLINUX_BTF at a raw BTF file, e.g. one from `bpftool btf dump file X format raw`)"
        );
    }
    let start = Instant::now();
    let btf = Btf::from_file(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sel = Selection {
        all: true,
        rename_duplicates: true,
        layout_table: std::env::var_os("CARGO_FEATURE_LAYOUT_TABLE").is_some(),
        ..Selection::default()
    };
    let roots = types::select(&btf, Vec::new(), &sel).unwrap_or_else(|e| panic!("{path}: {e}"));
    let generated = types::generate(&btf, &roots, &sel).unwrap_or_else(|e| panic!("{path}: {e}"));
    let elapsed = start.elapsed();
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("vmlinux.rs"), &generated.code).expect("write vmlinux.rs");
    // Facts for the tests and for measuring the generator.
    let facts = format!(
        "/// The BTF file the types were generated from.\n\
         pub const BTF_PATH: &str = {path:?};\n\
         /// Number of generated items (structs, unions, enums, aliases).\n\
         pub const ITEMS: usize = {};\n\
         /// Lines of generated code.\n\
         pub const LINES: usize = {};\n\
         /// (C type, Rust name) of types renamed because another type had their name.\n\
         pub const RENAMED: &[(&str, &str)] = &{:?};\n\
         /// Milliseconds the build script spent reading the BTF and generating.\n\
         pub const GENERATE_MILLIS: u128 = {};\n",
        generated.types,
        generated.code.lines().count(),
        generated.renamed,
        elapsed.as_millis(),
    );
    std::fs::write(out.join("facts.rs"), facts).expect("write facts.rs");
}

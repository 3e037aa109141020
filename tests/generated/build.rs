//! Generates Rust types for every fixture object in `tests/bpf/` (with the
//! compiler-computed layout table) into OUT_DIR, and a module that includes
//! them all, so that `cargo build` checks that generated code compiles and
//! passes its own layout assertions.

#![allow(clippy::expect_used)] // reason: a build script reports failure by panicking

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bpf2rs::obj::ObjectSpec;
use bpf2rs_codegen::types::{self, Selection};

/// Fixtures whose types are generated (objects without BTF or that are
/// rejected on purpose are left out).
const FIXTURES: &[&str] = &["maps", "globals", "legacy", "layout", "programs", "typed"];

fn main() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bpf");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let mut index = String::new();
    let sel = Selection {
        layout_table: true,
        ..Selection::default()
    };
    for name in FIXTURES {
        let obj = fixtures.join(format!("{name}.bpf.o"));
        println!("cargo:rerun-if-changed={}", obj.display());
        let spec = ObjectSpec::from_file(&obj).unwrap_or_else(|e| panic!("{e}"));
        let btf = spec.btf.clone().unwrap_or_else(|| panic!("{name}: no BTF"));
        let roots = types::object_roots(&spec);
        let roots = types::select(&btf, roots, &sel).unwrap_or_else(|e| panic!("{name}: {e}"));
        let generated =
            types::generate(&btf, &roots, &sel).unwrap_or_else(|e| panic!("{name}: {e}"));
        let file = out.join(format!("{name}.rs"));
        std::fs::write(&file, generated.code).expect("write generated code");
        let _ = writeln!(
            index,
            "/// Types of `tests/bpf/{name}.bpf.o`.\npub mod {name} {{ include!(concat!(env!(\"OUT_DIR\"), \"/{name}.rs\")); }}"
        );
    }
    std::fs::write(out.join("fixtures.rs"), index).expect("write index");
}

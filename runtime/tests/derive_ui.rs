//! Compile-fail tests of `#[derive(Pod)]` and of the layout check generated
//! code calls (`generated_layout_mismatch.rs`): each `tests/ui/*.rs` must fail to
//! compile with exactly the errors in its `.stderr` file. Regenerate those
//! with `TRYBUILD=overwrite cargo test -p bpf2rs --test derive_ui` and review
//! the diff.
//!
//! The BTF cases name their object relative to the crate trybuild generates
//! (`target/tests/trybuild/bpf2rs`), since that is the crate being compiled.

#[test]
fn derive_pod_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

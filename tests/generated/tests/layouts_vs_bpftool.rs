//! The layouts rustc computed for every fixture's generated types
//! (`layouts::LAYOUTS`: `size_of` and `offset_of!` of the real Rust types)
//! against `bpftool btf dump file tests/bpf/NAME.bpf.o -j`: same size, same
//! bit offset for every named member, and nothing the object's maps and
//! globals need left out.
//!
//! Needs bpftool (`apt-get install bpftool`); without it these tests fail
//! rather than skip.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

#[path = "support/bpftool.rs"]
mod bpftool;

use std::path::PathBuf;

use bpftool::{Dump, Layouts};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../bpf")
        .join(format!("{name}.bpf.o"))
}

/// Compares `layouts` with bpftool and checks that the object's closure is
/// all there. Returns the dump for fixture-specific checks.
fn check(name: &str, layouts: &Layouts) -> Dump {
    let dump = bpftool::dump(&fixture(name));
    if let Err(errors) = bpftool::compare(&dump, layouts) {
        bpftool::fail(name, &errors, 50);
    }
    let generated: Vec<u32> = layouts.iter().map(|row| row.0).collect();
    let missing: Vec<String> = dump
        .object_closure()
        .into_iter()
        .filter(|id| !generated.contains(id))
        .map(|id| {
            let t = &dump.types[&id];
            format!("{} {:?} (BTF id {id})", t.kind, t.name)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{name}: types the maps and globals hold by value are not generated: {missing:?}"
    );
    dump
}

/// Asserts that the named structs and unions have LAYOUTS rows.
fn assert_present(name: &str, dump: &Dump, layouts: &Layouts, types: &[&str]) {
    for t in types {
        let id = dump
            .composite_id(t)
            .unwrap_or_else(|| panic!("{name}: bpftool lists no struct or union `{t}`"));
        assert!(
            layouts.iter().any(|row| row.0 == id),
            "{name}: `{t}` (BTF id {id}) missing from LAYOUTS"
        );
    }
}

#[test]
fn maps() {
    let layouts = bpf2rs_generated::maps::layouts::LAYOUTS;
    let dump = check("maps", layouts);
    assert_present(
        "maps",
        &dump,
        layouts,
        &["flow_key", "flow_stats", "my_value"],
    );
}

#[test]
fn globals() {
    let layouts = bpf2rs_generated::globals::layouts::LAYOUTS;
    let dump = check("globals", layouts);
    assert_present("globals", &dump, layouts, &["pair"]);
}

#[test]
fn legacy() {
    // Legacy map definitions have sizes only: nothing to generate.
    let layouts = bpf2rs_generated::legacy::layouts::LAYOUTS;
    let dump = check("legacy", layouts);
    assert!(dump.object_closure().is_empty());
}

#[test]
fn layout() {
    let layouts = bpf2rs_generated::layout::layouts::LAYOUTS;
    let dump = check("layout", layouts);
    assert_present(
        "layout",
        &dump,
        layouts,
        &["holder", "bits", "packed_s", "aligned_s"],
    );
    // The anonymous ones too: holder's union and `peer`, and the typedef'd
    // struct (found by id through their parents in bpftool's JSON).
    let holder = &dump.types[&dump.composite_id("holder").unwrap()];
    for m in holder
        .members
        .iter()
        .filter(|m| m.name.is_empty() || m.name == "peer")
    {
        assert!(
            layouts.iter().any(|row| row.0 == m.type_id),
            "holder's member {:?} (type {}) missing from LAYOUTS",
            m.name,
            m.type_id
        );
    }
    // The closure computed from bpftool's JSON reaches them too (so the
    // completeness check in `check` is not vacuous).
    let closure = dump.object_closure();
    for t in ["holder", "bits", "packed_s", "aligned_s", "anon_typedef_t"] {
        let id = dump
            .composite_id(t)
            .or_else(|| typedef_target(&dump, t))
            .unwrap();
        assert!(closure.contains(&id), "closure misses `{t}`");
    }
}

fn typedef_target(dump: &Dump, name: &str) -> Option<u32> {
    dump.types
        .values()
        .find(|t| t.kind == "TYPEDEF" && t.name.as_deref() == Some(name))
        .and_then(|t| t.type_id)
}

#[test]
fn typed() {
    // `event` holds an aligned(16) member and a packed one; `packed_pair`
    // is a packed struct placed as a global.
    let layouts = bpf2rs_generated::typed::layouts::LAYOUTS;
    let dump = check("typed", layouts);
    assert_present(
        "typed",
        &dump,
        layouts,
        &["event", "wide", "packed_hdr", "packed_pair", "lpm_v4"],
    );
}

#[test]
fn programs() {
    let layouts = bpf2rs_generated::programs::layouts::LAYOUTS;
    check("programs", layouts);
}

/// The comparison itself notices a wrong size, a wrong offset, a missing
/// member and an extra one (so a passing run means something).
#[test]
fn comparison_catches_disagreements() {
    let dump = bpftool::dump(&fixture("layout"));
    let packed = dump.composite_id("packed_s").unwrap();
    let good: &Layouts = &[(packed, 7, &[("a", 0), ("b", 8), ("c", 40)])];
    assert!(bpftool::compare(&dump, good).is_ok());
    let bad: &Layouts = &[(packed, 8, &[("a", 0), ("b", 32), ("d", 40)]), (1, 8, &[])];
    let errors = bpftool::compare(&dump, bad).unwrap_err();
    let text = errors.join("\n");
    assert!(
        text.contains("size_of is 8, bpftool says Some(7)"),
        "{text}"
    );
    assert!(text.contains("`b` at bit 32, bpftool says 8"), "{text}");
    assert!(text.contains("`c` (bit 40) missing"), "{text}");
    assert!(text.contains("has member `d`"), "{text}");
    assert!(text.contains("BTF id 1: not a struct or union"), "{text}");
}

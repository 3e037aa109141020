//! The layouts rustc computed for all of this kernel's generated types
//! (`layouts::LAYOUTS`) against `bpftool btf dump file /sys/kernel/btf/vmlinux
//! -j`: every struct and union has a row, every row has bpftool's size and
//! every named member bpftool's bit offset.
//!
//! The LAYOUTS comparisons need the `layout-table` feature (see
//! Cargo.toml); the others run in every build. Needs bpftool (`apt-get
//! install bpftool`); without it these tests fail rather than skip.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

#[path = "../../generated/tests/support/bpftool.rs"]
mod bpftool;

use std::path::Path;

use bpf2rs_vmlinux::facts;

#[cfg(feature = "layout-table")]
use std::collections::BTreeSet;

#[cfg(feature = "layout-table")]
use bpf2rs_vmlinux::layouts::LAYOUTS;

#[cfg(feature = "layout-table")]
#[test]
fn every_layout_matches_bpftool() {
    let dump = bpftool::dump(Path::new(facts::BTF_PATH));
    let compared = match bpftool::compare(&dump, LAYOUTS) {
        Ok(c) => c,
        Err(errors) => bpftool::fail(facts::BTF_PATH, &errors, 50),
    };
    eprintln!(
        "{}: compared {} structs and unions ({} named) and {} members with bpftool",
        facts::BTF_PATH,
        compared.types,
        compared.named_types,
        compared.members,
    );
    // A kernel's BTF has over ten thousand of each; these bounds catch a
    // table that silently lost most of its rows.
    assert!(compared.types > 5_000, "{compared:?}");
    assert!(compared.named_types > 5_000, "{compared:?}");
    assert!(compared.members > 40_000, "{compared:?}");
}

#[cfg(feature = "layout-table")]
#[test]
fn every_struct_and_union_is_generated() {
    let dump = bpftool::dump(Path::new(facts::BTF_PATH));
    let generated: BTreeSet<u32> = LAYOUTS.iter().map(|row| row.0).collect();
    let missing: Vec<String> = dump
        .types
        .values()
        .filter(|t| (t.kind == "STRUCT" || t.kind == "UNION") && !generated.contains(&t.id))
        .map(|t| format!("{} {:?} (BTF id {})", t.kind, t.name, t.id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} structs and unions not generated, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(20)]
    );
}

#[test]
fn well_known_types_have_the_kernel_layout() {
    use bpf2rs_vmlinux::types::{list_head, task_struct};
    assert_eq!(core::mem::size_of::<list_head>(), 16);
    let dump = bpftool::dump(Path::new(facts::BTF_PATH));
    let id = dump.composite_id("task_struct").unwrap();
    assert_eq!(
        Some(core::mem::size_of::<task_struct>() as u64),
        dump.types[&id].size
    );
}

#[test]
fn duplicates_are_renamed_with_their_btf_id() {
    // vmlinux has several C types sharing a name (`console`, `workspace`...).
    assert!(!facts::RENAMED.is_empty());
    for (c, rust) in facts::RENAMED {
        let id = c
            .rsplit_once("(BTF id ")
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("no BTF id in {c:?}"));
        assert!(rust.ends_with(&format!("__{id}")), "{c} -> {rust}");
    }
    eprintln!(
        "{} items, {} lines, {} renamed, generated in {} ms",
        facts::ITEMS,
        facts::LINES,
        facts::RENAMED.len(),
        facts::GENERATE_MILLIS
    );
}

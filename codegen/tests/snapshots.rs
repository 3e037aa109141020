//! Generated Rust for every committed fixture (tests/bpf), as insta
//! snapshots in `tests/snapshots/`: a change to the output shows up as a
//! reviewable diff. Plus: output is byte-identical across runs, `--type`
//! selections, and the errors for ambiguous and unknown names.
//!
//! Update after an intended change: `INSTA_UPDATE=always cargo test -p
//! bpf2rs-codegen --test snapshots`, then review the `.snap` diff. CI runs
//! with `CI=true`, where a missing or different snapshot fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::path::PathBuf;
use std::sync::Arc;

use bpf2rs_codegen::ir::TypesError;
use bpf2rs_codegen::types::{self, Generated, Selection};
use bpf2rs_reader::btf::testing::{BtfBuilder, SIGNED, UNSIGNED};
use bpf2rs_reader::btf::{Btf, TypeId};
use bpf2rs_reader::obj::ObjectSpec;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/bpf")
        .join(format!("{name}.bpf.o"))
}

fn object(name: &str) -> (ObjectSpec, Arc<Btf>) {
    let spec = ObjectSpec::from_file(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let btf = spec.btf.clone().unwrap_or_else(|| panic!("{name}: no BTF"));
    (spec, btf)
}

/// What `cargo bpf2rs types tests/bpf/NAME.bpf.o` prints: the object's map
/// keys, values and globals.
fn object_types(name: &str) -> String {
    let (spec, btf) = object(name);
    let sel = Selection::default();
    let roots = types::select(&btf, types::object_roots(&spec), &sel).unwrap();
    types::generate(&btf, &roots, &sel)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .code
}

/// What `cargo bpf2rs types tests/bpf/NAME.bpf.o --type T...` prints.
fn named_types(name: &str, names: &[&str]) -> Result<Generated, TypesError> {
    let (_, btf) = object(name);
    let sel = Selection {
        names: names.iter().map(|n| n.to_string()).collect(),
        ..Selection::default()
    };
    let roots = types::select(&btf, Vec::new(), &sel)?;
    types::generate(&btf, &roots, &sel)
}

/// The CLI's output for `args`, run in-process.
fn cli(args: &[&str]) -> Result<String, String> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let mut out = Vec::new();
    match bpf2rs_codegen::cli::run(&args, &mut out) {
        Ok(()) => Ok(String::from_utf8(out).unwrap()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn maps() {
    insta::assert_snapshot!("maps", object_types("maps"));
}

#[test]
fn globals() {
    insta::assert_snapshot!("globals", object_types("globals"));
}

#[test]
fn legacy() {
    insta::assert_snapshot!("legacy", object_types("legacy"));
}

#[test]
fn layout() {
    insta::assert_snapshot!("layout", object_types("layout"));
}

#[test]
fn programs() {
    insta::assert_snapshot!("programs", object_types("programs"));
}

#[test]
fn layout_type_holder() {
    let g = named_types("layout", &["holder"]).unwrap();
    insta::assert_snapshot!("layout_type_holder", g.code);
}

/// The library and `cargo bpf2rs types` produce the same bytes.
#[test]
fn cli_output_is_the_library_output() {
    for name in ["maps", "globals", "legacy", "layout", "programs"] {
        let path = fixture(name);
        let text = cli(&["types", path.to_str().unwrap()]).unwrap();
        assert_eq!(text, object_types(name), "{name}");
    }
    let path = fixture("layout");
    let text = cli(&["types", path.to_str().unwrap(), "--type", "holder"]).unwrap();
    assert_eq!(text, named_types("layout", &["holder"]).unwrap().code);
}

#[test]
fn generating_twice_gives_identical_bytes() {
    for name in ["maps", "globals", "legacy", "layout", "programs"] {
        // Two separate parses, so that nothing is shared but the file.
        let first = object_types(name);
        let second = object_types(name);
        assert!(first == second, "{name}: output differs between two runs");
    }
    let first = named_types("layout", &["holder"]).unwrap().code;
    let second = named_types("layout", &["holder"]).unwrap().code;
    assert!(first == second, "--type holder: output differs");
}

/// The order of `--type` flags does not change the output when the types
/// are independent of each other.
#[test]
fn type_selection_order_does_not_matter() {
    let ab = named_types("layout", &["bits", "packed_s"]).unwrap().code;
    let ba = named_types("layout", &["packed_s", "bits"]).unwrap().code;
    assert_eq!(ab, ba);
}

/// `--type holder` emits holder and everything it holds by value, and
/// nothing reached only through map definitions.
#[test]
fn type_selection_is_the_value_closure() {
    let g = named_types("layout", &["holder"]).unwrap();
    for expected in [
        "pub struct holder ",
        "pub struct aligned_s ",
        "pub struct packed_s ",
        "pub struct bits ",
        "pub struct anon_typedef_t ",
        "pub struct holder__peer ",
        "pub union holder__anon",
        "pub struct color(",
        "pub struct big(",
    ] {
        assert!(g.code.contains(expected), "missing `{expected}`");
    }
    assert!(!g.code.contains("pub mod layouts"));
    let just_bits = named_types("layout", &["bits"]).unwrap();
    assert!(!just_bits.code.contains("pub struct holder "));
    assert!(just_bits.code.contains("pub struct color("));
}

#[test]
fn unknown_type_name_is_an_error() {
    let err = named_types("layout", &["no_such_type"]).unwrap_err();
    assert!(matches!(err, TypesError::NotFound(ref n) if n == "no_such_type"));
    assert_eq!(err.to_string(), "no type named `no_such_type` in the BTF");

    let path = fixture("layout");
    let err = cli(&["types", path.to_str().unwrap(), "--type", "no_such_type"]).unwrap_err();
    assert!(
        err.contains("layout.bpf.o") && err.contains("no type named `no_such_type`"),
        "{err}"
    );
}

/// Raw BTF with two different structs named `dup` (as vmlinux has for
/// `console`), both selected.
fn duplicate_btf() -> Btf {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let uint = b.int("unsigned int", 4, UNSIGNED);
    b.struct_("dup", 4, &[("a", int, 0)]); // id 3
    b.struct_("dup", 8, &[("x", uint, 0), ("y", uint, 32)]); // id 4
    b.struct_(
        "user",
        12,
        &[("first", TypeId(3), 0), ("second", TypeId(4), 32)],
    );
    Btf::parse(&b.bytes()).unwrap()
}

#[test]
fn two_types_with_one_name_is_an_error_naming_both() {
    let btf = duplicate_btf();
    let sel = Selection {
        all: true,
        ..Selection::default()
    };
    let roots = types::select(&btf, Vec::new(), &sel).unwrap();
    let err = types::generate(&btf, &roots, &sel).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, TypesError::Collision { ref name, .. } if name == "dup"),
        "{text}"
    );
    assert!(text.contains("struct dup (BTF id 3)"), "{text}");
    assert!(text.contains("struct dup (BTF id 4)"), "{text}");
    assert!(text.contains("--rename-duplicates"), "{text}");
}

#[test]
fn rename_duplicates_suffixes_the_later_one_with_its_btf_id() {
    let btf = duplicate_btf();
    let sel = Selection {
        all: true,
        rename_duplicates: true,
        ..Selection::default()
    };
    let roots = types::select(&btf, Vec::new(), &sel).unwrap();
    let g = types::generate(&btf, &roots, &sel).unwrap();
    assert_eq!(
        g.renamed,
        vec![("struct dup (BTF id 4)".to_owned(), "dup__4".to_owned())]
    );
    assert!(g.code.contains("pub struct dup {"), "{}", g.code);
    assert!(g.code.contains("pub struct dup__4 {"), "{}", g.code);
    // The struct that holds both refers to each by its own name.
    assert!(g.code.contains("pub first: dup,"), "{}", g.code);
    assert!(g.code.contains("pub second: dup__4,"), "{}", g.code);
    insta::assert_snapshot!("rename_duplicates", g.code);
}

/// A named type and an anonymous one whose parent-relative name is taken
/// also collide (`struct outer { struct { .. } in; }` and `struct outer__in`).
#[test]
fn anonymous_name_colliding_with_a_named_type_is_an_error() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let anon = b.struct_("", 4, &[("v", int, 0)]);
    b.struct_("outer", 4, &[("in", anon, 0)]);
    b.struct_("outer__in", 8, &[("w", int, 0), ("z", int, 32)]);
    let btf = Btf::parse(&b.bytes()).unwrap();
    let sel = Selection {
        all: true,
        ..Selection::default()
    };
    let roots = types::select(&btf, Vec::new(), &sel).unwrap();
    let text = types::generate(&btf, &roots, &sel).unwrap_err().to_string();
    assert!(text.contains("outer__in"), "{text}");
    assert!(text.contains("(BTF id 2)"), "{text}");
    assert!(text.contains("(BTF id 4)"), "{text}");
}

/// The CLI reports renames on stderr and still succeeds; without the flag
/// it fails with the collision, naming the file.
#[test]
fn cli_collision_and_rename() {
    let dir = std::env::temp_dir().join(format!("bpf2rs-snapshots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    b.struct_("dup", 4, &[("a", int, 0)]);
    b.struct_("dup", 8, &[("a", int, 0), ("b", int, 32)]);
    let path = dir.join("dup.btf");
    std::fs::write(&path, b.bytes()).unwrap();
    let p = path.to_str().unwrap();
    let err = cli(&["types", p, "--all"]).unwrap_err();
    assert!(err.starts_with(p), "{err}");
    assert!(
        err.contains("struct dup (BTF id 2)") && err.contains("struct dup (BTF id 3)"),
        "{err}"
    );
    let out = cli(&["types", p, "--all", "--rename-duplicates"]).unwrap();
    assert!(out.contains("pub struct dup__3 {"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The skeleton `cargo bpf2rs gen` writes for fixture `name` (the embedded
/// object's path made relative, so the snapshot does not depend on where
/// the checkout is).
fn skeleton(name: &str, configure: impl FnOnce(&mut bpf2rs_codegen::skel::SkelOptions)) -> String {
    let (spec, _) = object(name);
    let mut opts = bpf2rs_codegen::skel::SkelOptions {
        object_path: PathBuf::from(format!("tests/bpf/{name}.bpf.o")),
        ..Default::default()
    };
    configure(&mut opts);
    bpf2rs_codegen::skel::generate(&spec, &opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn skeleton_kitchen() {
    // Every map form, typed legacy map, .rodata/.data/.bss views.
    insta::assert_snapshot!(skeleton("kitchen", |o| {
        o.map_types
            .push(("legacy_counts".into(), "__u32".into(), "__u64".into()));
    }));
}

#[test]
fn skeleton_usdt() {
    // A .bss whose size (52) is not a multiple of its alignment (8): the
    // section type is 56 bytes with tail padding, not packed.
    let code = skeleton("usdt", |_| {});
    assert!(code.contains("pub __pad_52: [u8; 4],"), "{code}");
    assert!(!code.contains("packed"), "{code}");
    insta::assert_snapshot!(code);
}

#[test]
fn skeleton_events() {
    // A ring buffer typed by the build.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../runtime/tests/bpf/events.bpf.o");
    let spec = ObjectSpec::from_file(&path).unwrap();
    let opts = bpf2rs_codegen::skel::SkelOptions {
        object_path: PathBuf::from("runtime/tests/bpf/events.bpf.o"),
        ringbuf_events: vec![("events".into(), "struct event".into())],
        ..Default::default()
    };
    insta::assert_snapshot!(bpf2rs_codegen::skel::generate(&spec, &opts).unwrap());
}

#[test]
fn skeleton_typed() {
    // Alignment C states only through gaps (an aligned(16) member), a
    // packed struct, and one map of every family the skeleton types:
    // typed ring and perf records, an LPM trie's data type, inner map
    // handles, stack traces, cgroup arrays, the build's own Rust types.
    let code = skeleton("typed", |o| {
        o.ringbuf_events
            .push(("events".into(), "struct event".into()));
        o.perf_events
            .push(("perf_events".into(), "struct event".into()));
        o.rust_map_types
            .push(("pairs".into(), "u32".into(), "crate::Pair".into()));
    });
    assert!(!code.contains("::bpf2rs::map::Map,"), "{code}");
    assert!(!code.contains("repr(C, align("), "{code}");
    insta::assert_snapshot!(code);
}

#[test]
fn skeleton_struct_ops() {
    // struct_ops variables: typed values (the object's tcp_congestion_ops)
    // before load, the maps after, registrations in `links` by `attach()`.
    let code = skeleton("struct_ops", |_| {});
    assert!(
        code.contains(
            "pub reno_like: ::bpf2rs::struct_ops::OpenStructOps<types::tcp_congestion_ops>"
        ),
        "{code}"
    );
    assert!(code.contains("ops.register()?"), "{code}");
    insta::assert_snapshot!(code);
}

#[test]
fn skeleton_maps() {
    // Map-in-map templates, a raw perf event array, bloom filter, queue.
    insta::assert_snapshot!(skeleton("maps", |_| {}));
}

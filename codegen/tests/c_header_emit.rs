//! The header emitter on small synthetic BTF, one construct per test: the
//! expected text is the review (each was checked by hand and compiles with
//! clang, see `every_snapshot_compiles`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::sync::Arc;

use bpf2rs_codegen::c_header::{self, HeaderError};
use bpf2rs_reader::btf::testing::{BtfBuilder, SIGNED, UNSIGNED};
use bpf2rs_reader::btf::{Btf, TypeId};

/// The header of `b`'s BTF, without the guard and pragma lines.
fn body(b: &BtfBuilder) -> String {
    let btf = Btf::parse(&b.bytes()).unwrap();
    strip(&c_header::generate(&btf).unwrap())
}

fn strip(text: &str) -> String {
    let start = text.find("#endif\n\n").unwrap() + "#endif\n\n".len();
    let end = text.rfind("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX").unwrap();
    text[start..end].to_owned()
}

#[test]
fn guard_and_pragma_wrap_the_types() {
    let mut b = BtfBuilder::new();
    b.int("int", 4, SIGNED);
    let btf = Btf::parse(&b.bytes()).unwrap();
    let text = c_header::generate(&btf).unwrap();
    assert_eq!(
        text,
        "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n\
         #ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
         #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
         #endif\n\n\
         #ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
         #pragma clang attribute pop\n\
         #endif\n\n\
         #endif /* __VMLINUX_H__ */\n"
    );
}

fn bitfields() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let uint = b.int("unsigned int", 4, UNSIGNED);
    let int = b.int("int", 4, SIGNED);
    let long = b.int("long", 8, SIGNED);
    b.bitfield_struct(
        "flags",
        16,
        &[
            ("a", uint, 0, 3),
            ("b", int, 3, 5),
            ("c", uint, 32, 1),
            ("d", long, 64, 0),
        ],
    );
    b
}

#[test]
fn bitfields_keep_widths_and_offsets() {
    assert_eq!(
        body(&bitfields()),
        "struct flags {\n\
         \tunsigned int a: 3;\n\
         \tint b: 5;\n\
         \tint: 24;\n\
         \tunsigned int c: 1;\n\
         \tlong d;\n\
         };\n\n"
    );
}

fn packed_and_aligned() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let char_ = b.int("char", 1, SIGNED);
    let int = b.int("int", 4, SIGNED);
    // `char a; int b;` in 5 bytes: only `packed` explains it.
    b.struct_("tight", 5, &[("a", char_, 0), ("b", int, 8)]);
    // `int a;` in 8 bytes: aligned(8), and its one user agrees.
    let wide = b.struct_("wide", 8, &[("a", int, 0)]);
    b.struct_("holder", 16, &[("x", int, 0), ("w", wide, 64)]);
    // The same shape, but embedded at offset 4: no attribute, padding only.
    let odd = b.struct_("odd", 8, &[("a", int, 0)]);
    b.struct_("odd_holder", 12, &[("x", int, 0), ("o", odd, 32)]);
    b
}

#[test]
fn packed_and_over_aligned_structs_are_detected() {
    assert_eq!(
        body(&packed_and_aligned()),
        "struct tight {\n\
         \tchar a;\n\
         \tint b;\n\
         } __attribute__((packed));\n\n\
         struct wide {\n\
         \tint a;\n\
         \tlong: 0;\n\
         } __attribute__((aligned(8)));\n\n\
         struct holder {\n\
         \tint x;\n\
         \tlong: 0;\n\
         \tstruct wide w;\n\
         };\n\n\
         struct odd {\n\
         \tint a;\n\
         \tlong: 0;\n\
         };\n\n\
         struct odd_holder {\n\
         \tint x;\n\
         \tstruct odd o;\n\
         };\n\n"
    );
}

fn anonymous_nesting() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let color = b.enum_("", 4, false, &[("RED", 0), ("GREEN", 1)]);
    let inner = b.struct_("", 8, &[("lo", int, 0), ("hi", int, 32)]);
    let u = b.union_("", 8, &[("", inner, 0), ("raw", int, 0)]);
    b.struct_("outer", 12, &[("", u, 0), ("color", color, 64)]);
    // Nothing refers to this one: constants at top level.
    b.enum_("", 4, false, &[("MAX_THINGS", 16)]);
    b
}

#[test]
fn anonymous_types_are_defined_inline() {
    assert_eq!(
        body(&anonymous_nesting()),
        "struct outer {\n\
         \tunion {\n\
         \t\tstruct {\n\
         \t\t\tint lo;\n\
         \t\t\tint hi;\n\
         \t\t};\n\
         \t\tint raw;\n\
         \t};\n\
         \tenum {\n\
         \t\tRED = 0,\n\
         \t\tGREEN = 1,\n\
         \t} color;\n\
         };\n\n\
         enum {\n\
         \tMAX_THINGS = 16,\n\
         };\n\n"
    );
}

fn enums() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    b.enum64("big", 8, false, &[("BIG_LOW", 1), ("BIG_HIGH", 1 << 40)]);
    b.enum64(
        "small64",
        8,
        true,
        &[("S_NEG", (-1i64) as u64), ("S_ONE", 1)],
    );
    b.enum64("word", 8, false, &[("W_ONE", 1)]);
    b.enum_("byte", 1, false, &[("B_ONE", 1)]);
    b.enum_("neg", 4, true, &[("N_MIN", -2_147_483_648)]);
    b
}

#[test]
fn enums_carry_suffixes_and_sizes() {
    assert_eq!(
        body(&enums()),
        "enum big {\n\
         \tBIG_LOW = 1ULL,\n\
         \tBIG_HIGH = 1099511627776ULL,\n\
         };\n\n\
         enum small64 {\n\
         \tS_NEG = -1LL,\n\
         \tS_ONE = 1LL,\n\
         };\n\n\
         enum word {\n\
         \tW_ONE = 1ULL,\n\
         } __attribute__((mode(word)));\n\n\
         enum byte {\n\
         \tB_ONE = 1,\n\
         } __attribute__((mode(byte)));\n\n\
         enum neg {\n\
         \tN_MIN = -2147483648,\n\
         };\n\n"
    );
}

fn forward_and_order() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    // struct a { struct b b; };  struct b { struct a *a; node_t *n; };
    // typedef struct node node_t;  struct node { node_t *next; };
    let a_id = b.next_id();
    let b_id = TypeId(a_id.0 + 1);
    b.struct_("a", 16, &[("b", b_id, 0)]);
    let ptr_a = TypeId(b_id.0 + 1);
    let node_t = TypeId(b_id.0 + 3);
    let ptr_node_t = TypeId(b_id.0 + 4);
    b.struct_("b", 16, &[("a", ptr_a, 0), ("n", ptr_node_t, 64)]);
    b.ptr(a_id);
    let node = b.next_id();
    b.struct_("node", 16, &[("next", ptr_node_t, 0), ("v", int, 64)]);
    assert_eq!(b.typedef("node_t", node), node_t);
    b.ptr(node_t);
    b.fwd("opaque", false);
    b
}

#[test]
fn dependencies_first_and_forward_declarations_for_pointers() {
    assert_eq!(
        body(&forward_and_order()),
        "struct a;\n\n\
         struct node;\n\n\
         typedef struct node node_t;\n\n\
         struct b {\n\
         \tstruct a *a;\n\
         \tnode_t *n;\n\
         };\n\n\
         struct a {\n\
         \tstruct b b;\n\
         };\n\n\
         struct node {\n\
         \tnode_t *next;\n\
         \tint v;\n\
         };\n\n\
         struct opaque;\n\n"
    );
}

fn function_pointers() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let char_ = b.int("char", 1, SIGNED);
    let cchar = b.const_(char_);
    let pcchar = b.ptr(cchar);
    let log = b.func_proto(int, &[("fmt", pcchar), ("", TypeId::VOID)]);
    let plog = b.ptr(log);
    let noargs = b.func_proto(TypeId::VOID, &[]);
    let pnoargs = b.ptr(noargs);
    let idx = b.int("__ARRAY_SIZE_TYPE__", 4, UNSIGNED);
    let table = b.array(pnoargs, idx, 2);
    let cb_t = b.typedef("cb_t", plog);
    let pint = b.ptr(int);
    let cpint = b.const_(pint);
    let vint = b.volatile(int);
    let pvint = b.ptr(vint);
    let rpint = b.restrict(pint);
    b.struct_(
        "ops",
        56,
        &[
            ("log", plog, 0),
            ("table", table, 64),
            ("cb", cb_t, 192),
            ("fixed", cpint, 256),
            ("reg", pvint, 320),
            ("r", rpint, 384),
        ],
    );
    b.func("do_log", log, 1);
    b
}

#[test]
fn function_pointers_arrays_and_qualifiers() {
    assert_eq!(
        body(&function_pointers()),
        "typedef int (*cb_t)(const char *fmt, ...);\n\n\
         struct ops {\n\
         \tint (*log)(const char *fmt, ...);\n\
         \tvoid (*table[2])(void);\n\
         \tcb_t cb;\n\
         \tint * const fixed;\n\
         \tvolatile int *reg;\n\
         \tint * restrict r;\n\
         };\n\n"
    );
}

fn duplicates() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let long = b.int("long", 8, SIGNED);
    b.struct_("dup", 4, &[("x", int, 0)]);
    b.struct_("dup", 8, &[("y", long, 0)]);
    b.enum_("e1", 4, false, &[("SAME", 1)]);
    b.enum_("e2", 4, false, &[("SAME", 2)]);
    b
}

#[test]
fn duplicate_names_get_numbered_suffixes() {
    assert_eq!(
        body(&duplicates()),
        "struct dup {\n\
         \tint x;\n\
         };\n\n\
         struct dup___2 {\n\
         \tlong y;\n\
         };\n\n\
         enum e1 {\n\
         \tSAME = 1,\n\
         };\n\n\
         enum e2 {\n\
         \tSAME___2 = 2,\n\
         };\n\n"
    );
}

fn type_tags() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let tagged = b.type_tag("rcu", int);
    let p = b.ptr(tagged);
    b.struct_("tagged", 8, &[("p", p, 0)]);
    b
}

#[test]
fn type_tags_print_through_a_guarded_macro() {
    let btf = Btf::parse(&type_tags().bytes()).unwrap();
    let text = c_header::generate(&btf).unwrap();
    assert!(text.contains(
        "#if __has_attribute(btf_type_tag) && !defined(BPF_NO_TYPE_TAGS)\n\
         #define __bpf2rs_type_tag(x) __attribute__((btf_type_tag(x)))\n"
    ));
    assert!(
        text.contains("struct tagged {\n\tint __bpf2rs_type_tag(\"rcu\") *p;\n};"),
        "{text}"
    );
}

#[test]
fn split_btf_prints_base_and_module_types() {
    let mut base = BtfBuilder::new();
    let int = base.int("int", 4, SIGNED);
    base.struct_("base_thing", 4, &[("x", int, 0)]);
    let base_btf = Arc::new(Btf::parse(&base.bytes()).unwrap());
    let mut module = BtfBuilder::split(base_btf.len(), base_btf.strings_len());
    let thing = base_btf
        .find_by_name("base_thing", bpf2rs_reader::btf::Kind::Struct)
        .unwrap();
    module.struct_("mod_thing", 8, &[("t", thing, 0), ("y", int, 32)]);
    let btf = Btf::parse_split(&module.bytes(), base_btf).unwrap();
    let text = strip(&c_header::generate(&btf).unwrap());
    assert_eq!(
        text,
        "struct base_thing {\n\tint x;\n};\n\n\
         struct mod_thing {\n\tstruct base_thing t;\n\tint y;\n};\n\n"
    );
}

#[test]
fn a_struct_containing_itself_is_an_error() {
    let mut b = BtfBuilder::new();
    let me = b.next_id();
    b.struct_("me", 8, &[("again", me, 0)]);
    let btf = Btf::parse(&b.bytes()).unwrap();
    let err = c_header::generate(&btf).unwrap_err();
    assert!(matches!(err, HeaderError::Cycle { .. }), "{err}");
}

/// A name, its BTF, and `(C type, sizeof)` to check.
type Case = (&'static str, BtfBuilder, &'static [(&'static str, u32)]);

/// Every synthetic header above compiles for BPF, with the layouts BTF
/// says (sizes checked with `_Static_assert`).
#[test]
fn every_snapshot_compiles() {
    let cases: [Case; 8] = [
        ("bitfields", bitfields(), &[("struct flags", 16)]),
        (
            "packed",
            packed_and_aligned(),
            &[
                ("struct tight", 5),
                ("struct wide", 8),
                ("struct holder", 16),
                ("struct odd_holder", 12),
            ],
        ),
        ("anon", anonymous_nesting(), &[("struct outer", 12)]),
        (
            "enums",
            enums(),
            &[("enum big", 8), ("enum word", 8), ("enum byte", 1)],
        ),
        (
            "order",
            forward_and_order(),
            &[("struct a", 16), ("struct node", 16)],
        ),
        ("fnptr", function_pointers(), &[("struct ops", 56)]),
        ("dups", duplicates(), &[("struct dup___2", 8)]),
        ("tags", type_tags(), &[("struct tagged", 8)]),
    ];
    let dir = std::env::temp_dir().join(format!("bpf2rs-c-emit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, b, sizes) in cases {
        let btf = Btf::parse(&b.bytes()).unwrap();
        let mut c = c_header::generate(&btf).unwrap();
        for (ty, size) in sizes {
            c.push_str(&format!(
                "_Static_assert(sizeof({ty}) == {size}, \"{ty}\");\n"
            ));
        }
        let file = dir.join(format!("{name}.c"));
        std::fs::write(&file, c).unwrap();
        let out = std::process::Command::new("clang-19")
            // A header of enums only leaves the pragma unused: that warning is fine.
            .args(["-target", "bpf", "-fsyntax-only", "-Werror"])
            .arg("-Wno-pragma-clang-attribute")
            .arg(&file)
            .output()
            .expect("clang-19 is needed for this test");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

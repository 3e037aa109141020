//! CO-RE resolution over pairs of BTF that differ the ways kernels differ:
//! moved and renamed fields, `___flavor` types, missing fields and types,
//! anonymous unions, arrays, bitfields, resized fields and changed enums.
//! Each case builds a local (object) and a target (kernel) BTF with the
//! test builder and checks the value the instruction would get.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::sync::Arc;

use bpf2rs::btf::ext::{CoreRelo, CoreReloKind as K};
use bpf2rs::btf::testing::*;
use bpf2rs::btf::*;
use bpf2rs::load::co_re::{essential_name, resolve, CoreError, CoreTarget, Resolution};

fn parse(b: &BtfBuilder) -> Btf {
    Btf::parse(&b.bytes()).unwrap_or_else(|e| panic!("builder output must parse: {e}"))
}

fn target(b: &BtfBuilder) -> CoreTarget {
    CoreTarget::new(Arc::new(parse(b)))
}

/// Resolves `kind` of `access` from local type `ty` (the access string is
/// added to the local builder's strings before it is parsed).
fn run(
    local: &mut BtfBuilder,
    ty: TypeId,
    access: &str,
    kind: K,
    tgt: &CoreTarget,
) -> Result<Resolution, CoreError> {
    let access = Name(local.string(access));
    let btf = parse(local);
    resolve(
        &btf,
        &CoreRelo {
            insn_off: 0,
            type_id: ty,
            access,
            kind,
        },
        tgt,
    )
}

fn val(local: &mut BtfBuilder, ty: TypeId, access: &str, kind: K, tgt: &CoreTarget) -> (u64, u64) {
    let r = run(local, ty, access, kind, tgt).unwrap();
    assert!(!r.poison, "{} poisoned", r.description);
    (r.orig_val, r.new_val)
}

/// Local `struct foo { int a; int b; }` (ids: 1 int, 2 foo).
fn local_foo(name: &str) -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    b.struct_(name, 8, &[("a", int, 0), ("b", int, 32)]);
    b
}

#[test]
fn essential_names_drop_the_flavor() {
    assert_eq!(essential_name("task_struct___old"), "task_struct");
    assert_eq!(essential_name("task_struct___5_10"), "task_struct");
    assert_eq!(essential_name("a___b___c"), "a___b");
    assert_eq!(essential_name("____x"), "____x");
    assert_eq!(essential_name("foo"), "foo");
    assert_eq!(essential_name("foo____"), "foo____");
}

#[test]
fn moved_field_gets_the_target_offset() {
    let mut l = local_foo("foo");
    let mut t = BtfBuilder::new();
    let int = t.int("int", 4, SIGNED);
    let long = t.int("long", 8, SIGNED);
    t.struct_(
        "foo",
        24,
        &[
            ("x", int, 0),
            ("a", int, 32),
            ("pad", long, 64),
            ("b", int, 128),
        ],
    );
    let tgt = target(&t);
    assert_eq!(
        val(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_OFFSET, &tgt),
        (4, 16)
    );
    assert_eq!(
        val(&mut l, TypeId(2), "0:0", K::FIELD_BYTE_OFFSET, &tgt),
        (0, 4)
    );
    assert_eq!(
        val(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_SIZE, &tgt),
        (4, 4)
    );
    assert_eq!(val(&mut l, TypeId(2), "0:1", K::FIELD_EXISTS, &tgt), (1, 1));
    assert_eq!(val(&mut l, TypeId(2), "0:1", K::FIELD_SIGNED, &tgt), (1, 1));
    // The root index is pointer arithmetic on the whole struct.
    assert_eq!(
        val(&mut l, TypeId(2), "2:1", K::FIELD_BYTE_OFFSET, &tgt),
        (20, 64)
    );
    let r = run(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_OFFSET, &tgt).unwrap();
    assert_eq!(r.description, "byte_off struct foo.b (0:1)");
    assert_eq!(r.target.as_deref(), Some("[3] 0:3"));
}

#[test]
fn flavored_local_type_matches_the_plain_target_name() {
    let mut l = local_foo("foo___v2");
    let mut t = BtfBuilder::new();
    let int = t.int("int", 4, SIGNED);
    t.struct_("foo", 12, &[("b", int, 0), ("a", int, 64)]);
    let tgt = target(&t);
    assert_eq!(
        val(&mut l, TypeId(2), "0:0", K::FIELD_BYTE_OFFSET, &tgt),
        (0, 8)
    );
    assert_eq!(
        val(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_OFFSET, &tgt),
        (4, 0)
    );
}

#[test]
fn renamed_field_through_flavors_old_name_missing_new_name_found() {
    // Kernels renamed task_struct.state to __state; tools declare both.
    let mut l = BtfBuilder::new();
    let int = l.int("int", 4, SIGNED);
    let old = l.struct_("task___old", 4, &[("state", int, 0)]);
    let new = l.struct_("task", 4, &[("__state", int, 0)]);
    let mut t = BtfBuilder::new();
    let tint = t.int("int", 4, SIGNED);
    t.struct_("task", 16, &[("pid", tint, 0), ("__state", tint, 96)]);
    let tgt = target(&t);
    assert_eq!(val(&mut l, old, "0:0", K::FIELD_EXISTS, &tgt), (1, 0));
    assert_eq!(val(&mut l, new, "0:0", K::FIELD_EXISTS, &tgt), (1, 1));
    assert_eq!(val(&mut l, new, "0:0", K::FIELD_BYTE_OFFSET, &tgt), (0, 12));
    let r = run(&mut l, old, "0:0", K::FIELD_BYTE_OFFSET, &tgt).unwrap();
    assert!(
        r.poison,
        "a read of a missing field is poisoned, not an error"
    );
    assert_eq!(r.description, "byte_off struct task___old.state (0:0)");
}

#[test]
fn missing_type_poisons_reads_and_answers_existence_with_zero() {
    let mut l = local_foo("nowhere");
    let mut t = BtfBuilder::new();
    t.int("int", 4, SIGNED);
    let tgt = target(&t);
    assert!(
        run(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_OFFSET, &tgt)
            .unwrap()
            .poison
    );
    assert!(
        run(&mut l, TypeId(2), "0", K::TYPE_SIZE, &tgt)
            .unwrap()
            .poison
    );
    assert!(
        run(&mut l, TypeId(2), "0", K::TYPE_ID_TARGET, &tgt)
            .unwrap()
            .poison
    );
    assert_eq!(val(&mut l, TypeId(2), "0", K::TYPE_EXISTS, &tgt), (1, 0));
    assert_eq!(val(&mut l, TypeId(2), "0", K::TYPE_MATCHES, &tgt), (1, 0));
    assert_eq!(val(&mut l, TypeId(2), "0:0", K::FIELD_EXISTS, &tgt), (1, 0));
    // The local id needs no target.
    assert_eq!(val(&mut l, TypeId(2), "0", K::TYPE_ID_LOCAL, &tgt), (2, 2));
}

#[test]
fn field_inside_an_anonymous_union_is_found() {
    let mut l = local_foo("foo");
    let mut t = BtfBuilder::new();
    let int = t.int("int", 4, SIGNED);
    let anon = t.union_("", 4, &[("b", int, 0), ("b_alias", int, 0)]);
    t.struct_(
        "foo",
        12,
        &[("a", int, 0), ("pad", int, 32), ("", anon, 64)],
    );
    let tgt = target(&t);
    assert_eq!(
        val(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_OFFSET, &tgt),
        (4, 8)
    );
    let r = run(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_OFFSET, &tgt).unwrap();
    assert_eq!(r.target.as_deref(), Some("[3] 0:2:0"));
}

#[test]
fn array_elements_and_nested_structs() {
    // struct outer { long x; struct inner { int v[4]; } in; }
    let mut l = BtfBuilder::new();
    let int = l.int("int", 4, SIGNED);
    let long = l.int("long", 8, SIGNED);
    let arr = l.array(int, int, 4);
    let inner = l.struct_("inner", 16, &[("v", arr, 0)]);
    let outer = l.struct_("outer", 24, &[("x", long, 0), ("in", inner, 64)]);
    let mut t = BtfBuilder::new();
    let tint = t.int("int", 4, SIGNED);
    let tarr = t.array(tint, tint, 8);
    let tinner = t.struct_("inner", 36, &[("pad", tint, 0), ("v", tarr, 32)]);
    t.struct_(
        "outer",
        48,
        &[("in", tinner, 0), ("y", tint, 288), ("x", tint, 320)],
    );
    let tgt = target(&t);
    // outer.in.v[2]: local 8 + 0 + 8 = 16; target 0 + 4 + 8 = 12.
    assert_eq!(
        val(&mut l, outer, "0:1:0:2", K::FIELD_BYTE_OFFSET, &tgt),
        (16, 12)
    );
    assert_eq!(
        val(&mut l, outer, "0:1:0:2", K::FIELD_BYTE_SIZE, &tgt),
        (4, 4)
    );
    // Index beyond the target's array: no match.
    let mut t2 = BtfBuilder::new();
    let t2int = t2.int("int", 4, SIGNED);
    let t2arr = t2.array(t2int, t2int, 2);
    let t2inner = t2.struct_("inner", 8, &[("v", t2arr, 0)]);
    t2.struct_("outer", 16, &[("x", t2int, 0), ("in", t2inner, 32)]);
    let tgt2 = target(&t2);
    assert_eq!(
        val(&mut l, outer, "0:1:0:3", K::FIELD_EXISTS, &tgt2),
        (1, 0)
    );
    // A field whose type changed kind (long -> struct) does not match.
    let _ = (inner, long);
}

#[test]
fn incompatible_field_kind_is_not_a_match() {
    let mut l = local_foo("foo");
    let mut t = BtfBuilder::new();
    let int = t.int("int", 4, SIGNED);
    let s = t.struct_("bar", 4, &[("z", int, 0)]);
    let p = t.ptr(int);
    t.struct_("foo", 16, &[("a", p, 0), ("b", s, 64)]);
    let tgt = target(&t);
    assert_eq!(val(&mut l, TypeId(2), "0:0", K::FIELD_EXISTS, &tgt), (1, 0));
    assert_eq!(val(&mut l, TypeId(2), "0:1", K::FIELD_EXISTS, &tgt), (1, 0));
}

#[test]
fn bitfields_give_shifts_and_load_sizes() {
    // struct flags { unsigned int lo:3, mid:7; int s:5; }
    let mut l = BtfBuilder::new();
    let uint = l.int("unsigned int", 4, UNSIGNED);
    let int = l.int("int", 4, SIGNED);
    let flags = l.bitfield_struct(
        "flags",
        4,
        &[("lo", uint, 0, 3), ("mid", uint, 3, 7), ("s", int, 10, 5)],
    );
    // Target: mid moved to bits 30..37, crossing a 4-byte boundary.
    let mut t = BtfBuilder::new();
    let tuint = t.int("unsigned int", 4, UNSIGNED);
    let tint = t.int("int", 4, SIGNED);
    t.bitfield_struct(
        "flags",
        8,
        &[
            ("lo", tuint, 0, 3),
            ("s", tint, 3, 5),
            ("mid", tuint, 30, 7),
        ],
    );
    let tgt = target(&t);
    assert_eq!(
        val(&mut l, flags, "0:1", K::FIELD_BYTE_OFFSET, &tgt),
        (0, 0)
    );
    assert_eq!(val(&mut l, flags, "0:1", K::FIELD_BYTE_SIZE, &tgt), (4, 8));
    // lshift = 64 - (bit_off + bit_sz - byte_off*8); rshift = 64 - bit_sz.
    assert_eq!(
        val(&mut l, flags, "0:1", K::FIELD_LSHIFT_U64, &tgt),
        (54, 27)
    );
    assert_eq!(
        val(&mut l, flags, "0:1", K::FIELD_RSHIFT_U64, &tgt),
        (57, 57)
    );
    assert_eq!(val(&mut l, flags, "0:1", K::FIELD_SIGNED, &tgt), (0, 0));
    assert_eq!(val(&mut l, flags, "0:2", K::FIELD_SIGNED, &tgt), (1, 1));
    assert_eq!(
        val(&mut l, flags, "0:2", K::FIELD_LSHIFT_U64, &tgt),
        (49, 56)
    );
}

#[test]
fn enum_values_follow_the_target_and_missing_ones_poison() {
    let mut l = BtfBuilder::new();
    let e = l.enum_("state", 4, false, &[("ST_A", 0), ("ST_B", 1), ("ST_C", 2)]);
    let mut t = BtfBuilder::new();
    t.enum_("state", 4, false, &[("ST_A", 0), ("ST_C", 5), ("ST_D", 6)]);
    let tgt = target(&t);
    assert_eq!(val(&mut l, e, "2", K::ENUMVAL_VALUE, &tgt), (2, 5));
    assert_eq!(val(&mut l, e, "2", K::ENUMVAL_EXISTS, &tgt), (1, 1));
    assert_eq!(val(&mut l, e, "1", K::ENUMVAL_EXISTS, &tgt), (1, 0));
    let r = run(&mut l, e, "1", K::ENUMVAL_VALUE, &tgt).unwrap();
    assert!(r.poison);
    assert_eq!(r.description, "enumval_value enum state::ST_B (1)");
    // A flavored enumerator name and an ENUM64 target also match.
    let mut l2 = BtfBuilder::new();
    let e2 = l2.enum_("state___new", 4, false, &[("ST_D___x", 6)]);
    let mut t2 = BtfBuilder::new();
    t2.enum64("state", 8, false, &[("ST_D", 1 << 40)]);
    let tgt2 = target(&t2);
    assert_eq!(val(&mut l2, e2, "0", K::ENUMVAL_VALUE, &tgt2), (6, 1 << 40));
}

#[test]
fn type_relocations_size_id_exists_and_matches() {
    let mut l = local_foo("foo");
    let mut t = BtfBuilder::new();
    let int = t.int("int", 4, SIGNED);
    let foo = t.struct_("foo", 32, &[("a", int, 0), ("b", int, 32), ("c", int, 64)]);
    t.struct_("other", 4, &[("a", int, 0)]);
    let tgt = target(&t);
    assert_eq!(val(&mut l, TypeId(2), "0", K::TYPE_SIZE, &tgt), (8, 32));
    assert_eq!(
        val(&mut l, TypeId(2), "0", K::TYPE_ID_TARGET, &tgt),
        (2, u64::from(foo.0))
    );
    assert_eq!(val(&mut l, TypeId(2), "0", K::TYPE_EXISTS, &tgt), (1, 1));
    // Every local member is in the target with the same type: matches.
    assert_eq!(val(&mut l, TypeId(2), "0", K::TYPE_MATCHES, &tgt), (1, 1));
    // A local member the target lacks: exists, but does not match.
    let mut l2 = BtfBuilder::new();
    let i2 = l2.int("int", 4, SIGNED);
    let f2 = l2.struct_("foo", 4, &[("zz", i2, 0)]);
    assert_eq!(val(&mut l2, f2, "0", K::TYPE_EXISTS, &tgt), (1, 1));
    assert_eq!(val(&mut l2, f2, "0", K::TYPE_MATCHES, &tgt), (1, 0));
}

#[test]
fn candidates_disagreeing_is_an_error() {
    let mut l = local_foo("foo");
    let mut t = BtfBuilder::new();
    let int = t.int("int", 4, SIGNED);
    t.struct_("foo", 8, &[("a", int, 0), ("b", int, 32)]);
    t.struct_("foo___other", 12, &[("a", int, 0), ("b", int, 64)]);
    let tgt = target(&t);
    let err = run(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_OFFSET, &tgt).unwrap_err();
    assert!(matches!(err, CoreError::Ambiguous { .. }), "{err}");
    // Agreeing candidates are fine.
    assert_eq!(
        val(&mut l, TypeId(2), "0:0", K::FIELD_BYTE_OFFSET, &tgt),
        (0, 0)
    );
}

#[test]
fn resized_fields_change_load_size_only_when_safe() {
    // local: u32 len; int cnt;   target: u64 len; long cnt;
    let mut l = BtfBuilder::new();
    let u32_ = l.int("unsigned int", 4, UNSIGNED);
    let i32_ = l.int("int", 4, SIGNED);
    let s = l.struct_("buf", 8, &[("len", u32_, 0), ("cnt", i32_, 32)]);
    let mut t = BtfBuilder::new();
    let u64_ = t.int("unsigned long", 8, UNSIGNED);
    let i64_ = t.int("long", 8, SIGNED);
    t.struct_("buf", 16, &[("len", u64_, 0), ("cnt", i64_, 64)]);
    let tgt = target(&t);
    let len = run(&mut l, s, "0:0", K::FIELD_BYTE_OFFSET, &tgt).unwrap();
    assert_eq!(
        (len.orig_size, len.new_size, len.fail_memsz_adjust),
        (4, 8, false)
    );
    let cnt = run(&mut l, s, "0:1", K::FIELD_BYTE_OFFSET, &tgt).unwrap();
    assert_eq!((cnt.new_val, cnt.fail_memsz_adjust), (8, true));
}

#[test]
fn malformed_access_strings_are_errors() {
    let mut l = local_foo("foo");
    let tgt = target(&local_foo("foo"));
    for bad in ["", "0:x", "0:9", "1", "0:0:0"] {
        let kind = if bad == "1" {
            K::TYPE_SIZE
        } else {
            K::FIELD_BYTE_OFFSET
        };
        let err = run(&mut l, TypeId(2), bad, kind, &tgt);
        assert!(matches!(err, Err(CoreError::Invalid(_))), "{bad}: {err:?}");
    }
}

#[test]
fn module_types_are_candidates_only_when_vmlinux_has_none() {
    let mut v = BtfBuilder::new();
    let int = v.int("int", 4, SIGNED);
    v.struct_("in_both", 8, &[("a", int, 0), ("b", int, 32)]);
    let vmlinux = Arc::new(parse(&v));
    let mut m = BtfBuilder::split(vmlinux.len(), vmlinux.strings_len());
    // Module types refer to vmlinux's int by its id.
    m.struct_("foo", 12, &[("x", int, 0), ("b", int, 32), ("a", int, 64)]);
    m.struct_("in_both", 8, &[("b", int, 0), ("a", int, 32)]);
    let module = Arc::new(Btf::parse_split(&m.bytes(), vmlinux.clone()).unwrap());
    let mut tgt = CoreTarget::new(vmlinux);
    tgt.add_module("bpf2rs_mod", module);

    let mut l = local_foo("foo");
    assert_eq!(
        val(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_OFFSET, &tgt),
        (4, 4)
    );
    assert_eq!(
        val(&mut l, TypeId(2), "0:0", K::FIELD_BYTE_OFFSET, &tgt),
        (0, 8)
    );
    let r = run(&mut l, TypeId(2), "0:0", K::FIELD_BYTE_OFFSET, &tgt).unwrap();
    assert_eq!(r.target.as_deref(), Some("bpf2rs_mod [3] 0:2"));
    // vmlinux wins when it has the type.
    let mut l = local_foo("in_both");
    assert_eq!(
        val(&mut l, TypeId(2), "0:1", K::FIELD_BYTE_OFFSET, &tgt),
        (4, 4)
    );
}

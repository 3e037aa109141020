//! BTF -> layout IR decisions, one small BTF per case, built with the
//! runtime's test BTF builder (no hex blobs): explicit padding, `packed`
//! and `align(N)` inference, bitfield storage in both BTF encodings,
//! anonymous member and type naming, typedefs of anonymous structs,
//! keyword escaping, and enum representation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs_codegen::ir::{
    self, Bitfield, EnumItem, FieldKind, GetterTy, Item, Items, Root, RustTy, StructItem,
};
use bpf2rs_reader::btf::testing::{BtfBuilder, BOOL, CHAR, SIGNED, UNSIGNED};
use bpf2rs_reader::btf::{Btf, TypeId};

/// Builds the IR for `roots` (each with the context an anonymous root gets).
fn build(b: &BtfBuilder, roots: &[TypeId]) -> Items {
    try_build(b, roots).unwrap_or_else(|e| panic!("{e}"))
}

fn try_build(b: &BtfBuilder, roots: &[TypeId]) -> Result<Items, ir::TypesError> {
    let btf = Btf::parse(&b.bytes()).unwrap();
    let roots: Vec<Root> = roots
        .iter()
        .map(|&id| Root {
            id,
            context: format!("root_{}", id.0),
        })
        .collect();
    ir::build(&btf, &roots, false)
}

fn strukt<'a>(items: &'a Items, name: &str) -> &'a StructItem {
    match items.items.get(name) {
        Some(Item::Struct(s)) => s,
        other => panic!(
            "no struct `{name}` (got {other:?}); items: {:?}",
            items.items.keys().collect::<Vec<_>>()
        ),
    }
}

fn enumeration<'a>(items: &'a Items, name: &str) -> &'a EnumItem {
    match items.items.get(name) {
        Some(Item::Enum(e)) => e,
        other => panic!("no enum `{name}` (got {other:?})"),
    }
}

/// A Rust type as it would be spelled (`[u8; 3]`, `i32`, `holder__peer`).
fn spell(t: &RustTy) -> String {
    match t {
        RustTy::Prim(p) => (*p).to_owned(),
        RustTy::Bool => "Bool".to_owned(),
        RustTy::Named(n) => n.clone(),
        RustTy::Array(e, n) => format!("[{}; {n}]", spell(e)),
    }
}

/// (name, type, byte offset) of every field, padding and storage included.
fn fields(s: &StructItem) -> Vec<(String, String, u32)> {
    s.fields
        .iter()
        .map(|f| (f.name.clone(), spell(&f.ty), f.offset))
        .collect()
}

/// `want` (name, type, byte offset) in the form [`fields`] returns.
fn owned_fields(want: &[(&str, &str, u32)]) -> Vec<(String, String, u32)> {
    want.iter()
        .map(|(n, t, o)| ((*n).to_owned(), (*t).to_owned(), *o))
        .collect()
}

fn expect_fields(s: &StructItem, want: &[(&str, &str, u32)]) {
    assert_eq!(fields(s), owned_fields(want), "fields of {}", s.name);
}

/// (name, storage, bit offset in storage, bits, signed) of every bitfield.
fn bitfields(s: &StructItem) -> Vec<(&str, &str, u32, u32, bool)> {
    s.bitfields
        .iter()
        .map(|b: &Bitfield| {
            (
                b.name.as_str(),
                b.storage.as_str(),
                b.bit_offset,
                b.bits,
                b.signed,
            )
        })
        .collect()
}

/// The common scalar types, added first so ids are predictable.
struct Scalars {
    char: TypeId,
    int: TypeId,
    uint: TypeId,
    ushort: TypeId,
    ulong: TypeId,
}

fn scalars(b: &mut BtfBuilder) -> Scalars {
    Scalars {
        char: b.int("char", 1, SIGNED | CHAR),
        int: b.int("int", 4, SIGNED),
        uint: b.int("unsigned int", 4, UNSIGNED),
        ushort: b.int("unsigned short", 2, UNSIGNED),
        ulong: b.int("unsigned long", 8, UNSIGNED),
    }
}

// ---- padding -------------------------------------------------------------

#[test]
fn padding_fields_fill_every_gap_and_the_tail() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    // struct s { char a; int b; char c; };
    let s = b.struct_(
        "s",
        12,
        &[("a", t.char, 0), ("b", t.int, 32), ("c", t.char, 64)],
    );
    let items = build(&b, &[s]);
    let s = strukt(&items, "s");
    expect_fields(
        s,
        &[
            ("a", "u8", 0),
            ("__pad_1", "[u8; 3]", 1),
            ("b", "i32", 4),
            ("c", "u8", 8),
            ("__pad_9", "[u8; 3]", 9),
        ],
    );
    let kinds: Vec<FieldKind> = s.fields.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            FieldKind::Member,
            FieldKind::Padding,
            FieldKind::Member,
            FieldKind::Member,
            FieldKind::Padding
        ]
    );
    assert_eq!(
        (s.size, s.align, s.packed, s.align_attr),
        (12, 4, false, None)
    );
}

#[test]
fn padding_table() {
    // (what, size, members, expected fields)
    type Case = (
        &'static str,
        u32,
        Vec<(&'static str, usize, u32)>,
        Vec<(&'static str, &'static str, u32)>,
    );
    let cases: Vec<Case> = vec![
        (
            "no padding",
            8,
            vec![("a", 1, 0), ("b", 1, 32)],
            vec![("a", "i32", 0), ("b", "i32", 4)],
        ),
        (
            "u64 after a char",
            16,
            vec![("a", 0, 0), ("b", 4, 64)],
            vec![("a", "u8", 0), ("__pad_1", "[u8; 7]", 1), ("b", "u64", 8)],
        ),
        (
            "tail only",
            16,
            vec![("b", 4, 0), ("a", 0, 64)],
            vec![("b", "u64", 0), ("a", "u8", 8), ("__pad_9", "[u8; 7]", 9)],
        ),
        ("empty struct", 0, vec![], vec![]),
        (
            "flexible array keeps its offset",
            8,
            vec![("len", 2, 0), ("flags", 3, 32), ("data", 5, 48)],
            vec![
                ("len", "u32", 0),
                ("flags", "u16", 4),
                ("data", "[u16; 0]", 6),
                ("__pad_6", "[u8; 2]", 6),
            ],
        ),
    ];
    for (what, size, members, want) in cases {
        let mut b = BtfBuilder::new();
        let t = scalars(&mut b);
        let arr0 = b.array(t.ushort, t.int, 0);
        let pool = [t.char, t.int, t.uint, t.ushort, t.ulong, arr0];
        let ms: Vec<(&str, TypeId, u32)> = members
            .iter()
            .map(|&(n, ty, off)| (n, pool[ty], off))
            .collect();
        let s = b.struct_("s", size, &ms);
        let items = build(&b, &[s]);
        let got = fields(strukt(&items, "s"));
        assert_eq!(got, owned_fields(&want), "{what}");
    }
}

#[test]
fn union_padding_is_one_field_over_the_whole_union() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let arr5 = b.array(t.char, t.int, 5);
    // union u { char c[5]; int i; }: 8 bytes, no member covers all of them.
    let u = b.union_("u", 8, &[("c", arr5, 0), ("i", t.int, 0)]);
    let items = build(&b, &[u]);
    let u = strukt(&items, "u");
    assert!(u.is_union);
    expect_fields(
        u,
        &[
            ("c", "[u8; 5]", 0),
            ("i", "i32", 0),
            ("__pad_0", "[u8; 8]", 0),
        ],
    );
    assert_eq!((u.align, u.align_attr), (4, None));
}

// ---- packed and align(N) -------------------------------------------------

#[test]
fn packed_detection_table() {
    // (what, size, members as (name, type index, bit offset), packed, align)
    type Case = (
        &'static str,
        u32,
        Vec<(&'static str, usize, u32)>,
        bool,
        u32,
    );
    let cases: Vec<Case> = vec![
        (
            "u32 at offset 1",
            5,
            vec![("a", 0, 0), ("b", 2, 8)],
            true,
            1,
        ),
        (
            "u16 at offset 1",
            4,
            vec![("a", 0, 0), ("b", 3, 8), ("c", 0, 24)],
            true,
            1,
        ),
        (
            "size not a multiple of the alignment",
            5,
            vec![("a", 2, 0), ("b", 0, 32)],
            true,
            1,
        ),
        (
            "u64 at offset 4",
            12,
            vec![("a", 2, 0), ("b", 4, 32)],
            true,
            1,
        ),
        ("natural", 8, vec![("a", 0, 0), ("b", 2, 32)], false, 4),
        (
            "chars only",
            3,
            vec![("a", 0, 0), ("b", 0, 8), ("c", 0, 16)],
            false,
            1,
        ),
    ];
    for (what, size, members, packed, align) in cases {
        let mut b = BtfBuilder::new();
        let t = scalars(&mut b);
        let pool = [t.char, t.int, t.uint, t.ushort, t.ulong];
        let ms: Vec<(&str, TypeId, u32)> = members
            .iter()
            .map(|&(n, ty, off)| (n, pool[ty], off))
            .collect();
        let s = b.struct_("s", size, &ms);
        let items = build(&b, &[s]);
        let s = strukt(&items, "s");
        assert_eq!(
            (s.packed, s.align, s.align_attr),
            (packed, align, None),
            "{what}"
        );
        if packed {
            assert!(
                s.fields.iter().all(|f| f.kind == FieldKind::Member),
                "{what}: a packed struct needs no padding fields: {:?}",
                fields(s)
            );
        }
    }
}

// BTF records no alignment: an `aligned(N)` attribute shows only as gaps
// and tail padding, which become explicit `__pad_*` fields, and the type
// keeps its natural alignment, which never exceeds C's.

#[test]
fn aligned_attribute_becomes_explicit_tail_padding() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    // struct aligned_s { int x; } __attribute__((aligned(16)));
    let s = b.struct_("aligned_s", 16, &[("x", t.int, 0)]);
    let items = build(&b, &[s]);
    let s = strukt(&items, "aligned_s");
    assert_eq!((s.align, s.align_attr, s.packed), (4, None, false));
    expect_fields(s, &[("x", "i32", 0), ("__pad_4", "[u8; 12]", 4)]);
}

#[test]
fn over_aligned_member_is_placed_by_explicit_padding() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let al = b.struct_("aligned_s", 16, &[("x", t.int, 0)]);
    // struct holder { char tag; struct aligned_s al; };
    let h = b.struct_("holder", 32, &[("tag", t.char, 0), ("al", al, 128)]);
    let items = build(&b, &[h]);
    let h = strukt(&items, "holder");
    assert_eq!((h.align, h.align_attr, h.packed), (4, None, false));
    expect_fields(
        h,
        &[
            ("tag", "u8", 0),
            ("__pad_1", "[u8; 15]", 1),
            ("al", "aligned_s", 16),
        ],
    );
}

/// The case: `struct event { u64 seq; u32 pid; enum kind;
/// struct packed_hdr hdr; struct wide w; char msg[12]; }` with `wide`
/// aligned(16) is 64 bytes and C alignment 16. The smallest alignment that
/// explains the gap before `w` is 16, a size-based guess was 32; the
/// generator gives 8, with the gap as padding.
#[test]
fn struct_holding_an_aligned_16_member_has_its_natural_alignment() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let hdr = b.struct_(
        "packed_hdr",
        7,
        &[
            ("version", t.char, 0),
            ("length", t.uint, 8),
            ("flags", t.ushort, 40),
        ],
    );
    let wide = b.struct_("wide", 16, &[("lo", t.ulong, 0), ("tag", t.uint, 64)]);
    let msg = b.array(t.char, t.int, 12);
    let event = b.struct_(
        "event",
        64,
        &[
            ("seq", t.ulong, 0),
            ("pid", t.uint, 64),
            ("kind", t.int, 96),
            ("hdr", hdr, 128),
            ("w", wide, 256),
            ("msg", msg, 384),
        ],
    );
    let items = build(&b, &[event]);
    let e = strukt(&items, "event");
    assert_eq!((e.align, e.align_attr, e.packed), (8, None, false));
    expect_fields(
        e,
        &[
            ("seq", "u64", 0),
            ("pid", "u32", 8),
            ("kind", "i32", 12),
            ("hdr", "packed_hdr", 16),
            ("__pad_23", "[u8; 9]", 23),
            ("w", "wide", 32),
            ("msg", "[u8; 12]", 48),
            ("__pad_60", "[u8; 4]", 60),
        ],
    );
    assert_eq!(strukt(&items, "wide").align, 8);
}

/// `struct z { char a; int :0; char b[4]; }` is 8 bytes with alignment 1
/// on x86-64 and BPF: the zero-width bitfield (absent from BTF) leaves the
/// same gap an aligned member would. Inferring 4 from it would exceed C.
#[test]
fn zero_width_bitfield_gap_does_not_raise_the_alignment() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let arr = b.array(t.char, t.int, 4);
    let z = b.struct_("z", 8, &[("a", t.char, 0), ("b", arr, 32)]);
    let items = build(&b, &[z]);
    let z = strukt(&items, "z");
    assert_eq!((z.align, z.align_attr, z.packed), (1, None, false));
    expect_fields(
        z,
        &[
            ("a", "u8", 0),
            ("__pad_1", "[u8; 3]", 1),
            ("b", "[u8; 4]", 4),
        ],
    );
}

#[test]
fn union_with_an_aligned_attribute_is_padded_not_aligned() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    // union u { int a; } __attribute__((aligned(8)));
    let u = b.union_("u", 8, &[("a", t.int, 0)]);
    let items = build(&b, &[u]);
    let u = strukt(&items, "u");
    assert_eq!((u.align, u.align_attr), (4, None));
    expect_fields(u, &[("a", "i32", 0), ("__pad_0", "[u8; 8]", 0)]);
}

#[test]
fn packed_parent_holds_a_member_that_c_over_aligns() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let al = b.struct_("aligned_s", 16, &[("x", t.int, 0)]);
    // struct __attribute__((packed)) p { char c; struct aligned_s al; };
    let p = b.struct_("p", 17, &[("c", t.char, 0), ("al", al, 8)]);
    let items = build(&b, &[p]);
    let p = strukt(&items, "p");
    assert!(p.packed);
    // `aligned_s` has no align(N) attribute, so Rust lets a packed
    // struct hold it by type.
    expect_fields(p, &[("c", "u8", 0), ("al", "aligned_s", 1)]);
}

/// A data section places each variable at (at least) its C alignment, so
/// a struct variable at an offset its natural alignment does not divide
/// shows that C packs the struct: the struct is emitted packed, the
/// section keeps its natural layout and its other fields can be borrowed.
#[test]
fn global_of_a_packed_struct_at_an_odd_offset_makes_the_struct_packed() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    // struct __attribute__((packed)) pair { unsigned a; unsigned b; };
    let pair = b.struct_("pair", 8, &[("a", t.uint, 0), ("b", t.uint, 32)]);
    let flag = b.var("flag", t.char, 1);
    let p = b.var("p", pair, 1);
    let total = b.var("total", t.ulong, 1);
    let sec = b.datasec(".data", 24, &[(flag, 0, 1), (p, 1, 8), (total, 16, 8)]);
    let items = build(&b, &[sec]);
    let pair = strukt(&items, "pair");
    assert_eq!((pair.packed, pair.align), (true, 1));
    let data = strukt(&items, &format!("root_{}", sec.0));
    assert_eq!((data.packed, data.align), (false, 8));
    expect_fields(
        data,
        &[
            ("flag", "u8", 0),
            ("p", "pair", 1),
            ("__pad_9", "[u8; 7]", 9),
            ("total", "u64", 16),
        ],
    );
}

#[test]
fn packed_member_struct_has_alignment_one_inside_its_parent() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    // struct __attribute__((packed)) ps { char a; unsigned b; unsigned short c; };
    let ps = b.struct_(
        "ps",
        7,
        &[("a", t.char, 0), ("b", t.uint, 8), ("c", t.ushort, 40)],
    );
    // struct outer { char tag; struct ps pk; }: pk at offset 1, size 8.
    let o = b.struct_("outer", 8, &[("tag", t.char, 0), ("pk", ps, 8)]);
    let items = build(&b, &[o]);
    let o = strukt(&items, "outer");
    assert!(!o.packed);
    assert_eq!(o.align, 1);
    expect_fields(o, &[("tag", "u8", 0), ("pk", "ps", 1)]);
}

// ---- bitfields -----------------------------------------------------------

/// `struct b { unsigned a:3; int s:5; unsigned short tail; }` in the
/// kind_flag encoding.
fn bits_kind_flag(b: &mut BtfBuilder) -> TypeId {
    let t = scalars(b);
    b.bitfield_struct(
        "b",
        4,
        &[
            ("a", t.uint, 0, 3),
            ("s", t.int, 3, 5),
            ("tail", t.ushort, 16, 0),
        ],
    )
}

/// The same struct in the legacy encoding: the width lives in the INT.
fn bits_legacy(b: &mut BtfBuilder) -> TypeId {
    let t = scalars(b);
    let u3 = b.int_bits("unsigned int", 4, UNSIGNED, 0, 3);
    let s5 = b.int_bits("int", 4, SIGNED, 0, 5);
    b.struct_(
        "b",
        4,
        &[("a", u3, 0), ("s", s5, 3), ("tail", t.ushort, 16)],
    )
}

#[test]
fn bitfields_share_storage_in_both_encodings() {
    for (encoding, make) in [
        ("kind_flag", bits_kind_flag as fn(&mut BtfBuilder) -> TypeId),
        ("legacy", bits_legacy),
    ] {
        let mut b = BtfBuilder::new();
        let s = make(&mut b);
        let items = build(&b, &[s]);
        let s = strukt(&items, "b");
        expect_fields(
            s,
            &[
                ("_bitfield_0", "[u8; 1]", 0),
                ("__pad_1", "[u8; 1]", 1),
                ("tail", "u16", 2),
            ],
        );
        assert_eq!(s.fields[0].kind, FieldKind::BitfieldStorage, "{encoding}");
        assert_eq!(
            bitfields(s),
            [
                ("a", "_bitfield_0", 0, 3, false),
                ("s", "_bitfield_0", 3, 5, true)
            ],
            "{encoding}"
        );
        let getters: Vec<&GetterTy> = s.bitfields.iter().map(|b| &b.getter).collect();
        assert_eq!(
            getters,
            [&GetterTy::Prim("u32"), &GetterTy::Prim("i32")],
            "{encoding}"
        );
        assert_eq!(
            (s.align, s.align_attr, s.packed),
            (4, Some(4), false),
            "{encoding}"
        );
    }
}

#[test]
fn legacy_int_bit_offset_is_added_to_the_member_offset() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    // An INT that itself starts 2 bits in: member at bit 8 -> bit 10.
    let odd = b.int_bits("unsigned int", 4, UNSIGNED, 2, 3);
    let s = b.struct_("s", 4, &[("c", t.char, 0), ("x", odd, 8)]);
    let items = build(&b, &[s]);
    let s = strukt(&items, "s");
    expect_fields(
        s,
        &[
            ("c", "u8", 0),
            ("_bitfield_1", "[u8; 1]", 1),
            ("__pad_2", "[u8; 2]", 2),
        ],
    );
    assert_eq!(bitfields(s), [("x", "_bitfield_1", 2, 3, false)]);
}

#[test]
fn bitfield_grouping_table() {
    // (what, size, bitfields as (name, bit offset, width), storage fields,
    //  bitfields as (name, storage, bit offset in storage))
    type Case = (
        &'static str,
        u32,
        Vec<(&'static str, u32, u32)>,
        Vec<(&'static str, &'static str, u32)>,
        Vec<(&'static str, &'static str, u32)>,
    );
    let cases: Vec<Case> = vec![
        (
            "overlapping bytes share one storage",
            4,
            vec![("a", 0, 3), ("b", 3, 10)],
            vec![("_bitfield_0", "[u8; 2]", 0), ("__pad_2", "[u8; 2]", 2)],
            vec![("a", "_bitfield_0", 0), ("b", "_bitfield_0", 3)],
        ),
        (
            "a new byte starts a new storage",
            8,
            vec![("a", 0, 3), ("wide", 8, 40)],
            vec![
                ("_bitfield_0", "[u8; 1]", 0),
                ("_bitfield_1", "[u8; 5]", 1),
                ("__pad_6", "[u8; 2]", 6),
            ],
            vec![("a", "_bitfield_0", 0), ("wide", "_bitfield_1", 0)],
        ),
        (
            "a gap becomes padding",
            8,
            vec![("a", 0, 4), ("b", 32, 4)],
            vec![
                ("_bitfield_0", "[u8; 1]", 0),
                ("__pad_1", "[u8; 3]", 1),
                ("_bitfield_4", "[u8; 1]", 4),
                ("__pad_5", "[u8; 3]", 5),
            ],
            vec![("a", "_bitfield_0", 0), ("b", "_bitfield_4", 0)],
        ),
        (
            "straddling an 8-byte unit",
            16,
            vec![("lo", 0, 60), ("hi", 60, 30)],
            vec![("_bitfield_0", "[u8; 12]", 0), ("__pad_12", "[u8; 4]", 12)],
            vec![("lo", "_bitfield_0", 0), ("hi", "_bitfield_0", 60)],
        ),
    ];
    for (what, size, members, want_fields, want_bits) in cases {
        let mut b = BtfBuilder::new();
        let t = scalars(&mut b);
        let ms: Vec<(&str, TypeId, u32, u32)> = members
            .iter()
            .map(|&(n, off, w)| (n, t.ulong, off, w))
            .collect();
        let s = b.bitfield_struct("s", size, &ms);
        let items = build(&b, &[s]);
        let s = strukt(&items, "s");
        assert_eq!(fields(s), owned_fields(&want_fields), "{what}");
        let got: Vec<(&str, &str, u32)> = bitfields(s)
            .into_iter()
            .map(|(n, st, off, _, _)| (n, st, off))
            .collect();
        assert_eq!(got, want_bits, "{what}");
    }
}

#[test]
fn bool_and_enum_bitfield_getters() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let boolean = b.int("_Bool", 1, BOOL);
    let color = b.enum_("color", 4, true, &[("RED", 0), ("NEG", -2)]);
    let s = b.bitfield_struct(
        "s",
        4,
        &[
            ("flag", t.uint, 0, 1),
            ("ok", boolean, 1, 1),
            ("c", color, 2, 4),
        ],
    );
    let items = build(&b, &[s]);
    let s = strukt(&items, "s");
    let getters: Vec<(&str, &GetterTy, bool)> = s
        .bitfields
        .iter()
        .map(|b| (b.name.as_str(), &b.getter, b.signed))
        .collect();
    assert_eq!(
        getters,
        [
            ("flag", &GetterTy::Prim("u32"), false),
            ("ok", &GetterTy::Bool, false),
            ("c", &GetterTy::Enum("color".into(), "i32"), true),
        ]
    );
    // The enum a bitfield uses is emitted too.
    enumeration(&items, "color");
}

#[test]
fn union_bitfields_share_one_storage_at_zero() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let u = b.bitfield_union("u", 4, &[("x", t.uint, 0, 7), ("whole", t.uint, 0, 0)]);
    let items = build(&b, &[u]);
    let u = strukt(&items, "u");
    expect_fields(u, &[("whole", "u32", 0), ("_bitfield_0", "[u8; 1]", 0)]);
    assert_eq!(bitfields(u), [("x", "_bitfield_0", 0, 7, false)]);
}

#[test]
fn overlapping_members_are_an_error() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let s = b.struct_("s", 8, &[("a", t.ulong, 0), ("b", t.int, 32)]);
    let err = try_build(&b, &[s]).unwrap_err().to_string();
    assert!(
        err.contains("member `b` at byte 4 overlaps the previous member"),
        "{err}"
    );
}

// ---- names ---------------------------------------------------------------

#[test]
fn anonymous_member_in_a_struct_is_named_by_offset() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let float = b.float("float", 4);
    let anon = b.union_("", 4, &[("a", t.int, 0), ("f", float, 0)]);
    // struct parent { int x; union { int a; float f; }; };
    let p = b.struct_("parent", 8, &[("x", t.int, 0), ("", anon, 32)]);
    let items = build(&b, &[p]);
    expect_fields(
        strukt(&items, "parent"),
        &[("x", "i32", 0), ("__anon_4", "parent__anon4", 4)],
    );
    let u = strukt(&items, "parent__anon4");
    assert!(u.is_union);
    assert_eq!(u.btf_id, anon);
}

#[test]
fn anonymous_member_in_a_union_is_named_by_position() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let pair = b.struct_("", 8, &[("a", t.int, 0), ("b", t.int, 32)]);
    let tail = b.struct_("", 8, &[("c", t.ulong, 0)]);
    // union u { struct { int a, b; }; long l; struct { unsigned long c; }; };
    let u = b.union_("u", 8, &[("", pair, 0), ("l", t.ulong, 0), ("", tail, 0)]);
    let items = build(&b, &[u]);
    expect_fields(
        strukt(&items, "u"),
        &[
            ("__anon0", "u__anon0", 0),
            ("l", "u64", 0),
            ("__anon1", "u__anon1", 0),
        ],
    );
    assert_eq!(strukt(&items, "u__anon0").btf_id, pair);
    assert_eq!(strukt(&items, "u__anon1").btf_id, tail);
}

#[test]
fn nested_anonymous_types_are_named_after_their_parent_and_member() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let inner = b.struct_("", 4, &[("z", t.int, 0)]);
    let outer = b.struct_("", 4, &[("inner", inner, 0)]);
    let elem = b.struct_("", 2, &[("v", t.ushort, 0)]);
    let arr = b.array(elem, t.int, 2);
    // struct flow_stats { struct { struct { int z; } inner; } peer; struct { u16 v; } hist[2]; };
    let f = b.struct_("flow_stats", 8, &[("peer", outer, 0), ("hist", arr, 32)]);
    let items = build(&b, &[f]);
    expect_fields(
        strukt(&items, "flow_stats"),
        &[
            ("peer", "flow_stats__peer", 0),
            ("hist", "[flow_stats__hist; 2]", 4),
        ],
    );
    assert_eq!(strukt(&items, "flow_stats__peer").btf_id, outer);
    assert_eq!(strukt(&items, "flow_stats__peer__inner").btf_id, inner);
    assert_eq!(strukt(&items, "flow_stats__hist").btf_id, elem);
}

#[test]
fn anonymous_type_shared_by_two_parents_takes_the_first_parents_name() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let anon = b.struct_("", 4, &[("v", t.int, 0)]);
    let first = b.struct_("first", 4, &[("m", anon, 0)]);
    let second = b.struct_("second", 4, &[("m", anon, 0)]);
    let items = build(&b, &[first, second]);
    expect_fields(strukt(&items, "second"), &[("m", "first__m", 0)]);
    assert!(!items.items.contains_key("second__m"));
}

#[test]
fn anonymous_root_uses_its_context() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let anon = b.struct_("", 4, &[("v", t.int, 0)]);
    let items = build(&b, &[anon]);
    assert_eq!(strukt(&items, &format!("root_{}", anon.0)).btf_id, anon);
}

#[test]
fn typedef_of_an_anonymous_struct_takes_the_typedef_name() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let anon = b.struct_("", 8, &[("a", t.int, 0), ("b", t.ushort, 32)]);
    // typedef struct { int a; short b; } anon_typedef_t;
    let td = b.typedef("anon_typedef_t", anon);
    let user = b.struct_("user", 8, &[("td", td, 0)]);
    let items = build(&b, &[user]);
    let s = strukt(&items, "anon_typedef_t");
    assert_eq!(s.btf_id, anon);
    expect_fields(strukt(&items, "user"), &[("td", "anon_typedef_t", 0)]);
    // No alias item: the struct itself carries the name.
    assert_eq!(
        items.items.len(),
        2,
        "{:?}",
        items.items.keys().collect::<Vec<_>>()
    );
}

#[test]
fn typedefs_become_aliases_unless_they_repeat_the_name() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let u32_t = b.typedef("__u32", t.uint);
    let foo = b.struct_("foo", 4, &[("v", u32_t, 0)]);
    // typedef struct foo foo; typedef struct foo foo_t;
    let same = b.typedef("foo", foo);
    let other = b.typedef("foo_t", foo);
    let user = b.struct_(
        "user",
        12,
        &[("a", same, 0), ("b", other, 32), ("c", u32_t, 64)],
    );
    let items = build(&b, &[user]);
    expect_fields(
        strukt(&items, "user"),
        &[("a", "foo", 0), ("b", "foo_t", 4), ("c", "__u32", 8)],
    );
    assert!(matches!(
        items.items.get("__u32"),
        Some(Item::Alias {
            target: RustTy::Prim("u32"),
            ..
        })
    ));
    assert!(matches!(
        items.items.get("foo_t"),
        Some(Item::Alias { target: RustTy::Named(n), .. }) if n == "foo"
    ));
    assert!(matches!(items.items.get("foo"), Some(Item::Struct(_))));
}

#[test]
fn keywords_are_escaped() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    // struct match { int type; int self; int fn; int async; int r#gen... };
    let s = b.struct_(
        "match",
        20,
        &[
            ("type", t.int, 0),
            ("self", t.int, 32),
            ("fn", t.int, 64),
            ("async", t.int, 96),
            ("gen", t.int, 128),
        ],
    );
    let e = b.enum_("kind", 4, false, &[("type", 1), ("Self", 2), ("ok", 3)]);
    let items = build(&b, &[s, e]);
    let s = strukt(&items, "r#match");
    expect_fields(
        s,
        &[
            ("r#type", "i32", 0),
            ("self_", "i32", 4),
            ("r#fn", "i32", 8),
            ("r#async", "i32", 12),
            ("r#gen", "i32", 16),
        ],
    );
    let names: Vec<&str> = enumeration(&items, "kind")
        .values
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["r#type", "Self_", "ok"]);
}

// ---- enums ---------------------------------------------------------------

#[test]
fn enum_repr_table() {
    // (size, signed, 64-bit, repr)
    let cases = [
        (1, false, false, "u8"),
        (1, true, false, "i8"),
        (2, false, false, "u16"),
        (2, true, false, "i16"),
        (4, false, false, "u32"),
        (4, true, false, "i32"),
        (8, false, true, "u64"),
        (8, true, true, "i64"),
    ];
    for (size, signed, is_64, repr) in cases {
        let mut b = BtfBuilder::new();
        let e = if is_64 {
            b.enum64("e", size, signed, &[("A", 1), ("BIG", 0x1_2345_6789)])
        } else {
            b.enum_("e", size, signed, &[("A", 1), ("NEG", -2)])
        };
        let items = build(&b, &[e]);
        let e = enumeration(&items, "e");
        assert_eq!(
            (e.repr, e.signed, e.size),
            (repr, signed, size),
            "size {size} signed {signed}"
        );
    }
}

#[test]
fn enum_values_keep_their_bits() {
    let mut b = BtfBuilder::new();
    let e = b.enum_("color", 4, true, &[("RED", 0), ("BLUE", 7), ("NEG", -2)]);
    let w = b.enum64("big", 8, false, &[("SMALL", 1), ("LARGE", 0x1_2345_6789)]);
    let items = build(&b, &[e, w]);
    let color = enumeration(&items, "color");
    let values: Vec<(&str, i32)> = color
        .values
        .iter()
        .map(|(n, v)| (n.as_str(), *v as u32 as i32))
        .collect();
    assert_eq!(values, [("RED", 0), ("BLUE", 7), ("NEG", -2)]);
    assert_eq!(
        enumeration(&items, "big").values,
        [("SMALL".to_owned(), 1), ("LARGE".to_owned(), 0x1_2345_6789)]
    );
}

// ---- known bugs ------------------------------------------------------------

/// An anonymous enum used as a bitfield type gets the fixed name
/// `bitfield_enum` instead of a parent-relative one; a second such enum
/// anywhere in the selection is then a name collision (vmlinux has one:
/// `struct nf_bridge_info { enum { BRNF_PROTO_UNCHANGED, .. } orig_proto:8; }`).
#[test]
fn anonymous_enum_bitfield_type_is_named_after_its_parent() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let e1 = b.enum_("", 4, false, &[("A", 0), ("B", 1)]);
    let e2 = b.enum_("", 4, false, &[("C", 0)]);
    let s = b.bitfield_struct("s", 4, &[("kind", e1, 0, 2), ("x", t.int, 8, 0)]);
    let u = b.bitfield_struct("t", 4, &[("mode", e2, 0, 1)]);
    let items = try_build(&b, &[s, u]).unwrap_or_else(|e| panic!("{e}"));
    enumeration(&items, "s__kind");
    enumeration(&items, "t__mode");
}

/// A `char` bitfield reads as unsigned, like a plain `char` member (`u8`):
/// (plain `char` is unsigned in the kernel, built with -funsigned-char).
#[test]
fn char_bitfield_is_unsigned_like_char_members() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let s = b.bitfield_struct("s", 2, &[("c", t.char, 0, 0), ("bits", t.char, 8, 3)]);
    let items = build(&b, &[s]);
    let s = strukt(&items, "s");
    assert_eq!(spell(&s.fields[0].ty), "u8");
    assert_eq!(bitfields(s), [("bits", "_bitfield_1", 0, 3, false)]);
}

/// A scalar Rust has no type for (`long double`, FLOAT of 16 bytes) is kept
/// as bytes, which have alignment 1: the struct then needs `align(16)` to
/// keep the C alignment its layout checks assert.
#[test]
fn bytes_for_a_16_byte_float_keep_the_alignment() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let ld = b.float("long double", 16);
    let s = b.struct_("s", 32, &[("x", ld, 0), ("n", t.int, 128)]);
    let items = build(&b, &[s]);
    let s = strukt(&items, "s");
    assert_eq!(spell(&s.fields[0].ty), "[u8; 16]");
    assert_eq!((s.align, s.align_attr), (16, Some(16)));
}

/// `struct inner { char a; int b __attribute__((aligned(8))); }` is 16
/// bytes with alignment 8, and `struct outer { long x; struct inner in; }`
/// holds it at offset 8. `inner` keeps its natural alignment 4 (the gap
/// before `b` is padding), so `outer` is not made packed.
#[test]
fn alignment_guess_is_bounded_by_placement() {
    let mut b = BtfBuilder::new();
    let t = scalars(&mut b);
    let inner = b.struct_("inner", 16, &[("a", t.char, 0), ("b", t.int, 64)]);
    let outer = b.struct_("outer", 24, &[("x", t.ulong, 0), ("in", inner, 64)]);
    let items = build(&b, &[outer]);
    let o = strukt(&items, "outer");
    assert!(!o.packed, "outer is not packed in C");
    expect_fields(o, &[("x", "u64", 0), ("r#in", "inner", 8)]);
    assert_eq!(strukt(&items, "inner").align, 4);
}

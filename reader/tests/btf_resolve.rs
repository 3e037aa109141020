//! The graph questions on well-formed BTF from the test builder: sizes and
//! alignments, reference depth, C spellings, sound self-references.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs_reader::btf::testing::*;
use bpf2rs_reader::btf::*;

fn parse(b: &BtfBuilder) -> Btf {
    Btf::parse(&b.bytes()).unwrap_or_else(|e| panic!("builder output must parse: {e}"))
}

#[test]
fn size_and_align_table() {
    let mut b = BtfBuilder::new();
    let ch = b.int("char", 1, CHAR);
    let short = b.int("short", 2, SIGNED);
    let int = b.int("int", 4, SIGNED);
    let long = b.int("long", 8, SIGNED);
    let i128 = b.int("__int128", 16, SIGNED);
    let dbl = b.float("double", 8);
    let ldbl = b.float("long double", 16);
    let p = b.ptr(ch);
    let arr = b.array(int, int, 10);
    let arr2d = b.array(arr, int, 3);
    let td1 = b.typedef("t1", long);
    let td2 = b.typedef("t2", td1);
    let ctd2 = b.const_(td2);
    let td3 = b.typedef("t3", ctd2);
    let vtd3 = b.volatile(td3);
    let e8 = b.enum64("e8", 8, false, &[]);
    let e1 = b.enum_("e1", 1, false, &[]);
    let s = b.struct_("s", 24, &[("c", ch, 0), ("x", i128, 64)]);
    let packed = b.struct_("p", 5, &[("c", ch, 0), ("i", int, 8)]);
    let u = b.union_("u", 16, &[("a", arr, 0), ("s", short, 0)]);
    let s128 = b.struct_("s128", 32, &[("c", ch, 0), ("x", i128, 128)]);
    let arr_s = b.array(s128, int, 2);
    let table: &[(TypeId, u32, u32)] = &[
        (ch, 1, 1),
        (short, 2, 2),
        (int, 4, 4),
        (long, 8, 8),
        (i128, 16, 16),
        (dbl, 8, 8),
        (ldbl, 16, 16),
        (p, 8, 8),
        (arr, 40, 4),
        (arr2d, 120, 4),
        (td1, 8, 8),
        (td2, 8, 8),
        (td3, 8, 8),
        (vtd3, 8, 8),
        (e8, 8, 8),
        (e1, 1, 1),
        (s, 24, 16),
        // Alignment comes from members; packing is visible only in offsets.
        (packed, 5, 4),
        (u, 16, 4),
        (s128, 32, 16),
        (arr_s, 64, 16),
    ];
    let btf = parse(&b);
    for &(id, size, align) in table {
        let name = btf.c_type_name(id).unwrap();
        assert_eq!(btf.size_of(id).unwrap(), size, "size_of({name})");
        assert_eq!(btf.align_of(id).unwrap(), align, "align_of({name})");
    }
    assert_eq!(btf.skip_mods_and_typedefs(vtd3).unwrap(), long);
    assert_eq!(btf.skip_mods(vtd3).unwrap(), td3);
    assert_eq!(
        btf.size_of(TypeId::VOID),
        Err(BtfError::NoSize {
            id: TypeId::VOID,
            kind: Kind::Void
        })
    );
}

#[test]
fn typedef_chain_of_max_depth_resolves_and_one_more_does_not() {
    let mut b = BtfBuilder::new();
    let mut cur = b.int("int", 4, SIGNED);
    let mut chain = vec![];
    for i in 0..40 {
        cur = b.typedef(&format!("t{i}"), cur);
        chain.push(cur);
    }
    let btf = parse(&b);
    // MAX_DEPTH references may be followed.
    let ok = chain[MAX_DEPTH as usize - 1];
    assert_eq!(btf.size_of(ok).unwrap(), 4);
    assert_eq!(btf.align_of(ok).unwrap(), 4);
    assert!(btf.skip_mods_and_typedefs(ok).is_ok());
    let deep = chain[MAX_DEPTH as usize];
    let err = btf.size_of(deep).unwrap_err();
    assert_eq!(
        err,
        BtfError::TooDeep {
            id: deep,
            max: MAX_DEPTH
        }
    );
    assert_eq!(btf.skip_mods_and_typedefs(deep).unwrap_err(), err);
    // A deep but acyclic chain is still a sound graph.
    btf.check_graph().unwrap();
}

#[test]
fn c_type_name_spellings() {
    let mut b = BtfBuilder::new();
    let ch = b.int("char", 1, CHAR);
    let uint = b.int("unsigned int", 4, UNSIGNED);
    let cch = b.const_(ch);
    let pcch = b.ptr(cch);
    let ppcch = b.ptr(pcch);
    let cp = b.const_(pcch);
    let vint = b.volatile(uint);
    let rp = b.restrict(pcch);
    let u32_t = b.typedef("__u32", uint);
    let arr = b.array(u32_t, uint, 16);
    let parr = b.ptr(arr);
    let arr_p = b.array(pcch, uint, 2);
    let pvoid = b.ptr(TypeId::VOID);
    let s = b.struct_("flow_key", 4, &[("x", uint, 0)]);
    let anon_s = b.struct_("", 4, &[("x", uint, 0)]);
    let u = b.union_("val", 4, &[("x", uint, 0)]);
    let e = b.enum_("colour", 4, false, &[]);
    let e64 = b.enum64("wide", 8, false, &[]);
    let proto = b.func_proto(uint, &[]);
    let pfn = b.ptr(proto);
    let f = b.func("handler", proto, LINKAGE_GLOBAL);
    let v = b.var("counter", u32_t, LINKAGE_GLOBAL);
    let sec = b.datasec(".data", 4, &[(v, 0, 4)]);
    let tag = b.type_tag("user", ch);
    let ptag = b.ptr(tag);
    let dbl = b.float("double", 8);
    let table: &[(TypeId, &str)] = &[
        (TypeId::VOID, "void"),
        (ch, "char"),
        (cch, "const char"),
        (pcch, "const char *"),
        (ppcch, "const char **"),
        (cp, "const char *const"),
        (vint, "volatile unsigned int"),
        (rp, "const char *restrict"),
        (u32_t, "__u32"),
        (arr, "__u32[16]"),
        (parr, "__u32 (*)[16]"),
        (arr_p, "const char *[2]"),
        (pvoid, "void *"),
        (s, "struct flow_key"),
        (anon_s, "struct (anon)"),
        (u, "union val"),
        (e, "enum colour"),
        (e64, "enum wide"),
        (proto, "unsigned int (void)"),
        (pfn, "unsigned int (*)(void)"),
        (f, "handler"),
        (v, "counter"),
        (sec, "section .data"),
        (tag, "char"),
        (ptag, "char *"),
        (dbl, "double"),
    ];
    let btf = parse(&b);
    for &(id, want) in table {
        assert_eq!(btf.c_type_name(id).unwrap(), want, "type {id}");
    }
}

#[test]
fn self_pointer_is_a_sound_graph() {
    let mut b = BtfBuilder::new();
    // The pointer comes first, so the struct is the id after it.
    let node = TypeId(b.next_id().0 + 1);
    let p = b.ptr(node);
    assert_eq!(b.struct_("node", 8, &[("next", p, 0)]), node);
    let btf = parse(&b);
    btf.check_graph().unwrap();
    assert_eq!(btf.size_of(node).unwrap(), 8);
    assert_eq!(btf.align_of(node).unwrap(), 8);
    assert_eq!(btf.c_type_name(p).unwrap(), "struct node *");
}

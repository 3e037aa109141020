//! The BTF reader on well-formed input: every kind from the test builder into
//! the model, bitfields in both encodings, both byte orders, split BTF, files.
//! (Sizes, alignments and C spellings: `btf_resolve.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::sync::Arc;

use bpf2rs_reader::btf::testing::*;
use bpf2rs_reader::btf::*;

fn parse(b: &BtfBuilder) -> Btf {
    Btf::parse(&b.bytes()).unwrap_or_else(|e| panic!("builder output must parse: {e}"))
}

/// Builds one type with `add`, parses, and returns the model with its id.
fn one(add: impl FnOnce(&mut BtfBuilder) -> TypeId) -> (BtfBuilder, Btf, TypeId) {
    let mut b = BtfBuilder::new();
    let id = add(&mut b);
    let btf = parse(&b);
    (b, btf, id)
}

#[test]
fn int_encodings_round_trip() {
    let cases: &[(&str, u32, u32, IntEncoding)] = &[
        ("unsigned int", 4, UNSIGNED, IntEncoding::default()),
        (
            "int",
            4,
            SIGNED,
            IntEncoding {
                signed: true,
                ..Default::default()
            },
        ),
        (
            "char",
            1,
            CHAR,
            IntEncoding {
                char: true,
                ..Default::default()
            },
        ),
        (
            "signed char",
            1,
            SIGNED | CHAR,
            IntEncoding {
                signed: true,
                char: true,
                bool: false,
            },
        ),
        (
            "_Bool",
            1,
            BOOL,
            IntEncoding {
                bool: true,
                ..Default::default()
            },
        ),
        (
            "__int128",
            16,
            SIGNED,
            IntEncoding {
                signed: true,
                ..Default::default()
            },
        ),
        ("long unsigned int", 8, UNSIGNED, IntEncoding::default()),
    ];
    for &(name, size, enc, want) in cases {
        let (b, btf, id) = one(|b| b.int(name, size, enc));
        let want = Type::Int(Int {
            name: b.name(name),
            byte_size: size,
            encoding: want,
            bit_offset: 0,
            bits: (size * 8) as u8,
        });
        assert_eq!(btf.type_by_id(id).unwrap(), &want, "{name}");
        assert_eq!(btf.name(btf.type_by_id(id).unwrap().name()), name);
        assert_eq!(btf.kind_of(id).unwrap(), Kind::Int);
    }
}

#[test]
fn legacy_bitfield_int_round_trips() {
    let (_, btf, id) = one(|b| b.int_bits("u3", 4, UNSIGNED, 5, 3));
    let Type::Int(int) = btf.type_by_id(id).unwrap() else {
        panic!("not an int")
    };
    assert_eq!((int.byte_size, int.bit_offset, int.bits), (4, 5, 3));
}

#[test]
fn reference_kinds_round_trip() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let cases: Vec<(TypeId, Kind, Type)> = vec![
        (b.ptr(int), Kind::Ptr, Type::Ptr(Ref { target: int })),
        (b.const_(int), Kind::Const, Type::Const(Ref { target: int })),
        (
            b.volatile(int),
            Kind::Volatile,
            Type::Volatile(Ref { target: int }),
        ),
        (
            b.restrict(int),
            Kind::Restrict,
            Type::Restrict(Ref { target: int }),
        ),
        (
            b.ptr(TypeId::VOID),
            Kind::Ptr,
            Type::Ptr(Ref {
                target: TypeId::VOID,
            }),
        ),
    ];
    let td = b.typedef("s32", int);
    let tag = b.type_tag("user", int);
    let btf = parse(&b);
    for (id, kind, want) in cases {
        assert_eq!(btf.type_by_id(id).unwrap(), &want);
        assert_eq!(btf.kind_of(id).unwrap(), kind);
        assert_eq!(btf.type_by_id(id).unwrap().referenced(), want.referenced());
        assert!(btf.type_by_id(id).unwrap().name().is_anon());
    }
    let want_td = Type::Typedef(Named {
        name: b.name("s32"),
        target: int,
    });
    assert_eq!(btf.type_by_id(td).unwrap(), &want_td);
    let want_tag = Type::TypeTag(Named {
        name: b.name("user"),
        target: int,
    });
    assert_eq!(btf.type_by_id(tag).unwrap(), &want_tag);
    assert_eq!(btf.name(btf.type_by_id(tag).unwrap().name()), "user");
}

#[test]
fn array_round_trips() {
    let mut b = BtfBuilder::new();
    let ch = b.int("char", 1, CHAR);
    let idx = b.int("unsigned int", 4, UNSIGNED);
    let arr = b.array(ch, idx, 16);
    let empty = b.array(ch, idx, 0);
    let btf = parse(&b);
    assert_eq!(
        btf.type_by_id(arr).unwrap(),
        &Type::Array(Array {
            elem: ch,
            index: idx,
            len: 16
        })
    );
    assert_eq!(
        btf.type_by_id(empty).unwrap(),
        &Type::Array(Array {
            elem: ch,
            index: idx,
            len: 0
        })
    );
    assert_eq!(btf.size_of(empty).unwrap(), 0);
}

#[test]
fn struct_and_union_round_trip() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let s = b.struct_("flow", 8, &[("a", int, 0), ("b", int, 32)]);
    let u = b.union_("either", 4, &[("a", int, 0), ("", int, 0)]);
    let empty = b.struct_("empty", 0, &[]);
    let btf = parse(&b);
    let member = |name: &str, ty, bit_offset| Member {
        name: b.name(name),
        ty,
        bit_offset,
        bitfield_size: 0,
    };
    let want = Type::Struct(Composite {
        name: b.name("flow"),
        byte_size: 8,
        members: vec![member("a", int, 0), member("b", int, 32)].into(),
    });
    assert_eq!(btf.type_by_id(s).unwrap(), &want);
    let Type::Union(un) = btf.type_by_id(u).unwrap() else {
        panic!("not a union")
    };
    assert_eq!(un.byte_size, 4);
    assert_eq!(un.members.len(), 2);
    assert!(un.members[1].name.is_anon());
    assert_eq!(btf.name(un.members[0].name), "a");
    assert_eq!(btf.type_by_id(empty).unwrap().members().unwrap().len(), 0);
    assert_eq!(btf.kind_of(u).unwrap(), Kind::Union);
}

#[test]
fn member_bits_normalises_both_bitfield_encodings() {
    // The same C struct `{ unsigned a:3; unsigned b:5; int c; }` twice:
    // with kind_flag (width in the member) and without (width in an INT).
    let mut b = BtfBuilder::new();
    let uint = b.int("unsigned int", 4, UNSIGNED);
    let int = b.int("int", 4, SIGNED);
    let flagged = b.bitfield_struct(
        "f",
        8,
        &[("a", uint, 0, 3), ("b", uint, 3, 5), ("c", int, 32, 0)],
    );
    let a3 = b.int_bits("unsigned int", 4, UNSIGNED, 0, 3);
    // Legacy: the INT's bit offset adds to the member's.
    let b5 = b.int_bits("unsigned int", 4, UNSIGNED, 3, 5);
    let legacy = b.struct_("l", 8, &[("a", a3, 0), ("b", b5, 0), ("c", int, 32)]);
    // Through a typedef and a const, as clang sometimes emits.
    let td = b.typedef("u5", b5);
    let ctd = b.const_(td);
    let wrapped = b.struct_("w", 4, &[("b", ctd, 0)]);
    // kind_flag set but no member is a bitfield.
    let flag_plain = b.bitfield_union("p", 4, &[("x", int, 0, 0)]);
    let btf = parse(&b);

    let bits = |id| -> Vec<MemberBits> {
        let members = btf.type_by_id(id).unwrap().members().unwrap();
        members
            .iter()
            .map(|m| btf.member_bits(m).unwrap())
            .collect()
    };
    let want = vec![
        MemberBits {
            bit_offset: 0,
            bitfield_size: Some(3),
        },
        MemberBits {
            bit_offset: 3,
            bitfield_size: Some(5),
        },
        MemberBits {
            bit_offset: 32,
            bitfield_size: None,
        },
    ];
    assert_eq!(bits(flagged), want);
    assert_eq!(bits(legacy), want);
    assert_eq!(
        bits(wrapped),
        vec![MemberBits {
            bit_offset: 3,
            bitfield_size: Some(5)
        }]
    );
    assert_eq!(
        bits(flag_plain),
        vec![MemberBits {
            bit_offset: 0,
            bitfield_size: None
        }]
    );
    // The raw model keeps what the wire said.
    let raw = btf.type_by_id(flagged).unwrap().members().unwrap()[1];
    assert_eq!((raw.bit_offset, raw.bitfield_size), (3, 5));
}

#[test]
fn enums_signed_and_unsigned_round_trip() {
    let mut b = BtfBuilder::new();
    let signed = b.enum_(
        "sign",
        4,
        true,
        &[("NEG", -1), ("MIN", i32::MIN.into()), ("ONE", 1)],
    );
    let unsigned = b.enum_(
        "flags",
        4,
        false,
        &[("HIGH", 0x8000_0000), ("ALL", 0xffff_ffff)],
    );
    let small = b.enum_("small", 1, false, &[("A", 7)]);
    let anon = b.enum_("", 4, false, &[]);
    let btf = parse(&b);
    let values = |id| -> Vec<(String, u64)> {
        let Type::Enum(e) = btf.type_by_id(id).unwrap() else {
            panic!("not an enum")
        };
        e.values
            .iter()
            .map(|v| (btf.name(v.name).to_owned(), v.value))
            .collect()
    };
    // Signed 32-bit values are sign-extended into the u64.
    assert_eq!(
        values(signed),
        vec![
            ("NEG".into(), u64::MAX),
            ("MIN".into(), i32::MIN as i64 as u64),
            ("ONE".into(), 1)
        ]
    );
    assert_eq!(
        values(unsigned),
        vec![("HIGH".into(), 0x8000_0000), ("ALL".into(), 0xffff_ffff)]
    );
    assert_eq!(values(small), vec![("A".into(), 7)]);
    for (id, want_signed, size) in [(signed, true, 4), (unsigned, false, 4), (small, false, 1)] {
        let Type::Enum(e) = btf.type_by_id(id).unwrap() else {
            panic!("not an enum")
        };
        assert_eq!((e.signed, e.is_64, e.byte_size), (want_signed, false, size));
        assert_eq!(btf.kind_of(id).unwrap(), Kind::Enum);
    }
    assert_eq!(btf.c_type_name(anon).unwrap(), "enum (anon)");
}

#[test]
fn enum64_round_trips() {
    let mut b = BtfBuilder::new();
    let big = b.enum64(
        "big",
        8,
        false,
        &[("TOP", u64::MAX), ("SPLIT", 0x1_0000_0002)],
    );
    let neg = b.enum64("neg", 8, true, &[("M", (-5i64) as u64)]);
    let btf = parse(&b);
    let Type::Enum(e) = btf.type_by_id(big).unwrap() else {
        panic!("not an enum")
    };
    assert!(e.is_64 && !e.signed);
    assert_eq!(
        e.values.iter().map(|v| v.value).collect::<Vec<_>>(),
        vec![u64::MAX, 0x1_0000_0002]
    );
    let Type::Enum(n) = btf.type_by_id(neg).unwrap() else {
        panic!("not an enum")
    };
    assert!(n.is_64 && n.signed);
    assert_eq!(n.values[0].value as i64, -5);
    assert_eq!(btf.kind_of(big).unwrap(), Kind::Enum64);
    assert_eq!(btf.size_of(big).unwrap(), 8);
}

#[test]
fn fwd_round_trips() {
    let mut b = BtfBuilder::new();
    let s = b.fwd("sock", false);
    let u = b.fwd("val", true);
    let btf = parse(&b);
    assert_eq!(
        btf.type_by_id(s).unwrap(),
        &Type::Fwd(Fwd {
            name: b.name("sock"),
            is_union: false
        })
    );
    assert_eq!(
        btf.type_by_id(u).unwrap(),
        &Type::Fwd(Fwd {
            name: b.name("val"),
            is_union: true
        })
    );
    assert_eq!(btf.c_type_name(s).unwrap(), "struct sock");
    assert_eq!(btf.c_type_name(u).unwrap(), "union val");
    assert_eq!(
        btf.size_of(s),
        Err(BtfError::NoSize {
            id: s,
            kind: Kind::Fwd
        })
    );
}

#[test]
fn func_linkage_and_variadic_proto_round_trip() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let proto = b.func_proto(int, &[("fmt", int), ("", TypeId::VOID)]);
    let none = b.func_proto(TypeId::VOID, &[]);
    let cases = [
        (b.func("s", proto, LINKAGE_STATIC), FuncLinkage::Static),
        (b.func("g", proto, LINKAGE_GLOBAL), FuncLinkage::Global),
        (b.func("e", none, LINKAGE_EXTERN), FuncLinkage::Extern),
        (b.func("o", none, 7), FuncLinkage::Other(7)),
    ];
    let btf = parse(&b);
    for (id, linkage) in cases {
        let Type::Func(f) = btf.type_by_id(id).unwrap() else {
            panic!("not a func")
        };
        assert_eq!(f.linkage, linkage);
        assert_eq!(btf.type_by_id(id).unwrap().referenced(), Some(f.proto));
    }
    let Type::FuncProto(p) = btf.type_by_id(proto).unwrap() else {
        panic!("not a proto")
    };
    assert_eq!(p.ret, int);
    assert_eq!(p.params.len(), 2);
    assert_eq!(btf.name(p.params[0].name), "fmt");
    // `...` is a last parameter with no name and type void.
    assert_eq!(
        p.params[1],
        Param {
            name: Name(0),
            ty: TypeId::VOID
        }
    );
    let Type::FuncProto(n) = btf.type_by_id(none).unwrap() else {
        panic!("not a proto")
    };
    assert_eq!((n.ret, n.params.len()), (TypeId::VOID, 0));
}

#[test]
fn var_and_datasec_round_trip() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let cases = [
        (b.var("a", int, LINKAGE_STATIC), VarLinkage::Static),
        (b.var("b", int, LINKAGE_GLOBAL), VarLinkage::Global),
        (b.var("c", int, LINKAGE_EXTERN), VarLinkage::Extern),
        (b.var("d", int, 9), VarLinkage::Other(9)),
    ];
    let sec = b.datasec(".bss", 8, &[(cases[0].0, 0, 4), (cases[1].0, 4, 4)]);
    let btf = parse(&b);
    for (id, linkage) in cases {
        let Type::Var(v) = btf.type_by_id(id).unwrap() else {
            panic!("not a var")
        };
        assert_eq!((v.ty, v.linkage), (int, linkage));
        assert_eq!(btf.size_of(id).unwrap(), 4);
    }
    let Type::Datasec(d) = btf.type_by_id(sec).unwrap() else {
        panic!("not a datasec")
    };
    assert_eq!(btf.name(d.name), ".bss");
    assert_eq!(d.byte_size, 8);
    assert_eq!(
        &*d.vars,
        &[
            VarSecinfo {
                ty: cases[0].0,
                offset: 0,
                byte_size: 4
            },
            VarSecinfo {
                ty: cases[1].0,
                offset: 4,
                byte_size: 4
            }
        ]
    );
    assert_eq!(btf.size_of(sec).unwrap(), 8);
}

#[test]
fn float_and_tags_round_trip() {
    let mut b = BtfBuilder::new();
    let floats: Vec<_> = [2, 4, 8, 12, 16]
        .iter()
        .map(|&n| (b.float(&format!("f{n}"), n), n))
        .collect();
    let int = b.int("int", 4, SIGNED);
    let s = b.struct_("s", 4, &[("x", int, 0)]);
    let on_type = b.decl_tag("tag", s, -1);
    let on_member = b.decl_tag("tag", s, 0);
    let tt = b.type_tag("percpu", int);
    let btf = parse(&b);
    for (id, n) in floats {
        assert_eq!(
            btf.type_by_id(id).unwrap(),
            &Type::Float(Float {
                name: b.name(&format!("f{n}")),
                byte_size: n
            })
        );
        assert_eq!(btf.size_of(id).unwrap(), n);
    }
    let tag = b.name("tag");
    assert_eq!(
        btf.type_by_id(on_type).unwrap(),
        &Type::DeclTag(DeclTag {
            name: tag,
            target: s,
            component_idx: -1
        })
    );
    assert_eq!(
        btf.type_by_id(on_member).unwrap(),
        &Type::DeclTag(DeclTag {
            name: tag,
            target: s,
            component_idx: 0
        })
    );
    assert_eq!(btf.kind_of(tt).unwrap(), Kind::TypeTag);
    assert_eq!(btf.size_of(tt).unwrap(), 4);
    assert_eq!(btf.skip_mods_and_typedefs(tt).unwrap(), int);
}

#[test]
fn every_kind_appears_in_the_seed() {
    let btf = parse(&BtfBuilder::every_kind());
    let mut kinds: Vec<Kind> = btf.iter().map(|(_, t)| t.kind()).collect();
    kinds.push(Kind::Void);
    for k in 0..=19 {
        let kind = Kind::from_u32(k).unwrap();
        assert!(kinds.contains(&kind), "{kind} missing");
    }
    assert_eq!(Kind::from_u32(20), None);
    btf.check_graph().unwrap();
}

#[test]
fn both_byte_orders_give_identical_models() {
    let b = BtfBuilder::every_kind();
    let le = Btf::parse(&b.bytes()).unwrap();
    let be = Btf::parse(&b.bytes_be()).unwrap();
    assert_eq!(le.endian(), Endian::Little);
    assert_eq!(be.endian(), Endian::Big);
    assert_eq!(le.len(), be.len());
    assert_eq!(le.strings_len(), be.strings_len());
    for ((lid, lt), (bid, bt)) in le.iter().zip(be.iter()) {
        assert_eq!((lid, lt), (bid, bt));
        assert_eq!(le.name(lt.name()), be.name(bt.name()));
        assert_eq!(le.size_of(lid), be.size_of(bid));
        assert_eq!(le.c_type_name(lid), be.c_type_name(bid));
    }
    // Standalone BTF iterates void (id 0) too.
    assert_eq!(le.iter().count(), b.type_count() + 1);
}

#[test]
fn split_btf_continues_ids_and_resolves_names_in_both() {
    let mut base_b = BtfBuilder::new();
    let int = base_b.int("int", 4, SIGNED);
    base_b.struct_("shared", 4, &[("x", int, 0)]);
    let base = Arc::new(parse(&base_b));
    assert_eq!(base.len(), 3);

    let mut b = BtfBuilder::split(base.len(), base.strings_len());
    assert_eq!(b.next_id(), TypeId(3));
    let p = b.ptr(int);
    // Member names: one already in the base's strings, one new.
    let x_in_base = base_b.name("x").0;
    let own = b.struct_("module_thing", 16, &[("p", p, 0), ("y", int, 64)]);
    let own_name = b.name("module_thing").0;
    assert!(own_name >= base.strings_len());
    let split = Btf::parse_split(&b.bytes(), base.clone()).unwrap();

    assert_eq!(split.first_own_id(), TypeId(3));
    assert_eq!(split.len(), 5);
    assert_eq!(p, TypeId(3));
    assert_eq!(
        split.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        vec![TypeId(3), TypeId(4)]
    );
    assert_eq!(
        split.type_by_id(int).unwrap(),
        base.type_by_id(int).unwrap()
    );
    assert_eq!(split.type_by_id(TypeId::VOID).unwrap(), &Type::Void);
    assert_eq!(split.c_type_name(p).unwrap(), "int *");
    let members = split.type_by_id(own).unwrap().members().unwrap();
    assert_eq!(split.name(members[0].name), "p");
    assert_eq!(split.name(members[1].name), "y");
    assert_eq!(
        split.name(split.type_by_id(own).unwrap().name()),
        "module_thing"
    );
    // find_by_name: own types first, then the base.
    assert_eq!(
        split.find_by_name("module_thing", Kind::Struct).unwrap(),
        own
    );
    assert_eq!(
        split.find_by_name("shared", Kind::Struct).unwrap(),
        TypeId(2)
    );
    assert_eq!(split.find_by_name("int", Kind::Int).unwrap(), int);
    assert_eq!(
        split
            .find_by_name("nope", Kind::Struct)
            .unwrap_err()
            .to_string(),
        "btf: no type named `nope`"
    );
    assert_eq!(split.size_of(own).unwrap(), 16);
    assert_eq!(split.align_of(own).unwrap(), 8);
    assert!(split.base().is_some());
    split.check_graph().unwrap();
    // A split type named by an offset into the base's strings.
    let mut with_base_name = b.clone();
    let td = with_base_name.raw(&[x_in_base, info(Kind::Typedef as u32, 0, false), int.0]);
    assert_eq!(td, TypeId(5));
    let split2 = Btf::parse_split(&with_base_name.bytes(), base.clone()).unwrap();
    assert_eq!(split2.name(split2.type_by_id(td).unwrap().name()), "x");
    // Ids past the split's end do not exist.
    assert_eq!(
        split.type_by_id(TypeId(5)).unwrap_err().to_string(),
        "btf: type [5] does not exist (5 types)"
    );
}

#[test]
fn split_btf_in_big_endian() {
    let mut base_b = BtfBuilder::new();
    let int = base_b.int("int", 4, SIGNED);
    let base = Arc::new(Btf::parse(&base_b.bytes_be()).unwrap());
    let mut b = BtfBuilder::split(base.len(), base.strings_len());
    let td = b.typedef("myint", int);
    let split = Btf::parse_split(&b.bytes_be(), base).unwrap();
    assert_eq!(split.c_type_name(td).unwrap(), "myint");
    assert_eq!(split.size_of(td).unwrap(), 4);
}

#[test]
fn parse_from_file_and_missing_file() {
    let b = BtfBuilder::every_kind();
    let dir = std::env::temp_dir().join(format!("bpf2rs-btf-reader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("every_kind.btf");
    std::fs::write(&path, b.bytes()).unwrap();
    let from_file = Btf::from_file(&path).unwrap();
    assert_eq!(from_file.len(), parse(&b).len());
    let missing = dir.join("missing.btf");
    let err = Btf::from_file(&missing).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("btf: reading {}: ", missing.display())),
        "{err}"
    );
    let base = Arc::new(from_file);
    let mut split = BtfBuilder::split(base.len(), base.strings_len());
    split.int("module_int", 4, SIGNED);
    let split_path = dir.join("split.btf");
    std::fs::write(&split_path, split.bytes()).unwrap();
    let s = Btf::from_file_split(&split_path, base.clone()).unwrap();
    assert_eq!(
        s.find_by_name("module_int", Kind::Int).unwrap(),
        TypeId(base.len())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `blob` with `tail` appended to its 24-byte header and `hdr_len` grown to
/// match: section offsets stay relative to the end of the header.
fn with_header_tail(blob: &[u8], tail: &[u8], big: bool) -> Vec<u8> {
    let mut out = blob[..HEADER_LEN].to_vec();
    let hdr_len = (HEADER_LEN + tail.len()) as u32;
    let hdr_len = if big {
        hdr_len.to_be_bytes()
    } else {
        hdr_len.to_le_bytes()
    };
    out[HDR_LEN..HDR_LEN + 4].copy_from_slice(&hdr_len);
    out.extend_from_slice(tail);
    out.extend_from_slice(&blob[HEADER_LEN..]);
    out
}

fn types_and_names(btf: &Btf) -> Vec<(TypeId, Type, String)> {
    btf.iter()
        .map(|(id, t)| (id, t.clone(), btf.name(t.name()).to_owned()))
        .collect()
}

/// A header longer than ours (newer kernels and pahole may add fields) with
/// a zero tail, as the kernel itself accepts: the same types come out.
#[test]
fn longer_header_with_zero_tail_reads_the_same_types() {
    let b = BtfBuilder::every_kind();
    for (blob, big) in [(b.bytes(), false), (b.bytes_be(), true)] {
        let want = types_and_names(&Btf::parse(&blob).unwrap());
        let longer = with_header_tail(&blob, &[0; 8], big);
        let btf = Btf::parse(&longer).unwrap();
        assert_eq!(types_and_names(&btf), want, "big endian: {big}");
        assert_eq!(
            btf.to_bytes().unwrap().len(),
            blob.len(),
            "written back with 24 bytes"
        );
    }
}

/// Non-zero unknown header fields: the kernel refuses them when loading
/// ("Unsupported btf_header"), but a reader skips them like libbpf does, so
/// that BTF from a newer kernel or pahole (describing, say, an extra
/// section) still reads. See `read_header` in `wire.rs`.
#[test]
fn longer_header_with_non_zero_tail_is_skipped() {
    let b = BtfBuilder::every_kind();
    let blob = b.bytes();
    let want = types_and_names(&Btf::parse(&blob).unwrap());
    let tail = [0x10, 0, 0, 0, 0x20, 0, 0, 0];
    let btf = Btf::parse(&with_header_tail(&blob, &tail, false)).unwrap();
    assert_eq!(types_and_names(&btf), want);
    // The tail counts against the data like any header byte.
    let mut short = with_header_tail(&blob, &tail, false);
    short.truncate(HEADER_LEN + 4);
    let len = short.len();
    assert_eq!(
        Btf::parse(&short).unwrap_err().to_string(),
        format!("btf: header: header length 32 is outside 24..={len}")
    );
}

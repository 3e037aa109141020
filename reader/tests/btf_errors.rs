//! The BTF reader on bad input: every check of the wire reader and of the
//! graph walks, each asserting the error message a user would read.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs_reader::btf::testing::*;
use bpf2rs_reader::btf::*;

/// Adds a type to a builder (in table tests).
type Add = fn(&mut BtfBuilder) -> TypeId;
/// Adds a type that may refer to an `int` type.
type AddWithInt = fn(&mut BtfBuilder, TypeId);

/// Parses and returns the error message; fails the test if parsing succeeds.
fn parse_err(bytes: &[u8]) -> String {
    match Btf::parse(bytes) {
        Ok(_) => panic!("corrupt BTF parsed"),
        Err(e) => e.to_string(),
    }
}

/// A valid blob: int [1], struct s [2] { int x; }, ptr [3] -> int.
fn small() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    b.struct_("s", 4, &[("x", int, 0)]);
    b.ptr(int);
    b
}

#[test]
fn header_errors() {
    let good = small().bytes();
    let len = good.len();
    let with = |pos: usize, value: u32| {
        let mut bytes = good.clone();
        set_u32(&mut bytes, pos, value);
        bytes
    };
    let mut bad_magic = good.clone();
    bad_magic[0..2].copy_from_slice(&[0x34, 0x12]);
    let mut bad_version = good.clone();
    bad_version[HDR_VERSION] = 2;
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "empty",
            vec![],
            "btf: header: needs 24 bytes at offset 0, only 0 present".into(),
        ),
        (
            "truncated header",
            good[..10].to_vec(),
            "btf: header: needs 24 bytes at offset 0, only 10 present".into(),
        ),
        (
            "bad magic",
            bad_magic,
            "btf: bad magic 0x1234 (want 0xeb9f)".into(),
        ),
        (
            "bad version",
            bad_version,
            "btf: unsupported version 2 (want 1)".into(),
        ),
        (
            "hdr_len below the header",
            with(HDR_LEN, 8),
            format!("btf: header: header length 8 is outside 24..={len}"),
        ),
        (
            "hdr_len past the data",
            with(HDR_LEN, 1 << 20),
            format!("btf: header: header length 1048576 is outside 24..={len}"),
        ),
        (
            "type_off misaligned",
            with(HDR_TYPE_OFF, 2),
            "btf: header: type section offset 2 is not 4-byte aligned".into(),
        ),
        (
            "string section past the end",
            with(HDR_STR_LEN, 1000),
            format!(
                "btf: string section: needs 1000 bytes at offset {}, only {} present",
                get_u32(&good, HDR_STR_OFF),
                len - HEADER_LEN
            ),
        ),
        (
            "string offset overflows",
            with(HDR_STR_OFF, u32::MAX),
            format!(
                "btf: string section: needs {} bytes at offset {}, only {} present",
                get_u32(&good, HDR_STR_LEN),
                u32::MAX,
                len - HEADER_LEN
            ),
        ),
        (
            "type section past the end",
            with(HDR_TYPE_LEN, 4096),
            format!(
                "btf: type section: needs 4096 bytes at offset 0, only {} present",
                len - HEADER_LEN
            ),
        ),
    ];
    for (what, bytes, want) in cases {
        assert_eq!(parse_err(&bytes), want, "{what}");
    }
}

#[test]
fn truncated_type_record() {
    // The type section ends in the middle of the last record (the ptr's
    // third word), while the string section is still intact.
    let b = small();
    let mut bytes = b.bytes();
    let type_len = get_u32(&bytes, HDR_TYPE_LEN);
    set_u32(&mut bytes, HDR_TYPE_LEN, type_len - 4);
    let ptr_at = b.type_pos(TypeId(3)) - HEADER_LEN;
    assert_eq!(
        parse_err(&bytes),
        format!(
            "btf: type header: needs 4 bytes at offset {}, only {} present",
            ptr_at + 8,
            type_len - 4
        )
    );
    // The same for a struct's member records.
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    b.struct_("s", 8, &[("x", int, 0), ("y", int, 32)]);
    let mut bytes = b.bytes();
    let type_len = get_u32(&bytes, HDR_TYPE_LEN);
    set_u32(&mut bytes, HDR_TYPE_LEN, type_len - 4);
    assert_eq!(
        parse_err(&bytes),
        "btf: type [2] (STRUCT): 2 entries need 24 bytes, only 20 left in the type section"
    );
    // Cutting the file itself cuts the string section first.
    let bytes = small().bytes();
    let cut = &bytes[..bytes.len() - 3];
    assert!(
        parse_err(cut).starts_with("btf: string section: needs "),
        "{}",
        parse_err(cut)
    );
}

#[test]
fn string_section_errors() {
    // Not ending in NUL: drop the last byte (a string's terminator) from it.
    let bytes = small().bytes();
    let mut no_nul = bytes.clone();
    set_u32(&mut no_nul, HDR_STR_LEN, get_u32(&bytes, HDR_STR_LEN) - 1);
    assert_eq!(
        parse_err(&no_nul),
        "btf: string section does not end with a NUL byte"
    );

    // Not UTF-8: a name with a lone continuation byte.
    let mut b = small();
    let bad = b.raw_string(&[b'o', b'k', 0xff]);
    b.raw(&[bad, info(Kind::Typedef as u32, 0, false), 1]);
    assert_eq!(
        parse_err(&b.bytes()),
        format!("btf: string section is not valid UTF-8 at byte {}", bad + 2)
    );

    // Base BTF must start with the empty name.
    let b = small();
    let s = b.strings_pos();
    let mut bytes = b.bytes();
    bytes[s] = b'x';
    assert_eq!(
        parse_err(&bytes),
        "btf: header: string section does not start with the empty name"
    );
    // (An empty string section is accepted: every name is then offset 0.)
    let mut b = BtfBuilder::new();
    b.raw(&[0, info(Kind::Ptr as u32, 0, false), 0]);
    let mut bytes = b.bytes();
    let s = b.strings_pos();
    set_u32(&mut bytes, HDR_STR_LEN, 0);
    bytes.truncate(s);
    let btf = Btf::parse(&bytes).unwrap();
    assert_eq!(btf.name(Name(0)), "");
}

#[test]
fn name_offsets_past_the_string_section() {
    let b = small();
    let str_len = b.strings_len();
    // Type name: word 0 of the int's record.
    let mut bytes = b.bytes();
    set_u32(&mut bytes, b.type_pos(TypeId(1)), 999);
    assert_eq!(
        parse_err(&bytes),
        format!("btf: type [1]: type name offset 999 is past the string section ({str_len} bytes)")
    );
    // Exactly at the end is past it too.
    let mut bytes = b.bytes();
    set_u32(&mut bytes, b.type_pos(TypeId(1)), str_len);
    assert_eq!(
        parse_err(&bytes),
        format!("btf: type [1]: type name offset {str_len} is past the string section ({str_len} bytes)")
    );
    // Member name: word 3 of the struct's record (after the 3-word header).
    let mut bytes = b.bytes();
    set_u32(&mut bytes, b.type_pos(TypeId(2)) + 12, 5000);
    assert_eq!(
        parse_err(&bytes),
        format!(
            "btf: type [2]: member name offset 5000 is past the string section ({str_len} bytes)"
        )
    );
    // Enumerator and parameter names.
    let mut b = BtfBuilder::new();
    let e = b.enum_("e", 4, false, &[("A", 1)]);
    let p = b.func_proto(TypeId::VOID, &[("x", TypeId::VOID)]);
    let str_len = b.strings_len();
    let mut bytes = b.bytes();
    set_u32(&mut bytes, b.type_pos(e) + 12, 777);
    assert_eq!(
        parse_err(&bytes),
        format!("btf: type [1]: enumerator name offset 777 is past the string section ({str_len} bytes)")
    );
    let mut bytes = b.bytes();
    set_u32(&mut bytes, b.type_pos(p) + 12, 778);
    assert_eq!(
        parse_err(&bytes),
        format!(
            "btf: type [2]: param name offset 778 is past the string section ({str_len} bytes)"
        )
    );
}

#[test]
fn name_offset_inside_a_multibyte_character() {
    // Offsets may point into the middle of a string (libbpf allows suffix
    // sharing), but not into the middle of a UTF-8 character.
    let mut b = BtfBuilder::new();
    let name = b.string("größe");
    b.typedef("größe", TypeId::VOID);
    let mut suffix = b.clone();
    suffix.raw(&[name + 4, info(Kind::Typedef as u32, 0, false), 0]);
    let btf = Btf::parse(&suffix.bytes()).unwrap();
    assert_eq!(btf.name(Name(name + 4)), "ße");
    // 'ö' is two bytes at offset 2; offset 3 is its second byte.
    let mut split_char = b.clone();
    let id = split_char.raw(&[name + 3, info(Kind::Typedef as u32, 0, false), 0]);
    assert_eq!(
        parse_err(&split_char.bytes()),
        format!(
            "btf: type {id}: type name offset {} is inside a UTF-8 character",
            name + 3
        )
    );
}

#[test]
fn unknown_and_void_kinds() {
    for kind in [20, 25, 31] {
        let mut b = small();
        let id = b.raw(&[0, info(kind, 0, false), 0]);
        assert_eq!(
            parse_err(&b.bytes()),
            format!("btf: type {id}: unknown kind {kind}")
        );
    }
    let mut b = small();
    b.raw(&[0, info(0, 0, false), 0]);
    assert_eq!(
        parse_err(&b.bytes()),
        "btf: type [4] (VOID): kind 0 (void) cannot be declared"
    );
}

#[test]
fn bad_scalar_sizes() {
    let cases: Vec<(Vec<u32>, &str)> = vec![
        (
            vec![0, info(1, 0, false), 0, 0x20],
            "btf: type [1] (INT): byte size 0 not in 1..=16",
        ),
        (
            vec![0, info(1, 0, false), 32, 0x20],
            "btf: type [1] (INT): byte size 32 not in 1..=16",
        ),
        (
            vec![0, info(1, 0, false), 4, 0],
            "btf: type [1] (INT): 0 bits at bit 0 do not fit 4 bytes",
        ),
        (
            vec![0, info(1, 0, false), 4, 33],
            "btf: type [1] (INT): 33 bits at bit 0 do not fit 4 bytes",
        ),
        // Offset plus width past the storage (kernel: btf_int_check_meta).
        (
            vec![0, info(1, 0, false), 4, (30 << 16) | 3],
            "btf: type [1] (INT): 3 bits at bit 30 do not fit 4 bytes",
        ),
        (
            vec![0, info(6, 0, false), 3],
            "btf: type [1] (ENUM): byte size 3 not 1, 2, 4 or 8",
        ),
        (
            vec![0, info(19, 0, false), 16],
            "btf: type [1] (ENUM64): byte size 16 not 1, 2, 4 or 8",
        ),
        (
            vec![0, info(16, 0, false), 3],
            "btf: type [1] (FLOAT): byte size 3 not 2, 4, 8, 12 or 16",
        ),
    ];
    for (words, want) in cases {
        let mut b = BtfBuilder::new();
        b.raw(&words);
        assert_eq!(parse_err(&b.bytes()), want);
    }
}

#[test]
fn type_ids_out_of_range() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    b.struct_("s", 4, &[("x", TypeId(99), 0)]);
    assert_eq!(
        parse_err(&b.bytes()),
        "btf: type [2] (STRUCT): member refers to type 99, but only 3 types exist"
    );
    let cases: Vec<(&str, AddWithInt, &str)> = vec![
        (
            "array elem",
            |b, int| {
                b.array(TypeId(50), int, 4);
            },
            "btf: type [2] (ARRAY): element type refers to type 50, but only 4 types exist",
        ),
        (
            "array index",
            |b, int| {
                b.array(int, TypeId(4), 4);
            },
            "btf: type [2] (ARRAY): index type refers to type 4, but only 4 types exist",
        ),
        (
            "ptr target",
            |b, _| {
                b.ptr(TypeId(7));
            },
            "btf: type [2] (PTR): target refers to type 7, but only 4 types exist",
        ),
        (
            "typedef target",
            |b, _| {
                b.typedef("t", TypeId(u32::MAX));
            },
            "btf: type [2] (TYPEDEF): target refers to type 4294967295, but only 4 types exist",
        ),
        (
            "func proto",
            |b, _| {
                b.func("f", TypeId(9), LINKAGE_GLOBAL);
            },
            "btf: type [2] (FUNC): prototype refers to type 9, but only 4 types exist",
        ),
        (
            "return type",
            |b, _| {
                b.func_proto(TypeId(9), &[]);
            },
            "btf: type [2] (FUNC_PROTO): return type refers to type 9, but only 4 types exist",
        ),
        (
            "param",
            |b, int| {
                b.func_proto(int, &[("a", TypeId(9))]);
            },
            "btf: type [2] (FUNC_PROTO): parameter refers to type 9, but only 4 types exist",
        ),
        (
            "var",
            |b, _| {
                b.var("v", TypeId(9), LINKAGE_GLOBAL);
            },
            "btf: type [2] (VAR): type refers to type 9, but only 4 types exist",
        ),
        (
            "datasec var",
            |b, _| {
                b.datasec(".data", 4, &[(TypeId(9), 0, 4)]);
            },
            "btf: type [2] (DATASEC): variable refers to type 9, but only 4 types exist",
        ),
        (
            "decl tag",
            |b, _| {
                b.decl_tag("t", TypeId(9), -1);
            },
            "btf: type [2] (DECL_TAG): target refers to type 9, but only 4 types exist",
        ),
    ];
    for (what, add, want) in cases {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, SIGNED);
        add(&mut b, int);
        b.float("float", 4); // id 3: the reference is checked against all types
        assert_eq!(parse_err(&b.bytes()), want, "{what}");
    }
    let _ = int;
}

#[test]
fn split_type_ids_out_of_range() {
    let mut base_b = BtfBuilder::new();
    base_b.int("int", 4, SIGNED);
    let base = std::sync::Arc::new(Btf::parse(&base_b.bytes()).unwrap());
    let mut b = BtfBuilder::split(base.len(), base.strings_len());
    b.ptr(TypeId(3));
    assert_eq!(
        Btf::parse_split(&b.bytes(), base).unwrap_err().to_string(),
        "btf: type [2] (PTR): target refers to type 3, but only 3 types exist"
    );
}

#[test]
fn vlen_past_the_type_section() {
    // Each record claims 1000 entries; the section holds far fewer.
    let cases: Vec<(Kind, Add, usize, &str)> = vec![
        (
            Kind::Struct,
            |b| b.struct_("s", 4, &[("x", TypeId(1), 0)]),
            12,
            "STRUCT",
        ),
        (
            Kind::Union,
            |b| b.union_("u", 4, &[("x", TypeId(1), 0)]),
            12,
            "UNION",
        ),
        (
            Kind::Enum,
            |b| b.enum_("e", 4, false, &[("A", 0)]),
            8,
            "ENUM",
        ),
        (
            Kind::Enum64,
            |b| b.enum64("e", 8, false, &[("A", 0)]),
            12,
            "ENUM64",
        ),
        (
            Kind::FuncProto,
            |b| b.func_proto(TypeId(1), &[("a", TypeId(1))]),
            8,
            "FUNC_PROTO",
        ),
        (
            Kind::Datasec,
            |b| b.datasec(".data", 4, &[(TypeId(1), 0, 4)]),
            12,
            "DATASEC",
        ),
    ];
    for (kind, add, rec_len, name) in cases {
        let mut b = BtfBuilder::new();
        b.int("int", 4, SIGNED);
        let id = add(&mut b);
        let pos = b.type_pos(id);
        let mut bytes = b.bytes();
        let word = get_u32(&bytes, pos + 4);
        set_u32(&mut bytes, pos + 4, (word & !0xffff) | 1000);
        assert_eq!(word >> 24 & 0x1f, kind as u32);
        assert_eq!(
            parse_err(&bytes),
            format!(
                "btf: type {id} ({name}): 1000 entries need {} bytes, only {rec_len} left in the type section",
                1000 * rec_len
            )
        );
    }
}

#[test]
fn typedef_cycle() {
    // typedef A -> typedef B -> A.
    let mut b = BtfBuilder::new();
    let a = b.typedef("A", TypeId(2));
    let bb = b.typedef("B", a);
    let btf = Btf::parse(&b.bytes()).unwrap();
    let too_deep = "btf: type [1]: reference chain is cyclic or deeper than 32 levels";
    assert_eq!(btf.size_of(a).unwrap_err().to_string(), too_deep);
    assert_eq!(
        btf.size_of(a).unwrap_err(),
        BtfError::TooDeep {
            id: a,
            max: MAX_DEPTH
        }
    );
    assert_eq!(btf.align_of(a).unwrap_err().to_string(), too_deep);
    assert_eq!(
        btf.skip_mods_and_typedefs(a).unwrap_err().to_string(),
        too_deep
    );
    assert_eq!(btf.c_type_name(bb).unwrap(), "B");
    assert_eq!(
        btf.check_graph().unwrap_err().to_string(),
        "btf: type [1] contains itself (a reference cycle not broken by a pointer)"
    );
    // A modifier loop: const -> volatile -> const.
    let mut b = BtfBuilder::new();
    let c = b.const_(TypeId(2));
    b.volatile(c);
    let btf = Btf::parse(&b.bytes()).unwrap();
    assert_eq!(btf.check_graph().unwrap_err(), BtfError::Cycle { id: c });
    assert_eq!(
        btf.c_type_name(c).unwrap_err(),
        BtfError::TooDeep {
            id: c,
            max: MAX_DEPTH
        }
    );
    // A pointer loop is not a cycle for the graph, but has no C spelling.
    let mut b = BtfBuilder::new();
    let p = b.ptr(TypeId(1));
    let btf = Btf::parse(&b.bytes()).unwrap();
    btf.check_graph().unwrap();
    assert_eq!(btf.size_of(p).unwrap(), 8);
    assert_eq!(
        btf.c_type_name(p).unwrap_err(),
        BtfError::TooDeep {
            id: p,
            max: MAX_DEPTH
        }
    );
}

#[test]
fn struct_containing_an_array_of_itself() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let s = TypeId(b.next_id().0 + 1);
    let arr = b.array(s, int, 2);
    assert_eq!(b.struct_("s", 8, &[("self", arr, 0)]), s);
    let btf = Btf::parse(&b.bytes()).unwrap();
    assert_eq!(
        btf.check_graph().unwrap_err().to_string(),
        "btf: type [2] contains itself (a reference cycle not broken by a pointer)"
    );
    // Size is the struct's own; alignment walks into the cycle and stops.
    assert_eq!(btf.size_of(s).unwrap(), 8);
    assert_eq!(
        btf.align_of(s).unwrap_err(),
        BtfError::TooDeep {
            id: s,
            max: MAX_DEPTH
        }
    );
    // The same struct holding a pointer to itself is fine.
    let mut b = BtfBuilder::new();
    let s = TypeId(b.next_id().0 + 1);
    let p = b.ptr(s);
    b.struct_("s", 8, &[("next", p, 0)]);
    Btf::parse(&b.bytes()).unwrap().check_graph().unwrap();
}

#[test]
fn huge_arrays_overflow() {
    let mut b = BtfBuilder::new();
    let long = b.int("long", 8, SIGNED);
    let huge = b.array(long, long, u32::MAX / 4);
    let outer = b.array(huge, long, 2);
    let s = b.struct_("s", 8, &[("a", outer, 0)]);
    let btf = Btf::parse(&b.bytes()).unwrap();
    assert_eq!(
        btf.size_of(huge).unwrap_err().to_string(),
        "btf: type [2]: size overflows u32"
    );
    assert_eq!(
        btf.size_of(outer).unwrap_err(),
        BtfError::SizeOverflow { id: huge }
    );
    assert_eq!(btf.size_of(s).unwrap(), 8);
    btf.check_graph().unwrap();
}

#[test]
fn legacy_bitfield_offset_overflow() {
    // A member at the largest bit offset whose INT adds more bits.
    let mut b = BtfBuilder::new();
    let bits = b.int_bits("unsigned int", 4, UNSIGNED, 4, 3);
    let s = b.struct_("s", 4, &[("x", bits, u32::MAX)]);
    let btf = Btf::parse(&b.bytes()).unwrap();
    let m = btf.type_by_id(s).unwrap().members().unwrap()[0];
    assert_eq!(
        btf.member_bits(&m).unwrap_err().to_string(),
        "btf: type [1] (INT): bitfield at bit 4294967295 + 4 overflows u32"
    );
}

#[test]
fn exponential_graphs_stay_linear() {
    // 40 structs, each holding two of the next: 2^40 paths, 40 types.
    let mut b = BtfBuilder::new();
    let mut cur = b.int("int", 4, SIGNED);
    for i in 0..40 {
        cur = b.struct_(&format!("s{i}"), 8, &[("a", cur, 0), ("b", cur, 32)]);
    }
    let btf = Btf::parse(&b.bytes()).unwrap();
    let start = std::time::Instant::now();
    assert_eq!(btf.align_of(TypeId(MAX_DEPTH)).unwrap(), 4);
    assert_eq!(
        btf.align_of(cur).unwrap_err(),
        BtfError::TooDeep {
            id: cur,
            max: MAX_DEPTH
        }
    );
    // The same shape in function prototypes for C spellings.
    let mut b = BtfBuilder::new();
    let mut cur = b.int("int", 4, SIGNED);
    for _ in 0..12 {
        let proto = b.func_proto(cur, &[("", cur), ("", cur)]);
        cur = b.ptr(proto);
    }
    let btf = Btf::parse(&b.bytes()).unwrap();
    assert_eq!(
        btf.c_type_name(cur).unwrap_err().to_string(),
        format!("btf: type {cur}: spelling visits more than 4096 types")
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

//! The object reader on the map fixtures (maps.bpf.o, the legacy `maps`
//! objects, nobtf.bpf.o), compared with the literal values of the C sources
//! and of tests/bpf/README.md; globals.bpf.o and programs.bpf.o have
//! obj_fixtures_globals.rs and obj_fixtures_programs.rs. ELF offsets and sizes below were read with
//! `llvm-objdump-19 -h -t -r` and are written out as literals; tables keep
//! one row per line (`rustfmt::skip`) so that they read like the README's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::btf::{Kind, Type, TypeId};
use bpf2rs::obj::{
    AttachType, MapOrigin, MapSlot, MapSpec, MapType, ObjectSpec, Pinning, ProgType, ProgramSpec,
    RelocTarget, SlotTarget, INSN_SIZE,
};
use bpf2rs_tests::{
    btf, c_name, datasec, elf_section, fixture, fixture_bytes, open, owned, set_u32,
};

fn map<'a>(spec: &'a ObjectSpec, name: &str) -> &'a MapSpec {
    spec.map(name).unwrap_or_else(|| panic!("no map {name}"))
}

/// One map, as the README's tables give it: name, type, key_size, key type,
/// value_size, value type, max_entries, map_flags, numa_node, map_extra,
/// pinning, and the `st_value` of the map's ELF symbol.
type MapRow = (
    &'static str,
    MapType,
    u32,
    Option<&'static str>,
    u32,
    Option<&'static str>,
    u32,
    u32,
    u32,
    u64,
    Pinning,
    u64,
);

/// Checks every map of `spec` against `rows`, in order.
fn check_maps(spec: &ObjectSpec, origin: MapOrigin, rows: &[MapRow]) {
    let got: Vec<MapRow> = spec
        .maps
        .iter()
        .map(|m| {
            assert_eq!(m.origin, origin, "{}: map {}", spec.name, m.name);
            let row = rows
                .iter()
                .find(|r| r.0 == m.name)
                .unwrap_or_else(|| panic!("{}: unexpected map {}", spec.name, m.name));
            // The type names go through the &'static strs of the row so that
            // the whole table compares at once.
            let key = c_name(spec, m.key_type);
            let value = c_name(spec, m.value_type);
            assert_eq!(key.as_deref(), row.3, "{}: key type", m.name);
            assert_eq!(value.as_deref(), row.5, "{}: value type", m.name);
            (
                row.0,
                m.map_type,
                m.key_size,
                row.3,
                m.value_size,
                row.5,
                m.max_entries,
                m.map_flags,
                m.numa_node,
                m.map_extra,
                m.pinning,
                m.section_offset,
            )
        })
        .collect();
    assert_eq!(got, rows, "{}: maps in section order", spec.name);
    for m in &spec.maps {
        if !matches!(m.name.as_str(), "outer_arr" | "outer_hash") {
            assert!(m.inner.is_none(), "map {} has no inner template", m.name);
        }
        if !matches!(m.name.as_str(), "outer_arr" | "jmp_table") {
            assert!(m.values.is_empty(), "map {} has no static values", m.name);
        }
    }
}

// ---------------------------------------------------------------- maps.bpf.o

const U32: Option<&str> = Some("__u32");
const U64: Option<&str> = Some("__u64");

#[test]
fn maps_every_btf_map_matches_the_source() {
    let spec = open("maps.bpf.o");
    assert_eq!(spec.name, "maps");
    assert_eq!(spec.license.as_deref(), Some("GPL"));
    assert_eq!(spec.kern_version, None);
    use MapType as T;
    use Pinning::{ByName, None as NoPin};
    #[rustfmt::skip]
    let rows: [MapRow; 15] = [
        ("inner_a",     T::ARRAY,            4,  U32, 8,  U64, 4,       0, 0, 0, NoPin,  0x000),
        ("outer_arr",   T::ARRAY_OF_MAPS,    4,  U32, 4,  None, 8,      0, 0, 0, NoPin,  0x020),
        ("jmp_table",   T::PROG_ARRAY,       4,  None, 4, None, 4,      0, 0, 0, NoPin,  0x048),
        ("flow_table",  T::HASH,             16, Some("struct flow_key"), 24, Some("struct flow_stats"), 10240, 0, 0, 0, NoPin, 0x080),
        ("icmpcnt",     T::ARRAY,            4,  U32, 12, Some("struct my_value"), 256, 0, 0, 0, NoPin, 0x0a0),
        ("raw_sizes",   T::HASH,             4,  None, 8, None, 128,    0, 0, 0, NoPin,  0x0c0),
        ("noprealloc",  T::HASH,             4,  U32, 8,  U64, 512,     1, 0, 0, NoPin,  0x0e0),
        ("numa_map",    T::HASH,             4,  U32, 8,  U64, 64,      4, 0, 0, NoPin,  0x108),
        ("pinned_map",  T::ARRAY,            4,  U32, 8,  U64, 16,      0, 0, 0, ByName, 0x138),
        ("bloom",       T::BLOOM_FILTER,     0,  None, 4, U32, 1000,    0, 0, 3, NoPin,  0x160),
        ("lru",         T::LRU_HASH,         4,  U32, 8,  U64, 2048,    0, 0, 0, NoPin,  0x180),
        ("pcpu_arr",    T::PERCPU_ARRAY,     4,  U32, 8,  U64, 4,       0, 0, 0, NoPin,  0x1a0),
        ("events_rb",   T::RINGBUF,          0,  None, 0, None, 262144, 0, 0, 0, NoPin,  0x1c0),
        ("perf_events", T::PERF_EVENT_ARRAY, 4,  None, 4, None, 0,      0, 0, 0, NoPin,  0x1d0),
        ("outer_hash",  T::HASH_OF_MAPS,     4,  U32, 4,  None, 16,     0, 0, 0, NoPin,  0x1e8),
    ];
    check_maps(&spec, MapOrigin::Btf, &rows);
    // The numbers of the kernel's enum bpf_map_type.
    let numbers: Vec<u32> = spec.maps.iter().map(|m| m.map_type.0).collect();
    assert_eq!(numbers, [2, 12, 3, 1, 2, 1, 1, 1, 2, 30, 9, 6, 27, 4, 13]);
}

#[test]
fn maps_kernel_docs_examples() {
    // Documentation/bpf/map_array.rst: an ARRAY of
    // `struct my_value { int x, y, z; }`.
    let spec = open("maps.bpf.o");
    let icmpcnt = map(&spec, "icmpcnt");
    let m = icmpcnt;
    assert_eq!(
        (m.map_type, m.key_size, m.value_size, m.max_entries),
        (MapType::ARRAY, 4, 12, 256)
    );
    let b = btf(&spec);
    let value = b.skip_mods_and_typedefs(m.value_type.unwrap()).unwrap();
    let Type::Struct(s) = b.type_by_id(value).unwrap() else {
        panic!("struct my_value is a struct");
    };
    let members: Vec<(&str, String, u32)> = s
        .members
        .iter()
        .map(|m| (b.name(m.name), b.c_type_name(m.ty).unwrap(), m.bit_offset))
        .collect();
    assert_eq!(s.byte_size, 12);
    let int = || "int".to_owned();
    assert_eq!(
        members,
        [("x", int(), 0), ("y", int(), 32), ("z", int(), 64)]
    );

    // Documentation/bpf/map_hash.rst: a hash map with BPF_F_NO_PREALLOC, in
    // the BTF form and in the legacy `struct bpf_map_def` form.
    let m = map(&spec, "noprealloc");
    assert_eq!(
        (
            m.map_type,
            m.key_size,
            m.value_size,
            m.map_flags,
            m.max_entries
        ),
        (MapType::HASH, 4, 8, 1, 512)
    );
    let legacy = open("legacy.bpf.o");
    let m = map(&legacy, "legacy_hash");
    assert_eq!(
        (
            m.origin,
            m.map_type,
            m.key_size,
            m.value_size,
            m.max_entries,
            m.map_flags
        ),
        (MapOrigin::Legacy, MapType::HASH, 4, 8, 1024, 1)
    );
}

#[test]
fn maps_struct_layouts_come_from_btf() {
    let spec = open("maps.bpf.o");
    let b = btf(&spec);
    let layout = |id: TypeId| -> (u32, Vec<(String, String, u32)>) {
        let resolved = b.skip_mods_and_typedefs(id).unwrap();
        let Type::Struct(s) = b.type_by_id(resolved).unwrap() else {
            panic!("not a struct");
        };
        let members = s
            .members
            .iter()
            .map(|m| {
                let ty = b.c_type_name(m.ty).unwrap();
                (b.name(m.name).to_owned(), ty, m.bit_offset / 8)
            })
            .collect();
        (s.byte_size, members)
    };
    let fields = |v: &[(&str, &str, u32)]| -> Vec<(String, String, u32)> {
        v.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
            .collect()
    };
    let flows = map(&spec, "flow_table");
    #[rustfmt::skip]
    let key = fields(&[("saddr", "__u32", 0), ("daddr", "__u32", 4), ("sport", "__u16", 8), ("dport", "__u16", 10), ("proto", "__u8", 12)]);
    assert_eq!(layout(flows.key_type.unwrap()), (16, key));
    #[rustfmt::skip]
    let value = fields(&[("flags", "__u32", 0), ("packets", "__u64", 8), ("bytes", "__u64", 16)]);
    assert_eq!(layout(flows.value_type.unwrap()), (24, value));
}

#[test]
fn maps_inner_map_templates() {
    let spec = open("maps.bpf.o");
    for outer in ["outer_arr", "outer_hash"] {
        let m = map(&spec, outer);
        assert_eq!((m.key_size, m.value_size), (4, 4), "{outer}: fd-valued");
        assert_eq!(m.value_type, None);
        let inner = m.inner.as_deref().expect("an inner template");
        assert_eq!(inner.name, format!("{outer}.inner"));
        assert_eq!(
            (
                inner.map_type,
                inner.key_size,
                inner.value_size,
                inner.max_entries
            ),
            (MapType::ARRAY, 4, 8, 4),
            "{outer}: inner template"
        );
        assert_eq!((inner.map_flags, inner.pinning), (0, Pinning::None));
        assert_eq!(c_name(&spec, inner.key_type).as_deref(), Some("__u32"));
        assert_eq!(c_name(&spec, inner.value_type).as_deref(), Some("__u64"));
        assert!(inner.inner.is_none() && inner.values.is_empty());
    }
    // inner_a's own definition lists its members in another order than the
    // template (`type, max_entries, key, value`): a different BTF struct.
    let b = btf(&spec);
    let var = b.find_by_name("inner_a", Kind::Var).unwrap();
    let Type::Var(v) = b.type_by_id(var).unwrap() else {
        unreachable!()
    };
    let def = b.skip_mods_and_typedefs(v.ty).unwrap();
    let Type::Struct(def) = b.type_by_id(def).unwrap() else {
        panic!("inner_a's definition is a struct");
    };
    let order: Vec<&str> = def.members.iter().map(|m| b.name(m.name)).collect();
    assert_eq!(order, ["type", "key", "value", "max_entries"]);
    assert!(map(&spec, "inner_a").inner.is_none());
    assert!(
        map(&spec, "jmp_table").inner.is_none(),
        "values are programs"
    );
}

#[test]
fn maps_static_values() {
    let spec = open("maps.bpf.o");
    let slot = |index, target| MapSlot { index, target };
    assert_eq!(
        map(&spec, "outer_arr").values,
        [slot(1, SlotTarget::Map("inner_a".into()))]
    );
    assert_eq!(
        map(&spec, "jmp_table").values,
        [slot(2, SlotTarget::Program("tail_prog".into()))]
    );
    assert!(map(&spec, "outer_hash").values.is_empty());
    // Both targets exist in the object.
    assert!(spec.map("inner_a").is_some());
    assert_eq!(spec.program("tail_prog").unwrap().section, "xdp");
}

#[test]
fn maps_programs_share_one_section() {
    let spec = open("maps.bpf.o");
    let got: Vec<_> = spec
        .programs
        .iter()
        .map(|p| {
            let def = (p.prog_type(), p.expected_attach_type());
            (
                p.name.as_str(),
                p.section.as_str(),
                p.section_insn_offset,
                p.insns.len(),
                def,
            )
        })
        .collect();
    // tail_prog: st_value 0, st_size 0x10; entry: st_value 0x10, st_size 0x4f8.
    let xdp = (ProgType::XDP, Some(AttachType::XDP));
    assert_eq!(
        got,
        [
            ("tail_prog", "xdp", 0, 0x10 / 8, xdp),
            ("entry", "xdp", 0x10 / 8, 0x4f8 / 8, xdp),
        ]
    );
    assert!(spec.subprograms.is_empty(), ".text is empty");
    assert!(spec.data.is_empty() && spec.externs.is_empty());
}

/// Program `p`, starting at instruction `first_insn` of its section, has
/// exactly the map relocations `llvm-objdump -r` lists for the section
/// (byte offset in the section, symbol), each at an ld_imm64 not yet
/// rewritten to BPF_PSEUDO_MAP_FD.
fn check_map_relocs(p: &ProgramSpec, first_insn: usize, objdump: &[(usize, &str)]) {
    assert_eq!(p.section_insn_offset, first_insn, "{}", p.name);
    let got: Vec<(usize, &str, RelocTarget)> = p
        .relocations
        .iter()
        .map(|r| (r.insn, r.symbol.as_str(), r.target.clone()))
        .collect();
    let want: Vec<(usize, &str, RelocTarget)> = objdump
        .iter()
        .map(|&(off, m)| (off / INSN_SIZE - first_insn, m, RelocTarget::Map(m.into())))
        .collect();
    assert_eq!(got, want, "{}", p.name);
    for r in &p.relocations {
        let insn = p.insns[r.insn];
        assert!(
            insn.is_ld_imm64(),
            "{}: insn {} is ld_imm64: {insn:?}",
            p.name,
            r.insn
        );
        assert_eq!(
            insn.src_reg, 0,
            "{}: not yet rewritten to BPF_PSEUDO_MAP_FD",
            p.name
        );
        assert_eq!(
            p.insns[r.insn + 1].code,
            0,
            "{}: second half of ld_imm64",
            p.name
        );
    }
}

#[test]
fn maps_relocations_name_maps_at_ld_imm64() {
    let spec = open("maps.bpf.o");
    let entry = spec.program("entry").unwrap();
    // `llvm-objdump-19 -r maps.bpf.o`, RELOCATION RECORDS FOR [xdp]: byte
    // offset in the section and symbol, all R_BPF_64_64.
    let objdump: [(usize, &str); 17] = [
        (0x098, "flow_table"),
        (0x0e8, "flow_table"),
        (0x118, "icmpcnt"),
        (0x170, "raw_sizes"),
        (0x1a0, "noprealloc"),
        (0x1d0, "numa_map"),
        (0x200, "pinned_map"),
        (0x250, "bloom"),
        (0x280, "bloom"),
        (0x2c0, "lru"),
        (0x2e8, "pcpu_arr"),
        (0x338, "events_rb"),
        (0x370, "perf_events"),
        (0x3b8, "inner_a"),
        (0x400, "outer_arr"),
        (0x470, "outer_hash"),
        (0x4d8, "jmp_table"),
    ];
    // entry starts at insn 2 of the section, after tail_prog.
    check_map_relocs(entry, 2, &objdump);
    let mut used: Vec<&str> = objdump.iter().map(|(_, n)| *n).collect();
    used.dedup();
    assert_eq!(used.len(), 15, "entry uses every map");
    assert!(spec.program("tail_prog").unwrap().relocations.is_empty());
}

#[test]
fn maps_btf_ext_is_rebased_per_program() {
    let spec = open("maps.bpf.o");
    let b = btf(&spec);
    for p in &spec.programs {
        assert_eq!(p.func_info.len(), 1, "{}", p.name);
        assert_eq!(p.func_info[0].insn_off, 0, "{}: first func_info", p.name);
        let Type::Func(f) = b.type_by_id(p.func_info[0].type_id).unwrap() else {
            panic!("{}: func_info names a FUNC", p.name);
        };
        assert_eq!(b.name(f.name), p.name);
        assert_eq!(p.line_info[0].insn_off, 0, "{}: first line_info", p.name);
        let len = p.insns.len();
        assert!(p.line_info.iter().all(|l| (l.insn_off as usize) < len));
        assert!(p
            .line_info
            .windows(2)
            .all(|w| w[0].insn_off <= w[1].insn_off));
        assert!(p.core_relos.is_empty());
    }
    let tail = spec.program("tail_prog").unwrap();
    // maps.bpf.c:199 is `\treturn XDP_PASS;`, column 2.
    let line = tail.line_info[0];
    assert_eq!(tail.line_info.len(), 1);
    assert_eq!((line.line_num(), line.column()), (199, 2));
    assert_eq!(b.name(line.line).trim(), "return XDP_PASS;");
    assert_eq!(spec.program("entry").unwrap().line_info.len(), 45);
    // The section's records are split between the two programs.
    let ext = spec.btf_ext.as_ref().unwrap();
    let lines: usize = ext
        .line_info
        .iter()
        .filter(|s| s.section == "xdp")
        .map(|s| s.records.len())
        .sum();
    assert_eq!(lines, 46);
}

#[test]
fn maps_datasecs_are_fixed_from_elf() {
    let spec = open("maps.bpf.o");
    let b = btf(&spec);
    // `llvm-objdump-19 -h`: .maps is 0x200 bytes, license 4; `-t`: the
    // maps' st_value. clang wrote size 0 and offsets 0.
    #[rustfmt::skip]
    let vars = owned([
        ("inner_a", 0x0, 32), ("outer_arr", 0x20, 40), ("jmp_table", 0x48, 56),
        ("flow_table", 0x80, 32), ("icmpcnt", 0xa0, 32), ("raw_sizes", 0xc0, 32),
        ("noprealloc", 0xe0, 40), ("numa_map", 0x108, 48), ("pinned_map", 0x138, 40),
        ("bloom", 0x160, 32), ("lru", 0x180, 32), ("pcpu_arr", 0x1a0, 32),
        ("events_rb", 0x1c0, 16), ("perf_events", 0x1d0, 24), ("outer_hash", 0x1e8, 24),
    ]);
    assert_eq!(datasec(b, ".maps"), (0x200, vars));
    assert_eq!(datasec(b, "license"), (4, owned([("LICENSE", 0, 4)])));
    // Cross-check with the section header of this very file.
    let bytes = fixture_bytes("maps.bpf.o");
    assert_eq!(elf_section(&bytes, ".maps").size, 0x200);
    assert_eq!(elf_section(&bytes, "license").size, 4);
}

// ---------------------------------------------------- legacy `maps` sections

#[test]
fn legacy_five_field_maps() {
    let spec = open("legacy.bpf.o");
    #[rustfmt::skip]
    let rows: [MapRow; 2] = [
        ("legacy_hash", MapType::HASH,  4, None, 8,  None, 1024, 1, 0, 0, Pinning::None, 0),
        ("legacy_arr",  MapType::ARRAY, 4, None, 16, None, 64,   0, 0, 0, Pinning::None, 20),
    ];
    check_maps(&spec, MapOrigin::Legacy, &rows);
    assert_eq!(spec.license.as_deref(), Some("GPL"));
    let p = spec.program("sock_prog").unwrap();
    let def = (p.section.as_str(), p.prog_type(), p.expected_attach_type());
    assert_eq!(def, ("socket", ProgType::SOCKET_FILTER, None));
    // RELOCATION RECORDS FOR [socket].
    check_map_relocs(
        p,
        0,
        &[
            (0x48, "legacy_hash"),
            (0x98, "legacy_hash"),
            (0xc8, "legacy_arr"),
        ],
    );
    let vars = owned([("legacy_hash", 0, 20), ("legacy_arr", 20, 20)]);
    assert_eq!(datasec(btf(&spec), "maps"), (40, vars));
}

#[test]
fn legacy_aya_seven_field_maps() {
    let spec = open("legacy_ext.bpf.o");
    #[rustfmt::skip]
    let rows: [MapRow; 2] = [
        ("ext_pinned", MapType::HASH,  4, None, 8, None, 256, 1, 0, 0, Pinning::ByName, 0),
        ("ext_plain",  MapType::ARRAY, 4, None, 4, None, 32,  0, 0, 0, Pinning::None,   28),
    ];
    check_maps(&spec, MapOrigin::Legacy, &rows);
    let p = spec.program("ext_xdp").unwrap();
    let def = (p.section.as_str(), p.prog_type(), p.expected_attach_type());
    assert_eq!(def, ("xdp", ProgType::XDP, Some(AttachType::XDP)));
    check_map_relocs(
        p,
        0,
        &[
            (0x40, "ext_pinned"),
            (0x90, "ext_pinned"),
            (0xc0, "ext_plain"),
        ],
    );
    let vars = owned([("ext_pinned", 0, 28), ("ext_plain", 28, 28)]);
    assert_eq!(datasec(btf(&spec), "maps"), (56, vars));
}

#[test]
fn legacy_iproute2_nine_field_maps() {
    let spec = open("legacy_iproute2.bpf.o");
    // tc_outer's symbol comes first in .symtab; the maps are still in
    // offset order. iproute2's PIN_GLOBAL_NS (2) is kept as a number.
    #[rustfmt::skip]
    let rows: [MapRow; 2] = [
        ("tc_inner", MapType::ARRAY,         4, None, 8, None, 16, 0, 0, 0, Pinning::None,     0),
        ("tc_outer", MapType::ARRAY_OF_MAPS, 4, None, 4, None, 4,  0, 0, 0, Pinning::Other(2), 36),
    ];
    check_maps(&spec, MapOrigin::Legacy, &rows);
    let p = spec.program("ip_xdp").unwrap();
    check_map_relocs(p, 0, &[(0x30, "tc_outer"), (0x98, "tc_inner")]);
    let vars = owned([("tc_inner", 0, 36), ("tc_outer", 36, 36)]);
    assert_eq!(datasec(btf(&spec), "maps"), (72, vars));
}

/// Pinning numbers mean different things in the two extended legacy forms:
/// 1 is libbpf's (and aya's) by-name pinning, but iproute2's PIN_OBJECT_NS.
#[test]
fn legacy_pinning_follows_each_forms_numbering() {
    let with_pinning = |file: &str, def_offset: usize, value: u32| -> Vec<Pinning> {
        let mut bytes = fixture_bytes(file);
        let sec = elf_section(&bytes, "maps");
        // `pinning` is the 7th u32 of both forms.
        set_u32(&mut bytes, sec.offset + def_offset + 6 * 4, value);
        let spec = ObjectSpec::parse(&bytes, file).unwrap();
        spec.maps.iter().map(|m| m.pinning).collect()
    };
    use Pinning::{ByName, None as NoPin, Other};
    assert_eq!(with_pinning("legacy_ext.bpf.o", 28, 1), [ByName, ByName]);
    assert_eq!(with_pinning("legacy_ext.bpf.o", 28, 7), [ByName, Other(7)]);
    assert_eq!(
        with_pinning("legacy_iproute2.bpf.o", 0, 1),
        [Other(1), Other(2)]
    );
    assert_eq!(with_pinning("legacy_iproute2.bpf.o", 36, 0), [NoPin, NoPin]);
}

#[test]
fn nobtf_object_reads_without_btf() {
    let spec = open("nobtf.bpf.o");
    assert!(spec.btf.is_none() && spec.btf_ext.is_none());
    #[rustfmt::skip]
    let rows: [MapRow; 1] = [
        ("nobtf_cnt", MapType::ARRAY, 4, None, 8, None, 4, 0, 0, 0, Pinning::None, 0),
    ];
    check_maps(&spec, MapOrigin::Legacy, &rows);
    assert_eq!(
        (
            map(&spec, "nobtf_cnt").key_type,
            map(&spec, "nobtf_cnt").value_type
        ),
        (None, None)
    );
    let p = spec.program("nobtf_xdp").unwrap();
    assert_eq!((p.section.as_str(), p.insns.len()), ("xdp", 0x60 / 8));
    assert!(p.func_info.is_empty() && p.line_info.is_empty());
    check_map_relocs(p, 0, &[(0x20, "nobtf_cnt")]);
    assert_eq!(spec.license.as_deref(), Some("GPL"));
}

// -------------------------------------------------------------- all of them

#[test]
fn every_fixture_reads_or_fails_as_documented() {
    let ok = [
        "maps.bpf.o",
        "legacy.bpf.o",
        "legacy_ext.bpf.o",
        "legacy_iproute2.bpf.o",
        "globals.bpf.o",
        "programs.bpf.o",
        "nobtf.bpf.o",
        // Reads; its unresolved externs make the load refuse it.
        "extern_unresolved.bpf.o",
    ];
    for f in ok {
        let spec = open(f);
        assert_eq!(spec.name, f.trim_end_matches(".bpf.o"));
        assert_eq!(spec.license.as_deref(), Some("GPL"), "{f}");
    }
    for (f, msg) in [
        (
            "bad_key_both.bpf.o",
            "section .maps: map bad_map: both `key` and `key_size` given",
        ),
        (
            "bad_unknown_field.bpf.o",
            "section .maps: map odd_map: unknown field `frobnicate`",
        ),
        (
            "bad_maps_init.bpf.o",
            "section .maps: map init_key: field key: non-zero initial value",
        ),
        (
            "bad_legacy_extra.bpf.o",
            "section maps: map odd_tail: legacy definition has non-zero bytes",
        ),
    ] {
        let e = ObjectSpec::from_file(fixture(f)).unwrap_err().to_string();
        assert!(e.contains(msg), "{f}: {e}");
    }
}

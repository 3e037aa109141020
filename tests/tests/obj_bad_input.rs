//! The object reader on input it must refuse: empty, truncated, random and
//! mutated files, ELF files for another machine, corrupt `.BTF`, map
//! definitions libbpf or cilium/ebpf would reject, a `.maps` section without
//! BTF and relocations that point nowhere. Every refusal is an `Err` whose
//! message names the file and the part at fault; nothing panics. Externs
//! no loader can resolve are the exception: they read (so `inspect` shows
//! them) and the load is what refuses them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;

use bpf2rs::load::OpenObject;
use bpf2rs::obj::{ExternKind, ObjError, ObjectSpec};
use bpf2rs_tests::{
    btf_header, btf_kind, btf_raw_types, elf_section, elf_sections, fixture, fixture_bytes,
    get_u16, get_u32, get_u64, set_u32, set_u64, TempDir, XorShift, SHT_REL,
};

/// Parses `bytes` as `name`; a panic fails the test and says which input did it.
fn parse(bytes: &[u8], name: &str, what: &str) -> Result<ObjectSpec, ObjError> {
    catch_unwind(AssertUnwindSafe(|| ObjectSpec::parse(bytes, name)))
        .unwrap_or_else(|_| panic!("{what}: the reader panicked"))
}

/// The error message of parsing `bytes`; fails the test if it parses.
fn parse_err(bytes: &[u8], name: &str) -> String {
    match parse(bytes, name, name) {
        Ok(_) => panic!("{name}: corrupt object parsed"),
        Err(e) => e.to_string(),
    }
}

fn assert_contains(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "message {msg:?} lacks {p:?}");
    }
}

// ------------------------------------------------------- not a BPF ELF file

#[test]
fn empty_file() {
    let msg = parse_err(&[], "empty.bpf.o");
    assert!(msg.starts_with("empty.bpf.o: not an ELF file: "), "{msg}");
    // The same from disk: the message names the path.
    let dir = TempDir::new("empty");
    let path = dir.write("empty.bpf.o", &[]);
    let msg = ObjectSpec::from_file(&path).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}: not an ELF file: ", path.display())),
        "{msg}"
    );
}

#[test]
fn missing_file() {
    let path = fixture("does_not_exist.bpf.o");
    let msg = ObjectSpec::from_file(&path).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}: reading: ", path.display())),
        "{msg}"
    );
    assert!(msg.contains("No such file or directory"), "{msg}");
}

#[test]
fn truncated_files() {
    let full = fixture_bytes("maps.bpf.o");
    let mut errors = 0;
    for len in (0..full.len()).step_by(7) {
        match parse(
            &full[..len],
            "maps.bpf.o",
            &format!("prefix of {len} bytes"),
        ) {
            Ok(_) => {}
            Err(e) => {
                errors += 1;
                let msg = e.to_string();
                assert!(
                    msg.starts_with("maps.bpf.o: "),
                    "prefix of {len} bytes: {msg}"
                );
            }
        }
    }
    // The section headers sit at the end of the file: no prefix reads.
    assert_eq!(errors, full.len().div_ceil(7));
    for len in [
        0,
        1,
        4,
        16,
        63,
        64,
        1000,
        full.len() / 2,
        full.len() - 64,
        full.len() - 1,
    ] {
        let msg = parse_err(&full[..len], "maps.bpf.o");
        assert!(
            msg.starts_with("maps.bpf.o: not an ELF file: "),
            "prefix of {len} bytes: {msg}"
        );
    }
}

#[test]
fn random_bytes() {
    let mut rng = XorShift::new(0x5e_ed0b_1ec7);
    for i in 0..2000 {
        let len = rng.below(4096);
        let mut bytes = vec![0; len];
        rng.fill(&mut bytes);
        // Every other input starts like a 64-bit little-endian ELF file, so
        // that the reader gets past the magic.
        if i % 2 == 1 && len >= 16 {
            bytes[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
        }
        let name = format!("random{i}.bpf.o");
        let msg = match parse(&bytes, &name, &format!("random input {i}")) {
            Ok(_) => panic!("random input {i} parsed"),
            Err(e) => e.to_string(),
        };
        assert!(
            msg.starts_with(&format!("{name}: ")),
            "random input {i}: {msg}"
        );
    }
}

/// Flips bytes of real objects: the result parses or fails, never panics.
fn mutate(file: &str, count: usize, seed: u64) -> (usize, usize) {
    let original = fixture_bytes(file);
    let mut rng = XorShift::new(seed);
    let (mut ok, mut err) = (0, 0);
    for i in 0..count {
        let mut bytes = original.clone();
        let pos = rng.below(bytes.len());
        let flip = (rng.next_u64() as u8).max(1);
        bytes[pos] ^= flip;
        // A quarter of the inputs get a second flip somewhere else.
        if i % 4 == 0 {
            let pos2 = rng.below(bytes.len());
            bytes[pos2] ^= 0xff;
        }
        match parse(
            &bytes,
            file,
            &format!("{file}: mutation {i} (byte {pos:#x} ^ {flip:#04x})"),
        ) {
            Ok(_) => ok += 1,
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with(&format!("{file}: ")), "mutation {i}: {msg}");
                err += 1;
            }
        }
    }
    (ok, err)
}

#[test]
fn mutated_maps_object() {
    let (ok, err) = mutate("maps.bpf.o", 5000, 0x0b7f_0001);
    assert_eq!(ok + err, 5000);
    // Most bytes are DWARF and padding the reader never looks at; flips of
    // headers, BTF and definitions must be caught.
    eprintln!("maps.bpf.o mutations: {ok} parsed, {err} refused");
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}

#[test]
fn mutated_other_objects() {
    for (file, seed) in [
        ("globals.bpf.o", 2),
        ("programs.bpf.o", 3),
        ("legacy_iproute2.bpf.o", 4),
        ("nobtf.bpf.o", 5),
        ("extern_unresolved.bpf.o", 6),
    ] {
        let (ok, err) = mutate(file, 1000, seed);
        assert_eq!(ok + err, 1000);
    }
}

#[test]
fn elf_for_another_machine() {
    let dir = TempDir::new("host");
    let src = dir.write("host.c", b"int host_function(int x) { return x + 1; }\n");
    let obj = dir.path().join("host.o");
    let status = Command::new("cc")
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .status()
        .expect("running cc");
    assert!(status.success(), "cc -c failed");
    let msg = ObjectSpec::from_file(&obj).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!(
            "{}: not a BPF object: ELF machine is ",
            obj.display()
        )),
        "{msg}"
    );
    assert!(msg.contains("want BPF (EM_BPF, 247)"), "{msg}");

    // An executable, not a relocatable object, for the host.
    let msg = ObjectSpec::from_file("/bin/true").unwrap_err().to_string();
    assert!(msg.starts_with("/bin/true: not a BPF object: "), "{msg}");
}

// ------------------------------------------------------------- corrupt .BTF

/// maps.bpf.o and the file offset of its `.BTF` section.
fn maps_with_btf() -> (Vec<u8>, usize) {
    let bytes = fixture_bytes("maps.bpf.o");
    let btf = elf_section(&bytes, ".BTF");
    (bytes, btf.offset)
}

#[test]
fn btf_member_type_out_of_range() {
    let (mut bytes, at) = maps_with_btf();
    let types = btf_raw_types(&bytes[at..]);
    let count = types.len() as u32 + 1;
    let s = types
        .iter()
        .find(|t| t.kind == btf_kind::STRUCT && t.vlen > 0)
        .unwrap();
    set_u32(&mut bytes, at + s.member_type_pos(0), 100_000);
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert!(msg.starts_with("maps.bpf.o: section .BTF: "), "{msg}");
    assert_contains(
        &msg,
        &[
            &format!("type [{}] (STRUCT)", s.id),
            "refers to type 100000",
            &format!("only {count} types exist"),
        ],
    );
}

#[test]
fn btf_name_offset_past_the_strings() {
    let (mut bytes, at) = maps_with_btf();
    let (_, _, _, _, str_len) = btf_header(&bytes[at..]);
    let types = btf_raw_types(&bytes[at..]);
    let named = types.iter().find(|t| t.name_off != 0).unwrap();
    set_u32(&mut bytes, at + named.pos, str_len as u32 + 10);
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert!(msg.starts_with("maps.bpf.o: section .BTF: "), "{msg}");
    assert_contains(
        &msg,
        &[
            &format!("type [{}]", named.id),
            &format!("name offset {}", str_len + 10),
            "past the string section",
        ],
    );
}

#[test]
fn btf_vlen_overflows_the_type_section() {
    let (mut bytes, at) = maps_with_btf();
    let types = btf_raw_types(&bytes[at..]);
    // The last struct: its members can only run past the end.
    let s = types
        .iter()
        .rev()
        .find(|t| t.kind == btf_kind::STRUCT)
        .unwrap();
    let info = get_u32(&bytes, at + s.info_pos());
    set_u32(&mut bytes, at + s.info_pos(), (info & !0xffff) | 0xffff);
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert!(msg.starts_with("maps.bpf.o: section .BTF: btf: "), "{msg}");
    assert_contains(
        &msg,
        &[
            &format!(
                "type [{}] (STRUCT): 65535 entries need {} bytes",
                s.id,
                65535 * 12
            ),
            "left in the type section",
        ],
    );
}

#[test]
fn btf_typedef_cycle() {
    let (mut bytes, at) = maps_with_btf();
    let types = btf_raw_types(&bytes[at..]);
    let t = types.iter().find(|t| t.kind == btf_kind::TYPEDEF).unwrap();
    set_u32(&mut bytes, at + t.size_or_type_pos(), t.id);
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert!(msg.starts_with("maps.bpf.o: section .BTF: "), "{msg}");
    assert_contains(&msg, &[&format!("type [{}]", t.id), "cycle"]);
}

#[test]
fn btf_bad_magic_and_header() {
    let (bytes, at) = maps_with_btf();
    let mut bad_magic = bytes.clone();
    bad_magic[at] = 0x00;
    let msg = parse_err(&bad_magic, "maps.bpf.o");
    assert!(
        msg.starts_with("maps.bpf.o: section .BTF: btf: bad magic"),
        "{msg}"
    );

    let mut bad_len = bytes;
    let str_len_pos = at + 20;
    let str_len = get_u32(&bad_len, str_len_pos);
    set_u32(&mut bad_len, str_len_pos, str_len + 0x1000);
    let msg = parse_err(&bad_len, "maps.bpf.o");
    assert!(msg.starts_with("maps.bpf.o: section .BTF: btf: "), "{msg}");
}

// ----------------------------------------------- map definitions to refuse

#[test]
fn key_and_key_size_both_given() {
    let path = fixture("bad_key_both.bpf.o");
    let msg = ObjectSpec::from_file(&path).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{}: section .maps: map bad_map: both `key` and `key_size` given; use one",
            path.display()
        )
    );
}

#[test]
fn unknown_map_field() {
    let bytes = fixture_bytes("bad_unknown_field.bpf.o");
    let msg = parse_err(&bytes, "bad_unknown_field.bpf.o");
    assert_eq!(
        msg,
        "bad_unknown_field.bpf.o: section .maps: map odd_map: unknown field `frobnicate`"
    );
}

#[test]
fn legacy_definition_with_unknown_non_zero_bytes() {
    let path = fixture("bad_legacy_extra.bpf.o");
    let msg = ObjectSpec::from_file(&path).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{}: section maps: map odd_tail: legacy definition has non-zero bytes past the \
             fields bpf2rs reads (offset 20..24: a 24-byte definition is read as the 5 fields \
             of struct bpf_map_def)",
            path.display()
        )
    );
    // The same definition with its 6th field zero, like zero_tail's, reads.
    let mut bytes = fixture_bytes("bad_legacy_extra.bpf.o");
    let maps = elf_section(&bytes, "maps");
    assert_eq!(
        get_u32(&bytes, maps.offset + 24 + 20),
        7,
        "odd_tail.frobnicate"
    );
    set_u32(&mut bytes, maps.offset + 24 + 20, 0);
    let spec = parse(&bytes, "bad_legacy_extra.bpf.o", "frobnicate zeroed").unwrap();
    let got: Vec<(&str, u32, u32, u32, u32)> = spec
        .maps
        .iter()
        .map(|m| {
            let t = m.map_type.0;
            (m.name.as_str(), t, m.key_size, m.value_size, m.max_entries)
        })
        .collect();
    assert_eq!(got, [("zero_tail", 1, 4, 8, 64), ("odd_tail", 2, 4, 8, 4)]);
}

/// The longer legacy forms keep the fields they are known to have (aya's
/// `id`; iproute2's `inner_id`, `inner_idx`), but nothing past them.
#[test]
fn legacy_known_forms_refuse_bytes_past_their_fields() {
    // legacy_ext.bpf.o: ext_plain's `id` is 5 and reads (obj_fixtures.rs).
    // Its definitions are 28 bytes; widen both symbols to 32 so that the
    // next definition's first field (ext_plain's type, 2) lies past
    // ext_pinned's 7 fields.
    let mut bytes = fixture_bytes("legacy_ext.bpf.o");
    let maps = elf_section(&bytes, "maps");
    let symtab = elf_section(&bytes, ".symtab");
    for at in (symtab.offset..symtab.offset + symtab.size).step_by(24) {
        if usize::from(get_u16(&bytes, at + 6)) == maps.index {
            assert_eq!(get_u64(&bytes, at + 16), 28);
            set_u64(&mut bytes, at + 16, 32); // st_size
        }
    }
    assert_eq!(
        parse_err(&bytes, "legacy_ext.bpf.o"),
        "legacy_ext.bpf.o: section maps: map ext_pinned: legacy definition has non-zero bytes \
         past the fields bpf2rs reads (offset 28..32: a 32-byte definition is read as aya's 7 \
         fields (.., id, pinning))"
    );
}

#[test]
fn btf_definition_with_an_initialiser() {
    let path = fixture("bad_maps_init.bpf.o");
    let msg = ObjectSpec::from_file(&path).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{}: section .maps: map init_key: field key: non-zero initial value (bytes 16..24 \
             of the definition); a BTF map definition is read from its BTF, and only `values` \
             may be initialised",
            path.display()
        )
    );
    // `.type = (void *)2` in maps.bpf.o's flow_table (at 0x80): the member
    // `type` comes first in its definition.
    let mut bytes = fixture_bytes("maps.bpf.o");
    let maps = elf_section(&bytes, ".maps");
    set_u64(&mut bytes, maps.offset + 0x80, 2);
    assert_eq!(
        parse_err(&bytes, "maps.bpf.o"),
        "maps.bpf.o: section .maps: map flow_table: field type: non-zero initial value (bytes \
         0..8 of the definition); a BTF map definition is read from its BTF, and only `values` \
         may be initialised"
    );
    // A `values` slot holds the relocation's addend: its bytes are not
    // refused (outer_arr's slot 1 at 0x40, relocated to inner_a).
    let mut bytes = fixture_bytes("maps.bpf.o");
    set_u64(&mut bytes, maps.offset + 0x40, 8);
    let spec = parse(&bytes, "maps.bpf.o", "values slot with an addend").unwrap();
    assert_eq!(spec.map("outer_arr").unwrap().values.len(), 1);
}

#[test]
fn maps_without_btf_stripped_by_objcopy() {
    let dir = TempDir::new("nobtf");
    let out = dir.path().join("stripped.bpf.o");
    let status = Command::new("llvm-objcopy-19")
        .args([
            "--remove-section=.BTF",
            "--remove-section=.BTF.ext",
            "--remove-section=.rel.BTF",
            "--remove-section=.rel.BTF.ext",
        ])
        .arg(fixture("maps.bpf.o"))
        .arg(&out)
        .status();
    let Ok(status) = status else {
        eprintln!("llvm-objcopy-19 not installed; the renamed-section case covers this");
        return;
    };
    assert!(status.success());
    let msg = ObjectSpec::from_file(&out).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{}: section .maps needs BTF, but the object has no .BTF section (compile with clang -g)",
            out.display()
        )
    );
}

#[test]
fn maps_without_btf_renamed_section() {
    let mut bytes = fixture_bytes("maps.bpf.o");
    let btf = elf_section(&bytes, ".BTF");
    // Point the section's name one byte further: `.BTF` becomes `BTF`, a
    // section no reader looks for.
    let name_off = get_u32(&bytes, btf.name_pos);
    set_u32(&mut bytes, btf.name_pos, name_off + 1);
    assert!(elf_sections(&bytes).iter().all(|s| s.name != ".BTF"));
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert_eq!(msg, "maps.bpf.o: section .maps needs BTF, but the object has no .BTF section (compile with clang -g)");
}

/// Without BTF nothing says whether an extern is `__kconfig` or `__ksym`:
/// the object reads, with every extern unresolved (a function when a call
/// refers to it), and the load refuses it naming each one.
#[test]
fn externs_without_btf() {
    let mut bytes = fixture_bytes("globals.bpf.o");
    let btf = elf_section(&bytes, ".BTF");
    let name_off = get_u32(&bytes, btf.name_pos);
    set_u32(&mut bytes, btf.name_pos, name_off + 1);
    let spec = parse(&bytes, "globals.bpf.o", "globals.bpf.o without .BTF").unwrap();
    assert!(spec.btf.is_none());
    let got: Vec<(&str, ExternKind, bool, bool)> = spec
        .externs
        .iter()
        .map(|e| (e.name.as_str(), e.kind, e.btf_type.is_some(), e.is_func))
        .collect();
    use ExternKind::Unresolved;
    #[rustfmt::skip]
    assert_eq!(
        got,
        [
            ("CONFIG_BPF_JIT",       Unresolved, false, false),
            ("CONFIG_BPF_SYSCALL",   Unresolved, false, false),
            ("CONFIG_HZ",            Unresolved, false, false),
            ("LINUX_KERNEL_VERSION", Unresolved, false, false),
            ("bpf_cast_to_kern_ctx", Unresolved, false, true),
            ("do_unlinkat",          Unresolved, false, false),
        ]
    );
    let msg = load_err(&bytes, "globals.bpf.o");
    let why = |what: &str, name: &str| {
        format!(
            "extern {what} {name} has no BTF description, so it is neither __kconfig nor __ksym \
             (compile with clang -g, or link the object first)"
        )
    };
    assert_eq!(
        msg,
        format!(
            "globals.bpf.o: {}",
            [
                why("variable", "CONFIG_BPF_JIT"),
                why("variable", "CONFIG_BPF_SYSCALL"),
                why("variable", "CONFIG_HZ"),
                why("variable", "LINUX_KERNEL_VERSION"),
                why("function", "bpf_cast_to_kern_ctx"),
                why("variable", "do_unlinkat"),
            ]
            .join("; ")
        )
    );
}

// ------------------------------------------- externs no loader can resolve

/// The error of loading `bytes`; it must fail before touching the kernel
/// (no root needed), and without a panic.
fn load_err(bytes: &[u8], name: &str) -> String {
    let open = OpenObject::open_bytes(bytes, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    match catch_unwind(AssertUnwindSafe(|| open.load())) {
        Ok(Ok(_)) => panic!("{name}: loaded"),
        Ok(Err(e)) => e.to_string(),
        Err(_) => panic!("{name}: the loader panicked"),
    }
}

#[test]
fn unresolved_externs_read_but_do_not_load() {
    let path = fixture("extern_unresolved.bpf.o");
    let spec = ObjectSpec::from_file(&path).unwrap();
    assert_eq!(spec.externs.len(), 2);
    let msg = OpenObject::from_spec(spec).load().unwrap_err().to_string();
    assert_eq!(
        msg,
        "extern_unresolved: extern function fwd is not defined in the object (a static linker \
         step, or a kfunc declared __ksym, is needed); extern variable some_var is neither \
         __kconfig nor __ksym (a static linker step, or a declaration with __kconfig or __ksym, \
         is needed)"
    );
    let msg = load_err(&fixture_bytes("extern_unresolved.bpf.o"), "fwd.bpf.o");
    assert!(
        msg.starts_with("fwd.bpf.o: extern function fwd is not defined in the object"),
        "{msg}"
    );
}

// ------------------------------------------------- relocations to nowhere

/// maps.bpf.o with the first entry of `.relxdp` changed by `patch(offset of
/// the entry)`.
fn patched_relxdp(patch: impl Fn(&mut Vec<u8>, usize)) -> Vec<u8> {
    let mut bytes = fixture_bytes("maps.bpf.o");
    let rel = elf_section(&bytes, ".relxdp");
    assert_eq!(
        (rel.sh_type, rel.entsize),
        (SHT_REL, 16),
        "Elf64_Rel entries"
    );
    patch(&mut bytes, rel.offset);
    bytes
}

#[test]
fn relocation_symbol_out_of_range() {
    let bytes = patched_relxdp(|b, at| {
        let info = get_u64(b, at + 8);
        set_u64(b, at + 8, (0xff_ffff << 32) | (info & 0xffff_ffff));
    });
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert!(
        msg.starts_with("maps.bpf.o: section xdp: relocation 0: "),
        "{msg}"
    );
    assert_contains(&msg, &["refers to symbol 16777215", "symbol table has"]);
}

#[test]
fn relocation_offset_past_the_section() {
    let xdp_size = 0x508; // `llvm-objdump-19 -h maps.bpf.o`
    let bytes = patched_relxdp(|b, at| set_u64(b, at, xdp_size + 8));
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert_eq!(
        msg,
        "maps.bpf.o: section xdp: relocation 0: offset 0x510 is not an instruction of the section (1288 bytes)"
    );
}

#[test]
fn relocation_offset_inside_an_instruction() {
    let bytes = patched_relxdp(|b, at| set_u64(b, at, 0x98 + 3));
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert_eq!(
        msg,
        "maps.bpf.o: section xdp: relocation 0: offset 0x9b is not an instruction of the section (1288 bytes)"
    );
}

#[test]
fn relocation_on_the_wrong_instruction() {
    // 0x90 is the instruction before the ld_imm64 of flow_table at 0x98.
    let bytes = patched_relxdp(|b, at| set_u64(b, at, 0x90));
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert!(
        msg.starts_with("maps.bpf.o: section xdp: relocation 0: R_BPF_64_64 on instruction 18 "),
        "{msg}"
    );
    assert!(msg.ends_with("which is not a 64-bit load"), "{msg}");
}

#[test]
fn static_value_outside_a_values_slot() {
    // .rel.maps: the first entry (0x40 -> inner_a, outer_arr slot 1) moved
    // to byte 4 of outer_arr's definition, which is its `type` member.
    let mut bytes = fixture_bytes("maps.bpf.o");
    let rel = elf_section(&bytes, ".rel.maps");
    set_u64(&mut bytes, rel.offset, 0x24);
    let msg = parse_err(&bytes, "maps.bpf.o");
    assert_eq!(
        msg,
        "maps.bpf.o: section .maps: relocation 0: map outer_arr: relocation at byte 4 of the definition is not a `values` slot"
    );
}

#[test]
fn map_symbol_at_the_end_of_the_address_space() {
    // Found by the object fuzzer: a `.maps` symbol whose value + size
    // overflows u64, with a `.rel.maps` entry inside it, used to panic
    // (overflow) while looking for the relocation's map.
    let mut bytes = fixture_bytes("maps.bpf.o");
    let maps = elf_section(&bytes, ".maps");
    let symtab = elf_section(&bytes, ".symtab");
    assert_eq!(symtab.entsize, 24, "Elf64_Sym entries");
    for at in (symtab.offset..symtab.offset + symtab.size).step_by(24) {
        if usize::from(get_u16(&bytes, at + 6)) == maps.index {
            set_u64(&mut bytes, at + 8, u64::MAX - 4); // st_value
            set_u64(&mut bytes, at + 16, 16); // st_size
        }
    }
    let rel = elf_section(&bytes, ".rel.maps");
    set_u64(&mut bytes, rel.offset, u64::MAX - 2);
    // Every map symbol now covers the relocation; the first is `bloom`.
    assert_eq!(
        parse_err(&bytes, "maps.bpf.o"),
        "maps.bpf.o: section .maps: relocation 0: map bloom has a relocation but no `values` field"
    );
}

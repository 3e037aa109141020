//! The object reader on globals.bpf.o: every data section, variable,
//! initial value and extern, the DATASECs it fixes, and the relocations
//! that refer to them, compared with globals.bpf.c and tests/bpf/README.md;
//! and the unresolved externs of extern_unresolved.bpf.o.
//! ELF sizes, symbol values and relocation offsets were read with
//! `llvm-objdump-19 -h -t -r` and are written out as literals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::btf::{FuncLinkage, Kind, Type};
use bpf2rs::obj::{DataKind, ExternKind, RelocTarget, INSN_SIZE};
use bpf2rs_tests::{btf, c_name, datasec, elf_section, fixture_bytes, open, owned};

// ------------------------------------------------------------- globals.bpf.o

#[test]
fn globals_sections_and_variables() {
    let spec = open("globals.bpf.o");
    // (section, kind, size from `llvm-objdump -h`, [(var, st_value, size, C type)])
    type Var = (&'static str, u32, u32, &'static str);
    #[rustfmt::skip]
    let want: [(&str, DataKind, u32, &[Var]); 5] = [
        (".data", DataKind::Data, 0x18, &[
            ("g_counter", 0, 4, "int"),
            ("g_big", 8, 8, "__u64"),
            ("g_pair", 0x10, 8, "struct pair"),
        ]),
        (".rodata", DataKind::Rodata, 0x18, &[
            ("cfg_mode", 0, 4, "const volatile __u32"),
            ("cfg_limit", 8, 8, "const volatile __u64"),
            ("cfg_name", 0x10, 8, "const volatile char[8]"),
        ]),
        (".data.custom", DataKind::Data, 4, &[("custom_data", 0, 4, "__u32")]),
        (".rodata.custom", DataKind::Rodata, 4, &[("custom_ro", 0, 4, "const volatile __u32")]),
        (".bss", DataKind::Bss, 0x48, &[
            ("bss_hits", 0, 8, "__u64"),
            ("bss_arr", 8, 0x40, "__u32[16]"),
        ]),
    ];
    let names: Vec<&str> = spec.data.iter().map(|d| d.name.as_str()).collect();
    let want_names: Vec<&str> = want.iter().map(|w| w.0).collect();
    assert_eq!(names, want_names, "data sections in ELF order");
    let b = btf(&spec);
    for (d, (name, kind, size, vars)) in spec.data.iter().zip(want) {
        assert_eq!((d.kind, d.size, d.bytes.len()), (kind, size, size as usize));
        let got: Vec<(&str, u32, u32, String)> = d
            .vars
            .iter()
            .map(|v| {
                (
                    v.name.as_str(),
                    v.offset,
                    v.size,
                    c_name(&spec, v.btf_type).unwrap(),
                )
            })
            .collect();
        let want: Vec<(&str, u32, u32, String)> = vars
            .iter()
            .map(|&(n, o, s, t)| (n, o, s, t.to_owned()))
            .collect();
        assert_eq!(got, want, "{name}");
        assert!(d.vars.iter().all(|v| v.global), "{name}: none is static");
        // The DATASEC in the object's BTF now has the ELF layout.
        let id = b.find_by_name(name, Kind::Datasec).unwrap();
        assert_eq!(d.btf_type, Some(id), "{name}");
        let layout: Vec<(String, u32, u32)> = vars
            .iter()
            .map(|&(n, o, s, _)| (n.to_owned(), o, s))
            .collect();
        assert_eq!(datasec(b, name), (size, layout), "{name}: DATASEC");
    }
    assert_eq!(datasec(b, "license"), (4, owned([("LICENSE", 0, 4)])));
    assert_eq!(datasec(b, "version"), (4, owned([("_version", 0, 4)])));
    // The same sizes straight from the section headers of the file.
    let bytes = fixture_bytes("globals.bpf.o");
    let sizes = [
        (".data", 24),
        (".rodata", 24),
        (".data.custom", 4),
        (".rodata.custom", 4),
        (".bss", 72),
    ];
    for (name, size) in sizes {
        assert_eq!(elf_section(&bytes, name).size, size, "{name}");
    }
}

#[test]
fn globals_initial_bytes() {
    let spec = open("globals.bpf.o");
    let data = spec.data_section(".data").unwrap();
    let mut want = Vec::new();
    want.extend(5i32.to_le_bytes()); // g_counter
    want.extend([0; 4]); // padding before g_big
    want.extend(0x1122_3344_5566_7788u64.to_le_bytes()); // g_big
    want.extend(3u32.to_le_bytes()); // g_pair.a
    want.extend(4u16.to_le_bytes()); // g_pair.b
    want.extend([0; 2]); // tail padding of struct pair
    assert_eq!(data.bytes, want);

    let ro = spec.data_section(".rodata").unwrap();
    let var = |name: &str, len: usize| {
        let at = ro.vars.iter().find(|v| v.name == name).unwrap().offset as usize;
        &ro.bytes[at..at + len]
    };
    assert_eq!(var("cfg_mode", 4), 7u32.to_le_bytes());
    assert_eq!(var("cfg_limit", 8), 1000u64.to_le_bytes());
    assert_eq!(var("cfg_name", 8), b"fixture\0");

    let bytes = |name: &str| spec.data_section(name).unwrap().bytes.clone();
    assert_eq!(bytes(".data.custom"), 11u32.to_le_bytes());
    assert_eq!(bytes(".rodata.custom"), 13u32.to_le_bytes());
    assert_eq!(bytes(".bss"), vec![0; 72]);
}

/// (name, kind, weak, is a function, C type or `FUNC name`) of every extern.
fn externs(spec: &bpf2rs::obj::ObjectSpec) -> Vec<(&str, ExternKind, bool, bool, String)> {
    let b = btf(spec);
    spec.externs
        .iter()
        .map(|e| {
            let ty = if e.is_func {
                let Type::Func(f) = b.type_by_id(e.btf_type.unwrap()).unwrap() else {
                    panic!("{}: a function extern's type is its FUNC", e.name);
                };
                assert_eq!(f.linkage, FuncLinkage::Extern);
                format!("FUNC {}", b.name(f.name))
            } else {
                c_name(spec, e.btf_type).unwrap()
            };
            (e.name.as_str(), e.kind, e.weak, e.is_func, ty)
        })
        .collect()
}

#[test]
fn globals_externs() {
    let spec = open("globals.bpf.o");
    let b = btf(&spec);
    let got = externs(&spec);
    let s = |x: &str| x.to_owned();
    use ExternKind::{Kconfig, Ksym};
    #[rustfmt::skip]
    let want = [
        ("CONFIG_BPF_JIT",       Kconfig, true,  false, s("enum libbpf_tristate")),
        ("CONFIG_BPF_SYSCALL",   Kconfig, true,  false, s("_Bool")),
        ("CONFIG_HZ",            Kconfig, true,  false, s("int")),
        ("LINUX_KERNEL_VERSION", Kconfig, false, false, s("unsigned int")),
        ("bpf_cast_to_kern_ctx", Ksym,    true,  true,  s("FUNC bpf_cast_to_kern_ctx")),
        ("do_unlinkat",          Ksym,    false, false, s("const void")),
    ];
    assert_eq!(got, want);
    // The enum behind CONFIG_BPF_JIT: 4 bytes, 3 values.
    let jit = spec
        .externs
        .iter()
        .find(|e| e.name == "CONFIG_BPF_JIT")
        .unwrap();
    let Type::Enum(en) = b.type_by_id(jit.btf_type.unwrap()).unwrap() else {
        panic!("enum libbpf_tristate is an ENUM");
    };
    assert_eq!((en.byte_size, en.values.len()), (4, 3));
}

#[test]
fn globals_license_version_and_program() {
    let spec = open("globals.bpf.o");
    assert_eq!(spec.license.as_deref(), Some("GPL"));
    assert_eq!(spec.kern_version, Some(0x060c00));
    assert_eq!(spec.kern_version, Some(396_288));
    assert!(spec.maps.is_empty());
    assert!(spec.subprograms.is_empty(), ".text is empty (size 0)");
    let p = spec.program("glob_xdp").unwrap();
    let at = (p.section.as_str(), p.section_insn_offset, p.insns.len());
    assert_eq!(at, ("xdp", 0, 0x2f0 / 8));
    assert_eq!(p.func_info.len(), 1);
    assert_eq!(p.func_info[0].insn_off, 0);
    assert_eq!(p.line_info[0].insn_off, 0);
}

#[test]
fn globals_data_and_extern_relocations() {
    let spec = open("globals.bpf.o");
    let p = spec.program("glob_xdp").unwrap();
    // RELOCATION RECORDS FOR [xdp] (byte offset, symbol); every one is
    // R_BPF_64_64 except the kfunc call at 0x2a0 (R_BPF_64_32).
    let data = |s: &str, o: u32| RelocTarget::Data {
        section: s.into(),
        offset: o,
    };
    let ext = |n: &str| RelocTarget::Extern(n.into());
    #[rustfmt::skip]
    let want: Vec<(usize, &str, RelocTarget)> = vec![
        (0x000, "g_counter", data(".data", 0)),
        (0x030, "bss_hits", data(".bss", 0)),
        (0x058, "cfg_limit", data(".rodata", 8)),
        (0x070, "g_pair", data(".data", 16)),
        (0x088, "cfg_mode", data(".rodata", 0)),
        (0x0b8, "custom_ro", data(".rodata.custom", 0)),
        (0x0d0, "custom_data", data(".data.custom", 0)),
        (0x108, "bss_arr", data(".bss", 8)),
        (0x138, "g_big", data(".data", 8)),
        (0x160, "cfg_name", data(".rodata", 16)),
        (0x198, "LINUX_KERNEL_VERSION", ext("LINUX_KERNEL_VERSION")),
        (0x1c8, "g_counter", data(".data", 0)),
        (0x1e0, "CONFIG_BPF_SYSCALL", ext("CONFIG_BPF_SYSCALL")),
        (0x200, "CONFIG_HZ", ext("CONFIG_HZ")),
        (0x218, "bss_arr", data(".bss", 8)),
        (0x230, "CONFIG_BPF_JIT", ext("CONFIG_BPF_JIT")),
        (0x250, "bss_arr", data(".bss", 8)),
        (0x270, "do_unlinkat", ext("do_unlinkat")),
        (0x288, "g_big", data(".data", 8)),
        (0x2b0, "bpf_cast_to_kern_ctx", ext("bpf_cast_to_kern_ctx")),
        (0x2c0, "bss_arr", data(".bss", 8)),
    ];
    let want: Vec<(usize, &str, RelocTarget)> = want
        .into_iter()
        .map(|(o, s, t)| (o / INSN_SIZE, s, t))
        .collect();
    let got: Vec<(usize, &str, RelocTarget)> = p
        .relocations
        .iter()
        .map(|r| (r.insn, r.symbol.as_str(), r.target.clone()))
        .collect();
    assert_eq!(got, want);
    for r in &p.relocations {
        let insn = p.insns[r.insn];
        if r.symbol == "bpf_cast_to_kern_ctx" {
            assert!(insn.is_call(), "kfunc call: {insn:?}");
            assert_eq!(insn.imm, -1);
        } else {
            assert!(insn.is_ld_imm64(), "insn {}: {insn:?}", r.insn);
        }
        // Data targets' offsets agree with the variables of that section.
        if let RelocTarget::Data { section, offset } = &r.target {
            let d = spec.data_section(section).unwrap();
            let v = d.vars.iter().find(|v| v.name == r.symbol).unwrap();
            assert_eq!(v.offset, *offset);
        }
    }
}

// ---------------------------------------------------- extern_unresolved.bpf.o

/// Externs that are neither `__kconfig` nor `__ksym` read as unresolved
/// (with the BTF clang gives them), so the object can be inspected; the
/// loader refuses them (obj_bad_input.rs).
#[test]
fn unresolved_externs_are_read() {
    let spec = open("extern_unresolved.bpf.o");
    let b = btf(&spec);
    let got = externs(&spec);
    let s = |x: &str| x.to_owned();
    #[rustfmt::skip]
    let want = [
        ("fwd",      ExternKind::Unresolved, false, true,  s("FUNC fwd")),
        ("some_var", ExternKind::Unresolved, false, false, s("int")),
    ];
    assert_eq!(got, want);
    let why: Vec<String> = spec
        .externs
        .iter()
        .filter_map(|e| e.unresolved_reason())
        .collect();
    assert_eq!(
        why,
        [
            "extern function fwd is not defined in the object (a static linker step, or a kfunc declared __ksym, is needed)",
            "extern variable some_var is neither __kconfig nor __ksym (a static linker step, or a declaration with __kconfig or __ksym, is needed)",
        ]
    );
    // RELOCATION RECORDS FOR [xdp]: the read of some_var (ld_imm64), the
    // call of fwd (`call -1`, R_BPF_64_32) and the store to got.
    let p = spec.program("uses_externs").unwrap();
    let got: Vec<(usize, &str, RelocTarget)> = p
        .relocations
        .iter()
        .map(|r| (r.insn, r.symbol.as_str(), r.target.clone()))
        .collect();
    let want = vec![
        (0, "some_var", RelocTarget::Extern("some_var".into())),
        (3, "fwd", RelocTarget::Extern("fwd".into())),
        (
            7,
            "got",
            RelocTarget::Data {
                section: ".bss".into(),
                offset: 0,
            },
        ),
    ];
    assert_eq!(got, want);
    assert!(p.insns[3].is_call() && p.insns[3].imm == -1);
    // No DATASEC lists them, unlike .kconfig / .ksyms externs.
    assert!(b.find_by_name(".ksyms", Kind::Datasec).is_err());
    assert!(b.find_by_name(".kconfig", Kind::Datasec).is_err());
    // __kconfig / __ksym externs have no reason to be refused.
    let globals = open("globals.bpf.o");
    assert!(globals
        .externs
        .iter()
        .all(|e| e.unresolved_reason().is_none()));
}

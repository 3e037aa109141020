//! Fuzzes the BPF object (ELF) reader: maps, global data, externs,
//! programs, relocations, the object's BTF and `.BTF.ext`.
//!
//! On success every field of the spec is touched: the whole spec is
//! formatted with `{:?}`, every BTF type id it names is spelled with
//! `c_type_name` and measured, and the derived accessors are called.
#![no_main]

use bpf2rs_reader::btf::{Btf, TypeId};
use bpf2rs_reader::obj::{section_def, MapSpec, ObjectSpec};
use libfuzzer_sys::fuzz_target;

fn ty(btf: Option<&Btf>, id: Option<TypeId>) {
    if let (Some(btf), Some(id)) = (btf, id) {
        let _ = btf.c_type_name(id);
        let _ = btf.size_of(id);
        let _ = btf.align_of(id);
        let _ = btf.skip_mods_and_typedefs(id);
    }
}

fn map(spec: &ObjectSpec, btf: Option<&Btf>, m: &MapSpec) {
    let _ = m.map_type.to_string();
    let _ = m.map_type.name();
    let _ = m.map_type.is_per_cpu();
    let _ = m.map_type.is_map_in_map();
    let _ = m.pinning.as_string();
    ty(btf, m.key_type);
    ty(btf, m.value_type);
    for slot in &m.values {
        let _ = slot.target.name();
    }
    let _ = spec.map(&m.name);
    if let Some(inner) = &m.inner {
        map(spec, btf, inner);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut spec = match ObjectSpec::parse(data, "fuzz.o") {
        Ok(spec) => spec,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    // A `.bss` may be up to the reader's 256 MiB cap; printing each of its
    // zero bytes with `{:?}` takes minutes (the 2026-12-05 "timeout"), so
    // the bytes are checked and cut before the spec is formatted.
    for d in &mut spec.data {
        assert_eq!(d.bytes.len(), d.size as usize, "section {}", d.name);
        d.bytes.truncate(64);
    }
    let _ = format!("{spec:?}");
    let btf = spec.btf.as_deref();
    if let Some(btf) = btf {
        let _ = btf.check_graph();
        for (id, _) in btf.iter().take(4096) {
            let _ = btf.c_type_name(id);
        }
    }
    let _ = (&spec.name, &spec.license, spec.kern_version);
    for m in &spec.maps {
        map(&spec, btf, m);
    }
    for d in &spec.data {
        let _ = spec.data_section(&d.name);
        ty(btf, d.btf_type);
        for v in &d.vars {
            ty(btf, v.btf_type);
            let _ = d.bytes.get(v.offset as usize..(v.offset as usize).saturating_add(v.size as usize));
        }
    }
    for e in &spec.externs {
        ty(btf, e.btf_type);
    }
    for p in spec.programs.iter().chain(&spec.subprograms) {
        let _ = spec.program(&p.name);
        let _ = p.prog_type().to_string();
        let _ = p.expected_attach_type().map(|a| a.to_string());
        let _ = section_def(&p.section);
        for insn in &p.insns {
            let _ = insn.to_native_bytes();
            let _ = (insn.is_ld_imm64(), insn.is_call());
        }
        for r in &p.relocations {
            let _ = p.insns.get(r.insn);
        }
        for f in &p.func_info {
            ty(btf, Some(f.type_id));
        }
        for c in &p.core_relos {
            let _ = c.kind.as_str();
            if let Some(btf) = btf {
                let _ = btf.name(c.access);
                let _ = btf.c_type_name(c.type_id);
            }
        }
        for l in &p.line_info {
            if let Some(btf) = btf {
                let _ = btf.name(l.file_name);
                let _ = btf.name(l.line);
            }
        }
    }
    if let Some(ext) = &spec.btf_ext {
        let _ = ext.func_info.len() + ext.line_info.len() + ext.core_relos.len();
    }
});

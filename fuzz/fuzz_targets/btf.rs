//! Fuzzes the BTF reader and everything that walks the parsed graph.
//!
//! One input is tried three ways: as standalone BTF (`Btf::parse`), as split
//! BTF on top of a small fixed base (`Btf::parse_split`), and as `.BTF.ext`
//! against the parsed BTF (if any) and against the fixed base. Every error is
//! fine; a panic, overflow, OOM or timeout is a finding.
#![no_main]

use std::sync::{Arc, OnceLock};

use bpf2rs_reader::btf::ext::BtfExt;
use bpf2rs_reader::btf::testing::BtfBuilder;
use bpf2rs_reader::btf::{Btf, Type, TypeId};
use libfuzzer_sys::fuzz_target;

/// The fixed base: one type of every kind, plus a long string so that
/// `.BTF.ext` name offsets taken from real objects (which point into the
/// object's own, bigger string section) still fall inside it.
fn base() -> &'static Arc<Btf> {
    static BASE: OnceLock<Arc<Btf>> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut b = BtfBuilder::every_kind();
        b.raw_string(&[b'x'; 16 * 1024]);
        match Btf::parse(&b.bytes()) {
            Ok(btf) => Arc::new(btf),
            Err(e) => panic!("fixed base does not parse: {e}"),
        }
    })
}

/// Calls every query on every type id of `btf` (base ids included for split
/// BTF). Results are ignored: only panics matter.
fn walk(btf: &Btf) {
    let _ = btf.len();
    let _ = btf.is_empty();
    let _ = btf.first_own_id();
    let _ = btf.endian();
    let _ = btf.strings_len();
    for raw in 0..btf.len() {
        let id = TypeId(raw);
        let _ = btf.kind_of(id);
        let _ = btf.size_of(id);
        let _ = btf.align_of(id);
        let _ = btf.c_type_name(id);
        let _ = btf.skip_mods_and_typedefs(id);
        let _ = btf.skip_mods(id);
        if let Ok(ty) = btf.type_by_id(id) {
            let _ = btf.name(ty.name());
            let _ = ty.referenced();
            if let Some(members) = ty.members() {
                for m in members {
                    let _ = btf.name(m.name);
                    let _ = btf.member_bits(m);
                }
            }
            if let Type::Enum(e) = ty {
                for v in e.values.iter() {
                    let _ = btf.name(v.name);
                }
            }
            if let Type::FuncProto(p) = ty {
                for prm in p.params.iter() {
                    let _ = btf.name(prm.name);
                }
            }
        }
    }
    // One past the end, and the largest id: must be errors, not panics.
    let _ = btf.type_by_id(TypeId(btf.len()));
    let _ = btf.c_type_name(TypeId(u32::MAX));
    // find_by_name is a linear scan: a few lookups keep the unit linear.
    for (_, ty) in btf.iter().take(8) {
        let _ = btf.find_by_name(btf.name(ty.name()), ty.kind());
    }
    let _ = btf.check_graph();
    let _ = format!("{btf:?}");
}

fn ext(data: &[u8], btf: &Btf) {
    if let Ok(ext) = BtfExt::parse(data, btf) {
        let _ = format!("{ext:?}");
        for sec in &ext.line_info {
            for li in &sec.records {
                let _ = (li.line_num(), li.column());
                let _ = btf.name(li.file_name);
                let _ = btf.name(li.line);
            }
        }
        for sec in &ext.core_relos {
            for r in &sec.records {
                let _ = r.kind.as_str();
                let _ = btf.name(r.access);
                let _ = btf.c_type_name(r.type_id);
            }
        }
        for sec in &ext.func_info {
            for f in &sec.records {
                let _ = btf.c_type_name(f.type_id);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let base = base();
    match Btf::parse(data) {
        Ok(btf) => {
            walk(&btf);
            ext(data, &btf);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match Btf::parse_split(data, Arc::clone(base)) {
        Ok(split) => walk(&split),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    ext(data, base);
});

//! `cargo bpf2rs inspect`: an object at a glance, as a table or as JSON.
//!
//! In: an [`ObjectSpec`]. Out: a `serde_json::Value` (stable field names,
//! documented in README) or a human-readable text table.

use std::fmt::Write as _;

use bpf2rs_reader::btf::{Btf, TypeId};
use bpf2rs_reader::obj::{ExternKind, MapSpec, ObjectSpec};
use serde_json::{json, Value};

/// The object as one JSON value: `{"name", "license", "version", "maps",
/// "globals", "externs", "programs", "subprograms", "struct_ops"}`. An
/// extern that is neither `__kconfig` nor `__ksym` has `"kind": null` and
/// `"unresolved": true`: the object reads but does not load.
pub fn to_json(spec: &ObjectSpec) -> Value {
    let btf = spec.btf.as_deref();
    let globals: Vec<Value> = spec
        .data
        .iter()
        .flat_map(|d| {
            d.vars.iter().map(move |v| {
                json!({
                    "section": d.name,
                    "name": v.name,
                    "type": type_name(btf, v.btf_type),
                    "offset": v.offset,
                    "size": v.size,
                })
            })
        })
        .collect();
    let externs: Vec<Value> = spec
        .externs
        .iter()
        .map(|e| {
            json!({
                "name": e.name,
                "kind": match e.kind {
                    ExternKind::Kconfig => Some("kconfig"),
                    ExternKind::Ksym => Some("ksym"),
                    ExternKind::Unresolved => None,
                },
                "type": if e.is_func { Value::String("function".into()) } else { type_name(btf, e.btf_type) },
                "weak": e.weak,
                "unresolved": e.kind == ExternKind::Unresolved,
            })
        })
        .collect();
    let program = |p: &bpf2rs_reader::obj::ProgramSpec| {
        json!({
            "name": p.name,
            "section": p.section,
            "type": p.prog_type().to_string(),
            "attach_type": p.expected_attach_type().map(|a| a.to_string()),
            "attach_target": p.def.as_ref().and_then(|d| d.attach_target.clone()),
            "insns": p.insns.len(),
            "relocations": p.relocations.len(),
        })
    };
    json!({
        "name": spec.name,
        "license": spec.license,
        "version": spec.kern_version,
        "maps": spec.maps.iter().map(|m| map_json(btf, m)).collect::<Vec<_>>(),
        "globals": globals,
        "externs": externs,
        "programs": spec.programs.iter().map(program).collect::<Vec<_>>(),
        "subprograms": spec.subprograms.iter().map(program).collect::<Vec<_>>(),
        "struct_ops": spec.struct_ops.iter().map(struct_ops_json).collect::<Vec<_>>(),
    })
}

fn struct_ops_json(ops: &bpf2rs_reader::obj::StructOpsSpec) -> Value {
    json!({
        "name": ops.name,
        "section": ops.section,
        "type": format!("struct {}", ops.type_name),
        "link": ops.link,
        "programs": ops.programs.iter().map(|s| json!({
            "member": s.member,
            "offset": s.offset,
            "program": s.program,
        })).collect::<Vec<_>>(),
    })
}

fn map_json(btf: Option<&Btf>, m: &MapSpec) -> Value {
    json!({
        "name": m.name,
        "type": m.map_type.to_string(),
        "key_size": m.key_size,
        "value_size": m.value_size,
        "max_entries": m.max_entries,
        "map_flags": m.map_flags,
        "numa_node": m.numa_node,
        "map_extra": m.map_extra,
        "pinning": m.pinning.as_string(),
        "key_type": type_name(btf, m.key_type),
        "value_type": type_name(btf, m.value_type),
        "inner": m.inner.as_deref().map(|i| map_json(btf, i)),
        "values": m.values.iter().map(|s| json!({
            "index": s.index,
            "target": s.target.name(),
            "kind": match s.target { bpf2rs_reader::obj::SlotTarget::Map(_) => "map", bpf2rs_reader::obj::SlotTarget::Program(_) => "program" },
        })).collect::<Vec<_>>(),
        "legacy": m.origin == bpf2rs_reader::obj::MapOrigin::Legacy,
    })
}

fn type_name(btf: Option<&Btf>, id: Option<TypeId>) -> Value {
    match (btf, id) {
        (Some(btf), Some(id)) => btf
            .c_type_name(id)
            .map(Value::String)
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// The object as text tables.
pub fn to_text(spec: &ObjectSpec) -> String {
    let btf = spec.btf.as_deref();
    let name = |id: Option<TypeId>| match type_name(btf, id) {
        Value::String(s) => s,
        _ => "-".to_owned(),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "object {}  license {}  version {}",
        spec.name,
        spec.license.as_deref().unwrap_or("-"),
        spec.kern_version
            .map(|v| format!("{v:#x}"))
            .unwrap_or_else(|| "-".into())
    );
    let mut tables = vec![
        maps_table(spec, &name),
        globals_table(spec, &name),
        programs_table(spec),
    ];
    if !spec.struct_ops.is_empty() {
        tables.push(struct_ops_table(spec));
    }
    for t in tables {
        out.push('\n');
        out.push_str(&t.render());
    }
    // What `load` will refuse, in its words, so the viewer does not hide it.
    let unresolved = spec.unresolved_externs();
    if !unresolved.is_empty() {
        out.push('\n');
        for why in unresolved {
            let _ = writeln!(out, "unresolved: {why}");
        }
    }
    out
}

/// One row per map; `name` spells a BTF type (`-` for none).
fn maps_table(spec: &ObjectSpec, name: &dyn Fn(Option<TypeId>) -> String) -> Table {
    let mut maps = Table::new(
        "maps",
        &[
            "map", "type", "key", "value", "max", "flags", "pin", "extra",
        ],
    );
    for m in &spec.maps {
        let mut extra = Vec::new();
        if m.numa_node != 0 {
            extra.push(format!("numa_node={}", m.numa_node));
        }
        if m.map_extra != 0 {
            extra.push(format!("map_extra={}", m.map_extra));
        }
        if let Some(inner) = &m.inner {
            extra.push(format!(
                "inner={} {}->{}",
                inner.map_type, inner.key_size, inner.value_size
            ));
        }
        for s in &m.values {
            extra.push(format!("[{}]={}", s.index, s.target.name()));
        }
        if m.origin == bpf2rs_reader::obj::MapOrigin::Legacy {
            extra.push("legacy".into());
        }
        maps.row(vec![
            m.name.clone(),
            m.map_type.to_string(),
            sized(m.key_size, name(m.key_type)),
            sized(m.value_size, name(m.value_type)),
            m.max_entries.to_string(),
            format!("{:#x}", m.map_flags),
            m.pinning.as_string(),
            extra.join(" "),
        ]);
    }
    maps
}

/// One row per global variable, then per extern.
fn globals_table(spec: &ObjectSpec, name: &dyn Fn(Option<TypeId>) -> String) -> Table {
    let mut globals = Table::new(
        "globals",
        &["section", "variable", "type", "offset", "size"],
    );
    for d in &spec.data {
        for v in &d.vars {
            globals.row(vec![
                d.name.clone(),
                v.name.clone(),
                name(v.btf_type),
                v.offset.to_string(),
                v.size.to_string(),
            ]);
        }
    }
    for e in &spec.externs {
        // An unresolved extern has no section; the last column says so.
        let section = match e.kind {
            ExternKind::Kconfig => ".kconfig",
            ExternKind::Ksym => ".ksyms",
            ExternKind::Unresolved => "-",
        };
        let ty = if e.is_func {
            "function".to_owned()
        } else {
            name(e.btf_type)
        };
        let marks: Vec<&str> = [
            (e.weak, "weak"),
            (e.kind == ExternKind::Unresolved, "unresolved"),
        ]
        .into_iter()
        .filter_map(|(on, mark)| on.then_some(mark))
        .collect();
        globals.row(vec![
            section.into(),
            e.name.clone(),
            ty,
            "-".into(),
            if marks.is_empty() {
                "-".into()
            } else {
                marks.join(",")
            },
        ]);
    }
    globals
}

/// One row per program and subprogram.
fn programs_table(spec: &ObjectSpec) -> Table {
    let mut progs = Table::new(
        "programs",
        &["program", "section", "type", "attach", "insns"],
    );
    for p in spec.programs.iter().chain(&spec.subprograms) {
        progs.row(vec![
            p.name.clone(),
            p.section.clone(),
            if p.section == ".text" {
                "subprogram".into()
            } else {
                p.prog_type().to_string()
            },
            p.expected_attach_type()
                .map(|a| a.to_string())
                .unwrap_or_else(|| "-".into()),
            p.insns.len().to_string(),
        ]);
    }
    progs
}

/// One row per struct_ops variable, with its program slots.
fn struct_ops_table(spec: &ObjectSpec) -> Table {
    let mut ops = Table::new("struct_ops", &["variable", "section", "type", "programs"]);
    for o in &spec.struct_ops {
        let slots: Vec<String> = o
            .programs
            .iter()
            .map(|s| format!("{}={}", s.member, s.program))
            .collect();
        ops.row(vec![
            o.name.clone(),
            o.section.clone(),
            format!("struct {}", o.type_name),
            slots.join(" "),
        ]);
    }
    ops
}

fn sized(size: u32, ty: String) -> String {
    if ty == "-" {
        size.to_string()
    } else {
        format!("{size} ({ty})")
    }
}

/// A left-aligned text table.
struct Table {
    title: &'static str,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(title: &'static str, header: &[&str]) -> Table {
        Table {
            title,
            rows: vec![header.iter().map(|h| h.to_string()).collect()],
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn render(&self) -> String {
        if self.rows.len() == 1 {
            return format!("{}: none\n", self.title);
        }
        let cols = self.rows[0].len();
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for r in &self.rows {
            let line: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

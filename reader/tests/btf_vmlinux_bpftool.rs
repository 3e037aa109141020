//! Our reader against bpftool's, type by type: the running kernel's
//! `/sys/kernel/btf/vmlinux` and the `.BTF` of every compiled fixture object.
//!
//! Each type is rendered in the shape of `bpftool btf dump file F -j` (kind,
//! name, sizes, members with bit offsets and bitfield sizes, enum values,
//! array and reference ids, linkage, ...) and must equal bpftool's object.
//! Without bpftool these tests fail: kernel tests are never skipped silently.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::path::{Path, PathBuf};
use std::process::Command;

use bpf2rs_reader::btf::*;
use serde_json::{json, Map, Value};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// The bpftool binary (root's PATH has it; others may only have it in sbin).
fn bpftool() -> PathBuf {
    for candidate in ["bpftool", "/usr/sbin/bpftool", "/usr/local/sbin/bpftool"] {
        if Command::new(candidate).arg("version").output().is_ok() {
            return PathBuf::from(candidate);
        }
    }
    panic!("bpftool not found: install it (apt-get install bpftool)");
}

/// `bpftool btf dump file <path> -j`, parsed.
fn bpftool_dump(file: &Path) -> Vec<Value> {
    bpftool_dump_on(file, None)
}

/// The same for split BTF on top of `base` (`bpftool -B base`), which
/// dumps the split's own types only.
fn bpftool_dump_on(file: &Path, base: Option<&Path>) -> Vec<Value> {
    let mut cmd = Command::new(bpftool());
    if let Some(base) = base {
        cmd.arg("-B").arg(base);
    }
    let out = cmd
        .args(["btf", "dump", "file"])
        .arg(file)
        .arg("-j")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bpftool btf dump file {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut dump: Value = serde_json::from_slice(&out.stdout).unwrap();
    match dump["types"].take() {
        Value::Array(types) => types,
        other => panic!("bpftool output has no types array: {other}"),
    }
}

/// bpftool's spelling of a name: `(anon)` when empty.
fn name(btf: &Btf, name: Name) -> String {
    match btf.name(name) {
        "" => "(anon)".to_owned(),
        n => n.to_owned(),
    }
}

fn linkage_str(linkage: u32) -> &'static str {
    match linkage {
        0 => "static",
        1 => "global",
        2 => "extern",
        _ => "(unknown)",
    }
}

/// One of our types in the shape bpftool prints it.
fn render(btf: &Btf, id: TypeId, ty: &Type) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), json!(id.0));
    v.insert("kind".into(), json!(ty.kind().as_str()));
    v.insert("name".into(), json!(name(btf, ty.name())));
    let mut put = |key: &str, value: Value| {
        v.insert(key.to_owned(), value);
    };
    match ty {
        Type::Void => {}
        Type::Int(t) => {
            put("size", json!(t.byte_size));
            put("bits_offset", json!(t.bit_offset));
            put("nr_bits", json!(t.bits));
            let e = t.encoding;
            let enc = match (e.signed, e.char, e.bool) {
                (false, false, false) => "(none)",
                (true, false, false) => "SIGNED",
                (false, true, false) => "CHAR",
                (false, false, true) => "BOOL",
                _ => "UNKN",
            };
            put("encoding", json!(enc));
        }
        Type::Ptr(r) | Type::Volatile(r) | Type::Const(r) | Type::Restrict(r) => {
            put("type_id", json!(r.target.0));
        }
        Type::Typedef(n) | Type::TypeTag(n) => put("type_id", json!(n.target.0)),
        Type::Array(a) => {
            put("type_id", json!(a.elem.0));
            put("index_type_id", json!(a.index.0));
            put("nr_elems", json!(a.len));
        }
        Type::Struct(c) | Type::Union(c) => {
            put("size", json!(c.byte_size));
            put("vlen", json!(c.members.len()));
            put("members", members(btf, &c.members));
        }
        Type::Enum(e) => {
            put(
                "encoding",
                json!(if e.signed { "SIGNED" } else { "UNSIGNED" }),
            );
            put("size", json!(e.byte_size));
            put("vlen", json!(e.values.len()));
            put("values", enumerators(btf, e));
        }
        Type::Fwd(f) => put(
            "fwd_kind",
            json!(if f.is_union { "union" } else { "struct" }),
        ),
        Type::Func(f) => {
            put("type_id", json!(f.proto.0));
            let linkage = match f.linkage {
                FuncLinkage::Static => 0,
                FuncLinkage::Global => 1,
                FuncLinkage::Extern => 2,
                FuncLinkage::Other(n) => u32::from(n),
            };
            put("linkage", json!(linkage_str(linkage)));
        }
        Type::FuncProto(p) => {
            put("ret_type_id", json!(p.ret.0));
            put("vlen", json!(p.params.len()));
            let params: Vec<Value> = p
                .params
                .iter()
                .map(|p| json!({ "name": name(btf, p.name), "type_id": p.ty.0 }))
                .collect();
            put("params", Value::Array(params));
        }
        Type::Var(var) => {
            put("type_id", json!(var.ty.0));
            let linkage = match var.linkage {
                VarLinkage::Static => 0,
                VarLinkage::Global => 1,
                VarLinkage::Extern => 2,
                VarLinkage::Other(n) => n,
            };
            put("linkage", json!(linkage_str(linkage)));
        }
        Type::Datasec(d) => {
            put("size", json!(d.byte_size));
            put("vlen", json!(d.vars.len()));
            let vars: Vec<Value> = d
                .vars
                .iter()
                .map(|s| json!({ "type_id": s.ty.0, "offset": s.offset, "size": s.byte_size }))
                .collect();
            put("vars", Value::Array(vars));
        }
        Type::Float(f) => put("size", json!(f.byte_size)),
        Type::DeclTag(d) => {
            put("type_id", json!(d.target.0));
            put("component_idx", json!(d.component_idx));
        }
    }
    Value::Object(v)
}

/// A struct's or union's members as bpftool prints them.
fn members(btf: &Btf, members: &[Member]) -> Value {
    members
        .iter()
        .map(|m| {
            let mut o = json!({
                "name": name(btf, m.name),
                "type_id": m.ty.0,
                "bits_offset": m.bit_offset,
            });
            // bpftool prints bitfield_size only when non-zero.
            if m.bitfield_size != 0 {
                o["bitfield_size"] = json!(m.bitfield_size);
            }
            o
        })
        .collect()
}

/// An enum's values as bpftool prints them (signed ones as i64).
fn enumerators(btf: &Btf, e: &Enum) -> Value {
    e.values
        .iter()
        .map(|v| {
            let val = if e.signed {
                json!(v.value as i64)
            } else {
                json!(v.value)
            };
            json!({ "name": name(btf, v.name), "val": val })
        })
        .collect()
}

/// Undoes a bpftool quirk: `struct btf_enum.val` is `__s32`, and bpftool
/// (7.1 at least) prints unsigned 32-bit enumerators through it, so values
/// with bit 31 set come out sign-extended to 64 bits (0x80000000 as
/// 18446744071562067968). The value is the low 32 bits.
fn normalise(mut theirs: Value) -> Value {
    if theirs["kind"] == "ENUM" && theirs["encoding"] == "UNSIGNED" {
        if let Some(values) = theirs["values"].as_array_mut() {
            for v in values {
                if let Some(val) = v["val"].as_u64() {
                    v["val"] = json!(val & 0xffff_ffff);
                }
            }
        }
    }
    theirs
}

fn clip(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(400) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s,
    }
}

/// Compares every type; returns how many were compared. Fails listing the
/// first differences.
fn compare(what: &str, btf: &Btf, dump: &[Value]) -> usize {
    let own: Vec<(TypeId, &Type)> = btf.iter().filter(|(id, _)| !id.is_void()).collect();
    assert_eq!(
        own.len(),
        dump.len(),
        "{what}: we read {} types, bpftool {}",
        own.len(),
        dump.len()
    );
    let mut diffs = Vec::new();
    for ((id, ty), theirs) in own.iter().zip(dump) {
        let ours = render(btf, *id, ty);
        let theirs = normalise(theirs.clone());
        if ours != theirs {
            let (ours, theirs) = (clip(&ours), clip(&theirs));
            diffs.push(format!(
                "{what}: type {id}:\n  ours:    {ours}\n  bpftool: {theirs}"
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} of {} types differ from bpftool; the first:\n{}",
        diffs.len(),
        dump.len(),
        diffs[..diffs.len().min(10)].join("\n")
    );
    dump.len()
}

#[test]
fn vmlinux_matches_bpftool_type_by_type() {
    let dump = bpftool_dump(Path::new(VMLINUX));
    let btf = Btf::from_sys_fs().unwrap();
    let n = compare(VMLINUX, &btf, &dump);
    assert!(n > 1000, "only {n} types in vmlinux");
    // Every kind the kernel emits is covered, the tricky ones included.
    for kind in [
        Kind::Struct,
        Kind::Union,
        Kind::Enum,
        Kind::Enum64,
        Kind::FuncProto,
    ] {
        assert!(
            btf.iter().any(|(_, t)| t.kind() == kind),
            "no {kind} in vmlinux"
        );
    }
    btf.check_graph().unwrap();
}

#[test]
fn vmlinux_read_and_mapped_agree() {
    // `from_sys_fs` maps the file where the kernel allows it; `parse` of the
    // bytes read(2) through sysfs must give the very same model.
    let mapped = Btf::from_sys_fs().unwrap();
    let read = Btf::parse(&std::fs::read(VMLINUX).unwrap()).unwrap();
    assert_eq!(mapped.len(), read.len());
    assert_eq!(mapped.strings_len(), read.strings_len());
    assert!(mapped.iter().eq(read.iter()));
}

#[test]
fn split_on_vmlinux_matches_bpftool() {
    // Module-style split BTF on the running kernel's, made with the test
    // builder: it refers to vmlinux types by id and adds its own names.
    let vmlinux = std::sync::Arc::new(Btf::from_sys_fs().unwrap());
    let int = vmlinux.find_by_name("int", Kind::Int).unwrap();
    let task = vmlinux.find_by_name("task_struct", Kind::Struct).unwrap();
    let mut b = testing::BtfBuilder::split(vmlinux.len(), vmlinux.strings_len());
    let ptask = b.ptr(task);
    let arr = b.array(int, int, 4);
    let own = b.bitfield_struct(
        "bpf2rs_split_probe",
        32,
        &[
            ("task", ptask, 0, 0),
            ("ints", arr, 64, 0),
            ("flag", int, 192, 1),
        ],
    );
    let proto = b.func_proto(int, &[("probe", own), ("", TypeId::VOID)]);
    b.func("bpf2rs_split_fn", proto, testing::LINKAGE_GLOBAL);
    b.enum_("bpf2rs_split_enum", 4, true, &[("NEG", -3)]);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("btf_bpftool");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("split.btf");
    std::fs::write(&path, b.bytes()).unwrap();

    let split = Btf::from_file_split(&path, vmlinux.clone()).unwrap();
    assert_eq!(split.c_type_name(ptask).unwrap(), "struct task_struct *");
    assert_eq!(split.size_of(own).unwrap(), 32);
    assert_eq!(
        split.find_by_name("task_struct", Kind::Struct).unwrap(),
        task
    );
    let dump = bpftool_dump_on(&path, Some(Path::new(VMLINUX)));
    assert_eq!(compare(&path.display().to_string(), &split, &dump), 6);
}

/// The `.BTF` section of an ELF object, if it has one.
fn btf_section(path: &Path) -> Option<Vec<u8>> {
    use object::{Object, ObjectSection};
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let section = file.section_by_name(".BTF")?;
    Some(section.data().unwrap().to_vec())
}

/// The committed fixtures with BTF; if there are none, one compiled here.
fn objects() -> Vec<PathBuf> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bpf");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
                .filter(|p| btf_section(p).is_some())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    if found.is_empty() {
        found.push(compile_fallback());
    }
    found
}

/// A small object with structs, bitfields, enums and globals.
fn compile_fallback() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("btf_bpftool");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("fallback.bpf.c");
    std::fs::write(
        &src,
        r#"
enum colour { RED, GREEN = -2 };
struct bits { unsigned a : 3, b : 5; int c; enum colour col; };
union either { struct bits b; long l; };
struct bits global_bits;
union either global_either = { .l = 1 };
__attribute__((section("xdp"), used)) int prog(void *ctx) { return global_bits.a; }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
"#,
    )
    .unwrap();
    let obj = dir.join("fallback.bpf.o");
    let out = Command::new("clang-19")
        .args(["-target", "bpf", "-O2", "-g", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output()
        .unwrap_or_else(|e| {
            panic!("clang-19 not runnable ({e}): install it (apt-get install clang-19)")
        });
    assert!(
        out.status.success(),
        "clang-19: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    obj
}

#[test]
fn object_btf_matches_bpftool_type_by_type() {
    let objects = objects();
    assert!(!objects.is_empty());
    for path in &objects {
        let raw = btf_section(path).unwrap();
        let btf = Btf::parse(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let dump = bpftool_dump(path);
        compare(&path.display().to_string(), &btf, &dump);
    }
}

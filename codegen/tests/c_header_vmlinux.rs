//! The vmlinux header against the compiler and against bpftool.
//!
//! - every fixture of tests/bpf that includes "vmlinux.h" compiles with our
//!   header in its place (clang-19, the flags of tests/bpf/build.sh);
//! - clang lays out every named struct and union of vmlinux exactly as BTF
//!   says: a generated C file of `_Static_assert`s on `sizeof` and on the
//!   `offsetof` of every non-bitfield member (anonymous members flattened)
//!   compiles against our header;
//! - the set of top-level definitions (struct/union/enum tags and typedef
//!   names) and, per struct and union, the member names in order, equal
//!   what `bpftool btf dump file /sys/kernel/btf/vmlinux format c` prints.
//!
//! Needs /sys/kernel/btf/vmlinux, clang-19 and bpftool (scripts/setup
//! installs them); a missing tool fails the test with that message.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bpf2rs_codegen::c_header;
use bpf2rs_reader::btf::{Btf, Type, TypeId};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn vmlinux() -> &'static Btf {
    static BTF: OnceLock<Btf> = OnceLock::new();
    BTF.get_or_init(|| Btf::from_file(VMLINUX).expect("reading /sys/kernel/btf/vmlinux"))
}

fn header() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| c_header::generate(vmlinux()).unwrap())
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpf2rs-c-header-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs clang-19 for BPF with tests/bpf/build.sh's flags.
fn clang_bpf(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("clang-19")
        .current_dir(dir)
        .args(["-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86"])
        .arg(format!(
            "-I/usr/include/{}-linux-gnu",
            std::env::consts::ARCH
        ))
        .args(args)
        .output()
        .expect("clang-19 is needed for this test (scripts/setup installs it)")
}

fn vmlinux_fixtures() -> Vec<PathBuf> {
    let dir = common::fixture("");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bpf.c"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("#include \"vmlinux.h\"")
        })
        .collect();
    found.sort();
    found
}

#[test]
fn every_vmlinux_fixture_compiles_with_our_header() {
    let dir = scratch("fixtures");
    std::fs::write(dir.join("vmlinux.h"), header()).unwrap();
    let fixtures = vmlinux_fixtures();
    assert!(fixtures.len() >= 5, "fixtures found: {fixtures:?}");
    for src in &fixtures {
        let name = src.file_name().unwrap().to_str().unwrap();
        std::fs::copy(src, dir.join(name)).unwrap();
        let out = clang_bpf(&dir, &["-Wall", "-c", name, "-o", "out.o"]);
        assert!(
            out.status.success(),
            "{name} with our vmlinux.h:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Names defined more than once (they get `___N` suffixes): left out of
/// the layout asserts, which spell names.
fn shared_tags(btf: &Btf) -> BTreeSet<&str> {
    let mut seen = HashMap::new();
    for (_, ty) in btf.iter() {
        if matches!(ty, Type::Struct(_) | Type::Union(_) | Type::Enum(_)) && !ty.name().is_anon() {
            *seen.entry(btf.name(ty.name())).or_insert(0) += 1;
        }
    }
    seen.into_iter()
        .filter(|&(_, n)| n > 1)
        .map(|(k, _)| k)
        .collect()
}

/// `_Static_assert`s on the offsets of `id`'s named non-bitfield members,
/// flattening anonymous struct/union members into their parent.
fn offset_asserts(btf: &Btf, spelled: &str, id: TypeId, base_bits: u32, out: &mut String) {
    let Some(members) = btf.type_by_id(id).unwrap().members() else {
        return;
    };
    for m in members {
        let bits = btf.member_bits(m).unwrap();
        if bits.bitfield_size.is_some() {
            continue;
        }
        let offset = base_bits + bits.bit_offset;
        let name = btf.name(m.name);
        if name.is_empty() {
            let inner = btf.skip_mods_and_typedefs(m.ty).unwrap();
            offset_asserts(btf, spelled, inner, offset, out);
            continue;
        }
        writeln!(
            out,
            "_Static_assert(__builtin_offsetof({spelled}, {name}) == {}, \"{spelled}.{name}\");",
            offset / 8
        )
        .unwrap();
    }
}

#[test]
fn clang_lays_out_every_vmlinux_struct_as_btf_says() {
    let btf = vmlinux();
    let shared = shared_tags(btf);
    let mut c = String::from("#include \"vmlinux.h\"\n");
    let mut checked = 0;
    for (id, ty) in btf.iter() {
        let (kw, comp) = match ty {
            Type::Struct(c) => ("struct", c),
            Type::Union(c) => ("union", c),
            _ => continue,
        };
        let name = btf.name(comp.name);
        if name.is_empty() || shared.contains(name) {
            continue;
        }
        let spelled = format!("{kw} {name}");
        writeln!(
            c,
            "_Static_assert(sizeof({spelled}) == {}, \"{spelled}\");",
            comp.byte_size
        )
        .unwrap();
        offset_asserts(btf, &spelled, id, 0, &mut c);
        checked += 1;
    }
    assert!(checked > 9_000, "{checked} structs checked");
    let dir = scratch("layout");
    std::fs::write(dir.join("vmlinux.h"), header()).unwrap();
    std::fs::write(dir.join("layout.c"), &c).unwrap();
    let out = clang_bpf(&dir, &["-fsyntax-only", "-ferror-limit=20", "layout.c"]);
    assert!(
        out.status.success(),
        "clang disagrees with BTF on layouts:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a header defines at top level: `struct X` / `union X` / `enum X`
/// / `typedef X` -> member names in order (empty for enums and typedefs).
///
/// Crude on purpose: a definition starts at column 0 (`struct X {`,
/// `typedef ... X;`), its members are the lines one tab in (the name is
/// the identifier before `;`, a bitfield width, an array bound or, for a
/// function pointer, the one after `(*`), and padding lines (`long: 64;`)
/// are not members.
fn definitions(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut defs = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        if let Some((key, members)) = current.as_mut() {
            if line.starts_with('}') {
                defs.insert(std::mem::take(key), std::mem::take(members));
                current = None;
            } else if let Some(member) = line.strip_prefix('\t') {
                if !member.starts_with('\t') {
                    if let Some(name) = member_name(member) {
                        members.push(name);
                    }
                }
            }
            continue;
        }
        for kw in ["struct ", "union ", "enum "] {
            if let Some(rest) = line.strip_prefix(kw) {
                if let Some(name) = rest.strip_suffix(" {") {
                    current = Some((format!("{kw}{name}"), Vec::new()));
                }
            }
        }
        if line.starts_with("typedef ") && line.ends_with(';') {
            if let Some(name) = member_name(line) {
                defs.insert(format!("typedef {name}"), Vec::new());
            }
        }
    }
    defs
}

/// The declared name on one declaration line, if any.
fn member_name(line: &str) -> Option<String> {
    let decl = strip_attributes(line.trim().trim_end_matches(';'));
    let decl = decl.as_str();
    let is_padding = ["long:", "int:", "short:", "char:"]
        .iter()
        .any(|p| decl.starts_with(p));
    if is_padding || decl.starts_with("enum ") && decl.ends_with('{') {
        return None;
    }
    // Enumerators: `NAME = 1,`.
    let decl = decl.split(" = ").next().unwrap_or(decl);
    let decl = match decl.find("(*") {
        Some(i) => &decl[i + 2..],
        None => decl.split(':').next().unwrap_or(decl),
    };
    let decl = decl.split(['[', ')']).next().unwrap_or(decl);
    let ident: String = decl
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty()).then(|| ident.chars().rev().collect())
}

/// `decl` without its `__attribute__((...))` parts.
fn strip_attributes(decl: &str) -> String {
    let mut out = String::new();
    let mut rest = decl;
    while let Some(i) = rest.find("__attribute__(") {
        out.push_str(&rest[..i]);
        let mut depth = 0;
        let mut end = rest.len();
        for (j, c) in rest[i..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn same_definitions_and_members_as_bpftool() {
    let out = Command::new("bpftool")
        .args(["btf", "dump", "file", VMLINUX, "format", "c"])
        .output()
        .expect("bpftool is needed for this test (scripts/setup installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = definitions(&String::from_utf8(out.stdout).unwrap());
    let ours = definitions(header());
    assert!(
        theirs.len() > 10_000,
        "{} bpftool definitions",
        theirs.len()
    );
    let only_ours: Vec<_> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
    let only_theirs: Vec<_> = theirs.keys().filter(|k| !ours.contains_key(*k)).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "only ours: {only_ours:?}\nonly bpftool's: {only_theirs:?}"
    );
    for (key, members) in &theirs {
        assert_eq!(&ours[key], members, "members of {key}");
    }
}

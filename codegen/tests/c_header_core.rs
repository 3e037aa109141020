//! Objects built against our vmlinux.h resolve CO-RE exactly like objects
//! built against bpftool's (tests/bpf/vmlinux.h, `bpftool btf dump ...
//! format c` of Linux 6.18): for core_trace, core_tools and tools, each
//! program is loaded on its own with both objects and the CO-RE
//! relocations applied (instruction, function, kind, local and target
//! values, access description, matched target) must be equal.
//!
//! Programs this kernel refuses (here: kprobes) are compared by their
//! outcome only: both objects must fail to load them alike. The test
//! asserts that at least one program per object loads and is compared.
//! Needs root (loading) and clang-19.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bpf2rs::load::{CoreApplied, OpenObject};
use bpf2rs_codegen::c_header;
use bpf2rs_reader::btf::Btf;
use common::{fixture, require_root};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpf2rs-c-core-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles fixture `src` in `dir` against `dir/vmlinux.h` (build.sh's flags).
fn compile(dir: &Path, src: &str) -> PathBuf {
    std::fs::copy(fixture(src), dir.join(src)).unwrap();
    let obj = dir.join(src.replace(".c", ".o"));
    let out = Command::new("clang-19")
        .current_dir(dir)
        .args(["-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86"])
        .arg(format!(
            "-I/usr/include/{}-linux-gnu",
            std::env::consts::ARCH
        ))
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(&obj)
        .output()
        .expect("clang-19 is needed for this test");
    assert!(
        out.status.success(),
        "{src}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    obj
}

/// Per program: the CO-RE relocations applied, or why loading failed
/// (the error text without the object's path).
fn core_by_program(obj: &Path) -> Vec<(String, Result<Vec<CoreApplied>, String>)> {
    let names: Vec<String> = OpenObject::open_file(obj)
        .unwrap()
        .spec()
        .programs
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let mut results = Vec::new();
    for name in &names {
        let mut open = OpenObject::open_file(obj).unwrap();
        for other in &names {
            open.program_mut(other).unwrap().set_autoload(other == name);
        }
        let result = match open.load() {
            Ok(loaded) => Ok(loaded.core_relocations(name).to_vec()),
            Err(e) => Err(e.to_string().replace(&obj.display().to_string(), "OBJ")),
        };
        results.push((name.clone(), result));
    }
    results
}

fn compare(src: &str, ours: &Path, bpftools: &Path) {
    let a = core_by_program(ours);
    let b = core_by_program(bpftools);
    assert_eq!(
        a.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        b.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let mut compared = 0;
    let mut relocations = 0;
    for ((name, ours), (_, theirs)) in a.iter().zip(&b) {
        match (ours, theirs) {
            (Ok(x), Ok(y)) => {
                assert_eq!(x, y, "{src}: program {name}: CO-RE differs");
                compared += 1;
                relocations += x.len();
            }
            (Err(x), Err(y)) => {
                eprintln!("{src}: {name} does not load on this kernel with either header: {x}");
                // Same failure either way, apart from ids in messages.
                let kind = |s: &str| s.split(':').next().unwrap_or("").to_owned();
                assert_eq!(kind(x), kind(y), "{src}: {name}");
            }
            _ => panic!(
                "{src}: {name} loads with only one header:\nours: {ours:?}\nbpftool's: {theirs:?}"
            ),
        }
    }
    assert!(compared > 0, "{src}: no program loaded with both headers");
    assert!(relocations > 0, "{src}: no CO-RE relocation to compare");
    eprintln!("{src}: {compared} programs, {relocations} CO-RE relocations equal");
}

#[test]
fn our_header_resolves_co_re_like_bpftools() {
    require_root();
    let btf = Btf::from_file("/sys/kernel/btf/vmlinux").unwrap();
    let header = c_header::generate(&btf).unwrap();
    let ours = scratch("ours");
    let theirs = scratch("bpftool");
    std::fs::write(ours.join("vmlinux.h"), header).unwrap();
    std::fs::copy(fixture("vmlinux.h"), theirs.join("vmlinux.h")).unwrap();
    for src in ["core_trace.bpf.c", "core_tools.bpf.c", "tools.bpf.c"] {
        let a = compile(&ours, src);
        let b = compile(&theirs, src);
        compare(src, &a, &b);
    }
    let _ = std::fs::remove_dir_all(&ours);
    let _ = std::fs::remove_dir_all(&theirs);
}

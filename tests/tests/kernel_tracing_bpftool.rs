//! Every fixture libbpf loads on this kernel (`bpftool prog loadall`), bpf2rs
//! loads too. The other direction is checked for the tracing fixtures
//! only: the installed bpftool links libbpf 1.1, which refuses legacy
//! `maps` sections and section names newer than it (`tcx/ingress`) that
//! bpf2rs supports on purpose. `bad_*` fixtures are definitions libbpf
//! tolerates and bpf2rs rejects as ambiguous, by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)] // reason: tests

use std::collections::BTreeSet;
use std::process::Command;

use bpf2rs::load::OpenObject;
use bpf2rs_tests::{fixture, require_root};

/// Whether libbpf (through bpftool) loads `obj`; pins are removed after.
fn libbpf_loads(obj: &str) -> bool {
    // bpffs refuses names with dots.
    let stem = obj.trim_end_matches(".bpf.o");
    let dir = format!("/sys/fs/bpf/bpf2rs_cmp_{}_{stem}", std::process::id());
    let pinned_before = std::path::Path::new("/sys/fs/bpf/pinned_map").exists();
    let ok = Command::new("bpftool")
        .args(["prog", "loadall"])
        .arg(fixture(obj))
        .arg(&dir)
        .output()
        .expect("bpftool must be installed for this test")
        .status
        .success();
    let _ = std::fs::remove_dir_all(&dir);
    // LIBBPF_PIN_BY_NAME maps land in /sys/fs/bpf itself.
    if !pinned_before {
        let _ = std::fs::remove_file("/sys/fs/bpf/pinned_map");
    }
    ok
}

#[test]
fn bpf2rs_loads_what_libbpf_loads() {
    require_root();
    let mut objects: Vec<String> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".bpf.o"))
        .collect();
    objects.sort();
    let mut mismatches = Vec::new();
    for obj in &objects {
        let libbpf = libbpf_loads(obj);
        let ours = OpenObject::open_file(fixture(obj)).and_then(|o| o.load());
        // LIBBPF_PIN_BY_NAME maps of ours land in /sys/fs/bpf too.
        let ours = ours.map(drop);
        let _ = std::fs::remove_file("/sys/fs/bpf/pinned_map");
        match (libbpf, &ours) {
            (true, Err(_)) if obj.starts_with("bad_") => {}
            (true, Err(e)) => mismatches.push(format!("{obj}: libbpf loads it, bpf2rs: {e}")),
            (false, Ok(_)) if obj.starts_with("core_") || obj.starts_with("extern_") => {
                mismatches.push(format!("{obj}: libbpf refuses it, bpf2rs loads it"))
            }
            (false, Ok(_)) => {}
            (false, Err(e)) => assert!(!e.to_string().is_empty()),
            (true, Ok(_)) => {}
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// `(function, relocated value)` of every CO-RE patch libbpf reports in its
/// debug output (`prog 'f': relo #0: patched insn #3 (...) off 24 -> 24`).
/// The left value is what the instruction held, which for bitfield
/// relocations is not necessarily the value computed from the local BTF,
/// so only the result is compared.
fn libbpf_core_patches(obj: &str) -> BTreeSet<(String, u64)> {
    let stem = obj.trim_end_matches(".bpf.o");
    let dir = format!("/sys/fs/bpf/bpf2rs_core_{}_{stem}", std::process::id());
    let out = Command::new("bpftool")
        .args(["-d", "prog", "loadall"])
        .arg(fixture(obj))
        .arg(&dir)
        .output()
        .expect("bpftool must be installed for this test");
    let _ = std::fs::remove_dir_all(&dir);
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let mut set = BTreeSet::new();
    for line in text.lines().filter(|l| l.contains(": patched insn #")) {
        let func = line.split('\'').nth(1).unwrap().to_owned();
        let tail = line.rsplit(") ").next().unwrap();
        let nums: Vec<u64> = tail
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        // "off 24 -> 24", "imm 1 -> 0", "imm64 1 -> 1": the last two numbers.
        let n = nums.len();
        set.insert((func, nums[n - 1]));
    }
    set
}

#[test]
fn core_relocations_agree_with_libbpf() {
    require_root();
    for obj in ["core_trace.bpf.o", "core_tools.bpf.o", "tools.bpf.o"] {
        let libbpf = libbpf_core_patches(obj);
        assert!(
            !libbpf.is_empty(),
            "{obj}: libbpf reported no CO-RE patches"
        );
        let loaded = OpenObject::open_file(fixture(obj)).unwrap().load().unwrap();
        let mut ours = BTreeSet::new();
        for p in loaded.programs() {
            for c in loaded.core_relocations(p.name()) {
                if !c.resolution.poison {
                    ours.insert((c.function.clone(), c.resolution.new_val));
                }
            }
        }
        assert_eq!(ours, libbpf, "{obj}: CO-RE results differ from libbpf's");
    }
}

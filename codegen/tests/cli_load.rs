//! `cargo bpf2rs load` and `gen` against the kernel: what was created, or
//! the verifier log and a failing exit status.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/bpf")
        .join(name)
}

fn require_root() {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    assert!(
        root,
        "this kernel test needs root (CAP_BPF and CAP_SYS_ADMIN): run the tests as root"
    );
}

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-bpf2rs"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn load_reports_every_map_and_program() {
    require_root();
    let pins = PathBuf::from(format!(
        "/sys/fs/bpf/bpf2rs-cli-load-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&pins).unwrap();
    let out = cli(&[
        "bpf2rs",
        "load",
        fixture("kitchen.bpf.o").to_str().unwrap(),
        "--pin-root",
        pins.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let _ = std::fs::remove_dir_all(&pins);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("loaded kitchen\n"), "{stdout}");
    for name in [
        "flows",
        "per_cpu",
        "inner",
        "outer",
        "jmp_table",
        "pinned",
        "legacy_counts",
    ] {
        assert!(stdout.contains(&format!("map {name} ")), "{name}: {stdout}");
    }
    assert!(stdout.contains("data .rodata"), "{stdout}");
    assert!(
        stdout.contains("prog on_packet") && stdout.contains("prog tail"),
        "{stdout}"
    );
}

#[test]
fn load_of_a_rejected_program_prints_the_verifier_log_and_fails() {
    require_root();
    let out = cli(&["load", fixture("rejected.bpf.o").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: rejected: program unchecked (section xdp): the kernel rejected it"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("--- verifier log ---") && stderr.contains("invalid access to packet"),
        "{stderr}"
    );
}

/// libbpf-tools leave some sizes to user space and declare key/value types
/// on maps whose kernel type refuses BTF (cgroup arrays, stack traces).
#[test]
fn load_names_a_map_without_size_and_takes_one_from_the_command_line() {
    require_root();
    let obj = fixture("user_sized.bpf.o");
    let obj = obj.to_str().unwrap();
    let out = cli(&["load", obj]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: user_sized: map start: max_entries is 0: the object leaves the size to user space; set it before load"),
        "{stderr}"
    );
    let out = cli(&["load", obj, "--max-entries", "start=1024"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("map start                hash             ")
            && stdout.contains(" max 1024\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("map cgroup_map           cgroup_array "),
        "{stdout}"
    );
    // Created without BTF from the start: no retry, so no note.
    assert!(!stderr.contains("created without BTF"), "{stderr}");
    for (arg, want) in [
        ("start", "load: --max-entries needs MAP=N"),
        (
            "start=x",
            "load: --max-entries start=x: `x` is not a number",
        ),
        ("nope=4", "load: --max-entries: no map `nope` in "),
    ] {
        let out = cli(&["load", obj, "--max-entries", arg]);
        assert_eq!(out.status.code(), Some(2), "{arg}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!("error: {want}")),
            "{arg}: {stderr}"
        );
    }
}

#[test]
fn gen_writes_a_skeleton() {
    let dir = std::env::temp_dir().join(format!("bpf2rs-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("kitchen.skel.rs");
    let out = cli(&[
        "gen",
        fixture("kitchen.bpf.o").to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
        "--map-types",
        "legacy_counts=__u32,__u64",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_file).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.starts_with("// @generated by bpf2rs-codegen"));
    assert!(text.contains("pub struct KitchenSkel"));
    assert!(
        text.contains("pub flows: ::bpf2rs::map::HashMap<types::flow_key, types::flow_stats>"),
        "flows typed by BTF"
    );
    assert!(
        text.contains("pub legacy_counts: ::bpf2rs::map::HashMap<types::__u32, types::__u64>"),
        "legacy map typed by --map-types"
    );
    let bad = cli(&[
        "gen",
        fixture("kitchen.bpf.o").to_str().unwrap(),
        "--map-types",
        "legacy_counts=__u16,__u64",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("map legacy_counts: key: `__u16` is 2 bytes, the map's is 4"),
        "{stderr}"
    );
}

//! `cargo bpf2rs load` and `gen` against the kernel: what was created, or
//! the verifier log and a failing exit status.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::path::PathBuf;

use common::{cli, fixture, require_root};

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
    // kitchen's `pinned` is LIBBPF_PIN_BY_NAME: pinned under the root, then
    // removed when load exits.
    let pin = pins.join("pinned");
    assert!(
        stdout.contains(&format!(
            "unpinned {} (made by this load; --keep-pins keeps it)",
            pin.display()
        )),
        "{stdout}"
    );
}

#[test]
fn load_keeps_its_pins_when_asked() {
    require_root();
    let pins = PathBuf::from(format!(
        "/sys/fs/bpf/bpf2rs-cli-keep-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&pins).unwrap();
    let obj = fixture("kitchen.bpf.o");
    let args = [
        "load",
        obj.to_str().unwrap(),
        "--pin-root",
        pins.to_str().unwrap(),
    ];
    let out = cli(&[&args[..], &["--keep-pins"]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let kept = pins.join("pinned").exists();
    // A second load reuses the pin: nothing new to remove.
    let again = cli(&args);
    let again_stdout = String::from_utf8_lossy(&again.stdout).into_owned();
    let still = pins.join("pinned").exists();
    let _ = std::fs::remove_dir_all(&pins);
    assert!(
        out.status.success() && again.status.success(),
        "{stdout}\n{again_stdout}"
    );
    assert!(stdout.contains("(kept: --keep-pins)"), "{stdout}");
    assert!(kept, "--keep-pins removed the pin");
    assert!(!again_stdout.contains("unpinned"), "{again_stdout}");
    assert!(still, "the reused pin was removed");
}

#[test]
fn version_and_gen_of_c_source() {
    let out = cli(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("cargo-bpf2rs {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = cli(&["gen", "src/bpf/probe.bpf.c"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: gen: src/bpf/probe.bpf.c is C source; gen reads a compiled object. \
             `cargo bpf2rs build src/bpf` compiles every .bpf.c of a directory and writes \
             their skeletons"
        ),
        "{stderr}"
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

//! `cargo bpf2rs load` on a CO-RE tracing object prints, under each
//! program, the relocations applied: kind, local access, old -> new value.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::path::Path;
use std::process::Command;

#[test]
fn load_prints_core_relocations_per_program() {
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
    let obj = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bpf/core_trace.bpf.o");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-bpf2rs"))
        .arg("load")
        .arg(&obj)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after_exec = text.split("prog on_exec").nth(1).expect("on_exec listed");
    assert!(after_exec.contains("core insn"), "{text}");
    assert!(
        after_exec.contains("byte_off struct task_struct.pid (0:"),
        "{text}"
    );
    assert!(
        after_exec.contains("enumval_value enum pid_type::PIDTYPE_TGID (1)"),
        "{text}"
    );
    assert!(
        after_exec.contains("poisoned"),
        "the unreachable flavor read: {text}"
    );
}

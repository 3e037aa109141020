//! `cargo bpf2rs load` on a CO-RE tracing object prints, under each
//! program, the relocations applied: kind, local access, old -> new value.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use common::{cli, fixture, require_root};

#[test]
fn load_prints_core_relocations_per_program() {
    require_root();
    let obj = fixture("core_trace.bpf.o");
    let out = cli(&["load", obj.to_str().unwrap()]);
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

//! Shared by the cli_* tests: the committed fixtures (tests/bpf), the
//! `cargo-bpf2rs` binary and the root check of the kernel tests.
#![allow(dead_code, clippy::unwrap_used)] // reason: tests; each binary uses a subset

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tests/bpf/NAME`: a committed fixture object.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/bpf")
        .join(name)
}

/// Fails the calling test unless it runs as root: kernel tests need
/// CAP_BPF/CAP_SYS_ADMIN, and are never skipped silently.
pub fn require_root() {
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

/// Runs `cargo-bpf2rs` with `args` and waits for it.
pub fn cli<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-bpf2rs"))
        .args(args)
        .output()
        .unwrap()
}

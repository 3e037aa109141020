//! Shared by every kernel_* test binary (each declares `mod common;`): the
//! root check, unique names for maps and bpffs pins, and choosing which
//! programs load. Helpers of one test
//! family stay in its `kernel_*_util` module.
#![allow(dead_code)] // reason: tests; each binary uses a subset

/// Kernel tests need root; without it they fail (never skip) and say why.
pub fn require_root() {
    require_root_for("kernel test", "CAP_BPF/CAP_SYS_ADMIN");
}

/// [`require_root`] with the test family and the capabilities it needs in
/// the failure message.
pub fn require_root_for(what: &str, caps: &str) {
    assert!(is_root(), "{what} needs root ({caps}): run as root");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A name unique to this process and call site, for maps and pins.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Turns autoload off for every program of `open` that `load` refuses.
pub fn autoload_only(open: &mut bpf2rs::load::OpenObject, load: impl Fn(&str) -> bool) {
    let names: Vec<String> = open
        .spec()
        .programs
        .iter()
        .map(|p| p.name.clone())
        .collect();
    for n in names {
        if let Some(p) = open.program_mut(&n) {
            p.set_autoload(load(&n));
        }
    }
}

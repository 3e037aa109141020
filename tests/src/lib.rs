//! Shared helpers for bpf2rs's integration tests: fixture paths.

use std::path::PathBuf;

/// Path of a compiled fixture in `tests/bpf/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bpf").join(name)
}

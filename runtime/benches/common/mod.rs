//! What the peer benches share: the peers' object, the BENCH_ONLY
//! selection and a counting global allocator.
#![allow(dead_code)] // reason: benches; each binary uses a subset

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// BENCH_ONLY=w1,w5 runs a subset of workloads (default: all).
pub fn want(w: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| only.is_empty() || only.contains(w))
}

/// Counts every allocation and reallocation in the process; a bench that
/// reports allocations installs it with
/// `#[global_allocator] static GLOBAL: common::CountingAlloc = common::CountingAlloc;`
/// and reads the count with [`allocs`].
pub struct CountingAlloc;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

/// The allocations and reallocations counted so far by [`CountingAlloc`].
pub fn allocs() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System`; the caller upholds the rest.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The object to load, per the peers' contract: argv[1] (run.sh passes its
/// bench.bpf.o), or else ../shared/peers/bpf/bench.bpf.c compiled here with
/// clang-19. `cargo bench` passes `--bench`: a path is an argument that does
/// not start with '-'.
pub fn peers_object() -> Result<PathBuf, String> {
    if let Some(p) = std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        return Ok(PathBuf::from(p));
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/bpf/bench.bpf.c");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers-bench.bpf.o");
    let status = std::process::Command::new("clang-19")
        .args([
            "-target",
            "bpf",
            "-O2",
            "-g",
            "-I/usr/include/x86_64-linux-gnu",
            "-c",
        ])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .map_err(|e| format!("running clang-19 on {}: {e}", src.display()))?;
    if !status.success() {
        return Err(format!("clang-19 failed on {}", src.display()));
    }
    Ok(out)
}

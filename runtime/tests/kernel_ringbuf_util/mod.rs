//! Shared by kernel_ringbuf.rs, kernel_perf.rs and kernel_ringbuf_user.rs
//! (the root check is in `common`): the test object
//! (tests/bpf/events.bpf.o), the event types its programs write, and what
//! the zero-copy and no-allocation checks need (where an address lies, a
//! per-thread counting allocator).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // reason: tests; each binary uses a subset

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bpf2rs::load::{Object, OpenObject};
use bpf2rs::map::{Array, MapHandle};
use bpf2rs::prog::TestRunInput;

use crate::common::require_root;

/// `struct event` of events.bpf.c.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bpf2rs::Pod)]
#[repr(C)]
pub struct Event {
    pub seq: u64,
    pub cpu: u32,
    pub kind: u32,
    pub payload: [u64; 6],
}

/// `struct command` of events.bpf.c.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bpf2rs::Pod)]
#[repr(C)]
pub struct Command {
    pub seq: u64,
    pub tag: u32,
    pub pad: u32,
}

/// `struct aligned_event` of events.bpf.c: 16 bytes, 16-aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bpf2rs::Pod)]
#[repr(C, align(16))]
pub struct AlignedEvent {
    pub seq: u64,
    pub tag: u32,
    pub pad: u32,
}

/// `struct outer_event` of events.bpf.c: the aligned event at offset 16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bpf2rs::Pod)]
#[repr(C, align(16))]
pub struct OuterEvent {
    pub kind: u32,
    pub cpu: u32,
    pub pad: [u8; 8],
    pub inner: AlignedEvent,
}

const _: () = {
    assert!(size_of::<AlignedEvent>() == 16 && align_of::<AlignedEvent>() == 16);
    assert!(size_of::<OuterEvent>() == 32 && std::mem::offset_of!(OuterEvent, inner) == 16);
};

/// Checks every field against what `fill_aligned()` in events.bpf.c writes
/// (the padding the program zeroes or the ring leaves is not checked).
pub fn check_aligned(a: &AlignedEvent) {
    assert_eq!(a.tag, (a.seq * 7 + 1) as u32, "tag of event {}", a.seq);
}

/// Checks every field against what `fill_outer()` in events.bpf.c writes.
pub fn check_outer(o: &OuterEvent, kind: u32, cpus: u32) {
    assert_eq!(o.kind, kind, "kind of event {}", o.inner.seq);
    assert!(o.cpu < cpus, "cpu {} of event {}", o.cpu, o.inner.seq);
    check_aligned(&o.inner);
}

/// The address `r` points at.
pub fn addr_of<T: ?Sized>(r: &T) -> usize {
    std::ptr::from_ref(r).cast::<u8>() as usize
}

/// The name /proc/self/maps gives the mapping holding `addr` (e.g.
/// `anon_inode:bpf-map`, `[heap]`; empty for an anonymous one).
pub fn mapping_of(addr: usize) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        (start..end)
            .contains(&addr)
            .then(|| fields.nth(4).unwrap_or("").to_owned())
    })
}

/// Whether `addr` lies in a mapping of a BPF map (a ring buffer's pages).
pub fn in_bpf_map(addr: usize) -> bool {
    mapping_of(addr).is_some_and(|name| name.contains("bpf"))
}

/// A global allocator that counts the allocations of each thread (tests
/// run in parallel threads), for the no-allocation-per-event checks. A
/// binary installs it with
/// `#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc;`.
pub struct CountingAlloc;

thread_local! {
    static THREAD_ALLOCS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Allocations (and reallocations) this thread made so far.
pub fn thread_allocs() -> u64 {
    THREAD_ALLOCS.with(std::cell::Cell::get)
}

fn count_alloc() {
    // The Cell has no destructor, so this works until the thread is gone.
    let _ = THREAD_ALLOCS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        count_alloc();
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        count_alloc();
        // SAFETY: as for `alloc`.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        count_alloc();
        // SAFETY: `ptr` came from `System`; the caller upholds the rest.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

const K: u64 = 0x0101_0101_0101_0101;

/// Checks every field against what `fill()` in events.bpf.c writes.
pub fn check_event(e: &Event, kind: u32, cpus: u32) {
    assert_eq!(e.kind, kind, "kind of event {}", e.seq);
    assert!(e.cpu < cpus, "cpu {} of event {}", e.cpu, e.seq);
    for (i, p) in e.payload.iter().enumerate() {
        assert_eq!(
            *p,
            e.seq ^ (K * (i as u64 + 1)),
            "payload[{i}] of event {}",
            e.seq
        );
    }
}

/// Opens and loads events.bpf.o, with `edit` applied to the open object.
pub fn load(edit: impl FnOnce(&mut OpenObject)) -> Object {
    require_root();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bpf/events.bpf.o");
    let mut open = OpenObject::open_file(path).unwrap();
    edit(&mut open);
    open.load().unwrap()
}

/// The `counters` array: [0] next seq, [1] failed reserves, [2] failed
/// perf outputs, [3] perf outputs refused for room.
pub fn counters(obj: &Object) -> Array<u64> {
    let fd = obj.map("counters").unwrap().as_fd_owned();
    Array::<u64>::from_fd(fd).unwrap()
}

/// The `cfg` array.
pub fn cfg(obj: &Object) -> Array<u64> {
    Array::<u64>::from_fd(obj.map("cfg").unwrap().as_fd_owned()).unwrap()
}

trait DupFd {
    fn as_fd_owned(&self) -> std::os::fd::OwnedFd;
}

impl<T: MapHandle> DupFd for T {
    fn as_fd_owned(&self) -> std::os::fd::OwnedFd {
        self.as_fd().try_clone_to_owned().unwrap()
    }
}

/// A duplicate fd of map `name`, for a second handle on it.
pub fn dup_map(obj: &Object, name: &str) -> std::os::fd::OwnedFd {
    obj.map(name).unwrap().as_fd_owned()
}

/// Runs program `prog` `repeat` times on a 64-byte frame.
pub fn run(obj: &Object, prog: &str, repeat: u32) {
    let out = obj
        .program(prog)
        .unwrap()
        .test_run(&TestRunInput {
            data: &[0u8; 64],
            repeat,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 2, "{prog}: XDP_PASS");
}

/// A producer that runs `prog` `total` times in chunks, waiting before each
/// chunk until the consumer (`progress`) is at most one chunk behind, like
/// the peers' W5 producer. Stops waiting when `stop` is set.
pub fn gated_producer(
    obj: &Object,
    prog: &str,
    total: u64,
    chunk: u32,
    progress: &AtomicU64,
    stop: &AtomicBool,
) {
    let mut done = 0u64;
    while done < total {
        let need = done.saturating_sub(u64::from(chunk));
        while progress.load(Ordering::Relaxed) < need {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_micros(10));
        }
        let n = (total - done).min(u64::from(chunk)) as u32;
        run(obj, prog, n);
        done += u64::from(n);
    }
}

/// For the async consumer tests: a current-thread tokio runtime with I/O
/// and timers.
#[cfg(feature = "tokio")]
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .unwrap()
}

/// For the async consumer tests: 2,000 events from `prog` in 20 bursts of
/// 100, 5 ms apart, so the consumer has to wait for them.
pub fn produce_in_bursts(obj: &Object, prog: &str) {
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(5));
        run(obj, prog, 100);
    }
}

/// Possible CPUs.
pub fn ncpus() -> u32 {
    bpf2rs::sys::possible_cpus().unwrap() as u32
}

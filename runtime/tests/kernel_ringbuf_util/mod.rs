//! Shared by kernel_ringbuf.rs and kernel_perf.rs (the root check is in
//! `common`): the test object (tests/bpf/events.bpf.o) and the event type
//! its programs write.
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

//! Tracing tools written like libbpf-tools (`tests/bpf/tools.bpf.c`), built
//! against this kernel's vmlinux.h, run through the generated skeleton:
//! execsnoop streams exec events through a ring buffer, runqlat fills a
//! latency histogram. The tests cause the events themselves and check them.
//! Their own binary: the execsnoop test counts children of this process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use bpf2rs_tests::require_root;
use bpf2rs_tests::skel::tools::{types, ToolsSkel};

fn c_str(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    std::str::from_utf8(&bytes[..end]).unwrap()
}

#[test]
fn execsnoop_streams_one_event_per_exec_of_our_children() {
    require_root();
    let me = std::process::id();
    let mut open = ToolsSkel::open().unwrap();
    open.rodata_mut().targ_ppid = me;
    let mut skel = open.load().unwrap();
    skel.attach().unwrap();
    assert!(
        skel.links.handle_exec.is_some(),
        "the tracepoint is attached"
    );

    let mut children = Vec::new();
    for _ in 0..8 {
        let child = Command::new("/bin/true").spawn().unwrap();
        children.push(child.id());
        assert!(child.wait_with_output().unwrap().status.success());
    }
    let mut seen: BTreeMap<u32, types::event> = BTreeMap::new();
    let mut duplicates = 0;
    // The tracepoint fires in the child before it exits, so every record
    // is in the ring by now; poll once more in case a CPU is still writing.
    let n = skel
        .maps
        .events
        .poll(Duration::from_millis(100), |e: &types::event| {
            if seen.insert(e.pid, *e).is_some() {
                duplicates += 1;
            }
        })
        .unwrap();
    assert_eq!(n, children.len(), "one record per exec, no more");
    assert_eq!(duplicates, 0);
    assert_eq!(skel.bss().unwrap().dropped, 0, "no reservation failed");
    for pid in &children {
        let e = seen
            .get(pid)
            .unwrap_or_else(|| panic!("no event for child {pid}"));
        assert_eq!(e.ppid, me, "parent tgid read through CO-RE");
        assert_eq!(e.uid, 0, "tests run as root");
        assert_eq!(c_str(&e.comm), "true", "comm after exec");
        assert_eq!(c_str(&e.filename), "/bin/true");
        assert_eq!(e.filename_len, "/bin/true".len() as u32);
    }

    // Detached on drop of the link: no more events.
    skel.links.handle_exec = None;
    Command::new("/bin/true").status().unwrap();
    let late = skel.maps.events.consume(|_: &types::event| ()).unwrap();
    assert_eq!(late, 0, "an event after the link was dropped");
}

#[test]
fn runqlat_histograms_the_wakeups_of_our_threads() {
    require_root();
    let mut open = ToolsSkel::open().unwrap();
    open.rodata_mut().targ_tgid = std::process::id();
    // Only the scheduler programs: the exec tracepoint stays unloaded.
    open.progs.handle_exec.set_autoload(false);
    let mut skel = open.load().unwrap();
    skel.attach().unwrap();
    assert!(skel.links.sched_wakeup.is_some());
    assert!(skel.links.sched_wakeup_new.is_some());
    assert!(skel.links.sched_switch.is_some());
    assert!(skel.links.handle_exec.is_none(), "not loaded, not attached");

    // Each sleep ends with a timer wakeup of this thread and a switch to it.
    let sleeps = 200;
    std::thread::spawn(move || {
        for _ in 0..sleeps {
            std::thread::sleep(Duration::from_micros(500));
        }
    })
    .join()
    .unwrap();
    let hist = skel.bss().unwrap().hist;
    let total: u64 = hist.iter().sum();
    assert!(
        total >= sleeps,
        "{total} latencies recorded for {sleeps} sleeps: {hist:?}"
    );
    // log2 slots of microseconds: no wakeup of ours waited a second (2^20 us).
    assert!(
        hist[20..].iter().all(|&n| n == 0),
        "implausible latencies: {hist:?}"
    );
    drop(skel);
}

//! Real-kernel attach tests: each program of tests/bpf/attach.bpf.c is
//! attached, triggered by the test itself, counted (> 0), and then counts
//! nothing more once its link is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_attach_util;

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use bpf2rs::link::{
    self, Link, LinkError, TcMode, TcOpts, TcxAnchor, UprobeOpts, UprobeTarget, XdpFlags, XdpOpts,
};
use bpf2rs::sys::netlink::{FilterInfo, RtNetlink, TC_PARENT_EGRESS, TC_PARENT_INGRESS};
use common::unique;
use kernel_attach_util::*;

const FIXTURE: &str = "attach.bpf.o";

#[test]
fn tracepoint_counts_getpid_and_detaches_on_drop() {
    let obj = load(FIXTURE);
    let prog = obj.program("tp_getpid").unwrap();
    let link = prog
        .attach_tracepoint("syscalls", "sys_enter_getpid")
        .unwrap();
    assert!(
        wait_hits(&obj, 0, getpid_syscalls) > 0,
        "tracepoint never ran"
    );
    assert_eq!(link.info().unwrap().link_type, 7, "a perf_event link");
    drop(link);
    assert_detached(&obj, 0, getpid_syscalls);
}

#[test]
fn raw_tracepoint_counts_syscalls_and_detaches_on_drop() {
    let obj = load(FIXTURE);
    let prog = obj.program("raw_sys_enter").unwrap();
    let link = prog.attach_raw_tracepoint("sys_enter").unwrap();
    assert!(wait_hits(&obj, 1, getpid_syscalls) > 0, "raw_tp never ran");
    let info = link.info().unwrap();
    assert_eq!(info.link_type, 1, "a raw_tracepoint link");
    assert_eq!(info.prog_id, prog.id().unwrap());
    drop(link);
    assert_detached(&obj, 1, getpid_syscalls);
}

#[test]
fn attach_auto_follows_the_section_name() {
    let obj = load(FIXTURE);
    // tracepoint/syscalls/sys_enter_getpid and raw_tp/sys_enter name their target.
    let tp = link::attach_auto(obj.program("tp_getpid").unwrap())
        .unwrap()
        .expect("tracepoint section attaches by itself");
    let raw = obj
        .program("raw_sys_enter")
        .unwrap()
        .attach_auto()
        .unwrap()
        .expect("raw_tp section attaches by itself");
    assert!(wait_hits(&obj, 0, getpid_syscalls) > 0);
    assert!(wait_hits(&obj, 1, getpid_syscalls) > 0);
    drop((tp, raw));
    assert_detached(&obj, 0, getpid_syscalls);
    assert_detached(&obj, 1, getpid_syscalls);
    // Sections whose target only the user knows: nothing to do.
    for name in [
        "xdp_count",
        "tcx_count",
        "sock_count",
        "cg_egress",
        "perf_count",
        "on_uprobe",
    ] {
        let p = obj.program(name).unwrap();
        assert!(link::attach_auto(p).unwrap().is_none(), "{name}");
    }
}

#[test]
fn attach_auto_skips_programs_that_were_not_loaded() {
    let obj = load_only(FIXTURE, Some("xdp_count"));
    let tp = obj.program("tp_getpid").unwrap();
    assert!(!tp.is_loaded());
    assert!(link::attach_auto(tp).unwrap().is_none());
    // Attaching it by hand says it is not loaded.
    let e = tp
        .attach_tracepoint("syscalls", "sys_enter_getpid")
        .unwrap_err();
    assert!(matches!(e, LinkError::Program(_)), "{e}");
}

#[test]
fn uprobe_section_names_a_library_found_like_the_dynamic_linker() {
    // `uprobe/libc.so.6:getpid`: no directory, as libbpf-style sections
    // name libraries; found through /etc/ld.so.cache (or, where there is
    // none, as in the vmtest image, the standard library directories).
    let libc = link::resolve_target(std::path::Path::new("libc.so.6")).unwrap();
    // The same file as the libc the dynamic linker mapped into this process.
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mapped = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.rsplit('/').next() == Some("libc.so.6"))
        .expect("this test process maps a libc.so.6");
    assert_eq!(
        std::fs::canonicalize(&libc).unwrap(),
        std::fs::canonicalize(mapped).unwrap(),
        "resolved {}",
        libc.display()
    );
    let obj = load(FIXTURE);
    let link = link::attach_auto(obj.program("on_libc_getpid").unwrap())
        .unwrap()
        .expect("the section names its target");
    let libc_getpid = || {
        for _ in 0..5 {
            // SAFETY: getpid has no preconditions.
            std::hint::black_box(unsafe { libc::getpid() });
        }
    };
    assert!(
        wait_hits(&obj, 15, libc_getpid) >= 5,
        "the uprobe on libc's getpid never ran"
    );
    drop(link);
    assert_detached(&obj, 15, libc_getpid);
}

/// The uprobe target: a function of this test binary.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bpf2rs_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(3).wrapping_add(1))
}

fn call_target() {
    for i in 0..3 {
        std::hint::black_box(bpf2rs_uprobe_target(std::hint::black_box(i)));
    }
}

fn exe() -> std::path::PathBuf {
    std::env::current_exe().unwrap()
}

#[test]
fn uprobe_by_symbol_counts_calls_and_detaches_on_drop() {
    let obj = load(FIXTURE);
    let prog = obj.program("on_uprobe").unwrap();
    let link = prog
        .attach_uprobe(
            exe(),
            UprobeTarget::Symbol("bpf2rs_uprobe_target", 0),
            UprobeOpts::default(),
        )
        .unwrap();
    let n = wait_hits(&obj, 2, call_target);
    assert!(n >= 3, "uprobe ran {n} times for 3+ calls");
    drop(link);
    assert_detached(&obj, 2, call_target);
}

#[test]
fn uretprobe_by_offset_for_this_process_counts_returns() {
    let obj = load(FIXTURE);
    let prog = obj.program("on_uretprobe").unwrap();
    let offset = link::symbol_file_offset(&exe(), "bpf2rs_uprobe_target").unwrap();
    let link = prog
        .attach_uprobe(
            exe(),
            UprobeTarget::Offset(offset),
            UprobeOpts {
                retprobe: true,
                pid: Some(std::process::id() as i32),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(wait_hits(&obj, 3, call_target) >= 3, "uretprobe never ran");
    drop(link);
    assert_detached(&obj, 3, call_target);
}

#[test]
fn uprobe_cookie_reaches_the_program() {
    let obj = load(FIXTURE);
    let prog = obj.program("on_uprobe_cookie").unwrap();
    let link = prog
        .attach_uprobe(
            exe(),
            UprobeTarget::Symbol("bpf2rs_uprobe_target", 0),
            UprobeOpts {
                cookie: 1000,
                ..Default::default()
            },
        )
        .unwrap();
    bpf2rs_uprobe_target(1);
    let n = hits(&obj, 11);
    assert!(
        n >= 1000 && n.is_multiple_of(1000),
        "hits[11] = {n}: cookie 1000 per call"
    );
    drop(link);
}

/// Two targets only the uprobe.multi test calls: a uprobe is process-wide, and
/// the other uprobe tests call `bpf2rs_uprobe_target` from parallel threads.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bpf2rs_multi_target_a(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(5).wrapping_add(2))
}

#[no_mangle]
#[inline(never)]
pub extern "C" fn bpf2rs_multi_target_b(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(7).wrapping_add(3))
}

#[test]
fn uprobe_multi_by_glob_counts_both_functions_and_detaches_on_drop() {
    // One uprobe_multi link where the kernel has them (6.6+), else one
    // uprobe per function; then the per-function way forced on any kernel.
    // One test, not two: both call the same functions of this process.
    let without_multi = !bpf2rs::probe::has_uprobe_multi_link();
    uprobe_multi_by_glob(load(FIXTURE), without_multi);
    let forced = load_configured(FIXTURE, |open| {
        open.program_mut("on_uprobe_multi")
            .unwrap()
            .set_uprobe_multi(false);
    });
    uprobe_multi_by_glob(forced, true);
}

/// `on_uprobe_multi` of `obj` on both `bpf2rs_multi_target_*` functions:
/// with one uprobe_multi link, or a uprobe (perf_event link) per function.
fn uprobe_multi_by_glob(obj: bpf2rs::load::Object, per_function: bool) {
    let prog = obj.program("on_uprobe_multi").unwrap();
    let link = prog
        .attach_uprobe_multi(exe(), &["bpf2rs_multi_target_*"], false, None)
        .unwrap();
    let link_types: Vec<u32> = link
        .fds()
        .map(|fd| {
            let dup = Link::from_fd(fd.try_clone_to_owned().unwrap());
            dup.info().unwrap().link_type
        })
        .collect();
    if per_function {
        assert_eq!(link_types, [7, 7], "a perf_event link per function");
        let e = link.pin("/sys/fs/bpf/unused").unwrap_err().to_string();
        assert!(e.contains("pin their fds (Link::fds) one by one"), "{e}");
    } else {
        assert_eq!(link_types, [12], "a uprobe_multi link");
    }
    let call_both = || {
        bpf2rs_multi_target_a(std::hint::black_box(1));
        bpf2rs_multi_target_b(std::hint::black_box(1));
    };
    call_both();
    assert_eq!(hits(&obj, 13), 2, "one hit per function");
    drop(link);
    assert_detached(&obj, 13, call_both);
    let e = prog
        .attach_uprobe_multi(exe(), &["no_such_fn_*"], false, None)
        .unwrap_err();
    assert!(
        e.to_string().ends_with(": no function symbol matches"),
        "{e}"
    );
}

#[test]
fn feature_probes_match_the_kernel_release() {
    require_root();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().unwrap().parse().unwrap();
    let minor: u32 = parts.next().unwrap().parse().unwrap();
    let since = |a: u32, b: u32| (major, minor) >= (a, b);
    assert_eq!(bpf2rs::probe::has_bpf_cookie(), since(5, 15), "{release}");
    // uprobe_multi came in 6.6; the probe also counts the first releases'
    // thread (not process) PID filtering as missing, fixed in 6.10 and in
    // some stable 6.6+ kernels.
    let multi = bpf2rs::probe::has_uprobe_multi_link();
    if !since(6, 6) || since(6, 10) {
        assert_eq!(multi, since(6, 6), "{release}");
    }
}

#[test]
fn uprobe_on_a_missing_symbol_says_so() {
    let obj = load(FIXTURE);
    let e = obj
        .program("on_uprobe")
        .unwrap()
        .attach_uprobe(
            exe(),
            UprobeTarget::Symbol("no_such_symbol_xyz", 0),
            UprobeOpts::default(),
        )
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("no symbol no_such_symbol_xyz"), "{msg}");
    assert!(
        msg.starts_with("program on_uprobe: attach uprobe to "),
        "{msg}"
    );
}

#[test]
fn xdp_on_lo_counts_udp_and_detaches_on_drop() {
    let obj = load(FIXTURE);
    let prog = obj.program("xdp_count").unwrap();
    let link = attach_xdp_lo(prog, XdpOpts::default());
    assert_eq!(link.info().unwrap().link_type, 6, "an xdp link");
    assert!(wait_hits(&obj, 6, udp_roundtrip) > 0, "xdp never ran");
    drop(link);
    assert_detached(&obj, 6, udp_roundtrip);
}

#[test]
fn tcx_ingress_on_lo_counts_udp_and_detaches_on_drop() {
    let obj = load(FIXTURE);
    let prog = obj.program("tcx_count").unwrap();
    // tcx where the kernel has it, else (Linux < 6.6) a netlink clsact filter.
    let link = prog.attach_tc(1, false, TcOpts::default()).unwrap();
    if link::kernel_has_tcx().unwrap() {
        assert_eq!(link.info().unwrap().link_type, 11, "a tcx link");
        assert_eq!(link.tc_filter(), None);
    } else {
        let f = link
            .tc_filter()
            .expect("a netlink filter where tcx is missing");
        assert_eq!((f.ifindex, f.egress), (1, false));
        // attach_tcx itself does not fall back, and says why.
        let e = prog.attach_tcx(1, false, TcxAnchor::Last).unwrap_err();
        assert_eq!(
            e.to_string(),
            "program tcx_count: attach tcx to ingress of ifindex 1: the kernel has no tcx \
             (Linux 6.6+); Program::attach_tc attaches through a netlink clsact filter there"
        );
    }
    assert!(
        wait_hits(&obj, 7, udp_roundtrip) > 0,
        "tc program never ran"
    );
    drop(link);
    assert_detached(&obj, 7, udp_roundtrip);
}

/// The filters on a clsact hook of lo, read back through netlink.
fn lo_filters(egress: bool) -> Vec<FilterInfo> {
    let parent = if egress {
        TC_PARENT_EGRESS
    } else {
        TC_PARENT_INGRESS
    };
    RtNetlink::open().unwrap().filters(1, parent).unwrap()
}

/// `tc filter show dev lo ingress|egress` when iproute2's tc is installed
/// (the vmtest image has only busybox's `tc`, which knows no clsact).
fn tc_show_lo(egress: bool) -> Option<String> {
    let version = std::process::Command::new("tc").arg("-V").output().ok()?;
    if !String::from_utf8_lossy(&version.stdout).contains("iproute2") {
        return None;
    }
    let dir = if egress { "egress" } else { "ingress" };
    let out = std::process::Command::new("tc")
        .args(["filter", "show", "dev", "lo", dir])
        .output()
        .ok()?;
    assert!(out.status.success(), "tc filter show: {out:?}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether program `prog_id` is a filter on lo's hook, by netlink and
/// (when installed) by `tc filter show`; both must agree.
fn lo_has_filter_of(egress: bool, prog_id: u32) -> Option<FilterInfo> {
    let found = lo_filters(egress)
        .into_iter()
        .find(|f| f.prog_id == Some(prog_id));
    if let Some(text) = tc_show_lo(egress) {
        let line = text.lines().find(|l| {
            l.split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| w == ["id", &prog_id.to_string()])
        });
        assert_eq!(
            line.is_some(),
            found.is_some(),
            "tc and netlink disagree:\n{text}"
        );
        if let (Some(line), Some(f)) = (line, &found) {
            assert!(line.contains(&format!("pref {} bpf", f.priority)), "{line}");
            assert!(line.contains(&format!("handle {:#x}", f.handle)), "{line}");
            assert!(line.contains("direct-action"), "{line}");
        }
    }
    found
}

#[test]
fn tc_forced_through_netlink_counts_udp_shows_in_tc_and_detaches_on_drop() {
    let obj = load(FIXTURE);
    let prog = obj.program("tcx_count").unwrap();
    let id = prog.id().unwrap();
    let opts = TcOpts {
        mode: TcMode::Netlink,
        ..Default::default()
    };
    // Forced even where the kernel has tcx, so this path runs everywhere.
    let link = prog.attach_tc(1, false, opts).unwrap();
    let f = link.tc_filter().expect("a netlink filter");
    assert_eq!((f.ifindex, f.egress), (1, false));
    assert!(f.priority > 0 && f.handle > 0, "{f:?}");
    let shown = lo_has_filter_of(false, id).expect("the filter is on lo ingress");
    assert_eq!(
        (shown.priority, shown.handle, shown.kind.as_str()),
        (f.priority, f.handle, "bpf")
    );
    assert_eq!(shown.name, Some(format!("tcx_count:[{id}]")));
    assert!(shown.direct_action);
    assert!(wait_hits(&obj, 7, udp_roundtrip) > 0, "tc filter never ran");
    // A filter is not a bpf_link.
    let path = std::path::Path::new("/sys/fs/bpf").join(unique("bpf2rs_link"));
    let e = link.pin(&path).unwrap_err();
    assert!(matches!(e, LinkError::NotBpfLink { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "link tc tcx_count on ingress of ifindex 1 (netlink filter pref {} handle {:#x}): \
             pin: a tc filter attached through netlink is not a BPF link and cannot be pinned",
            f.priority, f.handle
        )
    );
    assert!(!path.exists());
    assert!(link.info().is_err() && link.fd().is_err());
    drop(link);
    assert_detached(&obj, 7, udp_roundtrip);
    assert_eq!(
        lo_has_filter_of(false, id),
        None,
        "the filter outlived its link"
    );
}

#[test]
fn tc_netlink_filter_refuses_a_taken_handle_updates_and_detaches() {
    let (a, b) = (load(FIXTURE), load(FIXTURE));
    let (pa, pb) = (
        a.program("tcx_count").unwrap(),
        b.program("tcx_count").unwrap(),
    );
    let netlink = TcOpts {
        mode: TcMode::Netlink,
        ..Default::default()
    };
    let link = pa.attach_tc(1, true, netlink).unwrap();
    let f = link.tc_filter().unwrap();
    assert!(f.egress);
    assert!(lo_has_filter_of(true, pa.id().unwrap()).is_some());
    // The same priority and handle again: the kernel says no, in its words.
    let e = pb
        .attach_tc(
            1,
            true,
            TcOpts {
                priority: f.priority,
                handle: f.handle,
                ..netlink
            },
        )
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EEXIST), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "program tcx_count: attach tc to egress of ifindex 1: RTM_NEWTFILTER bpf: File exists"
        ),
        "{msg}"
    );
    assert!(msg.ends_with(": Filter already exists"), "{msg}");
    // Update: b's program takes the filter's place.
    assert!(wait_hits(&a, 7, udp_roundtrip) > 0);
    link.update(pb).unwrap();
    assert!(
        wait_hits(&b, 7, udp_roundtrip) > 0,
        "the new program never ran"
    );
    assert_detached(&a, 7, udp_roundtrip);
    let shown = lo_has_filter_of(true, pb.id().unwrap()).expect("b's program is the filter");
    assert_eq!((shown.priority, shown.handle), (f.priority, f.handle));
    // Explicit detach removes the filter now.
    link.detach().unwrap();
    assert_detached(&b, 7, udp_roundtrip);
    assert_eq!(lo_has_filter_of(true, pb.id().unwrap()), None);
}

#[test]
fn socket_filter_counts_datagrams_until_detached() {
    let obj = load(FIXTURE);
    let prog = obj.program("sock_count").unwrap();
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    prog.attach_socket_filter(rx.as_fd()).unwrap();
    let mut buf = [0u8; 16];
    tx.send_to(b"one", rx.local_addr().unwrap()).unwrap();
    let (n, _) = rx.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"one", "the filter keeps the whole datagram");
    assert_eq!(hits(&obj, 8), 1);
    link::detach_socket_filter(rx.as_fd()).unwrap();
    tx.send_to(b"two", rx.local_addr().unwrap()).unwrap();
    rx.recv_from(&mut buf).unwrap();
    assert_eq!(hits(&obj, 8), 1, "the filter ran after detach");
}

/// This process's cgroup v2 directory.
fn own_cgroup() -> std::path::PathBuf {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let rel = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("a cgroup v2 line in /proc/self/cgroup");
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let root = mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&"cgroup2"))
        .map(|f| f[1].to_owned())
        .expect("cgroup2 is mounted");
    std::path::Path::new(&root).join(rel.trim_start_matches('/'))
}

#[test]
fn cgroup_skb_egress_counts_own_packets_and_detaches_on_drop() {
    let obj = load(FIXTURE);
    let prog = obj.program("cg_egress").unwrap();
    let cg = std::fs::File::open(own_cgroup()).unwrap();
    let link = prog.attach_cgroup(cg.as_fd(), None).unwrap();
    assert_eq!(link.info().unwrap().link_type, 3, "a cgroup link");
    assert!(
        wait_hits(&obj, 9, udp_roundtrip) > 0,
        "cgroup_skb never ran"
    );
    drop(link);
    assert_detached(&obj, 9, udp_roundtrip);
}

#[test]
fn sk_lookup_on_own_netns_counts_udp_and_detaches_on_drop() {
    let obj = load(FIXTURE);
    let prog = obj.program("lookup_count").unwrap();
    let ns = std::fs::File::open("/proc/self/ns/net").unwrap();
    let link = prog.attach_netns(ns.as_fd()).unwrap();
    assert_eq!(link.info().unwrap().link_type, 5, "a netns link");
    assert!(
        wait_hits(&obj, 14, udp_roundtrip) > 0,
        "sk_lookup never ran"
    );
    drop(link);
    assert_detached(&obj, 14, udp_roundtrip);
}

fn spin(ms: u64) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_millis(ms) {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

#[test]
fn perf_event_program_counts_cpu_clock_samples() {
    use bpf2rs::sys::perf_event::{
        perf_event_open, PerfEventOpen, PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE,
    };
    let obj = load(FIXTURE);
    let prog = obj.program("perf_count").unwrap();
    // This thread's CPU time, sampled every 100 µs.
    let ev = perf_event_open(&PerfEventOpen {
        pmu_type: PERF_TYPE_SOFTWARE,
        config: PERF_COUNT_SW_CPU_CLOCK,
        sample_period: 100_000,
        pid: 0,
        cpu: -1,
        ..Default::default()
    })
    .unwrap();
    let link = prog.attach_perf_event(ev.as_fd(), 0).unwrap();
    assert!(
        wait_hits(&obj, 10, || spin(20)) > 0,
        "perf_event program never ran"
    );
    drop(link);
    assert_detached(&obj, 10, || spin(20));
}

#[test]
fn pinned_link_outlives_its_fd_until_unpinned() {
    let obj = load(FIXTURE);
    let prog = obj.program("raw_sys_enter").unwrap();
    let path = std::path::Path::new("/sys/fs/bpf").join(unique("bpf2rs_link"));
    let link = prog.attach_raw_tracepoint("sys_enter").unwrap();
    let id = link.info().unwrap().id;
    link.pin(&path).unwrap();
    drop(link);
    // Still attached through the pin.
    assert!(
        wait_hits(&obj, 1, getpid_syscalls) > 0,
        "pinned link not attached"
    );
    let again = Link::from_pin(&path).unwrap();
    assert_eq!(again.info().unwrap().id, id);
    std::fs::remove_file(&path).unwrap();
    assert!(wait_hits(&obj, 1, getpid_syscalls) > 0);
    drop(again);
    assert_detached(&obj, 1, getpid_syscalls);
}

/// A cgroup link: it exists on every kernel these tests run on (5.7+) and
/// supports BPF_LINK_DETACH, where a tcx link would need Linux 6.6.
#[test]
fn explicit_detach_stops_a_pinned_link() {
    let obj = load(FIXTURE);
    let prog = obj.program("cg_egress").unwrap();
    let cg = std::fs::File::open(own_cgroup()).unwrap();
    let path = std::path::Path::new("/sys/fs/bpf").join(unique("bpf2rs_link"));
    let link = prog.attach_cgroup(cg.as_fd(), None).unwrap();
    link.pin(&path).unwrap();
    assert!(wait_hits(&obj, 9, udp_roundtrip) > 0);
    // BPF_LINK_DETACH through another fd of the same link, while pinned.
    Link::from_pin(&path).unwrap().detach().unwrap();
    assert_detached(&obj, 9, udp_roundtrip);
    std::fs::remove_file(&path).unwrap();
    drop(link);
}

#[test]
fn detach_of_a_perf_event_link_is_refused_clearly() {
    let obj = load(FIXTURE);
    let link = obj
        .program("tp_getpid")
        .unwrap()
        .attach_tracepoint("syscalls", "sys_enter_getpid")
        .unwrap();
    let e = link.detach().unwrap_err();
    assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{e}");
    assert!(
        e.to_string().starts_with(
            "link tracepoint tp_getpid on syscalls/sys_enter_getpid: detach: BPF_LINK_DETACH"
        ),
        "{e}"
    );
}

#[test]
fn link_update_of_a_raw_tracepoint_link_is_refused_clearly() {
    let obj = load(FIXTURE);
    let raw = obj.program("raw_sys_enter").unwrap();
    let link = raw.attach_raw_tracepoint("sys_enter").unwrap();
    // Raw tracepoint links do not support update: the error names the op.
    let e = link.update(raw).unwrap_err();
    assert!(e.to_string().contains("update"), "{e}");
}

#[test]
fn wrong_program_type_and_target_errors_are_clear() {
    let obj = load(FIXTURE);
    let tp = obj.program("tp_getpid").unwrap();
    let e = tp.attach_xdp(1, XdpFlags::AUTO).unwrap_err();
    assert!(matches!(e, LinkError::Target { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "program tp_getpid: attach xdp to ifindex 1: the program is tracepoint, not xdp"
    );
    let e = tp
        .attach_tracepoint("syscalls", "sys_enter_no_such_call")
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("program tp_getpid: attach tracepoint to syscalls/sys_enter_no_such_call: no such tracepoint"),
        "{msg}"
    );
    let e = obj
        .program("raw_sys_enter")
        .unwrap()
        .attach_raw_tracepoint("no_such_tracepoint_xyz")
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOENT), "{e}");
    assert!(e.to_string().contains("BPF_RAW_TRACEPOINT_OPEN"), "{e}");
}

fn has_pmu(name: &str) -> bool {
    std::path::Path::new("/sys/bus/event_source/devices")
        .join(name)
        .join("type")
        .exists()
}

#[test]
fn kprobe_counts_unlinkat_or_says_the_kernel_has_no_kprobes() {
    let obj = load(FIXTURE);
    let prog = obj.program("kp_unlinkat").unwrap();
    let ret = obj.program("kretp_unlinkat").unwrap();
    if !has_pmu("kprobe") {
        // CONFIG_KPROBES=n (this CI kernel): the error must say so.
        let e = link::attach_auto(prog).unwrap_err();
        assert_eq!(
            e.to_string().split(" (").next().unwrap(),
            "program kp_unlinkat: attach kprobe to do_unlinkat: the kernel has no kprobe PMU"
        );
        not_run("kprobe/kretprobe counting", &e.to_string());
        return;
    }
    let link = link::attach_auto(prog)
        .unwrap()
        .expect("kprobe/do_unlinkat attaches");
    let rlink = link::attach_auto(ret)
        .unwrap()
        .expect("kretprobe/do_unlinkat attaches");
    assert!(wait_hits(&obj, 4, unlink_temp) > 0, "kprobe never ran");
    assert!(wait_hits(&obj, 12, unlink_temp) > 0, "kretprobe never ran");
    drop((link, rlink));
    assert_detached(&obj, 4, unlink_temp);
    assert_detached(&obj, 12, unlink_temp);
}

#[test]
fn kprobe_multi_counts_unlinkat_or_reports_the_kernels_refusal() {
    let obj = load(FIXTURE);
    let prog = obj.program("kp_multi").unwrap();
    // kprobe.multi/do_unlinkat* (a glob resolved against available_filter_functions).
    match link::attach_auto(prog) {
        Ok(link) => {
            let link = link.expect("kprobe.multi section attaches");
            assert_eq!(link.info().unwrap().link_type, 8, "a kprobe_multi link");
            assert!(
                wait_hits(&obj, 5, unlink_temp) > 0,
                "kprobe.multi never ran"
            );
            drop(link);
            assert_detached(&obj, 5, unlink_temp);
        }
        // CONFIG_FPROBE=n: BPF_LINK_CREATE refuses with EOPNOTSUPP.
        Err(e) => {
            assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{e}");
            assert!(
                e.to_string().starts_with(
                    "program kp_multi: attach kprobe.multi to do_unlinkat*: BPF_LINK_CREATE: "
                ),
                "{e}"
            );
            not_run("kprobe.multi counting", &e.to_string());
        }
    }
}

//! Real-kernel tests of the two ways a program is bound to its perf event
//! (tests/bpf/attach.bpf.o): a BPF perf link (Linux 5.15+) and the older
//! PERF_EVENT_IOC_SET_BPF + PERF_EVENT_IOC_ENABLE that libbpf falls back to
//! without perf links, forced here with `PerfAttachMode`. kprobes need the
//! kprobe PMU (not on the 6.18 CI kernel: NOT RUN there); tracepoints and
//! uprobes take the ioctl path on every kernel.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_attach_util;

use bpf2rs::link::{
    self, KprobeOpts, Link, LinkError, PerfAttachMode, TracepointOpts, UprobeOpts, UprobeTarget,
};
use bpf2rs::load::Object;
use kernel_attach_util::*;

const FIXTURE: &str = "attach.bpf.o";

/// `hits[]` slots of attach.bpf.c.
const TP_GETPID: usize = 0;
const UPROBE: usize = 2;
const URETPROBE: usize = 3;
const KPROBE: usize = 4;
const KRETPROBE: usize = 12;

/// `enum bpf_link_type`: BPF_LINK_TYPE_PERF_EVENT.
const PERF_EVENT_LINK: u32 = 7;

/// The message of every bpf_link operation on a program attached by ioctl.
const NO_BPF_LINK: &str =
    "the program was attached to its perf event by ioctl: there is no bpf_link";

#[test]
fn the_probe_finds_perf_links_on_every_kernel_since_5_15() {
    require_root();
    let (major, minor) = kernel_version();
    assert_eq!(
        link::kernel_has_perf_links(),
        (major, minor) >= (5, 15),
        "Linux {major}.{minor}"
    );
    // Cached: the same answer again.
    assert_eq!(link::kernel_has_perf_links(), link::kernel_has_perf_links());
}

/// kp_unlinkat and kretp_unlinkat on do_unlinkat, attached with `mode`;
/// `None` (and a NOT RUN note) on a kernel without the kprobe PMU, after
/// checking that the error says so.
fn attach_kprobes(obj: &Object, mode: PerfAttachMode) -> Option<(Link, Link)> {
    let kp = obj.program("kp_unlinkat").unwrap();
    let kretp = obj.program("kretp_unlinkat").unwrap();
    let entry = match kp.attach_kprobe(
        "do_unlinkat",
        KprobeOpts {
            attach_mode: mode,
            ..Default::default()
        },
    ) {
        Ok(l) => l,
        Err(e) if !has_pmu("kprobe") => {
            // CONFIG_KPROBES=n (the 6.18 CI kernel): the error must say so.
            assert_eq!(
                e.to_string().split(" (").next().unwrap(),
                "program kp_unlinkat: attach kprobe to do_unlinkat: the kernel has no kprobe PMU"
            );
            not_run(&format!("kprobe/kretprobe by {mode:?}"), &e.to_string());
            return None;
        }
        Err(e) => panic!("{e}"),
    };
    let exit = kretp
        .attach_kprobe(
            "do_unlinkat",
            KprobeOpts {
                retprobe: true,
                attach_mode: mode,
                ..Default::default()
            },
        )
        .unwrap();
    Some((entry, exit))
}

/// The kprobe and kretprobe on do_unlinkat both count, and neither does
/// once their links are dropped.
fn counts_then_detaches(obj: &Object, entry: Link, exit: Link) {
    assert!(wait_hits(obj, KPROBE, unlink_temp) > 0, "kprobe never ran");
    assert!(
        wait_hits(obj, KRETPROBE, unlink_temp) > 0,
        "kretprobe never ran"
    );
    drop((entry, exit));
    assert_detached(obj, KPROBE, unlink_temp);
    assert_detached(obj, KRETPROBE, unlink_temp);
}

#[test]
fn kprobe_and_kretprobe_by_ioctl_count_unlinkat_and_detach_on_drop() {
    let obj = load(FIXTURE);
    let Some((entry, exit)) = attach_kprobes(&obj, PerfAttachMode::Ioctl) else {
        return;
    };
    for l in [&entry, &exit] {
        assert!(!l.is_bpf_link());
        let e = l.info().unwrap_err();
        assert!(e.to_string().ends_with(NO_BPF_LINK), "{e}");
    }
    counts_then_detaches(&obj, entry, exit);
}

#[test]
fn kprobe_and_kretprobe_by_perf_link_count_unlinkat_and_detach_on_drop() {
    let obj = load(FIXTURE);
    let Some((entry, exit)) = attach_kprobes(&obj, PerfAttachMode::Link) else {
        return;
    };
    for l in [&entry, &exit] {
        assert!(l.is_bpf_link());
        assert_eq!(l.info().unwrap().link_type, PERF_EVENT_LINK);
    }
    counts_then_detaches(&obj, entry, exit);
}

#[test]
fn kprobe_auto_mode_takes_what_the_kernel_has() {
    let obj = load(FIXTURE);
    let Some((entry, exit)) = attach_kprobes(&obj, PerfAttachMode::Auto) else {
        return;
    };
    assert_eq!(entry.is_bpf_link(), link::kernel_has_perf_links());
    assert_eq!(exit.is_bpf_link(), link::kernel_has_perf_links());
    assert!(wait_hits(&obj, KPROBE, unlink_temp) > 0, "kprobe never ran");
}

fn tracepoint_getpid(obj: &Object, opts: TracepointOpts) -> Result<Link, LinkError> {
    obj.program("tp_getpid")
        .unwrap()
        .attach_tracepoint_with("syscalls", "sys_enter_getpid", opts)
}

const IOCTL: TracepointOpts = TracepointOpts {
    cookie: 0,
    attach_mode: PerfAttachMode::Ioctl,
};

#[test]
fn tracepoint_by_ioctl_counts_getpid_and_detaches_on_drop() {
    let obj = load(FIXTURE);
    let l = tracepoint_getpid(&obj, IOCTL).unwrap();
    assert!(!l.is_bpf_link());
    assert!(
        wait_hits(&obj, TP_GETPID, getpid_syscalls) > 0,
        "tracepoint never ran"
    );
    drop(l);
    assert_detached(&obj, TP_GETPID, getpid_syscalls);
}

#[test]
fn tracepoint_by_perf_link_when_forced() {
    let obj = load(FIXTURE);
    let opts = TracepointOpts {
        attach_mode: PerfAttachMode::Link,
        ..Default::default()
    };
    let l = tracepoint_getpid(&obj, opts).unwrap();
    assert!(l.is_bpf_link());
    assert_eq!(l.info().unwrap().link_type, PERF_EVENT_LINK);
    assert!(wait_hits(&obj, TP_GETPID, getpid_syscalls) > 0);
    drop(l);
    assert_detached(&obj, TP_GETPID, getpid_syscalls);
}

#[test]
fn an_ioctl_link_refuses_bpf_link_operations_and_detaches_on_request() {
    let obj = load(FIXTURE);
    let prog = obj.program("tp_getpid").unwrap();
    let l = tracepoint_getpid(&obj, IOCTL).unwrap();
    let what = "link tracepoint tp_getpid on syscalls/sys_enter_getpid";
    let pin = std::path::Path::new("/sys/fs/bpf").join(common::unique("bpf2rs_ioctl"));
    let errors = [
        ("info", l.info().map(|_| ()).unwrap_err()),
        ("pin", l.pin(&pin).unwrap_err()),
        ("update", l.update(prog).unwrap_err()),
        ("iter_create", l.open_iter().map(|_| ()).unwrap_err()),
    ];
    for (op, e) in errors {
        assert_eq!(e.to_string(), format!("{what}: {op}: {NO_BPF_LINK}"));
    }
    assert!(!pin.exists());
    assert!(wait_hits(&obj, TP_GETPID, getpid_syscalls) > 0);
    // Still attached after all that; detach() disables and closes the event.
    l.detach().unwrap();
    assert_detached(&obj, TP_GETPID, getpid_syscalls);
}

#[test]
fn an_ioctl_links_fd_keeps_the_program_attached_until_closed() {
    let obj = load(FIXTURE);
    let l = tracepoint_getpid(&obj, IOCTL).unwrap();
    let perf_fd = l.into_fd();
    // The perf event's fd: the program still runs through it.
    assert!(wait_hits(&obj, TP_GETPID, getpid_syscalls) > 0);
    let before = hits(&obj, TP_GETPID);
    getpid_syscalls();
    assert!(hits(&obj, TP_GETPID) > before, "detached by into_fd");
    drop(perf_fd);
    assert_detached(&obj, TP_GETPID, getpid_syscalls);
}

/// The uprobe target: a function of this test binary that only the uprobe
/// test calls.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bpf2rs_legacy_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(11).wrapping_add(5))
}

fn call_target() {
    for i in 0..3 {
        std::hint::black_box(bpf2rs_legacy_uprobe_target(std::hint::black_box(i)));
    }
}

fn uprobe_opts(retprobe: bool, cookie: u64, attach_mode: PerfAttachMode) -> UprobeOpts {
    UprobeOpts {
        retprobe,
        cookie,
        attach_mode,
        ..Default::default()
    }
}

#[test]
fn uprobe_and_uretprobe_by_ioctl_count_calls_and_detach_on_drop() {
    let obj = load(FIXTURE);
    let exe = std::env::current_exe().unwrap();
    let target = UprobeTarget::Symbol("bpf2rs_legacy_uprobe_target", 0);
    let entry = obj
        .program("on_uprobe")
        .unwrap()
        .attach_uprobe(&exe, target, uprobe_opts(false, 0, PerfAttachMode::Ioctl))
        .unwrap();
    let exit = obj
        .program("on_uretprobe")
        .unwrap()
        .attach_uprobe(&exe, target, uprobe_opts(true, 0, PerfAttachMode::Ioctl))
        .unwrap();
    assert!(!entry.is_bpf_link() && !exit.is_bpf_link());
    assert!(
        wait_hits(&obj, UPROBE, call_target) >= 3,
        "uprobe never ran"
    );
    assert!(
        wait_hits(&obj, URETPROBE, call_target) >= 3,
        "uretprobe never ran"
    );
    drop((entry, exit));
    assert_detached(&obj, UPROBE, call_target);
    assert_detached(&obj, URETPROBE, call_target);
}

#[test]
fn a_cookie_needs_a_perf_link_and_the_ioctl_path_says_so() {
    let obj = load(FIXTURE);
    let exe = std::env::current_exe().unwrap();
    let e = obj
        .program("on_uprobe_cookie")
        .unwrap()
        .attach_uprobe(
            &exe,
            UprobeTarget::Symbol("bpf2rs_legacy_uprobe_target", 0),
            uprobe_opts(false, 1000, PerfAttachMode::Ioctl),
        )
        .unwrap_err();
    assert!(matches!(e, LinkError::Target { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "program on_uprobe_cookie: attach uprobe to {}:bpf2rs_legacy_uprobe_target: \
             cookie 0x3e8 needs a BPF perf link (Linux 5.15+), and the ioctl attach mode was asked for",
            exe.display()
        )
    );
    let e = tracepoint_getpid(
        &obj,
        TracepointOpts {
            cookie: 7,
            attach_mode: PerfAttachMode::Ioctl,
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "program tp_getpid: attach tracepoint to syscalls/sys_enter_getpid: \
         cookie 0x7 needs a BPF perf link (Linux 5.15+), and the ioctl attach mode was asked for"
    );
    // With a perf link the same cookie is fine.
    let l = tracepoint_getpid(
        &obj,
        TracepointOpts {
            cookie: 7,
            attach_mode: PerfAttachMode::Link,
        },
    )
    .unwrap();
    assert!(l.is_bpf_link());
}

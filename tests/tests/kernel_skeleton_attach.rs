//! `skel.attach()`: every program whose section names its target is
//! attached and its link kept in the skeleton; dropping the skeleton's link
//! detaches it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs_tests::require_root;
use bpf2rs_tests::skel::attach::AttachSkel;

/// Enters getpid(2): `std::process::id()` makes the syscall every time
/// (glibc does not cache the pid).
fn getpid() {
    let _ = std::process::id();
}

#[test]
fn attach_attaches_what_sections_name_and_keeps_the_links() {
    require_root();
    let mut open = AttachSkel::open().unwrap();
    open.rodata_mut().target_tgid = std::process::id();
    // This kernel has no kprobes; leave those programs out.
    for p in [
        &mut open.progs.kp_unlinkat,
        &mut open.progs.kp_multi,
        &mut open.progs.kretp_unlinkat,
    ] {
        p.set_autoload(false);
    }
    let mut skel = open.load().unwrap();
    skel.attach().unwrap();
    assert!(
        skel.links.tp_getpid.is_some(),
        "tracepoint section names its target"
    );
    assert!(
        skel.links.raw_sys_enter.is_some(),
        "raw_tp section names its target"
    );
    assert!(
        skel.links.xdp_count.is_none(),
        "xdp needs an interface from the caller"
    );
    assert!(skel.links.kp_unlinkat.is_none(), "not loaded, not attached");
    for _ in 0..5 {
        getpid();
    }
    let hits = skel.bss().unwrap().hits;
    assert!(hits[0] >= 5, "tracepoint hits {}", hits[0]);
    assert!(hits[1] >= 5, "raw_tp hits {}", hits[1]);
    skel.links.tp_getpid = None; // detach
    let before = skel.bss().unwrap().hits[0];
    getpid();
    assert_eq!(
        skel.bss().unwrap().hits[0],
        before,
        "no hits after the link is dropped"
    );
}

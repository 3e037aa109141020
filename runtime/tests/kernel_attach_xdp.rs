//! XDP attached through netlink (RTM_SETLINK), the way kernels without XDP
//! links (before 5.9) need, forced here with `XdpAttachMode::Netlink`: the
//! program counts traffic on lo, shows in the interface's netlink state,
//! can be replaced, refuses to displace another program, and is gone when
//! the link is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_attach_util;

use bpf2rs::link::{LinkError, XdpAttachMode, XdpFlags, XdpOpts};
use bpf2rs::sys::netlink::RtNetlink;
use kernel_attach_util::*;

/// lo has one XDP slot, and these tests read what is in it: one at a time.
static LO: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What netlink says is attached to lo: (program id, XDP_ATTACHED_* mode).
fn lo_xdp() -> Option<(u32, u8)> {
    RtNetlink::open().unwrap().xdp_program(1).unwrap()
}

#[test]
fn xdp_through_netlink_counts_updates_refuses_a_second_and_detaches_on_drop() {
    let _lo = LO.lock().unwrap_or_else(|e| e.into_inner());
    let obj = load("attach.bpf.o");
    let prog = obj.program("xdp_count").unwrap();
    let netlink = XdpOpts {
        flags: XdpFlags::SKB_MODE,
        mode: XdpAttachMode::Netlink,
    };
    let link = attach_xdp_lo(prog, netlink);
    assert_eq!(link.xdp_netlink(), Some(1));
    // Generic mode (XDP_ATTACHED_SKB), our program.
    assert_eq!(lo_xdp(), Some((prog.id().unwrap(), 2)));
    match link.info() {
        Err(LinkError::NotBpfLink { reason, .. }) => assert_eq!(
            reason,
            "XDP attached through netlink is not a BPF link and has no link info (see \
             Link::tc_filter)"
        ),
        other => panic!("{other:?}"),
    }
    assert!(wait_hits(&obj, 6, udp_roundtrip) > 0, "xdp never ran");

    // Another program is not put in its place by a second attach.
    let other = load("attach.bpf.o");
    let second = other.program("xdp_count").unwrap();
    let err = second.attach_xdp_with(1, netlink).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EBUSY), "{err}");
    assert_eq!(lo_xdp(), Some((prog.id().unwrap(), 2)));

    // update() swaps the program in place.
    link.update(second).unwrap();
    assert_eq!(lo_xdp(), Some((second.id().unwrap(), 2)));
    assert!(
        wait_hits(&other, 6, udp_roundtrip) > 0,
        "the new program never ran"
    );

    drop(link);
    assert_eq!(lo_xdp(), None, "detached on drop");
    assert_detached(&other, 6, udp_roundtrip);
}

#[test]
fn xdp_through_netlink_detach_reports_and_auto_uses_a_link_where_there_are_links() {
    let _lo = LO.lock().unwrap_or_else(|e| e.into_inner());
    let obj = load("attach.bpf.o");
    let prog = obj.program("xdp_count").unwrap();
    let link = attach_xdp_lo(
        prog,
        XdpOpts {
            flags: XdpFlags::SKB_MODE,
            mode: XdpAttachMode::Netlink,
        },
    );
    link.detach().unwrap();
    assert_eq!(lo_xdp(), None);

    // Every kernel the tests run on (6.1 and later) has XDP links.
    let link = attach_xdp_lo(prog, XdpOpts::default());
    assert_eq!(link.xdp_netlink(), None);
    assert_eq!(link.info().unwrap().link_type, 6, "an xdp link");
    drop(link);
    assert_eq!(lo_xdp(), None);
}

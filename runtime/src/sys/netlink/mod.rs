//! rtnetlink for tc and XDP: the `clsact` qdisc of an interface and the
//! `bpf` classifiers on its ingress and egress hooks, and the interface's
//! XDP program, over a NETLINK_ROUTE socket. What libbpf's
//! `bpf_tc_hook_create`, `bpf_tc_attach`, `bpf_tc_detach`, `bpf_tc_query`
//! and `bpf_xdp_attach`/`bpf_xdp_query_id` do, for kernels without tcx or
//! XDP links.
//!
//! In: an ifindex, a parent ([`TC_PARENT_INGRESS`] or [`TC_PARENT_EGRESS`]),
//! a program fd. Out: the filter the kernel made (priority, handle), the
//! filters of a hook, or a [`SysError`] carrying the errno and, when the
//! kernel gave one, its extended-ack message ([`KernelMessage`]).
//!
//! Replies are parsed with checked lengths (`wire.rs`): a short or
//! inconsistent message is an error, never a panic.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{Result, SysError};

mod wire;

use wire::{
    filter_info, parse_error, parse_filter, parse_link_xdp, read_i32, split_msg, Ack, Msg, TcMsg,
};

/// `TC_H_CLSACT` (include/uapi/linux/pkt_sched.h): the clsact qdisc's
/// parent, `ffff:fff1`.
pub const TC_H_CLSACT: u32 = 0xFFFF_FFF1;
/// The clsact ingress hook, `ffff:fff2` (`TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)`).
pub const TC_PARENT_INGRESS: u32 = 0xFFFF_FFF2;
/// The clsact egress hook, `ffff:fff3` (`TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)`).
pub const TC_PARENT_EGRESS: u32 = 0xFFFF_FFF3;
/// The clsact qdisc's own handle, `ffff:0`.
const CLSACT_HANDLE: u32 = 0xFFFF_0000;

// include/uapi/linux/rtnetlink.h
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const RTM_NEWQDISC: u16 = 36;
const RTM_NEWTFILTER: u16 = 44;
const RTM_DELTFILTER: u16 = 45;
const RTM_GETTFILTER: u16 = 46;

// include/uapi/linux/netlink.h
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_ECHO: u16 = 0x8;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
/// On an NLMSG_ERROR: the original request's payload is left out.
const NLM_F_CAPPED: u16 = 0x100;
/// On an NLMSG_ERROR: extended-ack attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLA_TYPE_MASK: u16 = 0x3FFF;
const NLA_F_NESTED: u16 = 1 << 15;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

// include/uapi/linux/rtnetlink.h, pkt_cls.h
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_BPF_FD: u16 = 6;
const TCA_BPF_NAME: u16 = 7;
const TCA_BPF_FLAGS: u16 = 8;
const TCA_BPF_ID: u16 = 11;
/// `TCA_BPF_FLAG_ACT_DIRECT`: the program's return value is the tc action
/// (`tc ... bpf da`), as every libbpf and tcx program expects.
pub const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;
/// `ETH_P_ALL` (include/uapi/linux/if_ether.h): every protocol.
pub const ETH_P_ALL: u16 = 0x0003;

const NLMSG_HDR_LEN: usize = 16;
const TCMSG_LEN: usize = 20;
/// How long to wait for the kernel's answer before giving up.
const RECV_TIMEOUT_SECS: libc::time_t = 10;

/// An errno together with the kernel's extended-ack message
/// (`NLMSGERR_ATTR_MSG`), e.g. `File exists (os error 17): Filter already
/// exists`. [`SysError::errno`] sees through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelMessage {
    pub errno: i32,
    pub message: String,
}

impl std::fmt::Display for KernelMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let os = io::Error::from_raw_os_error(self.errno);
        write!(f, "{os}: {}", self.message)
    }
}

impl std::error::Error for KernelMessage {}

/// A `bpf` classifier to create (or replace) on a clsact hook.
#[derive(Debug)]
pub struct BpfFilter<'a> {
    pub ifindex: u32,
    /// [`TC_PARENT_INGRESS`] or [`TC_PARENT_EGRESS`].
    pub parent: u32,
    /// 1..=65535; 0 lets the kernel choose (49152 for the first filter).
    pub priority: u16,
    /// 0 lets the kernel choose.
    pub handle: u32,
    pub prog_fd: BorrowedFd<'a>,
    /// What `tc filter show` prints (`TCA_BPF_NAME`), e.g. `prog:[42]`.
    pub name: &'a str,
    /// Replace the filter at `priority`/`handle` (both needed) instead of
    /// creating a new one.
    pub replace: bool,
}

/// Where a filter is: enough to delete it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterId {
    pub ifindex: u32,
    pub parent: u32,
    pub priority: u16,
    pub handle: u32,
}

/// One entry of a hook's filter dump (`tc filter show`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FilterInfo {
    pub priority: u16,
    /// Host byte order (`ETH_P_ALL` is 3).
    pub protocol: u16,
    /// 0 for the entry that only names a priority's classifier kind.
    pub handle: u32,
    /// The classifier kind (`bpf`, `u32`, `flower`, ...).
    pub kind: String,
    /// `bpf` only: `TCA_BPF_NAME`.
    pub name: Option<String>,
    /// `bpf` only: the program's id (`TCA_BPF_ID`, Linux 4.13+).
    pub prog_id: Option<u32>,
    /// `bpf` only: direct action.
    pub direct_action: bool,
}

/// A NETLINK_ROUTE socket that asks the kernel one thing at a time.
///
/// Keep it for the life of the filters it made: it stays in the network
/// namespace it was opened in, so removing them later reaches the same
/// interfaces even if the thread has moved to another namespace.
#[derive(Debug)]
pub struct RtNetlink {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl RtNetlink {
    /// Opens a NETLINK_ROUTE socket with extended acks on.
    pub fn open() -> Result<RtNetlink> {
        // SAFETY: socket(2) takes no pointers.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(SysError::last("socket(NETLINK_ROUTE)"));
        }
        // SAFETY: socket(2) returned a new fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // Both options are best effort: kernels before 4.12 have no
        // extended acks, and the error parser handles uncapped acks.
        let _ = set_int_opt(fd.as_fd(), SOL_NETLINK, NETLINK_EXT_ACK, 1);
        let _ = set_int_opt(fd.as_fd(), SOL_NETLINK, NETLINK_CAP_ACK, 1);
        set_recv_timeout(fd.as_fd(), RECV_TIMEOUT_SECS)?;
        Ok(RtNetlink {
            fd,
            seq: 0,
            buf: Vec::new(),
        })
    }

    /// Adds a clsact qdisc to `ifindex`. `Ok(true)` when this call created
    /// it, `Ok(false)` when one was already there (EEXIST).
    pub fn add_clsact(&mut self, ifindex: u32) -> Result<bool> {
        const OP: &str = "RTM_NEWQDISC clsact";
        let mut m = Msg::new(
            RTM_NEWQDISC,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            self.next_seq(),
            &TcMsg {
                ifindex,
                handle: CLSACT_HANDLE,
                parent: TC_H_CLSACT,
                info: 0,
            },
        );
        m.attr_str(TCA_KIND, "clsact");
        match self.request(OP, m, |_, _| Ok(())) {
            Ok(()) => Ok(true),
            Err(e) if e.errno() == Some(libc::EEXIST) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates (or replaces) a direct-action `bpf` filter, and returns where
    /// the kernel put it: the priority and handle it chose when asked to.
    pub fn attach_bpf_filter(&mut self, f: &BpfFilter<'_>) -> Result<FilterId> {
        const OP: &str = "RTM_NEWTFILTER bpf";
        if f.replace && (f.priority == 0 || f.handle == 0) {
            return Err(SysError::invalid(
                OP,
                "replacing a filter needs its priority and handle".into(),
            ));
        }
        let flags = NLM_F_REQUEST
            | NLM_F_ACK
            | NLM_F_ECHO
            | NLM_F_CREATE
            | if f.replace { NLM_F_REPLACE } else { NLM_F_EXCL };
        let mut m = Msg::new(
            RTM_NEWTFILTER,
            flags,
            self.next_seq(),
            &TcMsg {
                ifindex: f.ifindex,
                handle: f.handle,
                parent: f.parent,
                info: filter_info(f.priority),
            },
        );
        m.attr_str(TCA_KIND, "bpf");
        let nest = m.nest_begin(TCA_OPTIONS);
        m.attr_u32(TCA_BPF_FD, f.prog_fd.as_raw_fd() as u32);
        m.attr_str(TCA_BPF_NAME, f.name);
        m.attr_u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
        m.nest_end(nest);
        // NLM_F_ECHO: the kernel sends the new filter back (before the ack).
        let mut made = None;
        self.request(OP, m, |msg_type, payload| {
            if msg_type == RTM_NEWTFILTER {
                if let Some(t) = TcMsg::parse(payload) {
                    made = Some(t);
                }
            }
            Ok(())
        })?;
        let t = made.ok_or_else(|| {
            SysError::invalid(OP, "the kernel did not echo the new filter".into())
        })?;
        Ok(FilterId {
            ifindex: f.ifindex,
            parent: f.parent,
            priority: (t.info >> 16) as u16,
            handle: t.handle,
        })
    }

    /// Removes a `bpf` filter.
    pub fn delete_filter(&mut self, id: &FilterId) -> Result<()> {
        let mut m = Msg::new(
            RTM_DELTFILTER,
            NLM_F_REQUEST | NLM_F_ACK,
            self.next_seq(),
            &TcMsg {
                ifindex: id.ifindex,
                handle: id.handle,
                parent: id.parent,
                info: filter_info(id.priority),
            },
        );
        m.attr_str(TCA_KIND, "bpf");
        self.request("RTM_DELTFILTER bpf", m, |_, _| Ok(()))
    }

    /// The filters on hook `parent` of `ifindex` (RTM_GETTFILTER dump).
    pub fn filters(&mut self, ifindex: u32, parent: u32) -> Result<Vec<FilterInfo>> {
        const OP: &str = "RTM_GETTFILTER";
        let m = Msg::new(
            RTM_GETTFILTER,
            NLM_F_REQUEST | NLM_F_DUMP,
            self.next_seq(),
            &TcMsg {
                ifindex,
                handle: 0,
                parent,
                info: 0,
            },
        );
        let mut out = Vec::new();
        self.request(OP, m, |msg_type, payload| {
            if msg_type == RTM_NEWTFILTER {
                out.push(parse_filter(payload).ok_or_else(|| {
                    SysError::invalid(OP, "a filter in the dump is cut short".into())
                })?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Attaches the XDP program `prog_fd` to `ifindex`, or with `None`
    /// detaches the one there (RTM_SETLINK with IFLA_XDP: what kernels
    /// before XDP links, Linux 5.9, offer). `flags` are `XDP_FLAGS_*`; for
    /// a detach they must name the mode the program was attached in.
    pub fn set_xdp(
        &mut self,
        ifindex: u32,
        prog_fd: Option<BorrowedFd<'_>>,
        flags: u32,
    ) -> Result<()> {
        const IFLA_XDP: u16 = 43;
        const IFLA_XDP_FD: u16 = 1;
        const IFLA_XDP_FLAGS: u16 = 3;
        let op = if prog_fd.is_some() {
            "RTM_SETLINK xdp attach"
        } else {
            "RTM_SETLINK xdp detach"
        };
        let mut m = Msg::link(
            RTM_SETLINK,
            NLM_F_REQUEST | NLM_F_ACK,
            self.next_seq(),
            ifindex,
        );
        let nest = m.nest_begin(IFLA_XDP);
        let fd = prog_fd.map_or(-1, |f| f.as_raw_fd());
        m.attr_u32(IFLA_XDP_FD, fd as u32);
        if flags != 0 {
            m.attr_u32(IFLA_XDP_FLAGS, flags);
        }
        m.nest_end(nest);
        self.request(op, m, |_, _| Ok(()))
    }

    /// The XDP program attached to `ifindex` through any means: its id and
    /// `XDP_ATTACHED_*` mode (1 driver, 2 generic, 3 hardware, 4 several),
    /// or `None` when there is none.
    pub fn xdp_program(&mut self, ifindex: u32) -> Result<Option<(u32, u8)>> {
        const OP: &str = "RTM_GETLINK";
        // With NLM_F_ACK the link comes, then the ack that ends the request.
        let m = Msg::link(
            RTM_GETLINK,
            NLM_F_REQUEST | NLM_F_ACK,
            self.next_seq(),
            ifindex,
        );
        let mut found = None;
        self.request(OP, m, |msg_type, payload| {
            if msg_type == RTM_NEWLINK {
                found = Some(parse_link_xdp(payload).ok_or_else(|| {
                    SysError::invalid(OP, "the link's XDP attributes are cut short".into())
                })?);
            }
            Ok(())
        })?;
        Ok(found.and_then(|(attached, id)| (attached != 0 && id != 0).then_some((id, attached))))
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends `m` and reads replies of its sequence number until the ack
    /// (NLMSG_ERROR with 0), an error, or NLMSG_DONE (dumps); every other
    /// message goes to `each` as (type, payload).
    fn request(
        &mut self,
        op: &'static str,
        m: Msg,
        mut each: impl FnMut(u16, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let seq = m.seq;
        let req = m.finish(op)?;
        self.send(op, &req)?;
        loop {
            let n = self.recv(op)?;
            let mut rest = &self.buf[..n];
            while !rest.is_empty() {
                let (hdr, payload, next) = split_msg(rest)
                    .ok_or_else(|| SysError::invalid(op, "malformed netlink reply".into()))?;
                rest = next;
                if hdr.seq != seq {
                    continue; // an answer to an earlier request
                }
                match hdr.msg_type {
                    NLMSG_ERROR => {
                        return match parse_error(hdr.flags, payload) {
                            Some(Ack::Ok) => Ok(()),
                            Some(Ack::Err(k)) => Err(kernel_error(op, k)),
                            None => Err(SysError::invalid(op, "short netlink error".into())),
                        };
                    }
                    NLMSG_DONE => {
                        // A failed dump says so in NLMSG_DONE's int.
                        return match read_i32(payload, 0) {
                            Some(e) if e < 0 => Err(kernel_error(
                                op,
                                KernelMessage {
                                    errno: -e,
                                    message: String::new(),
                                },
                            )),
                            _ => Ok(()),
                        };
                    }
                    t => each(t, payload)?,
                }
            }
        }
    }

    fn send(&self, op: &'static str, req: &[u8]) -> Result<()> {
        loop {
            // SAFETY: `req` is a live buffer of `req.len()` bytes the
            // kernel only reads.
            let r = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    req.as_ptr() as *const libc::c_void,
                    req.len(),
                    0,
                )
            };
            if r >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(SysError { op, source: e });
            }
        }
    }

    /// Receives one datagram into `self.buf`, sized first with
    /// MSG_PEEK|MSG_TRUNC (netlink reports the datagram's real length).
    fn recv(&mut self, op: &'static str) -> Result<usize> {
        let need = self.recv_raw(op, 0, libc::MSG_PEEK | libc::MSG_TRUNC)?;
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
        let len = self.buf.len();
        let n = self.recv_raw(op, len, 0)?;
        Ok(n.min(len))
    }

    fn recv_raw(&mut self, op: &'static str, len: usize, flags: libc::c_int) -> Result<usize> {
        debug_assert!(len <= self.buf.len());
        let len = len.min(self.buf.len());
        loop {
            // SAFETY: the kernel writes at most `len` bytes, and `self.buf`
            // holds at least `len` (0 with MSG_PEEK|MSG_TRUNC: no write).
            let r = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr() as *mut libc::c_void,
                    len,
                    flags,
                )
            };
            if r >= 0 {
                return Ok(r as usize);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    return Err(SysError {
                        op,
                        source: io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no answer from the kernel in {RECV_TIMEOUT_SECS} s"),
                        ),
                    })
                }
                _ => return Err(SysError { op, source: e }),
            }
        }
    }
}

fn set_int_opt(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> Result<()> {
    // SAFETY: the option value is a live c_int and we pass its size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(SysError::last("setsockopt(SOL_NETLINK)"));
    }
    Ok(())
}

fn set_recv_timeout(fd: BorrowedFd<'_>, secs: libc::time_t) -> Result<()> {
    let tv = libc::timeval {
        tv_sec: secs,
        tv_usec: 0,
    };
    // SAFETY: the option value is a live timeval and we pass its size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const libc::timeval as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(SysError::last("setsockopt(SO_RCVTIMEO)"));
    }
    Ok(())
}

fn kernel_error(op: &'static str, k: KernelMessage) -> SysError {
    let source = if k.message.is_empty() {
        io::Error::from_raw_os_error(k.errno)
    } else {
        io::Error::new(io::Error::from_raw_os_error(k.errno).kind(), k)
    };
    SysError { op, source }
}

/// The index of network interface `name` in the calling thread's network
/// namespace (`if_nametoindex(3)`, an ioctl on a socket).
pub fn interface_index(name: &str) -> Result<u32> {
    const OP: &str = "if_nametoindex";
    let c_name = std::ffi::CString::new(name)
        .map_err(|_| SysError::invalid(OP, format!("interface name {name:?} has a NUL byte")))?;
    // SAFETY: `c_name` is a NUL-terminated string that outlives the call;
    // if_nametoindex only reads it.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    if index == 0 {
        return Err(SysError::last(OP));
    }
    Ok(index)
}

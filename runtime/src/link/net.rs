//! Network attach points: XDP links on an interface, cgroup and netns
//! links, and socket filters (tc and tcx: `tc.rs`).
//!
//! In: a loaded program and an ifindex, a cgroup fd or a socket fd.
//! Out: a [`Link`] (socket filters: attached to the socket itself).

use std::os::fd::{AsRawFd, BorrowedFd};

use super::{Ctx, Link, LinkError};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;
use crate::sys::attach::{self as sys_attach, LinkCreate, LinkExtra};

/// XDP attach mode flags (`XDP_FLAGS_*`, include/uapi/linux/if_link.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XdpFlags(pub u32);

impl XdpFlags {
    /// Let the kernel choose: native (driver) mode when the driver has it,
    /// generic (skb) mode otherwise.
    pub const AUTO: XdpFlags = XdpFlags(0);
    /// Generic mode, on any interface (slower: after skb allocation).
    pub const SKB_MODE: XdpFlags = XdpFlags(1 << 1);
    /// Native mode in the driver; fails when the driver has none.
    pub const DRV_MODE: XdpFlags = XdpFlags(1 << 2);
    /// Offloaded to the NIC.
    pub const HW_MODE: XdpFlags = XdpFlags(1 << 3);
}

/// Where a tcx program goes among the interface's others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TcxAnchor {
    /// After every program already attached.
    #[default]
    Last,
    /// Before every program already attached.
    First,
}

/// The index of the network interface called `name` (`lo`, `eth0`), for
/// [`Program::attach_xdp`] and the tc attach calls.
///
/// ```no_run
/// let lo = bpf2rs::link::interface_index("lo")?;
/// assert_eq!(lo, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn interface_index(name: &str) -> Result<u32, std::io::Error> {
    crate::sys::netlink::interface_index(name).map_err(|e| {
        let why = match e.errno() {
            Some(libc::ENODEV) => "no such network interface".to_owned(),
            _ => e.source.to_string(),
        };
        std::io::Error::new(
            e.source.kind(),
            format!("network interface {name:?}: {why}"),
        )
    })
}

impl Program {
    /// Attaches a cgroup program (cgroup_skb, cgroup/sock, cgroup/connect4,
    /// sockops, cgroup/sysctl, ...) to the cgroup open at `cgroup` (a
    /// directory fd of cgroup v2). `attach_type` defaults to the program's
    /// expected attach type from its section.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), Box<dyn std::error::Error>> {
    /// let cg = std::fs::File::open("/sys/fs/cgroup/my.slice")?;
    /// use std::os::fd::AsFd;
    /// let _link = prog.attach_cgroup(cg.as_fd(), None)?;
    /// # Ok(()) }
    /// ```
    pub fn attach_cgroup(
        &self,
        cgroup: BorrowedFd<'_>,
        attach_type: Option<AttachType>,
    ) -> Result<Link, LinkError> {
        let target = format!("cgroup fd {}", cgroup.as_raw_fd());
        let ctx = Ctx {
            program: self.name(),
            kind: "cgroup",
            target: &target,
        };
        let Some(attach_type) = attach_type.or(self.expected_attach_type()) else {
            return Err(ctx.target(format!(
                "section {:?} names no attach type; pass one",
                self.section()
            )));
        };
        self.fd_link(&ctx, cgroup, attach_type)
    }

    /// Attaches a socket filter program to socket `sock` (SO_ATTACH_BPF).
    /// It stays attached until [`detach_socket_filter`] or the socket
    /// closes; there is no link.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::os::fd::AsFd;
    /// let sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// prog.attach_socket_filter(sock.as_fd())?;
    /// # Ok(()) }
    /// ```
    pub fn attach_socket_filter(&self, sock: BorrowedFd<'_>) -> Result<(), LinkError> {
        let target = format!("socket fd {}", sock.as_raw_fd());
        let ctx = Ctx {
            program: self.name(),
            kind: "socket filter",
            target: &target,
        };
        sys_attach::socket_attach_bpf(sock, self.fd()?).map_err(|e| ctx.sys(e))
    }
}

impl Program {
    /// Attaches an `sk_lookup` or `flow_dissector` program to the network
    /// namespace open at `netns` (e.g. `/proc/self/ns/net`).
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::os::fd::AsFd;
    /// let ns = std::fs::File::open("/proc/self/ns/net")?;
    /// let _link = prog.attach_netns(ns.as_fd())?;
    /// # Ok(()) }
    /// ```
    pub fn attach_netns(&self, netns: BorrowedFd<'_>) -> Result<Link, LinkError> {
        let target = format!("netns fd {}", netns.as_raw_fd());
        let ctx = Ctx {
            program: self.name(),
            kind: "netns",
            target: &target,
        };
        let attach_type = match self.prog_type() {
            ProgType::SK_LOOKUP => AttachType::SK_LOOKUP,
            ProgType::FLOW_DISSECTOR => AttachType::FLOW_DISSECTOR,
            other => {
                return Err(ctx.target(format!(
                    "the program is {other}, not sk_lookup or flow_dissector"
                )))
            }
        };
        self.fd_link(&ctx, netns, attach_type)
    }

    /// BPF_LINK_CREATE of this program on the object open at `target`
    /// (a cgroup or a network namespace), with no extra attributes.
    fn fd_link(
        &self,
        ctx: &Ctx<'_>,
        target: BorrowedFd<'_>,
        attach_type: AttachType,
    ) -> Result<Link, LinkError> {
        let fd = sys_attach::link_create(&LinkCreate {
            prog_fd: self.fd()?,
            target: target.as_raw_fd() as u32,
            attach_type: attach_type.0,
            flags: 0,
            extra: LinkExtra::None,
        })
        .map_err(|e| ctx.sys(e))?;
        Ok(Link::new(
            fd,
            format!("{attach_type} {} on {}", self.name(), ctx.target),
        ))
    }
}

/// Removes the BPF socket filter of `sock`.
pub fn detach_socket_filter(sock: BorrowedFd<'_>) -> Result<(), LinkError> {
    sys_attach::socket_detach_bpf(sock).map_err(|source| LinkError::Link {
        what: format!("socket filter of fd {}", sock.as_raw_fd()),
        op: "detach",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::interface_index;

    #[test]
    fn interface_index_of_lo_and_of_a_missing_interface() {
        assert_eq!(interface_index("lo").ok(), Some(1));
        let err = interface_index("bpf2rs-none0").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("network interface \"bpf2rs-none0\": no such network interface")
        );
        let err = interface_index("a\0b").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("NUL byte")));
    }
}

//! XDP on an interface: through a bpf_link (Linux 5.9+), or through netlink
//! (RTM_SETLINK with IFLA_XDP) where the kernel has no XDP links, or when
//! asked ([`XdpAttachMode::Netlink`]).
//!
//! In: a loaded XDP program, an ifindex, [`XdpOpts`]. Out: a [`Link`]; a
//! netlink attachment is undone when the link is dropped, unless another
//! program has replaced ours by then.

use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use super::{Ctx, Link, LinkError, XdpFlags};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;
use crate::sys::attach::{self as sys_attach, LinkCreate, LinkExtra};
use crate::sys::netlink::RtNetlink;
use crate::sys::SysError;

/// How [`Program::attach_xdp_with`] attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XdpAttachMode {
    /// A bpf_link where the kernel has XDP links (Linux 5.9+), else
    /// netlink, as libbpf's `bpf_xdp_attach` does. Learned from the first
    /// attach and remembered for the process.
    #[default]
    Auto,
    /// A bpf_link only.
    Link,
    /// Netlink only, even where XDP links exist.
    Netlink,
}

/// Options of [`Program::attach_xdp_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XdpOpts {
    pub flags: XdpFlags,
    pub mode: XdpAttachMode,
}

/// `XDP_FLAGS_UPDATE_IF_NOEXIST`: a netlink attach fails (EBUSY) rather
/// than replace a program already there, as a bpf_link does.
const UPDATE_IF_NOEXIST: u32 = 1;
/// The mode bits of `XDP_FLAGS_*` (skb, driver, hardware).
const MODES: u32 = XdpFlags::SKB_MODE.0 | XdpFlags::DRV_MODE.0 | XdpFlags::HW_MODE.0;

/// What `Auto` learned: 0 not yet, 1 XDP links, 2 netlink.
static LEARNED: AtomicU8 = AtomicU8::new(0);

impl Program {
    /// Attaches an XDP program to interface `ifindex` (with a bpf_link where
    /// the kernel has XDP links, else through netlink).
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// use bpf2rs::link::XdpFlags;
    /// let _link = prog.attach_xdp(1, XdpFlags::AUTO)?; // lo: generic mode
    /// # Ok(()) }
    /// ```
    pub fn attach_xdp(&self, ifindex: u32, flags: XdpFlags) -> Result<Link, LinkError> {
        self.attach_xdp_with(
            ifindex,
            XdpOpts {
                flags,
                mode: XdpAttachMode::Auto,
            },
        )
    }

    /// [`Program::attach_xdp`] with the way of attaching chosen.
    /// [`Link::xdp_netlink`] tells which was used.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// use bpf2rs::link::{XdpAttachMode, XdpFlags, XdpOpts};
    /// let opts = XdpOpts { flags: XdpFlags::SKB_MODE, mode: XdpAttachMode::Netlink };
    /// let link = prog.attach_xdp_with(1, opts)?;
    /// assert_eq!(link.xdp_netlink(), Some(1));
    /// # Ok(()) }
    /// ```
    pub fn attach_xdp_with(&self, ifindex: u32, opts: XdpOpts) -> Result<Link, LinkError> {
        let target = format!("ifindex {ifindex}");
        let ctx = Ctx {
            program: self.name(),
            kind: "xdp",
            target: &target,
        };
        if self.prog_type() != ProgType::XDP {
            return Err(ctx.target(format!("the program is {}, not xdp", self.prog_type())));
        }
        let prog_fd = self.fd()?;
        let what = format!("xdp {} on {target}", self.name());
        let by_netlink = |ctx: &Ctx<'_>| {
            NetlinkXdp::attach(self, prog_fd, ifindex, opts.flags.0)
                .map(|x| Link::new_xdp(x, what.clone()))
                .map_err(|e| ctx.sys(e))
        };
        let learned = LEARNED.load(Ordering::Relaxed);
        match opts.mode {
            XdpAttachMode::Netlink => return by_netlink(&ctx),
            XdpAttachMode::Auto if learned == 2 => return by_netlink(&ctx),
            XdpAttachMode::Auto | XdpAttachMode::Link => {}
        }
        let linked = sys_attach::link_create(&LinkCreate {
            prog_fd,
            target: ifindex,
            attach_type: AttachType::XDP.0,
            flags: opts.flags.0,
            extra: LinkExtra::None,
        });
        match linked {
            Ok(fd) => {
                LEARNED.store(1, Ordering::Relaxed);
                Ok(Link::new(fd, what))
            }
            // A kernel without XDP links does not know the attach type.
            Err(e)
                if opts.mode == XdpAttachMode::Auto
                    && learned == 0
                    && e.errno() == Some(libc::EINVAL) =>
            {
                let link = by_netlink(&ctx).map_err(|_| ctx.sys(e))?;
                LEARNED.store(2, Ordering::Relaxed);
                Ok(link)
            }
            Err(e) => Err(ctx.sys(e)),
        }
    }
}

/// An XDP program this process attached through netlink; detached on drop.
#[derive(Debug)]
pub(super) struct NetlinkXdp {
    /// The socket that attached it (same network namespace for the
    /// detach), and the id of the program attached now.
    sock: Mutex<(RtNetlink, u32)>,
    ifindex: u32,
    /// The mode bits it was attached with; a detach names the same mode.
    mode: u32,
    removed: bool,
}

impl NetlinkXdp {
    fn attach(
        prog: &Program,
        prog_fd: BorrowedFd<'_>,
        ifindex: u32,
        flags: u32,
    ) -> Result<NetlinkXdp, SysError> {
        let mut sock = RtNetlink::open()?;
        sock.set_xdp(ifindex, Some(prog_fd), flags | UPDATE_IF_NOEXIST)?;
        let id = prog.id().unwrap_or(0);
        Ok(NetlinkXdp {
            sock: Mutex::new((sock, id)),
            ifindex,
            mode: flags & MODES,
            removed: false,
        })
    }

    pub(super) fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Detaches now, reporting the kernel's answer.
    pub(super) fn remove(mut self) -> Result<(), SysError> {
        self.removed = true;
        self.detach()
    }

    /// Puts `prog` in our program's place.
    pub(super) fn replace(&self, prog: &Program, prog_fd: BorrowedFd<'_>) -> Result<(), SysError> {
        let mut guard = self.sock.lock().unwrap_or_else(|e| e.into_inner());
        let (sock, id) = &mut *guard;
        sock.set_xdp(self.ifindex, Some(prog_fd), self.mode)?;
        *id = prog.id().unwrap_or(0);
        Ok(())
    }

    /// Detaches the program if it is still ours.
    fn detach(&self) -> Result<(), SysError> {
        let mut guard = self.sock.lock().unwrap_or_else(|e| e.into_inner());
        let (sock, id) = &mut *guard;
        match sock.xdp_program(self.ifindex)? {
            Some((now, _)) if now == *id => sock.set_xdp(self.ifindex, None, self.mode),
            // Gone with its interface, detached, or replaced by another
            // program: not ours to remove.
            _ => Ok(()),
        }
    }
}

impl Drop for NetlinkXdp {
    fn drop(&mut self) {
        if !self.removed {
            // The interface may be gone, and the program with it.
            let _ = self.detach();
        }
    }
}

/// Why a netlink XDP attachment refuses the bpf_link operations.
pub(super) const NOT_A_BPF_LINK: &str = "XDP attached through netlink is not a BPF link";

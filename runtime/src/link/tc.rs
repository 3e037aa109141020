//! tc programs on an interface's ingress or egress: a tcx link where the
//! kernel has tcx (Linux 6.6+), else a direct-action `bpf` filter on the
//! interface's clsact qdisc made through netlink, as libbpf's
//! `bpf_tc_hook_create` + `bpf_tc_attach` do.
//!
//! In: a loaded sched_cls program, an ifindex, a direction and [`TcOpts`].
//! Out: a [`Link`]. A netlink filter is not a bpf_link: dropping the link
//! removes the filter (RTM_DELTFILTER); it cannot be pinned.
//!
//! The clsact qdisc stays when the last filter goes, even if this link
//! created it: removing it would also remove filters that others attached
//! after us, and checking that it is empty first is a race with them
//! (libbpf, aya and cilium/ebpf leave it too; `tc qdisc del dev X clsact`
//! removes it).

use std::os::fd::BorrowedFd;
use std::sync::Mutex;

use super::{Ctx, Link, LinkError, TcxAnchor};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;
use crate::sys::attach::{self as sys_attach, LinkCreate, LinkExtra};
use crate::sys::netlink::{BpfFilter, FilterId, RtNetlink, TC_PARENT_EGRESS, TC_PARENT_INGRESS};
use crate::sys::SysError;

/// How [`Program::attach_tc`] attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TcMode {
    /// tcx when the running kernel has it (probed once per process, see
    /// [`kernel_has_tcx`]), else a netlink clsact filter.
    #[default]
    Auto,
    /// A tcx link, or the kernel's error (Linux 6.6+).
    Tcx,
    /// A `bpf` filter on the clsact qdisc through netlink, even when the
    /// kernel has tcx (any kernel since 4.5).
    Netlink,
}

/// Options of [`Program::attach_tc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcOpts {
    pub mode: TcMode,
    /// tcx only: where among the interface's other tcx programs.
    pub anchor: TcxAnchor,
    /// Netlink only: the filter's priority (`tc ... pref`), 1..=65535;
    /// 0 lets the kernel choose (49152, or the one below the lowest taken).
    pub priority: u16,
    /// Netlink only: the filter's handle; 0 lets the kernel choose.
    pub handle: u32,
}

/// A tc filter attached through netlink ([`Link::tc_filter`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcFilter {
    pub ifindex: u32,
    pub egress: bool,
    /// The priority the filter has (`pref` in `tc filter show`).
    pub priority: u16,
    /// The filter's handle (`handle 0x..` in `tc filter show`).
    pub handle: u32,
    /// Whether attaching created the clsact qdisc (else it was there). It
    /// is left in place when the filter goes, either way.
    pub created_qdisc: bool,
}

impl Program {
    /// Attaches a tc (`sched_cls`) program to the ingress or egress of
    /// interface `ifindex`: with tcx where the kernel has it (Linux 6.6+),
    /// else, and with [`TcMode::Netlink`], as a direct-action `bpf` filter
    /// on the interface's clsact qdisc (created when missing), like
    /// `tc filter add dev X ingress bpf da` or libbpf's `bpf_tc_attach`.
    ///
    /// Either way the program's return value is the verdict
    /// (`TC_ACT_OK`, `TC_ACT_SHOT`, ...; `TCX_NEXT`, -1, lets the next
    /// program or filter run), and dropping the [`Link`] detaches it. A
    /// netlink filter is no bpf_link: [`Link::tc_filter`] says where it
    /// is, and [`Link::pin`] and [`Link::info`] refuse it.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// use bpf2rs::link::{TcMode, TcOpts};
    /// let _link = prog.attach_tc(1, false, TcOpts::default())?; // ingress of lo
    /// let forced = TcOpts { mode: TcMode::Netlink, ..Default::default() };
    /// let link = prog.attach_tc(1, true, forced)?; // egress, a clsact filter
    /// println!("{:?}", link.tc_filter());
    /// # Ok(()) }
    /// ```
    pub fn attach_tc(&self, ifindex: u32, egress: bool, opts: TcOpts) -> Result<Link, LinkError> {
        let target = direction_target(ifindex, egress);
        let ctx = Ctx {
            program: self.name(),
            kind: "tc",
            target: &target,
        };
        check_sched_cls(self, &ctx)?;
        let tcx = match opts.mode {
            TcMode::Tcx => true,
            TcMode::Netlink => false,
            // A probe that cannot tell (e.g. EPERM) leaves it to tcx,
            // whose own error then says what is wrong.
            TcMode::Auto => kernel_has_tcx().unwrap_or(true),
        };
        if tcx {
            return self.attach_tcx(ifindex, egress, opts.anchor);
        }
        let prog_fd = self.fd()?;
        let mut sock = RtNetlink::open().map_err(|e| ctx.sys(e))?;
        let created_qdisc = sock.add_clsact(ifindex).map_err(|e| ctx.sys(e))?;
        let name = filter_name(self);
        let id = sock
            .attach_bpf_filter(&BpfFilter {
                ifindex,
                parent: parent_of(egress),
                priority: opts.priority,
                handle: opts.handle,
                prog_fd,
                name: &name,
                replace: false,
            })
            .map_err(|e| ctx.sys(e))?;
        let filter = TcFilter {
            ifindex,
            egress,
            priority: id.priority,
            handle: id.handle,
            created_qdisc,
        };
        let what = format!(
            "tc {} on {target} (netlink filter pref {} handle {:#x})",
            self.name(),
            id.priority,
            id.handle
        );
        Ok(Link::new_tc(
            NetlinkFilter {
                sock: Mutex::new(sock),
                id,
                filter,
                removed: false,
            },
            what,
        ))
    }

    /// Attaches a tc program to interface `ifindex` with tcx (Linux 6.6+):
    /// ingress or egress as `egress` says. Several tcx programs run in
    /// order; a program returning `TCX_NEXT` (-1) lets the next one run.
    /// On older kernels this fails; [`Program::attach_tc`] falls back to
    /// a netlink clsact filter there.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// use bpf2rs::link::TcxAnchor;
    /// let _link = prog.attach_tcx(1, false, TcxAnchor::Last)?; // ingress of lo
    /// # Ok(()) }
    /// ```
    pub fn attach_tcx(
        &self,
        ifindex: u32,
        egress: bool,
        anchor: TcxAnchor,
    ) -> Result<Link, LinkError> {
        let target = direction_target(ifindex, egress);
        let ctx = Ctx {
            program: self.name(),
            kind: "tcx",
            target: &target,
        };
        check_sched_cls(self, &ctx)?;
        let attach_type = if egress {
            AttachType::TCX_EGRESS
        } else {
            AttachType::TCX_INGRESS
        };
        let fd = sys_attach::link_create(&LinkCreate {
            prog_fd: self.fd()?,
            target: ifindex,
            attach_type: attach_type.0,
            flags: match anchor {
                TcxAnchor::Last => 0,
                TcxAnchor::First => BPF_F_BEFORE,
            },
            extra: LinkExtra::Tcx {
                relative: 0,
                expected_revision: 0,
            },
        })
        .map_err(|e| {
            if e.errno() == Some(libc::EINVAL) && kernel_has_tcx().ok() == Some(false) {
                ctx.target(
                    "the kernel has no tcx (Linux 6.6+); Program::attach_tc attaches \
                     through a netlink clsact filter there",
                )
            } else {
                ctx.sys(e)
            }
        })?;
        Ok(Link::new(fd, format!("tcx {} on {target}", self.name())))
    }
}

/// `BPF_F_BEFORE` (include/uapi/linux/bpf.h); no flag appends.
const BPF_F_BEFORE: u32 = 1 << 3;

fn direction_target(ifindex: u32, egress: bool) -> String {
    let dir = if egress { "egress" } else { "ingress" };
    format!("{dir} of ifindex {ifindex}")
}

fn parent_of(egress: bool) -> u32 {
    if egress {
        TC_PARENT_EGRESS
    } else {
        TC_PARENT_INGRESS
    }
}

fn check_sched_cls(prog: &Program, ctx: &Ctx<'_>) -> Result<(), LinkError> {
    if prog.prog_type() != ProgType::SCHED_CLS {
        return Err(ctx.target(format!(
            "the program is {}, not sched_cls",
            prog.prog_type()
        )));
    }
    Ok(())
}

/// `TCA_BPF_NAME` as libbpf writes it: `name:[id]`.
fn filter_name(prog: &Program) -> String {
    match prog.id() {
        Ok(id) => format!("{}:[{id}]", prog.name()),
        Err(_) => prog.name().to_owned(),
    }
}

/// A `bpf` filter this process attached through netlink; removed on drop.
#[derive(Debug)]
pub(super) struct NetlinkFilter {
    /// The socket that made it, so that removal happens in the same
    /// network namespace. A mutex: one request at a time per socket.
    sock: Mutex<RtNetlink>,
    id: FilterId,
    filter: TcFilter,
    removed: bool,
}

/// Why a netlink filter refuses the bpf_link operations.
pub(super) const NOT_A_BPF_LINK: &str = "a tc filter attached through netlink is not a BPF link";

impl NetlinkFilter {
    pub(super) fn filter(&self) -> TcFilter {
        self.filter
    }

    /// RTM_DELTFILTER now, reporting the kernel's answer.
    pub(super) fn remove(mut self) -> Result<(), SysError> {
        self.removed = true;
        self.delete()
    }

    /// Puts `prog` in the filter's place (same priority and handle).
    pub(super) fn replace(&self, prog: &Program, prog_fd: BorrowedFd<'_>) -> Result<(), SysError> {
        let name = filter_name(prog);
        let mut sock = self.sock.lock().unwrap_or_else(|e| e.into_inner());
        sock.attach_bpf_filter(&BpfFilter {
            ifindex: self.id.ifindex,
            parent: self.id.parent,
            priority: self.id.priority,
            handle: self.id.handle,
            prog_fd,
            name: &name,
            replace: true,
        })
        .map(|_| ())
    }

    fn delete(&self) -> Result<(), SysError> {
        let mut sock = self.sock.lock().unwrap_or_else(|e| e.into_inner());
        sock.delete_filter(&self.id)
    }
}

impl Drop for NetlinkFilter {
    fn drop(&mut self) {
        if !self.removed {
            // Nothing to report to: the interface may be gone (and its
            // filters with it), which is fine.
            let _ = self.delete();
        }
    }
}

/// Whether the running kernel has tcx (Linux 6.6+), probed once per
/// process ([`crate::probe::has_tcx_link`]); an errno other than the two
/// telling ones (EPERM without CAP_BPF/CAP_NET_ADMIN) is returned.
///
/// ```no_run
/// if bpf2rs::link::kernel_has_tcx()? {
///     println!("tc programs attach with tcx links");
/// }
/// # Ok::<(), bpf2rs::sys::SysError>(())
/// ```
pub fn kernel_has_tcx() -> Result<bool, SysError> {
    crate::probe::has_tcx_link()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_stay_send_and_sync_with_a_netlink_filter_inside() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Link>();
    }

    #[test]
    fn hooks_and_targets() {
        assert_eq!(parent_of(false), 0xFFFF_FFF2, "ffff:fff2");
        assert_eq!(parent_of(true), 0xFFFF_FFF3, "ffff:fff3");
        assert_eq!(direction_target(3, true), "egress of ifindex 3");
    }
}

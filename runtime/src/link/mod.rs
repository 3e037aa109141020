//! Attaching loaded programs to the kernel, and the links that keep them
//! attached.
//!
//! In: a loaded [`Program`] and a target (an interface, a symbol, a
//! tracepoint, a cgroup, ...). Out: a [`Link`] (an owned bpf_link fd: the
//! program detaches when the last fd closes, unless the link is pinned; or
//! a tc filter attached through netlink, removed when the link drops).
//!
//! - network: [`Program::attach_xdp`], [`Program::attach_tc`] (tcx, or a
//!   netlink clsact filter where the kernel has no tcx),
//!   [`Program::attach_tcx`], [`Program::attach_cgroup`],
//!   [`Program::attach_netns`], [`Program::attach_socket_filter`];
//! - probes: [`Program::attach_kprobe`], [`Program::attach_kprobe_multi`],
//!   [`Program::attach_uprobe`], [`Program::attach_uprobe_multi`],
//!   [`Program::attach_tracepoint`] (these and [`Program::attach_perf_event`]
//!   bind the program to a perf event: with a BPF perf link, or by ioctl on
//!   kernels without perf links; see [`PerfAttachMode`]);
//! - tracing: [`Program::attach_raw_tracepoint`], [`Program::attach_tracing`]
//!   (tp_btf, fentry, fexit, fmod_ret, lsm), [`Program::attach_perf_event`],
//!   [`Program::attach_iter`] and [`Link::read_iter`];
//! - [`attach_auto`]: whatever the section name says, like libbpf's
//!   `bpf_program__attach`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let obj = bpf2rs::load::OpenObject::open_file("trace.bpf.o")?.load()?;
//! let mut links = Vec::new();
//! for prog in obj.programs() {
//!     if let Some(link) = bpf2rs::link::attach_auto(prog)? {
//!         links.push(link);
//!     }
//! }
//! // Dropping `links` detaches every program.
//! # Ok(()) }
//! ```

mod net;
mod perf_attach;
mod probe;
mod target_path;
mod tc;
mod tracefs;
mod tracing;
mod uprobe;
mod usdt;
mod usdt_by_ip;
mod xdp;

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::obj::{section_def, AttachKind};
use crate::prog::{ProgError, Program};
use crate::sys::{self, SysError};

pub use crate::usdt::notes::{
    parse_usdt_args, usdt_notes, usdt_notes_in, UsdtArg, UsdtLocation, UsdtNote,
};
pub use net::{detach_socket_filter, interface_index, TcxAnchor, XdpFlags};
pub use perf_attach::{kernel_has_perf_links, PerfAttachMode};
pub use probe::{KprobeOpts, TracepointOpts};
pub use target_path::resolve_target;
pub use tc::{kernel_has_tcx, TcFilter, TcMode, TcOpts};
pub use uprobe::{symbol_file_offset, UprobeOpts, UprobeTarget};
pub use usdt::UsdtOpts;
pub use xdp::{XdpAttachMode, XdpOpts};

/// An attach or link operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The kernel refused (or the system call failed).
    #[error("program {program}: attach {kind} to {target}: {source}")]
    Attach {
        program: String,
        kind: &'static str,
        target: String,
        #[source]
        source: SysError,
    },
    /// The target could not be resolved or the program cannot attach there.
    #[error("program {program}: attach {kind} to {target}: {reason}")]
    Target {
        program: String,
        kind: &'static str,
        target: String,
        reason: String,
    },
    /// The program is not loaded.
    #[error(transparent)]
    Program(#[from] ProgError),
    /// Registering a struct_ops map ([`crate::struct_ops::StructOpsMap::register`]).
    #[error("{object}: struct_ops map {map} (struct {type_name}): {op}: {source}")]
    StructOps {
        object: String,
        map: String,
        type_name: String,
        op: &'static str,
        #[source]
        source: SysError,
    },
    /// An operation on an existing link.
    #[error("link {what}: {op}: {source}")]
    Link {
        what: String,
        op: &'static str,
        #[source]
        source: SysError,
    },
    /// An operation only a bpf_link has (pin, info, fd, iterators), on a
    /// tc filter attached through netlink ([`Program::attach_tc`]).
    #[error("link {what}: {op}: {reason}")]
    NotBpfLink {
        what: String,
        op: &'static str,
        reason: String,
    },
}

impl LinkError {
    /// The errno, when the kernel returned one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            LinkError::Attach { source, .. }
            | LinkError::Link { source, .. }
            | LinkError::StructOps { source, .. } => source.errno(),
            LinkError::Program(p) => p.source.errno(),
            LinkError::Target { .. } | LinkError::NotBpfLink { .. } => None,
        }
    }
}

/// Context for errors of one attach call.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    program: &'a str,
    kind: &'static str,
    target: &'a str,
}

impl Ctx<'_> {
    fn sys(&self, source: SysError) -> LinkError {
        LinkError::Attach {
            program: self.program.to_owned(),
            kind: self.kind,
            target: self.target.to_owned(),
            source,
        }
    }

    fn target(&self, reason: impl Into<String>) -> LinkError {
        LinkError::Target {
            program: self.program.to_owned(),
            kind: self.kind,
            target: self.target.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A program attached to something. Dropping it closes the link fd, which
/// detaches the program unless the link was pinned (or its fd duplicated).
///
/// A tc program attached through netlink where the kernel has no tcx
/// ([`Program::attach_tc`]) is a filter, not a bpf_link: dropping the link
/// removes the filter, and the bpf_link operations (pin, info, fd,
/// iterators) say that they do not apply.
///
/// One `Link` may own several kernel links: a `usdt` or `uprobe.multi`
/// program attached with one uprobe per site, on kernels without
/// `uprobe_multi` links (before Linux 6.6) or when asked to
/// ([`ProgSettings::set_uprobe_multi`](crate::load::ProgSettings::set_uprobe_multi)).
/// Dropping it detaches them all.
///
/// A kprobe, uprobe, tracepoint or perf_event program attached by ioctl
/// ([`PerfAttachMode::Ioctl`], or a kernel without BPF perf links) is held
/// as its perf event's fd instead; dropping it disables the event and
/// closes the fd. Such a link cannot be pinned, updated or asked for
/// [`Link::info`] ([`Link::is_bpf_link`] says which kind this is).
#[derive(Debug)]
pub struct Link {
    // Fields drop in this order: the kernel links go before the USDT spec
    // slots they read are freed.
    kind: LinkKind,
    /// What was attached where, for errors (`xdp on ifindex 1`).
    what: String,
    /// A USDT link's spec slots, freed with the link.
    usdt: Option<crate::usdt::spec::SpecSlots>,
}

#[derive(Debug)]
enum LinkKind {
    /// A bpf_link (or, for old-style attachments, the fd that holds it),
    /// and the other kernel links of a link made of several.
    Fd { fd: OwnedFd, more: Vec<OwnedFd> },
    /// A tc filter attached through netlink (boxed: most links are fds).
    TcFilter(Box<tc::NetlinkFilter>),
    /// An XDP program attached through netlink.
    XdpNetlink(Box<xdp::NetlinkXdp>),
    /// A perf event with the program set on it by PERF_EVENT_IOC_SET_BPF.
    PerfIoctl(sys::perf_event::PerfEventBpf),
}

/// What the kernel says about a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkInfo {
    pub id: u32,
    /// `enum bpf_link_type` (1 raw_tracepoint, 2 tracing, 3 cgroup, 4 iter,
    /// 6 xdp, 7 perf_event, 8 kprobe_multi, 11 tcx, ...).
    pub link_type: u32,
    pub prog_id: u32,
}

impl Link {
    pub(crate) fn new(fd: OwnedFd, what: String) -> Link {
        Link {
            kind: LinkKind::Fd {
                fd,
                more: Vec::new(),
            },
            what,
            usdt: None,
        }
    }

    fn perf_ioctl(attached: sys::perf_event::PerfEventBpf, what: String) -> Link {
        Link {
            kind: LinkKind::PerfIoctl(attached),
            what,
            usdt: None,
        }
    }

    fn new_xdp(attached: xdp::NetlinkXdp, what: String) -> Link {
        Link {
            kind: LinkKind::XdpNetlink(Box::new(attached)),
            what,
            usdt: None,
        }
    }

    fn new_tc(filter: tc::NetlinkFilter, what: String) -> Link {
        Link {
            kind: LinkKind::TcFilter(Box::new(filter)),
            what,
            usdt: None,
        }
    }

    /// A link made of the kernel links `fds`; `None` when there are none.
    fn group(fds: Vec<OwnedFd>, what: String) -> Option<Link> {
        let mut fds = fds.into_iter();
        let first = fds.next()?;
        let mut link = Link::new(first, what);
        if let LinkKind::Fd { more, .. } = &mut link.kind {
            more.extend(fds);
        }
        Some(link)
    }

    /// Wraps the fd of an existing bpf_link.
    pub fn from_fd(fd: OwnedFd) -> Link {
        Link::new(fd, "from fd".into())
    }

    /// Opens a link pinned at `path` in bpffs. The program stays attached
    /// as long as the pin or any link fd exists.
    ///
    /// ```no_run
    /// let link = bpf2rs::link::Link::from_pin("/sys/fs/bpf/my_link")?;
    /// println!("{:?}", link.info()?);
    /// # Ok::<(), bpf2rs::link::LinkError>(())
    /// ```
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Link, LinkError> {
        let what = path.as_ref().display().to_string();
        let c = c_path(&what, path.as_ref(), "BPF_OBJ_GET")?;
        let fd = sys::obj_get(&c).map_err(|source| LinkError::Link {
            what: what.clone(),
            op: "from_pin",
            source,
        })?;
        Ok(Link::new(fd, what))
    }

    /// Opens the link with kernel id `id` (as `bpftool link` lists them).
    /// ENOENT once the link is gone.
    ///
    /// ```no_run
    /// let link = bpf2rs::link::Link::from_id(42)?;
    /// println!("{:?}", link.info()?);
    /// # Ok::<(), bpf2rs::link::LinkError>(())
    /// ```
    pub fn from_id(id: u32) -> Result<Link, LinkError> {
        let what = format!("id {id}");
        let fd = sys::attach::link_fd_by_id(id).map_err(|source| LinkError::Link {
            what: what.clone(),
            op: "from_id",
            source,
        })?;
        Ok(Link::new(fd, what))
    }

    /// The link's fd: a bpf_link (the first one's, for a link made of
    /// several), or the perf event of a program attached by ioctl; an error
    /// for a tc filter attached through netlink, which has none.
    pub fn fd(&self) -> Result<BorrowedFd<'_>, LinkError> {
        match &self.kind {
            LinkKind::PerfIoctl(p) => Ok(p.fd()),
            _ => self.bpf_fd("fd", "has no fd"),
        }
    }

    /// Whether this is a bpf_link; false for a program attached to its perf
    /// event by ioctl ([`PerfAttachMode`]) and for a tc filter attached
    /// through netlink.
    pub fn is_bpf_link(&self) -> bool {
        matches!(self.kind, LinkKind::Fd { .. })
    }

    /// Where the filter is, for a tc program attached through netlink
    /// ([`Program::attach_tc`] on a kernel without tcx, or forced);
    /// `None` for a bpf_link.
    pub fn tc_filter(&self) -> Option<TcFilter> {
        match &self.kind {
            LinkKind::TcFilter(f) => Some(f.filter()),
            LinkKind::Fd { .. } | LinkKind::PerfIoctl(_) | LinkKind::XdpNetlink(_) => None,
        }
    }

    /// For XDP attached through netlink (no XDP links in the kernel, or
    /// [`XdpAttachMode::Netlink`]): the interface's index.
    pub fn xdp_netlink(&self) -> Option<u32> {
        match &self.kind {
            LinkKind::XdpNetlink(x) => Some(x.ifindex()),
            _ => None,
        }
    }

    /// The fds of every kernel link this link owns: one, or one per probe
    /// site for a `usdt` or `uprobe.multi` program attached one uprobe per
    /// site.
    ///
    /// ```no_run
    /// # fn f(link: &bpf2rs::link::Link) -> Result<(), bpf2rs::link::LinkError> {
    /// println!("{} kernel links", link.fds().count());
    /// # Ok(()) }
    /// ```
    pub fn fds(&self) -> impl Iterator<Item = BorrowedFd<'_>> {
        let (first, more): (Option<BorrowedFd<'_>>, &[OwnedFd]) = match &self.kind {
            LinkKind::Fd { fd, more } => (Some(fd.as_fd()), more),
            LinkKind::PerfIoctl(p) => (Some(p.fd()), &[]),
            LinkKind::TcFilter(_) | LinkKind::XdpNetlink(_) => (None, &[]),
        };
        first.into_iter().chain(more.iter().map(AsFd::as_fd))
    }

    /// Gives up ownership: the program stays attached while the fd is open.
    /// A tc filter attached through netlink has no fd: the link comes back
    /// as the error, still attached.
    ///
    /// A USDT link's spec slots stay taken for the rest of the process: the
    /// fd may keep the probes attached. A link made of several keeps the
    /// others open for the rest of the process too; [`Link::into_fds`]
    /// gives them all.
    pub fn into_fd(self) -> Result<OwnedFd, Link> {
        let (fd, more) = match self.kind {
            LinkKind::Fd { fd, more } => (fd, more),
            LinkKind::PerfIoctl(p) => (p.into_fd(), Vec::new()),
            kind @ (LinkKind::TcFilter(_) | LinkKind::XdpNetlink(_)) => {
                return Err(Link { kind, ..self })
            }
        };
        if let Some(slots) = &self.usdt {
            slots.keep();
        }
        for other in more {
            // Kept attached, as the caller asked: closing would detach.
            let _ = std::os::fd::IntoRawFd::into_raw_fd(other);
        }
        Ok(fd)
    }

    /// Gives up ownership of every kernel link (see [`Link::fds`]): the
    /// program stays attached while they are open. A USDT link's spec slots
    /// stay taken for the rest of the process.
    /// A tc filter attached through netlink has no fd: the link comes back
    /// as the error, still attached.
    pub fn into_fds(self) -> Result<Vec<OwnedFd>, Link> {
        let (fd, mut more) = match self.kind {
            LinkKind::Fd { fd, more } => (fd, more),
            LinkKind::PerfIoctl(p) => (p.into_fd(), Vec::new()),
            kind @ (LinkKind::TcFilter(_) | LinkKind::XdpNetlink(_)) => {
                return Err(Link { kind, ..self })
            }
        };
        if let Some(slots) = &self.usdt {
            slots.keep();
        }
        let mut fds = Vec::with_capacity(1 + more.len());
        fds.push(fd);
        fds.append(&mut more);
        Ok(fds)
    }

    /// Pins the link at `path` in bpffs, so that the program stays attached
    /// after this process drops the link (remove the file to detach).
    /// A tc filter attached through netlink cannot be pinned, nor can a
    /// link made of several (see [`Link::fds`]) as one: an error says so.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), LinkError> {
        let fd = self.bpf_fd("pin", "cannot be pinned")?;
        if let LinkKind::Fd { more, .. } = &self.kind {
            if !more.is_empty() {
                return Err(LinkError::Link {
                    what: self.what.clone(),
                    op: "pin",
                    source: SysError {
                        op: "BPF_OBJ_PIN",
                        source: std::io::Error::new(
                            std::io::ErrorKind::Unsupported,
                            format!(
                                "the link is {} kernel links (one uprobe per site, for lack of \
                                 uprobe_multi); pin their fds (Link::fds) one by one",
                                1 + more.len()
                            ),
                        ),
                    },
                });
            }
        }
        let c = c_path(&self.what, path.as_ref(), "BPF_OBJ_PIN")?;
        sys::obj_pin(fd, &c).map_err(self.err("pin"))?;
        // The pinned link may outlive this handle: its USDT specs stay.
        if let Some(slots) = &self.usdt {
            slots.keep();
        }
        Ok(())
    }

    /// Detaches the program now, even if the link is pinned or shared
    /// (BPF_LINK_DETACH), then closes the fd. Only some link types support
    /// it (xdp, tcx, cgroup, netns, netfilter, netkit, sockmap); the others
    /// (perf event, raw tracepoint, tracing, iter) answer EOPNOTSUPP and
    /// detach when their last fd and pin are gone. A link made of several
    /// detaches each (the first error is returned); a tc filter attached
    /// through netlink is removed (RTM_DELTFILTER).
    pub fn detach(self) -> Result<(), LinkError> {
        match self.kind {
            LinkKind::Fd { ref fd, ref more } => {
                let mut result = Ok(());
                for fd in std::iter::once(fd).chain(more) {
                    let r = sys::attach::link_detach(fd.as_fd()).map_err(self.err("detach"));
                    result = result.and(r);
                }
                result
            }
            LinkKind::TcFilter(f) => f.remove().map_err(|source| LinkError::Link {
                what: self.what,
                op: "detach",
                source,
            }),
            LinkKind::XdpNetlink(x) => x.remove().map_err(|source| LinkError::Link {
                what: self.what,
                op: "detach",
                source,
            }),
            // As on drop: the event is disabled and its fd closed.
            LinkKind::PerfIoctl(p) => {
                drop(p);
                Ok(())
            }
        }
    }

    /// Replaces the attached program with `prog` without a gap (in each
    /// kernel link of a link made of several, the first error returned; for
    /// a tc filter attached through netlink: at the same priority and
    /// handle).
    pub fn update(&self, prog: &Program) -> Result<(), LinkError> {
        let prog_fd = prog.fd()?;
        match &self.kind {
            LinkKind::Fd { .. } => {
                let mut result = Ok(());
                for fd in self.fds() {
                    let r = sys::attach::link_update(fd, prog_fd).map_err(self.err("update"));
                    result = result.and(r);
                }
                result
            }
            LinkKind::TcFilter(f) => f.replace(prog, prog_fd).map_err(self.err("update")),
            LinkKind::XdpNetlink(x) => x.replace(prog, prog_fd).map_err(self.err("update")),
            LinkKind::PerfIoctl(_) => self.bpf_fd("update", "cannot be updated").map(drop),
        }
    }

    /// The link's id, type and program id (the first one's, for a link
    /// made of several). A tc filter attached through netlink has none:
    /// see [`Link::tc_filter`].
    pub fn info(&self) -> Result<LinkInfo, LinkError> {
        let fd = self.bpf_fd("info", "has no link info (see Link::tc_filter)")?;
        let raw = sys::attach::link_info(fd).map_err(self.err("info"))?;
        Ok(LinkInfo {
            id: raw.id,
            link_type: raw.link_type,
            prog_id: raw.prog_id,
        })
    }

    /// For an iterator link ([`Program::attach_iter`]): a new iteration
    /// whose `read`s run the program (BPF_ITER_CREATE).
    pub fn open_iter(&self) -> Result<File, LinkError> {
        let link = self.bpf_fd("iter_create", "is no iterator")?;
        let fd = sys::attach::iter_create(link).map_err(self.err("iter_create"))?;
        Ok(File::from(fd))
    }

    /// Runs an iterator link to the end and returns what it printed.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// let link = prog.attach_iter(None)?;
    /// let text = String::from_utf8_lossy(&link.read_iter()?).into_owned();
    /// # Ok(()) }
    /// ```
    pub fn read_iter(&self) -> Result<Vec<u8>, LinkError> {
        let mut f = self.open_iter()?;
        let mut out = Vec::new();
        f.read_to_end(&mut out).map_err(|e| LinkError::Link {
            what: self.what.clone(),
            op: "read iterator",
            source: SysError {
                op: "read",
                source: e,
            },
        })?;
        Ok(out)
    }

    /// The bpf_link fd, or why `op` does not apply to a netlink tc filter.
    fn bpf_fd(&self, op: &'static str, why: &str) -> Result<BorrowedFd<'_>, LinkError> {
        match &self.kind {
            LinkKind::Fd { fd, .. } => Ok(fd.as_fd()),
            LinkKind::TcFilter(_) => Err(LinkError::NotBpfLink {
                what: self.what.clone(),
                op,
                reason: format!("{} and {why}", tc::NOT_A_BPF_LINK),
            }),
            LinkKind::XdpNetlink(_) => Err(LinkError::NotBpfLink {
                what: self.what.clone(),
                op,
                reason: format!("{} and {why}", xdp::NOT_A_BPF_LINK),
            }),
            LinkKind::PerfIoctl(_) => Err(LinkError::NotBpfLink {
                what: self.what.clone(),
                op,
                reason: "the program was attached to its perf event by ioctl: there is no bpf_link"
                    .into(),
            }),
        }
    }

    fn err(&self, op: &'static str) -> impl FnOnce(SysError) -> LinkError + '_ {
        move |source| LinkError::Link {
            what: self.what.clone(),
            op,
            source,
        }
    }
}

fn c_path(what: &str, path: &Path, op: &'static str) -> Result<CString, LinkError> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| LinkError::Link {
        what: what.to_owned(),
        op: "pin path",
        source: SysError {
            op,
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "path contains a NUL byte",
            ),
        },
    })
}

/// Attaches `prog` where its section name says (libbpf's conventions):
/// `kprobe/SYM`, `kretprobe/SYM`, `kprobe.multi/GLOB`, `ksyscall/NAME`,
/// `uprobe/PATH:SYM[+OFF]`, `uprobe.multi/PATH:GLOB`, `usdt/PATH:PROVIDER:NAME`,
/// `tracepoint/CAT/NAME` (`tp/`),
/// `raw_tp/NAME` (`raw_tracepoint/`), `tp_btf/`, `fentry/`, `fexit/`,
/// `fmod_ret/`, `lsm/` and `iter/`.
///
/// `Ok(None)` when the section names no target the program can attach to
/// by itself (xdp, tc, cgroup, socket, perf_event, a bare `kprobe`...):
/// attach those with the `attach_*` method for their kind. Also `Ok(None)`
/// for a program that was not loaded (autoload off), as libbpf's
/// skeletons skip them.
///
/// ```no_run
/// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
/// match bpf2rs::link::attach_auto(prog)? {
///     Some(link) => println!("attached: {:?}", link.info()?),
///     None => println!("{} needs a target", prog.name()),
/// }
/// # Ok(()) }
/// ```
pub fn attach_auto(prog: &Program) -> Result<Option<Link>, LinkError> {
    if !prog.is_loaded() {
        return Ok(None);
    }
    let Some(def) = section_def(prog.section()) else {
        return Ok(None);
    };
    let target = def.attach_target.as_deref();
    let link = match (def.attach, target) {
        (AttachKind::Kprobe, Some(t)) => {
            let (sym, offset) = probe::split_symbol_offset(t);
            prog.attach_kprobe(
                sym,
                KprobeOpts {
                    offset,
                    ..Default::default()
                },
            )?
        }
        (AttachKind::Kretprobe, Some(t)) => prog.attach_kprobe(
            t,
            KprobeOpts {
                retprobe: true,
                ..Default::default()
            },
        )?,
        (AttachKind::KprobeMulti, Some(t)) => prog.attach_kprobe_multi(&[t], false)?,
        (AttachKind::KretprobeMulti, Some(t)) => prog.attach_kprobe_multi(&[t], true)?,
        (AttachKind::Ksyscall, Some(t)) => prog.attach_ksyscall(t, false)?,
        (AttachKind::Kretsyscall, Some(t)) => prog.attach_ksyscall(t, true)?,
        (AttachKind::Uprobe | AttachKind::Uretprobe, Some(t)) => {
            let retprobe = def.attach == AttachKind::Uretprobe;
            match uprobe::parse_section_target(t) {
                Some((path, target)) => prog.attach_uprobe(
                    path,
                    target,
                    UprobeOpts {
                        retprobe,
                        ..Default::default()
                    },
                )?,
                None => return Ok(None),
            }
        }
        (AttachKind::UprobeMulti | AttachKind::UretprobeMulti, Some(t)) => {
            match t.rsplit_once(':') {
                Some((path, pattern)) if !path.is_empty() && !pattern.is_empty() => prog
                    .attach_uprobe_multi(
                        path,
                        &[pattern],
                        def.attach == AttachKind::UretprobeMulti,
                        None,
                    )?,
                _ => return Ok(None),
            }
        }
        (AttachKind::Usdt, Some(t)) => {
            let mut parts = t.rsplitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(name), Some(provider), Some(path))
                    if !path.is_empty() && !provider.is_empty() && !name.is_empty() =>
                {
                    prog.attach_usdt(path, provider, name, UsdtOpts::default())?
                }
                _ => return Ok(None),
            }
        }
        (AttachKind::Tracepoint, Some(t)) => match t.split_once('/') {
            Some((cat, name)) => prog.attach_tracepoint(cat, name)?,
            None => return Ok(None),
        },
        (AttachKind::RawTracepoint, Some(t)) => prog.attach_raw_tracepoint(t)?,
        (AttachKind::Tracing, Some(_)) => prog.attach_tracing()?,
        (AttachKind::Iter, Some(_)) => prog.attach_iter(None)?,
        _ => return Ok(None),
    };
    Ok(Some(link))
}

impl Program {
    /// [`attach_auto`] as a method.
    pub fn attach_auto(&self) -> Result<Option<Link>, LinkError> {
        attach_auto(self)
    }
}

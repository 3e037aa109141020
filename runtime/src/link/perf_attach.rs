//! Binding a program to a perf event (kprobe, uprobe, tracepoint,
//! perf_event): a BPF perf link (BPF_LINK_CREATE, Linux 5.15+), or the older
//! PERF_EVENT_IOC_SET_BPF + PERF_EVENT_IOC_ENABLE on the event's fd that
//! libbpf falls back to on kernels without perf links; and the probe that
//! tells which this kernel has.
//!
//! In: a loaded program, a perf event fd, a cookie and a
//! [`PerfAttachMode`]. Out: a [`Link`] (a bpf_link, or the perf event fd
//! itself for the ioctl path).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use super::{Ctx, Link, LinkError};
use crate::obj::AttachType;
use crate::prog::Program;
use crate::sys;
use crate::sys::attach::{self as sys_attach, LinkCreate, LinkExtra};
use crate::sys::perf_event::PerfEventBpf;

/// How a kprobe, uprobe, tracepoint or perf_event program is bound to its
/// perf event (the `attach_mode` of [`KprobeOpts`](super::KprobeOpts),
/// [`UprobeOpts`](super::UprobeOpts) and
/// [`TracepointOpts`](super::TracepointOpts)).
///
/// ```no_run
/// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
/// use bpf2rs::link::{KprobeOpts, PerfAttachMode};
/// // The pre-5.15 way, even on a kernel with perf links.
/// let link = prog.attach_kprobe(
///     "do_unlinkat",
///     KprobeOpts { attach_mode: PerfAttachMode::Ioctl, ..Default::default() },
/// )?;
/// assert!(!link.is_bpf_link());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PerfAttachMode {
    /// A perf link when the kernel has them ([`kernel_has_perf_links`]),
    /// otherwise the ioctl; what libbpf does.
    #[default]
    Auto,
    /// Always a BPF perf link (BPF_LINK_CREATE with BPF_PERF_EVENT): an
    /// error on kernels before 5.15.
    Link,
    /// Always PERF_EVENT_IOC_SET_BPF + PERF_EVENT_IOC_ENABLE on the event's
    /// fd, which the [`Link`] then owns (dropping it disables the event and
    /// closes the fd). No bpf_link: no cookie (a non-zero one is an error),
    /// no pin, no [`Link::info`].
    Ioctl,
}

/// Which of the two ways an attach takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Link,
    Ioctl,
}

impl PerfAttachMode {
    /// The way to attach; `has_links` is asked only for `Auto`.
    fn path(self, has_links: impl FnOnce() -> bool) -> Path {
        match self {
            PerfAttachMode::Link => Path::Link,
            PerfAttachMode::Ioctl => Path::Ioctl,
            PerfAttachMode::Auto if has_links() => Path::Link,
            PerfAttachMode::Auto => Path::Ioctl,
        }
    }
}

/// Whether this kernel has BPF perf links (BPF_LINK_CREATE on a perf event
/// fd, Linux 5.15+), probed once per process
/// ([`crate::probe::has_perf_link`]).
///
/// ```no_run
/// println!("perf links: {}", bpf2rs::link::kernel_has_perf_links());
/// ```
pub fn kernel_has_perf_links() -> bool {
    crate::probe::has_perf_link()
}

/// Opens a perf event with `open` and binds `prog` to it (kprobes,
/// uprobes, tracepoints: the event exists only for this program, and the
/// link owns it). The mode and cookie are checked before the event is
/// opened.
pub(super) fn attach_new_event(
    prog: &Program,
    ctx: Ctx<'_>,
    cookie: u64,
    mode: PerfAttachMode,
    open: impl FnOnce() -> Result<OwnedFd, LinkError>,
) -> Result<Link, LinkError> {
    let path = checked_path(prog, ctx, cookie, mode)?;
    bind(prog, ctx, path, open()?.as_fd(), cookie)
}

/// Binds `prog` to a perf event the caller owns. The ioctl path sets the
/// program on the event itself (through a duplicate fd the link owns), so
/// it stays set until the caller's fd is closed too; dropping the link
/// disables the event.
pub(super) fn attach_borrowed_event(
    prog: &Program,
    ctx: Ctx<'_>,
    perf: BorrowedFd<'_>,
    cookie: u64,
    mode: PerfAttachMode,
) -> Result<Link, LinkError> {
    let path = checked_path(prog, ctx, cookie, mode)?;
    bind(prog, ctx, path, perf, cookie)
}

/// Binds `prog` to the perf event `perf` the way `path` says. A perf link
/// keeps the event alive by itself; the ioctl path sets the program on the
/// event through a duplicate fd the link owns (dropping the link disables
/// the event).
fn bind(
    prog: &Program,
    ctx: Ctx<'_>,
    path: Path,
    perf: BorrowedFd<'_>,
    cookie: u64,
) -> Result<Link, LinkError> {
    let what = format!("{} {} on {}", ctx.kind, prog.name(), ctx.target);
    match path {
        Path::Link => Ok(Link::new(perf_link_fd(prog, ctx, perf, cookie)?, what)),
        Path::Ioctl => {
            let dup = perf.try_clone_to_owned().map_err(|source| {
                ctx.sys(sys::SysError {
                    op: "dup(perf event fd)",
                    source,
                })
            })?;
            let attached = PerfEventBpf::attach(dup, prog.fd()?).map_err(|e| ctx.sys(e))?;
            Ok(Link::perf_ioctl(attached, what))
        }
    }
}

/// The path `mode` takes here; a cookie on the ioctl path is refused
/// before anything is opened in the kernel.
fn checked_path(
    prog: &Program,
    ctx: Ctx<'_>,
    cookie: u64,
    mode: PerfAttachMode,
) -> Result<Path, LinkError> {
    // Fail on an unloaded program before probing anything.
    prog.fd()?;
    let path = mode.path(kernel_has_perf_links);
    if path == Path::Ioctl && cookie != 0 {
        let why = match mode {
            PerfAttachMode::Ioctl => "the ioctl attach mode was asked for",
            _ => "this kernel has none",
        };
        return Err(ctx.target(format!(
            "cookie {cookie:#x} needs a BPF perf link (Linux 5.15+), and {why}"
        )));
    }
    Ok(path)
}

/// Binds `prog` to the perf event `perf` with a BPF_PERF_EVENT link and
/// returns the link's fd (which keeps the perf event alive).
pub(super) fn perf_link_fd(
    prog: &Program,
    ctx: Ctx<'_>,
    perf: BorrowedFd<'_>,
    cookie: u64,
) -> Result<OwnedFd, LinkError> {
    sys_attach::link_create(&LinkCreate {
        prog_fd: prog.fd()?,
        target: perf.as_raw_fd() as u32,
        attach_type: AttachType::PERF_EVENT.0,
        flags: 0,
        extra: LinkExtra::PerfEvent { cookie },
    })
    .map_err(|e| ctx.sys(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_asks_the_kernel_and_forced_modes_do_not() {
        let never = || -> bool { panic!("probed for a forced mode") };
        assert_eq!(PerfAttachMode::Link.path(never), Path::Link);
        assert_eq!(PerfAttachMode::Ioctl.path(never), Path::Ioctl);
        assert_eq!(PerfAttachMode::Auto.path(|| true), Path::Link);
        assert_eq!(PerfAttachMode::Auto.path(|| false), Path::Ioctl);
        assert_eq!(PerfAttachMode::default(), PerfAttachMode::Auto);
    }
}

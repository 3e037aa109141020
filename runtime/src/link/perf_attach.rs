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
use std::sync::OnceLock;

use super::{Ctx, Link, LinkError};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;
use crate::sys::link::{self as sys_link, LinkCreate, LinkExtra};
use crate::sys::perf_event::PerfEventBpf;
use crate::sys::{self, ProgLoad};

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
/// fd, Linux 5.15+). Probed once per process, like libbpf's
/// `probe_perf_link` (tools/lib/bpf/features.c): a two-instruction
/// tracepoint program is loaded and linked to perf event fd -1; a kernel
/// with perf links looks the fd up and answers EBADF, an older one refuses
/// the attach type or the command with EINVAL.
///
/// When the probe program cannot be loaded (no privileges), the answer is
/// `true` and is not cached: the real attach will then report the real
/// error.
///
/// ```no_run
/// println!("perf links: {}", bpf2rs::link::kernel_has_perf_links());
/// ```
pub fn kernel_has_perf_links() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    if let Some(known) = ANSWER.get() {
        return *known;
    }
    match probe_perf_link() {
        Some(answer) => *ANSWER.get_or_init(|| answer),
        None => true,
    }
}

/// `r0 = 0; exit`, in this machine's byte order.
fn return_zero() -> [u8; 16] {
    // BPF_ALU64 | BPF_MOV | BPF_K (0xb7) to r0, imm 0; BPF_JMP | BPF_EXIT (0x95).
    let mut insns = [0u8; 16];
    insns[0] = 0xb7;
    insns[8] = 0x95;
    insns
}

/// `Some(has perf links)`, or `None` when the probe program did not load.
fn probe_perf_link() -> Option<bool> {
    let insns = return_zero();
    let prog = sys::prog_load(
        &ProgLoad {
            name: "bpf2rs_perf_lnk",
            prog_type: ProgType::TRACEPOINT.0,
            insns: &insns,
            license: c"GPL",
            ..Default::default()
        },
        &mut [],
    )
    .ok()?;
    let r = sys_link::link_create(&LinkCreate {
        prog_fd: prog.as_fd(),
        target: u32::MAX, // fd -1
        attach_type: AttachType::PERF_EVENT.0,
        flags: 0,
        extra: LinkExtra::PerfEvent { cookie: 0 },
    });
    Some(matches!(r, Err(e) if e.errno() == Some(libc::EBADF)))
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
    let perf = open()?;
    let what = format!("{} {} on {}", ctx.kind, prog.name(), ctx.target);
    match path {
        Path::Link => perf_link(prog, ctx, perf.as_fd(), cookie, what),
        Path::Ioctl => {
            let attached = PerfEventBpf::attach(perf, prog.fd()?).map_err(|e| ctx.sys(e))?;
            Ok(Link::perf_ioctl(attached, what))
        }
    }
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
    let what = format!("{} {} on {}", ctx.kind, prog.name(), ctx.target);
    match checked_path(prog, ctx, cookie, mode)? {
        Path::Link => perf_link(prog, ctx, perf, cookie, what),
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

/// BPF_LINK_CREATE of a BPF_PERF_EVENT link.
fn perf_link(
    prog: &Program,
    ctx: Ctx<'_>,
    perf: BorrowedFd<'_>,
    cookie: u64,
    what: String,
) -> Result<Link, LinkError> {
    Ok(Link::new(perf_link_fd(prog, ctx, perf, cookie)?, what))
}

/// Binds `prog` to the perf event `perf` with a BPF_PERF_EVENT link and
/// returns the link's fd (which keeps the perf event alive).
pub(super) fn perf_link_fd(
    prog: &Program,
    ctx: Ctx<'_>,
    perf: BorrowedFd<'_>,
    cookie: u64,
) -> Result<OwnedFd, LinkError> {
    sys_link::link_create(&LinkCreate {
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

    #[test]
    fn the_probe_program_is_mov_r0_0_exit() {
        let insns = return_zero();
        assert_eq!(insns[0], 0xb7, "BPF_ALU64 | BPF_MOV | BPF_K");
        assert_eq!(insns[1], 0, "dst r0, src r0");
        assert_eq!(&insns[4..8], &[0; 4], "imm 0");
        assert_eq!(insns[8], 0x95, "BPF_JMP | BPF_EXIT");
    }
}

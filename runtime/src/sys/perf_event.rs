//! `perf_event_open` for attaching programs: kprobe/uprobe PMU events,
//! tracepoints and software/hardware events; the perf event ioctls that set
//! a program on an event without a bpf_link; and mounting tracefs.
//!
//! In: a [`PerfEventOpen`] with checked strings, or an event fd and a
//! program fd. Out: an owned perf event fd (the program is then bound to it
//! with BPF_LINK_CREATE), or a [`PerfEventBpf`] that owns an event with a
//! program set on it.

use std::ffi::CStr;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::{Result, SysError};

/// `struct perf_event_attr` up to `sig_data` (PERF_ATTR_SIZE_VER7, 128 bytes);
/// the kernel zero-fills what it knows beyond `size`. Shared with the perf
/// buffer's BPF output events in `events`.
#[repr(C)]
#[derive(Default)]
pub(super) struct PerfEventAttr {
    pub(super) type_: u32,
    pub(super) size: u32,
    pub(super) config: u64,
    /// `sample_period` or `sample_freq`.
    pub(super) sample_period: u64,
    pub(super) sample_type: u64,
    pub(super) read_format: u64,
    /// The bitfield word: disabled (bit 0), inherit (1), ... freq (10).
    pub(super) flags: u64,
    pub(super) wakeup_events: u32,
    pub(super) bp_type: u32,
    /// `config1` (`kprobe_func`, `uprobe_path`).
    pub(super) config1: u64,
    /// `config2` (`kprobe_addr`/offset, `probe_offset`).
    pub(super) config2: u64,
    pub(super) branch_sample_type: u64,
    pub(super) sample_regs_user: u64,
    pub(super) sample_stack_user: u32,
    pub(super) clockid: i32,
    pub(super) sample_regs_intr: u64,
    pub(super) aux_watermark: u32,
    pub(super) sample_max_stack: u16,
    pub(super) reserved_2: u16,
    pub(super) aux_sample_size: u32,
    pub(super) reserved_3: u32,
    pub(super) sig_data: u64,
}

const _: () = assert!(std::mem::size_of::<PerfEventAttr>() == 128);

/// `PERF_TYPE_*` (include/uapi/linux/perf_event.h).
pub const PERF_TYPE_HARDWARE: u32 = 0;
pub const PERF_TYPE_SOFTWARE: u32 = 1;
pub const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `PERF_COUNT_SW_CPU_CLOCK`.
pub const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;
const PERF_ATTR_FLAG_FREQ: u64 = 1 << 10;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;

/// `perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC)` with a filled
/// attr: the one place that makes the syscall. `attr.size` is set here.
pub(super) fn open_attr(
    mut attr: PerfEventAttr,
    pid: libc::c_int,
    cpu: libc::c_int,
) -> io::Result<OwnedFd> {
    attr.size = std::mem::size_of::<PerfEventAttr>() as u32;
    // SAFETY: `attr` is a live perf_event_attr of the size we pass in it;
    // pointers inside it (config1 strings) are kept alive by the caller.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            pid,
            cpu,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// What to open.
#[derive(Debug, Default)]
pub struct PerfEventOpen<'a> {
    /// PMU type: `PERF_TYPE_*` or a dynamic PMU's
    /// `/sys/bus/event_source/devices/<pmu>/type`.
    pub pmu_type: u32,
    pub config: u64,
    /// A C string the kernel reads through `config1` (kprobe symbol, uprobe path).
    pub config1_str: Option<&'a CStr>,
    /// `config2`: probe offset.
    pub config2: u64,
    /// Sample every N events (or N times a second with `freq`).
    pub sample_period: u64,
    pub freq: bool,
    /// -1: every process (with a CPU); 0: this process.
    pub pid: i32,
    /// -1: every CPU (with a pid).
    pub cpu: i32,
}

/// `perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC)`.
pub fn perf_event_open(p: &PerfEventOpen<'_>) -> Result<OwnedFd> {
    let attr = PerfEventAttr {
        type_: p.pmu_type,
        config: p.config,
        sample_period: p.sample_period,
        flags: if p.freq { PERF_ATTR_FLAG_FREQ } else { 0 },
        wakeup_events: 1,
        // The string outlives the call: `p` borrows it.
        config1: p.config1_str.map(|s| super::ptr(s.as_ptr())).unwrap_or(0),
        config2: p.config2,
        ..Default::default()
    };
    open_attr(attr, p.pid as libc::c_int, p.cpu as libc::c_int).map_err(|source| SysError {
        op: "perf_event_open",
        source,
    })
}

/// `PERF_EVENT_IOC_*` (include/uapi/linux/perf_event.h); libc's `_IO`/`_IOW`
/// give each architecture's encoding.
const PERF_EVENT_IOC_ENABLE: libc::Ioctl = libc::_IO(b'$' as u32, 0);
const PERF_EVENT_IOC_DISABLE: libc::Ioctl = libc::_IO(b'$' as u32, 1);
const PERF_EVENT_IOC_SET_BPF: libc::Ioctl = libc::_IOW::<u32>(b'$' as u32, 8);

/// `ioctl(fd, request, arg)` on a perf event.
fn perf_ioctl(
    fd: BorrowedFd<'_>,
    request: libc::Ioctl,
    arg: libc::c_int,
    op: &'static str,
) -> Result<()> {
    // SAFETY: `fd` is a live fd for the call, and these perf event requests
    // take an int argument by value (no pointer is passed).
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), request, arg) };
    if r < 0 {
        return Err(SysError::last(op));
    }
    Ok(())
}

/// A perf event with a BPF program set on it by PERF_EVENT_IOC_SET_BPF and
/// enabled: how programs were attached to kprobes, uprobes and tracepoints
/// before BPF perf links (Linux 5.15). Dropping it disables the event and
/// closes the fd, as libbpf's perf link detach does; the kernel releases
/// the program with the event's last fd.
#[derive(Debug)]
pub struct PerfEventBpf {
    fd: OwnedFd,
}

impl PerfEventBpf {
    /// PERF_EVENT_IOC_SET_BPF of `prog` on `event`, then
    /// PERF_EVENT_IOC_ENABLE. On error `event` is closed.
    pub fn attach(event: OwnedFd, prog: BorrowedFd<'_>) -> Result<PerfEventBpf> {
        perf_ioctl(
            event.as_fd(),
            PERF_EVENT_IOC_SET_BPF,
            prog.as_raw_fd(),
            "ioctl(PERF_EVENT_IOC_SET_BPF)",
        )?;
        // From here on a failure disables the event again on drop.
        let attached = PerfEventBpf { fd: event };
        perf_ioctl(
            attached.fd.as_fd(),
            PERF_EVENT_IOC_ENABLE,
            0,
            "ioctl(PERF_EVENT_IOC_ENABLE)",
        )?;
        Ok(attached)
    }

    /// The perf event's fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Gives up ownership without disabling the event: the program stays
    /// attached while the fd is open.
    pub fn into_fd(self) -> OwnedFd {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the fd is moved out of it
        // exactly once and closed only by the returned OwnedFd.
        unsafe { std::ptr::read(&this.fd) }
    }
}

impl Drop for PerfEventBpf {
    fn drop(&mut self) {
        // Nothing to report to: the close that follows detaches anyway
        // when this was the event's last fd.
        let _ = perf_ioctl(
            self.fd.as_fd(),
            PERF_EVENT_IOC_DISABLE,
            0,
            "ioctl(PERF_EVENT_IOC_DISABLE)",
        );
    }
}

/// Mounts tracefs at `/sys/kernel/tracing` (for tracepoint ids and
/// `available_filter_functions` when nothing mounted it).
pub fn mount_tracefs() -> io::Result<()> {
    let src = c"tracefs";
    let target = c"/sys/kernel/tracing";
    // SAFETY: NUL-terminated literals; no data argument.
    let r = unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            src.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        // Someone mounted it in the meantime.
        if e.raw_os_error() == Some(libc::EBUSY) {
            return Ok(());
        }
        return Err(e);
    }
    Ok(())
}

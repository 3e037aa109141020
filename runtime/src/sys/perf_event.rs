//! `perf_event_open` for attaching programs: kprobe/uprobe PMU events,
//! tracepoints and software/hardware events; and mounting tracefs.
//!
//! In: a [`PerfEventOpen`] with checked strings. Out: an owned perf event
//! fd (the program is then bound to it with BPF_LINK_CREATE).

use std::ffi::CStr;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::{Result, SysError};

/// `struct perf_event_attr` up to `sig_data` (PERF_ATTR_SIZE_VER7, 128 bytes);
/// the kernel zero-fills what it knows beyond `size`.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    /// `sample_period` or `sample_freq`.
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    /// The bitfield word: disabled (bit 0), inherit (1), ... freq (10).
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    /// `config1` (`kprobe_func`, `uprobe_path`).
    config1: u64,
    /// `config2` (`kprobe_addr`/offset, `probe_offset`).
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved_2: u16,
    aux_sample_size: u32,
    reserved_3: u32,
    sig_data: u64,
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
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config: p.config,
        sample_period: p.sample_period,
        flags: if p.freq { PERF_ATTR_FLAG_FREQ } else { 0 },
        wakeup_events: 1,
        config1: p.config1_str.map(|s| super::ptr(s.as_ptr())).unwrap_or(0),
        config2: p.config2,
        ..Default::default()
    };
    // SAFETY: `attr` is a live perf_event_attr of the size we pass in it;
    // the string behind config1 outlives the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            p.pid as libc::c_int,
            p.cpu as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(SysError::last("perf_event_open"));
    }
    // SAFETY: a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
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

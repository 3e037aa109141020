//! Probes of attach mechanisms: link types, BPF cookies and trampolines. A
//! two-instruction program is loaded and linked where the link must fail,
//! and the errno tells a kernel with the link type from one without.
//!
//! In: the running kernel. Out: the loader's `bool`s and the tri-state
//! answers [`super::Features`] reports. Every program and link a probe
//! creates is closed before it returns.

use std::os::fd::AsFd;
use std::sync::OnceLock;

use super::prog::{call, exit, load, load_with, return_zero, LoadAttrs};
use super::{cached, cached_support, lacks_privilege, Support};
use crate::btf::{Btf, Kind};
use crate::obj::{AttachType, ProgType};
use crate::sys::{attach as sys_attach, SysError};

/// Whether the kernel has `uprobe_multi` links (BPF_TRACE_UPROBE_MULTI,
/// Linux 6.6) with process (not thread) PID filtering, which the first
/// release did wrong: libbpf's `probe_uprobe_multi_link`, which counts a
/// kernel with the thread-filtering bug as without uprobe_multi.
///
/// ```no_run
/// println!("uprobe_multi links: {}", bpf2rs::probe::has_uprobe_multi_link());
/// ```
pub fn has_uprobe_multi_link() -> bool {
    uprobe_multi_link().is_yes()
}

/// [`has_uprobe_multi_link`], with "could not probe" kept apart.
pub(super) fn uprobe_multi_link() -> Support {
    static CACHE: OnceLock<Support> = OnceLock::new();
    cached_support(&CACHE, || Support::of(probe_uprobe_multi_link()))
}

/// Whether programs can read a BPF cookie set at attach time
/// (`bpf_get_attach_cookie()`, Linux 5.15): libbpf's
/// `probe_kern_bpf_cookie`.
///
/// ```no_run
/// println!("BPF cookies: {}", bpf2rs::probe::has_bpf_cookie());
/// ```
pub fn has_bpf_cookie() -> bool {
    bpf_cookie().is_yes()
}

/// [`has_bpf_cookie`], with "could not probe" kept apart.
pub(super) fn bpf_cookie() -> Support {
    static CACHE: OnceLock<Support> = OnceLock::new();
    cached_support(&CACHE, || {
        const BPF_FUNC_GET_ATTACH_COOKIE: i32 = 174;
        let insns = [call(BPF_FUNC_GET_ATTACH_COOKIE), exit()];
        Support::of(load(ProgType::TRACEPOINT, None, &insns).map(|_| true))
    })
}

fn probe_uprobe_multi_link() -> Result<bool, SysError> {
    let prog = load(
        ProgType::KPROBE,
        Some(AttachType::TRACE_UPROBE_MULTI),
        &return_zero(),
    )?;
    // A uprobe_multi link on the directory `/` fails with EBADF where the
    // kernel has such links (it is not a file it can probe); an older
    // kernel refuses the attach type first (EINVAL).
    let root = c"/";
    let offsets = [0u64];
    let create = |pid: u32| {
        sys_attach::link_create(&sys_attach::LinkCreate {
            prog_fd: prog.as_fd(),
            target: 0,
            attach_type: AttachType::TRACE_UPROBE_MULTI.0,
            flags: 0,
            extra: sys_attach::LinkExtra::UprobeMulti {
                path: root,
                offsets: &offsets,
                ref_ctr_offsets: None,
                cookies: None,
                flags: 0,
                pid,
            },
        })
    };
    match create(0) {
        Err(e) if e.errno() == Some(libc::EBADF) => {}
        Err(e) if lacks_privilege(&e) => return Err(e),
        // Created (then closed here), or refused for another reason.
        _ => return Ok(false),
    }
    // The first uprobe_multi kernels filtered by thread, not process. The
    // fixed ones refuse PID -1 early with EINVAL; the unfixed ones go on to
    // the path and answer EBADF again. Like libbpf, count the unfixed ones as without
    // uprobe_multi: whether a PID filter will be used is only known at
    // attach, long after `usdt` programs were loaded for one kind of link.
    Ok(matches!(create(u32::MAX), Err(e) if e.errno() == Some(libc::EINVAL)))
}

/// Whether the kernel has BPF perf links (BPF_LINK_CREATE on a perf event
/// fd, Linux 5.15+), like libbpf's `probe_perf_link`: a two-instruction
/// tracepoint program is linked to perf event fd -1; a kernel with perf
/// links looks the fd up and answers EBADF, an older one refuses the
/// attach type or the command with EINVAL.
///
/// When the probe program cannot be loaded (no privileges), the answer is
/// `true` and is not cached: the real attach then reports the real error.
///
/// ```no_run
/// println!("perf links: {}", bpf2rs::probe::has_perf_link());
/// ```
pub fn has_perf_link() -> bool {
    perf_link().unwrap_or(true)
}

/// [`has_perf_link`], or the error that kept the probe from running.
pub(super) fn perf_link() -> Result<bool, SysError> {
    static CACHE: OnceLock<bool> = OnceLock::new();
    let probe = || -> Result<bool, SysError> {
        let prog = load(ProgType::TRACEPOINT, None, &return_zero())?;
        let r = sys_attach::link_create(&sys_attach::LinkCreate {
            prog_fd: prog.as_fd(),
            target: u32::MAX, // fd -1
            attach_type: AttachType::PERF_EVENT.0,
            flags: 0,
            extra: sys_attach::LinkExtra::PerfEvent { cookie: 0 },
        });
        match r {
            Err(e) if e.errno() == Some(libc::EBADF) => Ok(true),
            Err(e) if lacks_privilege(&e) => Err(e),
            _ => Ok(false),
        }
    };
    cached(&CACHE, probe)
}

/// Whether the kernel has tcx links (Linux 6.6+): BPF_LINK_CREATE of a
/// two-instruction sched_cls program with BPF_TCX_INGRESS on interface 0,
/// which no kernel has. A kernel with tcx looks the interface up and
/// answers ENODEV; one without refuses the attach type with EINVAL (the
/// shape of libbpf's link probes and of cilium/ebpf's `haveTCX`). Another
/// errno (EPERM without CAP_BPF/CAP_NET_ADMIN) is returned, not cached.
///
/// ```no_run
/// if bpf2rs::probe::has_tcx_link()? {
///     println!("tc programs attach with tcx links");
/// }
/// # Ok::<(), bpf2rs::sys::SysError>(())
/// ```
pub fn has_tcx_link() -> Result<bool, SysError> {
    static CACHE: OnceLock<bool> = OnceLock::new();
    cached(&CACHE, || {
        let prog = load(ProgType::SCHED_CLS, None, &return_zero())?;
        let r = sys_attach::link_create(&sys_attach::LinkCreate {
            prog_fd: prog.as_fd(),
            target: 0,
            attach_type: AttachType::TCX_INGRESS.0,
            flags: 0,
            extra: sys_attach::LinkExtra::Tcx {
                relative: 0,
                expected_revision: 0,
            },
        });
        match r {
            // No interface 0 exists; were it ever to work, the link closes here.
            Ok(_link) => Ok(true),
            Err(e) => match e.errno() {
                Some(libc::ENODEV) => Ok(true),
                Some(libc::EINVAL) => Ok(false),
                _ => Err(e),
            },
        }
    })
}

/// XDP links (BPF_LINK_CREATE with BPF_XDP, Linux 5.9). The probe links an
/// XDP program to the loopback device (ifindex 1 in every network
/// namespace) in hardware-offload mode, which loopback has no driver hook
/// for: a kernel with XDP links gets as far as asking the driver and
/// answers EOPNOTSUPP ("Underlying driver does not support XDP in native
/// mode", net/core/dev.c `dev_xdp_attach`) without attaching anything; an
/// older one refuses the attach type with EINVAL.
pub(super) fn xdp_link() -> Support {
    static CACHE: OnceLock<Support> = OnceLock::new();
    cached_support(&CACHE, || {
        const LOOPBACK_IFINDEX: u32 = 1;
        const XDP_FLAGS_HW_MODE: u32 = 1 << 3;
        let probe = || -> Result<bool, SysError> {
            let prog = load(ProgType::XDP, Some(AttachType::XDP), &return_zero())?;
            let r = sys_attach::link_create(&sys_attach::LinkCreate {
                prog_fd: prog.as_fd(),
                target: LOOPBACK_IFINDEX,
                attach_type: AttachType::XDP.0,
                flags: XDP_FLAGS_HW_MODE,
                extra: sys_attach::LinkExtra::None,
            });
            match r {
                Ok(_link) => Ok(true),
                Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => Ok(true),
                Err(e) if lacks_privilege(&e) => Err(e),
                Err(_) => Ok(false),
            }
        };
        Support::of(probe())
    })
}

/// kprobe_multi links (BPF_TRACE_KPROBE_MULTI, Linux 5.18, on kernels
/// built with fprobe). The link names one kernel symbol that does not
/// exist: a kernel with such links looks it up and answers ESRCH (ENOENT
/// on some releases) without attaching anything; one without refuses the
/// attach type (EINVAL), or the link (EOPNOTSUPP without CONFIG_FPROBE).
pub(super) fn kprobe_multi_link() -> Support {
    static CACHE: OnceLock<Support> = OnceLock::new();
    cached_support(&CACHE, || {
        let probe = || -> Result<bool, SysError> {
            let prog = load(
                ProgType::KPROBE,
                Some(AttachType::TRACE_KPROBE_MULTI),
                &return_zero(),
            )?;
            let symbol = c"bpf2rs_probe_no_such_symbol";
            let syms = [symbol.as_ptr() as usize as u64];
            let r = sys_attach::link_create(&sys_attach::LinkCreate {
                prog_fd: prog.as_fd(),
                target: 0,
                attach_type: AttachType::TRACE_KPROBE_MULTI.0,
                flags: 0,
                extra: sys_attach::LinkExtra::KprobeMulti {
                    flags: 0,
                    syms: &syms,
                    cookies: None,
                },
            });
            match r {
                Ok(_link) => Ok(true),
                Err(e) if matches!(e.errno(), Some(libc::ESRCH | libc::ENOENT)) => Ok(true),
                Err(e) if lacks_privilege(&e) => Err(e),
                Err(_) => Ok(false),
            }
        };
        Support::of(probe())
    })
}

/// BPF trampolines (fentry/fexit/fmod_ret and lsm programs): an fentry
/// program is loaded against a kernel function from the kernel's BTF and
/// attached, then detached at once. Both steps must work: a kernel can
/// verify the program and still refuse the trampoline at attach (an
/// architecture or configuration without direct calls answers ENOTSUPP).
/// The function is `bpf_fentry_test1`, which only BPF_PROG_TEST_RUN calls,
/// so the moment it is attached traces nothing. Without kernel BTF there
/// are no trampolines.
pub(super) fn trampolines() -> Support {
    static CACHE: OnceLock<Support> = OnceLock::new();
    cached_support(&CACHE, || {
        let Ok(vmlinux) = Btf::from_sys_fs() else {
            return Support::No;
        };
        let Ok(target) = vmlinux.find_by_name("bpf_fentry_test1", Kind::Func) else {
            // A kernel without the test function (CONFIG_NET=n) says
            // nothing about trampolines either way.
            return Support::Unknown;
        };
        let attrs = LoadAttrs {
            attach_btf_id: target.0,
            ..LoadAttrs::of(ProgType::TRACING).attach(AttachType::TRACE_FENTRY)
        };
        let probe = || -> Result<bool, SysError> {
            let prog = load_with(&attrs, "", &return_zero(), &mut [])?;
            match sys_attach::raw_tracepoint_open(prog.as_fd(), None) {
                Ok(_link) => Ok(true),
                Err(e) if lacks_privilege(&e) => Err(e),
                Err(_) => Ok(false),
            }
        };
        Support::of(probe())
    })
}

//! What the running kernel supports, found by trying it: a tiny program is
//! loaded (and sometimes attached where it must fail in a telling way),
//! as libbpf's `kernel_supports()` does (tools/lib/bpf/features.c). Each
//! probe runs once per process; its answer is cached.
//!
//! In: nothing but the running kernel. Out: `bool`s. A probe that cannot
//! run at all (no privilege to load a program) answers `false`, like
//! libbpf's; nothing it creates outlives the call.
//!
//! The loader and the attach functions ask these, so that an object written
//! for a new kernel still loads and attaches on an older one where libbpf's
//! would: `usdt` programs get per-site uprobes instead of one `uprobe_multi`
//! link before Linux 6.6, and `<bpf/usdt.bpf.h>` finds its spec by
//! instruction pointer instead of BPF cookie before Linux 5.15.
//!
//! ```no_run
//! if !bpf2rs::probe::has_uprobe_multi_link() {
//!     println!("USDT probes attach one uprobe per site on this kernel");
//! }
//! ```

use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::OnceLock;

use crate::obj::{AttachType, Insn, ProgType};
use crate::sys::{self, attach as sys_attach, SysError};

/// Whether the kernel has `uprobe_multi` links (BPF_TRACE_UPROBE_MULTI,
/// Linux 6.6) with process (not thread) PID filtering, which the first
/// release did wrong: libbpf's `probe_uprobe_multi_link`, which counts a
/// kernel with the thread-filtering bug as without uprobe_multi.
///
/// ```no_run
/// println!("uprobe_multi links: {}", bpf2rs::probe::has_uprobe_multi_link());
/// ```
pub fn has_uprobe_multi_link() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(probe_uprobe_multi_link)
}

/// Whether programs can read a BPF cookie set at attach time
/// (`bpf_get_attach_cookie()`, Linux 5.15): libbpf's
/// `probe_kern_bpf_cookie`.
///
/// ```no_run
/// println!("BPF cookies: {}", bpf2rs::probe::has_bpf_cookie());
/// ```
pub fn has_bpf_cookie() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| {
        const BPF_FUNC_GET_ATTACH_COOKIE: i32 = 174;
        load(
            ProgType::TRACEPOINT,
            None,
            &[call(BPF_FUNC_GET_ATTACH_COOKIE), exit()],
        )
        .is_ok()
    })
}

fn probe_uprobe_multi_link() -> bool {
    let Ok(prog) = load(
        ProgType::KPROBE,
        Some(AttachType::TRACE_UPROBE_MULTI),
        &return_zero(),
    ) else {
        return false;
    };
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
        // Created (then closed here), or refused for another reason.
        _ => return false,
    }
    // The first uprobe_multi kernels filtered by thread, not process. The
    // fixed ones refuse PID -1 early with EINVAL; the unfixed ones go on to
    // the path and answer EBADF again. Like libbpf, count the unfixed ones as without
    // uprobe_multi: whether a PID filter will be used is only known at
    // attach, long after `usdt` programs were loaded for one kind of link.
    matches!(create(u32::MAX), Err(e) if e.errno() == Some(libc::EINVAL))
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
        Ok(matches!(r, Err(e) if e.errno() == Some(libc::EBADF)))
    };
    cached(&CACHE, probe).unwrap_or(true)
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

/// `cell`'s answer, or `probe`'s, kept when it is one (an error, meaning
/// the probe could not tell, is returned and asked again next time).
fn cached(
    cell: &OnceLock<bool>,
    probe: impl FnOnce() -> Result<bool, SysError>,
) -> Result<bool, SysError> {
    if let Some(&known) = cell.get() {
        return Ok(known);
    }
    let answer = probe()?;
    Ok(*cell.get_or_init(|| answer))
}

/// Loads a probe program.
fn load(
    prog_type: ProgType,
    attach: Option<AttachType>,
    insns: &[Insn],
) -> Result<OwnedFd, SysError> {
    let insns: Vec<u8> = insns.iter().flat_map(|i| i.to_native_bytes()).collect();
    let license: &CStr = c"GPL";
    sys::prog_load(
        &sys::ProgLoad {
            name: "",
            prog_type: prog_type.0,
            expected_attach_type: attach.map_or(0, |a| a.0),
            insns: &insns,
            license,
            ..Default::default()
        },
        &mut [],
    )
}

/// `r0 = 0; exit`.
fn return_zero() -> [Insn; 2] {
    [mov64_imm(0, 0), exit()]
}

/// `r{dst} = imm` (BPF_ALU64 | BPF_MOV | BPF_K).
fn mov64_imm(dst: u8, imm: i32) -> Insn {
    Insn {
        code: 0xb7,
        dst_reg: dst,
        imm,
        ..Default::default()
    }
}

/// A call of helper `id` (BPF_JMP | BPF_CALL).
fn call(id: i32) -> Insn {
    Insn {
        code: 0x85,
        imm: id,
        ..Default::default()
    }
}

/// BPF_JMP | BPF_EXIT.
fn exit() -> Insn {
    Insn {
        code: 0x95,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_program_is_mov_r0_0_exit() {
        let insns: Vec<u8> = return_zero()
            .iter()
            .flat_map(|i| i.to_native_bytes())
            .collect();
        assert_eq!(insns.len(), 16);
        assert_eq!(insns[0], 0xb7, "BPF_ALU64 | BPF_MOV | BPF_K");
        assert_eq!(insns[1], 0, "dst r0, src r0");
        assert_eq!(&insns[4..8], &[0; 4], "imm 0");
        assert_eq!(insns[8], 0x95, "BPF_JMP | BPF_EXIT");
    }
}

//! Loading one program: relocate its instructions, pick its attach type
//! and BTF ids, call BPF_PROG_LOAD, and on refusal read the verifier's log
//! and explain what it can (poisoned CO-RE relocations, missing kfuncs, a
//! refusal before verification).
//!
//! In: the object spec, one program, its settings and what it is loaded
//! against (map fds, BTF, struct_ops binding). Out: a loaded [`Program`]
//! and the CO-RE relocations applied to it, or a [`LoadError`].

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};

use super::error::{LoadError, VerifierError};
use super::relocate::{self, CoreApplied};
use super::settings::{ProgSettings, BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS};
use super::{attach_btf, co_re, externs, struct_ops};
use crate::obj::{AttachType, ObjectSpec, ProgramSpec, SectionDef};
use crate::prog::Program;
use crate::sys;

/// What a program is loaded against besides its own spec.
pub(super) struct LoadTarget<'a> {
    pub(super) fds: &'a relocate::Fds<'a>,
    pub(super) btf_fd: Option<&'a OwnedFd>,
    pub(super) license: &'a CString,
    /// The struct_ops member a struct_ops program implements.
    pub(super) struct_ops: Option<&'a struct_ops::Binding>,
    /// Whether the loaded BTF has FUNCs for func_info and line_info.
    pub(super) func_info: bool,
}

pub(super) fn load_program(
    object: &str,
    spec: &ObjectSpec,
    p: &ProgramSpec,
    settings: &ProgSettings,
    target: &LoadTarget<'_>,
) -> Result<(Program, Vec<CoreApplied>), LoadError> {
    let LoadTarget {
        fds,
        btf_fd,
        license,
        struct_ops,
        func_info: with_func_info,
    } = *target;
    let link_err = |message: String| LoadError::Link {
        object: object.to_owned(),
        program: p.name.clone(),
        message,
    };
    let def = p.def.as_ref().ok_or_else(|| {
        link_err(format!(
            "section `{}` names no known program type",
            p.section
        ))
    })?;
    let (attach_btf, attach_type) = attach(p, def, settings, struct_ops, fds).map_err(link_err)?;
    let linked = relocate::relocate(spec, p, fds).map_err(link_err)?;
    let (insns, mut func_info, mut line_info) = wire_bytes(&linked);
    if !with_func_info {
        // They name FUNC ids, which the BTF no longer has.
        (func_info, line_info) = (Vec::new(), Vec::new());
    }
    let attrs = sys::ProgLoad {
        name: &p.name,
        prog_type: def.prog_type.0,
        expected_attach_type: attach_type.map_or(0, |a| a.0),
        insns: &insns,
        license,
        kern_version: spec.kern_version.unwrap_or(0),
        prog_flags: settings.prog_flags(section_flags(def)),
        prog_btf_fd: btf_fd.map(|f| f.as_fd()),
        func_info: &func_info,
        line_info: &line_info,
        log_level: settings.log_level,
        attach_btf_id: attach_btf.as_ref().map_or(0, |a| a.id),
        attach_fd: attach_btf
            .as_ref()
            .and_then(|a| a.fd.as_deref())
            .map(|f| f.as_fd()),
        prog_ifindex: settings.ifindex.unwrap_or(0),
    };
    // With a log level asked for, the log of a successful load is kept.
    let (first, success_log) = if settings.log_level > 0 {
        prog_load_logged(&attrs)
    } else {
        (sys::prog_load(&attrs, &mut []), Vec::new())
    };
    let fd = match first {
        Ok(fd) => fd,
        Err(source) => {
            // Load again with a log to say why.
            let retry = sys::ProgLoad {
                log_level: settings.log_level.max(1),
                ..attrs_copy(&attrs)
            };
            let (_, log) = prog_load_logged(&retry);
            let log = crate::ctypes::c_str_lossy(&log).trim_end().to_owned();
            let log = match explain_poison(&log, &linked.core, fds.externs) {
                Some(why) => format!("{why}\n{log}"),
                None => log,
            };
            let log = if log.is_empty() {
                match settings.ifindex {
                    Some(ifindex) => refused_device(ifindex),
                    None => silent_refusal(source.errno()).to_owned(),
                }
            } else {
                log
            };
            return Err(LoadError::Verifier(Box::new(VerifierError {
                object: object.to_owned(),
                program: p.name.clone(),
                section: p.section.clone(),
                source,
                log,
            })));
        }
    };
    let mut program = Program::new(
        p.name.clone(),
        p.section.clone(),
        def.prog_type,
        attach_type,
        Some(fd),
    );
    if settings.log_level > 0 {
        program.set_verifier_log(
            crate::ctypes::c_str_lossy(&success_log)
                .trim_end()
                .to_owned(),
        );
    }
    Ok((program, linked.core))
}

/// The attach BTF id (and fd) and expected attach type of a program. A
/// struct_ops program's expected attach type is the index of the ops
/// member it implements.
fn attach(
    p: &ProgramSpec,
    def: &SectionDef,
    settings: &ProgSettings,
    struct_ops: Option<&struct_ops::Binding>,
    fds: &relocate::Fds<'_>,
) -> Result<(Option<attach_btf::AttachBtf>, Option<AttachType>), String> {
    Ok(match struct_ops {
        Some(b) => (
            Some(attach_btf::AttachBtf {
                id: b.kern_type_id,
                fd: None,
            }),
            Some(AttachType(b.member_index)),
        ),
        None => (
            attach_btf::resolve(def, &p.section, settings.attach_target.as_ref(), fds.kernel)?,
            expected_attach_type(def, settings),
        ),
    })
}

/// The prog_flags a section implies (`.s`: sleepable, `xdp.frags`).
fn section_flags(def: &SectionDef) -> u32 {
    let mut flags = 0;
    if def.sleepable {
        flags |= BPF_F_SLEEPABLE;
    }
    if def.xdp_frags {
        flags |= BPF_F_XDP_HAS_FRAGS;
    }
    flags
}

/// The relocated instructions, func info and line info as the kernel reads
/// them (native byte order).
fn wire_bytes(linked: &relocate::Relocated) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let insns = linked
        .insns
        .iter()
        .flat_map(|i| i.to_native_bytes())
        .collect();
    let func_info = linked
        .func_info
        .iter()
        .flat_map(|r| [r.insn_off.to_ne_bytes(), r.type_id.0.to_ne_bytes()].concat())
        .collect();
    let line_info = linked
        .line_info
        .iter()
        .flat_map(|r| [r.insn_off, r.file_name.0, r.line.0, r.line_col])
        .flat_map(u32::to_ne_bytes)
        .collect();
    (insns, func_info, line_info)
}

/// BPF_PROG_LOAD with a verifier log; a log that does not fit fails the
/// load with ENOSPC, so it grows (up to 64 MiB) until it fits. Returns the
/// result and the log buffer.
fn prog_load_logged(attrs: &sys::ProgLoad<'_>) -> (Result<OwnedFd, sys::SysError>, Vec<u8>) {
    let mut size = 1 << 20;
    loop {
        let mut log = vec![0u8; size];
        match sys::prog_load(attrs, &mut log) {
            Err(e) if e.errno() == Some(libc::ENOSPC) && size < (1 << 26) => size *= 4,
            r => return (r, log),
        }
    }
}

/// The expected attach type a program of section `def` is loaded with:
/// the section's, except that `usdt` and `uprobe.multi` programs are loaded
/// for a `uprobe_multi` link only where the kernel has them and the
/// settings allow it, else as plain kprobe programs (attach type 0), which
/// attach one uprobe per site (libbpf does the same for `usdt`; see
/// `libbpf_prepare_prog_load`). The attach functions read which it was from
/// [`Program::expected_attach_type`].
fn expected_attach_type(def: &SectionDef, settings: &ProgSettings) -> Option<AttachType> {
    match def.expected_attach_type {
        Some(AttachType::TRACE_UPROBE_MULTI)
            if !settings.uprobe_multi || !crate::probe::has_uprobe_multi_link() =>
        {
            None
        }
        t => t,
    }
}

/// When the verifier reached a poisoned instruction (`123: (85) call
/// unknown#195896080`), names the CO-RE relocation or weak kfunc behind it.
fn explain_poison(log: &str, core: &[CoreApplied], externs: &externs::Externs) -> Option<String> {
    for line in log.lines().rev() {
        let Some((idx, rest)) = line.split_once(": (85) call unknown#") else {
            continue;
        };
        let insn: usize = idx.trim().parse().ok()?;
        let helper: i64 = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()?;
        if helper == i64::from(co_re::POISON_IMM) {
            let r = core.iter().find(|c| {
                c.insn == insn && (c.resolution.poison || c.resolution.fail_memsz_adjust)
            })?;
            return Some(format!(
                "instruction {insn} of {} was poisoned because CO-RE relocation {} found nothing in the kernel BTF{}, and the verifier reached it",
                r.function,
                r.resolution.description,
                if r.resolution.fail_memsz_adjust { " of a compatible size" } else { "" }
            ));
        }
        if let Some(name) = externs.poisoned_kfunc(helper) {
            return Some(format!(
                "instruction {insn} calls the __weak kfunc `{name}`, which this kernel does not have, and the verifier reached it"
            ));
        }
    }
    None
}

fn attrs_copy<'a>(a: &sys::ProgLoad<'a>) -> sys::ProgLoad<'a> {
    sys::ProgLoad {
        name: a.name,
        prog_type: a.prog_type,
        expected_attach_type: a.expected_attach_type,
        insns: a.insns,
        license: a.license,
        kern_version: a.kern_version,
        prog_flags: a.prog_flags,
        prog_btf_fd: a.prog_btf_fd,
        func_info: a.func_info,
        line_info: a.line_info,
        attach_btf_id: a.attach_btf_id,
        attach_fd: a.attach_fd,
        log_level: a.log_level,
        prog_ifindex: a.prog_ifindex,
    }
}

/// What to say when the kernel refused a device-bound program without a
/// verifier log: the binding failed (kernel/bpf/offload.c).
fn refused_device(ifindex: u32) -> String {
    format!(
        "(no verifier output: the kernel refused to bind the program to device \
         {ifindex} (prog_ifindex). EOPNOTSUPP: the device cannot run BPF programs \
         (no ndo_bpf, e.g. lo); EINVAL: it is not an offload device, or the \
         flags do not fit (XDP frags need BPF_F_XDP_DEV_BOUND_ONLY, Linux 6.3+))"
    )
}

/// What to say when the kernel refused a program without a verifier log:
/// it stopped before verifying, which an errno alone explains badly.
fn silent_refusal(errno: Option<i32>) -> &'static str {
    const ENOTSUPP: i32 = 524; // kernel-internal, printed as "Unknown error 524"
    match errno {
        Some(libc::EPERM) => {
            "(no verifier output: the kernel refused the program before verifying it. \
             EPERM means missing privileges (CAP_BPF with CAP_PERFMON or CAP_NET_ADMIN, \
             or CAP_SYS_ADMIN), or a kernel or LSM policy that forbids this program \
             type: fentry, fexit, fmod_ret, lsm and struct_ops need BPF trampolines, \
             which some kernels do not allow)"
        }
        Some(ENOTSUPP) => {
            "(no verifier output: the kernel does not support this program type or \
             its attach target (ENOTSUPP))"
        }
        _ => "(no verifier output)",
    }
}

//! BTF ids of attach targets: programs of type tracing (tp_btf, fentry,
//! fexit, fmod_ret, iter), lsm and ext (freplace) are verified against the
//! function, tracepoint or hook they attach to, named at load by
//! `attach_btf_id` and, for a target outside vmlinux, the fd of the BTF
//! object or program that holds it (libbpf's libbpf_find_attach_btf_id).
//!
//! In: a section definition, the user's attach target override, the
//! kernel's BTF. Out: the id and fd, or why the program cannot be loaded.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use crate::btf::{Btf, Kind};
use crate::obj::{AttachKind, AttachType, ProgType, SectionDef};
use crate::sys;

use super::co_re::CoreTarget;
use super::settings::AttachTarget;

/// Whether the section's programs need the kernel's BTF to load.
pub(crate) fn needs_kernel_btf(def: &SectionDef) -> bool {
    matches!(def.attach, AttachKind::Tracing | AttachKind::Iter)
        || def.prog_type == ProgType::LSM
        || def.prog_type == ProgType::TRACING
}

/// What BPF_PROG_LOAD names the attach target with.
#[derive(Debug)]
pub(crate) struct AttachBtf {
    /// `attach_btf_id`: the type id in vmlinux, a module or the target
    /// program's BTF.
    pub(crate) id: u32,
    /// `attach_btf_obj_fd` (a module's BTF) or `attach_prog_fd`; none for vmlinux.
    pub(crate) fd: Option<Arc<OwnedFd>>,
}

/// `attach_btf_id` (and fd) for BPF_PROG_LOAD, `None` when the program
/// type takes none. `target` is the user's override of the section's target.
pub(crate) fn resolve(
    def: &SectionDef,
    section: &str,
    target: Option<&AttachTarget>,
    kernel: Option<&CoreTarget>,
) -> Result<Option<AttachBtf>, String> {
    if let Some(AttachTarget {
        program: Some(prog),
        function,
    }) = target
    {
        if def.prog_type != ProgType::EXT && def.prog_type != ProgType::TRACING {
            return Err(format!(
                "section `{section}`: only freplace and fentry/fexit/fmod_ret programs \
                 attach to another BPF program (attach target `{function}`)"
            ));
        }
        return in_program(prog, function).map(Some);
    }
    let Some((name, kind)) = target_name(def, section, target.map(|t| t.function.as_str()))? else {
        return Ok(None);
    };
    let kernel =
        kernel.ok_or_else(|| format!("section `{section}`: no kernel BTF to find `{name}` in"))?;
    if let Some(id) = kernel.find(&name, kind) {
        return Ok(Some(AttachBtf { id: id.0, fd: None }));
    }
    let what = if kind == Kind::Typedef {
        "tracepoint typedef"
    } else {
        "function"
    };
    let Some((module, id)) = kernel.find_in_modules(&name, kind) else {
        return Err(format!(
            "section `{section}`: the kernel BTF (vmlinux and modules) has no {what} `{name}`"
        ));
    };
    let fd = module_btf_fd(module)
        .map_err(|e| format!("section `{section}`: {what} `{name}` of module {module}: {e}"))?;
    Ok(Some(AttachBtf {
        id: id.0,
        fd: Some(Arc::new(fd)),
    }))
}

/// The BTF name and kind the kernel expects for `def`'s attach target
/// (`function` overriding the section's).
fn target_name(
    def: &SectionDef,
    section: &str,
    function: Option<&str>,
) -> Result<Option<(String, Kind)>, String> {
    if def.prog_type == ProgType::STRUCT_OPS {
        return Err(format!(
            "section `{section}`: a struct_ops program loads only as a member of a struct_ops variable, and none points at it"
        ));
    }
    if def.prog_type == ProgType::EXT {
        return Err(format!(
            "section `{section}`: a freplace program needs the program whose function it \
             replaces: ProgSettings::set_attach_target(Some(program_fd), \"function\")"
        ));
    }
    if !needs_kernel_btf(def) {
        return match function {
            Some(f) => Err(format!(
                "section `{section}`: this program type takes no BTF attach target (`{f}` was set)"
            )),
            None => Ok(None),
        };
    }
    let target = function
        .or(def.attach_target.as_deref())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            format!(
                "section `{section}` names no attach target (write e.g. `{section}/name`, \
                 or use ProgSettings::set_attach_target)"
            )
        })?;
    let Some(attach) = def.expected_attach_type else {
        return Ok(None);
    };
    Ok(Some(match attach {
        AttachType::TRACE_RAW_TP => (format!("btf_trace_{target}"), Kind::Typedef),
        AttachType::LSM_MAC | AttachType::LSM_CGROUP => (format!("bpf_lsm_{target}"), Kind::Func),
        AttachType::TRACE_ITER => (format!("bpf_iter_{target}"), Kind::Func),
        _ => (target.to_owned(), Kind::Func),
    }))
}

/// Function `function` of the loaded program `prog`, found in its BTF.
fn in_program(prog: &Arc<OwnedFd>, function: &str) -> Result<AttachBtf, String> {
    let what = format!("attach target `{function}` in the given program");
    let info = sys::prog_info(prog.as_fd()).map_err(|e| format!("{what}: {e}"))?;
    if info.btf_id == 0 {
        return Err(format!(
            "{what}: the program was loaded without BTF, so its functions cannot be found"
        ));
    }
    let btf = sys::btf_fd_by_id(info.btf_id)
        .and_then(|fd| sys::btf_object(fd.as_fd(), true))
        .map_err(|e| format!("{what}: reading its BTF: {e}"))?;
    let btf = Btf::parse(&btf.bytes).map_err(|e| format!("{what}: parsing its BTF: {e}"))?;
    let id = btf.find_by_name(function, Kind::Func).map_err(|_| {
        format!(
            "{what}: its BTF has no function `{function}` (program `{}`)",
            crate::ctypes::c_str_lossy(&info.name)
        )
    })?;
    Ok(AttachBtf {
        id: id.0,
        fd: Some(Arc::clone(prog)),
    })
}

/// An fd of module `module`'s BTF object, found by walking the kernel's
/// BTF ids (as libbpf's load_module_btfs does).
fn module_btf_fd(module: &str) -> Result<OwnedFd, String> {
    let mut id = 0;
    while let Some(next) = sys::btf_next_id(id).map_err(|e| e.to_string())? {
        id = next;
        // Ids come and go; one that went is skipped.
        let Ok(fd) = sys::btf_fd_by_id(id) else {
            continue;
        };
        let obj = sys::btf_object(fd.as_fd(), false).map_err(|e| e.to_string())?;
        if obj.kernel_btf && obj.name == module {
            return Ok(fd);
        }
    }
    Err("no loaded BTF object of that module".into())
}

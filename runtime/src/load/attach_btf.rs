//! Kernel BTF ids of attach targets: programs of type tracing (tp_btf,
//! fentry, fexit, fmod_ret, iter) and lsm are verified against the kernel
//! function or tracepoint they attach to, named by `attach_btf_id` at load
//! (libbpf's libbpf_find_attach_btf_id).
//!
//! In: a section definition and the kernel's BTF. Out: the id, or why the
//! section cannot be loaded.

use crate::btf::Kind;
use crate::obj::{AttachKind, AttachType, ProgType, SectionDef};

use super::co_re::CoreTarget;

/// Whether the section's programs need the kernel's BTF to load.
pub(crate) fn needs_kernel_btf(def: &SectionDef) -> bool {
    matches!(def.attach, AttachKind::Tracing | AttachKind::Iter)
        || def.prog_type == ProgType::LSM
        || def.prog_type == ProgType::TRACING
}

/// The BTF name and kind the kernel expects for `def`'s attach target.
fn target_name(def: &SectionDef, section: &str) -> Result<Option<(String, Kind)>, String> {
    if def.prog_type == ProgType::STRUCT_OPS {
        return Err(format!(
            "section `{section}`: a struct_ops program loads only as a member of a struct_ops variable, and none points at it"
        ));
    }
    if def.prog_type == ProgType::EXT {
        return Err(format!(
            "section `{section}`: freplace programs need the fd of the program they replace, which this loader does not take yet"
        ));
    }
    if !needs_kernel_btf(def) {
        return Ok(None);
    }
    let target = def
        .attach_target
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            format!("section `{section}` names no attach target (write e.g. `{section}/name`)")
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

/// `attach_btf_id` for BPF_PROG_LOAD, `None` when the program type takes none.
pub(crate) fn attach_btf_id(
    def: &SectionDef,
    section: &str,
    kernel: Option<&CoreTarget>,
) -> Result<Option<u32>, String> {
    let Some((name, kind)) = target_name(def, section)? else {
        return Ok(None);
    };
    let kernel =
        kernel.ok_or_else(|| format!("section `{section}`: no kernel BTF to find `{name}` in"))?;
    let id = kernel.find(&name, kind).ok_or_else(|| {
        format!(
            "section `{section}`: the kernel BTF has no {} `{name}`",
            if kind == Kind::Typedef {
                "tracepoint typedef"
            } else {
                "function"
            }
        )
    })?;
    Ok(Some(id.0))
}

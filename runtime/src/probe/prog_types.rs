//! Program types: `r0 = 0; exit` loaded as each type, with the attach type
//! (and for the BTF-attached types the telling failure) libbpf's
//! `libbpf_probe_bpf_prog_type` uses (tools/lib/bpf/libbpf_probes.c).
//!
//! In: a [`ProgType`]. Out: a [`Support`], cached per type.

use std::sync::OnceLock;

use super::prog::{load_with, log_text, return_zero, LoadAttrs, LOG_SIZE};
use super::{cached_support, lacks_privilege, Support};
use crate::obj::{AttachType, ProgType};

/// The highest `enum bpf_prog_type` value this crate knows how to probe.
pub(super) const PROG_TYPE_MAX: u32 = ProgType::NETFILTER.0;

/// ENOTSUPP (524): the kernel-internal "not supported" errno that leaks to
/// user space from some BPF commands (include/linux/errno.h).
pub(super) const ENOTSUPP: i32 = 524;

/// How a program of a type must be loaded, and what a kernel that has the
/// type answers.
pub(super) struct TypeProbe {
    pub attrs: LoadAttrs,
    /// `None`: the type loads. `Some`: the load fails, with this errno and
    /// (when given) this text in the verifier log, on a kernel that has
    /// the type: its programs need a target the probe cannot give.
    pub expect_failure: Option<(i32, Option<&'static str>)>,
}

/// The load attributes and expectation for `prog_type`, or `None` for a
/// type this crate does not know (so cannot say how to load).
pub(super) fn type_probe(prog_type: ProgType) -> Option<TypeProbe> {
    let attrs = LoadAttrs::of(prog_type);
    let load_ok = |attrs| {
        Some(TypeProbe {
            attrs,
            expect_failure: None,
        })
    };
    let must_fail = |attrs, errno, message| {
        Some(TypeProbe {
            attrs,
            expect_failure: Some((errno, message)),
        })
    };
    const BPF_F_SLEEPABLE: u32 = 1 << 4;
    match prog_type {
        ProgType::CGROUP_SOCK_ADDR => load_ok(attrs.attach(AttachType::CGROUP_INET4_CONNECT)),
        ProgType::CGROUP_SOCKOPT => load_ok(attrs.attach(AttachType::CGROUP_GETSOCKOPT)),
        ProgType::SK_LOOKUP => load_ok(attrs.attach(AttachType::SK_LOOKUP)),
        ProgType::LIRC_MODE2 => load_ok(attrs.attach(AttachType::LIRC_MODE2)),
        ProgType::NETFILTER => load_ok(attrs.attach(AttachType::NETFILTER)),
        ProgType::SYSCALL => load_ok(LoadAttrs {
            prog_flags: BPF_F_SLEEPABLE,
            ..attrs
        }),
        // Programs attached by BTF id: BTF id 1 of vmlinux is never a
        // function, which only a kernel that has the type gets far enough
        // to say. (Linux 5.0 stopped checking kprobes' kern_version, so
        // that libbpf setting is not needed on the kernels this crate runs.)
        ProgType::TRACING | ProgType::LSM => {
            let attach = if prog_type == ProgType::TRACING {
                AttachType::TRACE_FENTRY
            } else {
                AttachType::MODIFY_RETURN
            };
            let attrs = LoadAttrs {
                attach_btf_id: 1,
                ..attrs.attach(attach)
            };
            must_fail(
                attrs,
                libc::EINVAL,
                Some("attach_btf_id 1 is not a function"),
            )
        }
        ProgType::EXT => must_fail(
            LoadAttrs {
                attach_btf_id: 1,
                ..attrs
            },
            libc::EINVAL,
            Some("Cannot replace kernel functions"),
        ),
        // A struct_ops program without its struct: ENOTSUPP from the
        // verifier's check_struct_ops_btf_id on a kernel that has them.
        ProgType::STRUCT_OPS => must_fail(attrs, ENOTSUPP, None),
        t if t.0 <= PROG_TYPE_MAX && t != ProgType::UNSPEC => load_ok(attrs),
        _ => None,
    }
}

/// Whether the running kernel can load programs of `prog_type`, probed
/// like libbpf's `libbpf_probe_bpf_prog_type` and bpftool's
/// `have_<type>_prog_type`: a two-instruction program of the type is
/// loaded (with the expected attach type the type needs). Types attached
/// by BTF id (tracing, lsm, ext) and struct_ops cannot load without a
/// target: for them the failure a kernel with the type gives counts as
/// "yes".
///
/// [`Support::Unknown`] when the process may not load programs (EPERM),
/// and for a type newer than this crate; `unspec` is never loadable.
/// Answers are cached.
///
/// ```no_run
/// use bpf2rs::obj::ProgType;
///
/// let xdp = bpf2rs::probe::prog_type_supported(ProgType::XDP);
/// println!("xdp programs: {xdp}");
/// ```
pub fn prog_type_supported(prog_type: ProgType) -> Support {
    static CACHE: [OnceLock<Support>; PROG_TYPE_MAX as usize + 1] =
        [const { OnceLock::new() }; PROG_TYPE_MAX as usize + 1];
    let Some(cell) = CACHE.get(prog_type.0 as usize) else {
        return Support::Unknown;
    };
    cached_support(cell, || probe(prog_type))
}

fn probe(prog_type: ProgType) -> Support {
    if prog_type == ProgType::UNSPEC {
        return Support::No;
    }
    let Some(TypeProbe {
        attrs,
        expect_failure,
    }) = type_probe(prog_type)
    else {
        return Support::Unknown;
    };
    let mut log = vec![
        0u8;
        if expect_failure.is_some() {
            LOG_SIZE
        } else {
            0
        }
    ];
    let r = load_with(&attrs, "", &return_zero(), &mut log);
    match (r, expect_failure) {
        (Ok(_prog), None) => Support::Yes,
        (Err(e), _) if lacks_privilege(&e) => Support::Unknown,
        (Err(_), None) => Support::No,
        // Loaded where the kernel should have refused: not the type we
        // know (were it ever to happen, the program closes here).
        (Ok(_prog), Some(_)) => Support::No,
        (Err(e), Some((errno, message))) => Support::from(
            e.errno() == Some(errno) && message.is_none_or(|m| log_text(&log).contains(m)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_but_unspec_has_a_probe() {
        for t in 1..=PROG_TYPE_MAX {
            assert!(type_probe(ProgType(t)).is_some(), "{}", ProgType(t));
        }
        assert!(type_probe(ProgType::UNSPEC).is_none());
        assert!(type_probe(ProgType(PROG_TYPE_MAX + 1)).is_none());
    }
}

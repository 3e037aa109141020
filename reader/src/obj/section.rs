//! Program section names -> program type, expected attach type and how the
//! program attaches, following the conventions libbpf documents in
//! Documentation/bpf/libbpf/program_types.rst.
//!
//! In: an ELF section name such as `kprobe/do_unlinkat`. Out: [`SectionDef`].

use super::kinds::{AttachType, ProgType};

/// How a program of a section is attached, when the section says so.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AttachKind {
    /// Nothing to attach automatically (or attached by the user to a target
    /// only they know: an interface, a cgroup, a socket).
    Manual,
    Kprobe,
    Kretprobe,
    KprobeMulti,
    KretprobeMulti,
    KprobeSession,
    Uprobe,
    Uretprobe,
    UprobeMulti,
    UretprobeMulti,
    Ksyscall,
    Kretsyscall,
    Usdt,
    Tracepoint,
    RawTracepoint,
    /// fentry/fexit/fmod_ret/tp_btf/lsm/freplace: by BTF id of the target.
    Tracing,
    Iter,
    StructOps,
}

/// What a section name says about its programs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SectionDef {
    pub prog_type: ProgType,
    pub expected_attach_type: Option<AttachType>,
    /// The part after the section's prefix: `do_unlinkat` in
    /// `kprobe/do_unlinkat`, `syscalls/sys_enter_execve` in a tracepoint.
    pub attach_target: Option<String>,
    pub attach: AttachKind,
    /// `.s` sections: the program is sleepable (BPF_F_SLEEPABLE).
    pub sleepable: bool,
    /// `xdp.frags`: the program handles multi-buffer packets (BPF_F_XDP_HAS_FRAGS).
    pub xdp_frags: bool,
}

/// Whether a row matches the whole name only, or also `name/target`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Exactly this name.
    Exact,
    /// This name, or this name followed by `/` and a target.
    Target,
}

struct Row {
    name: &'static str,
    form: Form,
    prog_type: ProgType,
    attach_type: Option<AttachType>,
    attach: AttachKind,
    sleepable: bool,
}

const fn row(
    name: &'static str,
    form: Form,
    prog_type: ProgType,
    attach_type: Option<AttachType>,
    attach: AttachKind,
) -> Row {
    Row {
        name,
        form,
        prog_type,
        attach_type,
        attach,
        sleepable: false,
    }
}

const fn sleepable(mut r: Row) -> Row {
    r.sleepable = true;
    r
}

use AttachKind as K;
use AttachType as A;
use Form::{Exact, Target};
use ProgType as P;

/// Ordered: the first row that matches wins, so longer names come before
/// their prefixes (`tc/ingress` before `tc`).
#[rustfmt::skip]
static TABLE: &[Row] = &[
    row("socket", Target, P::SOCKET_FILTER, None, K::Manual),
    row("sk_reuseport/migrate", Exact, P::SK_REUSEPORT, Some(A::SK_REUSEPORT_SELECT_OR_MIGRATE), K::Manual),
    row("sk_reuseport", Exact, P::SK_REUSEPORT, Some(A::SK_REUSEPORT_SELECT), K::Manual),
    row("kprobe", Target, P::KPROBE, None, K::Kprobe),
    row("kretprobe", Target, P::KPROBE, None, K::Kretprobe),
    row("kprobe.multi", Target, P::KPROBE, Some(A::TRACE_KPROBE_MULTI), K::KprobeMulti),
    row("kretprobe.multi", Target, P::KPROBE, Some(A::TRACE_KPROBE_MULTI), K::KretprobeMulti),
    row("kprobe.session", Target, P::KPROBE, Some(A::TRACE_KPROBE_SESSION), K::KprobeSession),
    row("uprobe", Target, P::KPROBE, None, K::Uprobe),
    sleepable(row("uprobe.s", Target, P::KPROBE, None, K::Uprobe)),
    row("uretprobe", Target, P::KPROBE, None, K::Uretprobe),
    sleepable(row("uretprobe.s", Target, P::KPROBE, None, K::Uretprobe)),
    row("uprobe.multi", Target, P::KPROBE, Some(A::TRACE_UPROBE_MULTI), K::UprobeMulti),
    row("uretprobe.multi", Target, P::KPROBE, Some(A::TRACE_UPROBE_MULTI), K::UretprobeMulti),
    sleepable(row("uprobe.multi.s", Target, P::KPROBE, Some(A::TRACE_UPROBE_MULTI), K::UprobeMulti)),
    sleepable(row("uretprobe.multi.s", Target, P::KPROBE, Some(A::TRACE_UPROBE_MULTI), K::UretprobeMulti)),
    row("uprobe.session", Target, P::KPROBE, Some(A::TRACE_UPROBE_SESSION), K::UprobeMulti),
    sleepable(row("uprobe.session.s", Target, P::KPROBE, Some(A::TRACE_UPROBE_SESSION), K::UprobeMulti)),
    row("ksyscall", Target, P::KPROBE, None, K::Ksyscall),
    row("kretsyscall", Target, P::KPROBE, None, K::Kretsyscall),
    // USDT sites are attached with one uprobe_multi link (Linux 6.6+), which
    // needs the program loaded for it; the loader drops the attach type
    // (one uprobe per site) on older kernels, like libbpf.
    row("usdt", Target, P::KPROBE, Some(A::TRACE_UPROBE_MULTI), K::Usdt),
    sleepable(row("usdt.s", Target, P::KPROBE, Some(A::TRACE_UPROBE_MULTI), K::Usdt)),
    row("tc/ingress", Exact, P::SCHED_CLS, Some(A::TCX_INGRESS), K::Manual),
    row("tc/egress", Exact, P::SCHED_CLS, Some(A::TCX_EGRESS), K::Manual),
    row("tcx/ingress", Exact, P::SCHED_CLS, Some(A::TCX_INGRESS), K::Manual),
    row("tcx/egress", Exact, P::SCHED_CLS, Some(A::TCX_EGRESS), K::Manual),
    row("tc", Target, P::SCHED_CLS, None, K::Manual),
    row("classifier", Target, P::SCHED_CLS, None, K::Manual),
    row("action", Target, P::SCHED_ACT, None, K::Manual),
    row("netkit/primary", Exact, P::SCHED_CLS, Some(A::NETKIT_PRIMARY), K::Manual),
    row("netkit/peer", Exact, P::SCHED_CLS, Some(A::NETKIT_PEER), K::Manual),
    row("tracepoint", Target, P::TRACEPOINT, None, K::Tracepoint),
    row("tp", Target, P::TRACEPOINT, None, K::Tracepoint),
    row("raw_tracepoint", Target, P::RAW_TRACEPOINT, None, K::RawTracepoint),
    row("raw_tp", Target, P::RAW_TRACEPOINT, None, K::RawTracepoint),
    row("raw_tracepoint.w", Target, P::RAW_TRACEPOINT_WRITABLE, None, K::RawTracepoint),
    row("raw_tp.w", Target, P::RAW_TRACEPOINT_WRITABLE, None, K::RawTracepoint),
    row("tp_btf", Target, P::TRACING, Some(A::TRACE_RAW_TP), K::Tracing),
    row("fentry", Target, P::TRACING, Some(A::TRACE_FENTRY), K::Tracing),
    row("fmod_ret", Target, P::TRACING, Some(A::MODIFY_RETURN), K::Tracing),
    row("fexit", Target, P::TRACING, Some(A::TRACE_FEXIT), K::Tracing),
    sleepable(row("fentry.s", Target, P::TRACING, Some(A::TRACE_FENTRY), K::Tracing)),
    sleepable(row("fmod_ret.s", Target, P::TRACING, Some(A::MODIFY_RETURN), K::Tracing)),
    sleepable(row("fexit.s", Target, P::TRACING, Some(A::TRACE_FEXIT), K::Tracing)),
    row("freplace", Target, P::EXT, None, K::Tracing),
    row("lsm", Target, P::LSM, Some(A::LSM_MAC), K::Tracing),
    sleepable(row("lsm.s", Target, P::LSM, Some(A::LSM_MAC), K::Tracing)),
    row("lsm_cgroup", Target, P::LSM, Some(A::LSM_CGROUP), K::Manual),
    row("iter", Target, P::TRACING, Some(A::TRACE_ITER), K::Iter),
    sleepable(row("iter.s", Target, P::TRACING, Some(A::TRACE_ITER), K::Iter)),
    sleepable(row("syscall", Exact, P::SYSCALL, None, K::Manual)),
    row("xdp.frags/devmap", Exact, P::XDP, Some(A::XDP_DEVMAP), K::Manual),
    row("xdp/devmap", Exact, P::XDP, Some(A::XDP_DEVMAP), K::Manual),
    row("xdp.frags/cpumap", Exact, P::XDP, Some(A::XDP_CPUMAP), K::Manual),
    row("xdp/cpumap", Exact, P::XDP, Some(A::XDP_CPUMAP), K::Manual),
    row("xdp.frags", Exact, P::XDP, Some(A::XDP), K::Manual),
    row("xdp", Target, P::XDP, Some(A::XDP), K::Manual),
    row("perf_event", Exact, P::PERF_EVENT, None, K::Manual),
    row("lwt_in", Exact, P::LWT_IN, None, K::Manual),
    row("lwt_out", Exact, P::LWT_OUT, None, K::Manual),
    row("lwt_xmit", Exact, P::LWT_XMIT, None, K::Manual),
    row("lwt_seg6local", Exact, P::LWT_SEG6LOCAL, None, K::Manual),
    row("sockops", Exact, P::SOCK_OPS, Some(A::CGROUP_SOCK_OPS), K::Manual),
    row("sk_skb/stream_parser", Exact, P::SK_SKB, Some(A::SK_SKB_STREAM_PARSER), K::Manual),
    row("sk_skb/stream_verdict", Exact, P::SK_SKB, Some(A::SK_SKB_STREAM_VERDICT), K::Manual),
    row("sk_skb/verdict", Exact, P::SK_SKB, Some(A::SK_SKB_VERDICT), K::Manual),
    row("sk_skb", Target, P::SK_SKB, None, K::Manual),
    row("sk_msg", Exact, P::SK_MSG, Some(A::SK_MSG_VERDICT), K::Manual),
    row("lirc_mode2", Exact, P::LIRC_MODE2, Some(A::LIRC_MODE2), K::Manual),
    row("flow_dissector", Exact, P::FLOW_DISSECTOR, Some(A::FLOW_DISSECTOR), K::Manual),
    row("cgroup_skb/ingress", Exact, P::CGROUP_SKB, Some(A::CGROUP_INET_INGRESS), K::Manual),
    row("cgroup_skb/egress", Exact, P::CGROUP_SKB, Some(A::CGROUP_INET_EGRESS), K::Manual),
    row("cgroup/skb", Exact, P::CGROUP_SKB, None, K::Manual),
    row("cgroup/sock_create", Exact, P::CGROUP_SOCK, Some(A::CGROUP_INET_SOCK_CREATE), K::Manual),
    row("cgroup/sock_release", Exact, P::CGROUP_SOCK, Some(A::CGROUP_INET_SOCK_RELEASE), K::Manual),
    row("cgroup/sock", Exact, P::CGROUP_SOCK, Some(A::CGROUP_INET_SOCK_CREATE), K::Manual),
    row("cgroup/post_bind4", Exact, P::CGROUP_SOCK, Some(A::CGROUP_INET4_POST_BIND), K::Manual),
    row("cgroup/post_bind6", Exact, P::CGROUP_SOCK, Some(A::CGROUP_INET6_POST_BIND), K::Manual),
    row("cgroup/bind4", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_INET4_BIND), K::Manual),
    row("cgroup/bind6", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_INET6_BIND), K::Manual),
    row("cgroup/connect4", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_INET4_CONNECT), K::Manual),
    row("cgroup/connect6", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_INET6_CONNECT), K::Manual),
    row("cgroup/connect_unix", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_UNIX_CONNECT), K::Manual),
    row("cgroup/sendmsg4", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_UDP4_SENDMSG), K::Manual),
    row("cgroup/sendmsg6", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_UDP6_SENDMSG), K::Manual),
    row("cgroup/sendmsg_unix", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_UNIX_SENDMSG), K::Manual),
    row("cgroup/recvmsg4", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_UDP4_RECVMSG), K::Manual),
    row("cgroup/recvmsg6", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_UDP6_RECVMSG), K::Manual),
    row("cgroup/recvmsg_unix", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_UNIX_RECVMSG), K::Manual),
    row("cgroup/getpeername4", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_INET4_GETPEERNAME), K::Manual),
    row("cgroup/getpeername6", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_INET6_GETPEERNAME), K::Manual),
    row("cgroup/getpeername_unix", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_UNIX_GETPEERNAME), K::Manual),
    row("cgroup/getsockname4", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_INET4_GETSOCKNAME), K::Manual),
    row("cgroup/getsockname6", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_INET6_GETSOCKNAME), K::Manual),
    row("cgroup/getsockname_unix", Exact, P::CGROUP_SOCK_ADDR, Some(A::CGROUP_UNIX_GETSOCKNAME), K::Manual),
    row("cgroup/sysctl", Exact, P::CGROUP_SYSCTL, Some(A::CGROUP_SYSCTL), K::Manual),
    row("cgroup/getsockopt", Exact, P::CGROUP_SOCKOPT, Some(A::CGROUP_GETSOCKOPT), K::Manual),
    row("cgroup/setsockopt", Exact, P::CGROUP_SOCKOPT, Some(A::CGROUP_SETSOCKOPT), K::Manual),
    row("cgroup/dev", Exact, P::CGROUP_DEVICE, Some(A::CGROUP_DEVICE), K::Manual),
    row("struct_ops", Target, P::STRUCT_OPS, None, K::StructOps),
    sleepable(row("struct_ops.s", Target, P::STRUCT_OPS, None, K::StructOps)),
    row("sk_lookup", Exact, P::SK_LOOKUP, Some(A::SK_LOOKUP), K::Manual),
    row("netfilter", Exact, P::NETFILTER, Some(A::NETFILTER), K::Manual),
];

/// Looks a section name up. `None` when no convention matches (the program
/// type is then unknown and loading it is refused with the section's name).
pub fn section_def(section: &str) -> Option<SectionDef> {
    for r in TABLE {
        let target = match r.form {
            Exact if section == r.name => None,
            Target if section == r.name => None,
            Target => match section.strip_prefix(r.name) {
                Some(rest) => match rest.strip_prefix('/') {
                    Some(t) => Some(t.to_owned()),
                    None => continue,
                },
                None => continue,
            },
            Exact => continue,
        };
        return Some(SectionDef {
            prog_type: r.prog_type,
            expected_attach_type: r.attach_type,
            attach_target: target.filter(|t| !t.is_empty()),
            attach: r.attach,
            sleepable: r.sleepable,
            xdp_frags: r.name.starts_with("xdp.frags"),
        });
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;

    #[test]
    fn longer_names_win_over_prefixes() {
        let d = section_def("tc/ingress").unwrap();
        assert_eq!(d.expected_attach_type, Some(A::TCX_INGRESS));
        let d = section_def("tc").unwrap();
        assert_eq!((d.prog_type, d.expected_attach_type), (P::SCHED_CLS, None));
        let d = section_def("kprobe.multi/do_*").unwrap();
        assert_eq!(d.expected_attach_type, Some(A::TRACE_KPROBE_MULTI));
        assert_eq!(d.attach_target.as_deref(), Some("do_*"));
        let d = section_def("xdp.frags").unwrap();
        assert!(d.xdp_frags);
        let d = section_def("fentry.s/do_unlinkat").unwrap();
        assert!(d.sleepable);
        assert_eq!(d.attach_target.as_deref(), Some("do_unlinkat"));
    }

    #[test]
    fn a_prefix_without_slash_does_not_match() {
        assert!(section_def("kprobex/foo").is_none());
        assert!(section_def("xdpfoo").is_none());
        assert_eq!(
            section_def("tp/sched/sched_switch")
                .unwrap()
                .attach_target
                .as_deref(),
            Some("sched/sched_switch")
        );
    }
}

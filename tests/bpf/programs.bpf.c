// SPDX-License-Identifier: GPL-2.0
/*
 * programs.bpf.c -- bpf2rs fixture: one program per common libbpf section
 * name, for testing the section name -> program type / attach type table.
 * Also: two programs sharing one section (SEC("xdp")), a static __noinline
 * subprogram in .text called from several programs (bpf-to-bpf call), and a
 * global __noinline function in .text.
 *
 * This object only has to compile; loading it is not required (several
 * sections need attach targets / special setup).
 *
 * Expected program name -> section (ELF section name == SEC() string):
 *   xdp_first        xdp
 *   xdp_second       xdp            (same section as xdp_first)
 *   xdp_frags_prog   xdp.frags
 *   tc_prog          tc
 *   tcx_ingress      tcx/ingress
 *   classifier_prog  classifier
 *   kprobe_prog      kprobe/do_unlinkat
 *   kretprobe_prog   kretprobe/do_unlinkat
 *   uprobe_prog      uprobe
 *   uretprobe_prog   uretprobe
 *   kprobe_multi     kprobe.multi/do_*
 *   tp_execve        tracepoint/syscalls/sys_enter_execve
 *   tp_exec          tp/sched/sched_process_exec
 *   raw_tp_switch    raw_tp/sched_switch
 *   raw_tracepoint_switch  raw_tracepoint/sched_switch
 *   tp_btf_switch    tp_btf/sched_switch
 *   fentry_unlinkat  fentry/do_unlinkat
 *   fexit_unlinkat   fexit/do_unlinkat
 *   fmod_ret_test    fmod_ret/bpf_modify_return_test
 *   lsm_file_open    lsm/file_open
 *   iter_task        iter/task
 *   cgroup_skb_ingress  cgroup_skb/ingress
 *   cgroup_skb_prog  cgroup/skb
 *   sock_create      cgroup/sock_create
 *   connect4         cgroup/connect4
 *   sysctl_prog      cgroup/sysctl
 *   dev_prog         cgroup/dev
 *   sockops_prog     sockops
 *   skb_parser       sk_skb/stream_parser
 *   skb_verdict      sk_skb/stream_verdict
 *   msg_prog         sk_msg
 *   socket_prog      socket
 *   perf_event_prog  perf_event
 *   syscall_prog     syscall
 *   sk_lookup_prog   sk_lookup
 *   flow_dissector_prog  flow_dissector
 * .text functions:
 *   shared_subprog   static __noinline  (STB_LOCAL, BTF linkage=static),
 *                    called from xdp_first, xdp_second, tc_prog, socket_prog
 *   global_helper    global __noinline  (STB_GLOBAL, BTF linkage=global),
 *                    called from xdp_first, kprobe_prog, socket_prog
 * 36 programs in 35 program sections.  License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Runtime value from the context (first u32 of the ctx struct) so that the
 * calls below cannot be constant-folded away. */
#define CTX_WORD(ctx) ((int)*(volatile __u32 *)(ctx))

/* bpf-to-bpf call target, local to this object. */
static __noinline int shared_subprog(int x)
{
	return x * 3 + 1;
}

/* Global function: verified independently of its callers. */
__noinline int global_helper(int x)
{
	return x + 42;
}

SEC("xdp")
int xdp_first(void *ctx)
{
	int v = CTX_WORD(ctx);

	return (shared_subprog(v) + global_helper(v)) & 1 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xdp_second(void *ctx)
{
	return shared_subprog(CTX_WORD(ctx)) & 1 ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp.frags")
int xdp_frags_prog(void *ctx) { return XDP_PASS; }

SEC("tc")
int tc_prog(void *ctx) { return shared_subprog(CTX_WORD(ctx)) & 1; }

SEC("tcx/ingress")
int tcx_ingress(void *ctx) { return 0; }

SEC("classifier")
int classifier_prog(void *ctx) { return 0; }

SEC("kprobe/do_unlinkat")
int kprobe_prog(void *ctx) { return global_helper(CTX_WORD(ctx)) & 1; }

SEC("kretprobe/do_unlinkat")
int kretprobe_prog(void *ctx) { return 0; }

SEC("uprobe")
int uprobe_prog(void *ctx) { return 0; }

SEC("uretprobe")
int uretprobe_prog(void *ctx) { return 0; }

SEC("kprobe.multi/do_*")
int kprobe_multi(void *ctx) { return 0; }

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_execve(void *ctx) { return 0; }

SEC("tp/sched/sched_process_exec")
int tp_exec(void *ctx) { return 0; }

SEC("raw_tp/sched_switch")
int raw_tp_switch(void *ctx) { return 0; }

SEC("raw_tracepoint/sched_switch")
int raw_tracepoint_switch(void *ctx) { return 0; }

SEC("tp_btf/sched_switch")
int tp_btf_switch(__u64 *ctx) { return 0; }

SEC("fentry/do_unlinkat")
int fentry_unlinkat(__u64 *ctx) { return 0; }

SEC("fexit/do_unlinkat")
int fexit_unlinkat(__u64 *ctx) { return 0; }

SEC("fmod_ret/bpf_modify_return_test")
int fmod_ret_test(__u64 *ctx) { return 0; }

SEC("lsm/file_open")
int lsm_file_open(__u64 *ctx) { return 0; }

SEC("iter/task")
int iter_task(void *ctx) { return 0; }

SEC("cgroup_skb/ingress")
int cgroup_skb_ingress(void *ctx) { return 1; }

SEC("cgroup/skb")
int cgroup_skb_prog(void *ctx) { return 1; }

SEC("cgroup/sock_create")
int sock_create(void *ctx) { return 1; }

SEC("cgroup/connect4")
int connect4(void *ctx) { return 1; }

SEC("cgroup/sysctl")
int sysctl_prog(void *ctx) { return 1; }

SEC("cgroup/dev")
int dev_prog(void *ctx) { return 1; }

SEC("sockops")
int sockops_prog(void *ctx) { return 1; }

SEC("sk_skb/stream_parser")
int skb_parser(void *ctx) { return 0; }

SEC("sk_skb/stream_verdict")
int skb_verdict(void *ctx) { return 0; }

SEC("sk_msg")
int msg_prog(void *ctx) { return 1; }

SEC("socket")
int socket_prog(void *ctx)
{
	int v = CTX_WORD(ctx);

	return shared_subprog(v) + global_helper(v);
}

SEC("perf_event")
int perf_event_prog(void *ctx) { return 0; }

SEC("syscall")
int syscall_prog(void *ctx) { return 0; }

SEC("sk_lookup")
int sk_lookup_prog(void *ctx) { return 1; }

SEC("flow_dissector")
int flow_dissector_prog(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";

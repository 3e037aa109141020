// SPDX-License-Identifier: GPL-2.0
/*
 * attach.bpf.c -- bpf2rs fixture: one small program per attach kind, each
 * counting its runs into hits[] (.bss), for the real-kernel attach tests
 * (runtime/tests/kernel_attach*.rs). Syscall-driven programs only count
 * runs of the process whose tgid is in target_tgid (.rodata, set before
 * load), so other processes on the machine do not disturb the counts.
 *
 *   hits[0]  tp_getpid         tracepoint/syscalls/sys_enter_getpid
 *   hits[1]  raw_sys_enter     raw_tp/sys_enter
 *   hits[2]  on_uprobe         uprobe
 *   hits[3]  on_uretprobe      uretprobe
 *   hits[4]  kp_unlinkat       kprobe/do_unlinkat
 *   hits[5]  kp_multi          kprobe.multi/do_unlinkat*
 *   hits[6]  xdp_count         xdp
 *   hits[7]  tcx_count         tcx/ingress (returns TCX_NEXT: others still run)
 *   hits[8]  sock_count        socket (keeps every packet)
 *   hits[9]  cg_egress         cgroup_skb/egress (allows every packet)
 *   hits[10] perf_count        perf_event
 *   hits[11] on_uprobe_cookie  uprobe (adds bpf_get_attach_cookie())
 *   hits[12] kretp_unlinkat    kretprobe/do_unlinkat
 *   hits[13] on_uprobe_multi   uprobe.multi
 *   hits[14] lookup_count      sk_lookup (SK_PASS: the normal lookup goes on)
 *   hits[15] on_libc_getpid    uprobe/libc.so.6:getpid (a library named the
 *                              way libbpf sections name them, no directory)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tgid = 0;

__u64 hits[16];

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

#define COUNT(i) __sync_fetch_and_add(&hits[i], 1)

SEC("tracepoint/syscalls/sys_enter_getpid")
int tp_getpid(void *ctx)
{
	if (mine())
		COUNT(0);
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_sys_enter(__u64 *ctx)
{
	if (mine())
		COUNT(1);
	return 0;
}

SEC("uprobe")
int on_uprobe(void *ctx)
{
	if (mine())
		COUNT(2);
	return 0;
}

SEC("uretprobe")
int on_uretprobe(void *ctx)
{
	if (mine())
		COUNT(3);
	return 0;
}

SEC("kprobe/do_unlinkat")
int kp_unlinkat(void *ctx)
{
	if (mine())
		COUNT(4);
	return 0;
}

SEC("kprobe.multi/do_unlinkat*")
int kp_multi(void *ctx)
{
	if (mine())
		COUNT(5);
	return 0;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	COUNT(6);
	return XDP_PASS;
}

SEC("tcx/ingress")
int tcx_count(struct __sk_buff *skb)
{
	COUNT(7);
	return -1; /* TCX_NEXT */
}

SEC("socket")
int sock_count(struct __sk_buff *skb)
{
	COUNT(8);
	return skb->len;
}

SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	COUNT(9);
	return 1;
}

SEC("perf_event")
int perf_count(void *ctx)
{
	COUNT(10);
	return 0;
}

SEC("uprobe")
int on_uprobe_cookie(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&hits[11], bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("kretprobe/do_unlinkat")
int kretp_unlinkat(void *ctx)
{
	if (mine())
		COUNT(12);
	return 0;
}

SEC("uprobe.multi")
int on_uprobe_multi(void *ctx)
{
	if (mine())
		COUNT(13);
	return 0;
}

SEC("sk_lookup")
int lookup_count(struct bpf_sk_lookup *ctx)
{
	COUNT(14);
	return SK_PASS;
}

SEC("uprobe/libc.so.6:getpid")
int on_libc_getpid(void *ctx)
{
	if (mine())
		COUNT(15);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

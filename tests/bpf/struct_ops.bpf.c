// SPDX-License-Identifier: GPL-2.0
/*
 * struct_ops.bpf.c -- bpf2rs fixture: a TCP congestion control written as
 * struct_ops, against a vmlinux.h of the running kernel.
 *
 * Variables (each one a BPF_MAP_TYPE_STRUCT_OPS map for the kernel):
 *   reno_like   SEC(".struct_ops.link"), struct tcp_congestion_ops:
 *               ssthresh -> cc_ssthresh, cong_avoid -> cc_cong_avoid,
 *               undo_cwnd -> cc_undo_cwnd, init -> cc_init,
 *               name "bpf2rs_cc" (data bytes).
 *   plain_ops   SEC(".struct_ops"), struct tcp_congestion_ops:
 *               ssthresh -> cc_ssthresh, undo_cwnd -> cc_undo_cwnd,
 *               cong_avoid -> cc_cong_avoid, name "bpf2rs_cc2".
 * Programs: cc_init, cc_ssthresh, cc_cong_avoid, cc_undo_cwnd ->
 *   SEC("struct_ops/<name>") (BPF_PROG_TYPE_STRUCT_OPS).
 * Globals (.bss): init_calls, ssthresh_calls, cong_avoid_calls,
 *   undo_cwnd_calls (__u64): how often the kernel called each callback,
 *   read back by tests/tests/kernel_struct_ops.rs. cc_cong_avoid leaves
 *   cwnd alone: the connection keeps its initial window.
 * Kernels without BPF trampolines refuse struct_ops programs (EPERM or
 * ENOTSUPP, libbpf too); Debian's 6.1 and 6.12 take them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 init_calls;
__u64 ssthresh_calls;
__u64 cong_avoid_calls;
__u64 undo_cwnd_calls;

SEC("struct_ops/cc_init")
void BPF_PROG(cc_init, struct sock *sk)
{
	__sync_fetch_and_add(&init_calls, 1);
}

SEC("struct_ops/cc_ssthresh")
__u32 BPF_PROG(cc_ssthresh, struct sock *sk)
{
	__sync_fetch_and_add(&ssthresh_calls, 1);
	return 4;
}

SEC("struct_ops/cc_cong_avoid")
void BPF_PROG(cc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	__sync_fetch_and_add(&cong_avoid_calls, 1);
}

SEC("struct_ops/cc_undo_cwnd")
__u32 BPF_PROG(cc_undo_cwnd, struct sock *sk)
{
	__sync_fetch_and_add(&undo_cwnd_calls, 1);
	return 4;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops reno_like = {
	.init = (void *)cc_init,
	.ssthresh = (void *)cc_ssthresh,
	.cong_avoid = (void *)cc_cong_avoid,
	.undo_cwnd = (void *)cc_undo_cwnd,
	.name = "bpf2rs_cc",
};

SEC(".struct_ops")
struct tcp_congestion_ops plain_ops = {
	.ssthresh = (void *)cc_ssthresh,
	.cong_avoid = (void *)cc_cong_avoid,
	.undo_cwnd = (void *)cc_undo_cwnd,
	.name = "bpf2rs_cc2",
};

char LICENSE[] SEC("license") = "GPL";

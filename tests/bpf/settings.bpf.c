// SPDX-License-Identifier: GPL-2.0
/*
 * settings.bpf.c -- bpf2rs fixture for the loader's per-map and per-program
 * settings (runtime/tests/kernel_settings.rs). Each test loads only the
 * programs it needs.
 *
 * Maps:
 *   flagged   hash, preallocated by definition (set_map_flags gives it
 *             BPF_F_NO_PREALLOC)
 *   placed    array (set_numa_node)
 *   optional  array that only uses_optional reads (set_autocreate(false))
 *   table     array of 4 u32 (set_initial_value), read by read_settings
 *   .rodata   cfg_magic (bytes 0..4, read by read_settings) and target_tgid
 *             (bytes 4..8; clang puts initialised variables first), both
 *             set with OpenObject::set_initial_value
 *
 * Programs:
 *   read_settings   xdp: copies table[1] and cfg_magic to seen_table and
 *                   seen_magic (.bss)
 *   uses_optional   xdp: looks up `optional`
 *   buff_len        xdp: stores the packet's length over all its
 *                   fragments in seen_len (set_xdp_frags)
 *   copy_user       uprobe: calls bpf_copy_from_user, which only a
 *                   sleepable program may (set_sleepable)
 *   xdp_target      xdp: returns check(ctx), a global function: the
 *                   target of replace_check (freplace) and on_check (fentry)
 *   replace_check   freplace/check: returns XDP_DROP instead of XDP_PASS
 *   on_check        fentry/check: counts hits[0] (for thread target_tgid)
 *   on_function     fentry/do_unlinkat, pointed elsewhere with
 *                   set_attach_target: counts hits[1]
 *   on_tracepoint   tp_btf/sched_switch, pointed at sys_enter: counts hits[2]
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tgid;
const volatile __u32 cfg_magic = 7;
__u32 seen_magic;
__u32 seen_table;
__u32 seen_len;
__u64 hits[4];

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} flagged SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} placed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} optional SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} table SEC(".maps");

static int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("xdp")
int read_settings(struct xdp_md *ctx)
{
	__u32 key = 1;
	__u32 *v = bpf_map_lookup_elem(&table, &key);

	seen_magic = cfg_magic;
	if (v)
		seen_table = *v;
	return XDP_PASS;
}

SEC("xdp")
int uses_optional(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&optional, &key);

	return v ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int buff_len(struct xdp_md *ctx)
{
	seen_len = bpf_xdp_get_buff_len(ctx);
	return XDP_PASS;
}

SEC("uprobe")
int copy_user(struct pt_regs *ctx)
{
	char buf[8];

	bpf_copy_from_user(buf, sizeof(buf), (void *)0);
	return 0;
}

__attribute__((noinline)) int check(struct xdp_md *ctx)
{
	return ctx ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp")
int xdp_target(struct xdp_md *ctx)
{
	return check(ctx);
}

SEC("freplace/check")
int replace_check(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("fentry/check")
int on_check(void *ctx)
{
	__sync_fetch_and_add(&hits[0], 1);
	return 0;
}

SEC("fentry/do_unlinkat")
int on_function(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&hits[1], 1);
	return 0;
}

SEC("tp_btf/sched_switch")
int on_tracepoint(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&hits[2], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * user_sized.bpf.c -- bpf2rs fixture: maps written the way libbpf-tools
 * writes them when user space decides their size or their values are fds.
 *
 * Maps:
 *   start       HASH (1), key __u32, value __u64, NO max_entries: the
 *               loader must refuse it by name until user space sets a size.
 *   cgroup_map  CGROUP_ARRAY (8), key __u32, value __u32, max_entries 1:
 *               the kernel refuses key/value BTF for this type, so the
 *               loader must create it without BTF from the start (no note).
 *   stacks      STACK_TRACE (7), key __u32, value __u64[16], max_entries 64:
 *               the same.
 * Program: on_getpid -> SEC("tracepoint/syscalls/sys_enter_getpid").
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__type(key, __u32);
	__type(value, __u64[16]);
	__uint(max_entries, 64);
} stacks SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1;

	if (bpf_current_task_under_cgroup(&cgroup_map, 0) == 1)
		return 0;
	bpf_get_stackid(ctx, &stacks, 0);
	bpf_map_update_elem(&start, &pid, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// For kernel_maps_cgroup.rs: on every syscall of a watched process, asks
// bpf_current_task_under_cgroup about each slot of `cgroups` and counts
// the answers, so the test reads back what the kernel saw.
//
// watched: tgid -> struct seen (the test inserts the processes to watch)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SLOTS 2

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} cgroups SEC(".maps");

/* Per slot: how often the task was in the cgroup, not in it, or the
 * helper failed (and its last error, e.g. -EAGAIN for an empty slot). */
struct seen {
	__u64 in[SLOTS];
	__u64 out[SLOTS];
	__u64 err[SLOTS];
	__s64 last_err[SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct seen);
} watched SEC(".maps");

SEC("raw_tp/sys_enter")
int under_cgroup(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct seen *s = bpf_map_lookup_elem(&watched, &tgid);
	if (!s)
		return 0;
#pragma unroll
	for (__u32 i = 0; i < SLOTS; i++) {
		long r = bpf_current_task_under_cgroup(&cgroups, i);
		if (r == 1) {
			__sync_fetch_and_add(&s->in[i], 1);
		} else if (r == 0) {
			__sync_fetch_and_add(&s->out[i], 1);
		} else {
			__sync_fetch_and_add(&s->err[i], 1);
			s->last_err[i] = r;
		}
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

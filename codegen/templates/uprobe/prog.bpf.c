// SPDX-License-Identifier: GPL-2.0
/*
 * {{obj}}.bpf.c: how often, for how many bytes and for how long each
 * process calls libc's malloc().
 *
 * A uprobe on malloc's entry notes the size and the time per thread in
 * `calls`; a uretprobe on its return adds them to the process's `struct
 * totals`. The sections name the library without a directory, as libbpf
 * does: the loader finds `libc.so.6` the way the dynamic linker would.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct totals {
	__u64 calls;
	__u64 bytes;
	__u64 nanos;   /* in malloc, in all */
	__u64 slowest; /* one call, in nanoseconds */
};

struct call {
	__u64 start;
	__u64 size;
};

/* By process id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct totals);
} totals SEC(".maps");

/* Calls under way, by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct call);
} calls SEC(".maps");

SEC("uprobe/libc.so.6:malloc")
int BPF_KPROBE(malloc_enter, size_t size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call c = { .start = bpf_ktime_get_ns(), .size = size };
	bpf_map_update_elem(&calls, &tid, &c, BPF_ANY);
	return 0;
}

SEC("uretprobe/libc.so.6:malloc")
int BPF_KRETPROBE(malloc_exit)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, pid = id >> 32;
	struct call *c = bpf_map_lookup_elem(&calls, &tid);
	if (!c)
		return 0;
	__u64 took = bpf_ktime_get_ns() - c->start, size = c->size;
	bpf_map_delete_elem(&calls, &tid);

	struct totals zero = {}, *t = bpf_map_lookup_elem(&totals, &pid);
	if (!t) {
		bpf_map_update_elem(&totals, &pid, &zero, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&totals, &pid);
		if (!t)
			return 0;
	}
	__sync_fetch_and_add(&t->calls, 1);
	__sync_fetch_and_add(&t->bytes, size);
	__sync_fetch_and_add(&t->nanos, took);
	if (took > t->slowest)
		t->slowest = took;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

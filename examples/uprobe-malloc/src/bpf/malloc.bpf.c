// SPDX-License-Identifier: GPL-2.0
/*
 * malloc.bpf.c -- bpf2rs example: a uprobe on libc's malloc().
 *
 * The section names the library the way libbpf does, without a directory
 * (`uprobe/libc.so.6:malloc`): the loader finds it through the dynamic
 * linker's cache. Per process it counts calls and bytes in `totals`, and
 * the requested sizes as a log2 histogram in `sizes`.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct totals {
	__u64 calls;
	__u64 bytes;
	__u64 largest;
};

/* Bucket b counts sizes in [2^b, 2^(b+1)); the key's 3 bytes of
 * padding are explicit in the generated Rust type. */
struct size_key {
	__u32 pid;
	__u8 bucket;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct totals);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct size_key);
	__type(value, __u64);
} sizes SEC(".maps");

static __u8 log2(__u64 v)
{
	__u8 b = 0;
	for (int i = 0; i < 63 && v > 1; i++) {
		v >>= 1;
		b++;
	}
	return b;
}

SEC("uprobe/libc.so.6:malloc")
int BPF_KPROBE(on_malloc, unsigned long size)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct totals zero = {}, *t = bpf_map_lookup_elem(&totals, &pid);
	if (!t) {
		bpf_map_update_elem(&totals, &pid, &zero, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&totals, &pid);
		if (!t)
			return 0;
	}
	__sync_fetch_and_add(&t->calls, 1);
	__sync_fetch_and_add(&t->bytes, size);
	if (size > t->largest)
		t->largest = size;

	struct size_key key = {};
	key.pid = pid;
	key.bucket = log2(size);
	__u64 one = 1, *n = bpf_map_lookup_elem(&sizes, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&sizes, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

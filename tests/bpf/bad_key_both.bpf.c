// SPDX-License-Identifier: GPL-2.0
/*
 * bad_key_both.bpf.c -- bpf2rs negative fixture: the BTF map definition
 * `bad_map` gives the key both as a type (__type(key, __u32)) and as a size
 * (__uint(key_size, 4)).  It compiles fine; a reader must reject it.
 *
 * Map: bad_map  HASH (1), key __u32 AND key_size 4 (conflict),
 *      value __u64 (8), max_entries 16.
 * Programs: bad_key_prog -> SEC("xdp").  License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__uint(key_size, 4);
	__type(value, __u64);
	__uint(max_entries, 16);
} bad_map SEC(".maps");

SEC("xdp")
int bad_key_prog(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&bad_map, &k);

	return v ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

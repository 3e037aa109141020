// SPDX-License-Identifier: GPL-2.0
/*
 * bad_unknown_field.bpf.c -- bpf2rs negative fixture: the BTF map
 * definition `odd_map` contains a member no loader knows about,
 * `frobnicate` (encoded like every __uint(): pointer to int[1]).
 * It compiles fine; a reader must reject it (libbpf does too).
 *
 * Map: odd_map  ARRAY (2), key __u32 (4), value __u32 (4),
 *      max_entries 8, unknown field frobnicate = 1.
 * Programs: odd_prog -> SEC("xdp").  License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 8);
	__uint(frobnicate, 1);
} odd_map SEC(".maps");

SEC("xdp")
int odd_prog(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u32 *v = bpf_map_lookup_elem(&odd_map, &k);

	return v ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

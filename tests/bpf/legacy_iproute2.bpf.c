// SPDX-License-Identifier: GPL-2.0
/*
 * legacy_iproute2.bpf.c -- bpf2rs fixture: legacy SEC("maps") definitions
 * using iproute2's struct bpf_elf_map (36 bytes per map, all u32):
 *   { type, size_key, size_value, max_elem, flags, id, pinning,
 *     inner_id, inner_idx }
 *
 * iproute2 pinning values: 0 = PIN_NONE, 1 = PIN_OBJECT_NS,
 * 2 = PIN_GLOBAL_NS (pinned by name under /sys/fs/bpf/tc/globals).
 * id / inner_id link a map-in-map outer map to its inner template;
 * inner_idx is the slot the inner map is placed in.
 *
 * Expected values (order in the "maps" section: tc_inner at offset 0,
 * tc_outer at offset 36; section size 72):
 *   tc_inner  ARRAY (2)          size_key 4, size_value 8, max_elem 16,
 *                                flags 0, id 1, pinning 0, inner_id 0,
 *                                inner_idx 0
 *   tc_outer  ARRAY_OF_MAPS (12) size_key 4, size_value 4, max_elem 4,
 *                                flags 0, id 0, pinning 2 (PIN_GLOBAL_NS),
 *                                inner_id 1, inner_idx 3
 *
 * Programs: ip_xdp -> SEC("xdp").  License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

#define PIN_NONE	0
#define PIN_OBJECT_NS	1
#define PIN_GLOBAL_NS	2

struct bpf_elf_map SEC("maps") tc_inner = {
	.type = BPF_MAP_TYPE_ARRAY,		/* 2 */
	.size_key = 4,
	.size_value = 8,
	.max_elem = 16,
	.flags = 0,
	.id = 1,
	.pinning = PIN_NONE,			/* 0 */
	.inner_id = 0,
	.inner_idx = 0,
};

struct bpf_elf_map SEC("maps") tc_outer = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS,	/* 12 */
	.size_key = 4,
	.size_value = 4,
	.max_elem = 4,
	.flags = 0,
	.id = 0,
	.pinning = PIN_GLOBAL_NS,		/* 2 */
	.inner_id = 1,
	.inner_idx = 3,
};

SEC("xdp")
int ip_xdp(struct xdp_md *ctx)
{
	__u32 slot = 3, idx = 0;
	__u64 *cnt;
	void *inner;

	inner = bpf_map_lookup_elem(&tc_outer, &slot);
	if (inner) {
		cnt = bpf_map_lookup_elem(inner, &idx);
		if (cnt)
			__sync_fetch_and_add(cnt, 1);
	}
	cnt = bpf_map_lookup_elem(&tc_inner, &idx);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

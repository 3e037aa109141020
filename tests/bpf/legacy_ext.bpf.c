// SPDX-License-Identifier: GPL-2.0
/*
 * legacy_ext.bpf.c -- bpf2rs fixture: legacy SEC("maps") definitions using
 * the 7-field form emitted by aya-ebpf (28 bytes per map, all u32):
 *   { type, key_size, value_size, max_entries, map_flags, id, pinning }
 *
 * aya's pinning values: 0 = none, 1 = by name (PinningType::ByName).
 * (Note: iproute2 uses a different numbering, see legacy_iproute2.bpf.c.)
 *
 * Expected values (order in the "maps" section: ext_pinned at offset 0,
 * ext_plain at offset 28; section size 56):
 *   ext_pinned  HASH (1)   key_size 4, value_size 8, max_entries 256,
 *                          map_flags BPF_F_NO_PREALLOC (1), id 0,
 *                          pinning 1 (by name)
 *   ext_plain   ARRAY (2)  key_size 4, value_size 4, max_entries 32,
 *                          map_flags 0, id 5, pinning 0 (none)
 *
 * Programs: ext_xdp -> SEC("xdp").  License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 id;
	__u32 pinning;
};

struct bpf_map_def SEC("maps") ext_pinned = {
	.type = BPF_MAP_TYPE_HASH,		/* 1 */
	.key_size = 4,
	.value_size = 8,
	.max_entries = 256,
	.map_flags = BPF_F_NO_PREALLOC,		/* 1 */
	.id = 0,
	.pinning = 1,				/* aya: by name */
};

struct bpf_map_def SEC("maps") ext_plain = {
	.type = BPF_MAP_TYPE_ARRAY,		/* 2 */
	.key_size = 4,
	.value_size = 4,
	.max_entries = 32,
	.map_flags = 0,
	.id = 5,
	.pinning = 0,				/* none */
};

SEC("xdp")
int ext_xdp(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex, idx = 0;
	__u64 one = 1, *cnt;
	__u32 *v;

	cnt = bpf_map_lookup_elem(&ext_pinned, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&ext_pinned, &key, &one, BPF_ANY);

	v = bpf_map_lookup_elem(&ext_plain, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * legacy.bpf.c -- bpf2rs fixture: legacy SEC("maps") map definitions using
 * the classic 5-field struct bpf_map_def (20 bytes per map, all u32):
 *   { type, key_size, value_size, max_entries, map_flags }
 *
 * This is the layout used by the old samples/bpf loader and libbpf < 1.0
 * (modern libbpf rejects SEC("maps"); this object need not load).
 *
 * Expected values (order in the "maps" section: legacy_hash at offset 0,
 * legacy_arr at offset 20; section size 40):
 *   legacy_hash  HASH (1)   key_size 4, value_size 8, max_entries 1024,
 *                           map_flags BPF_F_NO_PREALLOC (1)
 *   legacy_arr   ARRAY (2)  key_size 4, value_size 16, max_entries 64,
 *                           map_flags 0
 *
 * Programs: sock_prog -> SEC("socket").  License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,		/* 1 */
	.key_size = 4,
	.value_size = 8,
	.max_entries = 1024,
	.map_flags = BPF_F_NO_PREALLOC,		/* 1 */
};

struct bpf_map_def SEC("maps") legacy_arr = {
	.type = BPF_MAP_TYPE_ARRAY,		/* 2 */
	.key_size = 4,
	.value_size = 16,
	.max_entries = 64,
	.map_flags = 0,
};

struct arr_val {
	__u64 packets;
	__u64 bytes;
};

SEC("socket")
int sock_prog(struct __sk_buff *skb)
{
	__u32 key = skb->protocol;
	__u64 one = 1, *cnt;
	struct arr_val *av;
	__u32 idx = 0;

	cnt = bpf_map_lookup_elem(&legacy_hash, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&legacy_hash, &key, &one, BPF_ANY);

	av = bpf_map_lookup_elem(&legacy_arr, &idx);
	if (av) {
		__sync_fetch_and_add(&av->packets, 1);
		__sync_fetch_and_add(&av->bytes, skb->len);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

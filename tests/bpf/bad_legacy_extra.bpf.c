// SPDX-License-Identifier: GPL-2.0
/*
 * bad_legacy_extra.bpf.c -- bpf2rs fixture: legacy SEC("maps") definitions
 * of 6 u32 fields (24 bytes): struct bpf_map_def's 5 fields and one no
 * known form has. **The reader must reject it**, naming `odd_tail`: its
 * 6th field is non-zero, a setting bpf2rs would otherwise drop without a
 * word (libbpf < 1.0 refused the same: "has unrecognized, non-zero
 * options"). `zero_tail` has the same field left zero, which is accepted.
 *
 * Expected values (order in the "maps" section: zero_tail at offset 0,
 * odd_tail at offset 24; section size 48):
 *   zero_tail  HASH (1)   key_size 4, value_size 8, max_entries 64,
 *                         map_flags 0, frobnicate 0
 *   odd_tail   ARRAY (2)  key_size 4, value_size 8, max_entries 4,
 *                         map_flags 0, frobnicate 7 (bytes 20..24)
 *
 * Programs: odd_xdp -> SEC("xdp").  License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def_plus {
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 frobnicate;
};

struct bpf_map_def_plus SEC("maps") zero_tail = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 64,
};

struct bpf_map_def_plus SEC("maps") odd_tail = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 4,
	.frobnicate = 7,
};

SEC("xdp")
int odd_xdp(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&zero_tail, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&odd_tail, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

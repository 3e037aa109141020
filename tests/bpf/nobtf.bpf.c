// SPDX-License-Identifier: GPL-2.0
/*
 * nobtf.bpf.c -- bpf2rs fixture: an object WITHOUT BTF (build.sh compiles
 * nobtf*.bpf.c without -g, so there is no .BTF / .BTF.ext and no DWARF).
 * The only map is a legacy SEC("maps") definition (5-field bpf_map_def,
 * 20 bytes), so a reader can still find maps from ELF symbols alone.
 *
 * Map: nobtf_cnt  ARRAY (2), key_size 4, value_size 8, max_entries 4,
 *      map_flags 0  (offset 0 in "maps", section size 20).
 * Programs: nobtf_xdp -> SEC("xdp").  License: "GPL".
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

struct bpf_map_def SEC("maps") nobtf_cnt = {
	.type = BPF_MAP_TYPE_ARRAY,		/* 2 */
	.key_size = 4,
	.value_size = 8,
	.max_entries = 4,
	.map_flags = 0,
};

SEC("xdp")
int nobtf_xdp(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&nobtf_cnt, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

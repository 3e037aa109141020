// SPDX-License-Identifier: GPL-2.0
/*
 * bad_maps_init.bpf.c -- bpf2rs fixture: a BTF `.maps` definition with an
 * initialiser outside `values`. **The reader must reject it**, naming
 * `init_key` and its field `key`.
 *
 * `.key = (void *)1` writes the pointer value 1 into the definition's
 * bytes (bytes 16..24, the third member), which BTF does not describe:
 * a BTF definition is read from its member types, and the section bytes
 * stay zero except the `values` slots that `.rel.maps` fills. cilium/ebpf
 * refuses any non-zero definition byte ("initializing BTF map
 * definitions"). `plain` before it is an ordinary, all-zero definition.
 *
 * .maps layout: init_key at offset 0 (32 bytes), plain at 0x20 (32 bytes).
 * Programs: init_xdp -> SEC("xdp").  License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} init_key SEC(".maps") = {
	.key = (void *)1,
};

SEC("xdp")
int init_xdp(struct xdp_md *ctx)
{
	__u32 key = 0;

	bpf_map_lookup_elem(&plain, &key);
	bpf_map_lookup_elem(&init_key, &key);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

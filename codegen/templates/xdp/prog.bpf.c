// SPDX-License-Identifier: GPL-2.0
/*
 * {{obj}}.bpf.c: counts the packets arriving on an interface, by IP
 * protocol, with XDP.
 *
 * Every IPv4 frame adds to the `struct counters` of its protocol number in
 * the array `protocols` (6 TCP, 17 UDP, ...); other frames add to the
 * global `other_frames`. Every frame passes on to the network stack.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800 /* a macro, so not in vmlinux.h */

struct counters {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct counters);
} protocols SEC(".maps");

__u64 other_frames = 0;

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	/* The verifier insists: no read past `end`. */
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) {
		__sync_fetch_and_add(&other_frames, 1);
		return XDP_PASS;
	}
	__u32 protocol = ip->protocol;
	struct counters *c = bpf_map_lookup_elem(&protocols, &protocol);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, end - data);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

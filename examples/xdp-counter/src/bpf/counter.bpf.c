// SPDX-License-Identifier: GPL-2.0
// Counts packets and bytes per (EtherType, IP protocol) in a hash map.
// Packets shorter than `min_len` (set from user space before load) are
// counted in .bss `too_short` instead.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct pkt_key {
	__u16 eth_proto;
	__u8 ip_proto;
	/* 1 byte of padding */
};

struct counters {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct pkt_key);
	__type(value, struct counters);
} stats SEC(".maps");

const volatile __u32 min_len = 0;
__u64 too_short;
__u64 total;

SEC("xdp")
int count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct pkt_key key = {};
	struct counters *c, zero = {};
	__u64 len = end - data;

	__sync_fetch_and_add(&total, 1);
	if (len < min_len || (void *)(eth + 1) > end) {
		__sync_fetch_and_add(&too_short, 1);
		return XDP_PASS;
	}
	key.eth_proto = bpf_ntohs(eth->h_proto);
	if (key.eth_proto == ETH_P_IP) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) <= end)
			key.ip_proto = ip->protocol;
	}
	c = bpf_map_lookup_elem(&stats, &key);
	if (!c) {
		bpf_map_update_elem(&stats, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&stats, &key);
		if (!c)
			return XDP_ABORTED;
	}
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, len);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

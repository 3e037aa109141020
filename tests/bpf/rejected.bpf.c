// SPDX-License-Identifier: GPL-2.0
// A program the verifier must reject: it reads packet bytes without
// checking them against data_end. Also has maps, so a failed load has
// something to clean up.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

__u64 counter;

SEC("xdp")
int unchecked(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	__u32 k = data[20];	/* no bounds check */
	__u64 one = 1;
	bpf_map_update_elem(&seen, &k, &one, BPF_ANY);
	counter++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

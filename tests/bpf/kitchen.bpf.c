// SPDX-License-Identifier: GPL-2.0
// Skeleton fixture: every map form the loader handles, in one object, and
// global data in .rodata, .data and .bss.
//
// `on_packet` (XDP, run with test_run):
//   - reads cfg_mode from .rodata: mode 1 counts into flows under proto 1,
//     any other mode under proto 2 (so setting .rodata before load is seen);
//   - updates `flows` (HASH, BTF key/value; the value has padding and
//     bitfields): packets += 1, bytes += packet length, syn bitfield = 1,
//     kind bitfield = cfg_mode (3 bits, signed);
//   - adds 1 to `per_cpu` (PERCPU_ARRAY) slot 0;
//   - adds 1 to slot 0 of the inner map at outer[1] (ARRAY_OF_MAPS,
//     statically pre-populated with `inner`);
//   - adds 1 to `legacy_counts` (legacy `maps` HASH) key 7;
//   - increments .bss `packets_seen` and .data `data_counter` (starts at 100);
//   - tail-calls jmp_table[3] (PROG_ARRAY, statically pre-populated with
//     `tail`), which sets .bss `tail_hits` += 1.
// `pinned` is LIBBPF_PIN_BY_NAME.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow_key {
	__u32 addr;
	__u16 port;
	__u8 proto;
	/* 1 byte of padding */
};

struct flow_stats {
	__u64 packets;
	__u32 bytes;
	unsigned int syn : 1;
	int kind : 3;
	unsigned int rest : 28;
	__u8 tos;
	/* 7 bytes of padding */
	__u64 last;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [1] = &inner },
};

int tail(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} jmp_table SEC(".maps") = {
	.values = { [3] = (void *)&tail },
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned SEC(".maps");

struct legacy_def {
	unsigned int type, key_size, value_size, max_entries, map_flags;
};

struct legacy_def legacy_counts SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 16,
	.map_flags = 0,
};

const volatile __u32 cfg_mode = 1;
__u64 data_counter = 100;
__u64 packets_seen;
__u64 tail_hits;

SEC("xdp")
int tail(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&tail_hits, 1);
	return XDP_PASS;
}

SEC("xdp")
int on_packet(struct xdp_md *ctx)
{
	__u32 zero = 0, one = 1, seven = 7;
	struct flow_key key;
	struct flow_stats init = {}, *st;
	__u64 *v, *inner_v;
	void *inner_map;

	/* Zero the padding too: it is part of the hash key. */
	__builtin_memset(&key, 0, sizeof(key));
	key.addr = 0x0a000001;
	key.port = 80;
	key.proto = cfg_mode == 1 ? 1 : 2;
	st = bpf_map_lookup_elem(&flows, &key);
	if (!st) {
		bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&flows, &key);
		if (!st)
			return XDP_ABORTED;
	}
	st->packets += 1;
	st->bytes += ctx->data_end - ctx->data;
	st->syn = 1;
	st->kind = cfg_mode;
	st->tos = 0x10;
	st->last = 0xfeedface;

	v = bpf_map_lookup_elem(&per_cpu, &zero);
	if (v)
		*v += 1;

	inner_map = bpf_map_lookup_elem(&outer, &one);
	if (inner_map) {
		inner_v = bpf_map_lookup_elem(inner_map, &zero);
		if (inner_v)
			__sync_fetch_and_add(inner_v, 1);
	}

	v = bpf_map_lookup_elem(&legacy_counts, &seven);
	if (v) {
		__sync_fetch_and_add(v, 1);
	} else {
		__u64 first = 1;
		bpf_map_update_elem(&legacy_counts, &seven, &first, BPF_ANY);
	}

	v = bpf_map_lookup_elem(&pinned, &zero);
	if (v)
		__sync_fetch_and_add(v, 1);

	__sync_fetch_and_add(&packets_seen, 1);
	__sync_fetch_and_add(&data_counter, 1);
	bpf_tail_call(ctx, &jmp_table, 3);
	return XDP_DROP; /* only reached when the tail call fails */
}

char LICENSE[] SEC("license") = "GPL";

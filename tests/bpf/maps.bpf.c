// SPDX-License-Identifier: GPL-2.0
/*
 * maps.bpf.c -- bpf2rs fixture: BTF-style map definitions in SEC(".maps").
 *
 * Covers every field libbpf understands in a BTF map definition:
 *   type, key / value (__type), key_size / value_size (__uint), max_entries,
 *   map_flags, numa_node, pinning, map_extra, values (__array, for
 *   map-in-map inner templates and static initialisation of ARRAY_OF_MAPS and
 *   PROG_ARRAY).
 *
 * Expected values (every number below is a literal the reader must find):
 *   flow_table   HASH (1)              key struct flow_key (16 B, has padding)
 *                                      value struct flow_stats (24 B, padding)
 *                                      max_entries 10240
 *   icmpcnt      ARRAY (2)             key __u32 (4), value struct my_value
 *                                      (12 B), max_entries 256
 *   raw_sizes    HASH (1)              key_size 4, value_size 8 (no BTF types),
 *                                      max_entries 128
 *   noprealloc   HASH (1)              key 4, value 8, max_entries 512,
 *                                      map_flags BPF_F_NO_PREALLOC (1)
 *   numa_map     HASH (1)              key 4, value 8, max_entries 64,
 *                                      map_flags BPF_F_NUMA_NODE (4), numa_node 0
 *   pinned_map   ARRAY (2)             key 4, value 8, max_entries 16,
 *                                      pinning LIBBPF_PIN_BY_NAME (1)
 *   bloom        BLOOM_FILTER (30)     no key (key_size 0), value __u32 (4),
 *                                      max_entries 1000, map_extra 3
 *   lru          LRU_HASH (9)          key 4, value 8, max_entries 2048
 *   pcpu_arr     PERCPU_ARRAY (6)      key 4, value 8, max_entries 4
 *   events_rb    RINGBUF (27)          max_entries 262144 (4096 * 64)
 *   perf_events  PERF_EVENT_ARRAY (4)  key_size 4, value_size 4, max_entries 0
 *   inner_a      ARRAY (2)             key 4, value 8, max_entries 4
 *   outer_arr    ARRAY_OF_MAPS (12)    key 4, max_entries 8, inner template
 *                                      ARRAY key 4 value 8 max_entries 4,
 *                                      static values: slot 1 = inner_a
 *   outer_hash   HASH_OF_MAPS (13)     key 4, max_entries 16, same inner
 *                                      template, no static values
 *   jmp_table    PROG_ARRAY (3)        key_size 4, value_size 4, max_entries 4,
 *                                      static values: slot 2 = tail_prog
 *
 * Programs: entry -> SEC("xdp"), tail_prog -> SEC("xdp").
 * License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow_key {
	__u32 saddr;	/* offset 0 */
	__u32 daddr;	/* offset 4 */
	__u16 sport;	/* offset 8 */
	__u16 dport;	/* offset 10 */
	__u8 proto;	/* offset 12, then 3 bytes tail padding -> size 16 */
};

struct flow_stats {
	__u32 flags;	/* offset 0, then 4 bytes padding */
	__u64 packets;	/* offset 8 */
	__u64 bytes;	/* offset 16 -> size 24 */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
	__uint(max_entries, 10240);
} flow_table SEC(".maps");

/* The example from the kernel's BPF maps documentation. */
struct my_value {
	int x, y, z;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct my_value);
	__uint(max_entries, 256);
} icmpcnt SEC(".maps");

/* Sizes given as numbers instead of types. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__uint(max_entries, 128);
} raw_sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 512);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* 1 */
} noprealloc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NUMA_NODE);	/* 4 */
	__uint(numa_node, 0);
} numa_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
	__uint(pinning, LIBBPF_PIN_BY_NAME);	/* 1 */
} pinned_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, __u32);
	__uint(max_entries, 1000);
	__uint(map_extra, 3);			/* number of hash functions */
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2048);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} pcpu_arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 64);		/* 262144 */
} events_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
} perf_events SEC(".maps");

/* Map-in-map: the inner map is declared first. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 8);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, 4);
		__type(key, __u32);
		__type(value, __u64);
	});
} outer_arr SEC(".maps") = {
	/* inner_a's anonymous struct type differs from the __array() template
	 * type, which clang warns about; the BTF is what matters here. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wincompatible-pointer-types"
	.values = { [1] = &inner_a },
#pragma clang diagnostic pop
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 16);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, 4);
		__type(key, __u32);
		__type(value, __u64);
	});
} outer_hash SEC(".maps");

/* Forward declaration so the program array can reference it statically. */
int tail_prog(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));	/* 4 */
	__uint(value_size, sizeof(__u32));	/* 4 */
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = { [2] = (void *)&tail_prog },
};

SEC("xdp")
int tail_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	struct flow_key fk = {};
	struct flow_stats fs = {}, *fsp;
	struct my_value *mv;
	__u32 k0 = 0, k1 = 1, bloom_val = 42;
	__u64 v = 1, *vp;
	void *inner;

	fk.proto = 17;
	fsp = bpf_map_lookup_elem(&flow_table, &fk);
	if (fsp)
		__sync_fetch_and_add(&fsp->packets, 1);
	else
		bpf_map_update_elem(&flow_table, &fk, &fs, BPF_NOEXIST);

	mv = bpf_map_lookup_elem(&icmpcnt, &k0);
	if (mv)
		mv->x += 1;

	bpf_map_update_elem(&raw_sizes, &k0, &v, BPF_ANY);
	bpf_map_update_elem(&noprealloc, &k0, &v, BPF_ANY);
	bpf_map_update_elem(&numa_map, &k0, &v, BPF_ANY);

	vp = bpf_map_lookup_elem(&pinned_map, &k0);
	if (vp)
		*vp += 1;

	if (bpf_map_peek_elem(&bloom, &bloom_val) != 0)
		bpf_map_push_elem(&bloom, &bloom_val, BPF_ANY);

	bpf_map_update_elem(&lru, &k0, &v, BPF_ANY);

	vp = bpf_map_lookup_elem(&pcpu_arr, &k0);
	if (vp)
		*vp += 1;

	bpf_ringbuf_output(&events_rb, &v, sizeof(v), 0);
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &v, sizeof(v));

	vp = bpf_map_lookup_elem(&inner_a, &k0);
	if (vp)
		*vp += 1;

	inner = bpf_map_lookup_elem(&outer_arr, &k1);
	if (inner) {
		vp = bpf_map_lookup_elem(inner, &k0);
		if (vp)
			*vp += 1;
	}

	inner = bpf_map_lookup_elem(&outer_hash, &k0);
	if (inner) {
		vp = bpf_map_lookup_elem(inner, &k0);
		if (vp)
			*vp += 1;
	}

	bpf_tail_call(ctx, &jmp_table, 2);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

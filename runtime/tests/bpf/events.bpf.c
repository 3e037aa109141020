// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Producers for the ring buffer and perf buffer tests (kernel_ringbuf.rs,
// kernel_perf.rs). Each XDP program is run with BPF_PROG_TEST_RUN; one run
// emits one event whose seq comes from counters[0].
//
// counters: [0] next seq, [1] failed ringbuf reserves, [2] failed perf
//           outputs (other than a full buffer), [3] perf outputs the kernel
//           refused for lack of room (-ENOSPC; it reports them as lost too)
// cfg:      [0] ring mode (see emit_ring), [1] emit_perf's event (see there)
//
// The user ring buffer test loads its own hand-assembled drainer (the
// callback of bpf_user_ringbuf_drain), see kernel_ringbuf.rs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define K 0x0101010101010101ULL

/* 64 bytes; every field is a function of seq the tests recompute. */
struct event {
	__u64 seq;
	__u32 cpu;
	__u32 kind;
	__u64 payload[6];
};

/* Puts `struct event` in the object's BTF (clang emits BTF only for types
 * that globals, maps or function signatures use), so a skeleton can type
 * the ring buffer with it. */
struct event *unused_event_type __attribute__((unused));

/* A longer record: an event followed by a tail. */
struct long_event {
	struct event e;
	__u64 tail[4];
};

/* 16 bytes, 16-aligned: ring records start 8-aligned, so these land on a
 * 16-aligned place or not, in turn; perf samples never do. */
struct aligned_event {
	__u64 seq;
	__u32 tag;
} __attribute__((aligned(16)));

/* 32 bytes: the aligned member sits at 16, after 8 bytes of padding. */
struct outer_event {
	__u32 kind;
	__u32 cpu;
	struct aligned_event inner;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* A second ring for the poller test. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} cfg SEC(".maps");

static __always_inline void count(void *map, __u32 k)
{
	__u64 *v = bpf_map_lookup_elem(map, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline __u64 cfg_get(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&cfg, &k);
	return v ? *v : 0;
}

static __always_inline int next_seq(__u64 *seq)
{
	__u32 k = 0;
	__u64 *p = bpf_map_lookup_elem(&counters, &k);
	if (!p)
		return -1;
	*seq = __sync_fetch_and_add(p, 1);
	return 0;
}

static __always_inline void fill(struct event *e, __u64 seq, __u32 kind)
{
	e->seq = seq;
	e->cpu = bpf_get_smp_processor_id();
	e->kind = kind;
#pragma unroll
	for (int i = 0; i < 6; i++)
		e->payload[i] = seq ^ (K * (i + 1));
}

static __always_inline void fill_aligned(struct aligned_event *a, __u64 seq)
{
	a->seq = seq;
	a->tag = (__u32)(seq * 7 + 1);
}

static __always_inline void fill_outer(struct outer_event *o, __u64 seq, __u32 kind)
{
	o->kind = kind;
	o->cpu = bpf_get_smp_processor_id();
	fill_aligned(&o->inner, seq);
}

/* cfg[0]: 0 event; 1 a 4-byte record (shorter than struct event);
 * 2 discard when seq % 3 == 1; 3 long_event; 4 event in events2 as well;
 * 5 aligned_event; 6 outer_event. */
SEC("xdp")
int emit_ring(struct xdp_md *ctx)
{
	__u64 seq;
	if (next_seq(&seq))
		return XDP_PASS;
	__u64 mode = cfg_get(0);

	if (mode == 5) {
		struct aligned_event *a = bpf_ringbuf_reserve(&events, sizeof(*a), 0);
		if (!a) {
			count(&counters, 1);
			return XDP_PASS;
		}
		fill_aligned(a, seq);
		bpf_ringbuf_submit(a, 0);
		return XDP_PASS;
	}
	if (mode == 6) {
		struct outer_event *o = bpf_ringbuf_reserve(&events, sizeof(*o), 0);
		if (!o) {
			count(&counters, 1);
			return XDP_PASS;
		}
		fill_outer(o, seq, 6);
		bpf_ringbuf_submit(o, 0);
		return XDP_PASS;
	}

	if (mode == 1) {
		__u32 small = (__u32)seq;
		if (bpf_ringbuf_output(&events, &small, sizeof(small), 0))
			count(&counters, 1);
		return XDP_PASS;
	}
	if (mode == 3) {
		struct long_event *l = bpf_ringbuf_reserve(&events, sizeof(*l), 0);
		if (!l) {
			count(&counters, 1);
			return XDP_PASS;
		}
		fill(&l->e, seq, 3);
#pragma unroll
		for (int i = 0; i < 4; i++)
			l->tail[i] = seq + i;
		bpf_ringbuf_submit(l, 0);
		return XDP_PASS;
	}
	if (mode == 4) {
		struct event *e2 = bpf_ringbuf_reserve(&events2, sizeof(*e2), 0);
		if (e2) {
			fill(e2, seq, 4);
			bpf_ringbuf_submit(e2, 0);
		} else {
			count(&counters, 1);
		}
	}

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(&counters, 1);
		return XDP_PASS;
	}
	fill(e, seq, (__u32)mode);
	if (mode == 2 && seq % 3 == 1)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

/* One event into this CPU's perf buffer: cfg[1] 0 struct event, 1
 * aligned_event, 2 outer_event. */
SEC("xdp")
int emit_perf(struct xdp_md *ctx)
{
	__u64 seq;
	long err;
	if (next_seq(&seq))
		return XDP_PASS;
	__u64 kind = cfg_get(1);
	if (kind == 1) {
		struct aligned_event a = {};
		fill_aligned(&a, seq);
		err = bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &a, sizeof(a));
	} else if (kind == 2) {
		struct outer_event o = {};
		fill_outer(&o, seq, 7);
		err = bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &o, sizeof(o));
	} else {
		struct event e;
		fill(&e, seq, 5);
		err = bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	}
	if (err == -28 /* ENOSPC */)
		count(&counters, 3);
	else if (err)
		count(&counters, 2);
	return XDP_PASS;
}

/* The same from a raw tracepoint program: BPF_PROG_TEST_RUN runs it on a
 * chosen CPU (BPF_F_TEST_RUN_ON_CPU), which makes that CPU's perf buffer
 * write the PERF_RECORD_LOST it owes. */
SEC("raw_tp/sys_enter")
int flush_perf(void *ctx)
{
	__u64 seq;
	if (next_seq(&seq))
		return 0;
	struct event e;
	fill(&e, seq, 6);
	long err = bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	if (err == -28 /* ENOSPC */)
		count(&counters, 3);
	else if (err)
		count(&counters, 2);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// SPDX-License-Identifier: GPL-2.0
// Skeleton fixture: C alignment the generator must not overstate, and one
// map of every family the skeleton types (issue 11).
//
// `on_getpid` (tracepoint syscalls/sys_enter_getpid), for the thread whose
// id is .rodata `target_tid`:
//   - counts .bss `packets_seen` and fills .bss `last_event`, a struct
//     whose C alignment is 16 (it holds `struct wide`, aligned(16)) and
//     which holds a packed struct;
//   - submits `last_event` to the ring buffer `events` and to the perf
//     buffer `perf_events`;
//   - looks 10.1.2.3 up in the LPM trie `routes` into .bss `route`;
//   - adds 1 to slot 0 of the inner array at `outer_arr[0]` (statically
//     `inner_a`) and to key 7 of the inner hash at `outer_hash[7]`;
//   - stores `bpf_get_stackid(USER_STACK)` of `stacks` in .bss `stack_id`;
//   - stores `bpf_current_task_under_cgroup(&cgroups, 0)` in .bss
//     `under_cgroup`;
//   - copies `pairs[1]` (a map with sizes only, typed by the build with a
//     Rust type) into .bss `pair_sum` as `a + b`.
// .data holds a byte, then a packed struct whose members are naturally
// placed (only its offset shows that C packs it), then a u64.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum flow_kind { FLOW_TCP = 1, FLOW_UDP = 2 };

struct packed_hdr {
	__u8 version;
	__u32 length;
	__u16 flags;
} __attribute__((packed));

struct wide {
	__u64 lo;
	__u32 tag;
} __attribute__((aligned(16)));

struct event {
	__u64 seq;
	__u32 pid;
	enum flow_kind kind;
	struct packed_hdr hdr;
	struct wide w;
	char msg[12];
}; /* C: size 64, alignment 16 */

struct packed_pair {
	__u32 a;
	__u32 b;
} __attribute__((packed));

struct lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

const volatile __u32 target_tid;

__u64 packets_seen;
struct event last_event;
__u32 route;
__s64 stack_id;
__s64 under_cgroup;
__u64 pair_sum;

__u8 data_flag = 1;
struct packed_pair data_pair = { .a = 3, .b = 4 };
__u64 data_total = 5;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4);
	__type(value, __u32);
} routes SEC(".maps");

struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_array);
} outer_arr SEC(".maps") = {
	.values = { [0] = &inner_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 8);
		__type(key, __u32);
		__type(value, __u64);
	});
} outer_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 16 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cgroups SEC(".maps");

/* Sizes only: the build names a Rust type for the value. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 2 * sizeof(__u32));
} pairs SEC(".maps");

SEC("tp/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 zero = 0, seven = 7, one = 1;
	struct lpm_v4 addr = { .prefixlen = 32, .addr = { 10, 1, 2, 3 } };
	__u32 *hit;
	__u64 *count;
	void *inner;
	__u32 *pair;

	if ((__u32)pid_tgid != target_tid)
		return 0;
	packets_seen++;

	last_event.seq = packets_seen;
	last_event.pid = pid_tgid >> 32;
	last_event.kind = FLOW_UDP;
	last_event.hdr.version = 4;
	last_event.hdr.length = 0x01020304;
	last_event.hdr.flags = 0xbeef;
	last_event.w.lo = packets_seen * 10;
	last_event.w.tag = 7;
	__builtin_memcpy(last_event.msg, "hello, bpf!", 12);
	bpf_ringbuf_output(&events, &last_event, sizeof(last_event), 0);
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &last_event,
			      sizeof(last_event));

	hit = bpf_map_lookup_elem(&routes, &addr);
	route = hit ? *hit : 0;

	inner = bpf_map_lookup_elem(&outer_arr, &zero);
	if (inner) {
		count = bpf_map_lookup_elem(inner, &zero);
		if (count)
			__sync_fetch_and_add(count, 1);
	}
	inner = bpf_map_lookup_elem(&outer_hash, &seven);
	if (inner) {
		count = bpf_map_lookup_elem(inner, &seven);
		if (count)
			__sync_fetch_and_add(count, 1);
	}

	stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	under_cgroup = bpf_current_task_under_cgroup(&cgroups, 0);

	pair = bpf_map_lookup_elem(&pairs, &one);
	pair_sum = pair ? (__u64)pair[0] + pair[1] : 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * core_tools.bpf.c -- bpf2rs fixture: programs written the way
 * libbpf-tools writes them (execsnoop, runqlat, biolatency, opensnoop),
 * against a vmlinux.h of the running kernel. Covers for the loader:
 *   - tracepoint + ring buffer + BPF_CORE_READ chains (execsnoop)
 *   - tp_btf and raw_tp sched programs reading task state through the
 *     __state / state___pre_5_14 flavor pair (runqlat's get_task_state)
 *   - tp_btf block_rq_complete with bpf_core_field_exists, and
 *     bpf_core_type_exists on a flavor of trace_event_raw_block_rq_completion
 *     (present since 6.x, so the flavor resolves to it)
 *   - kprobe with BPF_KPROBE (CO-RE reads of struct pt_regs)
 *   - a CO-RE read inside a static subprogram and a bpf_loop callback
 *   - bpf_core_type_matches and bpf_core_enum_value_exists
 *   - BPF_CORE_READ_BITFIELD_PROBED of task_struct.in_execve (byte_sz,
 *     signed, lshift_u64, rshift_u64 relocations)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#ifndef bpf_core_type_matches
#define bpf_core_type_matches(type) __builtin_preserve_type_info(*(typeof(type) *)0, 2 /* BPF_TYPE_MATCHES */)
#endif

struct event {
	__u32 pid;
	__u32 ppid;
	__u64 delta_ns;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

__u64 hist[32];
__u64 loops;

/* runqlat's helper: the field was renamed in 5.14. */
struct task_struct___pre_5_14 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long get_task_state(void *task)
{
	struct task_struct___pre_5_14 *t = task;

	if (bpf_core_field_exists(t->state))
		return BPF_CORE_READ(t, state);
	return BPF_CORE_READ((struct task_struct *)task, __state);
}

/* A flavor: matches the kernel's trace_event_raw_block_rq_completion by name. */
struct trace_event_raw_block_rq_completion___bpf2rs_never {
	dev_t dev;
} __attribute__((preserve_access_index));

static __noinline __u32 parent_tgid(struct task_struct *t)
{
	return BPF_CORE_READ(t, real_parent, tgid);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = parent_tgid(task);
	e->delta_ns = BPF_CORE_READ(task, start_time);
	e->delta_ns += BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline int trace_enqueue(__u32 pid)
{
	__u64 ts = bpf_ktime_get_ns();

	if (!pid)
		return 0;
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, pid));
}

static __always_inline int handle_switch(struct task_struct *prev, struct task_struct *next)
{
	__u32 pid = BPF_CORE_READ(next, pid);
	__u64 *tsp, delta;
	__u32 slot;

	if (get_task_state(prev) == 0 /* TASK_RUNNING */)
		trace_enqueue(BPF_CORE_READ(prev, pid));
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = (bpf_ktime_get_ns() - *tsp) / 1000;
	slot = 0;
	while (delta > 1 && slot < 31) {
		delta >>= 1;
		slot++;
	}
	__sync_fetch_and_add(&hist[slot & 31], 1);
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(prev, next);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(prev, next);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	__u64 v = 0;

	if (bpf_core_field_exists(rq->q))
		v += BPF_CORE_READ(rq, q, queue_depth);
	if (bpf_core_type_exists(struct trace_event_raw_block_rq_completion___bpf2rs_never))
		v += 1000;
	if (bpf_core_type_matches(struct list_head))
		v += 1;
	if (bpf_core_enum_value_exists(enum req_op, REQ_OP_READ))
		v += bpf_core_enum_value(enum req_op, REQ_OP_READ);
	hist[0] += v;
	return 0;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat, int dfd, struct filename *name)
{
	const char *fname = BPF_CORE_READ(name, name);
	char buf[16];

	bpf_probe_read_kernel_str(buf, sizeof(buf), fname);
	return dfd == 0;
}

struct loop_ctx {
	struct task_struct *task;
};

static long loop_cb(__u32 i, void *ctx)
{
	struct task_struct *t = ((struct loop_ctx *)ctx)->task;

	loops += BPF_CORE_READ(t, pid) ? 1 : 0;
	return i >= 3;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint__syscalls__sys_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	struct loop_ctx lc = { .task = (struct task_struct *)bpf_get_current_task() };

	if (ctx->args[1] == 0)
		return 0;
	bpf_loop(8, loop_cb, &lc, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * tools.bpf.c -- bpf2rs fixture: two small tracing tools written the way
 * libbpf-tools writes them, against a vmlinux.h of the running kernel, that
 * the tests attach through the generated skeleton and then check against
 * what they did themselves:
 *   - execsnoop: tracepoint/sched/sched_process_exec streams one `struct
 *     event` per exec through the ring buffer `events` (pid, parent tgid via
 *     BPF_CORE_READ, uid, comm, and the filename read from the tracepoint's
 *     __data_loc field); only children of `targ_ppid` when it is set. A full
 *     ring buffer counts into `dropped` so nothing is lost silently.
 *   - runqlat: tp_btf/sched_wakeup, tp_btf/sched_wakeup_new and
 *     raw_tp/sched_switch record wakeup-to-run latency in microseconds into
 *     the log2 histogram `hist` for the threads of `targ_tgid`; the task
 *     state is read through the __state / state___pre_5_14 flavor pair.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16
#define MAX_FILENAME 64
#define MAX_SLOTS 32

struct event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 filename_len;
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME];
};

const volatile __u32 targ_ppid = 0;
const volatile __u32 targ_tgid = 0;

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

__u64 hist[MAX_SLOTS];
__u64 dropped;
/* Puts `struct event` into the BTF for the skeleton's typed ring buffer. */
struct event *unused_event __attribute__((unused));

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 ppid = BPF_CORE_READ(task, real_parent, tgid);
	unsigned int off;
	struct event *e;
	long n;

	if (targ_ppid && ppid != targ_ppid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = ppid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	off = ctx->__data_loc_filename & 0xffff;
	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + off);
	e->filename_len = n > 0 ? n - 1 : 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

struct task_struct___pre_5_14 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	struct task_struct___pre_5_14 *old = (void *)t;

	if (bpf_core_field_exists(old->state))
		return BPF_CORE_READ(old, state);
	return BPF_CORE_READ(t, __state);
}

static __always_inline int enqueue(struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u64 ts;

	if (!pid || BPF_CORE_READ(p, tgid) != targ_tgid)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	return enqueue(p);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	return enqueue(p);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 pid = BPF_CORE_READ(next, pid);
	__u64 *tsp, delta;
	__u32 slot = 0;

	if (task_state(prev) == 0 /* TASK_RUNNING: preempted, back in the queue */)
		enqueue(prev);
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = (bpf_ktime_get_ns() - *tsp) / 1000;
	while (delta > 1 && slot < MAX_SLOTS - 1) {
		delta >>= 1;
		slot++;
	}
	__sync_fetch_and_add(&hist[slot & (MAX_SLOTS - 1)], 1);
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

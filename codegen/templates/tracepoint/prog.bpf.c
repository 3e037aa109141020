// SPDX-License-Identifier: GPL-2.0
/*
 * {{obj}}.bpf.c: one event per program started on the machine.
 *
 * The tracepoint sched/sched_process_exec sends a `struct event` (pid,
 * parent pid, command, file name) through the ring buffer `events`. The
 * types come from vmlinux.h, which build.rs generates from this kernel's
 * BTF; reads through them (`BPF_CORE_READ`) are relocated at load time to
 * the field offsets of the kernel that runs the program (CO-RE).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define FILENAME_LEN 128

struct event {
	__u32 pid;
	__u32 ppid;
	char comm[16];
	char filename[FILENAME_LEN];
};
/* clang writes BTF only for the types something uses: this puts `struct
 * event` in it, so the skeleton can type the ring buffer's records. */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Events the ring buffer had no room for; user space reports them. */
__u64 dropped = 0;

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* The file name follows the record; the low 16 bits of its
	 * __data_loc field are its offset from the record's start. */
	unsigned int offset = ctx->__data_loc_filename & 0xFFFF;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + offset);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

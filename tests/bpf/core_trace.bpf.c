// SPDX-License-Identifier: GPL-2.0
/*
 * core_trace.bpf.c -- bpf2rs fixture: a tracing object written like common
 * tools, against a vmlinux.h generated from the running kernel (build.sh
 * makes tests/bpf/vmlinux.h; it is not committed).
 *
 * Programs and what they need from the loader:
 *   tp_btf/sched_process_exec  attach_btf_id of btf_trace_sched_process_exec;
 *                              CO-RE: task->pid, task->tgid,
 *                              task->real_parent->tgid, bprm->filename
 *                              (BPF_CORE_READ), bpf_core_enum_value(enum
 *                              pid_type, PIDTYPE_TGID), field_exists on a
 *                              flavor with a missing field (unreachable
 *                              poisoned read), type_exists, type_size
 *   iter/task                  attach_btf_id of bpf_iter_task
 * Results land in the .bss array `out` for the tests:
 *   out[0] = offsetof(task_struct, pid)   out[1] = offsetof(task_struct, tgid)
 *   out[2] = offsetof(task_struct, real_parent)
 *   out[3] = PIDTYPE_TGID value           out[4] = field exists (0)
 *   out[5] = sizeof(struct task_struct)   out[6] = type exists (1)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* A flavor: the kernel's task_struct, with a field it does not have. */
struct task_struct___bpf2rs {
	int bpf2rs_no_such_field;
} __attribute__((preserve_access_index));

__u64 out[7];
__u32 seen_pid;
__u32 seen_parent;
char seen_file[32];

#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) (!!(sym))
#endif

/* A kfunc this kernel does not have, guarded by bpf_ksym_exists. */
extern void bpf2rs_no_such_kfunc(void) __ksym __weak;

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct___bpf2rs *fake = (void *)p;

	seen_pid = BPF_CORE_READ(p, tgid);
	seen_parent = BPF_CORE_READ(p, real_parent, tgid);
	bpf_probe_read_kernel_str(seen_file, sizeof(seen_file), BPF_CORE_READ(bprm, filename));

	out[0] = bpf_core_field_offset(struct task_struct, pid);
	out[1] = bpf_core_field_offset(struct task_struct, tgid);
	out[2] = bpf_core_field_offset(struct task_struct, real_parent);
	out[3] = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	out[4] = bpf_core_field_exists(fake->bpf2rs_no_such_field);
	if (bpf_core_field_exists(fake->bpf2rs_no_such_field))
		out[4] += BPF_CORE_READ(fake, bpf2rs_no_such_field);
	out[5] = bpf_core_type_size(struct task_struct);
	out[6] = bpf_core_type_exists(struct task_struct);
	if (bpf_ksym_exists(bpf2rs_no_such_kfunc))
		bpf2rs_no_such_kfunc();
	return 0;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", task->pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

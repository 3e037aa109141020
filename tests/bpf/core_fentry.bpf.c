// SPDX-License-Identifier: GPL-2.0
/*
 * core_fentry.bpf.c -- bpf2rs fixture: fentry/fexit on do_unlinkat
 * (attach_btf_id of FUNC do_unlinkat) with a CO-RE read of task->comm,
 * and lsm/file_open (attach_btf_id of FUNC bpf_lsm_file_open): the
 * program types that go through a BPF trampoline.
 * out[0] = offsetof(task_struct, comm). Some kernels refuse trampolines
 * entirely (EPERM without a log, libbpf too); tests then expect the same
 * refusal from bpf2rs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

__u64 out[2];

SEC("fentry/do_unlinkat")
int BPF_PROG(on_unlink, int dfd, struct filename *name)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	char comm[16];

	bpf_core_read(&comm, sizeof(comm), &t->comm);
	out[0] = bpf_core_field_offset(struct task_struct, comm);
	return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(on_unlink_exit, int dfd, struct filename *name, long ret)
{
	out[1] = ret;
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(on_file_open, struct file *file)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

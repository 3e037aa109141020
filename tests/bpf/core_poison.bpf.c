// SPDX-License-Identifier: GPL-2.0
/*
 * core_poison.bpf.c -- bpf2rs fixture: a reachable read of a field the
 * kernel does not have. The CO-RE relocation is poisoned; the load fails
 * and the error must name the relocation (byte_off of
 * struct task_struct___bpf2rs.bpf2rs_no_such_field).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct task_struct___bpf2rs {
	int bpf2rs_no_such_field;
} __attribute__((preserve_access_index));

__u64 got;

SEC("tp_btf/sched_process_exec")
int BPF_PROG(reads_missing, struct task_struct *p)
{
	struct task_struct___bpf2rs *fake = (void *)p;

	got = BPF_CORE_READ(fake, bpf2rs_no_such_field);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

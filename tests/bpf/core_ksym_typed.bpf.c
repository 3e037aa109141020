// SPDX-License-Identifier: GPL-2.0
/*
 * core_ksym_typed.bpf.c -- bpf2rs fixture: a typed __ksym (the per-CPU
 * variable `runqueues`, a VAR in vmlinux BTF) read with bpf_per_cpu_ptr,
 * as runqlen-style tools do. The loader emits ld_imm64 with
 * BPF_PSEUDO_BTF_ID and the VAR's vmlinux id. The kernel then needs the
 * symbol's address: without CONFIG_KALLSYMS_ALL it refuses the program,
 * and libbpf is refused the same way.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

extern const struct rq runqueues __ksym;

__u64 nr_running;

SEC("raw_tp/sched_switch")
int read_rq(void *ctx)
{
	struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0);

	if (rq)
		nr_running = rq->nr_running;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

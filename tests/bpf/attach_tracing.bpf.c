// SPDX-License-Identifier: GPL-2.0
/*
 * attach_tracing.bpf.c -- bpf2rs fixture: BTF-typed tracing programs (they
 * need the kernel BTF id of their target at load time) and an iterator,
 * for runtime/tests/kernel_attach_tracing.rs. Counting as in attach.bpf.c.
 *
 *   hits[0]  fentry_unlinkat  fentry/do_unlinkat
 *   hits[1]  fexit_unlinkat   fexit/do_unlinkat
 *   hits[2]  btf_sys_enter    tp_btf/sys_enter
 *   hits[3]  lsm_file_open    lsm/file_open (allows every open)
 *   hits[4]  dump_task        iter/task (writes one line per task)
 *            dump_values      iter/bpf_map_elem (writes each u64 value of a map)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The kernel's iterator context (include/linux/bpf.h, kernel/bpf/task_iter.c);
 * declared here so the fixture needs no vmlinux.h. */
struct seq_file;
struct task_struct;
struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};
struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};
struct bpf_map;
struct bpf_iter__bpf_map_elem {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
	void *key;
	void *value;
};

/* Read by dump_values through a map iterator. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} iter_values SEC(".maps");

const volatile __u32 target_tgid = 0;

__u64 hits[8];

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

#define COUNT(i) __sync_fetch_and_add(&hits[i], 1)

SEC("fentry/do_unlinkat")
int fentry_unlinkat(__u64 *ctx)
{
	if (mine())
		COUNT(0);
	return 0;
}

SEC("fexit/do_unlinkat")
int fexit_unlinkat(__u64 *ctx)
{
	if (mine())
		COUNT(1);
	return 0;
}

SEC("tp_btf/sys_enter")
int btf_sys_enter(__u64 *ctx)
{
	if (mine())
		COUNT(2);
	return 0;
}

SEC("lsm/file_open")
int lsm_file_open(__u64 *ctx)
{
	if (mine())
		COUNT(3);
	return 0;
}

static const char line[] = "bpf2rs-iter task\n";

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;

	if (!ctx->task)
		return 0;
	bpf_seq_write(seq, line, sizeof(line) - 1);
	COUNT(4);
	return 0;
}

SEC("iter/bpf_map_elem")
int dump_values(struct bpf_iter__bpf_map_elem *ctx)
{
	__u64 *value = ctx->value;

	if (!value)
		return 0;
	bpf_seq_write(ctx->meta->seq, value, sizeof(*value));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

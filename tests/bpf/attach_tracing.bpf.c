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
 *   hits[5]  fmod_ret_test    fmod_ret/bpf_modify_return_test (returns
 *                             FMOD_RET_VALUE: the kernel skips the function)
 *   hits[6]  fexit_modify_return  fexit/bpf_modify_return_test
 *   hits[7]  (set by fexit_modify_return: the return value it saw)
 *   hits[8]  fmod_ret_file_open   fmod_ret/security_file_open (fails the opens
 *                                 of thread fail_open_tid with -FAIL_OPEN_ERRNO)
 *   hits[9]  fexit_file_open      fexit/security_file_open (thread fail_open_tid)
 *   hits[10] (set by fexit_file_open: the return value it saw, as a u32)
 *
 * bpf_modify_return_test(int a, int *b) is the kernel's own target for these
 * (net/bpf/test_run.c): BPF_PROG_TEST_RUN of an fmod_ret program calls it
 * with a = 1, *b = 2; unmodified it does *b += 1 and returns a + *b = 4.
 * Before Linux 6.2 fmod_ret may only modify functions on the error-injection
 * list (CONFIG_FUNCTION_ERROR_INJECTION) and security_* functions, hence the
 * second pair on security_file_open.
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

__u64 hits[16];

/* The thread whose file opens fmod_ret_file_open fails (set by the test
 * after load; 0: none). In .data, so that hits[] stays the only .bss
 * variable. */
__u32 fail_open_tid SEC(".data") = 0;

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

/* The kernel's calling context gives tracing programs each argument (and
 * for fexit/fmod_ret the return value so far) as one u64 in ctx[]. */
#define FMOD_RET_VALUE 21

SEC("fmod_ret/bpf_modify_return_test")
int fmod_ret_test(__u64 *ctx)
{
	if (mine())
		COUNT(5);
	return FMOD_RET_VALUE;
}

SEC("fexit/bpf_modify_return_test")
int fexit_modify_return(__u64 *ctx)
{
	if (mine()) {
		COUNT(6);
		/* ctx[0] = a, ctx[1] = b, ctx[2] = the int it returned */
		hits[7] = (__u32)ctx[2];
	}
	return 0;
}

/* ENOTUNIQ: no open(2) fails with it by itself. */
#define FAIL_OPEN_ERRNO 76

static __always_inline int failing_thread(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	return (id >> 32) == target_tgid && (__u32)id == fail_open_tid;
}

SEC("fmod_ret/security_file_open")
int fmod_ret_file_open(__u64 *ctx)
{
	if (!failing_thread())
		return 0; /* security_file_open runs as usual */
	COUNT(8);
	return -FAIL_OPEN_ERRNO;
}

SEC("fexit/security_file_open")
int fexit_file_open(__u64 *ctx)
{
	if (failing_thread()) {
		COUNT(9);
		/* ctx[0] = file, ctx[1] = the int it returned */
		hits[10] = (__u32)ctx[1];
	}
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

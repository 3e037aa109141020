// SPDX-License-Identifier: GPL-2.0
/*
 * usdt.bpf.c -- bpf2rs fixture: USDT probes read through libbpf's
 * <bpf/usdt.bpf.h> (the BPF half of the protocol: a spec map the loader
 * fills, found through the uprobe's BPF cookie), for
 * runtime/tests/kernel_usdt.rs. The probes live in that test binary,
 * written with inline assembly the way <sys/sdt.h> writes them.
 *
 * on_probe   usdt (attached by hand): every firing of this process's
 *            bpf2rs_test:probe stores its four arguments, the attach
 *            cookie and the argument count in seen[fired++].
 * on_auto    usdt//proc/self/exe:bpf2rs_test:auto (attached by
 *            skel.attach()/attach_auto): adds its one argument to auto_sum.
 * on_python_audit  usdt (attached by hand to python3's python:audit):
 *            counts audit events named bpf2rs.*.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

struct seen {
	long args[4];
	long cookie;
	int arg_cnt;
	int err;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

const volatile __u32 target_tgid = 0;

__u32 fired = 0;
__u32 auto_fired = 0;
long auto_sum = 0;

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("usdt")
int BPF_USDT(on_probe, long a, long b, long c, long d)
{
	struct seen *s;
	__u32 i;

	if (!mine())
		return 0;
	/* The test fires one probe at a time: a plain increment will do. */
	i = fired++;
	s = bpf_map_lookup_elem(&seen, &i);
	if (!s)
		return 0;
	s->args[0] = a;
	s->args[1] = b;
	s->args[2] = c;
	s->args[3] = d;
	s->cookie = bpf_usdt_cookie(ctx);
	s->arg_cnt = bpf_usdt_arg_cnt(ctx);
	/* Past the last argument: -ENOENT, as the protocol says. */
	s->err = bpf_usdt_arg(ctx, 4, &s->args[3]) == -ENOENT ? 0 : 1;
	s->args[3] = d;
	return 0;
}

SEC("usdt//proc/self/exe:bpf2rs_test:auto")
int BPF_USDT(on_auto, long x)
{
	if (!mine())
		return 0;
	__sync_fetch_and_add(&auto_fired, 1);
	__sync_fetch_and_add(&auto_sum, x);
	return 0;
}

/*
 * python's audit(event, args) probe, a real-world probe with a semaphore:
 * CPython fires it only while the semaphore is non-zero. Events whose name
 * starts with "bpf2rs." are counted, the last one kept.
 */
struct py_audit {
	char event[32];
	int hits;
};

struct py_audit py_last = {};

SEC("usdt")
int BPF_USDT(on_python_audit, void *event, void *args)
{
	char name[32];

	if (bpf_probe_read_user_str(name, sizeof(name), event) < 0)
		return 0;
	if (name[0] != 'b' || name[1] != 'p' || name[2] != 'f' || name[3] != '2' ||
	    name[4] != 'r' || name[5] != 's' || name[6] != '.')
		return 0;
	__builtin_memcpy(py_last.event, name, sizeof(name));
	__sync_fetch_and_add(&py_last.hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * opensnoop.bpf.c -- bpf2rs example: every openat(2) as a ring-buffer event.
 *
 * The tracepoint syscalls/sys_enter_openat sends one `struct event` per call
 * (pid, uid, comm, the file name as the caller passed it) through the ring
 * buffer `events`, and counts calls per (pid, flags kind) in `opens`, whose
 * key has padding the generated Rust type makes explicit. `.rodata` holds
 * the filter set from user space before load: one pid (0 = every process).
 */
#include <linux/bpf.h>
#include <linux/fcntl.h>
#include <bpf/bpf_helpers.h>

/* The tracepoint's record, as tracefs' `format` file lays it out. */
struct sys_enter_openat_ctx {
	__u64 common;
	__s32 syscall_nr;
	__u64 dfd;
	const char *filename;
	__u64 flags;
	__u64 mode;
};

#define FILENAME_LEN 128

struct event {
	__u32 pid;
	__u32 uid;
	char comm[16];
	char filename[FILENAME_LEN];
};
/* clang writes BTF only for types a global, map or signature uses: this
 * puts `struct event` in it, for the typed ring buffer. */
const struct event *unused_event __attribute__((unused));

/* 3 bytes of padding after `writing`, 4 before the end: the generated
 * Rust key spells them out, so keys compare and hash byte for byte. */
struct open_key {
	__u32 pid;
	__u8 writing;
};

const volatile __u32 targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct open_key);
	__type(value, __u64);
} opens SEC(".maps");

/* Events the ring buffer had no room for: user space reports them. */
__u64 dropped = 0;

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(struct sys_enter_openat_ctx *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (targ_pid && pid != targ_pid)
		return 0;

	struct open_key key = {};
	key.pid = pid;
	key.writing = (ctx->flags & (O_WRONLY | O_RDWR)) != 0;
	__u64 one = 1, *n = bpf_map_lookup_elem(&opens, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&opens, &key, &one, BPF_NOEXIST);

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	e->pid = pid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), ctx->filename);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

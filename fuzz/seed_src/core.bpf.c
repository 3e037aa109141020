/* Seed for the fuzz targets (compiled by fuzz/seed.sh): a program with CO-RE
 * relocations of every class (field, type, type id, enum value), which the
 * objects under tests/bpf do not have. Self-contained: no headers. */
struct task { int pid; struct task *parent; unsigned int flags: 3; char comm[16]; } __attribute__((preserve_access_index));
enum state { RUNNING = 0, SLEEPING = 1 };
typedef struct task task_t;
__attribute__((section("kprobe/core"), used))
int core(struct task *t)
{
	int r = t->parent->pid;
	r += __builtin_preserve_field_info(t->flags, 0 /* BYTE_OFFSET */);
	r += __builtin_preserve_field_info(t->flags, 2 /* EXISTS */);
	r += __builtin_preserve_field_info(t->comm, 1 /* BYTE_SIZE */);
	r += __builtin_preserve_field_info(t->flags, 4 /* LSHIFT_U64 */);
	r += __builtin_preserve_type_info(*(task_t *)0, 0 /* TYPE_EXISTS */);
	r += __builtin_preserve_type_info(*(task_t *)0, 1 /* TYPE_SIZE */);
	r += __builtin_btf_type_id(*t, 1 /* TARGET */);
	r += __builtin_preserve_enum_value(*(enum state *)SLEEPING, 0 /* ENUMVAL_EXISTS */);
	r += __builtin_preserve_enum_value(*(enum state *)SLEEPING, 1 /* ENUMVAL_VALUE */);
	return r;
}
char _license[] __attribute__((section("license"), used)) = "GPL";

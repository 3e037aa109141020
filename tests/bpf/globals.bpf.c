// SPDX-License-Identifier: GPL-2.0
/*
 * globals.bpf.c -- bpf2rs fixture: global variables in every data section
 * libbpf turns into an internal map, plus .kconfig / .ksyms externs and the
 * "license" / "version" sections.
 *
 * Expected values:
 *   .data          g_counter   __s32  size 4   = 5
 *                  g_big       __u64  size 8   = 0x1122334455667788
 *                  g_pair      struct pair (size 8: a=3 (u32), b=4 (u16),
 *                              2 bytes tail padding)
 *   .rodata        cfg_mode    const volatile __u32 size 4 = 7
 *                  cfg_limit   const volatile __u64 size 8 = 1000
 *                  cfg_name    const volatile char[8] = "fixture"
 *   .bss           bss_hits    __u64  size 8   = 0
 *                  bss_arr     __u32[16] size 64 = all 0
 *   .data.custom   custom_data __u32  size 4   = 11
 *   .rodata.custom custom_ro   const volatile __u32 size 4 = 13
 *   .kconfig       LINUX_KERNEL_VERSION (unsigned int, strong)
 *                  CONFIG_BPF_SYSCALL   (_Bool, __weak)
 *                  CONFIG_HZ            (int, __weak)
 *                  CONFIG_BPF_JIT       (enum libbpf_tristate, __weak)
 *   .ksyms         do_unlinkat          (typeless: extern const void,
 *                                        address from /proc/kallsyms)
 *                  bpf_cast_to_kern_ctx (kfunc: extern FUNC, BTF-typed,
 *                                        __weak: Linux 6.2+)
 *   license        "GPL"
 *   version        _version __u32 = 0x060c00 (396288, i.e. 6.12.0)
 *
 * Programs: glob_xdp -> SEC("xdp").
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
	__u32 a;
	__u16 b;
};

/* .data */
int g_counter = 5;
__u64 g_big = 0x1122334455667788ULL;
struct pair g_pair = { .a = 3, .b = 4 };

/* .rodata */
const volatile __u32 cfg_mode = 7;
const volatile __u64 cfg_limit = 1000;
const volatile char cfg_name[8] = "fixture";

/* .bss */
__u64 bss_hits;
__u32 bss_arr[16];

/* custom sections (each becomes its own internal map in libbpf) */
__u32 custom_data SEC(".data.custom") = 11;
const volatile __u32 custom_ro SEC(".rodata.custom") = 13;

/* .kconfig externs */
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;

/*
 * .ksyms externs.  A typed per-CPU variable such as
 *   extern int bpf_prog_active __ksym;
 * exists in vmlinux BTF but the kernel resolves its address with
 * kallsyms_lookup_name(), which fails without CONFIG_KALLSYMS_ALL, so this
 * fixture uses a typeless symbol (a text symbol always in /proc/kallsyms)
 * and a kfunc instead, so that the object loads everywhere.
 */
extern const void do_unlinkat __ksym;
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

SEC("xdp")
int glob_xdp(struct xdp_md *ctx)
{
	void *kctx;
	__u32 i;

	g_counter += 1;
	g_big ^= cfg_limit;
	g_pair.b += (__u16)cfg_mode;
	bss_hits++;

	i = cfg_mode & 15;
	bss_arr[i] += 1;
	custom_data += custom_ro;

	if (cfg_name[0] == 'f')
		g_pair.a += 1;

	if (LINUX_KERNEL_VERSION >= 0x060000)
		g_counter += 2;
	if (CONFIG_BPF_SYSCALL)
		bss_arr[1] = CONFIG_HZ;
	if (CONFIG_BPF_JIT == TRI_YES)
		bss_arr[2] = 1;

	/* typeless ksym: just the address, as a scalar */
	g_big += (__u64)&do_unlinkat;

	/*
	 * The kfunc is new in 6.2. Older kernels lack it: the loader poisons
	 * the call, and the version (a frozen .kconfig value) makes it dead
	 * code for the verifier.
	 */
	if (LINUX_KERNEL_VERSION >= 0x060200) {
		kctx = bpf_cast_to_kern_ctx(ctx);
		if (kctx)
			bss_arr[3] = 1;
	}

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060c00;

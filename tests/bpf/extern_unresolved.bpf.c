// SPDX-License-Identifier: GPL-2.0
/*
 * extern_unresolved.bpf.c -- bpf2rs fixture: externs that are neither
 * __kconfig nor __ksym, which only a static linker step could resolve.
 * The object must read (inspect lists both externs as unresolved) and
 * loading must be refused, naming each extern and why.
 *
 *   fwd       a function declared and called but never defined
 *   some_var  a plain `extern int` variable
 *
 * What clang 19 emits: both symbols are SHN_UNDEF, STT_NOTYPE, STB_GLOBAL
 * (no section, no type); in BTF, `fwd` is a FUNC of linkage extern and
 * `some_var` a VAR of linkage extern, and no DATASEC lists either (unlike
 * __kconfig / __ksym externs, which sit in DATASEC .kconfig / .ksyms).
 * The call to fwd is an R_BPF_64_32 relocation on a call with imm -1; the
 * read of some_var an R_BPF_64_64 on an ld_imm64.
 *
 * Program: uses_externs -> SEC("xdp").  License: "GPL".
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int fwd(void);
extern int some_var;

__u64 got;

SEC("xdp")
int uses_externs(struct xdp_md *ctx)
{
	got = some_var + fwd();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * extern_missing.bpf.c -- bpf2rs fixture: a strong (not __weak) kconfig
 * extern no kernel defines. Loading must fail with an error naming
 * CONFIG_BPF2RS_DOES_NOT_EXIST.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int CONFIG_BPF2RS_DOES_NOT_EXIST __kconfig;

__u64 got;

SEC("xdp")
int uses_missing(struct xdp_md *ctx)
{
	got = CONFIG_BPF2RS_DOES_NOT_EXIST;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

#!/usr/bin/env bash
# Build every *.bpf.c in this directory into *.bpf.o next to it.
#
# The objects are committed, so the build must be reproducible: we cd into
# this directory and compile with relative file names, map the compilation
# directory to "." and drop the compiler ident, so that no absolute path of
# the checkout ends up in DWARF, BTF or BTF.ext.
#
# Files named nobtf*.bpf.c are compiled without -g (no BTF, no DWARF).
#
# Override the compiler with CLANG=..., e.g. CLANG=clang ./build.sh
set -euo pipefail

CLANG="${CLANG:-clang-19}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# Multiarch include dir for <asm/types.h> etc. (Debian/Ubuntu layout).
arch_inc="/usr/include/$(uname -m)-linux-gnu"

common=(
	-target bpf
	-O2
	-I"$arch_inc"
	-fno-ident
	-fdebug-compilation-dir=.
	"-ffile-prefix-map=$here=."
	-Wall
)

# Fixtures written like tracing tools include a vmlinux.h of the running
# kernel (not committed: tests/bpf/vmlinux.h is gitignored).
if grep -lq '"vmlinux.h"' ./*.bpf.c && [ ! -s vmlinux.h ]; then
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h
fi

shopt -s nullglob
srcs=(*.bpf.c)
if [ ${#srcs[@]} -eq 0 ]; then
	echo "build.sh: no *.bpf.c files in $here" >&2
	exit 1
fi

for src in "${srcs[@]}"; do
	obj="${src%.c}.o"
	case "$src" in
	nobtf*.bpf.c) debug=() ;;
	*) debug=(-g) ;;
	esac
	# bpf_tracing.h needs the target architecture for PT_REGS and BPF_PROG.
	if grep -q '"vmlinux.h"' "$src"; then
		debug+=("-D__TARGET_ARCH_$(uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')")
	fi
	echo "  CLANG-BPF $obj"
	"$CLANG" "${common[@]}" "${debug[@]}" -c "$src" -o "$obj"
	# vmlinux.h brings the DWARF of every kernel enum; keep BTF, drop DWARF.
	if grep -q '"vmlinux.h"' "$src"; then
		"${LLVM_STRIP:-llvm-strip-19}" -g "$obj"
	fi
done

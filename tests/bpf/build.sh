#!/usr/bin/env bash
# Build every *.bpf.c in this directory into *.bpf.o next to it.
#
# The objects are committed, so the build must be reproducible wherever the
# checkout lives. clang's BTF still depends on the source directory beyond
# what -ffile-prefix-map hides (it orders some forward-declared types
# differently when the path differs), so the sources are copied into one
# fixed staging directory, compiled there with relative file names, the
# compilation directory mapped to "." and no compiler ident, and the objects
# copied back.
#
# Files named nobtf*.bpf.c are compiled without -g (no BTF, no DWARF).
#
# Override the compiler with CLANG=..., e.g. CLANG=clang ./build.sh
set -euo pipefail

CLANG="${CLANG:-clang-19}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stage=/tmp/bpf2rs-fixture-build

# Multiarch include dir for <asm/types.h> etc. (Debian/Ubuntu layout).
arch_inc="/usr/include/$(uname -m)-linux-gnu"

common=(
	-target bpf
	-O2
	-I"$arch_inc"
	-fno-ident
	-fdebug-compilation-dir=.
	"-ffile-prefix-map=$stage=."
	-Wall
)

# Fixtures written like tracing tools include vmlinux.h. It is committed
# (generated once from Linux 6.18 with `bpftool btf dump ... format c`), so
# the objects do not change with the kernel of the machine that builds them;
# CO-RE is what makes them load elsewhere.
if [ ! -s "$here/vmlinux.h" ]; then
	echo "build.sh: $here/vmlinux.h is missing" >&2
	exit 1
fi

shopt -s nullglob
cd "$here"
srcs=(*.bpf.c)
if [ ${#srcs[@]} -eq 0 ]; then
	echo "build.sh: no *.bpf.c files in $here" >&2
	exit 1
fi
rm -rf "$stage"
mkdir -p "$stage"
trap 'rm -rf "$stage"' EXIT
cp -- "${srcs[@]}" vmlinux.h "$stage/"
cd "$stage"

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
cp -- ./*.bpf.o "$here/"

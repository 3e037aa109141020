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
	echo "  CLANG-BPF $obj"
	"$CLANG" "${common[@]}" "${debug[@]}" -c "$src" -o "$obj"
done

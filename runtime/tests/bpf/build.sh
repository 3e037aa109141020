#!/usr/bin/env bash
# Build every *.bpf.c in this directory into *.bpf.o next to it (the
# objects are committed). Reproducible: relative file names, the
# compilation directory mapped to ".", no compiler ident.
#
# Override the compiler with CLANG=..., e.g. CLANG=clang ./build.sh
set -euo pipefail

CLANG="${CLANG:-clang-19}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

for src in *.bpf.c; do
	obj="${src%.c}.o"
	echo "  CLANG-BPF $obj"
	"$CLANG" -target bpf -O2 -g -Wall \
		-I"/usr/include/$(uname -m)-linux-gnu" \
		-fno-ident -fdebug-compilation-dir=. "-ffile-prefix-map=$here=." \
		-c "$src" -o "$obj"
done

#!/usr/bin/env bash
# Creates the seed corpora for the fuzz targets (kept out of git):
#   fuzz/corpus/object/  every tests/bpf/*.bpf.o; with clang-19 also
#                        big-endian builds of tests/bpf/*.bpf.c and both
#                        byte orders of seed_src/*.bpf.c (CO-RE relocations)
#   fuzz/corpus/btf/     the .BTF and .BTF.ext sections of those objects, and
#                        synthetic BTF (every kind, both byte orders, split)
#
# Options (environment):
#   LLVM_OBJCOPY=...   objcopy to extract sections (default llvm-objcopy-19)
#   CLANG=...          clang for the big-endian objects (default clang-19;
#                      CLANG=none skips them)
#   SEED_VMLINUX=1     also copy /sys/kernel/btf/vmlinux (~5 MiB) into the
#                      btf corpus. Only useful with -max_len at least its
#                      size; with the default -max_len=262144 libFuzzer
#                      truncates it to an invalid blob. Off by default.
#
# Idempotent: re-running overwrites the seeds, keeps anything libFuzzer added.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
objcopy="${LLVM_OBJCOPY:-llvm-objcopy-19}"
clang="${CLANG:-clang-19}"

command -v "$objcopy" >/dev/null || {
	echo "seed.sh: $objcopy not found (apt-get install -y llvm-19)" >&2
	exit 1
}

obj_dir="$here/corpus/object"
btf_dir="$here/corpus/btf"
mkdir -p "$obj_dir" "$btf_dir"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

objs=()
shopt -s nullglob
for o in "$root"/tests/bpf/*.bpf.o; do
	cp "$o" "$obj_dir/"
	objs+=("$o")
done

# compile SRC TARGET OUT: one BPF object into the temp dir, added as a seed.
compile() {
	local src="$1" target="$2" out="$3" debug=(-g)
	case "$(basename "$src")" in nobtf*) debug=() ;; esac
	if (cd "$(dirname "$src")" && "$clang" -target "$target" -O2 -I"$arch_inc" -fno-ident \
		"${debug[@]}" -c "$(basename "$src")" -o "$tmp/$out") 2>/dev/null; then
		cp "$tmp/$out" "$obj_dir/"
		objs+=("$tmp/$out")
	else
		echo "seed.sh: skipping $out (clang failed)" >&2
	fi
}

# With clang: big-endian variants of the same sources (tests/bpf is not
# touched), and seed_src/*.bpf.c (CO-RE relocations) in both byte orders.
if [ "$clang" != none ] && command -v "$clang" >/dev/null; then
	arch_inc="/usr/include/$(uname -m)-linux-gnu"
	for src in "$root"/tests/bpf/*.bpf.c; do
		compile "$src" bpfeb "$(basename "${src%.bpf.c}").eb.bpf.o"
	done
	for src in "$here"/seed_src/*.bpf.c; do
		base="$(basename "${src%.bpf.c}")"
		compile "$src" bpfel "$base.bpf.o"
		compile "$src" bpfeb "$base.eb.bpf.o"
	done
else
	echo "seed.sh: $clang not found, no big-endian or CO-RE objects" >&2
fi

# .BTF and .BTF.ext of every object that has them.
for o in "${objs[@]}"; do
	base="$(basename "${o%.bpf.o}")"
	for sec in BTF BTF.ext; do
		out="$btf_dir/$base.$(echo "$sec" | tr 'A-Z.' 'a-z_')"
		# objcopy rewrites its input: work on a scratch copy.
		cp "$o" "$tmp/scratch.o"
		if ! "$objcopy" --dump-section ".$sec=$out" "$tmp/scratch.o" 2>/dev/null; then
			rm -f "$out" # no such section (nobtf)
		fi
	done
done

# Synthetic BTF from the crate's test builder (every kind, both byte orders).
# Not fatal: the other seeds are still useful while the crate does not build.
if ! cargo run --quiet --jobs "${JOBS:-1}" --manifest-path "$here/Cargo.toml" \
	--example gen_btf_seeds -- "$btf_dir"; then
	echo "seed.sh: warning: gen_btf_seeds failed (does bpf2rs build?); no synthetic BTF seeds" >&2
fi

if [ "${SEED_VMLINUX:-0}" = 1 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	cp /sys/kernel/btf/vmlinux "$btf_dir/vmlinux.btf"
fi



# USDT notes: seed_src/usdt_probes.c built with gcc (PIE and not), and a few
# argument strings as text.
usdt_dir="$here/corpus/usdt"
mkdir -p "$usdt_dir"
if command -v gcc >/dev/null; then
	gcc -O1 -pie -fPIE "$here/seed_src/usdt_probes.c" -o "$usdt_dir/probes-pie"
	gcc -O1 -no-pie "$here/seed_src/usdt_probes.c" -o "$usdt_dir/probes-nopie"
else
	echo "seed.sh: warning: no gcc; no USDT binaries in the usdt corpus" >&2
fi
printf '%s' '-4@%eax 8@-16(%rbp) 2@$0x10 -1@$-7 8@(%rsi) 4@%r12d' >"$usdt_dir/args-1"
printf '%s' '8@-4(%rbp,%rax,8) 8@foo(%rip)' >"$usdt_dir/args-2"
echo "seed.sh: $(ls "$obj_dir" | wc -l) object seeds, $(ls "$btf_dir" | wc -l) btf seeds, $(ls "$usdt_dir" | wc -l) usdt seeds"

#!/usr/bin/env bash
# Builds the lab's wasm kernels from kernels/lab_kernels.c with Debian's clang and lld (apt install
# clang lld): wasm32, 128-bit SIMD, no libc, memory imported from JS. Two binaries:
#   src/lib/kernels/labKernels.wasm         one thread (any page)
#   src/lib/kernels/labKernelsThreads.wasm  shared memory (up to 4 GB, as tfjs's threaded build), for a pool of threads
# `npm run build:kernels` runs it; CI rebuilds them and fails when a committed binary differs (`--check`).
set -euo pipefail
cd "$(dirname "$0")/.."
COMMON=(--target=wasm32 -O3 -msimd128 -nostdlib -fno-builtin-memset -fno-builtin-memcpy
	-Wl,--no-entry -Wl,--strip-all -Wl,--import-memory -Wl,-z,stack-size=4096)
build_one() { clang "${COMMON[@]}" -o "$1" kernels/lab_kernels.c; }
build_threads() {
	clang "${COMMON[@]}" -matomics -mbulk-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
		-o "$1" kernels/lab_kernels.c
}
check() { # built file, committed file
	if ! cmp -s "$1" "$2"; then
		echo "kernels/build.sh --check: $2 differs from a build of kernels/lab_kernels.c; run npm run build:kernels and commit it" >&2
		exit 1
	fi
	echo "$2 matches its source"
}
one=src/lib/kernels/labKernels.wasm
threads=src/lib/kernels/labKernelsThreads.wasm
if [ "${1:-}" = "--check" ]; then
	tmp=$(mktemp -d)
	build_one "$tmp/one.wasm"
	build_threads "$tmp/threads.wasm"
	check "$tmp/one.wasm" "$one"
	check "$tmp/threads.wasm" "$threads"
	# instances share one memory across threads: no shadow stack (global 0 is __stack_pointer)
	# (the text first: grep -q ends early, and with pipefail wasm2wat's SIGPIPE would hide a match)
	wasm2wat --enable-threads "$threads" > "$tmp/threads.wat"
	if grep -q 'global\.[gs]et 0' "$tmp/threads.wat"; then
		echo "kernels/build.sh --check: lab_kernels.c uses the stack (a local array?); threads would share it" >&2
		exit 1
	fi
	echo "no kernel uses the stack"
else
	build_one "$one"
	build_threads "$threads"
	echo "wrote $one ($(wc -c < "$one") bytes) and $threads ($(wc -c < "$threads") bytes)"
fi

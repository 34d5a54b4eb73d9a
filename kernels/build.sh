#!/usr/bin/env bash
# Builds src/lib/backend/labKernels.wasm from kernels/lab_kernels.c with Debian's clang and lld
# (apt install clang lld): wasm32, 128-bit SIMD, no libc. `npm run build:kernels` runs it; CI
# rebuilds it and fails when the committed binary differs (`--check`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/lib/backend/labKernels.wasm
build() {
	clang --target=wasm32 -O3 -msimd128 -nostdlib -fno-builtin-memset -fno-builtin-memcpy \
		-Wl,--no-entry -Wl,--export=__heap_base -Wl,--strip-all -Wl,-z,stack-size=65536 \
		-o "$1" kernels/lab_kernels.c
}
if [ "${1:-}" = "--check" ]; then
	tmp=$(mktemp)
	build "$tmp"
	if ! cmp -s "$tmp" "$out"; then
		echo "kernels/build.sh --check: $out differs from a build of kernels/lab_kernels.c; run npm run build:kernels and commit it" >&2
		exit 1
	fi
	echo "$out matches its source"
else
	build "$out"
	echo "wrote $out ($(wc -c < "$out") bytes)"
fi

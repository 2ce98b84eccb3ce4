#!/usr/bin/env bash
# WebAssembly builds with Debian's Emscripten 3.1.6: dist/wasm/tunesmith-st.* (SIMD, one thread)
# and dist/wasm/tunesmith-mt.* (SIMD + pthreads). See ../shared/notes/toolchain.md for why
# NODE_PATH and the emulator flag are set.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs
emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node >/dev/null
cmake --build build/wasm -j"$(nproc)"
ls -l dist/wasm

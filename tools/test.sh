#!/usr/bin/env bash
# All tests: C++ (GoogleTest via ctest), Node (wasm API, wasm == native, kernels vs ONNX Runtime,
# CLI), and the browser (Playwright in Debian Chromium). Builds first if needed (incremental).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build-native.sh
bash tools/build-wasm.sh >/dev/null
echo "== C++ tests (ctest)"
ctest --test-dir build/native --output-on-failure -j2
echo "== Node tests"
node --test tests/node/
echo "== Browser tests"
node --test tests/browser/

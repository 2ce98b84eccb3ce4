#!/usr/bin/env bash
# Native build: static core library, GoogleTest tests, CLI and benchmark in build/native.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/native -j"$(nproc)"

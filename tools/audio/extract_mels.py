#!/usr/bin/env python3
"""Log-mel spectrograms of the rendered clips, computed exactly as the engine computes them
(tools/audio/features.py mirrors engine/src/dsp.cpp), for training the CNN classifier.

usage: /usr/bin/python3 tools/audio/extract_mels.py [--data build/audio]
Writes DATA/mels.npz: one float16 array (frames x 64 dB) per clip id. The clips are rendered at
22050 Hz (the analysis rate), so no resampling is involved; multichannel files are averaged to mono
as the engine's mix_to_mono does.
"""
import argparse, json, os, sys, wave
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from features import frames, mel_filterbank, N_FFT, MEL_FLOOR, SR  # noqa: E402


def read_wav(path):
    with wave.open(path, 'rb') as w:
        assert w.getsampwidth() == 2, path
        sr, ch, n = w.getframerate(), w.getnchannels(), w.getnframes()
        x = np.frombuffer(w.readframes(n), dtype='<i2').astype(np.float32) / 32768.0
    x = x.reshape(-1, ch).mean(axis=1, dtype=np.float32)
    assert sr == SR, f'{path}: {sr} Hz (expected {SR})'
    return x


def log_mel(y):
    fr = frames(y)
    n = np.arange(N_FFT)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)
    spec = np.fft.rfft(fr * window[None, :], axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    mel = power @ mel_filterbank(SR).astype(np.float64).T
    return (10.0 * np.log10(np.maximum(mel, MEL_FLOOR))).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='build/audio')
    args = ap.parse_args()
    recs = [json.loads(l) for l in open(os.path.join(args.data, 'manifest.jsonl'))]
    out = {}
    for i, r in enumerate(recs):
        out[r['id']] = log_mel(read_wav(os.path.join(args.data, r['file']))).astype(np.float16)
        if i % 100 == 0:
            print(f'{i}/{len(recs)}', flush=True)
    np.savez(os.path.join(args.data, 'mels.npz'), **out)
    print('wrote', len(out), 'clips')


if __name__ == '__main__':
    main()

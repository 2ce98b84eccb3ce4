#!/usr/bin/env python3
"""numpy reference for the per-frame features of engine/src/dsp.cpp (tunesmith::dsp::Analyzer).

The definitions are in docs/dsp.md; this file is their executable form, so features for a
classifier can be computed in Python exactly as the engine computes them in the browser (the C++
works in double and rounds each output to float32; we agree to well under 1e-4).

    /usr/bin/python3 tools/audio/features.py --self-test       # numpy-only checks
    /usr/bin/python3 tools/audio/features.py --make-fixture    # rewrite tests/cpp/fixtures/dsp_*
    from features import frame_features; f = frame_features(y)   # y: mono float, 22050 Hz

tests/cpp/test_dsp.cpp (Dsp.MatchesNumpyReference) runs the C++ on the fixture's signal and
compares with the features written here.
"""
import json
import os
import sys

import numpy as np

SR = 22050
N_FFT = 2048
HOP = 512
N_MELS = 64
MEL_FLOOR = 1e-10
ONSET_FLOOR_DB = -40.0
CHROMA_MIN_HZ = 55.0
CHROMA_MAX_HZ = 2000.0


def hz_to_mel(f):
    """Slaney mel scale (librosa htk=False)."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-300) / 1000.0) / logstep, mels)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    logstep = np.log(6.4) / 27.0
    return np.where(m >= 15.0, 1000.0 * np.exp(logstep * (m - 15.0)), f_sp * m)


def mel_filterbank(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=None):
    """Slaney-normalised triangles, as librosa.filters.mel(htk=False, norm='slaney'), float32."""
    fmax = min(11025.0, sr / 2.0) if fmax is None else fmax
    freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mf = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mf)
    ramps = mf[:, None] - freqs[None, :]
    w = np.zeros((n_mels, len(freqs)), dtype=np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        w[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mf[2:n_mels + 2] - mf[:n_mels])
    return (w.astype(np.float64) * enorm[:, None]).astype(np.float32)


def frames(y):
    """Centred frames (librosa center=True, zero padding): 1 + len//HOP rows of N_FFT samples."""
    y = np.asarray(y, dtype=np.float64)
    if len(y) == 0:
        return np.zeros((0, N_FFT))
    pad = np.concatenate([np.zeros(N_FFT // 2), y, np.zeros(N_FFT // 2 + HOP)])
    n = 1 + len(y) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    return pad[idx]


def chroma_frame(mag, sr=SR):
    """12 + 36-bin chroma from interpolated spectral peaks in [55, 2000] Hz (see docs/dsp.md)."""
    lo = max(1, int(np.ceil(CHROMA_MIN_HZ * N_FFT / sr)))
    hi = min(len(mag) - 2, int(np.floor(CHROMA_MAX_HZ * N_FFT / sr)))
    fine = np.zeros(36)
    seg = mag[lo:hi + 1]
    thr = max(1e-3, 0.01 * (seg.max() if len(seg) else 0.0))
    k = np.arange(lo, hi + 1)
    m = mag[k]
    is_peak = (m > mag[k - 1]) & (m >= mag[k + 1]) & (m >= thr)
    for kk in k[is_peak]:
        a = np.log(max(mag[kk - 1], 1e-300))
        b = np.log(mag[kk])
        c = np.log(max(mag[kk + 1], 1e-300))
        den = a - 2 * b + c
        delta = 0.5 * (a - c) / den if den < 0 else 0.0
        delta = min(0.5, max(-0.5, delta))
        f = (kk + delta) * sr / N_FFT
        q = 3.0 * (12.0 * np.log(f / 440.0) / np.log(2.0) + 9.0)
        q = q - 36.0 * np.floor(q / 36.0)
        i0 = int(np.floor(q))
        frac = q - i0
        i0 %= 36
        fine[i0] += mag[kk] * (1 - frac)
        fine[(i0 + 1) % 36] += mag[kk] * frac
    chroma = np.array([fine[(3 * c - 1) % 36] + fine[3 * c] + fine[3 * c + 1] for c in range(12)])
    mx = chroma.max()
    inv = 1.0 / mx if mx > 0 else 0.0
    return (chroma * inv).astype(np.float32), (fine * inv).astype(np.float32)


def frame_features(y, sr=SR):
    """Per-frame features of mono float audio: a dict of float32 arrays
    spectrum (T, 1025), mel_db (T, 64), chroma (T, 12), fine_chroma (T, 36), onset (T,), rms (T,)."""
    fr = frames(y)
    n = np.arange(N_FFT)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)  # periodic Hann
    spec = np.fft.rfft(fr * window[None, :], axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    mag = np.sqrt(power)
    fb = mel_filterbank(sr).astype(np.float64)
    mel = power @ fb.T
    mel_db = (10.0 * np.log10(np.maximum(mel, MEL_FLOOR))).astype(np.float32)
    clipped = np.maximum(mel_db.astype(np.float64), ONSET_FLOOR_DB)
    onset = np.zeros(len(fr), dtype=np.float32)
    if len(fr) > 1:
        onset[1:] = (np.maximum(0.0, clipped[1:] - clipped[:-1]).sum(axis=1) / N_MELS).astype(np.float32)
    rms = np.sqrt((fr ** 2).mean(axis=1)).astype(np.float32)
    ch = [chroma_frame(m, sr) for m in mag]
    chroma = np.array([c for c, _ in ch], dtype=np.float32).reshape(len(fr), 12)
    fine = np.array([f for _, f in ch], dtype=np.float32).reshape(len(fr), 36)
    return {"spectrum": mag.astype(np.float32), "mel_db": mel_db, "chroma": chroma,
            "fine_chroma": fine, "onset": onset, "rms": rms}


def fixture_signal():
    """1.6 s exercising every path: silence, a detuned harmonic tone, a chord, noise, clicks."""
    rng = np.random.default_rng(5)
    t = np.arange(int(1.6 * SR)) / SR
    y = np.zeros_like(t)
    tone = (t >= 0.2) & (t < 0.9)
    for h in range(1, 7):
        y += tone * 0.15 / h * np.sin(2 * np.pi * h * 221.3 * t)
    chord = t >= 0.7
    for hz in (261.63, 329.63, 392.0, 523.25):
        y += chord * 0.08 * np.sin(2 * np.pi * hz * t + hz)
    y += (t >= 1.0) * 0.02 * rng.standard_normal(len(t))
    for c in (0.5, 1.1, 1.4):
        k = int(c * SR)
        y[k:k + 200] += 0.6 * np.exp(-np.arange(200) / 40.0)
    q = np.clip(np.round(y * 32768), -32768, 32767).astype("<i2")
    return q


def make_fixture(root):
    q = fixture_signal()
    d = os.path.join(root, "tests", "cpp", "fixtures")
    q.tofile(os.path.join(d, "dsp_signal.i16"))
    f = frame_features(q.astype(np.float32) / 32768.0)
    r6 = lambda a: [float(f"{v:.7g}") for v in np.asarray(a).ravel()]  # noqa: E731
    out = {
        "about": "tools/audio/features.py --make-fixture: features of dsp_signal.i16 (int16/32768, 22050 Hz)",
        "mel_db": [r6(row) for row in f["mel_db"]],
        "chroma": [r6(row) for row in f["chroma"]],
        "onset": r6(f["onset"]),
        "rms": r6(f["rms"]),
        "spectrum_frames": [{"frame": int(t), "magnitude": r6(f["spectrum"][t])} for t in (0, 12, 30, 50)],
    }
    with open(os.path.join(d, "dsp_features.json"), "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
    print("wrote", d, "frames", len(f["rms"]))


def self_test():
    fb = mel_filterbank()
    assert fb.shape == (N_MELS, N_FFT // 2 + 1) and (fb >= 0).all()
    assert abs(float(hz_to_mel(1000.0)) - 15.0) < 1e-12 and abs(float(mel_to_hz(hz_to_mel(4321.0))) - 4321.0) < 1e-9
    y = 0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
    f = frame_features(y)
    assert len(f["rms"]) == 1 + SR // HOP
    assert all(int(np.argmax(c)) == 9 for c in f["chroma"][4:38]), "A440 should peak at A"
    assert abs(float(f["rms"][20]) - 0.3 / np.sqrt(2)) < 1e-3
    band = int(np.argmax(f["mel_db"][20]))
    centres = mel_to_hz(np.linspace(hz_to_mel(0), hz_to_mel(11025), N_MELS + 2))[1:-1]
    assert abs(band - int(np.argmin(abs(centres - 440)))) <= 1
    z = frame_features(np.zeros(4096))
    assert (z["mel_db"] == np.float32(-100)).all() and (z["onset"] == 0).all() and (z["chroma"] == 0).all()
    print("features.py self-test ok")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    if "--make-fixture" in sys.argv:
        make_fixture(os.path.abspath(os.path.join(here, "..", "..")))
    else:
        self_test()

#!/usr/bin/env python3
"""How far does a lead instrument's timbre carry from one soundfont to another?

The listening model's lead-family answer is trained on FluidR3_GM and MuseScore_General renders
and tested on TimGM6mb (models/listen.md). This probe asks how much of the family is in the
sound itself, with no accompaniment in the way: each featured General MIDI program
(tools/audio/dataset_lib.mjs FEATURED) plays the same solo phrase (8 notes across its range) in
each soundfont; a program's timbre is its long-term log-mel spectrum (the engine's mel bands,
tools/audio/features.py) over its loud frames, floored 60 dB under the peak and mean-removed; and
each program of a held-out soundfont takes the family of its nearest neighbour (cosine) among the
training soundfonts' programs. Optionally a random low-pass on the training renders (SoundFont
NRPN initialFilterFc / initialFilterQ offsets, --augment) shows what that augmentation buys.

usage: /usr/bin/python3 tools/audio/timbre_transfer.py [--out build/audio/timbre] [--augment]
Prints the nearest-neighbour family accuracy per held-out soundfont and TimGM6mb's confusions.
"""
import argparse, json, os, struct, subprocess, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from features import frames, mel_filterbank, N_FFT, MEL_FLOOR, SR  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FONTS = {  # name -> file (the first two are the training soundfonts, TimGM6mb the test one)
    'FluidR3_GM': '/usr/share/sounds/sf2/FluidR3_GM.sf2',
    'MuseScore_General': '/usr/share/sounds/sf3/MuseScore_General_Full.sf3',
    'MuseScore_General_Lite': '/usr/share/sounds/sf3/MuseScore_General_Lite.sf3',
    'TimGM6mb': '/usr/share/sounds/sf2/TimGM6mb.sf2',
    # csound-soundfont's GM bank shares most of its samples with TimGM6mb (their solo phrases'
    # timbres have cosine >= 0.99 for 25 of the 36 programs): it must never train a model that
    # TimGM6mb tests. It is here only to show that (--share).
    'Csound_GMbank': '/usr/share/sounds/sf2/sf_GMbank.sf2',
    'OPL3_FM': '/usr/share/sounds/sf2/OPL-3_FM_128M.sf2',       # opl3-soundfont: FM synthesis
}
TRAIN = ['FluidR3_GM', 'MuseScore_General']
EXTRA = ['OPL3_FM']  # --extra: what one more (very different) training soundfont would buy


def featured():
    js = "import('./tools/audio/dataset_lib.mjs').then((m) => console.log(JSON.stringify(m.FEATURED)))"
    return json.loads(subprocess.run(['node', '-e', js], cwd=REPO, check=True, capture_output=True, text=True).stdout)


def vlq(n):
    b = [n & 0x7F]
    n >>= 7
    while n:
        b.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(b))


def smf(events):
    trk = b''.join(vlq(dt) + bytes(ev) for dt, ev in events) + b'\x00\xff\x2f\x00'
    return b'MThd' + struct.pack('>IHHH', 6, 0, 1, 480) + b'MTrk' + struct.pack('>I', len(trk)) + trk


def nrpn(gen, offset):  # SoundFont 2.01 NRPN: MSB 120, LSB = generator, data entry = 8192 + offset
    v = 8192 + offset
    return [(0, [0xB0, 99, 120]), (0, [0xB0, 98, gen]), (0, [0xB0, 6, v >> 7]), (0, [0xB0, 38, v & 0x7F])]


FB = mel_filterbank(SR).astype(np.float64)


def timbre(wav_path):
    import wave
    w = wave.open(wav_path)
    x = np.frombuffer(w.readframes(w.getnframes()), np.int16).reshape(-1, w.getnchannels()).mean(1) / 32768
    fr = frames(x)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    mel = 10 * np.log10(np.maximum((np.abs(np.fft.rfft(fr * win, axis=1)) ** 2) @ FB.T, MEL_FLOOR))
    e = mel.max(1)
    s = mel[e > e.max() - 30].mean(0)
    s = np.maximum(s, s.max() - 60)
    s = s - s.mean()
    return s / np.linalg.norm(s)


def render(out, font, program, lo, hi, extra=(), tag=''):
    path = os.path.join(out, f'{font}{tag}-{program}')
    if not os.path.exists(path + '.wav'):
        ev = [(0, [0xC0, program])] + list(extra)
        for n in np.linspace(lo + 3, hi - 3, 8).astype(int):  # 8 quarter notes at 109 BPM, legato
            ev += [(0, [0x90, int(n), 100]), (264, [0x80, int(n), 0]), (24, [0x90, 0, 0])]
        open(path + '.mid', 'wb').write(smf(ev))
        subprocess.run(['fluidsynth', '-ni', '-g', '0.5', '-r', str(SR), '-F', path + '.wav', FONTS[font], path + '.mid'],
                       check=True, capture_output=True)
    return timbre(path + '.wav')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(REPO, 'build/audio/timbre'))
    ap.add_argument('--augment', action='store_true', help='also training renders with a random low-pass (NRPN)')
    ap.add_argument('--extra', action='store_true', help='count Csound_GMbank and OPL3_FM as training soundfonts for TimGM6mb')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    feat = featured()
    vec = {}  # (font, family, program, variant) -> timbre
    for font in FONTS:
        if not os.path.exists(FONTS[font]):
            print(f'{font}: {FONTS[font]} is not installed, left out')
            continue
        for fam, progs in feat.items():
            for program, lo, hi in progs:
                vec[(font, fam, program, '')] = render(args.out, font, program, lo, hi)
    if args.augment:
        variants = {'-fc1200': nrpn(8, -1200), '-fc2400': nrpn(8, -2400), '-q': nrpn(9, 100) + nrpn(8, -600)}
        for font in TRAIN:
            for tag, extra in variants.items():
                for fam, progs in feat.items():
                    for program, lo, hi in progs:
                        vec[(font, fam, program, tag)] = render(args.out, font, program, lo, hi, extra, tag)
    result = {}
    for held in [f for f in FONTS if any(k[0] == f for k in vec)]:
        # the other soundfonts (MuseScore's full and lite sets count as one: they share samples)
        same = {'MuseScore_General', 'MuseScore_General_Lite'} if held.startswith('MuseScore') else {held}
        train = [k for k in vec if k[0] not in same and (held != 'TimGM6mb' or k[0] in TRAIN or (args.extra and k[0] in EXTRA))]
        hits, confused = 0, {}
        tests = [k for k in vec if k[0] == held and k[3] == '']
        for k in tests:
            best = max(train, key=lambda t: float(vec[t] @ vec[k]))
            hits += best[1] == k[1]
            if best[1] != k[1]:
                confused.setdefault(k[1], []).append(best[1])
        result[held] = round(hits / len(tests), 3)
        print(f'{held}: nearest-neighbour family accuracy {result[held]} over {len(tests)} programs'
              + (f'; confusions {json.dumps(confused)}' if held == 'TimGM6mb' else ''))
    print(json.dumps(result))
    # how alike each soundfont's programs are to TimGM6mb's (the same samples give cosine ~1)
    for font in [f for f in FONTS if f != 'TimGM6mb' and any(k[0] == f for k in vec)]:
        cos = [float(vec[(font, fam, p, '')] @ vec[('TimGM6mb', fam, p, '')]) for fam, progs in feat.items() for p, _, _ in progs]
        print(f'{font}: cosine with TimGM6mb\'s timbre, mean {np.mean(cos):.3f}; programs at >= 0.99: {sum(c >= 0.99 for c in cos)} of {len(cos)}')


if __name__ == '__main__':
    main()

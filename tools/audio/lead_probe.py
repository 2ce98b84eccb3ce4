#!/usr/bin/env python3
"""Where does the lead-family answer lose its accuracy: finding the melody, or its sound?

The listening model's lead family (models/listen.md) is a CNN on the log-mel of the whole mixture:
0.595 on the held-out TimGM6mb renders, and only about 0.60 when trained on FluidR3 and scored on
MuseScore (leave one soundfont out inside train). This probe splits the problem in two:

1. **The sound of the melody alone, with the melody given.** Each render's MIDI file says which
   notes the melody (channel 1) plays and when. For every melody note, the magnitude of each of
   its first 16 harmonics is read off the mixture's STFT (the engine's 2048/512 frames at 22050 Hz;
   the largest bin within +-3% of the harmonic). A note gives its harmonic profile (dB under its
   strongest harmonic, after the attack), its attack profile (the first two frames against the
   rest), the envelope of its three lowest harmonics over 12 frames, and its pitch. A clip is the
   median and quartiles of its notes. A small MLP learns the family from those numbers.
2. **The same numbers, with the melody found from the audio**, by two trackers over MIDI 45-96
   with Viterbi smoothing: a plain predominant-pitch tracker (harmonic sum), and a small learnt one
   (a convolution along the pitch axis over each candidate's first 8 harmonics in 3 frames, trained
   on the renders' own melodies; cross-fitted, so a clip's melody is always found by a tracker
   trained on the other soundfont, or on train for a test clip). That is what a shipped feature of
   this kind would get with the tracker it had.

Both are scored leave one soundfont out inside train (FluidR3 -> MuseScore and back) and on the
held-out TimGM6mb renders, over the clips that have a melody (the `none` class is left out: the
CNN finds it 19 times in 23). The CNN's own figure on the same 177 test clips is printed beside.

usage: /usr/bin/python3 tools/audio/lead_probe.py [--data build/audio] [--seeds 3]
With build/native/tunesmith built, it also prints a ceiling for the CNN and the melody-given MLP together.
Needs the renders of tools/audio/render_dataset.mjs (their .wav, .mid and .json), and
build/audio/eval-test.json (node tools/audio/eval_listen.mjs --split test --json ...) for the
CNN's line. About three minutes and 2 GB of memory on two cores. It reads the data; it writes nothing.
"""
import argparse, glob, json, os, struct, sys, wave
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from features import frames, N_FFT, HOP, SR  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
N_HARM = 16          # harmonics read per melody note
ENV_FRAMES = 12      # envelope length (frames, ~0.28 s)
TRACK_PITCHES = np.arange(45, 97)  # the featured programs' melody ranges (dataset_lib.mjs FEATURED)
WINDOW = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)


# ---- the melody from the MIDI file ------------------------------------------------------------

def _vlq(b, q):
    v = 0
    while True:
        c = b[q]
        q += 1
        v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, q


def melody_notes(path, channel=0):
    """(start s, end s, MIDI pitch) of every note on `channel` (0-based) of a standard MIDI file."""
    b = open(path, 'rb').read()
    if b[:4] != b'MThd':
        raise ValueError(f'{path}: not a standard MIDI file')
    _, _, ntracks, division = struct.unpack('>IHHH', b[4:14])
    p, events, tempos = 14, [], []
    for _ in range(ntracks):
        if b[p:p + 4] != b'MTrk':
            raise ValueError(f'{path}: bad track header')
        end = p + 8 + struct.unpack('>I', b[p + 4:p + 8])[0]
        q, tick, status = p + 8, 0, 0
        while q < end:
            dt, q = _vlq(b, q)
            tick += dt
            if b[q] == 0xFF:  # meta: keep tempo changes
                kind = b[q + 1]
                n, q = _vlq(b, q + 2)
                if kind == 0x51:
                    tempos.append((tick, (b[q] << 16) | (b[q + 1] << 8) | b[q + 2]))
                q += n
                continue
            if b[q] in (0xF0, 0xF7):  # sysex
                n, q = _vlq(b, q + 1)
                q += n
                continue
            if b[q] & 0x80:
                status = b[q]
                q += 1
            n = 1 if status & 0xF0 in (0xC0, 0xD0) else 2
            events.append((tick, status, b[q:q + n]))
            q += n
        p = end
    tempos = sorted(tempos) if tempos and min(tempos)[0] == 0 else [(0, 500000)] + sorted(tempos)

    def seconds(tick):
        s, (t0, us) = 0.0, tempos[0]
        for t, u in tempos[1:]:
            if t >= tick:
                break
            s += (t - t0) * us / division / 1e6
            t0, us = t, u
        return s + (tick - t0) * us / division / 1e6

    on, notes = {}, []
    for tick, status, d in sorted(events, key=lambda e: e[0]):
        if status & 0x0F != channel:
            continue
        if status & 0xF0 == 0x90 and d[1] > 0:
            on[d[0]] = tick
        elif status & 0xF0 in (0x80, 0x90) and d[0] in on:
            notes.append((seconds(on.pop(d[0])), seconds(tick), d[0]))
    return notes


# ---- spectra, the tracker and the per-note numbers ---------------------------------------------

def magnitude(path):
    w = wave.open(path)
    x = np.frombuffer(w.readframes(w.getnframes()), np.int16).reshape(-1, w.getnchannels()).mean(1) / 32768
    if w.getframerate() != SR:
        raise ValueError(f'{path}: {w.getframerate()} Hz, the probe reads {SR} Hz renders')
    return np.abs(np.fft.rfft(frames(x) * WINDOW, axis=1))


def _band_max(S, freq):
    """Per frame, the largest magnitude within +-3% of `freq` (None above the spectrum)."""
    k = freq * N_FFT / SR
    if k >= S.shape[1] - 3:
        return None
    return S[:, max(1, int(k * 0.97)):int(np.ceil(k * 1.03)) + 1].max(1)


def viterbi(like, cost):
    """The best state path through frames x states log-likelihoods, `cost[a, b]` to go from a to b."""
    score, back = like[0].copy(), np.zeros(like.shape, int)
    for t in range(1, len(like)):
        c = score[:, None] - cost
        back[t] = c.argmax(0)
        score = c.max(0) + like[t]
    path = np.zeros(len(like), int)
    path[-1] = score.argmax()
    for t in range(len(like) - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def track(S):
    """The predominant pitch per frame: harmonic sum of sqrt-magnitudes (8 harmonics, weight 0.8^h),
    Viterbi-smoothed with a cost per semitone jumped. Returns a MIDI pitch per frame."""
    M = np.sqrt(S)
    sal = np.zeros((S.shape[0], len(TRACK_PITCHES)))
    for i, p in enumerate(TRACK_PITCHES):
        f0 = 440 * 2 ** ((p - 69) / 12)
        for h in range(1, 9):
            a = _band_max(M, f0 * h)
            if a is None:
                break
            sal[:, i] += 0.8 ** (h - 1) * a
    like = np.log(np.maximum(sal, 1e-9) / np.maximum(sal.max(1, keepdims=True), 1e-9))
    return TRACK_PITCHES[viterbi(like, 0.15 * np.minimum(np.abs(TRACK_PITCHES[:, None] - TRACK_PITCHES[None, :]), 12))]


def harmonic_stack(S):
    """log magnitude of harmonics 1-8 of each tracker pitch, per frame, under the frame's largest
    (floored 12 nepers down): frames x 8 x pitches, the learnt tracker's input."""
    out = np.zeros((S.shape[0], 8, len(TRACK_PITCHES)), np.float32)
    for i, p in enumerate(TRACK_PITCHES):
        f0 = 440 * 2 ** ((p - 69) / 12)
        for h in range(1, 9):
            a = _band_max(S, f0 * h)
            out[:, h - 1, i] = np.log(1e-4 + a) if a is not None else np.log(1e-4)
    out -= out.max(axis=(1, 2), keepdims=True)
    return np.maximum(out, -12)


def with_context(H):
    """frames x 3 x 8 x pitches: the frame before, the frame, the frame after."""
    Hp = np.concatenate([H[:1], H, H[-1:]])
    return np.stack([Hp[:-2], Hp[1:-1], Hp[2:]], 1)


def learnt_tracker(clips, seed=0, per_clip=80, epochs=8):
    """A 5-pitch-wide convolution over (3 frames x 8 harmonics) channels scores each pitch, plus one
    learnt 'no melody' score; softmax cross-entropy on the MIDI file's melody pitch per frame."""
    import torch
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n = len(TRACK_PITCHES)
    X, Y = [], []
    for c in clips:
        idx = rng.choice(len(c['stack']), min(per_clip, len(c['stack'])), replace=False)
        X.append(with_context(c['stack'].astype(np.float32))[idx])
        Y.append(np.where(c['truth'][idx] > 0, c['truth'][idx] - TRACK_PITCHES[0], n))
    X, Y = torch.tensor(np.concatenate(X)), torch.tensor(np.concatenate(Y))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = torch.nn.Conv1d(24, 32, 5, padding=2), torch.nn.Conv1d(32, 1, 1)
            self.none = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            y = self.c2(torch.relu(self.c1(x.reshape(x.shape[0], 24, n))))[:, 0]
            return torch.cat([y, self.none.expand(len(y), 1)], 1)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(epochs):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), 512):
            b = perm[i:i + 512]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(X[b] + 0.3 * torch.randn_like(X[b])), Y[b]).backward()
            opt.step()
    net.eval()

    def run(H):
        with torch.no_grad():
            logp = torch.log_softmax(net(torch.tensor(with_context(H.astype(np.float32)))), 1).numpy()
        K = n + 1  # Viterbi: 0.3 per semitone jumped (at most 12), 1.0 to start or end a note
        cost = np.minimum(np.abs(np.arange(K)[:, None] - np.arange(K)[None, :]), 12) * 0.3
        cost[n, :] = cost[:, n] = 1.0
        cost[n, n] = 0
        path = viterbi(logp, cost)
        return np.where(path < n, TRACK_PITCHES[np.minimum(path, n - 1)], 0)
    return run


def tracked_notes(S, pitch):
    """Runs of one tracked pitch (0: no melody), at least 3 frames long and above the quietest 20%
    of frames."""
    energy, floor, notes, t = S.sum(1), np.percentile(S.sum(1), 20), [], 0
    while t < len(pitch):
        u = t
        while u + 1 < len(pitch) and pitch[u + 1] == pitch[t]:
            u += 1
        if pitch[t] > 0 and u - t + 1 >= 3 and energy[t:u + 1].mean() > floor:
            notes.append((t * HOP / SR, (u + 1) * HOP / SR, int(pitch[t])))
        t = u + 1
    return notes


def note_numbers(S, notes):
    rows = []
    for t0, t1, p in notes:
        a, b = int(round(t0 * SR / HOP)), int(round(t1 * SR / HOP))
        seg = S[a:min(b, a + 2 * ENV_FRAMES)]
        if b - a < 3 or len(seg) < 3:
            continue
        f0 = 440 * 2 ** ((p - 69) / 12)
        harm = [_band_max(seg, f0 * h) for h in range(1, N_HARM + 1)]
        A = 20 * np.log10(np.maximum(np.array([h if h is not None else np.full(len(seg), 1e-6) for h in harm]).T, 1e-6))
        sustain = A[2:].mean(0) if len(A) > 3 else A.mean(0)
        attack = A[:2].mean(0)
        profile = np.maximum(sustain - sustain.max(), -60)
        env = A[:, :3].max(1)
        env = np.concatenate([env, np.full(max(0, ENV_FRAMES - len(env)), env[-1])])[:ENV_FRAMES] - env.max()
        rows.append(np.concatenate([profile, np.maximum(attack - attack.max(), -60) - profile,
                                    np.maximum(env, -60), [np.log2(f0 / 261.63)]]))
    return rows


def clip_summary(F):
    return None if not F else np.concatenate([np.median(F, 0), np.percentile(F, 25, 0), np.percentile(F, 75, 0)]).tolist()


def clip_numbers(json_path):
    label = json.load(open(json_path))
    family = label.get('featured_family')
    if not family:
        return None
    base = json_path[:-5]
    S = magnitude(base + '.wav')
    given = melody_notes(base + '.mid', 0)
    pitch = track(S)
    truth = np.zeros(len(pitch), int)
    for t0, t1, p in given:
        truth[int(round(t0 * SR / HOP)):int(round(t1 * SR / HOP))] = p
    voiced = truth > 0
    return {'id': label['id'], 'soundfont': label['soundfont'], 'family': family, 'path': json_path,
            'truth': truth, 'stack': harmonic_stack(S).astype(np.float16),
            'tracker_pitch_acc': float((pitch[voiced] == truth[voiced]).mean()) if voiced.any() else None,
            'given': clip_summary(note_numbers(S, given)), 'tracked': clip_summary(note_numbers(S, tracked_notes(S, pitch)))}


def learnt_numbers(job):
    json_path, pitch = job
    S = magnitude(json_path[:-5] + '.wav')
    return clip_summary(note_numbers(S, tracked_notes(S, pitch)))


# ---- the classifier -----------------------------------------------------------------------------

def fit_and_score(train, test, key, families, seed):
    import torch
    torch.manual_seed(seed)
    tr = [r for r in train if r[key] is not None]
    X = np.array([r[key] for r in tr], np.float32)
    y = torch.tensor([families.index(r['family']) for r in tr])
    mu, sd = X.mean(0), X.std(0) + 1e-3
    Xt = torch.tensor((X - mu) / sd)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 64), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                              torch.nn.Linear(64, len(families)))
    opt = torch.optim.Adam(net.parameters(), 3e-3, weight_decay=1e-3)
    for _ in range(300):
        net.train()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt + 0.5 * torch.randn_like(Xt)), y).backward()
        opt.step()
    net.eval()
    pred, logp = [], []
    with torch.no_grad():
        for r in test:  # a clip without numbers (no note found) counts as wrong
            lp = None if r[key] is None else torch.log_softmax(net(torch.tensor((np.array(r[key], np.float32) - mu) / sd)[None]), 1)[0].numpy()
            logp.append(lp)
            pred.append(None if lp is None else families[int(lp.argmax())])
    return pred, logp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(REPO, 'build/audio'))
    ap.add_argument('--seeds', type=int, default=3)
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.data, 'train', '*.json'))) + sorted(glob.glob(os.path.join(args.data, 'test', '*.json')))
    if not files:
        raise SystemExit(f'no renders under {args.data}: run tools/audio/render_dataset.mjs first')
    with Pool(2) as pool:
        rows = [r for r in pool.imap(clip_numbers, files, chunksize=4) if r]
    train = [r for r in rows if r['id'].startswith('train')]
    test = [r for r in rows if r['id'].startswith('test')]
    families = sorted({r['family'] for r in rows})
    acc = np.array([r['tracker_pitch_acc'] for r in rows if r['tracker_pitch_acc'] is not None])
    print(f'{len(train)} train and {len(test)} test clips with a melody; the plain tracker hits the melody\'s pitch in {acc.mean():.3f} of its frames')
    # the learnt tracker, cross-fitted: each clip's melody comes from a tracker that never heard its soundfont
    fonts = {'FluidR3_GM': 'MuseScore_General', 'MuseScore_General': 'FluidR3_GM'}
    trackers = {f: learnt_tracker([r for r in train if r['soundfont'] == f]) for f in fonts}
    trackers['test'] = learnt_tracker(train)
    hits = {'train': [], 'test': []}
    for r in rows:
        split = 'test' if r['id'].startswith('test') else 'train'
        pitch = trackers['test' if split == 'test' else fonts[r['soundfont']]](r['stack'])
        v = r['truth'] > 0
        if v.any():
            hits[split].append(np.mean(pitch[v] == r['truth'][v]))
        r['learnt_pitch'] = pitch
    with Pool(2) as pool:
        for r, numbers in zip(rows, pool.map(learnt_numbers, [(r['path'], r['learnt_pitch']) for r in rows], chunksize=4)):
            r['learnt'] = numbers
    print(f'the learnt tracker hits it in {np.mean(hits["train"]):.3f} of the frames (train clips, the other soundfont\'s tracker) '
          f'and {np.mean(hits["test"]):.3f} (test clips)')
    splits = {'FluidR3 -> MuseScore': ([r for r in train if r['soundfont'] == 'FluidR3_GM'], [r for r in train if r['soundfont'] == 'MuseScore_General']),
              'MuseScore -> FluidR3': ([r for r in train if r['soundfont'] == 'MuseScore_General'], [r for r in train if r['soundfont'] == 'FluidR3_GM']),
              'train -> TimGM6mb (test)': (train, test)}
    print('\n| melody notes | ' + ' | '.join(splits) + ' |\n|---|' + '---|' * len(splits))
    confusion, given_test = None, []
    for key, what in (('given', 'given (from the MIDI file)'), ('tracked', 'tracked from the audio (plain)'), ('learnt', 'tracked from the audio (learnt)')):
        cells = []
        for name, (a, b) in splits.items():
            scores = []
            for seed in range(args.seeds):
                pred, logp = fit_and_score(a, b, key, families, seed)
                scores.append(np.mean([p == r['family'] for p, r in zip(pred, b)]))
                if key == 'given' and name.endswith('(test)'):
                    given_test.append(logp)
                    if seed == 0:
                        confusion = (pred, b)
            cells.append(f'{np.mean(scores):.3f} (seeds {min(scores):.3f}-{max(scores):.3f})')
        print(f'| {what} | ' + ' | '.join(cells) + ' |')
    ev = os.path.join(args.data, 'eval-test.json')
    if os.path.exists(ev):
        ids = {r['id'] for r in test}
        cnn = [r for r in json.load(open(ev))['rows'] if r['id'] in ids]
        print(f'| the shipped CNN (eval-test.json) | | | {np.mean([r["lead_est"] == r["lead"] for r in cnn]):.3f} |')
    cli = os.path.join(REPO, 'build/native/tunesmith')
    if os.path.exists(cli):
        # a ceiling: the CNN's lead probabilities (the shipped model, `tunesmith analyze --json`) times the
        # melody-given MLP's, with the weight picked on the test clips themselves (so optimistic twice over)
        import subprocess
        lc = []
        for r in test:
            out = json.loads(subprocess.run([cli, 'analyze', r['path'][:-5] + '.wav', '--json'], check=True, capture_output=True, text=True).stdout)
            p = {q['label']: q['p'] for q in out['instruments']['lead']['probabilities']}
            lc.append(np.log(np.maximum([p.get(f, 0) for f in families], 1e-4)))
        truth = np.array([families.index(r['family']) for r in test])
        best = max((np.mean([np.mean([(w * lp + (1 - w) * c).argmax() == t if lp is not None else False
                                      for lp, c, t in zip(run, lc, truth)]) for run in given_test]), w)
                   for w in np.linspace(0, 1, 11))
        print(f'| the CNN and the melody-given MLP together (weight {best[1]:.1f}, chosen on the test clips: a ceiling) | | | {best[0]:.3f} |')
    pred, b = confusion
    print('\nTimGM6mb, melody given, seed 0 (rows: true, columns: predicted)\n\n| | ' + ' | '.join(families) + ' |\n|---|' + '---|' * len(families))
    for f in families:
        print(f'| **{f}** | ' + ' | '.join(str(sum(1 for p, r in zip(pred, b) if r['family'] == f and p == g)) for g in families) + ' |')


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Train the listening classifier: a small CNN over log-mel patches (the engine's own features,
tools/audio/extract_mels.py), with five heads read from one shared trunk:

  style     10 classes (softmax)              the mma groove's style class
  lead      the featured melody instrument's General MIDI family, or "none" (softmax)
  families  every GM family playing, plus drums (multi-label, sigmoid)
  tempo     log2(BPM / 120) (regression): used only to pick the tempo octave among the
            onset-periodicity candidates (docs/listen-api.md)

Train split: FluidR3_GM and MuseScore_General renders; test split: TimGM6mb (a soundfont never
heard in training) with keys, tempi and charts held out (docs/audio-data.md). The test split is
scored once, at the end; model selection uses a validation part of the train split.

Augmentation (the soundfont is the main shift): a random smooth EQ curve (+-9 dB), a shift of the
mel axis by up to 2 bands, time stretching by resampling the frame axis (0.8-1.25, tempo label
scaled accordingly), SpecAugment-style band and time masks, and mixing in quiet noise.

usage: /usr/bin/python3 tools/audio/train_cnn.py [--data build/audio] [--out build/models-next] [--epochs 40]
Writes OUT/listen.onnx (Conv/Relu/MaxPool/ReduceMean/ReduceMax/Gemm, batch-norm folded, opset 17),
OUT/listen.json (manifest: tunesmith-audio-classifier/1) and OUT/listen-metrics.json (test metrics,
confusion matrices). Uses a GPU when one is present; checkpoints to build/ckpt/listen-cnn.pt.
"""
import argparse, hashlib, json, math, os, random, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_MELS, PATCH, HOP_PATCH = 64, 128, 64
FLOOR_DB = 80.0   # values more than 80 dB under the patch maximum are raised to it
SCALE_DB = 20.0   # (x - patch mean) / 20
FAMILIES = ['piano', 'chromatic_percussion', 'organ', 'guitar', 'bass', 'strings', 'ensemble', 'brass', 'reed',
            'pipe', 'synth_lead', 'synth_pad', 'synth_effects', 'ethnic', 'percussive', 'sound_effects', 'drums']


NORM = 'global'


def normalise(p):
    """p: (B, 1, 64, T) dB. The engine does exactly this (engine/src/classifier.cpp).
    global: one channel, (x - patch mean) / 20 after raising values under (max - 80 dB).
    band:   one channel, each band minus its own mean over time (static timbre and EQ removed).
    both:   the two as two channels."""
    mx = p.amax(dim=(-2, -1), keepdim=True)
    p = torch.maximum(p, mx - FLOOR_DB)
    g = (p - p.mean(dim=(-2, -1), keepdim=True)) / SCALE_DB
    b = (p - p.mean(dim=-1, keepdim=True)) / SCALE_DB
    if NORM == 'global':
        return g
    if NORM == 'band':
        return b
    return torch.cat([g, b], dim=1)


class Net(nn.Module):
    def __init__(self, ch, n_style, n_lead, n_fam, cin=1):
        super().__init__()
        c1, c2, c3, c4 = ch
        self.convs = nn.ModuleList([nn.Conv2d(cin, c1, 3, padding=1), nn.Conv2d(c1, c2, 3, padding=1),
                                    nn.Conv2d(c2, c3, 3, padding=1), nn.Conv2d(c3, c4, 3, padding=1)])
        self.bns = nn.ModuleList([nn.BatchNorm2d(c) for c in ch])
        self.fc = nn.Linear(2 * c4, 96)
        self.drop = nn.Dropout(0.3)
        self.style = nn.Linear(96, n_style)
        self.lead = nn.Linear(96, n_lead)
        self.fam = nn.Linear(96, n_fam)
        self.tempo = nn.Linear(96, 1)

    def trunk(self, x):  # x: (B, 1, 64, T) normalised
        for i, (c, b) in enumerate(zip(self.convs, self.bns)):
            x = F.relu(b(c(x)))
            if i < 3:
                x = F.max_pool2d(x, 2)
        return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)

    def forward(self, x):
        h = self.drop(F.relu(self.fc(self.drop(self.trunk(x)))))
        return self.style(h), self.lead(h), self.fam(h), self.tempo(h).squeeze(1)


class Folded(nn.Module):
    """The exported graph: batch norm folded into the convolutions, eval mode, probabilities out."""
    def __init__(self, net):
        super().__init__()
        self.convs = nn.ModuleList()
        for c, b in zip(net.convs, net.bns):
            s = b.weight / torch.sqrt(b.running_var + b.eps)
            k = nn.Conv2d(c.in_channels, c.out_channels, 3, padding=1)
            k.weight.data = c.weight.data * s[:, None, None, None]
            k.bias.data = (c.bias.data - b.running_mean) * s + b.bias.data
            self.convs.append(k)
        self.fc, self.style, self.lead, self.fam, self.tempo = net.fc, net.style, net.lead, net.fam, net.tempo

    def forward(self, x):
        for i, c in enumerate(self.convs):
            x = F.relu(c(x))
            if i < 3:
                x = F.max_pool2d(x, 2)
        h = F.relu(self.fc(torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)))
        return (F.softmax(self.style(h), dim=1), F.softmax(self.lead(h), dim=1), torch.sigmoid(self.fam(h)),
                self.tempo(h))


def augment(p, rng):
    """p: (64, T') float32 dB of a patch (T' >= needed); returns a (64, PATCH) patch and the stretch."""
    stretch = math.exp(rng.uniform(math.log(0.8), math.log(1.25)))
    need = int(math.ceil(PATCH * stretch)) + 1
    T = p.shape[1]
    start = rng.randint(0, max(0, T - need))
    src = p[:, start:start + need]
    if src.shape[1] < need:
        src = np.pad(src, ((0, 0), (0, need - src.shape[1])), mode='edge')
    pos = np.arange(PATCH) * stretch
    i0 = np.floor(pos).astype(int)
    fr = (pos - i0).astype(np.float32)
    i1 = np.minimum(i0 + 1, src.shape[1] - 1)
    out = src[:, i0] * (1 - fr) + src[:, i1] * fr
    # smooth EQ: 3 random cosines over the mel axis
    m = np.arange(N_MELS) / (N_MELS - 1)
    eq = np.zeros(N_MELS, dtype=np.float32)
    for k in range(1, 4):
        eq += rng.uniform(-3.0, 3.0) * np.cos(np.pi * k * m + rng.uniform(0, np.pi))
    eq += rng.uniform(-6.0, 6.0) * (m - 0.5)
    out = out + eq[:, None]
    sh = rng.randint(-2, 2)
    if sh:
        out = np.roll(out, sh, axis=0)
        if sh > 0: out[:sh] = out[sh:sh + 1]
        else: out[sh:] = out[sh - 1:sh]
    if rng.random() < 0.3:  # quiet noise floor (power sum)
        lvl = out.max() - rng.uniform(35, 60)
        out = 10 * np.log10(10 ** (out / 10) + 10 ** (lvl / 10) * np.float32(rng.uniform(0.5, 1.5)))
    if rng.random() < 0.5:
        w = rng.randint(1, 8); f0 = rng.randint(0, N_MELS - w); out[f0:f0 + w] = out.min()
    if rng.random() < 0.5:
        w = rng.randint(1, 12); t0 = rng.randint(0, PATCH - w); out[:, t0:t0 + w] = out.min()
    return out.astype(np.float32), stretch


def clip_patches(mel):
    """(T, 64) -> (n, 64, PATCH): patches every HOP_PATCH frames as the engine takes them."""
    T = mel.shape[0]
    starts = list(range(0, max(1, T - PATCH + 1), HOP_PATCH))
    out = []
    for s in starts:
        q = mel[s:s + PATCH].T
        if q.shape[1] < PATCH:
            q = np.pad(q, ((0, 0), (0, PATCH - q.shape[1])), mode='constant', constant_values=-100.0)
        out.append(q)
    return np.stack(out).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='build/audio')
    ap.add_argument('--out', default='build/models-next')
    ap.add_argument('--epochs', type=int, default=40)
    ap.add_argument('--per-clip', type=int, default=6)
    ap.add_argument('--channels', default='16,32,64,64')
    ap.add_argument('--val', type=float, default=0.1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--final', action='store_true', help='train on all of the train split (no validation part)')
    ap.add_argument('--val-soundfont', default='', help='validate on this soundfont\'s clips, train on the others')
    ap.add_argument('--norm', default='global', choices=['global', 'band', 'both'])
    ap.add_argument('--ckpt', default='build/ckpt/listen-cnn.pt')
    ap.add_argument('--no-export', action='store_true')
    ap.add_argument('--lead-weight', type=float, default=0.7, help='weight of the lead-family loss')
    ap.add_argument('--export-from', default='', help='skip training: export this checkpoint (no test metrics)')
    args = ap.parse_args()
    global NORM
    NORM = args.norm
    cin = 2 if NORM == 'both' else 1
    torch.manual_seed(1); random.seed(1); np.random.seed(1)
    torch.set_num_threads(args.threads)
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    recs = [json.loads(l) for l in open(os.path.join(args.data, 'manifest.jsonl'))]
    mels = np.load(os.path.join(args.data, 'mels.npz'))
    styles = sorted({r['style'] for r in recs})
    leads = sorted({r['featured_family'] for r in recs if r['featured_family']}) + ['none']
    ch = [int(x) for x in args.channels.split(',')]
    tr_all = [r for r in recs if r['split'] == 'train']
    te = [r for r in recs if r['split'] == 'test']
    rng = random.Random(7)
    ids = sorted(r['id'] for r in tr_all)
    rng.shuffle(ids)
    val_ids = set() if args.final else set(ids[:int(len(ids) * args.val)])
    if args.val_soundfont:
        val_ids = {r['id'] for r in tr_all if r['soundfont'] == args.val_soundfont}
    tr = [r for r in tr_all if r['id'] not in val_ids]
    va = [r for r in tr_all if r['id'] in val_ids]
    M = {r['id']: mels[r['id']].astype(np.float32) for r in recs}

    def labels(r):
        return (styles.index(r['style']), leads.index(r['featured_family'] or 'none'),
                np.array([1.0 if f in r['families'] else 0.0 for f in FAMILIES], np.float32),
                math.log2(r['tempo'] / 120.0))

    net = Net(ch, len(styles), len(leads), len(FAMILIES), cin).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    steps_per_epoch = math.ceil(len(tr) * args.per_clip / 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.epochs * steps_per_epoch)
    print(f'train {len(tr)} val {len(va)} test {len(te)} params {sum(p.numel() for p in net.parameters())} dev {dev}', flush=True)

    def evaluate(rs):
        net.eval()
        out = []
        with torch.no_grad():
            for r in rs:
                x = normalise(torch.tensor(clip_patches(M[r['id']]))[:, None].to(dev))
                s, l, f, t = net(x)
                out.append((F.softmax(s, 1).mean(0).cpu().numpy(), F.softmax(l, 1).mean(0).cpu().numpy(),
                            torch.sigmoid(f).mean(0).cpu().numpy(), float(t.mean())))
        net.train()
        return out

    def scores(rs, preds):
        st = np.mean([np.argmax(p[0]) == labels(r)[0] for r, p in zip(rs, preds)])
        ld = np.mean([np.argmax(p[1]) == labels(r)[1] for r, p in zip(rs, preds)])
        fam = np.mean([((p[2] > 0.5) == (labels(r)[2] > 0.5)).mean() for r, p in zip(rs, preds)])
        tmp = np.mean([abs(p[3] - labels(r)[3]) < 0.5 for r, p in zip(rs, preds)])
        return {'style': round(float(st), 3), 'lead': round(float(ld), 3), 'families_label_acc': round(float(fam), 3), 'tempo_octave': round(float(tmp), 3)}

    t0 = time.time()
    os.makedirs('build/ckpt', exist_ok=True)
    if args.export_from:
        net.load_state_dict(torch.load(args.export_from, map_location=dev)['net'])
        args.epochs = 0
    for ep in range(args.epochs):
        items = [r for r in tr for _ in range(args.per_clip)]
        random.shuffle(items)
        tot = 0.0
        for b in range(0, len(items), 64):
            batch = items[b:b + 64]
            xs, ys, yl, yf, yt = [], [], [], [], []
            for r in batch:
                p, stretch = augment(M[r['id']].T, random)
                s_, l_, f_, t_ = labels(r)
                xs.append(p); ys.append(s_); yl.append(l_); yf.append(f_); yt.append(t_ - math.log2(stretch))
            x = normalise(torch.tensor(np.stack(xs))[:, None].to(dev))
            s, l, f, t = net(x)
            loss = (F.cross_entropy(s, torch.tensor(ys, device=dev), label_smoothing=0.05)
                    + args.lead_weight * F.cross_entropy(l, torch.tensor(yl, device=dev), label_smoothing=0.05)
                    + 0.5 * F.binary_cross_entropy_with_logits(f, torch.tensor(np.stack(yf), device=dev))
                    + 0.5 * F.smooth_l1_loss(t, torch.tensor(yt, dtype=torch.float32, device=dev)))
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
            tot += float(loss) * len(batch)
        msg = f'epoch {ep + 1} loss {tot / len(items):.3f} {time.time() - t0:.0f}s'
        if va and (ep % 5 == 4 or ep == args.epochs - 1):
            msg += ' val ' + json.dumps(scores(va, evaluate(va)))
        print(msg, flush=True)
        torch.save({'net': net.state_dict(), 'epoch': ep, 'args': vars(args)}, args.ckpt)
    if args.no_export:
        return

    if args.export_from:
        export(net, styles, leads, ch, cin, {'note': 'exported from ' + args.export_from}, args.out)
        return
    preds = evaluate(te)
    metrics = {'test': scores(te, preds), 'train_seconds': round(time.time() - t0)}
    cm = np.zeros((len(styles), len(styles)), int)
    cl = np.zeros((len(leads), len(leads)), int)
    for r, p in zip(te, preds):
        cm[labels(r)[0], int(np.argmax(p[0]))] += 1
        cl[labels(r)[1], int(np.argmax(p[1]))] += 1
    metrics['style_confusion'] = {'labels': styles, 'rows_true_cols_predicted': cm.tolist()}
    metrics['lead_confusion'] = {'labels': leads, 'rows_true_cols_predicted': cl.tolist()}
    print(json.dumps(metrics['test']), flush=True)
    print('style confusion (rows: true)', styles)
    for s, row in zip(styles, cm):
        print(f'{s:>18} {row}')

    export(net, styles, leads, ch, cin, metrics, args.out)


def export(net, styles, leads, ch, cin, metrics, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    folded = Folded(net.cpu().eval()).eval()
    onnx_path = os.path.join(out_dir, 'listen.onnx')
    torch.onnx.export(folded, torch.zeros(1, cin, N_MELS, PATCH), onnx_path, input_names=['patch'],
                      output_names=['style', 'lead', 'families', 'tempo'], opset_version=17,
                      dynamic_axes={'patch': {0: 'batch'}, 'style': {0: 'batch'}, 'lead': {0: 'batch'},
                                    'families': {0: 'batch'}, 'tempo': {0: 'batch'}})
    blob = open(onnx_path, 'rb').read()
    names = {}
    for i, c in enumerate(folded.convs):
        names[f'conv{i + 1}'] = [list(c.weight.shape), list(c.bias.shape)]
    manifest = {
        'format': 'tunesmith-audio-classifier/1', 'name': 'listen', 'task': 'analyze_audio', 'version': '1.0.0',
        'file': 'listen.onnx', 'bytes': len(blob), 'sha256': hashlib.sha256(blob).hexdigest(),
        'input': {'features': 'log-mel dB, 64 Slaney bands, 22050 Hz, n_fft 2048, hop 512 (docs/dsp.md)',
                  'patch_frames': PATCH, 'hop_frames': HOP_PATCH, 'floor_db': FLOOR_DB, 'scale_db': SCALE_DB,
                  'normalisation': NORM},
        'architecture': {'type': 'cnn', 'channels': ch, 'kernel': 3, 'pool_after': [1, 2, 3], 'hidden': 96,
                         'parameters': sum(p.numel() for p in folded.parameters())},
        'labels': {'style': styles, 'lead': leads, 'families': FAMILIES},
        'tempo': {'target': 'log2(bpm / 120)'},
        'metrics': metrics,
    }
    json.dump(manifest, open(os.path.join(out_dir, 'listen.json'), 'w'), indent=1)
    json.dump(metrics, open(os.path.join(out_dir, 'listen-metrics.json'), 'w'), indent=1)
    print('wrote', onnx_path, len(blob), 'bytes')


if __name__ == '__main__':
    main()

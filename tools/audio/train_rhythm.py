#!/usr/bin/env python3
"""Train the listening model's rhythm head and export the complete listening model.

The rhythm head is an MLP over the beat-synchronous rhythm patterns of a whole file (321 numbers,
computed by the engine itself: rhythm_features() in engine/src/listen.cpp, dumped by
tools/audio/feature_dump.cpp), predicting the style. The file's style is then
  fusion_weight * CNN (timbre, tools/audio/train_cnn.py) + (1 - fusion_weight) * rhythm.
fusion_weight is chosen leave-one-soundfont-out inside the train split: a CNN and a rhythm head
trained on FluidR3 clips only, scored on the MuseScore clips. The test split (TimGM6mb, held-out
keys/tempi/charts) is scored once, at the end.

usage (after train_cnn.py wrote build/ckpt/listen-cnn.pt and OUT/listen.{onnx,json}):
  build/audio/feature_dump OUT build/audio/{train,test}/*.wav > build/audio/feat_final.jsonl
  /usr/bin/python3 tools/audio/train_rhythm.py --feat build/audio/feat_final.jsonl \
      --loso build/audio/feat_loso.jsonl --ckpt build/ckpt/listen-cnn.pt --out build/models-next
Writes OUT/listen.onnx (inputs: patch, rhythm) and OUT/listen.json (manifest, metrics, confusion
matrices). Uses a GPU when one is present.
"""
import argparse, hashlib, json, os, random
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from train_cnn import Net, Folded, FAMILIES, N_MELS, PATCH, HOP_PATCH, FLOOR_DB, SCALE_DB


class Rhythm(nn.Module):
    def __init__(self, nf, nh, n_out, mu=None, sd=None):
        super().__init__()
        self.register_buffer('mu', torch.zeros(nf) if mu is None else torch.tensor(mu, dtype=torch.float32))
        self.register_buffer('sd', torch.ones(nf) if sd is None else torch.tensor(sd, dtype=torch.float32))
        self.l1 = nn.Linear(nf, nh)
        self.l2 = nn.Linear(nh, n_out)
        self.drop = nn.Dropout(0.3)

    def forward(self, x, noise=0.0):
        z = (x - self.mu) / self.sd
        if noise:
            z = z + noise * torch.randn_like(z)
        return self.l2(self.drop(F.relu(self.l1(z))))


class Combined(nn.Module):
    """The shipped graph. With an instrument CNN, `lead` and `families` are its answers and the first
    CNN's own instrument heads are kept as cnn_lead / cnn_families (so their weights stay in the file)."""
    def __init__(self, folded, rhythm, inst=None):
        super().__init__()
        self.cnn, self.rhythm, self.inst = folded, rhythm, inst

    def forward(self, patch, rhythm):
        s, l, f, t = self.cnn(patch)
        r = F.softmax(self.rhythm(rhythm), dim=1)
        if self.inst is None:
            return s, l, f, t, r
        _, li, fi, _ = self.inst(patch)
        return s, li, fi, t, r, l, f


def fit(X, y, n_out, seed=0, epochs=300, hidden=128, dev='cpu'):
    torch.manual_seed(seed)
    mu, sd = X.mean(0), X.std(0) + 1e-3
    net = Rhythm(X.shape[1], hidden, n_out, mu, sd).to(dev)
    opt = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-2)
    xt, yt = torch.tensor(X, dtype=torch.float32, device=dev), torch.tensor(y, device=dev)
    for _ in range(epochs):
        opt.zero_grad()
        F.cross_entropy(net(xt, noise=0.1), yt, label_smoothing=0.05).backward()
        opt.step()
    return net.eval()


def probs(net, X):
    with torch.no_grad():
        return F.softmax(net(torch.tensor(X, dtype=torch.float32)), dim=1).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='build/audio')
    ap.add_argument('--feat', default='build/audio/feat_final.jsonl')
    ap.add_argument('--loso', default='build/audio/feat_loso.jsonl')
    ap.add_argument('--ckpt', default='build/ckpt/listen-cnn.pt')
    ap.add_argument('--out', default='build/models-next')
    ap.add_argument('--version', default='1.0.0')
    ap.add_argument('--inst-ckpt', default='', help='a second CNN (train_cnn.py --lead-weight 2) for the lead and families heads')
    ap.add_argument('--inst-channels', default='16,32,64,64')
    args = ap.parse_args()
    random.seed(1); np.random.seed(1)
    recs = {r['id']: r for r in (json.loads(l) for l in open(os.path.join(args.data, 'manifest.jsonl')))}
    cnn_manifest = json.load(open(os.path.join(args.out, 'listen.json')))
    styles = cnn_manifest['labels']['style']
    leads = cnn_manifest['labels']['lead']

    def load(path):
        rows = [json.loads(l) for l in open(path)]
        bad = [r['id'] for r in rows if 'error' in r or not r.get('rhythm_features')]
        rows = [r for r in rows if r['id'] not in bad]
        return rows, bad

    # ---- fusion weight, leave one soundfont out (train split only)
    loso, _ = load(args.loso)
    fl = [r for r in loso if recs[r['id']]['soundfont'] == 'FluidR3_GM']
    ms = [r for r in loso if recs[r['id']]['soundfont'] == 'MuseScore_General']
    X = lambda rows: np.array([r['rhythm_features'] for r in rows], dtype=np.float32)
    Y = lambda rows: np.array([styles.index(recs[r['id']]['style']) for r in rows])
    C = lambda rows: np.array([[r['style'][s] for s in styles] for r in rows])
    rn = fit(X(fl), Y(fl), len(styles))
    pr, pc, yv = probs(rn, X(ms)), C(ms), Y(ms)
    grid = []
    for w in np.round(np.arange(0, 1.01, 0.1), 2):
        grid.append((float(w), float(((w * pc + (1 - w) * pr).argmax(1) == yv).mean())))
    best_w = max(grid, key=lambda g: (g[1], -abs(g[0] - 0.5)))[0]
    print('LOSO (train FluidR3 -> MuseScore): cnn', grid[-1][1], 'rhythm', grid[0][1], 'fusion grid', grid, '-> weight', best_w, flush=True)

    # ---- the rhythm head on the whole train split
    rows, bad = load(args.feat)
    tr = [r for r in rows if recs[r['id']]['split'] == 'train']
    te = [r for r in rows if recs[r['id']]['split'] == 'test']
    rn = fit(X(tr), Y(tr), len(styles))
    pr, pc, yt = probs(rn, X(te)), C(te), Y(te)
    fused = best_w * pc + (1 - best_w) * pr
    acc = lambda p: round(float((p.argmax(1) == yt).mean()), 3)
    cm = np.zeros((len(styles), len(styles)), int)
    for t, p in zip(yt, fused.argmax(1)):
        cm[t, p] += 1
    test = {'clips': len(te), 'no_rhythm_pattern': [b for b in bad if recs[b]['split'] == 'test'],
            'style_fused': acc(fused), 'style_cnn_only': acc(pc), 'style_rhythm_only': acc(pr)}
    print('test', json.dumps(test))
    for s, row in zip(styles, cm):
        print(f'{s:>18} {row}')

    # ---- export the complete model
    ck = torch.load(args.ckpt, map_location='cpu')
    ch = cnn_manifest['architecture']['channels']
    norm = cnn_manifest['input'].get('normalisation', 'global')
    cin = 2 if norm == 'both' else 1
    net = Net(ch, len(styles), len(leads), len(FAMILIES), cin)
    net.load_state_dict(ck['net'])
    inst = None
    if args.inst_ckpt:
        ich = [int(x) for x in args.inst_channels.split(',')]
        inet = Net(ich, len(styles), len(leads), len(FAMILIES), cin)
        inet.load_state_dict(torch.load(args.inst_ckpt, map_location='cpu')['net'])
        inst = Folded(inet.eval()).eval()
    model = Combined(Folded(net.eval()).eval(), rn.cpu().eval(), inst).eval()
    path = os.path.join(args.out, 'listen.onnx')
    nf = X(tr).shape[1]
    outs = ['style', 'lead', 'families', 'tempo', 'rhythm_style'] + (['cnn_lead', 'cnn_families'] if inst is not None else [])
    torch.onnx.export(model, (torch.zeros(1, cin, N_MELS, PATCH), torch.zeros(1, nf)), path,
                      input_names=['patch', 'rhythm'], output_names=outs,
                      opset_version=17, dynamic_axes={k: {0: 'batch'} for k in ['patch', 'rhythm'] + outs})
    blob = open(path, 'rb').read()
    man = dict(cnn_manifest)
    man.update({'version': args.version, 'bytes': len(blob), 'sha256': hashlib.sha256(blob).hexdigest()})
    man['architecture'] = dict(man['architecture'])
    man['architecture']['parameters'] = sum(p.numel() for p in model.parameters())
    man['cnn_prefix'] = 'cnn.'
    if inst is not None:
        man['instrument_cnn'] = {'prefix': 'inst.', 'channels': ich, 'hidden': 96, 'lead_loss_weight': 2.0}
    else:
        man.pop('instrument_cnn', None)
    # per style: log2 BPM mean and spread over the train clips (the tempo-octave choice, listen.cpp)
    logs = {}
    for r in recs.values():
        if r['split'] == 'train':
            logs.setdefault(r['style'], []).append(np.log2(r['tempo']))
    man['tempo_prior'] = {s: {'mu': round(float(np.mean(v)), 4), 'sd': round(float(np.std(v)), 4)} for s, v in sorted(logs.items())}
    man['rhythm'] = {'features': nf, 'hidden': 128, 'fusion_weight': best_w,
                     'what': 'beat-synchronous onset patterns in 4 bands (engine/src/listen.cpp rhythm_features)'}
    metrics = dict(cnn_manifest.get('metrics', {}))
    metrics['fusion'] = {'loso_grid': grid, 'weight': best_w, 'test': test,
                         'style_confusion': {'labels': styles, 'rows_true_cols_predicted': cm.tolist()}}
    man['metrics'] = metrics
    json.dump(man, open(os.path.join(args.out, 'listen.json'), 'w'), indent=1)
    print('wrote', path, len(blob), 'bytes')


if __name__ == '__main__':
    main()

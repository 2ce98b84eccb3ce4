"""Train the listening classifiers on clip feature vectors (tools/audio/extract_features.mjs):
a small MLP with two heads, style (10 classes, softmax) and instrument families (multi-label,
sigmoid over the General MIDI families and drums), on the train split (FluidR3_GM, MuseScore_General);
scored on the held-out test split (TimGM6mb, keys/tempi/charts never used in training).

usage: /usr/bin/python3 tools/audio/train_classifier.py [--data build/audio] [--out build/models-next]
Writes DIR/listen.onnx (Gemm/Relu/Softmax/Sigmoid, opset 17) and DIR/listen.json (manifest with the
feature standardisation, labels, metrics and confusion matrix). Uses a GPU when one is present.
"""
import argparse, hashlib, json, os, random
import numpy as np
import torch
import torch.nn as nn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='build/audio')
    ap.add_argument('--out', default='build/models-next')
    ap.add_argument('--epochs', type=int, default=300)
    ap.add_argument('--hidden', type=int, default=96)
    args = ap.parse_args()
    torch.manual_seed(1); random.seed(1); np.random.seed(1)
    recs = [json.loads(l) for l in open(os.path.join(args.data, 'features.jsonl'))]
    styles = sorted({r['style'] for r in recs})
    fams = sorted({f for r in recs for f in r['families']})
    tr = [r for r in recs if r['split'] == 'train']
    te = [r for r in recs if r['split'] == 'test']
    X = lambda rs: np.array([r['features'] for r in rs], dtype=np.float32)
    Xtr, Xte = X(tr), X(te)
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-3
    ys = lambda rs: np.array([styles.index(r['style']) for r in rs])
    yf = lambda rs: np.array([[1.0 if f in r['families'] else 0.0 for f in fams] for r in rs], dtype=np.float32)
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    xt = torch.tensor((Xtr - mu) / sd, device=dev)
    st, ft = torch.tensor(ys(tr), device=dev), torch.tensor(yf(tr), device=dev)

    class Net(nn.Module):
        def __init__(self, d, h):
            super().__init__()
            self.l1 = nn.Linear(d, h); self.l2 = nn.Linear(h, h)
            self.style = nn.Linear(h, len(styles)); self.fam = nn.Linear(h, len(fams))
            self.drop = nn.Dropout(0.3)
        def forward(self, x):
            e = torch.relu(self.l2(self.drop(torch.relu(self.l1(x)))))
            return self.style(self.drop(e)), self.fam(self.drop(e)), e

    net = Net(Xtr.shape[1], args.hidden).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-2)
    # noise on the standardised features stands in for the soundfont change the test split makes
    for ep in range(args.epochs):
        net.train()
        perm = torch.randperm(len(xt), device=dev)
        for i in range(0, len(xt), 64):
            b = perm[i:i + 64]
            xb = xt[b] + 0.3 * torch.randn_like(xt[b])
            so, fo, _ = net(xb)
            loss = nn.functional.cross_entropy(so, st[b]) + nn.functional.binary_cross_entropy_with_logits(fo, ft[b])
            opt.zero_grad(); loss.backward(); opt.step()
    net.eval().cpu()
    with torch.no_grad():
        so, fo, _ = net(torch.tensor((Xte - mu) / sd))
    sp = so.argmax(1).numpy(); yte = ys(te)
    acc = float((sp == yte).mean())
    conf = [[int(((yte == a) & (sp == b)).sum()) for b in range(len(styles))] for a in range(len(styles))]
    fp = (torch.sigmoid(fo).numpy() > 0.5).astype(np.float32); yft = yf(te)
    fam_acc = {f: float((fp[:, k] == yft[:, k]).mean()) for k, f in enumerate(fams)}
    exact = float((fp == yft).all(1).mean())
    print('style accuracy (held-out soundfont) %.3f' % acc)
    print('family per-label accuracy', {k: round(v, 3) for k, v in fam_acc.items()}, 'mean %.3f' % np.mean(list(fam_acc.values())), 'exact set %.3f' % exact)
    for s, row in zip(styles, conf): print('%-18s' % s, row)
    os.makedirs(args.out, exist_ok=True)

    class Export(nn.Module):  # standardisation folded in; outputs style probabilities, family probabilities, embedding
        def __init__(self, n):
            super().__init__(); self.n = n
            self.register_buffer('mu', torch.tensor(mu)); self.register_buffer('sd', torch.tensor(sd))
        def forward(self, x):
            s, f, e = self.n((x - self.mu) / self.sd)
            return torch.softmax(s, -1), torch.sigmoid(f), e
    path = os.path.join(args.out, 'listen.onnx')
    torch.onnx.export(Export(net), torch.zeros(1, Xtr.shape[1]), path, input_names=['features'],
                      output_names=['style', 'families', 'embedding'], opset_version=17, dynamic_axes={'features': {0: 'n'}})
    data = open(path, 'rb').read()
    man = {'format': 'tunesmith-classifier/1', 'name': 'listen', 'task': 'listen', 'version': '0.1.0', 'file': 'listen.onnx',
           'bytes': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
           'features': {'size': int(Xtr.shape[1]), 'source': 'analyze_audio {"features": true} (engine/src/listen.cpp clip_features)'},
           'labels': {'style': styles, 'families': fams},
           'weights': {'layers': ['l1', 'l2'], 'heads': {'style': 'style', 'families': 'fam'}, 'standardise': ['mu', 'sd']},
           'training': {'train_clips': len(tr), 'test_clips': len(te), 'epochs': args.epochs, 'hidden': args.hidden, 'device': dev,
                        'train_soundfonts': ['FluidR3_GM', 'MuseScore_General'], 'test_soundfont': 'TimGM6mb'},
           'metrics': {'style_accuracy': round(acc, 4), 'style_confusion': {'labels': styles, 'rows_true_cols_predicted': conf},
                       'family_label_accuracy': {k: round(v, 4) for k, v in fam_acc.items()},
                       'family_label_accuracy_mean': round(float(np.mean(list(fam_acc.values()))), 4), 'family_exact_set': round(exact, 4)}}
    json.dump(man, open(os.path.join(args.out, 'listen.json'), 'w'), indent=1)
    print('wrote', path, len(data), 'bytes')


if __name__ == '__main__':
    main()

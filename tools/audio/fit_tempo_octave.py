#!/usr/bin/env python3
"""Fit the tempo-octave chooser of analyze_audio (engine/src/listen.cpp, choose_tempo_octave).

The onset periodicity finds a tempo T; a listener could also tap T/3, T/2, 2T/3, 3T/2, 2T or 3T
(half/double time, the dotted beat of a clave, the bar of a fast waltz). Each candidate c (T
and the six relatives inside 30-300 BPM) gets a score

    w_sal * log(salience(c) / salience(T))                 the onsets' comb-filtered periodicity
  + w_style * log sum_s p(s) N(log2 c; mu_s, max(sd_s, 0.15))   the recognised style's tempo range
  + w_head * -(log2(c / tempo head))^2                     the classifier's own tempo estimate
  + bias[ratio]                                            how often that relative is the truth

and the highest score wins. The weights are a conditional logit fitted on the train split:
clips where one candidate is within 4% of the labelled tempo, by gradient descent with a small L2
penalty. The style probabilities used for fitting are leave-one-soundfont-out ones (a model that
never heard that soundfont: build/audio/feat_loso.jsonl) so the fit does not over-trust a style
that is always right on its own training clips; only those clips (the MuseScore half) are used.

usage: /usr/bin/python3 tools/audio/fit_tempo_octave.py --rows build/audio/eval-train.json \
           [--loso build/audio/feat_loso.jsonl] [--manifest models/listen.json] [--write]
  --rows: the JSON of `node tools/audio/eval_listen.mjs --split train --json FILE`
  --write puts the weights into the manifest's "tempo_octave" (the engine reads them from there).
"""
import argparse, json, math
import numpy as np
import torch
import torch.nn.functional as F

RATIOS = [1.0, 1 / 3, 1 / 2, 2 / 3, 3 / 2, 2.0, 3.0]
MIN_BPM, MAX_BPM, SD_FLOOR, TOL = 30.0, 300.0, 0.15, 0.04
SUPPORT = [0.0, 0.0]


class Check(torch.nn.Module):
    """Is this the tempo? An MLP over the rhythm patterns on the beats tracked at a candidate tempo."""

    def __init__(self, mu, sd, nh=64):
        super().__init__()
        self.register_buffer('mu', torch.tensor(mu, dtype=torch.float32))
        self.register_buffer('sd', torch.tensor(sd, dtype=torch.float32))
        self.l1 = torch.nn.Linear(len(mu), nh)
        self.l2 = torch.nn.Linear(nh, 1)
        self.drop = torch.nn.Dropout(0.3)

    def forward(self, x):
        return self.l2(self.drop(torch.relu(self.l1((x - self.mu) / self.sd)))).squeeze(-1)


def check_data(tc, tempo_of, ids):
    X, Y, key = [], [], []
    for i in ids:
        for c in tc.get(i, []):
            X.append(c['rhythm_features'])
            Y.append(float(abs(c['bpm'] - tempo_of[i]) <= TOL * tempo_of[i]))
            key.append((i, round(c['ratio'], 3)))
    return np.array(X, dtype=np.float32), np.array(Y, dtype=np.float32), key


def fit_check(X, Y, epochs=300, seed=0):
    torch.manual_seed(seed)
    mu, sd = X.mean(0), X.std(0) + 1e-3
    m = Check(mu, sd)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3, weight_decay=1e-3)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    pos_w = torch.tensor((1 - Y.mean()) / max(Y.mean(), 1e-3))
    for _ in range(epochs):
        m.train()
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(m(Xt + 0.1 * torch.randn_like(Xt) * m.sd), Yt, pos_weight=pos_w)
        loss.backward()
        opt.step()
    return m.eval()


def check_logits(m, X, key):
    with torch.no_grad():
        z = m(torch.tensor(X)).numpy()
    return {k: float(v) for k, v in zip(key, z)}


def features(row, style_p, prior, styles, check=None):
    """(K, 3) features and (K,) ratio index of the row's valid candidates, plus their bpm."""
    base_sal = max(row['base_salience'], 0.01)
    cands = [(0, row['onset_bpm'], row['base_salience'])]
    for i, rel in enumerate(row['related']):
        # only relatives the onsets support: a periodicity score (salience x the 120 BPM prior) at
        # least SUPPORT[0] of the onset tempo's for a slower one, SUPPORT[1] for a faster one
        if rel['score'] >= SUPPORT[0 if RATIOS[i + 1] < 1 else 1] * row['base_score']:
            cands.append((i + 1, rel['bpm'], rel['salience']))
    X, R, B = [], [], []
    pred = row['classifier_bpm']
    for ri, bpm, sal in cands:
        if not (MIN_BPM <= bpm <= MAX_BPM):
            continue
        l2 = math.log2(bpm)
        dens = 0.0
        for s in styles:
            mu, sd = prior[s]['mu'], max(prior[s]['sd'], SD_FLOOR)
            dens += style_p.get(s, 0.0) * math.exp(-0.5 * ((l2 - mu) / sd) ** 2) / sd
        ratio = 1.0 if ri == 0 else RATIOS[ri]
        chk = check.get((row['id'], round(ratio, 3)), -5.0) if check is not None else 0.0
        X.append([math.log(max(sal, 0.01) / base_sal), math.log(max(dens, 1e-6)), -math.log2(bpm / pred) ** 2, chk])
        R.append(ri)
        B.append(bpm)
    return np.array(X), np.array(R), np.array(B)


def build(rows, style_of, prior, styles, check=None):
    data = []
    for r in rows:
        if not r.get('related') or not r.get('classifier_bpm') or not r.get('onset_bpm') or r['id'] not in style_of:
            continue
        X, R, B = features(r, style_of[r['id']], prior, styles, check)
        ok = np.abs(B - r['tempo']) <= TOL * r['tempo']
        data.append((X, R, B, ok, r))
    return data


class Chooser(torch.nn.Module):
    def __init__(self, nf):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([1.0, 1.0, 1.0, 0.5][:nf]))
        self.b = torch.nn.Parameter(torch.zeros(len(RATIOS) - 1))

    def score(self, X, R):
        bias = torch.cat([torch.zeros(1), self.b])[R]
        return X @ self.w + bias


def pad(data):
    """Candidates padded to 7 per clip: features (N, 7, F), ratio index (N, 7), valid and truth masks."""
    K, nf = len(RATIOS), data[0][0].shape[1]
    X = np.zeros((len(data), K, nf), np.float32)
    R = np.zeros((len(data), K), np.int64)
    V = np.zeros((len(data), K), bool)
    T = np.zeros((len(data), K), bool)
    for n, (x, r, b, ok, _) in enumerate(data):
        X[n, :len(x)], R[n, :len(x)], V[n, :len(x)], T[n, :len(x)] = x, r, True, ok
    return torch.tensor(X), torch.tensor(R), torch.tensor(V), torch.tensor(T)


def fit(data, l2=0.01, steps=1500):
    m = Chooser(data[0][0].shape[1])
    opt = torch.optim.Adam(m.parameters(), lr=0.03)
    X, R, V, T = pad([d for d in data if d[3].any()])
    for _ in range(steps):
        opt.zero_grad()
        s = m.score(X, R)
        neg = torch.tensor(-1e9)
        ll = torch.logsumexp(torch.where(T, s, neg), 1) - torch.logsumexp(torch.where(V, s, neg), 1)
        loss = -ll.mean() + l2 * (m.w.pow(2).sum() + m.b.pow(2).sum())
        loss.backward()
        opt.step()
    return m


def accuracy(m, data):
    X, R, V, T = pad(data)
    with torch.no_grad():
        s = torch.where(V, m.score(X, R), torch.tensor(-1e9))
    return float(T.gather(1, s.argmax(1, keepdim=True)).float().mean())


def rule_1_1(r, style_p, prior, tempo):
    """Model 1.1.0's octave rule, for comparison: T, T/2 or 2T (supported 0.6 / 0.3), the best under the
    argmax style's tempo range (sd >= 0.15) times the tempo head (sd 0.3 octave)."""
    st = max(style_p, key=style_p.get)
    mu, sd = prior[st]['mu'], max(prior[st]['sd'], SD_FLOOR)
    pred = r['classifier_bpm']
    score = lambda c: -0.5 * ((math.log2(c) - mu) / sd) ** 2 - 0.5 * (math.log2(c / pred) / 0.3) ** 2
    rel = {round(x['ratio'], 3): x for x in r['related']}
    best = r['onset_bpm']
    h, d = rel[0.5], rel[2.0]
    if h['bpm'] >= 30 and h['score'] >= 0.6 * r['base_score'] and score(h['bpm']) > score(best):
        best = h['bpm']
    if d['bpm'] <= 300 and d['score'] >= 0.3 * r['base_score'] and score(d['bpm']) > score(best):
        best = d['bpm']
    return abs(best - tempo) <= TOL * tempo


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rows', required=True)
    ap.add_argument('--tc', default='build/audio/feat_tc_train.jsonl', help='feature_dump lines with tempo_candidates (train clips)')
    ap.add_argument('--test-rows', default='', help='score these rows (eval_listen --split test) with the fitted weights')
    ap.add_argument('--test-tc', default='build/audio/feat_tc_test.jsonl')
    ap.add_argument('--loso', default='build/audio/feat_loso.jsonl')
    ap.add_argument('--manifest', default='models/listen.json')
    ap.add_argument('--no-check', action='store_true', help='without the rhythm tempo check')
    ap.add_argument('--write', default='', help='write OUT/listen.onnx (with the check MLP) and OUT/listen.json (with the chooser)')
    ap.add_argument('--version', default='1.2.0')
    ap.add_argument('--support', default='0,0', help='slower,faster: the share of the onset tempo\'s periodicity score a relative needs')
    args = ap.parse_args()
    SUPPORT[:] = [float(x) for x in args.support.split(',')]
    torch.manual_seed(0)
    man = json.load(open(args.manifest))
    prior, styles = man['tempo_prior'], sorted(man['tempo_prior'])
    rows = json.load(open(args.rows))['rows']
    meta = {r['id']: json.load(open(f"build/audio/{r['id'].split('-')[0]}/{r['id']}.json")) for r in rows}
    sf = {i: m['soundfont'] for i, m in meta.items()}
    tempo_of = {i: m['tempo'] for i, m in meta.items()}
    loso = {}
    for line in open(args.loso):
        d = json.loads(line)
        loso[d['id']] = d['style']
    tc = {}
    for line in open(args.tc):
        d = json.loads(line)
        tc[d['id']] = d.get('tempo_candidates', [])
    fl_ids = [i for i in sf if sf[i] == 'FluidR3_GM']
    ms_ids = [i for i in sf if sf[i] == 'MuseScore_General']
    check, check_alone = None, {}
    if not args.no_check:
        # the rhythm check alone, leave one soundfont out: each half scored by a check trained on the other
        check = {}
        for tr_ids, te_ids, name in [(fl_ids, ms_ids, 'FluidR3 -> MuseScore'), (ms_ids, fl_ids, 'MuseScore -> FluidR3')]:
            Xa, Ya, _ = check_data(tc, tempo_of, tr_ids)
            Xb, Yb, kb = check_data(tc, tempo_of, te_ids)
            m = fit_check(Xa, Ya)
            lg = check_logits(m, Xb, kb)
            check.update(lg)
            hits = n = 0
            for i in te_ids:
                cs = [(lg[(i, round(c['ratio'], 3))], c['bpm']) for c in tc.get(i, [])]
                if cs:
                    n += 1
                    hits += abs(max(cs)[1] - tempo_of[i]) <= TOL * tempo_of[i]
            print(f'rhythm check alone ({name}): Acc1 {hits / max(1, n):.3f} over {n} clips')
            check_alone[name] = round(hits / max(1, n), 3)
    # Grooves are not held out between the splits, so a check trained on a groove knows it. The
    # chooser's weights are therefore fitted with check scores cross-fitted by groove (two folds by
    # groove name over all train clips: each fold scored by a check that never heard its grooves),
    # so it trusts the check as much as it deserves on music it has not heard.
    import zlib
    fold = {i: zlib.crc32(meta[i]['groove'].encode()) % 2 for i in sf}
    gcheck, groove_alone = None, None
    if check is not None:
        gcheck, hits, n = {}, 0, 0
        for k in range(2):
            a_ids = [i for i in sf if fold[i] != k]
            b_ids = [i for i in sf if fold[i] == k]
            Xa, Ya, _ = check_data(tc, tempo_of, a_ids)
            Xb, _, kb = check_data(tc, tempo_of, b_ids)
            lg = check_logits(fit_check(Xa, Ya), Xb, kb)
            gcheck.update(lg)
            for i in b_ids:
                cs = [(lg[(i, round(c['ratio'], 3))], c['bpm']) for c in tc.get(i, [])]
                if cs:
                    n += 1
                    hits += abs(max(cs)[1] - tempo_of[i]) <= TOL * tempo_of[i]
        groove_alone = round(hits / max(1, n), 3)
        print(f'rhythm check alone on grooves it never heard: Acc1 {groove_alone} over {n} clips')
    ms = [r for r in rows if sf[r['id']] == 'MuseScore_General']
    data = build(ms, loso, prior, styles, gcheck)
    own = {r['id']: {p['label']: p['p'] for p in r['style_p']} for r in rows if r.get('style_p')}
    print(f'{len(data)} MuseScore train clips with leave-one-soundfont-out style; truth among candidates in {sum(d[3].any() for d in data)}')
    # novel grooves: the chooser fitted on one fold's grooves, scored on the other's; beside it the
    # 1.1.0 rule (tempo head and the recognised style's range between T, T/2, 2T) on the same clips
    cv, old = [], []
    for k in range(2):
        trn = [r for r in ms if fold[r['id']] != k]
        tst = [r for r in ms if fold[r['id']] == k]
        cv.append(accuracy(fit(build(trn, loso, prior, styles, gcheck)), build(tst, loso, prior, styles, gcheck)))
        old.append(float(np.mean([rule_1_1(r, loso[r['id']], prior, tempo_of[r['id']]) for r in tst])))
    m = fit(data)
    w, b = m.w.detach().numpy(), m.b.detach().numpy()
    print('novel grooves, 2 folds (MuseScore clips, LOSO style): chooser', [round(x, 3) for x in cv], ' the 1.1.0 rule', [round(x, 3) for x in old])
    print('fit on all: Acc1', round(accuracy(m, data), 3), 'weights (salience, style, head, check)', w.round(3),
          'bias', dict(zip([round(x, 3) for x in RATIOS[1:]], b.round(3))))
    groove_cv = {'chooser': [round(x, 3) for x in cv], 'rule_1_1_0': [round(x, 3) for x in old], 'check_alone': groove_alone,
                 'grooves': len(set(meta[i]['groove'] for i in sf))}
    final_check = None
    if check is not None:
        Xa, Ya, _ = check_data(tc, tempo_of, list(sf))
        final_check = fit_check(Xa, Ya)
    if args.test_rows:
        trows = json.load(open(args.test_rows))['rows']
        tcheck = None
        if final_check is not None:
            ttc = {}
            for line in open(args.test_tc):
                d = json.loads(line)
                ttc[d['id']] = d.get('tempo_candidates', [])
            ttempo = {r['id']: r['tempo'] for r in trows}
            Xt, _, kt = check_data(ttc, ttempo, [r['id'] for r in trows])
            tcheck = check_logits(final_check, Xt, kt)
        tdata = build(trows, {r['id']: {p['label']: p['p'] for p in r['style_p']} for r in trows}, prior, styles, tcheck)
        print('TEST Acc1 with these weights:', round(accuracy(m, tdata), 3), f'({len(tdata)} clips)')
    out = {'ratios': [round(x, 6) for x in RATIOS[1:]], 'w_salience': round(float(w[0]), 4), 'w_style': round(float(w[1]), 4),
           'w_head': round(float(w[2]), 4), 'w_check': round(float(w[3]), 4) if check is not None else 0.0,
           'bias': [round(float(x), 4) for x in b], 'support': SUPPORT, 'sd_floor': SD_FLOOR, 'min_bpm': MIN_BPM, 'max_bpm': MAX_BPM,
           'fit': {'clips': len(data), 'acc1_train': round(accuracy(m, data), 3), 'novel_grooves_2fold': groove_cv,
                   'check_alone_loso': check_alone,
                   'method': 'conditional logit over the onset tempo and its relatives; leave-one-soundfont-out style '
                             'probabilities and rhythm-check scores cross-fitted by groove (tools/audio/fit_tempo_octave.py)'}}
    print(json.dumps(out))
    if args.write:
        # the check MLP joins the listening graph: rhythm -> tempo_check (a logit), so ONNX Runtime
        # can check our kernels on it (tests/node/listen_model.test.mjs); the chooser's weights go
        # into the manifest, which the engine reads (engine/src/classifier.cpp)
        import hashlib, os, onnx
        from onnx import helper, numpy_helper
        src = os.path.join(os.path.dirname(args.manifest), man['file'])
        g_model = onnx.load(src)
        g = g_model.graph
        for n in list(g.node):
            if any(o == 'tempo_check' for o in n.output):
                raise SystemExit(f'{src} already has a tempo_check output')
        if final_check is not None:
            sd = {k: v.numpy() for k, v in final_check.state_dict().items()}
            nh = sd['l1.weight'].shape[0]
            for k in ['mu', 'sd', 'l1.weight', 'l1.bias', 'l2.weight', 'l2.bias']:
                g.initializer.append(numpy_helper.from_array(sd[k].astype(np.float32), 'tcheck.' + k))
            g.node.extend([
                helper.make_node('Sub', ['rhythm', 'tcheck.mu'], ['/tcheck/Sub_output_0']),
                helper.make_node('Div', ['/tcheck/Sub_output_0', 'tcheck.sd'], ['/tcheck/Div_output_0']),
                helper.make_node('Gemm', ['/tcheck/Div_output_0', 'tcheck.l1.weight', 'tcheck.l1.bias'], ['/tcheck/l1_output_0'], transB=1),
                helper.make_node('Relu', ['/tcheck/l1_output_0'], ['/tcheck/Relu_output_0']),
                helper.make_node('Gemm', ['/tcheck/Relu_output_0', 'tcheck.l2.weight', 'tcheck.l2.bias'], ['tempo_check'], transB=1)])
            g.output.append(helper.make_tensor_value_info('tempo_check', onnx.TensorProto.FLOAT, ['batch', 1]))
            onnx.checker.check_model(g_model)
            man['architecture'] = dict(man['architecture'])
            man['architecture']['parameters'] = int(man['architecture'].get('parameters', 0)) + sum(int(sd[k].size) for k in ['l1.weight', 'l1.bias', 'l2.weight', 'l2.bias'])
            out['check'] = {'prefix': 'tcheck.', 'hidden': int(nh),
                            'what': 'MLP over the rhythm patterns on the beats tracked at a candidate tempo: is this the tempo? (a logit)',
                            'alone_acc1_loso': check_alone}
        os.makedirs(args.write, exist_ok=True)
        path = os.path.join(args.write, man['file'])
        onnx.save(g_model, path)
        blob = open(path, 'rb').read()
        man.update({'version': args.version, 'bytes': len(blob), 'sha256': hashlib.sha256(blob).hexdigest()})
        man['tempo_octave'] = out
        with open(os.path.join(args.write, 'listen.json'), 'w') as f:
            json.dump(man, f, indent=1)
        print('wrote', path, 'and listen.json')

if __name__ == '__main__':
    main()

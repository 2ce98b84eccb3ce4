#!/usr/bin/python3
"""Train a small character-level GPT lyrics model and export it for tunesmith.

Writes models/<name>.onnx (weights as ONNX initializers, opset 17, a one-step-or-prefill decoder
graph with a stacked KV cache) and models/<name>.json (the manifest the C++ core reads).

The training run is bounded by wall-clock time (--minutes); it checkpoints every few minutes to
build/ckpt/<name>.pt and resumes from there when restarted with --resume.

usage: /usr/bin/python3 tools/lyrics/train.py --lang zh --minutes 60
Needs Debian's python3-torch, python3-onnx and libopenblas0-pthread (tools/setup-training.sh).
"""
import argparse, collections, hashlib, json, math, os, random, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))

SPECIALS = ['<pad>', '<unk>', '<bos>', '<eos>', '<sep>', '\n']
PAD, UNK, BOS, EOS, SEP, NL = range(6)

# Styles each corpus really labels, and how user-facing style names map onto them. The C++ core
# matches a request's song_style against these aliases (exact, then substring), see manifest.
STYLES = {
    'zh': {
        'ci':      {'label': '宋词 (Song ci lyrics)', 'aliases': ['流行', 'pop', '抒情', 'ballad', 'love', '情歌', 'ci', '宋词', '词']},
        # 民谣/folk and hymn go to styles with thousands of songs: 国风 (160) and 颂 (40) are too small
        # for this model to write well in (the eval measured 2/3 degenerate lines there); asking for
        # 国风 or 颂 by name still gets them.
        'qu':      {'label': '元曲 (Yuan qu, colloquial sung verse)', 'aliases': ['摇滚', 'rock', '说唱', 'rap', 'qu', '元曲', '曲', '民谣', 'folk']},
        'feng':    {'label': '诗经·国风 (folk songs)', 'aliases': ['国风', '风']},
        'ya':      {'label': '诗经·雅 (court odes)', 'aliases': ['雅']},
        'song':    {'label': '诗经·颂 (temple hymns)', 'aliases': ['颂']},
        'tang':    {'label': '唐诗 (Tang shi, simplified subset)', 'aliases': ['古风', 'classical', 'chinese classical', '儿歌', 'children', "children's", 'tang', '唐诗', '诗', 'hymn', '赞美', '圣歌']},
        'songshi': {'label': '宋诗 (Song shi, simplified subset)', 'aliases': ['宋诗', 'songshi']},
    },
    'en': {
        'song':     {'label': 'songs and airs (Burns, Moore, titles with song/air/serenade...)', 'aliases': ['pop', '流行', 'rock', '摇滚', 'love', 'song', 'ballad', '抒情', 'r&b', 'soul', 'country']},
        'ballad':   {'label': 'narrative ballads', 'aliases': ['folk', '民谣', 'narrative', 'story']},
        'hymn':     {'label': 'hymns, psalms, carols, prayers', 'aliases': ['hymn', 'gospel', 'worship', 'carol', 'psalm', '赞美', '圣歌']},
        'children': {'label': "nursery rhymes and children's verse (Lear, Field, Stevenson...)", 'aliases': ['children', "children's", 'kids', 'nursery', 'lullaby', '儿歌']},
        'sonnet':   {'label': 'sonnets', 'aliases': ['sonnet', 'classical', '古风']},
        'poem':     {'label': 'other public-domain poems', 'aliases': ['poem', 'poetry', 'verse']},
    },
}
DEFAULT_STYLE = {'zh': 'ci', 'en': 'song'}


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return h.hexdigest()


def load(path):
    with open(path, encoding='utf8') as f:
        return [json.loads(l) for l in f if l.strip()]


def build_vocab(lang, recs, max_chars):
    cnt = collections.Counter()
    for r in recs:
        cnt.update(r['title'])
        for l in r['lines']:
            cnt.update(l)
    chars = [c for c, n in cnt.most_common() if n >= 2 and c != '\n'][:max_chars]
    total = sum(cnt.values())
    covered = sum(cnt[c] for c in chars)
    styles = ['<style:%s>' % s for s in STYLES[lang]]
    vocab = SPECIALS + styles + sorted(chars)
    return vocab, covered / total


class Encoder:
    def __init__(self, vocab):
        self.vocab = vocab
        self.idx = {t: i for i, t in enumerate(vocab)}

    def chars(self, s):
        return [self.idx.get(c, UNK) for c in s]

    def record(self, r):
        head = [BOS, self.idx['<style:%s>' % r['style']]] + self.chars(r['title']) + [SEP]
        lines = [self.chars(l) + [NL] for l in r['lines']]
        return head, lines


# ----------------------------------------------------------------------------------------------
# Model. Parameters are used directly (no nn.Linear) so that the ONNX initializers keep these
# names; the C++ loader finds weights by them (see manifest "weights").
class GPT(nn.Module):
    def __init__(self, vocab_size, n_ctx, d, n_layer, n_head):
        super().__init__()
        self.V, self.C, self.d, self.L, self.H = vocab_size, n_ctx, d, n_layer, n_head
        self.wte = nn.Parameter(torch.randn(vocab_size, d) * 0.02)   # [V, d], tied output head
        self.wpe = nn.Parameter(torch.randn(n_ctx, d) * 0.01)        # [C, d]
        std = 0.02
        proj_std = 0.02 / math.sqrt(2 * n_layer)
        self.h = nn.ModuleList()
        for _ in range(n_layer):
            b = nn.Module()
            b.ln1_g = nn.Parameter(torch.ones(d)); b.ln1_b = nn.Parameter(torch.zeros(d))
            b.qkv_w = nn.Parameter(torch.randn(d, 3 * d) * std); b.qkv_b = nn.Parameter(torch.zeros(3 * d))  # [d, 3d]: q|k|v
            b.proj_w = nn.Parameter(torch.randn(d, d) * proj_std); b.proj_b = nn.Parameter(torch.zeros(d))
            b.ln2_g = nn.Parameter(torch.ones(d)); b.ln2_b = nn.Parameter(torch.zeros(d))
            b.fc_w = nn.Parameter(torch.randn(d, 4 * d) * std); b.fc_b = nn.Parameter(torch.zeros(4 * d))
            b.fc2_w = nn.Parameter(torch.randn(4 * d, d) * proj_std); b.fc2_b = nn.Parameter(torch.zeros(d))
            self.h.append(b)
        self.lnf_g = nn.Parameter(torch.ones(d)); self.lnf_b = nn.Parameter(torch.zeros(d))

    def forward(self, idx, past=None):
        """idx [B, T] int64; past [L, 2, B, H, P, Dh] or None. Returns logits [B, T, V], present."""
        export_step = past is not None and past.dim() == 5  # batch-1 export graph: [L, 2, H, P, Dh]
        if export_step:
            past = past.unsqueeze(2)
        B, T = idx.shape
        H, Dh = self.H, self.d // self.H
        P = 0 if past is None else past.shape[4]
        pos = torch.arange(T, device=idx.device) + P
        x = self.wte[idx] + self.wpe[pos]
        i = torch.arange(T, device=idx.device).unsqueeze(1) + P
        j = torch.arange(P + T, device=idx.device).unsqueeze(0)
        mask = (j > i)  # [T, P+T]: True where the key lies in the future
        presents = []
        for l, b in enumerate(self.h):
            hN = F.layer_norm(x, (self.d,), b.ln1_g, b.ln1_b, 1e-5)
            qkv = torch.matmul(hN, b.qkv_w) + b.qkv_b
            q, k, v = qkv.split(self.d, dim=2)
            q = q.reshape(B, T, H, Dh).transpose(1, 2)
            k = k.reshape(B, T, H, Dh).transpose(1, 2)
            v = v.reshape(B, T, H, Dh).transpose(1, 2)
            if past is not None:
                k = torch.cat([past[l, 0], k], dim=2)
                v = torch.cat([past[l, 1], v], dim=2)
            presents.append(torch.stack([k, v]))
            att = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(Dh))
            att = att.masked_fill(mask, float('-inf'))
            att = F.softmax(att, dim=-1)
            y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, self.d)
            x = x + torch.matmul(y, b.proj_w) + b.proj_b
            hN = F.layer_norm(x, (self.d,), b.ln2_g, b.ln2_b, 1e-5)
            x = x + torch.matmul(F.gelu(torch.matmul(hN, b.fc_w) + b.fc_b), b.fc2_w) + b.fc2_b
        x = F.layer_norm(x, (self.d,), self.lnf_g, self.lnf_b, 1e-5)
        logits = torch.matmul(x, self.wte.t())
        present = torch.stack(presents)
        return logits, (present.squeeze(2) if export_step else present)


# ----------------------------------------------------------------------------------------------
def make_batches(enc, recs, n_ctx, rng):
    """Yields (x, y) int64 tensors [B, n_ctx]; y = -1 where no loss is taken (header, padding)."""
    encoded = [enc.record(r) for r in recs]

    def sample():
        head, lines = encoded[rng.randrange(len(encoded))]
        start = 0
        if len(lines) > 2 and rng.random() < 0.5:
            start = rng.randrange(len(lines) - 1)
        toks = list(head)
        for l in lines[start:]:
            toks += l
        toks.append(EOS)
        toks = toks[: n_ctx + 1]
        x = toks[:-1]
        y = toks[1:]
        y = [-1 if k < len(head) - 1 else t for k, t in enumerate(y)]
        pad = n_ctx - len(x)
        return x + [PAD] * pad, y + [-1] * pad

    def batch(bs):
        xs, ys = zip(*[sample() for _ in range(bs)])
        return torch.tensor(xs), torch.tensor(ys)
    return batch


@torch.no_grad()
def evaluate(model, enc, recs, n_ctx, limit=None):
    """Bits per character over the song bodies (lines, newlines and the end token) of recs."""
    model.eval()
    nll, n = 0.0, 0
    for r in recs[:limit]:
        head, lines = enc.record(r)
        toks = list(head)
        for l in lines:
            toks += l
        toks.append(EOS)
        # Windows that always carry the header, like generation does when it shifts context.
        body_start = len(head)
        pos = body_start
        while pos < len(toks):
            ctx_budget = n_ctx - len(head)
            chunk = toks[pos: pos + ctx_budget]
            seq = head + chunk
            x = torch.tensor([seq[:-1]])
            logits, _ = model(x)
            lp = F.log_softmax(logits[0], dim=-1)
            tgt = torch.tensor(seq[1:])
            sel = torch.arange(len(head) - 1, len(seq) - 1)
            nll -= lp[sel, tgt[sel]].sum().item()
            n += len(sel)
            pos += len(chunk)
    model.train()
    return nll / n / math.log(2), n


def export_onnx(m, onnx_path):
    """The step graph (prefill or one step with a KV cache) with the weights as named initializers."""
    Dh = m.d // m.H
    ids = torch.tensor([[BOS, 6, 7]], dtype=torch.int64)
    past = torch.zeros(m.L, 2, m.H, 2, Dh)
    torch.onnx.export(m, (ids, past), onnx_path, opset_version=17, do_constant_folding=False,
                      input_names=['input_ids', 'past_kv'], output_names=['logits', 'present_kv'],
                      dynamic_axes={'input_ids': {1: 'T'}, 'past_kv': {3: 'P'}, 'logits': {1: 'T'}, 'present_kv': {3: 'P_plus_T'}})
    import onnx
    g = onnx.load(onnx_path)
    inits = {t.name for t in g.graph.initializer}
    missing = [k for k, _ in m.named_parameters() if k not in inits]
    if missing:
        sys.exit('export lost parameter names: %s' % missing[:5])


def model_manifest(m, name, task, onnx_path, version):
    """The manifest fields every tunesmith GPT shares: file, architecture, weight names, graph."""
    return {
        'format': 'tunesmith-model/1',
        'name': name,
        'task': task,
        'version': version,
        'file': name + '.onnx',
        'bytes': os.path.getsize(onnx_path),
        'sha256': sha256(onnx_path),
        'architecture': {
            'type': 'gpt', 'n_layer': m.L, 'n_head': m.H, 'd_model': m.d, 'd_ff': 4 * m.d,
            'n_ctx': m.C, 'vocab_size': m.V, 'norm': 'layernorm', 'norm_eps': 1e-5,
            'activation': 'gelu_erf', 'positional': 'learned', 'tied_embeddings': True,
            'parameters': sum(p.numel() for p in m.parameters()),
        },
        'weights': {
            'tok_emb': 'wte', 'pos_emb': 'wpe', 'final_norm': ['lnf_g', 'lnf_b'],
            'layer_prefix': 'h.{i}.',
            'layer': ['ln1_g', 'ln1_b', 'qkv_w', 'qkv_b', 'proj_w', 'proj_b', 'ln2_g', 'ln2_b', 'fc_w', 'fc_b', 'fc2_w', 'fc2_b'],
            'layout': 'matrices are [in, out] row-major (y = x W + b); qkv_w columns are q|k|v, heads contiguous within each',
        },
        'onnx': {
            'opset': 17,
            'inputs': {'input_ids': 'int64 [1, T]', 'past_kv': 'float32 [n_layer, 2, n_head, P, d_model/n_head] (P = 0 for a prefill)'},
            'outputs': {'logits': 'float32 [1, T, vocab_size]', 'present_kv': 'float32 [n_layer, 2, n_head, P+T, d_model/n_head]'},
        },
    }


def export(model, enc, args, stats, metrics, train_info, out_dir):
    name = 'lyrics-%s' % args.lang
    onnx_path = os.path.join(out_dir, name + '.onnx')
    m = model.cpu().eval()
    export_onnx(m, onnx_path)
    lang = args.lang
    manifest = model_manifest(m, name, 'lyrics', onnx_path, train_info['version'])
    manifest.update({
        'language': lang,
        'tokenizer': {
            'type': 'char', 'vocab': enc.vocab,
            'note': 'one token per Unicode character; unknown characters map to <unk>',
        },
        'special_tokens': {'pad': PAD, 'unk': UNK, 'bos': BOS, 'eos': EOS, 'sep': SEP, 'newline': NL},
        'prompt_format': '<bos> <style:S> title-chars <sep> line \\n line \\n ... <eos>',
        'styles': {s: {'token': enc.idx['<style:%s>' % s], 'label': v['label'], 'aliases': v['aliases'],
                       'training_songs': stats[lang]['by_style'].get(s, 0)} for s, v in STYLES[lang].items()},
        'default_style': DEFAULT_STYLE[lang],
        'generation': {'max_line_chars': 24 if lang == 'zh' else 64, 'temperature': 0.6, 'top_k': 40, 'top_p': 0.95, 'repetition_penalty': 1.1},
        'training': {
            'sources': stats[lang]['sources'], 'songs': stats[lang]['songs'], 'train_songs': stats[lang]['train'],
            'valid_songs': stats[lang]['valid'], 'chars': stats[lang]['chars'], 'by_style': stats[lang]['by_style'],
            **train_info,
        },
        'metrics': metrics,
    })
    with open(os.path.join(out_dir, name + '.json'), 'w', encoding='utf8') as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    print('exported', onnx_path, manifest['bytes'], 'bytes', manifest['sha256'])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lang', required=True, choices=['zh', 'en'])
    ap.add_argument('--data', default=os.path.join(REPO, 'build', 'data'))
    ap.add_argument('--out', default=os.path.join(REPO, 'models'))
    ap.add_argument('--minutes', type=float, default=55)
    ap.add_argument('--d', type=int, default=192)
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--heads', type=int, default=6)
    ap.add_argument('--ctx', type=int, default=128)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--max-chars', type=int, default=5000)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ckpt', default=None, help='checkpoint path (default build/ckpt/lyrics-LANG.pt)')
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--export-only', action='store_true')
    ap.add_argument('--bench', action='store_true', help='time 10 steps and exit')
    ap.add_argument('--version', default='1.0.0')
    ap.add_argument('--eval-songs', type=int, default=400, help='held-out songs scored for the manifest metrics')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    rng = random.Random(1234)
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    stats = json.load(open(os.path.join(args.data, 'stats.json')))
    train = load(os.path.join(args.data, '%s.train.jsonl' % args.lang))
    valid = load(os.path.join(args.data, '%s.valid.jsonl' % args.lang))
    vocab, coverage = build_vocab(args.lang, train, args.max_chars)
    enc = Encoder(vocab)
    print('vocab', len(vocab), 'coverage %.5f' % coverage, 'train songs', len(train), flush=True)
    model = GPT(len(vocab), args.ctx, args.d, args.layers, args.heads).to(dev)
    nparams = sum(p.numel() for p in model.parameters())
    print('params', nparams, 'fp32 MB %.2f' % (nparams * 4 / 1e6), flush=True)
    decay = [p for n, p in model.named_parameters() if n.endswith('_w') or n in ('wte', 'wpe')]
    no_decay = [p for n, p in model.named_parameters() if not (n.endswith('_w') or n in ('wte', 'wpe'))]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.05}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    ckpt_dir = os.path.join(REPO, 'build', 'ckpt')
    os.makedirs(ckpt_dir, exist_ok=True)
    ckpt = args.ckpt or os.path.join(ckpt_dir, 'lyrics-%s.pt' % args.lang)
    step, elapsed, tokens = 0, 0.0, 0
    total_steps = None
    if (args.resume or args.export_only) and os.path.exists(ckpt):
        st = torch.load(ckpt, map_location=dev)
        if st['vocab'] != vocab:
            sys.exit('checkpoint vocabulary differs from the data; start without --resume')
        model.load_state_dict(st['model']); opt.load_state_dict(st['opt'])
        step, elapsed, tokens, total_steps = st['step'], st['elapsed'], st['tokens'], st['total_steps']
        print('resumed at step', step, flush=True)
        # A resumed run must not replay the samples the first run started with.
        rng.seed(1234 + step); torch.manual_seed(1234 + step)

    def save():
        torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': elapsed,
                    'tokens': tokens, 'total_steps': total_steps, 'vocab': vocab, 'args': vars(args)}, ckpt)

    batch = make_batches(enc, train, args.ctx, rng)
    budget = args.minutes * 60
    t0 = time.time() - elapsed
    last_ck = time.time()
    warm = 100
    losses = []
    while not args.export_only:
        elapsed = time.time() - t0
        if total_steps is None and step == 30:
            per = elapsed / 30
            total_steps = int(budget / per)
            print('planned steps', total_steps, '(%.2f s/step)' % per, flush=True)
            if args.bench:
                return
        if elapsed > budget:
            break
        # Cosine schedule over wall-clock time (the machine's speed varies with other load), so the
        # learning rate always anneals by the end of the budget.
        frac = min(1.0, elapsed / budget)
        lr = args.lr * min(1.0, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g['lr'] = lr
        x, y = batch(args.batch)
        x, y = x.to(dev), y.to(dev)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += int((y >= 0).sum())
        losses.append(loss.item())
        if step % 50 == 0:
            print('step %d/%s loss %.4f lr %.2e  %.0fs' % (step, total_steps, sum(losses[-50:]) / 50, lr, elapsed), flush=True)
        if time.time() - last_ck > 300:
            save(); last_ck = time.time()
            print('checkpoint', flush=True)
    if not args.export_only:
        save()
    model = model.cpu()
    t_eval = time.time()
    bpc, nchars = evaluate(model, enc, valid, args.ctx, limit=args.eval_songs)
    print('valid bits/char %.4f over %d chars (%.0fs)' % (bpc, nchars, time.time() - t_eval), flush=True)
    metrics = {
        'valid_bits_per_char': round(bpc, 4),
        'valid_perplexity_per_char': round(2 ** bpc, 3),
        'valid_chars_evaluated': nchars,
        'valid_songs_evaluated': min(args.eval_songs, len(valid)),
        'final_train_loss_nats': round(sum(losses[-100:]) / max(1, len(losses[-100:])), 4) if losses else None,
        'vocab_coverage_train': round(coverage, 5),
    }
    train_info = {'version': args.version, 'steps': step, 'tokens_seen': tokens, 'wall_seconds': round(elapsed),
                  'device': dev, 'batch': args.batch, 'lr': args.lr, 'threads': args.threads}
    export(model, enc, args, stats, metrics, train_info, args.out)


if __name__ == '__main__':
    main()

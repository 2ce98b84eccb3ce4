#!/usr/bin/python3
"""Train the melody model: the same small GPT as the lyrics models (tools/lyrics/train.py: model,
batching, evaluation, ONNX export are shared), over the melody tokens of tools/melody/tokens.mjs
(build/data/melody.{train,valid}.jsonl and melody-vocab.json from tools/melody/prepare_melody.mjs).

The header <bos> <type:T> <meter:M> <mode:K> is given, not predicted; bars are the "lines" the
batcher may start from (always after the header), so long tunes are seen from every part.

usage: /usr/bin/python3 tools/melody/train_melody.py --minutes 30 [--resume] [--out DIR]
Writes DIR/melody.onnx and DIR/melody.json (default build/models-next); checkpoints to
build/ckpt/melody.pt every 5 minutes. Uses a GPU when one is present.
"""
import argparse, json, math, os, random, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lyrics'))
import train as T  # noqa: E402  (tools/lyrics/train.py)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HEADER = 4  # <bos> <type:..> <meter:..> <mode:..>


class Encoder:
    def __init__(self, vocab):
        self.vocab = vocab
        self.idx = {t: i for i, t in enumerate(vocab)}
        assert vocab[:4] == ['<pad>', '<unk>', '<bos>', '<eos>'], 'pad unk bos eos must be ids 0-3 (shared trainer)'
        self.bar = self.idx['<bar>']

    def record(self, r):
        ids = [self.idx.get(t, T.UNK) for t in r['tokens'] if t != '<eos>']
        head, body = ids[:HEADER], ids[HEADER:]
        bars, cur = [], []
        for t in body:
            if t == self.bar and cur:
                bars.append(cur)
                cur = []
            cur.append(t)
        if cur:
            bars.append(cur)
        return head, bars


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(T.REPO, 'build', 'data'))
    ap.add_argument('--out', default=os.path.join(T.REPO, 'build', 'models-next'))
    ap.add_argument('--minutes', type=float, default=30)
    ap.add_argument('--d', type=int, default=192)
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--heads', type=int, default=6)
    ap.add_argument('--ctx', type=int, default=256)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ckpt', default=os.path.join(T.REPO, 'build', 'ckpt', 'melody.pt'))
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--version', default='0.1.0')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    rng = random.Random(1234)
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    vocab = json.load(open(os.path.join(args.data, 'melody-vocab.json'), encoding='utf8'))
    train = T.load(os.path.join(args.data, 'melody.train.jsonl'))
    valid = T.load(os.path.join(args.data, 'melody.valid.jsonl'))
    stats = json.load(open(os.path.join(args.data, 'melody-stats.json'), encoding='utf8'))
    enc = Encoder(vocab)
    model = T.GPT(len(vocab), args.ctx, args.d, args.layers, args.heads).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.05)
    step, elapsed = 0, 0.0
    if args.resume and os.path.exists(args.ckpt):
        st = torch.load(args.ckpt, map_location=dev)
        model.load_state_dict(st['model']); opt.load_state_dict(st['opt'])
        step, elapsed = st['step'], st['elapsed']
        rng.seed(1234 + step); torch.manual_seed(1234 + step)
        print('resumed at step', step, flush=True)
    os.makedirs(os.path.dirname(args.ckpt), exist_ok=True)
    save = lambda: torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': elapsed, 'vocab': vocab}, args.ckpt)
    batch = T.make_batches(enc, train, args.ctx, rng)
    budget = args.minutes * 60
    t0 = time.time() - elapsed
    last_ck = time.time()
    losses = []
    print('vocab', len(vocab), 'train tunes', len(train), 'params', sum(p.numel() for p in model.parameters()), flush=True)
    while True:
        elapsed = time.time() - t0
        if elapsed > budget:
            break
        frac = min(1.0, elapsed / budget)
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g['lr'] = lr
        x, y = batch(args.batch)
        logits, _ = model(x.to(dev))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.to(dev).reshape(-1), ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        losses.append(loss.item())
        if step % 50 == 0:
            print('step %d loss %.4f lr %.2e %.0fs' % (step, sum(losses[-50:]) / len(losses[-50:]), lr, elapsed), flush=True)
        if time.time() - last_ck > 300:
            save(); last_ck = time.time()
    save()
    model = model.cpu()
    bits, n = T.evaluate(model, enc, valid, args.ctx, limit=200)
    print('valid bits/token %.4f over %d tokens' % (bits, n), flush=True)
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, 'melody.onnx')
    m = model.eval()
    T.export_onnx(m, onnx_path)
    man = T.model_manifest(m, 'melody', 'melody', onnx_path, args.version)
    man.update({
        'tokenizer': {'type': 'tokens', 'vocab': vocab, 'note': 'tools/melody/tokens.mjs: key-relative pitches <p+N>, durations <dK> (twelfths of a quarter), <bar>, <syl>, roman-numeral chords <c:..>'},
        'special_tokens': {'pad': 0, 'unk': 1, 'bos': 2, 'eos': 3, 'bar': enc.bar, 'syl': enc.idx['<syl>']},
        'prompt_format': '<bos> <type:T> <meter:M> <mode:K> <bar> [<c:..>] [<syl>] <p+N> <dK> ... <eos>',
        'training': {'sources': stats.get('by_source'), 'tunes': stats.get('tunes'), 'train_tunes': len(train), 'valid_tunes': len(valid),
                     'by_type': stats.get('by_type'), 'steps': step, 'wall_seconds': round(elapsed), 'device': dev, 'batch': args.batch, 'lr': args.lr},
        'metrics': {'valid_bits_per_token': round(bits, 4), 'valid_perplexity_per_token': round(2 ** bits, 3), 'valid_tokens_evaluated': n,
                    'final_train_loss_nats': round(sum(losses[-100:]) / max(1, len(losses[-100:])), 4) if losses else None},
    })
    with open(os.path.join(args.out, 'melody.json'), 'w', encoding='utf8') as f:
        json.dump(man, f, ensure_ascii=False, indent=1)
    print('exported', onnx_path, man['bytes'], 'bytes', flush=True)


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Stores a lyrics model's weight matrices as int8 with one float32 scale per output channel, for a
smaller download (about a quarter of the fp32 file), and measures what it costs.

    /usr/bin/python3 tools/lyrics/quantize.py lyrics-en [--out build/models-int8] [--eval-songs 400]

Each matrix W (wte, wpe and every layer's qkv_w, proj_w, fc_w, fc2_w; biases and LayerNorm stay
float32) becomes the initializers W.int8 (INT8) and W.scale (FLOAT, one per output channel: per row
of wte and wpe, per column of the [in, out] layer matrices) and a DequantizeLinear node
W.int8, W.scale -> W at the top of the graph: symmetric, scale = max|w| / 127, q = round(w / scale).
ONNX Runtime runs the file as it is (DequantizeLinear, opset 13+); the engine's ONNX reader widens
the same nodes to float32 at load time with ONNX Runtime's arithmetic (engine/src/onnx.cpp), and
the kernels see ordinary float32 weights.

Quality: the held-out bits per character of the float32 weights and of the int8 weights, on the
same validation songs and windows as training (tools/lyrics/train.py's evaluate), go into the new
manifest ("weights_storage") next to the file's bytes and sha256. Writes OUT/<name>.onnx and
OUT/<name>.json (the shipped manifest with the new file, its hash and the measurement).
"""
import argparse, copy, hashlib, json, os, sys, time

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)

MATRIX = ('qkv_w', 'proj_w', 'fc_w', 'fc2_w')


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return h.hexdigest()


def axis_of(name):
    """0: one scale per row (embeddings: a row is a token / a position); 1: per output column."""
    if name in ('wte', 'wpe'):
        return 0
    if name.rsplit('.', 1)[-1] in MATRIX:
        return 1
    return None


def quantize(w, axis):
    amax = np.abs(w).max(axis=1 - axis)
    scale = (np.where(amax > 0, amax, 1.0) / 127.0).astype(np.float32)
    shape = (-1, 1) if axis == 0 else (1, -1)
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def dequantize(q, scale, axis):
    shape = (-1, 1) if axis == 0 else (1, -1)
    return (q.astype(np.int32).astype(np.float32) * scale.reshape(shape)).astype(np.float32)


def bits_per_char(weights, manifest, data_dir, songs):
    import torch
    import train as T
    a = manifest['architecture']
    lang = manifest['language']
    vocab = manifest['tokenizer']['vocab']
    model = T.GPT(a['vocab_size'], a['n_ctx'], a['d_model'], a['n_layer'], a['n_head'])
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()}
    model.load_state_dict(state, strict=True)
    valid = T.load(os.path.join(data_dir, '%s.valid.jsonl' % lang))
    torch.set_num_threads(1)
    bpc, n = T.evaluate(model, T.Encoder(vocab), valid, a['n_ctx'], limit=songs)
    return bpc, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('name')
    ap.add_argument('--models', default=os.path.join(REPO, 'models'))
    ap.add_argument('--out', default=os.path.join(REPO, 'build', 'models-int8'))
    ap.add_argument('--data', default=os.path.join(REPO, 'build', 'data'))
    ap.add_argument('--eval-songs', type=int, default=400, help='validation songs scored (0: no measurement)')
    args = ap.parse_args()

    manifest = json.load(open(os.path.join(args.models, args.name + '.json')))
    src = os.path.join(args.models, manifest['file'])
    model = onnx.load(src)
    g = model.graph
    weights = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    kept, nodes, stored = [], [], {}
    for t in g.initializer:
        axis = axis_of(t.name)
        if axis is None or t.data_type != TensorProto.FLOAT or len(t.dims) != 2:
            kept.append(t)
            continue
        q, scale = quantize(weights[t.name], axis)
        stored[t.name] = (q, scale, axis)
        kept.append(numpy_helper.from_array(q, t.name + '.int8'))
        kept.append(numpy_helper.from_array(scale, t.name + '.scale'))
        nodes.append(helper.make_node('DequantizeLinear', [t.name + '.int8', t.name + '.scale'], [t.name],
                                      name='dequantize_' + t.name, axis=axis))
    del g.initializer[:]
    g.initializer.extend(kept)
    rest = list(g.node)
    del g.node[:]
    g.node.extend(nodes + rest)
    onnx.checker.check_model(model)
    os.makedirs(args.out, exist_ok=True)
    dst = os.path.join(args.out, manifest['file'])
    onnx.save(model, dst)

    fp32_bytes, int8_bytes = os.path.getsize(src), os.path.getsize(dst)
    widened = dict(weights)
    err = 0.0
    for name, (q, scale, axis) in stored.items():
        widened[name] = dequantize(q, scale, axis)
        err = max(err, float(np.abs(widened[name] - weights[name]).max()))
    print('%s: %d -> %d bytes (%.1f%%), %d matrices, max |w - w_int8| %.3g' % (
        args.name, fp32_bytes, int8_bytes, 100.0 * int8_bytes / fp32_bytes, len(stored), err), flush=True)

    storage = {
        'format': 'int8 weight matrices, one float32 scale per output channel (symmetric, scale = max|w|/127), '
                  'DequantizeLinear nodes in the graph; widened to float32 at load',
        'tool': 'tools/lyrics/quantize.py',
        'matrices': sorted(stored),
        'float32_file': {'bytes': fp32_bytes, 'sha256': manifest['sha256']},
    }
    if args.eval_songs > 0:
        t0 = time.time()
        b32, n = bits_per_char(weights, manifest, args.data, args.eval_songs)
        b8, _ = bits_per_char(widened, manifest, args.data, args.eval_songs)
        print('%s: valid bits/char float32 %.5f, int8 %.5f (%+.3f%%) over %d chars of %d songs (%.0fs)' % (
            args.name, b32, b8, 100.0 * (b8 - b32) / b32, n, args.eval_songs, time.time() - t0), flush=True)
        storage['valid_bits_per_char'] = {'float32': round(b32, 5), 'int8': round(b8, 5),
                                          'songs': args.eval_songs, 'chars': n}
    out = copy.deepcopy(manifest)
    out['bytes'] = int8_bytes
    out['sha256'] = sha256(dst)
    out['weights_storage'] = storage
    with open(os.path.join(args.out, args.name + '.json'), 'w', encoding='utf8') as f:
        f.write(json.dumps(out, ensure_ascii=False, indent=1) + '\n')
    print('wrote', dst, out['bytes'], 'bytes', out['sha256'])


if __name__ == '__main__':
    main()

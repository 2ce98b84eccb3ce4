// Golden values from a reference implementation: for every model in models/, the engine's
// model_logits must match ONNX Runtime Web running the exported .onnx graph, both for a full
// prefill (past of length 0) and for decode steps that reuse the KV cache (present_kv fed back).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { createEngine } from '../../web/src/index.mjs';
import { missing, engineOptions, modelNames, MODELS_DIR, rng } from './helpers.mjs';

// Both sides are fp32 with different summation orders (ORT's GEMM blocking vs our lanes), so the
// error grows with the logits' size: 1e-5 of the largest logit, plus 2e-5.
const TOL = 1e-4;
const tolFor = (data) => { let m = 0; for (const v of data) m = Math.max(m, Math.abs(v)); return Math.max(TOL, 1e-5 * m + 2e-5); };
const models = modelNames();
const skip = missing({ models }) || (!models.length && 'no models in models/');

ort.env.wasm.numThreads = 1; // deterministic, and no worker threads kept alive
ort.env.logLevel = 'error';

/** Max |a - b| over a [T][V] array of rows and a flat Float32Array of T*V. */
function maxDiff(rows, flat, V, rowOffset = 0) {
  let m = 0;
  rows.forEach((row, t) => {
    assert.equal(row.length, V);
    for (let v = 0; v < V; v++) m = Math.max(m, Math.abs(row[v] - flat[(t + rowOffset) * V + v]));
  });
  return m;
}

describe('engine logits vs ONNX Runtime Web', { skip, timeout: 600_000 }, () => {
  let engine;
  before(async () => { engine = await createEngine(engineOptions({ variant: 'st' })); });
  after(async () => { await engine?.close(); });

  for (const name of models) {
    describe(name, () => {
      let session, arch, Dh;
      const past0 = () => new ort.Tensor('float32', new Float32Array(0), [arch.n_layer, 2, arch.n_head, 0, Dh]);
      const ids = (toks) => new ort.Tensor('int64', BigInt64Array.from(toks, BigInt), [1, toks.length]);
      const logitsOf = async (toks) => (await engine.request({ task: 'model_logits', model: name, tokens: toks })).logits;

      before(async () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, `${name}.json`), 'utf8'));
        arch = manifest.architecture;
        Dh = arch.d_model / arch.n_head;
        session = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(path.join(MODELS_DIR, manifest.file))));
      });
      after(async () => { await session?.release(); });

      test('prefill: random prompts of several lengths', async (t) => {
        const rand = rng(20240601);
        const lengths = [...new Set([1, 2, 7, 16, 33, Math.min(64, arch.n_ctx), arch.n_ctx])];
        for (const T of lengths) {
          const toks = Array.from({ length: T }, () => Math.floor(rand() * arch.vocab_size));
          const out = await session.run({ input_ids: ids(toks), past_kv: past0() });
          assert.deepEqual(out.logits.dims, [1, T, arch.vocab_size]);
          assert.deepEqual(out.present_kv.dims, [arch.n_layer, 2, arch.n_head, T, Dh]);
          const rows = await logitsOf(toks);
          assert.equal(rows.length, T);
          const d = maxDiff(rows, out.logits.data, arch.vocab_size);
          const tol = tolFor(out.logits.data);
          assert.ok(d < tol, `T=${T}: max |diff| ${d} (tolerance ${tol})`);
          t.diagnostic(`T=${T}: max |diff| ${d.toExponential(2)}`);
        }
      });

      test('decode steps with a non-empty past (KV cache) match the full sequence', async (t) => {
        const rand = rng(7);
        const T = Math.min(24, arch.n_ctx);
        const toks = Array.from({ length: T }, () => Math.floor(rand() * arch.vocab_size));
        const full = await logitsOf(toks);
        // ORT: prefill the first P tokens, then one token at a time, feeding present_kv back.
        const P = Math.floor(T / 2);
        let out = await session.run({ input_ids: ids(toks.slice(0, P)), past_kv: past0() });
        let worst = maxDiff(full.slice(0, P), out.logits.data, arch.vocab_size);
        for (let t = P; t < T; t++) {
          out = await session.run({ input_ids: ids([toks[t]]), past_kv: out.present_kv });
          assert.deepEqual(out.present_kv.dims, [arch.n_layer, 2, arch.n_head, t + 1, Dh]);
          worst = Math.max(worst, maxDiff([full[t]], out.logits.data, arch.vocab_size));
        }
        assert.ok(worst < TOL, `ORT decode vs engine prefill: max |diff| ${worst}`);
        // The engine's own KV-cache path (split: prefill `split` tokens, then the rest).
        const split = (await engine.request({ task: 'model_logits', model: name, tokens: toks, split: P })).logits;
        assert.equal(split.length, T);
        const ortFull = await session.run({ input_ids: ids(toks), past_kv: past0() });
        const d = maxDiff(split, ortFull.logits.data, arch.vocab_size);
        assert.ok(d < TOL, `engine split=${P} vs ORT prefill: max |diff| ${d}`);
        t.diagnostic(`ORT decode vs engine: ${worst.toExponential(2)}; engine split vs ORT prefill: ${d.toExponential(2)}`);
      });

      test('threaded build gives the same logits', async () => {
        const mt = await createEngine(engineOptions({ variant: 'mt', threads: 4 }));
        try {
          const toks = Array.from({ length: Math.min(40, arch.n_ctx) }, (_, i) => (i * 37 + 11) % arch.vocab_size);
          const a = await logitsOf(toks);
          const b = (await mt.request({ task: 'model_logits', model: name, tokens: toks })).logits;
          assert.deepEqual(b, a); // bit-identical, not just close
        } finally {
          await mt.close();
        }
      });
    });
  }
});

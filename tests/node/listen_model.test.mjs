// The listening classifier (models/listen.onnx) runs on our own kernels (engine/src/classifier.cpp);
// here its outputs must match ONNX Runtime Web running the same .onnx graph, for random and
// structured log-mel patches, and the engine's input normalisation must match the documented one.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { createEngine } from '../../web/src/index.mjs';
import { missing, engineOptions, MODELS_DIR, rng } from './helpers.mjs';

const skip = missing({ models: ['listen'] });
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const B = 64;

/** models/listen.json's normalisation, in JS: raw [b * T + t] dB -> NCHW Float32Array. */
function normalise(raw, T, input) {
  let mx = -Infinity;
  for (const v of raw) mx = Math.max(mx, v);
  const lo = mx - input.floor_db, n = B * T;
  const clip = Float32Array.from(raw, (v) => Math.max(v, lo));
  let sum = 0;
  for (const v of clip) sum += v;
  const mean = Math.fround(sum / n), inv = Math.fround(1 / input.scale_db);
  const C = input.normalisation === 'both' ? 2 : 1;
  const out = new Float32Array(C * n);
  for (let b = 0; b < B; b++) {
    let bs = 0;
    for (let t = 0; t < T; t++) bs += clip[b * T + t];
    const bmean = Math.fround(bs / T);
    for (let t = 0; t < T; t++) {
      const v = clip[b * T + t], g = Math.fround(Math.fround(v - mean) * inv), k = Math.fround(Math.fround(v - bmean) * inv);
      if (input.normalisation === 'band') out[b * T + t] = k;
      else if (C === 1) out[b * T + t] = g;
      else { out[b * T + t] = g; out[n + b * T + t] = k; }
    }
  }
  return { data: out, C };
}

function maxDiff(a, b) {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('listening classifier vs ONNX Runtime Web', { skip, timeout: 300_000 }, () => {
  let engine, session, manifest;
  before(async () => {
    engine = await createEngine(engineOptions({ variant: 'st' }));
    manifest = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, 'listen.json'), 'utf8'));
    session = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(path.join(MODELS_DIR, manifest.file))));
  });
  after(async () => { await session?.release(); await engine?.close(); });

  const patches = () => {
    const T = manifest.input.patch_frames, rand = rng(99), out = [];
    out.push(['random', Float32Array.from({ length: B * T }, () => -90 + 110 * rand())]);
    // a groove-like patch: low band pulses every 22 frames, a mid-band tone, a quiet floor
    out.push(['pulses', Float32Array.from({ length: B * T }, (_, i) => {
      const b = Math.floor(i / T), t = i % T;
      return (b < 8 && t % 22 < 3 ? 10 : b > 20 && b < 26 ? -5 : -60) + 2 * Math.sin(b + t);
    })]);
    out.push(['silence-ish', new Float32Array(B * T).fill(-100)]);
    return out;
  };

  test('outputs match ORT for the same patches and rhythm features (tolerance 1e-4)', async (t) => {
    const rand = rng(5), NF = manifest.rhythm.features;
    for (const [name, raw] of patches()) {
      // rhythm features on the scale the engine gives (patterns ~1, autocorrelations in [-1, 1])
      const rhythm = Float32Array.from({ length: NF }, () => Math.fround(2 * rand()));
      const ours = await engine.request({ task: 'classify_patch', mel_db: Array.from(raw), rhythm: Array.from(rhythm) });
      const { data, C } = normalise(raw, manifest.input.patch_frames, manifest.input);
      const ref = await session.run({ patch: new ort.Tensor('float32', data, [1, C, B, manifest.input.patch_frames]),
                                      rhythm: new ort.Tensor('float32', rhythm, [1, NF]) });
      const dr = maxDiff(ours.rhythm_style, ref.rhythm_style.data);
      assert.ok(dr < 1e-4, `${name} rhythm_style: max |diff| ${dr}`);
      if (manifest.tempo_octave?.check) {  // the tempo check (a logit) on the same rhythm features
        const dc = Math.abs(ours.tempo_check - ref.tempo_check.data[0]);
        assert.ok(dc < 1e-4 * Math.max(1, Math.abs(ref.tempo_check.data[0])), `${name} tempo_check: |diff| ${dc}`);
      }
      for (const head of ['style', 'lead', 'families']) {
        assert.equal(ours[head].length, manifest.labels[head].length, head);
        const d = maxDiff(ours[head], ref[head].data);
        assert.ok(d < 1e-4, `${name} ${head}: max |diff| ${d}`);
      }
      assert.ok(Math.abs(ours.log2_tempo - ref.tempo.data[0]) < 1e-4, `${name} tempo ${ours.log2_tempo} vs ${ref.tempo.data[0]}`);
      const sum = ours.style.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `${name}: style probabilities sum to ${sum}`);
      t.diagnostic(`${name}: style ${manifest.labels.style[ours.style.indexOf(Math.max(...ours.style))]}`);
    }
  });

  test('classify_patch rejects malformed patches', async () => {
    for (const mel of [undefined, [], [1, 2, 3], Array(64 * 128).fill('x'), Array(64 * 128).fill(1e9)]) {
      const res = await engine.requestRaw({ task: 'classify_patch', ...(mel === undefined ? {} : { mel_db: mel }) });
      assert.equal(res.error?.code, 'invalid_field', JSON.stringify(res).slice(0, 200));
    }
    const patch = Array(64 * manifest.input.patch_frames).fill(-20);
    for (const rhythm of [[], [1, 2], Array(manifest.rhythm.features).fill('x'), Array(manifest.rhythm.features).fill(1e9), 'abc']) {
      const res = await engine.requestRaw({ task: 'classify_patch', mel_db: patch, rhythm });
      assert.equal(res.error?.field, 'rhythm', JSON.stringify(res).slice(0, 200));
    }
  });
});

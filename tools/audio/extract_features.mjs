#!/usr/bin/env node
// Clip feature vectors for the listening classifiers: runs the engine's analyze_audio (wasm in
// Node, {"features": true}) over every rendered clip and writes build/audio/features.jsonl:
// {id, split, style, featured_family, families, features: [222 floats]} (docs/listen-api.md).
//
// usage: node tools/audio/extract_features.mjs [--data build/audio]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (k, d) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const data = path.resolve(arg('--data', path.join(repo, 'build/audio')));
const { createEngine } = await import(path.join(repo, 'web/src/index.mjs'));
const engine = await createEngine({ wasmBaseUrl: path.join(repo, 'dist/wasm'), modelBaseUrl: path.join(repo, 'models'), worker: false });
const recs = fs.readFileSync(path.join(data, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const out = fs.openSync(path.join(data, 'features.jsonl'), 'w');
let n = 0;
for (const r of recs) {
  const res = await engine.requestRaw({ task: 'analyze_audio', features: true, pictures: false, max_beats: 0 }, null, fs.readFileSync(path.join(data, r.file)));
  if (res.error) { console.error(r.id, res.error.message); continue; }
  fs.writeSync(out, JSON.stringify({ id: r.id, split: r.split, style: r.style, featured_family: r.featured_family ?? null,
    families: r.families ?? r.instruments ?? [], key: r.key, tempo: r.tempo, features: res.features }) + '\n');
  if (++n % 100 === 0) console.log(n, 'clips');
}
fs.closeSync(out);
await engine.close();
console.log(`wrote ${n} feature vectors to ${path.join(data, 'features.jsonl')}`);

#!/usr/bin/env node
// Melody training data: the parsed ABC tunes (prepare_abc.mjs) and songs/chorales
// (prepare_songs.mjs) as token sequences (tokens.mjs), deduplicated, split into train/valid by a
// hash of the tune's notes, written to build/data/melody.{train,valid}.jsonl with a vocabulary and
// stats. Run prepare_abc.mjs and prepare_songs.mjs first.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordTokens, vocabulary } from './tokens.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = path.join(repo, 'build/data');
const inputs = ['melody-abc.jsonl', 'melody-songs.jsonl'].map((f) => path.join(dataDir, f)).filter((f) => fs.existsSync(f));
if (!inputs.length) { console.error('no build/data/melody-*.jsonl: run tools/melody/prepare_abc.mjs first'); process.exit(2); }

const seen = new Set();
const out = { train: [], valid: [] };
const stats = { inputs: inputs.map((f) => path.basename(f)), tunes: 0, duplicates: 0, unusable: 0, tokens: 0, rounded_or_folded_notes: 0, by_type: {}, by_source: {}, valid_share: 0.04 };
const chordTokens = [];
for (const file of inputs) {
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const rec = JSON.parse(line);
    const t = recordTokens(rec);
    if (!t) { stats.unusable++; continue; }
    const body = t.tokens.slice(1).join(' ');  // same notes, same key-relative pitches: a duplicate
    const h = crypto.createHash('sha1').update(body).digest();
    const key = h.toString('hex');
    if (seen.has(key)) { stats.duplicates++; continue; }
    seen.add(key);
    for (const tok of t.tokens) if (tok.startsWith('<c:')) chordTokens.push(tok);
    const split = h[0] < 256 * stats.valid_share ? 'valid' : 'train';
    out[split].push(JSON.stringify({ id: rec.id, source: rec.source, type: rec.type, tokens: t.tokens }));
    stats.tunes++;
    stats.tokens += t.tokens.length;
    stats.rounded_or_folded_notes += t.dropped;
    stats.by_type[rec.type ?? 'unknown'] = (stats.by_type[rec.type ?? 'unknown'] || 0) + 1;
    stats.by_source[rec.source] = (stats.by_source[rec.source] || 0) + 1;
  }
}
// Chord tokens seen at least 5 times join the vocabulary; rarer ones are mapped to <unk> by the trainer.
const counts = {};
for (const c of chordTokens) counts[c] = (counts[c] || 0) + 1;
const vocab = vocabulary(Object.keys(counts).filter((c) => counts[c] >= 5));
stats.train = out.train.length;
stats.valid = out.valid.length;
stats.vocab_size = vocab.length;
for (const s of ['train', 'valid']) fs.writeFileSync(path.join(dataDir, `melody.${s}.jsonl`), out[s].join('\n') + '\n');
fs.writeFileSync(path.join(dataDir, 'melody-vocab.json'), JSON.stringify(vocab));
fs.writeFileSync(path.join(dataDir, 'melody-stats.json'), JSON.stringify(stats, null, 1));
console.log(JSON.stringify(stats, null, 1));

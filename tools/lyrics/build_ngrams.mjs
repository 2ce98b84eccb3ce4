#!/usr/bin/env node
// Builds the originality index of each lyrics model: a Bloom filter of the hashed n-grams (8
// Chinese characters, 6 English words) of the text the model was trained and validated on, which the
// engine queries while decoding to block copied runs (engine/include/tunesmith/ngram_index.h).
//   models/lyrics-<lang>.ngrams      the filter (format below and in docs/originality.md)
//   models/lyrics-<lang>.json        its "originality" entry (size, sha256, parameters); only that
//                                    key is written, every other key and its formatting is kept
// Normalisation and hashing are shared with the exact checker (copy_check.mjs).
//
// File: "TSNG", u32 version 1, u32 unit (0 = zh char, 1 = en word), u32 n, u32 k, u64 m_bits,
// u64 items, then ceil(m_bits / 64) u64 words; all little-endian. Bit p is bit p % 64 of word p / 64.
// Probe i (0 <= i < k) of an n-gram hash h: (h mod m + i * (splitmix64(h) | 1) mod m) mod m.
//
// Usage: node tools/lyrics/build_ngrams.mjs [--lang zh|en] [--data DIR] [--out DIR]
//        [--bits-per-item 6] [--k 4] [--no-manifest]
// Deterministic: the same data gives byte-identical files.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { N, REPO, UNIT, bloomProbes, collectNgrams, hashUnits, normalise } from './copy_check.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const langs = opt('--lang') ? [opt('--lang')] : ['zh', 'en'];
const dataDir = path.resolve(opt('--data', path.join(REPO, 'build/data')));
const outDir = path.resolve(opt('--out', path.join(REPO, 'models')));
const bitsPerItem = Number(opt('--bits-per-item', 6));
const K = Number(opt('--k', 4));
const HEADER = 36;

export function estimatedFpRate(items, m, k) {
  return (1 - Math.exp((-k * items) / m)) ** k;
}

function buildFilter(set, k) {
  const m = Math.ceil((bitsPerItem * set.size) / 64) * 64;
  const bits = new Uint8Array(m / 8);  // little-endian u64 words, byte by byte
  set.forEach((hi, lo) => bloomProbes(hi, lo, m, k, (p) => { bits[p >>> 3] |= 1 << (p & 7); }));
  return { m, bits };
}

function contains(bits, m, k, hi, lo) {
  let all = true;
  bloomProbes(hi, lo, m, k, (p) => { if (!(bits[p >>> 3] & (1 << (p & 7)))) all = false; });
  return all;
}

// Deterministic PRNG (mulberry32).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// False-positive rate on n-grams absent from the corpus: random sequences of the corpus's own units
// (drawn from the validation text, by frequency), the exact set removing the rare true hits.
function measureFp(lang, set, bits, m, k, samples = 200000) {
  const n = N[lang];
  const pool = [];
  const text = fs.readFileSync(path.join(dataDir, `${lang}.valid.jsonl`), 'utf8');
  for (const line of text.split('\n').filter(Boolean)) {
    for (const u of normalise(JSON.parse(line).lines.join('\n'), lang).units) pool.push(u);
  }
  const rand = rng(12345);
  let absent = 0, fp = 0;
  for (let s = 0; s < samples; s++) {
    const units = Array.from({ length: n }, () => pool[Math.floor(rand() * pool.length)]);
    const h = hashUnits(units);
    const hi = Number(h >> 32n), lo = Number(h & 0xffffffffn);
    if (set.has(hi, lo)) continue;
    absent++;
    if (contains(bits, m, k, hi, lo)) fp++;
  }
  return fp / absent;
}

function writeFilter(file, lang, n, k, m, items, bits) {
  const head = Buffer.alloc(HEADER);
  head.write('TSNG', 0, 'latin1');
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(lang === 'zh' ? 0 : 1, 8);
  head.writeUInt32LE(n, 12);
  head.writeUInt32LE(k, 16);
  head.writeBigUInt64LE(BigInt(m), 20);
  head.writeBigUInt64LE(BigInt(items), 28);
  const buf = Buffer.concat([head, Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength)]);
  fs.writeFileSync(file, buf);
  return buf;
}

// Sets manifest[key] = value in the text of a json.dump(indent=1) manifest, touching nothing else.
export function patchManifestKey(text, key, value) {
  const before = JSON.parse(text);
  const block = `"${key}": ` + JSON.stringify(value, null, 1).replace(/\n/g, '\n ');
  const at = text.indexOf(`\n "${key}": `);
  let out;
  if (at >= 0) {
    const open = text.indexOf('{', at);
    if (text.slice(at + key.length + 6, open).trim() !== '') throw new Error(`manifest: "${key}" is not an object`);
    const close = text.indexOf('\n }', open);
    out = text.slice(0, at + 2) + block + text.slice(close + 3);
  } else {
    const end = text.lastIndexOf('}');
    const body = text.slice(0, end).replace(/\s*$/, '');
    out = `${body},\n ${block}\n}${text.slice(end + 1)}`;
  }
  const after = JSON.parse(out);
  const want = { ...before, [key]: value };
  if (JSON.stringify(Object.keys(after).sort().map((k2) => [k2, after[k2]])) !== JSON.stringify(Object.keys(want).sort().map((k2) => [k2, want[k2]])))
    throw new Error('manifest patch went wrong; file left as it was');
  return out;
}

function main() {
  for (const lang of langs) {
    if (!N[lang]) throw new Error(`unknown language ${lang}`);
    const t0 = Date.now();
    const n = N[lang];
    const { set, total, poems, units } = collectNgrams(lang, { dataDir });
    const { m, bits } = buildFilter(set, K);
    const name = `lyrics-${lang}.ngrams`;
    const buf = writeFilter(path.join(outDir, name), lang, n, K, m, set.size, bits);
    const est = estimatedFpRate(set.size, m, K);
    const measured = measureFp(lang, set, bits, m, K);
    const entry = {
      file: name,
      bytes: buf.length,
      sha256: createHash('sha256').update(buf).digest('hex'),
      unit: UNIT[lang],
      n,
      k: K,
      m_bits: m,
      items: set.size,
      false_positive_rate: Number(est.toPrecision(3)),
      source: `training + validation text of this model (build/data/${lang}.train.jsonl + ${lang}.valid.jsonl: ${poems} texts, ${units} ${UNIT[lang]}s)`,
    };
    console.log(`${lang}: ${poems} texts, ${units} ${UNIT[lang]}s, ${total} ${n}-grams, ${set.size} distinct; ` +
      `${name} ${buf.length} bytes (m = ${m} bits, k = ${K}); false positives: estimated ${(100 * est).toFixed(2)}%, ` +
      `measured ${(100 * measured).toFixed(2)}% on random ${n}-grams of corpus ${UNIT[lang]}s (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    if (!args.includes('--no-manifest')) {
      const manifest = path.join(outDir, `lyrics-${lang}.json`);
      fs.writeFileSync(manifest, patchManifestKey(fs.readFileSync(manifest, 'utf8'), 'originality', entry));
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

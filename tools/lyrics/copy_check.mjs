#!/usr/bin/env node
// Exact copy checker: which runs of a text occur word for word in a lyrics model's training text.
// The engine blocks copies while decoding with a Bloom filter (models/lyrics-<lang>.ngrams, built by
// build_ngrams.mjs, read by engine/include/tunesmith/ngram_index.h); this is the exact counterpart for
// evaluation: no false positives (a set of 64-bit n-gram hashes, not a filter), rules in
// docs/originality.md. It also holds the normalisation and hashing the filter builder shares.
//
// API (what the evaluation imports):
//   const index = await loadExactIndex('zh');   // or 'en'; options {dataDir, cacheDir, cache}
//     // reads build/data/<lang>.{train,valid}.jsonl (throws if missing); the set is cached in
//     // build/ngrams/<lang>.exact.bin, keyed by the data's sha256 (~1 s to load vs ~10 s to build)
//     // index = {lang, unit: 'char'|'word', n: 8|6, size (distinct n-grams), has(hi, lo)}
//   copiedRuns(index, text) -> {longest, runs: [{start, length, text, offset}]}
//     // runs: maximal spans, in units (start = unit index, length = units), covered by consecutive
//     // n-grams that all occur in the training text; text = the span as written in the input
//     // (offset = its UTF-16 index there); longest = the longest run's length, 0 if none
//   await copyCheck(texts, lang) -> [copiedRuns(...) for each text]
//   normalise(text, lang) -> {units: [string], offsets: [[start, end]]}   (docs/originality.md)
//   hashUnits(units, start = 0, count = units.length) -> BigInt (64-bit FNV-1a, each unit + 0x1F)
//
// CLI: node tools/lyrics/copy_check.mjs --lang zh|en [--json] [--min N] [FILE...]
//   each FILE (or stdin) is one text; --json: the input is a JSON array of strings or of objects
//   with "lyrics" or "text". Prints one JSON object per text: {longest, runs}. --min N only
//   reports runs of at least N units. `--build` just builds the cache.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../..');
export const N = { zh: 8, en: 6 };
export const UNIT = { zh: 'char', en: 'word' };
// Bumped when normalisation or hashing changes (it keys the cache).
export const NORMALISATION_VERSION = 'tsng-1';

// ---- normalisation --------------------------------------------------------------------------------

// Same ranges as is_cjk in engine/include/tunesmith/utf8.h.
export const isCjk = (c) => (c >= 0x3400 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x2fa1f);

// ASCII word characters after lowercasing: a-z 0-9 and the apostrophe (’ and ‘ count as one).
function wordChar(u) {
  if (u >= 0x61 && u <= 0x7a) return u;
  if (u >= 0x41 && u <= 0x5a) return u + 32;
  if ((u >= 0x30 && u <= 0x39) || u === 0x27) return u;
  if (u === 0x2019 || u === 0x2018) return 0x27;
  return 0;
}

/** Units of a text: CJK code points (zh) or normalised words (en), with [start, end) UTF-16 offsets. */
export function normalise(text, lang) {
  const units = [], offsets = [];
  if (lang === 'zh') {
    for (let i = 0; i < text.length;) {
      const c = text.codePointAt(i), w = c > 0xffff ? 2 : 1;
      if (isCjk(c)) { units.push(String.fromCodePoint(c)); offsets.push([i, i + w]); }
      i += w;
    }
    return { units, offsets };
  }
  if (lang !== 'en') throw new Error(`unknown language ${lang}`);
  for (let i = 0; i < text.length;) {
    if (!wordChar(text.charCodeAt(i))) { i++; continue; }
    let j = i, w = '';
    for (let u; j < text.length && (u = wordChar(text.charCodeAt(j))); j++) w += String.fromCharCode(u);
    let a = 0, b = w.length;
    while (a < b && w.charCodeAt(a) === 0x27) a++;
    while (b > a && w.charCodeAt(b - 1) === 0x27) b--;
    if (b > a) { units.push(w.slice(a, b)); offsets.push([i + a, i + b]); }
    i = j;
  }
  return { units, offsets };
}

// ---- hashing --------------------------------------------------------------------------------------
// 64-bit FNV-1a in two 32-bit halves (BigInt would be ~20x slower). The prime 2^40 + 0x1b3 makes a
// step h = (h ^ byte) * prime = h * 0x1b3 + (lo << 40).

let HI = 0, LO = 0;  // the running hash of fnvBytes
const OFFSET_HI = 0xcbf29ce4, OFFSET_LO = 0x84222325;

// Hashes count units of a flat byte buffer (unit u = bytes[starts[u], starts[u+1])) from unit first;
// result in HI, LO.
function fnvFlat(bytes, starts, first, count) {
  let hi = OFFSET_HI, lo = OFFSET_LO;
  for (let u = first; u < first + count; u++) {
    for (let p = starts[u], e = starts[u + 1]; p <= e; p++) {
      lo = (lo ^ (p === e ? 0x1f : bytes[p])) >>> 0;
      const prod = lo * 0x1b3, nlo = prod >>> 0;
      hi = (Math.imul(hi, 0x1b3) + (prod - nlo) / 4294967296 + (lo << 8)) >>> 0;
      lo = nlo;
    }
  }
  HI = hi; LO = lo;
}

const enc = new TextEncoder();

/** 64-bit FNV-1a of units (strings), each unit's UTF-8 bytes followed by 0x1F, as a BigInt. */
export function hashUnits(units, start = 0, count = units.length - start) {
  const { bytes, starts } = flatten(units.slice(start, start + count));
  fnvFlat(bytes, starts, 0, count);
  return (BigInt(HI) << 32n) | BigInt(LO);
}

function flatten(units) {
  const parts = units.map((u) => enc.encode(u));
  const starts = new Int32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) starts[i + 1] = starts[i] + parts[i].length;
  const bytes = new Uint8Array(starts[parts.length]);
  parts.forEach((p, i) => bytes.set(p, starts[i]));
  return { bytes, starts };
}

// Low 64 bits of (ah:al) * (bh:bl), into HI, LO.
function mul64(ah, al, bh, bl) {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a1 * b0 + a0 * b1;                       // < 2^33
  const t = a0 * b0 + (mid % 65536) * 65536;           // < 2^33
  const lo = t >>> 0;
  const carry = (t - lo) / 4294967296;
  HI = (a1 * b1 + Math.floor(mid / 65536) + carry + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  LO = lo;
}

/** splitmix64's finaliser of (hi:lo), into HI, LO (exported for tests via splitmix64). */
function splitmixHalves(hi, lo) {
  // z = h + 0x9e3779b97f4a7c15
  let l = lo + 0x7f4a7c15, h = hi + 0x9e3779b9 + (l >= 4294967296 ? 1 : 0);
  l >>>= 0; h >>>= 0;
  // z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
  l = (l ^ ((l >>> 30) | (h << 2))) >>> 0; h = (h ^ (h >>> 30)) >>> 0;
  mul64(h, l, 0xbf58476d, 0x1ce4e5b9); h = HI; l = LO;
  // z = (z ^ (z >> 27)) * 0x94d049bb133111eb
  l = (l ^ ((l >>> 27) | (h << 5))) >>> 0; h = (h ^ (h >>> 27)) >>> 0;
  mul64(h, l, 0x94d049bb, 0x133111eb); h = HI; l = LO;
  // z ^ (z >> 31)
  LO = (l ^ ((l >>> 31) | (h << 1))) >>> 0; HI = (h ^ (h >>> 31)) >>> 0;
}

export function splitmix64(x) {
  splitmixHalves(Number(x >> 32n), Number(x & 0xffffffffn));
  return (BigInt(HI) << 32n) | BigInt(LO);
}

// (hi:lo) mod m, exact for m < 2^37.
export function mod64(hi, lo, m) {
  let r = hi % m;
  r = (r * 65536) % m;
  r = (r * 65536) % m;
  return (r + lo) % m;
}

/** The k Bloom bit positions of a hash (hi:lo) in a filter of m bits: (h mod m + i * (h2 mod m)) mod m,
 *  h2 = splitmix64(h) | 1. Calls fn(pos) for i = 0..k-1. */
export function bloomProbes(hi, lo, m, k, fn) {
  const a = mod64(hi, lo, m);
  splitmixHalves(hi, lo);
  const b = mod64(HI, (LO | 1) >>> 0, m);
  for (let i = 0, pos = a; i < k; i++) {
    fn(pos);
    pos += b;
    if (pos >= m) pos -= m;
  }
}

// ---- the exact set --------------------------------------------------------------------------------
// Open addressing over two Uint32Arrays (hi, lo); (0, 0) marks an empty slot, so the hash 0 is kept
// in a flag of its own.

export class HashSet64 {
  constructor(expected) {
    let bits = 10;
    while ((1 << bits) < expected * 1.6) bits++;
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.hi = new Uint32Array(1 << bits);
    this.lo = new Uint32Array(1 << bits);
    this.size = 0;
    this.zero = false;
  }
  slot(hi, lo) { return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> (32 - this.bits); }
  add(hi, lo) {
    if (hi === 0 && lo === 0) { if (!this.zero) { this.zero = true; this.size++; } return; }
    const H = this.hi, L = this.lo, mask = this.mask;
    for (let s = this.slot(hi, lo); ; s = (s + 1) & mask) {
      if (H[s] === hi && L[s] === lo) return;
      if (H[s] === 0 && L[s] === 0) {
        H[s] = hi; L[s] = lo;
        if (++this.size * 1.25 > H.length) throw new Error('HashSet64 over capacity');
        return;
      }
    }
  }
  has(hi, lo) {
    if (hi === 0 && lo === 0) return this.zero;
    const H = this.hi, L = this.lo, mask = this.mask;
    for (let s = this.slot(hi, lo); ; s = (s + 1) & mask) {
      if (H[s] === hi && L[s] === lo) return true;
      if (H[s] === 0 && L[s] === 0) return false;
    }
  }
  /** Calls fn(hi, lo) for each member. */
  forEach(fn) {
    if (this.zero) fn(0, 0);
    const H = this.hi, L = this.lo;
    for (let s = 0; s < H.length; s++) if (H[s] !== 0 || L[s] !== 0) fn(H[s], L[s]);
  }
}

// ---- reading the corpus ---------------------------------------------------------------------------

export const dataFiles = (lang, dataDir = path.join(REPO, 'build/data')) =>
  ['train', 'valid'].map((split) => path.join(dataDir, `${lang}.${split}.jsonl`));

// Calls fn(bytes, starts, count) for each poem: its units as one flat UTF-8 buffer (reused: copy
// what you keep).
function forEachPoem(files, lang, fn) {
  let bytes = new Uint8Array(1 << 16), starts = new Int32Array(1 << 14);
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (let at = 0; at < text.length;) {
      let e = text.indexOf('\n', at);
      if (e < 0) e = text.length;
      const line = text.slice(at, e);
      at = e + 1;
      if (!line.trim()) continue;
      const { units } = normalise(JSON.parse(line).lines.join('\n'), lang);
      if (units.length + 1 > starts.length) starts = new Int32Array(2 * (units.length + 1));
      let len = 0;
      for (let i = 0; i < units.length; i++) {
        const u = units[i];
        if (len + 4 * u.length > bytes.length) { const b = new Uint8Array(2 * (len + 4 * u.length)); b.set(bytes); bytes = b; }
        starts[i] = len;
        len += enc.encodeInto(u, bytes.subarray(len)).written;
      }
      starts[units.length] = len;
      fn(bytes, starts, units.length);
    }
  }
}

/** Every distinct n-gram hash of the corpus, plus counts. */
export function collectNgrams(lang, { dataDir } = {}) {
  const files = dataFiles(lang, dataDir);
  for (const f of files) if (!fs.existsSync(f)) throw new Error(`missing ${path.relative(process.cwd(), f)}: run tools/lyrics/prepare_data.mjs first`);
  const n = N[lang];
  let total = 0, poems = 0, units = 0;
  // Upper bound for the table: one n-gram per unit.
  let bound = 0;
  forEachPoem(files, lang, (_b, _s, count) => { bound += Math.max(0, count - n + 1); });
  const set = new HashSet64(bound);
  forEachPoem(files, lang, (bytes, starts, count) => {
    poems++;
    units += count;
    for (let i = 0; i + n <= count; i++) {
      fnvFlat(bytes, starts, i, n);
      set.add(HI, LO);
      total++;
    }
  });
  return { set, total, poems, units, files };
}

function sourceKey(files) {
  const h = createHash('sha256').update(NORMALISATION_VERSION);
  for (const f of files) h.update(fs.readFileSync(f));
  return h.digest('hex');
}

/** The exact index of a language (see the API at the top). */
export async function loadExactIndex(lang, { dataDir, cacheDir = path.join(REPO, 'build/ngrams'), cache = true } = {}) {
  if (!N[lang]) throw new Error(`unknown language ${lang}`);
  const files = dataFiles(lang, dataDir);
  for (const f of files) if (!fs.existsSync(f)) throw new Error(`missing ${f}: run tools/lyrics/prepare_data.mjs first`);
  const key = sourceKey(files);
  const cacheFile = path.join(cacheDir, `${lang}.exact.bin`);
  let set = null;
  if (cache && fs.existsSync(cacheFile)) set = readCache(cacheFile, key);
  if (!set) {
    ({ set } = collectNgrams(lang, { dataDir }));
    if (cache) writeCache(cacheFile, key, set);
  }
  return { lang, unit: UNIT[lang], n: N[lang], size: set.size, set, has: (hi, lo) => set.has(hi, lo) };
}

// Cache: "TSEX", 64 hex chars of the source key, then u32 count, then count (hi, lo) u32 pairs (LE).
function writeCache(file, key, set) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const words = new Uint32Array(2 * set.size);
  let i = 0;
  set.forEach((hi, lo) => { words[i++] = hi; words[i++] = lo; });
  const head = Buffer.alloc(72);
  head.write('TSEX', 0, 'latin1');
  head.write(key, 4, 'latin1');
  head.writeUInt32LE(set.size, 68);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([head, Buffer.from(words.buffer, words.byteOffset, words.byteLength)]));
  fs.renameSync(tmp, file);
}

function readCache(file, key) {
  const buf = fs.readFileSync(file);
  if (buf.length < 72 || buf.toString('latin1', 0, 4) !== 'TSEX' || buf.toString('latin1', 4, 68) !== key) return null;
  const count = buf.readUInt32LE(68);
  if (buf.length !== 72 + 8 * count) return null;
  const words = new Uint32Array(buf.buffer.slice(buf.byteOffset + 72, buf.byteOffset + buf.length));
  const set = new HashSet64(count);
  for (let i = 0; i < words.length; i += 2) set.add(words[i], words[i + 1]);
  return set;
}

// ---- checking -------------------------------------------------------------------------------------

/** The copied runs of one text (see the API at the top). */
export function copiedRuns(index, text) {
  const { units, offsets } = normalise(String(text), index.lang);
  const n = index.n, runs = [];
  if (units.length < n) return { longest: 0, runs };
  const { bytes, starts } = flatten(units);
  let longest = 0;
  for (let i = 0; i + n <= units.length;) {
    fnvFlat(bytes, starts, i, n);
    if (!index.has(HI, LO)) { i++; continue; }
    let j = i + 1;  // n-grams i .. j-1 all hit
    for (; j + n <= units.length; j++) {
      fnvFlat(bytes, starts, j, n);
      if (!index.has(HI, LO)) break;
    }
    const length = j - 1 - i + n, a = offsets[i][0], b = offsets[i + length - 1][1];
    runs.push({ start: i, length, text: text.slice(a, b), offset: a });
    longest = Math.max(longest, length);
    i = j + 1;  // n-gram j missed
  }
  return { longest, runs };
}

/** copiedRuns for each text, loading the language's index once. */
export async function copyCheck(texts, lang, options) {
  const index = await loadExactIndex(lang, options);
  return texts.map((t) => copiedRuns(index, t));
}

// ---- CLI ------------------------------------------------------------------------------------------

async function main(argv) {
  const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const lang = opt('--lang');
  if (!N[lang]) {
    console.error('usage: node tools/lyrics/copy_check.mjs --lang zh|en [--json] [--min N] [--build] [FILE...]');
    process.exit(2);
  }
  const t0 = Date.now();
  const index = await loadExactIndex(lang);
  if (argv.includes('--build')) {
    console.error(`${lang}: ${index.size} distinct ${N[lang]}-grams (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return;
  }
  const min = Number(opt('--min') || 0);
  const files = argv.filter((a, i) => !a.startsWith('--') && !['--lang', '--min'].includes(argv[i - 1]));
  const inputs = files.length ? files.map((f) => fs.readFileSync(f, 'utf8')) : [fs.readFileSync(0, 'utf8')];
  let texts = inputs;
  if (argv.includes('--json')) {
    texts = inputs.flatMap((s) => JSON.parse(s)).map((x) => (typeof x === 'string' ? x : x.lyrics ?? x.text ?? ''));
  }
  for (const t of texts) {
    const r = copiedRuns(index, t);
    r.runs = r.runs.filter((run) => run.length >= min);
    console.log(JSON.stringify(r));
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => { console.error(e.message); process.exit(1); });
}

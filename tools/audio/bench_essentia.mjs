#!/usr/bin/env node
// Listening benchmark: tunesmith's analyze_audio (wasm, in this Node process) against essentia.js
// (KeyExtractor + RhythmExtractor2013 + LoudnessEBUR128, also wasm, in the same process) on the same
// WAV files: speed in times real time, key MIREX score and tempo Accuracy1/Accuracy2 against the
// labels of the held-out renders (docs/audio-data.md), and how often the two agree. Not a test: it
// prints numbers and exits 0. What each line means: docs/listen-benchmark.md.
//
//   node tools/audio/bench_essentia.mjs [--data build/audio] [--split test|train] [--limit N]
//                                       [--json OUT] [--md] [--key-profiles bgate,krumhansl,...]
//                                       [--key-44k] [--no-degara] [--no-classify] [--variant mt|st] [--threads N]
//
// essentia.js is a dev-only dependency of this benchmark (AGPL-3.0): it is never imported by
// web/src and never shipped. Run it with `nice` on a shared machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '../..');
const TARGET_SPEEDUP = 5; // tunesmith / essentia.js (KeyExtractor + RhythmExtractor2013), at least
const RHYTHM_RATE = 44100; // RhythmExtractor2013 has no sampleRate parameter: it assumes 44.1 kHz input

// ------------------------------------------------------------------------------------ arguments
function die(msg, code = 2) { console.error(`bench_essentia: ${msg}`); process.exit(code); }
function usage() {
  console.log(`usage: node tools/audio/bench_essentia.mjs [--data DIR] [--split test|train] [--limit N] [--json OUT] [--md]
                                           [--key-profiles P1,P2,...] [--key-44k] [--no-degara] [--no-classify] [--variant mt|st] [--threads N]
  --data          rendered clips and their manifest.jsonl (default build/audio; docs/audio-data.md)
  --split         test (the held-out renders, default) or train
  --limit         first N clips of the split (default: all)
  --json          also write every number (summary and per-file rows) to OUT
  --md            print the markdown tables (overall and per style)
  --key-profiles  essentia KeyExtractor profiles: the first is timed as part of essentia's key + tempo
                  (default bgate, KeyExtractor's own default); others are scored and timed on their own
  --key-44k       run KeyExtractor on the audio resampled to 44.1 kHz (its defaults' design rate) instead of the file's rate
  --no-degara     skip the second RhythmExtractor2013 line (method 'degara')
  --no-classify   tunesmith without the style/instrument classifier ({classify: false}); default: the call as a user makes it
  --variant       tunesmith build: createEngine's Node default is mt (SIMD + pthreads); st = SIMD, one thread
  --threads       tunesmith compute threads (default 1: both engines on one thread)`);
}
function parseArgs(argv) {
  const a = { data: path.join(ROOT, 'build/audio'), split: 'test', limit: Infinity, json: null, md: false,
              keyProfiles: ['bgate'], key44k: false, degara: true, classify: true, variant: undefined, threads: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`${k} needs a value`); return argv[++i]; };
    if (k === '--data') a.data = path.resolve(val());
    else if (k === '--split') { a.split = val(); if (!['test', 'train'].includes(a.split)) die('--split is test or train'); }
    else if (k === '--limit') { a.limit = Number(val()); if (!Number.isInteger(a.limit) || a.limit < 1) die('--limit must be an integer >= 1'); }
    else if (k === '--json') a.json = path.resolve(val());
    else if (k === '--md') a.md = true;
    else if (k === '--key-profiles') { a.keyProfiles = val().split(',').map((s) => s.trim()).filter(Boolean); if (!a.keyProfiles.length) die('--key-profiles needs a name'); }
    else if (k === '--no-degara') a.degara = false;
    else if (k === '--key-44k') a.key44k = true;
    else if (k === '--no-classify') a.classify = false;
    else if (k === '--variant') { a.variant = val(); if (!['mt', 'st'].includes(a.variant)) die('--variant is mt or st'); }
    else if (k === '--threads') { a.threads = Number(val()); if (!Number.isInteger(a.threads) || a.threads < 1) die('--threads must be an integer >= 1'); }
    else if (k === '-h' || k === '--help') { usage(); process.exit(0); }
    else die(`unknown argument ${k} (--help lists them)`);
  }
  return a;
}

// ------------------------------------------------------------------------------------ WAV reading
// A small RIFF/WAVE reader for essentia's side (tunesmith reads the same bytes itself): PCM 8/16/24/32
// bit, float 32/64, WAVE_FORMAT_EXTENSIBLE; channels averaged to mono float32.
export function readWavMono(buf) {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let fmt = null, data = null;
  for (let at = 12; at + 8 <= b.length;) {
    const id = b.toString('latin1', at, at + 4), size = b.readUInt32LE(at + 4), body = at + 8;
    if (id === 'fmt ') {
      let tag = b.readUInt16LE(body);
      const bits = b.readUInt16LE(body + 14);
      if (tag === 0xfffe && size >= 40) tag = b.readUInt16LE(body + 24); // extensible: the sub-format GUID's first two bytes
      fmt = { tag, channels: b.readUInt16LE(body + 2), rate: b.readUInt32LE(body + 4), align: b.readUInt16LE(body + 12), bits };
    } else if (id === 'data') {
      data = [body, Math.min(size, b.length - body)];
      if (fmt) break;
    }
    at = body + size + (size & 1);
  }
  if (!fmt || !data) throw new Error('WAV without fmt or data chunk');
  const { tag, channels, rate, align, bits } = fmt;
  const frames = Math.floor(data[1] / align), out = new Float32Array(frames), bytes = bits / 8;
  let read;
  if (tag === 1 && bits === 16) read = (o) => b.readInt16LE(o) / 32768;
  else if (tag === 1 && bits === 24) read = (o) => b.readIntLE(o, 3) / 8388608;
  else if (tag === 1 && bits === 32) read = (o) => b.readInt32LE(o) / 2147483648;
  else if (tag === 1 && bits === 8) read = (o) => (b[o] - 128) / 128;
  else if (tag === 3 && bits === 32) read = (o) => b.readFloatLE(o);
  else if (tag === 3 && bits === 64) read = (o) => b.readDoubleLE(o);
  else throw new Error(`unsupported WAV encoding (format ${tag}, ${bits} bits)`);
  if (channels === 1 && tag === 1 && bits === 16) { // the renders: a fast path
    for (let i = 0, o = data[0]; i < frames; i++, o += 2) out[i] = b.readInt16LE(o) / 32768;
  } else {
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0, o = data[0] + i * align; c < channels; c++, o += bytes) s += read(o);
      out[i] = s / channels;
    }
  }
  return { samples: out, rate, channels };
}

// ------------------------------------------------------------------------------------ resampling
// Rational polyphase resampler (Kaiser-windowed sinc, 32 zero crossings a side at the narrower
// band edge, beta 9: stop band about -90 dB), for RhythmExtractor2013, which expects 44.1 kHz.
function besselI0(x) { let s = 1, t = 1; for (let k = 1; k < 50; k++) { t *= (x / (2 * k)) ** 2; s += t; if (t < 1e-12 * s) break; } return s; }
const gcd = (p, q) => (q ? gcd(q, p % q) : p);
const resamplers = new Map();
function makeResampler(from, to) {
  const g = gcd(from, to), L = to / g, M = from / g;
  const cut = Math.min(1, L / M) * 0.97; // pass band edge, relative to the input Nyquist
  const zeros = 32, half = Math.ceil(zeros / cut), taps = 2 * half, beta = 9, i0b = besselI0(beta);
  const table = new Float32Array(L * taps); // phase p (output at input time k0 + p/L): weights of x[k0 - half + 1 .. k0 + half]
  for (let p = 0; p < L; p++) {
    const frac = p / L;
    for (let j = 0; j < taps; j++) {
      const u = frac - (j - half + 1); // distance from the input sample to the output time, in input samples
      const r = u / half;
      const w = Math.abs(r) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0b;
      const x = Math.PI * cut * u;
      table[p * taps + j] = cut * (x === 0 ? 1 : Math.sin(x) / x) * w;
    }
  }
  return { L, M, half, taps, table };
}
export function resample(x, from, to) {
  if (from === to) return x;
  const key = `${from}/${to}`;
  if (!resamplers.has(key)) resamplers.set(key, makeResampler(from, to));
  const { L, M, half, taps, table } = resamplers.get(key);
  const n = Math.floor((x.length * L) / M), y = new Float32Array(n), last = x.length - 1;
  for (let m = 0; m < n; m++) {
    const t = m * M, k0 = Math.floor(t / L), p = t - k0 * L, row = p * taps, start = k0 - half + 1;
    let s = 0;
    if (start >= 0 && start + taps - 1 <= last) for (let j = 0; j < taps; j++) s += x[start + j] * table[row + j];
    else for (let j = 0; j < taps; j++) { const i = start + j; if (i >= 0 && i <= last) s += x[i] * table[row + j]; }
    y[m] = s;
  }
  return y;
}

// ------------------------------------------------------------------------------------ helpers
const mean = (xs) => (xs.length ? xs.reduce((p, q) => p + q, 0) / xs.length : NaN);
const median = (xs) => { const s = [...xs].sort((p, q) => p - q), n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };
const round = (x, d = 3) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);
const PC = { C: 0, 'C#': 1, Db: 1, D: 2, 'D#': 3, Eb: 3, E: 4, F: 5, 'F#': 6, Gb: 6, G: 7, 'G#': 8, Ab: 8, A: 9, 'A#': 10, Bb: 10, B: 11 };
const sameKey = (p, q) => !!(p && q && PC[p.tonic] === PC[q.tonic] && p.mode === q.mode);
const sameTempo = (p, q) => Number.isFinite(p) && Number.isFinite(q) && Math.abs(p - q) <= 0.04 * q;
const now = () => performance.now();

function loadEssentia() {
  const require = createRequire(import.meta.url);
  let mod;
  try { mod = require('essentia.js'); } catch (e) {
    die(`cannot load essentia.js (${e.code || e.message}): it is a dev dependency of this benchmark only; run \`npm ci\` (or \`npm install --save-dev --save-exact essentia.js@0.1.3\`) in ${ROOT}`);
  }
  const { Essentia, EssentiaWASM } = mod;
  return new Essentia(EssentiaWASM);
}

// ------------------------------------------------------------------------------------ the two sides
async function runTunesmith(engine, bytes, name, opts) {
  const t0 = now();
  const r = await engine.analyzeAudio(bytes, { pictures: false, name, ...(opts.classify ? {} : { classify: false }) });
  const seconds = (now() - t0) / 1000;
  const key = r.key?.name ? { tonic: r.key.tonic, mode: r.key.mode } : null;
  return { seconds, key, bpm: r.tempo?.bpm ?? null, beats: r.tempo?.beat_count ?? 0, lufs: r.loudness?.integrated_lufs ?? null,
           duration: r.duration, classified: ['style', 'mood', 'instruments'].filter((k) => r[k] != null && !(r.unavailable && k in r.unavailable)),
           unavailable: { ...(r.unavailable || {}) } };
}

// Everything a user of essentia.js pays for the same answers: WAV bytes -> mono float32, JS array ->
// wasm vector, the algorithms, and reading the beat ticks back. Resampling to 44.1 kHz for
// RhythmExtractor2013 counts in its time. Vectors are deleted (wasm heap), outside the timed spans.
function runEssentia(es, bytes, opts) {
  const t = {}, out = {};
  let t0 = now();
  const { samples, rate } = readWavMono(bytes);
  t.decode = now() - t0;

  t0 = now();
  const v = es.arrayToVector(samples);
  t.to_vector = now() - t0;

  t0 = now();
  const up = resample(samples, rate, RHYTHM_RATE);
  t.resample = now() - t0;
  t0 = now();
  const v44 = rate === RHYTHM_RATE ? v : es.arrayToVector(up);
  t.to_vector_44k = now() - t0;

  out.keys = {};
  t.key = {};
  for (const profile of opts.keyProfiles) {
    t0 = now();
    // KeyExtractor(audio, averageDetuningCorrection, frameSize, hopSize, hpcpSize, maxFrequency,
    //   maximumSpectralPeaks, minFrequency, pcpThreshold, profileType, sampleRate, ...): defaults but
    //   profileType and sampleRate (the file's, or 44.1 kHz with --key-44k).
    const k = opts.key44k ? es.KeyExtractor(v44, true, 4096, 4096, 12, 3500, 60, 25, 0.2, profile, RHYTHM_RATE)
                          : es.KeyExtractor(v, true, 4096, 4096, 12, 3500, 60, 25, 0.2, profile, rate);
    t.key[profile] = now() - t0;
    out.keys[profile] = k?.key ? { tonic: k.key, mode: k.scale, strength: k.strength } : null;
  }

  t0 = now();
  const loud = es.LoudnessEBUR128(v, v, 0.1, rate, false); // mono as two equal channels: +3.01 LU, taken off below
  t.loudness = now() - t0;
  out.lufs = loud.integratedLoudness > -70 ? loud.integratedLoudness - 10 * Math.log10(2) : null;
  loud.momentaryLoudness?.delete?.(); loud.shortTermLoudness?.delete?.();

  out.rhythm = {};
  t.rhythm = {};
  for (const method of opts.degara ? ['multifeature', 'degara'] : ['multifeature']) {
    t0 = now();
    const r = es.RhythmExtractor2013(v44, 208, method, 40);
    const ticks = es.vectorToArray(r.ticks);
    t.rhythm[method] = now() - t0;
    out.rhythm[method] = { bpm: r.bpm, beats: ticks.length, confidence: r.confidence };
    r.ticks?.delete?.(); r.estimates?.delete?.(); r.bpmIntervals?.delete?.();
  }
  if (v44 !== v) v44.delete();
  v.delete();
  return { t, out, seconds: samples.length / rate, rate };
}

// ------------------------------------------------------------------------------------ scoring
async function scoring() {
  try { return await import(pathToFileURL(path.join(ROOT, 'tools/audio/eval_listen.mjs')).href); } catch (e) { die(`cannot import tools/audio/eval_listen.mjs: ${e.message}`); }
}

function summarize(rows, opts) {
  const audio = rows.reduce((s, r) => s + r.seconds, 0);
  const xrt = (ms) => audio / (ms / 1000);
  const sum = (f) => rows.reduce((s, r) => s + f(r), 0);
  const ts = { xrt: xrt(sum((r) => r.ts.ms)), median_ms: median(rows.map((r) => r.ts.ms)),
               key_mirex: mean(rows.map((r) => r.ts.key_score)), key_exact: mean(rows.map((r) => +(r.ts.key_score === 1))),
               tempo_acc1: mean(rows.map((r) => +r.ts.acc1)), tempo_acc2: mean(rows.map((r) => +r.ts.acc2)) };
  const p0 = opts.keyProfiles[0];
  // With --key-44k only LoudnessEBUR128 reads the file-rate vector, so its copy counts there.
  const v22 = (r) => r.es.t.to_vector;
  const base = (r) => r.es.t.decode + (opts.key44k ? 0 : v22(r)) + r.es.t.key[p0] + r.es.t.resample + r.es.t.to_vector_44k;
  const es = {
    key_tempo_ms: sum((r) => base(r) + r.es.t.rhythm.multifeature),
    all_ms: sum((r) => base(r) + r.es.t.rhythm.multifeature + r.es.t.loudness + (opts.key44k ? v22(r) : 0)),
    parts_ms: { decode: sum((r) => r.es.t.decode), to_vector: sum((r) => r.es.t.to_vector + r.es.t.to_vector_44k), resample: sum((r) => r.es.t.resample),
                loudness: sum((r) => r.es.t.loudness),
                ...Object.fromEntries(opts.keyProfiles.map((p) => [`key_${p}`, sum((r) => r.es.t.key[p])])),
                ...Object.fromEntries(Object.keys(rows[0].es.t.rhythm).map((m) => [`rhythm_${m}`, sum((r) => r.es.t.rhythm[m])])) },
    key: Object.fromEntries(opts.keyProfiles.map((p) => [p, { key_mirex: mean(rows.map((r) => r.es.key_score[p])), key_exact: mean(rows.map((r) => +(r.es.key_score[p] === 1))),
                                                              agree_with_tunesmith: mean(rows.map((r) => +r.agree.key[p])) }])),
    tempo: Object.fromEntries(Object.keys(rows[0].es.t.rhythm).map((m) => [m, { tempo_acc1: mean(rows.map((r) => +r.es.acc1[m])), tempo_acc2: mean(rows.map((r) => +r.es.acc2[m])),
                                                                             agree_with_tunesmith: mean(rows.map((r) => +r.agree.tempo[m])) }])),
  };
  es.core_ms = sum((r) => r.es.t.key[p0] + r.es.t.rhythm.multifeature); // the two algorithm calls alone: no decoding, resampling or copying
  es.xrt_key_tempo = xrt(es.key_tempo_ms);
  es.xrt_core = xrt(es.core_ms);
  es.xrt_all = xrt(es.all_ms);
  const lufsDiff = rows.filter((r) => r.ts.lufs != null && r.es.lufs != null).map((r) => Math.abs(r.ts.lufs - r.es.lufs));
  return { clips: rows.length, audio_seconds: audio, tunesmith: ts, essentia: es,
           speedup_vs_key_tempo: ts.xrt / es.xrt_key_tempo, speedup_vs_key_tempo_loudness: ts.xrt / es.xrt_all,
           speedup_vs_core: ts.xrt / es.xrt_core,
           loudness_abs_diff_lu: { mean: mean(lufsDiff), median: median(lufsDiff), max: Math.max(...lufsDiff), n: lufsDiff.length } };
}

function markdown(s, byStyle, opts, meta) {
  const f = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const p0 = opts.keyProfiles[0];
  const L = [];
  L.push(`${s.clips} ${opts.split} clips, ${f(s.audio_seconds, 0)} s of audio; tunesmith ${meta.tunesmith_build}; essentia.js ${meta.essentia_version}.`);
  L.push('');
  L.push('| engine | what is timed | x real time | speed ratio (tunesmith / this) | key MIREX | key exact | tempo Acc1 | tempo Acc2 | agrees with tunesmith: key / tempo (4%) |');
  L.push('|---|---|---|---|---|---|---|---|---|');
  L.push(`| tunesmith | analyzeAudio: key + tempo + beats + loudness + segments${meta.classification ? ' + classification' : ''} | ${f(s.tunesmith.xrt, 1)} | 1 | ${f(s.tunesmith.key_mirex)} | ${f(s.tunesmith.key_exact)} | ${f(s.tunesmith.tempo_acc1)} | ${f(s.tunesmith.tempo_acc2)} | - |`);
  const ek = s.essentia.key[p0], em = s.essentia.tempo.multifeature;
  L.push(`| essentia.js | KeyExtractor (${p0}) + RhythmExtractor2013 (multifeature) | ${f(s.essentia.xrt_key_tempo, 1)} | **${f(s.speedup_vs_key_tempo, 2)}** | ${f(ek.key_mirex)} | ${f(ek.key_exact)} | ${f(em.tempo_acc1)} | ${f(em.tempo_acc2)} | ${f(ek.agree_with_tunesmith)} / ${f(em.agree_with_tunesmith)} |`);
  L.push(`| essentia.js | the two algorithm calls alone (no WAV decoding, resampling or copies: essentia's best case) | ${f(s.essentia.xrt_core, 1)} | ${f(s.speedup_vs_core, 2)} | | | | | |`);
  L.push(`| essentia.js | KeyExtractor + RhythmExtractor2013 + LoudnessEBUR128 | ${f(s.essentia.xrt_all, 1)} | ${f(s.speedup_vs_key_tempo_loudness, 2)} | | | | | |`);
  for (const p of opts.keyProfiles.slice(1)) {
    const k = s.essentia.key[p];
    L.push(`| essentia.js | KeyExtractor (${p}) alone | ${f(s.audio_seconds / (s.essentia.parts_ms[`key_${p}`] / 1000), 1)} | | ${f(k.key_mirex)} | ${f(k.key_exact)} | | | ${f(k.agree_with_tunesmith)} / |`);
  }
  if (s.essentia.tempo.degara) {
    const d = s.essentia.tempo.degara;
    L.push(`| essentia.js | RhythmExtractor2013 (degara) alone, with the 44.1 kHz resampling | ${f(s.audio_seconds / ((s.essentia.parts_ms.rhythm_degara + s.essentia.parts_ms.resample) / 1000), 1)} | | | | ${f(d.tempo_acc1)} | ${f(d.tempo_acc2)} | / ${f(d.agree_with_tunesmith)} |`);
  }
  L.push('');
  L.push(`essentia.js time by part (s, all clips): ${Object.entries(s.essentia.parts_ms).map(([k, v]) => `${k} ${f(v / 1000, 2)}`).join(', ')}; tunesmith median ${f(s.tunesmith.median_ms, 0)} ms a clip.`);
  L.push(`Integrated loudness, |tunesmith - essentia| (LU): mean ${f(s.loudness_abs_diff_lu.mean, 2)}, median ${f(s.loudness_abs_diff_lu.median, 2)}, max ${f(s.loudness_abs_diff_lu.max, 2)} over ${s.loudness_abs_diff_lu.n} clips.`);
  L.push('');
  L.push(`| style | clips | tunesmith key MIREX | essentia key MIREX (${p0}) | tunesmith tempo Acc1 / Acc2 | essentia tempo Acc1 / Acc2 (multifeature) |`);
  L.push('|---|---|---|---|---|---|');
  for (const [style, v] of Object.entries(byStyle)) {
    L.push(`| ${style} | ${v.clips} | ${f(v.tunesmith.key_mirex)} | ${f(v.essentia.key[p0].key_mirex)} | ${f(v.tunesmith.tempo_acc1)} / ${f(v.tunesmith.tempo_acc2)} | ${f(v.essentia.tempo.multifeature.tempo_acc1)} / ${f(v.essentia.tempo.multifeature.tempo_acc2)} |`);
  }
  return L.join('\n');
}

// ------------------------------------------------------------------------------------ main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const manifestPath = path.join(opts.data, 'manifest.jsonl');
  if (!fs.existsSync(manifestPath)) die(`no ${manifestPath}: render the clips first (docs/audio-data.md: node tools/audio/render_dataset.mjs --split ${opts.split} ...)`);
  const manifest = fs.readFileSync(manifestPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
    .filter((r) => r.split === opts.split && fs.existsSync(path.join(opts.data, r.file))).slice(0, opts.limit);
  if (!manifest.length) die(`no ${opts.split} clips with their WAV file in ${opts.data} (docs/audio-data.md)`);
  for (const f of ['tunesmith-mt.mjs', 'tunesmith-st.mjs']) if (!fs.existsSync(path.join(ROOT, 'dist/wasm', f))) die(`no dist/wasm/${f}: build the wasm first (bash tools/build-wasm.sh)`);
  const es = loadEssentia();
  const { mirex, acc1, acc2 } = await scoring();
  const { createEngine } = await import(pathToFileURL(path.join(ROOT, 'web/src/index.mjs')).href);
  const engine = await createEngine({ threads: opts.threads, ...(opts.variant ? { variant: opts.variant } : {}) });
  const info = engine.info;
  const meta = {
    date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, load_before: os.loadavg(),
    tunesmith_build: `${info.variant} build (${info.variant === 'mt' ? 'SIMD + pthreads' : 'SIMD, one thread'}), ${info.threads} compute thread${info.threads === 1 ? '' : 's'}, version ${info.version}`,
    tunesmith_info: info, essentia_version: `0.1.3 (Essentia ${es.version})`, key_profiles: opts.keyProfiles,
    rhythm_rate: RHYTHM_RATE, classification: false,
  };
  console.log(`bench_essentia: ${manifest.length} ${opts.split} clips from ${opts.data}`);
  console.log(`  tunesmith: ${meta.tunesmith_build}; essentia.js ${meta.essentia_version} (single-threaded wasm)`);
  console.log(`  essentia: KeyExtractor profile${opts.keyProfiles.length > 1 ? 's' : ''} ${opts.keyProfiles.join(', ')} at ${opts.key44k ? RHYTHM_RATE + ' Hz (resampled)' : "the file's rate"}; RhythmExtractor2013 ${opts.degara ? 'multifeature and degara' : 'multifeature'} on the audio resampled to ${RHYTHM_RATE} Hz; LoudnessEBUR128`);
  console.log(`  machine: ${meta.cpus} cores (${meta.cpu_model}), load ${meta.load_before.map((x) => x.toFixed(2)).join(' ')}, node ${meta.node}`);
  if (meta.load_before[0] > meta.cpus * 0.75) console.log(`  note: the load average (${meta.load_before[0].toFixed(2)}) says other work is running: times are noisy, ratios less so (both sides run interleaved)`);

  // Warm-up on the first clip (both sides, untimed): wasm compilation, JIT, first allocations.
  const first = fs.readFileSync(path.join(opts.data, manifest[0].file));
  const warm = await runTunesmith(engine, first, manifest[0].id, opts).catch((e) => {
    if (!opts.classify && /classify/.test(e?.message || '')) die(`this tunesmith build does not take {classify: false} (${e.message}); it has no classifier to turn off: run without --no-classify, or rebuild the wasm`);
    throw e;
  });
  runEssentia(es, first, opts);
  meta.classification = warm.classified.length > 0;
  meta.classified_fields = warm.classified;
  meta.unavailable = warm.unavailable;
  console.log(`  tunesmith response: key, tempo, beats, loudness, segments${warm.classified.length ? `, ${warm.classified.join(', ')}` : ''}${Object.keys(warm.unavailable).length ? `; unavailable: ${Object.entries(warm.unavailable).map(([k, v]) => `${k} (${String(v).slice(0, 80)})`).join(', ')}` : ''}`);

  const rows = [];
  const t0 = Date.now();
  for (let i = 0; i < manifest.length; i++) {
    const rec = manifest[i];
    const bytes = fs.readFileSync(path.join(opts.data, rec.file));
    let ts, e;
    // Alternate which engine goes first, so that neither always runs after the other's garbage.
    if (i % 2 === 0) { ts = await runTunesmith(engine, bytes, rec.id, opts); e = runEssentia(es, bytes, opts); }
    else { e = runEssentia(es, bytes, opts); ts = await runTunesmith(engine, bytes, rec.id, opts); }
    const row = {
      id: rec.id, style: rec.style, seconds: e.seconds, key: `${rec.key.tonic} ${rec.key.mode}`, tempo: rec.tempo,
      ts: { ms: ts.seconds * 1000, key: ts.key ? `${ts.key.tonic} ${ts.key.mode}` : null, key_score: mirex(ts.key, rec.key), bpm: ts.bpm,
            acc1: ts.bpm ? acc1(ts.bpm, rec.tempo) : false, acc2: ts.bpm ? acc2(ts.bpm, rec.tempo) : false, lufs: ts.lufs, beats: ts.beats },
      es: { t: e.t, key: {}, key_score: {}, bpm: {}, acc1: {}, acc2: {}, lufs: e.out.lufs },
      agree: { key: {}, tempo: {} },
    };
    for (const p of opts.keyProfiles) {
      const k = e.out.keys[p];
      row.es.key[p] = k ? `${k.tonic} ${k.mode}` : null;
      row.es.key_score[p] = mirex(k, rec.key);
      row.agree.key[p] = sameKey(k, ts.key);
    }
    for (const [m, r] of Object.entries(e.out.rhythm)) {
      row.es.bpm[m] = r.bpm;
      row.es.acc1[m] = r.bpm ? acc1(r.bpm, rec.tempo) : false;
      row.es.acc2[m] = r.bpm ? acc2(r.bpm, rec.tempo) : false;
      row.agree.tempo[m] = sameTempo(r.bpm, ts.bpm);
    }
    rows.push(row);
    if ((i + 1) % 10 === 0 || i + 1 === manifest.length) {
      const s = summarize(rows, opts);
      process.stderr.write(`  ${i + 1}/${manifest.length} clips, ${((Date.now() - t0) / 1000).toFixed(0)} s: tunesmith ${s.tunesmith.xrt.toFixed(1)}x real time, essentia key+tempo ${s.essentia.xrt_key_tempo.toFixed(1)}x, ratio ${s.speedup_vs_key_tempo.toFixed(2)}\n`);
    }
  }
  await engine.close();
  meta.load_after = os.loadavg();
  meta.wall_seconds = (Date.now() - t0) / 1000;

  const summary = summarize(rows, opts);
  const byStyleRows = {};
  for (const r of rows) (byStyleRows[r.style] ||= []).push(r);
  const byStyle = Object.fromEntries(Object.entries(byStyleRows).sort(([p], [q]) => p.localeCompare(q)).map(([k, v]) => [k, summarize(v, opts)]));

  const f = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const p0 = opts.keyProfiles[0];
  const s = summary;
  console.log('');
  console.log(`${s.clips} clips, ${f(s.audio_seconds, 0)} s of audio, ${f(meta.wall_seconds, 0)} s wall`);
  console.log(`  speed (x real time)   tunesmith ${f(s.tunesmith.xrt, 1)}   essentia key+tempo ${f(s.essentia.xrt_key_tempo, 1)}   essentia key+tempo+loudness ${f(s.essentia.xrt_all, 1)}`);
  console.log(`  speed ratio           tunesmith / essentia key+tempo ${f(s.speedup_vs_key_tempo, 2)}x (target >= ${TARGET_SPEEDUP}x: ${s.speedup_vs_key_tempo >= TARGET_SPEEDUP ? 'met' : 'NOT met'});  / key+tempo+loudness ${f(s.speedup_vs_key_tempo_loudness, 2)}x;  / the two algorithm calls alone ${f(s.speedup_vs_core, 2)}x`);
  console.log(`  key MIREX             tunesmith ${f(s.tunesmith.key_mirex)}   essentia (${p0}) ${f(s.essentia.key[p0].key_mirex)}${opts.keyProfiles.slice(1).map((p) => `   essentia (${p}) ${f(s.essentia.key[p].key_mirex)}`).join('')}`);
  console.log(`  tempo Acc1 / Acc2     tunesmith ${f(s.tunesmith.tempo_acc1)} / ${f(s.tunesmith.tempo_acc2)}   essentia multifeature ${f(s.essentia.tempo.multifeature.tempo_acc1)} / ${f(s.essentia.tempo.multifeature.tempo_acc2)}${s.essentia.tempo.degara ? `   essentia degara ${f(s.essentia.tempo.degara.tempo_acc1)} / ${f(s.essentia.tempo.degara.tempo_acc2)}` : ''}`);
  console.log(`  agreement             same key ${f(s.essentia.key[p0].agree_with_tunesmith)}   tempo within 4% ${f(s.essentia.tempo.multifeature.agree_with_tunesmith)} (multifeature)`);
  console.log(`  loudness              |tunesmith - essentia| integrated LUFS: mean ${f(s.loudness_abs_diff_lu.mean, 2)} LU, max ${f(s.loudness_abs_diff_lu.max, 2)} LU`);
  const acc = s.tunesmith.key_mirex >= s.essentia.key[p0].key_mirex && s.tunesmith.tempo_acc1 >= s.essentia.tempo.multifeature.tempo_acc1 && s.tunesmith.tempo_acc2 >= s.essentia.tempo.multifeature.tempo_acc2;
  console.log(`  accuracy target       tunesmith at least as accurate (key MIREX, tempo Acc1 and Acc2): ${acc ? 'met' : 'NOT met'}`);
  if (opts.md) { console.log(''); console.log(markdown(s, byStyle, opts, meta)); }
  if (opts.json) {
    fs.mkdirSync(path.dirname(opts.json), { recursive: true });
    fs.writeFileSync(opts.json, JSON.stringify({ meta, options: { ...opts, limit: Number.isFinite(opts.limit) ? opts.limit : null }, summary, by_style: byStyle, rows }, null, 1));
    console.log(`wrote ${opts.json}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e) => { console.error(e?.stack || e); process.exit(1); });
}

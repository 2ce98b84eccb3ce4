#!/usr/bin/env node
// Sanity checks of rendered clips against their labels (not the listening feature itself: a quick,
// plain-JS look that the labels are plausible):
//  - the WAV: duration = the label's seconds, not silent, level;
//  - key from the MIDI (duration-weighted pitch classes, Krumhansl-Kessler) and from the audio
//    (STFT chroma, same profiles), MIREX-scored against the label;
//  - tempo from the audio (spectral-flux onset envelope, autocorrelation), Accuracy1 (4%) and
//    Accuracy2 (octave errors allowed), and the beat phase: the onset envelope at the labelled
//    beat times vs half a beat later (a ratio > 1 means the beats sit on the onsets).
//
//   node tools/audio/check_audio.mjs [--out build/audio] [--split test] [--limit N] [--verbose]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav, midiContents, estimateKey, mirexKeyScore, PC_SHARP } from './dataset_lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function fft(re, im) { // in place, radix 2
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang); const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1; let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k; const b = a + len / 2;
        const xr = re[b] * cr - im[b] * ci; const xi = re[b] * ci + im[b] * cr;
        re[b] = re[a] - xr; im[b] = im[a] - xi; re[a] += xr; im[a] += xi;
        const t = cr * wr - ci * wi; ci = cr * wi + ci * wr; cr = t;
      }
    }
  }
}

/** Chroma (12) summed over the clip, and the onset envelope (spectral flux of log magnitudes). */
export function analyse(x, rate, { n = 2048, hop = 512 } = {}) {
  const win = Float32Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  const bins = n / 2;
  const pcOf = new Int8Array(bins).fill(-1);
  for (let k = 1; k < bins; k++) {
    const f = (k * rate) / n;
    if (f < 55 || f > 2000) continue;
    pcOf[k] = ((Math.round(12 * Math.log2(f / 440)) % 12) + 12 + 9) % 12; // A=9
  }
  const chroma = new Array(12).fill(0);
  const onset = [];
  let prev = null;
  for (let s = 0; s + n <= x.length; s += hop) {
    const re = new Float64Array(n); const im = new Float64Array(n);
    for (let i = 0; i < n; i++) re[i] = x[s + i] * win[i];
    fft(re, im);
    const mag = new Float64Array(bins);
    for (let k = 0; k < bins; k++) mag[k] = Math.hypot(re[k], im[k]);
    for (let k = 0; k < bins; k++) if (pcOf[k] >= 0) chroma[pcOf[k]] += mag[k];
    const lm = mag.map((m) => Math.log1p(100 * m));
    let flux = 0;
    if (prev) for (let k = 0; k < bins; k++) flux += Math.max(0, lm[k] - prev[k]);
    onset.push(flux);
    prev = lm;
  }
  return { chroma, onset, fps: rate / hop };
}

/** Tempo from the onset envelope: autocorrelation weighted by a log-Gaussian around 120 BPM. */
export function estimateTempo(onset, fps, { lo = 50, hi = 250 } = {}) {
  const m = onset.reduce((a, b) => a + b, 0) / onset.length;
  const o = onset.map((v) => v - m);
  let best = null;
  for (let bpm = lo; bpm <= hi; bpm += 0.5) {
    const lag = (60 * fps) / bpm;
    const l0 = Math.floor(lag); const frac = lag - l0;
    let acf = 0;
    for (let i = 0; i + l0 + 1 < o.length; i++) acf += o[i] * ((1 - frac) * o[i + l0] + frac * o[i + l0 + 1]);
    const w = Math.exp(-0.5 * (Math.log2(bpm / 120) / 1.0) ** 2);
    const score = acf * w;
    if (!best || score > best.score) best = { bpm, score };
  }
  return best.bpm;
}

function beatPhaseRatio(onset, fps, beats, tempo) {
  const at = (t) => { const i = Math.round(t * fps); return i >= 0 && i < onset.length ? Math.max(onset[i], onset[i + 1] ?? 0, onset[i - 1] ?? 0) : 0; };
  let on = 0; let off = 0;
  for (const t of beats) { on += at(t); off += at(t + 30 / tempo); }
  return off > 0 ? on / off : Infinity;
}

function main() {
  const args = process.argv.slice(2);
  const get = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
  const out = path.resolve(get('--out', path.join(ROOT, 'build', 'audio')));
  const split = get('--split', null);
  const limit = Number(get('--limit', 1e9));
  const verbose = args.includes('--verbose');
  const recs = fs.readFileSync(path.join(out, 'manifest.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((r) => !split || r.split === split).slice(0, limit);
  const tot = { n: 0, durOk: 0, silent: 0, midiKey: 0, audioKey: 0, acc1: 0, acc2: 0, phase: 0 };
  const byStyle = {};
  for (const r of recs) {
    const wavPath = path.join(out, r.file);
    const wav = readWav(fs.readFileSync(wavPath));
    const x = wav.channels[0];
    const seconds = x.length / wav.rate;
    let ss = 0; for (const v of x) ss += v * v;
    const rms = 10 * Math.log10(ss / x.length + 1e-20);
    const midi = midiContents(fs.readFileSync(wavPath.replace(/\.wav$/, '.mid')), { maxTick: Infinity });
    const mk = estimateKey(midi.pitchClassHist);
    const { chroma, onset, fps } = analyse(x, wav.rate);
    const ak = estimateKey(chroma);
    const tempo = estimateTempo(onset, fps);
    const ratio = tempo / r.tempo;
    const a1 = Math.abs(ratio - 1) <= 0.04;
    const a2 = [1, 2, 0.5, 3, 1 / 3].some((f) => Math.abs(ratio / f - 1) <= 0.04);
    const phase = beatPhaseRatio(onset, fps, r.beats, r.tempo);
    const ms = mirexKeyScore(mk, r.key); const as = mirexKeyScore(ak, r.key);
    tot.n++; tot.durOk += Math.abs(seconds - r.seconds) < 0.01; tot.silent += rms < -50;
    tot.midiKey += ms; tot.audioKey += as; tot.acc1 += a1; tot.acc2 += a2; tot.phase += phase > 1;
    const st = (byStyle[r.style] ||= { n: 0, acc1: 0, acc2: 0, key: 0 });
    st.n++; st.acc1 += a1; st.acc2 += a2; st.key += as;
    if (verbose || !a2 || as < 0.5) {
      console.log(`${r.id} ${r.style.padEnd(16)} ${r.groove.padEnd(34)} ${seconds.toFixed(2)}s rms ${rms.toFixed(1)} dB | key ${r.key.tonic} ${r.key.mode}: midi ${PC_SHARP[mk.pc]} ${mk.mode} (${ms}), audio ${PC_SHARP[ak.pc]} ${ak.mode} (${as})`
        + ` | tempo ${r.tempo}: est ${tempo} (${a1 ? 'acc1' : a2 ? 'acc2' : 'miss'}) | beat phase ${phase.toFixed(2)}`);
    }
  }
  const pct = (v) => `${((100 * v) / Math.max(1, tot.n)).toFixed(0)}%`;
  console.log(`${tot.n} clips${split ? ` (${split})` : ''}: duration matches label ${pct(tot.durOk)}, silent ${tot.silent};`
    + ` key MIREX score from MIDI ${(tot.midiKey / tot.n).toFixed(3)}, from audio chroma ${(tot.audioKey / tot.n).toFixed(3)};`
    + ` tempo from audio Acc1 ${pct(tot.acc1)}, Acc2 ${pct(tot.acc2)}; beats on onsets (phase ratio > 1) ${pct(tot.phase)}`);
  for (const [s, v] of Object.entries(byStyle).sort()) console.log(`  ${s.padEnd(17)} n ${v.n}  tempo acc1 ${v.acc1}/${v.n} acc2 ${v.acc2}/${v.n}  audio key ${(v.key / v.n).toFixed(2)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

#!/usr/bin/env node
// Scores analyze_audio's key and tempo against the labels of rendered clips (docs/audio-data.md):
// MIREX weighted key score (1 same key, 0.5 fifth, 0.3 relative, 0.2 parallel), tempo Accuracy1
// (within 4%) and Accuracy2 (also at 1/3, 1/2, 2x, 3x), per style and overall, plus loudness sanity.
//
// usage: node tools/audio/eval_listen.mjs [--data build/audio] [--split test] [--limit N] [--json out.json]
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (k, d) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const data = path.resolve(arg('--data', path.join(repo, 'build/audio')));
const split = arg('--split', 'test');
const limit = +arg('--limit', 1e9);
const cli = path.join(repo, 'build/native/tunesmith');

const PC = { C: 0, 'C#': 1, Db: 1, D: 2, 'D#': 3, Eb: 3, E: 4, F: 5, 'F#': 6, Gb: 6, G: 7, 'G#': 8, Ab: 8, A: 9, 'A#': 10, Bb: 10, B: 11 };
/** MIREX key score of an estimate against the reference. */
export function mirex(est, ref) {
  if (!est) return 0;
  const e = PC[est.tonic], r = PC[ref.tonic], em = est.mode === 'minor', rm = ref.mode === 'minor';
  if (e === r && em === rm) return 1;
  if (em === rm && ((e - r + 12) % 12 === 7 || (e - r + 12) % 12 === 5)) return 0.5;
  if (em !== rm && ((!rm && e === (r + 9) % 12) || (rm && e === (r + 3) % 12))) return 0.3;
  if (em !== rm && e === r) return 0.2;
  return 0;
}
export const acc1 = (bpm, ref) => Math.abs(bpm - ref) <= 0.04 * ref;
export const acc2 = (bpm, ref) => [1, 2, 3, 0.5, 1 / 3].some((f) => Math.abs(bpm - ref * f) <= 0.04 * ref * f);

if (import.meta.url === `file://${process.argv[1]}`) {
  const manifest = fs.readFileSync(path.join(data, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.split === split).slice(0, limit);
  if (!manifest.length) { console.error(`no ${split} clips in ${data}/manifest.jsonl (render them: node tools/audio/render_dataset.mjs)`); process.exit(1); }
  const rows = [];
  const t0 = Date.now();
  let audioSeconds = 0;
  for (const rec of manifest) {
    const out = JSON.parse(execFileSync(cli, ['analyze', path.join(data, rec.file), '--json'], { maxBuffer: 1 << 28 }).toString());
    audioSeconds += out.duration;
    const est = out.key?.name ? { tonic: out.key.tonic, mode: out.key.mode } : null;
    rows.push({ id: rec.id, style: rec.style, key: `${rec.key.tonic} ${rec.key.mode}`, est: out.key?.name ?? null, key_score: mirex(est, rec.key),
                tempo: rec.tempo, bpm: out.tempo?.bpm ?? null, acc1: out.tempo?.bpm ? acc1(out.tempo.bpm, rec.tempo) : false,
                acc2: out.tempo?.bpm ? acc2(out.tempo.bpm, rec.tempo) : false, lufs: out.loudness?.integrated_lufs });
  }
  const wall = (Date.now() - t0) / 1000;
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const summary = (rs) => ({ clips: rs.length, key_mirex: +mean(rs.map((r) => r.key_score)).toFixed(3), key_exact: +mean(rs.map((r) => +(r.key_score === 1))).toFixed(3),
                             tempo_acc1: +mean(rs.map((r) => +r.acc1)).toFixed(3), tempo_acc2: +mean(rs.map((r) => +r.acc2)).toFixed(3) });
  const byStyle = {};
  for (const r of rows) (byStyle[r.style] ||= []).push(r);
  const result = { split, data, overall: summary(rows), by_style: Object.fromEntries(Object.entries(byStyle).map(([k, v]) => [k, summary(v)])),
                   times_real_time_native_cli: +(audioSeconds / wall).toFixed(1), rows };
  console.log(`analyze_audio on ${rows.length} ${split} clips (${audioSeconds.toFixed(0)} s of audio, ${result.times_real_time_native_cli}x real time with the CLI's process start)`);
  console.log('| style | clips | key MIREX | key exact | tempo Acc1 | tempo Acc2 |\n|---|---|---|---|---|---|');
  for (const [k, v] of [...Object.entries(result.by_style), ['**all**', result.overall]]) console.log(`| ${k} | ${v.clips} | ${v.key_mirex} | ${v.key_exact} | ${v.tempo_acc1} | ${v.tempo_acc2} |`);
  const json = arg('--json', null);
  if (json) fs.writeFileSync(json, JSON.stringify(result, null, 1));
}

#!/usr/bin/env node
// Scores analyze_audio's key and tempo against the labels of rendered clips (docs/audio-data.md):
// MIREX weighted key score (1 same key, 0.5 fifth, 0.3 relative, 0.2 parallel), tempo Accuracy1
// (within 4%) and Accuracy2 (also at 1/3, 1/2, 2x, 3x), per style and overall; the classifier's
// style (and the sound-only / rhythm-only parts), lead instrument family and family presence, with
// confusion matrices. --md prints markdown tables for the model card.
//
// usage: node tools/audio/eval_listen.mjs [--data build/audio] [--split test] [--limit N] [--json out.json]
//        [--write-manifest models/listen.json]  (a whole test run's figures into the manifest's metrics)
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (k, d) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const data = path.resolve(arg('--data', path.join(repo, 'build/audio')));
const split = arg('--split', 'test');
const limit = +arg('--limit', 1e9);
// confidence bins for the lead family's reliability (the top probability: [from, to), the last closed)
const LEAD_BINS = [[0, 0.5], [0.5, 0.8], [0.8, 1]];
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
                acc2: out.tempo?.bpm ? acc2(out.tempo.bpm, rec.tempo) : false, lufs: out.loudness?.integrated_lufs,
                style_est: out.style?.label ?? null, lead: rec.featured_family || 'none', lead_est: out.instruments?.lead?.label ?? null,
                lead_p: out.instruments?.lead?.confidence ?? null, lead_runner_up: out.instruments?.lead?.probabilities?.[1]?.label ?? null,
                families: rec.families, families_est: (out.instruments?.families || []).filter((f) => f.present).map((f) => f.label),
                families_p: Object.fromEntries((out.instruments?.families || []).map((f) => [f.label, f.p])),
                octave_switched: out.tempo?.evidence?.octave?.switched ?? null, onset_bpm: out.tempo?.evidence?.octave?.onset_bpm ?? null,
                classifier_bpm: out.tempo?.evidence?.octave?.classifier_bpm ?? null, half_bpm: out.tempo?.evidence?.half?.bpm ?? null, double_bpm: out.tempo?.evidence?.double?.bpm ?? null,
                base_score: out.tempo?.evidence?.candidates?.[0]?.score ?? null, half_score: out.tempo?.evidence?.half?.score ?? null, double_score: out.tempo?.evidence?.double?.score ?? null,
                mood: out.mood?.label ?? null, base_salience: out.tempo?.evidence?.candidates?.[0]?.salience ?? null,
                related: out.tempo?.evidence?.related ?? null, style_p: out.style?.probabilities ?? null });
  }
  const wall = (Date.now() - t0) / 1000;
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const summary = (rs) => ({ clips: rs.length, key_mirex: +mean(rs.map((r) => r.key_score)).toFixed(3), key_exact: +mean(rs.map((r) => +(r.key_score === 1))).toFixed(3),
                             tempo_acc1: +mean(rs.map((r) => +r.acc1)).toFixed(3), tempo_acc2: +mean(rs.map((r) => +r.acc2)).toFixed(3),
                             tempo_acc1_onset_only: +mean(rs.map((r) => +(r.onset_bpm ? acc1(r.onset_bpm, r.tempo) : r.acc1))).toFixed(3),
                             style: +mean(rs.map((r) => +(r.style_est === r.style))).toFixed(3),
                             lead: +mean(rs.map((r) => +(r.lead_est === r.lead))).toFixed(3) });
  // family presence: per family precision/recall over the clips (the labels list every family playing)
  const famNames = [...new Set(rows.flatMap((r) => Object.keys(r.families_p)))].sort();
  const famStats = famNames.map((f) => {
    let tp = 0, fp = 0, fn = 0, tn = 0;
    for (const r of rows) {
      const truth = r.families.includes(f), est = r.families_est.includes(f);
      if (truth && est) tp++; else if (est) fp++; else if (truth) fn++; else tn++;
    }
    const prec = tp + fp ? tp / (tp + fp) : null, rec = tp + fn ? tp / (tp + fn) : null;
    return { family: f, clips_with: tp + fn, precision: prec === null ? null : +prec.toFixed(3), recall: rec === null ? null : +rec.toFixed(3),
             accuracy: +((tp + tn) / rows.length).toFixed(3), f1: prec && rec ? +((2 * prec * rec) / (prec + rec)).toFixed(3) : 0 };
  });
  const confusion = (truthKey, estKey) => {
    const labels = [...new Set(rows.map((r) => r[truthKey]))].sort();
    const m = labels.map(() => labels.map(() => 0));
    for (const r of rows) { const i = labels.indexOf(r[truthKey]), j = labels.indexOf(r[estKey]); if (i >= 0 && j >= 0) m[i][j]++; }
    return { labels, rows_true_cols_predicted: m };
  };
  // how far the lead answer can be trusted: right within its two likeliest families, and right by
  // how sure it was (LEAD_BINS), so a reader (and the engine's evidence) can weigh one answer
  const leadRows = rows.filter((r) => r.lead_est !== null);
  const leadReliability = {
    top2: +mean(leadRows.map((r) => +(r.lead_est === r.lead || r.lead_runner_up === r.lead))).toFixed(3),
    by_confidence: LEAD_BINS.map(([from, to]) => {
      const rs = leadRows.filter((r) => r.lead_p >= from && (r.lead_p < to || to === 1));
      return { from, to, clips: rs.length, accuracy: rs.length ? +mean(rs.map((r) => +(r.lead_est === r.lead))).toFixed(3) : null };
    }),
  };
  const byStyle = {};
  for (const r of rows) (byStyle[r.style] ||= []).push(r);
  const result = { split, data, overall: summary(rows), by_style: Object.fromEntries(Object.entries(byStyle).map(([k, v]) => [k, summary(v)])),
                   families: famStats, families_exact_set: +mean(rows.map((r) => +([...r.families].sort().join() === [...r.families_est].sort().join()))).toFixed(3),
                   style_confusion: confusion('style', 'style_est'), lead_confusion: confusion('lead', 'lead_est'), lead_reliability: leadReliability,
                   times_real_time_native_cli: +(audioSeconds / wall).toFixed(1), rows };
  console.log(`analyze_audio on ${rows.length} ${split} clips (${audioSeconds.toFixed(0)} s of audio, ${result.times_real_time_native_cli}x real time with the CLI's process start)`);
  console.log('| style | clips | key MIREX | key exact | tempo Acc1 | tempo Acc2 | Acc1 before the octave choice | style | lead family |\n|---|---|---|---|---|---|---|---|---|');
  for (const [k, v] of [...Object.entries(result.by_style), ['**all**', result.overall]]) {
    console.log(`| ${k} | ${v.clips} | ${v.key_mirex} | ${v.key_exact} | ${v.tempo_acc1} | ${v.tempo_acc2} | ${v.tempo_acc1_onset_only} | ${v.style} | ${v.lead} |`);
  }
  const printConfusion = (title, c) => {
    console.log(`\n${title} (rows: true, columns: predicted)\n\n| | ${c.labels.join(' | ')} |\n|---|${c.labels.map(() => '---').join('|')}|`);
    c.rows_true_cols_predicted.forEach((row, i) => console.log(`| **${c.labels[i]}** | ${row.join(' | ')} |`));
  };
  printConfusion('Style confusion', result.style_confusion);
  printConfusion('Lead instrument family confusion', result.lead_confusion);
  console.log(`\nLead family within its two likeliest: ${leadReliability.top2}. By how sure the answer was:\n\n| lead confidence | clips | accuracy |\n|---|---|---|`);
  for (const b of leadReliability.by_confidence) console.log(`| ${b.from}-${b.to} | ${b.clips} | ${b.accuracy ?? '-'} |`);
  console.log(`\nFamilies heard (exact set ${result.families_exact_set}):\n\n| family | clips with it | precision | recall | F1 | accuracy |\n|---|---|---|---|---|---|`);
  for (const f of famStats) console.log(`| ${f.family} | ${f.clips_with} | ${f.precision ?? '-'} | ${f.recall ?? '-'} | ${f.f1} | ${f.accuracy} |`);
  const json = arg('--json', null);
  if (json) fs.writeFileSync(json, JSON.stringify(result, null, 1));
  // --write-manifest models/listen.json: the test split's figures become the manifest's
  // metrics.eval_listen_test, which the engine quotes as each answer's held-out evidence
  const man = arg('--write-manifest', null);
  if (man) {
    if (split !== 'test' || rows.length !== manifest.length || limit < 1e9) throw new Error('--write-manifest takes a whole --split test run');
    const m = JSON.parse(fs.readFileSync(man, 'utf8'));
    m.metrics ||= {};
    m.metrics.eval_listen_test = { command: 'node tools/audio/eval_listen.mjs --split test', overall: result.overall,
                                   families_exact_set: result.families_exact_set, families: famStats, style_confusion: result.style_confusion,
                                   lead_confusion: result.lead_confusion, lead_reliability: leadReliability, by_style: result.by_style };
    fs.writeFileSync(man, JSON.stringify(m, null, 1) + '\n');
    console.log(`wrote metrics.eval_listen_test into ${man}`);
  }
}

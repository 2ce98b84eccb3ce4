#!/usr/bin/env node
// Fits the key profiles of dsp::estimate_key (KeyProfile::kFitted, engine/src/dsp_key.cpp) to the
// rendered, labelled clips of docs/audio-data.md, and scores the engine's key estimates.
//
// 1. Builds tools/audio/key_dump.cpp against build/native/libtunesmith_core.a (run the native build
//    first) and runs it over the clips: per clip the engine's whole-file key chroma, its ending
//    chroma (dsp::ending_key_chroma) and the key the engine reports now (JSON lines, cached in
//    build/audio/keyfit/SPLIT.jsonl; --redump to refresh after changing the engine).
// 2. Fits on the train split only: per mode, the mean of the tonic-rotated, sum-normalised key
//    chroma (the whole-file profiles) and the same for the ending chroma (the ending profiles).
// 3. Chooses the ending weight w of score = (r + w r_ending) / (1 + w) by cross-validation inside
//    train (leave one soundfont out, leave one style out; profiles refitted on each fold).
// 4. Prints the C++ constants; --write puts them between the FITTED PROFILES markers of
//    engine/src/dsp_key.cpp (rebuild, then --redump to score the new engine).
// 5. Scores the keys the engine reported (MIREX: 1 same, 0.5 fifth, 0.3 relative, 0.2 parallel)
//    on --eval SPLIT (default train), with the old whole-file Krumhansl-Kessler estimate alongside.
//    The test split is only ever scored, never fitted on.
//
// usage: node tools/audio/fit_key_profiles.mjs [--data build/audio] [--write] [--redump] [--eval train|test]
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (k, d) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const flag = (k) => process.argv.includes(k);
const data = path.resolve(arg('--data', path.join(repo, 'build/audio')));
const evalSplit = arg('--eval', 'train');
const work = path.join(data, 'keyfit');
fs.mkdirSync(work, { recursive: true });

// ---------------------------------------------------------------------------------- the dumps
const dumpBin = path.join(work, 'key_dump');
const src = path.join(repo, 'tools/audio/key_dump.cpp');
const lib = path.join(repo, 'build/native/libtunesmith_core.a');
if (!fs.existsSync(lib)) { console.error(`no ${lib}: run the native build first`); process.exit(1); }
const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);
if (mtime(dumpBin) < Math.max(mtime(src), mtime(lib))) {
  execFileSync('g++', ['-std=c++17', '-O2', '-ffp-contract=off', '-I', path.join(repo, 'engine/include'), src, lib, '-lpthread', '-o', dumpBin], { stdio: 'inherit' });
}
const manifest = fs.readFileSync(path.join(data, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
function dump(split) {
  const out = path.join(work, `${split}.jsonl`);
  const recs = manifest.filter((r) => r.split === split);
  if (!recs.length) { console.error(`no ${split} clips in ${data}/manifest.jsonl`); process.exit(1); }
  if (flag('--redump') || mtime(out) < mtime(dumpBin)) {
    const lines = [];
    for (let i = 0; i < recs.length; i += 100) {
      const files = recs.slice(i, i + 100).map((r) => path.join(data, r.file));
      lines.push(execFileSync(dumpBin, files, { maxBuffer: 1 << 28 }).toString().trim());
    }
    fs.writeFileSync(out, lines.join('\n') + '\n');
  }
  const byFile = new Map(fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((d) => [path.basename(d.file), d]));
  return recs.map((r) => {
    const d = byFile.get(path.basename(r.file));
    if (!d) throw new Error(`${r.file} missing from ${out} (try --redump)`);
    return { ...d, id: r.id, style: r.style, soundfont: r.soundfont, label: r.key.pc + (r.key.mode === 'minor' ? 12 : 0) };
  });
}

// ------------------------------------------------------------------------------- the estimator
const norm = (v) => { const x = v.map((a) => (a > 0 ? a : 0)); const s = x.reduce((a, b) => a + b, 0); return s > 0 ? x.map((a) => a / s) : null; };
function pearson(x, y) {
  const mx = x.reduce((a, b) => a + b, 0) / 12, my = y.reduce((a, b) => a + b, 0) / 12;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < 12; ++i) { const a = x[i] - mx, b = y[i] - my; sxy += a * b; sxx += a * a; syy += b * b; }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}
const rotate = (p, k) => Array.from({ length: 12 }, (_, c) => p[(c - k + 12) % 12]);
const keyR = (x, prof, k) => pearson(x, rotate(k < 12 ? prof.major : prof.minor, k % 12));
function estimate(d, prof, endProf, w) {
  const x = norm(d.key_chroma), e = norm(d.ending_chroma);
  if (!x) return -1;
  let best = -1, bestS = -Infinity;
  for (let k = 0; k < 24; ++k) {
    let s = keyR(x, prof, k);
    if (e && w > 0) s = (s + w * keyR(e, endProf, k)) / (1 + w);
    if (s > bestS) { bestS = s; best = k; }
  }
  return best;
}
function fit(clips, field) {
  const acc = [Array(12).fill(0), Array(12).fill(0)], n = [0, 0];
  for (const d of clips) {
    const x = norm(d[field]);
    if (!x) continue;
    const m = d.label >= 12 ? 1 : 0, t = d.label % 12;
    for (let i = 0; i < 12; ++i) acc[m][i] += x[(i + t) % 12];
    ++n[m];
  }
  // mean over the clips, scaled to mean 1 per pitch class (Pearson r ignores the scale)
  const f = (m) => acc[m].map((v) => +((12 * v) / n[m]).toFixed(4));
  return { major: f(0), minor: f(1) };
}

// ------------------------------------------------------------------------------------- scoring
function mirex(e, r) {
  if (e < 0) return 0;
  const et = e % 12, rt = r % 12, em = e >= 12, rm = r >= 12;
  if (e === r) return 1;
  if (em === rm && ((et - rt + 12) % 12 === 7 || (et - rt + 12) % 12 === 5)) return 0.5;
  if (em !== rm && ((!rm && et === (rt + 9) % 12) || (rm && et === (rt + 3) % 12))) return 0.3;
  if (em !== rm && et === rt) return 0.2;
  return 0;
}
const NAMES = { 1: 'correct', 0.5: 'fifth', 0.3: 'relative', 0.2: 'parallel', 0: 'other' };
function score(clips, preds) {
  const s = clips.map((d, i) => mirex(preds[i], d.label));
  const counts = { correct: 0, fifth: 0, relative: 0, parallel: 0, other: 0 };
  for (const v of s) counts[NAMES[v]]++;
  return { clips: clips.length, mirex: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), ...counts };
}
const fmt = (r) => `${r.mirex.toFixed(3)} | ${r.correct} | ${r.fifth} | ${r.relative} | ${r.parallel} | ${r.other}`;

// ------------------------------------------------------------------------------------- fitting
const train = dump('train');
const folds = (key) => [...new Set(train.map((d) => d[key]))].sort().map((v) => [train.filter((d) => d[key] !== v), train.filter((d) => d[key] === v)]);
const cv = (w, key) => {
  const preds = [], clips = [];
  for (const [a, b] of folds(key)) {
    const p = fit(a, 'key_chroma'), pe = fit(a, 'ending_chroma');
    for (const d of b) { preds.push(estimate(d, p, pe, w)); clips.push(d); }
  }
  return score(clips, preds);
};
console.log(`cross-validation inside train (${train.length} clips): ending weight w`);
console.log('| w | leave-one-soundfont-out MIREX | leave-one-style-out MIREX |\n|---|---|---|');
let bestW = 0, bestCv = -1;
for (let i = 0; i <= 10; ++i) {
  const w = i / 20, a = cv(w, 'soundfont').mirex, b = cv(w, 'style').mirex;
  console.log(`| ${w.toFixed(2)} | ${a.toFixed(4)} | ${b.toFixed(4)} |`);
  if ((a + b) / 2 > bestCv + 1e-9) { bestCv = (a + b) / 2; bestW = w; }
}
const prof = fit(train, 'key_chroma'), endProf = fit(train, 'ending_chroma');
const arr = (v) => `{${v.map((x) => x.toFixed(4)).join(', ')}}`;
const block = [
  '// BEGIN FITTED PROFILES (written by tools/audio/fit_key_profiles.mjs --write; do not edit by hand)',
  `// Per mode, the mean tonic-rotated key chroma (kFit*) and ending chroma (kFitEnd*) of the ${train.length}`,
  `// train clips (${[...new Set(train.map((d) => d.soundfont))].sort().join(', ')}), scaled to mean 1; the ending weight chosen by`,
  `// cross-validation inside train (mean leave-one-soundfont/style-out MIREX ${bestCv.toFixed(4)}).`,
  `const double kFitMajor[12] = ${arr(prof.major)};`,
  `const double kFitMinor[12] = ${arr(prof.minor)};`,
  `const double kFitEndMajor[12] = ${arr(endProf.major)};`,
  `const double kFitEndMinor[12] = ${arr(endProf.minor)};`,
  `const double kEndingWeight = ${bestW.toFixed(2)};`,
  '// END FITTED PROFILES',
].join('\n');
console.log('\n' + block + '\n');
if (flag('--write')) {
  const file = path.join(repo, 'engine/src/dsp_key.cpp');
  const text = fs.readFileSync(file, 'utf8');
  const a = text.indexOf('// BEGIN FITTED PROFILES'), b = text.indexOf('// END FITTED PROFILES');
  if (a < 0 || b < 0) { console.error('markers not found in ' + file); process.exit(1); }
  const updated = text.slice(0, a) + block + text.slice(b + '// END FITTED PROFILES'.length);
  if (updated !== text) { fs.writeFileSync(file, updated); console.log(`wrote ${file}: rebuild, then run again with --redump to score the engine`); }
  else console.log(`${file} already holds these constants`);
}

// --------------------------------------------------------------------- the engine's estimates
const clips = evalSplit === 'train' ? train : dump(evalSplit);
console.log(`\nthe engine's keys on the ${evalSplit} split (as of the last dump)`);
console.log('| style | clips | estimator | MIREX | correct | fifth | relative | parallel | other |\n|---|---|---|---|---|---|---|---|---|');
for (const st of [...[...new Set(clips.map((d) => d.style))].sort(), null]) {
  const sub = st ? clips.filter((d) => d.style === st) : clips;
  const label = st ?? '**all**';
  console.log(`| ${label} | ${sub.length} | whole-file KK (old) | ${fmt(score(sub, sub.map((d) => d.key_kk.index)))} |`);
  console.log(`| ${label} | ${sub.length} | estimate_key(Analyzer) | ${fmt(score(sub, sub.map((d) => d.key.index)))} |`);
}

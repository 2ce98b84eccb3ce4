// The rendered audio dataset (tools/audio/): style classes and grooves, seeded chord charts and
// melodies, the train/test hold-out rules, beat labels, the MIDI and WAV helpers and the label
// record. None of this needs mma or fluidsynth; the last test renders a few clips end to end and is
// skipped (also under CI, which does not install them) when those programs or the soundfonts are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './helpers.mjs';
import {
  STYLES, STYLE_NAMES, FEATURED, FEATURED_FAMILIES, SOUNDFONTS, SCALES, rng, fnv1a, planClip, mmaText, beatTimes,
  chartSignature, chartSplit, keySplit, tempoSplit, chordPcs, chordSymbol, makeChart, trackChunk, addMelodyTrack,
  midiContents, parseMidi, gmFamily, readWav, writeWavMono16, downmixTrim, levelStats, estimateKey, mirexKeyScore,
  labelRecord, planHash,
} from '../../tools/audio/dataset_lib.mjs';

const REQUIRED = ['rock', 'pop_ballad', 'swing_jazz', 'bossa_latin', 'waltz', 'country', 'blues', 'march', 'electronic_dance', 'folk'];
const plans = (split, n, seed = 1) => Array.from({ length: n }, (_, index) => planClip({ seed, split, index }));

test('seeded randomness is deterministic and spread', () => {
  const a = rng(42); const b = rng(42); const c = rng(43);
  const xa = Array.from({ length: 5 }, a);
  assert.deepEqual(xa, Array.from({ length: 5 }, b));
  assert.notDeepEqual(xa, Array.from({ length: 5 }, c));
  const r = rng(7); let sum = 0;
  for (let i = 0; i < 10000; i++) { const x = r(); assert.ok(x >= 0 && x < 1); sum += x; }
  assert.ok(Math.abs(sum / 10000 - 0.5) < 0.02);
  assert.equal(fnv1a('abc'), fnv1a('abc'));
  assert.notEqual(fnv1a('1/train/4'), fnv1a('1/train/14'));
});

test('every required style class has several real-looking mma grooves with tempo ranges', () => {
  for (const s of REQUIRED) assert.ok(STYLE_NAMES.includes(s), s);
  const libDir = '/usr/share/mma/lib';
  const haveLib = fs.existsSync(libDir);
  for (const [style, grooves] of Object.entries(STYLES)) {
    assert.ok(grooves.length >= 5, `${style} has ${grooves.length} grooves`);
    for (const g of grooves) {
      const m = /^([a-z]+)\/([\w+-]+):([\w&+-]+)$/.exec(g.groove);
      assert.ok(m, g.groove);
      assert.ok(g.tempo[0] >= 50 && g.tempo[1] <= 250 && g.tempo[1] - g.tempo[0] >= 10, `${g.groove} tempo ${g.tempo}`);
      if (haveLib) {
        const src = fs.readFileSync(path.join(libDir, m[1], `${m[2]}.mma`), 'utf8');
        assert.match(src, new RegExp(`^\\s*DefGroove\\s+${m[3].replace(/[+&]/g, '\\$&')}\\s`, 'mi'), g.groove);
      }
    }
  }
  for (const f of FEATURED_FAMILIES) for (const [prog, lo, hi] of FEATURED[f]) {
    assert.equal(gmFamily(prog), f, `program ${prog} is in family ${f}`);
    assert.ok(hi - lo >= 20, `${prog} range`);
  }
});

test('clip plans are deterministic, balanced over styles and within 10-30 s', () => {
  assert.deepEqual(planClip({ seed: 3, split: 'train', index: 17 }), planClip({ seed: 3, split: 'train', index: 17 }));
  assert.notDeepEqual(planClip({ seed: 3, split: 'train', index: 17 }).chords, planClip({ seed: 4, split: 'train', index: 17 }).chords);
  const ps = plans('train', 400);
  const perStyle = {};
  for (const p of ps) {
    perStyle[p.style] = (perStyle[p.style] || 0) + 1;
    assert.ok(STYLES[p.style].some((g) => g.groove === p.groove));
    assert.equal(p.chart.length, p.bars);
    assert.ok(p.bars >= 4 && p.bars <= 16, `${p.id} bars ${p.bars}`);
    assert.ok(p.musicSeconds >= 10 && p.musicSeconds <= 29.5, `${p.id} ${p.musicSeconds}`);
    const g = STYLES[p.style].find((x) => x.groove === p.groove);
    assert.ok(p.tempo >= g.tempo[0] - 1 && p.tempo <= g.tempo[1] + 1, `${p.id} tempo ${p.tempo}`);
    assert.equal(p.mmaTempo, p.tempo * (g.mmaPerBeat || 1));
    if (p.melody) assert.ok(p.melody.notes.length > 4 && FEATURED_FAMILIES.includes(p.melody.family));
  }
  for (const s of STYLE_NAMES) assert.equal(perStyle[s], 40, s);
  assert.ok(ps.filter((p) => p.bars >= 8).length > 0.8 * ps.length);
  assert.ok(ps.filter((p) => p.melody).length > 0.8 * ps.length);
  assert.ok(new Set(ps.map((p) => p.melody?.family)).size >= FEATURED_FAMILIES.length);
});

test('charts are diatonic, start and end on the tonic, and blues charts use the blues form', () => {
  for (const p of [...plans('train', 300), ...plans('test', 150)]) {
    const scale = SCALES[p.key.mode].map((x) => (x + p.key.pc) % 12);
    const allowed = new Set(scale);
    if (p.key.mode === 'minor') allowed.add((p.key.pc + 11) % 12); // harmonic-minor V
    const flat = p.chart.flat();
    if (p.style === 'blues') {
      assert.equal(flat[0], p.key.mode === 'major' ? 'I7' : 'i7');
      assert.ok([8, 12, 16].includes(p.bars), `${p.id} blues bars ${p.bars}`);
      continue;
    }
    assert.equal(flat[0], p.key.mode === 'major' ? 'I' : 'i', p.id);
    assert.equal(flat.at(-1), p.key.mode === 'major' ? 'I' : 'i', p.id);
    for (const bar of p.chords) for (const c of bar) {
      const pcs = c.suffix === '7' && c.rootPc === (p.key.pc + 7) % 12 ? chordPcs(c.rootPc, c.suffix).slice(0, 3) : chordPcs(c.rootPc, c.suffix);
      for (const x of pcs) assert.ok(allowed.has(x), `${p.id} ${c.symbol} not diatonic to ${p.key.tonic} ${p.key.mode}`);
    }
  }
  assert.equal(chordSymbol('V', 9, 'minor').symbol, 'E');
  assert.equal(chordSymbol('iv', 3, 'minor').symbol, 'Abm');
  assert.equal(chordSymbol('ii', 0, 'major', { seventh: true }).symbol, 'Dm7');
  assert.equal(chordSymbol('IV7', 7, 'major').symbol, 'C7');
  assert.equal(chordSymbol('I', 6, 'major').symbol, 'F#');
  assert.equal(chordSymbol('VI7', 0, 'major').symbol, 'A7'); // blues turnaround
  assert.equal(chordSymbol('VI7', 0, 'minor').symbol, 'Ab7');
});

test('hold-out rules: test keys (per style), tempi and charts never occur in train', () => {
  const tr = plans('train', 600); const te = plans('test', 300);
  for (const p of tr) { assert.equal(keySplit(p.style, p.key.pc, p.key.mode), 'train'); assert.equal(tempoSplit(p.tempo), 'train'); assert.equal(chartSplit(p.key.mode, p.chart), 'train'); }
  for (const p of te) { assert.equal(keySplit(p.style, p.key.pc, p.key.mode), 'test'); assert.equal(tempoSplit(p.tempo), 'test'); assert.equal(chartSplit(p.key.mode, p.chart), 'test'); }
  const inter = (f) => { const a = new Set(tr.map(f)); return te.map(f).filter((x) => a.has(x)); };
  assert.deepEqual(inter((p) => chartSignature(p.key.mode, p.chart)), []);
  assert.deepEqual(inter((p) => `${p.style}/${p.key.pc}/${p.key.mode}`), []);
  assert.deepEqual(inter((p) => p.tempo), []);
  assert.deepEqual(inter((p) => p.soundfont.name), []);
  // Every one of the 24 keys is still trained on (under other styles), and each style keeps 18 train keys.
  assert.equal(new Set(tr.map((p) => `${p.key.pc}${p.key.mode}`)).size, 24);
  for (const s of STYLE_NAMES) {
    let n = 0;
    for (const mode of ['major', 'minor']) for (let pc = 0; pc < 12; pc++) n += keySplit(s, pc, mode) === 'train';
    assert.equal(n, 18, s);
  }
  assert.deepEqual(SOUNDFONTS.test.map((s) => s.name), ['TimGM6mb']);
  // makeChart honours the split it is asked for.
  const r = rng(5);
  for (let i = 0; i < 50; i++) assert.equal(chartSplit('minor', makeChart(r, 'rock', 'minor', 8, 4, 'test')), 'test');
});

test('beats follow tempo and meter; marches written as doubled 4/4 are labelled in 2/4', () => {
  const ps = plans('train', 400);
  for (const p of ps.slice(0, 80)) {
    const { beats, downbeats } = beatTimes(p);
    const spb = 60 / p.tempo;
    assert.equal(beats[0], 0);
    for (let i = 1; i < beats.length; i++) assert.ok(Math.abs(beats[i] - beats[i - 1] - spb) < 0.002, p.id);
    assert.ok(beats.at(-1) < p.musicSeconds);
    assert.equal(beats.length, Math.min(Math.ceil(p.musicSeconds / spb - 1e-9), (p.bars * p.mmaBeatsPerBar) / p.mmaPerBeat));
    assert.equal(downbeats.length, Math.ceil(beats.length / p.timeSignature[0]));
  }
  const march2 = ps.find((p) => p.mmaPerBeat === 2);
  assert.ok(march2, 'a doubled march');
  assert.deepEqual(march2.timeSignature, [2, 4]);
  assert.equal(march2.mmaTempo, 2 * march2.tempo);
  const waltz = ps.find((p) => p.style === 'waltz');
  assert.deepEqual(waltz.timeSignature, [3, 4]);
  const text = mmaText(waltz);
  assert.match(text, new RegExp(`^Groove ${waltz.groove}$`, 'm'));
  assert.match(text, new RegExp(`^Tempo ${waltz.mmaTempo}$`, 'm'));
  assert.equal(text.split('\n').filter((l) => /^\d+ /.test(l)).length, waltz.bars);
});

/** A small MIDI file: a piano part on channel 1 (C major triads) and drums on channel 10. */
function fakeMmaMidi(bars = 4, tpq = 192) {
  const tempo = { tick: 0, order: 0, bytes: [0xff, 0x51, 3, 0x07, 0xa1, 0x20] };
  const piano = [{ tick: 0, order: 0, bytes: [0xc0, 0] }];
  const drums = [];
  for (let b = 0; b < bars * 4; b++) {
    for (const n of [60, 64, 67]) { piano.push({ tick: b * tpq, order: 2, bytes: [0x90, n, 90] }, { tick: b * tpq + tpq - 10, order: 1, bytes: [0x80, n, 0] }); }
    drums.push({ tick: b * tpq, order: 2, bytes: [0x99, 36, 100] }, { tick: b * tpq + 20, order: 1, bytes: [0x89, 36, 0] });
  }
  const head = Buffer.alloc(14);
  head.write('MThd', 0, 'latin1'); head.writeUInt32BE(6, 4); head.writeUInt16BE(1, 8); head.writeUInt16BE(3, 10); head.writeUInt16BE(tpq, 12);
  return Buffer.concat([head, trackChunk([tempo]), trackChunk(piano, 'Piano'), trackChunk(drums, 'Drums')]);
}

test('the melody track is added on a free channel and the instrument labels come from the MIDI', () => {
  const plan = plans('train', 50).find((p) => p.melody && p.mmaBeatsPerBar === 4 && p.melody.program !== 0);
  const mid = fakeMmaMidi();
  const before = midiContents(mid);
  assert.deepEqual(before.instruments.map((i) => i.family), ['piano', 'drums']);
  assert.equal(before.instruments[0].notes, 48);
  const { buffer, channel } = addMelodyTrack(mid, plan);
  assert.equal(channel, 1); // channel 0 (piano) and 9 (drums) are taken
  assert.equal(parseMidi(buffer).tracks.length, 4);
  const tpq = 192;
  const maxTick = Math.round((plan.musicSeconds * plan.mmaTempo) / 60 * tpq);
  const after = midiContents(buffer, { maxTick });
  const mel = after.instruments.find((i) => i.channel === 2);
  assert.equal(mel.program, plan.melody.program);
  assert.equal(mel.family, plan.melody.family);
  assert.equal(mel.notes, plan.melody.notes.filter(([s]) => Math.round(s * tpq) < maxTick).length);
  const rec = labelRecord(plan, { file: 'train/x.wav', seconds: plan.musicSeconds + 0.5, contents: after, level: levelStats(new Float32Array(10), 22050), rate: 22050 });
  assert.deepEqual(rec.families, [...new Set(['piano', 'drums', plan.melody.family])].sort());
  assert.equal(rec.featured_family, plan.melody.family);
  for (const k of ['file', 'split', 'style', 'groove', 'key', 'tempo', 'beats', 'time_signature', 'instruments', 'featured_family', 'soundfont', 'seconds', 'seed']) assert.ok(k in rec, k);
  assert.deepEqual(Object.keys(rec.key), ['tonic', 'mode', 'pc']);
  assert.equal(rec.plan_hash, planHash(plan));
  // Pitch classes: the fake piano plays only C E G.
  const pch = before.pitchClassHist;
  assert.ok(pch[0] > 0 && pch[4] > 0 && pch[7] > 0 && pch[1] === 0);
  // A plan without melody leaves the file as it is.
  const none = { ...plan, melody: null };
  assert.deepEqual(addMelodyTrack(mid, none).buffer, mid);
});

test('WAV helpers: write/read, downmix with trim and fade, levels', () => {
  const rate = 16000;
  const l = Float32Array.from({ length: rate }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));
  const r = Float32Array.from(l, (x) => x * 0.5);
  const mono = downmixTrim([l, r], rate, 0.75);
  assert.equal(mono.length, 12000);
  assert.ok(Math.abs(mono.at(-1)) < 1e-9); // faded out
  const back = readWav(writeWavMono16(mono, rate));
  assert.equal(back.rate, rate);
  assert.equal(back.channels.length, 1);
  assert.ok(Math.abs(back.channels[0][100] - mono[100]) < 1e-4);
  const lv = levelStats(back.channels[0], rate);
  assert.ok(Math.abs(lv.peak_dbfs - 20 * Math.log10(0.375)) < 0.1, String(lv.peak_dbfs));
  assert.ok(Math.abs(lv.rms_dbfs - 20 * Math.log10(0.375 / Math.SQRT2)) < 0.3, String(lv.rms_dbfs)); // the fade takes a little
  assert.equal(lv.clipped_fraction, 0);
  assert.equal(downmixTrim([l], rate, 2).length, 2 * rate); // padded with silence
});

test('key estimation helpers (sanity checks) and the MIREX score', () => {
  const prof = new Array(12).fill(0);
  for (const pc of SCALES.major) prof[(pc + 7) % 12] += 1;
  prof[7] += 3; prof[11] += 1; prof[2] += 2; // G major triad weight
  const k = estimateKey(prof);
  assert.deepEqual([k.pc, k.mode], [7, 'major']);
  assert.equal(mirexKeyScore({ pc: 7, mode: 'major' }, { pc: 7, mode: 'major' }), 1);
  assert.equal(mirexKeyScore({ pc: 2, mode: 'major' }, { pc: 7, mode: 'major' }), 0.5);
  assert.equal(mirexKeyScore({ pc: 4, mode: 'minor' }, { pc: 7, mode: 'major' }), 0.3);
  assert.equal(mirexKeyScore({ pc: 7, mode: 'minor' }, { pc: 7, mode: 'major' }), 0.2);
  assert.equal(mirexKeyScore({ pc: 8, mode: 'major' }, { pc: 7, mode: 'major' }), 0);
});

const onPath = (bin) => (process.env.PATH || '').split(':').some((d) => d && fs.existsSync(path.join(d, bin)));
const renderMissing = ['mma', 'fluidsynth'].filter((b) => !onPath(b))
  .concat(Object.values(SOUNDFONTS).flat().filter((s) => !fs.existsSync(s.path)).map((s) => s.path));

test('render a few clips end to end (needs mma, fluidsynth and the soundfonts)', { skip: renderMissing.length ? `missing ${renderMissing.join(', ')} (bash tools/setup-training.sh)` : false, timeout: 180000 }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-audio-'));
  try {
    const tool = path.join(ROOT, 'tools', 'audio', 'render_dataset.mjs');
    const run = (...args) => spawnSync(process.execPath, [tool, '--out', out, '--seed', '9', ...args], { encoding: 'utf8' });
    let res = run('--split', 'test', '--count', '2', '--jobs', '2', '--rate', '16000');
    assert.equal(res.status, 0, res.stdout + res.stderr);
    res = run('--split', 'train', '--count', '1', '--start', '5', '--rate', '16000');
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const recs = fs.readFileSync(path.join(out, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(recs.map((r) => r.id), ['train-s9-000005', 'test-s9-000000', 'test-s9-000001']);
    for (const r of recs) {
      const wav = readWav(fs.readFileSync(path.join(out, r.file)));
      assert.equal(wav.rate, 16000);
      assert.equal(wav.channels.length, 1);
      assert.ok(Math.abs(wav.channels[0].length / 16000 - r.seconds) < 0.01);
      assert.ok(r.seconds >= 10 && r.seconds <= 30);
      assert.ok(r.rms_dbfs > -45, `${r.id} rms ${r.rms_dbfs}`);
      assert.ok(r.families.includes('drums') || r.families.length >= 1);
      if (r.featured_family) assert.ok(r.families.includes(r.featured_family));
      assert.equal(r.soundfont, r.split === 'test' ? 'TimGM6mb' : r.soundfont);
    }
    // Resumable: a second run skips what is there.
    res = run('--split', 'test', '--count', '2', '--rate', '16000');
    assert.match(res.stdout, /rendered 0, skipped 2/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

// ABC parser (tools/melody/abc.mjs): hand-written tunes with exactly known notes, and (when
// ../shared/data/melody is present) real Nottingham / O'Neill / Ryan / Aird files.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseAbcFile, parseKey, parseMeter, parseTempo, typeFromText, typeFromFile } from '../../tools/melody/abc.mjs';
import { prepare, SOURCES } from '../../tools/melody/prepare_abc.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = path.resolve(repo, '../shared/data/melody');
const haveData = fs.existsSync(path.join(DATA, 'nottingham/jigs.abc'));

function one(abc, opts = { file: 't.abc', source: 'test' }) {
  const res = parseAbcFile(abc, opts);
  assert.equal(res.length, 1);
  assert.equal(res[0].error, null, `parse error: ${res[0].error}`);
  return res[0].record;
}

function assertNotes(actual, expected) {
  assert.equal(actual.length, expected.length, `note count: ${JSON.stringify(actual)}`);
  for (let i = 0; i < expected.length; i++) {
    const [p, s, d, b] = expected[i];
    const a = actual[i];
    const msg = `note ${i}: got ${JSON.stringify(a)}, want ${JSON.stringify(expected[i])}`;
    assert.equal(a[0], p, msg);
    assert.ok(Math.abs(a[1] - s) < 1e-9, msg);
    assert.ok(Math.abs(a[2] - d) < 1e-9, msg);
    assert.equal(a[3], b, msg);
  }
}

/** Bar start times must step by the bar length (except into the last bar). */
function barSteps(rec) {
  const barLen = (4 * rec.meter[0]) / rec.meter[1];
  const starts = new Map();
  for (const n of rec.notes) if (!starts.has(n[3])) starts.set(n[3], n[1]);
  const ks = [...starts.keys()];
  const bad = [];
  for (let i = 1; i < ks.length - 1; i++) {
    const d = starts.get(ks[i + 1]) - starts.get(ks[i]);
    if (Math.abs(d - barLen) > 1e-6) bad.push([ks[i], d]);
  }
  return { bars: ks.length, bad };
}

describe('ABC fields', () => {
  test('keys, modes, explicit accidentals, HP', () => {
    assert.deepEqual(parseKey('G').key, { tonic: 'G', mode: 'major', fifths: 1 });
    assert.deepEqual(parseKey('E Minor').key, { tonic: 'E', mode: 'minor', fifths: 1 });
    assert.deepEqual(parseKey('Dmix').key, { tonic: 'D', mode: 'mixolydian', fifths: 1 });
    assert.deepEqual(parseKey('Ador').key, { tonic: 'A', mode: 'dorian', fifths: 1 });
    assert.deepEqual(parseKey('F#m').key, { tonic: 'F#', mode: 'minor', fifths: 3 });
    assert.deepEqual(parseKey('Bb').key, { tonic: 'Bb', mode: 'major', fifths: -2 });
    assert.deepEqual(parseKey('G Lydian').key, { tonic: 'G', mode: 'lydian', fifths: 2 });
    assert.deepEqual(parseKey('Bphr').key, { tonic: 'B', mode: 'phrygian', fifths: 1 });
    assert.deepEqual(parseKey('Bloc').key, { tonic: 'B', mode: 'locrian', fifths: 0 });
    assert.deepEqual(parseKey('C ion').key, { tonic: 'C', mode: 'major', fifths: 0 });
    assert.deepEqual(parseKey('Aaeo').key, { tonic: 'A', mode: 'minor', fifths: 0 });
    assert.deepEqual(parseKey('G % comment').key, { tonic: 'G', mode: 'major', fifths: 1 });
    assert.equal(parseKey('Dmix=c').acc.C, 0);
    assert.equal(parseKey('D').acc.C, 1);
    assert.equal(parseKey('Hp').acc.F, 1);
    assert.equal(parseKey('Hp').acc.G, 0);
    assert.equal(parseKey('HP').acc.F, 0);
    assert.equal(parseKey('none').acc.F, 0);
    assert.equal(parseKey('Xyz'), null);
  });
  test('meters and tempi', () => {
    assert.deepEqual(parseMeter('C'), { meter: [4, 4], barLen: 4 });
    assert.deepEqual(parseMeter('C|'), { meter: [2, 2], barLen: 4 });
    assert.deepEqual(parseMeter(' 6/8'), { meter: [6, 8], barLen: 3 });
    assert.equal(parseMeter('none'), null);
    assert.equal(parseTempo('3/8=120', 1 / 8), 180);
    assert.equal(parseTempo('1/4=100', 1 / 8), 100);
    assert.equal(parseTempo('1/2=72', 1 / 8), 144);
    assert.equal(parseTempo('1/4=80 "Slow"', 1 / 8), 80);
    assert.equal(parseTempo('"Slow"', 1 / 8), null);
  });
  test('tune types', () => {
    assert.equal(typeFromText('double jig'), 'jig');
    assert.equal(typeFromText('slipjig'), 'slip_jig');
    assert.equal(typeFromText('Slip Jig'), 'slip_jig');
    assert.equal(typeFromText('THE LADIES DELIGHT -- REEL'), 'reel');
    assert.equal(typeFromText('clog'), 'hornpipe');
    assert.equal(typeFromText('Quick March 8th. Regt.'), 'march');
    assert.equal(typeFromText('strathspey'), null);
    assert.equal(typeFromFile('hpps.abc'), 'hornpipe');
    assert.equal(typeFromFile('reelsa-c.abc'), 'reel');
    assert.equal(typeFromFile('morris.abc'), null);
    assert.equal(typeFromFile('0001-0050.abc'), undefined);
  });
});

describe('ABC tunes with known notes', () => {
  test('key signature and accidentals carrying through the bar (per octave)', () => {
    const r = one('X:1\nT:Acc\nM:4/4\nL:1/4\nQ:1/4=90\nK:D\nF ^G G g | =F F c C, | F2 z2 |]\n');
    assert.equal(r.title, 'Acc');
    assert.deepEqual(r.key, { tonic: 'D', mode: 'major', fifths: 2 });
    assert.deepEqual(r.meter, [4, 4]);
    assert.equal(r.tempo, 90);
    assert.equal(r.pickup, undefined);
    assertNotes(r.notes, [
      [66, 0, 1, 0], [68, 1, 1, 0], [68, 2, 1, 0], [79, 3, 1, 0],
      [65, 4, 1, 1], [65, 5, 1, 1], [73, 6, 1, 1], [49, 7, 1, 1],
      [66, 8, 2, 2], [null, 10, 2, 2],
    ]);
  });

  test('broken rhythm, triplets, general tuplets, ties across bars', () => {
    const r = one('X:2\nT:Rhy\nM:2/4\nL:1/8\nK:C\nA>B c<d | (3efg a2- | a2 (3:2:2c2d | z4 |]\n');
    assertNotes(r.notes, [
      [69, 0, 0.75, 0], [71, 0.75, 0.25, 0], [72, 1, 0.25, 0], [74, 1.25, 0.75, 0],
      [76, 2, 1 / 3, 1], [77, 7 / 3, 1 / 3, 1], [79, 8 / 3, 1 / 3, 1], [81, 3, 2, 1],
      [72, 5, 2 / 3, 2], [74, 17 / 3, 1 / 3, 2], [null, 6, 2, 3],
    ]);
  });

  test('lengths: 2, /2, /, //, 3/2, and default L from a short meter', () => {
    const r = one('X:3\nT:Len\nM:4/4\nL:1/4\nK:C\nC2 D/2 E/ F// G3/2 A3/ B3/4 z |]\n');
    assertNotes(r.notes, [
      [60, 0, 2, 0], [62, 2, 0.5, 0], [64, 2.5, 0.5, 0], [65, 3, 0.25, 0], [67, 3.25, 1.5, 0],
      [69, 4.75, 1.5, 0], [71, 6.25, 0.75, 0], [null, 7, 1, 0],
    ]);
    const d = one('X:4\nT:Def\nM:2/4\nK:C\nC D E F G A B c|]\n');
    assert.equal(d.notes[1][1], 0.25); // L defaults to 1/16 when the meter is below 3/4
    const e = one('X:5\nT:Def\nM:6/8\nK:C\nC D E F G A|]\n');
    assert.equal(e.notes[1][1], 0.5);
  });

  test('repeats with first/second endings, pickup replayed, chord symbols', () => {
    const r = one('X:6\nT:Rep\nM:3/4\nL:1/4\nK:G\n"G"D | G A B | [1 "D7"c B :| [2 "G"G3 |]\n');
    assert.equal(r.pickup, true);
    assertNotes(r.notes, [
      [62, 0, 1, 0], [67, 1, 1, 1], [69, 2, 1, 1], [71, 3, 1, 1],
      [72, 4, 1, 2], [71, 5, 1, 2], [62, 6, 1, 2],
      [67, 7, 1, 3], [69, 8, 1, 3], [71, 9, 1, 3], [67, 10, 3, 4],
    ]);
    assert.deepEqual(r.chords, [[0, 'G'], [4, 'D7'], [6, 'G'], [10, 'G']]);
  });

  test('|: :: :| sections and |1 |2 endings', () => {
    const r = one('X:7\nT:Sec\nM:2/4\nL:1/4\nK:C\n|: C D :: E F |1 G A :|2 c2 |]\n');
    assert.deepEqual(r.notes.map((n) => n[0]), [60, 62, 60, 62, 64, 65, 67, 69, 64, 65, 72]);
    assert.deepEqual(r.notes.map((n) => n[3]), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
  });

  test('inline key and meter changes, chords take the top note, grace notes and decorations ignored', () => {
    const r = one('X:8\nT:Inl\nM:4/4\nL:1/4\nK:Ador\nF G [K:Bb] B E | [M:3/4] {ga}E ~[CEG] !trill![A,c] |]\n');
    assert.deepEqual(r.key, { tonic: 'A', mode: 'dorian', fifths: 1 });
    assert.deepEqual(r.meter, [4, 4]);
    assertNotes(r.notes, [
      [66, 0, 1, 0], [67, 1, 1, 0], [70, 2, 1, 0], [63, 3, 1, 0],
      [63, 4, 1, 1], [67, 5, 1, 1], [72, 6, 1, 1],
    ]);
  });

  test('body K: line, multi-bar rest, quoted annotations and fingerings are not chords', () => {
    const r = one('X:9\nT:Body\nM:4/4\nL:1/4\nK:C\n"C"C "^fine"D "4"E "Am/G"F "D.C." | Z2 |\nK:G\nF4 |]\n');
    assert.deepEqual(r.chords, [[0, 'C'], [3, 'Am/G']]);
    assertNotes(r.notes, [
      [60, 0, 1, 0], [62, 1, 1, 0], [64, 2, 1, 0], [65, 3, 1, 0], [null, 4, 8, 1], [66, 12, 4, 3],
    ]);
  });

  test('tune type from R:, title and file; errors are reported per tune', () => {
    const abc = 'X:1\nT:A Tune\nR:double jig\nM:6/8\nL:1/8\nK:G\nGAB c3|]\n\n' +
      'X:2\nT:Miss Smith -- Hornpipe\nM:C|\nL:1/8\nK:D\nDEFG ABcd|]\n\n' +
      'X:3\nT:Broken\nM:4/4\nL:1/8\nK:Qqq\nCDEF|]\n\n' +
      'X:4\nT:Plain\nM:9/8\nL:1/8\nK:Em\nE3 G3 B3|]\n';
    const res = parseAbcFile(abc, { file: 'jigs.abc', source: 'nottingham' });
    assert.equal(res.length, 4);
    assert.equal(res[0].record.type, 'jig');
    assert.equal(res[0].record.id, 'jigs.abc#1');
    assert.equal(res[1].record.type, 'jig'); // Nottingham: the file name decides, not the title
    assert.deepEqual(res[1].record.meter, [2, 2]);
    assert.match(res[2].error, /key/);
    assert.equal(res[3].record.type, 'slip_jig'); // jigs.abc in 9/8
    const o = parseAbcFile(abc, { file: '0001-0050.abc', source: 'oneills1850' });
    assert.equal(o[1].record.type, 'hornpipe'); // title word
    assert.equal(o[3].record.type, null);
  });
});

describe('real ABC files', { skip: !haveData && 'no ../shared/data/melody' }, () => {
  test('a Nottingham jig: 6/8, key from K:, every bar full', () => {
    const res = parseAbcFile(fs.readFileSync(path.join(DATA, 'nottingham/jigs.abc'), 'utf8'),
      { file: 'jigs.abc', source: 'nottingham' });
    const ab = res.find((r) => r.record?.title === 'Abacus').record;
    assert.equal(ab.type, 'jig');
    assert.deepEqual(ab.meter, [6, 8]);
    assert.deepEqual(ab.key, { tonic: 'G', mode: 'major', fifths: 1 });
    assert.equal(ab.pickup, undefined);
    assert.ok(ab.chords.length > 40);
    const { bars, bad } = barSteps(ab);
    assert.equal(bars, 64); // 8x2 + (7+1)x2 + (15+1)x2 as played
    assert.deepEqual(bad, []);
    const ad = res.find((r) => r.record?.title === 'A and D').record; // M:4/4 then M:6/8, K:A then K:D
    assert.deepEqual(ad.meter, [6, 8]);
    assert.equal(ad.key.tonic, 'A');
    assert.equal(ad.pickup, true);
    assert.deepEqual(barSteps(ad).bad, []);
    assert.equal(ad.notes[0][0], 78); // f = F#5
    // most Nottingham jigs have regular bars
    const ok = res.filter((r) => r.record && barSteps(r.record).bad.length === 0).length;
    assert.ok(ok / res.length > 0.85, `${ok}/${res.length} jigs with regular bars`);
  });

  test('> 95% of tunes parse in every source; prepare writes jsonl and stats', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'melody-abc-'));
    try {
      const { records, stats } = prepare({ dataDir: DATA, outDir: out, log: () => {} });
      for (const src of SOURCES) {
        const s = stats.sources[src];
        assert.ok(s && s.tunes > 100, `${src}: ${JSON.stringify(s)}`);
        assert.ok(s.parsed / s.tunes > 0.95, `${src}: ${s.parsed}/${s.tunes}`);
      }
      assert.ok(stats.total.parsed / stats.total.tunes > 0.95);
      const lines = fs.readFileSync(path.join(out, 'melody-abc.jsonl'), 'utf8').trim().split('\n');
      assert.equal(lines.length, records.length);
      const rec = JSON.parse(lines[0]);
      for (const k of ['source', 'file', 'id', 'title', 'type', 'key', 'meter', 'tempo', 'notes', 'chords']) assert.ok(k in rec, k);
      for (const r of records) {
        for (const n of r.notes) {
          assert.ok(n[0] === null || (n[0] >= 0 && n[0] < 128));
          assert.ok(Math.abs(n[1] * 12 - Math.round(n[1] * 12)) < 1e-6 && n[2] > 0);
        }
      }
      assert.ok(stats.types.reel > 500 && stats.types.jig > 500 && stats.types.hornpipe > 300);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

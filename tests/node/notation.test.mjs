// The C++ notation writers (engine/include/tunesmith/notation.h) read back by the independent
// readers in tools/melody/ (midi.mjs, abc.mjs, mxl.mjs). The files come from the gtest
// Notation.MidiReadsBack (build/test-out/notation.{mid,abc,musicxml}); skipped when absent.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseMidi, trackNotes } from '../../tools/melody/midi.mjs';
import { parseAbcFile } from '../../tools/melody/abc.mjs';
import { readMusicXml } from '../../tools/melody/mxl.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/test-out');
const file = (name) => path.join(OUT, name);
const skip = fs.existsSync(file('notation.mid')) ? false : 'build/test-out/notation.mid absent (run the gtest Notation.*)';

// The tune in tests/cpp/test_notation.cpp: [pitch, start, duration, syllable] in quarter notes.
const TUNE = [[62, 0, 1, 'Oh'], [67, 1, 1, 'hal-'], [69, 2, 3, 'le-'], [71, 5, 1 / 3, 'lu-'],
  [72, 5 + 1 / 3, 1 / 3, 'jah'], [74, 5 + 2 / 3, 1 / 3, ''], [67, 7, 3, 'home']];
const close = (a, b) => Math.abs(a - b) < 1e-9;

function sameNotes(notes) {  // notes: [pitch, start, duration, ...] with rests (null) dropped
  const got = notes.filter((n) => n[0] !== null);
  assert.equal(got.length, TUNE.length);
  got.forEach((n, i) => {
    assert.equal(n[0], TUNE[i][0], `pitch ${i}`);
    assert.ok(close(n[1], TUNE[i][1]), `start ${i}: ${n[1]}`);
    assert.ok(close(n[2], TUNE[i][2]), `duration ${i}: ${n[2]}`);
  });
}

describe('notation writers read back independently', { skip }, () => {
  test('MIDI: tempo, meter, key, notes and lyrics', () => {
    const mid = parseMidi(fs.readFileSync(file('notation.mid')));
    assert.equal(mid.format, 1);
    assert.equal(mid.ppq, 480);
    assert.equal(mid.tracks.length, 2);
    assert.deepEqual(mid.tracks.map((t) => t.name), ['Test', 'Melody']);
    assert.deepEqual(mid.tempos, [{ tick: 0, usPerQuarter: 600000, bpm: 100 }]);
    assert.deepEqual(mid.timeSignatures, [{ tick: 0, numerator: 3, denominator: 4 }]);
    assert.deepEqual(mid.keySignatures, [{ tick: 0, fifths: 1, minor: false }]);
    sameNotes(trackNotes(mid.tracks[1]).map((n) => [n.pitch, n.tick / 480, (n.endTick - n.tick) / 480]));
    const lyrics = mid.tracks[1].events.filter((e) => e.type === 'lyric').map((e) => [e.tick / 480, e.text]);
    const want = TUNE.filter((n) => n[3]).map((n) => [n[1], n[3]]);
    assert.equal(lyrics.length, want.length);
    lyrics.forEach((l, i) => { assert.ok(close(l[0], want[i][0])); assert.equal(l[1], want[i][1]); });
  });

  test('ABC: header, pickup, ties merged, triplet, rest, chords', { skip: !fs.existsSync(file('notation.abc')) }, () => {
    const [res] = parseAbcFile(fs.readFileSync(file('notation.abc'), 'utf8'));
    assert.equal(res.error, null);
    const r = res.record;
    assert.equal(r.title, 'Test');
    assert.deepEqual(r.key, { tonic: 'G', mode: 'major', fifths: 1 });
    assert.deepEqual(r.meter, [3, 4]);
    assert.equal(r.tempo, 100);
    assert.equal(r.pickup, true);
    sameNotes(r.notes);
    assert.deepEqual(r.notes.find((n) => n[0] === null).slice(0, 3), [null, 6, 1]);
    assert.deepEqual(r.chords, [[2, 'Em'], [4, 'D7'], [7, 'G']]);
    assert.deepEqual(r.notes.map((n) => n[3]), [0, 1, 1, 2, 2, 2, 2, 3]);  // bar numbers
  });

  test('MusicXML: notes, syllables, pickup', { skip: !fs.existsSync(file('notation.musicxml')) }, () => {
    const r = readMusicXml(fs.readFileSync(file('notation.musicxml'), 'utf8'));
    assert.equal(r.title, 'Test');
    assert.deepEqual(r.key, { tonic: 'G', mode: 'major', fifths: 1 });
    assert.deepEqual(r.meter, [3, 4]);
    assert.equal(r.tempo, 100);
    assert.equal(r.pickup, true);
    sameNotes(r.notes);
    const syl = r.notes.filter((n) => n[0] !== null).map((n) => n[4] ?? '');
    assert.deepEqual(syl, TUNE.map((n) => n[3]));
  });
});

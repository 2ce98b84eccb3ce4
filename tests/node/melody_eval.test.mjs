// The melody evaluation's metrics (tools/melody/metrics.mjs) on tiny hand-made melodies: what a good
// melody scores high on, a bad or random one low. No tools/node_modules, no build/data: the
// dictionaries are stubs here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as M from '../../tools/melody/metrics.mjs';

const G = { tonic: 'G', mode: 'major' };
const seq = (pitches, dur = 1, t0 = 0) => pitches.map((p, i) => ({ pitch: p, start: t0 + i * dur, duration: dur }));

test('keys, scales and degrees', () => {
  assert.equal(M.tonicPc('Bb'), 10);
  assert.equal(M.tonicPc('F#'), 6);
  assert.deepEqual([...M.scalePcs({ tonic: 'D', mode: 'dorian' })].sort((a, b) => a - b), [0, 2, 4, 5, 7, 9, 11]);
  assert.equal(M.scaleDegree(67, G), 1);
  assert.equal(M.scaleDegree(71, G), 3);
  assert.equal(M.scaleDegree(66, G), 7);
  assert.equal(M.scaleDegree(65, G), null); // F natural is outside G major
  assert.equal(M.scaleDegree(65, { tonic: 'G', mode: 'mixolydian' }), 7);
  assert.equal(M.scaleDegree(70, { tonic: 'G', mode: 'minor' }), 3);
});

test('in-key share and cadence', () => {
  const good = seq([67, 69, 71, 72, 74, 72, 71, 67]);
  assert.equal(M.inKey(good, G).share, 1);
  const bad = seq([67, 68, 71, 73]); // G# and C# are not in G major
  assert.equal(M.inKey(bad, G).share, 0.5);
  assert.deepEqual(M.cadence([67, 71, 74, 69], G), { ok: 3, of: 4, share: 0.75 }); // A (degree 2) is not a stable end
});

test('meters: beats, strong beats, bar positions', () => {
  const m44 = M.meterInfo('4/4'), m68 = M.meterInfo([6, 8]), m34 = M.meterInfo('3/4'), m38 = M.meterInfo('3/8');
  assert.deepEqual([m44.bar, m44.beat, m44.strong], [4, 1, [0, 2]]);
  assert.deepEqual([m68.bar, m68.beat, m68.compound, m68.strong], [3, 1.5, true, [0]]);
  assert.deepEqual([m34.bar, m34.beat, m34.strong], [3, 1, [0]]);
  assert.equal(m38.beat, 0.5);
  assert.equal(M.meterInfo('12/8').strong[1], 3);
  assert.ok(M.onBeat(5, m44) && !M.onBeat(5.5, m44));
  assert.ok(M.onBeat(4.5, m68) && !M.onBeat(4, m68)); // dotted-quarter beats in 6/8
  assert.ok(M.onStrongBeat(6, m44) && !M.onStrongBeat(5, m44));
  assert.ok(M.onStrongBeat(3, m68) && !M.onStrongBeat(4.5, m68));
  assert.ok(M.onBeat(1 / 3 * 3, m44)); // times on the 1/12 grid compare exactly
  assert.equal(M.barPosition(-1, m44, -1), 0); // a one-beat pickup: bar 0 starts at -1
});

test('rhythm rules: bar crossings, grids, register; repeated lines', () => {
  const notes = [{ pitch: 60, start: 0, duration: 1, syllable: 'a' }, { pitch: 62, start: 1.25, duration: 0.75, syllable: 'b' }, { pitch: 90, start: 3.5, duration: 1 },
                 { pitch: 64, start: 5, duration: 1 / 3 }];
  assert.deepEqual(M.rhythmRules(notes, '4/4', { lo: 53, hi: 81 }), { cross_bar: 1, off_sixteenth: 1, sung_off_eighth: 1, outside_register: 1 });
  assert.equal(M.meterInfo('2/2').beat, 2);
  const line = [{ pitch: 60, start: 0, duration: 1 }, { pitch: 62, start: 1, duration: 2 }];
  assert.ok(M.sameLine(line, line.map((n) => ({ ...n, start: n.start + 8 }))));
  assert.ok(!M.sameLine(line, [line[0], { ...line[1], pitch: 64 }]));
});

test('shape and timing', () => {
  const s = M.shape(seq([60, 64, 79, 62], 2), '4/4');
  assert.deepEqual([s.range, s.max_leap, s.bars, s.notes_per_bar, s.leaps_over_octave], [19, 17, 2, 2, 2]);
  const t = M.timing([{ pitch: 60, start: 0, duration: 1.5 }, { pitch: 62, start: 1, duration: 1 }, { pitch: 64, start: 2.05, duration: 1 }]);
  assert.deepEqual(t, { overlaps: 1, off_grid: 1, non_positive: 0 });
});

// A stub of the CMUdict entries the lyric tests need.
const DICT = { the: 'DH AH0', river: 'R IH1 V ER0', carries: 'K EH1 R IY0 Z', light: 'L AY1 T', tomorrow: 'T AH0 M AA1 R OW2', again: 'AH0 G EH1 N' };

test('lyric units: CJK characters, CMUdict syllables, spelling estimates', () => {
  const u = M.lineUnits('The river, carries light!', DICT);
  assert.deepEqual(u.map((x) => [x.text, x.syl, x.known]), [['The', 1, true], ['river', 2, true], ['carries', 2, true], ['light', 1, true]]);
  assert.deepEqual(u[1].stresses, [1, 0]);
  assert.deepEqual(M.lineUnits('月光 2024 洒在', DICT).map((x) => x.text), ['月', '光', '洒', '在']);
  const est = M.lineUnits('glimmering', DICT)[0];
  assert.equal(est.known, false);
  assert.equal(est.syl, 3);
  assert.equal(M.estimateSyllables('stone'), 1);
  assert.equal(M.estimateSyllables('candle'), 2);
});

const sung = (pairs, t0 = 0, dur = 1) => pairs.map(([syllable, pitch], i) => ({ pitch, start: t0 + i * dur, duration: dur, syllable }));

test('alignment: one note per syllable, texts in order', () => {
  const units = M.lineUnits('The river carries light', DICT);
  const good = sung([['The', 67], ['ri-', 69], ['ver', 71], ['car-', 72], ['ries', 71], ['light', 67]]);
  const a = M.alignLine(units, good);
  assert.deepEqual([a.syllables, a.aligned, a.text_ok, a.extra_notes], [6, 6, true, 0]);
  // "river" sung on one note (a syllable missing): that word is not aligned, the others are.
  const merged = sung([['The', 67], ['river', 69], ['car-', 72], ['ries', 71], ['light', 67]]);
  const b = M.alignLine(units, merged);
  assert.deepEqual([b.aligned, b.text_ok], [4, true]);
  // A melisma continuation note: the syllable has two notes.
  const mel = [...good, { pitch: 69, start: 6, duration: 1, melisma: true }];
  assert.deepEqual([M.alignLine(units, mel).aligned, M.alignLine(units, mel).extra_notes], [5, 1]);
  // Wrong text.
  const wrong = sung([['The', 67], ['ri-', 69], ['ver', 71], ['car-', 72], ['ries', 71], ['night', 67]]);
  assert.equal(M.alignLine(units, wrong).text_ok, false);
  assert.equal(M.alignLine(units, wrong).aligned, 0);
  // Chinese: one character per note.
  const zh = M.lineUnits('月光洒', DICT);
  assert.equal(M.alignLine(zh, sung([['月', 60], ['光', 62], ['洒', 64]])).aligned, 3);
  assert.equal(M.alignLine(zh, sung([['月', 60], ['光洒', 62]])).aligned, 1);
  // Lines split by syllable counts.
  const lines = M.splitByLines([...sung([['a', 60], ['b', 62]]), { pitch: 64, start: 2, duration: 1, melisma: true }, ...sung([['c', 65]], 3)], [2, 1]);
  assert.deepEqual(lines.map((l) => l.length), [3, 1]);
});

test('English stress: primary-stressed syllables on beats', () => {
  const units = M.lineUnits('The river carries light', DICT);
  // 4/4, eighth notes: "The" on 0, "ri-" on 0.5 (off the beat) ... stressed syllables off beats.
  const off = M.alignLine(units, sung([['The', 67], ['ri-', 69], ['ver', 71], ['car-', 72], ['ries', 71], ['light', 67]], 0, 0.5));
  const offs = M.stressPlacement(off.segments, '4/4'); // ri- at 0.5, car- at 1.5
  assert.deepEqual([offs.of, offs.on_beat, offs.on_strong, offs.misses.map((x) => [x.word, x.bar_position])], [2, 0, 0, [['river', 0.5], ['carries', 1.5]]]);
  // Pickup "The" then stressed syllables on beats 1 and 3.
  const good = M.alignLine(units, [
    { syllable: 'The', pitch: 67, start: 0, duration: 1 }, { syllable: 'ri-', pitch: 69, start: 1, duration: 0.5 }, { syllable: 'ver', pitch: 71, start: 1.5, duration: 0.5 },
    { syllable: 'car-', pitch: 72, start: 2, duration: 1 }, { syllable: 'ries', pitch: 71, start: 3, duration: 1 }, { syllable: 'light', pitch: 67, start: 4, duration: 2 }]);
  assert.deepEqual(M.stressPlacement(good.segments, '4/4'), { of: 2, on_beat: 2, on_strong: 1, misses: [] });
  // Second-syllable stress (to-MOR-row) on the 6/8 beat.
  const t = M.alignLine(M.lineUnits('tomorrow', DICT), [{ syllable: 'to-', pitch: 60, start: 1, duration: 0.5 }, { syllable: 'mor-', pitch: 62, start: 1.5, duration: 1 }, { syllable: 'row', pitch: 64, start: 2.5, duration: 0.5 }]);
  assert.deepEqual(M.stressPlacement(t.segments, '6/8'), { of: 1, on_beat: 1, on_strong: 0, misses: [] });
});

test('Mandarin tone rules', () => {
  assert.equal(M.toneRule(3, 1, 4), true);   // low to high: up
  assert.equal(M.toneRule(3, 1, -2), false);
  assert.equal(M.toneRule(1, 3, 0), false);  // high to low must move down
  assert.equal(M.toneRule(1, 1, 2), true);   // level: a step of at most 2
  assert.equal(M.toneRule(1, 1, 3), false);
  assert.equal(M.toneRule(1, 2, 5), null);   // heights 5 and 4: no rule
  assert.equal(M.toneRule(2, 4, -1), null);
  assert.equal(M.toneRule(0, 3, 0), null);   // neutral tone: no rule
  // 山高水又长: 1 1 3 4 2. A melody that follows the tones holds every rule; its mirror image breaks them.
  const tones = [1, 1, 3, 4, 2];
  const follow = M.toneRules(tones.map((tone, i) => ({ tone, pitch: [67, 69, 62, 64, 65][i] })));
  assert.deepEqual([follow.of, follow.held], [2, 2]); // 1-1 level, 1-3 down, 3-4 no rule (1.5 vs 3), 4-2 no rule
  const mirror = M.toneRules(tones.map((tone, i) => ({ tone, pitch: [67, 72, 76, 74, 70][i] })));
  assert.deepEqual([mirror.held, mirror.broken], [0, [1, 2]]);
});

test('random baseline: same rhythm, scale pitches in the range, deterministic', () => {
  const mel = seq([67, 71, 74, 79, 74, 71, 67, 66]);
  const a = M.randomMelody(mel, G, M.rng(7)), b = M.randomMelody(mel, G, M.rng(7));
  assert.deepEqual(a, b);
  assert.deepEqual(a.map((n) => n.start), mel.map((n) => n.start));
  assert.equal(M.inKey(a, G).share, 1);
  assert.ok(a.every((n) => n.pitch >= 66 && n.pitch <= 79));
  // Over many draws, phrase ends land on 1/3/5 about 3/7 of the time.
  const r = M.rng(1);
  let ok = 0;
  for (let i = 0; i < 2000; i++) ok += M.cadence([M.randomMelody(mel, G, r).at(-1).pitch], G).ok;
  assert.ok(ok / 2000 > 0.3 && ok / 2000 < 0.6, String(ok / 2000));
});

test('histogram overlap: identical 1, disjoint 0, a stepwise tune far from a random one in intervals', () => {
  const h = M.pcHistogram(seq([67, 71, 74, 67]), G);
  assert.deepEqual(h.map((x) => Math.round(x * 4)), [2, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]);
  assert.equal(M.overlap(h, h), 1);
  assert.equal(M.overlap(M.pcHistogram(seq([67]), G), M.pcHistogram(seq([69]), G)), 0);
  const iv = M.intervalHistogram(seq([60, 62, 64, 62, 60, 80]));
  assert.equal(iv.length, 25);
  assert.equal(iv[M.INTERVAL_CLIP + 2], 0.4);
  assert.equal(iv[2 * M.INTERVAL_CLIP], 0.2); // +20 clipped into the last bin
  // Stepwise real-like tunes vs their random re-pitchings.
  const tunes = Array.from({ length: 20 }, (_, k) => seq(Array.from({ length: 32 }, (_, i) => 67 + [0, 2, 4, 5, 7, 5, 4, 2][(i + k) % 8])));
  const real = M.meanHistogram(tunes.slice(0, 10).map(M.intervalHistogram)), held = M.meanHistogram(tunes.slice(10).map(M.intervalHistogram));
  const rnd = M.meanHistogram(tunes.slice(10).map((t, i) => M.intervalHistogram(M.randomMelody(t, G, M.rng(i)))));
  assert.ok(M.overlap(held, real) > 0.95);
  assert.ok(M.overlap(rnd, real) < 0.6);
});

test('KDE overlap of distance sets (mgeval)', () => {
  const r = M.rng(3);
  const a = Array.from({ length: 200 }, () => r()), b = Array.from({ length: 200 }, () => r());
  const far = Array.from({ length: 200 }, () => 10 + r());
  assert.ok(M.kdeOverlap(a, b) > 0.85);
  assert.ok(M.kdeOverlap(a, far) < 0.01);
  const set = (f) => Array.from({ length: 12 }, () => M.normalise(Array.from({ length: 12 }, f)));
  const near = M.setOverlap(set(() => r()), set(() => r()));
  const away = M.setOverlap(set(() => (r() < 0.9 ? 0 : 1)), set(() => r()));
  assert.ok(near.oa_ref_intra_vs_inter > away.oa_ref_intra_vs_inter);
});

test('MIDI notes compared with the JSON notes', () => {
  const notes = [{ pitch: 67, start: 0, duration: 1, syllable: 'ri-' }, { pitch: 69, start: 1, duration: 0.5, syllable: 'ver' }];
  const midi = [{ pitch: 67, tick: 0, endTick: 480 }, { pitch: 69, tick: 480, endTick: 720 }];
  const lyr = [{ tick: 0, text: 'ri-' }, { tick: 480, text: 'ver' }];
  assert.equal(M.compareMidi(midi, 480, notes, lyr).ok, true);
  assert.equal(M.compareMidi([midi[0], { ...midi[1], pitch: 70 }], 480, notes, lyr).pitch_mismatch, 1);
  assert.equal(M.compareMidi([midi[0], { ...midi[1], tick: 500 }], 480, notes, lyr).time_mismatch, 1);
  assert.equal(M.compareMidi(midi, 480, notes, [lyr[0]]).ok, false);
});

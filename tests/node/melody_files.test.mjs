// The melody files the engine writes (Standard MIDI File, ABC with w: lyrics, MusicXML 4.0 with
// lyrics), opened by tools that share no code with us (issue 4):
//   - MIDI: the npm parser midi-file (a devDependency);
//   - MusicXML: MuseScore 3 headless (mscore3, Debian musescore3) converts it to PDF, to MIDI (parsed
//     back: the notes) and to MusicXML again (the lyrics, chord symbols);
//   - ABC: abc2midi (Debian abcmidi) converts it to MIDI (parsed back: notes, lyrics, chords).
// The files come from the engine's render_melody (build/native/tunesmith request, the same JSON
// entry point as wasm and the JS API) for fixed tunes, and from generate_melody for lyrics. Without
// the native CLI the tunes go through build/native/tunesmith_notation_fixture (the writers alone).
// mscore3 / abc2midi missing: those tests are skipped with the reason (tools/setup.sh installs them).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseMidi } from 'midi-file';

import { ROOT, NATIVE_CLI } from './helpers.mjs';

const FIXTURE = path.join(ROOT, 'build', 'native', 'tunesmith_notation_fixture');
const TICK = 1 / 480;  // both tools write 480 ppq; allow a few ticks (they start 1 late or end 1 early)
const TOL = 3 * TICK;

// ------------------------------------------------------------------ the tunes (render_melody requests)

const n = (pitch, start, duration, syllable = '', velocity = 80) => ({ pitch, start, duration, velocity, syllable });
const TUNES = {
  // 4/4 in G: multi-syllable words, a note tied over the bar, a triplet (with a melisma note and an
  // accidental), C#5 then C4 and C5 natural in one bar (an ABC accidental carries to every octave in
  // abc2midi), a rest, dotted rhythms, a 16th, slash and 7th chords,
  // a chord symbol in the middle of a note (split and tied), a block-chord accompaniment.
  hallelujah: {
    title: 'Hallelujah Test', key: 'G', mode: 'major', meter: '4/4', tempo: 96,
    notes: [n(62, 0, 1, 'Oh', 90), n(67, 1, 0.5, 'hal-'), n(69, 1.5, 0.5, 'le-'), n(71, 2, 3, 'lu-'),
      n(72, 5, 1 / 3, 'jah'), n(74, 5 + 1 / 3, 1 / 3), n(73, 5 + 2 / 3, 1 / 3, 'sing'), n(60, 6.5, 0.5, 'and'),
      n(72, 7, 1, 'a'), n(71, 8, 1.5, 'new'), n(69, 9.5, 0.5, 'song'), n(67, 10, 2, 'to-'),
      n(66, 12, 0.75, 'ge-'), n(64, 12.75, 0.25, 'ther'), n(67, 13, 3, 'now', 70)],
    chords: [{ start: 0, symbol: 'G' }, { start: 4, symbol: 'D7' }, { start: 8, symbol: 'C/E' }, { start: 11, symbol: 'Am7' }, { start: 12, symbol: 'G' }],
    accompaniment: [n(43, 0, 4, '', 60), n(47, 0, 4, '', 60), n(50, 0, 4, '', 60), n(38, 4, 4, '', 60), n(48, 4, 4, '', 60),
      n(52, 8, 3, '', 60), n(45, 11, 1, '', 60), n(43, 12, 4, '', 60)],
  },
  // 6/8 in E minor (beats are quarter notes: a bar is 3), an apostrophe, a note tied over two bar
  // lines, one of them where the ABC would start its second line (abc2midi loses a lyric slot there).
  jig: {
    title: 'Wind Jig', key: 'E', mode: 'minor', meter: '6/8', tempo: 150,
    notes: [n(71, 0, 0.5, 'The'), n(76, 0.5, 1, 'wind'), n(78, 1.5, 0.5, 'is'), n(79, 2, 1, 'blow-'),
      n(78, 3, 0.5, 'ing'), n(76, 3.5, 0.5, "o'er"), n(74, 4, 0.5, 'the'), n(72, 4.5, 1.5, 'hill'),
      n(71, 6, 1, 'and'), n(69, 7, 0.5, 'far'), n(66, 7.5, 0.5, 'a-'), n(64, 8, 5.5, 'way'), n(71, 13.5, 1.5, 'home')],
    chords: [{ start: 0, symbol: 'Em' }, { start: 3, symbol: 'C' }, { start: 6, symbol: 'D' }, { start: 9, symbol: 'Em' }],
  },
  // 2/4 (ABC L:1/16) in Bb, Chinese lyrics and title, 16ths, a melisma note, a chord mid-bar.
  chinese: {
    title: '我爱你中国', key: 'Bb', mode: 'major', meter: '2/4', tempo: 72,
    notes: [n(65, 0, 1, '我'), n(67, 1, 0.5, '爱'), n(70, 1.5, 0.5, '你'), n(72, 2, 0.75, '中'), n(74, 2.75, 0.25, '国'),
      n(75, 3, 1, '亲'), n(74, 4, 0.5, '爱'), n(72, 4.5, 0.25, '的'), n(70, 4.75, 0.25), n(69, 5, 1, '母'), n(70, 6, 2, '亲')],
    chords: [{ start: 0, symbol: 'Bb' }, { start: 2, symbol: 'F' }, { start: 3, symbol: 'Eb' }, { start: 6, symbol: 'Bb' }],
  },
};
const FIFTHS = { hallelujah: [1, false], jig: [1, true], chinese: [-2, false] };

// ------------------------------------------------------------------ where the files come from

function engine(req) {
  const r = spawnSync(NATIVE_CLI, ['request'], { input: JSON.stringify(req), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.error) return { error: { code: 'spawn', message: r.error.message } };
  try { return JSON.parse(r.stdout); } catch { return { error: { code: 'output', message: r.stdout + r.stderr } }; }
}

const PROBE = { task: 'render_melody', notes: [{ pitch: 60, start: 0, duration: 1 }] };
const viaEngine = fs.existsSync(NATIVE_CLI) && typeof engine(PROBE).abc === 'string';
const viaFixture = !viaEngine && fs.existsSync(FIXTURE);
const noSource = viaEngine || viaFixture ? false
  : `neither ${path.relative(ROOT, NATIVE_CLI)} with render_melody nor ${path.relative(ROOT, FIXTURE)} (npm run build:native)`;
if (noSource && process.env.CI) throw new Error(noSource);

/** {abc, musicxml, midi (Buffer)} for a render_melody request. */
function render(tune) {
  let r;
  if (viaEngine) r = engine({ task: 'render_melody', ...tune });
  else {
    const p = spawnSync(FIXTURE, [], { input: JSON.stringify(tune), encoding: 'utf8' });
    r = JSON.parse(p.stdout);
  }
  assert.ok(!r.error, JSON.stringify(r.error));
  return { abc: r.abc, musicxml: r.musicxml, midi: Buffer.from(r.midi, 'base64') };
}

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const noMscore = have('mscore3') ? false : 'mscore3 not installed (apt-get install musescore3; tools/setup.sh installs it)';
const noAbc2midi = have('abc2midi') ? false : 'abc2midi not installed (apt-get install abcmidi; tools/setup.sh installs it)';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-files-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

function run(cmd, args) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, QT_QPA_PLATFORM: 'offscreen', XDG_RUNTIME_DIR: TMP },
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

/** MuseScore: our MusicXML -> {log, pdf, midi, xml}. */
function museScore(name, musicxml) {
  const src = path.join(TMP, `${name}.musicxml`);
  fs.writeFileSync(src, musicxml);
  const out = (ext) => path.join(TMP, `${name}.ms.${ext}`);
  let log = '';
  for (const ext of ['pdf', 'mid', 'musicxml']) log += run('mscore3', ['-o', out(ext), src]);
  return { log, pdf: fs.readFileSync(out('pdf')), midi: fs.readFileSync(out('mid')), xml: fs.readFileSync(out('musicxml'), 'utf8') };
}

/** abc2midi: our ABC -> MIDI bytes. */
function abc2midi(name, abc) {
  const src = path.join(TMP, `${name}.abc`), out = path.join(TMP, `${name}.abc.mid`);
  fs.writeFileSync(src, abc);
  const log = run('abc2midi', [src, '-o', out]);
  assert.doesNotMatch(log, /error/i, log);
  return fs.readFileSync(out);
}

// ------------------------------------------------------------------ reading MIDI with midi-file

const utf8 = (s) => Buffer.from(s, 'latin1').toString('utf8');  // midi-file reads text bytes as Latin-1

/** {format, ppq, tracks: [{name, notes: [{pitch, start, duration, velocity, channel}], texts, lyrics, metas}]} in beats. */
function readMidi(buf) {
  const m = parseMidi(buf);
  const ppq = m.header.ticksPerBeat;
  const tracks = m.tracks.map((events) => {
    let tick = 0;
    const on = new Map(), notes = [], texts = [], lyrics = [], metas = [];
    let name = null;
    for (const e of events) {
      tick += e.deltaTime;
      const t = tick / ppq;
      if (e.type === 'noteOn' && e.velocity > 0) {
        const k = `${e.channel}:${e.noteNumber}`;
        on.set(k, [...(on.get(k) || []), { t, velocity: e.velocity }]);
      } else if (e.type === 'noteOff' || e.type === 'noteOn') {
        const k = `${e.channel}:${e.noteNumber}`, q = on.get(k);
        assert.ok(q && q.length, `note-off without note-on: ${k} at ${t}`);
        const s = q.shift();
        notes.push({ pitch: e.noteNumber, start: s.t, duration: t - s.t, velocity: s.velocity, channel: e.channel });
      } else if (e.type === 'trackName') name = utf8(e.text);
      else if (e.type === 'text') texts.push({ t, text: utf8(e.text) });
      else if (e.type === 'lyrics') lyrics.push({ t, text: utf8(e.text) });
      else metas.push({ t, ...e });
    }
    for (const [k, q] of on) assert.equal(q.length, 0, `note ${k} never ends`);
    notes.sort((a, b) => a.start - b.start || a.pitch - b.pitch);
    return { name, notes, texts, lyrics, metas };
  });
  return { format: m.header.format, ppq, tracks };
}

const metasOf = (mid, type) => mid.tracks.flatMap((t) => t.metas.filter((e) => e.type === type));
const noteTracks = (mid) => mid.tracks.filter((t) => t.notes.length);
const sorted = (notes) => [...notes].sort((a, b) => a.start - b.start || a.pitch - b.pitch);

/** got notes == want notes (pitch, start shifted by `offset`, duration) within TOL. */
function sameNotes(got, want, what, { offset = 0 } = {}) {
  const g = sorted(got), w = sorted(want);
  assert.equal(g.length, w.length, `${what}: ${g.length} notes, want ${w.length}`);
  w.forEach((x, i) => {
    const y = g[i], at = `${what} note ${i} (pitch ${x.pitch} at ${x.start})`;
    assert.equal(y.pitch, x.pitch, `${at}: pitch ${y.pitch}`);
    assert.ok(Math.abs(y.start - offset - x.start) <= TOL, `${at}: starts at ${y.start - offset}`);
    assert.ok(Math.abs(y.duration - x.duration) <= TOL, `${at}: lasts ${y.duration}, want ${x.duration}`);
  });
}

// ------------------------------------------------------------------ music helpers

const syllableText = (s) => (s.length > 1 && s.endsWith('-') ? s.slice(0, -1) : s);
/** MusicXML syllabic for each sung note, from the trailing-hyphen convention. */
function syllabics(notes) {
  let inWord = false;
  return notes.filter((x) => x.syllable).map((x) => {
    const cont = x.syllable.length > 1 && x.syllable.endsWith('-');
    const s = inWord ? (cont ? 'middle' : 'end') : (cont ? 'begin' : 'single');
    inWord = cont;
    return s;
  });
}
const PC = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const QUALITY = { '': [0, 4, 7], m: [0, 3, 7], 7: [0, 4, 7, 10], m7: [0, 3, 7, 10], maj7: [0, 4, 7, 11], dim: [0, 3, 6], aug: [0, 4, 8], sus4: [0, 5, 7] };
/** {root, bass, pcs} of a chord symbol, or null for a quality this test does not know. */
function chordInfo(sym) {
  const m = /^([A-G])([#b]?)([^/]*)(?:\/([A-G])([#b]?))?$/.exec(sym);
  if (!m || !(m[3] in QUALITY)) return null;
  const acc = (a) => (a === '#' ? 1 : a === 'b' ? -1 : 0);
  const root = (PC[m[1]] + acc(m[2]) + 12) % 12;
  const bass = m[4] ? (PC[m[4]] + acc(m[5]) + 12) % 12 : root;
  return { root, bass, step: m[1], alter: acc(m[2]), bassStep: m[4] || null, pcs: new Set([...QUALITY[m[3]].map((i) => (root + i) % 12), bass]) };
}
const xmlAll = (xml, re) => [...xml.matchAll(re)].map((a) => a[1]);
const unescapeXml = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

// ------------------------------------------------------------------ the tests

const FILES = noSource ? {} : Object.fromEntries(Object.entries(TUNES).map(([k, t]) => [k, render(t)]));

describe(`melody files opened by independent tools (files from ${viaEngine ? 'render_melody' : 'the notation fixture'})`, { skip: noSource }, () => {
  for (const [name, tune] of Object.entries(TUNES)) {
    const [fifths, minor] = FIFTHS[name];
    const [num, den] = tune.meter.split('/').map(Number);
    const sung = tune.notes.filter((x) => x.syllable);

    test(`${name}: MIDI read by midi-file: tempo, meter, key, notes, lyric per syllable`, () => {
      const mid = readMidi(FILES[name].midi);
      assert.equal(mid.format, 1);
      assert.equal(mid.ppq, 480);
      assert.equal(mid.tracks.length, tune.accompaniment ? 3 : 2);
      assert.equal(mid.tracks[0].name, tune.title);
      assert.deepEqual(metasOf(mid, 'setTempo').map((e) => [e.t, e.microsecondsPerBeat]), [[0, Math.round(60e6 / tune.tempo)]]);
      assert.deepEqual(metasOf(mid, 'timeSignature').map((e) => [e.t, e.numerator, e.denominator]), [[0, num, den]]);
      assert.deepEqual(metasOf(mid, 'keySignature').map((e) => [e.t, e.key, e.scale]), [[0, fifths, minor ? 1 : 0]]);
      // melody: exact ticks and velocities, channel 0
      const mel = mid.tracks[1];
      assert.equal(mel.name, 'Melody');
      assert.deepEqual(mel.notes.map((x) => [x.pitch, Math.round(x.start * 480), Math.round(x.duration * 480), x.velocity, x.channel]),
        tune.notes.map((x) => [x.pitch, Math.round(x.start * 480), Math.round(x.duration * 480), x.velocity, 0]));
      // one lyric meta event per syllable, at its note's start, the text as given
      assert.deepEqual(mel.lyrics.map((l) => [Math.round(l.t * 480), l.text]), sung.map((x) => [Math.round(x.start * 480), x.syllable]));
      if (tune.accompaniment) {
        const acc = mid.tracks[2];
        assert.equal(acc.lyrics.length, 0);
        assert.ok(acc.notes.every((x) => x.channel === 1));
        sameNotes(acc.notes, tune.accompaniment, 'accompaniment');
      }
    });

    test(`${name}: MusicXML through MuseScore 3: PDF, MIDI notes, lyrics and chord symbols survive`, { skip: noMscore }, () => {
      const ms = museScore(name, FILES[name].musicxml);
      assert.doesNotMatch(ms.log, /error/i, `MuseScore complained about our MusicXML:\n${ms.log}`);
      assert.equal(ms.pdf.subarray(0, 5).toString(), '%PDF-');
      assert.ok(ms.pdf.length > 5000, `PDF of ${ms.pdf.length} bytes`);
      // MuseScore's MIDI: tempo, meter (last signature: a pickup measure would add its own), key, notes
      const mid = readMidi(ms.midi);
      assert.deepEqual(metasOf(mid, 'setTempo').map((e) => e.microsecondsPerBeat), [Math.round(60e6 / tune.tempo)]);
      const ts = metasOf(mid, 'timeSignature').at(-1);
      assert.deepEqual([ts.numerator, ts.denominator], [num, den]);
      assert.ok(metasOf(mid, 'keySignature').every((e) => e.key === fifths), 'key signature');
      const parts = noteTracks(mid);
      assert.equal(parts.length, tune.accompaniment ? 2 : 1);
      sameNotes(parts[0].notes, tune.notes, 'MuseScore MIDI melody');  // ties merged back, triplets exact
      if (tune.accompaniment) sameNotes(parts[1].notes, tune.accompaniment, 'MuseScore MIDI accompaniment');
      // MuseScore's MusicXML: title, lyric texts and syllabic in order, chord roots/kinds/basses
      assert.match(ms.xml, new RegExp(`<work-title>${tune.title}</work-title>`));
      const texts = xmlAll(ms.xml, /<lyric[^>]*>[\s\S]*?<text>([^<]*)<\/text>/g).map(unescapeXml);
      assert.deepEqual(texts, sung.map((x) => syllableText(x.syllable)));
      assert.deepEqual(xmlAll(ms.xml, /<syllabic>([a-z]+)<\/syllabic>/g), syllabics(tune.notes));
      const harmonies = xmlAll(ms.xml, /<harmony[^>]*>([\s\S]*?)<\/harmony>/g).map((h) => [
        /<root-step>([A-G])/.exec(h)?.[1], Number(/<root-alter>(-?\d)/.exec(h)?.[1] ?? 0), /<bass-step>([A-G])/.exec(h)?.[1] ?? null]);
      assert.deepEqual(harmonies, tune.chords.map((c) => { const i = chordInfo(c.symbol); return [i.step, i.alter, i.bassStep]; }));
    });

    test(`${name}: ABC through abc2midi: notes, lyrics and chord symbols`, { skip: noAbc2midi }, () => {
      const mid = readMidi(abc2midi(name, FILES[name].abc));
      assert.deepEqual(metasOf(mid, 'setTempo').map((e) => e.microsecondsPerBeat), [Math.round(60e6 / tune.tempo)]);
      assert.deepEqual(metasOf(mid, 'timeSignature').map((e) => [e.numerator, e.denominator]), [[num, den]]);
      assert.deepEqual(metasOf(mid, 'keySignature').map((e) => [e.key, e.scale]), [[fifths, minor ? 1 : 0]]);
      // abc2midi's first track with notes is the melody (ties merged); it starts 1 tick in
      const [mel, gchords] = noteTracks(mid);
      const offset = mel.notes[0].start - tune.notes[0].start;
      assert.ok(Math.abs(offset) <= TOL, `offset ${offset}`);
      sameNotes(mel.notes, tune.notes, 'abc2midi melody', { offset });
      // lyrics: abc2midi writes karaoke text events ("/" new line, "\" new verse, " " new word)
      const lyr = mel.texts.filter((x) => !/track$/.test(x.text)).map((x) => ({ t: x.t - offset, text: x.text.replace(/^[/\\]/, '').trim() }))
        .filter((x) => x.text);
      if (sung.every((x) => /^[\x20-\x7e]*$/.test(x.syllable))) {
        assert.deepEqual(lyr.map((x) => [Math.round(x.t * 480), x.text]), sung.map((x) => [Math.round(x.start * 480), syllableText(x.syllable)]));
      } else {
        // abc2midi 4.84 reads any byte >= 0xA1 as a Big5 lead byte and copies the next byte blindly,
        // so a UTF-8 CJK character ending in such a byte swallows the space after it and two
        // syllables share one event: only the text (and the first syllable's time) can be checked.
        assert.equal(lyr.map((x) => x.text.replace(/\s+/g, '')).join(''), sung.map((x) => syllableText(x.syllable)).join(''));
        assert.ok(Math.abs(lyr[0].t - sung[0].start) <= TOL);
      }
      // chord symbols: abc2midi plays each on its own track; what sounds at a symbol's time is its chord
      assert.ok(gchords, 'abc2midi wrote no chord track');
      for (const c of tune.chords) {
        const info = chordInfo(c.symbol);
        const at = gchords.notes.filter((x) => Math.abs(x.start - offset - c.start) <= TOL);
        assert.ok(at.length, `nothing sounds for ${c.symbol} at ${c.start}`);
        for (const x of at) assert.ok(info.pcs.has(x.pitch % 12), `${c.symbol} at ${c.start}: pitch ${x.pitch} is not in the chord`);
        if (at.length === 1) assert.equal(at[0].pitch % 12, info.bass, `${c.symbol} at ${c.start}: bass`);
      }
    });
  }
});

// generate_melody: what users get, end to end (lyrics in English and Chinese, 6/8).
const GEN = { task: 'generate_melody', lyrics: 'Summer rain is falling down\nOver the hills and far away\n我爱你中国', meter: '6/8', key: 'D', seed: 7, accompaniment: 'block' };
const gen = viaEngine ? engine(GEN) : null;
const noGen = !viaEngine ? `no render_melody / generate_melody in ${path.relative(ROOT, NATIVE_CLI)}`
  : gen.error ? `generate_melody answered ${gen.error.code}: ${gen.error.message}` : false;

describe('generate_melody files opened by independent tools', { skip: noGen }, () => {
  const notes = noGen ? [] : gen.notes;
  const acc = noGen ? [] : gen.accompaniment || [];
  const sung = notes.filter((x) => x.syllable);

  test('MIDI (midi-file) holds the response\'s notes, accompaniment and syllables', () => {
    const mid = readMidi(Buffer.from(gen.midi, 'base64'));
    assert.ok(sung.length > 10);
    sameNotes(mid.tracks[1].notes, notes, 'melody');
    assert.deepEqual(mid.tracks[1].lyrics.map((l) => [Math.round(l.t * 480), l.text]), sung.map((x) => [Math.round(x.start * 480), x.syllable]));
    if (acc.length) sameNotes(mid.tracks[2].notes, acc, 'accompaniment');
    assert.deepEqual(metasOf(mid, 'timeSignature').map((e) => [e.numerator, e.denominator]), [[6, 8]]);
    assert.deepEqual(metasOf(mid, 'setTempo').map((e) => e.microsecondsPerBeat), [Math.round(60e6 / gen.tempo)]);
  });

  test('MuseScore 3 reads the MusicXML: same notes, same syllables', { skip: noMscore }, () => {
    const ms = museScore('generated', gen.musicxml);
    assert.doesNotMatch(ms.log, /error/i, ms.log);
    assert.equal(ms.pdf.subarray(0, 5).toString(), '%PDF-');
    const parts = noteTracks(readMidi(ms.midi));
    sameNotes(parts[0].notes, notes, 'MuseScore melody');
    if (acc.length) sameNotes(parts[1].notes, acc, 'MuseScore accompaniment');
    const texts = xmlAll(ms.xml, /<lyric[^>]*>[\s\S]*?<text>([^<]*)<\/text>/g).map(unescapeXml);
    assert.deepEqual(texts, sung.map((x) => syllableText(x.syllable)));
    assert.deepEqual(xmlAll(ms.xml, /<syllabic>([a-z]+)<\/syllabic>/g), syllabics(notes));
  });

  test('abc2midi reads the ABC: same notes, same lyric text', { skip: noAbc2midi }, () => {
    const [mel] = noteTracks(readMidi(abc2midi('generated', gen.abc)));
    const offset = mel.notes[0].start - notes[0].start;
    assert.ok(Math.abs(offset) <= TOL, `offset ${offset}`);
    sameNotes(mel.notes, notes, 'abc2midi melody', { offset });
    const lyr = mel.texts.filter((x) => !/track$/.test(x.text)).map((x) => x.text.replace(/^[/\\]/, '').replace(/\s+/g, '')).join('');
    assert.equal(lyr, sung.map((x) => syllableText(x.syllable)).join(''));  // see the Big5 note above
  });
});

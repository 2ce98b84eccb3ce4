// Melody readers (tools/melody/mxl.mjs, midi.mjs): a hand-built MIDI file and a hand-built zipped
// MusicXML score read back exactly; with ../shared/data/melody present, a real chorale and a real
// LilyPond song give sensible records (docs/melody-data.md).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';

import { parseMidi, midiSongRecords, cleanSyllable, keyFromFifths } from '../../tools/melody/midi.mjs';
import { readMxl, unzip, parseXml } from '../../tools/melody/mxl.mjs';

const DATA = path.resolve('/work/main', '../shared/data/melody');
const HAVE_DATA = fs.existsSync(DATA);

// ------------------------------------------------------------------ MIDI builder
const vlq = (n) => {
  const out = [n & 0x7f];
  while ((n >>= 7)) out.unshift((n & 0x7f) | 0x80);
  return out;
};
const text = (s) => [...Buffer.from(s, 'utf8')];
const meta = (delta, type, data) => [...vlq(delta), 0xff, type, ...vlq(data.length), ...data];
const chunk = (id, bytes) => {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32BE(bytes.length, 4);
  return Buffer.concat([head, Buffer.from(bytes)]);
};

const DEFAULT_LYRICS = [[0, 'Hel -- '], [480, 'lo'], [480, 'my'], [480, 'dear'], [1440, 'friend!']];

function buildMidi(lyrics = DEFAULT_LYRICS) {
  const ppq = 480;
  const header = Buffer.alloc(14);
  header.write('MThd', 0, 'latin1');
  header.writeUInt32BE(6, 4);
  header.writeUInt16BE(1, 8); // format 1
  header.writeUInt16BE(3, 10); // 3 tracks
  header.writeUInt16BE(ppq, 12);
  const t0 = [
    ...meta(0, 0x03, text('Test Song')),
    ...meta(0, 0x01, text('creator: test')),
    ...meta(0, 0x51, [0x07, 0xa1, 0x20]), // 500000 us per quarter = 120 bpm
    ...meta(0, 0x58, [3, 2, 24, 8]), // 3/4
    ...meta(0, 0x59, [2, 0]), // D major
    ...meta(0, 0x2f, []),
  ];
  // Melody: D4 E4 F#4 | G4 (half) rest | A4 (dotted half). Running status, note-on velocity 0 as off,
  // plus one explicit 0x80 note-off; a lower chord note under the first note (top note wins).
  const t1 = [
    ...meta(0, 0x03, text('melody')),
    0x00, 0xc0, 0x49, // program change (1 data byte)
    0x00, 0x90, 62, 90, // D4 on
    0x00, 57, 80, // running status: A3 on (chord, lower)
    ...vlq(480), 62, 0, // D4 off (vel 0)
    0x00, 57, 0,
    0x00, 64, 90, ...vlq(480), 64, 0, // E4
    0x00, 66, 90, ...vlq(480), 0x80, 66, 64, // F#4, explicit note-off
    0x00, 0x90, 67, 90, ...vlq(960), 67, 0, // G4 half
    ...vlq(480), 69, 90, ...vlq(1440), 69, 0, // quarter rest, A4 dotted half
    ...meta(0, 0x2f, []),
  ];
  // Lyrics in their own track (as LilyPond writes them), with LilyPond hyphen conventions.
  const t2 = [
    ...meta(0, 0x03, text('verse:')),
    ...lyrics.flatMap(([delta, t]) => meta(delta, 0x05, text(t))),
    ...meta(1440, 0x2f, []),
  ];
  return Buffer.concat([header, chunk('MTrk', t0), chunk('MTrk', t1), chunk('MTrk', t2)]);
}

describe('parseMidi / midiSongRecords on a hand-built file', () => {
  const buf = buildMidi();

  test('header, tracks, meta events and notes', () => {
    const m = parseMidi(buf);
    assert.equal(m.format, 1);
    assert.equal(m.ppq, 480);
    assert.equal(m.tracks.length, 3);
    assert.deepEqual(m.tracks.map((t) => t.name), ['Test Song', 'melody', 'verse:']);
    assert.equal(m.tempos.length, 1);
    assert.equal(m.tempos[0].usPerQuarter, 500000);
    assert.equal(m.tempos[0].bpm, 120);
    assert.deepEqual(m.timeSignatures, [{ tick: 0, numerator: 3, denominator: 4 }]);
    assert.deepEqual(m.keySignatures, [{ tick: 0, fifths: 2, minor: false }]);
    const ons = m.tracks[1].events.filter((e) => e.type === 'noteOn');
    assert.deepEqual(ons.map((e) => [e.note, e.tick]), [[62, 0], [57, 0], [64, 480], [66, 960], [67, 1440], [69, 2880]]);
    const offs = m.tracks[1].events.filter((e) => e.type === 'noteOff');
    assert.equal(offs.length, 6);
    assert.ok(offs.some((e) => e.note === 66 && e.tick === 1440 && e.velocity === 64));
    assert.equal(m.tracks[1].events.find((e) => e.type === 'programChange').program, 0x49);
    const lyr = m.tracks[2].events.filter((e) => e.type === 'lyric');
    assert.deepEqual(lyr.map((e) => [e.tick, e.text]), [[0, 'Hel -- '], [480, 'lo'], [960, 'my'], [1440, 'dear'], [2880, 'friend!']]);
  });

  test('record: melody, syllables, key, meter, tempo', () => {
    const recs = midiSongRecords(buf, { file: 'test.mid' });
    assert.equal(recs.length, 1);
    const r = recs[0];
    assert.equal(r.source, 'lilypond-songs');
    assert.equal(r.id, 'test.mid#0');
    assert.equal(r.title, 'Test Song');
    assert.equal(r.type, 'song');
    assert.deepEqual(r.key, { tonic: 'D', mode: 'major', fifths: 2 });
    assert.deepEqual(r.meter, [3, 4]);
    assert.equal(r.tempo, 120);
    assert.deepEqual(r.chords, []);
    assert.equal(r.pickup, undefined);
    assert.deepEqual(r.notes, [
      [62, 0, 1, 0, 'Hel-'],
      [64, 1, 1, 0, 'lo'],
      [66, 2, 1, 0, 'my'],
      [67, 3, 2, 1, 'dear'],
      [null, 5, 1, 1],
      [69, 6, 3, 2, 'friend!'],
    ]);
  });

  test('lyric hyphen conventions and key names', () => {
    assert.deepEqual(cleanSyllable('Hal -- '), { text: 'Hal-', joinPrev: false });
    assert.deepEqual(cleanSyllable('le-'), { text: 'le-', joinPrev: false });
    assert.deepEqual(cleanSyllable('-lu'), { text: 'lu', joinPrev: true });
    assert.equal(cleanSyllable(' '), null);
    assert.equal(cleanSyllable('_'), null);
    assert.deepEqual(keyFromFifths(-3, 'major'), { tonic: 'Eb', mode: 'major', fifths: -3 });
    assert.deepEqual(keyFromFifths(-1, 'minor'), { tonic: 'D', mode: 'minor', fifths: -1 });
    assert.deepEqual(keyFromFifths(4, 'minor'), { tonic: 'C#', mode: 'minor', fifths: 4 });
    assert.deepEqual(keyFromFifths(1, 'dorian'), { tonic: 'A', mode: 'dorian', fifths: 1 });
  });

  test('a leading "-" syllable marks the previous one as continued', () => {
    const lyrics = [[0, 'Hel'], [480, '-lo'], [480, 'my'], [480, 'dear']];
    const r = midiSongRecords(buildMidi(lyrics), { file: 'x.mid' })[0];
    assert.deepEqual(r.notes.filter((n) => n[4]).map((n) => n[4]), ['Hel-', 'lo', 'my', 'dear']);
  });
});

// ------------------------------------------------------------------ zip + MusicXML
function buildZip(entries) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const { name, data, store } of entries) {
    const nameBuf = Buffer.from(name, 'utf8');
    const comp = store ? data : deflateRawSync(data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(store ? 0 : 8, 8);
    lh.writeUInt32LE(0, 14); // CRC-32 (not checked by the reader)
    lh.writeUInt32LE(comp.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(nameBuf.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(store ? 0 : 8, 10);
    ch.writeUInt32LE(comp.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(nameBuf.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, nameBuf, comp);
    centrals.push(ch, nameBuf);
    offset += 30 + nameBuf.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

const note = (step, oct, dur, { alter, voice = 1, chord, tie, lyrics = [], rest } = {}) => `
  <note>${chord ? '<chord/>' : ''}${rest ? '<rest/>' : `<pitch><step>${step}</step>${alter ? `<alter>${alter}</alter>` : ''}<octave>${oct}</octave></pitch>`}
    <duration>${dur}</duration>${tie ? tie.map((t) => `<tie type="${t}"/>`).join('') : ''}<voice>${voice}</voice>
    ${tie ? `<notations>${tie.map((t) => `<tied type="${t}"/>`).join('')}</notations>` : ''}
    ${lyrics.map(([n, syl, t]) => `<lyric number="${n}"><syllabic>${syl}</syllabic><text>${t}</text></lyric>`).join('')}
  </note>`;

const SCORE = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 3.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">
<score-partwise version="3.0">
  <movement-title>Test &amp; Chorale</movement-title>
  <part-list>
    <score-part id="P1"><part-name>Flute</part-name></score-part>
    <score-part id="P2"><part-name>Soprano</part-name></score-part>
  </part-list>
  <part id="P1"><measure number="0" implicit="yes"><attributes><divisions>1</divisions></attributes>
    <note><pitch><step>C</step><octave>6</octave></pitch><duration>1</duration><voice>1</voice></note></measure></part>
  <!-- the soprano -->
  <part id="P2">
    <measure number="0" implicit="yes">
      <attributes><divisions>2</divisions><key><fifths>-1</fifths><mode>minor</mode></key>
        <time><beats>4</beats><beat-type>4</beat-type></time></attributes>
      <sound tempo="80"/>
      ${note('D', 4, 2, { lyrics: [[1, 'single', 'Ein']] })}
    </measure>
    <measure number="1">
      <barline location="left"><repeat direction="forward"/></barline>
      ${note('F', 4, 2, { lyrics: [[1, 'begin', 'fes'], [2, 'begin', 'gu']] })}
      ${note('D', 4, 2, { chord: true })}
      ${note('G', 4, 1, { lyrics: [[1, 'end', 'te'], [2, 'end', 'te']] })}
      ${note('A', 4, 1)}
      ${note('A', 4, 4, { tie: ['start'], lyrics: [[1, 'single', 'Burg'], [2, 'single', 'Wehr']] })}
      <backup><duration>8</duration></backup>
      ${note('D', 4, 8, { voice: 2 })}
    </measure>
    <measure number="2">
      ${note('A', 4, 2, { tie: ['stop'] })}
      ${note(null, null, 2, { rest: true })}
      ${note('B', 4, 2, { alter: -1, lyrics: [[1, 'single', 'ist'], [2, 'single', 'und']] })}
      ${note('C', 5, 2, { lyrics: [[1, 'single', 'ser'], [2, 'begin', 'Waf']] })}
      <barline location="right"><bar-style>light-heavy</bar-style><repeat direction="backward"/></barline>
    </measure>
  </part>
</score-partwise>`;

const CONTAINER = `<?xml version="1.0" encoding="UTF-8"?>
<container><rootfiles><rootfile full-path="score.xml"/></rootfiles></container>`;

describe('zip reader and MusicXML soprano reader on a hand-built score', () => {
  const zip = buildZip([
    { name: 'META-INF/container.xml', data: Buffer.from(CONTAINER), store: true },
    { name: 'score.xml', data: Buffer.from(SCORE) },
  ]);

  test('unzip: stored and deflated entries', () => {
    const files = unzip(zip);
    assert.deepEqual([...files.keys()], ['META-INF/container.xml', 'score.xml']);
    assert.equal(files.get('META-INF/container.xml').toString(), CONTAINER);
    assert.equal(files.get('score.xml').toString(), SCORE);
  });

  test('parseXml: elements, attributes, entities, self-closing tags', () => {
    const root = parseXml('<?xml version="1.0"?><a x="1 &lt; 2"><!-- c --><b/><c>t &amp; u</c></a>');
    assert.equal(root.name, 'a');
    assert.equal(root.attrs.x, '1 < 2');
    assert.deepEqual(root.children.map((c) => c.name), ['b', 'c']);
    assert.equal(root.children[1].text, 't & u');
  });

  test('readMxl: soprano line, chord top note, ties, rests, repeats with verse 2 lyrics', () => {
    const r = readMxl(zip, { file: 'test.mxl' });
    assert.equal(r.source, 'bach-chorales');
    assert.equal(r.id, 'test.mxl#0');
    assert.equal(r.title, 'Test & Chorale');
    assert.equal(r.type, 'hymn');
    assert.deepEqual(r.key, { tonic: 'D', mode: 'minor', fifths: -1 });
    assert.deepEqual(r.meter, [4, 4]);
    assert.equal(r.tempo, 80);
    assert.equal(r.pickup, true);
    assert.deepEqual(r.chords, []);
    assert.deepEqual(r.notes, [
      [62, 0, 1, 0, 'Ein'],
      [65, 1, 1, 1, 'fes-'], [67, 2, 0.5, 1, 'te'], [69, 2.5, 0.5, 1], [69, 3, 3, 1, 'Burg'],
      [null, 6, 1, 2], [70, 7, 1, 2, 'ist'], [72, 8, 1, 2, 'ser'],
      [65, 9, 1, 3, 'gu-'], [67, 10, 0.5, 3, 'te'], [69, 10.5, 0.5, 3], [69, 11, 3, 3, 'Wehr'],
      [null, 14, 1, 4], [70, 15, 1, 4, 'und'], [72, 16, 1, 4, 'Waf-'],
    ]);
  });

  test('plain (unzipped) MusicXML is read too', () => {
    const r = readMxl(Buffer.from(SCORE), { file: 'test.xml' });
    assert.equal(r.notes.length, 15);
  });
});

// ------------------------------------------------------------------ real data (skipped in CI)
describe('real data', { skip: HAVE_DATA ? false : `${DATA} absent` }, () => {
  test('a Bach chorale: soprano with syllables, key, 4/4, full bars of 4 quarters', () => {
    const file = 'bwv104.6.mxl';
    const r = readMxl(fs.readFileSync(path.join(DATA, 'bach-chorales', file)), { file });
    assert.equal(r.part, 'Soprano');
    assert.ok(r.key && typeof r.key.tonic === 'string' && Number.isInteger(r.key.fifths));
    assert.deepEqual(r.meter, [4, 4]);
    const pitched = r.notes.filter((n) => n[0] !== null);
    assert.ok(pitched.length > 40);
    assert.ok(pitched.filter((n) => n[4]).length / pitched.length > 0.7, 'most soprano notes carry syllables');
    assert.ok(pitched.every((n) => n[0] >= 55 && n[0] <= 84), 'soprano range');
    // notes are contiguous (rests included) and bars are non-decreasing
    for (let i = 1; i < r.notes.length; i++) {
      assert.ok(Math.abs(r.notes[i - 1][1] + r.notes[i - 1][2] - r.notes[i][1]) < 1e-9, `gap/overlap at ${i}`);
      assert.ok(r.notes[i][3] >= r.notes[i - 1][3]);
    }
    // every full bar (not the pickup, not the last) lasts 4 quarter notes: bar k starts at pickup + 4(k-1)
    const bars = new Map();
    for (const n of r.notes) if (!bars.has(n[3])) bars.set(n[3], n[1]);
    const pk = bars.get(1);
    const last = Math.max(...bars.keys());
    for (const [b, start] of bars) if (b > 0 && b <= last) assert.equal(start, pk + 4 * (b - 1), `bar ${b}`);
    const sums = new Map();
    for (const n of r.notes) sums.set(n[3], (sums.get(n[3]) || 0) + n[2]);
    const inner = [...sums].filter(([b]) => b > 0 && b < last);
    assert.ok(inner.length > 8);
    for (const [b, s] of inner) assert.equal(s, 4, `bar ${b} sums to ${s}`);
  });

  test('a LilyPond song MIDI: melody with syllables on most notes', () => {
    const file = 'Abide with me.midi';
    const recs = midiSongRecords(fs.readFileSync(path.join(DATA, 'lilypond-songs/midi', file)), { file });
    assert.ok(recs.length >= 1);
    const r = recs[0];
    assert.deepEqual(r.meter, [4, 4]);
    assert.deepEqual(r.key, { tonic: 'Eb', mode: 'major', fifths: -3 });
    assert.equal(r.tempo, 90);
    const pitched = r.notes.filter((n) => n[0] !== null);
    assert.ok(pitched.length > 30);
    assert.ok(pitched.filter((n) => n[4]).length / pitched.length > 0.8);
    assert.equal(r.notes[0][4], 'A');
    for (const rec of recs) for (const n of rec.notes) {
      assert.equal(n[1] * 12, Math.round(n[1] * 12));
      assert.equal(n[2] * 12, Math.round(n[2] * 12));
    }
  });
});

// Standard MIDI File reader and LilyPond-song record builder (see docs/melody-data.md).
// parseMidi(buffer): general SMF reader. midiSongRecords(buffer, {file}): melody records.

const TEXT_TYPES = { 0x01: 'text', 0x02: 'copyright', 0x03: 'trackName', 0x04: 'instrument', 0x05: 'lyric', 0x06: 'marker', 0x07: 'cue' };

function decodeText(bytes) {
  const utf8 = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!utf8.includes('\uFFFD')) return utf8;
  return new TextDecoder('latin1').decode(bytes);
}

/** Parse a Standard MIDI File. Returns {format, ppq, smpte, tracks:[{name, events}], tempos, timeSignatures, keySignatures}.
 *  Every event has an absolute `tick`. Note-on with velocity 0 is reported as noteOff. */
export function parseMidi(buffer) {
  const buf = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer);
  let pos = 0;
  const str4 = (p) => buf.toString('latin1', p, p + 4);
  // Skip an optional RIFF (RMID) wrapper.
  if (str4(0) === 'RIFF') {
    const i = buf.indexOf('MThd', 0, 'latin1');
    if (i < 0) throw new Error('RIFF without MThd');
    pos = i;
  }
  if (str4(pos) !== 'MThd') throw new Error('not a MIDI file (no MThd)');
  const hlen = buf.readUInt32BE(pos + 4);
  const format = buf.readUInt16BE(pos + 8);
  const ntracks = buf.readUInt16BE(pos + 10);
  const division = buf.readUInt16BE(pos + 12);
  let ppq = null, smpte = null;
  if (division & 0x8000) smpte = { fps: 256 - (division >> 8), ticksPerFrame: division & 0xff };
  else ppq = division;
  pos += 8 + hlen;
  const tracks = [];
  while (pos + 8 <= buf.length && tracks.length < ntracks) {
    const id = str4(pos);
    const len = buf.readUInt32BE(pos + 4);
    const start = pos + 8;
    const end = Math.min(start + len, buf.length);
    pos = start + len;
    if (id !== 'MTrk') continue; // alien chunk
    tracks.push(parseTrack(buf, start, end));
  }
  const all = (pred) => tracks.flatMap((t, ti) => t.events.filter(pred).map((e) => ({ ...e, track: ti }))).sort((a, b) => a.tick - b.tick);
  const tempos = all((e) => e.type === 'tempo').map((e) => ({ tick: e.tick, usPerQuarter: e.usPerQuarter, bpm: 60e6 / e.usPerQuarter }));
  const timeSignatures = all((e) => e.type === 'timeSignature').map(({ tick, numerator, denominator }) => ({ tick, numerator, denominator }));
  const keySignatures = all((e) => e.type === 'keySignature').map(({ tick, fifths, minor }) => ({ tick, fifths, minor }));
  return { format, ppq, smpte, tracks, tempos, timeSignatures, keySignatures };
}

function parseTrack(buf, pos, end) {
  const events = [];
  let tick = 0, running = 0, name = null;
  const readVar = () => {
    let v = 0;
    for (let i = 0; i < 4 && pos < end; i++) {
      const b = buf[pos++];
      v = v * 128 + (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return v;
  };
  while (pos < end) {
    tick += readVar();
    if (pos >= end) break;
    let status = buf[pos];
    if (status & 0x80) pos++;
    else if (running) status = running; // running status
    else throw new Error('data byte without running status');
    if (status === 0xff) {
      const metaType = buf[pos++];
      const len = readVar();
      const data = buf.subarray(pos, Math.min(pos + len, end));
      pos += len;
      const ev = { tick, type: 'meta', metaType };
      if (TEXT_TYPES[metaType]) {
        ev.type = TEXT_TYPES[metaType];
        ev.text = decodeText(data);
        if (metaType === 0x03 && name === null) name = ev.text;
      } else if (metaType === 0x51 && len >= 3) {
        ev.type = 'tempo';
        ev.usPerQuarter = (data[0] << 16) | (data[1] << 8) | data[2];
      } else if (metaType === 0x58 && len >= 2) {
        ev.type = 'timeSignature';
        ev.numerator = data[0];
        ev.denominator = 2 ** data[1];
        ev.clocksPerClick = data[2];
        ev.thirtySecondsPerQuarter = data[3];
      } else if (metaType === 0x59 && len >= 2) {
        ev.type = 'keySignature';
        ev.fifths = data[0] > 127 ? data[0] - 256 : data[0];
        ev.minor = data[1] === 1;
      } else if (metaType === 0x2f) {
        ev.type = 'endOfTrack';
      } else if (metaType === 0x20 && len >= 1) {
        ev.type = 'channelPrefix';
        ev.channel = data[0];
      } else {
        ev.data = Buffer.from(data);
      }
      events.push(ev);
      if (metaType === 0x2f) break;
      continue;
    }
    if (status === 0xf0 || status === 0xf7) {
      const len = readVar();
      events.push({ tick, type: 'sysex', data: Buffer.from(buf.subarray(pos, pos + len)) });
      pos += len;
      continue; // sysex cancels running status per spec; keep permissive
    }
    if (status >= 0xf0) { // system common/realtime inside a file: skip known sizes
      pos += status === 0xf2 ? 2 : status === 0xf3 || status === 0xf1 ? 1 : 0;
      continue;
    }
    running = status;
    const kind = status & 0xf0, channel = status & 0x0f;
    const d1 = buf[pos++];
    const d2 = kind === 0xc0 || kind === 0xd0 ? 0 : buf[pos++];
    switch (kind) {
      case 0x90:
        events.push(d2 === 0 ? { tick, type: 'noteOff', channel, note: d1, velocity: 0 } : { tick, type: 'noteOn', channel, note: d1, velocity: d2 });
        break;
      case 0x80: events.push({ tick, type: 'noteOff', channel, note: d1, velocity: d2 }); break;
      case 0xa0: events.push({ tick, type: 'polyPressure', channel, note: d1, pressure: d2 }); break;
      case 0xb0: events.push({ tick, type: 'controller', channel, controller: d1, value: d2 }); break;
      case 0xc0: events.push({ tick, type: 'programChange', channel, program: d1 }); break;
      case 0xd0: events.push({ tick, type: 'channelPressure', channel, pressure: d1 }); break;
      case 0xe0: events.push({ tick, type: 'pitchBend', channel, value: (d2 << 7 | d1) - 8192 }); break;
    }
  }
  return { name, events };
}

/** Pair note-on/off events of one track into notes {pitch, tick, endTick, channel, velocity}. */
export function trackNotes(track) {
  const open = new Map();
  const notes = [];
  for (const e of track.events) {
    if (e.type === 'noteOn') {
      const k = e.channel * 128 + e.note;
      if (!open.has(k)) open.set(k, []);
      open.get(k).push(notes.length);
      notes.push({ pitch: e.note, tick: e.tick, endTick: null, channel: e.channel, velocity: e.velocity });
    } else if (e.type === 'noteOff') {
      const q = open.get(e.channel * 128 + e.note);
      if (q && q.length) notes[q.shift()].endTick = e.tick;
    }
  }
  const last = track.events.length ? track.events[track.events.length - 1].tick : 0;
  for (const n of notes) if (n.endTick === null) n.endTick = Math.max(n.tick, last);
  return notes.sort((a, b) => a.tick - b.tick || b.pitch - a.pitch);
}

// ---------------------------------------------------------------------------
// Records (docs/melody-data.md)


/** Tonic name for a position on the circle of fifths (0 = C). */
export function fifthsName(k) {
  const letter = 'FCGDAEB'[(((k + 1) % 7) + 7) % 7];
  const acc = Math.floor((k + 1) / 7);
  return letter + (acc > 0 ? '#'.repeat(acc) : 'b'.repeat(-acc));
}

const MODE_OFFSET = { major: 0, ionian: 0, minor: 3, aeolian: 3, dorian: 2, phrygian: 4, lydian: -1, mixolydian: 1, locrian: 5 };

/** {tonic, mode, fifths} from a key signature's fifths and a mode name. */
export function keyFromFifths(fifths, mode = 'major') {
  let m = String(mode || 'major').toLowerCase();
  if (!(m in MODE_OFFSET)) m = 'major';
  if (m === 'ionian') m = 'major';
  if (m === 'aeolian') m = 'minor';
  return { tonic: fifthsName(fifths + MODE_OFFSET[m]), mode: m, fifths };
}

/** Normalise one LilyPond lyric event's text. Returns {text, joinPrev} or null for a skip. */
export function cleanSyllable(raw) {
  let t = String(raw ?? '').replace(/\s+/g, ' ').trim();
  if (!t || t === '_' || t === '__' || t === '--') return null;
  let joinPrev = false;
  if (/^--?\s*/.test(t) && t.length > 1 && t[0] === '-') { joinPrev = true; t = t.replace(/^-+\s*/, ''); }
  t = t.replace(/\s*--\s*/g, '-').replace(/\s*__\s*$/, '').replace(/~/g, ' ').replace(/_/g, ' ').trim();
  t = t.replace(/-+$/, '-');
  if (!t) return null;
  return { text: t, joinPrev };
}

/** Skyline melody: at each onset keep the top note; drop notes starting under a sounding higher note. */
export function skyline(notes) {
  const byOnset = new Map();
  for (const n of notes) {
    const cur = byOnset.get(n.tick);
    if (!cur || n.pitch > cur.pitch) byOnset.set(n.tick, n);
  }
  const onsets = [...byOnset.keys()].sort((a, b) => a - b);
  const kept = [];
  for (const t of onsets) {
    const n = { ...byOnset.get(t) };
    const prev = kept[kept.length - 1];
    if (prev && prev.endTick > n.tick) {
      if (prev.pitch > n.pitch) continue; // inner voice moving under a held melody note
      prev.endTick = n.tick;
    }
    kept.push(n);
  }
  return kept;
}

function isMonophonicShare(notes) {
  if (notes.length < 2) return 1;
  let overlap = 0;
  for (let i = 1; i < notes.length; i++) if (notes[i].tick < notes[i - 1].endTick && notes[i].tick !== notes[i - 1].tick) overlap++;
  const chords = notes.length - new Set(notes.map((n) => n.tick)).size;
  return 1 - (overlap + chords) / notes.length;
}

/** Estimate the pickup length (ticks) from where long notes fall against the bar grid. */
function estimatePickup(line, barTicks, beatTicks) {
  if (!line.length || !barTicks || !beatTicks) return 0;
  let best = 0, bestScore = -Infinity;
  const step = Math.max(1, Math.round(beatTicks / 2));
  for (let o = 0; o < barTicks; o += step) {
    let s = 0;
    for (const n of line) if ((((n.tick - o) % barTicks) + barTicks) % barTicks === 0) s += (n.endTick - n.tick) + beatTicks;
    if (o === 0) s *= 1.1; // prefer no pickup on ties
    else if (o % beatTicks) s *= 0.95; // off-beat pickups need more evidence
    if (s > bestScore) { bestScore = s; best = o; }
  }
  return best;
}

/**
 * Build melody records from a (LilyPond) MIDI file.
 * Choice: one record per verse, where a verse is a lyric stream (a track's lyric events; LilyPond writes
 * one track per lyric line/verse) aligned to the melody track. Each record keeps only the bars its
 * syllables span (re-based to start at 0; `bar_offset` says where in the file it begins), so
 * introductions, interludes and refrains that a lyric stream does not sing are not emitted as
 * syllable-less notes. Files without lyrics give one record with the whole melody.
 */
export function midiSongRecords(buffer, { file = 'unknown.mid', source = 'lilypond-songs' } = {}) {
  const midi = parseMidi(buffer);
  if (!midi.ppq) throw new Error('SMPTE time division not supported');
  const ppq = midi.ppq;
  const tol = Math.max(1, Math.round(ppq / 48));
  const trackInfo = midi.tracks.map((t, i) => {
    const notes = trackNotes(t).filter((n) => n.channel !== 9);
    const lyrics = t.events.filter((e) => e.type === 'lyric');
    return { i, name: t.name || '', notes, lyrics };
  });
  const noteTracks = trackInfo.filter((t) => t.notes.length);
  if (!noteTracks.length) throw new Error('no notes');
  // Lyric streams: tracks with lyric events and at least one non-empty syllable.
  const lyricTracks = trackInfo.filter((t) => t.lyrics.some((e) => cleanSyllable(e.text)));
  const hasOnset = (set, tick) => { for (let d = -tol; d <= tol; d++) if (set.has(tick + d)) return true; return false; };
  let melody = null, bestScore = -1;
  for (const nt of noteTracks) {
    const onsets = new Set(nt.notes.map((n) => n.tick));
    let aligned = 0;
    for (const lt of lyricTracks) for (const e of lt.lyrics) if (cleanSyllable(e.text) && hasOnset(onsets, e.tick)) aligned++;
    const mean = nt.notes.reduce((s, n) => s + n.pitch, 0) / nt.notes.length;
    // lyric alignment dominates; then monophony and height
    const score = aligned * 1000 + isMonophonicShare(nt.notes) * 200 + mean;
    if (score > bestScore) { bestScore = score; melody = nt; }
  }
  const line = skyline(melody.notes);
  const lineOnsets = new Map(line.map((n, k) => [n.tick, k]));
  const findNote = (tick) => { for (let d = 0; d <= tol; d++) { if (lineOnsets.has(tick + d)) return lineOnsets.get(tick + d); if (d && lineOnsets.has(tick - d)) return lineOnsets.get(tick - d); } return -1; };

  // Verses: lyric tracks whose syllables mostly land on melody-line onsets.
  const verses = [];
  for (const lt of lyricTracks) {
    const syl = lt.lyrics.map((e) => ({ tick: e.tick, s: cleanSyllable(e.text) })).filter((x) => x.s);
    const hit = syl.filter((x) => findNote(x.tick) >= 0).length;
    if (!syl.length || hit / syl.length < 0.6) continue;
    // A lyric stream that fits another voice's rhythm better (madrigals, rounds) belongs to that voice.
    const ratio = (nt) => { const on = new Set(nt.notes.map((n) => n.tick)); return syl.filter((x) => hasOnset(on, x.tick)).length / syl.length; };
    const mine = ratio(melody);
    if (noteTracks.some((nt) => nt !== melody && ratio(nt) > mine + 0.02)) continue;
    verses.push({ track: lt.i, syl, hit });
  }

  // Meter, key, tempo
  const ts = midi.timeSignatures[0];
  const meter = ts ? [ts.numerator, ts.denominator] : [4, 4];
  const ks = midi.keySignatures[0];
  const key = ks ? keyFromFifths(ks.fifths, ks.minor ? 'minor' : 'major') : null;
  const tempo = midi.tempos.length ? Math.round(midi.tempos[0].bpm * 100) / 100 : null;
  // Bar grid: time-signature segments; the first segment may start with a pickup.
  const segs = (midi.timeSignatures.length ? midi.timeSignatures : [{ tick: 0, numerator: 4, denominator: 4 }])
    .filter((s, k, a) => k === a.length - 1 || a[k + 1].tick !== s.tick);
  if (segs[0].tick > 0) segs.unshift({ tick: 0, numerator: 4, denominator: 4 });
  const barLen = (s) => Math.round(ppq * 4 * s.numerator / s.denominator);
  const beatLen = (s) => (s.denominator === 8 && s.numerator % 3 === 0 && s.numerator > 3 ? Math.round(ppq * 1.5) : Math.round(ppq * 4 / s.denominator));
  const firstSegEnd = segs.length > 1 ? segs[1].tick : Infinity;
  const pickupTicks = estimatePickup(line.filter((n) => n.tick < firstSegEnd), barLen(segs[0]), beatLen(segs[0]));
  const pickup = pickupTicks > 0 && line.length > 0 && line[0].tick < pickupTicks;
  const barAt = (tick) => {
    let bar = 0;
    for (let k = 0; k < segs.length; k++) {
      const s = segs[k], end = k + 1 < segs.length ? segs[k + 1].tick : Infinity;
      const L = barLen(s);
      const off = k === 0 && pickup ? pickupTicks : 0;
      const t = Math.min(tick, end);
      if (t < s.tick) break;
      const local = t - s.tick;
      let idx = off ? (local < off ? 0 : 1 + Math.floor((local - off) / L)) : Math.floor(local / L);
      if (tick < end) return bar + idx;
      // bars in the whole segment
      const segLen = end - s.tick;
      bar += off ? (segLen <= off ? 1 : 1 + Math.ceil((segLen - off) / L)) : Math.ceil(segLen / L);
    }
    return bar;
  };

  // Note list with rests between melody notes
  const base = [];
  let cursor = line.length ? Math.min(0, line[0].tick) : 0;
  for (const n of line) {
    if (n.tick > cursor + tol) base.push({ pitch: null, tick: cursor, endTick: n.tick });
    base.push({ pitch: n.pitch, tick: n.tick, endTick: Math.max(n.endTick, n.tick + 1) });
    cursor = Math.max(cursor, n.endTick);
  }
  const title = (midi.tracks[0] && midi.tracks[0].name && !trackNotes(midi.tracks[0]).length ? midi.tracks[0].name : null) || file.replace(/\.(midi?|kar)$/i, '');
  const names = [file, ...midi.tracks.map((t) => t.name || '')].join(' ');
  const type = /hymn|chorale/i.test(names) ? 'hymn' : 'song';

  const makeRecord = (verseIdx, syl) => {
    const sylAt = new Map();
    let unaligned = 0;
    for (const x of syl || []) {
      const k = findNote(x.tick);
      if (k < 0) { unaligned++; continue; }
      const bi = base.findIndex((b) => b.tick === line[k].tick && b.pitch !== null);
      if (x.s.joinPrev) {
        const prev = [...sylAt.keys()].filter((j) => j < bi).pop();
        if (prev !== undefined && !sylAt.get(prev).endsWith('-')) sylAt.set(prev, sylAt.get(prev) + '-');
      }
      if (sylAt.has(bi)) sylAt.set(bi, sylAt.get(bi) + ' ' + x.s.text); else sylAt.set(bi, x.s.text);
    }
    let lo = 0, hi = base.length - 1;
    if (sylAt.size) {
      const idx = [...sylAt.keys()].sort((a, b) => a - b);
      const b0 = barAt(base[idx[0]].tick), b1 = barAt(base[idx[idx.length - 1]].tick);
      lo = base.findIndex((b) => barAt(b.tick) >= b0);
      hi = base.length - 1;
      while (hi > lo && barAt(base[hi].tick) > b1) hi--;
    }
    const t0 = lo > 0 ? base[lo].tick : 0;
    const bar0 = lo > 0 ? barAt(base[lo].tick) : 0;
    const notes = [];
    for (let k = lo; k <= hi; k++) {
      const b = base[k];
      const s12 = Math.round((b.tick - t0) * 12 / ppq), e12 = Math.round((b.endTick - t0) * 12 / ppq);
      if (e12 <= s12) continue; // quantised away (grace-like blips)
      const start = s12 / 12, dur = (e12 - s12) / 12;
      const rec = [b.pitch, start, dur, barAt(b.tick) - bar0];
      if (sylAt.has(k)) rec.push(sylAt.get(k));
      notes.push(rec);
    }
    const rec = {
      source, file, id: `${file}#${verseIdx}`, title: verseIdx ? `${title} (verse ${verseIdx + 1})` : title,
      type, key, meter, tempo, notes, chords: [],
    };
    if ((lo === 0 && pickup) || (lo > 0 && pickup && bar0 === 0)) rec.pickup = true;
    rec.verse = verseIdx + 1;
    rec.bar_offset = bar0;
    rec.melody_track = melody.name || melody.i;
    if (unaligned) rec.unaligned_syllables = unaligned;
    return rec;
  };
  if (!verses.length) return [makeRecord(0, null)];
  return verses.map((v, k) => makeRecord(k, v.syl));
}

// MusicXML (.mxl zipped or plain .xml) reader: the soprano line of a chorale as a record (docs/melody-data.md).
import { inflateRawSync } from 'node:zlib';
import { keyFromFifths } from './midi.mjs';

// ---------------------------------------------------------------- zip
/** Read a zip archive into Map(name -> Buffer). Uses the central directory; falls back to local headers. */
export function unzip(buffer) {
  const buf = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer);
  const out = new Map();
  const entryData = (lho, method, csize) => {
    if (buf.readUInt32LE(lho) !== 0x04034b50) throw new Error('bad local header');
    const nlen = buf.readUInt16LE(lho + 26), xlen = buf.readUInt16LE(lho + 28);
    const start = lho + 30 + nlen + xlen;
    const raw = buf.subarray(start, start + csize);
    if (method === 0) return Buffer.from(raw);
    if (method === 8) return inflateRawSync(raw);
    throw new Error(`zip method ${method} not supported`);
  };
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd >= 0) {
    const count = buf.readUInt16LE(eocd + 10);
    let p = buf.readUInt32LE(eocd + 16);
    for (let k = 0; k < count && buf.readUInt32LE(p) === 0x02014b50; k++) {
      const method = buf.readUInt16LE(p + 10);
      const csize = buf.readUInt32LE(p + 20);
      const nlen = buf.readUInt16LE(p + 28), xlen = buf.readUInt16LE(p + 30), clen = buf.readUInt16LE(p + 32);
      const lho = buf.readUInt32LE(p + 42);
      const name = buf.toString('utf8', p + 46, p + 46 + nlen);
      if (!name.endsWith('/')) out.set(name, entryData(lho, method, csize));
      p += 46 + nlen + xlen + clen;
    }
    return out;
  }
  // No central directory: walk local headers (sizes must be in the header).
  let p = 0;
  while (p + 30 <= buf.length && buf.readUInt32LE(p) === 0x04034b50) {
    const method = buf.readUInt16LE(p + 8), csize = buf.readUInt32LE(p + 18);
    const nlen = buf.readUInt16LE(p + 26), xlen = buf.readUInt16LE(p + 28);
    const name = buf.toString('utf8', p + 30, p + 30 + nlen);
    if (!name.endsWith('/')) out.set(name, entryData(p, method, csize));
    p += 30 + nlen + xlen + csize;
  }
  if (!out.size) throw new Error('not a zip archive');
  return out;
}

// ---------------------------------------------------------------- XML
const ENT = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeEntities = (s) => s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e) =>
  e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ENT[e] ?? m);

/** Minimal XML parser for well-formed documents: returns the root element {name, attrs, children, text}. */
export function parseXml(src) {
  const root = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE(?:[^>\[]|\[[^\]]*\])*>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=>\/]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
  let m;
  while ((m = re.exec(src))) {
    const top = stack[stack.length - 1];
    if (m[1] !== undefined) { top.text += m[1]; continue; }
    if (m[6] !== undefined) { top.text += decodeEntities(m[6]); continue; }
    if (!m[3]) continue; // comment, PI, doctype
    if (m[2] === '/') {
      while (stack.length > 1 && stack.pop().name !== m[3]);
      continue;
    }
    const attrs = {};
    const ar = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
    let a;
    while ((a = ar.exec(m[4]))) attrs[a[1]] = decodeEntities(a[2] ?? a[3]);
    const el = { name: m[3], attrs, children: [], text: '' };
    top.children.push(el);
    if (!m[5]) stack.push(el);
  }
  return root.children.find((c) => c.name) || root;
}
const kids = (el, name) => (el ? el.children.filter((c) => c.name === name) : []);
const kid = (el, name) => (el ? el.children.find((c) => c.name === name) : undefined);
const txt = (el, name) => { const k = kid(el, name); return k ? k.text.trim() : undefined; };
function findAll(el, name, acc = []) { for (const c of el.children) { if (c.name === name) acc.push(c); findAll(c, name, acc); } return acc; }

// ---------------------------------------------------------------- MusicXML
const STEP = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** The MusicXML document inside an .mxl (or the buffer itself when it is plain XML). */
export function mxlXml(buffer) {
  const buf = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer);
  if (buf.readUInt32LE(0) !== 0x04034b50) return buf.toString('utf8');
  const files = unzip(buf);
  let path = null;
  const container = files.get('META-INF/container.xml');
  if (container) { const m = /full-path\s*=\s*"([^"]+)"/.exec(container.toString('utf8')); if (m) path = m[1]; }
  if (!path || !files.has(path)) path = [...files.keys()].find((n) => !n.startsWith('META-INF/') && /\.(xml|musicxml)$/i.test(n));
  if (!path) throw new Error('no MusicXML file in archive');
  return files.get(path).toString('utf8');
}

/** Read one .mxl/.xml buffer into a record of its soprano line. */
export function readMxl(buffer, { file = 'unknown.mxl', source = 'bach-chorales' } = {}) {
  return readMusicXml(mxlXml(buffer), { file, source });
}

export function readMusicXml(xml, { file = 'unknown.xml', source = 'bach-chorales' } = {}) {
  const score = parseXml(xml);
  if (score.name === 'score-timewise') throw new Error('score-timewise not supported');
  if (score.name !== 'score-partwise') throw new Error(`not a MusicXML score (${score.name})`);
  const partList = kid(score, 'part-list');
  const scoreParts = kids(partList, 'score-part');
  const parts = kids(score, 'part');
  if (!parts.length) throw new Error('no parts');
  const sp = scoreParts.find((p) => /^\s*(soprano|sopran|s\.?)\b/i.test(txt(p, 'part-name') || '')) ;
  const part = (sp && parts.find((p) => p.attrs.id === sp.attrs.id)) || parts[0];
  const partName = sp ? txt(sp, 'part-name') : txt(scoreParts.find((p) => p.attrs.id === part.attrs.id), 'part-name') || null;

  let divisions = 1, fifths = null, mode = null, meter = null, tempo = null, voice = null;
  const measures = [];
  let endingNums = null; // active ending numbers
  for (const m of kids(part, 'measure')) {
    const me = { number: m.attrs.number, implicit: m.attrs.implicit === 'yes', events: [], len: 0, forward: false, backward: 0, ending: null, meter: null };
    let pos = 0, maxPos = 0, lastOnset = 0;
    for (const c of m.children) {
      if (c.name === 'attributes') {
        const d = txt(c, 'divisions'); if (d) divisions = Number(d);
        const k = kid(c, 'key');
        if (k && fifths === null && txt(k, 'fifths') !== undefined) { fifths = Number(txt(k, 'fifths')); mode = txt(k, 'mode') || 'major'; }
        const t = kid(c, 'time');
        if (t && txt(t, 'beats')) { const mt = [Number(txt(t, 'beats').split('+').reduce((s, x) => s + Number(x), 0)), Number(txt(t, 'beat-type'))]; me.meter = mt; if (!meter) meter = mt; }
      } else if (c.name === 'backup') { pos -= Number(txt(c, 'duration') || 0); }
      else if (c.name === 'forward') { pos += Number(txt(c, 'duration') || 0); maxPos = Math.max(maxPos, pos); }
      else if ((c.name === 'sound' || c.name === 'direction') && tempo === null) {
        const s = c.name === 'sound' ? c : findAll(c, 'sound')[0];
        if (s && s.attrs.tempo) tempo = Number(s.attrs.tempo);
      } else if (c.name === 'barline') {
        const r = kid(c, 'repeat');
        if (r && r.attrs.direction === 'forward') me.forward = true;
        if (r && r.attrs.direction === 'backward') me.backward = Number(r.attrs.times || 2);
        const e = kid(c, 'ending');
        if (e && e.attrs.type === 'start') endingNums = String(e.attrs.number || '1').split(/[,\s]+/).filter(Boolean).map(Number);
        if (e && (e.attrs.type === 'stop' || e.attrs.type === 'discontinue')) { me.ending = me.ending || endingNums; me.endingStop = true; }
      } else if (c.name === 'note') {
        const isChord = !!kid(c, 'chord');
        const grace = !!kid(c, 'grace');
        const dur = Number(txt(c, 'duration') || 0);
        const v = txt(c, 'voice') || '1';
        if (grace || kid(c, 'cue')) continue;
        if (voice === null) voice = v;
        const onset = isChord ? lastOnset : pos;
        if (!isChord) { lastOnset = pos; pos += dur; maxPos = Math.max(maxPos, pos); }
        if (v !== voice) continue;
        const p = kid(c, 'pitch');
        const pitch = p ? 12 * (Number(txt(p, 'octave')) + 1) + STEP[txt(p, 'step')] + Math.round(Number(txt(p, 'alter') || 0)) : null;
        const ties = kids(c, 'tie').map((t) => t.attrs.type);
        const tied = findAll(c, 'tied').map((t) => t.attrs.type);
        const ev = { pitch, onset: onset / divisions, dur: dur / divisions, tieStart: ties.includes('start') || tied.includes('start'), tieStop: ties.includes('stop') || tied.includes('stop'), lyrics: [] };
        for (const l of kids(c, 'lyric')) {
          const texts = kids(l, 'text').map((t) => t.text);
          if (!texts.length) continue;
          let s = texts.join(' ').replace(/\s+/g, ' ').trim();
          const syl = txt(l, 'syllabic');
          if (!s) continue;
          if (syl === 'begin' || syl === 'middle') s += '-';
          ev.lyrics.push({ n: Number(l.attrs.number || 1), text: s });
        }
        ev.lyrics.sort((a, b) => a.n - b.n);
        if (isChord) {
          const prev = me.events[me.events.length - 1];
          if (prev && prev.onset === ev.onset && pitch !== null && (prev.pitch === null || pitch > prev.pitch)) {
            prev.pitch = pitch; prev.tieStart = prev.tieStart || ev.tieStart; prev.tieStop = prev.tieStop || ev.tieStop;
            if (!prev.lyrics.length) prev.lyrics = ev.lyrics;
          }
          continue;
        }
        me.events.push(ev);
      }
    }
    if (endingNums && !me.ending) me.ending = endingNums;
    if (me.endingStop) endingNums = null;
    me.len = maxPos / divisions;
    measures.push(me);
  }
  if (!measures.length) throw new Error('no measures');
  if (!meter) meter = [4, 4];

  // Expand repeats (forward/backward barlines, numbered endings).
  const order = [];
  let i = 0, repeatStart = 0, pass = 1;
  const done = new Map();
  while (i < measures.length && order.length < measures.length * 8) {
    const m = measures[i];
    if (m.forward && pass === 1) repeatStart = i;
    if (m.ending && !m.ending.includes(pass)) { i++; continue; }
    order.push({ idx: i, pass });
    if (m.backward) {
      const d = done.get(i) || 0;
      if (d < m.backward - 1) { done.set(i, d + 1); pass = d + 2; i = repeatStart; continue; }
      pass = 1; repeatStart = i + 1;
    }
    i++;
  }

  // Lyric verse numbers in use: pass k sings the k-th number where a note has several.
  const barLen = (m) => 4 * (m.meter || meter)[0] / (m.meter || meter)[1];
  let curMeter = meter;
  const notes = [];
  let t = 0;
  // Bars: the source's measures in playing order, except that consecutive short measures that together
  // fill one bar (chorale encodings often split a bar at a phrase end or at a repeat sign) count as one bar.
  let bar = -1, fill = Infinity;
  order.forEach(({ idx, pass: p }) => {
    const m = measures[idx];
    const meterChange = m.meter && (m.meter[0] !== curMeter[0] || m.meter[1] !== curMeter[1]);
    if (m.meter) curMeter = m.meter;
    const full = barLen({ meter: curMeter });
    const mlen = m.len || full;
    if (fill < full - 1e-9 && fill + mlen <= full + 1e-9 && !meterChange) fill += mlen;
    else { bar++; fill = mlen; }
    let cursor = 0;
    for (const ev of m.events) {
      if (ev.onset > cursor + 1e-9) notes.push({ pitch: null, start: t + cursor, dur: ev.onset - cursor, bar });
      const lyr = ev.lyrics.length ? ev.lyrics[Math.min(p - 1, ev.lyrics.length - 1)].text : null;
      notes.push({ pitch: ev.pitch, start: t + ev.onset, dur: ev.dur, bar, tieStart: ev.tieStart, tieStop: ev.tieStop, lyr });
      cursor = Math.max(cursor, ev.onset + ev.dur);
    }
    const len = m.len || barLen({ meter: curMeter });
    if (cursor < len - 1e-9 && m.events.length === 0) notes.push({ pitch: null, start: t, dur: len, bar });
    else if (cursor < len - 1e-9) notes.push({ pitch: null, start: t + cursor, dur: len - cursor, bar });
    t += len;
  });
  const firstBarLen = notes.filter((n) => n.bar === 0).reduce((a, n) => a + n.dur, 0);
  const pickup = bar > 0 && firstBarLen > 0 && firstBarLen < 4 * meter[0] / meter[1] - 1e-9;

  // Merge ties and consecutive rests.
  const merged = [];
  for (const n of notes) {
    const prev = merged[merged.length - 1];
    if (prev && n.pitch !== null && n.tieStop && prev.pitch === n.pitch && prev.tieStart && !n.lyr && Math.abs(prev.start + prev.dur - n.start) < 1e-6) {
      // a tied continuation that carries its own syllable is sung again, so it stays a note
      prev.dur += n.dur; prev.tieStart = n.tieStart; continue;
    }
    if (prev && n.pitch === null && prev.pitch === null && prev.bar === n.bar) { prev.dur += n.dur; continue; }
    merged.push({ ...n });
  }
  const out = [];
  for (const n of merged) {
    // quantise both ends to 1/12 so quantised notes never overlap
    const s12 = Math.round(n.start * 12), e12 = Math.round((n.start + n.dur) * 12);
    if (e12 <= s12) continue;
    const r = [n.pitch, s12 / 12, (e12 - s12) / 12, n.bar];
    if (n.lyr) r.push(n.lyr);
    out.push(r);
  }
  const titleEl = findAll(score, 'movement-title')[0] || findAll(score, 'work-title')[0];
  const credit = findAll(score, 'credit-words')[0];
  const title = (titleEl && titleEl.text.trim()) || (credit && credit.text.trim()) || file.replace(/\.(mxl|xml|musicxml)$/i, '');
  const rec = {
    source, file, id: `${file}#0`, title, type: 'hymn',
    key: fifths === null ? null : keyFromFifths(fifths, mode),
    meter, tempo, notes: out, chords: [],
  };
  if (pickup) rec.pickup = true;
  rec.part = partName;
  return rec;
}

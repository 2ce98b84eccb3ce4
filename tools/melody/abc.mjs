// ABC notation parser -> melody records (docs/melody-data.md).
// Plain Node ESM, no dependencies. One tune per X: header.
//
//   parseAbcFile(text, {file, source}) -> [{record, error}]
//
// Handles: header fields T: M: L: K: Q: R: P:, inline [K:] [M:] [L:] and body field lines, notes with
// accidentals (carrying through the bar, per octave), key signatures incl. modes and explicit
// accidentals, lengths, broken rhythm, rests z x Z, ties (merged), slurs/decorations/grace notes
// (ignored), tuplets (p:q:r, chords (top note), chord symbols, bar lines, repeats and endings
// (expanded), anacrusis. Times are quarter notes, quantised to 1/12.

const Q = 12; // quantisation steps per quarter note
const quant = (x) => Math.round(x * Q) / Q;
const EPS = 1e-6;
// chord symbols as written in the sources (Nottingham: "D/f+" = D over F#, "Cd" dim, "Ea" aug)
const CHORD_RE = /^[A-G][#b]?(m|min|maj|dim|aug|sus|M|\+|o|d|a)?[0-9]*((add|sus|maj|m|b|#|dim|aug)[0-9]*)*(\/[A-Ga-g][#b+-]?)?$/;

const LETTER_FIFTHS = { F: -1, C: 0, G: 1, D: 2, A: 3, E: 4, B: 5 };
const LETTER_SEMI = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const SHARP_ORDER = ['F', 'C', 'G', 'D', 'A', 'E', 'B'];
const MODES = {
  maj: ['major', 0], ion: ['major', 0], min: ['minor', -3], aeo: ['minor', -3], m: ['minor', -3],
  dor: ['dorian', -2], mix: ['mixolydian', -1], lyd: ['lydian', 1], phr: ['phrygian', -4],
  loc: ['locrian', -5],
};

/** Accidental map {letter: semitone offset} for a number of fifths (-7..7). */
export function keyAccidentals(fifths) {
  const acc = {};
  for (const l of 'CDEFGAB') acc[l] = 0;
  if (fifths > 0) for (let i = 0; i < Math.min(fifths, 7); i++) acc[SHARP_ORDER[i]] = 1;
  if (fifths < 0) for (let i = 0; i < Math.min(-fifths, 7); i++) acc[SHARP_ORDER[6 - i]] = -1;
  return acc;
}

/** Parse a K: value. Returns {key: {tonic, mode, fifths}, acc} or null if unparseable. */
export function parseKey(value) {
  let v = value.replace(/%.*$/, '').trim();
  // drop clef= and other name=value modifiers
  v = v.replace(/\b\w+=\S+/g, (m) => (/^[_=^]/.test(m) ? m : '')).trim();
  if (v === '' || /^none$/i.test(v)) return { key: { tonic: 'C', mode: 'major', fifths: 0 }, acc: keyAccidentals(0), none: true };
  if (v === 'HP') return { key: { tonic: 'A', mode: 'mixolydian', fifths: 2 }, acc: keyAccidentals(0) };
  if (v === 'Hp') return { key: { tonic: 'A', mode: 'mixolydian', fifths: 2 }, acc: { ...keyAccidentals(2), G: 0 } };
  const m = /^([A-Ga-g])\s*([#b]?)\s*(.*)$/.exec(v);
  if (!m) return null;
  const tonicLetter = m[1].toUpperCase();
  const tonic = tonicLetter + m[2];
  let rest = m[3].trim();
  let mode = 'major';
  let off = 0;
  const mm = /^([A-Za-z]+)/.exec(rest);
  if (mm) {
    const word = mm[1];
    const low = word.toLowerCase();
    let found = null;
    if (low === 'm' || low === 'minor') found = MODES.m;
    else if (low === 'major' || low === 'M') found = MODES.maj;
    else if (low.length >= 3 && MODES[low.slice(0, 3)]) found = MODES[low.slice(0, 3)];
    if (found) { [mode, off] = found; rest = rest.slice(word.length).trim(); }
    else if (!/^(clef|treble|bass|alto|tenor|transpose|middle|octave|stafflines)/i.test(low)) return null;
  }
  const fifths = LETTER_FIFTHS[tonicLetter] + (m[2] === '#' ? 7 : m[2] === 'b' ? -7 : 0) + off;
  if (fifths < -7 || fifths > 7) return null;
  const acc = keyAccidentals(fifths);
  // explicit accidentals, e.g. "Dmix =c ^g"
  const re = /(\^\^|\^|__|_|=)([A-Ga-g])/g;
  let e;
  while ((e = re.exec(rest))) acc[e[2].toUpperCase()] = { '^^': 2, '^': 1, '=': 0, '_': -1, '__': -2 }[e[1]];
  return { key: { tonic, mode, fifths }, acc };
}

/** Parse M: value -> {meter: [n, d], barLen (quarters)} or null (free meter). */
export function parseMeter(value) {
  const v = value.replace(/%.*$/, '').trim();
  if (v === 'C') return { meter: [4, 4], barLen: 4 };
  if (v === 'C|') return { meter: [2, 2], barLen: 4 };
  const m = /^\(?([\d+]+)\)?\s*\/\s*(\d+)/.exec(v);
  if (!m) return null;
  const n = m[1].split('+').reduce((a, b) => a + Number(b), 0);
  const d = Number(m[2]);
  if (!n || !d) return null;
  return { meter: [n, d], barLen: (4 * n) / d };
}

function parseFraction(v) {
  const m = /^\s*(\d+)\s*\/\s*(\d+)/.exec(v);
  if (m) return Number(m[1]) / Number(m[2]);
  const n = /^\s*(\d+)\s*$/.exec(v);
  return n ? Number(n[1]) : null;
}

/** Q: -> quarter notes per minute, or null. unitLen is L in whole notes. */
export function parseTempo(value, unitLen) {
  const v = value.replace(/"[^"]*"/g, ' ').replace(/%.*$/, '').trim();
  let m = /((?:\d+\/\d+\s*)+)=\s*(\d+(?:\.\d+)?)/.exec(v);
  if (m) {
    const beat = m[1].trim().split(/\s+/).reduce((a, f) => a + parseFraction(f), 0);
    return Math.round(Number(m[2]) * beat * 4 * 100) / 100;
  }
  m = /^C\s*=\s*(\d+)/.exec(v) || /^(\d+)$/.exec(v);
  if (m) return Math.round(Number(m[1]) * unitLen * 4 * 100) / 100;
  return null;
}

const TYPE_WORDS = [
  [/slip\s*-?\s*jig/i, 'slip_jig'],
  [/\bjigg?s?\b/i, 'jig'],
  [/\breels?\b/i, 'reel'],
  [/\bhornpipes?\b/i, 'hornpipe'],
  [/\bclogs?\b/i, 'hornpipe'],
  [/\bwaltz(es)?\b/i, 'waltz'],
  [/\bpolkas?\b/i, 'polka'],
  [/\b(quick\s*)?march(es)?\b|\bquick\s*step\b/i, 'march'],
  [/\bairs?\b/i, 'air'],
  [/\bhymns?\b/i, 'hymn'],
  [/\bsongs?\b/i, 'song'],
];

/** Tune type from a text (R: field or title); null when none of the known words. */
export function typeFromText(text) {
  if (!text) return null;
  for (const [re, t] of TYPE_WORDS) if (re.test(text)) return t;
  return null;
}

const NOTTINGHAM_FILE_TYPES = {
  jigs: 'jig', hpps: 'hornpipe', waltzes: 'waltz', slip: 'slip_jig', xmas: 'song',
  morris: null, playford: null, ashover: null,
};

export function typeFromFile(file) {
  const base = String(file || '').replace(/^.*\//, '').replace(/\.abc$/i, '').toLowerCase();
  if (base.startsWith('reels')) return 'reel';
  if (base in NOTTINGHAM_FILE_TYPES) return NOTTINGHAM_FILE_TYPES[base];
  return undefined; // file name says nothing
}

/** Split a file into tunes: [{lines, lineNo, x}] */
export function splitTunes(text) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const tunes = [];
  let cur = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^X:/.test(line)) {
      cur = { x: line.slice(2).trim(), lineNo: i + 1, lines: [] };
      tunes.push(cur);
      continue;
    }
    if (!cur) continue;
    cur.lines.push(line);
  }
  return tunes;
}

class AbcError extends Error {}

/**
 * Parse the body of one tune into a list of bars (before repeat expansion).
 * Each bar: {events: [...], startRepeat, endRepeat, ending: [n..] | null, endsSection}.
 * Events: {kind: 'note', pitch|null, dur} | {kind: 'chord', sym} | {kind: 'mrest', bars}
 */
function parseTune(tune, ctx) {
  const st = {
    title: null, rhythm: null, meter: null, barLen: null, unit: null, key: null, acc: null,
    tempoRaw: null, headerDone: false,
  };
  const bars = [];
  let bar = null;
  const newBar = () => { bar = { events: [], startRepeat: false, endRepeat: 0, ending: null, meter: st.meter, barLen: st.barLen, bar: true }; bars.push(bar); };
  let barAcc = {}; // "letter,octave" -> semitone offset within the bar
  let lastNote = null; // last note event (for ties and broken rhythm)
  let tiePending = false;
  let brokenNext = 1;
  let tuplet = null; // {factor, left}
  let firstMeter = null;
  let firstKey = null;

  const applyField = (name, value, inBody) => {
    switch (name) {
      case 'T': if (st.title == null) st.title = value.trim(); break;
      case 'R': if (st.rhythm == null) st.rhythm = value.trim(); break;
      case 'M': {
        const m = parseMeter(value);
        if (m) { st.meter = m.meter; st.barLen = m.barLen; } else if (!st.meter) { st.meter = null; st.barLen = null; }
        if (!inBody && st.unit == null && m) {} // default unit decided at K:
        if (bar && bar.events.length === 0) { bar.meter = st.meter; bar.barLen = st.barLen; }
        break;
      }
      case 'L': { const f = parseFraction(value); if (f) st.unit = f; break; }
      case 'Q': st.tempoRaw = value; break;
      case 'K': {
        const k = parseKey(value);
        if (!k) throw new AbcError(`unparseable key "${value.trim()}"`);
        st.key = k.key; st.acc = k.acc; barAcc = {};
        break;
      }
      default: break;
    }
  };

  const emitNote = (pitch, dur) => {
    if (!bar) newBar();
    if (brokenNext !== 1) { dur *= brokenNext; brokenNext = 1; }
    if (tuplet) { dur *= tuplet.factor; if (--tuplet.left <= 0) tuplet = null; }
    // ties are merged when the record is flattened (so bar durations stay exact)
    if (tiePending && lastNote && pitch != null && lastNote.pitch === pitch) lastNote.tie = true;
    tiePending = false;
    if (firstMeter == null) { firstMeter = { meter: st.meter, barLen: st.barLen }; firstKey = st.key; }
    const ev = { kind: 'note', pitch, dur };
    bar.events.push(ev);
    lastNote = ev;
    return ev;
  };

  const parseLength = (s, i) => {
    let num = 1; let den = 1;
    let m = /^\d+/.exec(s.slice(i));
    if (m) { num = Number(m[0]); i += m[0].length; }
    while (s[i] === '/') {
      i++;
      m = /^\d+/.exec(s.slice(i));
      if (m) { den *= Number(m[0]); i += m[0].length; } else den *= 2;
    }
    return [num / den, i];
  };

  const parseNoteAt = (s, i) => {
    // accidentals
    let accStr = '';
    while (s[i] === '^' || s[i] === '_' || s[i] === '=') accStr += s[i++];
    const letter = s[i];
    if (!/[A-Ga-g]/.test(letter || '')) return null;
    i++;
    let octave = letter === letter.toUpperCase() ? 4 : 5;
    while (s[i] === "'" || s[i] === ',') { octave += s[i] === "'" ? 1 : -1; i++; }
    const L = letter.toUpperCase();
    const keyId = L + octave;
    let alt;
    if (accStr) {
      alt = { '^': 1, '^^': 2, '_': -1, '__': -2, '=': 0 }[accStr];
      if (alt === undefined) alt = 0;
      barAcc[keyId] = alt;
    } else if (keyId in barAcc) alt = barAcc[keyId];
    else alt = st.acc[L];
    const pitch = 12 * (octave + 1) + LETTER_SEMI[L] + alt;
    let len;
    [len, i] = parseLength(s, i);
    return { pitch, len, i };
  };

  const tupletDefaultQ = (p) => {
    if (p === 3 || p === 6) return 2;
    if (p === 2 || p === 4 || p === 8) return 3;
    const compound = st.meter && st.meter[0] % 3 === 0 && st.meter[0] > 3;
    return compound ? 3 : 2;
  };

  // ----- header and body lines -----
  let body = ''; // accumulated music text (field changes as inline [X:...])
  for (let raw of tune.lines) {
    if (/^\s*$/.test(raw)) { if (st.headerDone) break; continue; } // a blank line ends the tune
    const line = raw.replace(/%.*$/, ''); // strip comments and %% directives
    if (/^\s*$/.test(line)) continue;
    const f = /^([A-Za-z+]):(.*)$/.exec(line);
    if (f && !(st.headerDone && /^[|:\[]/.test(line))) {
      const [, name, value] = f;
      if (!st.headerDone) {
        applyField(name, value, false);
        if (name === 'K') {
          st.headerDone = true;
          if (st.unit == null) st.unit = st.barLen != null && st.barLen < 3 ? 1 / 16 : 1 / 8;
          st.headerMeter = st.meter;
        }
      } else if ('KMLQ'.includes(name)) {
        body += `[${name}:${value}]`;
      } else if (name === 'w' || name === 'W') { /* lyrics not in ABC data here */ }
      continue;
    }
    if (!st.headerDone) continue; // music before K: (malformed) – ignore
    body += line.replace(/\\\s*$/, '') + '\n';
  }
  if (!st.headerDone) throw new AbcError('no K: field');
  if (st.unit == null) st.unit = 1 / 8;
  const unitQ = () => st.unit * 4; // unit length in quarter notes

  // ----- body tokenizer -----
  const s = body;
  let i = 0;
  const n = s.length;
  const startEnding = (nums) => {
    if (!bar || bar.events.length > 0) newBar();
    bar.ending = nums;
  };
  const readEndingNums = (j) => {
    const m = /^(\d+(?:\s*[-,]\s*\d+)*)/.exec(s.slice(j));
    if (!m) return null;
    const nums = [];
    for (const part of m[1].split(',')) {
      const r = part.split('-').map((x) => Number(x.trim()));
      if (r.length === 2) for (let k = r[0]; k <= r[1]; k++) nums.push(k); else nums.push(r[0]);
    }
    return { nums, end: j + m[0].length };
  };
  while (i < n) {
    const c = s[i];
    // bar lines and repeats
    if (c === '|' || (c === ':' && /[|:\]]/.test(s[i + 1] || '')) || (c === '[' && s[i + 1] === '|')) {
      let j = i;
      while (j < n && /[|:\]\[]/.test(s[j])) {
        if (s[j] === '[' && s[j + 1] !== '|') break; // [1 or chord after bar
        if (s[j] === ']' && j > i && s[j - 1] !== '|') break;
        j++;
      }
      const tok = s.slice(i, j);
      i = j;
      const endRep = /^:/.test(tok) ? 1 : 0; // ":|", "::", ":|]", ":||:" (not "|:|||:")
      const startRep = /[|\[]:$/.test(tok) || /::$/.test(tok) || /:\|+:/.test(tok) ? 1 : 0;
      const isDouble = /\|\||\|\]|\[\|/.test(tok);
      if (bar) { if (endRep) bar.endRepeat = 1; if (isDouble || endRep) bar.endsSection = true; }
      if (tok === '::' && bar) bar.endRepeat = 1;
      barAcc = {};
      tiePending = tiePending && lastNote != null; // ties across bar lines allowed
      newBar();
      if (startRep) bar.startRepeat = true;
      // ending right after bar line: |1 or :|2 or | [2
      const e = readEndingNums(i);
      if (e) { bar.ending = e.nums; i = e.end; }
      continue;
    }
    if (c === '[') {
      const nx = s[i + 1] || '';
      if (/\d/.test(nx)) { // [1 ending
        const e = readEndingNums(i + 1);
        startEnding(e.nums);
        i = e.end;
        continue;
      }
      if (/[A-Za-z]/.test(nx) && s[i + 2] === ':') { // inline field
        const end = s.indexOf(']', i);
        const fieldEnd = end < 0 ? n : end;
        const name = nx; const value = s.slice(i + 3, fieldEnd);
        applyField(name, value, true);
        i = fieldEnd + 1;
        continue;
      }
      // chord: take the top note
      const end = s.indexOf(']', i);
      if (end < 0) throw new AbcError('unterminated chord');
      const inner = s.slice(i + 1, end);
      let j = 0; let top = null; let firstLen = null;
      while (j < inner.length) {
        const r = parseNoteAt(inner, j);
        if (r) { if (top == null || r.pitch > top) top = r.pitch; if (firstLen == null) firstLen = r.len; j = r.i; }
        else j++;
      }
      i = end + 1;
      let mult; [mult, i] = parseLength(s, i);
      if (top == null) continue;
      emitNote(top, (firstLen ?? 1) * mult * unitQ());
      if (s[i] === '-') { tiePending = true; i++; }
      continue;
    }
    if (c === '"') {
      const end = s.indexOf('"', i + 1);
      const text = end < 0 ? '' : s.slice(i + 1, end);
      i = end < 0 ? n : end + 1;
      if (CHORD_RE.test(text)) { // "^text" etc. annotations, fingerings, "D.C." are not chords
        if (!bar) newBar();
        bar.events.push({ kind: 'chord', sym: text });
      }
      continue;
    }
    if (c === '{') { const end = s.indexOf('}', i); i = end < 0 ? n : end + 1; continue; }
    if (c === '!' || c === '+') {
      const end = s.indexOf(c, i + 1);
      if (end > 0 && end - i < 40 && !s.slice(i + 1, end).includes('\n')) { i = end + 1; continue; }
      i++; continue;
    }
    if (c === '(') {
      const m = /^\((\d+)(?::(\d*))?(?::(\d*))?/.exec(s.slice(i));
      if (m) {
        const p = Number(m[1]);
        const q = m[2] ? Number(m[2]) : tupletDefaultQ(p);
        const r = m[3] ? Number(m[3]) : p;
        tuplet = { factor: q / p, left: r };
        i += m[0].length;
        continue;
      }
      i++; continue; // slur
    }
    if (c === '>' || c === '<') {
      let k = 0; while (s[i + k] === c) k++;
      const small = 1 / 2 ** k; const big = 2 - small;
      if (lastNote) {
        const f = c === '>' ? big : small;
        // lastNote.dur already includes its tuplet factor; scale
        lastNote.dur *= f;
        brokenNext = c === '>' ? small : big;
      }
      i += k; continue;
    }
    if (c === '-') { tiePending = true; i++; continue; }
    if (/[\^_=A-Ga-g]/.test(c)) {
      const r = parseNoteAt(s, i);
      if (!r) { i++; continue; }
      i = r.i;
      emitNote(r.pitch, r.len * unitQ());
      if (s[i] === '-') { tiePending = true; i++; }
      continue;
    }
    if (c === 'z' || c === 'x') {
      i++;
      let len; [len, i] = parseLength(s, i);
      tiePending = false;
      emitNote(null, len * unitQ());
      continue;
    }
    if (c === 'Z') {
      i++;
      const m = /^\d+/.exec(s.slice(i));
      const cnt = m ? Number(m[0]) : 1;
      if (m) i += m[0].length;
      const rest = s.slice(i).replace(/^[ \t]*/, '');
      const alone = (!bar || !bar.events.some((e) => e.kind === 'note')) && /^(\||$|\n)/.test(rest);
      if (alone && st.barLen) {
        if (!bar) newBar();
        bar.events.push({ kind: 'mrest', bars: cnt, dur: cnt * st.barLen });
        lastNote = null;
      } else {
        emitNote(null, cnt * unitQ()); // Z mid-bar: a typo for z
      }
      continue;
    }
    if (c === '\n') { // line end: the last bar with notes ends a line (limits ending spans)
      for (let k = bars.length - 1; k >= 0; k--) if (bars[k].events.length) { bars[k].lineEnd = true; break; }
    }
    i++; // whitespace, decorations (. ~ H-Y u v), spacers, backticks, etc.
  }

  return { st, bars, firstMeter, firstKey };
}

/** Expand repeats and endings into a flat list of played bars. */
function expandRepeats(bars) {
  // drop empty bars (e.g. between "|" and "|:" on a line break) but keep their flags
  const list = [];
  for (const b of bars) {
    const hasNotes = b.events.some((e) => e.kind === 'note' || e.kind === 'mrest');
    if (!hasNotes) {
      // merge flags forward/backward
      if (b.startRepeat || b.ending) {
        b._carry = true; list.push(b);
      } else if (list.length) {
        const prev = list[list.length - 1];
        if (b.endRepeat) prev.endRepeat = 1;
        if (b.endsSection) prev.endsSection = true;
        if (b.events.length) prev.events.push(...b.events);
      }
      continue;
    }
    list.push(b);
  }
  // resolve carried empty bars: move their flags (and chord events) onto the next bar with notes
  const clean = [];
  let carry = null;
  for (const b of list) {
    if (b._carry) {
      carry = carry || { startRepeat: false, ending: null, events: [] };
      if (b.startRepeat) carry.startRepeat = true;
      if (b.ending) carry.ending = b.ending;
      carry.events.push(...b.events);
      if (b.endRepeat && clean.length) clean[clean.length - 1].endRepeat = 1;
      continue;
    }
    if (carry) {
      if (carry.startRepeat) b.startRepeat = true;
      if (carry.ending && !b.ending) b.ending = carry.ending;
      if (carry.events.length) b.events = [...carry.events, ...b.events];
      carry = null;
    }
    clean.push(b);
  }
  // ending spans: an ending continues until :|, ||, |], a new ending, a new |: or the line end
  let curEnding = null;
  for (const b of clean) {
    if (b.ending) curEnding = b.ending;
    else if (b.startRepeat) curEnding = null;
    b.endingSpan = curEnding;
    if (b.endRepeat || b.endsSection || b.lineEnd) curEnding = null;
  }
  const out = [];
  let pos = 0; let repStart = 0; let pass = 1;
  const jumped = new Set();
  let guard = 0;
  while (pos < clean.length) {
    if (++guard > 20000) throw new AbcError('repeat expansion runaway');
    const b = clean[pos];
    if (b.startRepeat && pos !== repStart) { repStart = pos; pass = 1; }
    const play = !b.endingSpan || b.endingSpan.includes(pass);
    if (play) {
      out.push(b);
      if (b.endRepeat && !jumped.has(pos)) { jumped.add(pos); pass++; pos = repStart; continue; }
    }
    pos++;
    const next = clean[pos];
    if (play && b.endRepeat) { repStart = pos; pass = 1; }
    else if (b.endingSpan && (!next || !next.endingSpan || next.ending) && pass > 1 && !(next && next.ending && next.ending.includes(pass))) { repStart = pos; pass = 1; }
    else if (play && b.endsSection && !b.endingSpan) { repStart = pos; pass = 1; }
  }
  return out;
}

/** Build the record for one tune. */
function buildRecord(tune, ctx, index) {
  const { st, bars, firstMeter, firstKey } = parseTune(tune, ctx);
  if (!firstMeter) throw new AbcError('no notes');
  const meterInfo = firstMeter.meter ? firstMeter : null;
  if (!meterInfo) throw new AbcError('no meter');
  const played = expandRepeats(bars);
  const notes = [];
  const chords = [];
  let t = 0;
  let barNo = -1;
  let fill = 0; let fillLen = 0;
  let pickup = false;
  let first = true;
  let tieOpen = null;
  for (const b of played) {
    let d = 0;
    for (const e of b.events) if (e.kind === 'note' || e.kind === 'mrest') d += e.dur;
    const barLen = b.barLen || meterInfo.barLen;
    const mrest = b.events.find((e) => e.kind === 'mrest');
    // bar numbering: merge a short segment with a preceding short segment when together they fit
    if (first) {
      barNo = 0; fill = d; fillLen = barLen;
      if (d < barLen - EPS) pickup = true;
      first = false;
      if (pickup) fill = fillLen; // pickup bar is complete by definition
    } else if (fill < fillLen - EPS && fill + d <= fillLen + EPS && !mrest) {
      fill += d;
    } else {
      barNo += 1; fill = d; fillLen = barLen;
    }
    const startBar = barNo;
    for (const e of b.events) {
      if (e.kind === 'chord') { chords.push([quant(t), e.sym]); continue; }
      if (e.kind === 'mrest') {
        const s0 = quant(t); const e0 = quant(t + e.dur);
        notes.push([null, s0, quant(e0 - s0), barNo]);
        t += e.dur; barNo += e.bars - 1; fill = fillLen;
        continue;
      }
      const s0 = quant(t); const e0 = quant(t + e.dur);
      t += e.dur;
      if (tieOpen && tieOpen.pitch === e.pitch && e.pitch != null) { // tie: extend the previous note
        const prev = notes[notes.length - 1];
        prev[2] = quant(e0 - prev[1]);
        tieOpen = e.tie ? e : null;
        continue;
      }
      tieOpen = e.tie ? e : null;
      if (e0 - s0 > EPS) notes.push([e.pitch, s0, quant(e0 - s0), startBar]);
    }
  }
  if (!notes.length) throw new AbcError('no notes');
  if (!notes.some((x) => x[0] != null)) throw new AbcError('only rests');
  const src = ctx.source;
  const file = ctx.file;
  let type = typeFromText(st.rhythm);
  if (type == null && !st.rhythm) {
    const ft = typeFromFile(file);
    if (src === 'nottingham' && ft !== undefined) type = ft;
    if (type === 'jig' && meterInfo.meter[0] === 9 && meterInfo.meter[1] === 8) type = 'slip_jig';
    if (type == null && src !== 'nottingham') type = typeFromText(st.title);
  }
  const rec = {
    source: src, file, id: `${file}#${tune.x || index + 1}`, title: st.title,
    type,
    key: firstKey || st.key,
    meter: meterInfo.meter,
    tempo: st.tempoRaw ? parseTempo(st.tempoRaw, st.unit) : null,
    notes, chords,
  };
  if (pickup) rec.pickup = true;
  if (st.rhythm) rec.rhythm = st.rhythm;
  return rec;
}

/** Parse a whole ABC file: one {record, error} per X: tune. */
export function parseAbcFile(text, { file = '', source = '' } = {}) {
  const ctx = { file, source };
  return splitTunes(text).map((tune, idx) => {
    try {
      return { record: buildRecord(tune, ctx, idx), error: null, x: tune.x, line: tune.lineNo };
    } catch (err) {
      if (!(err instanceof AbcError)) err = new AbcError(`internal: ${err.message}`);
      return { record: null, error: err.message, x: tune.x, line: tune.lineNo, id: `${file}#${tune.x || idx + 1}` };
    }
  });
}

// Melody evaluation metrics (tools/melody/eval.mjs), computed from notes alone, independently of the
// engine's own `checks`. Pure functions with no package imports (the Node test runs without
// tools/node_modules): dictionaries (CMUdict, pinyin tones) are passed in by the caller.
//
// Notes are {pitch, start, duration} (times in quarter notes, as docs/melody-api.md) plus, for sung
// notes, {syllable} ("hal-" continues a word) and optionally {melisma: true} for continuation notes.
// Keys are {tonic: 'G' | pc, mode}. Meters are '6/8' or [6, 8].

export const MODE_STEPS = {
  major: [0, 2, 4, 5, 7, 9, 11], minor: [0, 2, 3, 5, 7, 8, 10], dorian: [0, 2, 3, 5, 7, 9, 10], mixolydian: [0, 2, 4, 5, 7, 9, 10],
  lydian: [0, 2, 4, 6, 7, 9, 11], phrygian: [0, 1, 3, 5, 7, 8, 10], locrian: [0, 1, 3, 5, 6, 8, 10],
};
const LETTER_PC = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const EPS = 1e-6;

/** Pitch class of "G", "F#", "Bb" (or a number, returned mod 12); null when unreadable. */
export function tonicPc(t) {
  if (typeof t === 'number') return ((t % 12) + 12) % 12;
  const m = /^([A-Ga-g])([#b♯♭]?)/.exec(String(t ?? ''));
  if (!m) return null;
  return (LETTER_PC[m[1].toUpperCase()] + (m[2] === '#' || m[2] === '♯' ? 1 : m[2] ? -1 : 0) + 12) % 12;
}
const keyPc = (key) => tonicPc(key.tonic ?? key);
const steps = (mode) => MODE_STEPS[mode] || MODE_STEPS.major;

/** Pitch classes of a key's scale. */
export function scalePcs(key) {
  const t = keyPc(key);
  return new Set(steps(key.mode).map((s) => (t + s) % 12));
}
/** Scale degree 1..7 of a pitch in the key, or null when it is outside the mode. */
export function scaleDegree(pitch, key) {
  const rel = (((pitch - keyPc(key)) % 12) + 12) % 12;
  const i = steps(key.mode).indexOf(rel);
  return i < 0 ? null : i + 1;
}

/** Share of notes whose pitch class is in the scale. */
export function inKey(notes, key) {
  const S = scalePcs(key);
  const sounding = notes.filter((n) => n.pitch != null);
  const ok = sounding.filter((n) => S.has(((n.pitch % 12) + 12) % 12)).length;
  return { in: ok, of: sounding.length, share: sounding.length ? ok / sounding.length : NaN };
}

/** Share of phrase-final pitches on scale degree 1, 3 or 5. */
export function cadence(finalPitches, key) {
  const ok = finalPitches.filter((p) => [1, 3, 5].includes(scaleDegree(p, key))).length;
  return { ok, of: finalPitches.length, share: finalPitches.length ? ok / finalPitches.length : NaN };
}

// ------------------------------------------------------------------------------------ meter and beats
/**
 * {num, den, bar, beat, compound, strong}: bar and beat in quarter notes. The beat is a quarter in
 * simple quarter-unit meters (2/4 3/4 4/4 6/4), a half in 2/2 and 3/2 (as docs/melody-rules.md), an
 * eighth in 3/8, a dotted quarter in compound 6/8 9/8 12/8. Strong positions: the downbeat, and mid-bar in meters of two
 * equal halves with four beats or two half notes (4/4 2/2 12/8 6/4).
 */
export function meterInfo(meter) {
  const [num, den] = Array.isArray(meter) ? meter : String(meter).split('/').map(Number);
  const bar = (num * 4) / den;
  const compound = den === 8 && num % 3 === 0 && num > 3;
  const beat = compound ? 1.5 : den === 8 ? 0.5 : den === 2 ? 2 : 1;
  const strong = [0];
  if ((num === 4 && den === 4) || (num === 2 && den === 2) || (num === 12 && den === 8) || (num === 6 && den === 4)) strong.push(bar / 2);
  return { num, den, bar, beat, compound, strong };
}
const isMultiple = (x, b) => Math.abs(x / b - Math.round(x / b)) < EPS;
/** Position of a time within its bar (offset: where bar 0 starts, negative for a pickup). */
export function barPosition(t, m, offset = 0) { const x = t - offset; return ((x % m.bar) + m.bar) % m.bar; }
export function onBeat(t, m, offset = 0) { const p = barPosition(t, m, offset); return isMultiple(p, m.beat) || Math.abs(p - m.bar) < EPS; }
export function onStrongBeat(t, m, offset = 0) { const p = barPosition(t, m, offset); return m.strong.some((s) => Math.abs(p - s) < EPS) || Math.abs(p - m.bar) < EPS; }

// ------------------------------------------------------------------------------------ shape
/** Range, largest leap, notes per bar, bars spanned, and leaps larger than an octave. */
export function shape(notes, meter) {
  const m = meterInfo(meter);
  const ps = notes.filter((n) => n.pitch != null);
  if (!ps.length) return { notes: 0, range: 0, max_leap: 0, bars: 0, notes_per_bar: 0, leaps_over_octave: 0, lowest: null, highest: null };
  const pitches = ps.map((n) => n.pitch);
  let maxLeap = 0, big = 0;
  for (let i = 1; i < ps.length; i++) { const d = Math.abs(ps[i].pitch - ps[i - 1].pitch); maxLeap = Math.max(maxLeap, d); if (d > 12) big++; }
  const end = Math.max(...ps.map((n) => n.start + n.duration));
  const bars = Math.max(1, Math.ceil(end / m.bar - EPS));
  return { notes: ps.length, range: Math.max(...pitches) - Math.min(...pitches), max_leap: maxLeap, bars, notes_per_bar: ps.length / bars,
           leaps_over_octave: big, lowest: Math.min(...pitches), highest: Math.max(...pitches) };
}

/** Overlapping notes (a melody must be monophonic) and notes off the 1/12 grid. */
export function timing(notes) {
  let overlaps = 0, offGrid = 0, nonPositive = 0;
  const s = [...notes].sort((a, b) => a.start - b.start);
  for (let i = 0; i < s.length; i++) {
    if (!(s[i].duration > 0)) nonPositive++;
    if (!isMultiple(s[i].start, 1 / 12) || !isMultiple(s[i].duration, 1 / 12)) offGrid++;
    if (i && s[i].start < s[i - 1].start + s[i - 1].duration - EPS) overlaps++;
  }
  return { overlaps, off_grid: offGrid, non_positive: nonPositive };
}

/**
 * The rhythm rules of docs/melody-rules.md, checked on the notes: notes crossing a bar line, notes
 * off the sixteenth grid (start or duration), sung notes starting off the eighth grid, pitches
 * outside [lo, hi] (the register).
 */
export function rhythmRules(notes, meter, { lo = -Infinity, hi = Infinity } = {}) {
  const m = meterInfo(meter);
  let cross = 0, off16 = 0, sungOff8 = 0, outside = 0;
  for (const n of notes) {
    if (n.pitch == null) continue;
    const b0 = Math.floor(n.start / m.bar + EPS), b1 = Math.floor((n.start + n.duration) / m.bar - EPS);
    if (b1 > b0) cross++;
    if (!isMultiple(n.start, 0.25) || !isMultiple(n.duration, 0.25)) off16++;
    if (n.syllable != null && !n.melisma && !isMultiple(n.start, 0.5)) sungOff8++;
    if (n.pitch < lo || n.pitch > hi) outside++;
  }
  return { cross_bar: cross, off_sixteenth: off16, sung_off_eighth: sungOff8, outside_register: outside };
}

/** Two lines sung the same: the same pitches and durations, note for note. */
export function sameLine(a, b) {
  const sig = (ns) => ns.filter((n) => n.pitch != null).map((n) => `${n.pitch}:${+n.duration.toFixed(4)}`).join(' ');
  return sig(a) === sig(b);
}

// ------------------------------------------------------------------------------------ lyrics
const HAN = /[\u3400-\u9fff\uf900-\ufaff]|[\ud840-\ud87e][\udc00-\udfff]/u;
/** Latin letters of a word, lowercased, accents removed (for comparing texts). */
export const letters = (s) => String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z\u3400-\u9fff\uf900-\ufaff\u{20000}-\u{2ffff}]/gu, '');

/** Syllable count by spelling (vowel groups, silent final e), for words CMUdict lacks. */
export function estimateSyllables(word) {
  const w = letters(word);
  if (!w) return 0;
  let n = (w.match(/[aeiouy]+/g) || []).length;
  if (/[^aeiouy]e$/.test(w) && !/[^aeiouy]le$/.test(w) && n > 1) n--;
  if (/[^aeiouy]es$|[^aeiouy]ed$/.test(w) && !/(ted|ded|ses|zes|ces|ges|xes|ches|shes)$/.test(w) && n > 1) n--;
  return Math.max(1, n);
}

/** CMUdict entry -> vowel stresses of its first pronunciation ([1, 0] for "river"), or null. */
export function cmuStresses(dict, word) {
  const w = String(word).toLowerCase();
  const p = dict[w] ?? dict[w.replace(/’/g, "'")];
  if (!p) return null;
  return p.split(' ').filter((x) => /\d$/.test(x)).map((x) => Number(x.slice(-1)));
}

/**
 * A line's singable units in order: each CJK character is one syllable; each Latin word has its
 * CMUdict syllable count (spelling estimate when unknown: `known: false`) and its stress pattern.
 * Digits, punctuation and emoji are dropped. -> [{text, letters, syl, stresses, known, cjk}]
 */
export function lineUnits(line, dict = {}) {
  const out = [];
  const re = /([\u3400-\u9fff\uf900-\ufaff]|[\ud840-\ud87e][\udc00-\udfff])|([A-Za-zÀ-ÿ]+(?:['’][A-Za-z]+)*)/gu;
  for (const m of String(line).matchAll(re)) {
    if (m[1]) { out.push({ text: m[1], letters: m[1], syl: 1, stresses: null, known: true, cjk: true }); continue; }
    const w = m[2].replace(/’/g, "'");
    const st = cmuStresses(dict, w);
    out.push({ text: w, letters: letters(w), syl: st ? Math.max(1, st.length) : estimateSyllables(w), stresses: st, known: !!st, cjk: false });
  }
  return out;
}

/** Split sung notes into lines by syllable counts: -> [[note, ...] per line] (melisma notes join the syllable before). */
export function splitByLines(notes, counts) {
  const lines = counts.map(() => []);
  let li = 0, used = 0;
  const sorted = [...notes].sort((a, b) => a.start - b.start);
  for (const n of sorted) {
    const sung = n.syllable != null && !n.melisma;
    if (sung) { while (li < counts.length && used >= counts[li]) { li++; used = 0; } if (li >= counts.length) { li = counts.length - 1; } used++; }
    if (li < counts.length) lines[li].push(n);
  }
  return lines;
}

/**
 * Alignment of one line: the line's units against the notes sung for it. A segment of the letter
 * stream delimited by word boundaries both sides agree on is aligned when it has as many notes as
 * syllables (melisma continuation notes count as extra notes). -> {syllables, aligned, text_ok,
 * extra_notes, segments: [{units, notes}] (aligned ones, for stress), mismatch}
 */
export function alignLine(units, lineNotes) {
  const syllables = units.reduce((t, u) => t + u.syl, 0);
  // Engine words: a syllable ending in '-' continues the word; a melisma note joins its syllable's word.
  const eng = [];
  let cur = null;
  let extra = 0;
  for (const n of lineNotes) {
    if (n.syllable == null || n.melisma) { if (cur || eng.length) { (cur || eng.at(-1)).notes.push(n); (cur || eng.at(-1)).extra++; } extra++; continue; }
    const s = String(n.syllable);
    const cont = /-$/.test(s);
    if (!cur) cur = { letters: '', notes: [], extra: 0, cjk: HAN.test(s) };
    cur.letters += letters(s);
    cur.notes.push(n);
    if (!cont) { eng.push(cur); cur = null; }
  }
  if (cur) eng.push(cur);
  // Chinese characters are their own words on both sides.
  const mine = units.map((u) => ({ letters: u.letters, syl: u.syl, u }));
  const bounds = (ws) => { const b = new Set([0]); let p = 0; for (const w of ws) { p += w.letters.length; b.add(p); } return { b, total: p }; };
  const A = bounds(mine), B = bounds(eng);
  const textA = mine.map((w) => w.letters).join(''), textB = eng.map((w) => w.letters).join('');
  const textOk = textA === textB;
  let aligned = 0;
  const segments = [];
  if (textOk) {
    const common = [...A.b].filter((p) => B.b.has(p)).sort((x, y) => x - y);
    let ia = 0, ib = 0, pa = 0, pb = 0;
    for (let k = 1; k < common.length; k++) {
      const end = common[k];
      const su = [], sn = [];
      while (ia < mine.length && pa < end) { su.push(mine[ia]); pa += mine[ia++].letters.length; }
      let extraHere = 0;
      while (ib < eng.length && pb < end) { sn.push(...eng[ib].notes); extraHere += eng[ib].extra; pb += eng[ib++].letters.length; }
      const syl = su.reduce((t, w) => t + w.syl, 0);
      if (syl === sn.length && extraHere === 0) { aligned += syl; segments.push({ units: su.map((w) => w.u), notes: sn }); }
    }
  }
  return { syllables, aligned, text_ok: textOk, extra_notes: extra, segments, mismatch: textOk ? null : { expected: textA, got: textB } };
}

/**
 * Stress: every aligned polysyllabic word with a CMUdict primary stress; its stressed syllable's
 * note start on a beat / strong beat. -> {of, on_beat, on_strong, misses: [{word, syllable, start, bar_position}]}
 */
export function stressPlacement(segments, meter, offset = 0) {
  const m = meterInfo(meter);
  let of = 0, on = 0, strong = 0;
  const misses = [];
  for (const s of segments) {
    let k = 0;
    for (const u of s.units) {
      if (!u.cjk && u.known && u.syl >= 2 && u.stresses.length === u.syl) {
        const i = u.stresses.indexOf(1);
        const n = s.notes[k + i];
        if (i >= 0 && n) {
          of++;
          if (onBeat(n.start, m, offset)) on++; else misses.push({ word: u.text, syllable: i, start: n.start, bar_position: barPosition(n.start, m, offset) });
          if (onStrongBeat(n.start, m, offset)) strong++;
        }
      }
      k += u.syl;
    }
  }
  return { of, on_beat: on, on_strong: strong, misses };
}

// ------------------------------------------------------------------------------------ Mandarin tones
/** Chao-number pitch heights of the four tones (neutral tone 0/5: null, no rule). */
export const TONE_HEIGHT = { 1: 5, 2: 4, 3: 1.5, 4: 3 };
/**
 * One rule between consecutive syllables (tone a then b, melody step in semitones): null when no
 * rule applies; else whether it holds. Heights differing by >= 2: the melody moves the same way;
 * both tone 1: a step of at most 2 semitones.
 */
export function toneRule(a, b, step, { minDiff = 2, levelStep = 2 } = {}) {
  const ha = TONE_HEIGHT[a], hb = TONE_HEIGHT[b];
  if (ha == null || hb == null) return null;
  if (a === 1 && b === 1) return Math.abs(step) <= levelStep;
  if (Math.abs(hb - ha) >= minDiff) return Math.sign(step) === Math.sign(hb - ha);
  return null;
}
/** Rules over a line: seq = [{tone, pitch}] in order. -> {of, held, broken: [i]} */
export function toneRules(seq, opts) {
  let of = 0, held = 0;
  const broken = [];
  for (let i = 1; i < seq.length; i++) {
    const r = toneRule(seq[i - 1].tone, seq[i].tone, seq[i].pitch - seq[i - 1].pitch, opts);
    if (r === null) continue;
    of++;
    if (r) held++; else broken.push(i);
  }
  return { of, held, broken };
}

// ------------------------------------------------------------------------------------ random baseline
/** Deterministic PRNG (mulberry32): () -> [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** Same rhythm (and syllables), pitches uniformly random among the scale's notes within [lo, hi] (default: the melody's own range). */
export function randomMelody(notes, key, rand, { lo, hi } = {}) {
  const ps = notes.filter((n) => n.pitch != null).map((n) => n.pitch);
  const L = lo ?? Math.min(...ps), H = hi ?? Math.max(...ps);
  const S = scalePcs(key);
  const pool = [];
  for (let p = L; p <= H; p++) if (S.has(((p % 12) + 12) % 12)) pool.push(p);
  if (!pool.length) pool.push(L);
  return notes.map((n) => (n.pitch == null ? { ...n } : { ...n, pitch: pool[Math.floor(rand() * pool.length)] }));
}

// ------------------------------------------------------------------------------------ histograms (mgeval-style)
export const INTERVAL_CLIP = 12; // intervals beyond an octave fall into the end bins
/** Pitch-class histogram relative to the tonic (12 bins, normalised). */
export function pcHistogram(notes, key) {
  const h = new Array(12).fill(0);
  const t = keyPc(key);
  for (const n of notes) if (n.pitch != null) h[(((n.pitch - t) % 12) + 12) % 12]++;
  return normalise(h);
}
/** Interval histogram of consecutive sounding notes (rests skipped), -12..+12 semitones clipped (25 bins, normalised). */
export function intervalHistogram(notes) {
  const h = new Array(2 * INTERVAL_CLIP + 1).fill(0);
  const ps = notes.filter((n) => n.pitch != null).sort((a, b) => a.start - b.start).map((n) => n.pitch);
  for (let i = 1; i < ps.length; i++) h[Math.max(-INTERVAL_CLIP, Math.min(INTERVAL_CLIP, ps[i] - ps[i - 1])) + INTERVAL_CLIP]++;
  return normalise(h);
}
export function normalise(h) { const s = h.reduce((a, b) => a + b, 0); return s ? h.map((x) => x / s) : h.slice(); }
/** Sum of normalised histograms (each tune weighs the same). */
export function meanHistogram(hs) {
  if (!hs.length) return [];
  const out = new Array(hs[0].length).fill(0);
  for (const h of hs) h.forEach((x, i) => { out[i] += x; });
  return normalise(out);
}
/** Overlapping area of two normalised histograms: sum of the bin minima (1 = identical). */
export function overlap(a, b) { let s = 0; for (let i = 0; i < a.length; i++) s += Math.min(a[i] || 0, b[i] || 0); return s; }

const dist = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2; return Math.sqrt(s); };
/** Pairwise distances within one set of feature vectors, and between two sets. */
export function intraDistances(A) { const d = []; for (let i = 0; i < A.length; i++) for (let j = i + 1; j < A.length; j++) d.push(dist(A[i], A[j])); return d; }
export function interDistances(A, B) { const d = []; for (const a of A) for (const b of B) d.push(dist(a, b)); return d; }

/** Gaussian KDE (Scott's bandwidth, as scipy's gaussian_kde) evaluated on xs. */
export function kde(samples, xs) {
  const n = samples.length;
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1)) || 1e-3;
  const h = sd * n ** (-1 / 5);
  const c = 1 / (n * h * Math.sqrt(2 * Math.PI));
  return xs.map((x) => { let s = 0; for (const v of samples) s += Math.exp(-0.5 * ((x - v) / h) ** 2); return s * c; });
}
/** Overlapping area of the KDEs of two samples (mgeval's overlap_area), trapezoid rule on a grid. */
export function kdeOverlap(a, b, grid = 400) {
  if (a.length < 2 || b.length < 2) return NaN;
  const lo = Math.min(...a, ...b), hi = Math.max(...a, ...b);
  const pad = (hi - lo) * 0.25 || 1;
  const xs = Array.from({ length: grid }, (_, i) => lo - pad + ((hi - lo + 2 * pad) * i) / (grid - 1));
  const fa = kde(a, xs), fb = kde(b, xs);
  let s = 0;
  for (let i = 1; i < grid; i++) s += ((Math.min(fa[i], fb[i]) + Math.min(fa[i - 1], fb[i - 1])) / 2) * (xs[i] - xs[i - 1]);
  return s;
}
/**
 * mgeval's set comparison for one feature: intra-set distances of the reference set and inter-set
 * distances (generated x reference); the overlap of their KDEs is high when generated tunes lie as
 * close to the reference tunes as those lie to each other. Also the generated set's own intra-set
 * overlap with the inter-set distances.
 */
export function setOverlap(gen, ref) {
  const inter = interDistances(gen, ref);
  return { oa_ref_intra_vs_inter: kdeOverlap(intraDistances(ref), inter), oa_gen_intra_vs_inter: kdeOverlap(intraDistances(gen), inter) };
}

// ------------------------------------------------------------------------------------ MIDI
/**
 * Compare a parsed melody track's notes ({pitch, tick, endTick}) and lyric events with `notes`.
 * -> {ok, notes_midi, notes_json, pitch_mismatch, time_mismatch, lyric_mismatch, first}
 */
export function compareMidi(midiNotes, ppq, notes, lyrics = null) {
  const a = [...midiNotes].sort((x, y) => x.tick - y.tick || x.pitch - y.pitch);
  const b = notes.filter((n) => n.pitch != null).sort((x, y) => x.start - y.start || x.pitch - y.pitch);
  let pm = 0, tm = 0, first = null;
  const tol = 0.5 / ppq + 1e-9;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const s = a[i].tick / ppq, d = (a[i].endTick - a[i].tick) / ppq;
    const badP = a[i].pitch !== b[i].pitch, badT = Math.abs(s - b[i].start) > tol || Math.abs(d - b[i].duration) > Math.max(tol, 1 / 12 + 1e-9);
    if (badP) pm++;
    if (badT) tm++;
    if ((badP || badT) && !first) first = { i, midi: { pitch: a[i].pitch, start: s, duration: d }, json: { pitch: b[i].pitch, start: b[i].start, duration: b[i].duration } };
  }
  let lm = 0;
  if (lyrics) {
    const sung = b.filter((n) => n.syllable != null && !n.melisma);
    const L = lyrics.map((e) => ({ t: e.tick / ppq, text: String(e.text).trim() })).filter((e) => e.text);
    if (L.length !== sung.length) lm += Math.abs(L.length - sung.length);
    for (let i = 0; i < Math.min(L.length, sung.length); i++) {
      if (letters(L[i].text) !== letters(sung[i].syllable) || Math.abs(L[i].t - sung[i].start) > tol) { lm++; if (!first) first = { i, lyric: L[i], syllable: sung[i].syllable, start: sung[i].start }; }
    }
  }
  return { ok: a.length === b.length && !pm && !tm && !lm, notes_midi: a.length, notes_json: b.length, pitch_mismatch: pm, time_mismatch: tm, lyric_mismatch: lm, first };
}

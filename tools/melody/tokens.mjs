// Melody records (docs/melody-data.md) -> token sequences for a melody language model, and back.
//
// Pitches are written relative to the tune's tonic (semitones, so one model serves every key; the
// engine transposes to the key asked for), durations on the 1/12-quarter grid, bar lines as tokens,
// and chord symbols as Roman numerals of the key:
//
//   <bos> <type:jig> <meter:6/8> <mode:major> <bar> <c:I> <p+7> <d6> <p+9> <d6> ... <bar> ... <eos>
//   <p+N> / <p-N>  pitch N semitones from the tonic in the octave from middle C's tonic (-17..+31);
//   <r>            rest;  <dK>  duration K twelfths of a quarter note (from the DURATIONS list);
// Every token is <named> so the engine's tokenizer reads them as control tokens.
//   <syl>      the next note carries a lyric syllable (songs and chorales);
//   <c:...>    chord symbol at this point (roman numeral with quality: I, ii, V7, bVII...).
export const DURATIONS = [1, 2, 3, 4, 6, 8, 9, 12, 15, 16, 18, 24, 30, 36, 48, 60, 72, 96];
export const PITCH_MIN = -17, PITCH_MAX = 31;
export const TYPES = ['jig', 'reel', 'hornpipe', 'waltz', 'polka', 'march', 'slip_jig', 'air', 'hymn', 'song'];
export const MODES = ['major', 'minor', 'dorian', 'mixolydian', 'lydian', 'phrygian', 'locrian'];
const TONIC_PC = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const ROMAN = ['I', 'bII', 'II', 'bIII', 'III', 'IV', '#IV', 'V', 'bVI', 'VI', 'bVII', 'VII'];

/** Pitch class of a tonic such as "G", "F#", "Bb". */
export function tonicPc(tonic) {
  const m = /^([A-Ga-g])([#b]?)/.exec(tonic || '');
  if (!m) return null;
  return (TONIC_PC[m[1].toUpperCase()] + (m[2] === '#' ? 1 : m[2] === 'b' ? -1 : 0) + 12) % 12;
}

/** The tonic's MIDI note in the octave starting at middle C (60..71). */
export const tonicMidi = (tonic) => 60 + tonicPc(tonic);

/** Chord symbol -> roman numeral token relative to the tonic, or null. "D7" in G -> "V7". */
export function chordToken(symbol, tonic) {
  const m = /^([A-G])([#b]?)(m(?!aj)|min|dim|aug|\+)?(maj7|7|6|9|sus4|sus2)?/.exec(symbol || '');
  if (!m) return null;
  const pc = (TONIC_PC[m[1]] + (m[2] === '#' ? 1 : m[2] === 'b' ? -1 : 0) + 12) % 12;
  const deg = (pc - tonicPc(tonic) + 12) % 12;
  let r = ROMAN[deg];
  const q = m[3] || '';
  if (q === 'm' || q === 'min') r = r.replace(/[IV]+/, (x) => x.toLowerCase());
  else if (q === 'dim') r = r.replace(/[IV]+/, (x) => x.toLowerCase()) + 'o';
  else if (q === 'aug' || q === '+') r += '+';
  return `<c:${r}${m[4] || ''}>`;
}

const nearestDuration = (twelfths) => DURATIONS.reduce((a, b) => (Math.abs(b - twelfths) < Math.abs(a - twelfths) ? b : a));

/**
 * Record -> {tokens, dropped}: dropped counts notes outside the pitch range or with durations off
 * the list (rounded to the nearest listed one). Returns null for records without a usable key.
 */
export function recordTokens(rec) {
  if (!rec?.key?.tonic || tonicPc(rec.key.tonic) === null || !rec.notes?.length) return null;
  const base = tonicMidi(rec.key.tonic);
  const type = TYPES.includes(rec.type) ? rec.type : 'unknown';
  const mode = MODES.includes(rec.key.mode) ? rec.key.mode : 'major';
  const meter = Array.isArray(rec.meter) ? `${rec.meter[0]}/${rec.meter[1]}` : 'free';
  const tokens = ['<bos>', `<type:${type}>`, `<meter:${meter}>`, `<mode:${mode}>`];
  const chords = [...(rec.chords || [])];
  let bar = -1, dropped = 0, ci = 0;
  for (const n of rec.notes) {
    const [pitch, start, dur, b, syl] = n;
    if (b !== bar) { tokens.push('<bar>'); bar = b; }
    while (ci < chords.length && chords[ci][0] <= start + 1e-9) {
      const c = chordToken(chords[ci][1], rec.key.tonic);
      if (c) tokens.push(c);
      ci++;
    }
    const twelfths = Math.round(dur * 12);
    const d = nearestDuration(twelfths);
    if (d !== twelfths) dropped++;
    if (pitch === null) { tokens.push('<r>', `<d${d}>`); continue; }
    let rel = pitch - base;
    while (rel < PITCH_MIN) { rel += 12; dropped++; }
    while (rel > PITCH_MAX) { rel -= 12; dropped++; }
    if (syl !== undefined && syl !== null) tokens.push('<syl>');
    tokens.push(rel >= 0 ? `<p+${rel}>` : `<p${rel}>`, `<d${d}>`);
  }
  tokens.push('<eos>');
  return { tokens, dropped };
}

/** Every token the tokenizer can write, in a fixed order (the model's vocabulary). */
export function vocabulary(chordTokens = []) {
  const v = ['<pad>', '<unk>', '<bos>', '<eos>', '<bar>', '<syl>', '<r>'];
  for (const t of [...TYPES, 'unknown']) v.push(`<type:${t}>`);
  for (const m of MODES) v.push(`<mode:${m}>`);
  for (const m of ['2/2', '2/4', '3/4', '4/4', '3/8', '6/8', '9/8', '12/8', '3/2', '6/4', '5/4', '7/8', 'free']) v.push(`<meter:${m}>`);
  for (let p = PITCH_MIN; p <= PITCH_MAX; p++) v.push(p >= 0 ? `<p+${p}>` : `<p${p}>`);
  for (const d of DURATIONS) v.push(`<d${d}>`);
  return [...v, ...[...new Set(chordTokens)].sort()];
}

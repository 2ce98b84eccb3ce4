// Pure logic of the rendered audio dataset (tools/audio/render_dataset.mjs): style classes and their
// mma grooves, seeded chord charts and melodies, the train/test hold-out rules, the .mma text, a
// small Standard MIDI File reader/writer (to add the melody track and to read back which General
// MIDI programs sound), the labels, and WAV helpers. Nothing here runs mma or fluidsynth, so the
// tests can check all of it without those programs (docs/audio-data.md describes the dataset).

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** 32-bit FNV-1a of a string. */
export function fnv1a(str) {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Seeded PRNG (sfc32, state from splitmix32 of the seed): returns a function giving floats in [0, 1).
 * (mulberry32 gave visibly correlated streams for some pairs of FNV seeds.) */
export function rng(seed) {
  let x = seed >>> 0;
  const split = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(); let b = split(); let c = split(); let d = split();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  return () => next() / 4294967296;
}

export const randInt = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1)); // inclusive
export const pick = (r, arr) => arr[Math.floor(r() * arr.length)];
export function weighted(r, pairs) { // pairs: [[value, weight], ...]
  const total = pairs.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of pairs) { x -= w; if (x < 0) return v; }
  return pairs[pairs.length - 1][0];
}

// ---------------------------------------------------------------------------------------------
// Style classes -> mma grooves ("lib/file:Groove", mma's extended groove names, so equal groove
// names in different libraries are unambiguous). tempo: the labelled tempo range in beats per
// minute; mmaPerBeat: mma quarter notes per labelled beat (2 for the stdlib marches that mma's docs
// say are 2/4 written as 4/4 "so double the tempo": mma plays them at twice the labelled tempo and
// an mma bar is one 2/4 bar of two labelled beats). Every groove here is 4/4 or 3/4 in mma
// (Time 4 / Time 3); 6/8 and 12/8 grooves are left out so that beats are unambiguous.

const G = (groove, lo, hi, extra = {}) => ({ groove, tempo: [lo, hi], ...extra });

export const STYLES = {
  rock: [
    G('stdlib/basicrock:BasicRock', 100, 150), G('stdlib/basicrock:BasicRock4', 100, 150),
    G('stdlib/60srock:60sRock', 110, 160), G('stdlib/60srock:60sRock1', 110, 160),
    G('stdlib/softrock:SoftRock', 84, 120), G('stdlib/softrock:SoftRock1', 84, 120),
    G('stdlib/8beat:8Beat', 100, 140), G('casio/rock1:Rock1', 100, 150), G('casio/rock2:Rock2', 100, 150),
    G('casio/poprock1:PopRock1', 100, 140), G('casio/heavymetal:HeavyMetal', 110, 160),
    G('pflib/rock1:rock1A', 100, 150), G('pflib/metal1:metal1A', 110, 160),
  ],
  pop_ballad: [
    G('stdlib/popballad:PopBallad', 60, 86), G('stdlib/popballad:PopBallad1', 60, 86),
    G('stdlib/popballad:PopBallad2', 60, 86), G('stdlib/ballad:Ballad', 60, 84), G('stdlib/ballad:Ballad1', 60, 84),
    G('stdlib/pianoballad:PianoBallad', 60, 84), G('stdlib/pianoballad:PianoBallad1', 60, 84),
    G('stdlib/rockballad:RockBallad', 64, 88), G('stdlib/stringballad:StringBallad', 60, 84),
    G('casio/popballad:PopBallad', 60, 86), G('casio/8beatballad1:8BeatBallad1', 62, 88),
    G('casio/16beatballad1:16BeatBallad1', 60, 84),
  ],
  swing_jazz: [
    G('stdlib/swing:Swing', 120, 190), G('stdlib/swing:Swing1', 120, 190), G('stdlib/swing:SwingWalk', 110, 180),
    G('stdlib/jazzcombo:JazzCombo', 110, 180), G('stdlib/jazzcombo:JazzCombo1', 110, 180),
    G('stdlib/bigband:BigBand', 130, 200), G('stdlib/bigband:BigBand1', 130, 200),
    G('stdlib/easyswing:EasySwing', 100, 150), G('stdlib/fastswing:FastSwing', 180, 240),
    G('stdlib/bebop:Bebop', 180, 240), G('stdlib/jazzguitar:JazzGuitar', 110, 170),
    G('yamaha/jazzswing:JazzSwingMainA', 120, 180), G('casio/swing:Swing', 120, 180),
  ],
  bossa_latin: [
    G('stdlib/bossanova:BossaNova', 120, 150), G('stdlib/bossanova:BossaNovaSus', 120, 150),
    G('stdlib/samba:Samba', 96, 126), G('stdlib/salsa:Salsa', 150, 190), G('stdlib/mambo:Mambo', 150, 190),
    G('stdlib/chacha:ChaCha', 110, 130), G('stdlib/rhumba:Rhumba', 100, 130), G('stdlib/beguine:Beguine', 110, 140),
    G('stdlib/son:Son', 100, 130), G('stdlib/merengue:Merengue', 120, 160), G('yamaha/salsa1:Salsa1MainA', 150, 190),
  ],
  waltz: [
    G('stdlib/waltz:Waltz', 84, 120), G('stdlib/waltz:Waltz1', 84, 120), G('stdlib/waltz:WaltzWalk', 84, 120),
    G('stdlib/vienesewaltz:VieneseWaltz', 150, 190), G('stdlib/vienesewaltz:VieneseWaltz1', 150, 190),
    G('stdlib/frenchwaltz:FrenchWaltz', 100, 150), G('stdlib/frenchwaltz:FrenchWaltz1', 100, 150),
    G('stdlib/fastwaltz:FastWaltz', 150, 200), G('stdlib/broadwaywaltz:BroadwayWaltz', 100, 150),
    G('casio/popwaltz:PopWaltz', 90, 130),
  ],
  country: [
    G('stdlib/countryswing:CountrySwing', 100, 150), G('stdlib/countryswing:CountrySwing1', 100, 150),
    G('stdlib/countryswing:CountrySwing2', 100, 150), G('stdlib/slowcountry:SlowCountry', 70, 100),
    G('stdlib/slowcountry:SlowCountryWalk', 70, 100), G('stdlib/bluegrass:BlueGrass', 130, 180),
    G('stdlib/westernswing:WesternSwing', 110, 160), G('stdlib/hillcountry:HillCountry', 100, 140),
    G('yamaha/western:WesternMainA', 110, 150), G('yamaha/western:WesternMainB', 110, 150),
  ],
  blues: [
    G('stdlib/blues:Blues', 80, 120), G('stdlib/blues:Blues1', 80, 120), G('stdlib/blues:BluesTriple', 70, 100),
    G('stdlib/slowblues:SlowBlues', 60, 80), G('stdlib/slowblues:SlowBluesWalk4', 60, 80),
    G('stdlib/fastblues:FastBlues', 120, 160), G('stdlib/fastblues:FastBlues1', 120, 160),
    G('stdlib/shuffleboggie:ShuffleBoggie', 100, 140), G('stdlib/boggiewoggie:BoggieWoggie', 120, 170),
    G('casio/blues:Blues', 80, 120),
  ],
  march: [
    G('stdlib/march:March', 104, 126, { mmaPerBeat: 2 }), G('stdlib/march:March1', 104, 126, { mmaPerBeat: 2 }),
    G('stdlib/march:March3', 104, 126, { mmaPerBeat: 2 }), G('stdlib/bwmarch:BWMarch', 104, 126, { mmaPerBeat: 2 }),
    G('stdlib/dixiemarch:DixieMarch', 100, 130), G('casio/march1:March1', 100, 126),
    G('casio/germanmarch:GermanMarch', 100, 126),
  ],
  electronic_dance: [
    G('stdlib/trance:Trance', 126, 142), G('stdlib/trance:Trance1', 126, 142), G('stdlib/trance:Trance2', 126, 142),
    G('casio/house:House', 118, 130), G('casio/techno:Techno', 124, 140), G('casio/trance1:Trance1', 126, 142),
    G('casio/dance1:Dance1', 116, 132), G('casio/dance2:Dance2', 116, 132), G('casio/rave:Rave', 130, 150),
    G('casio/8beatdance:8BeatDance', 116, 132), G('casio/dancepop1:DancePop1', 112, 128),
    G('casio/trance2:Trance2', 126, 142),
  ],
  folk: [
    G('stdlib/folk:Folk', 80, 120), G('stdlib/folk:FolkWalk', 80, 120), G('stdlib/folk:FolkArticulated', 80, 120),
    G('stdlib/folkballad:FolkBallad', 70, 100), G('stdlib/folkballad:FolkBallad1', 70, 100),
    G('stdlib/bluefolk:BlueFolk', 80, 110), G('stdlib/bluefolk:BlueFolk2', 80, 110),
    G('stdlib/folkrock:FolkRock', 90, 130),
  ],
};
export const STYLE_NAMES = Object.keys(STYLES);

/** The meter mma plays a groove in: 3 for the waltz class, else 4 (verified with --verify-grooves). */
export const mmaBeatsPerBar = (style) => (style === 'waltz' ? 3 : 4);

/** Labelled meter: [beats per bar, beat unit] for a groove entry. */
export function timeSignature(style, entry) {
  const per = entry.mmaPerBeat || 1;
  const mmaBeats = mmaBeatsPerBar(style);
  return per === 2 ? [mmaBeats / 2, 4] : [mmaBeats, 4];
}

/** Styles that swing their eighths (the melody follows the groove's feel). */
export const swingFeel = (style, groove) =>
  style === 'swing_jazz' || style === 'blues' || /swing|shuffle|boggie|western|bluegrass/i.test(groove);

// ---------------------------------------------------------------------------------------------
// Keys and chords

export const PC_SHARP = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
export const PC_FLAT = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'Gb', 'G', 'Ab', 'A', 'Bb', 'B'];
// The usual spelling of each tonic (major and minor keys).
const MAJOR_TONIC = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
const MINOR_TONIC = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'G#', 'A', 'Bb', 'B'];
// Keys whose signature uses flats (for spelling chord roots).
const FLAT_MAJOR = new Set([1, 3, 5, 8, 10]); // Db Eb F Ab Bb
const FLAT_MINOR = new Set([0, 2, 3, 5, 7, 10]); // c d eb f g bb

export const tonicName = (pc, mode) => (mode === 'minor' ? MINOR_TONIC : MAJOR_TONIC)[pc];
export const usesFlats = (pc, mode) => (mode === 'minor' ? FLAT_MINOR : FLAT_MAJOR).has(pc);
export const keyIndex = (pc, mode) => pc + (mode === 'minor' ? 12 : 0); // 0..23
export const keyName = (pc, mode) => `${tonicName(pc, mode)} ${mode}`;

export const SCALES = { major: [0, 2, 4, 5, 7, 9, 11], minor: [0, 2, 3, 5, 7, 8, 10] };

// Roman numerals: semitones above the tonic and chord quality (mma chord suffix).
// triad / seventh quality; 'V' in minor is the harmonic-minor major dominant.
export const DEGREES = {
  major: {
    I: [0, '', 'M7'], ii: [2, 'm', 'm7'], iii: [4, 'm', 'm7'], IV: [5, '', 'M7'],
    V: [7, '', '7'], vi: [9, 'm', 'm7'], 'vii°': [11, 'dim', 'm7b5'],
  },
  minor: {
    i: [0, 'm', 'm7'], 'ii°': [2, 'dim', 'm7b5'], III: [3, '', 'M7'], iv: [5, 'm', 'm7'],
    v: [7, 'm', 'm7'], V: [7, '', '7'], VI: [8, '', 'M7'], VII: [10, '', '7'],
  },
};

// First-order functional-harmony chains (weights).
const NEXT = {
  major: {
    I: [['IV', 3], ['V', 3], ['vi', 3], ['ii', 2], ['iii', 1]],
    ii: [['V', 5], ['IV', 1], ['vii°', 0.5]],
    iii: [['vi', 3], ['IV', 2], ['ii', 1]],
    IV: [['V', 4], ['I', 2], ['ii', 1.5], ['vi', 1]],
    V: [['I', 5], ['vi', 2], ['IV', 1]],
    vi: [['ii', 2], ['IV', 3], ['V', 2], ['iii', 0.5]],
    'vii°': [['I', 3], ['iii', 1]],
  },
  minor: {
    i: [['iv', 3], ['VI', 3], ['VII', 2.5], ['III', 2], ['V', 2], ['ii°', 1]],
    'ii°': [['V', 4], ['v', 1]],
    III: [['VI', 3], ['iv', 2], ['VII', 2]],
    iv: [['V', 3], ['i', 2], ['VII', 2], ['v', 1]],
    v: [['VI', 2], ['iv', 2], ['i', 1]],
    V: [['i', 5], ['VI', 2]],
    VI: [['III', 2], ['iv', 2], ['VII', 2.5], ['V', 1.5], ['ii°', 1]],
    VII: [['III', 3], ['i', 2], ['VI', 1]],
  },
};

// Blues numerals: semitones above the tonic and quality (VI7 is the I-VI-ii-V turnaround's A7 in
// C major, the Ab7 of a C minor blues; iv7 in a major blues is the borrowed minor iv).
const BLUES_NUMERALS = {
  major: { I7: [0, '7'], IV7: [5, '7'], V7: [7, '7'], ii7: [2, 'm7'], VI7: [9, '7'], iv7: [5, 'm7'] },
  minor: { i7: [0, 'm7'], iv7: [5, 'm7'], V7: [7, '7'], VI7: [8, '7'] },
};

/** Chord symbol (mma spelling) of a roman numeral in a key; seventh: '' (triad) or a quality. */
export function chordSymbol(roman, pc, mode, { seventh = false, quality = null } = {}) {
  const table = DEGREES[mode];
  let entry = table[roman];
  let suffix;
  if (!entry) { // the blues charts' seventh-chord numerals
    const b = BLUES_NUMERALS[mode][roman];
    if (!b) throw new Error(`unknown numeral ${roman} in ${mode}`);
    entry = b;
    suffix = b[1];
  } else suffix = quality ?? (seventh ? entry[2] : entry[1]);
  const rootPc = (pc + entry[0]) % 12;
  const names = usesFlats(pc, mode) ? PC_FLAT : PC_SHARP;
  return { symbol: names[rootPc] + suffix, rootPc, suffix };
}

/** Pitch classes of a chord (root pc + mma suffix). */
export function chordPcs(rootPc, suffix) {
  const shapes = {
    '': [0, 4, 7], m: [0, 3, 7], dim: [0, 3, 6], '7': [0, 4, 7, 10], M7: [0, 4, 7, 11],
    m7: [0, 3, 7, 10], m7b5: [0, 3, 6, 10],
  };
  const s = shapes[suffix];
  if (!s) throw new Error(`unknown chord suffix ${suffix}`);
  return s.map((x) => (rootPc + x) % 12);
}

// ---------------------------------------------------------------------------------------------
// Chord charts. A chart is bars of [chord roman numerals per half bar or bar]; charts are written
// key-free (roman numerals) so the train/test rule can hold out whole progressions.

const SEVENTH_STYLES = new Set(['swing_jazz', 'bossa_latin']);

function functionalChart(r, mode, bars, beatsPerBar) {
  const tonic = mode === 'major' ? 'I' : 'i';
  const out = [];
  let cur = tonic;
  for (let b = 0; b < bars; b++) {
    if (b === 0) { out.push([tonic]); continue; }
    if (b === bars - 1) { out.push([tonic]); continue; }
    if (b === bars - 2) { // cadence: V (sometimes ii-V / iv-V in one 4/4 bar), IV or VII
      const c = weighted(r, mode === 'major' ? [['V', 5], ['IV', 1]] : [['V', 4], ['iv', 1], ['VII', 1]]);
      if (beatsPerBar === 4 && c === 'V' && r() < 0.3) out.push([mode === 'major' ? pick(r, ['ii', 'IV']) : pick(r, ['iv', 'ii°']), 'V']);
      else out.push([c]);
      continue;
    }
    const chords = [];
    const n = beatsPerBar === 4 && r() < 0.25 ? 2 : 1;
    for (let k = 0; k < n; k++) { cur = weighted(r, NEXT[mode][cur]); chords.push(cur); }
    out.push(chords);
  }
  return out;
}

function bluesChart(r, mode, bars) {
  const I = mode === 'major' ? 'I7' : 'i7';
  const IV = mode === 'major' ? 'IV7' : 'iv7';
  const V = 'V7';
  if (bars >= 12) {
    const form = [
      [I], [r() < 0.5 ? IV : I], [I], [I], [IV], [IV], [I], [I],
      [weighted(r, [[V, 3], [mode === 'major' ? 'ii7' : 'VI7', 1]])],
      [weighted(r, [[IV, 3], [V, 1]])],
      r() < 0.5 ? [I] : [I, 'VI7'],
      [weighted(r, [[V, 3], [I, 1]])],
    ];
    return bars === 12 ? form : [...form, ...form.slice(8)].slice(0, bars); // 16: 12 + a second turnaround
  }
  // 8-bar blues (I V IV IV I V I V, with variants)
  return [[I], [weighted(r, [[V, 2], [IV, 1], [I, 1]])], [IV], [r() < 0.5 ? IV : 'iv7'], [I],
    [weighted(r, [[V, 2], [I, 1]])], r() < 0.5 ? [I] : [I, IV], [V]].slice(0, bars);
}

/** Key-free signature of a chart (mode + numerals): the unit of the chart hold-out rule. */
export const chartSignature = (mode, chart) => `${mode}:${chart.map((bar) => bar.join(',')).join('|')}`;

/** Chart hold-out: a progression belongs to test iff its signature hashes to 0 mod 4. */
export const chartSplit = (mode, chart) => (fnv1a(chartSignature(mode, chart)) % 4 === 0 ? 'test' : 'train');
/** Key hold-out: 6 of the 24 keys of each style are test-only (every key still appears in train under other styles). */
export const keySplit = (style, pc, mode) =>
  ((keyIndex(pc, mode) + 5 * STYLE_NAMES.indexOf(style)) % 4 === 0 ? 'test' : 'train');
/** Tempo hold-out: integer tempi, even in train, odd in test. */
export const tempoSplit = (bpm) => (bpm % 2 === 0 ? 'train' : 'test');

/** A chart for the style (rejection-sampled until its signature belongs to the split). */
export function makeChart(r, style, mode, bars, beatsPerBar, split) {
  for (let tries = 0; tries < 500; tries++) {
    const chart = style === 'blues' ? bluesChart(r, mode, bars) : functionalChart(r, mode, bars, beatsPerBar);
    if (chartSplit(mode, chart) === split) return chart;
  }
  throw new Error(`no ${split} chart for ${style} ${mode} ${bars} bars`);
}

/** Chord symbols per bar for a chart in a key (7ths for jazz/latin, sometimes on V elsewhere). */
export function realizeChart(r, chart, style, pc, mode) {
  const sevenths = SEVENTH_STYLES.has(style);
  const domSeventh = r() < 0.4;
  return chart.map((bar) => bar.map((roman) => {
    if (/7$/.test(roman)) return chordSymbol(roman, pc, mode);
    if (sevenths) return chordSymbol(roman, pc, mode, { seventh: true });
    if (roman === 'V' && domSeventh) return chordSymbol(roman, pc, mode, { quality: '7' });
    return chordSymbol(roman, pc, mode);
  }));
}

// ---------------------------------------------------------------------------------------------
// General MIDI programs and families

export const GM_FAMILIES = ['piano', 'chromatic_percussion', 'organ', 'guitar', 'bass', 'strings', 'ensemble', 'brass',
  'reed', 'pipe', 'synth_lead', 'synth_pad', 'synth_effects', 'ethnic', 'percussive', 'sound_effects'];
export const gmFamily = (program) => GM_FAMILIES[program >> 3];

export const GM_NAMES = [
  'Acoustic Grand Piano', 'Bright Acoustic Piano', 'Electric Grand Piano', 'Honky-tonk Piano', 'Electric Piano 1',
  'Electric Piano 2', 'Harpsichord', 'Clavinet', 'Celesta', 'Glockenspiel', 'Music Box', 'Vibraphone', 'Marimba',
  'Xylophone', 'Tubular Bells', 'Dulcimer', 'Drawbar Organ', 'Percussive Organ', 'Rock Organ', 'Church Organ',
  'Reed Organ', 'Accordion', 'Harmonica', 'Tango Accordion', 'Acoustic Guitar (nylon)', 'Acoustic Guitar (steel)',
  'Electric Guitar (jazz)', 'Electric Guitar (clean)', 'Electric Guitar (muted)', 'Overdriven Guitar',
  'Distortion Guitar', 'Guitar Harmonics', 'Acoustic Bass', 'Electric Bass (finger)', 'Electric Bass (pick)',
  'Fretless Bass', 'Slap Bass 1', 'Slap Bass 2', 'Synth Bass 1', 'Synth Bass 2', 'Violin', 'Viola', 'Cello',
  'Contrabass', 'Tremolo Strings', 'Pizzicato Strings', 'Orchestral Harp', 'Timpani', 'String Ensemble 1',
  'String Ensemble 2', 'Synth Strings 1', 'Synth Strings 2', 'Choir Aahs', 'Voice Oohs', 'Synth Voice',
  'Orchestra Hit', 'Trumpet', 'Trombone', 'Tuba', 'Muted Trumpet', 'French Horn', 'Brass Section', 'Synth Brass 1',
  'Synth Brass 2', 'Soprano Sax', 'Alto Sax', 'Tenor Sax', 'Baritone Sax', 'Oboe', 'English Horn', 'Bassoon',
  'Clarinet', 'Piccolo', 'Flute', 'Recorder', 'Pan Flute', 'Blown Bottle', 'Shakuhachi', 'Whistle', 'Ocarina',
  'Lead 1 (square)', 'Lead 2 (sawtooth)', 'Lead 3 (calliope)', 'Lead 4 (chiff)', 'Lead 5 (charang)',
  'Lead 6 (voice)', 'Lead 7 (fifths)', 'Lead 8 (bass + lead)', 'Pad 1 (new age)', 'Pad 2 (warm)',
  'Pad 3 (polysynth)', 'Pad 4 (choir)', 'Pad 5 (bowed)', 'Pad 6 (metallic)', 'Pad 7 (halo)', 'Pad 8 (sweep)',
  'FX 1 (rain)', 'FX 2 (soundtrack)', 'FX 3 (crystal)', 'FX 4 (atmosphere)', 'FX 5 (brightness)', 'FX 6 (goblins)',
  'FX 7 (echoes)', 'FX 8 (sci-fi)', 'Sitar', 'Banjo', 'Shamisen', 'Koto', 'Kalimba', 'Bagpipe', 'Fiddle', 'Shanai',
  'Tinkle Bell', 'Agogo', 'Steel Drums', 'Woodblock', 'Taiko Drum', 'Melodic Tom', 'Synth Drum', 'Reverse Cymbal',
  'Guitar Fret Noise', 'Breath Noise', 'Seashore', 'Bird Tweet', 'Telephone Ring', 'Helicopter', 'Applause', 'Gunshot',
];

/** Featured (melody) instruments: family -> [program, lowest note, highest note]. */
export const FEATURED = {
  piano: [[0, 60, 84], [1, 60, 84], [4, 60, 84], [5, 60, 84]],
  chromatic_percussion: [[11, 60, 84], [12, 60, 84], [13, 67, 91]],
  organ: [[16, 55, 79], [17, 55, 79], [18, 55, 79], [21, 60, 84]],
  guitar: [[24, 52, 76], [25, 52, 76], [26, 52, 76], [27, 52, 76], [29, 52, 76]],
  strings: [[40, 62, 88], [41, 55, 79], [42, 45, 69]],
  brass: [[56, 58, 82], [57, 45, 70], [60, 50, 74], [61, 55, 79]],
  reed: [[64, 60, 84], [65, 55, 79], [66, 48, 72], [68, 62, 86], [71, 55, 82]],
  pipe: [[72, 74, 96], [73, 64, 91], [74, 64, 88], [75, 62, 86]],
  synth_lead: [[80, 60, 84], [81, 60, 84], [82, 60, 84], [87, 55, 79]],
};
export const FEATURED_FAMILIES = Object.keys(FEATURED);

// ---------------------------------------------------------------------------------------------
// Melody: a seeded chord-tone/scale line over the chart, one note per beat or per half beat,
// stepwise most of the time, chord tones on strong beats, ending on the tonic.

export function makeMelody(r, { chords, pc, mode, beatsPerBar, range, swing }) {
  const scale = SCALES[mode].map((x) => (x + pc) % 12);
  const [lo, hi] = range;
  const inScale = [];
  for (let n = lo; n <= hi; n++) if (scale.includes(n % 12)) inScale.push(n);
  const notes = []; // [startBeat, durBeats, pitch, velocity]
  let prev = inScale[Math.floor(inScale.length / 2)];
  const chordAt = (beat) => {
    const bar = chords[Math.floor(beat / beatsPerBar)];
    const within = beat % beatsPerBar;
    const idx = Math.min(bar.length - 1, Math.floor(within / (beatsPerBar / bar.length)));
    return bar[idx];
  };
  const choose = (beat, strong) => {
    const c = chordAt(beat);
    const tones = chordPcs(c.rootPc, c.suffix);
    const cands = inScale.filter((n) => Math.abs(n - prev) <= 7);
    const pool = cands.length ? cands : inScale;
    const w = pool.map((n) => {
      const d = Math.abs(n - prev);
      let x = d === 0 ? 0.4 : d <= 2 ? 3 : d <= 4 ? 1.6 : 0.6;
      if (tones.includes(n % 12)) x *= strong ? 4 : 1.5;
      else if (strong) x *= 0.3;
      return [n, x];
    });
    prev = weighted(r, w);
    return prev;
  };
  const total = chords.length * beatsPerBar;
  let beat = 0;
  while (beat < total - beatsPerBar) {
    const within = beat % beatsPerBar;
    const strong = within === 0 || (beatsPerBar === 4 && within === 2);
    const room = beatsPerBar - within;
    const cell = weighted(r, [
      ['q', 4], ['ee', 3], ['h', room >= 2 ? 2 : 0], ['dq', room >= 2 ? 1.2 : 0], ['rest', 0.8],
    ]);
    const vel = () => randInt(r, strong ? 96 : 86, strong ? 116 : 106);
    if (cell === 'q') { notes.push([beat, 1, choose(beat, strong), vel()]); beat += 1; }
    else if (cell === 'h') { notes.push([beat, 2, choose(beat, strong), vel()]); beat += 2; }
    else if (cell === 'dq') {
      notes.push([beat, 1.5, choose(beat, strong), vel()]);
      notes.push([beat + 1.5, 0.5, choose(beat + 1.5, false), vel()]);
      beat += 2;
    } else if (cell === 'ee') {
      const off = swing ? 2 / 3 : 0.5;
      notes.push([beat, off, choose(beat, strong), vel()]);
      notes.push([beat + off, 1 - off, choose(beat + 0.5, false), vel()]);
      beat += 1;
    } else beat += 1; // rest
  }
  // Last bar: the tonic nearest the previous note, held for the bar.
  const tonics = inScale.filter((n) => n % 12 === pc);
  const last = tonics.reduce((a, b) => (Math.abs(b - prev) < Math.abs(a - prev) ? b : a), tonics[0]);
  notes.push([beat, beatsPerBar * 0.9, last, 100]);
  return notes;
}

// ---------------------------------------------------------------------------------------------
// A clip's plan: everything that decides its audio and labels, from (seed, split, index).

export const SPLITS = ['train', 'test'];
export const SOUNDFONTS = {
  train: [
    { name: 'FluidR3_GM', path: '/usr/share/sounds/sf2/FluidR3_GM.sf2', package: 'fluid-soundfont-gm' },
    { name: 'MuseScore_General', path: '/usr/share/sounds/sf3/MuseScore_General_Full.sf3', package: 'musescore-general-soundfont' },
  ],
  test: [{ name: 'TimGM6mb', path: '/usr/share/sounds/sf2/TimGM6mb.sf2', package: 'timgm6mb-soundfont' }],
};

export const clipId = (split, seed, index) => `${split}-s${seed}-${String(index).padStart(6, '0')}`;

/**
 * Plan clip `index` of `split` for dataset seed `seed`. Styles are balanced (index % 10); the key,
 * tempo and chart obey the hold-out rules of the split; clip length is 10-30 s (8-16 bars where the
 * tempo allows it).
 */
export function planClip({ seed, split, index, melodyRate = 0.9, minSeconds = 10, maxSeconds = 29.5 }) {
  if (!SPLITS.includes(split)) throw new Error(`split must be train or test, not ${split}`);
  const clipSeed = fnv1a(`${seed}/${split}/${index}`);
  const r = rng(clipSeed);
  const style = STYLE_NAMES[(index + fnv1a(`${seed}/${split}`)) % STYLE_NAMES.length];
  const entry = pick(r, STYLES[style]);
  const per = entry.mmaPerBeat || 1;
  const [beatsPerBar, beatUnit] = timeSignature(style, entry);
  // Key: uniform over the keys this split may use for the style.
  const keys = [];
  for (const mode of ['major', 'minor']) for (let pc = 0; pc < 12; pc++) if (keySplit(style, pc, mode) === split) keys.push([pc, mode]);
  const [pc, mode] = pick(r, keys);
  // Tempo: integer, parity by split.
  let tempo = randInt(r, entry.tempo[0], entry.tempo[1]);
  if (tempoSplit(tempo) !== split) tempo += tempo + 1 <= entry.tempo[1] ? 1 : -1;
  const secPerBar = (beatsPerBar * 60) / tempo;
  let lo = Math.max(8, Math.ceil(minSeconds / secPerBar));
  let hi = Math.min(16, Math.floor(maxSeconds / secPerBar));
  if (lo > hi) { lo = Math.max(4, Math.ceil(minSeconds / secPerBar)); hi = Math.max(lo, Math.min(16, Math.floor(maxSeconds / secPerBar))); }
  let bars = randInt(r, lo, hi);
  if (style === 'blues') bars = [12, 16].find((b) => b >= lo && b <= hi) ?? 8; // 12- (or 16-) bar form, else 8-bar blues
  const mmaBeats = mmaBeatsPerBar(style);
  const chart = makeChart(r, style, mode, bars, mmaBeats, split);
  const chords = realizeChart(r, chart, style, pc, mode);
  const soundfont = pick(r, SOUNDFONTS[split]);
  let melody = null;
  if (r() < melodyRate) {
    const family = pick(r, FEATURED_FAMILIES);
    const [program, nlo, nhi] = pick(r, FEATURED[family]);
    const notes = makeMelody(r, { chords, pc, mode, beatsPerBar: mmaBeats, range: [nlo, nhi], swing: swingFeel(style, entry.groove) });
    melody = { family, program, notes };
  }
  const musicSeconds = Math.min(maxSeconds, bars * secPerBar);
  return {
    id: clipId(split, seed, index), seed, index, clipSeed, split, style, groove: entry.groove,
    key: { tonic: tonicName(pc, mode), pc, mode }, tempo, mmaTempo: tempo * per, mmaPerBeat: per,
    timeSignature: [beatsPerBar, beatUnit], mmaBeatsPerBar: mmaBeats, bars, chart, chords, soundfont, melody,
    musicSeconds, mmaSeed: clipSeed % 1000003,
  };
}

/** The .mma source of a plan (chords only; the melody is added to the MIDI afterwards). */
export function mmaText(plan) {
  const lines = [
    `// ${plan.id}: ${plan.style}, ${keyName(plan.key.pc, plan.key.mode)}, ${plan.tempo} bpm (generated by tools/audio/render_dataset.mjs)`,
    `Groove ${plan.groove}`,
    `Tempo ${plan.mmaTempo}`,
    `RndSeed ${plan.mmaSeed}`,
  ];
  plan.chords.forEach((bar, i) => {
    let cells;
    if (bar.length === 1) cells = [bar[0].symbol];
    else if (plan.mmaBeatsPerBar === 4) cells = [bar[0].symbol, '/', bar[1].symbol, '/'];
    else throw new Error('two chords in a bar only in 4/4');
    lines.push(`${i + 1} ${cells.join(' ')}`);
  });
  return `${lines.join('\n')}\n`;
}

/** Fingerprint of everything that decides a clip's audio (a changed tool re-renders stale clips). */
export const planHash = (plan) => fnv1a(JSON.stringify([mmaText(plan), plan.melody, plan.soundfont.name, plan.musicSeconds])).toString(16);

/** Beat and downbeat times (s) of the music, from the labelled tempo and meter, up to `seconds`. */
export function beatTimes(plan, seconds = plan.musicSeconds) {
  const spb = 60 / plan.tempo;
  const totalBeats = (plan.bars * plan.mmaBeatsPerBar) / plan.mmaPerBeat;
  const beats = [];
  const downbeats = [];
  for (let k = 0; k < totalBeats; k++) {
    const t = k * spb;
    if (t >= seconds - 1e-9) break;
    const r3 = Math.round(t * 1000) / 1000;
    beats.push(r3);
    if (k % plan.timeSignature[0] === 0) downbeats.push(r3);
  }
  return { beats, downbeats };
}

// ---------------------------------------------------------------------------------------------
// Standard MIDI Files: read (events with absolute ticks), append a track.

function readVarLen(buf, pos) {
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const b = buf[pos++];
    v = (v << 7) | (b & 0x7f);
    if (!(b & 0x80)) return [v, pos];
  }
  throw new Error('bad variable-length quantity');
}

export function parseMidi(buf) {
  buf = Buffer.from(buf);
  if (buf.toString('latin1', 0, 4) !== 'MThd') throw new Error('not a MIDI file');
  const hlen = buf.readUInt32BE(4);
  const format = buf.readUInt16BE(8);
  const ntrks = buf.readUInt16BE(10);
  const division = buf.readUInt16BE(12);
  if (division & 0x8000) throw new Error('SMPTE time division not supported');
  let pos = 8 + hlen;
  const tracks = [];
  while (pos + 8 <= buf.length && tracks.length < ntrks) {
    const id = buf.toString('latin1', pos, pos + 4);
    const len = buf.readUInt32BE(pos + 4);
    const start = pos + 8;
    const end = start + len;
    pos = end;
    if (id !== 'MTrk') continue;
    const events = [];
    let p = start;
    let tick = 0;
    let status = 0;
    while (p < end) {
      let delta;
      [delta, p] = readVarLen(buf, p);
      tick += delta;
      let b = buf[p];
      if (b & 0x80) { status = b; p++; } else if (!status) throw new Error('running status without status');
      b = status;
      if (b === 0xff) {
        const type = buf[p++];
        let l;
        [l, p] = readVarLen(buf, p);
        const data = buf.subarray(p, p + l);
        p += l;
        events.push({ tick, type: 'meta', meta: type, data });
        status = 0;
        if (type === 0x2f) break;
      } else if (b === 0xf0 || b === 0xf7) {
        let l;
        [l, p] = readVarLen(buf, p);
        p += l;
        status = 0;
      } else {
        const kind = b & 0xf0;
        const channel = b & 0x0f;
        const d1 = buf[p++];
        const d2 = kind === 0xc0 || kind === 0xd0 ? 0 : buf[p++];
        events.push({ tick, type: 'channel', kind, channel, d1, d2 });
      }
    }
    tracks.push({ events, raw: buf.subarray(start - 8, end) });
  }
  return { format, division, tracks };
}

function varLen(v) {
  const bytes = [v & 0x7f];
  while ((v >>= 7)) bytes.unshift((v & 0x7f) | 0x80);
  return bytes;
}

/** A MIDI track chunk from [{tick, bytes}] (sorted by tick here), with an end-of-track. */
export function trackChunk(events, name) {
  const evs = [...events].sort((a, b) => a.tick - b.tick || a.order - b.order);
  const out = [];
  if (name) { const nb = [...Buffer.from(name, 'latin1')]; out.push(0, 0xff, 0x03, ...varLen(nb.length), ...nb); }
  let last = 0;
  for (const e of evs) { out.push(...varLen(e.tick - last), ...e.bytes); last = e.tick; }
  out.push(0, 0xff, 0x2f, 0);
  const head = Buffer.alloc(8);
  head.write('MTrk', 0, 'latin1');
  head.writeUInt32BE(out.length, 4);
  return Buffer.concat([head, Buffer.from(out)]);
}

/** Channels (0-15) with any channel event (notes, program or controller changes). */
export function usedChannels(midi) {
  const s = new Set();
  for (const t of midi.tracks) for (const e of t.events) if (e.type === 'channel') s.add(e.channel);
  return s;
}

/** Append the melody of a plan to mma's MIDI as a new track on a free channel; returns the new file. */
export function addMelodyTrack(buf, plan) {
  const midi = parseMidi(buf);
  if (!plan.melody) return { buffer: Buffer.from(buf), channel: null };
  const used = usedChannels(midi);
  const free = [...Array(16).keys()].filter((c) => c !== 9 && !used.has(c));
  if (!free.length) throw new Error('no free MIDI channel for the melody');
  const ch = free[0];
  const tpq = midi.division; // ticks per mma quarter note
  const events = [
    { tick: 0, order: 0, bytes: [0xc0 | ch, plan.melody.program] },
    { tick: 0, order: 1, bytes: [0xb0 | ch, 7, 110] },
    { tick: 0, order: 2, bytes: [0xb0 | ch, 10, 64] },
    { tick: 0, order: 3, bytes: [0xb0 | ch, 91, 40] },
  ];
  const maxTick = Math.round((plan.musicSeconds * plan.mmaTempo / 60) * tpq);
  for (const [start, dur, pitch, vel] of plan.melody.notes) {
    const on = Math.round(start * tpq);
    if (on >= maxTick) continue;
    const off = Math.min(maxTick, Math.max(on + 1, Math.round((start + dur * 0.92) * tpq)));
    events.push({ tick: on, order: 5, bytes: [0x90 | ch, pitch, vel] });
    events.push({ tick: off, order: 4, bytes: [0x80 | ch, pitch, 0] }); // offs before ons at equal ticks
  }
  const chunk = trackChunk(events, 'Melody');
  const src = Buffer.from(buf);
  const head = Buffer.from(src.subarray(0, 8 + src.readUInt32BE(4)));
  head.writeUInt16BE(1, 8); // format 1
  head.writeUInt16BE(midi.tracks.length + 1, 10);
  const body = Buffer.concat(midi.tracks.map((t) => t.raw));
  return { buffer: Buffer.concat([head, body, chunk]), channel: ch };
}

/**
 * What sounds in a MIDI file: per (channel, program) the note count, GM family and name, and the
 * channel-10 drums; plus a duration-weighted pitch-class histogram of the pitched notes (for the
 * key sanity check) and the last note-off and note-on times in ticks. Notes after `maxTick` are ignored.
 */
export function midiContents(buf, { maxTick = Infinity } = {}) {
  const midi = parseMidi(buf);
  const all = [];
  midi.tracks.forEach((t, ti) => t.events.forEach((e, ei) => { if (e.type === 'channel') all.push({ ...e, ti, ei }); }));
  all.sort((a, b) => a.tick - b.tick || a.ti - b.ti || a.ei - b.ei);
  const program = new Array(16).fill(0);
  const counts = new Map();
  const pch = new Array(12).fill(0);
  const open = new Map();
  let lastTick = 0;
  let lastOnTick = 0;
  for (const e of all) {
    if (e.kind === 0xc0) program[e.channel] = e.d1;
    const isOn = e.kind === 0x90 && e.d2 > 0;
    const isOff = e.kind === 0x80 || (e.kind === 0x90 && e.d2 === 0);
    if (isOn && e.tick < maxTick) {
      const k = e.channel === 9 ? 'drums' : `${e.channel}:${program[e.channel]}`;
      counts.set(k, (counts.get(k) || 0) + 1);
      lastOnTick = Math.max(lastOnTick, e.tick);
      if (e.channel !== 9) open.set(`${e.channel}:${e.d1}`, e.tick);
    } else if (isOff && e.channel !== 9) {
      const on = open.get(`${e.channel}:${e.d1}`);
      if (on !== undefined) {
        open.delete(`${e.channel}:${e.d1}`);
        const end = Math.min(e.tick, maxTick);
        if (end > on) pch[e.d1 % 12] += end - on;
        lastTick = Math.max(lastTick, e.tick);
      }
    }
  }
  const instruments = [];
  for (const [k, notes] of counts) {
    if (k === 'drums') { instruments.push({ channel: 10, program: null, family: 'drums', name: 'Drum kit', notes }); continue; }
    const [ch, prog] = k.split(':').map(Number);
    instruments.push({ channel: ch + 1, program: prog, family: gmFamily(prog), name: GM_NAMES[prog], notes });
  }
  instruments.sort((a, b) => a.channel - b.channel || (a.program ?? -1) - (b.program ?? -1));
  return { division: midi.division, instruments, pitchClassHist: pch, lastTick, lastOnTick };
}

/** Labels of the instruments: the sounding programs and the sorted set of families. */
export function instrumentLabels(contents) {
  const families = [...new Set(contents.instruments.map((i) => i.family))].sort();
  return { instruments: contents.instruments, families };
}

// ---------------------------------------------------------------------------------------------
// Key profiles (Krumhansl-Kessler) for the sanity checks.

const KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88];
const KK_MINOR = [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17];

function corr(a, b) {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let num = 0; let da = 0; let db = 0;
  for (let i = 0; i < n; i++) { num += (a[i] - ma) * (b[i] - mb); da += (a[i] - ma) ** 2; db += (b[i] - mb) ** 2; }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

/** Best key of a 12-bin pitch-class profile: {pc, mode, score}, and all 24 scores. */
export function estimateKey(profile) {
  const scores = [];
  for (const [mode, prof] of [['major', KK_MAJOR], ['minor', KK_MINOR]]) {
    for (let pc = 0; pc < 12; pc++) {
      const rot = prof.map((_, i) => prof[(i - pc + 12) % 12]);
      scores.push({ pc, mode, score: corr(profile, rot) });
    }
  }
  scores.sort((a, b) => b.score - a.score);
  return { ...scores[0], scores };
}

/** MIREX key score of an estimate against the truth: 1 same, 0.5 fifth, 0.3 relative, 0.2 parallel. */
export function mirexKeyScore(est, truth) {
  if (est.pc === truth.pc && est.mode === truth.mode) return 1;
  if (est.mode === truth.mode && ((est.pc - truth.pc + 12) % 12 === 7 || (est.pc - truth.pc + 12) % 12 === 5)) return 0.5;
  if (est.mode !== truth.mode) {
    const rel = truth.mode === 'major' ? (truth.pc + 9) % 12 : (truth.pc + 3) % 12;
    if (est.pc === rel) return 0.3;
    if (est.pc === truth.pc) return 0.2;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// WAV (PCM 16-bit) read, mono downmix with trim and fade, write; level statistics.

export function readWav(buf) {
  buf = Buffer.from(buf);
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let pos = 12;
  let fmt = null;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('latin1', pos, pos + 4);
    let len = buf.readUInt32LE(pos + 4);
    const start = pos + 8;
    if (id === 'fmt ') {
      fmt = { format: buf.readUInt16LE(start), channels: buf.readUInt16LE(start + 2), rate: buf.readUInt32LE(start + 4), bits: buf.readUInt16LE(start + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('data before fmt');
      if (fmt.bits !== 16 || (fmt.format !== 1 && fmt.format !== 0xfffe)) throw new Error(`only 16-bit PCM WAV is read here (got format ${fmt.format}, ${fmt.bits} bits)`);
      if (len === 0xffffffff || start + len > buf.length) len = buf.length - start; // streamed/unfinished header
      const frames = Math.floor(len / (2 * fmt.channels));
      const ch = Array.from({ length: fmt.channels }, () => new Float32Array(frames));
      for (let i = 0; i < frames; i++) for (let c = 0; c < fmt.channels; c++) ch[c][i] = buf.readInt16LE(start + 2 * (i * fmt.channels + c)) / 32768;
      return { rate: fmt.rate, channels: ch };
    }
    pos = start + len + (len & 1);
  }
  throw new Error('no data chunk');
}

export function writeWavMono16(samples, rate) {
  const n = samples.length;
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + 2 * n, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767))), 44 + 2 * i);
  return buf;
}

/** Average the channels, keep `seconds` (padding with silence), fade the last `fade` seconds. */
export function downmixTrim(channels, rate, seconds, fade = 0.05) {
  const n = Math.round(seconds * rate);
  const out = new Float32Array(n);
  const have = channels[0].length;
  for (let i = 0; i < Math.min(n, have); i++) {
    let s = 0;
    for (const c of channels) s += c[i];
    out[i] = s / channels.length;
  }
  const f = Math.min(n, Math.round(fade * rate));
  for (let i = 0; i < f; i++) out[n - 1 - i] *= i / f;
  return out;
}

/** Peak and RMS in dBFS, clipped-sample fraction, and the first sample above -40 dBFS (s). */
export function levelStats(samples, rate) {
  let peak = 0; let sum = 0; let clipped = 0; let first = -1;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]);
    if (a > peak) peak = a;
    sum += samples[i] * samples[i];
    if (a >= 0.999) clipped++;
    if (first < 0 && a > 0.01) first = i;
  }
  const db = (x) => (x > 0 ? Math.round(2000 * Math.log10(x)) / 100 : -Infinity);
  return {
    peak_dbfs: db(peak), rms_dbfs: db(Math.sqrt(sum / Math.max(1, samples.length))),
    clipped_fraction: Math.round((clipped / Math.max(1, samples.length)) * 1e6) / 1e6,
    onset_s: first < 0 ? null : Math.round((first / rate) * 1000) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// The manifest record of a rendered clip.

export function labelRecord(plan, { file, seconds, contents, level, rate }) {
  const { beats, downbeats } = beatTimes(plan, Math.min(seconds, plan.musicSeconds));
  const { instruments, families } = instrumentLabels(contents);
  return {
    file,
    id: plan.id,
    split: plan.split,
    style: plan.style,
    groove: plan.groove,
    key: { tonic: plan.key.tonic, mode: plan.key.mode, pc: plan.key.pc },
    tempo: plan.tempo,
    mma_tempo: plan.mmaTempo,
    time_signature: `${plan.timeSignature[0]}/${plan.timeSignature[1]}`,
    beats,
    downbeats,
    bars: plan.bars,
    chart: plan.chart.map((b) => b.join(' ')).join(' | '),
    chords: plan.chords.map((b) => b.map((c) => c.symbol).join(' ')).join(' | '),
    featured_family: plan.melody ? plan.melody.family : null,
    featured_program: plan.melody ? plan.melody.program : null,
    families,
    instruments,
    soundfont: plan.soundfont.name,
    sample_rate: rate,
    seconds: Math.round(seconds * 1000) / 1000,
    music_seconds: Math.round(plan.musicSeconds * 1000) / 1000,
    ...level,
    seed: plan.seed,
    index: plan.index,
    clip_seed: plan.clipSeed,
    plan_hash: planHash(plan),
  };
}

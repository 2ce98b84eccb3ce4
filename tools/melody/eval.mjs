#!/usr/bin/env node
// Measured quality of generate_melody (docs/melody-api.md): a fixed, deterministic set of requests
// (20 English lyric requests, 20 Chinese lyric requests, 78 instrumental requests (26, three seeds each) over every style,
// fixed seeds), run through the engine, and every property measured again from the returned notes
// (tools/melody/metrics.mjs), independently of the engine's own `checks`:
//
//   in-key       share of notes in the requested key/mode                          target 100%
//   alignment    every lyric syllable (own syllabification: one CJK character; CMUdict syllables
//                for English) carried by exactly one note, syllable texts in order   target 100%
//   cadence      last note of each lyric line / each phrase in `phrases` on degree 1, 3 or 5
//                (also, informative: the last note of every 4 bars)                 target >= 90%
//   stress       English: primary-stressed syllables (CMUdict) of polysyllabic words starting on a
//                beat (quarter; dotted quarter in 6/8 9/8 12/8), and on a strong beat   target >= 80%
//   tones        Mandarin (pinyin-pro tones): rules between consecutive syllables of a line, vs a
//                random melody (same rhythm, random scale pitches in the same range)    target >= 70%
//   overlap      pitch-class (from the tonic) and interval histograms vs held-out real tunes of
//                the same style (build/data/melody.valid.jsonl), sum of minima; mgeval's KDE
//                overlap of intra-set vs inter-set distances; random baseline           target >= 0.8
//   MIDI         the base64 `midi` parsed (tools/melody/midi.mjs) and compared with `notes`
//   rules        docs/melody-rules.md on the notes: no note across a bar line, the sixteenth grid,
//                sung notes on the eighth grid, the register, `range`; repeated lyric lines sung the same
//   also         range, largest leap, notes per bar, relaxations, failures (every request must succeed)
// The metrics are first run on real tunes (held-out vs training tunes, and random melodies with their
// rhythm): the "reference" block shows what real music and chance score on each measure.
//
//   node tools/melody/eval.mjs [--engine native|wasm|cli] [--out build/eval/melody.json] [--md [FILE]]
//                              [--quick] [--reference-only] [--no-compare]
//
// --engine native (default): a warm Engine in bench/songwriting_native.cpp (compiled on demand
// against build/native/libtunesmith_core.a; falls back to the CLI); wasm: createEngine from
// web/src/index.mjs in this process; cli: build/native/tunesmith request per request. The first
// requests are also run through the other engine and compared (same seed, same melody).
// --md writes the model-card block to build/eval/melody.md (or FILE). --reference-only: no engine,
// the metrics on real held-out tunes and on random melodies only (the metrics' sanity check).
// --quick: every 4th request.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pinyin } from 'pinyin-pro';
import { dictionary as CMU } from 'cmu-pronouncing-dictionary';
import { parseMidi, trackNotes } from './midi.mjs';
import * as M from './metrics.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODELS = path.join(ROOT, 'models');
const CLI = path.join(ROOT, 'build/native/tunesmith');
const DATA = path.join(ROOT, 'build/data');
const STYLES = ['jig', 'reel', 'hornpipe', 'waltz', 'polka', 'march', 'slip_jig', 'air', 'hymn', 'song'];
const RANDOM_DRAWS = 5; // random melodies per generated one (baseline)
const TARGETS = { in_key: 1, alignment: 1, cadence: 0.9, stress_on_beat: 0.8, tones: 0.7, overlap: 0.8 };

// ------------------------------------------------------------------------------------ arguments
function parseArgs(argv) {
  const a = { engine: 'native', out: path.join(ROOT, 'build/eval/melody.json'), md: null, quick: false, referenceOnly: false, compare: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`${k} needs a value`); return argv[++i]; };
    if (k === '--engine') { a.engine = val(); if (!['native', 'wasm', 'cli'].includes(a.engine)) die('--engine is native, wasm or cli'); }
    else if (k === '--out' || k === '--json') a.out = path.resolve(val());
    else if (k === '--md') a.md = argv[i + 1] && !argv[i + 1].startsWith('--') ? path.resolve(argv[++i]) : path.join(ROOT, 'build/eval/melody.md');
    else if (k === '--quick') a.quick = true;
    else if (k === '--reference-only') a.referenceOnly = true;
    else if (k === '--no-compare') a.compare = false;
    else if (k === '-h' || k === '--help') { console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 37).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')); process.exit(0); }
    else die(`unknown argument ${k}`);
  }
  return a;
}
function die(m) { console.error(`melody eval: ${m}`); process.exit(2); }
const log = (m) => process.stderr.write(`${m}\n`);

// ------------------------------------------------------------------------------------ the request set
// Lyric lines written for this evaluation (not from any corpus); every word is in CMUdict.
const EN_LINES = [
  'The river carries silver light', 'Across the valley morning bells are ringing', 'I wandered through the empty city streets',
  'Remember every open door', 'A lantern burning by the window', 'Tomorrow brings a gentle rain',
  'We gather where the willows bend', 'My heart is singing like a sparrow', 'The harbor waits for evening tide',
  'Beneath the mountain quiet water', 'Forever and forever more', 'The shepherd calls his wandering flock',
  'Another summer slipping by', 'Oh carry me beyond the river', 'The candle flickers in the darkness',
  'A melody of distant places', 'Whenever you are far away', 'The meadow shimmers after rain',
  'Together we will find the morning', 'The ocean whispers to the shore', 'Believe in every golden hour',
  'The traveler returns again', 'Above the hills the eagles circle', 'Our voices rising into heaven',
  'The garden blooming in September', 'I never knew the road was long', 'Remember me when winter comes',
  'The lighthouse shining on the water', 'Come home before the evening falls', 'The children laughing in the yard',
  'A letter written long ago', 'The memory of yesterday', 'Let every window open wide',
  'The wheat is golden in the field', 'My darling do not cry tonight', 'The fiddler plays a merry tune',
  'Under the apple tree we danced', 'The lonely sailor sings of home', 'Hallelujah let the people sing',
  'Beautiful and beautiful again',
];
const ZH_LINES = [
  '月光洒在小河上', '春风吹过山岗', '我在远方想念你', '明天会更好', '故乡的云飘过来', '夜色温柔如水',
  '花开满山坡', '一路走来不回头', '小船摇啊摇', '雨落在青石板上', '星星点亮了天空', '听见海浪的声音',
  '灯火照亮回家的路', '我们一起唱歌', '白云飘向天边', '风吹麦浪金黄', '山高水又长', '梦里有你的笑容',
  '江水向东流', '秋天的落叶飞舞', '你是我的阳光', '老街的钟声响起', '清晨鸟儿歌唱', '让我们手拉着手',
  '心中的那片海', '岁月如歌', '雪花轻轻飘落', '江南烟雨中', '少年的梦想在远方', '等你回来',
  '天空那么蓝', '桃花开了又谢', '妈妈的歌谣', '晚风轻轻吹', '走过千山万水', '我的家乡在江边',
];
const KEYS = ['C', 'G', 'D', 'A', 'E', 'F', 'Bb', 'Eb', 'B', 'F#', 'Ab', 'Db'];
const LYRIC_STYLES = ['song', 'air', 'hymn', 'waltz'];
const LYRIC_MODES = ['major', 'minor', 'major', 'dorian', 'major', 'mixolydian', 'major', 'minor'];
// Meters for lyric requests: null = the style's default.
const LYRIC_METERS = [null, '4/4', '3/4', '6/8', null, '2/4', '12/8', null, '9/8', '2/2'];
// Instrumental: [style, key, mode, bars, meter or null]
const INSTRUMENTAL = [
  ['jig', 'D', 'major', 16, null], ['jig', 'E', 'dorian', 16, null], ['jig', 'G', 'major', 32, null],
  ['reel', 'D', 'major', 16, null], ['reel', 'A', 'dorian', 16, null], ['reel', 'G', 'major', 16, null], ['reel', 'E', 'minor', 8, null],
  ['hornpipe', 'G', 'major', 16, null], ['hornpipe', 'Bb', 'major', 16, null], ['hornpipe', 'D', 'mixolydian', 8, null],
  ['waltz', 'G', 'major', 16, null], ['waltz', 'D', 'minor', 16, null],
  ['polka', 'A', 'major', 16, null], ['polka', 'D', 'major', 8, null],
  ['march', 'G', 'major', 16, null], ['march', 'F', 'major', 16, '6/8'],
  ['slip_jig', 'G', 'major', 16, null], ['slip_jig', 'B', 'minor', 16, null],
  ['air', 'D', 'minor', 16, null], ['air', 'Eb', 'major', 16, null],
  ['hymn', 'Bb', 'major', 16, null], ['hymn', 'E', 'minor', 16, null], ['hymn', 'Ab', 'major', 8, '3/2'],
  ['song', 'C', 'major', 16, null], ['song', 'A', 'minor', 16, null], ['song', 'F#', 'mixolydian', 16, null],
];
const GEN_LYRICS = { // requests whose lyrics are the `lines` of a generate_lyrics response (fixed seeds)
  en: [{ song_title: 'Summer Rain', lyrics_length: 6, song_style: 'folk', seed: 11 }, { song_title: 'Letters Home', structure: 'V2 C2 V2 C2', seed: 12 },
       { song_title: 'The Ferryman', lyrics_length: 4, rhyme_scheme: 'AABB', syllables: 8, seed: 13 }, { song_title: 'Harbour Bells', lyrics_length: 8, seed: 14 }],
  zh: [{ song_title: '月光', lyrics_length: 6, seed: 11 }, { song_title: '故乡的云', structure: 'V2 C2 V2 C2', song_style: '民谣', seed: 12 },
       { song_title: '江南雨', lyrics_length: 4, syllables: 7, seed: 13 }, { song_title: '夜行船', lyrics_length: 8, seed: 14 }],
};

// A key that needs more than 7 sharps or flats is refused by design (docs/melody-api.md): spell it enharmonically.
const LETTER_FIFTHS = { F: -1, C: 0, G: 1, D: 2, A: 3, E: 4, B: 5 };
const MODE_FIFTHS = { major: 0, minor: -3, dorian: -2, mixolydian: -1, lydian: 1, phrygian: -4, locrian: -5 };
const ENHARMONIC = { Db: 'C#', 'C#': 'Db', Ab: 'G#', 'G#': 'Ab', Eb: 'D#', 'D#': 'Eb', Bb: 'A#', 'A#': 'Bb', Gb: 'F#', 'F#': 'Gb', B: 'Cb', E: 'Fb', F: 'E#', C: 'B#' };
export function keyFifths(tonic, mode) { return LETTER_FIFTHS[tonic[0]] + 7 * (tonic[1] === '#' ? 1 : tonic[1] === 'b' ? -1 : 0) + MODE_FIFTHS[mode]; }
const spell = (tonic, mode) => (Math.abs(keyFifths(tonic, mode)) > 7 && ENHARMONIC[tonic] ? ENHARMONIC[tonic] : tonic);

/** The fixed request list: [{id, kind: en|zh|instrumental, request, lyricsFrom}] (lyrics from generate_lyrics filled in later). */
export function requestSet() {
  const out = [];
  for (const lang of ['en', 'zh']) {
    const pool = lang === 'en' ? EN_LINES : ZH_LINES;
    for (let i = 0; i < 20; i++) {
      const style = LYRIC_STYLES[i % 4];
      const mode = LYRIC_MODES[(i + (lang === 'zh' ? 1 : 0)) % LYRIC_MODES.length];
      const req = { task: 'generate_melody', style, key: spell(KEYS[(i * 5 + (lang === 'zh' ? 3 : 0)) % 12], mode), mode, seed: 1000 + i + (lang === 'zh' ? 100 : 0) };
      const meter = LYRIC_METERS[i % LYRIC_METERS.length];
      if (meter && !(style === 'waltz' && meter !== '3/4')) req.meter = meter;
      const item = { id: `${lang}${String(i).padStart(2, '0')}`, kind: lang, request: req };
      if (i >= 16) item.lyricsFrom = { task: 'generate_lyrics', language: lang, ...GEN_LYRICS[lang][i - 16] };
      else {
        const n = 4 + (i % 5); // 4..8 lines
        const lines = Array.from({ length: n }, (_, k) => pool[(i * 7 + k) % pool.length]);
        req.lyrics = i % 3 === 0 ? lines : lines.join('\n'); // both forms
      }
      out.push(item);
    }
  }
  // three seeds of each instrumental request, so every style's histograms rest on 6+ melodies
  for (const [r, base] of [[0, 2000], [1, 3000], [2, 4000]]) {
    INSTRUMENTAL.forEach(([style, key, mode, bars, meter], i) => {
      const req = { task: 'generate_melody', style, key, mode, bars, seed: base + i };
      if (meter) req.meter = meter;
      out.push({ id: `in${String(i).padStart(2, '0')}${'abc'[r]}`, kind: 'instrumental', request: req });
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------ engines
function cliRequest(obj) {
  const t0 = performance.now();
  const p = spawnSync(CLI, ['request', JSON.stringify(obj), '--models', MODELS], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const ms = performance.now() - t0;
  const text = p.status === 0 ? p.stdout : p.stderr || p.stdout;
  let response;
  try { response = JSON.parse(text); } catch { response = { error: { code: 'cli_failed', message: (text || p.error?.message || '').slice(0, 300) } }; }
  return { ms, response };
}
async function wasmEngine() {
  const { createEngine } = await import(pathToFileURL(path.join(ROOT, 'web/src/index.mjs')).href);
  const engine = await createEngine({ worker: false });
  return {
    name: 'wasm', describe: `wasm in Node (createEngine, ${engine.info.variant}, in-process)`,
    async request(obj) { const t = performance.now(); const response = await engine.requestRaw(obj); return { ms: performance.now() - t, response }; },
    close: () => engine.close(),
  };
}
async function openEngine(kind) {
  if (kind === 'native') {
    try {
      const { buildRunner, NativeRunner } = await import(pathToFileURL(path.join(ROOT, 'bench/songwriting_native.mjs')).href);
      const r = new NativeRunner(buildRunner());
      return { name: 'native', describe: 'native (warm Engine, bench/songwriting_native.cpp)', async request(obj) { const x = await r.request(obj); return { ms: x.ms, response: x.response }; }, close: () => r.close() };
    } catch (e) { log(`melody eval: native runner unavailable (${e.message}); using the CLI`); kind = 'cli'; }
  }
  if (kind === 'cli') {
    if (!fs.existsSync(CLI)) die(`${path.relative(ROOT, CLI)} is missing (npm run build:native)`);
    return { name: 'cli', describe: 'native CLI (one process per request; times include process start and loading)', async request(obj) { return cliRequest(obj); }, close() {} };
  }
  return wasmEngine();
}

// ------------------------------------------------------------------------------------ conversions
const noteObj = (n) => ({ pitch: n[0], start: n[1], duration: n[2], bar: n[3], ...(n[4] != null ? { syllable: n[4] } : {}) });
const meterStr = (m) => (Array.isArray(m) ? `${m[0]}/${m[1]}` : String(m));
const lyricLines = (lyrics) => (Array.isArray(lyrics) ? lyrics.map((l) => (typeof l === 'string' ? l : l.text ?? '')) : String(lyrics ?? '').split('\n'));

/** Tones of a line's CJK characters (pinyin-pro, read in context; 0 = neutral). */
function zhTones(chars) {
  if (!chars.length) return [];
  const py = pinyin(chars.join(''), { toneType: 'num', type: 'array' });
  return chars.map((_, i) => { const m = /(\d)$/.exec(py[i] || ''); return m ? Number(m[1]) : 0; });
}

/** Last note starting in each group of 4 bars (and the last note): phrase ends by the bar grid. */
function gridFinals(notes, meter, offset = 0) {
  const m = M.meterInfo(meter);
  const s = notes.filter((n) => n.pitch != null).sort((a, b) => a.start - b.start);
  const groups = new Map();
  for (const n of s) groups.set(Math.floor((n.start - offset) / (4 * m.bar) + 1e-9), n);
  return [...groups.values()];
}

// ------------------------------------------------------------------------------------ measuring one melody
/**
 * All metrics of one response. req: the request; lines: the lyric lines (strings) or null.
 * -> per-melody result (numbers, counts, examples of problems).
 */
export function measure(req, res, lines) {
  const r = { problems: [] };
  const key = { tonic: res.key?.tonic ?? req.key ?? 'C', mode: res.key?.mode ?? req.mode ?? 'major' };
  const reqKey = { tonic: req.key ?? 'C', mode: req.mode ?? 'major' };
  if (M.tonicPc(key.tonic) !== M.tonicPc(reqKey.tonic) || key.mode !== reqKey.mode) r.problems.push(`key ${key.tonic} ${key.mode} returned for ${reqKey.tonic} ${reqKey.mode}`);
  const meter = res.meter ?? req.meter;
  if (req.meter && res.meter !== req.meter) r.problems.push(`meter ${res.meter} returned for ${req.meter}`);
  const notes = (res.notes || []).map((n) => ({ ...n }));
  const m = M.meterInfo(meter);
  r.meter = meter;
  r.in_key = M.inKey(notes, reqKey);
  r.shape = M.shape(notes, meter);
  r.timing = M.timing(notes);
  if (req.bars && !lines) { r.bars_requested = req.bars; if (r.shape.bars !== req.bars) r.problems.push(`${r.shape.bars} bars for ${req.bars} requested`); }
  if (res.bars != null && r.shape.bars > res.bars) r.problems.push(`notes run to bar ${r.shape.bars} but bars = ${res.bars}`);
  const barMismatch = notes.filter((n) => n.bar != null && n.bar !== Math.floor(n.start / m.bar + 1e-9)).length;
  if (barMismatch) r.problems.push(`${barMismatch} notes whose bar field disagrees with start / bar length`);
  r.rules = M.rhythmRules(notes, meter, lines ? { lo: 53, hi: 81 } : { lo: 50, hi: 93 });
  r.range_limit = res.range_limit ?? req.range ?? 16;
  if (r.shape.range > r.range_limit) r.problems.push(`range ${r.shape.range} over the limit ${r.range_limit}`);
  if (r.shape.max_leap > 12) r.problems.push(`leap of ${r.shape.max_leap} semitones`);
  for (const [k, v] of Object.entries(r.rules)) if (v) r.problems.push(`${v} notes: ${k.replace(/_/g, ' ')}`);
  r.relaxations = (res.relaxations || []).length;
  r.relaxation_rules = (res.relaxations || []).map((x) => x.rule);
  r.engine_checks = res.checks ?? null;
  r.final_on_tonic = notes.length ? M.scaleDegree(notes.at(-1).pitch, reqKey) === 1 : null;

  // Phrase finals: lyric lines (own split), else the engine's phrases; plus the 4-bar grid.
  let finals = [];
  if (lines) {
    const units = lines.map((l) => M.lineUnits(l, CMU));
    const counts = units.map((u) => u.reduce((t, x) => t + x.syl, 0));
    const split = M.splitByLines(notes, counts);
    r.lines = lines.length;
    r.align = { syllables: 0, aligned: 0, lines_text_ok: 0, lines_aligned: 0, extra_notes: 0, unknown_words: [], mismatches: [] };
    r.stress = { of: 0, on_beat: 0, on_strong: 0, onsets: 0, onsets_on_beat: 0, engine_agree: 0, engine_of: 0 };
    r.tones = { of: 0, held: 0, random_of: 0, random_held: 0, agree: 0, agree_of: 0, broken: [] };
    const sungAll = notes.filter((n) => n.syllable != null && !n.melisma).length;
    const total = counts.reduce((a, b) => a + b, 0);
    if (sungAll !== total) r.problems.push(`${sungAll} sung notes for ${total} syllables`);
    units.forEach((u, li) => {
      if (!u.length) return;
      const ln = split[li];
      const a = M.alignLine(u, ln);
      r.align.syllables += a.syllables;
      r.align.aligned += a.aligned;
      r.align.extra_notes += a.extra_notes;
      if (a.text_ok) r.align.lines_text_ok++;
      if (a.aligned === a.syllables) r.align.lines_aligned++;
      else if (r.align.mismatches.length < 3) r.align.mismatches.push(a.mismatch ? `line ${li}: expected "${a.mismatch.expected}" got "${a.mismatch.got}"` : `line ${li}: ${a.aligned}/${a.syllables} syllables with one note ("${lines[li]}": ${ln.map((n) => n.syllable ?? '~').join(' ')})`);
      for (const w of u) if (!w.cjk && !w.known) r.align.unknown_words.push(w.text);
      // Engine's line field against ours.
      const wrongLine = ln.filter((n) => n.line != null && n.syllable != null && n.line !== li).length;
      if (wrongLine) r.problems.push(`line ${li}: ${wrongLine} notes carry another line number`);
      const last = ln.filter((n) => n.pitch != null).at(-1);
      if (last) finals.push(last.pitch);
      // English stress.
      const st = M.stressPlacement(a.segments, meter);
      r.stress.of += st.of; r.stress.on_beat += st.on_beat; r.stress.on_strong += st.on_strong;
      for (const x of st.misses) if ((r.stress.misses ??= []).length < 4) r.stress.misses.push(`${x.word} (syllable ${x.syllable + 1}) at bar position ${+x.bar_position.toFixed(3)}`);
      for (const n of ln) if (n.syllable != null && !n.melisma) { r.stress.onsets++; if (M.onBeat(n.start, m)) r.stress.onsets_on_beat++; }
      for (const s of a.segments) {
        let k = 0;
        for (const w of s.units) {
          if (!w.cjk && w.known && w.syl >= 2 && w.stresses.length === w.syl) {
            for (let j = 0; j < w.syl; j++) { const n = s.notes[k + j]; if (n?.stress != null) { r.stress.engine_of++; if ((n.stress === 1) === (w.stresses[j] === 1)) r.stress.engine_agree++; } }
          }
          k += w.syl;
        }
      }
      // Mandarin tones: aligned lines of Chinese characters only.
      const cjk = u.filter((w) => w.cjk);
      if (cjk.length && a.text_ok && a.aligned === a.syllables && cjk.length === u.length) {
        const tones = zhTones(cjk.map((w) => w.text));
        const sung = ln.filter((n) => n.syllable != null && !n.melisma);
        sung.forEach((n, i) => { if (n.tone != null) { r.tones.agree_of++; if (n.tone === tones[i] || (n.tone === 0 && tones[i] === 5)) r.tones.agree++; } });
        const seq = sung.map((n, i) => ({ tone: tones[i], pitch: n.pitch }));
        const t = M.toneRules(seq);
        r.tones.of += t.of; r.tones.held += t.held;
        if (t.broken.length && r.tones.broken.length < 3) r.tones.broken.push(`${cjk.map((w) => w.text).join('')}: ${t.broken.map((i) => `${cjk[i - 1].text}${tones[i - 1]}→${cjk[i].text}${tones[i]} ${seq[i].pitch - seq[i - 1].pitch > 0 ? '+' : ''}${seq[i].pitch - seq[i - 1].pitch}`).join(', ')}`);
      }
    });
    // Random baseline for tones: same rhythm, random scale pitches within the melody's range.
    if (r.tones.of) {
      for (let d = 0; d < RANDOM_DRAWS; d++) {
        const rnd = M.randomMelody(notes, reqKey, M.rng((req.seed ?? 0) * 31 + d));
        const rsplit = M.splitByLines(rnd, counts);
        units.forEach((u, li) => {
          if (!u.length || !u.every((w) => w.cjk)) return;
          const sung = rsplit[li].filter((n) => n.syllable != null && !n.melisma);
          if (sung.length !== u.length) return;
          const tones = zhTones(u.map((w) => w.text));
          const t = M.toneRules(sung.map((n, i) => ({ tone: tones[i], pitch: n.pitch })));
          r.tones.random_of += t.of; r.tones.random_held += t.held;
        });
      }
    }
    // Repeated lines (same text as an earlier line, or repeat_of): sung the same.
    r.repeats = { lines: 0, same: 0 };
    const texts = lines.map((l) => M.lineUnits(l, CMU).map((u) => u.letters).join(' '));
    const repOf = Array.isArray(req.lyrics) ? req.lyrics.map((l) => (typeof l === 'object' && l.repeat_of != null && l.repeat_of >= 0 ? l.repeat_of : null)) : [];
    texts.forEach((t, li) => {
      const j = repOf[li] ?? (t ? texts.indexOf(t) : -1);
      if (j == null || j < 0 || j >= li || !split[j].length || texts[j] !== t) return;
      r.repeats.lines++;
      // the song's last line may end on the tonic instead (docs/melody-rules.md): compare all but that note
      const lastLine = li === texts.length - 1;
      if (M.sameLine(split[j], split[li]) || (lastLine && M.sameLine(split[j].slice(0, -1), split[li].slice(0, -1)) &&
          split[j].length === split[li].length)) r.repeats.same++;
    });
    if (r.repeats.same < r.repeats.lines) r.problems.push(`${r.repeats.lines - r.repeats.same}/${r.repeats.lines} repeated lines sung differently`);
    if (!r.tones.of && !r.tones.random_of) r.tones = null;
    if (!r.stress.of && !r.stress.onsets) r.stress = null;
  } else {
    for (const p of res.phrases || []) {
      const idx = Array.isArray(p.notes) ? p.notes[p.notes.length - 1] : null;
      if (idx != null && notes[idx]) finals.push(notes[idx].pitch);
    }
    if (!(res.phrases || []).length) r.problems.push('no phrases');
  }
  r.cadence = M.cadence(finals, reqKey);
  r.cadence_grid = M.cadence(gridFinals(notes, meter).map((n) => n.pitch), reqKey);
  r.pc_hist = M.pcHistogram(notes, reqKey);
  r.iv_hist = M.intervalHistogram(notes);
  r.random_hists = Array.from({ length: RANDOM_DRAWS }, (_, d) => { const rnd = M.randomMelody(notes, reqKey, M.rng((req.seed ?? 0) * 17 + d)); return { pc: M.pcHistogram(rnd, reqKey), iv: M.intervalHistogram(rnd) }; });
  {
    // Random baseline for cadence: same phrase-final positions, random pitches.
    let ok = 0, of = 0;
    const finalIdx = [];
    if (lines) {
      const counts = lines.map((l) => M.lineUnits(l, CMU).reduce((t, x) => t + x.syl, 0));
      M.splitByLines(notes, counts).forEach((ln) => { const last = ln.filter((n) => n.pitch != null).at(-1); if (last) finalIdx.push(notes.indexOf(last)); });
    } else for (const p of res.phrases || []) if (Array.isArray(p.notes)) finalIdx.push(p.notes[p.notes.length - 1]);
    for (let d = 0; d < RANDOM_DRAWS; d++) {
      const rnd = M.randomMelody(notes, reqKey, M.rng((req.seed ?? 0) * 13 + d));
      const c = M.cadence(finalIdx.filter((i) => rnd[i]).map((i) => rnd[i].pitch), reqKey);
      ok += c.ok; of += c.of;
    }
    r.random_cadence = { ok, of, share: of ? ok / of : NaN };
  }
  // MIDI: parse the base64 file, compare with notes.
  r.midi = checkMidi(res, notes, reqKey, meter);
  if (r.midi && !r.midi.ok) r.problems.push(`MIDI differs from notes: ${JSON.stringify(r.midi.first ?? r.midi.meta_problems)}`);
  if (r.timing.overlaps) r.problems.push(`${r.timing.overlaps} overlapping notes`);
  if (r.timing.off_grid) r.problems.push(`${r.timing.off_grid} notes off the 1/12 grid`);
  return r;
}

function checkMidi(res, notes, key, meter) {
  if (typeof res.midi !== 'string' || !res.midi) return { ok: false, error: 'no midi' };
  let smf;
  try { smf = parseMidi(Buffer.from(res.midi, 'base64')); } catch (e) { return { ok: false, error: `unreadable: ${e.message}` }; }
  const withNotes = smf.tracks.map((t, i) => ({ i, t, notes: trackNotes(t), lyrics: t.events.filter((e) => e.type === 'lyric') })).filter((x) => x.notes.length);
  if (!withNotes.length) return { ok: false, error: 'no notes in the MIDI file', format: smf.format };
  const mel = withNotes.find((x) => x.lyrics.length) || withNotes[0];
  const hasLyrics = notes.some((n) => n.syllable != null);
  const c = M.compareMidi(mel.notes, smf.ppq, notes, hasLyrics ? mel.lyrics : null);
  const meta = [];
  const ts = smf.timeSignatures[0];
  if (!ts || `${ts.numerator}/${ts.denominator}` !== meter) meta.push(`time signature ${ts ? `${ts.numerator}/${ts.denominator}` : 'none'} for ${meter}`);
  const ks = smf.keySignatures[0];
  if (res.key?.fifths != null && (!ks || ks.fifths !== res.key.fifths)) meta.push(`key signature ${ks?.fifths} for fifths ${res.key.fifths}`);
  const tp = smf.tempos[0];
  if (res.tempo && (!tp || Math.abs(tp.bpm - res.tempo) > 0.5)) meta.push(`tempo ${tp?.bpm?.toFixed(1)} for ${res.tempo}`);
  if (smf.format !== 1) meta.push(`format ${smf.format}`);
  return { ...c, ok: c.ok && !meta.length, format: smf.format, tracks: smf.tracks.length, melody_track: mel.i, lyric_events: mel.lyrics.length, meta_problems: meta };
}

// ------------------------------------------------------------------------------------ real tunes (reference)
/** Held-out records (validation split of build/data/melody.valid.jsonl, joined to the parsed records) and training records. */
function loadRecords() {
  const valid = path.join(DATA, 'melody.valid.jsonl');
  if (!fs.existsSync(valid)) return null;
  const validIds = new Set(fs.readFileSync(valid, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id));
  const trainIds = new Set(fs.existsSync(path.join(DATA, 'melody.train.jsonl')) ? fs.readFileSync(path.join(DATA, 'melody.train.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id) : []);
  const out = { valid: [], train: [] };
  for (const f of ['melody-abc.jsonl', 'melody-songs.jsonl']) {
    const file = path.join(DATA, f);
    if (!fs.existsSync(file)) continue;
    for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!l) continue;
      const rec = JSON.parse(l);
      const set = validIds.has(rec.id) ? out.valid : trainIds.has(rec.id) ? out.train : null;
      if (!set || !rec.key?.tonic || M.tonicPc(rec.key.tonic) == null || !Array.isArray(rec.meter)) continue;
      set.push({ id: rec.id, source: rec.source, type: rec.type ?? null, key: { tonic: rec.key.tonic, mode: rec.key.mode || 'major' }, meter: meterStr(rec.meter), pickup: !!rec.pickup,
                 notes: rec.notes.map(noteObj), lyrics_lines: rec.lyrics_lines ?? null });
    }
  }
  return out;
}
/** Where bar 0 starts (negative with a pickup): the first note of bar 1 minus a bar. */
function recordOffset(rec) {
  if (!rec.pickup) return 0;
  const b1 = rec.notes.find((n) => n.bar === 1);
  return b1 ? b1.start - M.meterInfo(rec.meter).bar : 0;
}
/**
 * English stress in a real song. The parsed songs keep syllables without hyphens ("Brit", "ish"),
 * so words are rebuilt greedily: 4, 3 or 2 consecutive syllables (no punctuation inside) whose
 * letters form a CMUdict word with that many syllables; such a word's primary-stressed syllable is
 * checked. Also: phrase ends = the last note of a syllable ending in , ; : . ! ? (lyric line ends).
 */
function recordLyrics(rec) {
  const m = M.meterInfo(rec.meter), off = recordOffset(rec);
  let of = 0, on = 0, strong = 0, onsets = 0, onsetsOn = 0;
  const sounding = rec.notes.filter((n) => n.pitch != null);
  const sung = sounding.filter((n) => n.syllable != null);
  for (const n of sung) { onsets++; if (M.onBeat(n.start, m, off)) onsetsOn++; }
  for (let i = 0; i < sung.length;) {
    let took = 1;
    for (let k = 4; k >= 2; k--) {
      const part = sung.slice(i, i + k);
      if (part.length < k || part.slice(0, -1).some((n) => /[,.;:!?'"]$/.test(n.syllable))) continue;
      const st = M.cmuStresses(CMU, part.map((n) => M.letters(n.syllable)).join(''));
      if (st && st.length === k && st.includes(1)) {
        const n = part[st.indexOf(1)];
        of++; if (M.onBeat(n.start, m, off)) on++; if (M.onStrongBeat(n.start, m, off)) strong++;
        took = k;
        break;
      }
    }
    i += took;
  }
  const finals = [];
  sounding.forEach((n, i) => {
    if (n.syllable == null || !/[,.;:!?]$/.test(n.syllable)) return;
    let j = i;
    while (j + 1 < sounding.length && sounding[j + 1].syllable == null) j++;
    finals.push(sounding[j]);
  });
  return { of, on_beat: on, on_strong: strong, onsets, onsets_on_beat: onsetsOn, finals };
}

function addTo(acc, x, keys) { for (const k of keys) acc[k] = (acc[k] || 0) + (x?.[k] || 0); return acc; }
const share = (a, b) => (b ? a / b : NaN);

/** Metrics on real tunes: held-out tunes scored as if generated (vs training tunes of the style) and random melodies with their rhythm. */
function referenceSection(recs) {
  const byStyle = (set, s) => set.filter((r) => (s === 'pooled' ? true : r.type === s));
  const R = { valid_tunes: recs.valid.length, train_tunes: recs.train.length, styles: {} };
  for (const s of [...STYLES, 'pooled']) {
    const V = byStyle(recs.valid, s), T = byStyle(recs.train, s);
    if (!V.length || !T.length) { R.styles[s] = { valid: V.length, train: T.length }; continue; }
    const x = { valid: V.length, train: T.length, in_key: { in: 0, of: 0 }, cadence_grid: { ok: 0, of: 0 }, random_cadence_grid: { ok: 0, of: 0 }, final: { ok: 0, of: 0 }, random_final: { ok: 0, of: 0 } };
    for (const r of V) {
      addTo(x.in_key, M.inKey(r.notes, r.key), ['in', 'of']);
      const fin = gridFinals(r.notes, r.meter, recordOffset(r));
      addTo(x.cadence_grid, M.cadence(fin.map((n) => n.pitch), r.key), ['ok', 'of']);
      for (let d = 0; d < RANDOM_DRAWS; d++) {
        const rnd = M.randomMelody(r.notes, r.key, M.rng(d * 7919 + r.notes.length));
        addTo(x.random_cadence_grid, M.cadence(fin.map((n) => rnd[r.notes.indexOf(n)].pitch), r.key), ['ok', 'of']);
        addTo(x.random_final, M.cadence([rnd.filter((n) => n.pitch != null).at(-1).pitch], r.key), ['ok', 'of']);
      }
      addTo(x.final, M.cadence([r.notes.filter((n) => n.pitch != null).at(-1).pitch], r.key), ['ok', 'of']);
    }
    const pcT = M.meanHistogram(T.map((r) => M.pcHistogram(r.notes, r.key))), ivT = M.meanHistogram(T.map((r) => M.intervalHistogram(r.notes)));
    const pcV = M.meanHistogram(V.map((r) => M.pcHistogram(r.notes, r.key))), ivV = M.meanHistogram(V.map((r) => M.intervalHistogram(r.notes)));
    const rnd = V.flatMap((r) => Array.from({ length: RANDOM_DRAWS }, (_, d) => M.randomMelody(r.notes, r.key, M.rng(d * 104729 + r.notes.length))).map((n) => ({ n, key: r.key })));
    x.overlap_pc = M.overlap(pcV, pcT);
    x.overlap_interval = M.overlap(ivV, ivT);
    x.random_overlap_pc = M.overlap(M.meanHistogram(rnd.map((q) => M.pcHistogram(q.n, q.key))), pcT);
    x.random_overlap_interval = M.overlap(M.meanHistogram(rnd.map((q) => M.intervalHistogram(q.n))), ivT);
    if (s === 'pooled') {
      const sample = (arr, n, seed) => { const rr = M.rng(seed); return arr.map((v) => [rr(), v]).sort((a, b) => a[0] - b[0]).slice(0, n).map((p) => p[1]); };
      const Ts = sample(T, 300, 1), Vs = sample(V, 150, 2), Rs = sample(rnd, 150, 3);
      x.kde = {
        pc: M.setOverlap(Vs.map((r) => M.pcHistogram(r.notes, r.key)), Ts.map((r) => M.pcHistogram(r.notes, r.key))),
        interval: M.setOverlap(Vs.map((r) => M.intervalHistogram(r.notes)), Ts.map((r) => M.intervalHistogram(r.notes))),
        random_pc: M.setOverlap(Rs.map((q) => M.pcHistogram(q.n, q.key)), Ts.map((r) => M.pcHistogram(r.notes, r.key))),
        random_interval: M.setOverlap(Rs.map((q) => M.intervalHistogram(q.n)), Ts.map((r) => M.intervalHistogram(r.notes))),
      };
    }
    R.styles[s] = x;
  }
  // English lyrics in real songs (held-out and training): stress and lyric-line ends.
  const songs = [...recs.valid, ...recs.train].filter((r) => r.notes.some((n) => n.syllable != null) && r.source === 'lilypond-songs');
  const L = { songs: songs.length, line_ends: { ok: 0, of: 0 }, random_line_ends: { ok: 0, of: 0 } };
  for (const r of songs) {
    const x = recordLyrics(r);
    addTo(L, x, ['of', 'on_beat', 'on_strong', 'onsets', 'onsets_on_beat']);
    addTo(L.line_ends, M.cadence(x.finals.map((n) => n.pitch), r.key), ['ok', 'of']);
    const rnd = M.randomMelody(r.notes, r.key, M.rng(r.notes.length));
    addTo(L.random_line_ends, M.cadence(x.finals.map((n) => rnd[r.notes.indexOf(n)].pitch), r.key), ['ok', 'of']);
  }
  R.stress_real_songs = L;
  return R;
}

// ------------------------------------------------------------------------------------ generated vs real
/**
 * Generated vs held-out histograms, per style and pooled. The pitch-class histogram depends on the
 * mode, so the reference is mode-matched: the mean of held-out tunes of the style and mode, weighted
 * by how many generated melodies have that mode (fallbacks: the mode in any style, then the style
 * alone, then every held-out tune; the reference column says which).
 */
function overlapSection(results, recs) {
  const out = { styles: {}, reference_note: 'mode-matched: held-out tunes of the style and mode, weighted by the generated melodies\' modes' };
  const modeOf = (r) => r.key.mode || 'major';
  for (const s of [...STYLES, 'pooled']) {
    const G = results.filter((x) => x.result && (s === 'pooled' || x.request.style === s));
    if (!G.length) continue;
    const ofStyle = s === 'pooled' ? recs.valid : recs.valid.filter((r) => r.type === s);
    const modes = countBy(G.map((x) => x.request.mode || 'major'));
    const parts = [], how = [];
    for (const [mode, n] of Object.entries(modes)) {
      let V = ofStyle.filter((r) => modeOf(r) === mode), why = `${s} ${mode}`;
      if (V.length < 3) { V = recs.valid.filter((r) => modeOf(r) === mode); why = `${mode} (any style)`; }
      if (V.length < 3) { V = ofStyle.length >= 3 ? ofStyle : recs.valid; why = ofStyle.length >= 3 ? `${s} (any mode)` : 'all held-out'; }
      parts.push({ n, V });
      how.push(`${n}x ${why} (${V.length})`);
    }
    const mix = (f) => { const acc = []; const tot = parts.reduce((t, p) => t + p.n, 0); for (const p of parts) M.meanHistogram(p.V.map(f)).forEach((x, i) => { acc[i] = (acc[i] || 0) + (x * p.n) / tot; }); return acc; };
    const pcV = mix((r) => M.pcHistogram(r.notes, r.key)), ivV = mix((r) => M.intervalHistogram(r.notes));
    const Vall = [...new Set(parts.flatMap((p) => p.V))];
    const pcG = M.meanHistogram(G.map((x) => x.result.pc_hist)), ivG = M.meanHistogram(G.map((x) => x.result.iv_hist));
    const rnd = G.flatMap((x) => x.result.random_hists);
    const o = { melodies: G.length, reference: how.join(', '), reference_tunes: Vall.length, style_tunes: ofStyle.length,
                pc: M.overlap(pcG, pcV), interval: M.overlap(ivG, ivV),
                random_pc: M.overlap(M.meanHistogram(rnd.map((h) => h.pc)), pcV), random_interval: M.overlap(M.meanHistogram(rnd.map((h) => h.iv)), ivV),
                notes_per_bar: stats(G.map((x) => x.result.shape.notes_per_bar))?.median, reference_notes_per_bar: ofStyle.length ? stats(ofStyle.map((r) => M.shape(r.notes, r.meter).notes_per_bar))?.median : null,
                range: stats(G.map((x) => x.result.shape.range))?.median, reference_range: ofStyle.length ? stats(ofStyle.map((r) => M.shape(r.notes, r.meter).range))?.median : null,
                hist: { pc_generated: pcG, pc_reference: pcV, interval_generated: ivG, interval_reference: ivV } };
    if (G.length >= 3 && Vall.length >= 3) {
      o.kde = { pc: M.setOverlap(G.map((x) => x.result.pc_hist), Vall.map((r) => M.pcHistogram(r.notes, r.key))),
                interval: M.setOverlap(G.map((x) => x.result.iv_hist), Vall.map((r) => M.intervalHistogram(r.notes))),
                random_pc: M.setOverlap(G.map((x) => x.result.random_hists[0].pc), Vall.map((r) => M.pcHistogram(r.notes, r.key))),
                random_interval: M.setOverlap(G.map((x) => x.result.random_hists[0].iv), Vall.map((r) => M.intervalHistogram(r.notes))) };
    }
    out.styles[s] = o;
  }
  return out;
}

// ------------------------------------------------------------------------------------ summary
function summarize(results) {
  const S = {};
  const groups = { en: (x) => x.kind === 'en', zh: (x) => x.kind === 'zh', instrumental: (x) => x.kind === 'instrumental', all: () => true };
  for (const [g, f] of Object.entries(groups)) {
    const X = results.filter(f);
    const ok = X.filter((x) => x.result);
    const sum = (get, keys) => ok.reduce((acc, x) => addTo(acc, get(x.result), keys), {});
    const ik = sum((r) => r.in_key, ['in', 'of']);
    const al = sum((r) => r.align, ['syllables', 'aligned', 'lines_text_ok', 'lines_aligned', 'extra_notes']);
    const ca = sum((r) => r.cadence, ['ok', 'of']), cg = sum((r) => r.cadence_grid, ['ok', 'of']), rc = sum((r) => r.random_cadence, ['ok', 'of']);
    const st = sum((r) => r.stress, ['of', 'on_beat', 'on_strong', 'onsets', 'onsets_on_beat', 'engine_agree', 'engine_of']);
    const to = sum((r) => r.tones, ['of', 'held', 'random_of', 'random_held', 'agree', 'agree_of']);
    const lyricLinesTotal = ok.reduce((t, x) => t + (x.result.lines || 0), 0);
    const shapes = ok.map((x) => x.result.shape);
    S[g] = {
      requests: X.length, failures: X.length - ok.length, errors: X.filter((x) => !x.result).map((x) => `${x.id}: ${x.error}`),
      in_key: share(ik.in, ik.of), in_key_counts: ik,
      alignment: al.syllables ? share(al.aligned, al.syllables) : null, alignment_counts: al.syllables ? { ...al, lines: lyricLinesTotal } : null,
      cadence: share(ca.ok, ca.of), cadence_counts: ca, cadence_grid: share(cg.ok, cg.of), random_cadence: share(rc.ok, rc.of),
      stress_on_beat: st.of ? share(st.on_beat, st.of) : null, stress_on_strong: st.of ? share(st.on_strong, st.of) : null, stress_counts: st.of ? st : null,
      all_syllables_on_beat: st.onsets ? share(st.onsets_on_beat, st.onsets) : null, stress_engine_agreement: st.engine_of ? share(st.engine_agree, st.engine_of) : null,
      tones: to.of ? share(to.held, to.of) : null, tones_random: to.random_of ? share(to.random_held, to.random_of) : null, tone_counts: to.of ? to : null,
      tone_label_agreement: to.agree_of ? share(to.agree, to.agree_of) : null,
      stress_by_meter: Object.fromEntries(Object.entries(ok.reduce((acc, x) => { if (x.result.stress?.of) addTo(acc[x.result.meter] ??= {}, x.result.stress, ['of', 'on_beat', 'on_strong']); return acc; }, {}))
        .map(([k, v]) => [k, { ...v, share_on_beat: share(v.on_beat, v.of) }])),
      range: stats(shapes.map((s) => s.range)), max_leap: stats(shapes.map((s) => s.max_leap)), notes_per_bar: stats(shapes.map((s) => s.notes_per_bar)),
      leaps_over_octave: shapes.reduce((t, s) => t + s.leaps_over_octave, 0),
      final_on_tonic: share(ok.filter((x) => x.result.final_on_tonic).length, ok.length),
      relaxations: ok.reduce((t, x) => t + x.result.relaxations, 0), melodies_with_relaxations: ok.filter((x) => x.result.relaxations).length,
      relaxation_rules: countBy(ok.flatMap((x) => x.result.relaxation_rules)),
      midi_ok: ok.filter((x) => x.result.midi?.ok).length, midi_of: ok.length,
      rules: sum((r) => r.rules, ['cross_bar', 'off_sixteenth', 'sung_off_eighth', 'outside_register']),
      over_range: ok.filter((x) => x.result.shape.range > x.result.range_limit).length,
      repeats: sum((r) => r.repeats, ['lines', 'same']),
      ms: stats(X.map((x) => x.ms).filter(Number.isFinite)),
      melodies_with_problems: ok.filter((x) => x.result.problems.length).length,
    };
  }
  return S;
}
function stats(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor((s.length - 1) / 2)], mean: s.reduce((a, b) => a + b, 0) / s.length, max: s.at(-1) };
}
function countBy(xs) { const o = {}; for (const x of xs) o[x] = (o[x] || 0) + 1; return o; }

// ------------------------------------------------------------------------------------ report
const P = (x, d = 1) => (x == null || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(d)}%`);
const F = (x, d = 2) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
const ok = (x, t) => (x == null || !Number.isFinite(x) ? '' : x >= t - 1e-9 ? ' ok' : ' MISSED');

function tableRows(rep) {
  const S = rep.summary, O = rep.overlap?.styles?.pooled, A = S.all;
  const rows = [
    ['requests (en / zh / instrumental)', `${A.requests} (${S.en.requests} / ${S.zh.requests} / ${S.instrumental.requests}); failures ${A.failures}`, '0 failures', A.failures === 0 ? ' ok' : ' MISSED'],
    ['in-key notes', `${P(A.in_key, 2)} (${A.in_key_counts.in}/${A.in_key_counts.of})`, '100%', ok(A.in_key, 1)],
    ['alignment: syllables with exactly one note, texts in order', `${P(A.alignment, 2)} (${A.alignment_counts?.aligned}/${A.alignment_counts?.syllables}; en ${P(S.en.alignment)}, zh ${P(S.zh.alignment)}; lines ${A.alignment_counts?.lines_aligned}/${A.alignment_counts?.lines})`, '100%', ok(A.alignment, 1)],
    ['cadence: phrase-final on degree 1/3/5 (lyric lines; `phrases`)', `${P(A.cadence)} (${A.cadence_counts.ok}/${A.cadence_counts.of}; en ${P(S.en.cadence)}, zh ${P(S.zh.cadence)}, instr. ${P(S.instrumental.cadence)}); random ${P(A.random_cadence)}`, '>= 90%', ok(A.cadence, 0.9)],
    ['cadence by the 4-bar grid (informative)', `${P(A.cadence_grid)}; real held-out tunes ${P(rep.reference?.styles?.pooled?.cadence_grid?.share)}`, '', ''],
    ['English stress on a beat / on a strong beat', `${P(S.en.stress_on_beat)} / ${P(S.en.stress_on_strong)} (${S.en.stress_counts?.of} stressed syllables); all syllables on a beat ${P(S.en.all_syllables_on_beat)}; real songs ${P(rep.reference?.stress_real_songs?.share_on_beat)}`, '>= 80% on a beat', ok(S.en.stress_on_beat, 0.8)],
    ['English stress on a beat, by meter', Object.entries(S.en.stress_by_meter || {}).sort().map(([k, v]) => `${k} ${P(v.share_on_beat, 0)} (${v.on_beat}/${v.of})`).join(', ') || 'n/a', '', ''],
    ['Mandarin tone rules held (random melody, same rhythm)', `${P(S.zh.tones)} (${S.zh.tone_counts?.held}/${S.zh.tone_counts?.of}); random ${P(S.zh.tones_random)}`, '>= 70%', ok(S.zh.tones, 0.7)],
    ["engine's syllable labels vs ours: English stress / Mandarin tone", `${P(S.en.stress_engine_agreement)} / ${P(S.zh.tone_label_agreement)} agree`, 'informative', ''],
    ['pitch-class histogram overlap vs held-out tunes, pooled (random)', `${F(O?.pc)} (${F(O?.random_pc)})`, '>= 0.8', ok(O?.pc, 0.8)],
    ['interval histogram overlap, pooled (random)', `${F(O?.interval)} (${F(O?.random_interval)})`, '>= 0.8', ok(O?.interval, 0.8)],
    ['mgeval KDE overlap, intra-set (held-out) vs inter-set distances, pc / interval (random)', `${F(O?.kde?.pc?.oa_ref_intra_vs_inter)} / ${F(O?.kde?.interval?.oa_ref_intra_vs_inter)} (${F(O?.kde?.random_pc?.oa_ref_intra_vs_inter)} / ${F(O?.kde?.random_interval?.oa_ref_intra_vs_inter)}); real held-out vs training ${F(rep.reference?.styles?.pooled?.kde?.pc?.oa_ref_intra_vs_inter)} / ${F(rep.reference?.styles?.pooled?.kde?.interval?.oa_ref_intra_vs_inter)}`, 'informative', ''],
    ['range / largest leap, semitones (median, max)', `${A.range?.median} (${A.range?.max}) / ${A.max_leap?.median} (${A.max_leap?.max}); leaps > octave: ${A.leaps_over_octave}`, '', ''],
    ['notes per bar (median; en / zh / instr.)', `${F(A.notes_per_bar?.median, 1)}; ${F(S.en.notes_per_bar?.median, 1)} / ${F(S.zh.notes_per_bar?.median, 1)} / ${F(S.instrumental.notes_per_bar?.median, 1)}`, '', ''],
    ['final note on the tonic', P(A.final_on_tonic), '100%', ok(A.final_on_tonic, 1)],
    ['melody-rules.md: notes across a bar / off the 1/16 grid / sung off the 1/8 grid / off register; over `range`',
     `${A.rules.cross_bar} / ${A.rules.off_sixteenth} / ${A.rules.sung_off_eighth} / ${A.rules.outside_register}; ${A.over_range}`, 'all 0', A.rules.cross_bar + A.rules.off_sixteenth + A.rules.sung_off_eighth + A.rules.outside_register + A.over_range ? ' MISSED' : ' ok'],
    ['repeated lyric lines sung the same', `${A.repeats.same}/${A.repeats.lines}`, 'all', A.repeats.same === A.repeats.lines ? ' ok' : ' MISSED'],
    ['relaxations', `${A.relaxations} in ${A.melodies_with_relaxations}/${A.requests - A.failures} melodies${Object.keys(A.relaxation_rules).length ? ` (${Object.entries(A.relaxation_rules).map(([k, n]) => `${n}x ${k}`).join(', ')})` : ''}`, '', ''],
    ['MIDI file matches notes (and lyric events, meter, key, tempo)', `${A.midi_ok}/${A.midi_of}`, 'all', A.midi_ok === A.midi_of ? ' ok' : ' MISSED'],
    ['time per melody, median (max)', `${F(A.ms?.median, 0)} ms (${F(A.ms?.max, 0)} ms), ${rep.engine}`, '', ''],
  ];
  return rows;
}

function styleRows(rep) {
  const O = rep.overlap?.styles || {};
  return Object.entries(O).map(([s, o]) => [s, o.melodies, `${o.style_tunes}${o.style_tunes < 3 && s !== 'pooled' ? '*' : ''}`, F(o.pc), F(o.random_pc), F(o.interval), F(o.random_interval),
    F(rep.reference?.styles?.[s]?.overlap_pc), F(rep.reference?.styles?.[s]?.overlap_interval), `${F(o.notes_per_bar, 1)} / ${F(o.reference_notes_per_bar, 1)}`, `${o.range} / ${o.reference_range ?? 'n/a'}`]);
}

function markdown(rep) {
  const L = [];
  const p = (s = '') => L.push(s);
  p(`Measured by \`node tools/melody/eval.mjs --md\` (${rep.date.slice(0, 10)}, ${rep.engine}${rep.model ? `; model ${rep.model}` : ''}).`);
  p(`${rep.summary.all.requests} fixed requests (fixed seeds): ${rep.summary.en.requests} English and ${rep.summary.zh.requests} Chinese lyric requests (4-8 lines, styles song/air/hymn/waltz,`);
  p('12 keys, major/minor/dorian/mixolydian, meters 2/4-12/8; four of each language set the lines of a `generate_lyrics` response), and');
  p(`${rep.summary.instrumental.requests} instrumental requests over every style. Every number is measured from the returned notes by the evaluation`);
  p("(tools/melody/metrics.mjs), not taken from the engine's `checks`: syllables as CJK characters / CMUdict, stress from CMUdict, tones from pinyin-pro,");
  p('histograms against held-out tunes (build/data/melody.valid.jsonl); the `midi` of every response is parsed and compared with `notes`.');
  p();
  p('| measure | result | target |');
  p('|---|---|---|');
  for (const [a, b, c, d] of tableRows(rep)) p(`| ${a} | ${b} | ${c}${d ? ` (${d.trim()})` : ''} |`);
  p();
  p('Histogram overlap (sum of bin minima) with held-out tunes of the same style; random = same rhythm, pitches drawn uniformly from the scale in the same range;');
  p('"real" = held-out tunes against training tunes of the style (what a perfect model would score). The reference is mode-matched (held-out tunes of the style');
  p('and mode, weighted by the generated melodies\' modes; a mode the style lacks falls back to that mode in any style). * = fewer than 3 held-out tunes of the style.');
  p();
  p('| style | melodies | held-out tunes | pitch class | random | interval | random | real: pc | real: interval | notes/bar (real) | range (real) |');
  p('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of styleRows(rep)) p(`| ${r.join(' | ')} |`);
  const probs = rep.results.filter((x) => x.result?.problems?.length);
  if (probs.length || rep.summary.all.failures) {
    p();
    p('Problems found:');
    for (const e of rep.summary.all.errors) p(`- ${e}`);
    for (const x of probs.slice(0, 12)) p(`- ${x.id} (${x.request.style}, ${x.request.key} ${x.request.mode}): ${x.result.problems.slice(0, 3).join('; ')}`);
  }
  return `${L.join('\n')}\n`;
}

function printReport(rep) {
  console.log(`\nmelody eval  ${rep.date}  ${rep.engine}  (${rep.seconds.toFixed(0)} s)`);
  const rows = tableRows(rep);
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [a, b, c, d] of rows) console.log(`  ${a.padEnd(w)}  ${b}${c ? `   [target ${c}]${d}` : ''}`);
  console.log('\n  overlap by style      melodies  held-out   pc  (random)  interval (random)   real: pc  interval   notes/bar (real)  range (real)');
  for (const r of styleRows(rep)) console.log(`  ${r[0].padEnd(20)} ${String(r[1]).padStart(8)} ${String(r[2]).padStart(9)}  ${r[3]}  (${r[4]})    ${r[5]}   (${r[6]})        ${r[7]}     ${r[8]}       ${r[9].padEnd(12)}     ${r[10]}`);
  const probs = rep.results.filter((x) => x.result?.problems?.length);
  if (rep.summary.all.errors.length) console.log(`\n  errors: ${rep.summary.all.errors.join(' | ')}`);
  if (probs.length) { console.log(`\n  problems (${probs.length} melodies):`); for (const x of probs.slice(0, 15)) console.log(`   ${x.id} ${x.request.style} ${x.request.key} ${x.request.mode}: ${x.result.problems.slice(0, 3).join('; ')}`); }
  const mis = rep.results.flatMap((x) => (x.result?.align?.mismatches || []).map((m) => `${x.id} ${m}`));
  if (mis.length) { console.log('\n  alignment misses:'); for (const m of mis.slice(0, 8)) console.log(`   ${m}`); }
  const sm = rep.results.flatMap((x) => (x.result?.stress?.misses || []).map((m) => `${x.id} ${x.result.meter}: ${m}`));
  if (sm.length) { console.log('\n  stressed syllables off the beat, e.g.:'); for (const m of sm.slice(0, 8)) console.log(`   ${m}`); }
  const tb = rep.results.flatMap((x) => (x.result?.tones?.broken || []).map((m) => `${x.id} ${m}`));
  if (tb.length) { console.log('\n  tone rules broken, e.g.:'); for (const m of tb.slice(0, 6)) console.log(`   ${m}`); }
}

function printReference(R) {
  console.log(`\nreference: real tunes scored by the same metrics (${R.valid_tunes} held-out, ${R.train_tunes} training tunes)`);
  console.log('  style        held-out  in-key   final 1/3/5 (random)   4-bar grid (random)   pc overlap vs train (random)   interval overlap (random)');
  for (const [s, x] of Object.entries(R.styles)) {
    if (!x.in_key) { console.log(`  ${s.padEnd(12)} ${String(x.valid).padStart(8)}  (too few tunes: ${x.valid} held-out, ${x.train} training)`); continue; }
    console.log(`  ${s.padEnd(12)} ${String(x.valid).padStart(8)}  ${P(x.in_key.share).padStart(6)}   ${P(x.final.share).padStart(6)} (${P(x.random_final.share)})        ${P(x.cadence_grid.share).padStart(6)} (${P(x.random_cadence_grid.share)})       ${F(x.overlap_pc)} (${F(x.random_overlap_pc)})                    ${F(x.overlap_interval)} (${F(x.random_overlap_interval)})`);
  }
  const k = R.styles.pooled?.kde;
  if (k) console.log(`  mgeval KDE overlap, intra(train) vs inter: held-out pc ${F(k.pc.oa_ref_intra_vs_inter)}, interval ${F(k.interval.oa_ref_intra_vs_inter)}; random pc ${F(k.random_pc.oa_ref_intra_vs_inter)}, interval ${F(k.random_interval.oa_ref_intra_vs_inter)}`);
  const s = R.stress_real_songs;
  console.log(`  English stress in real songs (${s.songs} songs, ${s.of} polysyllabic CMUdict words): on a beat ${P(s.share_on_beat)}, strong beat ${P(s.share_on_strong)}; all syllables on a beat ${P(s.share_onsets_on_beat)}`);
  console.log(`  lyric-line ends in real songs (syllables ending in punctuation: ${s.line_ends.of}) on degree 1/3/5: ${P(s.line_ends.share)} (random ${P(s.random_line_ends.share)})`);
}

// ------------------------------------------------------------------------------------ main
async function main() {
  const a = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const rep = { tool: 'tools/melody/eval.mjs', date: new Date().toISOString(), node: process.version, cores: os.cpus().length, loadavg_start: os.loadavg(), targets: TARGETS };
  const recs = loadRecords();
  if (!recs) log('melody eval: build/data/melody.valid.jsonl is missing (node tools/melody/prepare_abc.mjs, prepare_songs.mjs, prepare_melody.mjs): no histogram overlap');
  else {
    rep.reference = referenceSection(recs);
    const s = rep.reference.stress_real_songs;
    Object.assign(s, { share_on_beat: share(s.on_beat, s.of), share_on_strong: share(s.on_strong, s.of), share_onsets_on_beat: share(s.onsets_on_beat, s.onsets) });
    for (const x of Object.values(rep.reference.styles)) if (x.in_key) { x.in_key.share = share(x.in_key.in, x.in_key.of); x.cadence_grid.share = share(x.cadence_grid.ok, x.cadence_grid.of); x.random_cadence_grid.share = share(x.random_cadence_grid.ok, x.random_cadence_grid.of); x.final.share = share(x.final.ok, x.final.of); x.random_final.share = share(x.random_final.ok, x.random_final.of); }
    for (const k of ['line_ends', 'random_line_ends']) s[k].share = share(s[k].ok, s[k].of);
    printReference(rep.reference);
  }
  if (a.referenceOnly) {
    if (a.out) { fs.mkdirSync(path.dirname(a.out), { recursive: true }); fs.writeFileSync(a.out, `${JSON.stringify(rep, roundJson, 1)}\n`); console.log(`\nwrote ${path.relative(process.cwd(), a.out)}`); }
    return;
  }

  const engine = await openEngine(a.engine);
  rep.engine = engine.describe;
  const stale = ['dist/wasm/tunesmith-st.wasm', 'build/native/tunesmith', 'build/native/libtunesmith_core.a'].filter((f) => fs.existsSync(path.join(ROOT, f)) &&
    fs.statSync(path.join(ROOT, f)).mtimeMs < Math.max(...fs.readdirSync(path.join(ROOT, 'engine/src')).map((s) => fs.statSync(path.join(ROOT, 'engine/src', s)).mtimeMs)));
  for (const s of stale) log(`warning: ${s} is older than engine/src: rebuild for current numbers`);
  rep.stale_builds = stale;
  try { const info = (await engine.request({ task: 'info' })).response; rep.model = (info.models || []).filter((m) => /melody/.test(m.name || '')).map((m) => `${m.name} ${m.version ?? ''}`.trim()).join(', ') || null; } catch { /* no info */ }

  let items = requestSet();
  if (a.quick) items = items.filter((_, i) => i % 4 === 0);
  // Lyrics from generate_lyrics (fixed seeds).
  for (const it of items) {
    if (!it.lyricsFrom) continue;
    const g = (await engine.request(it.lyricsFrom)).response;
    if (g.error) { it.request.lyrics = EN_LINES.slice(0, 4); it.lyrics_note = `generate_lyrics failed (${g.error.code}); fixed lines used`; }
    else it.request.lyrics = g.lines.map((l) => { const o = { text: l.text }; if (l.repeat_of != null && l.repeat_of >= 0) o.repeat_of = l.repeat_of; if (l.section) o.section = l.section; return o; });
  }
  const results = [];
  for (const it of items) {
    const { ms, response } = await engine.request(it.request);
    const x = { id: it.id, kind: it.kind, request: it.request, ms };
    if (!response || response.error) x.error = response ? `${response.error.code}: ${response.error.message}${response.error.field ? ` (${response.error.field})` : ''}` : 'no response';
    else {
      try { x.result = measure(it.request, response, it.request.lyrics ? lyricLines(it.request.lyrics) : null); }
      catch (e) { x.error = `measure failed: ${e.stack?.split('\n').slice(0, 2).join(' ') || e.message}`; }
      x.response = { seed: response.seed, key: response.key, meter: response.meter, tempo: response.tempo, bars: response.bars, notes: response.notes, phrases: response.phrases, checks: response.checks, relaxations: response.relaxations, remarks: response.remarks };
    }
    results.push(x);
    log(`${x.id} ${it.request.style} ${it.request.key} ${it.request.mode}${it.request.meter ? ` ${it.request.meter}` : ''}: ${x.error ? `ERROR ${x.error}` : `${x.result.shape.notes} notes, ${x.result.shape.bars} bars, in-key ${P(x.result.in_key.share)}${x.result.align ? `, aligned ${x.result.align.aligned}/${x.result.align.syllables}` : ''}, cadence ${x.result.cadence.ok}/${x.result.cadence.of}${x.result.stress?.of ? `, stress ${x.result.stress.on_beat}/${x.result.stress.of}` : ''}${x.result.tones?.of ? `, tones ${x.result.tones.held}/${x.result.tones.of}` : ''}`} (${ms.toFixed(0)} ms)`);
  }
  // Same requests through the other engine: the same melody.
  if (a.compare) {
    let other = null;
    try { other = engine.name === 'wasm' ? await openEngine('native') : await wasmEngine(); } catch (e) { rep.equivalence = { error: e.message }; }
    if (other) {
      const pick = items.filter((_, i) => i % 3 === 0);
      let same = 0;
      const differ = [];
      for (const it of pick) {
        const o = (await other.request(it.request)).response;
        const mine = results.find((x) => x.id === it.id);
        if (JSON.stringify(o.notes) === JSON.stringify(mine.response?.notes) && !o.error === !mine.error) same++; else differ.push(it.id);
      }
      rep.equivalence = { engine: other.describe, requests: pick.length, identical: same, differ };
      await other.close();
    }
  }
  await engine.close();
  rep.results = results.map((x) => { if (x.result) { const { random_hists, pc_hist, iv_hist, ...r } = x.result; return { ...x, result: { ...r, pc_hist, iv_hist } }; } return x; });
  rep.summary = summarize(results);
  if (recs) rep.overlap = overlapSection(results, recs);
  rep.seconds = (performance.now() - t0) / 1000;
  rep.loadavg_end = os.loadavg();
  printReport(rep);
  if (rep.equivalence) console.log(`\n  same requests via ${rep.equivalence.engine ?? 'the other engine'}: ${rep.equivalence.error ? `not run (${rep.equivalence.error})` : `${rep.equivalence.identical}/${rep.equivalence.requests} identical${rep.equivalence.differ.length ? ` (differ: ${rep.equivalence.differ.join(', ')})` : ''}`}`);
  if (a.out) { fs.mkdirSync(path.dirname(a.out), { recursive: true }); fs.writeFileSync(a.out, `${JSON.stringify(rep, roundJson, 1)}\n`); console.log(`\nwrote ${path.relative(process.cwd(), a.out)}`); }
  if (a.md) { fs.mkdirSync(path.dirname(a.md), { recursive: true }); fs.writeFileSync(a.md, markdown(rep)); console.log(`wrote ${path.relative(process.cwd(), a.md)}`); }
  process.exit(0); // the wasm engine's thread pool would keep Node alive
}
function roundJson(k, v) { return typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(4)) : v; }

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(`melody eval: ${e.stack || e.message}`); process.exit(1); });
}

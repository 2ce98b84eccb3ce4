#!/usr/bin/env node
// Builds the lyrics training corpora from their sources (never committed to the repo):
//   zh: npm `chinese-poetry` (宋词, 元曲, 诗经, and a simplified subset of 全唐诗 / 宋诗 via opencc-js)
//   en: ../shared/data/lyrics-en/public-domain-poetry.jsonl.gz
// Output: OUT/{zh,en}.{train,valid}.jsonl, one record per song: {"style","title","lines":[...]},
// and OUT/stats.json with the counts the model manifests quote.
//
// usage: node tools/lyrics/prepare_data.mjs [OUT=build/data] [--shared ../shared]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const args = process.argv.slice(2);
const outDir = path.resolve(args.find((a) => !a.startsWith('--')) || path.join(repo, 'build/data'));
const sharedIdx = args.indexOf('--shared');
const shared = path.resolve(sharedIdx >= 0 ? args[sharedIdx + 1] : path.join(repo, '../shared'));
const cp = path.join(here, '../node_modules/chinese-poetry/dist');
if (!fs.existsSync(cp)) {
  console.error(`missing ${cp}: run "npm ci --prefix tools" first`);
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

// Deterministic pseudo-random choices (subsets, train/valid split) from a hash of the text.
const h32 = (s) => crypto.createHash('sha1').update(s).digest().readUInt32BE(0);
const isValid = (rec) => h32(rec.title + '|' + rec.lines.slice(0, 2).join('|')) % 50 === 0; // 2%

// ---------------- Chinese ----------------
const { Converter } = await import(path.join(here, '../node_modules/opencc-js/dist/esm/t2cn.js')).catch(
  async () => import('opencc-js'),
);
const t2s = Converter({ from: 'hk', to: 'cn' });
const CJK = /^[\u3400-\u9fff]+$/;
// Split a paragraph into lyric lines at clause punctuation; keep only pure-CJK clauses.
function zhLines(paragraphs) {
  const out = [];
  for (const p of paragraphs) {
    for (let seg of String(p).split(/[，。！？；：、,.!?;:]/)) {
      seg = seg.replace(/[\s「」『』《》“”‘’（）()·\-—…]/g, '');
      if (!seg) continue;
      if (!CJK.test(seg) || seg.length > 16) return null; // lost glyphs, notes, prose: drop the poem
      out.push(seg);
    }
  }
  return out.length >= 2 ? out : null;
}
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const zh = [];
const zhCounts = {};
function addZh(style, title, paragraphs, convert = false) {
  if (convert) {
    title = t2s(title);
    paragraphs = paragraphs.map((p) => t2s(p));
  }
  const lines = zhLines(paragraphs);
  title = String(title || '').replace(/[\s「」『』《》（）()·]/g, '').slice(0, 24);
  if (!lines || !title) return;
  zh.push({ style, title, lines });
  zhCounts[style] = (zhCounts[style] || 0) + 1;
}
// 宋词: title = 词牌 (rhythmic). 元曲: title carries 曲牌. 诗经: chapter decides 风/雅/颂.
for (const f of fs.readdirSync(path.join(cp, 'songci')).filter((f) => /^ci\.song\.\d+\.json$/.test(f)))
  for (const r of readJson(path.join(cp, 'songci', f))) addZh('ci', r.rhythmic, r.paragraphs);
for (const r of readJson(path.join(cp, 'yuanqu/yuanqu.json')))
  addZh('qu', String(r.title).split(/[・/]/)[0], r.paragraphs);
for (const r of readJson(path.join(cp, 'shijing/shijing.json'))) {
  const style = r.chapter === '国风' ? 'feng' : r.chapter.endsWith('颂') ? 'song' : 'ya';
  addZh(style, r.title, r.content);
}
// 唐诗 / 宋诗 (traditional in the package): a deterministic subset, converted to simplified.
function poetSubset(prefix, keepMod, style) {
  const dir = path.join(cp, 'quantangshi');
  for (const f of fs.readdirSync(dir).filter((f) => f.startsWith(prefix))) {
    for (const r of readJson(path.join(dir, f))) {
      if (!r.title || !r.paragraphs) continue;
      if (h32(r.title + r.paragraphs[0]) % keepMod !== 0) continue;
      addZh(style, r.title, r.paragraphs, true);
    }
  }
}
poetSubset('poet.tang.', 3, 'tang'); // ~1/3 of 57,607
poetSubset('poet.song.', 16, 'songshi'); // ~1/16 of 254,248

// ---------------- English ----------------
const en = [];
const enCounts = {};
const CHILD_AUTHORS = /Edward Lear|Eugene Field|Walter Crane|Robert Louis Stevenson|Kate Greenaway|Ann Taylor|Jane Taylor|Mother Goose/i;
const HYMN_AUTHORS = /Isaac Watts|Charles Wesley|John Newton|Fanny Crosby|Reginald Heber|Henry Francis Lyte/i;
const SONG_AUTHORS = /Robert Burns|Thomas Moore|Thomas Campion/i;
function enStyle(author, title, lines) {
  const t = title.toLowerCase();
  if (/nursery|lullaby|cradle|rhyme for|for children|child's|baby/.test(t) || CHILD_AUTHORS.test(author)) return 'children';
  if (/hymn|psalm|prayer|carol|anthem|vesper|litany|doxology|te deum|easter|christmas/.test(t) || HYMN_AUTHORS.test(author)) return 'hymn';
  if (/ballad/.test(t)) return 'ballad';
  if (/song|air\b|serenade|ditty|chorus|glee|madrigal|roundelay|chanson|lyric|tune|sing/.test(t) || SONG_AUTHORS.test(author)) return 'song';
  if (/sonnet/.test(t) || lines.length === 14) return 'sonnet';
  return 'poem';
}
const ASCII_MAP = [[/[\u2018\u2019\u02bc]/g, "'"], [/[\u201c\u201d]/g, '"'], [/[\u2013\u2014]/g, '-'], [/\u2026/g, '...'], [/\u00a0/g, ' '], [/[\u00e0-\u00e5]/g, 'a'], [/[\u00e8-\u00eb]/g, 'e'], [/[\u00ec-\u00ef]/g, 'i'], [/[\u00f2-\u00f6]/g, 'o'], [/[\u00f9-\u00fc]/g, 'u'], [/\u00e6/g, 'ae'], [/\u0153/g, 'oe']];
function asciiClean(s) {
  for (const [re, r] of ASCII_MAP) s = s.replace(re, r);
  return s;
}
const enRaw = zlib.gunzipSync(fs.readFileSync(path.join(shared, 'data/lyrics-en/public-domain-poetry.jsonl.gz'))).toString('utf8');
let enDropped = 0;
for (const line of enRaw.split('\n')) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  if (/\ufffd/.test(r.text) || /\ufffd/.test(r.title)) { enDropped++; continue; }
  const text = asciiClean(r.text).replace(/\r/g, '');
  if (/[^\x20-\x7e\n]/.test(text)) { enDropped++; continue; } // other scripts / symbols
  // Lines keep their stanza breaks as empty strings (one empty line between stanzas).
  const lines = text.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter((l, i, a) => l || (i > 0 && a[i - 1]));
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  const nonEmpty = lines.filter(Boolean);
  if (nonEmpty.length < 2 || nonEmpty.some((l) => l.length > 80)) { enDropped++; continue; }
  const title = asciiClean(r.title).replace(/[^\x20-\x7e]/g, '').replace(/\.$/, '').trim().slice(0, 48);
  if (!title) { enDropped++; continue; }
  const style = enStyle(r.author, title, nonEmpty);
  en.push({ style, title, lines: lines.slice(0, 120) });
  enCounts[style] = (enCounts[style] || 0) + 1;
}

// ---------------- write ----------------
function write(name, recs) {
  const train = [], valid = [];
  for (const r of recs) (isValid(r) ? valid : train).push(r);
  fs.writeFileSync(path.join(outDir, `${name}.train.jsonl`), train.map((r) => JSON.stringify(r)).join('\n') + '\n');
  fs.writeFileSync(path.join(outDir, `${name}.valid.jsonl`), valid.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const chars = recs.reduce((n, r) => n + r.lines.join('\n').length, 0);
  return { songs: recs.length, train: train.length, valid: valid.length, chars };
}
const stats = {
  zh: { ...write('zh', zh), by_style: zhCounts, sources: 'npm chinese-poetry@2.0.1: songci (ci), yuanqu (qu), shijing (feng/ya/song), quantangshi tang 1/3 + song 1/16 subsets (t2s via opencc-js)' },
  en: { ...write('en', en), by_style: enCounts, dropped: enDropped, sources: '../shared/data/lyrics-en/public-domain-poetry.jsonl.gz (poems with U+FFFD or non-Latin text dropped; style labels from title/author heuristics)' },
};
fs.writeFileSync(path.join(outDir, 'stats.json'), JSON.stringify(stats, null, 2));
console.log(JSON.stringify(stats, null, 2));

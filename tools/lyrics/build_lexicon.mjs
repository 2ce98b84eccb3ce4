#!/usr/bin/env node
// The English words generation may write: words of the phonetic table (CMUdict ∩ SUBTLEX) that the
// English lyrics model saw at least MIN times in its training text, so constrained decoding keeps to
// words the model knows (and never to "pres." or "waugh", which the table has but verse does not).
//
//   node tools/lyrics/build_lexicon.mjs [--min 5] [--manifest models/lyrics-en.json]
//
// Writes models/lyrics-en.words ("# header" lines, then word<TAB>count, sorted by word bytes) and
// the "lexicon" block of the manifest: {file, bytes, sha256, words, min_count, source}.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { normalise, REPO } from './copy_check.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const MIN = Number(opt('--min', 5));
const manifestPath = path.resolve(opt('--manifest', path.join(REPO, 'models/lyrics-en.json')));
const outPath = path.join(path.dirname(manifestPath), 'lyrics-en.words');

const table = new Set();
for (const line of fs.readFileSync(path.join(REPO, 'models/phonetics-en.tsv'), 'utf8').split('\n')) {
  if (!line || line.startsWith('#')) continue;
  table.add(line.split('\t')[0]);
}
const counts = new Map();
for (const split of ['train', 'valid']) {
  const file = path.join(REPO, 'build/data', `en.${split}.jsonl`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run tools/lyrics/prepare_data.mjs first`);
  const rl = readline.createInterface({ input: fs.createReadStream(file) });
  for await (const rec of rl) {
    if (!rec) continue;
    const { lines } = JSON.parse(rec);
    for (const w of normalise(lines.join('\n'), 'en').units) counts.set(w, (counts.get(w) || 0) + 1);
  }
}
const words = [...counts].filter(([w, c]) => c >= MIN && table.has(w)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const text = `# tunesmith lyrics-en lexicon v1\n# word<TAB>count in the training text; words of phonetics-en.tsv seen at least ${MIN} times\n` +
  words.map(([w, c]) => `${w}\t${c}`).join('\n') + '\n';
fs.writeFileSync(outPath, text);
const bytes = Buffer.byteLength(text);
const sha256 = crypto.createHash('sha256').update(text).digest('hex');
const man = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
man.lexicon = { file: path.basename(outPath), bytes, sha256, words: words.length, min_count: MIN,
  source: 'words of phonetics-en.tsv seen at least min_count times in this model\'s training + validation text (build/data)' };
fs.writeFileSync(manifestPath, JSON.stringify(man, null, 1) + '\n');
console.log(`${outPath}: ${words.length} words (of ${table.size} in the table, ${counts.size} distinct in the corpus), ${bytes} bytes`);

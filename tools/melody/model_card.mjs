#!/usr/bin/env node
// Writes models/melody.md, the melody model's card, from its manifest (data, training, held-out
// metrics), the evaluation (build/eval/melody.md, written by `node tools/melody/eval.mjs --md`) and
// melodies the engine itself writes (native CLI, fixed seeds), so every number and sample can be
// reproduced with the command printed next to it.
//
// usage: node tools/melody/model_card.mjs [--bench build/bench-melody.json]
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const man = JSON.parse(fs.readFileSync(path.join(repo, 'models/melody.json'), 'utf8'));
const cli = path.join(repo, 'build/native/tunesmith');
const benchArg = process.argv.indexOf('--bench');
const bench = benchArg > 0 ? fs.readFileSync(process.argv[benchArg + 1], 'utf8') : null;

function generate(req) {
  const out = execFileSync(cli, ['request', JSON.stringify({ task: 'generate_melody', ...req }), '--models', path.join(repo, 'models')]);
  const r = JSON.parse(out.toString());
  if (r.error) throw new Error(JSON.stringify(r.error));
  return r;
}

const examples = [
  { title: 'An English song', req: { lyrics: 'I walk alone beneath the silver moon\nThe river sings a melody of you\nAnd every star remembers what we knew\nI will be waiting till the night is through', key: 'G', seed: 1 } },
  { title: 'A Chinese song', req: { lyrics: '月亮代表我的心\n你问我爱你有多深\n我的情也真\n我的爱也真', key: 'F', seed: 1 } },
  { title: 'A jig', req: { style: 'jig', key: 'D', bars: 8, seed: 1 } },
  { title: 'A waltz in A minor', req: { style: 'waltz', key: 'A', mode: 'minor', bars: 8, seed: 1 } },
  { title: 'A hymn', req: { style: 'hymn', key: 'F', bars: 8, seed: 1 } },
];

const a = man.architecture, t = man.training, m = man.metrics, pm = man.previous_metrics;
const vocab = man.tokenizer.vocab.length;
const uniform = Math.log2(vocab);
const fmt = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : String(x));
const lines = [];
const w = (s = '') => lines.push(s);

w(`# Model card: melody ${man.version}`);
w();
w('A small decoder-only transformer that writes melodies one token at a time (bars, pitches relative to');
w('the tonic, durations, syllable marks), conditioned on tune type, meter and mode. tunesmith runs it with');
w('its own C++ kernels (natively and in WebAssembly) under the theory and lyric masks of');
w('[docs/melody-rules.md](../docs/melody-rules.md); the API is [docs/melody-api.md](../docs/melody-api.md).');
w();
w('## Intended use');
w('Sketching singable melodies for lyrics (English and Chinese) and folk-style instrumental tunes in the');
w('browser, to be edited by a person. Not a model of any living composer; not a chart-pop generator.');
w();
w('## Data');
w('Every tune is read from `../shared/data/melody` by our own parsers (`tools/melody/`), deduplicated,');
w('and tokenised by `tools/melody/tokens.mjs` ([docs/melody-data.md](../docs/melody-data.md)):');
w();
w('| source | tunes | licence |');
w('|---|---|---|');
const lic = { nottingham: 'GPLv3 (tunes traditional)', oneills1850: 'public domain (music21 encoding)', ryansMammoth: 'public domain (music21 encoding)',
  airdsAirs: 'public domain (music21 encoding)', 'bach-chorales': 'public domain (music21 encoding)', 'lilypond-songs': 'public domain' };
for (const [k, v] of Object.entries(t.sources || {})) w(`| ${k} | ${fmt(v)} | ${lic[k] || ''} |`);
w(`| **total** | ${fmt(t.tunes)} (train ${fmt(t.train_tunes)}, held out ${fmt(t.valid_tunes)}) | |`);
w();
w('Tune types as the data labels them (`<type:...>` token):');
w();
w('| ' + Object.keys(t.by_type || {}).join(' | ') + ' |');
w('|' + Object.keys(t.by_type || {}).map(() => '---').join('|') + '|');
w('| ' + Object.values(t.by_type || {}).map(fmt).join(' | ') + ' |');
w();
w('Songs with syllables come only from the Bach chorales (German) and the LilyPond songs (English);');
w('there is no Chinese melody with aligned lyrics in the data, so Chinese settings rely on the tone');
w('rules, not on learned Mandarin word-setting.');
w();
w('## Model');
w(`GPT, ${a.n_layer} layers, ${a.n_head} heads, d_model ${a.d_model}, d_ff ${a.d_ff}, context ${a.n_ctx} tokens, learned`);
w(`positions, tied embeddings: ${fmt(a.parameters)} parameters, ${fmt(man.bytes)} bytes of ONNX (opset ${man.onnx?.opset ?? 17}).`);
w(`Vocabulary ${vocab}: pitch −17..+31 semitones from the tonic, 18 durations (1/12 quarter units), bar,`);
w('syllable, rest, 10 types + unknown, 7 modes, 13 meters, and the chord symbols of the training data');
w('(never generated: chords are inferred after the melody, see the rules).');
w('Tempo is not a model input: most of the ABC sources give none, so tempo only sets the files\' tempo and');
w('the style\'s default.');
w();
w('## Training');
w(`\`/usr/bin/python3 tools/melody/train_melody.py --minutes ${Math.round((t.wall_seconds || 0) / 60)}\` (run in two parts with \`--resume\`): ${fmt(t.steps)} steps of`);
w(`${t.batch} × ${a.n_ctx} tokens, AdamW, lr ${t.lr} with warm-up and cosine decay, on ${t.device} (2 CPU cores),`);
w(`${Math.round((t.wall_seconds || 0) / 60)} minutes in all.`);
w();
w('## Held-out metrics');
w();
w('| | bits/token | perplexity |');
w('|---|---|---|');
w(`| this model (${fmt(m.valid_tokens_evaluated)} tokens of ${fmt(t.valid_tunes)} held-out tunes) | **${m.valid_bits_per_token}** | ${m.valid_perplexity_per_token} |`);
if (pm) w(`| previous ${pm.version} | ${pm.valid_bits_per_token} | ${pm.valid_perplexity_per_token} |`);
w(`| uniform guess over ${vocab} tokens | ${uniform.toFixed(2)} | ${vocab} |`);
w();
const evalMd = path.join(repo, 'build/eval/melody.md');
w('## Measured quality (`node tools/melody/eval.mjs`)');
w();
if (fs.existsSync(evalMd)) w(fs.readFileSync(evalMd, 'utf8').trim());
else w('(not measured yet: run `node tools/melody/eval.mjs --md`)');
w();
if (bench) {
  w('## Speed (`node tools/bench.mjs --only melody`)');
  w();
  w(bench.trim());
  w();
}
w('## Examples');
w('Written by `build/native/tunesmith request \'{"task":"generate_melody",...}\'` with the requests shown (ABC;');
w('paste into any ABC viewer, or use `tunesmith melody ... --out NAME` for MIDI and MusicXML).');
w();
for (const ex of examples) {
  const r = generate(ex.req);
  w(`### ${ex.title}`);
  w('`' + JSON.stringify({ task: 'generate_melody', ...ex.req }) + '`');
  w();
  w('```abc');
  w(r.abc.trim());
  w('```');
  w(`checks: ${Object.entries(r.checks).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${typeof v === 'number' && v <= 1 && k !== 'range' && k !== 'max_leap' ? (v * 100).toFixed(0) + '%' : v}`).join(', ')}; relaxations ${r.relaxations.length}`);
  w();
}
w('## Known biases and limits');
w('- **Irish and Scottish dance music dominates** (O\'Neill, Ryan, Aird, Nottingham: 87% of tunes):');
w('  melodies lean to the jig/reel idiom, even for "song"; modern pop phrasing (syncopation, pickups,');
w('  long held notes over a groove) is rare in the data and in the output.');
w('- **Word setting is learned only from English hymns, folk songs and German chorales** (about 770');
w('  sung tunes); Chinese settings follow the documented tone rules, not Mandarin song practice.');
w('- **No pickups and no syncopation across beats** are generated (the rules forbid them); every line');
w('  starts in its own bar.');
w('- **Chords are inferred** from the notes (diatonic triads only), not generated with the melody.');
w('- **Stress in 2/2 and 6/8 is weaker** (about half to two thirds of stressed syllables on a beat,');
w('  against 100% in 3/4 and 4/4): their beats are a half note or a dotted quarter apart, and crowded');
w('  lines give way (reported as relaxations).');
w('- **Polka has no training tunes**: polkas come from the untyped tunes in 2/4, and "air" and "waltz"');
w('  have only 54 and 58.');
w('- **Tones use each character\'s most common reading**, with no tone sandhi.');
w('- **Minor keys are natural minor**: the raised leading tone is chromatic and off by default.');
w('- The model is small and trained for a short time on 2 CPU cores: long tunes wander, and motifs');
w('  recur less than in real tunes (see the histogram overlaps above).');
w();
fs.writeFileSync(path.join(repo, 'models/melody.md'), lines.join('\n'));
console.log('wrote models/melody.md');

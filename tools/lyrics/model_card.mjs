#!/usr/bin/env node
// Writes models/<name>.md, the model card, from the manifest (data, metrics) and samples that the
// engine itself generates (native CLI, fixed seeds), so every number and sample in the card can be
// reproduced with the command printed next to it.
//
// usage: node tools/lyrics/model_card.mjs lyrics-zh [--bench bench.json]... [--eval]
//
// The "Measured quality (songwriting controls)" section is build/eval/lyrics-eval-<lang>.md, written
// by tools/lyrics/eval.mjs; it is (re)made here when missing, older than the model, or with --eval.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const name = process.argv[2];
if (!name) { console.error('usage: model_card.mjs MODEL_NAME [--bench bench.json] [--eval]'); process.exit(2); }
// --bench may be given more than once (e.g. a full run for decode speed and an `--only songwriting`
// run): decode numbers come from the first file that has them, songwriting from the first with those.
const benches = process.argv.flatMap((x, i) => (x === '--bench' && process.argv[i + 1] ? [JSON.parse(fs.readFileSync(process.argv[i + 1], 'utf8'))] : []));
const bench = benches.find((b) => b.models?.length) || null;
const swBench = benches.find((b) => b.songwriting?.cases) || null;
const man = JSON.parse(fs.readFileSync(path.join(repo, 'models', name + '.json'), 'utf8'));
const cli = path.join(repo, 'build/native/tunesmith');
const lang = man.language;

function generate(req) {
  const out = execFileSync(cli, ['request', JSON.stringify({ task: 'generate_lyrics', ...req }), '--models', path.join(repo, 'models')]);
  return JSON.parse(out.toString());
}
const requests = lang === 'zh'
  ? [
      { song_title: '我爱你', song_style: '流行音乐', lyrics_length: 8, seed: 1 },
      { song_title: '我爱你', song_style: '流行音乐', lyrics_length: 8, seed: 2 },
      { song_title: '月亮代表我的心', song_style: '抒情', lyrics_length: 8, seed: 3 },
      { song_title: '江南春', song_style: '古风', lyrics_length: 8, seed: 4 },
      { song_title: '关关雎鸠', song_style: '民谣', lyrics_length: 8, seed: 5 },
      { song_title: '醉酒', song_style: '摇滚', lyrics_length: 8, seed: 6 },
    ]
  : [
      { song_title: 'I Love You', song_style: 'pop', lyrics_length: 8, seed: 1 },
      { song_title: 'I Love You', song_style: 'pop', lyrics_length: 8, seed: 2 },
      { song_title: 'The Old Road Home', song_style: 'folk', lyrics_length: 8, seed: 3 },
      { song_title: 'Morning Hymn', song_style: 'hymn', lyrics_length: 8, seed: 4 },
      { song_title: 'The Little Cat', song_style: "children's song", lyrics_length: 8, seed: 5 },
      { song_title: 'Thunder Road', song_style: 'rock', lyrics_length: 8, seed: 6 },
    ];

const a = man.architecture, t = man.training, m = man.metrics, pm = man.previous_metrics;

// The evaluation's markdown for this language (rerun when missing or older than the model files).
const evalMd = path.join(repo, 'build/eval', `lyrics-eval-${lang}.md`);
const evalCmd = `node tools/lyrics/eval.mjs --lang ${lang}`;
function evalSection() {
  const modelFiles = [path.join(repo, 'models', name + '.json'), path.join(repo, 'models', man.file)];
  const stale = !fs.existsSync(evalMd) || modelFiles.some((f) => fs.existsSync(f) && fs.statSync(f).mtimeMs > fs.statSync(evalMd).mtimeMs);
  if (stale || process.argv.includes('--eval')) {
    console.log(`running ${evalCmd} ...`);
    execFileSync(process.execPath, [path.join(repo, 'tools/lyrics/eval.mjs'), '--lang', lang, '--json', path.join(repo, 'build/eval', `lyrics-eval-${lang}.json`)], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return fs.readFileSync(evalMd, 'utf8').trim();
}
const lines = [];
const P = (s = '') => lines.push(s);
P(`# Model card: ${man.name} (${lang === 'zh' ? 'Chinese' : 'English'} lyrics), version ${man.version}`);
P();
P(`A ${(a.parameters / 1e6).toFixed(2)}M-parameter character-level GPT that writes ${lang === 'zh' ? 'Chinese' : 'English'} lyrics line by line, conditioned on a`);
P('title and a style token. It is run by tunesmith\'s own C++ kernels (natively and in WebAssembly); the');
P('ONNX file is also checked against ONNX Runtime Web in the tests (logits within 1e-4).');
P();
P('## Files');
P(`- \`${man.file}\`: ${(man.bytes / 1e6).toFixed(2)} MB, sha256 \`${man.sha256}\` (checked by the engine before loading)`);
P(`- \`${man.name}.json\`: the manifest (architecture, vocabulary, control tokens, styles, data, metrics)`);
P();
const ws = man.weights_storage;
if (ws) {
  const f32 = ws.float32_file || {}, bpc = ws.valid_bits_per_char || {};
  P('## Weight storage');
  P(`The ${ws.matrices?.length ?? ''} weight matrices are stored as int8 with one float32 scale per output channel (symmetric,`);
  P('scale = max|w| / 127): each matrix `W` is the initializers `W.int8` and `W.scale` and a `DequantizeLinear` node at the');
  P('top of the graph, so the file is still an ordinary ONNX Runtime graph. The engine\'s ONNX reader widens them to');
  P('float32 when it loads the file, with ONNX Runtime\'s arithmetic (`float(q) * scale`), so the kernels, their speed and');
  P(`the determinism rules are those of a float32 model. Made by \`${ws.tool}\` from the float32 training export`);
  P(`(${(f32.bytes / 1e6).toFixed(2)} MB, sha256 \`${f32.sha256}\`): the file is ${Math.round(100 * man.bytes / f32.bytes)}% of it.`);
  if (bpc.float32 != null) {
    P(`- held-out bits per character (the ${bpc.songs} validation songs, ${bpc.chars?.toLocaleString('en')} characters, as in training):`);
    P(`  float32 ${bpc.float32}, int8 ${bpc.int8} (${bpc.int8 >= bpc.float32 ? '+' : ''}${(100 * (bpc.int8 - bpc.float32) / bpc.float32).toFixed(4)}%).`);
  }
  P('- the same request and seed give a different song than the float32 file did (other weights, as after any');
  P('  retraining); natively and in both wasm builds they give the same song.');
  P();
}
P('## Architecture');
P(`Decoder-only transformer, pre-LayerNorm, ${a.n_layer} layers, ${a.n_head} heads, d_model ${a.d_model}, d_ff ${a.d_ff}, GELU (erf),`);
P(`learned positions over a ${a.n_ctx}-token context, tied input/output embeddings, vocabulary ${a.vocab_size}.`);
P(`Prompt: \`${man.prompt_format}\`. Longer songs are written by shifting the context (the prompt and the latest`);
P('lines are kept).');
P();
P('## Tokenization and why');
if (lang === 'zh') {
  P(`One token per character (${a.vocab_size - 6 - Object.keys(man.styles).length} characters that occur at least twice in training, covering`);
  P(`${(m.vocab_coverage_train * 100).toFixed(2)}% of training text; rarer ones map to <unk>). In Chinese a character is a syllable, which is the`);
  P('unit songwriters count (syllables per line) and rhyme on (the final character), so the songwriting controls');
  P('(rhyme scheme, syllables per line) act directly on tokens. Word tokenization of classical text needs a segmenter that does not exist offline');
  P('here, and a subword vocabulary would split the rhyme syllable. Cost: one decode step per character.');
} else {
  P(`One token per character (${a.vocab_size - 6 - Object.keys(man.styles).length} printable ASCII characters; the corpus is folded to ASCII). The`);
  P(`embedding then costs ${(a.vocab_size * a.d_model / 1e3).toFixed(0)}k parameters instead of about ${(4000 * a.d_model / 1e6).toFixed(2)}M for a 4k-entry subword vocabulary, so at this`);
  P('size (<= 10 MB) nearly all capacity goes into the transformer, and any word (names in titles, invented words)');
  P('can be written. Cost: 5-6 decode steps per English word (letters plus a space), and weaker long-range coherence than a');
  P('subword model of the same size. A subword model was not trained for comparison in this version (known gap).');
}
P();
P('## Training data');
P(`Sources: ${t.sources}.`);
P();
P(`${t.songs.toLocaleString('en')} songs/poems (${t.train_songs.toLocaleString('en')} train, ${t.valid_songs.toLocaleString('en')} held out by a hash of title and first lines), ${t.chars.toLocaleString('en')} characters. By style:`);
P();
P('| style token | what it is | songs | user-facing styles mapped to it |');
P('|---|---|---|---|');
for (const [s, v] of Object.entries(man.styles)) P(`| \`${s}\` | ${v.label} | ${v.training_songs.toLocaleString('en')} | ${v.aliases.join(', ')} |`);
P();
P(`Default style when the request names none or an unknown one: \`${man.default_style}\` (the response says so in \`notes\`).`);
P();
P('## Training run');
P(`${t.steps} steps of AdamW (batch ${t.batch} x ${a.n_ctx} tokens, lr ${t.lr}, cosine over wall-clock time), ${t.tokens_seen.toLocaleString('en')} target`);
P(`tokens seen, ${Math.round(t.wall_seconds / 60)} minutes on ${t.device === 'cpu' ? `a 2-core CPU (${t.threads} torch thread, a second model trained beside it)` : t.device}.`);
P('Command: see the README ("Models").');
P();
P('## Held-out metrics');
P(`- bits per character: **${m.valid_bits_per_char}** (per-character perplexity ${m.valid_perplexity_per_char}), over ${m.valid_chars_evaluated.toLocaleString('en')} characters of`);
P(`  ${m.valid_songs_evaluated} held-out songs (lines, line breaks and the end token; the header is given).`);
if (pm) {
  P(`- previous version${pm.version ? ` (${pm.version})` : ''}: ${pm.valid_bits_per_char} bits per character (perplexity ${pm.valid_perplexity_per_char})${pm.valid_chars_evaluated ? `, over ${pm.valid_chars_evaluated.toLocaleString('en')} characters` : ''}:`);
  P(`  ${pm.valid_bits_per_char > m.valid_bits_per_char ? 'this version is better' : pm.valid_bits_per_char < m.valid_bits_per_char ? 'this version is worse' : 'no change'} by ${Math.abs(pm.valid_bits_per_char - m.valid_bits_per_char).toFixed(4)} bits per character${pm.valid_songs_evaluated === m.valid_songs_evaluated ? '' : ' (held-out sets differ in size; compare with care)'}.`);
}
if (m.final_train_loss_nats != null) P(`- final training loss: ${m.final_train_loss_nats} nats/char (${(m.final_train_loss_nats / Math.LN2).toFixed(3)} bits): the gap to held-out shows little overfitting.`);
const bm = bench?.models?.find((x) => x.name === man.name);
if (bm) {
  const d = bm.decode, tps = (k) => Math.round(d[k].tokens_per_s);
  P(`- speed (\`node tools/bench.mjs\`, ${bench.cores}-core ${bench.cpu}, ${bench.date.slice(0, 10)}; greedy decode with KV cache, batch 1):`);
  P(`  ours in wasm ${tps('wasm_st')} tokens/s, ONNX Runtime Web ${tps('ort_web_1t')} tokens/s on the same file`);
  P(`  (${(d.wasm_st.tokens_per_s / d.ort_web_1t.tokens_per_s).toFixed(2)}x), native ${tps('native_1t')} tokens/s (${(d.native_1t.tokens_per_s / d.wasm_st.tokens_per_s).toFixed(2)}x wasm).`);
}
const sw = swBench?.songwriting;
if (sw) {
  const row = (k) => sw.cases[k]?.langs?.[lang];
  const parts = [['native', 'native'], ['wasm_st', 'wasm (Node, single-thread)'], ['chromium_isolated', 'Chromium']]
    .filter(([k]) => row(k)).map(([k, label]) => `${label} ${Math.round(row(k).first_line_ms)} ms to the first line, ${Math.round(row(k).ms)} ms to the whole song`);
  if (parts.length) {
    P(`- songwriting (\`node tools/bench.mjs --only songwriting\`, ${swBench.date.slice(0, 10)}, load average ${swBench.loadavg_start?.[0] ?? '?'}): a 16-line song with every control on`);
    P(`  (\`${JSON.stringify(sw.request[lang])}\`, warm engine, median): ${parts.join('; ')}.`);
  }
}
P();
P('## Measured quality (songwriting controls)');
P();
P(`Reproduce with \`${evalCmd}\` (writes build/eval/lyrics-eval-${lang}.md and .json; needs build/native or dist/wasm,`);
P('and build/data for the copy check). What each number means: tools/lyrics/eval.mjs and docs/lyrics-controls.md.');
P();
P(evalSection());
P();
P('## Samples');
P('Produced by the engine itself: `build/native/tunesmith request \'<request>\'` (the same request and seed give');
P('the same lines natively and in wasm).');
for (const r of requests) {
  const resp = generate(r);
  P();
  P(`\`${JSON.stringify(r)}\` -> style \`${resp.style.used}\` (${resp.style.matched_by})`);
  P();
  P('```');
  P(resp.lyrics);
  P('```');
}
P();
P('## Known biases and limits');
if (lang === 'zh') {
  P('- It writes classical-flavoured verse: the corpus is Song ci, Yuan qu, the Book of Songs and Tang/Song shi, so');
  P('  modern words (手机, 地铁) are rare or unknown, and "pop" lyrics come out as 宋词-like lines, not Mandopop.');
  P('- The title conditions the text only loosely: for 宋词 the training "title" is the tune name (词牌), which says');
  P('  nothing about content; only the shi and qu titles describe their poems. Expect the title\'s characters and');
  P('  theme to surface sometimes, not reliably.');
  P('- Styles are unbalanced: 诗经 styles (feng 160, ya 105, song 40 poems) are barely learned; "hymn" and "folk"');
  P('  requests are therefore weak. "rock" maps to 元曲 by analogy (colloquial, vigorous), not by genre.');
  P('- Voice and values are those of pre-modern male literati: gender roles, court and military themes, and');
  P('  classical allusions are over-represented. Rhyme (十三辙) and line length are enforced by the songwriting');
  P('  controls, tone patterns (平仄) are not; a forced rhyme character often ends a line awkwardly.');
  P('- Small model, short training: lines are often grammatical fragments and meaning drifts across lines.');
} else {
  P('- Trained on public-domain poetry (mostly 19th-century British/American; 558 authors, Cawein, Herrick and');
  P('  Wordsworth lead), so diction is archaic (thee, thou, o\'er) and "pop"/"rock" requests get Victorian songs.');
  P('- Style labels come from title and author heuristics (e.g. "Song" in a title, Burns/Moore = song; Lear/Field =');
  P('  children), so they are noisy; 73% of the corpus is the catch-all `poem` style.');
  P('- Authors are overwhelmingly white, male and Anglo; religious (Christian) and nationalist themes occur.');
  P('- Character-level and small: spelling is mostly right but invented words occur, and sense drifts after a few');
  P('  lines. Rhyme and syllable counts are enforced by the songwriting controls (CMUdict), meter (stress patterns)');
  P('  is not; forced rhymes pull in odd words.');
}
P(`- Copies: with \`originality\` on (the default) the engine blocks every run of ${lang === 'zh' ? '8 characters' : '6 words'} found in the training text`);
P('  (docs/originality.md); near copies, shorter runs and paraphrase pass. See the measured copy rates above.');
fs.writeFileSync(path.join(repo, 'models', name + '.md'), lines.join('\n') + '\n');
console.log('wrote models/' + name + '.md');

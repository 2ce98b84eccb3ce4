#!/usr/bin/env node
// tunesmith benchmark: our kernels (wasm single-thread, wasm threaded, native) side by side with
// ONNX Runtime Web on the same model, prompt and greedy decode, in one run. Not a test: it prints
// numbers and ratios against the targets and exits 0. See bench/README.md for what each line means.
//
//   node tools/bench.mjs [--models DIR|MODEL.json] [--tokens 128] [--reps 5] [--threads 2]
//                        [--json out.json] [--no-native] [--no-mt] [--no-ort-threads]
//                        [--only decode|songwriting|melody] [--song-reps 5] [--melody-reps 7] [--no-browser]
//
// Three sections: decode (kernels vs ORT Web, per model), songwriting (time to the first line and
// to a whole 16-line song with every songwriting control on, per language: native, wasm in Node,
// Chromium) and melody (generate_melody, 8 lines of lyrics -> 16 bars: native warm engine, native
// CLI, wasm in Node). --only picks one.
//
// Run it with `nice` on a shared machine; it warns when the load average says the numbers are noisy.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
const PROMPT_LEN = 16;
const CHECK_STEPS = 32;
const WARMUP_MS = 1000; // per in-process case, before the timed reps // teacher-forced logits check: prompt + this many steps
const TARGET_ORT = 2.0; // ours (wasm st) / ORT Web (1 thread) tokens/s, at least
const TARGET_NATIVE = 1.6; // native / wasm st tokens/s, at most
const TARGET_FIRST_LINE_MS = 300; // songwriting: first streamed line, at most
const TARGET_SONG_MS = 2000;      // songwriting: whole constrained 16-line song, at most
const TARGET_MELODY_MS = 500;     // melody: 8 lines of lyrics -> 16 bars in wasm, at most

// ------------------------------------------------------------------------------------ arguments
function parseArgs(argv) {
  const a = { models: path.join(ROOT, 'models'), tokens: 128, reps: 5, threads: 2, json: null,
              native: true, mt: true, ortThreads: true, child: null, prompt: null,
              only: null, songReps: 5, melodyReps: 7, browser: true, chromium: process.env.CHROMIUM || '/usr/bin/chromium' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`${k} needs a value`); return argv[++i]; };
    const int = (lo) => { const v = Number(val()); if (!Number.isInteger(v) || v < lo) die(`${k} must be an integer >= ${lo}`); return v; };
    if (k === '--models') a.models = path.resolve(val());
    else if (k === '--tokens') a.tokens = int(1);
    else if (k === '--reps') a.reps = int(1);
    else if (k === '--threads') a.threads = int(2);
    else if (k === '--json') a.json = path.resolve(val());
    else if (k === '--no-native') a.native = false;
    else if (k === '--no-mt') a.mt = false;
    else if (k === '--no-ort-threads') a.ortThreads = false;
    else if (k === '--only') { a.only = val(); if (!['decode', 'songwriting', 'melody'].includes(a.only)) die('--only is decode, songwriting or melody'); }
    else if (k === '--song-reps') a.songReps = int(1);
    else if (k === '--melody-reps') a.melodyReps = int(1);
    else if (k === '--no-browser') a.browser = false;
    else if (k === '--chromium') a.chromium = val();
    else if (k === '--child-ort') a.child = path.resolve(val()); // internal: ORT with --threads in its own process
    else if (k === '--prompt') a.prompt = val().split(',').map(Number); // internal, with --child-ort
    else if (k === '-h' || k === '--help') { usage(); process.exit(0); }
    else die(`unknown argument ${k}`);
  }
  return a;
}
function usage() {
  console.log(`usage: node tools/bench.mjs [--models DIR|MODEL.json] [--tokens N] [--reps N] [--threads N]
                          [--json FILE] [--no-native] [--no-mt] [--no-ort-threads]
                          [--only decode|songwriting|melody] [--song-reps N] [--melody-reps N] [--no-browser] [--chromium PATH]
  --models   folder of tunesmith model manifests (*.json + .onnx), or one manifest (default: models/)
  --tokens   greedy decode steps after the ${PROMPT_LEN}-token prompt (default 128; capped at n_ctx - ${PROMPT_LEN})
  --reps     timed repetitions per case, after one warm-up; medians are reported (default 5)
  --threads  threads for the threaded cases (wasm mt, native, ORT Web) (default 2)
  --json     also write every number to FILE
  --only     run one section: decode (kernels vs ORT Web), songwriting (constrained songs) or melody (generate_melody)
  --song-reps timed songs per language and engine in the songwriting section (default 5)
  --melody-reps timed melodies per language and engine in the melody section (default 7)
  --no-browser  songwriting without Chromium (default: /usr/bin/chromium or $CHROMIUM, via playwright-core)`);
}
function die(msg) { console.error(`bench: ${msg}`); process.exit(2); }

// ------------------------------------------------------------------------------------ helpers
const median = (xs) => { const s = [...xs].sort((p, q) => p - q); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };
const round = (x, d = 2) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);
const now = () => performance.now();
function argmax(a, off, n) { let b = 0; for (let v = 1; v < n; v++) if (a[off + v] > a[off + b]) b = v; return b; } // first max, as the engine
function cpuMs() { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }

function listManifests(p) {
  if (p.endsWith('.json')) return [p];
  if (!fs.existsSync(p)) die(`${p} does not exist`);
  return fs.readdirSync(p).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(p, f)).filter((f) => {
    try { const m = JSON.parse(fs.readFileSync(f, 'utf8')); return String(m.format || '').startsWith('tunesmith-model/') && m.architecture; } catch { return false; }
  });
}
function loadManifest(file) {
  const text = fs.readFileSync(file, 'utf8');
  const man = JSON.parse(text);
  const onnxPath = path.join(path.dirname(file), man.file || `${path.basename(file, '.json')}.onnx`);
  if (!fs.existsSync(onnxPath)) throw new Error(`${onnxPath} is missing`);
  return { file, text, man, onnxPath, onnx: new Uint8Array(fs.readFileSync(onnxPath)) };
}

// A fixed, realistic prompt from the manifest vocabulary: <bos> <style> title <sep> line start.
function makePrompt(man) {
  const vocab = man.tokenizer?.vocab || [];
  const sp = man.special_tokens || {};
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const style = Object.values(man.styles || {})[0]?.token ?? sp.bos ?? 0;
  const [title, line] = man.language === 'zh' ? ['月光下的思念', '夜深人静的时候我又想起你'] : ['Rain on the road', 'I walk alone tonight'];
  const enc = (s) => [...s].map((ch) => ids.get(ch) ?? sp.unk ?? 0);
  const p = [sp.bos ?? 0, style, ...enc(title), sp.sep ?? 0, ...enc(line)].slice(0, PROMPT_LEN);
  while (p.length < PROMPT_LEN) p.push(sp.newline ?? 0);
  return p;
}

function staleness(target, sources) {
  if (!fs.existsSync(target)) return null;
  const t = fs.statSync(target).mtimeMs;
  const newer = sources.filter((s) => fs.existsSync(s) && fs.statSync(s).mtimeMs > t).map((s) => path.relative(ROOT, s));
  return newer.length ? newer : null;
}
function engineSources() {
  const out = [];
  const walk = (d) => { if (!fs.existsSync(d)) return; for (const f of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, f.name); if (f.isDirectory()) walk(p); else if (/\.(cpp|h|hpp|js)$/.test(f.name)) out.push(p); } };
  walk(path.join(ROOT, 'engine'));
  return out;
}

// ------------------------------------------------------------------------------------ ONNX Runtime Web
async function importOrt(threads) {
  let ort;
  try { ort = await import('onnxruntime-web'); } catch (e) {
    throw new Error(`cannot import onnxruntime-web (${e.message}); run \`npm i\` in ${ROOT}`);
  }
  ort.env.wasm.numThreads = threads; // must be set before the first session
  ort.env.logLevel = 'error';
  return ort;
}
function ortVersion() {
  try { return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version; } catch { return null; }
}

// Greedy decode with the KV cache, the loop a web page would write: session.run per token, argmax in JS.
async function ortDecode(ort, session, arch, prompt, steps, keepRows = 0) {
  const L = arch.n_layer, H = arch.n_head, Dh = arch.d_model / arch.n_head, V = arch.vocab_size;
  const rows = [];
  const c0 = cpuMs();
  const t0 = now();
  let r = await session.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]),
    past_kv: new ort.Tensor('float32', new Float32Array(0), [L, 2, H, 0, Dh]),
  });
  const t1 = now();
  let lg = r.logits.data, off = (prompt.length - 1) * V;
  if (keepRows) for (let t = 0; t < prompt.length; t++) rows.push(lg.slice(t * V, (t + 1) * V));
  const tokens = [];
  for (let s = 0; s < steps; s++) {
    const best = argmax(lg, off, V);
    tokens.push(best);
    r = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(best)), [1, 1]), past_kv: r.present_kv });
    lg = r.logits.data; off = 0;
    if (rows.length < keepRows) rows.push(lg.slice(0, V));
  }
  const t2 = now();
  return { ms_prefill: t1 - t0, ms_decode: t2 - t1, tokens, rows, cpu_per_wall: (cpuMs() - c0) / (t2 - t0) };
}

async function ortCreate(ort, onnx) {
  const t0 = now();
  const s = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return { session: s, ms: now() - t0 };
}

// One ORT configuration over all reps (used in-process for 1 thread, in a child for N threads).
async function ortCase(ort, model, prompt, steps, reps) {
  const first = await ortCreate(ort, model.onnx);
  const arch = model.man.architecture;
  const warmup = await ortDecode(ort, first.session, arch, prompt, steps);
  const runs = [];
  for (let i = 0; i < reps; i++) runs.push(await ortDecode(ort, first.session, arch, prompt, steps));
  await first.session.release();
  const warm = [];
  for (let i = 0; i < Math.max(3, reps); i++) { const c = await ortCreate(ort, model.onnx); warm.push(c.ms); await c.session.release(); }
  return { create_first_ms: first.ms, create_warm_ms: median(warm), runs, tokens: warmup.tokens };
}

// ------------------------------------------------------------------------------------ our wasm builds
async function loadWasm(variant) {
  const base = path.join(ROOT, 'dist/wasm', `tunesmith-${variant}`);
  if (!fs.existsSync(`${base}.mjs`)) throw new Error(`${path.relative(ROOT, base)}.mjs is missing; run bash tools/build-wasm.sh`);
  const t0 = now();
  const { default: create } = await import(pathToFileURL(`${base}.mjs`).href);
  const M = await create({ wasmBinary: fs.readFileSync(`${base}.wasm`) });
  return { M, init_ms: now() - t0, build: JSON.parse(M.buildInfo()) };
}

// A fresh engine with the model loaded; load_ms is loadModel as JS sees it (bytes copied into
// wasm, sha256 checked, weights unpacked).
function ourEngine(W, model) {
  const engine = new W.M.Engine();
  const t0 = now();
  const r = JSON.parse(engine.loadModel(model.text, model.onnx));
  const load_ms = now() - t0;
  if (r.error) throw new Error(`loadModel: ${r.error.code}: ${r.error.message}`);
  return { engine, load_ms };
}

// One greedy decode timed inside wasm (bench_decode); falls back to timing a greedy generate_lyrics
// (top_k 1, no repetition penalty) from JS when the engine does not have bench_decode yet.
function oursDecode(engine, model, prompt, steps) {
  const name = model.man.name;
  const c0 = cpuMs();
  const t0 = now();
  const r = JSON.parse(engine.request(JSON.stringify({ task: 'bench_decode', model: name, prompt, steps }), null));
  const wall = now() - t0;
  if (!r.error) return { ms_prefill: r.ms_prefill, ms_decode: r.ms_decode, tokens: r.tokens, js_wall_ms: wall, cpu_per_wall: (cpuMs() - c0) / wall, method: 'bench_decode' };
  if (r.error.code !== 'unknown_task') throw new Error(`bench_decode: ${r.error.code}: ${r.error.message}`);
  const lang = model.man.language;
  if (name !== `lyrics-${lang}`) throw new Error(`no bench_decode task and ${name} is not a lyrics-<lang> model: cannot fall back`);
  const lines = Math.max(1, Math.round(steps / 30));
  const c1 = cpuMs();
  const t1 = now();
  const g = JSON.parse(engine.request(JSON.stringify({ task: 'generate_lyrics', song_title: lang === 'zh' ? '月光' : 'Rain', language: lang, lyrics_length: lines, temperature: 1, top_k: 1, top_p: 1, repetition_penalty: 1, seed: 1 }), null));
  const ms = now() - t1;
  if (g.error) throw new Error(`generate_lyrics: ${g.error.code}: ${g.error.message}`);
  return { ms_prefill: NaN, ms_decode: ms, steps_done: g.tokens_generated, tokens: null, js_wall_ms: ms, cpu_per_wall: (cpuMs() - c1) / ms, method: 'fallback: generate_lyrics top_k 1, JS-timed' };
}

// Teacher-forced check: our logits for prompt + ORT's greedy ids vs ORT's logits, row by row.
function logitsCheck(engine, model, prompt, ortTokens, ortRows) {
  const V = model.man.architecture.vocab_size;
  const n = Math.min(ortTokens.length, CHECK_STEPS);
  const seq = [...prompt, ...ortTokens.slice(0, Math.max(0, n - 1))];
  const r = JSON.parse(engine.request(JSON.stringify({ task: 'model_logits', model: model.man.name, tokens: seq, split: prompt.length }), null));
  if (r.error) return { error: `${r.error.code}: ${r.error.message}` };
  let maxAbs = 0, agree = 0, lead = -1;
  for (let t = 0; t < seq.length; t++) {
    const ours = r.logits[t], theirs = ortRows[t];
    for (let v = 0; v < V; v++) maxAbs = Math.max(maxAbs, Math.abs(ours[v] - theirs[v]));
    if (t >= prompt.length - 1) {
      const s = t - (prompt.length - 1);
      const ok = argmax(ours, 0, V) === ortTokens[s];
      if (ok) agree++; else if (lead < 0) lead = s;
    }
  }
  return { rows: seq.length, steps_checked: n, argmax_equal: agree, first_mismatch: lead < 0 ? null : lead, max_abs_logit_diff: maxAbs };
}

function compareIds(a, b) {
  if (!a || !b) return null;
  const n = Math.min(a.length, b.length);
  let lead = n, same = 0;
  for (let i = 0; i < n; i++) { if (a[i] === b[i]) same++; else if (lead === n) lead = i; }
  return { compared: n, leading_equal: lead, equal: same, first_divergence: lead === n ? null : lead };
}

// ------------------------------------------------------------------------------------ native
function nativeRun(manifestFile, steps, threads) {
  const bin = path.join(ROOT, 'build/native/tunesmith_bench');
  const p = spawnSync(bin, [manifestFile, '--tokens', String(steps), '--threads', String(threads)], { encoding: 'utf8', timeout: 600e3 });
  if (p.status !== 0) throw new Error(`tunesmith_bench exited ${p.status}: ${(p.stderr || p.error?.message || '').trim()}`);
  const out = {};
  for (const line of p.stdout.split('\n')) { try { const j = JSON.parse(line); out[j.case] = j; } catch { /* not JSON */ } }
  return out;
}

// ------------------------------------------------------------------------------------ child: ORT with N threads
async function childOrt(a) {
  const model = loadManifest(a.child);
  const ort = await importOrt(a.threads);
  const steps = Math.min(a.tokens, model.man.architecture.n_ctx - PROMPT_LEN);
  const c = await ortCase(ort, model, a.prompt, steps, a.reps);
  process.stdout.write(`${JSON.stringify({ ...c, runs: c.runs.map(({ rows, ...r }) => r) })}\n`);
  process.exit(0);
}
function runChildOrt(manifestFile, prompt, a) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [SELF, '--child-ort', manifestFile, '--threads', String(a.threads), '--tokens', String(a.tokens),
      '--reps', String(a.reps), '--prompt', prompt.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => {
      try { resolve(JSON.parse(out.trim().split('\n').pop())); } catch { resolve({ error: `child exited ${code}: ${err.trim().split('\n').slice(-3).join(' ')}` }); }
    });
  });
}

// ------------------------------------------------------------------------------------ songwriting section
// Time to the first streamed line and to a whole 16-line song with every songwriting control on,
// per language, on a warm engine (the one-time load is reported apart): natively (a warm Engine in
// bench/songwriting_native.cpp), in wasm in Node (createEngine, st and mt builds) and in Chromium
// (bench/songwriting.html: the engine in the page's Web Worker, served cross-origin isolated by
// tools/serve.mjs, and once without isolation).
function songRequest(lang, seed) {
  const zh = lang === 'zh';
  return { task: 'generate_lyrics', song_title: zh ? '月光' : 'Summer Rain', structure: 'V C V C', rhyme_scheme: 'ABAB', syllables: 8,
           mood: 'tender', keywords: [zh ? '月亮' : 'rain'], avoid: [zh ? '愁' : 'death'], originality: true, seed };
}
function songPlan(langs, reps) {
  return Object.fromEntries(langs.map((l) => [l, { first: songRequest(l, 1000), warmup: [1001, 1002, 1003, 1004].map((k) => songRequest(l, k)),
                                                   timed: Array.from({ length: reps }, (_, k) => songRequest(l, 1 + k)) }]));
}
const WARM = { minRuns: 3, minMs: 1500 };
const medianOf = (xs) => { const v = xs.filter((x) => Number.isFinite(x)); return v.length ? median(v) : null; };

async function nativeSongwriting(requests) {
  const { buildRunner, NativeRunner } = await import(pathToFileURL(path.join(ROOT, 'bench/songwriting_native.mjs')).href);
  const { warmUp } = await import(pathToFileURL(path.join(ROOT, 'bench/songwriting.mjs')).href);
  const t0 = now();
  const runner = new NativeRunner(buildRunner());
  const out = { build: { variant: 'native', simd: 'SSE2', threads: 1 }, create_ms: now() - t0, langs: {} };
  try {
    for (const [lang, r] of Object.entries(requests)) {
      const first = await runner.request(r.first);
      await warmUp((q) => runner.request(q), r.warmup, { minRuns: 3, minMs: 500 });
      const runs = [];
      for (const q of r.timed) {
        const x = await runner.request(q);
        runs.push({ ms: x.ms, first_token_ms: x.ms_first_token, first_line_ms: x.ms_first_line, line_events: x.lines, lines: x.response.lines?.length ?? 0,
                    all_met: x.response.constraints?.all_met ?? null, relaxations: x.response.relaxations?.length ?? 0, lyrics: x.response.lyrics ?? null,
                    error: x.response.error ? `${x.response.error.code}: ${x.response.error.message}` : null });
      }
      out.langs[lang] = { first_request_ms: first.ms, first_request_error: first.response.error?.message ?? null, ms: medianOf(runs.map((x) => x.ms)),
                          ms_min: Math.min(...runs.map((x) => x.ms)), first_line_ms: medianOf(runs.map((x) => x.first_line_ms)),
                          first_token_ms: medianOf(runs.map((x) => x.first_token_ms)), runs: runs.map(({ lyrics, ...x }) => x), lyrics_first_timed: runs[0]?.lyrics ?? null };
    }
  } finally { runner.close(); }
  return out;
}

function serveRepo(extra = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'tools/serve.mjs'), '--port', '0', '--quiet', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => { p.kill(); reject(new Error('tools/serve.mjs did not start in 15 s')); }, 15_000);
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: m[1], stop: () => p.kill() }); }
    });
    p.on('exit', (code) => { clearTimeout(timer); reject(new Error(`tools/serve.mjs exited (${code})`)); });
  });
}

async function chromiumSongwriting(a, requests, isolated) {
  let chromium;
  try { ({ chromium } = await import('playwright-core')); } catch (e) { throw new Error(`cannot import playwright-core (${e.message}); run \`npm i\``); }
  if (!fs.existsSync(a.chromium)) throw new Error(`no Chromium at ${a.chromium} (apt-get install chromium, or --chromium PATH)`);
  const server = await serveRepo(isolated ? [] : ['--no-isolation']);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-bench-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: a.chromium, headless: true, timeout: 60_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.setDefaultTimeout(300_000);
    await page.goto(`${server.url}bench/songwriting.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 }).catch(() => { throw new Error(`page did not start: ${problems.join('; ') || 'timeout'}`); });
    const threads = isolated ? a.threads : 1;
    const r = await page.evaluate(({ req, threads: t }) => window.songwritingBench({ createOptions: { threads: t }, requests: req, warmup: { minRuns: 3, minMs: 1500 } }), { req: requests, threads });
    r.browser = await page.evaluate(() => navigator.userAgent);
    if (problems.length) r.page_errors = problems;
    return r;
  } finally {
    await context?.close().catch(() => {});
    server.stop();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function songwritingSection(a, report, warn) {
  const langs = ['zh', 'en'].filter((l) => fs.existsSync(path.join(ROOT, 'models', `lyrics-${l}.json`)));
  if (!langs.length) { warn('songwriting: no models/lyrics-{zh,en}.json'); return; }
  const requests = songPlan(langs, a.songReps);
  const S = { targets: { first_line_ms_max: TARGET_FIRST_LINE_MS, song_ms_max: TARGET_SONG_MS },
              request: Object.fromEntries(langs.map((l) => { const { seed, ...r } = songRequest(l, 0); return [l, r]; })),
              protocol: `per engine: a fresh engine; the first request (seed 1000) loads the model, its originality index and the tables (one-time load); warm-up songs (seeds 1001-1004 in turn, at least 3 songs and 1.5 s; natively 0.5 s); then ${a.songReps} timed songs (seeds 1-${a.songReps}), medians reported`,
              cases: {} };
  report.songwriting = S;
  console.log(`\n== songwriting: a 16-line song with every control on, per language; median of ${a.songReps} songs on a warm engine`);
  for (const l of langs) console.log(`   ${l}: ${JSON.stringify(S.request[l])}`);
  const cases = [];
  if (a.songNative) cases.push(['native', 'native (1 thread)', () => nativeSongwriting(requests)]);
  const { songwritingBench } = await import(pathToFileURL(path.join(ROOT, 'bench/songwriting.mjs')).href);
  cases.push(['wasm_st', 'wasm st, Node', () => songwritingBench({ createOptions: { worker: false, variant: 'st' }, requests, warmup: WARM })]);
  if (a.mt) cases.push([`wasm_mt_${a.threads}t`, `wasm mt, Node, ${a.threads} threads`, () => songwritingBench({ createOptions: { worker: false, variant: 'mt', threads: a.threads }, requests, warmup: WARM })]);
  if (a.browser) {
    cases.push(['chromium_isolated', 'Chromium, isolated', () => chromiumSongwriting(a, requests, true)]);
    cases.push(['chromium_not_isolated', 'Chromium, no isolation', () => chromiumSongwriting(a, requests, false)]);
  }
  const fmt = (x, w = 7) => (x == null ? 'n/a' : x.toFixed(0)).padStart(w);
  const W = 62;
  console.log(`   ${'case'.padEnd(W)} ${langs.map((l) => `${l}: 1st line   song (min)      `).join('')}one-time: create + first request (${langs.join(', ')})`);
  for (const [key, label, fn] of cases) {
    let r;
    try { r = await fn(); } catch (e) { warn(`songwriting ${label}: ${e.message}`); continue; }
    const b = r.build || {};
    const what = key === 'native' ? label : `${label} [${b.variant}${b.threads ? `, ${b.threads} thread${b.threads > 1 ? 's' : ''}` : ''}${b.simd ? ', SIMD' : ''}${r.crossOriginIsolated ? ', crossOriginIsolated' : ''}]`;
    r.label = what;
    S.cases[key] = r;
    const cells = langs.map((l) => `${fmt(r.langs[l]?.first_line_ms, 8)} ms ${fmt(r.langs[l]?.ms, 6)} (${fmt(r.langs[l]?.ms_min, 0)}) ms`.padEnd(32)).join('');
    console.log(`   ${what.padEnd(W)} ${cells}${r.create_ms.toFixed(0)} + ${langs.map((l) => (r.langs[l]?.first_request_ms ?? NaN).toFixed(0)).join(', ')} ms`);
    for (const l of langs) for (const x of r.langs[l]?.runs || []) if (x.error) warn(`songwriting ${what} ${l}: ${x.error}`);
  }
  // Summary: targets per case and language, ratios, checks.
  console.log('summary songwriting:');
  for (const [key, r] of Object.entries(S.cases)) {
    for (const l of langs) {
      const x = r.langs[l];
      if (!x) continue;
      const fl = x.first_line_ms, ms = x.ms;
      x.first_line_ok = fl != null && fl < TARGET_FIRST_LINE_MS;
      x.song_ok = ms != null && ms < TARGET_SONG_MS;
      console.log(`   ${r.label.padEnd(62)} ${l}: first line ${fmt(fl, 5)} ms (target < ${TARGET_FIRST_LINE_MS}) ${x.first_line_ok ? 'ok' : 'MISSED'}; song ${fmt(ms, 5)} ms (target < ${TARGET_SONG_MS}) ${x.song_ok ? 'ok' : 'MISSED'}`);
    }
  }
  S.ratios = {};
  const ratio = (p, q, l) => (S.cases[p]?.langs[l]?.ms && S.cases[q]?.langs[l]?.ms ? S.cases[p].langs[l].ms / S.cases[q].langs[l].ms : null);
  for (const l of langs) {
    S.ratios[l] = { wasm_st_over_native: ratio('wasm_st', 'native', l), chromium_over_wasm_st_node: ratio('chromium_isolated', 'wasm_st', l),
                    chromium_isolated_over_not_isolated: ratio('chromium_isolated', 'chromium_not_isolated', l) };
    const R = S.ratios[l], f = (x) => (x == null ? 'n/a' : `${x.toFixed(2)}x`);
    console.log(`   ${l}: song time wasm st (Node) / native = ${f(R.wasm_st_over_native)}; Chromium isolated / wasm st (Node) = ${f(R.chromium_over_wasm_st_node)}; Chromium isolated / not isolated = ${f(R.chromium_isolated_over_not_isolated)}`);
  }
  // Same request, same seed: every engine must write the same song.
  S.check = {};
  for (const l of langs) {
    const texts = Object.entries(S.cases).map(([k, r]) => [k, r.langs[l]?.lyrics_first_timed]).filter(([, t]) => t != null);
    const same = texts.every(([, t]) => t === texts[0][1]);
    const ev = Object.values(S.cases).map((r) => r.langs[l]?.runs?.[0]).filter(Boolean)[0];
    S.check[l] = { same_song_in_all_cases: same, cases: texts.map(([k]) => k), line_events: ev?.line_events ?? null, lines: ev?.lines ?? null,
                   all_met: Object.values(S.cases).every((r) => (r.langs[l]?.runs || []).every((x) => x.all_met === true)) };
    console.log(`   check ${l}: seed 1 gives the same song in ${same ? 'every case' : 'NOT every case'} (${texts.map(([k]) => k).join(', ')}); constraints all met in every timed song: ${S.check[l].all_met ? 'yes' : 'no'}; line events ${ev?.line_events}/${ev?.lines} lines`);
  }
  for (const r of Object.values(S.cases)) for (const l of langs) if (r.langs[l]) delete r.langs[l].lyrics_first_timed;
}

// ------------------------------------------------------------------------------------ melody section
// generate_melody for 8 lines of lyrics set to 16 bars (bench/melody.mjs), per language, on a warm
// engine: natively (a warm Engine in bench/songwriting_native.cpp, the runner the songwriting
// section uses; and the CLI, one process per request, load included), and wasm in Node (createEngine,
// st and mt builds). Same protocol as songwriting: the first request (seed 1000) loads the melody
// model and tables; warm-up (seeds 1001-1004, at least 3 melodies and 1.5 s; natively 0.5 s); then
// --melody-reps timed melodies (seeds 1..N), medians.
async function melodySection(a, report, warn) {
  const melodyModel = path.join(ROOT, 'models/melody.json');
  if (!fs.existsSync(melodyModel)) { warn('melody: no models/melody.json'); return; }
  const { melodyPlan, melodyRequest, melodyBench, melodyDigest, warmUp, summarise } = await import(pathToFileURL(path.join(ROOT, 'bench/melody.mjs')).href);
  const langs = ['en', 'zh'];
  const requests = melodyPlan(langs, a.melodyReps);
  const S = { targets: { wasm_ms_max: TARGET_MELODY_MS }, request: Object.fromEntries(langs.map((l) => { const { seed, ...r } = melodyRequest(l, 0); return [l, r]; })),
              protocol: `per engine: a fresh engine; the first request (seed 1000) loads the melody model and tables (one-time load); warm-up melodies (seeds 1001-1004 in turn, at least 3 and 1.5 s; natively 0.5 s); then ${a.melodyReps} timed melodies (seeds 1-${a.melodyReps}), medians reported; native CLI: one process per request (start and loading included), ${Math.min(3, a.melodyReps)} requests`,
              cases: {} };
  report.melody = S;
  console.log(`\n== melody: generate_melody, 8 lines of lyrics -> 16 bars, per language; median of ${a.melodyReps} melodies on a warm engine`);
  for (const l of langs) console.log(`   ${l}: ${JSON.stringify(S.request[l]).slice(0, 160)}...`);
  const cases = [];
  if (a.songNative) {
    cases.push(['native', 'native (1 thread, warm Engine)', async () => {
      const { buildRunner, NativeRunner } = await import(pathToFileURL(path.join(ROOT, 'bench/songwriting_native.mjs')).href);
      const bin = buildRunner(); // compiled on demand: not part of the engine's load
      const t0 = now();
      const runner = new NativeRunner(bin);
      const out = { build: { variant: 'native', threads: 1 }, create_ms: now() - t0, langs: {} };
      const time = async (q) => { const x = await runner.request(q); return { ms: x.ms, digest: melodyDigest(x.response) }; };
      try {
        for (const [l, r] of Object.entries(requests)) {
          const first = await time(r.first);
          await warmUp(time, r.warmup, { minRuns: 3, minMs: 500 });
          const runs = [];
          for (const q of r.timed) runs.push(await time(q));
          out.langs[l] = summarise(first, runs);
        }
      } finally { runner.close(); }
      return out;
    }]);
    const cli = path.join(ROOT, 'build/native/tunesmith');
    if (fs.existsSync(cli)) cases.push(['native_cli', 'native CLI (a process per request, load included)', async () => {
      const out = { build: { variant: 'native CLI', threads: 1 }, create_ms: 0, langs: {} };
      const time = (q) => {
        const t0 = now();
        const p = spawnSync(cli, ['request', JSON.stringify(q), '--models', path.join(ROOT, 'models')], { encoding: 'utf8', maxBuffer: 64 << 20 });
        const ms = now() - t0;
        let res;
        try { res = JSON.parse(p.stdout); } catch { res = { error: { code: 'cli_failed', message: (p.stderr || '').trim().slice(0, 200) } }; }
        return { ms, digest: melodyDigest(res) };
      };
      for (const [l, r] of Object.entries(requests)) {
        const first = time(r.first);
        const runs = r.timed.slice(0, 3).map(time);
        out.langs[l] = summarise(first, runs);
      }
      return out;
    }]);
  }
  cases.push(['wasm_st', 'wasm st, Node', () => melodyBench({ createOptions: { worker: false, variant: 'st' }, requests, warmup: WARM })]);
  if (a.mt) cases.push([`wasm_mt_${a.threads}t`, `wasm mt, Node, ${a.threads} threads`, () => melodyBench({ createOptions: { worker: false, variant: 'mt', threads: a.threads }, requests, warmup: WARM })]);
  const fmt = (x, w = 7) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toFixed(0)).padStart(w);
  const W = 56;
  console.log(`   ${'case'.padEnd(W)} ${langs.map((l) => `${l}: melody (min)      `).join('')}one-time: create + first request (${langs.join(', ')})`);
  for (const [key, label, fn] of cases) {
    let r;
    try { r = await fn(); } catch (e) { warn(`melody ${label}: ${e.message}`); continue; }
    const b = r.build || {};
    const what = key.startsWith('native') ? label : `${label} [${b.variant}${b.threads ? `, ${b.threads} thread${b.threads > 1 ? 's' : ''}` : ''}${b.simd ? ', SIMD' : ''}]`;
    r.label = what;
    S.cases[key] = r;
    const cells = langs.map((l) => `${fmt(r.langs[l]?.ms, 6)} (${fmt(r.langs[l]?.ms_min, 0)}) ms`.padEnd(22)).join('');
    console.log(`   ${what.padEnd(W)} ${cells}${r.create_ms.toFixed(0)} + ${langs.map((l) => (r.langs[l]?.first_request_ms ?? NaN).toFixed(0)).join(', ')} ms`);
    for (const l of langs) {
      const errs = [r.langs[l]?.first_request_error, ...(r.langs[l]?.runs || []).map((x) => x.error)].filter(Boolean);
      if (errs.length) warn(`melody ${what} ${l}: ${errs.length} failed request(s): ${errs[0]}`);
    }
  }
  console.log('summary melody:');
  for (const [key, r] of Object.entries(S.cases)) {
    if (!key.startsWith('wasm')) continue;
    for (const l of langs) {
      const x = r.langs[l];
      if (!x) continue;
      x.ok = x.ms != null && x.ms < TARGET_MELODY_MS && !x.failed;
      console.log(`   ${r.label.padEnd(56)} ${l}: melody ${fmt(x.ms, 5)} ms (target < ${TARGET_MELODY_MS}) ${x.ok ? 'ok' : x.ms == null ? 'MISSED (no successful request)' : 'MISSED'}`);
    }
  }
  S.ratios = {};
  S.check = {};
  for (const l of langs) {
    const w = S.cases.wasm_st?.langs[l]?.ms, n = S.cases.native?.langs[l]?.ms;
    S.ratios[l] = { wasm_st_over_native: w && n ? w / n : null };
    const fps = Object.entries(S.cases).map(([k, r]) => [k, r.langs[l]?.fingerprint_first_timed]).filter(([, f]) => f != null);
    const same = fps.length > 0 && fps.every(([, f]) => f === fps[0][1]);
    const run0 = Object.values(S.cases).map((r) => r.langs[l]?.runs?.[0]).find((x) => x && !x.error);
    S.check[l] = { same_melody_in_all_cases: same, cases: fps.map(([k]) => k), notes: run0?.notes ?? null, bars: run0?.bars ?? null };
    console.log(`   ${l}: wasm st (Node) / native = ${S.ratios[l].wasm_st_over_native == null ? 'n/a' : `${S.ratios[l].wasm_st_over_native.toFixed(2)}x`}; seed 1 gives the same melody in ${same ? 'every case' : 'NOT every case'} (${fps.map(([k]) => k).join(', ')}); ${S.check[l].notes} notes, ${S.check[l].bars} bars`);
  }
  for (const r of Object.values(S.cases)) for (const l of langs) if (r.langs[l]) delete r.langs[l].fingerprint_first_timed;
}

// ------------------------------------------------------------------------------------ main
function summarize(runs, steps) {
  if (!runs?.length) return null;
  const done = runs[0].steps_done ?? steps;
  const ms = median(runs.map((r) => r.ms_decode));
  const out = { steps: done, ms_decode: ms, ms_decode_min: Math.min(...runs.map((r) => r.ms_decode)), tokens_per_s: (done * 1000) / ms,
                ms_prefill: median(runs.map((r) => r.ms_prefill)), reps: runs.length };
  if (runs[0].cpu_per_wall !== undefined) out.cpu_per_wall = median(runs.map((r) => r.cpu_per_wall));
  if (runs[0].method) out.method = runs[0].method;
  return out;
}

// ------------------------------------------------------------------------------------ decode section
async function decodeSection(a, report, manifests, warn) {
  const ort = await importOrt(1);
  const st = await loadWasm('st');
  // Two instances of the threaded build, one kept at 1 thread and one at --threads: the kernels'
  // pool is per module, and switching it back and forth between runs is not what a page does
  // (and crashed the 2026-11-30 build: a restarted worker can run a stale job).
  let mt = null, mtN = null;
  if (a.mt) {
    try { mt = await loadWasm('mt'); mtN = await loadWasm('mt'); } catch (e) { warn(`wasm mt build not used: ${e.message}`); mt = mtN = null; }
  }
  report.builds = { st: st.build, mt: mt?.build ?? null };
  console.log(`wasm module instantiate: st ${st.init_ms.toFixed(1)} ms${mt ? `, mt ${mt.init_ms.toFixed(1)} ms` : ''}`);
  report.wasm_init_ms = { st: round(st.init_ms), mt: mt ? round(mt.init_ms) : null };

  let ortInitialized = false;
  for (const file of manifests) {
    let model;
    try { model = loadManifest(file); } catch (e) { warn(`${file}: ${e.message}`); continue; }
    const arch = model.man.architecture;
    const steps = Math.min(a.tokens, arch.n_ctx - PROMPT_LEN);
    const prompt = makePrompt(model.man);
    const M = { name: model.man.name, file: file.startsWith(ROOT + path.sep) ? path.relative(ROOT, file) : file, parameters: arch.parameters, onnx_bytes: model.onnx.length,
                architecture: { n_layer: arch.n_layer, n_head: arch.n_head, d_model: arch.d_model, d_ff: arch.d_ff, n_ctx: arch.n_ctx, vocab_size: arch.vocab_size },
                prompt, steps, decode: {}, load: {}, check: {}, ratios: {} };
    console.log(`\n== ${M.name}  (${(arch.parameters / 1e6).toFixed(2)}M params, ${arch.n_layer}x${arch.d_model}, vocab ${arch.vocab_size}, ctx ${arch.n_ctx}, .onnx ${(model.onnx.length / 1e6).toFixed(2)} MB)`);
    console.log(`   greedy decode: prompt ${PROMPT_LEN} ids [${prompt.join(',')}], then ${steps} single-token steps with the KV cache; batch 1; median of ${a.reps} reps after a warm-up`);

    // Cold loads: the first of this model in this process (wasm code and ORT still warming up).
    const ortInit = !ortInitialized; ortInitialized = true;
    const ortFirst = await ortCreate(ort, model.onnx);
    const session = ortFirst.session;
    const engines = { st: ourEngine(st, model) };
    if (mt) { engines.mt1 = ourEngine(mt, model); engines.mtN = ourEngine(mtN, model); engines.mtN.engine.setThreads(a.threads); }

    // Decode, round-robin over the cases (order rotated each rep) so background load hits them alike.
    const T = a.threads;
    const cases = {
      ort_web_1t: () => ortDecode(ort, session, arch, prompt, steps),
      wasm_st: () => oursDecode(engines.st.engine, model, prompt, steps),
    };
    if (mt) {
      cases.wasm_mt_1t = () => oursDecode(engines.mt1.engine, model, prompt, steps);
      cases[`wasm_mt_${T}t`] = () => oursDecode(engines.mtN.engine, model, prompt, steps);
    }
    if (a.native) {
      const nat = (threads) => () => { const n = nativeRun(file, steps, threads); return { ms_decode: n.decode.ms, ms_prefill: n.decode.prefill16_ms, load_ms: n.load.ms, steps_done: n.decode.tokens, raw: n }; };
      cases.native_1t = nat(1);
      cases[`native_${T}t`] = nat(T);
    }
    // Warm-up: V8 compiles wasm lazily and tiers hot functions up per module instance, so each
    // case first runs for at least 3 runs and ~1 s (a 2M-parameter model's decode was still 2x
    // slow after 300 ms);
    // its first runs also give the greedy ids and ORT's logits for the checks.
    const ortRef = await ortDecode(ort, session, arch, prompt, steps, PROMPT_LEN + CHECK_STEPS);
    const oursRef = oursDecode(engines.st.engine, model, prompt, steps);
    for (const [k, fn] of Object.entries(cases)) {
      try {
        const t0 = now();
        for (let n = 0; n < (k.startsWith('native') ? 1 : 50) && (n < 3 || now() - t0 < WARMUP_MS); n++) await fn();
      } catch (e) { warn(`${M.name} ${k}: ${e.message}`); delete cases[k]; }
    }
    const runs = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    const order = Object.keys(cases);
    for (let rep = 0; rep < a.reps; rep++) {
      for (let i = 0; i < order.length; i++) {
        const k = order[(i + rep) % order.length];
        runs[k].push(await cases[k]());
      }
    }
    for (const [k, r] of Object.entries(runs)) M.decode[k] = summarize(r, steps);
    if (runs.native_1t?.length) {
      M.load.native_load_ms = median(runs.native_1t.map((r) => r.load_ms));
      M.native_kernel_head = runs.native_1t[0].raw.kernel_head ?? null;
      M.native_simd = runs.native_1t[0].raw.load?.simd ?? null;
    }

    // Warm loads: the first 2 of (at least) 5 more loads are discarded, the median of the rest kept.
    const nLoads = Math.max(5, a.reps + 2);
    const ortWarm = [];
    for (let i = 0; i < nLoads; i++) { const c = await ortCreate(ort, model.onnx); ortWarm.push(c.ms); await c.session.release(); }
    ortWarm.splice(0, 2);
    await session.release();
    const ourWarm = (W) => { const t = []; for (let i = 0; i < nLoads; i++) { const e = ourEngine(W, model); t.push(e.load_ms); e.engine.delete(); } return median(t.slice(2)); };
    Object.assign(M.load, {
      wasm_st_load_ms: ourWarm(st), wasm_st_load_first_ms: engines.st.load_ms,
      wasm_mt_load_ms: mt ? ourWarm(mt) : null, wasm_mt_load_first_ms: mt ? engines.mt1.load_ms : null,
      ort_web_create_ms: median(ortWarm), ort_web_create_first_ms: ortFirst.ms, ort_web_first_includes_runtime_init: ortInit,
    });

    // ORT with N threads, in its own process (numThreads is fixed per process).
    if (a.ortThreads) {
      const c = await runChildOrt(file, prompt, a);
      if (c.error) warn(`ORT Web with ${a.threads} threads: ${c.error}`);
      else { M.decode[`ort_web_${a.threads}t`] = summarize(c.runs, steps); M.load[`ort_web_${a.threads}t_create_first_ms`] = c.create_first_ms; M.check[`ort_web_${a.threads}t_greedy_ids`] = compareIds(c.tokens, ortRef.tokens); }
    }

    // Correctness next to the speed: same greedy ids? same logits (teacher-forced)?
    M.check.greedy_ids = compareIds(oursRef.tokens, ortRef.tokens);
    if (runs[`wasm_mt_${T}t`]?.length) M.check.wasm_mt_vs_st_ids = compareIds(runs[`wasm_mt_${T}t`][0].tokens, oursRef.tokens);
    M.check.teacher_forced = logitsCheck(engines.st.engine, model, prompt, ortRef.tokens, ortRef.rows);
    for (const e of Object.values(engines)) e.engine.delete();

    // Print.
    const D = M.decode;
    const line = (label, d, note = '') => {
      if (!d) return;
      const pf = Number.isFinite(d.ms_prefill) ? `prefill ${d.ms_prefill.toFixed(2).padStart(7)} ms` : 'prefill       n/a';
      const cpu = d.cpu_per_wall !== undefined ? `  cpu/wall ${d.cpu_per_wall.toFixed(2)}` : '';
      console.log(`   decode  ${label.padEnd(30)} ${d.tokens_per_s.toFixed(0).padStart(8)} tokens/s  (${(d.ms_decode / d.steps).toFixed(3)} ms/token, ${pf})${cpu}${note}`);
    };
    line('ORT Web, 1 thread', D.ort_web_1t, '  [JS loop: session.run + argmax per token]');
    line('ours wasm st', D.wasm_st, D.wasm_st?.method === 'bench_decode' ? '  [timed inside wasm: bench_decode]' : `  [${D.wasm_st?.method}]`);
    line('ours wasm mt, 1 thread', D.wasm_mt_1t);
    line(`ours wasm mt, ${T} threads`, D[`wasm_mt_${T}t`]);
    line(`ORT Web, ${T} threads`, D[`ort_web_${T}t`], '  [own process]');
    line('native, 1 thread', D.native_1t, M.native_simd ? `  [${M.native_simd}]` : '');
    line(`native, ${T} threads`, D[`native_${T}t`]);
    const L = M.load;
    console.log(`   load    ours wasm st loadModel (incl. sha256)  ${L.wasm_st_load_ms.toFixed(1).padStart(8)} ms  (first ${L.wasm_st_load_first_ms.toFixed(1)} ms)`);
    if (L.wasm_mt_load_ms != null) console.log(`   load    ours wasm mt loadModel                 ${L.wasm_mt_load_ms.toFixed(1).padStart(8)} ms`);
    console.log(`   load    ORT Web InferenceSession.create        ${L.ort_web_create_ms.toFixed(1).padStart(8)} ms  (first: ${L.ort_web_create_first_ms.toFixed(1)} ms${L.ort_web_first_includes_runtime_init ? ', ORT runtime init included' : ''})`);
    if (L.ort_web_first_includes_runtime_init) {
      L.cold_start_wasm_st_ms = report.wasm_init_ms.st + L.wasm_st_load_first_ms;
      console.log(`   load    cold start, first model in the process:  ours st instantiate + loadModel ${L.cold_start_wasm_st_ms.toFixed(1)} ms, ORT Web first create ${L.ort_web_create_first_ms.toFixed(1)} ms`);
    }
    if (L.native_load_ms != null) console.log(`   load    native GptModel::load                  ${L.native_load_ms.toFixed(1).padStart(8)} ms`);
    const g = M.check.greedy_ids, tf = M.check.teacher_forced;
    if (g) console.log(`   check   greedy ids ours vs ORT: first ${g.leading_equal}/${g.compared} equal${g.first_divergence == null ? '' : ` (diverge at step ${g.first_divergence}; ${g.equal}/${g.compared} equal overall)`}`);
    else console.log('   check   greedy ids ours vs ORT: n/a (no bench_decode: our ids unknown)');
    const mi = M.check.wasm_mt_vs_st_ids;
    if (mi) console.log(`   check   greedy ids wasm mt (${T} threads) vs st: ${mi.equal}/${mi.compared} equal`);
    const oi = M.check[`ort_web_${T}t_greedy_ids`];
    if (oi) console.log(`   check   greedy ids ORT Web ${T} threads vs 1 thread: ${oi.equal}/${oi.compared} equal`);
    if (tf.error) console.log(`   check   teacher-forced logits: ${tf.error}`);
    else console.log(`   check   teacher-forced (prompt + ORT ids, ${tf.rows} rows): argmax equal ${tf.argmax_equal}/${tf.steps_checked}, max |logit diff| ${tf.max_abs_logit_diff.toExponential(2)}`);

    // Ratios.
    const R = M.ratios, tps = (k) => D[k]?.tokens_per_s;
    const ratio = (p, q) => (tps(p) && tps(q) ? tps(p) / tps(q) : null);
    R.ours_st_over_ort_web_1t = ratio('wasm_st', 'ort_web_1t');
    R.ours_mt_over_ort_web_mt = ratio(`wasm_mt_${T}t`, `ort_web_${T}t`);
    R.native_over_wasm_st = ratio('native_1t', 'wasm_st');
    R.wasm_mt_over_st = ratio(`wasm_mt_${T}t`, 'wasm_st');
    R.wasm_mt_nt_over_mt_1t = ratio(`wasm_mt_${T}t`, 'wasm_mt_1t');
    R.native_nt_over_1t = ratio(`native_${T}t`, 'native_1t');
    R.ort_web_nt_over_1t = ratio(`ort_web_${T}t`, 'ort_web_1t');
    R.load_ort_web_over_ours_st = L.ort_web_create_ms / L.wasm_st_load_ms;
    R.cold_start_ort_web_over_ours_st = L.cold_start_wasm_st_ms ? L.ort_web_create_first_ms / L.cold_start_wasm_st_ms : null;
    R.load_wasm_st_over_native = L.native_load_ms ? L.wasm_st_load_ms / L.native_load_ms : null;
    const fmt = (x) => (x == null ? 'n/a' : `${x.toFixed(2)}x`);
    const verdict = (x, ok) => (x == null ? '' : ok ? '  ok' : '  MISSED');
    const fallback = D.wasm_st?.method !== 'bench_decode' ? '  (ours: generate_lyrics fallback)' : '';
    console.log(`summary ${M.name}:`);
    console.log(`   ours (wasm st) / ORT Web (1 thread) tokens/s = ${fmt(R.ours_st_over_ort_web_1t)}  (target >= ${TARGET_ORT}x)${verdict(R.ours_st_over_ort_web_1t, R.ours_st_over_ort_web_1t >= TARGET_ORT)}${fallback}`);
    if (R.native_over_wasm_st != null) console.log(`   native / wasm st tokens/s (1 thread)       = ${fmt(R.native_over_wasm_st)}  (target <= ${TARGET_NATIVE}x)${verdict(R.native_over_wasm_st, R.native_over_wasm_st <= TARGET_NATIVE)}`);
    if (R.wasm_mt_over_st != null) console.log(`   wasm mt (${T} threads) / wasm st             = ${fmt(R.wasm_mt_over_st)}  (mt ${T} / mt 1 thread = ${fmt(R.wasm_mt_nt_over_mt_1t)})`);
    if (R.native_nt_over_1t != null) console.log(`   native ${T} threads / 1 thread              = ${fmt(R.native_nt_over_1t)}`);
    if (R.ours_mt_over_ort_web_mt != null) console.log(`   ours (wasm mt) / ORT Web, ${T} threads each  = ${fmt(R.ours_mt_over_ort_web_mt)}  (ORT ${T} threads / 1 = ${fmt(R.ort_web_nt_over_1t)})`);
    console.log(`   load: ORT Web create / ours loadModel      = ${fmt(R.load_ort_web_over_ours_st)}${R.cold_start_ort_web_over_ours_st ? ` (cold start: ${fmt(R.cold_start_ort_web_over_ours_st)})` : ''}${R.load_wasm_st_over_native ? `  (wasm / native load = ${fmt(R.load_wasm_st_over_native)})` : ''}`);
    report.models.push(M);
  }
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) return childOrt(a);

  const manifests = listManifests(a.models);
  if (!manifests.length) die(`no tunesmith model manifests in ${a.models}`);
  const report = { tool: 'tools/bench.mjs', date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length,
                   loadavg_start: os.loadavg().map((x) => round(x)), onnxruntime_web: ortVersion(), args: { tokens: a.tokens, reps: a.reps, threads: a.threads },
                   targets: { ours_vs_ort_web_min: TARGET_ORT, native_vs_wasm_max: TARGET_NATIVE }, builds: {}, models: [], warnings: [] };
  const warn = (m) => { report.warnings.push(m); console.log(`warning: ${m}`); };
  console.log(`tunesmith bench  ${report.date}  node ${process.version}  ${report.cores} cores (${report.cpu})  onnxruntime-web ${report.onnxruntime_web}`);
  if (os.loadavg()[0] > report.cores * 0.75) warn(`load average ${os.loadavg()[0].toFixed(1)} on ${report.cores} cores: other work competes, numbers are noisy (threaded ones most)`);
  const src = engineSources();
  for (const t of ['dist/wasm/tunesmith-st.wasm', 'dist/wasm/tunesmith-mt.wasm', 'build/native/tunesmith_bench']) {
    const s = staleness(path.join(ROOT, t), t.includes('native') ? [...src, path.join(ROOT, 'bench/bench_native.cpp')] : src);
    if (s) warn(`${t} is older than ${s.slice(0, 3).join(', ')}${s.length > 3 ? ` (+${s.length - 3})` : ''}: rebuild for current numbers`);
  }
  a.songNative = a.native; // the songwriting section's native case uses its own runner (bench/songwriting_native.cpp)
  if ((!a.only || a.only === 'decode') && a.native && !fs.existsSync(path.join(ROOT, 'build/native/tunesmith_bench'))) { warn('build/native/tunesmith_bench missing (cmake --build build/native --target tunesmith_bench): native cases skipped'); a.native = false; }

  if (!a.only || a.only === 'decode') await decodeSection(a, report, manifests, warn);
  if (!a.only || a.only === 'songwriting') await songwritingSection(a, report, warn);
  if (!a.only || a.only === 'melody') await melodySection(a, report, warn);
  report.loadavg_end = os.loadavg().map((x) => round(x));
  if (a.json) {
    const clean = JSON.parse(JSON.stringify(report, (k, v) => (typeof v === 'number' ? round(v, 4) : v)));
    fs.mkdirSync(path.dirname(a.json), { recursive: true });
    fs.writeFileSync(a.json, `${JSON.stringify(clean, null, 1)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), a.json) || a.json}`);
  }
  process.exit(0); // the threaded module's worker pool would keep Node alive
}

main().catch((e) => { console.error(`bench: ${e.stack || e.message}`); process.exit(1); });

// The songwriting benchmark's measuring loop, shared by Node (tools/bench.mjs, wasm in-process) and
// the browser page bench/songwriting.html (Chromium, the engine in its Web Worker). Times come from
// performance.now() around engine.requestRaw(): time to the first streamed line and to the whole
// song, for requests with every songwriting control on (docs/lyrics-controls.md).
//
//   import { songwritingBench } from './songwriting.mjs';
//   const result = await songwritingBench({ createOptions: {}, requests: { zh: {first, warmup: [...], timed: [...]} } });
import { createEngine } from '../web/src/index.mjs';

const median = (xs) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : null; };

/** One timed request: {ms, first_token_ms, first_line_ms, line_events, lines, all_met, lyrics, error}. */
export async function timeRequest(engine, req) {
  let firstLine = null, firstToken = null, lineEvents = 0;
  const t0 = performance.now();
  const res = await engine.requestRaw(req, (ev) => {
    const dt = performance.now() - t0;
    if (ev.event === 'token' && firstToken === null) firstToken = dt;
    else if (ev.event === 'line') { lineEvents++; if (firstLine === null) firstLine = dt; }
  });
  const ms = performance.now() - t0;
  return { ms, first_token_ms: firstToken, first_line_ms: firstLine, line_events: lineEvents, lines: res.lines?.length ?? 0,
           all_met: res.constraints?.all_met ?? null, relaxations: res.relaxations?.length ?? 0, lyrics: res.lyrics ?? null,
           error: res.error ? `${res.error.code}: ${res.error.message}` : null };
}

/**
 * Warm-up: V8 compiles wasm lazily and tiers hot code up, so the first songs run slower. Runs the
 * warm-up requests in turn for at least minRuns songs and minMs milliseconds (at most maxRuns).
 */
export async function warmUp(run, reqs, { minRuns = 3, minMs = 1500, maxRuns = 30 } = {}) {
  if (!reqs.length) return 0;
  const t0 = performance.now();
  let n = 0;
  while (n < maxRuns && (n < minRuns || performance.now() - t0 < minMs)) await run(reqs[n++ % reqs.length]);
  return n;
}

/**
 * createOptions: for createEngine. requests: {lang: {first, warmup: [req], timed: [req]}}: `first`
 * runs on a fresh engine (it loads the model, its originality index and the phonetics, lexicon and
 * sentiment tables: the one-time load), `warmup` requests run in turn to let the wasm tiers warm up (warmUp options: {minRuns, minMs}),
 * `timed` are measured.
 */
export async function songwritingBench({ createOptions = {}, requests, warmup: warmupOptions }) {
  const t0 = performance.now();
  const engine = await createEngine(createOptions);
  const out = { build: { ...engine.info }, create_ms: performance.now() - t0, crossOriginIsolated: globalThis.crossOriginIsolated === true, langs: {} };
  try {
    for (const [lang, r] of Object.entries(requests)) {
      const first = await timeRequest(engine, r.first);
      await warmUp((q) => timeRequest(engine, q), r.warmup || [], warmupOptions);
      const runs = [];
      for (const q of r.timed) runs.push(await timeRequest(engine, q));
      out.langs[lang] = {
        first_request_ms: first.ms, first_request_error: first.error,
        ms: median(runs.map((x) => x.ms)), ms_min: Math.min(...runs.map((x) => x.ms)),
        first_line_ms: median(runs.map((x) => x.first_line_ms)), first_token_ms: median(runs.map((x) => x.first_token_ms)),
        runs: runs.map(({ lyrics, ...x }) => x), lyrics_first_timed: runs[0]?.lyrics ?? null,
      };
    }
  } finally {
    await engine.close();
  }
  return out;
}

if (typeof window !== 'undefined') {
  window.songwritingBench = songwritingBench;
  window.benchReady = true;
  const el = document.getElementById('status');
  if (el) el.textContent = `ready (crossOriginIsolated: ${globalThis.crossOriginIsolated === true}); tools/bench.mjs --only songwriting drives this page`;
}

// The melody benchmark's requests and measuring loop (tools/bench.mjs --only melody): generate_melody
// for 8 lines of lyrics set to 16 bars, on a warm engine. Times come from performance.now() around
// engine.requestRaw() (wasm in Node here; the native cases are timed by tools/bench.mjs).
//
//   import { melodyRequest, melodyBench } from './melody.mjs';
//   const r = await melodyBench({ createOptions: { worker: false, variant: 'st' }, requests: { en: {first, warmup: [...], timed: [...]} } });
import { createEngine } from '../web/src/index.mjs';

export const MELODY_LYRICS = {
  en: ['The river carries silver light', 'Across the valley morning bells are ringing', 'I wandered through the empty city streets',
       'Remember every open door', 'A lantern burning by the window', 'Tomorrow brings a gentle rain',
       'We gather where the willows bend', 'My heart is singing like a sparrow'],
  zh: ['月光洒在小河上', '春风吹过山岗', '我在远方想念你', '明天会更好', '故乡的云飘过来', '夜色温柔如水', '花开满山坡', '一路走来不回头'],
};

/** 8 lines of lyrics -> 16 bars, G major, style song (default meter and tempo). */
export function melodyRequest(lang, seed) {
  return { task: 'generate_melody', lyrics: MELODY_LYRICS[lang].join('\n'), bars: 16, key: 'G', mode: 'major', style: 'song', seed };
}
/** first (seed 1000: loads the melody model and tables), warm-up (seeds 1001-1004), timed (seeds 1..reps). */
export function melodyPlan(langs, reps) {
  return Object.fromEntries(langs.map((l) => [l, { first: melodyRequest(l, 1000), warmup: [1001, 1002, 1003, 1004].map((k) => melodyRequest(l, k)),
                                                   timed: Array.from({ length: reps }, (_, k) => melodyRequest(l, 1 + k)) }]));
}

const median = (xs) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : null; };

/** Summary of one response: enough to check that every case wrote the same melody. */
export function melodyDigest(res) {
  if (!res || res.error) return { error: res ? `${res.error.code}: ${res.error.message}` : 'no response' };
  return { notes: res.notes?.length ?? 0, bars: res.bars ?? null, relaxations: res.relaxations?.length ?? 0,
           fingerprint: (res.notes || []).map((n) => `${n.pitch}@${n.start}`).join(' ') };
}

/** Warm-up as in songwriting.mjs: at least minRuns requests and minMs milliseconds. */
export async function warmUp(run, reqs, { minRuns = 3, minMs = 1500, maxRuns = 40 } = {}) {
  const t0 = performance.now();
  let n = 0;
  while (reqs.length && n < maxRuns && (n < minRuns || performance.now() - t0 < minMs)) await run(reqs[n++ % reqs.length]);
  return n;
}

/** Summarise timed runs [{ms, digest}] per language. */
export function summarise(first, runs) {
  const good = runs.filter((x) => !x.digest.error); // failed requests are not timed
  return { first_request_ms: first.ms, first_request_error: first.digest.error ?? null, ms: median(good.map((x) => x.ms)), ms_min: good.length ? Math.min(...good.map((x) => x.ms)) : null,
           failed: runs.length - good.length,
           runs: runs.map(({ digest, ms }) => ({ ms, notes: digest.notes, bars: digest.bars, relaxations: digest.relaxations, error: digest.error ?? null })),
           fingerprint_first_timed: good.length === runs.length ? runs[0]?.digest.fingerprint ?? null : null };
}

export async function melodyBench({ createOptions = {}, requests, warmup: warmupOptions }) {
  const t0 = performance.now();
  const engine = await createEngine(createOptions);
  const out = { build: { ...engine.info }, create_ms: performance.now() - t0, langs: {} };
  const time = async (q) => { const t = performance.now(); const res = await engine.requestRaw(q); return { ms: performance.now() - t, digest: melodyDigest(res) }; };
  try {
    for (const [lang, r] of Object.entries(requests)) {
      const first = await time(r.first);
      await warmUp(time, r.warmup || [], warmupOptions);
      const runs = [];
      for (const q of r.timed) runs.push(await time(q));
      out.langs[lang] = summarise(first, runs);
    }
  } finally {
    await engine.close();
  }
  return out;
}

// tunesmith public JS API: a thin adapter over the C++ engine's JSON request interface.
//
//   import { createEngine } from 'tunesmith';
//   const engine = await createEngine({ onProgress: (p) => console.log(p.model, p.loaded, p.total) });
//   const song = await engine.generateLyrics({ title: '我爱你', style: '流行音乐', lines: 8, seed: 1 },
//                                            { onLine: (ev) => console.log(ev.index, ev.text) });
//   await engine.close();
//
// Browsers: the engine runs in a module Web Worker (worker.mjs); the threaded build (mt) is used
// only when the page is cross-origin isolated, else the single-thread build (st).
// Node: the mt build runs in-process (or in a worker_threads Worker with {worker: true}).
import { EngineHost, isNode } from './core.mjs';

/** Rejection value of engine.request() and friends for an engine error response. */
export class TunesmithError extends Error {
  constructor(error) {
    super(error?.message || 'unknown error');
    this.name = 'TunesmithError';
    this.code = error?.code || 'internal';
    this.error = error; // the whole {code, message, ...} object from the engine (e.g. model, field)
  }
}

const PACKAGE_ROOT = new URL('../../', import.meta.url);

// Friendly option names -> request field names. Everything else passes through unchanged, so
// any field the C++ request parser knows can be given under its own name.
const LYRICS_FIELDS = { title: 'song_title', style: 'song_style', lines: 'lyrics_length', lang: 'language' };

/** {title, style, lines, lang, seed, temperature, ...} -> a generate_lyrics request object. */
export function lyricsRequest(opts = {}) {
  const req = { task: 'generate_lyrics' };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) req[LYRICS_FIELDS[k] || k] = v;
  return req;
}

async function toBaseUrl(value, fallback) {
  if (value == null || value === '') return fallback.href;
  let s = value instanceof URL ? value.href : String(value);
  if (!/^[a-z][a-z0-9+.-]+:/i.test(s)) { // a path, not a URL
    if (isNode) {
      const [{ pathToFileURL }, path] = await Promise.all([import('node:url'), import('node:path')]);
      s = pathToFileURL(path.resolve(s)).href;
    } else {
      s = new URL(s, globalThis.location?.href).href;
    }
  }
  return s.endsWith('/') ? s : `${s}/`;
}

// ------------------------------------------------------------------------------------ transports
// A transport has call(request, onEvent) -> Promise<raw response>, info, close().

async function localTransport(options) {
  const host = await EngineHost.create(options);
  return { info: host.info, call: (req, onEvent) => host.request(req, onEvent), close: async () => host.close() };
}

async function workerTransport(options) {
  let worker, on, post;
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    worker = new Worker(new URL('./worker.mjs', import.meta.url));
    on = (fn, fail) => {
      worker.on('message', fn);
      worker.on('error', (err) => fail(`worker error: ${err?.message || err}`));
      worker.on('exit', (code) => fail(`worker exited (${code})`));
    };
    post = (m) => worker.postMessage(m);
  } else {
    // This exact expression lets bundlers (Vite, webpack) find and emit the worker.
    worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module', name: 'tunesmith' });
    on = (fn, fail) => {
      worker.onmessage = (e) => fn(e.data);
      worker.onerror = (e) => { e.preventDefault?.(); fail(`worker error: ${e.message || 'script failed to load'}`); };
      worker.onmessageerror = () => fail('worker sent an unreadable message');
    };
    post = (m) => worker.postMessage(m);
  }
  const pending = new Map(); // id -> {resolve, reject, onEvent}
  let nextId = 1, dead = null;
  // Node: the worker keeps the process alive only while a call is in flight, so a forgotten
  // close() does not hang the process (and an awaited call is never cut short).
  const keepAlive = () => { if (isNode) pending.size ? worker.ref() : worker.unref(); };
  on((msg) => {
    if (msg?.type === 'progress') { try { options.onProgress?.(msg.progress); } catch { /* UI bug */ } return; }
    const p = pending.get(msg?.id);
    if (!p) return;
    if (msg.type === 'event') { try { p.onEvent?.(msg.event); } catch (err) { p.userError ??= err; } return; }
    pending.delete(msg.id);
    keepAlive();
    if (msg.type === 'result' || msg.type === 'ready') p.userError ? p.reject(p.userError) : p.resolve(msg.response ?? msg.info);
    else p.reject(new TunesmithError(msg.error));
  }, (why) => { // the worker is gone: fail everything in flight and later
    dead ??= why;
    for (const p of pending.values()) p.reject(new TunesmithError({ code: 'worker_failed', message: why }));
    pending.clear();
  });
  const send = (msg, onEvent) => new Promise((resolve, reject) => {
    if (dead) return reject(new TunesmithError({ code: 'worker_failed', message: dead }));
    const id = nextId++;
    pending.set(id, { resolve, reject, onEvent });
    keepAlive();
    post({ id, ...msg });
  });
  const { onProgress, ...initOptions } = options; // functions cannot cross postMessage
  const info = await send({ type: 'init', options: initOptions }).catch((err) => { worker.terminate(); throw err; });
  return {
    info,
    call: (request, onEvent) => send({ type: 'request', request, events: !!onEvent }, onEvent),
    close: async () => { dead ??= 'engine closed'; await worker.terminate(); },
  };
}

// ---------------------------------------------------------------------------------------- Engine

class Engine {
  #t; #closed = false;
  constructor(transport, info) { this.#t = transport; this.info = Object.freeze(info); }

  /** Same as info: {version, variant: 'mt'|'st', simd, threads, maxThreads, crossOriginIsolated}. */
  get build() { return this.info; }

  /** Resolves the engine's raw response object, error responses included. A string is sent verbatim. */
  requestRaw(request, onEvent) {
    if (this.#closed) return Promise.reject(new TunesmithError({ code: 'closed', message: 'engine is closed' }));
    return this.#t.call(request, onEvent || null);
  }

  /** Resolves a successful response; an error response rejects with TunesmithError. */
  async request(request, onEvent) {
    const res = await this.requestRaw(request, onEvent);
    if (res && res.error) throw new TunesmithError(res.error);
    return res;
  }

  /** opts: {title, style, lines, lang, seed, temperature, ...}; handlers: {onLine, onToken, onEvent}. */
  generateLyrics(opts, { onLine, onToken, onEvent } = {}) {
    const handler = onLine || onToken || onEvent ? (ev) => {
      onEvent?.(ev);
      if (ev.event === 'line') onLine?.(ev);
      else if (ev.event === 'token') onToken?.(ev);
    } : null;
    return this.request(lyricsRequest(opts), handler);
  }

  /** Async iterator: each {event:'line', index, text} as it is written, then {event:'done', response}. */
  async *streamLyrics(opts) {
    const queue = [];
    let wake = null, done = false, response, failure;
    this.generateLyrics(opts, { onLine: (ev) => { queue.push(ev); wake?.(); } })
      .then((r) => { response = r; }, (e) => { failure = e; })
      .finally(() => { done = true; wake?.(); });
    for (;;) {
      if (queue.length) { yield queue.shift(); continue; }
      if (done) break;
      await new Promise((r) => { wake = r; });
      wake = null;
    }
    if (failure) throw failure;
    yield { event: 'done', response };
  }

  /** Frees the engine (ends the worker / the pthread pool, so Node can exit). Idempotent. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    await this.#t.close();
  }
}

/**
 * createEngine({threads?: 'auto'|number, modelBaseUrl?, wasmBaseUrl?, onProgress?, worker?, variant?})
 * modelBaseUrl / wasmBaseUrl: URL or (Node) directory path; default: the package's models/ and dist/wasm/.
 */
export async function createEngine(options = {}) {
  const coi = globalThis.crossOriginIsolated === true;
  const worker = options.worker ?? !isNode;
  const canThread = typeof SharedArrayBuffer === 'function' && (isNode || coi);
  // A page's main thread may not block, so in-page (worker: false) runs the single-thread build.
  const variant = options.variant || (canThread && (isNode || worker) ? 'mt' : 'st');
  const resolved = {
    variant,
    threads: options.threads ?? 'auto',
    wasmBaseUrl: await toBaseUrl(options.wasmBaseUrl, new URL('dist/wasm/', PACKAGE_ROOT)),
    modelBaseUrl: await toBaseUrl(options.modelBaseUrl, new URL('models/', PACKAGE_ROOT)),
    onProgress: options.onProgress,
  };
  const transport = worker ? await workerTransport(resolved) : await localTransport(resolved);
  // The page's isolation is what decides mt vs st, whatever the worker's globals say.
  return new Engine(transport, { ...transport.info, crossOriginIsolated: coi });
}

export default createEngine;

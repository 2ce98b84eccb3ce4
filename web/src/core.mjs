// The one place that owns a wasm Module and its Engine: used in-process by index.mjs (Node, or a
// page with worker:false) and inside worker.mjs (browser Web Worker, Node worker_threads).
// It holds no song logic: requests go to C++ as JSON text and come back as JSON text. The only
// policy here is the generic "model_not_loaded -> fetch models/<name>.json and the files it names ->
// loadResource -> retry" loop, plus recovery after an exception escapes the wasm call.
// Node-only modules are dynamic-imported inside Node branches so browser bundles never pull them.

export const isNode = typeof process === 'object' && typeof process.versions === 'object' &&
  typeof process.versions.node === 'string' && typeof globalThis.WorkerGlobalScope === 'undefined';

// The package's own files. These literal `new URL(template, import.meta.url)` forms are what
// bundlers follow: Vite emits the wasm builds and the models with the app and rewrites the URLs to
// the emitted files; unbundled (Node, a page that serves the package as it is) they are the files
// two directories up. An explicit base (wasmBaseUrl / modelBaseUrl) is used as it is instead.
const packageWasm = (name) => new URL(`../../dist/wasm/${name}`, import.meta.url);
const packageModel = (name) => new URL(`../../models/${name}`, import.meta.url);
/** The URL of file `name` under base (a URL ending in '/'), or the package's own (base null). */
export const wasmFileUrl = (name, base) => (base ? new URL(name, base) : packageWasm(name));
export const modelFileUrl = (name, base) => (base ? new URL(name, base) : packageModel(name));

// A model name comes from C++ and becomes part of a URL or path: allow plain file names only.
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Error object in the engine's own response shape: {error: {code, message, ...extra}}. */
export const errorResponse = (code, message, extra) => ({ error: { code, message, ...extra } });

const describe = (err) => (err && err.message) || (typeof err === 'object' ? String(err.constructor?.name || err) : String(err));

/**
 * The files a manifest names, with their sizes and hashes: a lyrics model's .onnx plus its
 * companions (originality index, word list), the phonetics tables, the sentiment lexicons.
 * Names must be plain file names next to the manifest.
 */
export function manifestFiles(m) {
  const out = [];
  const add = (name, bytes, sha256) => {
    if (typeof name === 'string' && MODEL_FILE.test(name) && !out.some((f) => f.name === name)) out.push({ name, bytes: Number(bytes) || 0, sha256: sha256 || '' });
  };
  if (!m || typeof m !== 'object') return out;
  add(m.file, m.bytes, m.sha256);
  for (const k of ['originality', 'lexicon', 'zh', 'en']) if (m[k] && typeof m[k] === 'object') add(m[k].file, m[k].bytes, m[k].sha256);
  if (Array.isArray(m.files)) for (const f of m.files) add(f?.name ?? f?.file, f?.bytes, f?.sha256);
  return out;
}
const MODEL_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Reads `<name>.json` (manifest text) and every file it names (bytes) under baseUrl: fs for file:
 * URLs (Node), fetch otherwise. onProgress({model, loaded, total}) follows the downloads together;
 * total is the sum of the manifest's `bytes` (Content-Length may be the gzip size). In browsers each
 * file is cached (Cache Storage) under its URL and sha256, so a new version is fetched once and an
 * old one is never used for it. C++ checks every size and hash again.
 */
export async function loadModelFiles(baseUrl, name, onProgress) {
  const jsonUrl = modelFileUrl(`${name}.json`, baseUrl);
  const report = (loaded, total) => { try { onProgress?.({ model: name, loaded, total }); } catch { /* UI bug must not fail loading */ } };
  const parse = (text) => { try { return JSON.parse(text); } catch { return null; } };  // C++ reports a bad manifest
  if (jsonUrl.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    const manifestText = await readFile(jsonUrl, 'utf8');
    const list = manifestFiles(parse(manifestText));
    const files = {};
    let loaded = 0;
    await Promise.all(list.map(async (f) => {
      try {
        const buf = await readFile(modelFileUrl(f.name, baseUrl));
        files[f.name] = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        loaded += buf.byteLength;
      } catch { /* a missing file is reported by C++ with the manifest's view */ }
    }));
    report(loaded, loaded);
    return { manifestText, files };
  }
  const get = async (url) => {
    const res = await fetch(url, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`GET ${url} -> HTTP ${res.status}`);
    return res;
  };
  const manifestText = await (await get(jsonUrl)).text();
  const list = manifestFiles(parse(manifestText));
  const total = list.reduce((t, f) => t + f.bytes, 0);
  const done = new Map();
  const progress = () => report([...done.values()].reduce((a, b) => a + b, 0), total);
  const cache = typeof caches === 'object' ? await caches.open(PAGE_CACHE).catch(() => null) : null;
  const files = {};
  // The files of one model together (a lyrics model is three files): read from a cache, or downloaded side by side.
  await Promise.all(list.map(async (f) => {
    const url = modelFileUrl(f.name, baseUrl);
    const cacheKey = `${url.href}?sha256=${encodeURIComponent(f.sha256)}`;
    const hit = f.sha256 && (await savedCopy(url.href, f.sha256) || (cache && await cache.match(cacheKey).catch(() => null)));
    if (hit) {
      files[f.name] = new Uint8Array(await hit.arrayBuffer());
      done.set(f.name, files[f.name].length);
      progress();
      return;
    }
    let saved = false; // already in the offline app's cache (web/sw.js marks what it serves from there)
    files[f.name] = await download(get, url, f.bytes, (loaded) => { done.set(f.name, loaded); progress(); },
      (res) => { saved = !!f.sha256 && res.headers.get('x-tunesmith-sha256') === f.sha256; });
    if (cache && f.sha256 && !saved) await cache.put(cacheKey, new Response(files[f.name])).catch(() => { /* quota: just don't cache */ });
  }));
  return { manifestText, files };
}

const PAGE_CACHE = 'tunesmith-models-v1';
/**
 * The offline app's saved copy of a file (web/sw.js keeps every file of its build in a Cache Storage
 * cache, marked X-Tunesmith-SHA256), read here directly rather than through the service worker's
 * fetch handler (one copy less); only the version the manifest names. null: none.
 */
async function savedCopy(href, sha256) {
  if (typeof caches !== 'object') return null;
  try {
    const res = await caches.match(href);
    return res && res.headers.get('x-tunesmith-sha256') === sha256 ? res : null;
  } catch { return null; }
}

/** GET with progress reports; resolves the body as a Uint8Array. */
async function download(get, onnxUrl, total, report, onResponse) {
  const res = await get(onnxUrl);
  onResponse?.(res);
  total = total || Number(res.headers.get('content-length')) || 0;
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    report(bytes.length, total || bytes.length);
    return bytes;
  }
  // Stream into one preallocated buffer when the size is known (no 2x peak for a 10 MB model).
  const reader = res.body.getReader();
  let buf = new Uint8Array(total || 1 << 20), loaded = 0;
  report(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, loaded + value.length));
      bigger.set(buf.subarray(0, loaded));
      buf = bigger;
    }
    buf.set(value, loaded);
    loaded += value.length;
    report(loaded, total);
  }
  return loaded === buf.length ? buf : buf.slice(0, loaded);
}

/**
 * Instantiates dist/wasm/tunesmith-<variant>.mjs from wasmBaseUrl (an absolute URL ending in '/';
 * null: the package's own dist/wasm/).
 * Under Node the .wasm is read with fs and passed as wasmBinary (Node 20's fetch cannot load it).
 */
export async function createModule(variant, wasmBaseUrl, poolSize = null) {
  const mjsUrl = wasmFileUrl(`tunesmith-${variant}.mjs`, wasmBaseUrl).href;
  const { default: factory } = await import(/* @vite-ignore */ /* webpackIgnore: true */ mjsUrl);
  // A bundler may inline the small pthread worker script as a data: URL, whose opaque origin could
  // not import the engine under COEP: start it from a blob: URL (this page's origin) instead.
  const located = new Map();
  const workerFile = `tunesmith-${variant}.worker.js`;
  const workerUrl = wasmFileUrl(workerFile, wasmBaseUrl).href;
  if (!isNode && workerUrl.startsWith('data:')) {
    located.set(workerFile, URL.createObjectURL(await (await fetch(workerUrl)).blob()));
  }
  const args = {
    mainScriptUrlOrBlob: mjsUrl, // what each pthread worker imports
    locateFile: (file) => located.get(file) ?? wasmFileUrl(file, wasmBaseUrl).href,
    // Engine diagnostics go to stderr so that stdout stays clean for the CLI's JSON.
    print: (s) => console.error(s),
    printErr: (s) => console.error(s),
  };
  // The threaded build's pthread pool (engine/wasm/pre.js): only the workers the engine will use.
  if (poolSize != null) args.tsPthreadPool = Math.max(0, Math.floor(poolSize));
  if (isNode) {
    const [{ readFile }, { fileURLToPath }, { createRequire }] = await Promise.all(
      [import('node:fs/promises'), import('node:url'), import('node:module')]);
    args.wasmBinary = await readFile(wasmFileUrl(`tunesmith-${variant}.wasm`, wasmBaseUrl));
    args.locateFile = (file) => fileURLToPath(wasmFileUrl(file, wasmBaseUrl)); // worker_threads wants a path
    args.nodeRequire = createRequire(mjsUrl); // for pre.js on Node < 20.16 (no process.getBuiltinModule)
  }
  // Emscripten adds process-wide 'uncaughtException'/'unhandledRejection' handlers under Node (one
  // pair per instance); a library must not change how its host process fails, so drop them again.
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = isNode ? events.map((ev) => new Set(process.listeners(ev))) : null;
  const Module = await factory(args);
  // The pool loads beside the module (PTHREAD_POOL_DELAY_LOAD, so that a pool of 0 workers is
  // possible): wait for its workers here, as the runtime did before, since a thread started on a
  // worker that has not loaded yet would wait for this thread, which then blocks in the engine.
  for (let waited = 0; Module.PThread?.unusedWorkers?.some((w) => !w.loaded) && waited < 60_000; waited += 5) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (isNode) {
    events.forEach((ev, i) => process.listeners(ev).filter((fn) => !before[i].has(fn)).forEach((fn) => process.off(ev, fn)));
  }
  if (isNode && Module.PThread) {
    // Idle pthread workers must not keep a Node process alive when the caller forgets close();
    // calls into wasm are synchronous, so nothing ever awaits these workers from JS.
    const P = Module.PThread;
    const unref = () => [...(P.unusedWorkers || []), ...(P.runningWorkers || [])].forEach((w) => w.unref?.());
    const alloc = P.allocateUnusedWorker;
    P.allocateUnusedWorker = function () { const r = alloc.apply(this, arguments); unref(); return r; };
    unref();
  }
  return Module;
}

const MT_MAX_THREADS = 4; // engine/wasm/bindings.cpp's max_threads for the threaded build

/** Threads to ask for: 'auto' = min(max_threads, cores/2), as ONNX Runtime Web does; 1 for st. */
export function resolveThreads(threads, build, cores) {
  if (!build.threads) return 1;
  const max = build.max_threads || 1;
  const n = threads === 'auto' || threads == null ? Math.floor((cores || 2) / 2) : Math.floor(Number(threads));
  return Math.max(1, Math.min(max, Number.isFinite(n) ? n : 1));
}

async function coreCount() {
  if (isNode) {
    const os = await import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return globalThis.navigator?.hardwareConcurrency || 2;
}

/**
 * An ArrayBuffer, SharedArrayBuffer or ArrayBuffer view (Node Buffer too) as a plain Uint8Array over
 * the same bytes (not a Buffer, whose slice() does not copy); else null.
 */
export function asBytes(data) {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const tag = Object.prototype.toString.call(data);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return new Uint8Array(data);
  return null;
}

// ------------------------------------------------------------------ browsers: activity, warm start
// Activity: while it has requests to run, an engine says so on the BroadcastChannel
// 'tunesmith-engine' ({type: 'busy' | 'idle', id}); the offline app's service worker (web/sw.js)
// holds its precache downloads back meanwhile, so they do not slow the page's first answer down.
// Nothing leaves the browser.
function activityChannel() {
  if (isNode || typeof BroadcastChannel !== 'function') return null;
  try {
    const channel = new BroadcastChannel('tunesmith-engine');
    const id = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
    return { say: (type) => { try { channel.postMessage({ type, id }); } catch { /* closed */ } } };
  } catch { return null; }
}

// Warm start: the models a page's engine loaded are remembered (their names, in Cache Storage next
// to the model cache); the next engine of that origin and model base starts reading them while its
// wasm compiles and loads them before its first request, so a returning visitor's first answer
// does not wait for them. createEngine({warmStart: false}) turns it off.
const RECENT_KEY = (modelBaseUrl) => new URL(`tunesmith-recent-models?base=${encodeURIComponent(modelBaseUrl ? String(modelBaseUrl) : 'package')}`, 'https://tunesmith.invalid/').href;
const RECENT_MAX = 4;
async function recentModels(modelBaseUrl) {
  if (isNode || typeof caches !== 'object') return [];
  try {
    const res = await (await caches.open(PAGE_CACHE)).match(RECENT_KEY(modelBaseUrl));
    const names = res ? await res.json() : [];
    return Array.isArray(names) ? names.filter((n) => typeof n === 'string' && MODEL_NAME.test(n)).slice(0, RECENT_MAX) : [];
  } catch { return []; }
}
async function rememberModels(modelBaseUrl, names) {
  if (isNode || typeof caches !== 'object') return;
  try {
    await (await caches.open(PAGE_CACHE)).put(RECENT_KEY(modelBaseUrl), new Response(JSON.stringify(names.slice(-RECENT_MAX)), { headers: { 'Content-Type': 'application/json' } }));
  } catch { /* no storage: no warm start */ }
}

/** One Module + one Engine; requests are serialized (a wasm call is synchronous anyway). */
export class EngineHost {
  static async create({ variant, wasmBaseUrl, modelBaseUrl, threads = 'auto', onProgress, warmStart = true }) {
    const host = new EngineHost();
    Object.assign(host, { variant, wasmBaseUrl, modelBaseUrl, onProgress, wantThreads: threads });
    // Warm start: the files are read while the wasm compiles, loaded first thing in the queue.
    const warm = warmStart ? recentModels(modelBaseUrl).then((names) => names.map((name) => ({
      name, files: loadModelFiles(modelBaseUrl, name, null).catch(() => null),
    }))) : Promise.resolve([]);
    await host.#start();
    for (const { name, files } of await warm) {
      host.#enqueue(async () => { const f = await files; if (f) await host.loadModel(name, f); }); // a failure: the request that needs it loads it again
    }
    return host;
  }

  #queue = Promise.resolve();
  #broken = false;
  #pending = 0;
  #activity = activityChannel();
  #loaded = [];
  #enqueue(run) {
    if (this.#pending++ === 0) this.#activity?.say('busy');
    const p = this.#queue.then(run);
    this.#queue = p.catch(() => {}).then(() => { if (--this.#pending === 0) this.#activity?.say('idle'); });
    return p;
  }

  async #start() {
    // The threads are known before the module starts (the threaded build's max_threads is 4), so
    // its pthread pool holds just threads - 1 workers: none on 2 cores ('auto' = cores / 2), where
    // the 4 it used to start cost the page's start more than they ever gave back.
    const cores = await coreCount();
    const pool = resolveThreads(this.wantThreads, { threads: this.variant === 'mt', max_threads: MT_MAX_THREADS }, cores) - 1;
    this.Module = await createModule(this.variant, this.wasmBaseUrl, pool);
    const build = this.build = JSON.parse(this.Module.buildInfo());
    this.engine = new this.Module.Engine();
    this.threads = Math.min(resolveThreads(this.wantThreads, build, cores), pool + 1);
    if (build.threads) this.engine.setThreads(this.threads);
    this.info = {
      version: build.version, variant: this.variant, simd: !!build.simd, threads: this.threads,
      maxThreads: build.max_threads || 1,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
    };
  }

  // After an exception escaped wasm the Engine may be half-updated: replace it (models reload
  // lazily through the retry below); if the Module itself aborted, re-instantiate it.
  async #recover() {
    this.#broken = false;
    try { this.engine.delete(); } catch { /* already unusable */ }
    try {
      this.engine = new this.Module.Engine();
      if (this.build.threads) this.engine.setThreads(this.threads);
    } catch {
      this.#terminate();
      await this.#start();
    }
  }

  #terminate() {
    try { this.Module?.PThread?.terminateAllThreads(); } catch { /* best effort */ }
  }

  // One synchronous call into C++; never throws. data: a Uint8Array or null.
  #call(text, onEvent, data) {
    let userError = null;
    const cb = onEvent && ((s) => {
      if (userError) return;
      try { onEvent(JSON.parse(s)); } catch (err) { userError = err; } // never unwind through wasm
    });
    let raw;
    try {
      if (data == null) raw = this.engine.request(text, cb || null);
      else if (typeof this.engine.requestData !== 'function') return errorResponse('internal', 'this wasm build cannot take request data (rebuild dist/wasm)');
      else raw = this.engine.requestData(text, cb || null, data);
    } catch (err) {
      this.#broken = true;
      return errorResponse('internal', `engine crashed: ${describe(err)}`);
    }
    if (userError) throw userError;
    try { return JSON.parse(raw); } catch { return errorResponse('internal', 'engine returned invalid JSON'); }
  }

  /** Loads a model's files into the engine (files: already read by loadModelFiles, or null: read them now). */
  async loadModel(name, files = null) {
    if (!MODEL_NAME.test(name)) return errorResponse('model_not_found', `bad model name ${JSON.stringify(name)}`, { model: name });
    if (!files) {
      try {
        files = await loadModelFiles(this.modelBaseUrl, name, this.onProgress);
      } catch (err) {
        return errorResponse('model_not_found', `cannot load model ${name}: ${describe(err)}`, { model: name });
      }
    }
    try {
      if (typeof this.engine.loadResource === 'function') {
        const res = JSON.parse(this.engine.loadResource(files.manifestText, files.files));
        if (!res?.error && !isNode && !this.#loaded.includes(name)) {
          this.#loaded.push(name);
          rememberModels(this.modelBaseUrl, this.#loaded);
        }
        return res;
      }
      const primary = Object.values(files.files)[0] ?? new Uint8Array(0);  // engines without loadResource
      return JSON.parse(this.engine.loadModel(files.manifestText, primary));
    } catch (err) {
      this.#broken = true;
      return errorResponse('internal', `loadModel crashed: ${describe(err)}`, { model: name });
    }
  }

  /**
   * request: object or raw JSON text; onEvent(eventObject); data: the bytes the task reads beside
   * its JSON (analyze_audio), an ArrayBuffer or a view, or null. Resolves the raw response object.
   */
  request(request, onEvent, data) {
    const run = async () => {
      if (this.#broken) await this.#recover();
      const text = typeof request === 'string' ? request : JSON.stringify(request);
      const bytes = data == null ? null : asBytes(data);
      if (data != null && !bytes) return errorResponse('bad_request', 'request data must be an ArrayBuffer or a typed array');
      let res = this.#call(text, onEvent, bytes);
      // A request may need several resources (phonetics, a model, sentiment): load each once.
      const tried = new Set();
      for (;;) {
        const missing = res?.error?.code === 'model_not_loaded' && res.error.model;
        if (!missing || tried.has(missing) || tried.size >= 8) return res;
        tried.add(missing);
        const loaded = await this.loadModel(missing);
        if (loaded?.error) return loaded;
        res = this.#call(text, onEvent, bytes);
      }
    };
    return this.#enqueue(run);
  }

  close() {
    try { this.engine?.delete(); } catch { /* ignore */ }
    this.engine = null;
    this.#terminate(); // ends the pthread pool so Node can exit
  }
}

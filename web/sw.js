// tunesmith's service worker (registered by pwa.mjs with the app's directory as its scope).
//
// Offline: on install it saves the app shell, both wasm builds and the default models in one
// Cache Storage cache named after a build id (the sha256 of every saved file's URL and sha256), and
// serves them cache-first; the page itself (HTML) is network-first. Model files are checked against
// their manifests' sha256 (SubtleCrypto) before they are saved, and a mismatch is refused. Each
// visit asks it to check for a new build (revalidated requests, so unchanged files cost a 304); a
// new build is filled beside the old one (unchanged models are copied, not downloaded again), then
// becomes current at once, and the old cache is deleted: a new model version replaces the old one
// cleanly and a half-downloaded update is never used.
//
// Cross-origin isolation on hosts that cannot set headers: every response it serves gets
// COOP/COEP/CORP (the "coi-serviceworker" technique), so a page it controls is cross-origin isolated
// (SharedArrayBuffer -> the threaded build) from its next load.
//
// It makes requests only to its own origin, and none while the page generates or analyses (those
// are served from the cache).
//
// First visit: the model downloads wait for the page's first request. The engine (web/src/core.mjs)
// says on the BroadcastChannel 'tunesmith-engine' when it is busy (a request, with any model
// download it needs) and idle again; on a first install the worker saves the shell at once, then
// fetches the wasm builds and the models only after an engine has finished a request (the first
// lyrics are on the page) or after FIRST_VISIT_GRACE_MS without one, and it never starts a model
// file while an engine is busy or within QUIET_MS of its last request. So the page's own downloads
// (the one model it needs) do not share the line with 30 MB of precache; the files the page
// already fetched are revalidated (a 304 from the server, the body from the HTTP cache), not
// downloaded again.
'use strict';

const SCOPE = new URL(self.registration.scope);
const ROOT = new URL('../', SCOPE);              // the app is <root>/web/, the builds <root>/dist/wasm/
const PREFIX = 'tunesmith-build-';
const META = 'tunesmith-meta';
const MODEL_CACHE_OF_PAGE = 'tunesmith-models-v1'; // core.mjs's own model cache (pruned here)

const SHELL = ['./', 'style.css', 'app.mjs', 'melody.mjs', 'listen.mjs', 'library.mjs', 'pwa.mjs', 'dom.mjs', 'i18n.mjs',
  'src/index.mjs', 'src/core.mjs', 'src/worker.mjs', 'manifest.webmanifest',
  'icons/icon.svg', 'icons/icon-192.png', 'icons/icon-512.png', 'icons/icon-maskable-512.png',
  '../node_modules/abcjs/dist/abcjs-basic-min.js'].map((p) => new URL(p, SCOPE).href);
const WASM = ['tunesmith-st.mjs', 'tunesmith-st.wasm', 'tunesmith-mt.mjs', 'tunesmith-mt.wasm', 'tunesmith-mt.worker.js']
  .map((f) => new URL(`dist/wasm/${f}`, ROOT).href);
const MODELS_URL = new URL('models/', ROOT);
const MODELS = ['lyrics-zh', 'lyrics-en', 'melody', 'listen', 'phonetics', 'sentiment'];

// ---------------------------------------------------------------------- the engines' activity
const FIRST_VISIT_GRACE_MS = 10_000; // a first visit that never generates still gets saved after this
const BUSY_STALE_MS = 60_000;        // a busy engine that went away (tab closed) stops counting
const QUIET_MS = 2_000;               // how long the engines must have been idle before a model download starts
const busy = new Map();              // engine id -> since when it is busy
let engineDone = false;              // some engine has finished a request since this worker started
let lastActivity = 0;                // when an engine last said busy or idle
let wake = null;
try {
  const channel = new BroadcastChannel('tunesmith-engine');
  channel.onmessage = (e) => {
    const m = e.data;
    if (!m || typeof m.id !== 'string') return;
    if (m.type === 'busy') busy.set(m.id, Date.now());
    else if (m.type === 'idle') { busy.delete(m.id); engineDone = true; }
    else return;
    lastActivity = Date.now();
    wake?.();
  };
} catch { /* no BroadcastChannel: nothing waits */ }
const engineBusy = () => {
  for (const [id, since] of busy) if (Date.now() - since > BUSY_STALE_MS) busy.delete(id);
  return busy.size > 0;
};
/**
 * Resolves when no engine is busy or has been for QUIET_MS (a page that starts with a small request,
 * then sends the one that needs a big model, keeps the line), and on a first visit (firstVisit) once
 * one has finished a request or FIRST_VISIT_GRACE_MS are over.
 */
async function quiet(firstVisit, since) {
  for (;;) {
    const graceOver = !firstVisit || engineDone || Date.now() - since >= FIRST_VISIT_GRACE_MS;
    if (graceOver && !engineBusy() && Date.now() - lastActivity >= QUIET_MS) return;
    await new Promise((r) => { wake = r; setTimeout(r, 250); });
    wake = null;
  }
}

const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The files a model manifest names (the same rule as core.mjs's manifestFiles). */
function manifestFiles(m) {
  const out = [];
  const add = (name, bytes, sha256) => {
    if (typeof name === 'string' && FILE.test(name) && !out.some((f) => f.name === name)) out.push({ name, bytes: Number(bytes) || 0, sha256: sha256 || '' });
  };
  if (!m || typeof m !== 'object') return out;
  add(m.file, m.bytes, m.sha256);
  for (const k of ['originality', 'lexicon', 'zh', 'en']) if (m[k] && typeof m[k] === 'object') add(m[k].file, m[k].bytes, m[k].sha256);
  if (Array.isArray(m.files)) for (const f of m.files) add(f?.name ?? f?.file, f?.bytes, f?.sha256);
  return out;
}

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
const sha256 = async (data) => hex(await crypto.subtle.digest('SHA-256', data));

// ------------------------------------------------------------------------------ progress to pages
async function tell(msg) {
  const all = await self.clients.matchAll({ includeUncontrolled: true, type: 'window' });
  for (const c of all) c.postMessage({ source: 'tunesmith-sw', ...msg });
}
let lastTold = 0;
function progress(state) {
  const now = Date.now();
  if (state.loaded < state.total && now - lastTold < 100) return;
  lastTold = now;
  tell({ type: 'progress', phase: state.phase, loaded: state.loaded, total: state.total, unit: 'bytes', file: state.file });
}

// ------------------------------------------------------------------------------------- the build
async function current() {
  const meta = await caches.open(META);
  const res = await meta.match('current');
  return res ? res.json() : null;
}

async function get(url) {
  // 'no-cache': revalidate with the server (a 304 when unchanged), never a stale HTTP-cache copy
  const res = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
  if (!res.ok) throw new Error(`GET ${url} -> HTTP ${res.status}`);
  return res;
}

/** Reads a body with progress; resolves an ArrayBuffer. */
async function readBody(res, onBytes) {
  if (!res.body) { const b = await res.arrayBuffer(); onBytes(b.byteLength); return b; }
  const reader = res.body.getReader();
  const parts = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value); n += value.length; onBytes(value.length);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out.buffer;
}

const typeOf = (url) => (/\.wasm$/.test(url) ? 'application/wasm' : /\.m?js$/.test(url) ? 'text/javascript; charset=utf-8'
  : /\.json$/.test(url) ? 'application/json; charset=utf-8' : /\.css$/.test(url) ? 'text/css; charset=utf-8'
    : /\/$|\.html$/.test(url) ? 'text/html; charset=utf-8' : /\.svg$/.test(url) ? 'image/svg+xml'
      : /\.png$/.test(url) ? 'image/png' : /\.webmanifest$/.test(url) ? 'application/manifest+json' : 'application/octet-stream');
// Saved with the headers isolated() would add, so that a hit is served as the cache's own Response:
// Chromium then keeps V8's compiled code for a .wasm beside it (a warm visit skips compiling).
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };
const stored = (body, url, hash) => new Response(body, { headers: { 'Content-Type': typeOf(url), 'X-Tunesmith-SHA256': hash, 'Content-Length': String(body.byteLength), ...ISOLATION } });

/**
 * Checks for a new build and, if there is one, saves it and makes it current. Resolves the current
 * build's record {id, cache, bytes, files}. One at a time.
 */
let updating = null;
function update() {
  updating ??= doUpdate().finally(() => { updating = null; });
  return updating;
}

async function doUpdate() {
  const started = Date.now();
  const before = await current();
  // 1. The small files (shell, wasm, model manifests) are read in full and hashed; the manifests
  //    give the big model files' hashes.
  const small = new Map(); // url -> {body, hash}
  const models = [];       // {url, sha256, bytes}
  const appFiles = [...SHELL, ...WASM];
  let got = 0;
  const wasm = new Set(WASM);
  await Promise.all(appFiles.map(async (url) => {
    // First install: the page is loading one of the wasm builds itself; both are fetched once it is
    // quiet (the one it loaded then costs a 304), so the other build never competes with it.
    if (!before && wasm.has(url)) await quiet(true, started);
    const body = await (await get(url)).arrayBuffer();
    small.set(url, { body, hash: await sha256(body) });
    got += 1; // shown on the first install only: a later check is quiet unless it finds a new build
    if (!before) tell({ type: 'progress', phase: 'app', loaded: got, total: appFiles.length, unit: 'files', file: url.slice(ROOT.href.length) });
  }));
  await Promise.all(MODELS.map(async (name) => {
    const url = new URL(`${name}.json`, MODELS_URL).href;
    const res = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
    if (res.status === 404) return; // a site without this model: the rest still works offline
    if (!res.ok) throw new Error(`GET ${url} -> HTTP ${res.status}`);
    const body = await res.arrayBuffer();
    small.set(url, { body, hash: await sha256(body) });
    for (const f of manifestFiles(JSON.parse(new TextDecoder().decode(body)))) {
      if (!/^[0-9a-f]{64}$/.test(f.sha256)) throw new Error(`${name}.json: no sha256 for ${f.name}`);
      models.push({ url: new URL(f.name, MODELS_URL).href, sha256: f.sha256, bytes: f.bytes });
    }
  }));
  const lines = [...[...small].map(([u, f]) => `${u} ${f.hash}`), ...models.map((m) => `${m.url} ${m.sha256}`)].sort();
  const id = (await sha256(new TextEncoder().encode(lines.join('\n')))).slice(0, 16);
  const bytes = [...small.values()].reduce((t, f) => t + f.body.byteLength, 0) + models.reduce((t, m) => t + m.bytes, 0);
  if (before?.id === id && await caches.has(before.cache)) {
    await prunePageCache(models);
    tell({ type: 'ready', id, bytes: before.bytes, fresh: false });
    return before;
  }

  // 2. Fill the new build's cache: small files as read, model files from an older build when their
  //    hash matches, else downloaded and checked.
  const name = PREFIX + id;
  try {
    return await fill(name, id, bytes, small, models, before, started);
  } catch (err) {
    await caches.delete(name); // never left half-filled; the current build stays as it was
    throw err;
  }
}

async function fill(name, id, bytes, small, models, before, started) {
  const state = { loaded: 0, total: 0, file: '' };
  const cache = await caches.open(name);
  for (const [url, f] of small) await cache.put(url, stored(f.body, url, f.hash));
  const old = before && await caches.has(before.cache) ? await caches.open(before.cache) : null;
  const todo = [];
  for (const m of models) {
    const have = await cache.match(m.url) || await old?.match(m.url);
    if (have && have.headers.get('X-Tunesmith-SHA256') === m.sha256) {
      if (!(await cache.match(m.url))) await cache.put(m.url, have);
    } else todo.push(m);
  }
  state.total = todo.reduce((t, m) => t + m.bytes, 0);
  state.phase = 'models';
  for (const m of todo) {  // one at a time: steady progress, bounded memory
    await quiet(!before, started); // never in the way of a page that is loading or generating
    state.file = m.url.slice(MODELS_URL.href.length);
    const body = await readBody(await get(m.url), (n) => { state.loaded += n; progress(state); });
    const hash = await sha256(body);
    if (hash !== m.sha256) throw new Error(`${m.url}: sha256 ${hash} does not match its manifest (${m.sha256}); not saved`);
    await cache.put(m.url, stored(body, m.url, hash));
  }
  state.loaded = state.total; progress(state);

  // 3. Switch, then delete what belongs to older builds.
  const record = { id, cache: name, bytes, files: small.size + models.length, saved: new Date().toISOString() };
  await (await caches.open(META)).put('current', new Response(JSON.stringify(record), { headers: { 'Content-Type': 'application/json' } }));
  currentCache = null;
  for (const key of await caches.keys()) if (key.startsWith(PREFIX) && key !== name) await caches.delete(key);
  await prunePageCache(models);
  tell({ type: 'ready', id, bytes, fresh: true });
  return record;
}

// core.mjs keeps models under '<url>?sha256=<hash>' when no service worker serves them (a page not
// yet controlled on its first visit): drop its copies of what this build holds, any version.
async function prunePageCache(models) {
  if (!(await caches.has(MODEL_CACHE_OF_PAGE))) return;
  const pageCache = await caches.open(MODEL_CACHE_OF_PAGE);
  const mine = new Set(models.map((m) => m.url));
  for (const req of await pageCache.keys()) if (mine.has(keyOf(req.url))) await pageCache.delete(req);
}

// --------------------------------------------------------------------------------- lifecycle
self.addEventListener('install', (e) => {
  e.waitUntil(update().then(() => self.skipWaiting(), (err) => { tell({ type: 'error', message: String(err?.message || err) }); throw err; }));
});
self.addEventListener('activate', (e) => { e.waitUntil(self.clients.claim()); });
self.addEventListener('message', (e) => {
  if (e.data?.type === 'check') {
    e.waitUntil(update().catch((err) => tell({ type: 'error', message: String(err?.message || err), offline: !self.navigator.onLine })));
  }
});

// ------------------------------------------------------------------------------------ fetching
let currentCache = null;
async function buildCache() {
  if (!currentCache) {
    const c = await current();
    currentCache = c && await caches.has(c.cache) ? caches.open(c.cache) : null;
  }
  return currentCache;
}

/**
 * The response again, with the headers that make a page it controls cross-origin isolated. A saved
 * model file keeps X-Tunesmith-SHA256: core.mjs then does not keep a second copy in its own cache.
 */
function isolated(res) {
  if (!res || res.type === 'opaque' || res.type === 'opaqueredirect' || res.status === 0) return res;
  if (Object.entries(ISOLATION).every(([k, v]) => res.headers.get(k) === v)) return res; // as saved
  const headers = new Headers(res.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

const keyOf = (url) => { const u = new URL(url); u.search = ''; u.hash = ''; return u.href; };

async function fromCache(url) {
  const cache = await buildCache();
  return cache ? cache.match(keyOf(url)) : undefined;
}

async function networkFirst(req) {
  try {
    const res = await fetch(req);
    if (res.ok || !(await fromCache(SCOPE.href))) return isolated(res);
  } catch { /* offline */ }
  const page = await fromCache(SCOPE.href);
  return page ? isolated(page) : Response.error();
}

async function cacheFirst(req) {
  const hit = await fromCache(req.url);
  if (hit) return isolated(hit);
  return isolated(await fetch(req));
}

// A page this worker controls loads the wasm builds from <scope>wasm/ (app.mjs), which stands for
// <root>/dist/wasm/: the threaded build's pthread workers are then inside the scope, so they are
// served here too (from the cache, with COEP), not from the network.
const WASM_ALIAS = `${SCOPE.pathname}wasm/`;
async function wasmAlias(req, file) {
  const real = new URL(`dist/wasm/${file}`, ROOT).href;
  const hit = await fromCache(real);
  return isolated(hit || await fetch(real, { credentials: 'same-origin' }));
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.cache === 'only-if-cached' && req.mode !== 'same-origin') return;
  if (url.pathname.startsWith(WASM_ALIAS)) {
    const file = url.pathname.slice(WASM_ALIAS.length);
    if (FILE.test(file)) return e.respondWith(wasmAlias(req, file));
  }
  const page = req.mode === 'navigate' && (url.pathname === SCOPE.pathname || url.pathname === `${SCOPE.pathname}index.html`);
  e.respondWith(page ? networkFirst(req) : cacheFirst(req));
});

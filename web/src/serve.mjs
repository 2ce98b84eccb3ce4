// HTTP mode (`tunesmith serve`, README "HTTP mode"): a thin adapter from HTTP to the engine's one
// JSON request entry point. Node only; index.mjs never imports this file (browser bundles stay clean).
//
//   POST /generate_lyrics        JSON or application/x-www-form-urlencoded: song_title, song_style,
//                                lyrics_length (number or numeric string), ... -> the engine's
//                                response, whose `lyrics` is the lines joined by newlines
//   POST /<task>                 every task the engine lists ({"task":"info"}); JSON or form body
//   POST /analyze_audio          the audio file's bytes as the body (audio/wav, application/octet-stream);
//                                its options in the query string (?pictures=false&name=x.wav)
//   POST /request                the engine's JSON request as it is, task included
//   GET  /health, GET /info
//
// Every answer is JSON (Content-Type: application/json; charset=utf-8); errors are the engine's
// {"error": {"code", "message", ...}} with a 4xx/5xx status. Requests run on a pool of engines,
// each in its own worker thread (a wasm call blocks its thread), behind a bounded queue; the
// adapter checks only transport matters (sizes, media types, routes) and leaves every field to C++.
import http from 'node:http';
import os from 'node:os';
import { createEngine, TunesmithError, AUDIO_CHUNK_BYTES } from './index.mjs';

export const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8787,
  workers: Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length)),
  queue: 64,                           // requests waiting for an engine; beyond: 503 + Retry-After
  timeoutMs: 120_000,                  // per request, from arrival to answer; beyond: 504
  maxBodyBytes: 1 << 20,               // JSON / form bodies; beyond: 413
  maxAudioBytes: 200 * (1 << 20),      // analyze_audio bodies (WAV bytes); beyond: 413
  maxConnections: 256,                 // open sockets (bounds what bodies being read can hold)
  retryAfterS: 5,
});
export const MAX_WORKERS = 16;
const LINGER_MS = 10_000;

// Engine error code -> HTTP status. Anything else (internal, worker_failed, ...) is 500.
const STATUS = {
  bad_request: 400, missing_field: 400, invalid_field: 400, unknown_field: 400, unknown_task: 400,
  invalid_audio: 400, invalid_state: 400, forbidden_origin: 403, forbidden_host: 403, not_found: 404,
  method_not_allowed: 405, payload_too_large: 413, unsupported_media_type: 415,
  model_not_loaded: 503, model_not_found: 503, model_invalid: 503, too_many_sessions: 503,
  out_of_memory: 503, overloaded: 503, shutting_down: 503, timeout: 504,
};
export const statusFor = (code) => STATUS[code] ?? 500;

// Form fields and query parameters are text: these become numbers / booleans when they read as one
// (anything else goes to C++ as it is, which says what is wrong). JSON bodies only get the numeric
// strings of the classic form (lyrics_length: "8").
const NUMBER_FIELDS = new Set(['lyrics_length', 'seed', 'temperature', 'top_k', 'top_p', 'repetition_penalty', 'count',
  'line', 'locked', 'syllables', 'bars', 'tempo', 'range', 'from', 'to', 'semitones', 'segment_seconds', 'max_beats',
  'sample_rate', 'channels']);
const BOOL_FIELDS = new Set(['originality', 'pictures', 'features', 'classify', 'chromatic', 'melisma']);
const LIST_FIELDS = new Set(['keywords', 'avoid', 'locked']);
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
// analyze_audio session fields: over HTTP the body is the whole file (the server streams it to
// the engine in pieces itself).
const SESSION_FIELDS = ['session', 'final', 'cancel'];

const trimText = (s) => s.replace(/^[ \t]+|[ \t]+$/g, '');
const toNumber = (v) => (typeof v === 'string' && NUMBER.test(trimText(v)) ? Number(trimText(v)) : v);

class HttpError extends Error {
  constructor(status, code, message, { headers, ...extra } = {}) {
    super(message);
    Object.assign(this, { status, code, extra, headers });
  }
  get body() { return { error: { code: this.code, message: this.message, ...this.extra } }; }
}

/** Text fields (form or query) -> request fields: repeated names -> arrays, numbers and booleans typed. */
function fieldsFromParams(params) {
  const out = {};
  for (const name of new Set(params.keys())) {
    const all = params.getAll(name);
    let v = all.length > 1 || LIST_FIELDS.has(name) ? all : all[0];
    if (NUMBER_FIELDS.has(name)) v = Array.isArray(v) ? v.map(toNumber) : toNumber(v);
    else if (BOOL_FIELDS.has(name) && (v === 'true' || v === 'false')) v = v === 'true';
    out[name] = v;
  }
  return out;
}

const mediaType = (req) => String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
const isJsonType = (t) => t === '' || t === 'application/json' || t === 'text/json' || t === 'text/plain' || t.endsWith('+json');
const isAudioType = (t) => t === '' || t === 'application/octet-stream' || t.startsWith('audio/');

function tooLarge(limit, what) {
  return new HttpError(413, 'payload_too_large', `${what} is larger than ${limit} bytes`, { limit });
}

/** The body as a Buffer, at most `limit` bytes (413 beyond, from Content-Length when it says so). */
function readBody(req, limit) {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit, 'the request body'));
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const onData = (c) => {
      size += c.length;
      if (size <= limit) return chunks.push(c);
      req.off('data', onData);
      chunks.length = 0;
      req.resume(); // the rest is dropped (see linger)
      reject(tooLarge(limit, 'the request body'));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

const unreadBody = (req) => !req.complete && (Number(req.headers['content-length']) > 0 || req.headers['transfer-encoding'] !== undefined);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A task route's body (JSON object or form) as request fields. */
function parseFields(body, type) {
  let text;
  try { text = utf8.decode(body); } catch { throw new HttpError(400, 'bad_request', 'the request body is not valid UTF-8'); }
  if (type === 'application/x-www-form-urlencoded') return fieldsFromParams(new URLSearchParams(text));
  if (!text.trim()) return {};
  let obj;
  try { obj = JSON.parse(text); } catch { throw new HttpError(400, 'bad_request', 'the request is not valid JSON'); }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new HttpError(400, 'bad_request', 'the request must be a JSON object');
  for (const k of NUMBER_FIELDS) if (typeof obj[k] === 'string') obj[k] = toNumber(obj[k]);
  return obj;
}

const isLoopback = (host) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
const hostOf = (hostHeader) => {
  const h = String(hostHeader || '');
  const m = /^\[([^\]]*)\](?::\d+)?$/.exec(h) || /^([^:]*)(?::\d+)?$/.exec(h);
  return m ? m[1].toLowerCase() : '';
};

// ------------------------------------------------------------------------------------- pool

/** N engines (each in a worker thread), one request at a time each, and a bounded FIFO queue. */
class EnginePool {
  constructor({ size, maxQueue, create, log }) {
    Object.assign(this, { size, maxQueue, create, log });
    this.slots = [];
    this.free = [];
    this.waiters = [];
    this.closed = false;
  }

  async start() {
    const made = await Promise.allSettled(Array.from({ length: this.size }, () => this.create()));
    const bad = made.find((m) => m.status === 'rejected');
    if (bad) {
      await Promise.all(made.filter((m) => m.status === 'fulfilled').map((m) => m.value.close().catch(() => {})));
      throw bad.reason;
    }
    this.slots = made.map((m, id) => ({ id, engine: m.value, busy: false }));
    this.free = [...this.slots];
  }

  get busy() { return this.slots.filter((s) => s.busy).length; }
  get ready() { return this.slots.filter((s) => s.engine).length; }
  get waiting() { return this.waiters.length; }
  /** No engine free and the queue full: a new request would get 503. */
  get full() { return this.free.length === 0 && this.waiters.length >= this.maxQueue; }

  /** -> {promise (resolves a slot), cancel()}. */
  acquire() {
    if (this.closed) return { promise: Promise.reject(new HttpError(503, 'shutting_down', 'the server is shutting down')), cancel() {} };
    const slot = this.free.shift();
    if (slot) { slot.busy = true; return { promise: Promise.resolve(slot), cancel() {} }; }
    if (this.waiters.length >= this.maxQueue) return { promise: Promise.reject(this.overloaded()), cancel() {} };
    let waiter;
    const promise = new Promise((resolve, reject) => { waiter = { resolve, reject }; this.waiters.push(waiter); });
    return { promise, cancel: () => { const i = this.waiters.indexOf(waiter); if (i >= 0) this.waiters.splice(i, 1); } };
  }

  overloaded() {
    return new HttpError(503, 'overloaded', `all ${this.size} engines are busy and ${this.maxQueue} requests are waiting: try again later`,
      { headers: { 'Retry-After': String(DEFAULTS.retryAfterS) } });
  }

  release(slot) {
    const next = this.waiters.shift();
    if (next) { slot.busy = true; next.resolve(slot); return; }
    slot.busy = false;
    this.free.push(slot);
  }

  /** The slot's engine is stuck (timeout) or dead: close it, start a new one, then free the slot. */
  async replace(slot, why) {
    const old = slot.engine;
    slot.engine = null;
    old?.close().catch(() => {});
    this.log(`engine ${slot.id} restarted (${why})`);
    for (let delay = 500; !this.closed; delay = Math.min(delay * 2, 30_000)) {
      try {
        const engine = await this.create();
        if (this.closed) { await engine.close().catch(() => {}); return; }
        slot.engine = engine;
        this.release(slot);
        return;
      } catch (err) {
        this.log(`engine ${slot.id} failed to start: ${err?.message || err}; retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  async close() {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new HttpError(503, 'shutting_down', 'the server is shutting down'));
    await Promise.all(this.slots.map((s) => s.engine?.close().catch(() => {})));
  }
}

// ----------------------------------------------------------------------------------- server

function intOption(name, v, lo, hi) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new RangeError(`${name} must be an integer ${lo}..${hi}, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * createServer({host, port, workers, threads, queue, timeoutMs, maxBodyBytes, maxAudioBytes, cors,
 * modelBaseUrl, wasmBaseUrl, log}) -> a server whose engines are started, not yet listening:
 * {listen() -> {host, port, url}, close() (graceful), closed (a promise), stats(), server (node:http)}.
 * threads: per engine ('auto': the cores shared out among the workers). cors: an origin (or '*')
 * whose pages may call the server; without it, requests carrying an Origin header are refused.
 */
export async function createServer(options = {}) {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const workers = intOption('workers', o.workers, 1, MAX_WORKERS);
  const port = intOption('port', o.port, 0, 65535);
  const maxQueue = intOption('queue', o.queue, 0, 100_000);
  const timeoutMs = intOption('timeoutMs', o.timeoutMs, 1, 24 * 3600_000);
  const maxBodyBytes = intOption('maxBodyBytes', o.maxBodyBytes, 1, 2 ** 31);
  const maxAudioBytes = intOption('maxAudioBytes', o.maxAudioBytes, 1, 2 ** 40);
  const host = String(o.host);
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const threads = o.threads == null || o.threads === 'auto' ? Math.max(1, Math.floor(cores / workers)) : intOption('threads', o.threads, 1, 64);
  const log = o.log ?? ((s) => process.stderr.write(`tunesmith serve: ${s}\n`));
  const cors = o.cors ? String(o.cors) : null;

  // One thread per engine: the single-thread build (no pthread pool to hold); more: the threaded one.
  const variant = o.variant ?? (threads > 1 ? 'mt' : 'st');
  const pool = new EnginePool({
    size: workers, maxQueue, log,
    create: () => createEngine({ worker: true, variant, threads, modelBaseUrl: o.modelBaseUrl, wasmBaseUrl: o.wasmBaseUrl }),
  });
  await pool.start();
  let tasks;
  try {
    const info = await pool.slots[0].engine.request({ task: 'info' });
    tasks = new Set(info.tasks);
  } catch (err) {
    await pool.close();
    throw err;
  }

  const counts = { requests: 0, ok: 0, client_errors: 0, server_errors: 0 };
  let inflight = 0, shuttingDown = false, sessionCounter = 0;
  let drained = null; // resolves when inflight reaches 0 during shutdown
  const started = Date.now();

  const corsHeaders = (req) => (cors && req.headers.origin ? { 'Access-Control-Allow-Origin': cors === '*' ? '*' : cors, Vary: 'Origin' } : {});

  function send(req, res, status, body, headers = {}) {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    if (status >= 500) counts.server_errors++;
    else if (status >= 400) counts.client_errors++;
    else counts.ok++;
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...(shuttingDown ? { Connection: 'close' } : {}),
      ...corsHeaders(req),
      ...headers,
    });
    res.end(text);
    if (unreadBody(req)) linger(req);
  }

  // Answered before its body was read (413, 415, 404, an engine error mid-upload...): closing the
  // socket now would reset it under a client still sending, which then never sees the answer. The
  // rest of the body is read and dropped (no memory kept) for up to LINGER_MS, then the socket closes.
  function linger(req) {
    const t = setTimeout(() => req.socket?.destroy(), LINGER_MS);
    t.unref();
    req.once('end', () => clearTimeout(t));
    req.once('close', () => clearTimeout(t));
    req.resume();
  }

  const sendError = (req, res, err) => {
    if (err instanceof HttpError) return send(req, res, err.status, err.body, err.headers);
    const error = err instanceof TunesmithError ? err.error : { code: 'internal', message: String(err?.message || err) };
    send(req, res, statusFor(error?.code), { error });
  };

  function health() {
    return {
      ok: !shuttingDown && pool.ready > 0,
      status: shuttingDown ? 'shutting_down' : 'ok',
      workers: { total: pool.size, ready: pool.ready, busy: pool.busy, threads_each: threads, variant },
      queue: { waiting: pool.waiting, max: maxQueue },
      requests: { ...counts, in_flight: inflight },
      limits: { body_bytes: maxBodyBytes, audio_bytes: maxAudioBytes, timeout_s: timeoutMs / 1000 },
      memory: { rss_bytes: process.memoryUsage.rss() },
      uptime_s: Math.round((Date.now() - started) / 1000),
    };
  }

  /** Runs fn(engine) on a pooled engine under the request's deadline; a stuck or dead engine is replaced. */
  async function onEngine(ctx, fn) {
    const ticket = pool.acquire();
    let slot;
    try {
      slot = await Promise.race([ticket.promise, ctx.deadline]);
    } catch (err) {
      ticket.cancel();
      ticket.promise.then((s) => pool.release(s), () => {}); // handed a slot after all: give it back
      throw err;
    }
    const work = fn(slot.engine);
    try {
      const res = await Promise.race([work, ctx.deadline]);
      pool.release(slot);
      return res;
    } catch (err) {
      if (err instanceof HttpError && err.code === 'timeout') {
        work.catch(() => {}); // the engine is closed: its call fails, unheard
        pool.replace(slot, 'a request ran past the timeout');
      } else { // the client went away or the work failed: the slot is free once the work has ended
        const dead = (e) => e instanceof TunesmithError && (e.code === 'worker_failed' || e.code === 'closed');
        work.then(() => pool.release(slot), (e) => (dead(e) ? pool.replace(slot, e.message) : pool.release(slot)));
      }
      throw err;
    }
  }

  /** analyze_audio: the body goes to the engine in AUDIO_CHUNK_BYTES pieces over a session, as it arrives. */
  async function analyzeStream(engine, req, fields) {
    let parts = [], have = 0, total = 0, session = null;
    const take = (n) => { // the first n buffered bytes as one fresh Uint8Array
      const out = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const p = parts[0], k = Math.min(p.length, n - at);
        out.set(p.subarray(0, k), at);
        at += k;
        if (k === p.length) parts.shift(); else parts[0] = p.subarray(k);
      }
      have -= n;
      return out;
    };
    const feed = (bytes, final) => {
      if (!session && final) return engine.requestRaw({ task: 'analyze_audio', ...fields }, null, bytes, { transfer: true });
      const first = !session;
      session ??= `http-${++sessionCounter}`;
      const r = first ? { task: 'analyze_audio', ...fields, session, final } : { task: 'analyze_audio', session, final };
      return engine.requestRaw(r, null, bytes, { transfer: true });
    };
    // Stopping early must not destroy the socket: the answer still has to go out on it.
    const body = req.iterator({ destroyOnReturn: false });
    try {
      for await (const chunk of body) {
        total += chunk.length;
        if (total > maxAudioBytes) throw tooLarge(maxAudioBytes, 'the audio');
        parts.push(chunk);
        have += chunk.length;
        while (have > AUDIO_CHUNK_BYTES) { // strictly more: the final piece is never empty
          const res = await feed(take(AUDIO_CHUNK_BYTES), false);
          if (res?.error) { session = null; return res; } // the engine has ended the session
        }
      }
      const res = await feed(take(have), true);
      session = null;
      if (res && !res.error) delete res.session;
      return res;
    } finally {
      parts = [];
      if (session) engine.requestRaw({ task: 'analyze_audio', session, cancel: true }).catch(() => {});
    }
  }

  async function runTask(req, res, ctx, task, url) {
    const type = mediaType(req);
    if (task === 'analyze_audio') {
      if (!isAudioType(type)) {
        throw new HttpError(415, 'unsupported_media_type', 'analyze_audio takes the audio file\'s bytes as the body (Content-Type: audio/wav or ' +
          'application/octet-stream) and its options in the query string (?pictures=false&name=song.wav)');
      }
      const fields = fieldsFromParams(url.searchParams);
      for (const k of SESSION_FIELDS) {
        if (k in fields) throw new HttpError(400, 'invalid_field', `'${k}' is not taken over HTTP: the body is the whole file`, { field: k });
      }
      if (Number(req.headers['content-length']) > maxAudioBytes) throw tooLarge(maxAudioBytes, 'the audio');
      if (ctx.expectContinue) res.writeContinue();
      return onEngine(ctx, (engine) => analyzeStream(engine, req, fields));
    }
    if (type !== 'application/x-www-form-urlencoded' && !isJsonType(type)) {
      throw new HttpError(415, 'unsupported_media_type', `POST /${task} takes JSON (application/json) or a form (application/x-www-form-urlencoded), not ${type}`);
    }
    if (ctx.expectContinue && !(Number(req.headers['content-length']) > maxBodyBytes)) res.writeContinue();
    const body = await Promise.race([readBody(req, maxBodyBytes), ctx.deadline]);
    const fields = { ...fieldsFromParams(url.searchParams) };
    for (const [k, v] of Object.entries(parseFields(body, type))) {
      if (k in fields) throw new HttpError(400, 'invalid_field', `'${k}' is given both in the query string and in the body`, { field: k });
      fields[k] = v;
    }
    let request;
    if (task === 'request') {
      if (fields.task === 'analyze_audio') throw new HttpError(400, 'invalid_field', 'POST the audio file to /analyze_audio', { field: 'task' });
      request = fields; // the engine checks task
    } else {
      if (fields.task !== undefined && fields.task !== task) {
        throw new HttpError(400, 'invalid_field', `'task' is ${JSON.stringify(fields.task)} but this is POST /${task}`, { field: 'task' });
      }
      request = { task, ...fields };
    }
    return onEngine(ctx, (engine) => engine.requestRaw(request));
  }

  async function handle(req, res, expectContinue = false) {
    counts.requests++;
    inflight++;
    const ctx = { expectContinue, gone: false };
    let timer, abort;
    // Rejects when the request runs out of time or its client goes away.
    ctx.deadline = new Promise((_, reject) => {
      abort = reject;
      timer = setTimeout(() => reject(new HttpError(504, 'timeout', `no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    ctx.deadline.catch(() => {});
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) { ctx.gone = true; abort(new HttpError(499, 'client_gone', 'the client went away')); }
      if (--inflight === 0 && drained) drained();
    });
    try {
      await route(req, res, ctx);
    } catch (err) {
      if (!(err instanceof HttpError) && !(err instanceof TunesmithError)) log(`internal error: ${err?.stack || err}`);
      if (!ctx.gone) sendError(req, res, err);
    }
  }

  async function route(req, res, ctx) {
    const url = new URL(req.url || '/', 'http://localhost');
    const path = url.pathname;
    // A page on another site may not drive this server (cross-site form posts, DNS rebinding).
    const asked = hostOf(req.headers.host);
    if (isLoopback(host) && asked && !isLoopback(asked)) throw new HttpError(403, 'forbidden_host', `Host ${JSON.stringify(req.headers.host || '')} is not this machine`);
    const origin = req.headers.origin;
    if (origin !== undefined && !(cors === '*' || cors === origin)) {
      throw new HttpError(403, 'forbidden_origin', `requests from ${origin} are not allowed (start the server with --cors ORIGIN)`);
    }
    const method = req.method;
    const getRoute = path === '/health' || path === '/info';
    const m = /^\/([a-z][a-z0-9_]{0,63})\/?$/.exec(path);
    const postRoute = m && (tasks.has(m[1]) || m[1] === 'request') ? m[1] : null;
    if (!getRoute && !postRoute) {
      throw new HttpError(404, 'not_found', `no route ${path}: POST /generate_lyrics, POST /<task> (${[...tasks].join(', ')}), POST /request, GET /health, GET /info`);
    }
    const allow = getRoute ? (path === '/info' ? 'GET, HEAD, POST' : 'GET, HEAD') : 'POST';
    if (method === 'OPTIONS' && cors) {
      res.writeHead(204, { ...corsHeaders(req), 'Access-Control-Allow-Methods': allow, 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': '600', Allow: allow });
      return res.end();
    }
    if (!allow.split(', ').includes(method)) {
      throw new HttpError(405, 'method_not_allowed', `${method} ${path}: use ${allow}`, { headers: { Allow: allow } });
    }
    if (path === '/health') return send(req, res, shuttingDown ? 503 : 200, health());
    if (shuttingDown) throw new HttpError(503, 'shutting_down', 'the server is shutting down', { headers: { Connection: 'close' } });
    if (pool.full) throw pool.overloaded(); // before reading the body
    let out;
    if (path === '/info' && method !== 'POST') out = await onEngine(ctx, (engine) => engine.requestRaw({ task: 'info' }));
    else out = await runTask(req, res, ctx, postRoute ?? 'info', url);
    if (out?.error) return send(req, res, statusFor(out.error.code), { error: out.error }, out.error.code === 'too_many_sessions' ? { 'Retry-After': '1' } : {});
    // The classic answer: `lyrics` is the lines joined by newlines (the engine's response has it).
    if (out?.task === 'generate_lyrics' && typeof out.lyrics !== 'string' && Array.isArray(out.lines)) out.lyrics = out.lines.map((l) => l.text).join('\n');
    send(req, res, 200, out);
  }

  const server = http.createServer({ requestTimeout: timeoutMs + 10_000, headersTimeout: Math.min(30_000, timeoutMs + 10_000), keepAliveTimeout: 5_000 });
  server.maxConnections = intOption('maxConnections', o.maxConnections, 1, 1_000_000);
  server.on('request', (req, res) => { handle(req, res); });
  server.on('checkContinue', (req, res) => { handle(req, res, true); });
  server.on('clientError', (err, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const text = JSON.stringify({ error: { code: 'bad_request', message: `malformed HTTP request (${err.code || 'parse error'})` } });
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  });

  let resolveClosed;
  const closed = new Promise((r) => { resolveClosed = r; });
  let closing = null;

  /** Graceful: stop accepting, answer everything accepted (running and queued), close the engines. */
  function close({ graceMs = timeoutMs + 5_000 } = {}) {
    closing ??= (async () => {
      shuttingDown = true;
      server.close();
      server.closeIdleConnections?.();
      if (inflight > 0) {
        let t;
        await Promise.race([new Promise((r) => { drained = r; }), new Promise((r) => { t = setTimeout(r, graceMs); })]);
        clearTimeout(t);
      }
      server.closeAllConnections?.();
      await pool.close();
      resolveClosed();
    })();
    return closing;
  }

  return {
    server, pool, tasks, closed, close, stats: health,
    get inflight() { return inflight; },
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address();
          const shown = a.family === 'IPv6' || a.family === 6 ? `[${a.address}]` : a.address;
          resolve({ host: a.address, port: a.port, url: `http://${shown}:${a.port}/` });
        });
      });
    },
  };
}

/**
 * serve(options): createServer + listen; prints "listening on URL" on stdout once ready (a warning
 * on stderr when the host is not loopback), shuts down gracefully on SIGINT/SIGTERM (a second
 * signal stops at once). Resolves the server (with .url); await server.closed for the end.
 */
export async function serve(options = {}) {
  const out = options.stdout ?? process.stdout;
  const err = options.stderr ?? process.stderr;
  const host = String(options.host ?? DEFAULTS.host);
  if (!isLoopback(host)) {
    err.write(`tunesmith serve: warning: listening on ${host}, not loopback: anyone who can reach this machine can use the engine (no authentication)\n`);
  }
  const s = await createServer({ log: (m) => err.write(`tunesmith serve: ${m}\n`), ...options });
  let addr;
  try { addr = await s.listen(); } catch (e) { await s.close(); throw e; }
  s.url = addr.url;
  const onSignal = (sig) => {
    if (s.stopping) {
      err.write(`tunesmith serve: ${sig} again: stopping now\n`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    s.stopping = true;
    err.write(`tunesmith serve: ${sig}: finishing ${s.inflight} request(s), then exiting\n`);
    s.close();
  };
  if (options.signals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    s.closed.then(() => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); });
  }
  out.write(`listening on ${addr.url}\n`);
  return s;
}

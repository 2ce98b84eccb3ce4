#!/usr/bin/env node
// Web load benchmark: what a visitor of the page waits for and downloads, in headless Chromium
// (the harness of tests/browser/), side by side in one run. It prints tables; it is not a test.
//
//   node tools/bench-web.mjs [--lang en,zh] [--runs 3] [--throttle 20] [--rtt 40] [--json FILE] [--files]
//
// For each language, with a fresh profile (empty HTTP cache, no service worker):
//  cold:  open the page, click Generate as soon as the engine is ready, time to the first lyric line
//         (from navigation start); then wait until the service worker says "available offline".
//  warm:  reload (service worker and caches warm) and generate again: time to the first line.
//  throttled cold (--throttle MBIT, 0 = off): the cold visit again through a link of MBIT Mbit/s
//         shared by every connection, with --rtt ms of round trip (a typical broadband line).
// Bytes are counted where they leave the server (tools/serve.mjs in this process): status line,
// headers and body as sent (gzip where negotiated), per request, for every requester (the page,
// the engine's Web Worker, the service worker: told apart by the Referer they send). "Before the
// first line" is what had been written when the page showed it; "first visit" adds the service
// worker's precache. ONNX Runtime Web's files (onnxruntime-web, ort-wasm*) are looked for in every
// request. TUNESMITH_MODELS / TUNESMITH_WASM_DIR serve other models or builds (tests/browser/browser.mjs).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createServer } from './serve.mjs';
import { serveRoot, launch, CHROMIUM } from '../tests/browser/browser.mjs';
import { ROOT } from '../tests/node/helpers.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const LANGS = opt('lang', 'en,zh').split(',').filter(Boolean);
const RUNS = Math.max(1, Number(opt('runs', 3)));
const THROTTLE = Number(opt('throttle', 20));      // Mbit/s, 0: no throttled run
const RTT = Number(opt('rtt', 40));                // ms
const JSON_OUT = opt('json', null);
const SHOW_FILES = args.includes('--files');
if (!fs.existsSync(CHROMIUM)) { console.error(`no Chromium at ${CHROMIUM}`); process.exit(2); }

const REQUESTS = {
  en: { title: 'Summer Rain', style: 'hymn', lines: 8, seed: 7 },
  zh: { title: '我爱你', style: '流行音乐', lines: 8, seed: 1 },
};
const ORT = /onnxruntime|ort-wasm|\/ort\.[a-z.]*m?js/i;
const OTHER_FEATURE = /\/models\/(listen|melody)\./;

// ------------------------------------------------------------------------------ server and wire
/** tools/serve.mjs in this process, with a log of every response: {url, status, bytes, by, start, end}. */
async function startServer(root) {
  const server = createServer({ root, quiet: true });
  // Idle keep-alive connections stay open for the whole run: a close racing a new request through
  // the throttling relay would surface as a network error in the page.
  server.keepAliveTimeout = 600_000;
  server.headersTimeout = 601_000;
  const log = [];
  const sockets = new Set();
  let closedBytes = 0;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => { closedBytes += s.bytesWritten; sockets.delete(s); });
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    const entry = { url: req.url, status: 0, bytes: 0, by: requester(req.headers.referer), start: Date.now(), end: 0, conditional: !!req.headers['if-none-match'] };
    const before = socket.bytesWritten;
    res.on('finish', () => {
      entry.status = res.statusCode;
      entry.bytes = socket.bytesWritten - before; // this response only: HTTP/1.1 answers one at a time per socket
      entry.end = Date.now();
      log.push(entry);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    server, log, url: `http://127.0.0.1:${server.address().port}/`,
    /** Bytes written to every socket so far (responses in flight included). */
    written: () => closedBytes + [...sockets].reduce((t, s) => t + s.bytesWritten, 0),
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(r); }),
  };
}

function requester(referer) {
  if (!referer) return 'page';
  if (/\/sw\.js$/.test(referer)) return 'service worker';
  if (/\/worker\.mjs$|\.worker\.js$/.test(referer)) return 'engine worker';
  return 'page';
}

/**
 * A TCP relay in front of the server that sends the answers at `mbit` Mbit/s, shared by every
 * connection (one FIFO link), with `rtt` ms of round trip.
 */
async function throttle(target, mbit, rtt) {
  const rate = (mbit * 1e6) / 8 / 1000; // bytes per ms
  let free = 0;                         // when the link is next free (ms)
  const half = rtt / 2;
  const relay = net.createServer((client) => {
    const upstream = net.connect(target.port, '127.0.0.1');
    // Per connection, one FIFO of {d, at} drained by one timer: bytes never overtake each other.
    const queue = [];
    let queued = 0, timer = null, ended = false;
    const pump = () => {
      timer = null;
      const now = performance.now();
      while (queue.length && queue[0].at <= now) {
        const { d } = queue.shift();
        if (!client.destroyed) client.write(d);
        queued -= d.length;
      }
      if (queued < 1 << 20) upstream.resume();
      if (queue.length) timer = setTimeout(pump, Math.max(1, queue[0].at - now));
      else if (ended) client.end();
    };
    const later = (fn) => setTimeout(fn, half);
    client.on('data', (d) => later(() => { if (!upstream.destroyed) upstream.write(d); }));
    upstream.on('data', (d) => {
      const now = performance.now();
      free = Math.max(free, now) + d.length / rate;
      queue.push({ d, at: free + half });
      queued += d.length;
      if (queued > 4 << 20) upstream.pause();
      if (!timer) timer = setTimeout(pump, Math.max(1, queue[0].at - now));
    });
    upstream.on('end', () => { ended = true; if (!timer && !queue.length) client.end(); });
    const drop = () => { client.destroy(); upstream.destroy(); };
    client.on('error', drop); upstream.on('error', drop);
    client.on('close', () => upstream.destroy());
  });
  await new Promise((r) => relay.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${relay.address().port}/`, close: () => new Promise((r) => relay.close(r)) };
}

// ------------------------------------------------------------------------------------- the page
// Records, from before any page script runs, when the first lyric line appears and what the
// service worker tells the page; calls window.__benchFirstLine() (bound to Node) at that moment.
const RECORD = () => {
  window.__bench = { firstLine: null, sw: [] };
  navigator.serviceWorker?.addEventListener('message', (e) => { if (e.data?.source === 'tunesmith-sw') window.__bench.sw.push({ ...e.data, at: performance.now() }); });
  const watch = () => {
    const out = document.getElementById('output');
    if (!out) return;
    new MutationObserver((_, obs) => {
      if (window.__bench.firstLine == null && out.querySelector('li.line')) {
        window.__bench.firstLine = performance.now();
        window.__benchFirstLine?.();
        obs.disconnect();
      }
    }).observe(out, { childList: true, subtree: true });
  };
  document.addEventListener('DOMContentLoaded', watch);
};

/** One visit: navigate (or reload), generate, wait for the first line and the whole song. */
async function visit(page, url, request, marks, { reload = false } = {}) {
  marks.firstLineBytes = null;
  if (reload) await page.reload(); else await page.goto(url);
  await page.waitForFunction(() => !document.getElementById('generate').disabled || !document.getElementById('error').hidden, null, { timeout: 300_000 });
  const ready = await page.evaluate(() => performance.now());
  await page.fill('#title', request.title);
  await page.selectOption('#style', request.style);
  await page.fill('#lines', String(request.lines));
  await page.fill('#seed', String(request.seed));
  const clicked = await page.evaluate(() => { document.getElementById('generate').click(); return performance.now(); });
  await page.waitForFunction(() => /完成|Done/.test(document.getElementById('status').textContent) || !document.getElementById('error').hidden, null, { timeout: 300_000 });
  const error = await page.evaluate(() => (document.getElementById('error').hidden ? null : document.getElementById('error').textContent));
  if (error) throw new Error(`the page failed: ${error}`);
  const r = await page.evaluate(() => ({
    firstLine: window.__bench.firstLine, done: performance.now(), origin: performance.timeOrigin,
    variant: document.body.dataset.variant, controlled: !!navigator.serviceWorker?.controller,
    lines: [...document.querySelectorAll('#output li.line .text')].map((e) => e.textContent),
  }));
  return { ...r, ready, clicked, firstLineBytes: marks.firstLineBytes, firstLineAt: r.origin + r.firstLine };
}

async function waitOffline(page) {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.documentElement.dataset.offline), null, { timeout: 600_000 });
  return page.evaluate(() => ({ state: document.documentElement.dataset.offline, at: performance.now(), text: document.getElementById('pwa-status').textContent }));
}

// ------------------------------------------------------------------------------------ accounting
function category(url) {
  const p = new URL(url, 'http://x').pathname;
  if (ORT.test(p)) return 'ONNX Runtime';
  if (p.startsWith('/dist/wasm/') || p.startsWith('/web/wasm/')) return 'wasm';
  if (p.startsWith('/models/')) return 'models';
  return 'app';
}
const sum = (list) => list.reduce((t, e) => t + e.bytes, 0);
function byCategory(list) {
  const out = { app: 0, wasm: 0, models: 0, 'ONNX Runtime': 0 };
  for (const e of list) out[category(e.url)] += e.bytes;
  return out;
}
function byFile(list) {
  const m = new Map();
  for (const e of list) {
    const k = new URL(e.url, 'http://x').pathname;
    const f = m.get(k) || { file: k, requests: 0, bytes: 0, by: new Set(), statuses: new Set() };
    f.requests += 1; f.bytes += e.bytes; f.by.add(e.by); f.statuses.add(e.status);
    m.set(k, f);
  }
  return [...m.values()].sort((a, b) => b.bytes - a.bytes);
}
const MB = (n) => (n / 1e6).toFixed(2);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };

// ---------------------------------------------------------------------------------------- runs
async function coldAndWarm(root, lang, { mbit = 0, warmRuns = RUNS } = {}) {
  const srv = await startServer(root);
  const link = mbit > 0 ? await throttle(srv.server.address(), mbit, RTT) : null;
  const url = link ? link.url : srv.url;
  const browser = await launch({ serviceWorkers: 'allow' });
  const marks = {};
  try {
    const page = await browser.context.newPage();
    if (process.env.BENCH_DEBUG) {
      page.on('console', (m) => console.error('console', m.type(), m.text()));
      page.on('pageerror', (e) => console.error('pageerror', e.message));
    }
    page.setDefaultTimeout(300_000);
    await page.exposeFunction('__benchFirstLine', () => { marks.firstLineBytes ??= srv.written(); });
    await browser.context.addInitScript(RECORD);
    const cold = await visit(page, url, REQUESTS[lang], marks);
    // Responses in flight at the first line count in firstLineBytes (bytes written so far), not in the by-file list.
    const beforeLine = srv.log.filter((e) => e.end <= cold.firstLineAt);
    const offline = await waitOffline(page);
    await new Promise((r) => setTimeout(r, 500));
    const firstVisit = [...srv.log];
    const result = {
      lang, mbit, variant: cold.variant, lines: cold.lines,
      cold: {
        ready_ms: cold.ready, click_ms: cold.clicked, first_line_ms: cold.firstLine, done_ms: cold.done,
        bytes_before_first_line: cold.firstLineBytes, before_first_line: byCategory(beforeLine),
        files_before_first_line: byFile(beforeLine),
        // What the lyrics feature itself fetched: the page's and its engine's requests, less other
        // features' models (the Listen tab loads its model when the page starts).
        bytes_lyrics_feature: sum(beforeLine.filter((e) => e.by !== 'service worker' && !OTHER_FEATURE.test(e.url))),
        bytes_other_features_before_first_line: sum(beforeLine.filter((e) => e.by !== 'service worker' && OTHER_FEATURE.test(e.url))),
        bytes_service_worker_before_first_line: sum(beforeLine.filter((e) => e.by === 'service worker')),
        offline_state: offline.state, offline_ms: offline.at, offline_text: offline.text,
        bytes_first_visit: srv.written(), first_visit: byCategory(firstVisit), files_first_visit: byFile(firstVisit),
        requests_first_visit: firstVisit.length,
      },
      warm: [],
      ort_requests: [...new Set(srv.log.map((e) => e.url).filter((u) => ORT.test(u)))],
    };
    for (let i = 0; i < warmRuns; i++) {
      const from = srv.log.length, w0 = srv.written();
      const warm = await visit(page, url, REQUESTS[lang], marks, { reload: true });
      await new Promise((r) => setTimeout(r, 300));
      const list = srv.log.slice(from);
      result.warm.push({
        ready_ms: warm.ready, click_ms: warm.clicked, first_line_ms: warm.firstLine, done_ms: warm.done, controlled: warm.controlled,
        bytes_before_first_line: warm.firstLineBytes - w0, bytes: srv.written() - w0,
        requests: list.length, not_modified: list.filter((e) => e.status === 304).length, same_lines: JSON.stringify(warm.lines) === JSON.stringify(cold.lines),
      });
    }
    result.ort_requests = [...new Set(srv.log.map((e) => e.url).filter((u) => ORT.test(u)))];
    return result;
  } finally {
    await browser.close();
    await link?.close();
    await srv.close();
  }
}

// ---------------------------------------------------------------------------------------- main
const root = serveRoot();
const results = [];
try {
  for (const lang of LANGS) {
    process.stderr.write(`# ${lang}: cold + ${RUNS} warm visits\n`);
    results.push(await coldAndWarm(root, lang));
    if (THROTTLE > 0) {
      process.stderr.write(`# ${lang}: cold visit at ${THROTTLE} Mbit/s, ${RTT} ms RTT\n`);
      results.push(await coldAndWarm(root, lang, { mbit: THROTTLE, warmRuns: 1 }));
    }
  }
} finally {
  if (root !== ROOT) fs.rmSync(root, { recursive: true, force: true });
}

const ms = (x) => (x == null ? '-' : `${Math.round(x)} ms`);
console.log(`\nWeb load (Chromium ${CHROMIUM}, tools/serve.mjs with gzip, fresh profile per row; warm = median of ${RUNS} reloads)\n`);
console.log('| language | link | build | cold: engine ready | cold: first line | warm: first line | bytes before first line (lyrics feature + other features + service worker) | first visit total | warm visit bytes | available offline at | ORT fetched |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const w = r.warm;
  console.log(`| ${r.lang} | ${r.mbit ? `${r.mbit} Mbit/s, ${RTT} ms` : 'loopback'} | ${r.variant} | ${ms(r.cold.ready_ms)} | ${ms(r.cold.first_line_ms)} | ${ms(median(w.map((x) => x.first_line_ms)))} | ${MB(r.cold.bytes_before_first_line)} MB (${MB(r.cold.bytes_lyrics_feature)} + ${MB(r.cold.bytes_other_features_before_first_line)} + ${MB(r.cold.bytes_service_worker_before_first_line)}) | ${MB(r.cold.bytes_first_visit)} MB | ${(median(w.map((x) => x.bytes)) / 1e3).toFixed(0)} kB | ${r.cold.offline_state === 'ready' ? ms(r.cold.offline_ms) : r.cold.offline_state} | ${r.ort_requests.length ? `yes: ${r.ort_requests.join(' ')}` : 'no'} |`);
}
console.log('\nBy category (MB on the wire): before the first line / whole first visit\n');
console.log('| language | link | app | wasm | models | ONNX Runtime |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  const b = r.cold.before_first_line, f = r.cold.first_visit;
  console.log(`| ${r.lang} | ${r.mbit ? `${r.mbit} Mbit/s` : 'loopback'} | ${MB(b.app)} / ${MB(f.app)} | ${MB(b.wasm)} / ${MB(f.wasm)} | ${MB(b.models)} / ${MB(f.models)} | ${MB(b['ONNX Runtime'])} / ${MB(f['ONNX Runtime'])} |`);
}
for (const r of results.filter((x) => !x.mbit)) {
  console.log(`\n${r.lang}, cold visit: files before the first line (${r.cold.files_before_first_line.length}; requests finished by then)\n`);
  console.log('| file | bytes | requests | by | status |');
  console.log('|---|---|---|---|---|');
  for (const f of r.cold.files_before_first_line.filter((x) => SHOW_FILES || x.bytes > 20e3)) console.log(`| ${f.file} | ${f.bytes} | ${f.requests} | ${[...f.by].join(', ')} | ${[...f.statuses].join(', ')} |`);
  if (SHOW_FILES) {
    console.log(`\n${r.lang}, whole first visit: files (${r.cold.files_first_visit.length}, ${r.cold.requests_first_visit} requests)\n`);
    console.log('| file | bytes | requests | by | status |');
    console.log('|---|---|---|---|---|');
    for (const f of r.cold.files_first_visit) console.log(`| ${f.file} | ${f.bytes} | ${f.requests} | ${[...f.by].join(', ')} | ${[...f.statuses].join(', ')} |`);
  }
  console.log(`\n${r.lang}, warm visits: ${r.warm.map((w) => `${ms(w.first_line_ms)} (ready ${ms(w.ready_ms)}, ${w.requests} requests, ${w.not_modified} x 304, ${(w.bytes / 1e3).toFixed(0)} kB${w.controlled ? '' : ', NOT controlled'}${w.same_lines ? '' : ', other lines!'})`).join('; ')}`);
}
if (JSON_OUT) {
  const plain = JSON.parse(JSON.stringify(results, (k, v) => (v instanceof Set ? [...v] : v)));
  fs.writeFileSync(JSON_OUT, `${JSON.stringify(plain, null, 1)}\n`);
}

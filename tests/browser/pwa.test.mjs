// The offline app (web/sw.js, web/pwa.mjs, web/manifest.webmanifest) in Debian's Chromium:
// 1. first visit (the dev server, cross-origin isolated): the service worker saves the app, both
//    wasm builds and the default models, with progress, then "available offline"; then the server
//    is stopped and the browser set offline, the page reloaded, and it writes lyrics, a melody and
//    an analysis of a WAV file; no request ever leaves the origin, none reaches the network while
//    it generates; screenshots of each tab go to build/screenshots/pwa-*.png.
// 2. static hosting without COOP/COEP (--no-isolation): the first visit runs the single-thread
//    build and says so; once the service worker controls the page it adds the headers, and the
//    reloaded page is cross-origin isolated and runs the threaded build.
// 3. updates: a new version of a model file makes a new build that replaces the old one (unchanged
//    models are not downloaded again); a file that does not match its manifest's sha256 is refused.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { CHROMIUM, SHOTS, serveRoot, serve, launch, openPage } from './browser.mjs';
import { ROOT, missing, HAN } from '../node/helpers.mjs';
import { wavFile, chordSong } from '../node/audio_fixture.mjs';

const MODELS = ['lyrics-zh', 'lyrics-en', 'melody', 'listen'];
const skip = missing({ models: MODELS }) || (!fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)`);

// Collect what the service worker tells the page, from before any page script runs.
const RECORD = () => {
  window.__sw = [];
  navigator.serviceWorker?.addEventListener('message', (e) => { if (e.data?.source === 'tunesmith-sw') window.__sw.push(e.data); });
};

/** Waits until the service worker has saved the build ("available offline"); resolves the page's view of the caches. */
async function waitSaved(page) {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.documentElement.dataset.offline), null, { timeout: 180_000 });
  assert.equal(await page.evaluate(() => document.documentElement.dataset.offline), 'ready', await page.textContent('#pwa'));
  assert.match(await page.textContent('#pwa-status'), /Available offline/);
  return page.evaluate(async () => {
    const keys = await caches.keys();
    const meta = await (await caches.open('tunesmith-meta')).match('current').then((r) => r.json());
    const cache = await caches.open(meta.cache);
    const urls = (await cache.keys()).map((r) => r.url);
    let bytes = 0;
    for (const u of urls) bytes += (await (await cache.match(u)).arrayBuffer()).byteLength;
    return { keys, meta, urls, bytes };
  });
}

function assertLocalOnly(requests, url) {
  const origin = new URL(url).origin;
  const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob):/.test(u));
  assert.deepEqual(foreign, [], 'requests left the origin');
}

const shot = async (page, name) => {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name), fullPage: true, animations: 'disabled' });
};

describe('offline app (PWA) in Chromium', { skip, timeout: 400_000 }, () => {
  test('after one visit: offline, server stopped, it writes lyrics, a melody and an analysis', async () => {
    const root = serveRoot();
    const server = await serve(root);
    const browser = await launch({ serviceWorkers: 'allow', locale: 'en-US' });
    // Requests that reached the network (not answered by the service worker) while generating.
    const network = [];
    let watching = false;
    browser.context.on('requestfinished', async (r) => {
      if (!watching) return;
      const res = await r.response().catch(() => null);
      if (!res?.fromServiceWorker()) network.push(r.url());
    });
    try {
      await browser.context.addInitScript(RECORD);
      const { page, problems } = await openPage(browser.context, server.url);
      assert.match(await page.getAttribute('link[rel=manifest]', 'href'), /manifest\.webmanifest$/);
      const manifest = await page.evaluate(async () => (await fetch('manifest.webmanifest')).json());
      assert.equal(manifest.display, 'standalone');
      assert.ok(manifest.icons.some((i) => i.sizes === '512x512'));
      const saved = await waitSaved(page);
      // Everything is in one build cache: the shell, both builds, every default model's files.
      for (const f of ['web/', 'web/sw.js', 'dist/wasm/tunesmith-mt.wasm', 'dist/wasm/tunesmith-mt.worker.js', 'dist/wasm/tunesmith-st.wasm',
        'models/lyrics-zh.onnx', 'models/lyrics-zh.ngrams', 'models/lyrics-en.onnx', 'models/lyrics-en.words', 'models/melody.onnx',
        'models/listen.onnx', 'models/phonetics-zh.tsv', 'models/sentiment-en.tsv', 'node_modules/abcjs/dist/abcjs-basic-min.js']) {
        if (f === 'web/sw.js') continue; // the browser keeps the worker's own script
        assert.ok(saved.urls.includes(new URL(f, server.url).href), `${f} was not saved`);
      }
      assert.equal(saved.keys.filter((k) => k.startsWith('tunesmith-build-')).length, 1);
      // At least every byte of the default models' files (as their manifests name them) and of both
      // wasm builds: what the offline app cannot work without.
      const needed = [...MODELS, 'phonetics', 'sentiment'].flatMap((name) => {
        const m = JSON.parse(fs.readFileSync(path.join(root, 'models', `${name}.json`), 'utf8'));
        return [m.file, m.originality?.file, m.lexicon?.file, m.zh?.file, m.en?.file, ...(m.files || []).map((f) => f?.name ?? f?.file)]
          .filter((f) => typeof f === 'string').map((f) => path.join(root, 'models', f));
      }).concat(['tunesmith-mt.wasm', 'tunesmith-st.wasm'].map((f) => path.join(root, 'dist', 'wasm', f)));
      const neededBytes = [...new Set(needed)].reduce((t, f) => t + fs.statSync(f).size, 0);
      assert.ok(saved.bytes >= neededBytes, `saved only ${saved.bytes} bytes of at least ${neededBytes}`);
      console.log(`# saved ${saved.urls.length} files, ${(saved.bytes / 1e6).toFixed(1)} MB, build ${saved.meta.id}`);
      const told = await page.evaluate(() => window.__sw);
      assert.ok(told.some((m) => m.type === 'progress' && m.unit === 'bytes' && m.loaded > 0 && m.loaded < m.total), 'no download progress was shown');
      assert.ok(told.some((m) => m.type === 'ready'));

      // Online, a lyrics request of a page the worker controls touches no network at all.
      await page.reload();
      await page.waitForFunction(() => !document.getElementById('generate').disabled || !document.getElementById('error').hidden);
      assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the service worker does not control the page');
      await page.waitForFunction(() => document.documentElement.dataset.offline === 'ready', null, { timeout: 60_000 }); // the update check
      watching = true;
      await page.fill('#lines', '4');
      await page.fill('#seed', '3');
      await page.click('#generate');
      await page.waitForFunction(() => Number(document.body.dataset.ops) >= 1, null, { timeout: 120_000 });
      watching = false;
      assert.deepEqual(network, [], 'generating reached the network');

      // Offline: the server is gone and the browser is offline.
      server.stop();
      await browser.context.setOffline(true);
      const before = browser.requests.length;
      await page.reload();
      await page.waitForFunction(() => !document.getElementById('generate').disabled || !document.getElementById('error').hidden, null, { timeout: 60_000 });
      assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
      assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
      assert.match(await page.textContent('#status'), /threads \+ SIMD/);

      // Lyrics.
      await page.fill('#title', '我爱你');
      await page.fill('#lines', '8');
      await page.fill('#seed', '1');
      await page.click('#generate');
      await page.waitForFunction(() => Number(document.body.dataset.ops) >= 1, null, { timeout: 120_000 });
      assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
      const lines = await page.$$eval('#output li.line .text', (els) => els.map((e) => e.textContent));
      assert.equal(lines.length, 8);
      lines.forEach((l) => assert.match(l, HAN));
      await shot(page, 'pwa-lyrics.png');

      // A melody for them.
      await page.click('#tab-melody');
      await page.fill('#m-seed', '2');
      await page.click('#m-generate');
      await page.waitForFunction(() => Number(document.body.dataset.melodyOps) >= 1, null, { timeout: 120_000 });
      assert.equal(await page.isHidden('#m-error'), true, await page.textContent('#m-error'));
      assert.match(await page.textContent('#m-status'), /^Done/);
      assert.ok(await page.$$eval('#m-notation svg .abcjs-note', (els) => els.length) > 8);
      await shot(page, 'pwa-melody.png');

      // An analysis of a WAV file.
      await page.click('#tab-listen');
      await page.waitForFunction(() => document.body.dataset.listenReady === 'true');
      const wav = wavFile(chordSong({ rate: 22050, seconds: 4, bpm: 120, chordSeconds: 1 }), 22050);
      await page.setInputFiles('#l-files', { name: 'offline.wav', mimeType: 'audio/wav', buffer: Buffer.from(wav) });
      await page.waitForFunction(() => Number(document.body.dataset.listenOps) >= 1, null, { timeout: 120_000 });
      assert.equal(await page.isHidden('#l-error'), true, await page.textContent('#l-error'));
      assert.match(await page.textContent('#l-results .l-result .l-state'), /^Done/);
      assert.match(await page.textContent('#l-results .l-result .l-key .l-value'), /major|minor/);
      await shot(page, 'pwa-listen.png');

      // The models are kept once: core.mjs's own model cache holds no second copy of them.
      const copies = await page.evaluate(async () => ((await caches.has('tunesmith-models-v1'))
        ? (await (await caches.open('tunesmith-models-v1')).keys()).map((r) => r.url) : []));
      assert.deepEqual(copies.filter((u) => /\/models\/(lyrics-zh|melody|listen|phonetics)/.test(u)), [], 'models are stored twice');
      assert.ok(browser.requests.length > before, 'the offline page made no requests at all (not recorded?)');
      assertLocalOnly(browser.requests, server.url);
      assert.deepEqual(problems.filter((p) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/.test(p)), []);
    } finally {
      await browser.close();
      server.stop();
      if (root !== ROOT) fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('static hosting without COOP/COEP: single-thread build first, then the service worker isolates the page', async () => {
    const root = serveRoot();
    const server = await serve(root, ['--no-isolation']);
    const browser = await launch({ serviceWorkers: 'allow', locale: 'en-US' });
    try {
      const { page, problems } = await openPage(browser.context, server.url);
      assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), false);
      assert.match(await page.textContent('#status'), /single thread \+ SIMD \(page not cross-origin isolated\)/);
      await waitSaved(page);
      assert.match(await page.textContent('#pwa-status'), /reload for the threaded build/);
      await page.reload();
      await page.waitForFunction(() => !document.getElementById('generate').disabled || !document.getElementById('error').hidden);
      assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
      assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true, 'the service worker did not make the page cross-origin isolated');
      assert.match(await page.textContent('#status'), /threads \+ SIMD \(cross-origin isolated\)/);
      await page.fill('#lines', '2');
      await page.fill('#seed', '1');
      await page.click('#generate');
      await page.waitForFunction(() => Number(document.body.dataset.ops) >= 1, null, { timeout: 120_000 });
      assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
      assert.equal((await page.$$('#output li.line')).length, 2);
      assertLocalOnly(browser.requests, server.url);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      server.stop();
      if (root !== ROOT) fs.rmSync(root, { recursive: true, force: true });
    }
  });
  test('a new model version replaces the old one; a file that does not match its manifest is refused', async () => {
    // A root of copies, so that a model can be changed.
    const src = serveRoot();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-pwa-'));
    for (const d of ['web', 'dist/wasm', 'models', 'node_modules/abcjs/dist']) fs.cpSync(path.join(src, d), path.join(root, d), { recursive: true });
    const server = await serve(root);
    const browser = await launch({ serviceWorkers: 'allow', locale: 'en-US' });
    const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
    const builds = async (page) => page.evaluate(async () => {
      const meta = await (await caches.open('tunesmith-meta')).match('current').then((r) => r.json());
      const res = await (await caches.open(meta.cache)).match(new URL('../models/sentiment-en.tsv', location.href).href);
      return { id: meta.id, keys: (await caches.keys()).filter((k) => k.startsWith('tunesmith-build-')), sentiment: res.headers.get('X-Tunesmith-SHA256') };
    });
    const check = async (page) => { // a later visit: the page asks the worker to check for a new build
      await page.evaluate(() => { window.__sw = []; });
      await page.reload();
      await page.waitForFunction(() => window.__sw.some((m) => m.type === 'ready' || m.type === 'error'), null, { timeout: 120_000 });
      return page.evaluate(() => window.__sw.find((m) => m.type === 'ready' || m.type === 'error'));
    };
    try {
      await browser.context.addInitScript(RECORD);
      const { page } = await openPage(browser.context, server.url);
      await waitSaved(page);
      const first = await builds(page);
      assert.deepEqual(first.keys, [`tunesmith-build-${first.id}`]);

      // A new version of one model file (its manifest says so): a new build with it, the old one gone,
      // and only that file downloaded again.
      const file = path.join(root, 'models', 'sentiment-en.tsv'), manifest = path.join(root, 'models', 'sentiment.json');
      const body = Buffer.concat([fs.readFileSync(file), Buffer.from('zzzz\t0\n')]);
      fs.writeFileSync(file, body);
      const m = JSON.parse(fs.readFileSync(manifest, 'utf8'));
      const entry = m.files.find((f) => f.name === 'sentiment-en.tsv');
      Object.assign(entry, { bytes: body.length, sha256: sha(body) });
      fs.writeFileSync(manifest, JSON.stringify(m, null, 2));
      const got = await check(page);
      assert.equal(got.type, 'ready', got.message);
      assert.equal(got.fresh, true);
      const second = await builds(page);
      assert.notEqual(second.id, first.id);
      assert.deepEqual(second.keys, [`tunesmith-build-${second.id}`], 'the old build was not deleted');
      assert.equal(second.sentiment, sha(body));
      assert.equal(browser.requests.filter((u) => u.endsWith('/models/lyrics-zh.onnx')).length, 1, 'an unchanged model was downloaded again');
      assert.equal(browser.requests.filter((u) => u.endsWith('/models/sentiment-en.tsv')).length, 2);

      // A new version whose file, as served, does not match its manifest (corrupted on the way):
      // refused, the current build stays.
      const next = Buffer.concat([body, Buffer.from('next\t1\n')]);
      const bad = Buffer.from(next); bad[10] ^= 1;
      fs.writeFileSync(file, bad);
      Object.assign(entry, { bytes: next.length, sha256: sha(next) });
      fs.writeFileSync(manifest, JSON.stringify(m, null, 2));
      const refused = await check(page);
      assert.equal(refused.type, 'error');
      assert.match(refused.message, /sentiment-en\.tsv: sha256 [0-9a-f]{64} does not match its manifest/);
      assert.deepEqual(await builds(page), second, 'a refused build changed the saved one');
      assert.match(await page.textContent('#pwa-status'), /Available offline/);
      assertLocalOnly(browser.requests, server.url);
    } finally {
      await browser.close();
      server.stop();
      fs.rmSync(root, { recursive: true, force: true });
      if (src !== ROOT) fs.rmSync(src, { recursive: true, force: true });
    }
  });
});

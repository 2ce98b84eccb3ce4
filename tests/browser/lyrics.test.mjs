// The lyrics page in Debian's Chromium (headless, via playwright-core): served cross-origin
// isolated it runs the threaded build, served without isolation the single-thread build; both
// stream 8 lines for 我爱你 / 流行音乐, equal to what the Node engine writes for the same request.
// Nothing may leave 127.0.0.1. Screenshots go to build/screenshots/.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, SHOTS, serveRoot, serve, launch, openPage } from './browser.mjs';
import { createEngine } from '../../web/src/index.mjs';
import { ROOT, WASM_DIR, MODELS_DIR, missing, engineOptions, HAN } from '../node/helpers.mjs';

const REQUEST = { title: '我爱你', style: '流行音乐', lines: 8, seed: 1, temperature: 0.6 };
const skip = missing({ models: ['lyrics-zh'] }) || (!fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)`);

/** Opens the page, generates REQUEST, returns what the page showed. */
async function generateOnPage(context, url, { screenshot } = {}) {
  const { page, problems } = await openPage(context, url);
  assert.match(page.url(), /\/web\/$/, '/ redirects to /web/');
  assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
  const coi = await page.evaluate(() => globalThis.crossOriginIsolated === true);
  const status = await page.textContent('#status');

  await page.fill('#title', REQUEST.title);
  await page.selectOption('#style', REQUEST.style);
  await page.fill('#lines', String(REQUEST.lines));
  await page.fill('#seed', String(REQUEST.seed));
  await page.fill('#temperature', String(REQUEST.temperature));
  // Record the line count after every DOM change: streaming means it grows 1, 2, 3, ...
  await page.evaluate(() => {
    window.__counts = [];
    new MutationObserver(() => {
      const n = document.querySelectorAll('#output li.line').length;
      if (window.__counts.at(-1) !== n) window.__counts.push(n);
    }).observe(document.getElementById('output'), { childList: true, subtree: true });
  });
  await page.click('#generate');
  await page.waitForFunction(() => /^Done: /.test(document.getElementById('status').textContent) || !document.getElementById('error').hidden, null, { timeout: 120_000 });
  assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
  const lines = await page.$$eval('#output li.line .text', (els) => els.map((e) => e.textContent));
  const counts = await page.evaluate(() => window.__counts);
  const copyEnabled = await page.isEnabled('#copy');
  if (screenshot) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${screenshot}.png`), fullPage: true, animations: 'disabled' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, `${screenshot}-phone.png`), fullPage: true, animations: 'disabled' });
  }
  return { page, coi, status, lines, counts, copyEnabled, problems };
}

function assertLocalOnly(requests, url) {
  const origin = new URL(url).origin;
  const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob):/.test(u));
  assert.deepEqual(foreign, [], 'requests left 127.0.0.1');
  assert.ok(requests.some((u) => u.endsWith('/models/lyrics-zh.onnx')), 'the model was fetched from the server');
}

describe('lyrics page in Chromium', { skip, timeout: 300_000 }, () => {
  let root, expected;
  before(async () => {
    root = serveRoot();
    // What the engine writes in Node for the same request: the page must show exactly this.
    const engine = await createEngine(engineOptions());
    try { expected = (await engine.generateLyrics(REQUEST)).lines.map((l) => l.text); } finally { await engine.close(); }
  });
  after(() => { if (root !== ROOT) fs.rmSync(root, { recursive: true, force: true }); });

  test('cross-origin isolated: threaded build, streams 8 lines, nothing leaves 127.0.0.1', async () => {
    const server = await serve(root);
    const browser = await launch({ locale: 'en-US' }); // the English interface
    try {
      const r = await generateOnPage(browser.context, server.url, { screenshot: 'lyrics' });
      assert.equal(r.coi, true, 'page is not cross-origin isolated');
      assert.match(r.status, /threads \+ SIMD \(cross-origin isolated\)/);
      assert.equal(r.lines.length, 8);
      r.lines.forEach((l) => assert.match(l, HAN));
      assert.deepEqual(r.lines, expected);
      assert.equal(r.counts[0], 1, `lines did not stream one at a time: ${r.counts}`);
      assert.deepEqual(r.counts, [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.ok(r.copyEnabled);
      assert.deepEqual(r.problems, []);
      assertLocalOnly(browser.requests, server.url);
      assert.ok(browser.requests.some((u) => u.endsWith('/dist/wasm/tunesmith-mt.wasm')));
      assert.ok(!browser.requests.some((u) => u.includes('tunesmith-st.')));
      // A second visit takes the model from the page's model cache (Cache Storage), not the network.
      await r.page.close();
      const again = await generateOnPage(browser.context, server.url);
      assert.deepEqual(again.lines, expected);
      assert.equal(browser.requests.filter((u) => u.endsWith('/models/lyrics-zh.onnx')).length, 1, 'model downloaded twice');
    } finally {
      await browser.close();
      server.stop();
    }
  });

  test('not isolated (--no-isolation): single-thread build, same lyrics; errors show in the page', async () => {
    const server = await serve(root, ['--no-isolation']);
    const browser = await launch({ locale: 'en-US' }); // the English interface
    try {
      const r = await generateOnPage(browser.context, server.url);
      assert.equal(r.coi, false);
      assert.match(r.status, /single thread \+ SIMD \(page not cross-origin isolated\)/);
      assert.deepEqual(r.lines, expected);
      assert.deepEqual(r.problems, []);
      assertLocalOnly(browser.requests, server.url);
      assert.ok(browser.requests.some((u) => u.endsWith('/dist/wasm/tunesmith-st.wasm')));
      assert.ok(!browser.requests.some((u) => u.includes('tunesmith-mt.')));
      // An engine error (0 lines) is shown in the page and the page keeps working.
      await r.page.fill('#lines', '0');
      await r.page.click('#generate');
      await r.page.waitForSelector('#error:not([hidden])', { timeout: 30_000 });
      assert.match(await r.page.textContent('#error'), /invalid_field/);
      await r.page.fill('#lines', '2');
      await r.page.click('#generate');
      await r.page.waitForFunction(() => /^Done: /.test(document.getElementById('status').textContent), null, { timeout: 60_000 });
      assert.equal(await r.page.isHidden('#error'), true);
      assert.equal((await r.page.$$('#output li')).length, 2);
    } finally {
      await browser.close();
      server.stop();
    }
  });
});

// Songwriting controls on the page: a structured rhymed song drawn by section with rhyme and
// syllable badges, then the editing loop (lock, rewrite unlocked, rewrite one line, undo/redo,
// continue), title suggestions and mood, all through the engine in the page's worker.
const SONG = { title: '春雨', structure: 'V C V C', rhyme: 'AABB', syllables: 7, seed: 5 };

describe('songwriting controls in Chromium', { skip, timeout: 300_000 }, () => {
  let root, expected;
  before(async () => {
    root = serveRoot();
    const engine = await createEngine(engineOptions());
    try {
      expected = await engine.generateLyrics({ title: SONG.title, style: '流行音乐', structure: SONG.structure, rhyme_scheme: SONG.rhyme, syllables: SONG.syllables, seed: SONG.seed, temperature: 0.6 });
    } finally { await engine.close(); }
  });
  after(() => { if (root !== ROOT) fs.rmSync(root, { recursive: true, force: true }); });

  test('structure + rhyme: sections, badges; lock, rewrite unlocked, rewrite a line, undo/redo, continue, titles, mood', async () => {
    const server = await serve(root);
    const browser = await launch({ locale: 'en-US' }); // the English interface
    try {
      const { page, problems } = await openPage(browser.context, server.url);
      let ops = 0;
      // Every engine action bumps body[data-ops] when it has finished (and re-enables the buttons).
      const act = async (fn) => {
        ops += 1;
        await fn();
        await page.waitForFunction((n) => Number(document.body.dataset.ops) >= n, ops, { timeout: 120_000 });
        assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
      };
      const texts = () => page.$$eval('#output li.line .text', (els) => els.map((e) => e.textContent));

      await page.fill('#title', SONG.title);
      await page.fill('#structure', SONG.structure);
      assert.equal(await page.isDisabled('#lines'), true, 'a structure sets the line count');
      await page.selectOption('#rhyme', SONG.rhyme);
      await page.fill('#syllables', String(SONG.syllables));
      await page.fill('#seed', String(SONG.seed));
      await act(() => page.click('#generate'));

      // Drawn by section, as the engine wrote it (same as Node for the same request).
      const song0 = await texts();
      assert.deepEqual(song0, expected.lines.map((l) => l.text));
      assert.deepEqual(await page.$$eval('#output .section-label', (hs) => hs.filter((h) => !h.hidden).map((h) => h.textContent)),
        ['Verse 1', 'Chorus 1', 'Verse 2', 'Chorus 2']);
      const rhymes = await page.$$eval('#output li.line .badge.rhyme', (bs) => bs.map((b) => b.textContent));
      assert.equal(rhymes.length, 16);
      rhymes.forEach((r, i) => assert.match(r, new RegExp(`^${'AABB'[i % 4]} · \\S+$`), r));
      assert.deepEqual(rhymes, expected.lines.map((l) => `${l.rhyme.class} · ${l.rhyme.key}`));
      const syl = await page.$$eval('#output li.line .badge.syl', (bs) => bs.map((b) => b.textContent));
      assert.deepEqual(syl, expected.lines.map((l) => (l.syllables === 7 ? '7字' : `${l.syllables}字 ≠ 7`)));
      assert.equal(await page.isVisible('#remarks'), true);

      // Lock line 0, rewrite the unlocked lines: line 0 stays, others change (a fresh seed).
      await page.click('li.line[data-index="0"] button.lock');
      assert.equal(await page.getAttribute('li.line[data-index="0"] button.lock', 'aria-pressed'), 'true');
      await act(() => page.click('#regen-unlocked'));
      const song1 = await texts();
      assert.equal(song1.length, 16);
      assert.equal(song1[0], song0[0], 'the locked line changed');
      assert.ok(song1.some((t, i) => t !== song0[i]), 'no unlocked line changed');
      assert.equal(await page.getAttribute('li.line[data-index="0"] button.lock', 'aria-pressed'), 'true', 'the lock survives the edit');

      // Rewrite line 2 from the keyboard (its ↻ button): only that line changes.
      await page.focus('li.line[data-index="2"] button.regen');
      await act(() => page.keyboard.press('Enter'));
      const song2 = await texts();
      assert.notEqual(song2[2], song1[2], 'line 2 was not rewritten');
      song2.forEach((t, i) => { if (i !== 2) assert.equal(t, song1[i], `line ${i} changed`); });
      assert.ok(await page.evaluate(() => document.activeElement?.matches('li.line[data-index="2"] button.regen')), 'focus left the line');

      // Undo twice -> the first song; redo -> the second.
      await page.click('#undo');
      assert.deepEqual(await texts(), song1);
      await page.click('#undo');
      assert.deepEqual(await texts(), song0);
      assert.equal(await page.isDisabled('#undo'), true);
      await page.click('#redo');
      assert.deepEqual(await texts(), song1);
      await page.click('#redo');
      assert.deepEqual(await texts(), song2);

      // Continue with a chorus: it repeats Chorus 1 under a new heading.
      await page.selectOption('#append', 'C');
      await act(() => page.click('#continue'));
      const song3 = await texts();
      assert.equal(song3.length, 20);
      assert.deepEqual(song3.slice(0, 16), song2);
      assert.deepEqual(song3.slice(16), song2.slice(4, 8));
      assert.ok((await page.$$eval('#output .section-label', (hs) => hs.map((h) => h.textContent))).includes('Chorus 3'));

      // Title suggestions from the lyrics; clicking one sets the title field.
      await act(() => page.click('#suggest-titles'));
      const titles = await page.$$eval('#title-list button', (bs) => bs.map((b) => b.textContent));
      assert.ok(titles.length >= 1, 'no title suggested');
      await page.click('#title-list button >> nth=0');
      assert.equal(await page.inputValue('#title'), titles[0]);

      // Mood: the whole song's label and valence, and a label per line.
      await act(() => page.click('#analyze'));
      assert.match(await page.textContent('#mood-panel'), /Overall: (happy|sad|tender|defiant|calm|neutral) · valence [+-]\d\.\d\d/);
      assert.equal((await page.$$('#output li.line .badge.mood')).length, 20);

      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'lyrics-controls.png'), fullPage: true, animations: 'disabled' });
      await page.setViewportSize({ width: 390, height: 844 });
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the page scrolls sideways on a phone');
      await page.screenshot({ path: path.join(SHOTS, 'lyrics-controls-phone.png'), fullPage: true, animations: 'disabled' });
      assert.deepEqual(problems, []);
      assertLocalOnly(browser.requests, server.url);
    } finally {
      await browser.close();
      server.stop();
    }
  });
});

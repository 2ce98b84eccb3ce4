// The Listen tab in Debian's Chromium (headless, via playwright-core), against the real engine in
// the page's worker. The audio is made here: 6 s of 44.1 kHz stereo 16-bit, the chords C F G C over
// a click track at 120 BPM. Two files are set on the file input at once: the WAV (its bytes go to
// the engine as they are) and the same bytes under a name the page does not take for WAV (decoded by
// the browser with WebAudio, sent as float PCM). Each must show C major, about 120 BPM, a loudness,
// both pictures drawn, the segments with beat ticks, the evidence (12 chroma bars, best keys, tempo
// candidates with half and double) and what is not available yet; the library lists both files,
// and each card's "similar in your library" list names the other file with a similarity near 1.0.
// Nothing may leave 127.0.0.1 and the console stays clean. Screenshot: build/screenshots/listen-tab.png
// (copied to docs/listen-page.png).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, SHOTS, serveRoot, serve, launch, openPage } from './browser.mjs';
import { createEngine } from '../../web/src/index.mjs';
import { ROOT, WASM_DIR, MODELS_DIR, missing, engineOptions } from '../node/helpers.mjs';
import { wavFile, chordSong } from '../node/audio_fixture.mjs';

const RATE = 44100, SECONDS = 6, BPM = 120;
const skip = missing({ models: [] })
  || (!fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)`);

// ------------------------------------------------------------------------------ the test

describe('listen tab in Chromium', { skip, timeout: 300_000 }, () => {
  let root, wav, expected;
  before(async () => {
    root = serveRoot();
    wav = wavFile(chordSong({ rate: RATE, seconds: SECONDS, bpm: BPM, chordSeconds: 1.5 }), RATE);
    // What the engine answers in Node for the same bytes: the page must show this.
    const engine = await createEngine(engineOptions());
    try { expected = await engine.analyzeAudio(wav, { name: 'c-major-120.wav' }); } finally { await engine.close(); }
    assert.equal(expected.key.name, 'C major');
  });
  after(() => { if (root !== ROOT) fs.rmSync(root, { recursive: true, force: true }); });

  test('two files -> key, tempo, loudness, pictures, segments, evidence, library; nothing leaves the page', async () => {
    const server = await serve(root);
    const browser = await launch();
    try {
      const { page, problems } = await openPage(browser.context, server.url);
      assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));

      // 1. Tabs from the keyboard: End selects Listen (the third tab), focus follows, its panel shows.
      await page.focus('#tab-lyrics');
      await page.keyboard.press('End');
      assert.equal(await page.getAttribute('#tab-listen', 'aria-selected'), 'true');
      assert.ok(await page.evaluate(() => document.activeElement?.id === 'tab-listen'), 'focus did not follow the tab');
      assert.equal(await page.getAttribute('#tab-listen', 'tabindex'), '0');
      assert.equal(await page.isVisible('#panel-listen'), true);
      assert.equal(await page.isHidden('#panel-lyrics'), true);
      assert.equal(await page.isHidden('#panel-melody'), true);
      await page.keyboard.press('ArrowLeft');
      assert.equal(await page.getAttribute('#tab-melody', 'aria-selected'), 'true');
      await page.keyboard.press('ArrowRight');
      assert.equal(await page.getAttribute('#tab-listen', 'aria-selected'), 'true');
      assert.match(await page.textContent('#l-status'), /就绪 Ready/);

      // 2. Two files at once: the WAV (bytes to the engine) and the same audio under a name that is
      //    not .wav (decoded by the browser, float PCM to the engine).
      await page.setInputFiles('#l-files', [
        { name: 'c-major-120.wav', mimeType: 'audio/wav', buffer: wav },
        { name: 'c-major-120 (decoded)', mimeType: 'application/octet-stream', buffer: wav },
      ]);
      await page.waitForFunction(() => Number(document.body.dataset.listenOps) >= 2, null, { timeout: 120_000 });
      assert.equal(await page.isHidden('#l-error'), true, await page.textContent('#l-error'));
      assert.equal(await page.$$eval('#l-results .l-result', (els) => els.length), 2);
      assert.equal(await page.$$eval('#l-results .l-result.failed', (els) => els.length), 0,
        await page.$$eval('#l-results .error', (els) => els.map((e) => e.textContent).join('\n')));

      for (const id of ['l-1', 'l-2']) {
        const card = `#${id}`;
        const wavPath = id === 'l-1';
        assert.match(await page.textContent(`${card} .l-state`), /完成 Done/);
        assert.equal(await page.isHidden(`${card} progress`), true);
        // Key with its confidence bar.
        assert.equal(await page.textContent(`${card} .l-key .l-value`), 'C major');
        const keyMeter = Number(await page.getAttribute(`${card} .l-key meter`, 'value'));
        assert.ok(keyMeter > 0.5 && keyMeter <= 1, `key confidence ${keyMeter}`);
        // Tempo near 120 with its confidence.
        const bpm = Number((await page.textContent(`${card} .l-tempo .l-value`)).replace(/\s*BPM$/, ''));
        assert.ok(Math.abs(bpm - BPM) < 2, `tempo ${bpm}`);
        assert.ok(Number(await page.getAttribute(`${card} .l-tempo meter`, 'value')) > 0);
        // Loudness: integrated LUFS, true peak, range.
        const loud = await page.textContent(`${card} .l-loudness`);
        assert.match(loud, /-\d+\.\d LUFS/);
        assert.match(loud, /true peak -?\d+\.\d dBTP/);
        assert.match(loud, /range \d+\.\d LU/);
        if (wavPath) {
          assert.equal(await page.textContent(`${card} .l-loudness .l-value`), `${expected.loudness.integrated_lufs.toFixed(1)} LUFS`);
          assert.equal(await page.textContent(`${card} .l-tempo .l-value`), `${expected.tempo.bpm.toFixed(1)} BPM`);
          assert.match(await page.textContent(`${card} .l-name`), /0:06\.0 · 44100 Hz · 立体声 stereo/);
          assert.match(await page.textContent(`${card} .l-format`), /RIFF pcm_s16/);
        } else {
          assert.match(await page.textContent(`${card} .l-format`), /\d+ Hz · 2 声道 ch/);
        }
        // Both pictures drawn: one pixel a cell, mostly not the colour of 0.
        const pics = await page.evaluate((cardId) => ['chroma', 'mel'].map((name) => {
          const c = document.getElementById(`${cardId}-${name}`);
          if (!c) return null;
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let lit = 0, opaque = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] === 255) opaque++;
            if (d[i] + d[i + 1] + d[i + 2] > 60) lit++;
          }
          return { width: c.width, height: c.height, pixels: d.length / 4, lit, opaque, shown: c.getBoundingClientRect().width };
        }), id);
        for (const [i, name] of ['chroma', 'mel'].entries()) {
          const p = pics[i];
          assert.ok(p, `no ${name} canvas`);
          assert.equal(p.height, name === 'chroma' ? 12 : expected.pictures.mel.rows);
          assert.ok(p.width > 100, `${name} has ${p.width} columns`);
          if (wavPath) assert.equal(p.width, expected.pictures[name].columns);
          assert.equal(p.opaque, p.pixels, `${name}: transparent pixels`);
          assert.ok(p.lit > 0.05 * p.pixels, `${name} is blank: ${p.lit} of ${p.pixels} pixels lit`);
          assert.ok(p.shown > 300, `${name} is shown ${p.shown} px wide`);
        }
        // The chroma picture's brightest rows are the C major triad's (C, E, G), bottom-up.
        const rows = await page.evaluate((cardId) => {
          const c = document.getElementById(`${cardId}-chroma`);
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const sums = [];
          for (let y = 0; y < c.height; y++) { let s = 0; for (let x = 0; x < c.width; x++) { const a = (y * c.width + x) * 4; s += d[a] + d[a + 1] + d[a + 2]; } sums.push(s); }
          return sums.reverse(); // row 0 = C
        }, id);
        const top = rows.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, i]) => i).sort((a, b) => a - b);
        assert.ok(top.includes(0) && top.includes(7), `brightest chroma rows ${top} (C = 0, G = 7)`);
        // Timeline: segments with key labels and loudness heights, beat ticks from tempo.beats.
        const segs = await page.$$eval(`${card} .l-seg`, (els) => els.map((e) => ({ key: e.querySelector('.l-seg-key').textContent, h: e.querySelector('.l-level').style.height })));
        assert.ok(segs.length >= 1);
        if (wavPath) assert.equal(segs.length, expected.segments.length);
        for (const s of segs) { assert.equal(s.key, 'C major'); assert.match(s.h, /^\d+(\.\d+)?%$/); }
        const ticks = await page.$$eval(`${card} .l-beat`, (els) => els.length);
        assert.ok(ticks >= 9 && ticks <= 14, `${ticks} beat ticks`);
        if (wavPath) assert.equal(ticks, expected.tempo.beats.length);
        // Evidence: closed at first; 12 chroma bars, best keys, tempo candidates with half and double.
        assert.equal(await page.getAttribute(`${card} details.l-evidence`, 'open'), null);
        await page.click(`${card} details.l-evidence summary`);
        assert.equal(await page.isVisible(`${card} .chroma-bars`), true);
        const bars = await page.$$eval(`${card} .chroma-bars .cbar`, (els) => els.map((e) => [e.querySelector('.lab').textContent, e.querySelector('.fill').getBoundingClientRect().height]));
        assert.equal(bars.length, 12);
        assert.deepEqual(bars.map(([n]) => n), ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B']);
        const tallest = bars.reduce((a, b) => (b[1] > a[1] ? b : a));
        assert.equal(tallest[0], 'C', `the tallest chroma bar is ${tallest[0]}`);
        const best = await page.$$eval(`${card} .l-best-keys li`, (els) => els.map((e) => e.textContent));
        assert.ok(best.length >= 2 && /^C major · r = 0\.\d{3}$/.test(best[0]), best.join(' | '));
        const cands = await page.$$eval(`${card} .l-candidates tbody tr`, (els) => els.map((e) => e.textContent));
        assert.ok(cands.length >= 3, cands.join(' | '));
        assert.match(cands[0], /选中 chosen/);
        assert.ok(cands.some((c) => /half tempo/.test(c)) && cands.some((c) => /double tempo/.test(c)), cands.join(' | '));
        // Style, mood, instruments: not available yet, with the engine's reasons; no invented values.
        const un = await page.textContent(`${card} .l-unavailable`);
        assert.match(un, /风格 Style、情绪 Mood、乐器 Instruments · 暂不可用 not available yet/);
        for (const reason of Object.values(expected.unavailable)) assert.ok(un.includes(reason), `missing reason: ${reason}`);
        assert.equal(await page.$(`${card} .l-warnings`), null, 'warnings shown for a clean file');
      }

      // 3. The library lists both files (name, key, tempo, loudness); a name leads to its card.
      const lib = await page.$$eval('#l-library-rows tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
      assert.equal(lib.length, 2);
      assert.deepEqual(lib.map((r) => r[0]), ['c-major-120.wav', 'c-major-120 (decoded)']);
      for (const r of lib) {
        assert.equal(r[1], 'C major');
        assert.ok(Math.abs(Number(r[2]) - BPM) < 2, r.join(' | '));
        assert.match(r[3], /^-\d+\.\d LUFS$/);
      }
      await page.click('#l-library-rows tr:first-child a');
      assert.ok(await page.evaluate(() => document.activeElement?.id === 'l-1'), 'the library link did not focus the card');

      // 3b. Similar in your library: each card lists the other file (the same audio) with a
      //     similarity near 1.0 from the engine's similar_tracks; its link focuses that card.
      for (const [id, other, otherName] of [['l-1', 'l-2', 'c-major-120 (decoded)'], ['l-2', 'l-1', 'c-major-120.wav']]) {
        assert.equal(await page.isVisible(`#${id}-similar`), true, `${id}: no similar list`);
        assert.match(await page.textContent(`#${id}-similar h4`), /相似 · Similar in your library/);
        const items = await page.$$eval(`#${id}-similar li`, (els) => els.map((e) => ({
          name: e.querySelector('a').textContent, href: e.querySelector('a').getAttribute('href'),
          sim: e.querySelector('.l-similarity').textContent,
        })));
        assert.equal(items.length, 1, JSON.stringify(items));
        assert.equal(items[0].name, otherName);
        assert.equal(items[0].href, `#${other}`);
        assert.match(items[0].sim, /^-?\d\.\d{2}$/);
        assert.ok(Number(items[0].sim) >= 0.95 && Number(items[0].sim) <= 1.0001, `similarity ${items[0].sim}`);
        await page.click(`#${id}-similar li a`);
        assert.ok(await page.evaluate((o) => document.activeElement?.id === o, other), `the similar link did not focus ${other}`);
      }

      // 4. Screenshots, and no sideways scrolling on a phone.
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.click('#l-2 details.l-evidence summary'); // one card's evidence open, one closed
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(SHOTS, 'listen-tab.png'), fullPage: true, animations: 'disabled' });
      fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
      fs.copyFileSync(path.join(SHOTS, 'listen-tab.png'), path.join(ROOT, 'docs', 'listen-page.png'));
      await page.setViewportSize({ width: 390, height: 844 });
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the page scrolls sideways on a phone');
      await page.screenshot({ path: path.join(SHOTS, 'listen-tab-phone.png'), fullPage: true, animations: 'disabled' });

      // 5. A file that is not audio: its card says why; the library keeps only the analysed files.
      await page.setViewportSize({ width: 1000, height: 900 });
      await page.setInputFiles('#l-files', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not audio at all\n') });
      await page.waitForFunction(() => Number(document.body.dataset.listenOps) >= 3, null, { timeout: 60_000 });
      assert.equal(await page.$$eval('#l-results .l-result.failed', (els) => els.length), 1);
      assert.match(await page.textContent('#l-3 .error'), /出错了 Error: \[\w+\]/);
      assert.equal(await page.$$eval('#l-library-rows tr', (trs) => trs.length), 2);
      assert.equal(await page.isVisible('#l-3-similar'), false, 'a failed card shows a similar list');
      assert.equal(await page.$$eval('#l-1-similar li', (els) => els.length), 1);

      // 6. Nothing left the origin; no errors in the console.
      assert.deepEqual(problems, []);
      const origin = new URL(server.url).origin;
      assert.deepEqual(browser.requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob):/.test(u)), [], 'requests left 127.0.0.1');
    } finally {
      await browser.close();
      server.stop();
    }
  });
});

// The Melody tab in Debian's Chromium (headless, via playwright-core), against the real engine in
// the page's worker: write lyrics in the Lyrics tab, switch tabs from the keyboard, set the lyrics
// to a melody, check the abcjs score (notes and the lyric syllables under them) against what the
// Node engine answers for the same request, download MIDI / MusicXML / ABC, play and stop, select
// bars by clicking the score, transpose and undo. Nothing may leave 127.0.0.1 (abcjs comes from
// node_modules on the same server). Screenshot: build/screenshots/melody-tab.png.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, SHOTS, serveRoot, serve, launch, openPage } from './browser.mjs';
import { createEngine, midiBytes } from '../../web/src/index.mjs';
import { ROOT, WASM_DIR, MODELS_DIR, missing, engineOptions, HAN } from '../node/helpers.mjs';

const ABCJS = path.join(ROOT, 'node_modules', 'abcjs', 'dist', 'abcjs-basic-min.js');
const LYRICS = { title: '我爱你', style: '流行音乐', lines: 4, seed: 1, temperature: 0.6 };
const MELODY = { key: 'G', mode: 'major', style: 'song', seed: 3, accompaniment: 'none' };
const skip = missing({ models: ['lyrics-zh'] })
  || (!fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)`)
  || (!fs.existsSync(ABCJS) && 'no node_modules/abcjs (npm ci)');

// Syllables as the score shows them: no word-continuation hyphens, no spaces.
const bare = (s) => String(s).replace(/[-\s]/g, '');

describe('melody tab in Chromium', { skip, timeout: 400_000 }, () => {
  let root, song, expected, transposed;
  before(async () => {
    root = serveRoot();
    // What the engine answers in Node for the same requests: the page must show and offer exactly this.
    const engine = await createEngine(engineOptions());
    try {
      song = await engine.generateLyrics(LYRICS);
      expected = await engine.generateMelody({ lyrics: song.lines, title: song.title || undefined, ...MELODY });
      transposed = await engine.editMelody(expected, 'transpose', { semitones: 1 });
    } finally { await engine.close(); }
  });
  after(() => { if (root !== ROOT) fs.rmSync(root, { recursive: true, force: true }); });

  test('lyrics -> Melody tab -> score with syllables, downloads, play, bar selection, transpose, undo', async () => {
    const server = await serve(root);
    const browser = await launch({ acceptDownloads: true, locale: 'en-US' });
    try {
      const { page, problems } = await openPage(browser.context, server.url);
      assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
      assert.equal(await page.evaluate(() => typeof globalThis.ABCJS?.renderAbc), 'function', 'abcjs did not load');

      // 1. Lyrics tab: write a song.
      await page.fill('#title', LYRICS.title);
      await page.fill('#lines', String(LYRICS.lines));
      await page.fill('#seed', String(LYRICS.seed));
      await page.click('#generate');
      await page.waitForFunction(() => Number(document.body.dataset.ops) >= 1, null, { timeout: 120_000 });
      assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
      assert.deepEqual(await page.$$eval('#output li.line .text', (els) => els.map((e) => e.textContent)), song.lines.map((l) => l.text));

      // 2. Tabs from the keyboard: → selects Melody, its panel shows, the lyrics panel hides.
      assert.equal(await page.getAttribute('#tab-lyrics', 'aria-selected'), 'true');
      await page.focus('#tab-lyrics');
      await page.keyboard.press('ArrowRight');
      assert.equal(await page.getAttribute('#tab-melody', 'aria-selected'), 'true');
      assert.equal(await page.getAttribute('#tab-lyrics', 'aria-selected'), 'false');
      assert.ok(await page.evaluate(() => document.activeElement?.id === 'tab-melody'), 'focus did not follow the tab');
      assert.equal(await page.isVisible('#panel-melody'), true);
      assert.equal(await page.isHidden('#panel-lyrics'), true);
      assert.equal(await page.getAttribute('#tab-melody', 'tabindex'), '0');
      assert.equal(await page.getAttribute('#tab-lyrics', 'tabindex'), '-1');
      // The lyrics just written fill the box; bars are set by the lyrics.
      assert.equal(await page.inputValue('#m-lyrics'), song.lyrics);
      assert.equal(await page.isDisabled('#m-bars'), true);
      // Typing other lyrics offers "use these lyrics" to go back.
      await page.fill('#m-lyrics', '别的歌词');
      assert.equal(await page.isVisible('#m-use-lyrics'), true);
      await page.click('#m-use-lyrics');
      assert.equal(await page.inputValue('#m-lyrics'), song.lyrics);
      assert.equal(await page.isHidden('#m-use-lyrics'), true);

      // 3. Generate: the score shows the notes and, under them, the syllables the engine set.
      let mops = 0;
      const act = async (fn) => {
        mops += 1;
        await fn();
        await page.waitForFunction((n) => Number(document.body.dataset.melodyOps) >= n, mops, { timeout: 120_000 });
        assert.equal(await page.isHidden('#m-error'), true, await page.textContent('#m-error'));
      };
      await page.selectOption('#m-key', MELODY.key);
      await page.selectOption('#m-mode', MELODY.mode);
      await page.selectOption('#m-style', MELODY.style);
      await page.fill('#m-seed', String(MELODY.seed));
      await act(() => page.click('#m-generate'));
      assert.match(await page.textContent('#m-status'), /^Done: /);
      const syllables = expected.notes.filter((n) => n.syllable).map((n) => n.syllable);
      assert.ok(syllables.length > 0 && syllables.every((s) => HAN.test(s)), 'the engine set no Chinese syllables');
      const score = async () => page.evaluate(() => {
        const svg = document.querySelector('#m-notation svg');
        return {
          svg: !!svg,
          notes: document.querySelectorAll('#m-notation svg .abcjs-note').length,
          lyrics: [...document.querySelectorAll('#m-notation svg .abcjs-lyric')].map((e) => e.textContent),
          html: document.getElementById('m-notation').innerHTML,
        };
      });
      const s0 = await score();
      assert.ok(s0.svg, 'no SVG score');
      assert.ok(s0.notes >= expected.notes.length, `score shows ${s0.notes} notes, the melody has ${expected.notes.length}`);
      assert.equal(bare(s0.lyrics.join('')), bare(syllables.join('')), 'the syllables under the notes are not the engine\'s');
      assert.match(await page.textContent('#m-meta'), new RegExp(`${expected.key.tonic} ${expected.key.mode} · ${expected.meter} · ♩=${expected.tempo} · song · ${expected.bars} bars · seed ${MELODY.seed}`));
      // Checks in brief.
      const checks = await page.textContent('#m-checks');
      assert.match(checks, /in key \d+% · alignment \d+% · cadence \d+%/);
      if (expected.checks.tones != null) assert.match(checks, /tones \d+%/);

      // 4. Downloads: the engine's files, byte for byte.
      const download = async (id) => {
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click(id)]);
        return { name: dl.suggestedFilename(), data: fs.readFileSync(await dl.path()) };
      };
      const mid = await download('#m-dl-midi');
      assert.ok(mid.data.length > 14 && mid.data.subarray(0, 4).toString('latin1') === 'MThd', 'the MIDI file does not start with MThd');
      assert.deepEqual(new Uint8Array(mid.data), midiBytes(expected));
      assert.match(mid.name, /\.mid$/);
      const xml = await download('#m-dl-musicxml');
      assert.ok(xml.data.length > 0);
      assert.equal(xml.data.toString('utf8'), expected.musicxml);
      assert.match(xml.name, /\.musicxml$/);
      const abc = await download('#m-dl-abc');
      assert.equal(abc.data.toString('utf8'), expected.abc);
      assert.match(abc.name, /\.abc$/);

      // 5. Play (WebAudio) highlights the note being played; Stop ends it.
      await page.click('#m-play');
      await page.waitForSelector('#m-notation .m-playing', { timeout: 10_000 });
      assert.equal(await page.isEnabled('#m-stop'), true);
      await page.click('#m-stop');
      await page.waitForFunction(() => document.body.dataset.playing === 'false' && !document.querySelector('#m-notation .m-playing'));
      assert.equal(await page.isEnabled('#m-play'), true);

      // 6. Clicking a note of the score selects its bar for "regenerate bars".
      const bar = Math.min(1, expected.bars - 1);
      // abcjs finds the nearest element to the pointer on its <svg>: click at the note.
      await page.click(`#m-notation svg .abcjs-note.abcjs-mm${bar} >> nth=0`, { force: true });
      assert.equal(await page.inputValue('#m-from'), String(bar + 1));
      assert.equal(await page.inputValue('#m-to'), String(bar + 1));
      assert.ok((await page.$$('#m-notation .m-sel')).length > 0, 'the selected bar is not marked');

      // 7. Transpose up a semitone: other notes, the engine's transposed melody; undo brings back the first.
      await act(() => page.click('#m-up'));
      const s1 = await score();
      assert.notEqual(s1.html, s0.html, 'the score did not change');
      assert.match(await page.textContent('#m-meta'), new RegExp(`${transposed.key.tonic} ${transposed.key.mode}`));
      assert.equal((await download('#m-dl-abc')).data.toString('utf8'), transposed.abc);
      assert.deepEqual(new Uint8Array((await download('#m-dl-midi')).data), midiBytes(transposed));
      assert.equal(bare(s1.lyrics.join('')), bare(syllables.join('')), 'transposing changed the syllables');
      await page.click('#m-undo');
      assert.equal((await download('#m-dl-abc')).data.toString('utf8'), expected.abc);
      assert.equal(await page.isDisabled('#m-undo'), true);

      // 8. Regenerate the selected bar (a fresh seed): the engine answers, the syllables stay.
      await act(() => page.click('#m-regen-bars'));
      assert.equal(bare((await score()).lyrics.join('')), bare(syllables.join('')), 'regenerating a bar changed the syllables');
      assert.equal(await page.isEnabled('#m-undo'), true);

      fs.mkdirSync(SHOTS, { recursive: true });
      await page.click('#m-undo');
      await page.screenshot({ path: path.join(SHOTS, 'melody-tab.png'), fullPage: true, animations: 'disabled' });
      await page.setViewportSize({ width: 390, height: 844 });
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the page scrolls sideways on a phone');
      await page.screenshot({ path: path.join(SHOTS, 'melody-tab-phone.png'), fullPage: true, animations: 'disabled' });

      assert.deepEqual(problems, []);
      const origin = new URL(server.url).origin;
      assert.deepEqual(browser.requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob):/.test(u)), [], 'requests left 127.0.0.1');
      assert.ok(browser.requests.some((u) => u.endsWith('/node_modules/abcjs/dist/abcjs-basic-min.js')), 'abcjs was not served by the page\'s server');
    } finally {
      await browser.close();
      server.stop();
    }
  });
});

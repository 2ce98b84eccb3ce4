// The README's pictures of the web app: starts tools/serve.mjs (port 0), drives Debian's Chromium
// through the test harness (tests/browser/browser.mjs), writes a song, sets it to a melody and
// analyses a WAV (made here, tests/node/audio_fixture.mjs), and saves
//   docs/lyrics-page.png, docs/melody-page.png, docs/listen-page.png   (desktop, English interface)
//   docs/phone-page.png                                                 (375x740, Chinese interface)
// Usage: node tools/screenshots.mjs [--out DIR]  (needs dist/wasm, the models, node_modules/abcjs and
// /usr/bin/chromium or $CHROMIUM).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveRoot, serve, launch, openPage } from '../tests/browser/browser.mjs';
import { ROOT } from '../tests/node/helpers.mjs';
import { wavFile, chordSong } from '../tests/node/audio_fixture.mjs';

const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(ROOT, 'docs');
const DESKTOP = { width: 1000, height: 900 };
const PHONE = { width: 375, height: 740 };
const SONG = { title: 'Summer Rain', style: '民谣', structure: 'V C V C', rhyme: 'AABB', seed: '7' };

/** Waits until body[data-<counter>] reaches n (the page bumps it when an engine call has finished). */
const until = (page, counter, n, timeout = 180_000) =>
  page.waitForFunction(([c, k]) => Number(document.body.dataset[c]) >= k, [counter, n], { timeout });

async function check(page, errorId) {
  if (!(await page.isHidden(errorId))) throw new Error(`${errorId}: ${await page.textContent(errorId)}`);
}

/** A screenshot of the whole page, or of its top `maxHeight` pixels. */
async function shot(page, name, maxHeight = Infinity) {
  const file = path.join(OUT, name);
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const width = page.viewportSize().width;
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', clip: { x: 0, y: 0, width, height: Math.min(height, maxHeight) } });
  console.log(`wrote ${path.relative(ROOT, file)}`);
}

const root = serveRoot();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-shots-'));
const wavPath = path.join(dir, 'c-major-120.wav');
fs.writeFileSync(wavPath, wavFile(chordSong({ rate: 44100, seconds: 8, bpm: 120, chordSeconds: 2 }), 44100));
fs.mkdirSync(OUT, { recursive: true });
const server = await serve(root);
const browser = await launch({ locale: 'en-US', viewport: DESKTOP });
try {
  const { page, problems } = await openPage(browser.context, server.url);
  await page.selectOption('#ui-lang', 'en');

  // Lyrics: a structured, rhymed song, its mood read.
  await page.fill('#title', SONG.title);
  await page.selectOption('#style', SONG.style);
  await page.fill('#structure', SONG.structure);
  await page.selectOption('#rhyme', SONG.rhyme);
  await page.fill('#seed', SONG.seed);
  await page.click('#generate');
  await until(page, 'ops', 1);
  await check(page, '#error');
  await page.click('#analyze');
  await until(page, 'ops', 2);
  await check(page, '#error');
  await page.evaluate(() => document.activeElement?.blur());
  await shot(page, 'lyrics-page.png');

  // Melody: the song's lines set to a tune with an accompaniment.
  await page.click('#tab-melody');
  await page.selectOption('#m-key', 'G');
  await page.selectOption('#m-accompaniment', 'pattern');
  await page.fill('#m-seed', '3');
  await page.click('#m-generate');
  await until(page, 'melodyOps', 1);
  await check(page, '#m-error');
  await page.evaluate(() => document.activeElement?.blur());
  await shot(page, 'melody-page.png');

  // Listen: one WAV analysed (the page up to the card's timeline; the evidence stays closed).
  await page.click('#tab-listen');
  await page.setInputFiles('#l-files', wavPath);
  await until(page, 'listenOps', 1);
  await page.waitForFunction(() => Number(document.body.dataset.listenSimilar || 0) >= 1 || document.body.dataset.listenBusy === 'false', null, { timeout: 60_000 });
  await check(page, '#l-error');
  if (await page.$('#l-results .l-result.failed')) throw new Error(await page.textContent('#l-results'));
  await page.evaluate(() => document.activeElement?.blur());
  const listenBottom = await page.evaluate(() => {
    const card = document.querySelector('#l-results .l-result');
    const last = card.querySelector('details.l-evidence') || card;
    return Math.ceil(last.getBoundingClientRect().bottom + window.scrollY + 28);
  });
  await shot(page, 'listen-page.png', listenBottom);

  // Phone: the Chinese interface (the header's switch), the Listen tab as a phone shows it.
  await page.selectOption('#ui-lang', 'zh');
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(300);
  await page.evaluate(() => window.scrollTo(0, 0));
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > PHONE.width) throw new Error(`the phone page is ${wide} px wide`);
  await page.screenshot({ path: path.join(OUT, 'phone-page.png'), animations: 'disabled' });
  console.log(`wrote ${path.relative(ROOT, path.join(OUT, 'phone-page.png'))}`);
  await page.selectOption('#ui-lang', 'en'); // (the profile is thrown away anyway)
  if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
} finally {
  await browser.close();
  server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  if (root !== ROOT) fs.rmSync(root, { recursive: true, force: true });
}

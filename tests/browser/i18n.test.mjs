// The page's interface language, accessibility and phone layout in Debian's Chromium (headless, via
// playwright-core), against the real engine in the page's worker:
// - the default follows the browser (en-US -> English, zh-CN -> Chinese); the header's switch
//   changes the tab names, the buttons, <html lang> and the status line in place, without losing
//   what was typed or generated; the choice survives a reload;
// - in each language every visible button, input, select and textarea of every tab (with a song, a
//   melody and an analysis shown) has a non-empty accessible name;
// - the tabs follow the WAI-ARIA tabs pattern (tablist/tab/tabpanel, aria-selected, aria-controls,
//   roving tabindex, arrow keys, Home/End);
// - at 375x740 no tab's content is wider than the screen.
// Screenshots: build/screenshots/i18n-*.png.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, SHOTS, serveRoot, serve, launch, openPage } from './browser.mjs';
import { ROOT, missing, HAN } from '../node/helpers.mjs';
import { wavFile, chordSong } from '../node/audio_fixture.mjs';

const ABCJS = path.join(ROOT, 'node_modules', 'abcjs', 'dist', 'abcjs-basic-min.js');
const skip = missing({ models: ['lyrics-zh'] })
  || (!fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)`)
  || (!fs.existsSync(ABCJS) && 'no node_modules/abcjs (npm ci)');

const TABS = ['lyrics', 'melody', 'listen'];

/** The visible form controls of the shown tab panel and the header that have no accessible name. */
function unnamedControls(page) {
  return page.evaluate(() => {
    const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length) && getComputedStyle(e).visibility !== 'hidden';
    const text = (e) => (e?.textContent || '').replace(/\s+/g, ' ').trim();
    const name = (e) => {
      const by = e.getAttribute('aria-labelledby');
      if (by) { const s = by.split(/\s+/).map((id) => text(document.getElementById(id))).join(' ').trim(); if (s) return s; }
      const aria = (e.getAttribute('aria-label') || '').trim();
      if (aria) return aria;
      if (e.labels?.length) { const s = [...e.labels].map(text).join(' ').trim(); if (s) return s; }
      if (e.tagName === 'BUTTON' || e.tagName === 'SUMMARY') { const s = text(e); if (s) return s; }
      return (e.getAttribute('title') || '').trim();
    };
    const scope = [document.querySelector('header'), document.querySelector('[role="tabpanel"]:not([hidden])')];
    const out = [];
    for (const root of scope) {
      for (const e of root.querySelectorAll('button, input, select, textarea, summary, [tabindex="0"]')) {
        if (!visible(e) || e.closest('[hidden]')) continue;
        if (!name(e)) out.push(`${e.tagName.toLowerCase()}#${e.id || ''}.${e.className || ''}`);
      }
    }
    return out;
  });
}

/** Text the page itself shows in the tab bar and on the main buttons. */
const chrome = (page) => page.evaluate(() => ({
  lang: document.documentElement.lang,
  tabs: [...document.querySelectorAll('[role="tab"]')].map((t) => t.textContent.trim()),
  generate: document.getElementById('generate').textContent.trim(),
  mGenerate: document.getElementById('m-generate').textContent.trim(),
  status: document.getElementById('status').textContent,
  titleLabel: document.querySelector('label[for="title"]').textContent.trim(),
  switchValue: document.getElementById('ui-lang').value,
  docTitle: document.title,
}));

describe('interface language, accessibility and phone layout in Chromium', { skip, timeout: 400_000 }, () => {
  let root, dir, wavPath;
  before(() => {
    root = serveRoot();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-i18n-'));
    wavPath = path.join(dir, 'chords.wav');
    fs.writeFileSync(wavPath, wavFile(chordSong({ rate: 22050, seconds: 4, bpm: 120, chordSeconds: 1 }), 22050));
  });
  after(() => {
    if (root !== ROOT) fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a Chinese browser gets the Chinese interface', async () => {
    const server = await serve(root);
    const browser = await launch({ locale: 'zh-CN' });
    try {
      const { page, problems } = await openPage(browser.context, server.url);
      const c = await chrome(page);
      assert.equal(c.lang, 'zh-Hans');
      assert.deepEqual(c.tabs, ['歌词', '旋律', '听歌']);
      assert.equal(c.generate, '写歌词');
      assert.equal(c.switchValue, 'zh');
      assert.match(c.status, /^就绪 · /);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      server.stop();
    }
  });

  test('switch both ways in place, the choice survives a reload; names, tabs pattern, phone width', async () => {
    const server = await serve(root);
    const browser = await launch({ locale: 'en-US' });
    try {
      const { page, problems } = await openPage(browser.context, server.url);

      // 1. English by default (the browser's language), every piece of chrome in English.
      let c = await chrome(page);
      assert.equal(c.lang, 'en');
      assert.deepEqual(c.tabs, ['Lyrics', 'Melody', 'Listen']);
      assert.equal(c.generate, 'Write lyrics');
      assert.equal(c.titleLabel, 'Title');
      assert.match(c.status, /^Ready · (threads|single thread) \+ SIMD/);
      assert.ok(!HAN.test(c.tabs.join('') + c.generate + c.mGenerate + c.titleLabel + c.status), 'Chinese in the English interface');
      // The switch is a labelled select in the header, reachable from the keyboard.
      assert.equal(await page.evaluate(() => document.getElementById('ui-lang').labels[0].textContent.trim()), 'Interface language');
      await page.focus('#ui-lang');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'ui-lang');

      // 2. Something typed and something generated, then switch to Chinese: they stay, the chrome changes.
      await page.fill('#title', 'Summer Rain');
      await page.fill('#lines', '2');
      await page.fill('#seed', '4');
      await page.click('#generate');
      await page.waitForFunction(() => Number(document.body.dataset.ops) >= 1, null, { timeout: 120_000 });
      assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
      const lines = await page.$$eval('#output li.line .text', (els) => els.map((e) => e.textContent));
      assert.equal(lines.length, 2);
      assert.match(await page.textContent('#status'), /^Done: 2 lines in \d+\.\d s · /);
      assert.equal(await page.getAttribute('li.line[data-index="1"] button.regen', 'aria-label'), 'Rewrite line 2');
      await page.fill('#keywords', 'river');

      await page.selectOption('#ui-lang', 'zh');
      c = await chrome(page);
      assert.equal(c.lang, 'zh-Hans');
      assert.deepEqual(c.tabs, ['歌词', '旋律', '听歌']);
      assert.equal(c.generate, '写歌词');
      assert.equal(c.mGenerate, '谱曲');
      assert.equal(c.titleLabel, '歌名');
      assert.match(c.docTitle, /写歌/);
      assert.match(c.status, /^完成：2 行，用时 \d+\.\d 秒 · /, 'the status line follows the switch');
      assert.equal(await page.getAttribute('li.line[data-index="1"] button.regen', 'aria-label'), '重写第 2 行');
      assert.equal(await page.getAttribute('#seed', 'placeholder'), '随机');
      assert.deepEqual(await page.$$eval('#output li.line .text', (els) => els.map((e) => e.textContent)), lines, 'the song changed');
      assert.equal(await page.inputValue('#title'), 'Summer Rain');
      assert.equal(await page.inputValue('#keywords'), 'river');
      assert.equal(await page.textContent('#song-title'), 'Summer Rain', 'the song\'s title was translated');
      // Values the engine expects are not translated.
      assert.deepEqual(await page.$$eval('#style option', (os) => os.map((o) => o.value)),
        ['流行音乐', '摇滚', '民谣', '古风', '抒情', 'hymn', "children's song", '']);

      // 3. The choice survives a reload (localStorage), whatever the browser's language.
      await page.reload();
      await page.waitForFunction(() => !document.getElementById('generate').disabled);
      c = await chrome(page);
      assert.equal(c.lang, 'zh-Hans');
      assert.equal(c.switchValue, 'zh');
      assert.deepEqual(c.tabs, ['歌词', '旋律', '听歌']);
      assert.match(c.status, /^就绪 · /);

      // 4. Content in every tab: a song, its melody, an analysis (in Chinese).
      await page.fill('#title', '春雨');
      await page.fill('#lines', '4');
      await page.fill('#seed', '2');
      await page.click('#generate');
      await page.waitForFunction(() => Number(document.body.dataset.ops) >= 1, null, { timeout: 120_000 });
      await page.click('#analyze');
      await page.waitForFunction(() => Number(document.body.dataset.ops) >= 2, null, { timeout: 60_000 });
      assert.match(await page.textContent('#mood-panel'), /整体：/);
      await page.click('#tab-melody');
      await page.fill('#m-seed', '1');
      await page.click('#m-generate');
      await page.waitForFunction(() => Number(document.body.dataset.melodyOps) >= 1, null, { timeout: 120_000 });
      assert.equal(await page.isHidden('#m-error'), true, await page.textContent('#m-error'));
      assert.match(await page.textContent('#m-checks'), /调内 \d+%/);
      await page.click('#tab-listen');
      await page.setInputFiles('#l-files', wavPath);
      await page.waitForFunction(() => Number(document.body.dataset.listenOps) >= 1, null, { timeout: 120_000 });
      assert.match(await page.textContent('#l-results .l-result .l-state'), /^完成，用时/, await page.textContent('#l-results'));
      assert.match(await page.textContent('#l-results .l-key dt'), /^调$/);

      // 5. Accessible names, in both languages, on every tab.
      for (const lang of ['zh', 'en']) {
        await page.selectOption('#ui-lang', lang);
        for (const tab of TABS) {
          await page.click(`#tab-${tab}`);
          assert.deepEqual(await unnamedControls(page), [], `${lang}, ${tab}: controls without an accessible name`);
        }
      }
      // Back in English, what each tab drew was drawn again in English.
      assert.match(await page.textContent('#l-results .l-result .l-state'), /^Done in \d+\.\d s$/);
      assert.equal(await page.textContent('#l-results .l-key dt'), 'Key');
      assert.match(await page.textContent('#m-checks'), /in key \d+% · alignment \d+%/);
      assert.match(await page.textContent('#mood-panel'), /Overall: /);
      assert.ok(!HAN.test(await page.textContent('#l-results .l-facts')), 'Chinese left in the Listen card');

      // 6. The tabs pattern: roles, aria-selected/aria-controls, one tab stop, arrow keys, Home/End.
      const tabsState = () => page.evaluate(() => ({
        list: document.querySelector('[role="tablist"]')?.getAttribute('aria-label'),
        tabs: [...document.querySelectorAll('[role="tablist"] [role="tab"]')].map((t) => ({
          id: t.id, selected: t.getAttribute('aria-selected'), tabindex: t.getAttribute('tabindex'),
          panel: document.getElementById(t.getAttribute('aria-controls'))?.getAttribute('role'),
          panelHidden: document.getElementById(t.getAttribute('aria-controls'))?.hidden,
          labelledBy: document.getElementById(t.getAttribute('aria-controls'))?.getAttribute('aria-labelledby'),
        })),
        focus: document.activeElement?.id,
      }));
      await page.click('#tab-lyrics');
      let s = await tabsState();
      assert.ok(s.list, 'the tablist has no name');
      assert.equal(s.tabs.length, 3);
      for (const tb of s.tabs) { assert.equal(tb.panel, 'tabpanel'); assert.equal(tb.labelledBy, tb.id); }
      const expectSelected = (st, name) => {
        for (const tb of st.tabs) {
          const on = tb.id === `tab-${name}`;
          assert.equal(tb.selected, String(on), `${tb.id} aria-selected`);
          assert.equal(tb.tabindex, on ? '0' : '-1', `${tb.id} tabindex`);
          assert.equal(tb.panelHidden, !on, `${tb.id} panel`);
        }
      };
      expectSelected(s, 'lyrics');
      await page.focus('#tab-lyrics');
      for (const [key, name] of [['ArrowRight', 'melody'], ['ArrowRight', 'listen'], ['ArrowRight', 'lyrics'], ['ArrowLeft', 'listen'], ['Home', 'lyrics'], ['End', 'listen'], ['ArrowLeft', 'melody']]) {
        await page.keyboard.press(key);
        s = await tabsState();
        expectSelected(s, name);
        assert.equal(s.focus, `tab-${name}`, `${key}: focus did not follow`);
      }
      // Tab from the tab moves into the panel's content, not to the other tabs.
      await page.keyboard.press('Tab');
      assert.ok(await page.evaluate(() => !!document.activeElement?.closest('#panel-melody')), 'Tab did not enter the panel');

      // 7. A phone (375x740): no tab is wider than the screen, in either language.
      await page.setViewportSize({ width: 375, height: 740 });
      fs.mkdirSync(SHOTS, { recursive: true });
      for (const lang of ['en', 'zh']) {
        await page.selectOption('#ui-lang', lang);
        for (const tab of TABS) {
          await page.click(`#tab-${tab}`);
          await page.waitForTimeout(100); // the score redraws for a narrow screen
          const w = await page.evaluate(() => {
            const wide = [...document.querySelectorAll('body *')].filter((e) => {
              const r = e.getBoundingClientRect();
              return r.width > 0 && r.right > innerWidth + 1 && !e.parentElement.closest('.table-wrap, .notation');
            }).slice(0, 5).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className?.baseVal ?? e.className}`);
            return { scroll: document.documentElement.scrollWidth, inner: innerWidth, wide };
          });
          assert.ok(w.scroll <= w.inner, `${lang}, ${tab}: the page is ${w.scroll} px wide on a ${w.inner} px screen (${w.wide.join(', ')})`);
          assert.deepEqual(w.wide, [], `${lang}, ${tab}: elements past the right edge`);
          await page.screenshot({ path: path.join(SHOTS, `i18n-${tab}-${lang}-phone.png`), fullPage: true, animations: 'disabled' });
        }
      }
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      server.stop();
    }
  });
});

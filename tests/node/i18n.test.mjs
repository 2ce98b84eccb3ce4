// The page's interface strings (web/i18n.mjs): the Chinese and English tables have the same keys,
// no empty entry, the same {placeholders} in both languages; every key the page uses (data-i18n*
// in web/index.html, t()/msg()/setText()/... in web/*.mjs) is in the table; the module imports in
// Node (no DOM at its top level) and picks the language as the page does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers.mjs';
import { STRINGS, LANGS, t, msg, has, detectLang, placeholders, getLang } from '../../web/i18n.mjs';

const WEB = path.join(ROOT, 'web');

test('the zh and en tables have the same keys, none empty, the same placeholders', () => {
  assert.deepEqual(LANGS, ['zh', 'en']);
  const zh = Object.keys(STRINGS.zh).sort(), en = Object.keys(STRINGS.en).sort();
  assert.deepEqual(zh.filter((k) => !en.includes(k)), [], 'keys in zh but not in en');
  assert.deepEqual(en.filter((k) => !zh.includes(k)), [], 'keys in en but not in zh');
  for (const l of LANGS) {
    for (const [k, v] of Object.entries(STRINGS[l])) {
      assert.equal(typeof v, 'string', `${l}.${k} is not a string`);
      assert.ok(v.trim().length > 0, `${l}.${k} is empty`);
    }
  }
  for (const k of en) assert.deepEqual(placeholders(STRINGS.zh[k]), placeholders(STRINGS.en[k]), `placeholders of ${k} differ`);
});

test('the Chinese table is Chinese and the English one is not (no bilingual leftovers)', () => {
  const HAN = /\p{Script=Han}/u;
  // Keys whose Chinese text is legitimately without Han characters (numbers, symbols only).
  const SYMBOLS = new Set(['nMegabytes', 'working', 'stepOf', 'listSep']);
  for (const [k, v] of Object.entries(STRINGS.en)) assert.ok(!HAN.test(v), `en.${k} holds Chinese: ${v}`);
  for (const [k, v] of Object.entries(STRINGS.zh)) {
    if (SYMBOLS.has(k)) continue;
    assert.ok(HAN.test(v), `zh.${k} has no Chinese: ${v}`);
  }
});

test('every key the page uses is in the table', () => {
  const used = new Set();
  const html = fs.readFileSync(path.join(WEB, 'index.html'), 'utf8');
  for (const m of html.matchAll(/data-i18n(?:-[a-z-]+)?="([^"{]+)"/g)) used.add(m[1]);
  const calls = /\b(?:t|tx|msg|has|setStatus|setFailed)\(\s*'([A-Za-z_]+)'|\bsetText\([^,()]+(?:\([^()]*\))?,\s*'([A-Za-z_]+)'|\bshow\('[a-z]+',\s*'([A-Za-z]+)'|progress\([^,]+,\s*'([a-z]+)'\)|\?\s*'([A-Za-z]+)'\s*:\s*'([A-Za-z]+)'/g;
  for (const f of ['app.mjs', 'melody.mjs', 'listen.mjs', 'library.mjs', 'pwa.mjs']) {
    const src = fs.readFileSync(path.join(WEB, f), 'utf8');
    for (const m of src.matchAll(calls)) for (const k of m.slice(1)) if (k) used.add(k);
  }
  assert.ok(used.size > 150, `only ${used.size} keys found: the scan is broken`);
  // Ternaries of plain words that are not keys (CSS classes, states).
  const notKeys = new Set(['chosen', 'present', 'absent', 'met', 'unmet', 'major', 'minor', 'regen', 'lock', 'lines', 'unsupported']);
  const missing = [...used].filter((k) => !has(k) && !notKeys.has(k));
  assert.deepEqual(missing, [], 'keys used by the page but missing from web/i18n.mjs');
  // The labels' names (mood_*, acc_*, ls_/lm_/lf_) are looked up by prefix.
  for (const m of ['happy', 'sad', 'tender', 'defiant', 'calm', 'neutral']) assert.ok(has(`mood_${m}`), m);
  for (const a of ['none', 'block', 'arpeggio', 'pattern']) assert.ok(has(`acc_${a}`), a);
});

test('t() fills placeholders, nested messages and falls back to the key', () => {
  assert.equal(t('ready', { build: msg('buildSt') }, 'en'), 'Ready · single thread + SIMD (page not cross-origin isolated)');
  assert.equal(t('ready', { build: msg('buildMt', { threads: 2 }) }, 'zh'), '就绪 · 多线程 + SIMD（跨源隔离）×2');
  assert.equal(t('done', { detail: msg('nLines', { n: 8 }), secs: '1.5', build: 'x' }, 'en'), 'Done: 8 lines in 1.5 s · x');
  assert.equal(t('error', { code: '[bad] ', message: 'no' }, 'zh'), '出错了：[bad] no');
  assert.equal(t('no-such-key'), 'no-such-key');
  assert.deepEqual(msg('ready'), { k: 'ready' });
});

test('the language: a stored choice wins, else zh* is Chinese and anything else English', () => {
  assert.equal(detectLang({ stored: 'zh', language: 'en-US' }), 'zh');
  assert.equal(detectLang({ stored: 'en', language: 'zh-CN' }), 'en');
  assert.equal(detectLang({ stored: 'fr', language: 'zh-TW' }), 'zh');
  assert.equal(detectLang({ language: 'zh' }), 'zh');
  assert.equal(detectLang({ language: 'zh-Hans-CN' }), 'zh');
  assert.equal(detectLang({ language: 'en-GB' }), 'en');
  assert.equal(detectLang({ language: 'ja' }), 'en');
  assert.equal(detectLang({}), 'en');
  assert.ok(LANGS.includes(getLang()));
});

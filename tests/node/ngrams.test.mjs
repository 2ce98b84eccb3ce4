// The originality index's JS side (tools/lyrics/copy_check.mjs, build_ngrams.mjs): hashes equal to
// the ones tests/cpp/test_ngram_index.cpp hard-codes for the C++ side, normalisation, the shipped
// filters read back in JS, the manifest patch, and (with build/data) the exact checker.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { bloomProbes, copiedRuns, dataFiles, hashUnits, loadExactIndex, normalise, splitmix64 } from '../../tools/lyrics/copy_check.mjs';
import { estimatedFpRate, patchManifestKey } from '../../tools/lyrics/build_ngrams.mjs';
import { MODELS_DIR, rng } from './helpers.mjs';

const hex = (x) => '0x' + x.toString(16).padStart(16, '0');

// 64-bit FNV-1a reference in BigInt.
function fnvRef(units) {
  let h = 0xcbf29ce484222325n;
  for (const u of units) for (const b of [...new TextEncoder().encode(u), 0x1f]) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

describe('originality index (JS)', () => {
  test('hashes match the C++ test values and a BigInt reference', () => {
    assert.equal(hex(hashUnits([])), '0xcbf29ce484222325');
    assert.equal(hex(hashUnits(['a'])), '0x089be907b544fdc9');
    assert.equal(hex(hashUnits([...'床前看月光疑是地'])), '0x10f9f67b743277a2');
    assert.equal(hex(hashUnits(['shall', 'i', 'compare', 'thee', 'to', 'a'])), '0xf57e61e28520f4fd');
    assert.equal(hex(hashUnits(['\u{20000}', 'x'])), '0x4bc524c269a9f367');
    assert.equal(hex(hashUnits(["don't", 'stop'])), '0xe72b3d72385c2013');
    assert.equal(hex(splitmix64(0n)), '0xe220a8397b1dcdaf');  // splitmix64's first output from seed 0
    const r = rng(3);
    for (let t = 0; t < 2000; t++) {
      const units = Array.from({ length: 1 + (t % 8) }, () => String.fromCodePoint(r() < 0.5 ? 0x4e00 + Math.floor(r() * 0x5000) : 0x61 + Math.floor(r() * 26)).repeat(1 + Math.floor(r() * 3)));
      assert.equal(hashUnits(units), fnvRef(units));
    }
  });

  test('normalisation', () => {
    assert.deepEqual(normalise('\u2018Tis THE don\u2019t-stop \'hello\' \'\' it\'s 99 \u00dcnder\nend', 'en').units,
      ['tis', 'the', "don't", 'stop', 'hello', "it's", '99', 'nder', 'end']);
    assert.deepEqual(normalise('床前，明月光\n\u{20000}a疑', 'zh').units, [...'床前明月光\u{20000}疑']);
  });

  for (const [lang, lines] of [['zh', ['床前看月光，疑是地上霜。', '关关雎鸠，在河之洲。窈窕淑女，君子好逑。']],
    ['en', ['Shall I compare thee to a summer\u2019s day?\nThou art more lovely and more temperate:']]]) {
    test(`shipped ${lang} filter: manifest entry, header, famous lines found, random n-grams mostly not`, () => {
      const entry = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, `lyrics-${lang}.json`), 'utf8')).originality;
      const buf = fs.readFileSync(path.join(MODELS_DIR, entry.file));
      assert.equal(buf.length, entry.bytes);
      assert.equal(createHash('sha256').update(buf).digest('hex'), entry.sha256);
      assert.equal(buf.toString('latin1', 0, 4), 'TSNG');
      assert.deepEqual([1, lang === 'zh' ? 0 : 1, entry.n, entry.k], [4, 8, 12, 16].map((o) => buf.readUInt32LE(o)));
      assert.equal(Number(buf.readBigUInt64LE(20)), entry.m_bits);
      assert.equal(Number(buf.readBigUInt64LE(28)), entry.items);
      assert.ok(buf.length < 6e6);
      assert.ok(Math.abs(entry.false_positive_rate - estimatedFpRate(entry.items, entry.m_bits, entry.k)) < 1e-3);
      const m = entry.m_bits;
      const has = (units) => {
        const h = hashUnits(units);
        let all = true;
        bloomProbes(Number(h >> 32n), Number(h & 0xffffffffn), m, entry.k, (p) => { if (!(buf[36 + (p >>> 3)] & (1 << (p & 7)))) all = false; });
        return all;
      };
      for (const line of lines) {
        const { units } = normalise(line, lang);
        for (let i = 0; i + entry.n <= units.length; i++) assert.ok(has(units.slice(i, i + entry.n)), `${line} @${i}`);
      }
      const r = rng(11);
      let fp = 0;
      const trials = 5000;
      for (let t = 0; t < trials; t++) {
        const units = Array.from({ length: entry.n }, () => (lang === 'zh'
          ? String.fromCodePoint(0x4e00 + Math.floor(r() * 0x5000))
          : Array.from({ length: 3 + Math.floor(r() * 6) }, () => String.fromCharCode(97 + Math.floor(r() * 26))).join('')));
        fp += has(units);
      }
      assert.ok(Math.abs(fp / trials - entry.false_positive_rate) < 0.015, `false positives ${fp}/${trials}`);
    });
  }

  test('manifest patch: sets one key, keeps the rest byte for byte, idempotent', () => {
    const text = '{\n "name": "x",\n "norm_eps": 1e-05,\n "nested": {\n  "a": [\n   1\n  ]\n }\n}';
    const once = patchManifestKey(text, 'originality', { file: 'f', n: 8 });
    assert.equal(once, '{\n "name": "x",\n "norm_eps": 1e-05,\n "nested": {\n  "a": [\n   1\n  ]\n },\n "originality": {\n  "file": "f",\n  "n": 8\n }\n}');
    const twice = patchManifestKey(once, 'originality', { file: 'g', n: 6 });
    assert.equal(twice, once.replace('"f"', '"g"').replace('"n": 8', '"n": 6'));
    assert.equal(patchManifestKey(twice, 'originality', { file: 'f', n: 8 }), once);
  });

  const noData = dataFiles('zh').concat(dataFiles('en')).some((f) => !fs.existsSync(f)) && 'build/data absent (tools/lyrics/prepare_data.mjs)';
  test('copy_check: exact runs in the training text', { skip: noData, timeout: 180_000 }, async () => {
    const zh = await loadExactIndex('zh');
    assert.equal(zh.n, 8);
    const r = copiedRuns(zh, '今天我们\n床前看月光\n疑是地上霜\n春风不改旧时波');
    assert.equal(r.longest, 10);
    assert.deepEqual(r.runs, [{ start: 4, length: 10, text: '床前看月光\n疑是地上霜', offset: 5 }]);
    assert.deepEqual(copiedRuns(zh, '床前看月光疑是'), { longest: 0, runs: [] });  // shorter than n
    const en = await loadExactIndex('en');
    const e = copiedRuns(en, 'My own words here. Two roads diverged in a yellow wood,\nAnd sorry I could not travel both');
    assert.equal(e.longest, 14);
    assert.equal(e.runs.length, 1);
    assert.equal(e.runs[0].text, 'Two roads diverged in a yellow wood,\nAnd sorry I could not travel both');
    // one word changed in the middle: two shorter runs, the changed word in neither
    const near = copiedRuns(en, 'Two roads diverged in a yellow forest and sorry I could not travel both');
    assert.ok(near.runs.every((x) => !x.text.includes('forest')));
  });
});

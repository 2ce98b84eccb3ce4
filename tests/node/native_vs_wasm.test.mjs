// The same request gives the same lines natively (g++, AVX2 kernels) and in wasm (SIMD128), in the
// single-thread and threaded builds and for any thread count: the core is written to be
// bit-reproducible (no FMA contraction, fixed reduction order), and these tests hold it to that.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createEngine } from '../../web/src/index.mjs';
import { missing, engineOptions, NATIVE_CLI, MODELS_DIR } from './helpers.mjs';

const skip = missing();
const REQUESTS = [
  { task: 'generate_lyrics', song_title: '我爱你', song_style: '流行音乐', lyrics_length: 8, seed: 1 },
  { task: 'generate_lyrics', song_title: '长江', song_style: '古风', lyrics_length: 6, seed: 42, temperature: 1.2 },
  { task: 'generate_lyrics', song_title: '夜路', song_style: '摇滚', lyrics_length: 12, seed: 7, temperature: 0 },
  { task: 'generate_lyrics', song_title: 'Morning light', song_style: 'folk', lyrics_length: 6, seed: 3 },
  { task: 'generate_lyrics', song_title: 'Amazing grace', song_style: 'hymn', lyrics_length: 4, seed: 9007199254740991, top_k: 5 },
  { task: 'generate_lyrics', song_title: '星星', song_style: '儿歌', lyrics_length: 40, seed: 123 }, // long: context shifts
  // Songwriting controls: masks, word trie, backtracking, originality index, mood bias.
  { task: 'generate_lyrics', song_title: '月光', structure: 'V C V C', rhyme_scheme: 'AABB', syllables: 7, mood: 'sad', keywords: ['月亮'], avoid: ['泪'], seed: 3 },
  { task: 'generate_lyrics', song_title: 'Summer Rain', structure: 'V P C B C', rhyme_scheme: 'ABAB', syllables: 8, mood: 'happy', keywords: ['river'], avoid: ['love'], chorus: 'vary', seed: 4 },
];
const label = (r) => `${r.song_title} / ${r.song_style ?? r.structure} / ${r.lyrics_length ?? r.rhyme_scheme} / seed ${r.seed}`;

describe('wasm builds agree with each other', { skip, timeout: 600_000 }, () => {
  let st, mt1, mt4;
  before(async () => {
    [st, mt1, mt4] = await Promise.all([
      createEngine(engineOptions({ variant: 'st' })),
      createEngine(engineOptions({ variant: 'mt', threads: 1 })),
      createEngine(engineOptions({ variant: 'mt', threads: 4 })),
    ]);
  });
  after(async () => { await Promise.all([st?.close(), mt1?.close(), mt4?.close()]); });

  for (const req of REQUESTS) {
    test(`st == mt(1 thread) == mt(4 threads): ${label(req)}`, async () => {
      assert.equal(mt4.info.threads, 4);
      const a = await st.request(req);
      const b = await mt1.request(req);
      const c = await mt4.request(req);
      if (req.lyrics_length) assert.equal(a.lines.length, req.lyrics_length);
      assert.deepEqual(b.lines, a.lines);
      assert.deepEqual(c.lines, a.lines);
      assert.equal(b.lyrics, a.lyrics);
    });
  }
});

const noNative = skip || (!fs.existsSync(NATIVE_CLI) && 'no build/native/tunesmith (npm run build:native)');
const run = promisify(execFile);

describe('native CLI agrees with wasm', { skip: noNative, timeout: 600_000 }, () => {
  let st, mt;
  before(async () => {
    [st, mt] = await Promise.all([createEngine(engineOptions({ variant: 'st' })), createEngine(engineOptions({ threads: 2 }))]);
  });
  after(async () => { await Promise.all([st?.close(), mt?.close()]); });

  for (const req of REQUESTS) {
    test(`native == wasm: ${label(req)}`, async () => {
      const { stdout } = await run(NATIVE_CLI, ['request', JSON.stringify(req), '--models', MODELS_DIR], { timeout: 120_000, maxBuffer: 1 << 26 });
      const native = JSON.parse(stdout);
      assert.ok(!native.error, JSON.stringify(native.error));
      const [a, b] = [await st.request(req), await mt.request(req)];
      assert.deepEqual(a.lines, native.lines);
      assert.deepEqual(b.lines, native.lines);
      assert.equal(a.lyrics, native.lyrics);
    });
  }

  for (const req of [
    { task: 'generate_title', lyrics: '月亮代表我的心\n你问我爱你有多深\n我爱你有几分', count: 3, seed: 1 },
    { task: 'generate_title', theme: 'summer rain', count: 3, seed: 5 },
    { task: 'analyze_lyrics', lyrics: 'I am so happy today\nI cried alone in the dark' },
    // Melodies: the same notes, chords and file bytes (lyrics in both languages, an instrumental tune).
    { task: 'generate_melody', lyrics: 'I walk alone beneath the silver moon\nThe river sings a melody of you', key: 'G', seed: 5, accompaniment: 'pattern' },
    { task: 'generate_melody', lyrics: '月亮代表我的心\n你问我爱你有多深', key: 'F', style: 'air', seed: 3 },
    { task: 'generate_melody', style: 'jig', key: 'D', mode: 'dorian', bars: 24, seed: 9007199254740991 },
    { task: 'edit_lyrics', song_title: 'Home', structure: 'V2 C2', rhyme_scheme: 'AA', syllables: 6, action: 'regenerate_unlocked',
      lines: ['I walked along the road', 'And I carried my load', 'Come home to me tonight', 'Until the morning light'], locked: [1], seed: 8 },
  ]) {
    test(`native == wasm: ${req.task}`, async () => {
      const { stdout } = await run(NATIVE_CLI, ['request', JSON.stringify(req), '--models', MODELS_DIR], { timeout: 120_000, maxBuffer: 1 << 26 });
      const native = JSON.parse(stdout);
      assert.ok(!native.error, JSON.stringify(native.error));
      assert.deepEqual(await st.requestRaw(req), native);
    });
  }

  test('native and wasm give the same error for a bad request', async () => {
    const bad = { task: 'generate_lyrics', song_title: 'x', lyrics_length: 0 };
    const native = await run(NATIVE_CLI, ['request', JSON.stringify(bad), '--models', MODELS_DIR], { timeout: 60_000 })
      .then(({ stdout }) => stdout, (err) => err.stderr || err.stdout);
    const wasm = await st.requestRaw(bad);
    assert.deepEqual(JSON.parse(native), wasm);
  });
});

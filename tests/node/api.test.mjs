// The JS API in Node (in-process mt build): lyrics, determinism, error handling, streaming.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, TunesmithError, lyricsRequest } from '../../web/src/index.mjs';
import { missing, engineOptions, HAN } from './helpers.mjs';

const skip = missing();
const ZH = { title: '我爱你', style: '流行音乐', lines: 8, seed: 1 };

describe('JS API (Node, in-process)', { skip, timeout: 300_000 }, () => {
  let engine;
  const progress = [];
  before(async () => { engine = await createEngine(engineOptions({ onProgress: (p) => progress.push(p) })); });
  after(async () => { await engine?.close(); });

  // A cheap request that must still succeed after every bad one.
  const stillWorks = async () => {
    const r = await engine.generateLyrics({ title: '月亮', lines: 1, seed: 5 });
    assert.equal(r.lines.length, 1);
  };

  test('build info: threaded SIMD build in Node', () => {
    assert.equal(engine.info.variant, 'mt');
    assert.equal(engine.info.simd, true);
    assert.ok(engine.info.threads >= 1 && engine.info.threads <= engine.info.maxThreads);
    assert.equal(engine.build, engine.info);
  });

  test('generate_lyrics 我爱你 / 流行音乐 / 8 lines', async () => {
    const r = await engine.generateLyrics(ZH);
    assert.equal(r.language, 'zh');
    assert.equal(r.lines.length, 8);
    for (const l of r.lines) {
      assert.ok(l.text.trim().length > 0, 'empty line');
      assert.match(l.text, HAN, `not Chinese: ${l.text}`);
    }
    assert.equal(r.lyrics, r.lines.map((l) => l.text).join('\n'));
    assert.equal(r.seed, 1);
    // The model was fetched through the JS retry path, with progress reports.
    const zh = progress.filter((p) => p.model === 'lyrics-zh');
    assert.ok(zh.length > 0, 'no progress for lyrics-zh');
    assert.equal(zh.at(-1).loaded, zh.at(-1).total);
  });

  test('English request', async () => {
    const r = await engine.generateLyrics({ title: 'I love you', style: 'pop', lines: 4, lang: 'en', seed: 2 });
    assert.equal(r.language, 'en');
    assert.equal(r.lines.length, 4);
    for (const l of r.lines) {
      assert.ok(l.text.trim().length > 0);
      assert.match(l.text, /[A-Za-z]/);
      assert.doesNotMatch(l.text, HAN);
    }
  });

  test('language is detected from an English title', async () => {
    const r = await engine.generateLyrics({ title: 'Summer rain', lines: 2, seed: 3 });
    assert.equal(r.language, 'en');
  });

  test('same seed -> identical lyrics; different seed -> different lyrics', async () => {
    const a = await engine.generateLyrics(ZH);
    const b = await engine.generateLyrics(ZH);
    const c = await engine.generateLyrics({ ...ZH, seed: 2 });
    assert.deepEqual(a.lines, b.lines);
    assert.notDeepEqual(a.lines, c.lines);
  });

  test('request() / requestRaw() with a plain request object', async () => {
    const raw = await engine.requestRaw(lyricsRequest({ title: '春天', lines: 2, seed: 9 }));
    assert.equal(raw.lines.length, 2);
    const info = await engine.request({ task: 'info' });
    assert.ok(Array.isArray(info.models));
    assert.ok(info.models.some((m) => m.name === 'lyrics-zh'));
  });

  const BAD = [
    ['malformed JSON text', '{"task": "generate_lyrics", ', 'bad_request'],
    ['not an object', '[1, 2]', 'bad_request'],
    ['missing task', {}, 'missing_field'],
    ['unknown task', { task: 'write_symphony' }, 'unknown_task'],
    ['task not a string', { task: 7 }, 'invalid_field'],
    ['unknown field', { ...lyricsRequest(ZH), colour: 'blue' }, 'unknown_field'],
    ['lyrics_length as a string', { ...lyricsRequest(ZH), lyrics_length: '8' }, 'invalid_field'],
    ['song_title as a number', { ...lyricsRequest(ZH), song_title: 42 }, 'invalid_field'],
    ['seed negative', { ...lyricsRequest(ZH), seed: -1 }, 'invalid_field'],
    ['seed fractional', { ...lyricsRequest(ZH), seed: 1.5 }, 'invalid_field'],
    ['temperature as a string', { ...lyricsRequest(ZH), temperature: 'hot' }, 'invalid_field'],
    ['lyrics_length 0', { ...lyricsRequest(ZH), lyrics_length: 0 }, 'invalid_field'],
    ['lyrics_length 201', { ...lyricsRequest(ZH), lyrics_length: 201 }, 'invalid_field'],
    ['title of 201 chars', { ...lyricsRequest(ZH), song_title: '爱'.repeat(201) }, 'invalid_field'],
    ['missing title', { task: 'generate_lyrics', lyrics_length: 2 }, 'missing_field'],
    ['control character in title', { ...lyricsRequest(ZH), song_title: '我\u0007爱你' }, 'invalid_field'],
    ['newline in title', { ...lyricsRequest(ZH), song_title: '我\n爱你' }, 'invalid_field'],
    ['unsupported language', { ...lyricsRequest(ZH), language: 'fr' }, 'invalid_field'],
  ];
  for (const [name, req, code] of BAD) {
    test(`bad request: ${name} -> ${code}, engine still works`, async () => {
      const raw = await engine.requestRaw(req);
      assert.ok(raw.error, `expected an error, got ${JSON.stringify(raw).slice(0, 200)}`);
      assert.equal(raw.error.code, code, raw.error.message);
      assert.equal(typeof raw.error.message, 'string');
      assert.ok(raw.error.message.length > 0);
      await assert.rejects(engine.request(req), (err) => err instanceof TunesmithError && err.code === code && err.message === raw.error.message);
      await stillWorks();
    });
  }

  test('a title of exactly 200 chars and lyrics_length 1 and 200 are accepted', async () => {
    const r = await engine.generateLyrics({ title: '爱'.repeat(200), lines: 1, seed: 1 });
    assert.equal(r.lines.length, 1);
  });

  test('streamLyrics yields lines in order, then the final response', async () => {
    const items = [];
    for await (const item of engine.streamLyrics({ ...ZH, seed: 11 })) items.push(item);
    const done = items.pop();
    assert.equal(done.event, 'done');
    assert.equal(items.length, 8);
    items.forEach((ev, i) => { assert.equal(ev.event, 'line'); assert.equal(ev.index, i); });
    assert.deepEqual(items.map((e) => e.text), done.response.lines.map((l) => l.text));
    // Streaming does not change the result.
    const plain = await engine.generateLyrics({ ...ZH, seed: 11 });
    assert.deepEqual(plain.lines, done.response.lines);
  });

  test('generateLyrics handlers: onLine per line, onToken per token', async () => {
    const lines = [], tokens = [];
    const r = await engine.generateLyrics({ ...ZH, lines: 3, seed: 4 }, { onLine: (e) => lines.push(e), onToken: (e) => tokens.push(e) });
    assert.deepEqual(lines.map((e) => e.text), r.lines.map((l) => l.text));
    assert.ok(tokens.length >= r.lines.reduce((n, l) => n + [...l.text].length, 0) * 0.5, 'too few token events');
    assert.ok(tokens.every((t) => typeof t.text === 'string'));
  });

  test('an exception in a user callback rejects that call only', async () => {
    await assert.rejects(engine.generateLyrics({ ...ZH, lines: 2 }, { onLine: () => { throw new Error('ui bug'); } }), /ui bug/);
    await stillWorks();
  });

  test('closed engine rejects with code "closed"', async () => {
    const e2 = await createEngine(engineOptions({ variant: 'st' }));
    await e2.close();
    await e2.close(); // idempotent
    await assert.rejects(e2.request({ task: 'info' }), (err) => err.code === 'closed');
  });
});

describe('JS API variants', { skip, timeout: 300_000 }, () => {
  test('single-thread build in-process gives the same lyrics as the threaded one', async () => {
    const st = await createEngine(engineOptions({ variant: 'st' }));
    const mt = await createEngine(engineOptions({ variant: 'mt', threads: 4 }));
    try {
      assert.equal(st.info.variant, 'st');
      assert.equal(st.info.threads, 1);
      const [a, b] = [await st.generateLyrics(ZH), await mt.generateLyrics(ZH)];
      assert.deepEqual(a.lines, b.lines);
    } finally {
      await st.close();
      await mt.close();
    }
  });

  test('worker: true runs the engine in a worker_threads Worker with streaming', async () => {
    const w = await createEngine(engineOptions({ worker: true }));
    try {
      assert.equal(w.info.variant, 'mt');
      const lines = [];
      const r = await w.generateLyrics(ZH, { onLine: (e) => lines.push(e.text) });
      assert.deepEqual(lines, r.lines.map((l) => l.text));
      const raw = await w.requestRaw('{oops');
      assert.equal(raw.error.code, 'bad_request');
    } finally {
      await w.close();
    }
  });

  test('a missing model file answers model_not_found', async () => {
    const e = await createEngine(engineOptions({ variant: 'st', modelBaseUrl: '/nonexistent-dir' }));
    try {
      const raw = await e.requestRaw(lyricsRequest(ZH));
      assert.equal(raw.error.code, 'model_not_found');
      assert.equal(raw.error.model, 'lyrics-zh');
    } finally {
      await e.close();
    }
  });
});

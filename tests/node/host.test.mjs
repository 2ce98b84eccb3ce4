// The JS layer on its own, against a fake wasm module (fixtures/fake-wasm): model fetch + the
// single retry, crash recovery, the worker protocol, threads, streaming plumbing, and the fetch
// path with progress (models served over HTTP). Needs no C++ build, so it always runs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, TunesmithError } from '../../web/src/index.mjs';
import { resolveThreads } from '../../web/src/core.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const opts = (extra) => ({
  wasmBaseUrl: path.join(HERE, 'fixtures', 'fake-wasm'), modelBaseUrl: path.join(HERE, 'fixtures', 'fake-models'), ...extra,
});

for (const mode of ['in-process', 'worker']) {
  describe(`JS host with a fake module (${mode})`, { timeout: 60_000 }, () => {
    const make = (extra) => createEngine(opts({ worker: mode === 'worker', ...extra }));

    test('a missing model is fetched, loaded, and the request retried once', async () => {
      const progress = [];
      const e = await make({ onProgress: (p) => progress.push(p) });
      try {
        assert.deepEqual(await e.request({ task: 'needs', model: 'lyrics-zh' }), { ok: true, model: 'lyrics-zh', bytes: 4, engine: (await e.request({ task: 'echo' })).engine });
        assert.deepEqual(progress, [{ model: 'lyrics-zh', loaded: 4, total: 4 }]);
        // Loaded once: later requests do not fetch again.
        await e.request({ task: 'needs', model: 'lyrics-zh' });
        assert.equal(progress.length, 1);
      } finally { await e.close(); }
    });

    test('no retry loop: a model that stays unloaded answers model_not_loaded', async () => {
      const e = await make();
      try {
        const raw = await e.requestRaw({ task: 'needs', model: 'stubborn' });
        assert.equal(raw.error.code, 'model_not_loaded');
      } finally { await e.close(); }
    });

    test('loadModel errors, missing files and unsafe model names come back as error responses', async () => {
      const e = await make();
      try {
        assert.equal((await e.requestRaw({ task: 'needs', model: 'broken' })).error.code, 'model_invalid');
        const gone = await e.requestRaw({ task: 'needs', model: 'nope' });
        assert.equal(gone.error.code, 'model_not_found');
        assert.equal(gone.error.model, 'nope');
        for (const bad of ['../package', 'a/b', '.hidden', 'x'.repeat(65)]) {
          const r = await e.requestRaw({ task: 'needs', model: bad });
          assert.equal(r.error.code, 'model_not_found', bad);
        }
      } finally { await e.close(); }
    });

    test('a crash answers that request with an error; the engine is replaced and keeps serving', async () => {
      const e = await make();
      try {
        await e.request({ task: 'needs', model: 'lyrics-zh' });
        const first = (await e.request({ task: 'echo' })).engine;
        const crash = await e.requestRaw({ task: 'crash' });
        assert.equal(crash.error.code, 'internal');
        assert.match(crash.error.message, /unreachable/);
        await assert.rejects(e.request({ task: 'crash' }), (err) => err instanceof TunesmithError && err.code === 'internal');
        const after = await e.request({ task: 'echo' });
        assert.notEqual(after.engine, first);
        assert.deepEqual(after.models, []); // the new Engine starts empty ...
        assert.equal((await e.request({ task: 'needs', model: 'lyrics-zh' })).ok, true); // ... and reloads on demand
      } finally { await e.close(); }
    });

    test('raw strings go through verbatim; objects are serialized', async () => {
      const e = await make();
      try {
        assert.equal((await e.requestRaw('{not json')).error.code, 'bad_request');
        assert.deepEqual((await e.request({ task: 'echo', x: [1, '爱'] })).x, [1, '爱']);
      } finally { await e.close(); }
    });

    test('events reach onLine/onToken in order; streamLyrics ends with the response', async () => {
      const e = await make();
      try {
        const lines = [], tokens = [];
        const r = await e.request({ task: 'lines', n: 3 }, (ev) => (ev.event === 'line' ? lines : tokens).push(ev));
        assert.deepEqual(lines.map((l) => l.index), [0, 1, 2]);
        assert.equal(tokens.length, 3);
        assert.equal(r.lines.length, 3);
        // generateLyrics maps friendly names and passes other fields through.
        const echo = await e.generateLyrics({ title: 'T', style: 'S', lines: 2, lang: 'en', seed: 3, temperature: 0.5, top_k: 7, task: 'echo' });
        assert.deepEqual(
          { song_title: echo.song_title, song_style: echo.song_style, lyrics_length: echo.lyrics_length, language: echo.language, seed: echo.seed, temperature: echo.temperature, top_k: echo.top_k },
          { song_title: 'T', song_style: 'S', lyrics_length: 2, language: 'en', seed: 3, temperature: 0.5, top_k: 7 });
        const items = [];
        for await (const it of e.streamLyrics({ task: 'lines', n: 2 })) items.push(it);
        assert.deepEqual(items.map((i) => i.event), ['line', 'line', 'done']);
        assert.equal(items[2].response.lines.length, 2);
      } finally { await e.close(); }
    });

    test('threads: st uses 1; mt honours a number, capped at max_threads', async () => {
      const st = await make({ variant: 'st', threads: 8 });
      const mt = await make({ variant: 'mt', threads: 8 });
      try {
        assert.deepEqual([st.info.variant, st.info.threads], ['st', 1]);
        assert.deepEqual([mt.info.variant, mt.info.threads, mt.info.maxThreads], ['mt', 4, 4]);
        assert.equal((await mt.request({ task: 'echo' })).threads, 4);
      } finally { await st.close(); await mt.close(); }
    });
  });
}

test('resolveThreads', () => {
  const mt = { threads: true, max_threads: 4 };
  assert.equal(resolveThreads('auto', mt, 2), 1);
  assert.equal(resolveThreads('auto', mt, 8), 4);
  assert.equal(resolveThreads('auto', mt, 16), 4);
  assert.equal(resolveThreads(3, mt, 2), 3);
  assert.equal(resolveThreads(0, mt, 2), 1);
  assert.equal(resolveThreads('x', mt, 2), 1);
  assert.equal(resolveThreads(4, { threads: false, max_threads: 1 }, 8), 1);
});

test('a failing wasm location rejects createEngine', async () => {
  await assert.rejects(createEngine(opts({ wasmBaseUrl: '/nonexistent-tunesmith-dir' })));
  await assert.rejects(createEngine(opts({ wasmBaseUrl: '/nonexistent-tunesmith-dir', worker: true })), (err) => err.code === 'init_failed');
});

test('models over HTTP: fetch with progress, total from the manifest', async () => {
  const dir = path.join(HERE, 'fixtures', 'fake-models');
  const server = http.createServer((req, res) => {
    const file = path.join(dir, path.basename(req.url));
    if (!fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const progress = [];
  const e = await createEngine(opts({ modelBaseUrl: `http://127.0.0.1:${server.address().port}/m`, onProgress: (p) => progress.push(p) }));
  try {
    assert.equal((await e.request({ task: 'needs', model: 'lyrics-zh' })).bytes, 4);
    assert.deepEqual(progress.at(0), { model: 'lyrics-zh', loaded: 0, total: 4 });
    assert.deepEqual(progress.at(-1), { model: 'lyrics-zh', loaded: 4, total: 4 });
    const gone = await e.requestRaw({ task: 'needs', model: 'nope' });
    assert.equal(gone.error.code, 'model_not_found');
    assert.match(gone.error.message, /HTTP 404/);
  } finally {
    await e.close();
    server.close();
  }
});

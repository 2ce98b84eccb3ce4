// AbortSignal on the long calls (generateLyrics, editLyrics, generateMelody; analyzeAudio has its
// own tests in listen_chunks): an aborted signal rejects with TunesmithError 'aborted' before
// anything is sent; aborting later rejects at once and drops the rest of the events; a request the
// engine already runs finishes in the background and the engine stays usable.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, TunesmithError } from '../../web/src/index.mjs';
import { missing, engineOptions } from './helpers.mjs';

const skip = missing({ variants: ['mt'], models: ['lyrics-en', 'melody'] });
const SONG = { title: 'Summer Rain', style: 'folk', lines: 4, seed: 1 };
const isAborted = (err) => err instanceof TunesmithError && err.code === 'aborted';

for (const worker of [false, true]) {
  describe(`AbortSignal (${worker ? 'worker_threads' : 'in-process'})`, { skip, timeout: 120_000 }, () => {
    let engine;
    before(async () => { engine = await createEngine(engineOptions({ worker })); });
    after(async () => { await engine?.close(); });

    test('an aborted signal rejects before sending', async () => {
      const ac = new AbortController();
      ac.abort(new Error('no thanks'));
      let lines = 0;
      await assert.rejects(engine.generateLyrics(SONG, { onLine: () => lines++, signal: ac.signal }), (err) => isAborted(err) && /no thanks/.test(err.error.reason));
      await assert.rejects(engine.generateLyrics({ ...SONG, signal: ac.signal }), isAborted);
      await assert.rejects(engine.editLyrics({ ...SONG, lines: ['a', 'b'], action: 'regenerate_line', line: 0, signal: ac.signal }), isAborted);
      await assert.rejects(engine.generateMelody({ bars: 4, seed: 1, signal: ac.signal }), isAborted);
      assert.equal(lines, 0);
    });

    test('aborting mid-song rejects at once, drops later lines, and the engine keeps working', async () => {
      const ac = new AbortController();
      const seen = [];
      const p = engine.generateLyrics(SONG, { onLine: (l) => { seen.push(l.index); if (seen.length === 1) ac.abort(); }, signal: ac.signal });
      await assert.rejects(p, isAborted);
      assert.deepEqual(seen, [0]);
      const song = await engine.generateLyrics(SONG);
      assert.equal(song.lines.length, 4);
    });

    test('a queued call aborted while another runs rejects at once; a signal that never fires changes nothing', async () => {
      const ac = new AbortController();
      const first = engine.generateLyrics({ ...SONG, seed: 2 });
      const second = engine.generateMelody({ bars: 4, seed: 1, signal: ac.signal });
      ac.abort();
      await assert.rejects(second, isAborted);
      assert.equal((await first).lines.length, 4);
      const calm = new AbortController();
      const tune = await engine.generateMelody({ bars: 4, seed: 1, signal: calm.signal });
      assert.ok(Array.isArray(tune.notes) && tune.notes.length > 0);
      const song = await engine.generateLyrics(SONG, { signal: calm.signal });
      assert.equal(song.lines.length, 4);
    });
  });
}

// analyzeAudio sends large inputs in chunks over an analyze_audio session (docs/listen-api.md,
// "Sessions"): a Blob read slice by slice, decoded PCM interleaved chunk by chunk. The answer must
// be the one-shot answer; an AbortSignal stops it between chunks and leaves no session behind.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, TunesmithError } from '../../web/src/index.mjs';
import { missing, engineOptions } from './helpers.mjs';
import { wavFile, chordSong } from './audio_fixture.mjs';

const skip = missing({ models: ['listen'] });
const RATE = 22050;
const channels = chordSong({ rate: RATE, seconds: 10, bpm: 120, chordSeconds: 2 });
const WAV = wavFile(channels, RATE);

describe('chunked analysis (analyze_audio sessions through the JS API)', { skip, timeout: 300_000 }, () => {
  let engine, one;
  before(async () => {
    engine = await createEngine(engineOptions({ variant: 'st' }));
    one = await engine.analyzeAudio(new Uint8Array(WAV), { pictures: false });
  });
  after(async () => { await engine?.close(); });

  test('a Blob over chunkBytes goes in slices: the same answer as one request', async () => {
    for (const chunkBytes of [4096, 65537]) {
      const events = [];
      const res = await engine.analyzeAudio(new Blob([WAV]), { pictures: false, chunkBytes, onProgress: (e) => events.push(e.fraction) });
      assert.match(res.session, /^a\d+-/);
      delete res.session;
      assert.deepEqual(res, one, `chunkBytes ${chunkBytes}`);
      assert.ok(events.length >= 2 && events.at(-1) === 1, `progress ${events}`);
      for (let i = 1; i < events.length; i++) assert.ok(events[i] >= events[i - 1]);
    }
  });

  test('decoded PCM over chunkBytes goes in interleaved chunks: the same answer as one request', async () => {
    const whole = await engine.analyzeAudio({ channels, sampleRate: RATE }, { pictures: false });
    const events = [];
    const res = await engine.analyzeAudio({ channels, sampleRate: RATE }, { pictures: false, chunkBytes: 100_000, onProgress: (e) => events.push(e.fraction) });
    delete res.session;
    assert.deepEqual(res, whole);
    assert.ok(events.length >= 3, `progress ${events}`);
    assert.equal(whole.key.name, one.key.name);
  });

  test('an AbortSignal stops between chunks; the engine keeps working', async () => {
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(engine.analyzeAudio(new Blob([WAV]), {
      pictures: false, chunkBytes: 8192, signal: ac.signal, onProgress: () => { if (++seen === 2) ac.abort(); },
    }), (err) => err instanceof TunesmithError && err.code === 'aborted');
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(engine.analyzeAudio(new Uint8Array(WAV), { signal: pre.signal }), (err) => err.code === 'aborted');
    // the cancelled session is gone: a later analysis answers as before
    const res = await engine.analyzeAudio(new Uint8Array(WAV), { pictures: false });
    assert.deepEqual(res, one);
  });

  test('a bad file in chunks answers its error and ends the session', async () => {
    const bad = new Uint8Array(50_000).fill(7);
    await assert.rejects(engine.analyzeAudio(new Blob([bad]), { chunkBytes: 8192 }), (err) => err.code === 'invalid_audio');
    const res = await engine.analyzeAudio(new Blob([WAV]), { pictures: false, chunkBytes: 16384 });
    delete res.session;
    assert.deepEqual(res, one);
  });
});

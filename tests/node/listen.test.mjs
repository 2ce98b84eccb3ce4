// analyze_audio through every door: the JS API (wasm, in-process and in a worker_threads Worker)
// with a WAV file's bytes and with decoded float PCM, the native CLI and the npm bin. The audio is
// made here: 8 s of 44.1 kHz stereo 16-bit, the chords C F G C (two seconds each) over a click
// track at 120 BPM.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, analyzeAudioRequest, decodeAudioFile, TunesmithError } from '../../web/src/index.mjs';
import { missing, engineOptions, ROOT, WASM_DIR, MODELS_DIR, NATIVE_CLI } from './helpers.mjs';
import { wavFile, chordSong } from './audio_fixture.mjs';

const skip = missing({ variants: ['mt'], models: [] });
const RATE = 44100, SECONDS = 8, BPM = 120;

// ------------------------------------------------------------------------------ test audio

/** The 16-bit samples of wavFile's output as floats (v / 32768, as the engine's WAV reader scales them). */
function wavSamples(buf) {
  const n = buf.readUInt16LE(22), frames = buf.readUInt32LE(40) / (2 * n);
  const chans = Array.from({ length: n }, () => new Float32Array(frames));
  for (let i = 0, at = 44; i < frames; i++) for (let c = 0; c < n; c++, at += 2) chans[c][i] = buf.readInt16LE(at) / 32768;
  return chans;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-listen-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const WAV = wavFile(chordSong({ rate: RATE, seconds: SECONDS, bpm: BPM, chordSeconds: 2 }), RATE);
const WAV_PATH = path.join(tmp, 'c-major-120.wav');
fs.writeFileSync(WAV_PATH, WAV);
const PCM = wavSamples(WAV); // the file's samples as floats

// ------------------------------------------------------------------------------ helpers

function run(bin, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { env: { ...process.env, TUNESMITH_WASM_DIR: WASM_DIR, TUNESMITH_MODELS: MODELS_DIR }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${path.basename(bin)} ${args.join(' ')} timed out`)); }, 120_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    p.on('error', reject);
  });
}
const npmCli = (args) => run(process.execPath, [path.join(ROOT, 'web', 'src', 'cli.mjs'), ...args]);
const nativeCli = (args) => run(NATIVE_CLI, args);

/** Rejects with a TunesmithError of that code (and reason, when given). */
async function rejectsWith(promise, code, reason) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof TunesmithError, String(err));
    assert.equal(err.code, code, err.message);
    if (reason) assert.equal(err.error.reason, reason, err.message);
    return true;
  });
}

const withoutSource = ({ source, ...rest }) => rest;

// ------------------------------------------------------------------------------ tests

describe('analyze_audio through the JS API (wasm)', { skip, timeout: 600_000 }, () => {
  let engine, fromWav;
  before(async () => {
    engine = await createEngine(engineOptions());
    fromWav = await engine.analyzeAudio(WAV, { name: path.basename(WAV_PATH) });
  });
  after(() => engine?.close());

  test('WAV bytes: C major, 120 BPM, a loudness, the file described', () => {
    const r = fromWav;
    assert.equal(r.task, 'analyze_audio');
    assert.equal(r.key.name, 'C major', JSON.stringify(r.key.evidence?.best_keys));
    assert.ok(Math.abs(r.tempo.bpm - BPM) < 2, `tempo ${r.tempo.bpm}`);
    assert.ok(r.tempo.beat_count >= 12 && r.tempo.beat_count <= 17, `beats ${r.tempo.beat_count}`);
    assert.equal(typeof r.loudness.integrated_lufs, 'number');
    assert.ok(r.loudness.integrated_lufs < -5 && r.loudness.integrated_lufs > -40, `${r.loudness.integrated_lufs} LUFS`);
    assert.equal(r.duration, SECONDS);
    assert.equal(r.sample_rate, RATE);
    assert.equal(r.channels, 2);
    assert.deepEqual(r.source, { container: 'RIFF', encoding: 'pcm_s16', bits: 16, name: 'c-major-120.wav' });
    assert.equal(r.segments.length, 2);
    assert.deepEqual(r.warnings, []);
    assert.ok(r.pictures.chroma.values.length > 0 && r.pictures.mel.values.length > 0);
  });

  test('every byte container works: ArrayBuffer, Uint8Array view, Node Buffer, Blob', async () => {
    const ab = WAV.buffer.slice(WAV.byteOffset, WAV.byteOffset + WAV.byteLength);
    const padded = new Uint8Array(WAV.length + 16);
    padded.set(WAV, 8);
    for (const input of [ab, new Uint8Array(ab), padded.subarray(8, 8 + WAV.length), new Blob([WAV])]) {
      const r = await engine.analyzeAudio(input, { pictures: false, name: 'c-major-120.wav' });
      const { pictures, ...want } = fromWav;
      assert.deepEqual(r, want);
    }
  });

  test('float PCM (channel arrays, interleaved, AudioBuffer-like): the same answers as the WAV bytes', async () => {
    const a = await engine.analyzeAudio({ channels: PCM, sampleRate: RATE });
    assert.deepEqual(a.source, { container: 'pcm', encoding: 'float32', bits: 32 });
    assert.deepEqual(a.key, fromWav.key);
    assert.deepEqual(a.tempo, fromWav.tempo);
    assert.deepEqual(a.loudness, fromWav.loudness);
    // The WAV reader scales 16-bit samples by 1/32768 too: everything but the source is the same.
    assert.deepEqual(withoutSource(a), withoutSource(fromWav));

    const inter = new Float32Array(PCM[0].length * 2);
    for (let i = 0; i < PCM[0].length; i++) { inter[2 * i] = PCM[0][i]; inter[2 * i + 1] = PCM[1][i]; }
    const b = await engine.analyzeAudio({ channels: inter, sampleRate: RATE, numberOfChannels: 2 });
    assert.deepEqual(b, a);
    const audioBuffer = { numberOfChannels: 2, sampleRate: RATE, length: PCM[0].length, getChannelData: (c) => PCM[c] };
    const c = await engine.analyzeAudio(audioBuffer);
    assert.deepEqual(c, a);
    assert.equal(PCM[0].length, RATE * SECONDS, 'the caller\'s channel data is left alone');
  });

  test('the request it sends', async () => {
    const w = await analyzeAudioRequest(WAV, { segment_seconds: 2, onProgress: undefined });
    assert.deepEqual(w.request, { task: 'analyze_audio', segment_seconds: 2, format: 'wav' });
    assert.equal(w.data.buffer, WAV.buffer, 'WAV bytes go as they are');
    const p = await analyzeAudioRequest({ channels: PCM, sampleRate: RATE }, { task: 'other', max_beats: 4 });
    assert.deepEqual(p.request, { task: 'analyze_audio', max_beats: 4, format: 'f32', sample_rate: RATE, channels: 2 });
    assert.equal(p.data.byteLength, PCM[0].length * 2 * 4);
    const f = new Float32Array(p.data.buffer, p.data.byteOffset, 4);
    assert.deepEqual([...f], [PCM[0][0], PCM[1][0], PCM[0][1], PCM[1][1]]);
    assert.equal(p.owned, true);
  });

  test('request fields pass through; progress events reach onProgress', async () => {
    const seen = [];
    const r = await engine.analyzeAudio(WAV, { segment_seconds: 2, max_beats: 3, pictures: false, onProgress: (ev) => seen.push(ev) });
    assert.equal(r.segments.length, 4);
    assert.equal(r.tempo.beats.length, 3);
    assert.equal(r.pictures, undefined);
    assert.ok(seen.length >= 2, `${seen.length} progress events`);
    seen.forEach((ev) => assert.equal(ev.event, 'progress'));
    const fr = seen.map((ev) => ev.fraction);
    assert.deepEqual(fr, [...fr].sort((x, y) => x - y));
    assert.equal(fr.at(-1), 1);
    const pcmSeen = [];
    await engine.analyzeAudio({ channels: PCM, sampleRate: RATE }, { pictures: false, onProgress: (ev) => pcmSeen.push(ev.fraction) });
    assert.equal(pcmSeen.at(-1), 1);
  });

  test('bad input -> invalid_audio', async () => {
    await rejectsWith(engine.analyzeAudio(new Uint8Array(0)), 'invalid_audio', 'empty');
    await rejectsWith(engine.analyzeAudio(Buffer.from('this is not a WAV file, just some text that goes on for a while')), 'invalid_audio', 'not_riff');
    await rejectsWith(engine.analyzeAudio(WAV.subarray(0, 8)), 'invalid_audio', 'truncated_header');
    await rejectsWith(engine.analyzeAudio(WAV.subarray(0, 30)), 'invalid_audio', 'truncated_fmt');
    await rejectsWith(engine.analyzeAudio({ channels: new Float32Array(3), sampleRate: RATE, numberOfChannels: 2 }), 'invalid_audio', 'partial_frame');
    await rejectsWith(engine.analyzeAudio({ channels: [new Float32Array(4), new Float32Array(5)], sampleRate: RATE }), 'invalid_audio', 'unequal_channels');
    await rejectsWith(engine.analyzeAudio({ channels: [] , sampleRate: RATE }), 'invalid_audio', 'empty');
    await rejectsWith(engine.analyzeAudio(42), 'invalid_audio', 'unsupported_input');
    await rejectsWith(engine.analyzeAudio(new Float32Array(8)), 'invalid_audio', 'unsupported_input');
    // Values are checked in C++: a sample rate out of range, none at all.
    await rejectsWith(engine.analyzeAudio({ channels: PCM, sampleRate: 10 }), 'invalid_field');
    await rejectsWith(engine.analyzeAudio({ channels: PCM }), 'missing_field');
    // The engine stays usable.
    const r = await engine.analyzeAudio(WAV, { pictures: false });
    assert.equal(r.key.name, 'C major');
  });

  test('decodeAudioFile is for pages: a clear error in Node', async () => {
    await rejectsWith(decodeAudioFile(WAV), 'unsupported');
  });
});

describe('analyze_audio through a worker (worker_threads)', { skip, timeout: 600_000 }, () => {
  let engine, local;
  before(async () => {
    engine = await createEngine(engineOptions({ worker: true }));
    local = await createEngine(engineOptions());
  });
  after(async () => { await engine?.close(); await local?.close(); });

  test('WAV bytes are transferred (no copy), unless {transfer: false}; same answers as in-process', async () => {
    const want = await local.analyzeAudio(WAV);
    const kept = new Uint8Array(WAV);
    const r1 = await engine.analyzeAudio(kept, { transfer: false });
    assert.deepEqual(r1, want);
    assert.equal(kept.byteLength, WAV.length, 'transfer: false leaves the caller\'s buffer');
    const moved = new Uint8Array(WAV);
    const seen = [];
    const r2 = await engine.analyzeAudio(moved, { onProgress: (ev) => seen.push(ev.fraction) });
    assert.deepEqual(r2, want);
    assert.equal(moved.byteLength, 0, 'the ArrayBuffer went to the worker (detached here)');
    assert.equal(seen.at(-1), 1, 'progress events cross from the worker');
    // A view on part of a bigger buffer: only its bytes are sent, the buffer stays usable.
    const big = new Uint8Array(WAV.length + 100);
    big.set(WAV, 50);
    assert.deepEqual(await engine.analyzeAudio(big.subarray(50, 50 + WAV.length)), want);
    assert.equal(big.byteLength, WAV.length + 100);
  });

  test('float PCM and errors through the worker', async () => {
    const chans = PCM.map((c) => c.slice());
    const r = await engine.analyzeAudio({ channels: chans, sampleRate: RATE }, { pictures: false });
    assert.equal(r.key.name, 'C major');
    assert.equal(chans[0].length, RATE * SECONDS, 'channel arrays are copied into the interleaved buffer, not moved');
    await rejectsWith(engine.analyzeAudio(new Uint8Array(0)), 'invalid_audio', 'empty');
    await rejectsWith(engine.analyzeAudio(WAV.subarray(0, 8)), 'invalid_audio', 'truncated_header');
    assert.equal(WAV.buffer.byteLength, WAV.length, 'a view on part of a buffer is copied, not transferred');
  });
});

const noNative = skip || (!fs.existsSync(NATIVE_CLI) && `no native CLI at ${NATIVE_CLI} (npm run build:native)`);
describe('analyze: native CLI, npm bin and the JS API agree', { skip: noNative, timeout: 600_000 }, () => {
  test('native --json is the JS API\'s response', async () => {
    const n = await nativeCli(['analyze', WAV_PATH, '--json']);
    assert.equal(n.code, 0, n.stderr);
    const engine = await createEngine(engineOptions());
    try {
      assert.deepEqual(JSON.parse(n.stdout), await engine.analyzeAudio(fs.readFileSync(WAV_PATH), { name: path.basename(WAV_PATH) }));
    } finally {
      await engine.close();
    }
    const j = await npmCli(['analyze', WAV_PATH, '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), JSON.parse(n.stdout));
  });

  test('analyze FILE: the same stdout and stderr', async () => {
    const [a, b] = [await nativeCli(['analyze', WAV_PATH]), await npmCli(['analyze', WAV_PATH])];
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, a.stdout);
    assert.equal(b.stderr, a.stderr);
    const lines = a.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'key: C major (confidence ' + lines[0].match(/confidence (\d\.\d\d)\)$/)[1] + ')');
    assert.match(lines[1], /^tempo: 1(19|20|21)\.\d BPM \(confidence \d\.\d\d, \d+ beats\)$/);
    assert.match(lines[2], /^loudness: -\d+\.\d LUFS integrated, range (\d+\.\d|-) LU, true peak -?\d+\.\d dBTP$/);
    assert.match(lines[3], /^style: [a-z_]+ \(confidence \d\.\d\d\)$/);
    assert.match(lines[4], /^lead instrument: [a-z_]+( or [a-z_]+)? \(confidence \d\.\d\d; held-out accuracy at this confidence \d\.\d\d\); heard: .+$/);
    assert.match(lines[5], /^mood: (happy|calm|sad|tense) \(valence -?\d\.\d\d, arousal -?\d\.\d\d; rule-based\)$/);
    assert.equal(lines[6], 'duration: 8.0 s, 44100 Hz, 2 channels');
    assert.match(lines[7], /^ {2}0\.0-4\.0 s: [A-G][#b]? (major|minor), max -\d+\.\d LUFS, [a-z_]+, (happy|calm|sad|tense)$/);
    assert.equal(lines.length, 9);
  });

  test('warnings go to stderr, the same on both sides (a short mono file)', async () => {
    const file = path.join(tmp, 'short.wav');
    const tone = new Float32Array(RATE).map((_, i) => 0.5 * Math.sin(2 * Math.PI * 440 * i / RATE));
    fs.writeFileSync(file, wavFile([tone], RATE));
    const [a, b] = [await nativeCli(['analyze', file]), await npmCli(['analyze', file])];
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.stdout, a.stdout);
    assert.equal(b.stderr, a.stderr);
    assert.match(a.stderr, /^warning: shorter than 3 seconds/m);
    assert.match(a.stdout, /^duration: 1\.0 s, 44100 Hz, 1 channel$/m);
  });

  test('bad input: both exit 1 with invalid_audio', async () => {
    const cases = [['empty.wav', Buffer.alloc(0), 'empty'], ['text.wav', Buffer.from('not a wav at all, only words'), 'not_riff'],
      ['cut.wav', WAV.subarray(0, 8), 'truncated_header'], ['cut-fmt.wav', WAV.subarray(0, 30), 'truncated_fmt']];
    for (const [name, bytes, reason] of cases) {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, bytes);
      for (const r of [await nativeCli(['analyze', file]), await npmCli(['analyze', file])]) {
        assert.equal(r.code, 1, `${name}: exit ${r.code}`);
        assert.equal(r.stdout, '');
        const err = JSON.parse(r.stderr.trim().split('\n').at(-1)).error;
        assert.equal(err.code, 'invalid_audio', name);
        if (reason) assert.equal(err.reason, reason, name);
      }
    }
  });
});

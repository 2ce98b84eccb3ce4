// analyze_audio on bad, odd and extreme input (issue 5): "Empty, truncated or corrupt files, wrong
// headers, silence, pure noise, clipping, a single sine, 8 kHz and 192 kHz, 1 or 8 channels, NaN
// samples, 2-hour files: a clear error or a sensible answer with low confidence; no crash, no
// unbounded memory."
//
// Everything goes through the JS API (the wasm engine, createEngine) and, where a file on disk
// matters (exit codes, long files, peak memory), through the native CLI (build/native/tunesmith).
// Every failure must be {code: 'invalid_audio', reason} with a message that names the problem; every
// answer must be a whole response, and the engine must stay usable afterwards.
//
// The music is the chord-and-click song of audio_fixture.mjs (C F G C, 120 BPM). Its measured answers
// at 44.1 kHz stereo 16-bit: C major, key confidence 0.98 (margin 0.36) with the first key
// estimator, 0.895 (margin 0.23) with the refitted one in the working tree; 120.15 BPM with tempo
// confidence 0.73. The thresholds below for noise and sines are set against those numbers (both
// estimators' numbers are given where they differ).
//
// Long files: an 8 kHz mono 16-bit WAV written in streamed blocks and analysed by the native CLI
// (and by the wasm engine, which must give the same answer), its peak RSS measured against a
// shorter one: 20 minutes (19 MB) by default; TUNESMITH_LONG_TESTS=1 makes it 2 hours (115 MB;
// 13.5 s natively when the machine is idle, up to 75 s when it is busy) and adds a file over the
// 3-hour limit (too_long, ~18 s).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, TunesmithError } from '../../web/src/index.mjs';
import { missing, engineOptions, rng, NATIVE_CLI as BUILT_CLI } from './helpers.mjs';
import { wavFile, chordSong } from './audio_fixture.mjs';

const skip = missing({ variants: ['mt'], models: [] });
// TUNESMITH_NATIVE_CLI: another build of the CLI (e.g. one made elsewhere while build/native is busy).
const NATIVE_CLI = process.env.TUNESMITH_NATIVE_CLI ? path.resolve(process.env.TUNESMITH_NATIVE_CLI) : BUILT_CLI;
const noNative = !fs.existsSync(NATIVE_CLI) && `no native CLI at ${NATIVE_CLI} (npm run build:native)`;
const LONG = process.env.TUNESMITH_LONG_TESTS === '1';
// Whether the native engine has analyze_audio sessions: the CLI then streams a file in pieces
// (engine/cli/main.cpp analyze_file) and its memory must not grow with the file.
const nativeSessions = !noNative && (() => {
  const r = spawnSync(NATIVE_CLI, ['request', JSON.stringify({ task: 'analyze_audio', session: 'probe', cancel: true })], { encoding: 'utf8' });
  try { return JSON.parse(r.stdout).state === 'cancelled'; } catch { return false; }
})();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-bad-audio-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------------------ WAV writer

const ENCODINGS = {
  pcm8: { tag: 1, bits: 8 }, pcm16: { tag: 1, bits: 16 }, pcm24: { tag: 1, bits: 24 },
  float32: { tag: 3, bits: 32 }, float64: { tag: 3, bits: 64 },
};

/**
 * A WAV file: channels = Float32Arrays (or arrays) of samples, any encoding of ENCODINGS; integers
 * are rounded and clamped to the code range (1.0 -> the largest code), floats are written as they
 * are (NaN and Inf included). extensible: {mask} writes WAVE_FORMAT_EXTENSIBLE with that channel mask.
 */
function wav(channels, rate, { encoding = 'pcm16', extensible = null } = {}) {
  const { tag, bits } = ENCODINGS[encoding];
  const n = channels.length, frames = channels[0].length, bytes = bits / 8;
  const dataSize = frames * n * bytes;
  const fmtSize = extensible ? 40 : 16;
  const head = 12 + 8 + fmtSize + 8;
  const buf = Buffer.alloc(head + dataSize + (dataSize & 1));
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(buf.length - 8, 4);
  buf.write('WAVEfmt ', 8, 'latin1');
  buf.writeUInt32LE(fmtSize, 16);
  buf.writeUInt16LE(extensible ? 0xFFFE : tag, 20);
  buf.writeUInt16LE(n, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * n * bytes, 28);
  buf.writeUInt16LE(n * bytes, 32);
  buf.writeUInt16LE(bits, 34);
  if (extensible) {
    buf.writeUInt16LE(22, 36); // cbSize
    buf.writeUInt16LE(bits, 38); // valid bits
    buf.writeUInt32LE(extensible.mask, 40);
    buf.writeUInt16LE(tag, 44); // sub-format GUID: {tag}-0000-0010-8000-00AA00389B71
    Buffer.from([0, 0, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]).copy(buf, 46);
  }
  buf.write('data', head - 8, 'latin1');
  buf.writeUInt32LE(dataSize, head - 4);
  let at = head;
  const full = 2 ** (bits - 1);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < n; c++, at += bytes) {
      const x = channels[c][i];
      if (encoding === 'float32') buf.writeFloatLE(x, at);
      else if (encoding === 'float64') buf.writeDoubleLE(x, at);
      else {
        const v = Math.max(-full, Math.min(full - 1, Math.round(x * full)));
        if (bits === 8) buf.writeUInt8(v + 128, at);
        else buf.writeIntLE(v, at, bytes);
      }
    }
  }
  return buf;
}

/** A copy of buf with edit(copy) applied. */
const patched = (buf, edit) => { const b = Buffer.from(buf); edit(b); return b; };

// ------------------------------------------------------------------------------ test audio

const RATE = 44100, SECONDS = 8, BPM = 120;
const song = (rate = RATE, seconds = SECONDS) => chordSong({ rate, seconds, bpm: BPM, chordSeconds: 2 });
const SONG = song();
const SONG_WAV = wavFile(SONG, RATE); // 44-byte header, stereo 16-bit
const FRAMES = RATE * SECONDS;
const SHORT_WAV = wavFile(song(RATE, 1), RATE); // for the fuzz loops: 1 s, 176 KB
const sine = (hz, rate = RATE, seconds = SECONDS, amp = 0.5) => Float32Array.from({ length: rate * seconds }, (_, i) => amp * Math.sin(2 * Math.PI * hz * i / rate));
const whiteNoise = (seed, frames = FRAMES, amp = 0.3) => { const r = rng(seed); return Float32Array.from({ length: frames }, () => amp * (r() * 2 - 1)); };

// Every reason docs/audio-io.md and docs/listen-api.md list for invalid_audio.
const REASONS = new Set(['empty', 'not_riff', 'not_wave', 'truncated_header', 'no_fmt', 'truncated_fmt', 'bad_fmt', 'block_align',
  'unsupported_codec', 'no_data', 'no_samples', 'chunk_too_large', 'too_long', 'partial_frame']);
const TRUNCATED = /ends in the middle of its data/;
const SILENT = /^silent/;
const SHORT = /^shorter than 3 seconds/;
const CLIPPING = /^(\d+) samples are at full scale \(clipping\)$/;
const NONFINITE = /^(\d+) samples were NaN or infinite and were read as silence$/;

/** Runs fn and returns its TunesmithError (failing if it resolves or throws something else). */
async function errorOf(promise) {
  try {
    const r = await promise;
    assert.fail(`expected an error, got an answer: ${JSON.stringify({ key: r.key?.name, warnings: r.warnings })}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof TunesmithError, String(err?.stack || err));
    return err;
  }
}

/** invalid_audio with that reason, and a message matching `says`. */
async function rejectsAudio(promise, reason, says) {
  const err = await errorOf(promise);
  assert.equal(err.code, 'invalid_audio', err.message);
  assert.equal(err.error.reason, reason, err.message);
  if (says) assert.match(err.message, says);
  return err;
}

/** A whole analyze_audio response. */
function assertWhole(r) {
  assert.equal(r.task, 'analyze_audio');
  for (const k of ['duration', 'sample_rate', 'channels', 'source', 'key', 'tempo', 'loudness', 'segments', 'warnings', 'embedding']) assert.ok(k in r, `no ${k}`);
  assert.ok(Array.isArray(r.warnings));
  assert.equal(r.embedding.length, 64);
  for (const x of r.embedding) assert.ok(Number.isFinite(x), 'embedding holds a non-number');
  assert.ok(r.key.confidence >= 0 && r.key.confidence <= 1, `key confidence ${r.key.confidence}`);
  assert.ok(r.tempo.confidence >= 0 && r.tempo.confidence <= 1, `tempo confidence ${r.tempo.confidence}`);
}

const warning = (r, re) => r.warnings.find((w) => re.test(w));

// ------------------------------------------------------------------------------ native CLI

function run(bin, args, { timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    // Peak RSS: VmHWM (the kernel's high-water mark of resident memory, file-backed pages included),
    // read until the process goes; /usr/bin/time's "Maximum resident set size" is the same number.
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch { /* gone, or no /proc */ }
    }, 20);
    const t0 = process.hrtime.bigint();
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${path.basename(bin)} ${args.join(' ')} timed out`)); }, timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr, peakKb, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
    p.on('error', reject);
  });
}
const nativeAnalyze = (file, opts) => run(NATIVE_CLI, ['analyze', file, '--json'], opts);
/** The error object the CLI printed (exit 1, last stderr line). */
const cliError = (r) => JSON.parse(r.stderr.trim().split('\n').at(-1)).error;
function writeTmp(name, bytes) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return file;
}

// ==================================================================================== tests

describe('analyze_audio bad input through the JS API (wasm)', { skip, timeout: 600_000 }, () => {
  let engine, ref, extra = {};
  before(async () => {
    engine = await createEngine(engineOptions());
    try {
      ref = await analyze(SONG_WAV);
    } catch (err) {
      // This file is about the signal path: when the engine has a listening classifier whose model
      // is not in models/ yet, analyse without it rather than fail every case.
      if (err?.code !== 'model_not_loaded') throw err;
      console.log(`# ${err.message}: analysing with classify: false`);
      extra = { classify: false };
      ref = await analyze(SONG_WAV);
    }
  });
  after(() => engine?.close());
  const analyze = (input, opts = {}) => engine.analyzeAudio(input, { pictures: false, ...extra, ...opts });

  test('the reference: the song at 44.1 kHz stereo', () => {
    assertWhole(ref);
    assert.equal(ref.key.name, 'C major');
    assert.ok(ref.key.confidence > 0.8, `key confidence ${ref.key.confidence}`);
    assert.ok(Math.abs(ref.tempo.bpm - BPM) < 1, `${ref.tempo.bpm} BPM`);
    assert.ok(ref.tempo.confidence > 0.5, `tempo confidence ${ref.tempo.confidence}`);
    assert.deepEqual(ref.warnings, []);
  });

  test('empty input and random bytes: invalid_audio that says what it is', async () => {
    await rejectsAudio(analyze(new Uint8Array(0)), 'empty', /empty/);
    await rejectsAudio(analyze(Buffer.alloc(0)), 'empty');
    // Random bytes of many lengths (a random first byte can look like an MP3/AAC frame sync: still not_riff).
    for (const [seed, len] of [[1, 1], [2, 3], [3, 12], [4, 44], [5, 1000], [6, 100_000]]) {
      const r = rng(seed);
      const bytes = Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
      const err = await errorOf(analyze(bytes));
      assert.equal(err.code, 'invalid_audio', err.message);
      assert.ok(['not_riff', 'truncated_header'].includes(err.error.reason), `${len} random bytes: ${err.error.reason}: ${err.message}`);
    }
    // Zeros and text.
    await rejectsAudio(analyze(Buffer.alloc(4096)), 'not_riff', /no RIFF header/);
    await rejectsAudio(analyze(Buffer.from('<html><body>404 Not Found</body></html>')), 'not_riff');
  });

  test('wrong headers: other containers named, a RIFF that is not WAVE', async () => {
    const tail = Buffer.alloc(400, 0x55);
    const cases = [
      ['ID3 tag (MP3)', Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), tail]), /this is MP3, not WAV; decode it in the browser/],
      ['MP3 frame sync', Buffer.concat([Buffer.from([0xFF, 0xFB, 0x90, 0x64]), tail]), /this is MP3/],
      ['Ogg', Buffer.concat([Buffer.from('OggS\x00\x02\x00\x00', 'latin1'), tail]), /this is Ogg/],
      ['FLAC', Buffer.concat([Buffer.from('fLaC\x00\x00\x00\x22', 'latin1'), tail]), /this is FLAC/],
      ['AIFF', Buffer.concat([Buffer.from('FORM\x00\x00\x10\x00AIFF', 'latin1'), tail]), /this is AIFF/],
      ['MP4/M4A', Buffer.concat([Buffer.from('\x00\x00\x00\x20ftypM4A ', 'latin1'), tail]), /this is MP4\/M4A/],
      ['big-endian RIFX', patched(SHORT_WAV, (b) => b.write('RIFX', 0, 'latin1')), /RIFX/],
    ];
    for (const [what, bytes, says] of cases) await rejectsAudio(analyze(bytes), 'not_riff', says).catch((e) => { e.message = `${what}: ${e.message}`; throw e; });
    // An mp3 header, 44 bytes of it, given as .wav: the error comes from the first bytes.
    await rejectsAudio(analyze(Buffer.concat([Buffer.from('ID3\x03', 'latin1'), Buffer.alloc(40)])), 'not_riff', /MP3/);
    await rejectsAudio(analyze(patched(SHORT_WAV, (b) => b.write('AVI ', 8, 'latin1'))), 'not_wave', /RIFF file of type 'AVI ', not WAVE/);
    await rejectsAudio(analyze(patched(SHORT_WAV, (b) => b.write('\x00\x01\x02\x03', 8, 'latin1'))), 'not_wave', /type '\?\?\?\?'/);
  });

  test('wrong fmt fields: zero rate / channels / bits, absurd block align, codecs, out of range', async () => {
    const W = SHORT_WAV; // fmt at 20: tag 20, channels 22, rate 24, byte rate 28, block align 32, bits 34
    const cases = [
      ['zero sample rate', (b) => b.writeUInt32LE(0, 24), 'bad_fmt', /sample rate of 0/],
      ['zero channels', (b) => b.writeUInt16LE(0, 22), 'bad_fmt', /0 channels/],
      ['zero bits', (b) => b.writeUInt16LE(0, 34), 'bad_fmt', /0 bits per sample/],
      ['block align 65535', (b) => b.writeUInt16LE(65535, 32), 'block_align', /block align 65535 does not match 2 channels x 2 bytes/],
      ['block align 0', (b) => b.writeUInt16LE(0, 32), 'block_align', /block align 0/],
      ['block align of mono', (b) => b.writeUInt16LE(2, 32), 'block_align', /block align 2/],
      ['999 Hz', (b) => b.writeUInt32LE(999, 24), 'bad_fmt', /999 Hz is outside 1000\.\.384000/],
      ['1 MHz', (b) => b.writeUInt32LE(1_000_000, 24), 'bad_fmt', /1000000 Hz is outside/],
      ['rate 0xFFFFFFFF', (b) => b.writeUInt32LE(0xFFFFFFFF, 24), 'bad_fmt', /4294967295 Hz is outside/],
      ['33 channels', (b) => b.writeUInt16LE(33, 22), 'bad_fmt', /33 channels \(at most 32/],
      ['65535 channels', (b) => b.writeUInt16LE(65535, 22), 'bad_fmt', /65535 channels/],
      ['7 bits in 1-byte frames', (b) => b.writeUInt16LE(7, 34), 'block_align', /block align 4 does not match 2 channels x 1 bytes/],
      ['64-bit integer', (b) => { b.writeUInt16LE(64, 34); b.writeUInt16LE(16, 32); }, 'unsupported_codec', /64-bit integer PCM/],
      ['16-bit float', (b) => b.writeUInt16LE(3, 20), 'unsupported_codec', /16-bit float is not supported/],
      ['MP3 in WAV', (b) => b.writeUInt16LE(0x55, 20), 'unsupported_codec', /MP3 in WAV \(0x0055\) is not supported/],
      ['IMA ADPCM', (b) => b.writeUInt16LE(0x11, 20), 'unsupported_codec', /IMA ADPCM/],
      ['mu-law', (b) => b.writeUInt16LE(0x07, 20), 'unsupported_codec', /mu-law/],
      ['unknown codec', (b) => b.writeUInt16LE(0x1234, 20), 'unsupported_codec', /codec 0x1234/],
      ['fmt of 8 bytes', (b) => b.writeUInt32LE(8, 16), 'truncated_fmt', /fmt chunk is 8 bytes, needs at least 16/],
      ['fmt of 2 GB', (b) => b.writeUInt32LE(0x7FFFFFFF, 16), 'chunk_too_large', /larger than 64 KiB/],
      ['data before fmt', (b) => b.write('data', 12, 'latin1'), 'no_fmt', /data chunk comes before any fmt/],
      ['fmt chunk renamed', (b) => b.write('junk', 12, 'latin1'), 'no_fmt', /data chunk comes before any fmt/],
      ['no data chunk (renamed)', (b) => b.write('dat\x00', 36, 'latin1'), 'no_data', /no data chunk/],
      ['extensible tag with a 16-byte fmt', (b) => b.writeUInt16LE(0xFFFE, 20), 'truncated_fmt', /extensible fmt chunk is 16 bytes, needs 40/],
    ];
    for (const [what, edit, reason, says] of cases) {
      const err = await errorOf(analyze(patched(W, edit)));
      assert.equal(err.code, 'invalid_audio', `${what}: ${err.message}`);
      assert.equal(err.error.reason, reason, `${what}: ${err.message}`);
      assert.match(err.message, says, what);
    }
    const mp3 = await errorOf(analyze(patched(W, (b) => b.writeUInt16LE(0x55, 20))));
    assert.equal(mp3.error.format_tag, 0x55);
    // An extensible header with a sub-format that is not PCM or float.
    const ext = wav([new Float32Array(1000), new Float32Array(1000)], RATE, { extensible: { mask: 3 } });
    await rejectsAudio(analyze(patched(ext, (b) => b.writeUInt16LE(0x55, 44))), 'unsupported_codec', /MP3 in WAV/);
    await rejectsAudio(analyze(patched(ext, (b) => b.writeUInt8(1, 50))), 'unsupported_codec', /sub-format GUID/);
  });

  test('wrong sizes that still hold audio: answered like the intact file (with the truncation noted)', async () => {
    // The byte rate is not used; a wrong RIFF size is ignored; data size 0xFFFFFFFF = to the end.
    for (const [what, edit] of [['byte rate 1', (b) => b.writeUInt32LE(1, 28)], ['RIFF size 5', (b) => b.writeUInt32LE(5, 4)],
      ['data size 0xFFFFFFFF', (b) => b.writeUInt32LE(0xFFFFFFFF, 40)]]) {
      const r = await analyze(patched(SONG_WAV, edit));
      assertWhole(r);
      assert.deepEqual({ key: r.key, tempo: r.tempo, duration: r.duration, warnings: r.warnings }, { key: ref.key, tempo: ref.tempo, duration: ref.duration, warnings: [] }, what);
    }
    // A data chunk larger than the file: what is there, and a warning.
    for (const size of [SONG_WAV.length, SONG_WAV.length * 4, 0x7FFFFFFF, 0xFFFFFFFE]) {
      const r = await analyze(patched(SONG_WAV, (b) => b.writeUInt32LE(size, 40)));
      assertWhole(r);
      assert.equal(r.duration, SECONDS);
      assert.equal(r.key.name, 'C major');
      assert.ok(warning(r, TRUNCATED), `data size ${size}: ${r.warnings}`);
    }
  });

  test('truncated files at every header offset and many data offsets: the right error, or a truncation warning', async () => {
    // Header layout of wavFile: RIFF header 0..11, fmt chunk header 12..19, fmt body 20..35,
    // data chunk header 36..43, then frames of 4 bytes.
    const expected = (cut) => cut === 0 ? 'empty'
      : cut < 12 ? 'truncated_header'
      : cut < 20 ? 'no_fmt' // the file ends inside the fmt chunk's 8-byte header
      : cut < 36 ? 'truncated_fmt'
      : cut < 44 ? 'no_data'
      : cut < 48 ? 'no_samples' // no whole 4-byte frame
      : null;
    const cuts = [];
    for (let c = 0; c <= 64; c++) cuts.push(c);
    for (let c = 65; c < SHORT_WAV.length; c = Math.ceil(c * 1.37) + 1) cuts.push(c);
    cuts.push(SHORT_WAV.length - 3, SHORT_WAV.length - 1);
    let answered = 0;
    for (const cut of cuts) {
      const bytes = SHORT_WAV.subarray(0, cut);
      const want = expected(cut);
      if (want) {
        await rejectsAudio(analyze(bytes), want).catch((e) => { e.message = `cut at ${cut}: ${e.message}`; throw e; });
        continue;
      }
      const r = await analyze(bytes);
      assertWhole(r);
      answered++;
      assert.ok(warning(r, TRUNCATED), `cut at ${cut}: ${r.warnings}`);
      assert.ok(warning(r, SHORT), `cut at ${cut}: ${r.warnings}`); // a 1-second file
      assert.equal(r.duration, Math.round(Math.floor((cut - 44) / 4) / RATE * 1000) / 1000, `cut at ${cut}`);
    }
    assert.ok(answered > 15);
    // A cut in the middle of the 8 s song's data: what is there is still C major at 120 BPM.
    const r = await analyze(SONG_WAV.subarray(0, 44 + 4 * RATE * 6 + 3));
    assert.ok(warning(r, TRUNCATED), r.warnings);
    assert.equal(r.duration, 6);
    assert.equal(r.key.name, 'C major');
    assert.ok(Math.abs(r.tempo.bpm - BPM) < 2, `${r.tempo.bpm}`);
  });

  test('corrupt files (fuzz: random byte flips in the headers and cuts, float and extensible too): invalid_audio or an answer, never a crash', async () => {
    const seeds = [
      SHORT_WAV,
      wav([sine(440, 8000, 1)], 8000, { encoding: 'float32' }),
      wav([sine(440, 8000, 1), sine(660, 8000, 1)], 8000, { encoding: 'pcm24', extensible: { mask: 3 } }),
    ];
    const r = rng(2024);
    const seen = new Map();
    let answers = 0;
    for (let it = 0; it < 360; it++) {
      const f = Buffer.from(seeds[it % seeds.length]);
      const headerLen = f.indexOf('data', 0, 'latin1') + 8;
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) f[Math.floor(r() * headerLen)] = Math.floor(r() * 256);
      const bytes = r() < 0.3 ? f.subarray(0, Math.floor(r() * f.length)) : f;
      try {
        const a = await analyze(bytes);
        assertWhole(a);
        assert.ok(a.duration <= 3 * 3600, `${a.duration} s`);
        answers++;
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        assert.ok(err instanceof TunesmithError, String(err?.stack || err));
        assert.equal(err.code, 'invalid_audio', `iteration ${it}: ${err.code}: ${err.message}`);
        assert.ok(REASONS.has(err.error.reason), `iteration ${it}: reason ${err.error.reason}`);
        assert.ok(err.message.length > 10, err.message);
        seen.set(err.error.reason, (seen.get(err.error.reason) || 0) + 1);
      }
    }
    assert.ok(answers > 20, `${answers} answers`);
    assert.ok(seen.size >= 5, `reasons seen: ${[...seen.keys()]}`);
    // Still usable.
    const again = await analyze(SONG_WAV);
    assert.deepEqual(again.key, ref.key);
  });

  test('silence: no key, tempo or loudness, and a warning (16-bit, float, 8-bit; digital zero)', async () => {
    const z = () => new Float32Array(FRAMES);
    for (const encoding of ['pcm16', 'float32', 'pcm8']) {
      const r = await analyze(wav([z(), z()], RATE, { encoding }));
      assertWhole(r);
      assert.equal(r.key.name, null, encoding);
      assert.equal(r.key.confidence, 0);
      assert.equal(r.tempo.bpm, null);
      assert.equal(r.tempo.confidence, 0);
      assert.equal(r.tempo.beat_count, 0);
      assert.equal(r.loudness.integrated_lufs, null);
      assert.equal(r.loudness.sample_peak_dbfs, null);
      assert.ok(warning(r, SILENT), `${encoding}: ${r.warnings}`);
      assert.ok(!warning(r, CLIPPING), `${encoding}: ${r.warnings}`);
    }
    // Decoded PCM (format f32) too.
    const p = await analyze({ channels: [z()], sampleRate: RATE });
    assert.equal(p.key.name, null);
    assert.ok(warning(p, SILENT));
  });

  test('white noise: a key with confidence 0 (flat chroma), a tempo with confidence < 0.1', async () => {
    // Measured: over these seeds the best key correlation is 0.15..0.41, but the chroma is nearly
    // flat, so the reported key confidence is 0 (the song: 0.9-0.98), with either key estimator;
    // tempo confidence 0.028..0.053 (the song: 0.73). 0.2 and 0.1 leave room without letting a
    // real key or beat through.
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const stereo = seed % 2 === 0;
      const r = await analyze(wavFile(stereo ? [whiteNoise(seed), whiteNoise(seed + 100)] : [whiteNoise(seed)], RATE));
      assertWhole(r);
      assert.ok(r.key.confidence < 0.2, `seed ${seed}: key ${r.key.name} confidence ${r.key.confidence}`);
      assert.ok(r.key.confidence < ref.key.confidence / 4);
      assert.ok(r.tempo.confidence < 0.1, `seed ${seed}: tempo ${r.tempo.bpm} confidence ${r.tempo.confidence}`);
      assert.equal(typeof r.loudness.integrated_lufs, 'number'); // it is loud: -12 LUFS or so
      assert.deepEqual(r.warnings, [], `seed ${seed}`);
    }
    // Full-scale uniform noise in float: everything at |x| < 1, no clipping warning; louder noise clips.
    const loud = await analyze(wav([whiteNoise(9, FRAMES, 0.999)], RATE, { encoding: 'float32' }));
    assert.ok(loud.key.confidence < 0.2);
    assert.ok(!warning(loud, CLIPPING), loud.warnings);
  });

  test('a single 440 Hz sine: the tonic A, the mode undecided (margin ~0), no beat', async () => {
    // Measured: the first key estimator: A major and A minor correlate equally (0.684, margin 0);
    // the refitted one: A minor 0.553, A major 0.518 (margin 0.035). One pitch class says nothing
    // about the mode, and the engine shows that through `margin` (the song's: 0.23-0.36). The
    // `confidence` is the best correlation (0.55-0.68): lower than the song's, but not low.
    // "Sensible" here: the tonic is A, the two A keys lead with a margin under 0.1, and the tempo
    // has confidence 0 (a steady tone has no onsets): no tempo at all, with a warning that says so.
    for (const [what, input] of [['16-bit mono', wavFile([sine(440)], RATE)], ['float stereo', wav([sine(440), sine(440)], RATE, { encoding: 'float32' })],
      ['8 kHz', wavFile([sine(440, 8000)], 8000)]]) {
      const r = await analyze(input);
      assertWhole(r);
      assert.equal(r.key.tonic, 'A', `${what}: ${JSON.stringify(r.key.evidence.best_keys)}`);
      assert.ok(r.key.margin < 0.1, `${what}: margin ${r.key.margin}`);
      assert.deepEqual(new Set(r.key.evidence.best_keys.slice(0, 2).map((k) => k.key)), new Set(['A major', 'A minor']), what);
      assert.ok(r.key.confidence < ref.key.confidence - 0.2, `${what}: key confidence ${r.key.confidence}`);
      const chroma = r.key.evidence.chroma;
      assert.ok(chroma[9] > 0.8, `${what}: chroma ${chroma}`); // A holds almost all the energy
      assert.ok(r.tempo.confidence < 0.05, `${what}: tempo ${r.tempo.bpm} confidence ${r.tempo.confidence}`);
      assert.equal(r.tempo.bpm, null, what);
      assert.equal(r.key.tuning_cents, 0, what);
      assert.deepEqual(r.warnings, ['no periodic onsets: no tempo'], what);
    }
  });

  test('clipping: the clipping warning with a count; the key and tempo survive', async () => {
    const hot = SONG.map((c) => c.map((v) => Math.max(-1, Math.min(1, v * 6))));
    const r = await analyze(wavFile(hot, RATE));
    assertWhole(r);
    const m = warning(r, CLIPPING);
    assert.ok(m, r.warnings);
    assert.ok(Number(m.match(CLIPPING)[1]) > 1000, m);
    assert.equal(r.key.name, 'C major');
    assert.ok(Math.abs(r.tempo.bpm - BPM) < 2, `${r.tempo.bpm}`);
    assert.ok(r.loudness.sample_peak_dbfs > -0.01, `${r.loudness.sample_peak_dbfs}`);
    // Float input: |x| >= 1 is full scale; every such sample is counted, exactly.
    let over = 0;
    const hotF = SONG.map((c) => c.map((v) => { const x = v * 4; over += Math.abs(Math.fround(x)) >= 1; return x; }));
    for (const input of [wav(hotF, RATE, { encoding: 'float32' }), { channels: hotF, sampleRate: RATE }]) {
      const f = await analyze(input);
      assert.equal(Number(warning(f, CLIPPING)?.match(CLIPPING)[1]), over, f.warnings);
      assert.equal(f.key.name, 'C major');
    }
    assert.ok(over > 100, `${over} samples over full scale`);
    // No clipping in the clean song.
    assert.ok(!warning(ref, CLIPPING));
  });

  test('clipping at the positive integer extreme counts too (16-bit 32767, 8-bit 255)', async () => {
    const hot = SONG.map((c) => c.map((v) => Math.max(-1, Math.min(1, v * 6))));
    const file = wavFile(hot, RATE);
    let pos = 0, neg = 0;
    for (let at = 44; at < file.length; at += 2) { const v = file.readInt16LE(at); pos += v === 32767; neg += v === -32768; }
    const r = await analyze(file);
    assert.equal(Number(warning(r, CLIPPING)?.match(CLIPPING)[1]), pos + neg, `${r.warnings} (${pos} at +full scale, ${neg} at -full scale)`);
    // A signal that only clips upwards (a rectified tone over a DC offset): no warning at all today.
    const up = await analyze(wav([sine(440).map((v) => Math.min(1, 0.2 + 3 * Math.abs(v)))], RATE, { encoding: 'pcm8' }));
    assert.ok(warning(up, CLIPPING), up.warnings);
  });

  test('8 kHz, 16 kHz, 96 kHz and 192 kHz: the same key and tempo as 44.1 kHz', async () => {
    for (const rate of [8000, 16000, 96000, 192000]) {
      const r = await analyze(wavFile(song(rate), rate));
      assertWhole(r);
      assert.equal(r.sample_rate, rate);
      assert.equal(r.duration, SECONDS);
      assert.equal(r.key.name, ref.key.name, `${rate} Hz`);
      assert.ok(Math.abs(r.key.confidence - ref.key.confidence) < 0.05, `${rate} Hz: key confidence ${r.key.confidence}`);
      assert.ok(Math.abs(r.tempo.bpm - ref.tempo.bpm) < 0.5, `${rate} Hz: ${r.tempo.bpm} BPM`);
      assert.ok(Math.abs(r.tempo.beat_count - ref.tempo.beat_count) <= 1, `${rate} Hz: ${r.tempo.beat_count} beats`);
      assert.ok(Math.abs(r.loudness.integrated_lufs - ref.loudness.integrated_lufs) < 0.5, `${rate} Hz: ${r.loudness.integrated_lufs} LUFS`);
      assert.deepEqual(r.warnings, []);
    }
    // The edges of the range: 1000 Hz and 384 kHz (a short song; nothing above 500 Hz at 1 kHz).
    for (const rate of [1000, 384000]) {
      const r = await analyze(wavFile(song(rate, 4), rate));
      assertWhole(r);
      assert.equal(r.duration, 4);
    }
    // Decoded PCM at 8 kHz: the same as its WAV.
    const pcm8k = song(8000);
    const a = await analyze({ channels: pcm8k, sampleRate: 8000 });
    assert.equal(a.key.name, 'C major');
    assert.ok(Math.abs(a.tempo.bpm - BPM) < 1);
  });

  test('1 channel and 8 channels (plain and WAVE_FORMAT_EXTENSIBLE 7.1): the same key and tempo', async () => {
    const mono = await analyze(wavFile([SONG[0]], RATE));
    assertWhole(mono);
    assert.equal(mono.channels, 1);
    assert.equal(mono.key.name, ref.key.name);
    assert.ok(Math.abs(mono.tempo.bpm - ref.tempo.bpm) < 0.5, `${mono.tempo.bpm}`);
    // 8 channels: L R C LFE BL BR SL SR (mask 0x63F), the song's left and right alternating; the
    // mono mix is the song scaled, so everything but loudness is the stereo answer's.
    const eight = Array.from({ length: 8 }, (_, c) => SONG[c % 2]);
    for (const [what, opts] of [['extensible 7.1 (mask 0x63F)', { extensible: { mask: 0x63F } }], ['extensible, no mask', { extensible: { mask: 0 } }],
      ['plain PCM', {}], ['extensible 24-bit', { extensible: { mask: 0x63F }, encoding: 'pcm24' }], ['extensible float', { extensible: { mask: 0x63F }, encoding: 'float32' }]]) {
      const r = await analyze(wav(eight, RATE, opts));
      assertWhole(r);
      assert.equal(r.channels, 8, what);
      assert.equal(r.key.name, ref.key.name, what);
      assert.ok(Math.abs(r.key.confidence - ref.key.confidence) < 0.02, `${what}: ${r.key.confidence}`);
      assert.ok(Math.abs(r.tempo.bpm - ref.tempo.bpm) < 0.5, `${what}: ${r.tempo.bpm}`);
      assert.equal(typeof r.loudness.integrated_lufs, 'number', what);
      assert.deepEqual(r.warnings, [], what);
    }
    // 32 channels (the limit) as decoded PCM and as WAV.
    const many = Array.from({ length: 32 }, (_, c) => SONG[c % 2].subarray(0, RATE * 4));
    const r32 = await analyze(wav(many, RATE));
    assert.equal(r32.channels, 32);
    // 4 s of the song is C then F: the key weighs the ending, so compare with the same 4 s in stereo
    const ref4 = await analyze(wavFile(SONG.map((c) => c.subarray(0, RATE * 4)), RATE));
    assert.equal(r32.key.name, ref4.key.name);
    await rejectsAudio(analyze(patched(wav(many.slice(0, 2), RATE), (b) => { b.writeUInt16LE(40, 22); b.writeUInt16LE(80, 32); })), 'bad_fmt', /40 channels/);
  });

  test('NaN and infinite samples in a float WAV: read as silence, counted in a warning', async () => {
    for (const encoding of ['float32', 'float64']) {
      let bad = 0;
      const chans = SONG.map((c, ch) => Float64Array.from(c, (v, i) => {
        if (i % 97 === ch) { bad++; return [NaN, Infinity, -Infinity][i % 3]; }
        return v;
      }));
      const r = await analyze(wav(chans, RATE, { encoding }));
      assertWhole(r);
      const m = warning(r, NONFINITE);
      assert.ok(m, `${encoding}: ${r.warnings}`);
      assert.equal(Number(m.match(NONFINITE)[1]), bad, encoding);
      assert.equal(r.key.name, 'C major', encoding);
      assert.ok(Math.abs(r.tempo.bpm - BPM) < 2, `${encoding}: ${r.tempo.bpm}`);
      assert.equal(typeof r.loudness.integrated_lufs, 'number');
      assert.ok(Number.isFinite(r.loudness.true_peak_dbtp));
    }
    // 64-bit values beyond float range count as non-finite too.
    const huge = await analyze(wav([Float64Array.from(sine(440), (v, i) => (i % 1000 === 0 ? 1e300 : v))], RATE, { encoding: 'float64' }));
    assert.equal(Number(warning(huge, NONFINITE)?.match(NONFINITE)[1]), Math.ceil(FRAMES / 1000), huge.warnings);
    // All NaN: silence, with both warnings.
    const all = await analyze(wav([new Float32Array(FRAMES).fill(NaN)], RATE, { encoding: 'float32' }));
    assert.equal(Number(warning(all, NONFINITE)?.match(NONFINITE)[1]), FRAMES);
    assert.ok(warning(all, SILENT), all.warnings);
    assert.equal(all.key.name, null);
    assert.equal(all.tempo.bpm, null);
    // Decoded PCM (format f32) with NaN: the same count.
    const pcm = [SONG[0].map((v, i) => (i % 50 === 0 ? NaN : v))];
    const p = await analyze({ channels: pcm, sampleRate: RATE });
    assert.equal(Number(warning(p, NONFINITE)?.match(NONFINITE)[1]), Math.ceil(FRAMES / 50), p.warnings);
    assert.equal(p.key.name, 'C major');
  });

  test('very short files: an answer with a warning, never a crash', async () => {
    for (const frames of [1, 2, 100, 512, 2048, 4096, RATE / 2, RATE * 2]) {
      const r = await analyze(wavFile([SONG[0].subarray(0, frames)], RATE));
      assertWhole(r);
      assert.ok(warning(r, SHORT), `${frames} frames: ${r.warnings}`);
    }
  });

  test('a loud file under 400 ms is not called silent, and gets no tempo', async () => {
    // Under 400 ms there is no EBU R128 block: the warning says the file is too short, not silent,
    // and there is no tempo under 1.5 s.
    for (const frames of [100, 4096, 17000]) {
      const r = await analyze(wavFile([SONG[0].subarray(0, frames)], RATE));
      assert.ok(r.loudness.sample_peak_dbfs > -10, `${frames} frames: peak ${r.loudness.sample_peak_dbfs}`);
      assert.ok(!warning(r, SILENT), `${frames} frames: ${r.warnings}`);
      assert.equal(r.tempo.bpm, null, `${frames} frames: ${r.tempo.bpm} BPM`);
    }
  });

  test('the engine is still usable after all of that', async () => {
    const r = await analyze(SONG_WAV);
    assert.deepEqual(r.key, ref.key);
    assert.deepEqual(r.tempo, ref.tempo);
  });
});

// ------------------------------------------------------------------------------ native CLI

describe('analyze: bad files through the native CLI', { skip: noNative, timeout: 600_000 }, () => {
  test('wrong headers, cuts and random bytes: exit 1, invalid_audio with the reason, nothing on stdout', async () => {
    const r = rng(99);
    const cases = [
      ['empty.wav', Buffer.alloc(0), 'empty'],
      ['random.wav', Buffer.from(Uint8Array.from({ length: 5000 }, () => 0x20 + Math.floor(r() * 0x50))), 'not_riff'],
      ['id3.wav', Buffer.concat([Buffer.from('ID3\x04', 'latin1'), Buffer.alloc(100)]), 'not_riff', /MP3/],
      ['ogg.wav', Buffer.concat([Buffer.from('OggS', 'latin1'), Buffer.alloc(100)]), 'not_riff', /Ogg/],
      ['avi.wav', patched(SHORT_WAV, (b) => b.write('AVI ', 8, 'latin1')), 'not_wave'],
      ['rate0.wav', patched(SHORT_WAV, (b) => b.writeUInt32LE(0, 24)), 'bad_fmt'],
      ['ch0.wav', patched(SHORT_WAV, (b) => b.writeUInt16LE(0, 22)), 'bad_fmt'],
      ['bits0.wav', patched(SHORT_WAV, (b) => b.writeUInt16LE(0, 34)), 'bad_fmt'],
      ['align.wav', patched(SHORT_WAV, (b) => b.writeUInt16LE(4096, 32)), 'block_align'],
      ['mp3tag.wav', patched(SHORT_WAV, (b) => b.writeUInt16LE(0x55, 20)), 'unsupported_codec', /MP3 in WAV/],
      ['cut30.wav', SHORT_WAV.subarray(0, 30), 'truncated_fmt'],
      ['cut40.wav', SHORT_WAV.subarray(0, 40), 'no_data'],
      ['cut46.wav', SHORT_WAV.subarray(0, 46), 'no_samples'],
    ];
    for (const [name, bytes, reason, says] of cases) {
      const res = await nativeAnalyze(writeTmp(name, bytes));
      assert.equal(res.code, 1, `${name}: exit ${res.code} ${res.signal || ''} ${res.stderr}`);
      assert.equal(res.stdout, '', name);
      const err = cliError(res);
      assert.equal(err.code, 'invalid_audio', name);
      assert.equal(err.reason, reason, `${name}: ${err.message}`);
      if (says) assert.match(err.message, says, name);
    }
    // A file that does not exist, or a directory: a usage error, not a crash.
    for (const file of [path.join(tmp, 'nope.wav'), tmp]) {
      const res = await nativeAnalyze(file);
      assert.ok(res.code !== 0 && res.signal === null, `${file}: exit ${res.code} ${res.signal}`);
    }
  });

  test('a truncated data chunk, NaN floats, clipping, 8 channels, 192 kHz: the answers and warnings the JS API gives', async () => {
    const nanChans = SONG.map((c) => c.map((v, i) => (i % 101 === 0 ? NaN : v)));
    const files = {
      'truncated.wav': [SONG_WAV.subarray(0, 44 + 4 * RATE * 5 + 1), TRUNCATED],
      'nan.wav': [wav(nanChans, RATE, { encoding: 'float32' }), NONFINITE],
      'clip.wav': [wavFile(SONG.map((c) => c.map((v) => Math.max(-1, Math.min(1, v * 6)))), RATE), CLIPPING],
      '8ch.wav': [wav(Array.from({ length: 8 }, (_, c) => SONG[c % 2]), RATE, { extensible: { mask: 0x63F } }), null],
      '192k.wav': [wavFile(song(192000), 192000), null],
    };
    const engine = skip ? null : await createEngine(engineOptions());
    try {
      for (const [name, [bytes, warns]] of Object.entries(files)) {
        const res = await nativeAnalyze(writeTmp(name, bytes));
        assert.equal(res.code, 0, `${name}: ${res.stderr}`);
        const n = JSON.parse(res.stdout);
        assertWhole(n);
        assert.equal(n.key.name, 'C major', name);
        assert.ok(Math.abs(n.tempo.bpm - BPM) < 2, `${name}: ${n.tempo.bpm}`);
        if (warns) assert.ok(warning(n, warns), `${name}: ${n.warnings}`);
        else assert.deepEqual(n.warnings, [], name);
        if (engine) assert.deepEqual(n, await engine.analyzeAudio(bytes, { name }), `${name}: native and wasm differ`);
      }
    } finally {
      await engine?.close();
    }
  });
});

// ------------------------------------------------------------------------------ long files, memory

/**
 * A long 8 kHz mono 16-bit WAV written in 10-second blocks (never one buffer): quiet noise (about
 * -40 dBFS) and a click every half second (120 BPM).
 */
function writeLongWav(file, seconds, rate = 8000, { bits = 16 } = {}) {
  const bytes = bits / 8, frames = rate * seconds, size = frames * bytes;
  const fd = fs.openSync(file, 'w');
  try {
    const h = Buffer.alloc(44);
    h.write('RIFF', 0, 'latin1'); h.writeUInt32LE(36 + size, 4); h.write('WAVEfmt ', 8, 'latin1');
    h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24);
    h.writeUInt32LE(rate * bytes, 28); h.writeUInt16LE(bytes, 32); h.writeUInt16LE(bits, 34);
    h.write('data', 36, 'latin1'); h.writeUInt32LE(size, 40);
    fs.writeSync(fd, h);
    const blockFrames = rate * 10, block = Buffer.alloc(blockFrames * bytes), beat = rate / 2, clickLen = rate / 40;
    let s = 12345;
    for (let f0 = 0; f0 < frames; f0 += blockFrames) {
      const n = Math.min(blockFrames, frames - f0);
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const k = (f0 + i) % beat;
        const v = ((s / 4294967296) * 2 - 1) * 0.01 + (k < clickLen ? 0.37 * Math.exp(-k / (rate / 200)) * Math.sin(k * 0.9) : 0);
        if (bits === 8) block.writeUInt8(Math.round(v * 127) + 128, i);
        else block.writeInt16LE(Math.round(v * 32767), 2 * i);
      }
      fs.writeSync(fd, block, 0, n * bytes);
    }
  } finally {
    fs.closeSync(fd);
  }
  return size + 44;
}

describe(`long files natively, with bounded memory: ${LONG ? '2 hours' : '20 minutes (TUNESMITH_LONG_TESTS=1: 2 hours)'}`, { skip: noNative, timeout: 900_000 }, () => {
  // What memory should hold (docs/listen-api.md "one pass, bounded memory"): the decoder keeps one
  // piece of input, the analyser one onset and one RMS float per 23 ms frame (~2.5 MB for 2 hours),
  // per-segment summaries (1800 segments of 4 s, ~2 MB), the loudness meter two doubles per 100 ms
  // (~1.2 MB) and 512-column pictures; the response JSON is ~0.4 MB. With the binary and its
  // libraries that is about 20 MB, for any length.
  //
  // Measured on this machine (2 cores shared with other work), 8 kHz mono 16-bit files:
  //   CLI reading the whole file (before engine/cli/main.cpp streamed it): 2 h (115.2 MB): peak RSS
  //   239 MB, 13.5 s when the machine was idle (26-75 s while other jobs ran; writing the file
  //   1.7-10 s); 1 h 122 MB; 20 min 44 MB (2.8 s); 10 min 24 MB; 1 min 8 MB. That is 8 MB + 2.0 x the
  //   file: the CLI's std::string and a second copy in the WAV decoder (listen.cpp's one-shot
  //   request feeds the whole buffer to WavDecoder::feed, which copies what it has not decoded).
  //   CLI streaming 1 MiB pieces over an analyze_audio session: 1 min 8.8 MB, 20 min 11.1 MB
  //   (1.9 s), 1 h 15.2 MB, 2 h 21.5 MB (17 s).
  //   With the listening model (1.2.0, its tempo chooser computing rhythm patterns at up to seven
  //   candidate tempi): 10 min 12.5 MiB, 2 h 31.3 MiB (13 s). Before rhythm_features() stopped
  //   storing the patterns of every beat, the 3x candidate of the 2-hour file took 39.4 MiB, a
  //   slope of 0.27: this test caught it.
  // The strict bound is `todo` when the native build has no sessions; the guard before it (no worse
  // than two copies of the file) always holds. By default the lengths are 2 and 20 minutes (a few
  // seconds); TUNESMITH_LONG_TESTS=1 runs 10 minutes and 2 hours.
  const [SHORT_S, LONG_S] = LONG ? [600, 7200] : [120, 1200];
  const label = (sec) => (sec >= 3600 ? `${sec / 3600} h` : `${sec / 60} min`);
  let short, long, shortBytes, longBytes;
  before(async () => {
    const fShort = path.join(tmp, 'short-long.wav'), fLong = path.join(tmp, 'long.wav');
    shortBytes = writeLongWav(fShort, SHORT_S);
    short = await nativeAnalyze(fShort);
    fs.rmSync(fShort);
    const t0 = Date.now();
    longBytes = writeLongWav(fLong, LONG_S);
    const writeS = (Date.now() - t0) / 1000;
    long = await nativeAnalyze(fLong, { timeoutMs: 600_000 });
    fs.rmSync(fLong);
    const mb = (kb) => (kb / 1024).toFixed(1);
    console.log(`# ${label(SHORT_S)} (${(shortBytes / 2 ** 20).toFixed(1)} MiB): ${short.seconds.toFixed(1)} s, peak RSS ${mb(short.peakKb)} MiB; ` +
      `${label(LONG_S)} (${(longBytes / 2 ** 20).toFixed(1)} MiB, written in ${writeS.toFixed(1)} s): ${long.seconds.toFixed(1)} s, peak RSS ${mb(long.peakKb)} MiB`);
  });

  test('the long file is analysed: its length, the clicks\' tempo, segments over the whole file', () => {
    assert.equal(long.code, 0, long.stderr);
    const r = JSON.parse(long.stdout);
    assertWhole(r);
    assert.equal(r.duration, LONG_S);
    assert.equal(r.sample_rate, 8000);
    assert.ok(Math.abs(r.tempo.bpm - 120) < 1, `${r.tempo.bpm} BPM`);
    assert.ok(Math.abs(r.tempo.beat_count - LONG_S * 2) < 20, `${r.tempo.beat_count} beats`);
    assert.equal(r.tempo.beats.length, 2000); // max_beats caps the list, not the count
    // Segments are whole analysis frames: 172 x 512 / 22050 = 3.994 s for segment_seconds 4 (1803 in 2 hours).
    assert.equal(r.segments.length, Math.ceil(LONG_S / (172 * 512 / 22050)));
    assert.equal(r.segments.at(-1).end, LONG_S);
    assert.deepEqual(r.warnings, []);
    assert.equal(short.code, 0, short.stderr);
    assert.equal(JSON.parse(short.stdout).duration, SHORT_S);
    assert.ok(long.peakKb > 0 && short.peakKb > 0, 'no peak RSS measured (no /proc?)');
  });

  const measured = () => {
    for (const r of [short, long]) assert.equal(r.code, 0, r.stderr);
    assert.ok(long.peakKb > 0 && short.peakKb > 0, 'no peak RSS measured (no /proc?)');
  };

  test('peak memory grows no faster than two copies of the file (today\'s ceiling)', () => {
    measured();
    const slope = (long.peakKb - short.peakKb) * 1024 / (longBytes - shortBytes);
    assert.ok(slope < 2.5, `peak RSS grows ${slope.toFixed(2)} bytes per file byte (${short.peakKb} -> ${long.peakKb} kB)`);
    assert.ok(long.peakKb * 1024 < 2.5 * longBytes + 64 * 2 ** 20, `peak RSS ${long.peakKb} kB`);
  });

  test('peak memory does not scale with the file: < 64 MiB, growing < 0.25 byte per file byte',
    { todo: !nativeSessions && 'this native build has no analyze_audio sessions, so the CLI sends the whole file in one request (and listen.cpp copies it into the WAV decoder)' }, () => {
      // Measured with the CLI streaming 1 MiB pieces over a session: 8.8 MB (1 min), 11.1 MB (20 min),
      // 15.2 MB (1 h), 21.5 MB (2 h): ~0.11 byte per file byte, the per-frame state and the
      // vectors' spare capacity. 64 MiB and 0.25 leave room for allocator noise; one copy of the
      // file would be a slope of 1.
      measured();
      const slope = (long.peakKb - short.peakKb) * 1024 / (longBytes - shortBytes);
      assert.ok(long.peakKb < 64 * 1024, `peak RSS ${(long.peakKb / 1024).toFixed(1)} MiB for a ${(longBytes / 2 ** 20).toFixed(1)} MiB file`);
      assert.ok(slope < 0.25, `peak RSS ${short.peakKb} kB for ${label(SHORT_S)}, ${long.peakKb} kB for ${label(LONG_S)}: ${slope.toFixed(2)} bytes per file byte`);
    });

  test('over 3 hours: invalid_audio too_long, not a crash (TUNESMITH_LONG_TESTS=1)', { skip: !LONG && 'set TUNESMITH_LONG_TESTS=1 (about 20 s)' }, async () => {
    // 3 h 1 min at 1000 Hz, 8-bit mono: a 10.9 MB file. It is refused only after 3 hours of it
    // have been analysed (~18 s): the declared size already says it is too long.
    const file = path.join(tmp, 'over-three-hours.wav');
    writeLongWav(file, 3 * 3600 + 60, 1000, { bits: 8 });
    const res = await nativeAnalyze(file, { timeoutMs: 600_000 });
    fs.rmSync(file);
    console.log(`# over 3 hours: ${res.seconds.toFixed(1)} s, peak RSS ${(res.peakKb / 1024).toFixed(1)} MiB`);
    assert.equal(res.code, 1, res.stderr);
    const err = cliError(res);
    assert.equal(err.code, 'invalid_audio');
    assert.equal(err.reason, 'too_long');
    assert.match(err.message, /longer than 3 hours/);
  });

  test('the long file through the wasm engine: the native answer', { skip }, async () => {
    const file = path.join(tmp, 'long.wav');
    writeLongWav(file, LONG_S);
    const bytes = fs.readFileSync(file);
    fs.rmSync(file);
    const engine = await createEngine(engineOptions());
    try {
      const t0 = Date.now();
      const r = await engine.analyzeAudio(bytes, { pictures: false, name: 'long.wav' });
      console.log(`# wasm, ${label(LONG_S)}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const n = JSON.parse(long.stdout);
      delete n.pictures;
      assert.deepEqual(r, n);
    } finally {
      await engine.close();
    }
  });
});

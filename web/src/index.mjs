// tunesmith public JS API: a thin adapter over the C++ engine's JSON request interface.
//
//   import { createEngine } from 'tunesmith';
//   const engine = await createEngine({ onProgress: (p) => console.log(p.model, p.loaded, p.total) });
//   const song = await engine.generateLyrics({ title: '我爱你', style: '流行音乐', lines: 8, seed: 1 },
//                                            { onLine: (ev) => console.log(ev.index, ev.text) });
//   const edited = await engine.editLyrics({ song, action: 'regenerate_line', line: 2, seed: 2 });
//   const { titles } = await engine.generateTitle({ lyrics: edited.lyrics, count: 3 });
//   const tune = await engine.generateMelody({ lyrics: edited.lines, key: 'G', style: 'song', seed: 7 });
//   const up = await engine.editMelody(tune, 'transpose', { semitones: 2 });
//   const heard = await engine.analyzeAudio(wavBytes, { onProgress: (ev) => console.log(ev.fraction) });
//   await engine.close();
// The JSON contract of the songwriting fields and tasks: docs/lyrics-controls.md; melody:
// docs/melody-api.md; listening (analyze_audio): docs/listen-api.md.
//
// Browsers: the engine runs in a module Web Worker (worker.mjs); the threaded build (mt) is used
// only when the page is cross-origin isolated, else the single-thread build (st).
// Node: the mt build runs in-process (or in a worker_threads Worker with {worker: true}).
import { EngineHost, isNode, asBytes } from './core.mjs';

/** Rejection value of engine.request() and friends for an engine error response. */
export class TunesmithError extends Error {
  constructor(error) {
    super(error?.message || 'unknown error');
    this.name = 'TunesmithError';
    this.code = error?.code || 'internal';
    this.error = error; // the whole {code, message, ...} object from the engine (e.g. model, field)
  }
}

// Friendly option names -> request field names. Everything else passes through unchanged, so
// any field the C++ request parser knows can be given under its own name (structure, chorus,
// rhyme_scheme, syllables, mood, keywords, avoid, originality, top_k, ...).
const LYRICS_FIELDS = { title: 'song_title', style: 'song_style', lines: 'lyrics_length', lang: 'language' };

/** {title, style, lines, lang, seed, temperature, structure, rhyme_scheme, ...} -> a generate_lyrics request object. */
export function lyricsRequest(opts = {}) {
  const req = { task: 'generate_lyrics' };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) req[LYRICS_FIELDS[k] || k] = v;
  return req;
}

const textOf = (line) => (line && typeof line === 'object' ? line.text : line);

/**
 * The plan of a song the engine wrote (a generate_lyrics or edit_lyrics response) as request fields:
 * title, style, language, temperature, top_k, top_p, repetition_penalty, structure (one object per
 * section with its line count, rhyme scheme and syllable targets, so lengths the engine drew stay as
 * they were), chorus, mood, keywords, avoid, originality. Sending it with another seed describes
 * the same song.
 */
export function songPlan(song) {
  const plan = {};
  if (!song || typeof song !== 'object') return plan;
  if (typeof song.title === 'string') plan.song_title = song.title;
  if (typeof song.style?.requested === 'string' && song.style.requested) plan.song_style = song.style.requested;
  if (typeof song.language === 'string' && song.language) plan.language = song.language;
  if (typeof song.temperature === 'number') plan.temperature = song.temperature;
  for (const k of ['top_k', 'top_p', 'repetition_penalty']) if (typeof song[k] === 'number') plan[k] = song[k];
  const sections = (Array.isArray(song.sections) ? song.sections : []).filter((s) => s && typeof s === 'object');
  const lines = Array.isArray(song.lines) ? song.lines : [];
  if (sections.length) {
    plan.structure = sections.map((s) => {
      const item = { section: s.section ?? null, lines: s.lines ?? null };
      if (typeof s.rhyme_scheme === 'string' && s.rhyme_scheme) item.rhyme_scheme = s.rhyme_scheme;
      if (Array.isArray(s.syllables) && s.syllables.length === s.lines && s.syllables.every((n) => Number.isInteger(n) && n > 0)) item.syllables = [...s.syllables];
      return item;
    });
    // "vary": a repeated chorus with lines of its own.
    const own = (l) => l && typeof l === 'object' && l.repeat_of == null;
    if (sections.some((s) => s.repeats && Number.isInteger(s.start) && Number.isInteger(s.lines) && lines.slice(Math.max(0, s.start), s.start + s.lines).some(own)) || song.chorus === 'vary') plan.chorus = 'vary';
  } else if (lines.length) {
    plan.lyrics_length = lines.length;
  }
  const mood = song.mood?.requested || song.mood?.used;
  if (typeof mood === 'string' && mood) plan.mood = mood;
  const keywords = song.constraints?.keywords?.required;
  if (Array.isArray(keywords) && keywords.length) plan.keywords = [...keywords];
  const avoid = song.constraints?.avoid?.words;
  if (Array.isArray(avoid) && avoid.length) plan.avoid = [...avoid];
  if (song.originality?.enabled === false) plan.originality = false;
  return plan;
}

/**
 * -> an edit_lyrics request. opts: {song?, lines?, action, line?, locked?, append?, seed?, ...plan
 * fields}. `song` (a previous response) supplies the plan (songPlan) and the current lines; any
 * other option overrides it. `lines` here is the song's text (array of strings or line objects);
 * a number is still lyrics_length.
 */
export function editRequest(opts = {}) {
  const { song, ...rest } = opts;
  const req = { task: 'edit_lyrics', ...songPlan(song) };
  if (song && Array.isArray(song.lines)) req.lines = song.lines.map(textOf);
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue;
    if (k === 'lines' && Array.isArray(v)) req.lines = v.map(textOf);
    else req[LYRICS_FIELDS[k] || k] = v;
  }
  req.task = 'edit_lyrics';
  return req;
}

// Lyrics as text: a string as is; lines (strings or line objects) or a song response joined by newlines.
function lyricsText(v) {
  if (Array.isArray(v)) return v.map(textOf).join('\n');
  if (v && typeof v === 'object') {
    if (typeof v.lyrics === 'string') return v.lyrics;
    if (Array.isArray(v.lines)) return v.lines.map(textOf).join('\n');
  }
  return v;
}
const OTHER_FIELDS = { lang: 'language', style: 'song_style' };
function simpleRequest(task, opts = {}) {
  const req = { task };
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined) continue;
    req[OTHER_FIELDS[k] || k] = k === 'lyrics' ? lyricsText(v) : v;
  }
  return req;
}
/** {lyrics | theme, count?, lang?, style?, seed?} -> a generate_title request (lyrics: text, lines or a song response). */
export const titleRequest = (opts) => simpleRequest('generate_title', opts);
/** {lyrics, lang?} -> an analyze_lyrics request (lyrics: text, lines or a song response). */
export const analyzeRequest = (opts) => simpleRequest('analyze_lyrics', opts);

// ------------------------------------------------------------------------------------ melody
// docs/melody-api.md: generate_melody, edit_melody, render_melody. Fields go to C++ under their own
// names (key, mode, meter, tempo, style, bars, seed, accompaniment, ...); C++ checks every value.

// Lyrics for a melody: a string or an array as is (lines of a generate_lyrics response keep their
// text, repeat_of and section); a lyrics response -> its lines.
function melodyLyrics(v) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    if (Array.isArray(v.lines)) v = v.lines;
    else if (typeof v.lyrics === 'string') return v.lyrics;
  }
  if (!Array.isArray(v)) return v;
  return v.map((l) => {
    if (!l || typeof l !== 'object') return l;
    const o = { text: l.text };
    if (l.repeat_of != null) o.repeat_of = l.repeat_of;
    if (l.section != null) o.section = l.section;
    return o;
  });
}

// The files are output only: a melody sent back for an edit goes without them.
const MELODY_FILES = ['abc', 'musicxml', 'midi'];
function melodyState(melody) {
  if (!melody || typeof melody !== 'object' || Array.isArray(melody)) return melody;
  const m = {};
  for (const [k, v] of Object.entries(melody)) if (!MELODY_FILES.includes(k) && v !== undefined) m[k] = v;
  return m;
}

/** {lyrics?, key?, mode?, meter?, tempo?, style?, bars?, seed?, accompaniment?, ...} -> a generate_melody request. */
export function melodyRequest(opts = {}) {
  const req = { task: 'generate_melody' };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) req[k] = k === 'lyrics' ? melodyLyrics(v) : v;
  req.task = 'generate_melody';
  return req;
}

/** (melody: a generate_melody / edit_melody response, action, {from, to, semitones, key, mode, style, bars, lyrics, seed, ...}) -> an edit_melody request. */
export function editMelodyRequest(melody, action, opts = {}) {
  const req = { task: 'edit_melody', melody: melodyState(melody), action };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) req[k] = k === 'lyrics' ? melodyLyrics(v) : v;
  req.task = 'edit_melody';
  if (action !== undefined) req.action = action;
  return req;
}

/**
 * -> a render_melody request. opts: {notes, key, mode, meter, tempo, chords, accompaniment, title}, or
 * {melody} (a melody response: its notes, key (tonic and mode), meter, tempo, chords, accompaniment
 * and title) with any field overriding it.
 */
export function renderMelodyRequest(opts = {}) {
  const { melody, ...rest } = opts;
  const req = { task: 'render_melody' };
  if (melody && typeof melody === 'object') {
    for (const k of ['notes', 'meter', 'tempo', 'chords', 'accompaniment', 'title']) if (melody[k] !== undefined) req[k] = melody[k];
    if (melody.key && typeof melody.key === 'object') {
      if (melody.key.tonic !== undefined) req.key = melody.key.tonic;
      if (melody.key.mode !== undefined) req.mode = melody.key.mode;
    } else if (melody.key !== undefined) req.key = melody.key;
    if (melody.mode !== undefined && req.mode === undefined) req.mode = melody.mode;
  }
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) req[k] = v;
  req.task = 'render_melody';
  return req;
}

/** The Standard MIDI File of a melody response (its base64 `midi`, or the base64 text itself) as bytes. */
export function midiBytes(melody) {
  const b64 = typeof melody === 'string' ? melody : melody?.midi;
  if (typeof b64 !== 'string') return new Uint8Array(0);
  if (typeof atob === 'function') {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

// ------------------------------------------------------------------------------------ audio
// analyze_audio (docs/listen-api.md) reads the audio as request data beside its JSON: a WAV file's
// bytes ({format: 'wav'}) or interleaved float32 PCM ({format: 'f32', sample_rate, channels}).

const audioError = (message, reason) => new TunesmithError({ code: 'invalid_audio', message, reason });
const isBlob = (x) => typeof Blob === 'function' && x instanceof Blob;

/** Float32 channels (arrays or array-likes of samples) -> one interleaved Float32Array. */
function interleave(chans) {
  const n = chans.length, frames = n ? chans[0].length : 0;
  if (chans.some((c) => !c || typeof c.length !== 'number' || c.length !== frames)) {
    throw audioError('every channel must hold the same number of samples', 'unequal_channels');
  }
  if (n === 1) return Float32Array.from(chans[0]);
  const out = new Float32Array(frames * n);
  for (let c = 0; c < n; c++) {
    const ch = chans[c];
    for (let i = 0, j = c; i < frames; i++, j += n) out[j] = ch[i];
  }
  return out;
}

/**
 * The analyze_audio request and its data for an input, without sending anything:
 *   - a WAV file's bytes (ArrayBuffer, Uint8Array, Node Buffer, DataView) -> {format: 'wav'};
 *   - decoded PCM: an AudioBuffer (or anything with getChannelData(i), numberOfChannels,
 *     sampleRate), or {channels: Float32Array[] (one per channel), sampleRate}, or
 *     {channels: Float32Array (interleaved), sampleRate, numberOfChannels} -> {format: 'f32',
 *     sample_rate, channels} with the samples interleaved as float32.
 * fields: other request fields (segment_seconds, max_beats, pictures, name). Resolves
 * {request, data: Uint8Array, owned} (owned: data is a fresh buffer nobody else holds).
 * A Blob or File is read as WAV bytes.
 */
export async function analyzeAudioRequest(input, fields = {}) {
  const request = { task: 'analyze_audio' };
  for (const [k, v] of Object.entries(fields || {})) if (v !== undefined) request[k] = v;
  request.task = 'analyze_audio';
  if (isBlob(input)) {
    return { request: { ...request, format: 'wav' }, data: new Uint8Array(await input.arrayBuffer()), owned: true };
  }
  const bytes = input instanceof Float32Array || input instanceof Float64Array ? null : asBytes(input);
  if (bytes) return { request: { ...request, format: 'wav' }, data: bytes, owned: false };
  if (!input || typeof input !== 'object') {
    throw audioError('audio input must be a WAV file\'s bytes or decoded PCM ({channels, sampleRate} or an AudioBuffer)', 'unsupported_input');
  }
  let pcm, owned = true, channels;
  if (typeof input.getChannelData === 'function') { // AudioBuffer
    channels = input.numberOfChannels;
    const chans = [];
    for (let c = 0; c < channels; c++) chans.push(input.getChannelData(c));
    pcm = interleave(chans);
  } else if (Array.isArray(input.channels)) {
    channels = input.channels.length;
    if (input.numberOfChannels !== undefined && input.numberOfChannels !== channels) {
      throw audioError(`numberOfChannels is ${input.numberOfChannels} but ${channels} channel arrays were given`, 'unequal_channels');
    }
    pcm = interleave(input.channels);
  } else if (input.channels instanceof Float32Array) { // already interleaved: sent as it is
    channels = input.numberOfChannels ?? 1;
    pcm = input.channels;
    owned = false;
  } else {
    throw audioError('decoded audio needs channels (Float32Array[] or one interleaved Float32Array) and sampleRate, or an AudioBuffer', 'unsupported_input');
  }
  Object.assign(request, { format: 'f32', sample_rate: input.sampleRate, channels });
  return { request, data: new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), owned };
}

// Inputs larger than this go to the engine in chunks of this size (analyze_audio sessions).
export const AUDIO_CHUNK_BYTES = 8 << 20;
let sessionCounter = 0;

const abortedError = (signal, what = 'the analysis') =>
  new TunesmithError({ code: 'aborted', message: `${what} was cancelled`, reason: String(signal.reason?.message || signal.reason || 'aborted') });
function throwIfAborted(signal) {
  if (signal?.aborted) throw abortedError(signal);
}

/**
 * Runs start(onEvent) under an AbortSignal: rejects with TunesmithError 'aborted' before anything is
 * sent if the signal is already aborted, and at once when it aborts later. A request the engine has
 * already queued or started still runs to its end (a wasm call cannot be interrupted); its answer
 * and any later events are dropped.
 */
function underSignal(signal, onEvent, start) {
  if (!signal) return start(onEvent);
  if (signal.aborted) return Promise.reject(abortedError(signal, 'the request'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal, 'the request'));
    signal.addEventListener('abort', onAbort, { once: true });
    start(onEvent && ((ev) => { if (!signal.aborted) onEvent(ev); }))
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Decoded PCM as {channels, frames, sampleRate, at(c) -> Float32Array view} or null (not PCM). */
function pcmSource(input) {
  if (!input || typeof input !== 'object' || isBlob(input) || ArrayBuffer.isView(input) || input instanceof ArrayBuffer) return null;
  if (typeof input.getChannelData === 'function') {
    const channels = input.numberOfChannels, chans = [];
    for (let c = 0; c < channels; c++) chans.push(input.getChannelData(c));
    return { channels, frames: chans[0]?.length ?? 0, sampleRate: input.sampleRate, planar: chans };
  }
  if (Array.isArray(input.channels) && input.channels.length && (input.numberOfChannels === undefined || input.numberOfChannels === input.channels.length)) {
    const frames = input.channels[0]?.length ?? 0;
    if (input.channels.some((c) => !c || c.length !== frames)) return null; // analyzeAudioRequest reports it
    return { channels: input.channels.length, frames, sampleRate: input.sampleRate, planar: input.channels };
  }
  if (input.channels instanceof Float32Array) {
    const channels = input.numberOfChannels ?? 1;
    if (!Number.isInteger(channels) || channels < 1 || input.channels.length % channels) return null;
    return { channels, frames: input.channels.length / channels, sampleRate: input.sampleRate, interleaved: input.channels };
  }
  return null;
}

async function* blobChunks(blob, size) {
  for (let at = 0; at < blob.size; at += size) {
    const end = Math.min(blob.size, at + size);
    yield { bytes: new Uint8Array(await blob.slice(at, end).arrayBuffer()), last: end >= blob.size };
  }
}

async function* pcmChunks(pcm, size) {
  const step = Math.max(1, Math.floor(size / (4 * pcm.channels)));
  for (let at = 0; at < pcm.frames; at += step) {
    const n = Math.min(step, pcm.frames - at);
    let out;
    if (pcm.interleaved) out = pcm.interleaved.slice(at * pcm.channels, (at + n) * pcm.channels);
    else out = interleave(pcm.planar.map((c) => c.subarray(at, at + n)));
    yield { bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), frames: n, last: at + n >= pcm.frames };
  }
}

/**
 * Decodes an audio file (any format the browser can play: MP3, AAC, Ogg, FLAC, WAV) to an AudioBuffer
 * with WebAudio's decodeAudioData, for engine.analyzeAudio. Pages only: it runs on the main thread
 * (workers have no AudioContext); in Node, give analyzeAudio a WAV file's bytes or decoded PCM.
 * decodeAudioData resamples to the context's rate: the device's unless {sampleRate} is given. WAV
 * files need no decoding here: pass their bytes to analyzeAudio (the engine reads them as they are).
 * file: a File/Blob, an ArrayBuffer or a view (copied: decodeAudioData detaches what it is given).
 */
export async function decodeAudioFile(file, { sampleRate } = {}) {
  const AC = globalThis.AudioContext || globalThis.webkitAudioContext;
  if (isNode || typeof AC !== 'function') {
    throw new TunesmithError({ code: 'unsupported', message: 'decodeAudioFile needs a page (WebAudio\'s AudioContext); in Node or a worker, pass a WAV file\'s bytes or decoded PCM to analyzeAudio' });
  }
  let buf;
  if (isBlob(file)) buf = await file.arrayBuffer();
  else {
    const bytes = asBytes(file);
    if (!bytes) throw audioError('decodeAudioFile takes a File, Blob, ArrayBuffer or Uint8Array', 'unsupported_input');
    buf = new Uint8Array(bytes).buffer;
  }
  const ctx = sampleRate ? new AC({ sampleRate }) : new AC();
  try {
    return await new Promise((resolve, reject) => {
      const p = ctx.decodeAudioData(buf, resolve, reject); // callbacks for old Safari, promise elsewhere
      p?.then?.(resolve, reject);
    });
  } catch (err) {
    throw audioError(`the browser cannot decode this file: ${err?.message || err || 'unknown format'}`, 'decode_failed');
  } finally {
    ctx.close?.()?.catch?.(() => {});
  }
}

// null: the package's own files (core.mjs resolves them where bundlers can follow).
async function toBaseUrl(value) {
  if (value == null || value === '') return null;
  let s = value instanceof URL ? value.href : String(value);
  if (!/^[a-z][a-z0-9+.-]+:/i.test(s)) { // a path, not a URL
    if (isNode) {
      const [{ pathToFileURL }, path] = await Promise.all([import('node:url'), import('node:path')]);
      s = pathToFileURL(path.resolve(s)).href;
    } else {
      s = new URL(s, globalThis.location?.href).href;
    }
  }
  return s.endsWith('/') ? s : `${s}/`;
}

// ------------------------------------------------------------------------------------ transports
// A transport has call(request, onEvent) -> Promise<raw response>, info, close().

async function localTransport(options) {
  const host = await EngineHost.create(options);
  return { info: host.info, call: (req, onEvent, data) => host.request(req, onEvent, data), close: async () => host.close() };
}

async function workerTransport(options) {
  let worker, on, post;
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    worker = new Worker(new URL('./worker.mjs', import.meta.url));
    on = (fn, fail) => {
      worker.on('message', fn);
      worker.on('error', (err) => fail(`worker error: ${err?.message || err}`));
      worker.on('exit', (code) => fail(`worker exited (${code})`));
    };
    post = (m, transfer) => worker.postMessage(m, transfer || []);
  } else {
    // This exact expression lets bundlers (Vite, webpack) find and emit the worker.
    worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module', name: 'tunesmith' });
    on = (fn, fail) => {
      worker.onmessage = (e) => fn(e.data);
      worker.onerror = (e) => { e.preventDefault?.(); fail(`worker error: ${e.message || 'script failed to load'}`); };
      worker.onmessageerror = () => fail('worker sent an unreadable message');
    };
    post = (m, transfer) => worker.postMessage(m, transfer || []);
  }
  const pending = new Map(); // id -> {resolve, reject, onEvent}
  let nextId = 1, dead = null;
  // Node: the worker keeps the process alive only while a call is in flight, so a forgotten
  // close() does not hang the process (and an awaited call is never cut short).
  const keepAlive = () => { if (isNode) pending.size ? worker.ref() : worker.unref(); };
  on((msg) => {
    if (msg?.type === 'progress') { try { options.onProgress?.(msg.progress); } catch { /* UI bug */ } return; }
    const p = pending.get(msg?.id);
    if (!p) return;
    if (msg.type === 'event') { try { p.onEvent?.(msg.event); } catch (err) { p.userError ??= err; } return; }
    pending.delete(msg.id);
    keepAlive();
    if (msg.type === 'result' || msg.type === 'ready') p.userError ? p.reject(p.userError) : p.resolve(msg.response ?? msg.info);
    else p.reject(new TunesmithError(msg.error));
  }, (why) => { // the worker is gone: fail everything in flight and later
    dead ??= why;
    for (const p of pending.values()) p.reject(new TunesmithError({ code: 'worker_failed', message: why }));
    pending.clear();
  });
  const send = (msg, onEvent, transfer) => new Promise((resolve, reject) => {
    if (dead) return reject(new TunesmithError({ code: 'worker_failed', message: dead }));
    const id = nextId++;
    pending.set(id, { resolve, reject, onEvent });
    keepAlive();
    try {
      try {
        post({ id, ...msg }, transfer);
      } catch (err) { // a buffer that cannot be transferred (e.g. a host's internal one): send a copy
        if (!msg.data || !transfer?.length) throw err;
        const copy = new Uint8Array(msg.data);
        post({ id, ...msg, data: copy }, [copy.buffer]);
      }
    } catch (err) {
      pending.delete(id);
      keepAlive();
      reject(new TunesmithError({ code: 'bad_request', message: `cannot send the request to the worker: ${err?.message || err}` }));
    }
  });
  const { onProgress, ...initOptions } = options; // functions cannot cross postMessage
  const info = await send({ type: 'init', options: initOptions }).catch((err) => { worker.terminate(); throw err; });
  return {
    info,
    call: (request, onEvent, data, { transfer = false } = {}) => {
      if (data == null) return send({ type: 'request', request, events: !!onEvent }, onEvent);
      let bytes = asBytes(data);
      if (!bytes) return Promise.resolve({ error: { code: 'bad_request', message: 'request data must be an ArrayBuffer or a typed array' } });
      // Transfer (no copy) when asked and the view is its whole ArrayBuffer; otherwise copy just
      // the view's bytes once (a structured clone would copy the whole underlying buffer) and
      // transfer the copy. Shared memory is sent as it is.
      const shared = typeof SharedArrayBuffer === 'function' && bytes.buffer instanceof SharedArrayBuffer;
      if (!shared && !(transfer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)) bytes = new Uint8Array(bytes);
      return send({ type: 'request', request, events: !!onEvent, data: bytes }, onEvent, shared ? [] : [bytes.buffer]);
    },
    close: async () => { dead ??= 'engine closed'; await worker.terminate(); },
  };
}

// ---------------------------------------------------------------------------------------- Engine

/** {onLine, onToken, onLineReset, onEvent} -> one event callback (null when none is given). */
function eventHandler(handlers) {
  const { onLine, onToken, onLineReset, onEvent } = handlers || {};
  if (!(onLine || onToken || onLineReset || onEvent)) return null;
  return (ev) => {
    onEvent?.(ev);
    if (ev.event === 'line') onLine?.(ev);
    else if (ev.event === 'token') onToken?.(ev);
    else if (ev.event === 'line_reset') onLineReset?.(ev);
  };
}

class Engine {
  #t; #closed = false;
  constructor(transport, info) { this.#t = transport; this.info = Object.freeze(info); }

  /** Same as info: {version, variant: 'mt'|'st', simd, threads, maxThreads, crossOriginIsolated}. */
  get build() { return this.info; }

  /**
   * Resolves the engine's raw response object, error responses included. A string is sent verbatim.
   * data: the bytes a task reads beside its JSON (analyze_audio), an ArrayBuffer or a view. With a
   * worker they are copied to it, or with {transfer: true} their ArrayBuffer is transferred (no
   * copy; it becomes detached here).
   */
  requestRaw(request, onEvent, data, { transfer = false } = {}) {
    if (this.#closed) return Promise.reject(new TunesmithError({ code: 'closed', message: 'engine is closed' }));
    return data == null ? this.#t.call(request, onEvent || null) : this.#t.call(request, onEvent || null, data, { transfer });
  }

  /** Resolves a successful response; an error response rejects with TunesmithError. */
  async request(request, onEvent, data, options) {
    const res = await this.requestRaw(request, onEvent, data, options);
    if (res && res.error) throw new TunesmithError(res.error);
    return res;
  }

  /**
   * opts: {title, style, lines, lang, seed, temperature, structure, rhyme_scheme, ...};
   * handlers: {onLine, onToken, onLineReset, onEvent, signal} (signal: an AbortSignal, see underSignal;
   * also taken from opts).
   */
  generateLyrics(opts, handlers = {}) {
    const { signal = handlers?.signal, ...fields } = opts || {};
    return underSignal(signal, eventHandler(handlers), (on) => this.request(lyricsRequest(fields), on));
  }

  /** opts: see editRequest (song or lines + plan fields, action, line, locked, append, seed); same handlers. */
  editLyrics(opts, handlers = {}) {
    const { signal = handlers?.signal, ...fields } = opts || {};
    return underSignal(signal, eventHandler(handlers), (on) => this.request(editRequest(fields), on));
  }

  /** opts: {lyrics | theme, count?, lang?, style?, seed?} -> {titles: [{title, score, source_line}], ...}. */
  generateTitle(opts) {
    return this.request(titleRequest(opts));
  }

  /** opts: {lyrics, lang?} -> {lines: [{valence, label, confidence, words}], overall, ...}. */
  analyzeLyrics(opts) {
    return this.request(analyzeRequest(opts));
  }

  /** generate_melody (docs/melody-api.md): opts {lyrics?, key?, mode?, meter?, tempo?, style?, bars?, seed?, accompaniment?, signal?, ...}. */
  generateMelody(opts) {
    const { signal, ...fields } = opts || {};
    return underSignal(signal, null, () => this.request(melodyRequest(fields)));
  }

  /** edit_melody: melody (a previous melody response), action ('transpose', 'regenerate_bars', ...), that action's fields. */
  editMelody(melody, action, opts) {
    return this.request(editMelodyRequest(melody, action, opts));
  }

  /** render_melody: {notes, key, mode, meter, tempo, chords, accompaniment, title} or {melody} -> {abc, musicxml, midi}. */
  renderMelody(opts) {
    return this.request(renderMelodyRequest(opts));
  }

  /**
   * analyze_audio (docs/listen-api.md): key, tempo and beats, loudness, segments and pictures of
   * one piece of audio. input: a WAV file's bytes (ArrayBuffer, Uint8Array, Node Buffer, Blob/File)
   * or decoded PCM (an AudioBuffer, e.g. from decodeAudioFile; {channels: Float32Array[],
   * sampleRate}; {channels: interleaved Float32Array, sampleRate, numberOfChannels}).
   * opts: {onProgress({event: 'progress', fraction}), onEvent, transfer, ...request fields (segment_seconds,
   * max_beats, pictures, name)}. With a worker (browsers), the ArrayBuffer of WAV bytes or of an
   * interleaved Float32Array is transferred to it (detached here, no copy) unless {transfer:
   * false}; channel arrays and AudioBuffers are interleaved into a new buffer, which is transferred.
   */
  async analyzeAudio(input, opts = {}) {
    const { onProgress, onEvent, transfer = true, signal, chunkBytes = AUDIO_CHUNK_BYTES, ...fields } = opts || {};
    const handler = onProgress || onEvent ? (ev) => {
      onEvent?.(ev);
      if (ev.event === 'progress') onProgress?.(ev);
    } : null;
    throwIfAborted(signal);
    const chunk = Math.max(4096, Math.floor(Number(chunkBytes) || AUDIO_CHUNK_BYTES));
    // Large inputs go in chunks over an analyze_audio session, so neither side holds the whole
    // file: a Blob/File is read slice by slice; decoded PCM is interleaved chunk by chunk.
    if (isBlob(input) && input.size > chunk) return this.#analyzeChunked(blobChunks(input, chunk), { format: 'wav', ...fields }, handler, signal, null);
    const pcm = pcmSource(input);
    if (pcm && pcm.frames * pcm.channels * 4 > chunk) {
      return this.#analyzeChunked(pcmChunks(pcm, chunk), { format: 'f32', sample_rate: pcm.sampleRate, channels: pcm.channels, ...fields },
        handler, signal, pcm.frames);
    }
    const { request, data, owned } = await analyzeAudioRequest(input, fields);
    throwIfAborted(signal);
    return this.request(request, handler, data, { transfer: owned || transfer });
  }

  async #analyzeChunked(chunks, fields, handler, signal, totalFrames) {
    const session = `a${++sessionCounter}-${Date.now().toString(36)}`;
    const first = { task: 'analyze_audio', ...fields, session };
    let sent = 0, frames = 0, started = false;
    try {
      for await (const c of chunks) {
        throwIfAborted(signal);
        const req = sent === 0 ? { ...first, final: c.last } : { task: 'analyze_audio', session, final: c.last };
        sent++;
        const res = await this.request(req, handler, c.bytes, { transfer: true });
        started = true;
        frames += c.frames || 0;
        // PCM sessions do not know their length: progress comes from here
        if (totalFrames && handler && !c.last) handler({ event: 'progress', fraction: Math.min(1, Math.round((frames / totalFrames) * 1000) / 1000) });
        if (c.last) return res;
      }
      throw new TunesmithError({ code: 'invalid_audio', message: 'no audio: the input is empty', reason: 'empty' });
    } catch (err) {
      if (started) this.requestRaw({ task: 'analyze_audio', session, cancel: true }).catch(() => {});
      throw err;
    }
  }

  /**
   * Async iterator over generate_lyrics (or edit_lyrics with {task: 'edit_lyrics'}): each final
   * {event:'line', index, text, section, label, repeat_of} as it is written, then {event:'done',
   * response}. With {tokens: true} it also yields {event:'token', text} and {event:'line_reset',
   * index}: a reset voids the tokens streamed since the last line event (drop the partial line).
   */
  async *streamLyrics(opts, { tokens = false, task = 'generate_lyrics' } = {}) {
    const queue = [];
    let wake = null, done = false, response, failure;
    const push = (ev) => { queue.push(ev); wake?.(); };
    const handlers = tokens ? { onLine: push, onToken: push, onLineReset: push } : { onLine: push };
    (task === 'edit_lyrics' ? this.editLyrics(opts, handlers) : this.generateLyrics(opts, handlers))
      .then((r) => { response = r; }, (e) => { failure = e; })
      .finally(() => { done = true; wake?.(); });
    for (;;) {
      if (queue.length) { yield queue.shift(); continue; }
      if (done) break;
      await new Promise((r) => { wake = r; });
      wake = null;
    }
    if (failure) throw failure;
    yield { event: 'done', response };
  }

  /** Frees the engine (ends the worker / the pthread pool, so Node can exit). Idempotent. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    await this.#t.close();
  }
}

/**
 * createEngine({threads?: 'auto'|number, modelBaseUrl?, wasmBaseUrl?, onProgress?, worker?, variant?, warmStart?})
 * modelBaseUrl / wasmBaseUrl: URL or (Node) directory path; default: the package's models/ and dist/wasm/.
 * warmStart (browsers, default true): load the models this origin's last engine used while starting.
 */
export async function createEngine(options = {}) {
  const coi = globalThis.crossOriginIsolated === true;
  const worker = options.worker ?? !isNode;
  const canThread = typeof SharedArrayBuffer === 'function' && (isNode || coi);
  // A page's main thread may not block, so in-page (worker: false) runs the single-thread build.
  const variant = options.variant || (canThread && (isNode || worker) ? 'mt' : 'st');
  const resolved = {
    variant,
    threads: options.threads ?? 'auto',
    wasmBaseUrl: await toBaseUrl(options.wasmBaseUrl),
    modelBaseUrl: await toBaseUrl(options.modelBaseUrl),
    onProgress: options.onProgress,
    warmStart: options.warmStart ?? true,
  };
  const transport = worker ? await workerTransport(resolved) : await localTransport(resolved);
  // The page's isolation is what decides mt vs st, whatever the worker's globals say.
  return new Engine(transport, { ...transport.info, crossOriginIsolated: coi });
}

export default createEngine;

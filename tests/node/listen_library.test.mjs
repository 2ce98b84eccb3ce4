// The Listen tab's library records (web/library.mjs) without a browser: what a record keeps (no
// pictures, features or audio in the result; the embedding beside it), when an entry counts as out
// of date for the current engine, the compact pictures, and the in-memory store's interface (the
// IndexedDB store is exercised in Chromium by tests/browser/listen.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fileKey, makeEntry, engineProfile, widenProfile, staleReason, compactPictures, memoryLibrary, openLibrary, RECORD_SCHEMA,
} from '../../web/library.mjs';

const file = { name: 'song.wav', size: 1234, lastModified: 1700000000000, type: 'audio/wav' };
const pic = (rows, columns) => ({ rows, columns, seconds_per_column: 0.1, range: [0, 1], values: Array.from({ length: rows * columns }, (_, i) => i % 256) });
const today = {
  task: 'analyze_audio', duration: 6, sample_rate: 44100, channels: 2, key: { name: 'C major' }, tempo: { bpm: 120 },
  loudness: { integrated_lufs: -14 }, segments: [], embedding: Array(64).fill(0.125), features: Array(222).fill(0),
  pictures: { chroma: pic(12, 300), mel: pic(64, 300) },
  unavailable: { style: 'not trained', mood: 'not trained', instruments: 'not trained' },
};
const withStyle = { ...today, style: { label: 'rock', confidence: 0.7 }, unavailable: { mood: 'x', instruments: 'y' } };

test('a record keeps the result without pictures, features or embedding; the embedding beside it', () => {
  const e = makeEntry({ id: 'l-1', file, result: today, engine: engineProfile({ version: '0.1.0' }, today), addedAt: 5, analysedAt: 6 });
  assert.equal(e.fileKey, fileKey(file));
  assert.equal(e.schema, RECORD_SCHEMA);
  assert.deepEqual([e.name, e.size, e.lastModified, e.addedAt, e.analysedAt], ['song.wav', 1234, 1700000000000, 5, 6]);
  assert.equal(e.embedding.length, 64);
  for (const k of ['pictures', 'features', 'embedding']) assert.equal(k in e.result, false, k);
  assert.deepEqual(e.summary, { key: 'C major', bpm: 120, lufs: -14, duration: 6, style: null, mood: null, lead: null });
  assert.deepEqual(e.engine, { version: '0.1.0', variant: null, embeddingLength: 64, provides: [] });
  assert.ok(JSON.stringify(e).length < 4000);
  assert.notEqual(fileKey(file), fileKey({ ...file, lastModified: 1 }));
});

test('out of date: another record layout, no or another-length embedding, a field the engine now gives', () => {
  const now = engineProfile({ version: '0.1.0' }, today);
  const entry = makeEntry({ id: 'l-1', file, result: today, engine: now });
  assert.equal(staleReason(entry, now), null);
  assert.equal(staleReason(entry, null), null);
  assert.match(staleReason({ ...entry, schema: 0 }, now), /older version of this page/);
  assert.match(staleReason({ ...entry, embedding: null }, now), /no embedding/);
  assert.match(staleReason({ ...entry, embedding: Array(32).fill(0) }, now), /embedding has 32 numbers, this engine makes 64/);
  // The engine gains style: today's entries are out of date; one made with style is not, nor one
  // made by that engine for a file it could not classify (unavailable there, but the engine had it).
  const later = engineProfile({ version: '0.1.0' }, withStyle);
  assert.deepEqual(later.provides, ['style']);
  assert.match(staleReason(entry, later), /analysed before the engine had style/);
  assert.equal(staleReason(makeEntry({ id: 'l-2', file, result: withStyle, engine: later }), later), null);
  assert.equal(staleReason(makeEntry({ id: 'l-3', file, result: today, engine: later }), later), null);
  assert.deepEqual(widenProfile(now, withStyle).provides, ['style']);
  // A field listed as unavailable is not given, whatever else the response holds.
  assert.deepEqual(engineProfile({}, { ...withStyle, unavailable: { style: 'no' } }).provides, []);
});

test('pictures are kept compact (bytes), at most 128 Ki cells each', () => {
  const c = compactPictures(today.pictures);
  assert.ok(c.chroma.values instanceof Uint8Array && c.mel.values instanceof Uint8Array);
  assert.equal(c.mel.values.length, 64 * 300);
  assert.equal(c.mel.values[257], 1);
  assert.equal(compactPictures({ mel: pic(512, 512) }), null);
  assert.equal(compactPictures(null), null);
  assert.equal(compactPictures({ mel: { rows: 2, columns: 2, values: [1, 2, 3] } }), null);
});

test('the memory library: add replaces by id, finds by file, removes and clears', async () => {
  const lib = memoryLibrary();
  const a = makeEntry({ id: 'l-1', file, result: today, addedAt: 2 });
  const b = makeEntry({ id: 'l-7', file: { ...file, name: 'b.wav' }, result: today, addedAt: 1 });
  await lib.add(a, today.pictures);
  await lib.add(b);
  assert.deepEqual((await lib.all()).map((e) => e.id), ['l-7', 'l-1']);
  assert.equal((await lib.findByFile(fileKey(file))).id, 'l-1');
  assert.equal(await lib.maxSerial(), 7);
  assert.equal((await lib.pictures('l-1')).mel.rows, 64);
  assert.equal(await lib.pictures('l-7'), null);
  await lib.add({ ...a, analysedAt: 99 });
  assert.equal((await lib.all()).length, 2);
  await lib.remove('l-1');
  assert.equal(await lib.findByFile(fileKey(file)), null);
  await lib.clear();
  assert.deepEqual(await lib.all(), []);
});

test('without IndexedDB the library is in memory, with the reason', async () => {
  const none = await openLibrary({ indexedDB: null });
  assert.equal(none.persistent, false);
  assert.equal(none.library.kind, 'memory');
  assert.match(none.reason, /no IndexedDB/);
  const denied = await openLibrary({ indexedDB: { open() { throw Object.assign(new Error('denied'), { name: 'SecurityError' }); } } });
  assert.match(denied.reason, /IndexedDB is unavailable \(SecurityError: denied\)/);
  const silent = await openLibrary({ indexedDB: { open: () => ({}) }, timeoutMs: 50 });
  assert.match(silent.reason, /TimeoutError/);
});

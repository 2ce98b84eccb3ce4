// The Listen tab's library: the analysed files, kept in this origin's IndexedDB so that it survives
// reloads (nothing is uploaded; no audio is kept, only what the engine answered). Where IndexedDB is
// missing, denied (private windows, sandboxed frames, file:) or blocked, the same interface keeps the
// entries in memory for the session and says why (openLibrary's `reason`).
//
// Storage (database "tunesmith-listen", version 1):
//   tracks   keyPath "id", unique index "fileKey" (name, size and lastModified): one record per file,
//            {id, fileKey, name, size, lastModified, type, addedAt, analysedAt, schema, engine,
//             summary, embedding, result} — result is the engine's response without its pictures,
//             features and embedding (the embedding is the record's own field);
//   pictures keyPath "id": the card's chroma and mel pictures with their values as a Uint8Array
//            (at most 512 columns each: about 40 kB a track), read only when a card is drawn.
// See docs/listen-api.md "The Listen tab's library".
// The reasons it gives are in the interface language (web/i18n.mjs; English in Node).
import { t, msg } from './i18n.mjs';

export const DB_NAME = 'tunesmith-listen';
export const DB_VERSION = 1;
/** The layout of a track record; records of another layout are re-analysed, never misread. */
export const RECORD_SCHEMA = 1;
/** The fields that need classifiers; an entry lacking one the engine now gives is out of date. */
export const DESCRIBED = ['style', 'mood', 'instruments'];
/** Largest picture stored (rows × columns); the engine's are at most 64 × 512. */
const MAX_PICTURE_CELLS = 128 * 1024;

/** The same file dropped again: same name, size and modification time. */
export const fileKey = (file) => `${file.name}\u0000${file.size}\u0000${file.lastModified ?? 0}`;

/** The fields of a response the engine gave (an object, not listed under `unavailable`). */
export const provided = (result) => DESCRIBED.filter((f) => result?.[f] && typeof result[f] === 'object' && !(f in (result.unavailable || {})));

/**
 * What the current engine produces, for telling old entries apart: {version, variant,
 * embeddingLength, provides: [fields]} from engine.info and a response of this engine.
 */
export function engineProfile(info, result) {
  return {
    version: info?.version ?? null,
    variant: info?.variant ?? null,
    embeddingLength: Array.isArray(result?.embedding) ? result.embedding.length : null,
    provides: provided(result),
  };
}

/** A profile widened by another response of the same engine (it gave style for this file, say). */
export function widenProfile(profile, result) {
  const next = { ...profile, provides: [...new Set([...(profile?.provides || []), ...provided(result)])] };
  if (Array.isArray(result?.embedding) && result.embedding.length) next.embeddingLength = result.embedding.length;
  return next;
}

/**
 * Why an entry must be analysed again before it is compared or trusted, or null when it is current.
 * profile: the current engine's (engineProfile); null while unknown (then only the record layout and
 * a missing embedding count).
 */
export function staleReason(entry, profile) {
  if (entry?.schema !== RECORD_SCHEMA) return t('staleOlderPage');
  const len = Array.isArray(entry.embedding) ? entry.embedding.length : 0;
  if (!len) return t('staleNoEmbedding');
  if (!profile) return null;
  if (profile.embeddingLength && len !== profile.embeddingLength) {
    return t('staleEmbeddingLength', { len, now: profile.embeddingLength });
  }
  const had = new Set([...(entry.engine?.provides || []), ...provided(entry.result)]);
  const lacking = (profile.provides || []).filter((f) => !had.has(f));
  if (lacking.length) return t('staleLacking', { fields: lacking.join(', ') });
  return null;
}

/** The pictures in a compact form (values as a Uint8Array), or null when there are none or they are too big. */
export function compactPictures(pictures) {
  if (!pictures || typeof pictures !== 'object') return null;
  const out = {};
  for (const [name, p] of Object.entries(pictures)) {
    if (!p || !(p.rows > 0) || !(p.columns > 0) || p.rows * p.columns > MAX_PICTURE_CELLS) continue;
    const values = p.values instanceof Uint8Array ? p.values : Uint8Array.from(p.values || [], (v) => v);
    if (values.length !== p.rows * p.columns) continue;
    out[name] = { rows: p.rows, columns: p.columns, seconds_per_column: p.seconds_per_column, range: p.range, values };
  }
  return Object.keys(out).length ? out : null;
}

/**
 * A library record for an analysed file. id: the card's id; engine: the current engine's profile;
 * addedAt: kept from the record it replaces.
 */
export function makeEntry({ id, file, result, engine = null, addedAt = Date.now(), analysedAt = Date.now() }) {
  const { pictures, features, embedding, ...rest } = result || {};
  return {
    id, fileKey: fileKey(file), name: file.name, size: file.size, lastModified: file.lastModified ?? 0,
    type: file.type || '', addedAt, analysedAt, schema: RECORD_SCHEMA,
    engine: engine ? { ...engine, provides: [...new Set([...(engine.provides || []), ...provided(result)])] } : { provides: provided(result) },
    summary: {
      key: result?.key?.name ?? null, bpm: result?.tempo?.bpm ?? null, lufs: result?.loudness?.integrated_lufs ?? null,
      duration: result?.duration ?? null, style: result?.style?.label ?? null, mood: result?.mood?.label ?? null,
      lead: result?.instruments?.lead?.label ?? null,
    },
    embedding: Array.isArray(embedding) ? [...embedding] : null,
    result: JSON.parse(JSON.stringify(rest)), // plain data only, detached from the card's copy
  };
}

// ------------------------------------------------------------------------------------ memory

/**
 * The library in memory (this session only). Every method is async, as in the IndexedDB one:
 * add(entry, pictures?) (replaces the entry of the same id), all() (oldest first), get(id),
 * findByFile(key), maxSerial() (the largest n of the "l-n" ids), pictures(id), remove(id), clear().
 */
export function memoryLibrary() {
  const entries = new Map(), pics = new Map();
  return {
    kind: 'memory',
    async add(entry, pictures = null) {
      entries.set(entry.id, entry);
      const p = compactPictures(pictures);
      if (p) pics.set(entry.id, p); else pics.delete(entry.id);
      return entry;
    },
    async all() { return [...entries.values()].sort((a, b) => a.addedAt - b.addedAt || String(a.id).localeCompare(String(b.id))); },
    async get(id) { return entries.get(id) ?? null; },
    async findByFile(key) { for (const e of entries.values()) if (e.fileKey === key) return e; return null; },
    async maxSerial() { return [...entries.keys()].reduce((m, k) => Math.max(m, Number(/^l-(\d+)$/.exec(k)?.[1] ?? 0)), 0); },
    async pictures(id) { return pics.get(id) ?? null; },
    async remove(id) { entries.delete(id); pics.delete(id); },
    async clear() { entries.clear(); pics.clear(); },
  };
}

// ------------------------------------------------------------------------------------ IndexedDB

const done = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});
const finished = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = () => reject(tx.error);
  tx.onabort = () => reject(tx.error || new DOMException('transaction aborted', 'AbortError'));
});
const describe = (err) => (err ? `${err.name || 'Error'}${err.message ? `: ${err.message}` : ''}` : 'unknown error');

function openDatabase(idb, name, timeoutMs) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn, v) => { if (!settled) { settled = true; clearTimeout(timer); fn(v); } };
    const timer = setTimeout(() => settle(reject, new DOMException(`no answer in ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    let req;
    try { req = idb.open(name, DB_VERSION); } catch (err) { settle(reject, err); return; }
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('tracks')) {
        const tracks = db.createObjectStore('tracks', { keyPath: 'id' });
        tracks.createIndex('fileKey', 'fileKey', { unique: true });
      }
      if (!db.objectStoreNames.contains('pictures')) db.createObjectStore('pictures', { keyPath: 'id' });
    };
    req.onblocked = () => settle(reject, new DOMException('another tab holds an older version of the library open', 'BlockedError'));
    req.onerror = () => settle(reject, req.error);
    req.onsuccess = () => {
      const db = req.result;
      if (settled) { db.close(); return; }
      db.onversionchange = () => db.close(); // a newer page in another tab upgrades it
      settle(resolve, db);
    };
  });
}

/**
 * The library in IndexedDB. Entries are read once when it opens and kept in memory (the list and
 * "similar" need them all); every change is written through. When a write fails (quota, the
 * database closed by another tab), the library carries on in memory and calls onFallback(reason).
 */
async function indexedDbLibrary(db, onFallback) {
  const entries = new Map(), pics = new Map();
  {
    const tx = db.transaction('tracks', 'readonly');
    for (const e of await done(tx.objectStore('tracks').getAll())) entries.set(e.id, e);
  }
  const lib = {
    kind: 'indexeddb',
    reason: null,
    async add(entry, pictures = null) {
      const p = compactPictures(pictures);
      // Another id with the same file (should not happen: the tab reuses the id) is replaced.
      for (const e of entries.values()) if (e.fileKey === entry.fileKey && e.id !== entry.id) await lib.remove(e.id);
      entries.set(entry.id, entry);
      if (p) pics.set(entry.id, p); else pics.delete(entry.id);
      await write((tx) => {
        const tracks = tx.objectStore('tracks'), pictures = tx.objectStore('pictures');
        // The same file stored under another id (by another tab of this page) makes way.
        const other = tracks.index('fileKey').getKey(entry.fileKey);
        other.onsuccess = () => {
          if (other.result !== undefined && other.result !== entry.id) { tracks.delete(other.result); pictures.delete(other.result); }
          tracks.put(entry);
          if (p) pictures.put({ id: entry.id, ...p });
          else pictures.delete(entry.id);
        };
      });
      return entry;
    },
    /** The largest number in the stored ids ("l-12" -> 12), other tabs' new entries included. */
    async maxSerial() {
      let keys = [...entries.keys()];
      if (lib.kind === 'indexeddb') {
        try { keys = keys.concat(await done(db.transaction('tracks', 'readonly').objectStore('tracks').getAllKeys())); } catch { /* the mirror's */ }
      }
      return keys.reduce((m, k) => Math.max(m, Number(/^l-(\d+)$/.exec(k)?.[1] ?? 0)), 0);
    },
    async all() { return [...entries.values()].sort((a, b) => a.addedAt - b.addedAt || String(a.id).localeCompare(String(b.id))); },
    async get(id) { return entries.get(id) ?? null; },
    async findByFile(key) { for (const e of entries.values()) if (e.fileKey === key) return e; return null; },
    async pictures(id) {
      if (pics.has(id)) return pics.get(id);
      if (lib.kind !== 'indexeddb' || !entries.has(id)) return null;
      try {
        const rec = await done(db.transaction('pictures', 'readonly').objectStore('pictures').get(id));
        if (!rec) return null;
        const { id: _, ...p } = rec;
        return p;
      } catch { return null; }
    },
    async remove(id) {
      entries.delete(id); pics.delete(id);
      await write((tx) => { tx.objectStore('tracks').delete(id); tx.objectStore('pictures').delete(id); });
    },
    async clear() {
      entries.clear(); pics.clear();
      await write((tx) => { tx.objectStore('tracks').clear(); tx.objectStore('pictures').clear(); });
    },
  };
  async function write(fill) {
    if (lib.kind !== 'indexeddb') return;
    try {
      const tx = db.transaction(['tracks', 'pictures'], 'readwrite');
      fill(tx);
      await finished(tx);
    } catch (err) {
      // The entries stay in memory; later writes are not tried (they would fail the same way).
      lib.kind = 'memory';
      lib.reasonMsg = msg('idbWriteFailed', { err: describe(err) });
      lib.reason = t(lib.reasonMsg.k, lib.reasonMsg.p);
      try { db.close(); } catch { /* already closed */ }
      onFallback?.(lib.reason, lib.reasonMsg);
    }
  }
  return lib;
}

/**
 * Opens the library: IndexedDB when this page may use it, else memory.
 * Resolves {library, persistent: boolean, reason: string|null (why it is in memory), reasonMsg (the
 * same as a web/i18n.mjs message, {k, p}, for a page that redraws it in another language)}.
 * options: {indexedDB (default globalThis.indexedDB), name, timeoutMs, onFallback(reason)}.
 */
export async function openLibrary({ indexedDB = globalThis.indexedDB, name = DB_NAME, timeoutMs = 5000, onFallback } = {}) {
  const inMemory = (reasonMsg) => ({ library: memoryLibrary(), persistent: false, reason: t(reasonMsg.k, reasonMsg.p), reasonMsg });
  if (!indexedDB) return inMemory(msg('noIndexedDb'));
  try {
    const db = await openDatabase(indexedDB, name, timeoutMs);
    return { library: await indexedDbLibrary(db, onFallback), persistent: true, reason: null, reasonMsg: null };
  } catch (err) {
    return inMemory(msg('idbUnavailable', { err: describe(err) }));
  }
}

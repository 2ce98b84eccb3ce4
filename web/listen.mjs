// The Listen tab: analyses audio files dropped on (or chosen in) the page with the engine's
// analyze_audio task (docs/listen-api.md), in the same worker as the lyrics and melodies. WAV files
// go to the engine as their File (the API reads the bytes; it may slice long files); other formats are
// decoded here, on the main thread, with WebAudio (decodeAudioFile) and sent as float PCM. Nothing is
// uploaded: the page's CSP allows no other origin. The page shows what the engine answers (key, tempo,
// loudness, style, mood and instruments when the engine gives them, the pictures, segments, evidence,
// warnings, what is not available yet) and invents nothing.
// The library of analysed files lives in this origin's IndexedDB (web/library.mjs), or in memory
// where IndexedDB is unavailable (the page says so).
import { decodeAudioFile } from './src/index.mjs';
import { $, el } from './dom.mjs';
import { t as tx, msg, has, getLang, setText, setPlain, onLangChange } from './i18n.mjs';
import {
  openLibrary, memoryLibrary, makeEntry, fileKey, engineProfile, widenProfile, staleReason,
} from './library.mjs';

export { memoryLibrary };

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs = {}, text) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
};

/** How many similar files a card lists. */
const SIMILAR_COUNT = 3;

// ------------------------------------------------------------------------------------ formatting

const num = (x, digits = 1) => (x == null || !Number.isFinite(Number(x)) ? '—' : Number(x).toFixed(digits));
const pct = (x) => (x == null ? '—' : `${Math.round(Number(x) * 100)}%`);
function clock(seconds) {
  if (seconds == null) return '—';
  const s = Math.max(0, Number(seconds));
  const m = Math.floor(s / 60), r = s - 60 * m;
  return `${m}:${r < 10 ? '0' : ''}${r.toFixed(1)}`;
}
const kb = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} kB`);
const PITCHES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
/** The fields the engine may list under `unavailable`, in the order shown, with their names' keys. */
const UNAVAILABLE = { style: 'lStyle', mood: 'lMood', instruments: 'lInstruments' };
const fieldName = (f) => (UNAVAILABLE[f] ? tx(UNAVAILABLE[f]) : f);

const signed = (x, digits = 2) => (x == null || !Number.isFinite(Number(x)) ? '—' : `${Number(x) > 0 ? '+' : Number(x) < 0 ? '−' : '±'}${Math.abs(Number(x)).toFixed(digits)}`);
const when = (ms) => (ms ? new Date(ms).toLocaleString() : '—');

// Names of the engine's labels (docs/audio-data.md): the engine's own label is always shown too.
// Their Chinese names are in web/i18n.mjs under these prefixes (ls_rock, lm_calm, lf_piano).
const norm = (label) => String(label ?? '').toLowerCase().replace(/[\s/-]+/g, '_');
const STYLE_ZH = 'ls_', MOOD_ZH = 'lm_', FAMILY_ZH = 'lf_';
/** "摇滚 rock" in the Chinese interface (where there is a name), else the engine's label (underscores as spaces). */
const labelText = (names, label) => {
  if (label == null || label === '') return '—';
  const en = String(label).replace(/_/g, ' ');
  const key = names + norm(label);
  return getLang() === 'zh' && has(key) ? `${tx(key)} ${en}` : en;
};
/** A stable colour class (l-sc-0..9) for a style label: the 10 known classes first, others hashed. */
const STYLE_ORDER = ['rock', 'pop_ballad', 'swing_jazz', 'bossa_latin', 'waltz', 'country', 'blues', 'march', 'electronic_dance', 'folk'];
function styleClass(label) {
  const k = norm(label);
  let i = STYLE_ORDER.indexOf(k);
  if (i < 0) { i = 0; for (const ch of k) i = (i * 31 + ch.charCodeAt(0)) >>> 0; i %= 10; }
  return `l-sc-${i}`;
}

/** An engine error as the parameters of the `error` message (its code and English message, not translated). */
const errParams = (err) => ({ code: err?.code ? `[${err.code}] ` : '', message: String(err?.message || err) });

const isWav = (file) => /\.(wav|wave)$/i.test(file.name || '') || /^audio\/(x-|vnd\.)?wave?$/i.test(file.type || '');

// ------------------------------------------------------------------------------------ pictures

// A perceptual dark-to-light colour map (magma-like), 256 entries.
const STOPS = [[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]];
const LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (STOPS.length - 1), k = Math.min(STOPS.length - 2, Math.floor(x)), f = x - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = STOPS[k][c] + f * (STOPS[k + 1][c] - STOPS[k][c]);
  }
  return lut;
})();

/** Draws a picture ({rows, columns, values 0..255 column-major, row 0 at the bottom}) on a canvas, one pixel a cell. */
export function drawPicture(canvas, pic) {
  const { rows, columns, values } = pic;
  canvas.width = Math.max(1, columns);
  canvas.height = Math.max(1, rows);
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(canvas.width, canvas.height);
  for (let c = 0; c < columns; c++) {
    for (let r = 0; r < rows; r++) {
      const v = Math.max(0, Math.min(255, values[c * rows + r] | 0));
      const at = ((rows - 1 - r) * columns + c) * 4; // rows bottom-up
      img.data[at] = LUT[v * 3]; img.data[at + 1] = LUT[v * 3 + 1]; img.data[at + 2] = LUT[v * 3 + 2]; img.data[at + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

// ------------------------------------------------------------------------------------ the tab

/** 6 s of a C major chord over clicks: what the engine is asked once, to learn what it produces. */
function probeAudio() {
  const rate = 22050, n = rate * 6, x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    x[i] = 0.12 * (Math.sin(2 * Math.PI * 261.63 * t) + Math.sin(2 * Math.PI * 329.63 * t) + Math.sin(2 * Math.PI * 392 * t))
      + (i % (rate / 2) < 220 ? 0.4 * Math.sin(2 * Math.PI * 1000 * t) * (1 - (i % (rate / 2)) / 220) : 0);
  }
  return { channels: [x], sampleRate: rate };
}

/**
 * Wires the Listen tab. library: the store of analysed files (by default the IndexedDB one from
 * openLibrary(), or memory where IndexedDB is unavailable).
 * Returns {setEngine(engine, buildText), setFailed(text), onTab(name), ready (a promise)}.
 */
export function setupListen({ library: store = null } = {}) {
  const statusEl = $('l-status'), errorEl = $('l-error'), input = $('l-files'), drop = $('l-drop');
  const results = $('l-results'), storageEl = $('l-storage');
  let library = store, engine = null, buildText = '', failed = false, running = false, ops = 0, nextId = 1;
  let profile = null; // what the current engine produces (engineProfile): known after the probe
  let profileKnown, profileDone;
  const profileReady = new Promise((resolve) => { profileDone = resolve; });
  const queue = []; // {id, file, key, card, replaces}
  let current = null; // the job being analysed
  const body = document.body.dataset;
  const cards = new Map(); // id -> the card (resultCard) drawn for it
  const addCard = (id, file) => {
    const card = resultCard(id, file);
    cards.set(id, card);
    results.prepend(card.root);
    return card;
  };

  const setStatus = (key, params) => setText(statusEl, key, params);
  const showError = (err) => {
    setText(errorEl, 'error', errParams(err));
    errorEl.hidden = false;
  };
  /** reason: why the library is in memory, a message ({k, p}) or a string (or nothing). */
  const showStorage = (kind, reason) => {
    if (!storageEl) return;
    storageEl.classList.toggle('warn', kind !== 'indexeddb');
    if (kind === 'indexeddb') setText(storageEl, 'libraryKept');
    else if (reason) setText(storageEl, 'libraryMemoryWhy', { reason });
    else setText(storageEl, 'libraryMemory');
    storageEl.hidden = false;
    body.listenLibrary = kind;
  };

  // Open the library, then draw a card for every stored file (newest on top). Never rejects.
  const ready = (async () => {
    if (!library) {
      const opened = await openLibrary({ onFallback: (reason, reasonMsg) => showStorage('memory', reasonMsg || reason) });
      library = opened.library;
      showStorage(library.kind, opened.reasonMsg || opened.reason);
    } else {
      showStorage(library.kind || 'memory', library.kind === 'indexeddb' ? null : '');
    }
    let entries = [];
    try { entries = await library.all(); } catch (err) { showError(err); }
    for (const e of entries) {
      const n = /^l-(\d+)$/.exec(e.id)?.[1];
      if (n) nextId = Math.max(nextId, Number(n) + 1);
    }
    for (const e of entries) {
      const card = addCard(e.id, e);
      let pictures = null;
      try { pictures = await library.pictures(e.id); } catch { /* drawn without */ }
      try { card.restore(e, pictures); } catch (err) { card.fail(err); } // a damaged record: its card says so
    }
    await renderLibrary();
  })().catch(showError).finally(() => { body.listenReady = 'true'; });

  /**
   * What this engine produces (embedding length; style, mood, instruments once it has them), from
   * one small analysis at start: entries made by an older engine are told apart with it.
   */
  async function probe() {
    try {
      const res = await engine.analyzeAudio(probeAudio(), { pictures: false, name: 'tunesmith-probe' });
      profile = engineProfile(engine.info, res);
    } catch {
      profile = engineProfile(engine.info, null); // unknown: entries are still compared only with equal lengths
    }
    profileKnown = true;
    body.listenProfile = JSON.stringify(profile);
    profileDone();
  }

  // Files are taken in order, each after the library is open and the previous drop is queued.
  let intake = Promise.resolve();
  function addFiles(files) {
    const list = [...files].filter((f) => f && typeof f.arrayBuffer === 'function');
    if (!list.length) return;
    errorEl.hidden = true;
    wake();
    intake = intake.then(() => enqueue(list)).catch(showError);
  }

  async function enqueue(list) {
    await ready;
    for (const file of list) {
      const key = fileKey(file);
      if (current?.key === key || queue.some((j) => j.key === key)) {
        setStatus('alreadyQueued', { name: file.name });
        body.listenOps = String(++ops);
        continue;
      }
      const existing = await library.findByFile(key);
      if (existing && !failed && !profileKnown) await profileReady; // is it current? the probe tells
      if (existing && !staleReason(existing, profile) && await library.pictures(existing.id).catch(() => null)) {
        // The same file again: no second entry, no second analysis; its card is shown. (One whose
        // pictures were not kept is analysed again in place, to show them.)
        setStatus('alreadyInLibrary', { name: file.name, when: when(existing.analysedAt) });
        focusCard(existing.id, true);
        body.listenOps = String(++ops);
        continue;
      }
      // New, or out of date: analysed (again); an entry keeps its id and place in the list.
      if (!existing && library.maxSerial) nextId = Math.max(nextId, 1 + await library.maxSerial()); // another tab may have added some
      const id = existing ? existing.id : `l-${nextId++}`;
      $(id)?.remove();
      const card = addCard(id, file);
      queue.push({ id, file, key, card, replaces: existing || null });
    }
    pump();
  }

  /** Analyses the queued files one at a time (the engine's worker does one request at a time anyway). */
  async function pump() {
    if (!queue.length) return; // (a drop of files already in the library leaves its message)
    if (running || !engine) {
      if (!engine && !failed && queue.length) setStatus('waitingEngine', { n: queue.length });
      return;
    }
    running = true;
    body.listenBusy = 'true';
    try {
      await profileReady;
      while (queue.length) {
        const job = queue.shift();
        current = job;
        setStatus('analysingFile', { name: job.file.name, more: queue.length ? ` (+${queue.length})` : '', build: buildText });
        await analyse(job);
        current = null;
      }
      setStatus('ready', { build: buildText });
    } finally {
      running = false;
      current = null;
      body.listenBusy = 'false';
    }
  }

  async function analyse({ id, file, card, replaces }) {
    const t0 = performance.now();
    const onProgress = (ev) => card.progress(Number(ev.fraction), 'analysing');
    const fields = { name: file.name, onProgress };
    try {
      let result;
      if (isWav(file)) {
        card.progress(0, 'analysing');
        try {
          // The File itself: the API reads (or slices) its bytes; the engine reads WAV.
          result = await engine.analyzeAudio(file, fields);
        } catch (err) {
          if (err?.code !== 'invalid_audio') throw err;
          // A WAV the engine cannot read (e.g. a compressed codec): the browser may decode it.
          card.progress(null, 'decoding');
          let decoded;
          try { decoded = await decodeAudioFile(file); } catch { throw err; }
          card.progress(0, 'analysing');
          result = await engine.analyzeAudio(decoded, fields);
        }
      } else {
        card.progress(null, 'decoding');
        const decoded = await decodeAudioFile(file);
        card.progress(0, 'analysing');
        result = await engine.analyzeAudio(decoded, fields);
      }
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      profile = widenProfile(profile, result); // this engine's own answer
      const entry = makeEntry({ id, file, result, engine: profile, addedAt: replaces?.addedAt ?? Date.now() });
      card.show(result, entry, msg('doneIn', { secs }));
      try {
        await library.add(entry, result.pictures);
      } catch (err) {
        showError(err);
      }
      await renderLibrary();
      await refreshSimilar(); // every card's list: the new file may be among the most similar
    } catch (err) {
      card.fail(err);
    } finally {
      body.listenOps = String(++ops);
    }
  }

  /** Scrolls to a file's card and focuses it (flash: mark it briefly, for a file dropped again). */
  function focusCard(cardId, flash = false) {
    const card = $(cardId);
    card?.scrollIntoView({ block: 'start' });
    card?.focus({ preventScroll: true });
    if (card && flash) {
      card.classList.add('l-flash');
      setTimeout(() => card.classList.remove('l-flash'), 1600);
    }
  }

  /** Out-of-date entries (their cards and rows say so); null reasons for current ones. */
  const staleOf = (entries) => new Map(entries.map((e) => [e.id, staleReason(e, profile)]));

  /**
   * Every analysed card's "similar in your library" list: the engine's similar_tracks task with the
   * card's embedding against the other files' embeddings (docs/listen-api.md "Similar tracks").
   * Only current entries with embeddings of the same length are compared (an older engine's
   * embedding is not comparable: its card asks for the file again). Shown when there is another
   * such file; a failure is said in the list, it never fails the card. Runs one at a time.
   */
  let similarChain = Promise.resolve();
  function refreshSimilar() {
    similarChain = similarChain.then(similarNow).catch(() => {}).then(() => {
      body.listenSimilar = String(Number(body.listenSimilar || 0) + 1);
    });
    return similarChain;
  }
  async function similarNow() {
    if (!engine || !profileKnown) return;
    let all;
    try { all = await library.all(); } catch { return; }
    const stale = staleOf(all);
    const usable = all.filter((e) => !stale.get(e.id) && Array.isArray(e.embedding) && e.embedding.length);
    for (const entry of all) {
      const box = $(`${entry.id}-similar`);
      if (!box) continue;
      const list = box.querySelector('ol'), note = box.querySelector('.l-similar-note');
      if (stale.get(entry.id)) {
        list.replaceChildren();
        note.textContent = tx('similarStale');
        note.hidden = false;
        box.hidden = usable.length === 0;
        continue;
      }
      const others = usable.filter((e) => e.id !== entry.id && e.embedding.length === entry.embedding?.length);
      if (!others.length) { box.hidden = true; list.replaceChildren(); note.hidden = true; continue; }
      try {
        const res = await engine.request({
          task: 'similar_tracks', query: entry.embedding,
          tracks: others.map((e) => ({ id: e.id, embedding: e.embedding })), count: SIMILAR_COUNT,
        });
        const byId = new Map(others.map((e) => [e.id, e]));
        list.replaceChildren();
        for (const s of (res?.similar || []).slice(0, SIMILAR_COUNT)) {
          const other = byId.get(s.id) ?? others[s.index];
          if (!other) continue;
          const li = el('li', 'l-similar-item');
          const link = el('a', null, other.name);
          link.href = `#${other.id}`;
          link.addEventListener('click', (ev) => { ev.preventDefault(); focusCard(other.id); });
          const sim = el('span', 'l-similarity', num(s.similarity, 2));
          sim.title = tx('similarityTitle');
          li.append(link, ' ', sim);
          list.append(li);
        }
        note.textContent = list.childElementCount ? '' : tx('none');
        note.hidden = !!list.childElementCount;
      } catch (err) {
        list.replaceChildren();
        note.textContent = tx('error', errParams(err));
        note.hidden = false;
      }
      box.hidden = false;
    }
  }

  async function renderLibrary() {
    const entries = await library.all();
    const stale = staleOf(entries);
    const rows = $('l-library-rows');
    const focusedRemove = document.activeElement?.closest?.('#l-library-rows') ? document.activeElement.dataset.id : null;
    rows.replaceChildren();
    for (const e of entries) {
      const s = e.summary || {};
      const tr = el('tr');
      tr.dataset.id = e.id;
      const name = el('td');
      const link = el('a', null, e.name);
      link.href = `#${e.id}`;
      link.addEventListener('click', (ev) => { ev.preventDefault(); focusCard(e.id); });
      name.append(link);
      const styleCell = el('td', 'l-col-style', s.style ? labelText(STYLE_ZH, s.style) : '—');
      const act = el('td', 'l-actions');
      const why = stale.get(e.id);
      if (why) {
        tr.classList.add('stale');
        const badge = el('span', 'l-badge', tx('reanalyse'));
        badge.title = why;
        act.append(badge, ' ');
      }
      const rm = el('button', 'l-small l-remove', tx('remove'));
      rm.type = 'button';
      rm.dataset.id = e.id;
      rm.setAttribute('aria-label', tx('removeFile', { name: e.name }));
      rm.addEventListener('click', () => removeEntry(e.id));
      act.append(rm);
      tr.append(name, el('td', null, s.key ?? '—'), el('td', 'n', s.bpm == null ? '—' : num(s.bpm)),
        el('td', 'n l-col-lufs', s.lufs == null ? '—' : `${num(s.lufs)} LUFS`), el('td', 'n l-col-len', clock(s.duration)), styleCell, act);
      rows.append(tr);
      $(e.id)?.querySelector('.l-stale')?.replaceWith(staleNote(e.id, why));
    }
    $('l-library').hidden = entries.length === 0;
    $('l-library-count').textContent = `(${entries.length})`;
    if (focusedRemove) rows.querySelector(`button[data-id="${CSS.escape(focusedRemove)}"]`)?.focus();
  }

  /** Removes a file from the library (and its card); focus moves to the next row's Remove, or on. */
  async function removeEntry(id) {
    const rows = [...$('l-library-rows').rows];
    const at = rows.findIndex((r) => r.dataset.id === id);
    const entry = await library.get(id);
    await library.remove(id);
    $(id)?.remove();
    await renderLibrary();
    const left = [...$('l-library-rows').rows];
    const next = left[Math.min(at, left.length - 1)];
    (next?.querySelector('button.l-remove') || input).focus();
    setStatus('removed', { name: entry?.name ?? id });
    await refreshSimilar();
  }

  // Clear the library: asks first (in the page, focus on Cancel), then removes every entry and card.
  const clearBtn = $('l-clear'), confirmBox = $('l-clear-confirm');
  const closeConfirm = (focus = true) => {
    confirmBox.hidden = true;
    clearBtn.setAttribute('aria-expanded', 'false');
    if (focus) clearBtn.focus();
  };
  clearBtn?.addEventListener('click', async () => {
    const n = (await library.all()).length;
    setText($('l-clear-q'), 'clearQuestion', { n });
    confirmBox.hidden = false;
    clearBtn.setAttribute('aria-expanded', 'true');
    $('l-clear-no').focus();
  });
  $('l-clear-no')?.addEventListener('click', () => closeConfirm());
  confirmBox?.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); closeConfirm(); } });
  $('l-clear-yes')?.addEventListener('click', async () => {
    const ids = (await library.all()).map((e) => e.id);
    await library.clear();
    for (const id of ids) $(id)?.remove();
    for (const c of results.querySelectorAll('.l-result.failed')) c.remove();
    closeConfirm(false);
    await renderLibrary();
    input.focus();
    setStatus('libraryCleared', { n: ids.length });
    await refreshSimilar();
  });

  // Drop zone: the whole zone takes drops; the file input inside it is the keyboard path.
  const over = (on) => (e) => { e.preventDefault(); drop.classList.toggle('over', on); };
  drop.addEventListener('dragenter', over(true));
  drop.addEventListener('dragover', (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; drop.classList.add('over'); });
  drop.addEventListener('dragleave', (e) => { if (!drop.contains(e.relatedTarget)) drop.classList.remove('over'); });
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    addFiles(e.dataTransfer?.files || []);
  });
  // A file dropped elsewhere on the Listen panel is taken too, never opened by the browser.
  const panel = $('panel-listen');
  panel.addEventListener('dragover', (e) => e.preventDefault());
  panel.addEventListener('drop', (e) => { if (!drop.contains(e.target)) { e.preventDefault(); addFiles(e.dataTransfer?.files || []); } });
  input.addEventListener('change', () => { addFiles(input.files); input.value = ''; });

  // The language switch: every card, the library's rows and the similar lists are drawn again from
  // what the engine answered (no new analysis); status lines follow by themselves (data-i18n).
  onLangChange(async () => {
    for (const [id, card] of cards) {
      if (!card.root.isConnected) cards.delete(id);
      else card.redraw();
    }
    await ready;
    await renderLibrary();
    await refreshSimilar();
  });

  // The probe (and with it the listening model, 0.7 MB) waits until the tab is first opened or a
  // file is dropped: a visit that only writes lyrics never downloads or loads it, and the engine's
  // queue holds nothing before the page's first lyrics request.
  let wanted = false, probing = false;
  function wake() {
    wanted = true;
    if (!engine || probing || failed) return;
    probing = true;
    probe().then(async () => {
      await ready;
      await renderLibrary(); // out-of-date entries are known now
      await refreshSimilar();
    });
  }

  return {
    setEngine(e, text) {
      engine = e; buildText = text;
      setStatus('ready', { build: buildText });
      if (wanted) wake();
      pump();
    },
    setFailed(key) { failed = true; profileKnown = true; profileDone(); setStatus(key); },
    onTab(name) { if (name === 'listen') wake(); },
    ready,
    get library() { return library; },
  };
}

/** The note on a card whose entry is out of date (hidden when it is current). */
function staleNote(id, reason) {
  const p = el('p', 'l-stale');
  p.id = `${id}-stale`;
  p.hidden = !reason;
  if (reason) p.textContent = tx('staleNote', { reason });
  return p;
}

// ------------------------------------------------------------------------------------ one file

/** The card of one file: its progress while it is analysed, then its results. file: {name, size}. */
function resultCard(id, file) {
  const root = el('article', 'l-result');
  root.id = id;
  root.tabIndex = -1;
  const h = el('h3', 'l-name', file.name);
  h.id = `${id}-name`;
  root.setAttribute('aria-labelledby', h.id);
  const meta = el('span', 'sub', ` ${kb(file.size)}`);
  h.append(meta);
  const bar = el('progress');
  bar.max = 1;
  bar.setAttribute('aria-label', tx('progressOf', { name: file.name }));
  const state = el('p', 'l-state');
  setText(state, 'waiting');
  state.setAttribute('role', 'status');
  const body = el('div', 'l-body');
  body.setAttribute('aria-live', 'polite');
  root.append(h, bar, state, body);
  root.setAttribute('aria-busy', 'true');

  // What the card shows, to draw it again in another language: {res, storedPictures} or {err}.
  let shown = null;
  const fill = (res, stateMsg, { storedPictures = false } = {}) => {
    shown = { res, storedPictures };
    bar.value = 1;
    bar.hidden = true;
    root.setAttribute('aria-busy', 'false');
    setText(state, stateMsg.k, stateMsg.p);
    draw();
  };
  const draw = (keepStale = false) => {
    const { res, storedPictures } = shown;
    const channels = res.channels === 1 ? tx('mono') : res.channels === 2 ? tx('stereo') : tx('nChannels', { n: res.channels });
    meta.textContent = ` ${clock(res.duration)} · ${res.sample_rate} Hz · ${channels} · ${kb(file.size)}`;
    const open = [...body.querySelectorAll('details')].map((d) => d.open);
    const stale = keepStale ? body.querySelector('.l-stale') : null;
    body.replaceChildren(stale || staleNote(id, null), ...renderResult(id, res, { storedPictures }));
    body.querySelectorAll('details').forEach((d, i) => { if (open[i]) d.open = true; });
    // Filled by refreshSimilar once the library holds another file.
    const similar = el('section', 'l-similar');
    similar.id = `${id}-similar`;
    similar.hidden = true;
    const sh = el('h4', null, tx('similarHeading'));
    sh.id = `${id}-similar-h`;
    similar.setAttribute('aria-labelledby', sh.id);
    const note = el('p', 'l-similar-note');
    note.hidden = true;
    similar.append(sh, el('ol', 'l-similar-list'), note);
    body.append(similar);
  };

  return {
    root,
    /** label: a message key (analysing, decoding); fraction: 0..1, or null when unknown. */
    progress(fraction, label) {
      if (fraction == null || !Number.isFinite(fraction)) { bar.removeAttribute('value'); setText(state, 'stepOf', { step: msg(label), pct: '' }); return; }
      bar.value = Math.max(0, Math.min(1, fraction));
      setText(state, 'stepOf', { step: msg(label), pct: ` ${Math.round(100 * bar.value)}%` });
    },
    /** A fresh result (res: the engine's whole response; stateMsg: a message). */
    show(res, entry, stateMsg) { fill(res, stateMsg); },
    /** A stored entry (its result has no pictures; pictures: the stored ones or null). */
    restore(entry, pictures) {
      const res = { ...entry.result, embedding: entry.embedding, ...(pictures ? { pictures } : {}) };
      fill(res, msg('fromLibrary', { when: when(entry.analysedAt) }), { storedPictures: true });
      root.classList.add('stored');
    },
    fail(err) {
      shown = null;
      bar.hidden = true;
      root.setAttribute('aria-busy', 'false');
      root.classList.add('failed');
      const reason = err?.error?.reason;
      setPlain(state, '');
      const params = errParams(err);
      if (reason && !String(err?.message).includes(reason)) params.message += ` (${reason})`;
      const p = el('p', 'error');
      setText(p, 'error', params);
      p.setAttribute('role', 'alert');
      body.replaceChildren(p);
    },
    /** Draws the result again (the interface language changed); the similar list is refilled by the caller. */
    redraw() { if (shown) draw(true); },
  };
}

function meter(value, label) {
  const m = el('meter');
  m.min = 0; m.max = 1; m.low = 0.4; m.high = 0.7; m.optimum = 1;
  m.value = value == null ? 0 : Math.max(0, Math.min(1, Number(value)));
  m.setAttribute('aria-label', label);
  m.title = `${label}: ${pct(value)}`;
  return m;
}

function fact(cls, title, main, ...rest) {
  const box = el('div', `l-fact ${cls}`);
  box.append(el('dt', null, title));
  const dd = el('dd');
  dd.append(el('strong', 'l-value', main), ...rest);
  box.append(dd);
  return box;
}

/** A field the engine gave: an object, not listed under `unavailable` (a reason there wins). */
const given = (res, f) => !!res?.[f] && typeof res[f] === 'object' && !(f in (res.unavailable || {}));

/**
 * The elements showing one response. storedPictures: res comes from the library (its pictures may
 * not have been kept).
 */
export function renderResult(id, res, { storedPictures = false } = {}) {
  const out = [];
  const key = res.key, tempo = res.tempo, loud = res.loudness;

  // Facts: key, tempo, loudness, format.
  const dl = el('dl', 'l-facts');
  dl.append(key
    ? fact('l-key', tx('lKey'), key.name, meter(key.confidence, tx('keyConfidence')), el('small', null, ` ${tx('confidence', { v: pct(key.confidence) })}${key.tuning_cents ? ` · ${tx('tuning', { v: `${key.tuning_cents > 0 ? '+' : ''}${key.tuning_cents}` })}` : ''}`))
    : fact('l-key', tx('lKey'), '—', el('small', null, ` ${tx('notFound')}`)));
  dl.append(tempo
    ? fact('l-tempo', tx('lTempo'), `${num(tempo.bpm)} BPM`, meter(tempo.confidence, tx('tempoConfidence')), el('small', null, ` ${tx('confidence', { v: pct(tempo.confidence) })} · ${tx('nBeats', { n: tempo.beat_count ?? tempo.beats?.length ?? 0 })}`))
    : fact('l-tempo', tx('lTempo'), '—', el('small', null, ` ${tx('notFound')}`)));
  dl.append(loud
    ? fact('l-loudness', tx('lLoudness'), `${num(loud.integrated_lufs)} LUFS`,
      el('small', null, ` ${tx('loudnessDetail', { peak: num(loud.true_peak_dbtp), range: num(loud.loudness_range_lu), st: num(loud.short_term_max_lufs) })}`))
    : fact('l-loudness', tx('lLoudness'), '—', el('small', null, ` ${tx('silent')}`)));
  const src = res.source || {};
  dl.append(fact('l-format', tx('lAudio'), `${clock(res.duration)}`,
    el('small', null, ` ${res.sample_rate} Hz · ${tx('nCh', { n: res.channels })}${src.encoding ? ` · ${[src.container, src.encoding].filter(Boolean).join(' ')}` : ''}`)));
  out.push(dl);

  // Style, instruments and mood, when the engine gives them (else their reasons, below).
  const desc = describe(id, res);
  if (desc) out.push(desc);

  // Pictures and, under them on the same time axis, the segments and beats.
  const pics = el('div', 'l-pictures');
  const picture = (name, pic, title, desc) => {
    const fig = el('figure', `l-picture l-${name}`);
    const canvas = el('canvas');
    canvas.id = `${id}-${name}`;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${title}: ${desc}`);
    drawPicture(canvas, pic);
    const cap = el('figcaption', null, title);
    cap.append(el('small', null, ` · ${desc}`));
    fig.append(cap, canvas);
    return fig;
  };
  if (res.pictures?.chroma) pics.append(picture('chroma', res.pictures.chroma, tx('chromagram'), tx('chromagramDesc')));
  if (res.pictures?.mel) pics.append(picture('mel', res.pictures.mel, tx('melSpectrogram'), tx('melDesc', { n: res.pictures.mel.rows })));
  if (storedPictures && !res.pictures?.chroma && !res.pictures?.mel) {
    pics.append(el('p', 'l-note', tx('picturesNotKept')));
  }
  if (res.segments?.length && res.duration > 0) pics.append(timeline(id, res));
  if (pics.childElementCount) out.push(pics);

  // Evidence.
  const ev = el('details', 'l-evidence');
  ev.append(el('summary', null, tx('evidence')));
  if (key?.evidence) {
    const k = key.evidence;
    ev.append(el('h4', null, tx('lKey')), el('p', 'l-method', k.method || ''));
    const chroma = k.chroma || [];
    const names = k.chroma_order || PITCHES;
    const max = Math.max(1e-9, ...chroma);
    const bars = el('div', 'chroma-bars');
    bars.setAttribute('role', 'list');
    bars.setAttribute('aria-label', tx('chromaProfile'));
    chroma.forEach((v, i) => {
      const b = el('div', 'cbar');
      b.setAttribute('role', 'listitem');
      b.title = `${names[i]}: ${num(v, 3)}`;
      const fill = el('span', 'fill');
      fill.style.height = `${(100 * v) / max}%`;
      const lab = el('span', 'lab', names[i]);
      b.append(fill, lab);
      b.setAttribute('aria-label', `${names[i]} ${num(v, 3)}`);
      bars.append(b);
    });
    ev.append(bars);
    if (k.best_keys?.length) {
      const ol = el('ol', 'l-best-keys');
      for (const b of k.best_keys) ol.append(el('li', null, `${b.key} · r = ${num(b.correlation, 3)}`));
      ev.append(el('p', 'l-sub', tx('bestKeys')), ol);
    }
  }
  if (tempo?.evidence) {
    const t = tempo.evidence;
    ev.append(el('h4', null, tx('lTempo')), el('p', 'l-method', t.method || ''));
    const table = el('table', 'l-candidates');
    const head = el('tr');
    for (const h of ['BPM', tx('salience'), tx('score'), '']) head.append(el('th', null, h));
    table.append(el('thead'), el('tbody'));
    table.tHead.append(head);
    const row = (c, note, cls) => {
      const tr = el('tr', cls);
      tr.append(el('td', 'n', num(c.bpm)), el('td', 'n', c.salience == null ? '—' : num(c.salience, 3)), el('td', 'n', num(c.score, 3)), el('td', null, note));
      table.tBodies[0].append(tr);
    };
    const fitted = t.octave?.candidates?.length > 0;  // listening model 1.2.0: a chooser over the relatives
    (t.candidates || []).forEach((c, i) => row(c, i === 0 && !fitted ? `← ${tx('chosen')}` : '', i === 0 && !fitted ? 'chosen' : ''));
    if (t.half) row(t.half, tx('halfTempo'), 'octave');
    if (t.double) row(t.double, tx('doubleTempo'), 'octave');
    ev.append(table);
    if (fitted) {
      const oct = el('table', 'l-candidates l-octave');
      oct.append(el('caption', null, tx('octaveTitle')), el('thead'), el('tbody'));
      const keys = [['periodicity', 'tPeriodicity'], ['style_range', 'tStyleRange'], ['tempo_head', 'tTempoHead'], ['rhythm_check', 'tRhythmCheck'], ['ratio_prior', 'tRatioPrior']];
      const hr = el('tr');
      for (const h of ['BPM', tx('ratio'), ...keys.map(([, k]) => tx(k)), tx('score'), '']) hr.append(el('th', null, h));
      oct.tHead.append(hr);
      const best = Math.max(...t.octave.candidates.map((c) => c.score));
      for (const c of t.octave.candidates) {
        const won = c.score === best;
        const tr = el('tr', won ? 'chosen' : '');
        tr.append(el('td', 'n', num(c.bpm)), el('td', 'n', num(c.ratio, 3)), ...keys.map(([k]) => el('td', 'n', num(c.terms?.[k], 2))),
                  el('td', 'n', num(c.score, 2)), el('td', null, won ? `← ${tx('chosen')}` : ''));
        oct.tBodies[0].append(tr);
      }
      const wrap = el('div', 'table-wrap');  // nine columns: scrolls inside its box on a phone
      wrap.append(oct);
      ev.append(wrap);
    }
  }
  if (loud?.method) ev.append(el('h4', null, tx('lLoudness')), el('p', 'l-method', `${loud.method} · ${tx('loudnessMethod', { momentary: num(loud.momentary_max_lufs), peak: num(loud.sample_peak_dbfs, 2) })}`));
  if (given(res, 'style')) ev.append(el('section', 'l-ev-style'));
  if (given(res, 'instruments')) ev.append(el('section', 'l-ev-instruments'));
  if (given(res, 'mood')) ev.append(el('section', 'l-ev-mood'));
  ev.querySelector('.l-ev-style')?.append(...styleEvidence(id, res.style, res.duration));
  ev.querySelector('.l-ev-instruments')?.append(...instrumentsEvidence(res.instruments));
  ev.querySelector('.l-ev-mood')?.append(...moodEvidence(res.mood));
  out.push(ev);

  // Warnings, and what the engine cannot tell yet (its reasons, no guesses).
  if (res.warnings?.length) {
    const box = el('div', 'l-warnings');
    box.append(el('h4', null, `⚠ ${tx('warnings')}`));
    const ul = el('ul');
    for (const w of res.warnings) ul.append(el('li', null, typeof w === 'string' ? w : JSON.stringify(w)));
    box.append(ul);
    out.push(box);
  }
  const un = res.unavailable || {};
  const order = Object.keys(UNAVAILABLE);
  const missing = Object.keys(un).sort((x, y) => (order.indexOf(x) + 1 || 99) - (order.indexOf(y) + 1 || 99));
  if (missing.length) {
    const p = el('div', 'l-unavailable');
    p.append(el('p', null, tx('notAvailableYet', { fields: missing.map(fieldName).join(tx('listSep')) })));
    const ul = el('ul');
    for (const k of missing) ul.append(el('li', null, `${fieldName(k)}: ${un[k]}`));
    p.append(ul);
    out.push(p);
  }
  return out;
}

// ------------------------------------------------------------------------------------ style, instruments, mood

/** Bars for [{label, p}] (the `count` likeliest), each with its name and percentage as text. */
function probBars(list, names, { count = 5, label, colour = false } = {}) {
  const ol = el('ol', 'l-probs');
  ol.setAttribute('aria-label', label);
  const items = [...(list || [])].filter((x) => x && x.label != null).sort((a, b) => (Number(b.p) || 0) - (Number(a.p) || 0)).slice(0, count);
  for (const it of items) {
    const li = el('li', 'l-prob');
    const track = el('span', 'l-prob-bar');
    track.setAttribute('aria-hidden', 'true');
    const bar = el('span', `fill${colour ? ` ${styleClass(it.label)}` : ''}`);
    bar.style.width = `${100 * Math.max(0, Math.min(1, Number(it.p) || 0))}%`;
    track.append(bar);
    li.append(el('span', 'l-prob-label', labelText(names, it.label)), track, el('span', 'l-prob-p', pct(it.p)));
    ol.append(li);
  }
  return ol;
}

function panel(id, cls, title) {
  const sec = el('section', `l-panel ${cls}`);
  const h = el('h4', null, title);
  h.id = `${id}-${cls}-h`;
  sec.setAttribute('aria-labelledby', h.id);
  sec.append(h);
  return sec;
}

/** The label, a confidence bar and its percentage. */
function mainLine(names, label, confidence, what, prefix = null) {
  const p = el('p', 'l-main');
  if (prefix) p.append(el('span', 'l-k', prefix));
  p.append(el('strong', 'l-value', label == null ? tx('none') : labelText(names, label)));
  if (confidence != null) p.append(meter(confidence, tx('whatConfidence', { what })), el('small', null, ` ${tx('confidence', { v: pct(confidence) })}`));
  return p;
}

/** Style, instruments and mood side by side (one column on a phone); null when the engine gave none. */
function describe(id, res) {
  const parts = [];
  if (given(res, 'style')) {
    const st = res.style;
    const sec = panel(id, 'l-style', tx('lStyle'));
    sec.append(mainLine(STYLE_ZH, st.label, st.confidence, tx('lStyle')));
    const ho = st.evidence?.held_out;
    if (Number.isFinite(ho?.accuracy)) sec.append(el('p', 'l-note l-held-out', tx('heldOutStyle', { acc: pct(ho.accuracy) })));
    if (st.probabilities?.length) sec.append(probBars(st.probabilities, STYLE_ZH, { count: 5, label: tx('likeliestStyles'), colour: true }));
    parts.push(sec);
  }
  if (given(res, 'instruments')) {
    const ins = res.instruments;
    const sec = panel(id, 'l-instruments', tx('lInstruments'));
    if (ins.lead !== undefined) { // null: no lead instrument
      const line = mainLine(FAMILY_ZH, ins.lead?.label ?? null, ins.lead?.confidence, tx('lead'), `${tx('lead')} `);
      line.classList.add('l-lead');
      // an unsure lead names its runner-up too (the engine gives it under 50%)
      const second = ins.lead?.runner_up;
      const two = second != null;
      if (two) line.querySelector('.l-value').after(el('span', 'l-runner-up', second === 'none' ? tx('leadOrNone') : tx('leadOr', { x: labelText(FAMILY_ZH, second) })));
      sec.append(line);
      const ho = ins.evidence?.held_out, bin = ho?.lead_at_this_confidence;
      if (Number.isFinite(bin?.accuracy)) {
        const top2 = two && Number.isFinite(ho?.lead_top2_accuracy) ? tx('heldOutLeadTop2', { top2: pct(ho.lead_top2_accuracy) }) : '';
        sec.append(el('p', 'l-note l-held-out', tx('heldOutLeadSure', { from: pct(bin.from), to: pct(bin.to), acc: pct(bin.accuracy), n: bin.clips }) + top2));
      } else if (Number.isFinite(ho?.lead_accuracy)) {
        sec.append(el('p', 'l-note l-held-out', tx('heldOutLead', { acc: pct(ho.lead_accuracy) })));
      }
    }
    if (Array.isArray(ins.families)) {
      const present = ins.families.filter((f) => f?.present).sort((a, b) => (Number(b.p) || 0) - (Number(a.p) || 0));
      const h = el('p', 'l-sub', tx('familiesHeard'));
      h.id = `${id}-families-h`;
      const ul = el('ul', 'l-families');
      ul.setAttribute('aria-labelledby', h.id);
      for (const f of present) {
        const li = el('li', 'l-family', labelText(FAMILY_ZH, f.label));
        li.append(el('small', null, ` ${pct(f.p)}`));
        ul.append(li);
      }
      if (!present.length) ul.append(el('li', 'l-family none', tx('noneDetected')));
      sec.append(h, ul);
    }
    parts.push(sec);
  }
  if (given(res, 'mood')) {
    const mood = res.mood;
    const sec = panel(id, 'l-mood', tx('lMood'));
    sec.append(mainLine(MOOD_ZH, mood.label, mood.confidence, tx('lMood')));
    const row = el('div', 'l-mood-body');
    if (mood.valence != null && mood.arousal != null) row.append(moodPlane(id, mood, res.segments));
    if (mood.probabilities?.length) row.append(probBars(mood.probabilities, MOOD_ZH, { count: 4, label: tx('moodProbabilities') }));
    sec.append(row);
    if (mood.evidence?.method) sec.append(el('p', 'l-method', tx('method', { method: mood.evidence.method })));
    parts.push(sec);
  }
  if (!parts.length) return null;
  const box = el('div', 'l-describe');
  box.append(...parts);
  return box;
}

/**
 * Valence (x) and arousal (y) on a small plane, centre neutral; range: mood.range or [-1, 1]. The
 * segments' moods are small dots joined in time order. The text alternative is the SVG's title,
 * and the numbers are in the caption.
 */
function moodPlane(id, mood, segments) {
  const r = Array.isArray(mood.range) && mood.range.length === 2 && Number(mood.range[1]) > Number(mood.range[0]) ? mood.range.map(Number) : [-1, 1];
  const [lo, hi] = r, S = 120, P = 11, W = S - 2 * P;
  const clamp = (v) => Math.max(lo, Math.min(hi, Number(v)));
  const x = (v) => (P + (W * (clamp(v) - lo)) / (hi - lo)).toFixed(1);
  const y = (a) => (P + W * (1 - (clamp(a) - lo) / (hi - lo))).toFixed(1);
  const fig = el('figure', 'l-plane');
  const s = svg('svg', { viewBox: `0 0 ${S} ${S}`, role: 'img', 'aria-labelledby': `${id}-plane-t` });
  s.append(svg('title', { id: `${id}-plane-t` }, tx('planeTitle', { label: mood.label ?? '—', valence: signed(mood.valence), arousal: signed(mood.arousal) })));
  const mid = (lo + hi) / 2;
  s.append(svg('rect', { x: P, y: P, width: W, height: W, class: 'l-plane-bg' }),
    svg('line', { x1: x(mid), y1: P, x2: x(mid), y2: P + W, class: 'l-plane-axis' }),
    svg('line', { x1: P, y1: y(mid), x2: P + W, y2: y(mid), class: 'l-plane-axis' }));
  // The quadrants' names, where the engine's classes are the usual four (Russell's circumplex).
  const known = new Set([mood.label, ...(mood.probabilities || []).map((q) => q?.label)].map(norm));
  const chosen = norm(mood.label);
  for (const [q, qx, qy, anchor] of [['tense', P + 3, P + 9, 'start'], ['happy', P + W - 3, P + 9, 'end'], ['sad', P + 3, P + W - 3, 'start'], ['calm', P + W - 3, P + W - 3, 'end']]) {
    if (known.has(q)) s.append(svg('text', { x: qx, y: qy, 'text-anchor': anchor, class: `l-plane-q${q === chosen ? ' on' : ''}` }, q));
  }
  const segs = (segments || []).filter((g) => g?.mood && Number.isFinite(Number(g.mood.valence)) && Number.isFinite(Number(g.mood.arousal)));
  if (segs.length > 1) s.append(svg('polyline', { points: segs.map((g) => `${x(g.mood.valence)},${y(g.mood.arousal)}`).join(' '), class: 'l-plane-path' }));
  for (const g of segs) s.append(svg('circle', { cx: x(g.mood.valence), cy: y(g.mood.arousal), r: 1.7, class: 'l-plane-seg' }));
  s.append(svg('circle', { cx: x(mood.valence), cy: y(mood.arousal), r: 4.5, class: 'l-plane-dot' }),
    svg('text', { x: P + W, y: S - 2, 'text-anchor': 'end', class: 'l-plane-lab' }, 'valence →'),
    svg('text', { x: P, y: P - 3, class: 'l-plane-lab' }, '↑ arousal'));
  const cap = el('figcaption');
  cap.append(el('span', null, tx('valenceV', { v: signed(mood.valence) })), el('span', null, tx('arousalV', { v: signed(mood.arousal) })));
  fig.append(s, cap);
  return fig;
}

const notes = (list) => {
  if (!Array.isArray(list) || !list.length) return [];
  const ul = el('ul', 'l-notes');
  for (const n of list) ul.append(el('li', null, typeof n === 'string' ? n : JSON.stringify(n)));
  return [ul];
};

const valueText = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v == null ? '—' : String(v));

function styleEvidence(id, st, duration) {
  const e = st.evidence || {};
  const out = [el('h4', null, tx('lStyle'))];
  if (e.method) out.push(el('p', 'l-method', e.method));
  if (e.strongest_segments?.length) {
    out.push(el('p', 'l-sub', tx('strongestSegments')));
    const ol = el('ol', 'l-strongest');
    for (const s of e.strongest_segments) {
      const li = el('li');
      const b = el('button', 'l-small l-jump', `${clock(s.start)}–${clock(s.end)}`);
      b.type = 'button';
      b.title = tx('showOnTimeline');
      b.setAttribute('aria-label', `${clock(s.start)}–${clock(s.end)}: ${tx('showOnTimeline')}`);
      b.addEventListener('click', () => focusSegment(id, Number(s.start)));
      li.append(b, ` ${labelText(STYLE_ZH, s.label ?? st.label)} ${pct(s.p)}`);
      ol.append(li);
    }
    out.push(ol);
  }
  if (e.segments?.length && duration > 0) {
    // The classifier's own windows (may differ from the timeline's segments).
    const fig = el('figure', 'l-strip');
    fig.append(el('figcaption', null, tx('styleOverTime')));
    const ol = el('ol', 'l-strip-track');
    for (const s of e.segments) {
      const li = el('li', `l-strip-seg ${styleClass(s.label)}`);
      li.style.left = `${(100 * s.start) / duration}%`;
      li.style.width = `${(100 * (s.end - s.start)) / duration}%`;
      li.style.opacity = String(0.35 + 0.65 * Math.max(0, Math.min(1, Number(s.p) || 0)));
      const text = `${clock(s.start)}–${clock(s.end)} · ${labelText(STYLE_ZH, s.label)} ${pct(s.p)}`;
      li.title = text;
      li.append(el('span', 'sr-only', text));
      ol.append(li);
    }
    fig.append(ol);
    out.push(fig);
  }
  out.push(...notes(e.notes));
  return out;
}

/** A captioned table in a scrolling wrapper: rows are {cls?, cells: [td elements]}. */
function dataTable(cls, caption, headers, rows) {
  const table = el('table', cls);
  table.append(el('caption', 'l-sub', caption), el('thead'), el('tbody'));
  const head = el('tr');
  for (const h of headers) head.append(el('th', null, h));
  table.tHead.append(head);
  for (const r of rows) {
    const tr = el('tr', r.cls ?? null);
    tr.append(...r.cells);
    table.tBodies[0].append(tr);
  }
  const wrap = el('div', 'table-wrap');
  wrap.append(table);
  return wrap;
}

function instrumentsEvidence(ins) {
  const e = ins.evidence || {};
  const out = [el('h4', null, tx('lInstruments'))];
  if (e.method) out.push(el('p', 'l-method', e.method));
  if (ins.lead?.probabilities?.length) {
    out.push(el('p', 'l-sub', tx('leadProbabilities')),
      probBars(ins.lead.probabilities, FAMILY_ZH, { count: 20, label: tx('leadProbabilities') }));
  }
  if (Array.isArray(ins.families) && ins.families.length) {
    const rows = [...ins.families].sort((a, b) => (Number(b.p) || 0) - (Number(a.p) || 0)).map((f) => ({
      cls: f.present ? 'present' : 'absent',
      cells: [el('td', null, labelText(FAMILY_ZH, f.label)), el('td', 'n', pct(f.p)), el('td', null, f.present ? `✓ ${tx('yes')}` : tx('no'))],
    }));
    out.push(dataTable('l-families-table', tx('familyProbCaption'), [tx('colFamily'), tx('colP'), tx('colHeard')], rows));
  }
  out.push(...notes(e.notes));
  return out;
}

function moodEvidence(mood) {
  const e = mood.evidence || {};
  const out = [el('h4', null, tx('lMood'))];
  if (e.contributions?.length) {
    const rows = e.contributions.map((c) => ({
      cells: [el('td', null, String(c.feature ?? '—')), el('td', 'n', valueText(c.value)), el('td', 'n', signed(c.valence)), el('td', 'n', signed(c.arousal))],
    }));
    out.push(dataTable('l-contributions', tx('contribCaption'), [tx('colFeature'), tx('colValue'), tx('colValence'), tx('colArousal')], rows));
  }
  out.push(...notes(e.notes));
  return out;
}

// ------------------------------------------------------------------------------------ timeline

/** A segment in words: its time, key, loudness, and style, mood and lead when the engine gives them. */
function segmentText(s) {
  const loud = s.loudness_max_lufs != null ? `${num(s.loudness_max_lufs)} LUFS` : `${num(s.rms_db)} dB RMS`;
  let t = `${clock(s.start)}–${clock(s.end)} · ${s.key?.name ?? '—'}${s.key ? ` (${pct(s.key.confidence)})` : ''} · ${loud}`;
  if (s.style?.label) t += ` · ${tx('segStyle')} ${labelText(STYLE_ZH, s.style.label)}${s.style.confidence != null ? ` ${pct(s.style.confidence)}` : ''}`;
  if (s.mood?.label) t += ` · ${tx('segMood')} ${labelText(MOOD_ZH, s.mood.label)}${s.mood.valence != null ? ` (${tx('valenceArousal', { valence: signed(s.mood.valence), arousal: signed(s.mood.arousal) })})` : ''}`;
  if (s.lead?.label) t += ` · ${tx('segLead')} ${labelText(FAMILY_ZH, s.lead.label)}${s.lead.confidence != null ? ` ${pct(s.lead.confidence)}` : ''}`;
  return t;
}

/** Moves the timeline's single tab stop to a segment (and focuses it). */
function activateSegment(li, focus = true) {
  const ol = li.parentElement;
  for (const x of ol.children) x.tabIndex = x === li ? 0 : -1;
  if (focus) li.focus();
}

/** Focuses the timeline segment of a card that holds time t (seconds). */
function focusSegment(id, t) {
  const segs = [...document.querySelectorAll(`#${CSS.escape(id)}-timeline .l-seg`)];
  const li = segs.find((x) => t >= Number(x.dataset.start) && t < Number(x.dataset.end)) ?? segs.at(-1);
  if (li) { li.scrollIntoView({ block: 'nearest' }); activateSegment(li); }
}

/**
 * Segments (key label, loudness as a bar's height, coloured by style when the engine gives one) and
 * beat ticks on the file's time axis. One tab stop: arrow keys, Home and End move between
 * segments; the focused (or hovered) segment's details, mood included, show under the axis.
 */
function timeline(id, res) {
  const box = el('figure', 'l-timeline');
  box.id = `${id}-timeline`;
  const styled = res.segments.some((s) => s.style?.label);
  const cap = el('figcaption', null, tx('segments'));
  cap.append(el('small', null, ` · ${tx(styled ? 'segmentsStyled' : 'segmentsPlain')}`));
  const track = el('div', 'l-track');
  const dur = res.duration;
  const level = (s) => {
    const db = s.loudness_max_lufs ?? s.rms_db;
    return db == null ? 0 : Math.max(0.04, Math.min(1, (Number(db) + 60) / 60)); // -60..0 dB -> 0..1
  };
  const detail = el('p', 'l-seg-detail', tx('segmentsHint'));
  detail.setAttribute('aria-hidden', 'true'); // the focused segment's own label is read out
  const ol = el('ol', 'l-segments');
  ol.setAttribute('aria-label', tx('segmentsN', { n: res.segments.length }));
  res.segments.forEach((s, i) => {
    const li = el('li', `l-seg${s.style?.label ? ` ${styleClass(s.style.label)}` : ''}`);
    li.tabIndex = i === 0 ? 0 : -1;
    li.dataset.start = String(s.start);
    li.dataset.end = String(s.end);
    li.style.left = `${(100 * s.start) / dur}%`;
    li.style.width = `${(100 * (s.end - s.start)) / dur}%`;
    const bar = el('span', 'l-level');
    bar.style.height = `${100 * level(s)}%`;
    const label = el('span', 'l-seg-key', s.key?.name ?? '—');
    const text = segmentText(s);
    li.title = text;
    li.setAttribute('aria-label', text);
    li.append(bar, label);
    if (s.style?.label) li.append(el('span', 'l-seg-style', String(s.style.label).replace(/_/g, ' ')));
    const show = () => { detail.textContent = text; };
    li.addEventListener('focus', show);
    li.addEventListener('mouseenter', show);
    li.addEventListener('click', () => activateSegment(li));
    ol.append(li);
  });
  ol.addEventListener('keydown', (e) => {
    const items = [...ol.children], at = items.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    activateSegment(items[Math.max(0, Math.min(items.length - 1, to))]);
  });
  const beats = el('div', 'l-beats');
  beats.setAttribute('aria-hidden', 'true');
  for (const b of res.tempo?.beats || []) {
    const t = el('span', 'l-beat');
    t.style.left = `${(100 * b) / dur}%`;
    beats.append(t);
  }
  track.append(ol, beats);
  const axis = el('div', 'l-axis');
  axis.append(el('span', null, '0:00'), el('span', null, clock(dur)));
  box.append(cap, track, axis, detail);
  if (styled) {
    // The colours' legend (the label is also written in each wide enough segment, and read out).
    const seen = [...new Set(res.segments.map((s) => s.style?.label).filter(Boolean))];
    const legend = el('ul', 'l-legend');
    legend.setAttribute('aria-label', tx('colourKey'));
    for (const l of seen) {
      const li = el('li');
      const sw = el('span', `l-swatch ${styleClass(l)}`);
      sw.setAttribute('aria-hidden', 'true');
      li.append(sw, labelText(STYLE_ZH, l));
      legend.append(li);
    }
    box.append(legend);
  }
  return box;
}

// The Listen tab: analyses audio files dropped on (or chosen in) the page with the engine's
// analyze_audio task (docs/listen-api.md), in the same worker as the lyrics and melodies. WAV files
// go to the engine as their bytes (it reads RIFF/RF64 itself); other formats are decoded here, on the
// main thread, with WebAudio (decodeAudioFile) and sent as float PCM. Nothing is uploaded: the page's
// CSP allows no other origin. The page shows what the engine answers (key, tempo, loudness, the
// pictures, segments, evidence, warnings, what is not available yet) and invents nothing.
import { decodeAudioFile } from './src/index.mjs';

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

// ------------------------------------------------------------------------------------ library

/**
 * The analysed files of this session. Every method is async so that an IndexedDB store with the
 * same interface (add, all, get, remove, clear; entries are plain, structured-clonable objects) can
 * replace this one later without touching the tab.
 */
export function memoryLibrary() {
  const entries = new Map();
  return {
    async add(entry) { entries.set(entry.id, entry); return entry; },
    async all() { return [...entries.values()].sort((a, b) => a.addedAt - b.addedAt); },
    async get(id) { return entries.get(id) ?? null; },
    async remove(id) { entries.delete(id); },
    async clear() { entries.clear(); },
  };
}

/** A library entry: what the list shows, plus the engine's whole response (no audio is kept). */
const libraryEntry = (id, file, result, addedAt = Date.now()) => ({
  id, addedAt, name: file.name, size: file.size, lastModified: file.lastModified,
  key: result.key?.name ?? null, bpm: result.tempo?.bpm ?? null,
  lufs: result.loudness?.integrated_lufs ?? null, duration: result.duration ?? null,
  embedding: Array.isArray(result.embedding) ? [...result.embedding] : null, result,
});

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
const UNAVAILABLE = { style: '风格 Style', mood: '情绪 Mood', instruments: '乐器 Instruments' };

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

/**
 * Wires the Listen tab. library: the store of analysed files (memoryLibrary() unless given).
 * Returns {setEngine(engine, buildText), setFailed(text), onTab(name)}.
 */
export function setupListen({ library = memoryLibrary() } = {}) {
  const statusEl = $('l-status'), errorEl = $('l-error'), input = $('l-files'), drop = $('l-drop');
  const results = $('l-results');
  let engine = null, buildText = '', failed = false, running = false, ops = 0, nextId = 1;
  const queue = []; // {id, file, card}

  const setStatus = (t) => { statusEl.textContent = t; };
  const showError = (err) => {
    errorEl.textContent = `出错了 Error: ${err?.code ? `[${err.code}] ` : ''}${err?.message || err}`;
    errorEl.hidden = false;
  };

  function addFiles(files) {
    const list = [...files].filter((f) => f && typeof f.arrayBuffer === 'function');
    if (!list.length) return;
    errorEl.hidden = true;
    for (const file of list) {
      const id = `l-${nextId++}`;
      const card = resultCard(id, file);
      results.prepend(card.root);
      queue.push({ id, file, card });
    }
    pump();
  }

  /** Analyses the queued files one at a time (the engine's worker does one request at a time anyway). */
  async function pump() {
    if (running || !engine) {
      if (!engine && !failed && queue.length) setStatus(`等待引擎 Waiting for the engine… (${queue.length})`);
      return;
    }
    running = true;
    document.body.dataset.listenBusy = 'true';
    try {
      while (queue.length) {
        const job = queue.shift();
        setStatus(`正在分析 Analysing ${job.file.name}${queue.length ? ` (+${queue.length})` : ''} · ${buildText}`);
        await analyse(job);
      }
      setStatus(`就绪 Ready · ${buildText}`);
    } finally {
      running = false;
      document.body.dataset.listenBusy = 'false';
    }
  }

  async function analyse({ id, file, card }) {
    const t0 = performance.now();
    const onProgress = (ev) => card.progress(Number(ev.fraction), '分析 Analysing');
    const fields = { name: file.name, onProgress };
    try {
      let result;
      if (isWav(file)) {
        card.progress(0, '分析 Analysing');
        try {
          result = await engine.analyzeAudio(file, fields); // the bytes as they are: the engine reads WAV
        } catch (err) {
          if (err?.code !== 'invalid_audio') throw err;
          // A WAV the engine cannot read (e.g. a compressed codec): the browser may decode it.
          card.progress(null, '解码 Decoding');
          let decoded;
          try { decoded = await decodeAudioFile(file); } catch { throw err; }
          card.progress(0, '分析 Analysing');
          result = await engine.analyzeAudio(decoded, fields);
        }
      } else {
        card.progress(null, '解码 Decoding');
        const decoded = await decodeAudioFile(file);
        card.progress(0, '分析 Analysing');
        result = await engine.analyzeAudio(decoded, fields);
      }
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      card.show(result, secs);
      await library.add(libraryEntry(id, file, result));
      await renderLibrary();
      await refreshSimilar(); // every card's list: the new file may be among the most similar
    } catch (err) {
      card.fail(err);
    } finally {
      document.body.dataset.listenOps = String(++ops);
    }
  }

  /** Scrolls to a file's card and focuses it. */
  function focusCard(cardId) {
    const card = $(cardId);
    card?.scrollIntoView({ block: 'start' });
    card?.focus({ preventScroll: true });
  }

  /**
   * Every analysed card's "similar in your library" list: the engine's similar_tracks task with the
   * card's embedding against the other files' embeddings (docs/listen-api.md "Similar tracks").
   * Shown only when the library holds 2+ files with embeddings; a failure is said in the list, it
   * never fails the card.
   */
  async function refreshSimilar() {
    if (!engine) return;
    let entries;
    try { entries = (await library.all()).filter((e) => Array.isArray(e.embedding) && e.embedding.length); } catch { return; }
    for (const entry of entries) {
      const box = $(`${entry.id}-similar`);
      if (!box) continue;
      const list = box.querySelector('ol'), note = box.querySelector('.l-similar-note');
      const others = entries.filter((e) => e.id !== entry.id);
      if (!others.length) { box.hidden = true; list.replaceChildren(); continue; }
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
          sim.title = '相似度 similarity (cosine)';
          li.append(link, ' ', sim);
          list.append(li);
        }
        note.textContent = list.childElementCount ? '' : '无 none';
        note.hidden = !!list.childElementCount;
      } catch (err) {
        list.replaceChildren();
        note.textContent = `出错了 Error: ${err?.code ? `[${err.code}] ` : ''}${err?.message || err}`;
        note.hidden = false;
      }
      box.hidden = false;
    }
  }

  async function renderLibrary() {
    const entries = await library.all();
    const body = $('l-library-rows');
    body.replaceChildren();
    for (const e of entries) {
      const tr = el('tr');
      const name = el('td');
      const link = el('a', null, e.name);
      link.href = `#${e.id}`;
      link.addEventListener('click', (ev) => { ev.preventDefault(); focusCard(e.id); });
      name.append(link);
      tr.append(name, el('td', null, e.key ?? '—'), el('td', 'n', e.bpm == null ? '—' : num(e.bpm)),
        el('td', 'n', e.lufs == null ? '—' : `${num(e.lufs)} LUFS`), el('td', 'n', clock(e.duration)));
      body.append(tr);
    }
    $('l-library').hidden = entries.length === 0;
    $('l-library-count').textContent = `(${entries.length})`;
  }

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

  return {
    setEngine(e, text) {
      engine = e; buildText = text;
      setStatus(`就绪 Ready · ${buildText}`);
      pump();
    },
    setFailed(text) { failed = true; setStatus(text); },
    onTab() {},
    library,
  };
}

// ------------------------------------------------------------------------------------ one file

/** The card of one file: its progress while it is analysed, then its results. */
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
  bar.setAttribute('aria-label', `进度 Progress: ${file.name}`);
  const state = el('p', 'l-state', '等待 Waiting…');
  state.setAttribute('role', 'status');
  const body = el('div', 'l-body');
  body.setAttribute('aria-live', 'polite');
  root.append(h, bar, state, body);
  root.setAttribute('aria-busy', 'true');

  return {
    root,
    progress(fraction, label) {
      if (fraction == null || !Number.isFinite(fraction)) { bar.removeAttribute('value'); state.textContent = `${label}…`; return; }
      bar.value = Math.max(0, Math.min(1, fraction));
      state.textContent = `${label}… ${Math.round(100 * bar.value)}%`;
    },
    show(res, secs) {
      bar.value = 1;
      bar.hidden = true;
      root.setAttribute('aria-busy', 'false');
      state.textContent = `完成 Done in ${secs} s`;
      meta.textContent = ` ${clock(res.duration)} · ${res.sample_rate} Hz · ${res.channels === 1 ? '单声道 mono' : res.channels === 2 ? '立体声 stereo' : `${res.channels} 声道 channels`} · ${kb(file.size)}`;
      body.replaceChildren(...renderResult(id, res));
      // Filled by refreshSimilar once the library holds another file.
      const similar = el('section', 'l-similar');
      similar.id = `${id}-similar`;
      similar.hidden = true;
      const sh = el('h4', null, '相似 · Similar in your library');
      sh.id = `${id}-similar-h`;
      similar.setAttribute('aria-labelledby', sh.id);
      const note = el('p', 'l-similar-note');
      note.hidden = true;
      similar.append(sh, el('ol', 'l-similar-list'), note);
      body.append(similar);
    },
    fail(err) {
      bar.hidden = true;
      root.setAttribute('aria-busy', 'false');
      root.classList.add('failed');
      const reason = err?.error?.reason;
      state.textContent = '';
      const p = el('p', 'error', `出错了 Error: ${err?.code ? `[${err.code}] ` : ''}${err?.message || err}${reason && !String(err?.message).includes(reason) ? ` (${reason})` : ''}`);
      p.setAttribute('role', 'alert');
      body.replaceChildren(p);
    },
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

/** The elements showing one response. */
function renderResult(id, res) {
  const out = [];
  const key = res.key, tempo = res.tempo, loud = res.loudness;

  // Facts: key, tempo, loudness, format.
  const dl = el('dl', 'l-facts');
  dl.append(key
    ? fact('l-key', '调 Key', key.name, meter(key.confidence, '调的置信度 Key confidence'), el('small', null, ` 置信 confidence ${pct(key.confidence)}${key.tuning_cents ? ` · 音准 tuning ${key.tuning_cents > 0 ? '+' : ''}${key.tuning_cents}¢` : ''}`))
    : fact('l-key', '调 Key', '—', el('small', null, ' 无法判断 not found')));
  dl.append(tempo
    ? fact('l-tempo', '速度 Tempo', `${num(tempo.bpm)} BPM`, meter(tempo.confidence, '速度的置信度 Tempo confidence'), el('small', null, ` 置信 confidence ${pct(tempo.confidence)} · ${tempo.beat_count ?? tempo.beats?.length ?? 0} 拍 beats`))
    : fact('l-tempo', '速度 Tempo', '—', el('small', null, ' 无法判断 not found')));
  dl.append(loud
    ? fact('l-loudness', '响度 Loudness', `${num(loud.integrated_lufs)} LUFS`,
      el('small', null, ` 真峰值 true peak ${num(loud.true_peak_dbtp)} dBTP · 动态范围 range ${num(loud.loudness_range_lu)} LU · 短时最大 short-term max ${num(loud.short_term_max_lufs)} LUFS`))
    : fact('l-loudness', '响度 Loudness', '—', el('small', null, ' 静音 silent')));
  const src = res.source || {};
  dl.append(fact('l-format', '音频 Audio', `${clock(res.duration)}`,
    el('small', null, ` ${res.sample_rate} Hz · ${res.channels} 声道 ch${src.encoding ? ` · ${[src.container, src.encoding].filter(Boolean).join(' ')}` : ''}`)));
  out.push(dl);

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
  if (res.pictures?.chroma) pics.append(picture('chroma', res.pictures.chroma, '色度图 Chromagram', '12 个音级，C 在下 · 12 pitch classes, C at the bottom'));
  if (res.pictures?.mel) pics.append(picture('mel', res.pictures.mel, '梅尔频谱 Mel spectrogram', `${res.pictures.mel.rows} 个频带，低频在下 · ${res.pictures.mel.rows} bands, low at the bottom`));
  if (res.segments?.length && res.duration > 0) pics.append(timeline(res));
  if (pics.childElementCount) out.push(pics);

  // Evidence.
  const ev = el('details', 'l-evidence');
  ev.append(el('summary', null, '证据 Evidence'));
  if (key?.evidence) {
    const k = key.evidence;
    ev.append(el('h4', null, '调 Key'), el('p', 'l-method', k.method || ''));
    const chroma = k.chroma || [];
    const names = k.chroma_order || PITCHES;
    const max = Math.max(1e-9, ...chroma);
    const bars = el('div', 'chroma-bars');
    bars.setAttribute('role', 'list');
    bars.setAttribute('aria-label', '色度分布 Chroma profile');
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
      ev.append(el('p', 'l-sub', '最接近的调 Best keys (correlation with the key profiles)'), ol);
    }
  }
  if (tempo?.evidence) {
    const t = tempo.evidence;
    ev.append(el('h4', null, '速度 Tempo'), el('p', 'l-method', t.method || ''));
    const table = el('table', 'l-candidates');
    const head = el('tr');
    for (const h of ['BPM', '显著度 salience', '得分 score', '']) head.append(el('th', null, h));
    table.append(el('thead'), el('tbody'));
    table.tHead.append(head);
    const row = (c, note, cls) => {
      const tr = el('tr', cls);
      tr.append(el('td', 'n', num(c.bpm)), el('td', 'n', c.salience == null ? '—' : num(c.salience, 3)), el('td', 'n', num(c.score, 3)), el('td', null, note));
      table.tBodies[0].append(tr);
    };
    (t.candidates || []).forEach((c, i) => row(c, i === 0 ? '← 选中 chosen' : '', i === 0 ? 'chosen' : ''));
    if (t.half) row(t.half, '一半 half tempo', 'octave');
    if (t.double) row(t.double, '两倍 double tempo', 'octave');
    ev.append(table);
  }
  if (loud?.method) ev.append(el('h4', null, '响度 Loudness'), el('p', 'l-method', `${loud.method} · momentary max ${num(loud.momentary_max_lufs)} LUFS · sample peak ${num(loud.sample_peak_dbfs, 2)} dBFS`));
  out.push(ev);

  // Warnings, and what the engine cannot tell yet (its reasons, no guesses).
  if (res.warnings?.length) {
    const box = el('div', 'l-warnings');
    box.append(el('h4', null, '⚠ 注意 Warnings'));
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
    p.append(el('p', null, `${['style', 'mood', 'instruments'].filter((k) => k in un).map((k) => UNAVAILABLE[k]).join('、')} · 暂不可用 not available yet`));
    const ul = el('ul');
    for (const k of missing) ul.append(el('li', null, `${UNAVAILABLE[k] || k}: ${un[k]}`));
    p.append(ul);
    out.push(p);
  }
  return out;
}

/** Segments (key label, loudness as a bar's height) and beat ticks on the file's time axis. */
function timeline(res) {
  const box = el('figure', 'l-timeline');
  const cap = el('figcaption', null, '段落 Segments');
  cap.append(el('small', null, ' · 每段的调与响度，竖线为节拍 · key and loudness a segment, ticks on the beats'));
  const track = el('div', 'l-track');
  const dur = res.duration;
  const level = (s) => {
    const db = s.loudness_max_lufs ?? s.rms_db;
    return db == null ? 0 : Math.max(0.04, Math.min(1, (Number(db) + 60) / 60)); // -60..0 dB -> 0..1
  };
  const ol = el('ol', 'l-segments');
  for (const s of res.segments) {
    const li = el('li', 'l-seg');
    li.style.left = `${(100 * s.start) / dur}%`;
    li.style.width = `${(100 * (s.end - s.start)) / dur}%`;
    const bar = el('span', 'l-level');
    bar.style.height = `${100 * level(s)}%`;
    const label = el('span', 'l-seg-key', s.key?.name ?? '—');
    const loudText = s.loudness_max_lufs != null ? `${num(s.loudness_max_lufs)} LUFS` : `${num(s.rms_db)} dB RMS`;
    li.title = `${clock(s.start)}–${clock(s.end)} · ${s.key?.name ?? '—'}${s.key ? ` (${pct(s.key.confidence)})` : ''} · ${loudText}`;
    li.setAttribute('aria-label', li.title);
    li.append(bar, label);
    ol.append(li);
  }
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
  box.append(cap, track, axis);
  return box;
}

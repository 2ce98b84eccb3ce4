// The lyrics page: reads the form, sends requests through the engine (which runs in a Web Worker)
// and shows the song by section as its `line` events arrive. Editing (rewrite a line, rewrite the
// unlocked lines, continue), titles and mood are engine tasks too (docs/lyrics-controls.md); the
// page only keeps a history of songs for undo/redo and the set of locked lines. No song logic here:
// values go to C++ as typed and C++ answers errors that are shown as they come.
import { createEngine } from './src/index.mjs';
import { $, el } from './dom.mjs';
import { setupMelody, setupTabs } from './melody.mjs';
import { setupListen } from './listen.mjs';

const form = $('form'), out = $('output'), statusEl = $('status'), errorEl = $('error');
const progressEl = $('progress'), generateBtn = $('generate'), copyBtn = $('copy'), partialEl = $('partial');
const editButtons = ['undo', 'redo', 'regen-unlocked', 'continue', 'append', 'suggest-titles', 'analyze'].map($);

let engine = null, buildText = '', busy = false;
// History of songs: each entry {song (engine response), structured, chorus}. `pos` is the one shown.
const history = [];
let pos = -1;
const locked = new Set(); // line indices (of original lines; a repeated chorus line locks its original)
const current = () => history[pos] || null;

const MOODS = { happy: '快乐', sad: '悲伤', tender: '温柔', defiant: '倔强', calm: '平静', neutral: '中性' };

const setStatus = (text) => { statusEl.textContent = text; };
const showError = (err) => {
  const code = err?.code ? `[${err.code}] ` : '';
  errorEl.textContent = `出错了 Error: ${code}${err?.message || err}`;
  errorEl.hidden = false;
};
const clearError = () => { errorEl.hidden = true; errorEl.textContent = ''; };

function describeBuild(info) {
  return info.variant === 'mt'
    ? `threads + SIMD (cross-origin isolated) · 多线程 ×${info.threads}`
    : 'single thread + SIMD (page not cross-origin isolated) · 单线程';
}

const mb = (n) => (n / 1e6).toFixed(1);
function onProgress({ model, loaded, total }) {
  progressEl.hidden = false;
  if (total > 0) { progressEl.max = total; progressEl.value = Math.min(loaded, total); } else progressEl.removeAttribute('value');
  const pct = total > 0 ? ` (${Math.floor((100 * loaded) / total)}%)` : '';
  setStatus(`下载模型 Downloading model ${model}: ${mb(loaded)}${total ? ` / ${mb(total)}` : ''} MB${pct} · ${buildText}`);
  melody.progress(statusEl.textContent); // the Melody tab shows it too (the melody model loads on its first use)
  if (total > 0 && loaded >= total) progressEl.hidden = true;
}

// ------------------------------------------------------------------------------------ the form

const splitList = (s) => s.split(/[,，、]/).map((x) => x.trim()).filter(Boolean);

function rhymeValue() {
  const v = $('rhyme').value;
  return v === 'custom' ? $('rhyme-custom').value.trim() : v;
}

// Form -> request options. Empty fields are left out so C++ applies its defaults (random seed,
// language detected from the title); numbers are sent as typed and C++ checks their ranges.
function readForm() {
  const num = (id) => ($(id).value.trim() === '' ? undefined : Number($(id).value));
  const style = $('style').value || $('style-other').value;
  const structure = $('structure').value.trim();
  const keywords = splitList($('keywords').value), avoid = splitList($('avoid').value);
  return {
    title: $('title').value,
    style: style || undefined,
    lines: structure ? undefined : num('lines'), // a structure sets the line count
    lang: $('lang').value || undefined,
    seed: num('seed'),
    temperature: num('temperature'),
    structure: structure || undefined,
    rhyme_scheme: rhymeValue() || undefined,
    syllables: num('syllables'),
    mood: $('mood').value || undefined,
    keywords: keywords.length ? keywords : undefined,
    avoid: avoid.length ? avoid : undefined,
    chorus: $('chorus').value === 'vary' ? 'vary' : undefined,
  };
}

function syncStructure() {
  const has = $('structure').value.trim() !== '';
  $('lines').disabled = has;
  $('lines').title = has ? '由结构决定 Set by the structure' : '';
}

// ------------------------------------------------------------------------------------ rendering

const svgNS = 'http://www.w3.org/2000/svg';
function lockIcon(closed) {
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  const body = document.createElementNS(svgNS, 'rect');
  Object.entries({ x: 3, y: 7, width: 10, height: 8, rx: 1.5 }).forEach(([k, v]) => body.setAttribute(k, v));
  const shackle = document.createElementNS(svgNS, 'path');
  shackle.setAttribute('d', closed ? 'M5 7V5a3 3 0 0 1 6 0v2' : 'M5 7V5a3 3 0 0 1 5.6-1.5');
  shackle.setAttribute('fill', 'none');
  svg.append(body, shackle);
  return svg;
}


/** The section block for a label (created at the end of the output when new). */
function sectionFor(label, start, showHeading) {
  let sec = [...out.children].find((s) => s.dataset.label === label);
  if (sec) return sec.querySelector('ol');
  sec = el('section', 'song-section');
  sec.dataset.label = label || '';
  const h = el('h3', 'section-label', label || '');
  h.id = `sec-${out.children.length}`;
  h.hidden = !showHeading;
  sec.setAttribute('aria-labelledby', h.id);
  const ol = el('ol', 'lines');
  ol.start = start + 1;
  sec.append(h, ol);
  out.append(sec);
  return ol;
}

/** A line's <li>: its text (click to rewrite), badges, ↻ and lock buttons. */
function lineItem(line) {
  const li = el('li', 'line');
  li.dataset.index = line.index;
  fillLine(li, line);
  return li;
}

function fillLine(li, line, lang) {
  const n = line.index + 1;
  const target = line.repeat_of ?? line.index; // a repeated chorus line edits its original
  li.dataset.target = target;
  li.classList.toggle('repeat', line.repeat_of != null);
  const text = el('button', 'text', line.text);
  text.type = 'button';
  text.tabIndex = -1; // the ↻ button is the keyboard path; this is the same action for the mouse
  text.dataset.action = 'regen';
  text.title = '点击重写这一行 Click to rewrite this line';
  const badges = el('span', 'badges');
  if (line.repeat_of != null) badges.append(el('span', 'badge rep', `↩ ${line.repeat_of + 1}`));
  if (typeof line.syllables === 'number') {
    const zh = (lang || current()?.song.language) === 'zh';
    const syl = el('span', 'badge syl', zh ? `${line.syllables}字` : `${line.syllables} syl`);
    const tgt = line.target_syllables;
    if (tgt && tgt !== line.syllables) { syl.classList.add('off'); syl.textContent += ` ≠ ${tgt}`; }
    syl.title = `${zh ? '字数' : '音节'} syllables: ${line.syllables}${tgt ? ` (目标 target ${tgt})` : ''}`;
    badges.append(syl);
  }
  if (line.rhyme && line.rhyme.class) {
    const r = el('span', 'badge rhyme', `${line.rhyme.class} · ${line.rhyme.key}`);
    r.dataset.class = line.rhyme.class;
    r.title = `韵 rhyme class ${line.rhyme.class} (${line.rhyme.key})`;
    badges.append(r);
  }
  text.disabled = busy || !engine;
  const regen = el('button', 'icon-btn regen', '↻');
  regen.disabled = text.disabled;
  regen.type = 'button';
  regen.dataset.action = 'regen';
  regen.setAttribute('aria-label', `重写第 ${n} 行 Rewrite line ${n}`);
  regen.title = '重写 Rewrite';
  const lock = el('button', 'icon-btn lock');
  lock.type = 'button';
  lock.dataset.action = 'lock';
  const isLocked = locked.has(target);
  lock.setAttribute('aria-pressed', String(isLocked));
  lock.setAttribute('aria-label', `锁定第 ${n} 行 Lock line ${n}`);
  lock.title = isLocked ? '已锁定 Locked' : '锁定 Lock';
  lock.append(lockIcon(isLocked));
  lock.disabled = text.disabled;
  li.classList.toggle('locked', isLocked);
  const tools = el('span', 'tools');
  tools.append(badges, regen, lock);
  const row = el('div', 'row');
  row.append(text, tools);
  li.replaceChildren(row);
}

const hasHeadings = (entry) => entry.structured || (entry.song.sections?.length ?? 0) > 1;

/** Draws a whole song (after an edit, undo or redo). */
function renderSong(entry) {
  out.replaceChildren();
  const headings = hasHeadings(entry);
  const sections = entry.song.sections || [];
  for (const line of entry.song.lines) {
    const sec = sections[line.section_index] || { start: 0 };
    sectionFor(line.label, sec.start ?? 0, headings).append(lineItem(line));
  }
}

/** After a streamed song: completes the lines the stream drew (badges, lines it did not send). */
function completeSong(entry) {
  const lis = [...out.querySelectorAll('li.line')];
  const ok = lis.every((li, i) => entry.song.lines[i] && li.querySelector('.text').textContent === entry.song.lines[i].text);
  if (!ok) return renderSong(entry);
  const headings = hasHeadings(entry);
  const sections = entry.song.sections || [];
  entry.song.lines.forEach((line, i) => {
    if (lis[i]) fillLine(lis[i], line, entry.song.language);
    else sectionFor(line.label, sections[line.section_index]?.start ?? 0, headings).append(lineItem(line));
  });
}

function renderRemarks(song) {
  const box = $('remarks');
  box.replaceChildren();
  const c = song.constraints;
  const parts = [];
  if (c?.rhyme_pairs?.required) parts.push(`押韵 rhymes ${c.rhyme_pairs.met}/${c.rhyme_pairs.required}`);
  if (c?.syllables?.required) parts.push(`音节 syllables ${c.syllables.met}/${c.syllables.required}`);
  if (c?.keywords?.required?.length) parts.push(`关键词 keywords ${c.keywords.placed?.length ?? 0}/${c.keywords.required.length}`);
  if (c?.avoid?.words?.length) parts.push(`避免 avoided ${c.avoid.words.length - (c.avoid.present?.length ?? 0)}/${c.avoid.words.length}`);
  if (song.originality?.enabled) parts.push(`原创检查 originality: ${song.originality.n}-${song.originality.unit === 'char' ? '字' : 'word'} runs blocked`);
  if (parts.length) {
    const p = el('p', `constraints ${c?.all_met === false ? 'unmet' : 'met'}`, `${c?.all_met === false ? '⚠ ' : '✓ '}${parts.join(' · ')}`);
    box.append(p);
  }
  const list = (title, items, cls) => {
    if (!items?.length) return;
    box.append(el('h3', null, title));
    const ul = el('ul', cls);
    for (const t of items) ul.append(el('li', null, t));
    box.append(ul);
  };
  list('放宽的约束 Relaxed constraints', song.relaxations, 'relaxations');
  list('说明 Notes', song.notes, 'notes');
  box.hidden = box.childElementCount === 0;
}

/** Shows history[pos]: song, meta, remarks, button states. */
function show() {
  const entry = current();
  $('mood-panel').hidden = true;
  $('titles').hidden = true;
  if (!entry) { out.replaceChildren(); updateButtons(); return; }
  for (const i of [...locked]) if (i >= entry.song.lines.length) locked.delete(i);
  renderSong(entry);
  renderMeta(entry);
  updateButtons();
}

function renderMeta(entry) {
  const s = entry.song;
  $('song-title').textContent = s.title || $('title').value || '歌词';
  $('song-meta').textContent = `· ${s.language} · seed ${s.seed}${history.length > 1 ? ` · ${pos + 1}/${history.length}` : ''}`;
  renderRemarks(s);
}

function updateButtons() {
  const have = !!current();
  const idle = !busy && !!engine;
  $('undo').disabled = !idle || pos <= 0;
  $('redo').disabled = !idle || pos >= history.length - 1;
  for (const id of ['regen-unlocked', 'continue', 'append', 'suggest-titles', 'analyze']) $(id).disabled = !idle || !have;
  copyBtn.disabled = !have || busy;
  generateBtn.disabled = !idle;
  $('edit-hint').hidden = !have;
  for (const b of out.querySelectorAll('li.line button')) b.disabled = !idle;
  document.body.dataset.busy = String(busy);
}

function pushSong(entry) {
  history.splice(pos + 1);
  history.push(entry);
  pos = history.length - 1;
  if (history.length > 100) { history.shift(); pos--; }
}

// ------------------------------------------------------------------------------------ actions

let ops = 0;
/** Runs one engine action with the busy state, timing and error display. */
async function run(label, fn) {
  if (!engine || busy) return;
  clearError();
  busy = true;
  updateButtons();
  out.setAttribute('aria-busy', 'true');
  const t0 = performance.now();
  setStatus(`${label}… · ${buildText}`);
  try {
    const detail = await fn();
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    setStatus(`完成 Done: ${detail} in ${secs} s · ${buildText}`);
  } catch (err) {
    showError(err);
    setStatus(`失败 Failed · ${buildText}`);
  } finally {
    partialEl.hidden = true;
    partialEl.textContent = '';
    busy = false;
    out.setAttribute('aria-busy', 'false');
    updateButtons();
    document.body.dataset.ops = String(++ops);
  }
}

// Streaming handlers: lines as they become final; the line being written shows below (tokens),
// and a line_reset drops it (the decoder started that line again).
function streamHandlers(onLine) {
  return {
    onLine: (ev) => { partialEl.textContent = ''; partialEl.hidden = true; onLine(ev); },
    onToken: (ev) => { partialEl.textContent += ev.text; partialEl.hidden = false; },
    onLineReset: () => { partialEl.textContent = ''; },
  };
}

function generate(event) {
  event.preventDefault();
  if (!engine || busy) return;
  const opts = readForm();
  const structured = !!opts.structure;
  out.replaceChildren();
  $('remarks').hidden = true;
  $('mood-panel').hidden = true;
  $('titles').hidden = true;
  locked.clear();
  $('song-title').textContent = opts.title || '歌词';
  $('song-meta').textContent = '';
  return run('正在写 Writing', async () => {
    let res;
    try {
      res = await engine.generateLyrics(opts, streamHandlers((ev) => {
        // Sections appear as their first line arrives; the final response fills in the rest.
        sectionFor(ev.label, ev.index, structured).append(lineItem({ index: ev.index, text: ev.text, repeat_of: ev.repeat_of }));
      }));
    } catch (err) {
      show(); // the song shown before stays (and stays in the history)
      throw err;
    }
    const entry = { song: res, structured, chorus: opts.chorus };
    pushSong(entry);
    completeSong(entry);
    renderMeta(entry);
    return `${res.lines.length} 行 lines`;
  });
}

const freshSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];

/** edit_lyrics on the shown song with its plan (and a fresh seed); the result becomes a new history entry. */
function edit(label, opts) {
  const entry = current();
  if (!entry) return Promise.resolve();
  return run(label, async () => {
    const res = await engine.editLyrics({ song: entry.song, chorus: entry.chorus, seed: freshSeed(), ...opts }, streamHandlers((ev) => {
      const li = out.querySelector(`li.line[data-index="${ev.index}"]`);
      if (li) { li.querySelector('.text').textContent = ev.text; li.classList.add('fresh'); }
    }));
    pushSong({ ...entry, song: res, structured: entry.structured || opts.action === 'continue' });
    show();
    for (const i of res.edited || []) out.querySelector(`li.line[data-index="${i}"]`)?.classList.add('fresh');
    return `${(res.edited || []).length} 行已重写 lines rewritten`;
  });
}

function onOutputClick(e) {
  const btn = e.target.closest('button');
  const li = btn?.closest('li.line');
  if (!li || busy || !current()) return;
  const target = Number(li.dataset.target);
  if (btn.dataset.action === 'lock') {
    if (locked.has(target)) locked.delete(target); else locked.add(target);
    for (const other of out.querySelectorAll(`li.line[data-target="${target}"]`)) {
      const line = current().song.lines[Number(other.dataset.index)];
      fillLine(other, line);
    }
    out.querySelector(`li.line[data-index="${li.dataset.index}"] button.lock`)?.focus();
  } else if (btn.dataset.action === 'regen') {
    // Keyboard users keep their place: the ↻ of the same line has the focus again afterwards.
    const again = btn.classList.contains('regen') ? `li.line[data-index="${li.dataset.index}"] button.regen` : null;
    edit(`正在重写第 ${target + 1} 行 Rewriting line ${target + 1}`, { action: 'regenerate_line', line: target })
      .then(() => { if (again) out.querySelector(again)?.focus(); });
  }
}

function undo() { if (!busy && pos > 0) { pos--; show(); setStatus(`已撤销 Undone · ${pos + 1}/${history.length} · ${buildText}`); } }
function redo() { if (!busy && pos < history.length - 1) { pos++; show(); setStatus(`已重做 Redone · ${pos + 1}/${history.length} · ${buildText}`); } }

function suggestTitles() {
  const entry = current();
  if (!entry) return;
  return run('正在想歌名 Finding titles', async () => {
    const res = await engine.generateTitle({ lyrics: entry.song.lyrics, lang: entry.song.language, count: 5 });
    const ul = $('title-list');
    ul.replaceChildren();
    for (const t of res.titles || []) {
      const b = el('button', 'chip title-choice', t.title);
      b.type = 'button';
      b.title = `score ${t.score}`;
      b.addEventListener('click', () => {
        $('title').value = t.title;
        $('song-title').textContent = t.title;
        setStatus(`歌名已设为 Title set: ${t.title} · ${buildText}`);
      });
      const li = el('li');
      li.append(b);
      ul.append(li);
    }
    $('titles').hidden = false;
    return `${res.titles?.length ?? 0} 个歌名 titles`;
  });
}

const moodName = (m) => `${MOODS[m] || m} ${m}`;
function analyze() {
  const entry = current();
  if (!entry) return;
  return run('正在分析情绪 Reading the mood', async () => {
    const res = await engine.analyzeLyrics({ lyrics: entry.song.lyrics, lang: entry.song.language });
    const panel = $('mood-panel');
    const o = res.overall || {};
    const v = Number(o.valence ?? 0);
    panel.replaceChildren(
      el('h3', null, '情绪 Mood'),
      el('p', `overall mood-${o.label}`, `整体 Overall: ${moodName(o.label)} · 效价 valence ${v >= 0 ? '+' : ''}${v.toFixed(2)} · 置信 confidence ${Number(o.confidence ?? 0).toFixed(2)}`),
    );
    panel.hidden = false;
    // Per-line labels go next to the lines' badges.
    for (const l of res.lines || []) {
      const li = out.querySelector(`li.line[data-index="${l.index}"]`);
      if (!li) continue;
      li.querySelector('.badge.mood')?.remove();
      const b = el('span', `badge mood mood-${l.label}`, MOODS[l.label] || l.label);
      b.title = `${l.label} · valence ${l.valence}`;
      li.querySelector('.badges').append(b);
    }
    return `情绪 mood ${o.label}`;
  });
}

async function copy() {
  const text = current()?.song.lyrics ?? '';
  try {
    await navigator.clipboard.writeText(text);
    setStatus(`已复制 Copied · ${buildText}`);
  } catch {
    // Clipboard API refused (permissions): fall back to selecting the lines for Ctrl+C.
    const range = document.createRange();
    range.selectNodeContents(out);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    setStatus(`请按 Ctrl+C 复制 Press Ctrl+C to copy · ${buildText}`);
  }
}

$('style').addEventListener('change', () => {
  const other = $('style').value === '';
  $('style-other-field').hidden = !other;
  if (other) $('style-other').focus();
});
$('rhyme').addEventListener('change', () => {
  const custom = $('rhyme').value === 'custom';
  $('rhyme-custom-field').hidden = !custom;
  if (custom) $('rhyme-custom').focus();
});
$('structure').addEventListener('input', syncStructure);
for (const chip of document.querySelectorAll('[data-structure]')) {
  chip.addEventListener('click', () => { $('structure').value = chip.dataset.structure; syncStructure(); });
}
form.addEventListener('submit', generate);
copyBtn.addEventListener('click', copy);
out.addEventListener('click', onOutputClick);
$('undo').addEventListener('click', undo);
$('redo').addEventListener('click', redo);
$('regen-unlocked').addEventListener('click', () => edit('正在重写未锁定的行 Rewriting unlocked lines', { action: 'regenerate_unlocked', locked: [...locked].sort((a, b) => a - b) }));
$('continue').addEventListener('click', () => edit('正在续写 Continuing', { action: 'continue', append: $('append').value }));
$('suggest-titles').addEventListener('click', suggestTitles);
$('analyze').addEventListener('click', analyze);
document.addEventListener('keydown', (e) => {
  if (document.body.dataset.tab !== 'lyrics') return; // the Melody tab has its own undo; Listen has none
  if (!(e.ctrlKey || e.metaKey) || e.altKey || e.target.closest?.('input, select, textarea')) return;
  const k = e.key.toLowerCase();
  if (k === 'z' && !e.shiftKey) { e.preventDefault(); undo(); }
  else if (k === 'y' || (k === 'z' && e.shiftKey)) { e.preventDefault(); redo(); }
});
syncStructure();
updateButtons();
// The Melody tab shares the engine (and its worker); it offers the song shown here as lyrics.
const melody = setupMelody({ currentSong: () => current()?.song || null });
// The Listen tab analyses audio files in the same worker (analyze_audio).
const listen = setupListen();
setupTabs((name) => { melody.onTab(name); listen.onTab(name); });

try {
  // Under the offline app's service worker (sw.js) the wasm builds come from wasm/ beside this
  // page, which it serves from its cache: the threaded build's workers must be inside its scope.
  const offline = navigator.serviceWorker?.controller ? { wasmBaseUrl: new URL('wasm/', location.href) } : {};
  engine = await createEngine({ onProgress, ...offline });
  buildText = describeBuild(engine.info);
  document.body.dataset.variant = engine.info.variant;
  $('build').textContent = buildText;
  setStatus(`就绪 Ready · ${buildText}`);
  updateButtons();
  melody.setEngine(engine, buildText);
  listen.setEngine(engine, buildText);
} catch (err) {
  setStatus('引擎启动失败 Engine failed to start');
  melody.setFailed('引擎启动失败 Engine failed to start');
  listen.setFailed('引擎启动失败 Engine failed to start');
  showError(err);
}

// The lyrics page: reads the form, sends requests through the engine (which runs in a Web Worker)
// and shows the song by section as its `line` events arrive. Editing (rewrite a line, rewrite the
// unlocked lines, continue), titles and mood are engine tasks too (docs/lyrics-controls.md); the
// page only keeps a history of songs for undo/redo and the set of locked lines. No song logic here:
// values go to C++ as typed and C++ answers errors that are shown as they come.
import { createEngine } from './src/index.mjs';
import { $, el } from './dom.mjs';
import { t, msg, has, setText, setPlain, initI18n, onLangChange } from './i18n.mjs';
import { setupMelody, setupTabs } from './melody.mjs';
import { setupListen } from './listen.mjs';

initI18n(); // the interface language (header switch, remembered; default from the browser)

const form = $('form'), out = $('output'), statusEl = $('status'), errorEl = $('error');
const progressEl = $('progress'), generateBtn = $('generate'), copyBtn = $('copy'), partialEl = $('partial');
const editButtons = ['undo', 'redo', 'regen-unlocked', 'continue', 'append', 'suggest-titles', 'analyze'].map($);

let engine = null, buildText = '', busy = false;
// buildText is a message ({k, p}: web/i18n.mjs) so that texts holding it follow the language switch.
// History of songs: each entry {song (engine response), structured, chorus}. `pos` is the one shown.
const history = [];
let pos = -1;
const locked = new Set(); // line indices (of original lines; a repeated chorus line locks its original)
const current = () => history[pos] || null;

/** A mood label in the interface language (the engine's labels are English words). */
const moodWord = (m) => (has(`mood_${m}`) ? t(`mood_${m}`) : String(m ?? '—'));

/** The status line: a message key and its parameters (redrawn when the language changes). */
const setStatus = (key, params) => setText(statusEl, key, params);
/** An engine error: a translated prefix, the engine's code and its (English) message. */
const errorMessage = (err) => msg('error', { code: err?.code ? `[${err.code}] ` : '', message: String(err?.message || err) });
const showError = (err) => {
  setText(errorEl, 'error', errorMessage(err).p);
  errorEl.hidden = false;
};
const clearError = () => { errorEl.hidden = true; setPlain(errorEl, ''); };

function describeBuild(info) {
  return info.variant === 'mt' ? msg('buildMt', { threads: info.threads }) : msg('buildSt');
}

const mb = (n) => (n / 1e6).toFixed(1);
function onProgress({ model, loaded, total }) {
  progressEl.hidden = false;
  if (total > 0) { progressEl.max = total; progressEl.value = Math.min(loaded, total); } else progressEl.removeAttribute('value');
  const pct = total > 0 ? ` (${Math.floor((100 * loaded) / total)}%)` : '';
  const p = { model, loaded: mb(loaded), total: total ? ` / ${mb(total)}` : '', pct, build: buildText };
  if (busy || !engine) setStatus('downloading', p); // (a download for the Melody or Listen tab is shown there)
  melody.progress('downloading', p); // the Melody tab shows it too (the melody model loads on its first use)
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
  if (has) setText($('lines'), 'setByStructure', {}, 'title'); else setPlain($('lines'), '', 'title');
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
  text.title = t('clickToRewrite');
  const badges = el('span', 'badges');
  if (line.repeat_of != null) badges.append(el('span', 'badge rep', `↩ ${line.repeat_of + 1}`));
  if (typeof line.syllables === 'number') {
    const zh = (lang || current()?.song.language) === 'zh';
    const syl = el('span', 'badge syl', zh ? `${line.syllables}字` : `${line.syllables} syl`);
    const tgt = line.target_syllables;
    if (tgt && tgt !== line.syllables) { syl.classList.add('off'); syl.textContent += ` ≠ ${tgt}`; }
    syl.title = tgt ? t('sylTitleTarget', { n: line.syllables, target: tgt }) : t('sylTitle', { n: line.syllables });
    badges.append(syl);
  }
  if (line.rhyme && line.rhyme.class) {
    const r = el('span', 'badge rhyme', `${line.rhyme.class} · ${line.rhyme.key}`);
    r.dataset.class = line.rhyme.class;
    r.title = t('rhymeTitle', { cls: line.rhyme.class, key: line.rhyme.key });
    badges.append(r);
  }
  text.disabled = busy || !engine;
  const regen = el('button', 'icon-btn regen', '↻');
  regen.disabled = text.disabled;
  regen.type = 'button';
  regen.dataset.action = 'regen';
  regen.setAttribute('aria-label', t('rewriteLineN', { n }));
  regen.title = t('rewrite');
  const lock = el('button', 'icon-btn lock');
  lock.type = 'button';
  lock.dataset.action = 'lock';
  const isLocked = locked.has(target);
  lock.setAttribute('aria-pressed', String(isLocked));
  lock.setAttribute('aria-label', t('lockLineN', { n }));
  lock.title = t(isLocked ? 'locked' : 'lock');
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
  if (c?.rhyme_pairs?.required) parts.push(t('cRhymes', { met: c.rhyme_pairs.met, of: c.rhyme_pairs.required }));
  if (c?.syllables?.required) parts.push(t('cSyllables', { met: c.syllables.met, of: c.syllables.required }));
  if (c?.keywords?.required?.length) parts.push(t('cKeywords', { met: c.keywords.placed?.length ?? 0, of: c.keywords.required.length }));
  if (c?.avoid?.words?.length) parts.push(t('cAvoid', { met: c.avoid.words.length - (c.avoid.present?.length ?? 0), of: c.avoid.words.length }));
  if (song.originality?.enabled) parts.push(t(song.originality.unit === 'char' ? 'cOriginalityChar' : 'cOriginalityWord', { n: song.originality.n }));
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
  list(t('relaxedConstraints'), song.relaxations, 'relaxations');
  list(t('notesHeading'), song.notes, 'notes');
  box.hidden = box.childElementCount === 0;
}

/** The heading: the song's title (generated or typed: not translated), or "Lyrics". */
function songTitle(title) {
  if (title) setPlain($('song-title'), title); else setText($('song-title'), 'lyricsHeading');
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
  songTitle(s.title || $('title').value);
  $('song-meta').textContent = t('songMeta', { lang: s.language, seed: s.seed, history: history.length > 1 ? ` · ${pos + 1}/${history.length}` : '' });
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
  setStatus('working', { label, build: buildText });
  try {
    const detail = await fn();
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    setStatus('done', { detail, secs, build: buildText });
  } catch (err) {
    showError(err);
    setStatus('failed', { build: buildText });
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
  songTitle(opts.title);
  $('song-meta').textContent = '';
  return run(msg('writing'), async () => {
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
    return msg('nLines', { n: res.lines.length });
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
    return msg('nLinesRewritten', { n: (res.edited || []).length });
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
    edit(msg('rewritingLine', { n: target + 1 }), { action: 'regenerate_line', line: target })
      .then(() => { if (again) out.querySelector(again)?.focus(); });
  }
}

function undo() { if (!busy && pos > 0) { pos--; show(); setStatus('undone', { pos: pos + 1, of: history.length, build: buildText }); } }
function redo() { if (!busy && pos < history.length - 1) { pos++; show(); setStatus('redone', { pos: pos + 1, of: history.length, build: buildText }); } }

function suggestTitles() {
  const entry = current();
  if (!entry) return;
  return run(msg('findingTitles'), async () => {
    const res = await engine.generateTitle({ lyrics: entry.song.lyrics, lang: entry.song.language, count: 5 });
    titleIdeas = res.titles || [];
    renderTitles();
    $('titles').hidden = false;
    return msg('nTitles', { n: res.titles?.length ?? 0 });
  });
}

let titleIdeas = [];
function renderTitles() {
  const ul = $('title-list');
  ul.replaceChildren();
  for (const idea of titleIdeas) {
    const b = el('button', 'chip title-choice', idea.title);
    b.type = 'button';
    b.title = t('titleScore', { score: idea.score });
    b.addEventListener('click', () => {
      $('title').value = idea.title;
      songTitle(idea.title);
      setStatus('titleSet', { title: idea.title, build: buildText });
    });
    const li = el('li');
    li.append(b);
    ul.append(li);
  }
}

// The last mood reading (of the song shown), drawn again when the language changes.
let moodReading = null;
function analyze() {
  const entry = current();
  if (!entry) return;
  return run(msg('readingMood'), async () => {
    const res = await engine.analyzeLyrics({ lyrics: entry.song.lyrics, lang: entry.song.language });
    moodReading = { song: entry.song, res };
    renderMood();
    $('mood-panel').hidden = false;
    return msg('moodResult', { mood: has(`mood_${res.overall?.label}`) ? msg(`mood_${res.overall?.label}`) : String(res.overall?.label) });
  });
}
function renderMood() {
  const res = moodReading?.res;
  if (!res || moodReading.song !== current()?.song) return;
  const o = res.overall || {};
  const v = Number(o.valence ?? 0);
  $('mood-panel').replaceChildren(
    el('h3', null, t('moodHeading')),
    el('p', `overall mood-${o.label}`, t('moodOverall', { mood: moodWord(o.label), valence: `${v >= 0 ? '+' : ''}${v.toFixed(2)}`, confidence: Number(o.confidence ?? 0).toFixed(2) })),
  );
  // Per-line labels go next to the lines' badges.
  for (const l of res.lines || []) {
    const li = out.querySelector(`li.line[data-index="${l.index}"]`);
    if (!li) continue;
    li.querySelector('.badge.mood')?.remove();
    const b = el('span', `badge mood mood-${l.label}`, moodWord(l.label));
    b.title = t('moodLineTitle', { mood: l.label, valence: l.valence });
    li.querySelector('.badges').append(b);
  }
}

async function copy() {
  const text = current()?.song.lyrics ?? '';
  try {
    await navigator.clipboard.writeText(text);
    setStatus('copied', { build: buildText });
  } catch {
    // Clipboard API refused (permissions): fall back to selecting the lines for Ctrl+C.
    const range = document.createRange();
    range.selectNodeContents(out);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    setStatus('pressCtrlC', { build: buildText });
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
$('regen-unlocked').addEventListener('click', () => edit(msg('rewritingUnlocked'), { action: 'regenerate_unlocked', locked: [...locked].sort((a, b) => a - b) }));
$('continue').addEventListener('click', () => edit(msg('continuing'), { action: 'continue', append: $('append').value }));
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
// The language switch: static text and status lines follow by themselves (data-i18n); what this tab
// drew from the engine's answers (line buttons, remarks, mood, title ideas) is drawn again, as is.
onLangChange(() => {
  if (busy) return; // a streaming song is completed (and drawn in the new language) when it ends
  const entry = current();
  if (!entry) return;
  const moodShown = !$('mood-panel').hidden, titlesShown = !$('titles').hidden;
  const focused = document.activeElement?.closest?.('li.line') ? document.activeElement : null;
  const focusSel = focused && `li.line[data-index="${focused.closest('li.line').dataset.index}"] button.${focused.classList.contains('lock') ? 'lock' : 'regen'}`;
  const fresh = [...out.querySelectorAll('li.line.fresh')].map((li) => li.dataset.index);
  renderSong(entry);
  for (const i of fresh) out.querySelector(`li.line[data-index="${i}"]`)?.classList.add('fresh');
  renderMeta(entry);
  if (moodShown) renderMood();
  if (titlesShown) renderTitles();
  if (focusSel) out.querySelector(focusSel)?.focus();
});

try {
  // Under the offline app's service worker (sw.js) the wasm builds come from wasm/ beside this
  // page, which it serves from its cache: the threaded build's workers must be inside its scope.
  const offline = navigator.serviceWorker?.controller ? { wasmBaseUrl: new URL('wasm/', location.href) } : {};
  engine = await createEngine({ onProgress, ...offline });
  buildText = describeBuild(engine.info);
  document.body.dataset.variant = engine.info.variant;
  setText($('build'), buildText.k, buildText.p);
  setStatus('ready', { build: buildText });
  updateButtons();
  melody.setEngine(engine, buildText);
  listen.setEngine(engine, buildText);
} catch (err) {
  setStatus('engineFailed');
  melody.setFailed('engineFailed');
  listen.setFailed('engineFailed');
  showError(err);
}

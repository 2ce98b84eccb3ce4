// The Melody tab: sets lyrics (typed, or the song just written in the Lyrics tab) to a melody
// through the engine's generate_melody / edit_melody tasks (docs/melody-api.md), in the same worker
// as the lyrics. The page draws the response's ABC with abcjs (../node_modules/abcjs, no CDN), plays
// its notes with a small WebAudio synth, keeps a history for undo, and offers the engine's MIDI,
// MusicXML and ABC as downloads. No music logic here: every value goes to C++ as chosen.
import { midiBytes } from './src/index.mjs';
import { $, el } from './dom.mjs';
import { t, msg, setText, setPlain, onLangChange } from './i18n.mjs';


// ------------------------------------------------------------------------------------ tabs

/** Tabs with roving tabindex: ←/→ (and Home/End) move between tabs, Enter/Space or click select. */
export function setupTabs(onSelect) {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus) tab.focus();
    document.body.dataset.tab = tab.id.replace(/^tab-/, '');
    onSelect?.(tab.id.replace(/^tab-/, ''));
  };
  for (const tab of tabs) {
    tab.addEventListener('click', () => select(tab, false));
    tab.addEventListener('keydown', (e) => {
      const i = tabs.indexOf(tab);
      let next = null;
      if (e.key === 'ArrowRight' || e.key === 'ArrowDown') next = tabs[(i + 1) % tabs.length];
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = tabs[(i - 1 + tabs.length) % tabs.length];
      else if (e.key === 'Home') next = tabs[0];
      else if (e.key === 'End') next = tabs[tabs.length - 1];
      if (next) { e.preventDefault(); select(next, true); }
    });
  }
  const initial = tabs.find((t) => `#${t.id.replace(/^tab-/, '')}` === location.hash) || tabs[0];
  select(initial, false);
  return { select: (name) => select($(`tab-${name}`), false) };
}

// ------------------------------------------------------------------------------------ synth

/** A tiny WebAudio synth: one oscillator + gain envelope a note; the accompaniment softer. */
class Player {
  #ctx = null; #voices = []; #raf = 0; #t0 = 0; #end = 0; #onFrame = null; #onEnd = null;

  get playing() { return this.#end > 0; }

  /** notes: [{pitch, start, duration, velocity}] (beats); soft: the accompaniment. */
  play({ notes, accompaniment = [], tempo }, { onFrame, onEnd } = {}) {
    this.stop();
    const Ctx = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!Ctx) throw new Error(t('noWebAudio'));
    this.#ctx ??= new Ctx();
    const ctx = this.#ctx;
    if (ctx.state === 'suspended') ctx.resume();
    const spb = 60 / tempo; // seconds a beat (a quarter note)
    const t0 = ctx.currentTime + 0.1;
    const master = ctx.createGain();
    master.gain.value = 0.5;
    master.connect(ctx.destination);
    const voice = (n, level, type) => {
      const start = t0 + n.start * spb, dur = Math.max(0.05, n.duration * spb);
      const osc = ctx.createOscillator(), g = ctx.createGain();
      osc.type = type;
      osc.frequency.value = 440 * 2 ** ((n.pitch - 69) / 12);
      const peak = level * ((n.velocity ?? 80) / 127);
      const release = Math.min(0.08, dur * 0.3);
      g.gain.setValueAtTime(0.0001, start);
      g.gain.exponentialRampToValueAtTime(peak, start + 0.015);           // attack
      g.gain.exponentialRampToValueAtTime(peak * 0.6, start + Math.min(0.15, dur * 0.5)); // decay to sustain
      g.gain.setValueAtTime(peak * 0.6, start + dur - release);
      g.gain.exponentialRampToValueAtTime(0.0001, start + dur);           // release
      osc.connect(g).connect(master);
      osc.start(start);
      osc.stop(start + dur + 0.02);
      this.#voices.push(osc);
      return start + dur;
    };
    let end = t0;
    for (const n of notes) end = Math.max(end, voice(n, 0.5, 'triangle'));
    for (const n of accompaniment) end = Math.max(end, voice(n, 0.16, 'sine'));
    this.#voices.push(master);
    this.#t0 = t0; this.#end = end; this.#onFrame = onFrame; this.#onEnd = onEnd;
    const tick = () => {
      const now = ctx.currentTime;
      if (now >= this.#end) { this.stop(); return; }
      this.#onFrame?.(Math.max(0, now - this.#t0));
      this.#raf = requestAnimationFrame(tick);
    };
    this.#raf = requestAnimationFrame(tick);
  }

  stop() {
    cancelAnimationFrame(this.#raf);
    for (const v of this.#voices) {
      try { if (v.stop) v.stop(); v.disconnect(); } catch { /* already stopped */ }
    }
    this.#voices = [];
    const was = this.#end > 0;
    this.#end = 0;
    const onEnd = this.#onEnd;
    this.#onEnd = this.#onFrame = null;
    if (was) onEnd?.();
  }
}

// ------------------------------------------------------------------------------------ the tab

const pct = (x) => (x == null ? '—' : `${Math.round(Number(x) * 100)}%`);
const freshSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];

/**
 * Wires the Melody tab. currentSong(): the song shown in the Lyrics tab (a lyrics response) or null.
 * Returns {setEngine(engine, buildText), onTab(name)}.
 */
export function setupMelody({ currentSong }) {
  const statusEl = $('m-status'), errorEl = $('m-error'), notation = $('m-notation'), lyricsEl = $('m-lyrics');
  const player = new Player();
  let engine = null, buildText = '', busy = false, ops = 0;
  const history = []; // entries {melody (response), accompaniment, title}
  let visual = null, timings = [], lit = [];
  // The song whose lines fill the lyrics box ("use these lyrics"): its lines go to the engine with
  // their sections and chorus repeats as long as the text is unchanged.
  let used = null;

  const current = () => history.at(-1) || null;
  const setStatus = (key, params) => setText(statusEl, key, params);
  const showError = (err) => {
    setText(errorEl, 'error', { code: err?.code ? `[${err.code}] ` : '', message: String(err?.message || err) });
    errorEl.hidden = false;
  };

  function syncLyrics() {
    const song = currentSong();
    const btn = $('m-use-lyrics');
    btn.hidden = !(song && song.lyrics && song.lyrics !== lyricsEl.value);
    const hasLyrics = lyricsEl.value.trim() !== '';
    $('m-bars').disabled = hasLyrics;
    if (hasLyrics) setText($('m-bars'), 'setByLyrics', {}, 'title'); else setPlain($('m-bars'), '', 'title');
  }
  function useLyrics() {
    const song = currentSong();
    if (!song) return;
    lyricsEl.value = song.lyrics;
    used = song;
    syncLyrics();
  }

  function updateButtons() {
    const idle = !busy && !!engine, have = !!current();
    $('m-generate').disabled = !idle;
    for (const id of ['m-down', 'm-up', 'm-mode-toggle', 'm-continue', 'm-restyle', 'm-restyle-style', 'm-from', 'm-to', 'm-regen-bars']) $(id).disabled = !idle || !have;
    $('m-undo').disabled = !idle || history.length < 2;
    for (const id of ['m-dl-midi', 'm-dl-musicxml', 'm-dl-abc']) $(id).disabled = !have;
    $('m-play').disabled = !have || player.playing;
    $('m-stop').disabled = !player.playing;
    document.body.dataset.melodyBusy = String(busy);
  }

  /** Runs one engine call with the busy state and error display; body[data-melody-ops] counts finished calls. */
  async function run(label, fn) {
    if (!engine || busy) return;
    errorEl.hidden = true;
    busy = true;
    player.stop();
    updateButtons();
    notation.setAttribute('aria-busy', 'true');
    const t0 = performance.now();
    setStatus('working', { label, build: buildText });
    try {
      const detail = await fn();
      setStatus('done', { detail, secs: ((performance.now() - t0) / 1000).toFixed(1), build: buildText });
    } catch (err) {
      showError(err);
      setStatus('failed', { build: buildText });
    } finally {
      busy = false;
      notation.setAttribute('aria-busy', 'false');
      updateButtons();
      document.body.dataset.melodyOps = String(++ops);
    }
  }

  function readForm() {
    const num = (id) => ($(id).value.trim() === '' ? undefined : Number($(id).value));
    const text = lyricsEl.value;
    const hasLyrics = text.trim() !== '';
    const song = used && used.lyrics === text ? used : null;
    return {
      lyrics: hasLyrics ? (song ? song.lines : text) : undefined,
      title: song?.title || undefined,
      key: $('m-key').value,
      mode: $('m-mode').value,
      meter: $('m-meter').value || undefined,
      tempo: num('m-tempo'),
      style: $('m-style').value,
      bars: hasLyrics ? undefined : num('m-bars'),
      seed: num('m-seed'),
      accompaniment: $('m-accompaniment').value,
    };
  }

  // ---------------------------------------------------------------------------- drawing

  function draw() {
    const entry = current();
    player.stop();
    notation.replaceChildren();
    visual = null; timings = []; lit = [];
    if (!entry) { $('m-checks').hidden = true; $('m-meta').textContent = ''; return; }
    const m = entry.melody;
    renderMeta();
    const ABCJS = globalThis.ABCJS;
    if (ABCJS?.renderAbc) {
      try {
        // abcjs rewraps the engine's four bars a line so that notes and syllables have room (fewer
        // bars a line on a narrow screen).
        const narrow = notation.clientWidth > 0 && notation.clientWidth < 560;
        [visual] = ABCJS.renderAbc(notation, m.abc, {
          add_classes: true, responsive: 'resize', paddingleft: 0, paddingright: 0,
          staffwidth: narrow ? Math.max(280, notation.clientWidth - 10) : 740,
          wrap: { minSpacing: 1.8, maxSpacing: 2.7, preferredMeasuresPerLine: narrow ? 2 : 4 },
          format: { vocalfont: 'sans-serif 12', gchordfont: 'sans-serif 11' },
          clickListener: (abcElem, tuneNumber, classes, analysis, drag, ev) => onBarClick(classes, analysis, ev),
        });
        timings = visual?.setTiming?.() || [];
      } catch (err) {
        visual = null;
        console.warn('abcjs could not draw the melody', err);
      }
    }
    if (!visual) notation.append(el('pre', 'abc-text', m.abc)); // no abcjs: the ABC itself
    const maxBar = Math.max(1, m.bars || 1);
    for (const id of ['m-from', 'm-to']) { $(id).max = String(maxBar); if (Number($(id).value) > maxBar) $(id).value = String(maxBar); }
    markBars();
    renderChecks(m);
  }

  /** The heading (the song's title, not translated) and the melody's facts. */
  function renderMeta() {
    const entry = current();
    if (!entry) return;
    const m = entry.melody;
    if (entry.title) setPlain($('m-title'), entry.title); else setText($('m-title'), 'melodyHeading');
    const acc = m.accompaniment?.length && entry.accompaniment && entry.accompaniment !== 'none' ? t('metaAccompaniment', { acc: t(`acc_${entry.accompaniment}`) }) : '';
    const edits = history.length - 1;
    $('m-meta').textContent = t('melodyMeta', {
      key: `${m.key?.tonic} ${m.key?.mode}`, meter: m.meter, tempo: m.tempo, style: m.style, bars: m.bars, seed: m.seed, acc,
      edits: edits > 0 ? t(edits === 1 ? 'metaEdit' : 'metaEdits', { n: edits }) : '',
    });
  }

  function renderChecks(m) {
    const box = $('m-checks');
    box.replaceChildren();
    const c = m.checks || {};
    const parts = [t('chkInKey', { v: pct(c.in_key) }), t('chkAlignment', { v: pct(c.alignment) }), t('chkCadence', { v: pct(c.cadence) })];
    if (c.stress != null) parts.push(t('chkStress', { v: pct(c.stress) }));
    if (c.tones != null) parts.push(t('chkTones', { v: pct(c.tones) }));
    if (c.range != null) parts.push(t('chkRange', { v: c.range }));
    if (c.max_leap != null) parts.push(t('chkMaxLeap', { v: c.max_leap }));
    box.append(el('p', 'constraints checks', parts.join(' · ')));
    const list = (title, items, fmt, cls) => {
      if (!items?.length) return;
      box.append(el('h3', null, title));
      const ul = el('ul', cls);
      for (const t of items.slice(0, 12)) ul.append(el('li', null, fmt(t)));
      if (items.length > 12) ul.append(el('li', null, `… +${items.length - 12}`));
      box.append(ul);
    };
    const fmtRelax = (r) => (r && typeof r === 'object' ? `${r.rule ?? ''}${r.note !== undefined ? t('relaxNote', { note: r.note }) : ''}` : String(r));
    list(t('relaxedHeading'), m.relaxations, fmtRelax, 'relaxations');
    list(t('remarksHeading'), m.remarks, (r) => (typeof r === 'string' ? r : JSON.stringify(r)), 'notes');
    box.hidden = false;
  }

  const barRange = () => {
    const a = Number($('m-from').value) - 1, b = Number($('m-to').value) - 1;
    return [Math.min(a, b), Math.max(a, b)];
  };
  function markBars() {
    const [from, to] = barRange();
    for (const e of notation.querySelectorAll('.m-sel')) e.classList.remove('m-sel');
    if (!current()) return;
    for (let k = from; k <= to; k++) for (const e of notation.querySelectorAll(`.abcjs-mm${k}`)) e.classList.add('m-sel');
  }
  function onBarClick(classes, analysis, ev) {
    if (busy || !current()) return;
    const mm = /abcjs-mm(\d+)/.exec(classes || '');
    const bar = mm ? Number(mm[1]) : analysis?.measure;
    if (!Number.isInteger(bar)) return;
    if (ev?.shiftKey) {
      const [from, to] = barRange();
      $('m-from').value = String(Math.min(from, bar) + 1);
      $('m-to').value = String(Math.max(to, bar) + 1);
    } else {
      $('m-from').value = $('m-to').value = String(bar + 1);
    }
    markBars();
  }

  // ---------------------------------------------------------------------------- actions

  function generate(e) {
    e.preventDefault();
    if (!engine || busy) return;
    const opts = readForm();
    return run(msg('writingMelody'), async () => {
      const melody = await engine.generateMelody(opts);
      const title = opts.title || (typeof opts.lyrics === 'string' ? opts.lyrics.split('\n').find((l) => l.trim())?.trim() : null);
      history.length = 0;
      history.push({ melody, accompaniment: opts.accompaniment, title });
      $('m-from').value = '1';
      $('m-to').value = String(Math.min(2, melody.bars || 1));
      draw();
      return msg('notesBars', { notes: melody.notes?.length ?? 0, bars: melody.bars });
    });
  }

  function edit(label, action, opts = {}) {
    const entry = current();
    if (!entry) return Promise.resolve();
    return run(label, async () => {
      const melody = await engine.editMelody(entry.melody, action, {
        accompaniment: entry.accompaniment !== 'none' ? entry.accompaniment : undefined, ...opts,
      });
      history.push({ ...entry, melody });
      if (history.length > 100) history.shift();
      draw();
      return msg('actionNotes', { action, notes: melody.notes?.length ?? 0 });
    });
  }

  function undo() {
    if (busy || history.length < 2) return;
    history.pop();
    draw();
    updateButtons();
    setStatus('undoneMelody', { build: buildText });
  }

  function download(kind) {
    const entry = current();
    if (!entry) return;
    const m = entry.melody;
    const base = (entry.title || 'melody').replace(/[\\/:*?"<>|\s]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'melody';
    const [data, type, ext] = kind === 'midi' ? [midiBytes(m), 'audio/midi', 'mid']
      : kind === 'musicxml' ? [m.musicxml ?? '', 'application/vnd.recordare.musicxml+xml', 'musicxml']
        : [m.abc ?? '', 'text/vnd.abc', 'abc'];
    const url = URL.createObjectURL(new Blob([data], { type }));
    const a = el('a');
    a.href = url;
    a.download = `${base}.${ext}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // Playback: the melody's notes (and its accompaniment, softer) at its tempo; the note under the
  // play position is highlighted using abcjs's timings of the drawn score.
  function light(ms) {
    let i = -1;
    for (let k = 0; k < timings.length; k++) { if (timings[k].milliseconds <= ms) i = k; else break; }
    const ev = timings[i];
    const els = ev && ev.type === 'event' ? (ev.elements || []).flat() : [];
    if (els.length === lit.length && els.every((e, k) => e === lit[k])) return;
    for (const e of lit) e.classList?.remove('m-playing');
    lit = els;
    for (const e of lit) e.classList?.add('m-playing');
  }
  function play() {
    const entry = current();
    if (!entry || player.playing) return;
    const m = entry.melody;
    try {
      player.play({ notes: m.notes || [], accompaniment: m.accompaniment || [], tempo: m.tempo || 120 }, {
        onFrame: (sec) => light(sec * 1000),
        onEnd: () => { light(-1); document.body.dataset.playing = 'false'; updateButtons(); },
      });
      document.body.dataset.playing = 'true';
      setStatus('playing', { tempo: m.tempo, build: buildText });
    } catch (err) {
      showError(err);
    }
    updateButtons();
  }

  $('m-form').addEventListener('submit', generate);
  $('m-use-lyrics').addEventListener('click', useLyrics);
  lyricsEl.addEventListener('input', syncLyrics);
  $('m-play').addEventListener('click', play);
  $('m-stop').addEventListener('click', () => { player.stop(); $('m-play').focus(); });
  $('m-undo').addEventListener('click', undo);
  $('m-up').addEventListener('click', () => edit(msg('transposing'), 'transpose', { semitones: 1 }));
  $('m-down').addEventListener('click', () => edit(msg('transposing'), 'transpose', { semitones: -1 }));
  $('m-mode-toggle').addEventListener('click', () => {
    const mode = current()?.melody.key?.mode === 'minor' ? 'major' : 'minor';
    edit(msg('changingMode', { mode: msg(mode === 'minor' ? 'modeMinor' : 'modeMajor') }), 'change_mode', { mode });
  });
  $('m-continue').addEventListener('click', () => edit(msg('continuing'), 'continue', { bars: 4, seed: freshSeed() }));
  $('m-restyle').addEventListener('click', () => edit(msg('restyling'), 'restyle', { style: $('m-restyle-style').value, seed: freshSeed() }));
  $('m-regen-bars').addEventListener('click', () => {
    const [from, to] = barRange();
    edit(msg('regeneratingBars', { from: from + 1, to: to + 1 }), 'regenerate_bars', { from, to, seed: freshSeed() });
  });
  for (const id of ['m-from', 'm-to']) $(id).addEventListener('input', markBars);
  // Redraw when the score's width crosses the narrow-screen line (phone rotated, window resized).
  let wasNarrow = null;
  new ResizeObserver(() => {
    const w = notation.clientWidth;
    if (!w) return;
    const narrow = w < 560;
    if (wasNarrow !== null && narrow !== wasNarrow && current() && !busy) { draw(); updateButtons(); }
    wasNarrow = narrow;
  }).observe(notation);
  $('m-dl-midi').addEventListener('click', () => download('midi'));
  $('m-dl-musicxml').addEventListener('click', () => download('musicxml'));
  $('m-dl-abc').addEventListener('click', () => download('abc'));
  document.addEventListener('keydown', (e) => {
    if (document.body.dataset.tab !== 'melody') return;
    if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.target.closest?.('input, select, textarea')) return;
    if (e.key.toLowerCase() === 'z') { e.preventDefault(); e.stopImmediatePropagation(); undo(); }
  }, true);
  updateButtons();
  syncLyrics();
  // The language switch: the melody's facts and checks are drawn again (the score is not).
  onLangChange(() => { if (current()) { renderMeta(); renderChecks(current().melody); } });

  return {
    /** buildText: a message ({k, p}) naming the build. */
    setEngine(e, text) {
      engine = e; buildText = text;
      setStatus('ready', { build: buildText });
      updateButtons();
    },
    setFailed(key) { setStatus(key); },
    /** A model download under way (shown while a melody call waits for it): a message key and its parameters. */
    progress(key, params) { if (busy) setStatus(key, params); },
    /** On entering the tab: an empty lyrics box takes the song just written. */
    onTab(name) {
      if (name !== 'melody') { player.stop(); return; }
      if (lyricsEl.value.trim() === '' && currentSong()?.lyrics) useLyrics();
      syncLyrics();
    },
  };
}

// The JS API in Node (in-process mt build): lyrics, determinism, error handling, streaming.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, TunesmithError, lyricsRequest, editRequest, titleRequest, analyzeRequest, songPlan } from '../../web/src/index.mjs';
import { missing, engineOptions, HAN } from './helpers.mjs';

const skip = missing();
const ZH = { title: '我爱你', style: '流行音乐', lines: 8, seed: 1 };

describe('JS API (Node, in-process)', { skip, timeout: 300_000 }, () => {
  let engine;
  const progress = [];
  before(async () => { engine = await createEngine(engineOptions({ onProgress: (p) => progress.push(p) })); });
  after(async () => { await engine?.close(); });

  // A cheap request that must still succeed after every bad one.
  const stillWorks = async () => {
    const r = await engine.generateLyrics({ title: '月亮', lines: 1, seed: 5 });
    assert.equal(r.lines.length, 1);
  };

  test('build info: threaded SIMD build in Node', () => {
    assert.equal(engine.info.variant, 'mt');
    assert.equal(engine.info.simd, true);
    assert.ok(engine.info.threads >= 1 && engine.info.threads <= engine.info.maxThreads);
    assert.equal(engine.build, engine.info);
  });

  test('generate_lyrics 我爱你 / 流行音乐 / 8 lines', async () => {
    const r = await engine.generateLyrics(ZH);
    assert.equal(r.language, 'zh');
    assert.equal(r.lines.length, 8);
    for (const l of r.lines) {
      assert.ok(l.text.trim().length > 0, 'empty line');
      assert.match(l.text, HAN, `not Chinese: ${l.text}`);
    }
    assert.equal(r.lyrics, r.lines.map((l) => l.text).join('\n'));
    assert.equal(r.seed, 1);
    // The model was fetched through the JS retry path, with progress reports.
    const zh = progress.filter((p) => p.model === 'lyrics-zh');
    assert.ok(zh.length > 0, 'no progress for lyrics-zh');
    assert.equal(zh.at(-1).loaded, zh.at(-1).total);
  });

  test('English request', async () => {
    const r = await engine.generateLyrics({ title: 'I love you', style: 'pop', lines: 4, lang: 'en', seed: 2 });
    assert.equal(r.language, 'en');
    assert.equal(r.lines.length, 4);
    for (const l of r.lines) {
      assert.ok(l.text.trim().length > 0);
      assert.match(l.text, /[A-Za-z]/);
      assert.doesNotMatch(l.text, HAN);
    }
  });

  test('language is detected from an English title', async () => {
    const r = await engine.generateLyrics({ title: 'Summer rain', lines: 2, seed: 3 });
    assert.equal(r.language, 'en');
  });

  test('same seed -> identical lyrics; different seed -> different lyrics', async () => {
    const a = await engine.generateLyrics(ZH);
    const b = await engine.generateLyrics(ZH);
    const c = await engine.generateLyrics({ ...ZH, seed: 2 });
    assert.deepEqual(a.lines, b.lines);
    assert.notDeepEqual(a.lines, c.lines);
  });

  test('request() / requestRaw() with a plain request object', async () => {
    const raw = await engine.requestRaw(lyricsRequest({ title: '春天', lines: 2, seed: 9 }));
    assert.equal(raw.lines.length, 2);
    const info = await engine.request({ task: 'info' });
    assert.ok(Array.isArray(info.models));
    assert.ok(info.models.some((m) => m.name === 'lyrics-zh'));
  });

  const BAD = [
    ['malformed JSON text', '{"task": "generate_lyrics", ', 'bad_request'],
    ['not an object', '[1, 2]', 'bad_request'],
    ['missing task', {}, 'missing_field'],
    ['unknown task', { task: 'write_symphony' }, 'unknown_task'],
    ['task not a string', { task: 7 }, 'invalid_field'],
    ['unknown field', { ...lyricsRequest(ZH), colour: 'blue' }, 'unknown_field'],
    ['lyrics_length as a string', { ...lyricsRequest(ZH), lyrics_length: '8' }, 'invalid_field'],
    ['song_title as a number', { ...lyricsRequest(ZH), song_title: 42 }, 'invalid_field'],
    ['seed negative', { ...lyricsRequest(ZH), seed: -1 }, 'invalid_field'],
    ['seed fractional', { ...lyricsRequest(ZH), seed: 1.5 }, 'invalid_field'],
    ['temperature as a string', { ...lyricsRequest(ZH), temperature: 'hot' }, 'invalid_field'],
    ['lyrics_length 0', { ...lyricsRequest(ZH), lyrics_length: 0 }, 'invalid_field'],
    ['lyrics_length 201', { ...lyricsRequest(ZH), lyrics_length: 201 }, 'invalid_field'],
    ['title of 201 chars', { ...lyricsRequest(ZH), song_title: '爱'.repeat(201) }, 'invalid_field'],
    ['missing title', { task: 'generate_lyrics', lyrics_length: 2 }, 'missing_field'],
    ['control character in title', { ...lyricsRequest(ZH), song_title: '我\u0007爱你' }, 'invalid_field'],
    ['newline in title', { ...lyricsRequest(ZH), song_title: '我\n爱你' }, 'invalid_field'],
    ['unsupported language', { ...lyricsRequest(ZH), language: 'fr' }, 'invalid_field'],
  ];
  for (const [name, req, code] of BAD) {
    test(`bad request: ${name} -> ${code}, engine still works`, async () => {
      const raw = await engine.requestRaw(req);
      assert.ok(raw.error, `expected an error, got ${JSON.stringify(raw).slice(0, 200)}`);
      assert.equal(raw.error.code, code, raw.error.message);
      assert.equal(typeof raw.error.message, 'string');
      assert.ok(raw.error.message.length > 0);
      await assert.rejects(engine.request(req), (err) => err instanceof TunesmithError && err.code === code && err.message === raw.error.message);
      await stillWorks();
    });
  }

  test('a title of exactly 200 chars and lyrics_length 1 and 200 are accepted', async () => {
    const r = await engine.generateLyrics({ title: '爱'.repeat(200), lines: 1, seed: 1 });
    assert.equal(r.lines.length, 1);
  });

  test('streamLyrics yields lines in order, then the final response', async () => {
    const items = [];
    for await (const item of engine.streamLyrics({ ...ZH, seed: 11 })) items.push(item);
    const done = items.pop();
    assert.equal(done.event, 'done');
    assert.equal(items.length, 8);
    items.forEach((ev, i) => { assert.equal(ev.event, 'line'); assert.equal(ev.index, i); });
    assert.deepEqual(items.map((e) => e.text), done.response.lines.map((l) => l.text));
    // Streaming does not change the result.
    const plain = await engine.generateLyrics({ ...ZH, seed: 11 });
    assert.deepEqual(plain.lines, done.response.lines);
  });

  test('generateLyrics handlers: onLine per line, onToken per token', async () => {
    const lines = [], tokens = [];
    const r = await engine.generateLyrics({ ...ZH, lines: 3, seed: 4 }, { onLine: (e) => lines.push(e), onToken: (e) => tokens.push(e) });
    assert.deepEqual(lines.map((e) => e.text), r.lines.map((l) => l.text));
    assert.ok(tokens.length >= r.lines.reduce((n, l) => n + [...l.text].length, 0) * 0.5, 'too few token events');
    assert.ok(tokens.every((t) => typeof t.text === 'string'));
  });

  test('an exception in a user callback rejects that call only', async () => {
    await assert.rejects(engine.generateLyrics({ ...ZH, lines: 2 }, { onLine: () => { throw new Error('ui bug'); } }), /ui bug/);
    await stillWorks();
  });

  test('closed engine rejects with code "closed"', async () => {
    const e2 = await createEngine(engineOptions({ variant: 'st' }));
    await e2.close();
    await e2.close(); // idempotent
    await assert.rejects(e2.request({ task: 'info' }), (err) => err.code === 'closed');
  });
});

describe('JS API variants', { skip, timeout: 300_000 }, () => {
  test('single-thread build in-process gives the same lyrics as the threaded one', async () => {
    const st = await createEngine(engineOptions({ variant: 'st' }));
    const mt = await createEngine(engineOptions({ variant: 'mt', threads: 4 }));
    try {
      assert.equal(st.info.variant, 'st');
      assert.equal(st.info.threads, 1);
      const [a, b] = [await st.generateLyrics(ZH), await mt.generateLyrics(ZH)];
      assert.deepEqual(a.lines, b.lines);
    } finally {
      await st.close();
      await mt.close();
    }
  });

  test('worker: true runs the engine in a worker_threads Worker with streaming', async () => {
    const w = await createEngine(engineOptions({ worker: true }));
    try {
      assert.equal(w.info.variant, 'mt');
      const lines = [];
      const r = await w.generateLyrics(ZH, { onLine: (e) => lines.push(e.text) });
      assert.deepEqual(lines, r.lines.map((l) => l.text));
      const raw = await w.requestRaw('{oops');
      assert.equal(raw.error.code, 'bad_request');
    } finally {
      await w.close();
    }
  });

  test('a missing model file answers model_not_found', async () => {
    const e = await createEngine(engineOptions({ variant: 'st', modelBaseUrl: '/nonexistent-dir' }));
    try {
      const raw = await e.requestRaw(lyricsRequest(ZH));
      assert.equal(raw.error.code, 'model_not_found');
      // The first resource the request needs: the phonetics tables (songwriting plans), then the model.
      assert.ok(['phonetics', 'lyrics-zh'].includes(raw.error.model), raw.error.model);
    } finally {
      await e.close();
    }
  });
});

// ------------------------------------------------------------------ songwriting controls and tasks
// docs/lyrics-controls.md: generate_lyrics' new fields and response, edit_lyrics, generate_title,
// analyze_lyrics and the line_reset event, through the JS API's methods.

describe('request builders (no engine)', () => {
  test('lyricsRequest passes the songwriting fields through', () => {
    const req = lyricsRequest({ title: 'T', lines: 8, structure: 'V C', chorus: 'vary', rhyme_scheme: { verse: 'ABAB' }, syllables: [7, 7], mood: 'sad', keywords: ['a'], avoid: ['b'], originality: false });
    assert.deepEqual(req, { task: 'generate_lyrics', song_title: 'T', lyrics_length: 8, structure: 'V C', chorus: 'vary', rhyme_scheme: { verse: 'ABAB' }, syllables: [7, 7], mood: 'sad', keywords: ['a'], avoid: ['b'], originality: false });
  });

  const SONG = {
    title: '春雨', language: 'zh', temperature: 0.7, style: { requested: '民谣', used: 'feng' }, mood: { used: 'sad' },
    sections: [
      { section: 'verse', label: 'Verse 1', start: 0, lines: 2, rhyme_scheme: 'AA', syllables: [7, 7] },
      { section: 'chorus', label: 'Chorus 1', start: 2, lines: 3, rhyme_scheme: null, syllables: [0, 0, 0] },
      { section: 'chorus', label: 'Chorus 2', start: 5, lines: 3, rhyme_scheme: null, syllables: [0, 0, 0], repeats: 'Chorus 1' },
    ],
    lines: ['a', 'b', 'c', 'd', 'e', 'c', 'x', 'e'].map((text, index) => ({ index, text, repeat_of: { 5: 2, 7: 4 }[index] ?? null })),
    constraints: { keywords: { required: ['月亮'] }, avoid: { words: ['泪'] } },
    originality: { enabled: false },
  };

  test('songPlan rebuilds the plan of a response (drawn lengths explicit, vary chorus detected)', () => {
    assert.deepEqual(songPlan(SONG), {
      song_title: '春雨', song_style: '民谣', language: 'zh', temperature: 0.7,
      structure: [{ section: 'verse', lines: 2, rhyme_scheme: 'AA', syllables: [7, 7] }, { section: 'chorus', lines: 3 }, { section: 'chorus', lines: 3 }],
      chorus: 'vary', mood: 'sad', keywords: ['月亮'], avoid: ['泪'], originality: false,
    });
    // A chorus that repeats every line is the default "repeat".
    const repeat = { ...SONG, lines: SONG.lines.map((l) => (l.index === 6 ? { ...l, repeat_of: 3 } : l)) };
    assert.equal(songPlan(repeat).chorus, undefined);
  });

  test('editRequest: the song supplies plan and lines; options override', () => {
    const req = editRequest({ song: SONG, action: 'regenerate_unlocked', locked: [0], seed: 4, temperature: 0.5 });
    assert.equal(req.task, 'edit_lyrics');
    assert.deepEqual(req.lines, ['a', 'b', 'c', 'd', 'e', 'c', 'x', 'e']);
    assert.equal(req.temperature, 0.5);
    assert.deepEqual(req.locked, [0]);
    assert.equal(req.song, undefined);
    const plain = editRequest({ title: 'T', lines: ['x', { text: 'y' }], action: 'continue', append: 'C' });
    assert.deepEqual(plain, { task: 'edit_lyrics', song_title: 'T', lines: ['x', 'y'], action: 'continue', append: 'C' });
  });

  test('titleRequest / analyzeRequest map friendly names; lyrics may be lines or a song', () => {
    assert.deepEqual(titleRequest({ lyrics: SONG, count: 3, lang: 'zh', style: 'folk', seed: 1 }),
      { task: 'generate_title', lyrics: 'a\nb\nc\nd\ne\nc\nx\ne', count: 3, language: 'zh', song_style: 'folk', seed: 1 });
    assert.deepEqual(titleRequest({ theme: 'rain' }), { task: 'generate_title', theme: 'rain' });
    assert.deepEqual(analyzeRequest({ lyrics: ['a', { text: 'b' }], lang: 'en' }), { task: 'analyze_lyrics', lyrics: 'a\nb', language: 'en' });
  });
});

describe('JS API: songwriting controls and tasks', { skip, timeout: 300_000 }, () => {
  let engine;
  before(async () => { engine = await createEngine(engineOptions()); });
  after(async () => { await engine?.close(); });

  const ZH_SONG = { title: '春雨', style: '民谣', structure: 'V C V C', rhyme_scheme: 'AABB', mood: 'sad', keywords: ['月亮'], seed: 5 };
  let song;

  test('generateLyrics with structure, rhyme, mood, keywords: the response describes every line', async () => {
    song = await engine.generateLyrics(ZH_SONG);
    assert.equal(song.lines.length, 16);
    assert.deepEqual(song.sections.map((s) => s.label), ['Verse 1', 'Chorus 1', 'Verse 2', 'Chorus 2']);
    assert.equal(song.sections[3].repeats, 'Chorus 1');
    for (const l of song.lines) {
      const sec = song.sections[l.section_index];
      assert.equal(l.label, sec.label);
      assert.equal(l.section, sec.section);
      assert.equal(l.line_in_section, l.index - sec.start);
      assert.equal(l.rhyme.class, 'AABB'[l.line_in_section]);
      assert.equal(typeof l.rhyme.key, 'string');
      assert.equal(l.target_syllables, sec.syllables[l.line_in_section]); // drawn per section (notes say so)
      assert.equal(l.syllables, [...l.text].filter((c) => HAN.test(c)).length);
    }
    song.lines.slice(12).forEach((l, i) => { assert.equal(l.repeat_of, 4 + i); assert.equal(l.text, song.lines[4 + i].text); });
    assert.ok(song.notes.some((n) => /Verse 1/.test(n)), `no note on the drawn line length: ${song.notes}`);
    assert.ok(Array.isArray(song.relaxations));
    assert.deepEqual(song.constraints.keywords.required, ['月亮']);
    assert.ok(song.lyrics.includes('月亮'));
    assert.equal(song.originality.enabled, true);
    assert.equal(song.mood.used, 'sad');
  });

  test('an invalid control is an invalid_field error naming it', async () => {
    await assert.rejects(engine.generateLyrics({ ...ZH_SONG, rhyme_scheme: 'AB1B' }), (e) => e instanceof TunesmithError && e.code === 'invalid_field' && e.error.field === 'rhyme_scheme');
    await assert.rejects(engine.generateLyrics({ ...ZH_SONG, lines: 9 }), (e) => e.code === 'invalid_field' && e.error.field === 'lyrics_length');
  });

  test('editLyrics regenerate_line: only that line changes, the plan round-trips, same seed same result', async () => {
    const a = await engine.editLyrics({ song, action: 'regenerate_line', line: 1, seed: 77 });
    const b = await engine.editLyrics({ song, action: 'regenerate_line', line: 1, seed: 77 });
    assert.equal(a.task, 'edit_lyrics');
    assert.deepEqual(a.edited, [1]);
    assert.deepEqual(a.lines, b.lines);
    assert.deepEqual(a.sections, song.sections);
    a.lines.forEach((l, i) => { if (i !== 1) assert.equal(l.text, song.lines[i].text); });
    assert.equal(a.lines[1].rhyme.class, 'A');
    assert.equal(a.lines[1].syllables, song.lines[1].target_syllables);
    // A repeated chorus line is rewritten with its original, in every repeat.
    const c = await engine.editLyrics({ song, action: 'regenerate_line', line: 13, seed: 78 });
    assert.deepEqual(c.edited, [5, 13]);
    assert.equal(c.lines[13].text, c.lines[5].text);
  });

  test('editLyrics regenerate_unlocked keeps the locked lines (song or plain lines + plan)', async () => {
    const r = await engine.editLyrics({ song, action: 'regenerate_unlocked', locked: [0, 3], seed: 9 });
    assert.equal(r.lines[0].text, song.lines[0].text);
    assert.equal(r.lines[3].text, song.lines[3].text);
    assert.ok(!r.edited.includes(0) && !r.edited.includes(3));
    assert.ok(r.edited.includes(1) && r.edited.includes(2));
    const plain = await engine.editLyrics({ ...songPlan(song), lines: song.lines.map((l) => l.text), action: 'regenerate_unlocked', locked: [0, 3], seed: 9 });
    assert.deepEqual(plain.lines, r.lines);
  });

  test('editLyrics continue appends sections; a new chorus repeats the first', async () => {
    const r = await engine.editLyrics({ song, action: 'continue', append: 'B2 C', seed: 3 });
    assert.deepEqual(r.sections.map((s) => s.label), ['Verse 1', 'Chorus 1', 'Verse 2', 'Chorus 2', 'Bridge 1', 'Chorus 3']);
    assert.equal(r.lines.length, 22);
    r.lines.slice(0, 16).forEach((l, i) => assert.equal(l.text, song.lines[i].text));
    assert.deepEqual(r.lines.slice(18).map((l) => l.text), song.lines.slice(4, 8).map((l) => l.text));
    assert.deepEqual(r.edited, [16, 17, 18, 19, 20, 21]);  // the appended chorus is new too
  });

  test('editLyrics errors reject with TunesmithError', async () => {
    await assert.rejects(engine.editLyrics({ song }), (e) => e instanceof TunesmithError && e.code === 'missing_field' && e.error.field === 'action');
    await assert.rejects(engine.editLyrics({ song, lines: ['only one'], action: 'regenerate_line', line: 0 }), (e) => e.code === 'invalid_field' && e.error.field === 'lines');
  });

  test('generateTitle from lyrics (phrases of the song) and from a theme', async () => {
    const r = await engine.generateTitle({ lyrics: song, count: 3 });
    assert.ok(r.titles.length >= 1 && r.titles.length <= 3);
    for (const t of r.titles) {
      assert.equal(typeof t.title, 'string');
      assert.ok(t.title.length > 0);
      assert.equal(typeof t.score, 'number');
      assert.ok(song.lines[t.source_line].text.includes(t.title) || [...t.title].every((c) => song.lyrics.includes(c)), t.title);
    }
    const th = await engine.generateTitle({ theme: 'summer rain', lang: 'en', count: 2, seed: 2 });
    assert.equal(th.language, 'en');
    assert.ok(th.titles.length >= 1);
    await assert.rejects(engine.generateTitle({ count: 2 }), (e) => e instanceof TunesmithError && e.code === 'missing_field');
  });

  test('analyzeLyrics: a mood per line and for the whole song', async () => {
    const r = await engine.analyzeLyrics({ lyrics: ['I am so happy today, I laugh and sing', 'my heart is broken and I cry alone'], lang: 'en' });
    assert.equal(r.lines.length, 2);
    assert.equal(r.lines[0].label, 'happy');
    assert.equal(r.lines[1].label, 'sad');
    assert.ok(r.lines[0].valence > r.lines[1].valence);
    for (const l of r.lines) {
      assert.ok(l.valence >= -1 && l.valence <= 1);
      assert.ok(Array.isArray(l.words));
    }
    assert.ok(['happy', 'sad', 'tender', 'defiant', 'calm', 'neutral'].includes(r.overall.label));
    const zh = await engine.analyzeLyrics({ lyrics: song });
    assert.equal(zh.lines.length, 16);
  });

  test('streaming: tokens, line_reset voids the partial line, lines match the response', async () => {
    // A hard English request (4-syllable AAAA lines, common words avoided) makes the decoder restart a line.
    const opts = { title: 'Summer Rain', rhyme_scheme: 'AAAA', syllables: 4, lines: 8, avoid: ['the', 'and'], seed: 6 };
    let partial = '', resets = 0, done;
    const lines = [];
    for await (const it of engine.streamLyrics(opts, { tokens: true })) {
      if (it.event === 'token') partial += it.text;
      else if (it.event === 'line_reset') { assert.equal(typeof it.index, 'number'); partial = ''; resets++; }
      else if (it.event === 'line') { if (it.repeat_of == null) assert.equal(partial.trim(), it.text); partial = ''; lines.push(it); }
      else done = it;
    }
    assert.equal(done.event, 'done');
    assert.equal(resets, done.response.line_restarts);
    assert.deepEqual(lines.map((l) => l.text), done.response.lines.map((l) => l.text));
    assert.deepEqual(lines.map((l) => l.label), done.response.lines.map((l) => l.label));
    // The same through generateLyrics' callbacks.
    let viaHandler = 0;
    await engine.generateLyrics(opts, { onLineReset: (ev) => { assert.equal(ev.event, 'line_reset'); viaHandler++; } });
    assert.equal(viaHandler, resets);
  });

  test('streamLyrics over an edit (task: edit_lyrics) yields the rewritten lines', async () => {
    const items = [];
    for await (const it of engine.streamLyrics({ song, action: 'regenerate_line', line: 2, seed: 5 }, { task: 'edit_lyrics' })) items.push(it);
    const done = items.pop();
    assert.deepEqual(done.response.edited, [2]);
    assert.deepEqual(items.map((e) => [e.index, e.text]), [[2, done.response.lines[2].text]]);
  });
});

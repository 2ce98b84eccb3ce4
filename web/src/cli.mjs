#!/usr/bin/env node
// tunesmith command line (the npm package's bin): builds one request object and hands it to the
// engine; all validation of values happens in C++. Exit code 1 with {"error":...} on stderr for
// bad input or an engine error. Same syntax and the same stdout as the native CLI
// (engine/cli/main.cpp); USAGE below is the reference.
// ($TUNESMITH_MODELS / $TUNESMITH_WASM_DIR override the package's models/ and dist/wasm/.)
import fs from 'node:fs';
import { createEngine, editRequest, melodyRequest, editMelodyRequest, midiBytes, TunesmithError } from './index.mjs';

const USAGE = `usage:
  tunesmith lyrics --title T [--style S] [--lines N] [--lang zh|en] [--seed N] [--temperature X]
      [--top-k N] [--top-p X] [--repetition-penalty X]
      [--structure "V C V C B C"] [--rhyme ABAB | --rhyme verse:ABAB,chorus:AABB]
      [--syllables N | N,N,... (one per line) | verse:N,chorus:N] [--mood M]
      [--keywords a,b] [--avoid a,b] [--chorus repeat|vary] [--no-originality] [--json]
  tunesmith edit --song FILE.json (--regenerate-line I | --regenerate-unlocked [--lock I,J,...]
      | --continue [--append "C"]) [--chorus repeat|vary] [--seed N] [--json]
      FILE.json (- = stdin) is the output of "lyrics --json" or "edit --json". Its plan is sent
      again with its lines: title, style, language, sampler settings, each section with its
      rhyme scheme and line lengths, chorus mode, mood, keywords, avoid, originality.
      Line indices start at 0.
  tunesmith title (--lyrics-file F | --theme T) [--count N] [--lang zh|en] [--style S] [--seed N] [--json]
  tunesmith analyze-lyrics FILE|- [--lang zh|en] [--json]
  tunesmith melody [--lyrics FILE|-] [--key G] [--mode major] [--meter 6/8] [--tempo 120]
      [--style jig] [--bars 16] [--seed N] [--temperature X] [--range N] [--chromatic] [--melisma]
      [--accompaniment none|block|arpeggio|pattern] [--title T] [--out PREFIX]
      --lyrics: a text file (one phrase a line) or the output of "lyrics --json" (its lines).
      With --out: writes PREFIX.mid, PREFIX.musicxml and PREFIX.abc and prints their names;
      otherwise prints the response JSON (docs/melody-api.md).
  tunesmith melody-edit --melody FILE.json --action transpose --semitones 2 [--out PREFIX]
      --action continue [--bars N] [--lyrics FILE] | regenerate_bars --from I --to J |
      transpose (--semitones N | --key K) | change_mode --mode M |
      restyle --style S [--meter M] [--tempo N] | accompany --accompaniment A;
      any action also takes --seed --temperature --range --chromatic --accompaniment --title.
      FILE.json (- = stdin) is the output of "melody" or "melody-edit" (without --out).
  tunesmith analyze FILE.wav [--json]
      Key, tempo, loudness and a timeline of one WAV file (docs/listen-api.md); --json prints
      the whole response (beats, segments, pictures, evidence).
  tunesmith request ['<json>']     (reads the request JSON from stdin when no argument is given)
  tunesmith info
  tunesmith serve [--port N] [--host H] [--workers N] [--queue N] [--timeout S] [--cors ORIGIN]
      HTTP mode on http://127.0.0.1:8787/ (--port 0: any free port): POST /generate_lyrics (JSON
      or form: song_title, song_style, lyrics_length), POST /TASK for every task, GET /health.
options for all: --models DIR  --threads N|auto
Output without --json: lyrics as they are written, with [Section] headers when --structure is
given (edit: always); notes and relaxed constraints on stderr; title: one title a line;
analyze-lyrics: mood, valence and text of each line, then the whole song's.`;

class UsageError extends Error {}

// flag -> [request field, kind]. Kinds only say how text becomes JSON; ranges are C++'s job.
const LYRICS_FLAGS = {
  title: ['song_title', 'text'], style: ['song_style', 'text'], lines: ['lyrics_length', 'int'],
  lang: ['language', 'text'], language: ['language', 'text'], seed: ['seed', 'int'],
  temperature: ['temperature', 'num'], 'top-k': ['top_k', 'int'], 'top-p': ['top_p', 'num'],
  'repetition-penalty': ['repetition_penalty', 'num'],
  structure: ['structure', 'text'], rhyme: ['rhyme_scheme', 'scheme'], syllables: ['syllables', 'syllables'],
  mood: ['mood', 'text'], keywords: ['keywords', 'list'], avoid: ['avoid', 'list'], chorus: ['chorus', 'text'],
};
const EDIT_FLAGS = { song: 'text', 'regenerate-line': 'text', lock: 'text', append: 'text', chorus: 'text', seed: 'text' };
const TITLE_FLAGS = { 'lyrics-file': 'text', theme: 'text', count: 'text', lang: 'text', language: 'text', style: 'text', seed: 'text' };
const ANALYZE_FLAGS = { lang: 'text', language: 'text' };
// Melody flags -> [request field, kind].
const MELODY_FLAGS = {
  key: ['key', 'text'], mode: ['mode', 'text'], meter: ['meter', 'text'], tempo: ['tempo', 'num'],
  style: ['style', 'text'], bars: ['bars', 'int'], seed: ['seed', 'int'], temperature: ['temperature', 'num'],
  range: ['range', 'int'], accompaniment: ['accompaniment', 'text'], title: ['title', 'text'],
};
const MELODY_EDIT_FLAGS = { ...MELODY_FLAGS, from: ['from', 'int'], to: ['to', 'int'], semitones: ['semitones', 'int'] };
const MELODY_BOOLS = ['chromatic', 'melisma'];
const COMMON_FLAGS = { models: 'text', threads: 'text' };

// Only spaces and tabs are trimmed (like the engine and the native CLI).
const trim = (s) => s.replace(/^[ \t]+|[ \t]+$/g, '');
// Comma lists: ',' and the Chinese '，' and '、'; empty items are dropped.
const splitList = (s) => s.split(/[,，、]/).map(trim).filter((x) => x !== '');

function toInt(flag, s) {
  if (!/^[-+]?\d+$/.test(trim(s))) throw new UsageError(`--${flag} needs an integer, got ${JSON.stringify(s)}`);
  return Number(trim(s));
}

function toValue(flag, kind, s) {
  if (kind === 'text') return s;
  if (kind === 'int') return toInt(flag, s);
  if (kind === 'list') return splitList(s);
  if (kind === 'scheme' || kind === 'syllables') {
    const items = splitList(s);
    if (items.some((x) => x.includes(':'))) { // by section name: verse:ABAB,chorus:AABB
      const obj = {};
      for (const item of items) {
        const at = item.indexOf(':');
        if (at <= 0) throw new UsageError(`--${flag}: ${JSON.stringify(item)} is not section:value`);
        const name = trim(item.slice(0, at)), v = trim(item.slice(at + 1));
        obj[name] = kind === 'scheme' ? v : toInt(flag, v);
      }
      return obj;
    }
    if (kind === 'scheme') return s;
    if (!items.length) throw new UsageError(`--${flag} needs an integer or a comma list of integers`);
    const nums = items.map((x) => toInt(flag, x));
    return nums.length === 1 && !/[,，、]/.test(s) ? nums[0] : nums;
  }
  const re = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  if (!re.test(s.trim())) throw new UsageError(`--${flag} needs a number, got ${JSON.stringify(s)}`);
  return Number(s);
}

// Strict parser: --flag value or --flag=value; boolean flags listed in `bools`.
function parseFlags(argv, known, bools) {
  const out = {}, positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('--') || a === '-') { positional.push(a); continue; }
    let [name, value] = a.slice(2).split(/=(.*)/s, 2);
    if (bools.includes(name)) {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    if (!(name in known)) throw new UsageError(`unknown option --${name}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    if (name in out) throw new UsageError(`--${name} given twice`);
    out[name] = value;
  }
  return { flags: out, positional };
}

async function readStdin(what) {
  if (process.stdin.isTTY) throw new UsageError(`${what}: give it as an argument or on stdin`);
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** A file's bytes (- = stdin), as the native CLI reads them. */
async function readBytes(file, what) {
  if (file === '-') {
    if (process.stdin.isTTY) throw new UsageError(`${what}: give it as an argument or on stdin`);
    const chunks = [];
    for await (const c of process.stdin) chunks.push(c);
    return Buffer.concat(chunks);
  }
  try { return fs.readFileSync(file); } catch (err) { throw new UsageError(`${what}: cannot read ${file}: ${err.code || err.message}`); }
}

async function openBlob(file, what) {
  try {
    if (!fs.statSync(file).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    return await fs.openAsBlob(file);
  } catch (err) { throw new UsageError(`${what}: cannot read ${file}: ${err.code || err.message}`); }
}

async function readText(file, what) {
  if (file === '-') return readStdin(what);
  try { return fs.readFileSync(file, 'utf8'); } catch (err) { throw new UsageError(`${what}: cannot read ${file}: ${err.code || err.message}`); }
}

const fail = (error) => { process.stderr.write(`${JSON.stringify({ error })}\n`); process.exitCode = 1; };
const noPositional = (positional) => { if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`); };

// ------------------------------------------------------------------------------ human output
// Kept identical to the native CLI's (engine/cli/main.cpp).

/** Prints a song's lines (streamed line events first, then whatever the final response adds). */
function songPrinter(write, headers) {
  let next = 0, label = null, any = false;
  const print = (l) => {
    if (headers && l.label && l.label !== label) {
      write(`${any ? '\n' : ''}[${l.label}]\n`);
      label = l.label;
    }
    write(`${l.text}\n`);
    any = true;
    next = l.index + 1;
  };
  return {
    onEvent: (ev) => { if (ev.event === 'line' && ev.index === next) print(ev); },
    finish: (res) => { for (const l of res.lines || []) if (l.index >= next) print(l); },
  };
}

function printRemarks(res) {
  for (const n of res.notes || []) process.stderr.write(`note: ${n}\n`);
  for (const r of res.relaxations || []) process.stderr.write(`relaxed: ${r}\n`);
}

/** x with two decimals, rounded half up, as the native CLI does (floor(x * 100 + 0.5)). */
function fixed2(x, signed) {
  const r = Math.floor(Number(x) * 100 + 0.5);
  const a = Math.abs(r);
  const sign = r < 0 ? '-' : signed ? '+' : '';
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

function printAnalysis(write, res) {
  for (const l of res.lines || []) write(`${String(l.label).padEnd(8)} ${fixed2(l.valence, true)}  ${l.text}\n`);
  const o = res.overall || {};
  write(`overall: ${o.label} (valence ${fixed2(o.valence, true)}, confidence ${fixed2(o.confidence, false)})\n`);
}

/**
 * C's printf("%.*f", digits, x): the exact value of the double rounded half to even (toFixed
 * rounds ties away from zero, e.g. 0.25 -> "0.3" where printf gives "0.2"), "-" kept on negative
 * values that round to zero.
 */
function printfFixed(x, digits) {
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  if (!Number.isFinite(a) || a >= 1e21) return String(x);
  const exact = a.toFixed(Math.min(100, digits + 60)); // exact to 60 more digits than printed
  const dot = exact.indexOf('.');
  const keep = exact.slice(0, dot) + exact.slice(dot + 1, dot + 1 + digits); // digits kept, without the point
  const rest = exact.slice(dot + 1 + digits);
  const half = rest[0] > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1)));
  const tie = rest[0] === '5' && !half;
  let n = BigInt(keep);
  if (half || (tie && n % 2n === 1n)) n += 1n;
  let t = n.toString().padStart(digits + 1, '0');
  if (digits) t = `${t.slice(0, -digits)}.${t.slice(-digits)}`;
  return `${neg ? '-' : ''}${t}`;
}

/** analyze without --json: one line per answer, then the warnings (as the native CLI's print_audio). */
function printAudio(write, r) {
  const num = (v, digits) => (typeof v === 'number' ? printfFixed(v, digits) : '-');
  const k = r.key || {};
  write(`key: ${typeof k.name === 'string' ? k.name : 'none'} (confidence ${num(k.confidence, 2)})\n`);
  const t = r.tempo || {};
  write(`tempo: ${num(t.bpm, 1)} BPM (confidence ${num(t.confidence, 2)}, ${t.beat_count ?? 0} beats)\n`);
  const l = r.loudness || {};
  write(`loudness: ${num(l.integrated_lufs, 1)} LUFS integrated, range ${num(l.loudness_range_lu, 1)} LU, true peak ${num(l.true_peak_dbtp, 1)} dBTP\n`);
  if (r.style) write(`style: ${r.style.label} (confidence ${num(r.style.confidence, 2)})\n`);
  if (r.instruments) {
    const heard = (r.instruments.families || []).filter((f) => f.present).map((f) => f.label);
    // an unsure lead (under 0.5) names its runner-up; the held-out accuracy of answers as sure follows
    const lead = r.instruments.lead, bin = r.instruments.evidence?.held_out?.lead_at_this_confidence;
    const second = lead.runner_up != null ? ` or ${lead.runner_up}` : '';
    const sure = bin ? `; held-out accuracy at this confidence ${num(bin.accuracy, 2)}` : '';
    write(`lead instrument: ${lead.label}${second} (confidence ${num(lead.confidence, 2)}${sure}); heard:${heard.length ? ' ' + heard.join(', ') : ' -'}\n`);
  }
  if (r.mood) write(`mood: ${r.mood.label} (valence ${num(r.mood.valence, 2)}, arousal ${num(r.mood.arousal, 2)}; rule-based)\n`);
  write(`duration: ${num(r.duration, 1)} s, ${r.sample_rate} Hz, ${r.channels}${r.channels === 1 ? ' channel' : ' channels'}\n`);
  for (const s of r.segments || []) {
    write(`  ${num(s.start, 1)}-${num(s.end, 1)} s: ${typeof s.key?.name === 'string' ? s.key.name : '-'}, max ${num(s.loudness_max_lufs, 1)} LUFS` +
      `${s.style ? ', ' + s.style.label : ''}${s.mood ? ', ' + s.mood.label : ''}\n`);
  }
  for (const w of r.warnings || []) process.stderr.write(`warning: ${typeof w === 'string' ? w : JSON.stringify(w)}\n`);
}

// ------------------------------------------------------------------------------------ commands

async function buildEdit(flags) {
  if (flags.song === undefined) throw new UsageError('edit needs --song FILE.json (the output of "tunesmith lyrics --json")');
  const actions = ['regenerate-line', 'regenerate-unlocked', 'continue'].filter((a) => flags[a] !== undefined);
  if (actions.length !== 1) throw new UsageError('edit needs exactly one of --regenerate-line I, --regenerate-unlocked, --continue');
  if (flags.lock !== undefined && actions[0] !== 'regenerate-unlocked') throw new UsageError('--lock goes with --regenerate-unlocked');
  if (flags.append !== undefined && actions[0] !== 'continue') throw new UsageError('--append goes with --continue');
  const text = await readText(flags.song, '--song');
  let song;
  try { song = JSON.parse(text); } catch { song = null; }
  if (!song || typeof song !== 'object' || Array.isArray(song) || !Array.isArray(song.lines)) {
    throw new UsageError(`--song ${flags.song} is not a song: give the output of "tunesmith lyrics --json"`);
  }
  const opts = { song };
  if (actions[0] === 'regenerate-line') Object.assign(opts, { action: 'regenerate_line', line: toInt('regenerate-line', flags['regenerate-line']) });
  else if (actions[0] === 'regenerate-unlocked') {
    opts.action = 'regenerate_unlocked';
    if (flags.lock !== undefined) opts.locked = splitList(flags.lock).map((x) => toInt('lock', x));
  } else {
    opts.action = 'continue';
    if (flags.append !== undefined) opts.append = flags.append;
  }
  if (flags.chorus !== undefined) opts.chorus = flags.chorus;
  if (flags.seed !== undefined) opts.seed = toInt('seed', flags.seed);
  return editRequest(opts);
}

/** --lyrics FILE: the output of "lyrics --json" (its lines) or plain text. */
async function readLyrics(file) {
  const text = await readText(file, '--lyrics');
  if (/^\s*\{/.test(text)) {
    try {
      const song = JSON.parse(text);
      if (song && Array.isArray(song.lines)) return song.lines;
      if (song && typeof song.lyrics === 'string') return song.lyrics;
    } catch { /* not JSON: sung as text */ }
  }
  return text;
}

function melodyFields(flags, table) {
  const opts = {};
  for (const [flag, [field, kind]] of Object.entries(table)) if (flag in flags) opts[field] = toValue(flag, kind, flags[flag]);
  for (const b of MELODY_BOOLS) if (flags[b]) opts[b] = true;
  return opts;
}

async function buildMelodyEdit(flags) {
  if (flags.melody === undefined) throw new UsageError('melody-edit needs --melody FILE.json (the output of "tunesmith melody")');
  if (flags.action === undefined) throw new UsageError('melody-edit needs --action continue|regenerate_bars|transpose|change_mode|restyle|accompany');
  const text = await readText(flags.melody, '--melody');
  let melody;
  try { melody = JSON.parse(text); } catch { melody = null; }
  if (!melody || typeof melody !== 'object' || Array.isArray(melody) || !Array.isArray(melody.notes)) {
    throw new UsageError(`--melody ${flags.melody} is not a melody: give the output of "tunesmith melody"`);
  }
  const opts = melodyFields(flags, MELODY_EDIT_FLAGS);
  if (flags.lyrics !== undefined) opts.lyrics = await readLyrics(flags.lyrics);
  return editMelodyRequest(melody, flags.action.replace(/-/g, '_'), opts);
}

/** Writes PREFIX.mid, PREFIX.musicxml and PREFIX.abc from a melody response; returns the paths. */
function writeMelodyFiles(prefix, res) {
  const files = [[`${prefix}.mid`, midiBytes(res)], [`${prefix}.musicxml`, res.musicxml ?? ''], [`${prefix}.abc`, res.abc ?? '']];
  for (const [file, data] of files) {
    try { fs.writeFileSync(file, data); } catch (err) { throw new UsageError(`--out: cannot write ${file}: ${err.code || err.message}`); }
  }
  return files.map(([f]) => f);
}

/** serve: HTTP mode (web/src/serve.mjs, loaded only here); runs until SIGINT/SIGTERM, then exits 0. */
async function runServe(argv) {
  const { flags, positional } = parseFlags(argv, { port: 'text', host: 'text', workers: 'text', queue: 'text', timeout: 'text', cors: 'text', ...COMMON_FLAGS }, []);
  noPositional(positional);
  const opt = (flag) => (flags[flag] === undefined ? undefined : toInt(flag, flags[flag]));
  const ranged = (flag, lo, hi) => {
    const v = opt(flag);
    if (v !== undefined && (v < lo || v > hi)) throw new UsageError(`--${flag} must be ${lo}..${hi}, got ${v}`);
    return v;
  };
  const { serve, MAX_WORKERS } = await import('./serve.mjs');
  const timeout = ranged('timeout', 1, 86400);
  const server = await serve({
    port: ranged('port', 0, 65535), host: flags.host, workers: ranged('workers', 1, MAX_WORKERS), queue: ranged('queue', 0, 100000),
    timeoutMs: timeout && timeout * 1000, cors: flags.cors,
    threads: flags.threads === undefined || flags.threads === 'auto' ? 'auto' : ranged('threads', 1, 64),
    modelBaseUrl: flags.models ?? process.env.TUNESMITH_MODELS, wasmBaseUrl: process.env.TUNESMITH_WASM_DIR,
  });
  await server.closed;
  process.exitCode = 0;
  setTimeout(() => process.exit(0), 5000).unref(); // nothing should be left, but never hang on exit
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  // output: 'json' (print the response), 'song' (headers?), 'titles', 'analysis', 'audio', 'files' (melody --out)
  let request, output = 'json', headers = false, common, outPrefix, data = null;
  if (command === 'lyrics') {
    const { flags, positional } = parseFlags(rest, { ...LYRICS_FLAGS, ...COMMON_FLAGS }, ['json', 'no-originality']);
    noPositional(positional);
    request = { task: 'generate_lyrics' };
    for (const [flag, [field, kind]] of Object.entries(LYRICS_FLAGS)) {
      if (flag in flags) request[field] = toValue(flag, kind, flags[flag]);
    }
    if (flags['no-originality']) request.originality = false;
    if (!flags.json) { output = 'song'; headers = 'structure' in flags; }
    common = flags;
  } else if (command === 'edit') {
    const { flags, positional } = parseFlags(rest, { ...EDIT_FLAGS, ...COMMON_FLAGS }, ['json', 'regenerate-unlocked', 'continue']);
    noPositional(positional);
    request = await buildEdit(flags);
    if (!flags.json) { output = 'song'; headers = true; }
    common = flags;
  } else if (command === 'title') {
    const { flags, positional } = parseFlags(rest, { ...TITLE_FLAGS, ...COMMON_FLAGS }, ['json']);
    noPositional(positional);
    if ((flags['lyrics-file'] === undefined) === (flags.theme === undefined)) throw new UsageError('title needs either --lyrics-file F or --theme T');
    request = { task: 'generate_title' };
    if (flags['lyrics-file'] !== undefined) request.lyrics = await readText(flags['lyrics-file'], '--lyrics-file');
    else request.theme = flags.theme;
    if (flags.count !== undefined) request.count = toInt('count', flags.count);
    const lang = flags.lang ?? flags.language;
    if (lang !== undefined) request.language = lang;
    if (flags.style !== undefined) request.song_style = flags.style;
    if (flags.seed !== undefined) request.seed = toInt('seed', flags.seed);
    if (!flags.json) output = 'titles';
    common = flags;
  } else if (command === 'analyze-lyrics') {
    const { flags, positional } = parseFlags(rest, { ...ANALYZE_FLAGS, ...COMMON_FLAGS }, ['json']);
    if (positional.length !== 1) throw new UsageError('analyze-lyrics takes one FILE (- = stdin)');
    request = { task: 'analyze_lyrics', lyrics: await readText(positional[0], 'analyze-lyrics') };
    const lang = flags.lang ?? flags.language;
    if (lang !== undefined) request.language = lang;
    if (!flags.json) output = 'analysis';
    common = flags;
  } else if (command === 'analyze') {
    const { flags, positional } = parseFlags(rest, COMMON_FLAGS, ['json']);
    if (positional.length !== 1) throw new UsageError('analyze takes one FILE.wav');
    // A file is read as a Blob: analyzeAudio sends it in slices (bounded memory for hour-long files).
    data = positional[0] === '-' ? await readBytes('-', 'analyze') : await openBlob(positional[0], 'analyze');
    // The WAV bytes go beside the request; name: the file's base name, as the native CLI sends it.
    request = { task: 'analyze_audio', name: positional[0].slice(positional[0].lastIndexOf('/') + 1) };
    if (!flags.json) output = 'audio';
    common = flags;
  } else if (command === 'melody') {
    const { flags, positional } = parseFlags(rest, { ...MELODY_FLAGS, lyrics: 'text', out: 'text', ...COMMON_FLAGS }, MELODY_BOOLS);
    noPositional(positional);
    request = melodyRequest(melodyFields(flags, MELODY_FLAGS));
    if (flags.lyrics !== undefined) request.lyrics = await readLyrics(flags.lyrics);
    if (flags.out) { output = 'files'; outPrefix = flags.out; }
    common = flags;
  } else if (command === 'melody-edit') {
    const { flags, positional } = parseFlags(rest, { ...MELODY_EDIT_FLAGS, melody: 'text', action: 'text', lyrics: 'text', out: 'text', ...COMMON_FLAGS }, MELODY_BOOLS);
    noPositional(positional);
    request = await buildMelodyEdit(flags);
    if (flags.out) { output = 'files'; outPrefix = flags.out; }
    common = flags;
  } else if (command === 'request') {
    const { flags, positional } = parseFlags(rest, COMMON_FLAGS, []);
    if (positional.length > 1) throw new UsageError('request takes one JSON argument');
    request = positional.length ? positional[0] : await readStdin('request'); // sent verbatim: C++ parses it
    common = flags;
  } else if (command === 'serve') {
    return runServe(rest);
  } else if (command === 'info') {
    const { flags, positional } = parseFlags(rest, COMMON_FLAGS, []);
    noPositional(positional);
    request = { task: 'info' };
    common = flags;
  } else {
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }

  let threads = 'auto';
  if (common.threads !== undefined && common.threads !== 'auto') threads = toInt('threads', common.threads);
  const engine = await createEngine({
    threads, modelBaseUrl: common.models ?? process.env.TUNESMITH_MODELS, wasmBaseUrl: process.env.TUNESMITH_WASM_DIR,
  });
  const write = (s) => process.stdout.write(s);
  try {
    // Songs: print each line as it is written (like the native CLI); edits print the final song.
    const printer = output === 'song' ? songPrinter(write, headers) : null;
    const streaming = printer && request.task === 'generate_lyrics';
    let res;
    if (request.task === 'analyze_audio' && typeof Blob === 'function' && data instanceof Blob) {
      try {
        const { task, ...fields } = request;
        res = await engine.analyzeAudio(data, fields);
        delete res.session;
      } catch (err) {
        if (!(err instanceof TunesmithError)) throw err;
        res = { error: err.error };
      }
    } else {
      res = await engine.requestRaw(request, streaming ? printer.onEvent : null, data);
    }
    if (res?.error) return fail(res.error);
    if (output === 'json') write(`${JSON.stringify(res)}\n`);
    else if (output === 'song') { printer.finish(res); printRemarks(res); }
    else if (output === 'titles') for (const t of res.titles || []) write(`${t.title}\n`);
    else if (output === 'analysis') printAnalysis(write, res);
    else if (output === 'audio') printAudio(write, res);
    else if (output === 'files') {
      for (const f of writeMelodyFiles(outPrefix, res)) write(`${f}\n`);
      for (const r of res.remarks || []) process.stderr.write(`note: ${r}\n`);
      for (const r of res.relaxations || []) process.stderr.write(`relaxed: ${r?.rule ?? ''} (note ${r?.note ?? 0})\n`);
    }
  } finally {
    await engine.close();
  }
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError) fail({ code: 'usage', message: `${err.message}\n${USAGE}` });
  else fail({ code: err?.code || 'internal', message: String(err?.message || err) });
});

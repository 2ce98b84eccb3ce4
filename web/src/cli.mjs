#!/usr/bin/env node
// tunesmith command line (the npm package's bin): builds one request object and hands it to the
// engine; all validation of values happens in C++. Exit code 1 with {"error":...} on stderr for
// bad input or an engine error.
//   tunesmith lyrics --title T [--style S] [--lines N] [--lang zh|en] [--seed N] [--temperature X] [--json]
//   tunesmith request '<json>'        (or the JSON on stdin when no argument is given)
//   tunesmith info
//   common: [--models DIR (default $TUNESMITH_MODELS or the package's models/)] [--threads N|auto]
//   ($TUNESMITH_WASM_DIR overrides the package's dist/wasm/)
// Same syntax as the native CLI (engine/cli/main.cpp).
import { createEngine } from './index.mjs';

const USAGE = `usage:
  tunesmith lyrics --title T [--style S] [--lines N] [--lang zh|en] [--seed N] [--temperature X] [--json]
  tunesmith request ['<json>']     (reads the request JSON from stdin when no argument is given)
  tunesmith info
options for all: --models DIR  --threads N|auto`;

class UsageError extends Error {}

// flag -> [request field, kind]. Kinds only say how text becomes JSON; ranges are C++'s job.
const LYRICS_FLAGS = {
  title: ['song_title', 'text'], style: ['song_style', 'text'], lines: ['lyrics_length', 'int'],
  lang: ['language', 'text'], language: ['language', 'text'], seed: ['seed', 'int'],
  temperature: ['temperature', 'num'], 'top-k': ['top_k', 'int'], 'top-p': ['top_p', 'num'],
  'repetition-penalty': ['repetition_penalty', 'num'],
};
const COMMON_FLAGS = { models: 'text', threads: 'text' };

function toValue(flag, kind, s) {
  if (kind === 'text') return s;
  const re = kind === 'int' ? /^[-+]?\d+$/ : /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  if (!re.test(s.trim())) throw new UsageError(`--${flag} needs ${kind === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(s)}`);
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

async function readStdin() {
  if (process.stdin.isTTY) throw new UsageError('request: give the request JSON as an argument or on stdin');
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const fail = (error) => { process.stderr.write(`${JSON.stringify({ error })}\n`); process.exitCode = 1; };

async function main(argv) {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  let request, plain = false;
  let common;
  if (command === 'lyrics') {
    const { flags, positional } = parseFlags(rest, { ...LYRICS_FLAGS, ...COMMON_FLAGS }, ['json']);
    if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
    request = { task: 'generate_lyrics' };
    for (const [flag, [field, kind]] of Object.entries(LYRICS_FLAGS)) {
      if (flag in flags) request[field] = toValue(flag, kind, flags[flag]);
    }
    plain = !flags.json;
    common = flags;
  } else if (command === 'request') {
    const { flags, positional } = parseFlags(rest, COMMON_FLAGS, []);
    if (positional.length > 1) throw new UsageError('request takes one JSON argument');
    request = positional.length ? positional[0] : await readStdin(); // sent verbatim: C++ parses it
    common = flags;
  } else if (command === 'info') {
    const { flags, positional } = parseFlags(rest, COMMON_FLAGS, []);
    if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
    request = { task: 'info' };
    common = flags;
  } else {
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }

  let threads = 'auto';
  if (common.threads !== undefined && common.threads !== 'auto') threads = toValue('threads', 'int', common.threads);
  const engine = await createEngine({
    threads, modelBaseUrl: common.models ?? process.env.TUNESMITH_MODELS, wasmBaseUrl: process.env.TUNESMITH_WASM_DIR,
  });
  try {
    // Plain lyrics: print each line as it is written (like the native CLI).
    const onEvent = plain ? (ev) => { if (ev.event === 'line') process.stdout.write(`${ev.text}\n`); } : null;
    const res = await engine.requestRaw(request, onEvent);
    if (res?.error) return fail(res.error);
    if (!plain) process.stdout.write(`${JSON.stringify(res)}\n`);
  } finally {
    await engine.close();
  }
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError) fail({ code: 'usage', message: `${err.message}\n${USAGE}` });
  else fail({ code: err?.code || 'internal', message: String(err?.message || err) });
});

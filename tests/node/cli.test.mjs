// The package's bin (web/src/cli.mjs) end to end, as a user runs it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { missing, ROOT, WASM_DIR, MODELS_DIR, NATIVE_CLI, HAN } from './helpers.mjs';

const CLI = path.join(ROOT, 'web', 'src', 'cli.mjs');
const skip = missing({ variants: ['mt'] });

/** Runs the CLI; resolves {code, stdout, stderr}. Fails the test if it hangs. */
function cli(args, opts) { return run(process.execPath, [CLI, ...args], opts); }
/** The native CLI (build/native/tunesmith), same arguments. */
function nativeCli(args, opts) { return run(NATIVE_CLI, args, opts); }

function run(bin, args, { input, env } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, {
      env: { ...process.env, TUNESMITH_WASM_DIR: WASM_DIR, TUNESMITH_MODELS: MODELS_DIR, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    p.stdout.setEncoding('utf8');  // decode across chunk boundaries (a character can span two reads)
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${path.basename(bin)} ${args.join(' ')} timed out (the process did not exit)`)); }, 120_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    p.on('error', reject);
    p.stdin.on('error', () => {});  // a command that never reads stdin may exit first (EPIPE)
    p.stdin.end(input ?? '');
  });
}

describe('tunesmith CLI (JS)', { skip, timeout: 600_000 }, () => {
  test('lyrics: plain output is the lyrics text', async () => {
    const r = await cli(['lyrics', '--title', '我爱你', '--style', '流行音乐', '--lines', '8', '--seed', '1']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 8);
    lines.forEach((l) => assert.match(l, HAN));
  });

  test('lyrics --json prints the response; same as request with the same fields', async () => {
    const a = await cli(['lyrics', '--title=我爱你', '--style', '流行音乐', '--lines', '4', '--seed', '3', '--temperature', '0.7', '--json']);
    assert.equal(a.code, 0, a.stderr);
    const res = JSON.parse(a.stdout);
    assert.equal(res.lines.length, 4);
    assert.equal(res.language, 'zh');
    const req = { task: 'generate_lyrics', song_title: '我爱你', song_style: '流行音乐', lyrics_length: 4, seed: 3, temperature: 0.7 };
    const b = await cli(['request', JSON.stringify(req)]);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(JSON.parse(b.stdout).lines, res.lines);
    // Plain output prints exactly those lines.
    const c = await cli(['lyrics', '--title', '我爱你', '--style', '流行音乐', '--lines', '4', '--seed', '3', '--temperature', '0.7']);
    assert.equal(c.stdout, `${res.lyrics}\n`);
  });

  test('lyrics --lang en', async () => {
    const r = await cli(['lyrics', '--title', 'Home', '--lines', '3', '--lang', 'en', '--seed', '5', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).language, 'en');
  });

  test('request reads JSON from stdin when no argument is given', async () => {
    const r = await cli(['request'], { input: '{"task":"generate_lyrics","song_title":"月光","lyrics_length":2,"seed":8}' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).lines.length, 2);
  });

  test('info', async () => {
    const r = await cli(['info']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).task, 'info');
  });

  const BAD = [
    ['unknown flag', ['lyrics', '--title', 'x', '--colour', 'red'], 'usage'],
    ['flag without value', ['lyrics', '--title'], 'usage'],
    ['bad number', ['lyrics', '--title', 'x', '--lines', 'eight'], 'usage'],
    ['bad seed', ['lyrics', '--title', 'x', '--seed', '1e400x'], 'usage'],
    ['unknown command', ['compose'], 'usage'],
    ['out of range (engine)', ['lyrics', '--title', 'x', '--lines', '0'], 'invalid_field'],
    ['missing title (engine)', ['lyrics', '--lines', '2'], 'missing_field'],
    ['malformed request JSON (engine)', ['request', '{"task":'], 'bad_request'],
    ['unknown task (engine)', ['request', '{"task":"sing"}'], 'unknown_task'],
  ];
  for (const [name, args, code] of BAD) {
    test(`bad input: ${name} -> exit 1, error JSON on stderr`, async () => {
      const r = await cli(args);
      assert.equal(r.code, 1, `exit ${r.code}; stdout ${r.stdout}`);
      assert.equal(r.stdout, '');
      const err = JSON.parse(r.stderr.trim().split('\n').at(-1)).error;
      assert.equal(err.code, code, err.message);
      assert.ok(err.message);
    });
  }

  test('--help exits 0', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /usage/);
  });
});

// ------------------------------------------------------------------ songwriting controls
// The flags of docs/lyrics-controls.md, the edit/title/analyze-lyrics commands, and the same stdout
// from the native CLI and the npm bin for the same arguments.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-cli-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const ZH_LYRICS = path.join(tmp, 'zh.txt');
fs.writeFileSync(ZH_LYRICS, '月亮升起来\n照在我窗前\n思念你的脸\n春风吹又生\n');
// A 4 s mono 16-bit WAV for analyze: an A minor triad over a click every 0.5 s.
const WAV = path.join(tmp, 'tone.wav');
{
  const rate = 22050, frames = 4 * rate, data = Buffer.alloc(frames * 2);
  for (let i = 0; i < frames; i++) {
    const t = i / rate, k = i % (rate / 2);
    let v = 0.1 * [220, 261.63, 329.63].reduce((a, f) => a + Math.sin(2 * Math.PI * f * t), 0);
    if (k < 400) v += 0.4 * Math.exp(-k / 80) * Math.sin(2 * Math.PI * 1500 * k / rate);
    data.writeInt16LE(Math.round(v * 32767), 2 * i);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1'); h.writeUInt32LE(36 + data.length, 4); h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36, 'latin1'); h.writeUInt32LE(data.length, 40);
  fs.writeFileSync(WAV, Buffer.concat([h, data]));
}
const STRUCTURED = ['lyrics', '--title', '春雨', '--structure', 'V C V C', '--rhyme', 'AABB', '--syllables', '7', '--seed', '2'];

describe('tunesmith CLI (JS): songwriting flags and commands', { skip, timeout: 600_000 }, () => {
  test('lyrics flags become the request fields (same response as request)', async () => {
    const a = await cli(['lyrics', '--title', '春雨', '--structure', 'V C V C', '--rhyme', 'verse:AABB,chorus:ABAB', '--syllables', 'verse:7,chorus:5',
      '--mood', '悲伤', '--keywords', '月亮，春风', '--avoid', '泪, 愁', '--chorus', 'vary', '--no-originality', '--seed', '2', '--json']);
    assert.equal(a.code, 0, a.stderr);
    const res = JSON.parse(a.stdout);
    const req = { task: 'generate_lyrics', song_title: '春雨', structure: 'V C V C', rhyme_scheme: { verse: 'AABB', chorus: 'ABAB' },
      syllables: { verse: 7, chorus: 5 }, mood: '悲伤', keywords: ['月亮', '春风'], avoid: ['泪', '愁'], chorus: 'vary', originality: false, seed: 2 };
    const b = await cli(['request', JSON.stringify(req)]);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(JSON.parse(b.stdout).lines, res.lines);
    assert.equal(res.originality.enabled, false);
    assert.deepEqual(res.constraints.keywords.required, ['月亮', '春风']);
    assert.deepEqual(res.sections.map((s) => s.syllables[0]), [7, 5, 7, 5]);
  });

  test('--syllables with a list: one target per line', async () => {
    const r = await cli(['lyrics', '--title', '春雨', '--lines', '4', '--syllables', '5,7,5,7', '--seed', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).lines.map((l) => l.target_syllables), [5, 7, 5, 7]);
  });

  test('plain lyrics with --structure: [Section] headers, then the lines', async () => {
    const r = await cli(STRUCTURED);
    assert.equal(r.code, 0, r.stderr);
    const blocks = r.stdout.trimEnd().split('\n\n');
    assert.deepEqual(blocks.map((b) => b.split('\n')[0]), ['[Verse 1]', '[Chorus 1]', '[Verse 2]', '[Chorus 2]']);
    for (const b of blocks) {
      const lines = b.split('\n').slice(1);
      assert.equal(lines.length, 4);
      lines.forEach((l) => assert.equal([...l].length, 7, l));
    }
    assert.deepEqual(blocks[3].split('\n').slice(1), blocks[1].split('\n').slice(1), 'the chorus repeats');
    assert.match(r.stderr, /^$|^note: /m);
  });

  test('edit --song FILE: each action; --json output chains into the next edit', async () => {
    const song = await cli([...STRUCTURED, '--json']);
    assert.equal(song.code, 0, song.stderr);
    const file = path.join(tmp, 'song.json');
    fs.writeFileSync(file, song.stdout);
    const orig = JSON.parse(song.stdout);

    const one = await cli(['edit', '--song', file, '--regenerate-line', '1', '--seed', '9', '--json']);
    assert.equal(one.code, 0, one.stderr);
    const r1 = JSON.parse(one.stdout);
    assert.deepEqual(r1.edited, [1]);
    assert.deepEqual(r1.sections, orig.sections);
    r1.lines.forEach((l, i) => { if (i !== 1) assert.equal(l.text, orig.lines[i].text); });

    const file1 = path.join(tmp, 'song1.json');
    fs.writeFileSync(file1, one.stdout);
    const unl = await cli(['edit', '--song', file1, '--regenerate-unlocked', '--lock', '0,1', '--seed', '3', '--json']);
    assert.equal(unl.code, 0, unl.stderr);
    const r2 = JSON.parse(unl.stdout);
    assert.deepEqual(r2.lines.slice(0, 2).map((l) => l.text), r1.lines.slice(0, 2).map((l) => l.text));
    assert.ok(r2.edited.includes(2) && !r2.edited.includes(1));

    const cont = await cli(['edit', '--song', '-', '--continue', '--append', 'C', '--seed', '4'], { input: unl.stdout });
    assert.equal(cont.code, 0, cont.stderr);
    const blocks = cont.stdout.trimEnd().split('\n\n');
    assert.equal(blocks.length, 5);
    assert.equal(blocks[4].split('\n')[0], '[Chorus 3]');
    assert.deepEqual(blocks[4].split('\n').slice(1), r2.lines.slice(4, 8).map((l) => l.text));
  });

  test('title: from a lyrics file and from a theme', async () => {
    const a = await cli(['title', '--lyrics-file', ZH_LYRICS, '--count', '3']);
    assert.equal(a.code, 0, a.stderr);
    const titles = a.stdout.trimEnd().split('\n');
    assert.ok(titles.length >= 1 && titles.length <= 3, a.stdout);
    titles.forEach((t) => assert.match(t, HAN));
    const b = await cli(['title', '--theme', 'summer rain', '--lang', 'en', '--count', '2', '--seed', '1', '--json']);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(JSON.parse(b.stdout).language, 'en');
  });

  test('analyze-lyrics: one line per lyric line, then the whole song', async () => {
    const r = await cli(['analyze-lyrics', '-', '--lang', 'en'], { input: 'I am so happy today\nmy heart is broken and I cry\n' });
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trimEnd().split('\n');
    assert.match(out[0], /^happy +\+0\.\d\d {2}I am so happy today$/);
    assert.match(out[1], /^sad +[+-]\d\.\d\d {2}my heart is broken and I cry$/);
    assert.match(out.at(-1), /^overall: \w+ \(valence [+-]\d\.\d\d, confidence \d\.\d\d\)$/);
  });

  const BAD = [
    ['edit without --song', ['edit', '--continue'], 'usage'],
    ['edit without an action', ['edit', '--song', ZH_LYRICS], 'usage'],
    ['edit with two actions', ['edit', '--song', ZH_LYRICS, '--continue', '--regenerate-line', '1'], 'usage'],
    ['--lock without --regenerate-unlocked', ['edit', '--song', ZH_LYRICS, '--continue', '--lock', '1'], 'usage'],
    ['--song that is not a song', ['edit', '--song', ZH_LYRICS, '--continue'], 'usage'],
    ['title without lyrics or theme', ['title', '--count', '2'], 'usage'],
    ['analyze-lyrics without a file', ['analyze-lyrics'], 'usage'],
    ['analyze without a file', ['analyze'], 'usage'],
    ['analyze with two files', ['analyze', WAV, WAV], 'usage'],
    ['analyze: not a WAV file (engine)', ['analyze', ZH_LYRICS], 'invalid_audio'],
    ['--syllables not a number', ['lyrics', '--title', 'x', '--syllables', 'seven'], 'usage'],
    ['bad rhyme scheme (engine)', ['lyrics', '--title', 'x', '--rhyme', 'AB1B'], 'invalid_field'],
    ['bad chorus (engine)', ['lyrics', '--title', 'x', '--chorus', 'sometimes'], 'invalid_field'],
    ['bad structure (engine)', ['lyrics', '--title', 'x', '--structure', 'V Q'], 'invalid_field'],
  ];
  for (const [name, args, code] of BAD) {
    test(`bad input: ${name} -> exit 1, ${code}`, async () => {
      const r = await cli(args);
      assert.equal(r.code, 1, `exit ${r.code}; stdout ${r.stdout}`);
      assert.equal(r.stdout, '');
      assert.equal(JSON.parse(r.stderr.trim().split('\n').at(-1)).error.code, code);
    });
  }
});

const noNative = skip || (!fs.existsSync(NATIVE_CLI) && `no native CLI at ${NATIVE_CLI} (npm run build:native)`);
describe('native CLI and npm bin: same stdout for the same arguments', { skip: noNative, timeout: 600_000 }, () => {
  const env = { TUNESMITH_MODELS: MODELS_DIR };
  const same = async (args, opts = {}) => {
    const [a, b] = [await nativeCli(args, { env, ...opts }), await cli(args, { env, ...opts })];
    assert.equal(a.code, 0, `native: ${a.stderr}`);
    assert.equal(b.code, 0, `npm bin: ${b.stderr}`);
    assert.ok(a.stdout.length > 0);
    assert.equal(b.stdout, a.stdout);
    assert.equal(b.stderr, a.stderr); // notes and relaxations
    return a;
  };

  test('lyrics: structured, rhymed Chinese song', () => same(STRUCTURED));
  test('lyrics: English with rhyme by section, syllable list, mood, keywords, avoid, vary', () => same(['lyrics', '--title', 'Summer Rain',
    '--structure', 'V C V C', '--rhyme', 'verse:ABAB,chorus:AABB', '--syllables', 'verse:8,chorus:6', '--mood', 'happy',
    '--keywords', 'river', '--avoid', 'love,heart', '--chorus', 'vary', '--seed', '4']));
  test('lyrics: plain (no structure) as before', () => same(['lyrics', '--title', '我爱你', '--style', '流行音乐', '--lines', '4', '--seed', '1']));
  test('lyrics --json: the same response', async () => {
    const args = [...STRUCTURED, '--mood', 'sad', '--json'];
    const [a, b] = [await nativeCli(args, { env }), await cli(args, { env })];
    assert.deepEqual(JSON.parse(b.stdout), JSON.parse(a.stdout));
  });

  test('edit: the same request from the same song file, each action', async () => {
    const song = await nativeCli([...STRUCTURED, '--json'], { env });
    const file = path.join(tmp, 'native-song.json');
    fs.writeFileSync(file, song.stdout);
    await same(['edit', '--song', file, '--regenerate-line', '5', '--seed', '7']);
    await same(['edit', '--song', file, '--regenerate-unlocked', '--lock', '0,2,13', '--seed', '8']);
    await same(['edit', '--song', file, '--continue', '--append', 'B C', '--seed', '9']);
    await same(['edit', '--song', '-', '--continue', '--chorus', 'vary', '--append', 'C', '--seed', '9'], { input: song.stdout });
  });

  test('title and analyze-lyrics', async () => {
    await same(['title', '--lyrics-file', ZH_LYRICS, '--count', '3']);
    await same(['title', '--theme', 'summer rain', '--count', '2', '--seed', '2']);
    await same(['analyze-lyrics', ZH_LYRICS]);
    await same(['analyze-lyrics', '-', '--lang', 'en'], { input: 'I am so happy today\nmy heart is broken and I cry\n' });
  });

  test('analyze: a WAV file (plain and --json)', async () => {
    const a = await same(['analyze', WAV]);
    assert.match(a.stdout, /^key: .+\ntempo: .+ BPM .+\nloudness: .+\nstyle: [a-z_]+ \(confidence \d\.\d\d\)\nlead instrument: .+; heard: .+\nmood: (happy|calm|sad|tense) .+\nduration: 4\.0 s, 22050 Hz, 1 channel\n/);
    await same(['analyze', '-'], { input: fs.readFileSync(WAV) });
    const args = ['analyze', WAV, '--json'];
    const [n, j] = [await nativeCli(args, { env }), await cli(args, { env })];
    assert.equal(n.code, 0, n.stderr);
    assert.deepEqual(JSON.parse(j.stdout), JSON.parse(n.stdout));
    assert.equal(JSON.parse(n.stdout).source.name, 'tone.wav');
  });

  test('usage text is the same', async () => {
    const [a, b] = [await nativeCli(['--help']), await cli(['--help'])];
    assert.equal(a.code, 0);
    assert.equal(b.stdout, a.stdout);
  });
});

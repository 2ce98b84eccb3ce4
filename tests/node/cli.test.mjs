// The package's bin (web/src/cli.mjs) end to end, as a user runs it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { missing, ROOT, WASM_DIR, MODELS_DIR, HAN } from './helpers.mjs';

const CLI = path.join(ROOT, 'web', 'src', 'cli.mjs');
const skip = missing({ variants: ['mt'] });

/** Runs the CLI; resolves {code, stdout, stderr}. Fails the test if it hangs. */
function cli(args, { input, env } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, TUNESMITH_WASM_DIR: WASM_DIR, TUNESMITH_MODELS: MODELS_DIR, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`cli ${args.join(' ')} timed out (the process did not exit)`)); }, 120_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    p.on('error', reject);
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

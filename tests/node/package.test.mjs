// Consuming the package as a user would: `npm pack`, install the tarball into an empty project
// (offline: tunesmith has no runtime dependencies), then import it and run its bin.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { missing, ROOT, WASM_DIR, MODELS_DIR } from './helpers.mjs';

const run = promisify(execFile);
// The tarball holds the repo's own dist/wasm and models/, so only test it against those.
const skip = missing() || ((WASM_DIR !== path.join(ROOT, 'dist', 'wasm') || MODELS_DIR !== path.join(ROOT, 'models')) &&
  'TUNESMITH_WASM_DIR/TUNESMITH_MODELS point elsewhere');

describe('npm package', { skip, timeout: 300_000 }, () => {
  let dir;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-consumer-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 1 << 26 });
    const [{ filename, files }] = JSON.parse(stdout);
    const names = files.map((f) => f.path);
    for (const f of ['web/src/index.mjs', 'web/src/index.d.ts', 'web/src/worker.mjs', 'web/src/cli.mjs', 'dist/wasm/tunesmith-mt.worker.js', 'models/lyrics-zh.onnx']) {
      assert.ok(names.includes(f), `tarball lacks ${f}`);
    }
    assert.ok(!names.some((f) => f.startsWith('tests/') || f.startsWith('engine/')), 'tarball ships sources/tests');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', `./${filename}`], { cwd: dir, timeout: 120_000 });
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  test('import("tunesmith") from an ES module writes lyrics and exits', async () => {
    const script = `import { createEngine } from 'tunesmith';
      const e = await createEngine();
      const r = await e.generateLyrics({ title: '我爱你', style: '流行音乐', lines: 2, seed: 1 });
      console.log(JSON.stringify({ variant: e.info.variant, lines: r.lines.length }));
      await e.close();`;
    fs.writeFileSync(path.join(dir, 'use.mjs'), script);
    const { stdout } = await run(process.execPath, ['use.mjs'], { cwd: dir, timeout: 120_000 });
    assert.deepEqual(JSON.parse(stdout), { variant: 'mt', lines: 2 });
  });

  test('the bin runs: npx tunesmith lyrics', async () => {
    const { stdout } = await run(path.join(dir, 'node_modules', '.bin', 'tunesmith'),
      ['lyrics', '--title', '我爱你', '--lines', '3', '--seed', '1'], { cwd: dir, timeout: 120_000 });
    assert.equal(stdout.trimEnd().split('\n').length, 3);
  });

  test('package.json exports resolve: ".", "./worker", "./package.json"', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e',
      `console.log(JSON.stringify([import.meta.resolve('tunesmith'), import.meta.resolve('tunesmith/worker'), import.meta.resolve('tunesmith/package.json')]))`],
    { cwd: dir });
    const [main, worker, pkg] = JSON.parse(stdout);
    assert.match(main, /node_modules\/tunesmith\/web\/src\/index\.mjs$/);
    assert.match(worker, /node_modules\/tunesmith\/web\/src\/worker\.mjs$/);
    assert.match(pkg, /node_modules\/tunesmith\/package\.json$/);
  });
});
